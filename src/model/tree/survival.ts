/**
 * Which nodes a delete has taken: the edit-beats-delete rule, kept up to date incrementally.
 *
 * A node is *self-dead* iff it has a tombstone and every edit of its version vector was seen by
 * one of its tombstones (doc-mirror.ts). It is shown iff it hangs under the root and its
 * effective subtree (itself included) holds a *survivor*, a node that is not self-dead. That is
 * the same as "every node on its chain is either not self-dead or holds a survivor", because a
 * survivor below a node is also below each of its ancestors: so an edit, a create or a move into
 * a group that another replica deleted without seeing it keeps the node and its ancestors, at
 * their place, and a removed group's other entries (tombstoned one by one) stay removed.
 *
 * Reads must not walk the tombstones, which accumulate forever, so every node keeps the number of
 * survivors in its subtree. A create, a move or a changed vital adds or subtracts along one or
 * two chains (O(depth)); a rebuild of the structure recounts everything (O(n), like the rebuild).
 * Every count that crosses zero changes whether that node is shown: `onFlip` hears of it, so the
 * cached listings are fixed. A tombstoned node whose count was zero before a fold of changes and
 * is more after it is a revival, kept until taken. Before and after the whole fold, not on the
 * way: the nodes of one fold attach one by one, so a group that arrives with its surviving entry
 * passes through zero without ever having been shown as gone.
 */
import { compareIds, ROOT } from '../ids.js'
import type { DocMirror } from './doc-mirror.js'
import type { Structure } from './resolve.js'

/** A node that came back: its own edit outlived its tombstones, or it holds one that did. */
export interface Revival {
  readonly id: string
  /** 'edited': an edit no delete of it had seen; 'holds': it is deleted but holds `survivor`. */
  readonly cause: 'edited' | 'holds'
  /** For 'holds': a node below, not self-dead (edited, or created or moved in, unseen by the delete). */
  readonly survivor?: string
}

export class Survival {
  /** Self-dead nodes, as last evaluated (the counts agree with this set, not with the mirror). */
  private readonly dead = new Set<string>()
  /** Survivors in each counted node's effective subtree, itself included. */
  private survivors = new Map<string, number>()
  private readonly revived = new Set<string>()
  /** Counts changed in the current fold: the count before it (undefined: not counted before). */
  private readonly changed = new Map<string, number | undefined>()

  constructor(
    private readonly mirror: DocMirror,
    private readonly structure: Structure,
    private readonly onFlip: (id: string) => void,
  ) {}

  /** Whether the node's subtree holds a survivor: shown if it also hangs under the root. */
  holdsSurvivor(id: string): boolean {
    return id === ROOT || (this.survivors.get(id) ?? 0) > 0
  }

  /** The structure hung `node` under `to` (from `from`, or for the first time). */
  reparented(node: string, from: string | undefined, to: string): void {
    const n = this.count(node)
    if (from !== undefined) this.add(from, -n)
    this.count(to, node) // a group never counted yet (the root at first) must not count `node` twice
    this.add(to, n)
  }

  /**
   * The end of an incremental fold: re-evaluate the nodes whose versions or tombstones changed
   * (the counted ones move their chains), then the nodes held now that held nothing before the
   * fold are revivals.
   */
  settle(vitals: Iterable<string>): void {
    for (const id of vitals) this.reevaluate(id)
    for (const [id, was] of this.changed) {
      const now = this.survivors.get(id) ?? 0
      if (now === 0) this.revived.delete(id)
      else if (was === 0 && this.mirror.tombs.has(id)) this.revived.add(id)
    }
    this.changed.clear()
  }

  private reevaluate(id: string): void {
    if (!this.survivors.has(id)) return // not hung anywhere yet: evaluated when it is
    const now = this.mirror.isSelfDead(id)
    if (now === this.dead.has(id)) return
    if (now) this.dead.add(id)
    else this.dead.delete(id)
    this.add(id, now ? -1 : 1)
  }

  /** Recount from scratch after the structure was rebuilt; revivals are found against the old counts. */
  rebuild(): void {
    this.changed.clear()
    const before = this.survivors
    this.survivors = new Map()
    this.dead.clear()
    for (const id of this.mirror.recs.keys()) {
      if (this.mirror.isSelfDead(id)) this.dead.add(id)
    }
    // Post-order over the forest without recursion (a chain may be deep).
    const roots = [ROOT, ...[...this.mirror.recs.keys()].filter((id) => this.structure.parentOf(id) === undefined)]
    for (const top of roots) {
      const stack: Array<{ id: string; kids: Iterator<string> }> = [{ id: top, kids: this.structure.childrenOf(top).values() }]
      while (stack.length > 0) {
        const frame = stack[stack.length - 1]!
        const next = frame.kids.next()
        if (!next.done) {
          stack.push({ id: next.value, kids: this.structure.childrenOf(next.value).values() })
          continue
        }
        stack.pop()
        let n = this.own(frame.id)
        for (const kid of this.structure.childrenOf(frame.id)) n += this.survivors.get(kid) ?? 0
        this.survivors.set(frame.id, n)
      }
    }
    for (const id of this.mirror.tombs.keys()) {
      const was = before.get(id)
      const now = this.survivors.get(id) ?? 0
      if (was === 0 && now > 0) this.revived.add(id)
      else if (now === 0) this.revived.delete(id)
    }
  }

  /**
   * Tombstoned nodes that came back since the last call, if still held, parents first (the
   * caller checks they hang under the root).
   */
  take(): Revival[] {
    const out: Revival[] = []
    const depth = new Map<string, number>()
    for (const id of this.revived) {
      if (!this.holdsSurvivor(id) || !this.mirror.tombs.has(id)) continue
      out.push(this.dead.has(id) ? { id, cause: 'holds', survivor: this.survivorIn(id) } : { id, cause: 'edited' })
      let d = 0
      for (let cur = this.structure.parentOf(id); cur !== undefined; cur = this.structure.parentOf(cur)) d++
      depth.set(id, d)
    }
    this.revived.clear()
    return out.sort((a, b) => depth.get(a.id)! - depth.get(b.id)! || compareIds(a.id, b.id))
  }

  /** The node and every node below it that holds a survivor: what a recursive remove takes. */
  heldSubtree(id: string): string[] {
    const out = [id]
    for (let i = 0; i < out.length; i++) {
      for (const kid of this.structure.childrenOf(out[i]!)) if (this.holdsSurvivor(kid)) out.push(kid)
    }
    return out
  }

  /** One survivor below a self-dead node that holds one. */
  private survivorIn(id: string): string {
    let cur = id
    for (;;) {
      let next: string | undefined
      for (const kid of this.structure.childrenOf(cur)) {
        if (!this.holdsSurvivor(kid)) continue
        if (!this.dead.has(kid)) return kid
        next ??= kid
      }
      if (next === undefined) return cur // counts say there is one: unreachable while they agree
      cur = next
    }
  }

  private own(id: string): number {
    return id === ROOT || !this.dead.has(id) ? 1 : 0
  }

  /** The node's count, evaluating it first if it was never counted (leaving out the kid `except`). */
  private count(id: string, except?: string): number {
    const known = this.survivors.get(id)
    if (known !== undefined) return known
    if (!this.changed.has(id)) this.changed.set(id, undefined) // new in this fold: it cannot come back
    if (this.mirror.isSelfDead(id)) this.dead.add(id)
    let n = this.own(id)
    for (const kid of this.structure.childrenOf(id)) if (kid !== except) n += this.survivors.get(kid) ?? 0
    this.survivors.set(id, n)
    return n
  }

  /** Adds `delta` to the counts of `start` and its ancestors. */
  private add(start: string, delta: number): void {
    if (delta === 0) return
    for (let cur: string | undefined = start; cur !== undefined; cur = this.structure.parentOf(cur)) {
      if (!this.changed.has(cur)) this.changed.set(cur, this.survivors.get(cur))
      const before = this.count(cur)
      const after = before + delta
      this.survivors.set(cur, after)
      if (before > 0 !== after > 0) this.onFlip(cur)
    }
  }
}
