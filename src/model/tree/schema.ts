/**
 * Layout of the tree doc and the codec for node records. This file is the wire format: every
 * replica must parse a record to the same value, so parsing is strict and a malformed record is
 * ignored as a whole (it never half-exists).
 *
 * Five top-level Y.Maps, one job each, so that edits of different concerns never overwrite each
 * other (a Y.Map value is last-writer-wins as a whole):
 *
 *   t  id -> record      identity and place: {n, p, c, k?, m?, l?, e?} (below). Rewritten by
 *                        rename and move, which are one POSIX operation and may well be one
 *                        register.
 *   v  "id/writer" -> n  the node's version vector: how many edits (meta, chmod, rename, move)
 *                        each writer (one replica: tree.ts) made of it. One key per writer, so
 *                        concurrent writers never overwrite each other's counter.
 *   d  "id/writer" -> {writer: n, ...}
 *                        tombstones: the version vector the deleting writer had seen. Separate
 *                        from `t` so rewriting a record never erases a delete, and one key per
 *                        deleter so concurrent deletes all count (survival.ts: an edit none of
 *                        them saw keeps the node). Docs written before versions existed hold
 *                        `id -> 1`: a delete that beats every edit.
 *   m  id -> mode        chmod after creation. Separate so a chmod and a concurrent rename both
 *                        survive. The creation mode lives in the record (omitted when default).
 *   x  "id/key" -> str   free-form metadata of later layers (content id, size, ...). One entry
 *                        per key so a content update is never lost to a concurrent rename; flat
 *                        keys rather than a nested Y.Map per node because two replicas creating
 *                        that nested map concurrently would lose one map with all its keys.
 *
 * Plain objects rather than a Y.Map per node: one Yjs item per record instead of one per field
 * keeps a file at ~70 bytes of update (see scripts/fuzz-tree.ts), and the fields that must merge
 * independently live in the maps above anyway. Keys are one letter for the same reason.
 *
 * Record fields:
 *   n  stored name (display may add a conflict tag)
 *   p  creation parent: immutable, and acyclic by construction (it existed before the node)
 *   c  Lamport time of creation: immutable
 *   k  'g' group | 's' symlink; absent = file
 *   m  creation mode; absent = default of the kind
 *   l  Lamport time of the last create/rename/move (orders duplicate names); absent = c
 *   e  move edges [parent, lamport, parent, lamport, ...], oldest first, append-only. The
 *      whole history is kept: the replay (resolve.ts) needs every edge, and dropping an old one
 *      changes where the node was in the past, which can flip how a later, unrelated cycle was
 *      broken - even a new local move could then be skipped (found by the property test with
 *      a 4-edge cap). Cost: ~20 bytes per move of that node. Trimming safely needs causal
 *      stability (every member has seen the edge and nothing concurrent can arrive), which
 *      this layer does not know.
 */
import type * as Y from 'yjs'
import { isNodeId, isParentRef } from '../ids.js'
import { isValidName, utf8Bytes } from '../names.js'
import { TreeError } from './errors.js'

export type Kind = 'group' | 'file' | 'symlink'

export const DEFAULT_MODE: Readonly<Record<Kind, number>> = { group: 0o755, file: 0o644, symlink: 0o777 }

/** Lamport times stay far below 2^31 in practice; bigger ones are treated as corrupt. */
const MAX_LAMPORT = 2 ** 40

export interface Edge {
  readonly node: string
  readonly parent: string
  readonly lamport: number
}

export interface NodeRec {
  readonly kind: Kind
  readonly name: string
  readonly parent: string
  readonly created: number
  readonly named: number
  readonly mode: number | undefined
  readonly moves: readonly Edge[]
}

export interface TreeMaps {
  readonly t: Y.Map<unknown>
  readonly v: Y.Map<unknown>
  readonly d: Y.Map<unknown>
  readonly m: Y.Map<unknown>
  readonly x: Y.Map<unknown>
}

export function treeMaps(doc: Y.Doc): TreeMaps {
  return { t: doc.getMap('t'), v: doc.getMap('v'), d: doc.getMap('d'), m: doc.getMap('m'), x: doc.getMap('x') }
}

/** Edits per writer, as a version vector. */
export type Versions = ReadonlyMap<string, number>

/** What one tombstone saw: the node's versions then, or 'always' (a delete from before versions). */
export type Seen = Versions | 'always'

export function isCounter(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0
}

/**
 * A tombstone's value. A malformed one counts as 'always', like the old `1`: what a peer meant
 * as a delete stays a delete.
 */
export function parseSeen(raw: unknown): Seen {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return 'always'
  const seen = new Map<string, number>()
  for (const [writer, n] of Object.entries(raw)) {
    if (!isCounter(n)) return 'always'
    seen.set(writer, n)
  }
  return seen
}

export function encodeSeen(versions: Versions | undefined): Record<string, number> {
  return Object.fromEntries(versions ?? [])
}

export function isLamport(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && v <= MAX_LAMPORT
}

/** Permission bits including setuid/setgid/sticky; file type bits come from the kind. */
export function isMode(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0o7777
}

const KIND_CODE: Readonly<Record<Kind, string | undefined>> = { file: undefined, group: 'g', symlink: 's' }

function kindOf(code: unknown): Kind | undefined {
  if (code === undefined) return 'file'
  if (code === 'g') return 'group'
  if (code === 's') return 'symlink'
  return undefined
}

export function parseRec(id: string, raw: unknown): NodeRec | undefined {
  if (!isNodeId(id) || typeof raw !== 'object' || raw === null || Array.isArray(raw)) return undefined
  const o = raw as Record<string, unknown>
  const kind = kindOf(o.k)
  const { n: name, p: parent, c: created } = o
  if (kind === undefined || !isValidName(name) || !isParentRef(parent) || parent === id || !isLamport(created)) {
    return undefined
  }
  const named = o.l === undefined ? created : o.l
  if (!isLamport(named)) return undefined
  if (o.m !== undefined && !isMode(o.m)) return undefined
  const moves: Edge[] = []
  if (o.e !== undefined) {
    const e = o.e
    if (!Array.isArray(e) || e.length % 2 !== 0) return undefined
    for (let i = 0; i < e.length; i += 2) {
      const p: unknown = e[i]
      const lamport: unknown = e[i + 1]
      if (!isParentRef(p) || p === id || !isLamport(lamport)) return undefined
      moves.push({ node: id, parent: p, lamport })
    }
  }
  return { kind, name, parent, created, named, mode: o.m as number | undefined, moves }
}

export function encodeRec(rec: NodeRec): Record<string, unknown> {
  const o: Record<string, unknown> = { n: rec.name, p: rec.parent, c: rec.created }
  const k = KIND_CODE[rec.kind]
  if (k !== undefined) o.k = k
  if (rec.mode !== undefined && rec.mode !== DEFAULT_MODE[rec.kind]) o.m = rec.mode
  if (rec.named !== rec.created) o.l = rec.named
  if (rec.moves.length > 0) o.e = rec.moves.flatMap((m) => [m.parent, m.lamport])
  return o
}

/** Every edge of a node: the creation edge first, then its moves. */
export function edgesOf(id: string, rec: NodeRec): Edge[] {
  return [{ node: id, parent: rec.parent, lamport: rec.created }, ...rec.moves]
}

/** The highest Lamport time a record mentions. */
export function maxLamportOf(rec: NodeRec): number {
  let max = Math.max(rec.created, rec.named)
  for (const m of rec.moves) max = Math.max(max, m.lamport)
  return max
}

/** Meta entries are keyed `id/key`, versions and tombstones `id/writer`; ids never contain '/', keys may. */
export function metaKey(id: string, key: string): string {
  return `${id}/${key}`
}

export function splitMetaKey(k: string): [id: string, key: string] | undefined {
  const i = k.indexOf('/')
  if (i <= 0 || i === k.length - 1) return undefined
  return [k.slice(0, i), k.slice(i + 1)]
}

/** Metadata is for small values (hashes, sizes); bulk data belongs in content docs or chunks. */
export const MAX_META_KEY_BYTES = 64
export const MAX_META_VALUE_BYTES = 1024

export function checkMode(mode: unknown): void {
  if (!isMode(mode)) throw new TreeError('EINVAL', `bad mode ${String(mode)}`)
}

export function checkMeta(key: unknown, value: unknown): void {
  if (typeof key !== 'string' || key.length === 0 || key.includes('\0') || utf8Bytes(key) > MAX_META_KEY_BYTES) {
    throw new TreeError('EINVAL', 'bad metadata key')
  }
  if (value !== undefined && (typeof value !== 'string' || utf8Bytes(value) > MAX_META_VALUE_BYTES)) {
    throw new TreeError('EINVAL', `bad metadata value for ${key}`)
  }
}
