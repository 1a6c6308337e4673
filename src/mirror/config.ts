// Sync targets as this node configures them (Hoss's namespace sync configuration), kept in the
// node's local meta store: a target is this node's promise to mirror one namespace into another,
// not replicated state, so exactly one node mirrors each pair and no two nodes race to copy the
// same change. Also the rules of modes: a group (Hoss's dataset) may narrow its namespace's mode,
// never widen it.

import { fsError } from '../vfs/errors.js'
import { isWithin } from '../vfs/path.js'

/** `simplex`: this namespace's changes go to the target only; `duplex`: both ways. */
export type SyncType = 'simplex' | 'duplex'
/** What a group may say: one of the types, or `off` (not mirrored at all). */
export type GroupMode = SyncType | 'off'

/** The URL of a target on this same node (any URL equal to this node's own is stored as this). */
export const LOCAL_URL = 'local'

export interface TargetConfig {
  /** The source namespace's id. */
  source: string
  /** Where the target namespace's node is reached; `local` for this node. */
  url: string
  /** The target namespace's id (a namespace this node holds). */
  target: string
  type: SyncType
  /** Narrowed groups: source-side path ('/design') -> mode; the longest prefix rules below it. */
  groups: Record<string, GroupMode>
}

/** What the config store needs of the node's meta store (store/MetaStore provides it). */
export interface MetaLike {
  getMeta<T = unknown>(key: readonly string[]): T | undefined
  setMeta(key: readonly string[], value: unknown): void
  deleteMeta(key: readonly string[]): boolean
  /** The keys that start with `prefix`, part by part. */
  listMeta(prefix?: readonly string[]): string[][]
}

const CONFIG_KEY = ['sync-targets']
const RANK: Record<GroupMode, number> = { off: 0, simplex: 1, duplex: 2 }

export function checkType(v: unknown): SyncType {
  if (v === 'simplex' || v === 'duplex') return v
  throw fsError(
    'EINVAL',
    `a sync type is simplex (one way: this namespace's changes go to the target) or duplex (both ways), not ${JSON.stringify(v)}`,
  )
}

/** The narrower of two modes. */
function narrower(a: GroupMode, b: GroupMode): GroupMode {
  return RANK[a] <= RANK[b] ? a : b
}

/** The mode that rules `path` (a source-side path, '/' for the root): the target's type, narrowed by every group on the way. */
export function modeAt(cfg: Pick<TargetConfig, 'type' | 'groups'>, path: string): GroupMode {
  let mode: GroupMode = cfg.type
  for (const [group, m] of Object.entries(cfg.groups)) if (isWithin(path, group)) mode = narrower(mode, m)
  return mode
}

/**
 * Set `group`'s mode in `cfg` (a new object). Asking for more than the enclosing mode allows is
 * EINVAL: a duplex group needs a duplex target and no simplex group around it. Asking for
 * exactly the enclosing mode clears the group's own setting.
 */
export function withGroupMode(cfg: TargetConfig, group: string, mode: GroupMode, names: { source: string; target: string }): TargetConfig {
  const groups = { ...cfg.groups }
  delete groups[group]
  const enclosing = modeAt({ type: cfg.type, groups }, group)
  if (RANK[mode] > RANK[enclosing]) {
    const why =
      enclosing === cfg.type
        ? `the target ${names.target} of namespace ${names.source} is ${cfg.type}`
        : `a group around ${group} is ${enclosing}`
    throw fsError('EINVAL', `group ${group} cannot be ${mode}: ${why}; a group may narrow its namespace's sync mode, never widen it`)
  }
  if (mode !== enclosing) groups[group] = mode
  return { ...cfg, groups }
}

/** The targets of every namespace on this node, in the node's meta store. */
export class TargetConfigStore {
  constructor(private readonly meta: MetaLike) {}

  all(): TargetConfig[] {
    const v = this.meta.getMeta<unknown>(CONFIG_KEY)
    return Array.isArray(v) ? v.filter(isTargetConfig) : []
  }

  of(source: string): TargetConfig[] {
    return this.all().filter((t) => t.source === source)
  }

  /** Add or replace the target of `cfg.source` into `cfg.target` (one per pair of namespaces). */
  put(cfg: TargetConfig): void {
    this.meta.setMeta(CONFIG_KEY, [...this.all().filter((t) => !samePair(t, cfg)), cfg])
  }

  remove(cfg: Pick<TargetConfig, 'source' | 'target'>): void {
    this.meta.setMeta(
      CONFIG_KEY,
      this.all().filter((t) => !samePair(t, cfg)),
    )
  }
}

function samePair(a: Pick<TargetConfig, 'source' | 'target'>, b: Pick<TargetConfig, 'source' | 'target'>): boolean {
  return a.source === b.source && a.target === b.target
}

function isTargetConfig(v: unknown): v is TargetConfig {
  const t = v as TargetConfig
  return (
    typeof t === 'object' &&
    t !== null &&
    typeof t.source === 'string' &&
    typeof t.url === 'string' &&
    typeof t.target === 'string' &&
    (t.type === 'simplex' || t.type === 'duplex') &&
    typeof t.groups === 'object' &&
    t.groups !== null
  )
}
