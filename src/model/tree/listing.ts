/**
 * The resolved, displayed content of one group, kept up to date in O(1) for the common edits.
 *
 * Display names are a function of the whole sibling set (names.ts), so in general any change
 * means recomputing them. Two changes provably leave every other display name as it was, and
 * those are what local creates, renames, moves and removes almost always are:
 *   - adding a child whose stored name is not shown by anyone yet: it is the only holder of its
 *     name, so it keeps it; every conflict tag already handed out skipped only names that are
 *     still taken, and the new name is not one of them.
 *   - removing a child from a group without conflicts: all stored names were distinct and
 *     shown as is, and stay so.
 * Anything else reports false and the caller drops the listing, to be rebuilt on next read.
 * Without this a directory of n entries would cost O(n log n) per create (O(n^2) to fill it).
 */
import { compareIds } from '../ids.js'
import { displayNames, type Sibling } from '../names.js'

export class Listing {
  private readonly byId: Map<string, string>
  private readonly byName = new Map<string, string>()
  private conflicts = 0
  private sorted: string[] | undefined

  constructor(siblings: readonly Sibling[]) {
    this.byId = displayNames(siblings)
    const stored = new Map(siblings.map((s) => [s.id, s.name]))
    for (const [id, shown] of this.byId) {
      this.byName.set(shown, id)
      if (shown !== stored.get(id)) this.conflicts++
    }
  }

  get size(): number {
    return this.byId.size
  }

  nameOf(id: string): string | undefined {
    return this.byId.get(id)
  }

  idOf(name: string): string | undefined {
    return this.byName.get(name)
  }

  has(id: string): boolean {
    return this.byId.has(id)
  }

  ids(): IterableIterator<string> {
    return this.byId.keys()
  }

  /** Ids in display-name order (code units), so listings are the same on every replica. */
  order(): readonly string[] {
    this.sorted ??= [...this.byName.keys()].sort(compareIds).map((n) => this.byName.get(n)!)
    return this.sorted
  }

  tryAdd(s: Sibling): boolean {
    if (this.byName.has(s.name) || this.byId.has(s.id)) return false
    this.byId.set(s.id, s.name)
    this.byName.set(s.name, s.id)
    this.sorted = undefined
    return true
  }

  tryRemove(id: string): boolean {
    if (this.conflicts > 0) return false
    const shown = this.byId.get(id)
    if (shown === undefined) return true
    this.byId.delete(id)
    this.byName.delete(shown)
    this.sorted = undefined
    return true
  }
}
