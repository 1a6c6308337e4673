// Which namespaces this node holds: the list remembered in the local store, each one's replica,
// and, once its info is known, its replicated handler mounted at /PATH (PATH is the alias, or
// PARENT/ALIAS for a namespace nested in another). A joined namespace is held before its first
// sync lands, but has no alias to be mounted at until then.

import path from 'node:path'
import type { NamespaceInfo } from '../model/namespace-info.js'
import { ReplicatedHandler, type NamespaceHooks } from '../namespace/handler.js'
import { LocalArea } from '../namespace/local-area.js'
import { ServedVersions, type ArrivalOptions } from '../namespace/served-versions.js'
import { NamespaceReplica, type ReplicaStore } from '../replica/replica.js'
import type { MetaStore } from '../store/meta-store.js'
import type { Logger } from '../util/log.js'
import { fsError } from '../vfs/errors.js'
import type { MountTable } from '../vfs/mount-table.js'
import { Signal } from './signal.js'

const HELD_KEY = ['namespaces']
const NAMESPACE_ID = /^[0-9a-f]{32}$/

/** Where a namespace is mounted, from the top; its alias for one written before namespaces nested. */
export const pathOf = (info: NamespaceInfo): string => info.path ?? info.alias

/** A namespace this node holds and has mounted. */
export interface HeldNamespace {
  replica: NamespaceReplica
  handler: ReplicatedHandler
  /** Which version of each binary its handler serves, and what is still arriving. */
  served: ServedVersions
  /** Its ignored, node-local files. */
  local: LocalArea
  mountPath: string
}

export class NamespaceRegistry {
  private readonly mounted = new Map<string, HeldNamespace>()
  /** Joined namespaces whose first sync has not arrived yet: no alias to mount them at. */
  private readonly joining = new Map<string, NamespaceReplica>()
  /** A namespace started being held (mounted or still joining): the sync layer watches it. */
  readonly held = new Signal<string>()
  /** A held namespace got its handler mounted. */
  readonly mountedOne = new Signal<HeldNamespace>()
  /** A namespace is no longer held. */
  readonly dropped = new Signal<string>()

  /** `dataDir/local/<namespace id>` holds each namespace's ignored, node-local files. */
  constructor(
    private readonly replicaStore: ReplicaStore,
    private readonly meta: MetaStore,
    private readonly table: MountTable,
    private readonly dataDir: string,
    /** What the handler of namespace `id` may ask of the node (delete it, check admin). */
    private readonly hooksFor: (id: string) => NamespaceHooks,
    private readonly log: Logger,
    /** How reads wait for binaries still arriving from peers. */
    private readonly arrivals: ArrivalOptions = {},
  ) {}

  /** Hold every namespace remembered in the store. */
  loadAll(): void {
    for (const id of this.remembered()) this.hold(NamespaceReplica.load(this.replicaStore, id))
  }

  /** Start holding a namespace created here (`replica`) and remember it. */
  add(replica: NamespaceReplica): void {
    this.remember(replica.id)
    this.hold(replica)
  }

  /** Start holding a namespace this node was admitted to; nothing if it is held already. */
  join(ns: string): void {
    if (this.mounted.has(ns) || this.joining.has(ns)) return
    this.remember(ns)
    this.hold(NamespaceReplica.load(this.replicaStore, ns))
  }

  /** Stop holding a namespace: unmounted, forgotten, its replica and local area deleted. */
  drop(held: HeldNamespace): void {
    const id = held.replica.id
    this.meta.setMeta(
      HELD_KEY,
      this.remembered().filter((x) => x !== id),
    )
    if (this.table.isMountPoint(held.mountPath)) this.table.unmount(held.mountPath)
    this.mounted.delete(id)
    this.dropped.emit(id)
    held.replica.destroy()
    held.local.destroy()
  }

  /** Held and joining namespaces, by id. */
  ids(): string[] {
    return [...this.mounted.keys(), ...this.joining.keys()]
  }

  all(): HeldNamespace[] {
    return [...this.mounted.values()]
  }

  /** A mounted namespace by id. */
  byId(id: string): HeldNamespace | undefined {
    return this.mounted.get(id)
  }

  /** The replica of a held namespace, mounted or still joining. */
  replica(id: string): NamespaceReplica | undefined {
    return this.mounted.get(id)?.replica ?? this.joining.get(id)
  }

  /** A namespace by id, path (`team/design`) or, when unambiguous, alias; ENOENT otherwise. */
  resolve(ref: string): HeldNamespace {
    if (NAMESPACE_ID.test(ref) && this.mounted.has(ref)) return this.mounted.get(ref)!
    const all = this.all()
    const byPath = all.find((m) => pathOf(m.replica.info) === ref)
    if (byPath) return byPath
    const byAlias = all.filter((m) => m.replica.info.alias === ref)
    if (byAlias.length > 1)
      throw fsError(
        'EINVAL',
        `${JSON.stringify(ref)} names ${byAlias.length} namespaces (${byAlias.map((m) => pathOf(m.replica.info)).join(', ')}): give its path`,
      )
    if (byAlias.length === 1) return byAlias[0]!
    throw fsError('ENOENT', `no namespace ${JSON.stringify(ref)} on this node`)
  }

  /** The namespace mounted at `path`, as a parent for a nested one. */
  at(path: string): HeldNamespace {
    const m = this.all().find((m) => pathOf(m.replica.info) === path)
    if (!m) throw fsError('ENOENT', `no namespace at ${path} on this node: a nested namespace is created inside a namespace (PARENT/NAME)`)
    return m
  }

  /** The held namespaces nested in `id`, at any depth, the deepest first. */
  descendantsOf(id: string): HeldNamespace[] {
    const out: HeldNamespace[] = []
    for (const m of this.mounted.values()) {
      if (m.replica.info.parentId !== id) continue
      out.push(...this.descendantsOf(m.replica.id), m)
    }
    return out
  }

  /** Mounted now if the replica knows its alias, else once its first sync lands. */
  private hold(replica: NamespaceReplica): void {
    if (replica.maybeInfo()) {
      this.mount(replica)
      return this.held.emit(replica.id)
    }
    this.joining.set(replica.id, replica)
    this.held.emit(replica.id)
    const off = replica.onStored(() => {
      if (!replica.maybeInfo() || !this.joining.has(replica.id)) return
      off()
      this.joining.delete(replica.id)
      this.mount(replica)
      this.log.info(`namespace ${replica.info.alias} (${replica.id}) arrived and is mounted`)
    })
  }

  private mount(replica: NamespaceReplica): void {
    const info = replica.info
    const mountPath = `/${pathOf(info)}`
    const local = new LocalArea(path.join(this.dataDir, 'local', info.id))
    const served = new ServedVersions(replica, this.arrivals)
    const handler = new ReplicatedHandler(replica, { ...this.hooksFor(info.id), served }, local)
    this.table.mount(mountPath, handler)
    const held = { replica, handler, served, local, mountPath }
    this.mounted.set(info.id, held)
    this.mountedOne.emit(held)
  }

  private remembered(): string[] {
    const ids = this.meta.getMeta<unknown>(HELD_KEY)
    return Array.isArray(ids) ? ids.filter((x): x is string => typeof x === 'string') : []
  }

  private remember(id: string): void {
    this.meta.setMeta(HELD_KEY, [...this.remembered(), id])
  }
}
