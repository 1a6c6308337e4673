/**
 * Read-time resolution of where every node hangs: a pure function of the set of parent edges in
 * the doc, computed without ever writing back.
 *
 * Rule (Kleppmann et al., "A highly-available move operation for replicated trees", replayed
 * from state rather than from an op log): sort all edges (creation edges and move edges) by
 * (lamport, node id, parent id) and apply them in that order, each one setting the node's
 * parent, except that an edge is skipped when
 *   - its parent is the node itself or inside the node's current subtree (it would close a cycle),
 *   - its parent is unknown (not received yet) or not a group.
 * A node whose latest move is skipped therefore stays where its earlier edges put it. The result
 * is a forest at every step, so it is a forest at the end; the same edge set gives the same
 * forest on every replica whatever order the updates arrived in.
 *
 * Every node ends up attached under the root when replicas follow the protocol: its creation
 * edge has the lowest Lamport time of any edge touching it (whoever wrote an edge into a node had
 * seen that node's creation), so when the creation edge is replayed nothing hangs under the node
 * yet and it cannot close a cycle; by induction on creation time the creation parent is attached.
 * Later edges only re-hang attached nodes under attached nodes. Deletion is not an input: a
 * tombstone hides a subtree at read time but never changes where anything else hangs.
 *
 * Incremental: edges that sort after every edge already replayed just continue the replay (the
 * normal case: local operations and in-order remote ones take max Lamport + 1). Anything else -
 * an edge landing in the middle, an edge disappearing (a record overwritten by a concurrent one),
 * a record arriving that earlier edges pointed at - rebuilds from scratch.
 */
import { compareIds, ROOT } from '../ids.js'
import { edgesOf, type Edge, type NodeRec } from './schema.js'

export function compareEdges(a: Edge, b: Edge): number {
  return a.lamport - b.lamport || compareIds(a.node, b.node) || compareIds(a.parent, b.parent)
}

export type ReparentListener = (node: string, from: string | undefined, to: string) => void

export class Structure {
  private readonly parents = new Map<string, string>()
  private readonly kids = new Map<string, Set<string>>()
  /** Targets of edges skipped because no record existed: their arrival changes the replay. */
  private readonly missing = new Set<string>()
  private last: Edge | undefined

  constructor(
    private readonly recs: ReadonlyMap<string, NodeRec>,
    private readonly onReparent: ReparentListener,
  ) {}

  /** Effective parent; undefined for the root and for nodes that never got attached. */
  parentOf(id: string): string | undefined {
    return this.parents.get(id)
  }

  childrenOf(id: string): ReadonlySet<string> {
    return this.kids.get(id) ?? EMPTY
  }

  /** True if an edge was skipped because `id` had no record: its arrival needs a rebuild. */
  wasMissing(id: string): boolean {
    return this.missing.has(id)
  }

  rebuild(): void {
    this.parents.clear()
    this.kids.clear()
    this.missing.clear()
    this.last = undefined
    const all: Edge[] = []
    for (const [id, rec] of this.recs) all.push(...edgesOf(id, rec))
    all.sort(compareEdges)
    for (const e of all) this.apply(e, false)
  }

  /** Continues the replay if every edge sorts after the last one; returns false otherwise. */
  tryAppend(edges: Edge[]): boolean {
    if (edges.length === 0) return true
    edges.sort(compareEdges)
    if (this.last !== undefined && compareEdges(edges[0]!, this.last) <= 0) return false
    for (const e of edges) this.apply(e, true)
    return true
  }

  /** Is `a` an ancestor of (or equal to) `b` in the current forest? */
  isAncestorOrSelf(a: string, b: string): boolean {
    for (let cur: string | undefined = b; cur !== undefined; cur = this.parents.get(cur)) {
      if (cur === a) return true
    }
    return false
  }

  private apply(e: Edge, notify: boolean): void {
    this.last = e
    const { node, parent } = e
    if (parent !== ROOT) {
      const target = this.recs.get(parent)
      if (target === undefined) {
        this.missing.add(parent)
        return
      }
      if (target.kind !== 'group') return
    }
    if (this.isAncestorOrSelf(node, parent)) return
    const from = this.parents.get(node)
    if (from === parent) return
    if (from !== undefined) this.kids.get(from)?.delete(node)
    this.parents.set(node, parent)
    let set = this.kids.get(parent)
    if (set === undefined) this.kids.set(parent, (set = new Set()))
    set.add(node)
    if (notify) this.onReparent(node, from, parent)
  }
}

const EMPTY: ReadonlySet<string> = new Set()
