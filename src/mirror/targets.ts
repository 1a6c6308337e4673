// Hoss's sync targets on this node: get_sync_configuration / enable_sync_target /
// disable_sync_target, with the daemon's rules, and one running mirror (mirror.ts) per target.
//
// A target is (URL, target namespace, type). The mirror always runs between two namespaces this
// node holds: the source and the target namespace. For a target on another node this node must
// be a member of the target namespace (joined with an invitation from that node); the mirror
// writes into its replica here and normal namespace replication carries the changes to the
// target's node and its other members (and theirs back). The URL says where the target's node is
// reached: if this node knows that node's key (it joined through it), it keeps a connection to
// it; otherwise the connections the namespace already has carry the changes. `local`, or this
// node's own URL, is a target on this same node: one namespace synced into another.
// Only an admin of the source namespace changes its targets (EACCES otherwise); a namespace with
// live targets, from it or into it, is not deleted (EBUSY).

import type { SyncConfiguration, SyncTargetInfo } from '../api/wire.js'
import type { NamespaceReplica } from '../replica/replica.js'
import type { Logger } from '../util/log.js'
import { fsError, isFsError } from '../vfs/errors.js'
import { splitPath } from '../vfs/path.js'
import { MirrorBase } from './base.js'
import { checkType, LOCAL_URL, TargetConfigStore, withGroupMode, type MetaLike, type TargetConfig } from './config.js'
import { Mirror } from './mirror.js'

/** What sync targets need of the node (the daemon provides it). */
export interface TargetHost {
  /** This node's role in a namespace (null: not a current member): admins change the targets. */
  roleIn(ns: string): 'admin' | 'member' | null
  /** A namespace this node holds (and has mounted), by id or alias; ENOENT otherwise. */
  replica(ref: string): NamespaceReplica
  /** Where peers reach this node: a target there is on this same node. */
  ownUrl(): string
  /** Keep a connection to the node at `url`, if this node knows its key. */
  connect(url: string): void
}

export type { SyncConfiguration, SyncTargetInfo }

export interface EnableTargetOptions {
  url: string
  type: string
  /** Alias or id of the target namespace; default: the same alias as the source. */
  targetNamespace?: string
  /** Set this group's mode (the type given) instead of the target's. */
  group?: string
}

export interface DisableTargetOptions {
  url: string
  targetNamespace: string
  /** Turn mirroring off for this group only. */
  group?: string
}

interface Running {
  cfg: TargetConfig
  /** Undefined while a namespace of the pair is not mounted here. */
  mirror: Mirror | undefined
}

/** How often targets that wait for a namespace to arrive look again. */
const WAITING_RETRY_MS = 1_000

export class SyncTargets {
  private readonly configs: TargetConfigStore
  private readonly running = new Map<string, Running>()
  private retry: NodeJS.Timeout | undefined

  constructor(
    private readonly host: TargetHost,
    private readonly meta: MetaLike,
    private readonly log: Logger,
  ) {
    this.configs = new TargetConfigStore(meta)
  }

  /** Mirror every configured target (at start-up, once the namespaces are loaded and the node listens). */
  start(): void {
    for (const cfg of this.configs.all()) {
      this.run(cfg)
      if (cfg.url !== LOCAL_URL) this.host.connect(cfg.url)
    }
  }

  stop(): void {
    clearInterval(this.retry)
    this.retry = undefined
    for (const r of this.running.values()) r.mirror?.stop()
    this.running.clear()
  }

  getSyncConfiguration(ns: string): SyncConfiguration {
    const source = this.host.replica(ns)
    return { namespace: source.info.alias, namespaceId: source.id, targets: this.configs.of(source.id).map((cfg) => this.describe(cfg)) }
  }

  enableSyncTarget(ns: string, opts: EnableTargetOptions): SyncConfiguration {
    const source = this.host.replica(ns)
    this.requireAdmin(source)
    const type = checkType(opts.type)
    const url = this.normalizeUrl(opts.url)
    const target = this.targetReplica(opts.targetNamespace ?? source.info.alias, url)
    if (target.id === source.id) {
      throw fsError(
        'EINVAL',
        `namespace ${source.info.alias} cannot be its own sync target: name another namespace with --target-namespace`,
      )
    }
    const existing = this.configs.of(source.id).find((t) => t.target === target.id)
    let cfg: TargetConfig
    if (opts.group !== undefined) {
      if (!existing) {
        throw fsError(
          'ENOENT',
          `namespace ${source.info.alias} has no sync target ${target.info.alias}: enable it before setting a group's mode (meshfs sync enable ${source.info.alias} ${url} --type ${type} --target-namespace ${target.info.alias})`,
        )
      }
      this.requireUrl(existing, url, source, target)
      cfg = withGroupMode(existing, this.groupPath(source, opts.group), type, { source: source.info.alias, target: target.info.alias })
    } else {
      cfg = { source: source.id, url, target: target.id, type, groups: existing?.groups ?? {} }
    }
    this.configs.put(cfg)
    this.run(cfg)
    if (url !== LOCAL_URL) this.host.connect(url)
    this.log.info(
      `sync target of ${source.info.alias}: ${target.info.alias} at ${url}, ${opts.group === undefined ? type : `group ${opts.group} ${type}`}`,
    )
    return this.getSyncConfiguration(source.id)
  }

  disableSyncTarget(ns: string, opts: DisableTargetOptions): SyncConfiguration {
    const source = this.host.replica(ns)
    this.requireAdmin(source)
    const url = this.normalizeUrl(opts.url)
    const cfg = this.configs.of(source.id).find((t) => t.target === opts.targetNamespace || this.aliasOf(t.target) === opts.targetNamespace)
    if (!cfg)
      throw fsError(
        'ENOENT',
        `namespace ${source.info.alias} has no sync target ${opts.targetNamespace} (meshfs sync list ${source.info.alias} shows its targets)`,
      )
    const target = this.host.replica(cfg.target)
    this.requireUrl(cfg, url, source, target)
    if (opts.group !== undefined) {
      const next = withGroupMode(cfg, this.groupPath(source, opts.group), 'off', { source: source.info.alias, target: target.info.alias })
      this.configs.put(next)
      this.run(next)
      this.log.info(`sync target of ${source.info.alias}: ${target.info.alias} at ${url}, group ${opts.group} off`)
    } else {
      this.configs.remove(cfg)
      const key = pairKey(cfg)
      this.running.get(key)?.mirror?.stop()
      this.running.delete(key)
      new MirrorBase(this.meta, key).clear()
      this.log.info(`sync target of ${source.info.alias}: ${target.info.alias} at ${url} disabled`)
    }
    return this.getSyncConfiguration(source.id)
  }

  /** Refuse to delete a namespace that live targets mirror from or into. */
  checkDeletable(nsId: string): void {
    const live = this.configs.all().filter((t) => t.source === nsId || t.target === nsId)
    if (live.length === 0) return
    const alias = this.aliasOf(nsId)
    const what = live.map((t) => (t.source === nsId ? `into ${this.aliasOf(t.target)} at ${t.url}` : `from ${this.aliasOf(t.source)}`))
    const how = live.map((t) => `meshfs sync disable ${this.aliasOf(t.source)} ${t.url} ${this.aliasOf(t.target)}`)
    throw fsError('EBUSY', `namespace ${alias} has live sync targets (${what.join('; ')}): disable them first (${how.join('; ')})`)
  }

  // ---- internals ---------------------------------------------------------------------------

  /** Start (or update) the mirror of `cfg`; it waits if a namespace of the pair is not mounted yet. */
  private run(cfg: TargetConfig): void {
    const key = pairKey(cfg)
    const known = this.running.get(key)
    if (known) {
      known.cfg = cfg
      if (known.mirror) return known.mirror.schedule(0)
    }
    const entry: Running = known ?? { cfg, mirror: undefined }
    this.running.set(key, entry)
    let source: NamespaceReplica, target: NamespaceReplica
    try {
      source = this.host.replica(cfg.source)
      target = this.host.replica(cfg.target)
    } catch (err) {
      if (!isFsError(err) || err.code !== 'ENOENT') throw err
      this.retry ??= setInterval(() => this.runWaiting(), WAITING_RETRY_MS)
      this.retry.unref()
      return
    }
    entry.mirror = new Mirror(source, target, () => entry.cfg, new MirrorBase(this.meta, key), this.log)
    entry.mirror.start()
  }

  private runWaiting(): void {
    const waiting = [...this.running.values()].filter((r) => !r.mirror)
    for (const r of waiting) this.run(r.cfg)
    if (waiting.every((r) => r.mirror)) {
      clearInterval(this.retry)
      this.retry = undefined
    }
  }

  private describe(cfg: TargetConfig): SyncTargetInfo {
    const mirror = this.running.get(pairKey(cfg))?.mirror
    const info: SyncTargetInfo = {
      url: cfg.url,
      local: cfg.url === LOCAL_URL,
      targetNamespace: this.aliasOf(cfg.target),
      targetNamespaceId: cfg.target,
      type: cfg.type,
      groups: cfg.groups,
      state: mirror ? 'mirroring' : 'waiting',
    }
    if (mirror?.state.lastPassMs !== undefined) info.lastPassAt = new Date(mirror.state.lastPassMs).toISOString()
    if (mirror?.state.lastError !== undefined) info.lastError = mirror.state.lastError
    return info
  }

  private requireAdmin(source: NamespaceReplica): void {
    const role = this.host.roleIn(source.id)
    if (role === 'admin') return
    throw fsError(
      'EACCES',
      `only an admin of namespace ${source.info.alias} may change its sync targets; this node is ${role ? `a ${role}` : 'not a member'} there`,
    )
  }

  /** `local` for this node (also its own URL given in full), else a ws:// or wss:// URL. */
  private normalizeUrl(url: string): string {
    if (url === LOCAL_URL) return LOCAL_URL
    let u: URL
    try {
      u = new URL(url)
    } catch {
      // Not a URL at all: it can only be a target of some other node, never this one.
      u = new URL('invalid:')
    }
    if ((u.protocol !== 'ws:' && u.protocol !== 'wss:') || !u.host) {
      throw fsError(
        'EINVAL',
        `a target URL is the target node's ws:// URL (its .meshfs/status shows it) or "local" for this node, not ${JSON.stringify(url)}`,
      )
    }
    const normal = `${u.protocol}//${u.host}${u.pathname === '/' ? '' : u.pathname}`
    return normal === this.host.ownUrl() ? LOCAL_URL : normal
  }

  private targetReplica(ref: string, url: string): NamespaceReplica {
    try {
      return this.host.replica(ref)
    } catch (err) {
      if (!isFsError(err) || err.code !== 'ENOENT') throw err
      if (url === LOCAL_URL)
        throw fsError(
          'ENOENT',
          `there is no namespace ${JSON.stringify(ref)} on this node to sync into: create it first (meshfs ns create ${ref}) or name another with --target-namespace`,
        )
      throw fsError(
        'ENOENT',
        `this node does not hold namespace ${JSON.stringify(ref)}: a target on another node is mirrored into this node's replica of it, so join it first (on the node at ${url}: meshfs invite ${ref}; here: meshfs join TOKEN)`,
      )
    }
  }

  private requireUrl(cfg: TargetConfig, url: string, source: NamespaceReplica, target: NamespaceReplica): void {
    if (cfg.url !== url)
      throw fsError('ENOENT', `the sync target ${target.info.alias} of namespace ${source.info.alias} is at ${cfg.url}, not ${url}`)
  }

  /** A group of the source namespace, as the path its mode is kept under. */
  private groupPath(source: NamespaceReplica, group: string): string {
    const segs = splitPath(group)
    if (segs.length === 0)
      throw fsError(
        'EINVAL',
        `--group names a group inside namespace ${source.info.alias}; the namespace's own mode is the target's --type`,
      )
    const id = source.tree.resolvePath(segs)
    const path = `/${segs.join('/')}`
    if (id === undefined) throw fsError('ENOENT', `there is no group ${path} in namespace ${source.info.alias}`)
    if (source.tree.get(id).kind !== 'group') throw fsError('ENOTDIR', `${path} in namespace ${source.info.alias} is not a group`)
    return path
  }

  private aliasOf(nsId: string): string {
    try {
      return this.host.replica(nsId).info.alias
    } catch (err) {
      if (isFsError(err) && err.code === 'ENOENT') return nsId // no longer held: name it by id
      throw err
    }
  }
}

function pairKey(cfg: Pick<TargetConfig, 'source' | 'target'>): string {
  return `${cfg.source}>${cfg.target}`
}
