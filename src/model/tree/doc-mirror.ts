// Plain mirrors of a tree doc's maps (records, versions, tombstones, metadata keys, the highest
// Lamport time), updated lazily from the keys Yjs reports as changed. TreeDoc reads these instead of
// decoding Yjs maps on every lookup. Local writes also queue their keys directly: inside a
// caller's outer transaction Yjs reports them only at its end, and the next operation must
// already see them (EEXIST, Lamport time).

import type * as Y from 'yjs'
import {
  edgesOf,
  isCounter,
  maxLamportOf,
  metaKey,
  parseRec,
  parseSeen,
  splitMetaKey,
  type Edge,
  type NodeRec,
  type Seen,
  type TreeMaps,
} from './schema.js'

/** The tombstone key of docs written before versions existed: the bare id. */
const LEGACY = ''

export class DocMirror {
  readonly recs = new Map<string, NodeRec>()
  /** Each node's version vector: edits by writer. */
  readonly versions = new Map<string, Map<string, number>>()
  /** Each tombstoned node's tombstones, by deleting writer. */
  readonly tombs = new Map<string, Map<string, Seen>>()
  readonly metaKeys = new Map<string, Set<string>>()
  /** Highest Lamport time seen; local operations stamp max + 1. */
  lamport = 0

  private readonly pendingT = new Set<string>()
  private readonly pendingV = new Set<string>()
  private readonly pendingD = new Set<string>()
  private readonly pendingX = new Set<string>()
  /** Which pending set a changed top-level map feeds; `m` is read directly, nothing to mirror. */
  private readonly pendingFor: ReadonlyMap<unknown, Set<string>>

  constructor(
    private readonly doc: Y.Doc,
    private readonly maps: TreeMaps,
  ) {
    this.pendingFor = new Map<unknown, Set<string>>([
      [maps.t, this.pendingT],
      [maps.v, this.pendingV],
      [maps.d, this.pendingD],
      [maps.x, this.pendingX],
    ])
    // Collect changed keys before any observer runs, so another layer's observer that reads the
    // tree inside the same transaction cleanup already sees the new state.
    doc.on('beforeObserverCalls', this.onTransaction)
    for (const k of maps.t.keys()) this.pendingT.add(k)
    for (const k of maps.v.keys()) this.pendingV.add(k)
    for (const k of maps.d.keys()) this.pendingD.add(k)
    for (const k of maps.x.keys()) this.pendingX.add(k)
  }

  destroy(): void {
    this.doc.off('beforeObserverCalls', this.onTransaction)
  }

  get dirty(): boolean {
    return this.pendingT.size > 0 || this.pendingV.size > 0 || this.pendingD.size > 0 || this.pendingX.size > 0
  }

  queueNode(id: string): void {
    this.pendingT.add(id)
  }

  /** `key` is the `id/writer` key written in `v`. */
  queueVersion(key: string): void {
    this.pendingV.add(key)
  }

  /** `key` is the `id/writer` key written in `d`. */
  queueTomb(key: string): void {
    this.pendingD.add(key)
  }

  queueMeta(id: string, key: string): void {
    this.pendingX.add(metaKey(id, key))
  }

  /**
   * Folds the queued keys into the mirrors. Every changed node is added to `touched`, and to
   * `vitals` if its versions or tombstones changed; the result says whether the resolved
   * structure must be rebuilt (an edge went away, a node appeared that it had missed, a kind
   * changed) or else which edges were added.
   */
  fold(touched: Set<string>, vitals: Set<string>, wasMissing: (id: string) => boolean): { rebuild: boolean; added: Edge[] } {
    let rebuild = false
    const added: Edge[] = []
    for (const id of this.pendingT) {
      const before = this.recs.get(id)
      const after = parseRec(id, this.maps.t.get(id))
      if (after === undefined) this.recs.delete(id)
      else this.recs.set(id, after)
      touched.add(id)
      if (after !== undefined) this.lamport = Math.max(this.lamport, maxLamportOf(after))
      if (before === undefined ? wasMissing(id) : after === undefined || after.kind !== before.kind) {
        rebuild = true
        continue
      }
      const old = new Set(before === undefined ? [] : edgesOf(id, before).map(edgeKey))
      const now = after === undefined ? [] : edgesOf(id, after)
      const nowKeys = new Set(now.map(edgeKey))
      for (const k of old) if (!nowKeys.has(k)) rebuild = true
      for (const e of now) if (!old.has(edgeKey(e))) added.push(e)
    }
    this.pendingT.clear()
    for (const k of this.pendingV) {
      const split = splitMetaKey(k)
      if (split === undefined) continue
      const [id, writer] = split
      const n = this.maps.v.get(k)
      let vector = this.versions.get(id)
      if (isCounter(n)) {
        if (vector === undefined) this.versions.set(id, (vector = new Map()))
        vector.set(writer, n)
      } else {
        vector?.delete(writer)
      }
      vitals.add(id)
    }
    this.pendingV.clear()
    for (const k of this.pendingD) {
      const [id, deleter] = splitMetaKey(k) ?? [k, LEGACY]
      let byDeleter = this.tombs.get(id)
      if (this.maps.d.has(k)) {
        if (byDeleter === undefined) this.tombs.set(id, (byDeleter = new Map()))
        byDeleter.set(deleter, deleter === LEGACY ? 'always' : parseSeen(this.maps.d.get(k)))
      } else if (byDeleter?.delete(deleter) && byDeleter.size === 0) {
        this.tombs.delete(id)
      }
      touched.add(id)
      vitals.add(id)
    }
    this.pendingD.clear()
    for (const k of this.pendingX) {
      const split = splitMetaKey(k)
      if (split === undefined) continue
      const [id, key] = split
      let keys = this.metaKeys.get(id)
      if (this.maps.x.has(k)) {
        if (keys === undefined) this.metaKeys.set(id, (keys = new Set()))
        keys.add(key)
      } else {
        keys?.delete(key)
      }
    }
    this.pendingX.clear()
    return { rebuild, added }
  }

  /** Whether every edit of the node was seen by one of its tombstones (none: it is not deleted). */
  isSelfDead(id: string): boolean {
    const byDeleter = this.tombs.get(id)
    if (byDeleter === undefined) return false
    const seen = new Map<string, number>()
    for (const s of byDeleter.values()) {
      if (s === 'always') return true
      for (const [writer, n] of s) seen.set(writer, Math.max(n, seen.get(writer) ?? 0))
    }
    for (const [writer, n] of this.versions.get(id) ?? []) if (n > (seen.get(writer) ?? 0)) return false
    return true
  }

  private readonly onTransaction = (tr: Y.Transaction): void => {
    for (const [type, keys] of tr.changed) {
      const pending = this.pendingFor.get(type)
      if (pending === undefined) continue
      for (const k of keys) if (k !== null) pending.add(k)
    }
  }
}

function edgeKey(e: Edge): string {
  return `${e.lamport}:${e.parent}`
}
