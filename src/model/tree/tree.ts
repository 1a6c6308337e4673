/**
 * TreeDoc: the replicated tree of one namespace, over one Y.Doc.
 *
 * Writes are small Yjs transactions on the maps described in schema.ts; reads see a resolved
 * tree that is a pure function of the doc state (resolve.ts for where nodes hang, names.ts for
 * display names) and never write fix-ups back, so replicas that hold the same updates show the
 * same tree whatever order those updates arrived in.
 *
 * Rules:
 * - Move: Lamport-ordered replay of parent edges; a move that would close a cycle is skipped at
 *   read time and the node stays where its earlier edges put it (resolve.ts).
 * - Edit beats delete: every edit of a node (metadata, so every content save; chmod; rename;
 *   move) counts in its version vector, one counter per writer, and a tombstone records the
 *   vector its writer had seen. A node deleted on one replica while another edits it, creates an
 *   entry in it or moves one into it, without having seen the delete, survives on every replica
 *   once they converge: with the edit, its id, at its place, with its ancestors (groups deleted
 *   meanwhile come back as far as needed to hold it; their other entries, deleted one by one,
 *   stay deleted). A delete that saw every edit stays a delete (survival.ts). A recursive remove
 *   tombstones each node of the subtree, as `rm -r` does. Entries moved out of a removed group
 *   concurrently survive anyway. `takeRevived` tells which nodes came back, for events and logs.
 * - Duplicate names: all survive; the first named keeps the name, the others get a conflict tag
 *   (names.ts).
 * - Rename/move of one node are last-writer-wins between replicas (one register, like POSIX
 *   rename); chmod and metadata are separate registers and survive a concurrent rename.
 *
 * Local operations validate against the tree as this replica sees it (ENOENT, EEXIST, EINVAL,
 * ENOTDIR, ENOTEMPTY, ENAMETOOLONG); concurrent operations cannot be validated and are reconciled
 * by the rules above instead.
 */
import * as Y from 'yjs'
import { TreeError } from './errors.js'
import { compareIds, isNodeId, newId, ROOT } from '../ids.js'
import { Listing } from './listing.js'
import { validateName, type Sibling } from '../names.js'
import { DocMirror } from './doc-mirror.js'
import { Structure } from './resolve.js'
import { Survival, type Revival } from './survival.js'
import type { RemoveOptions, TreeDocOptions, TreeNode } from './node.js'
import {
  checkMeta,
  checkMode,
  DEFAULT_MODE,
  encodeRec,
  encodeSeen,
  isCounter,
  isMode,
  metaKey,
  treeMaps,
  type Edge,
  type Kind,
  type NodeRec,
  type TreeMaps,
} from './schema.js'

export type { Kind } from './schema.js'
export { MAX_META_KEY_BYTES, MAX_META_VALUE_BYTES } from './schema.js'
export type { RemoveOptions, TreeDocOptions, TreeNode } from './node.js'
export type { Revival } from './survival.js'

export class TreeDoc {
  static readonly ROOT = ROOT

  readonly doc: Y.Doc
  private readonly maps: TreeMaps

  /** Plain mirrors of the doc's maps, folded in lazily (doc-mirror.ts). */
  private readonly mirror: DocMirror
  private readonly structure: Structure
  /** Which nodes the deletes took, counted incrementally (survival.ts). */
  private readonly survival: Survival
  /** Cached listings by group id, and for each listed node the group whose listing has it. */
  private readonly listings = new Map<string, Listing>()
  private readonly listedIn = new Map<string, string>()
  /** Collected while folding changes in: nodes whose listing entry may be stale, whose versions or tombstones changed. */
  private readonly touched = new Set<string>()
  private readonly vitals = new Set<string>()

  private readonly newId: () => string
  private readonly fixedWriter: string | undefined

  constructor(doc: Y.Doc = new Y.Doc(), opts: TreeDocOptions = {}) {
    this.doc = doc
    this.newId = opts.newId ?? newId
    this.fixedWriter = opts.writer
    this.maps = treeMaps(doc)
    this.mirror = new DocMirror(doc, this.maps)
    this.structure = new Structure(this.mirror.recs, (node, from, to) => {
      this.touched.add(node)
      this.survival.reparented(node, from, to)
    })
    this.survival = new Survival(this.mirror, this.structure, (id) => this.touched.add(id))
    this.sync()
  }

  /** Key in versions and tombstones; the clientID is read at each write (Yjs may change it on a clash). */
  private get writer(): string {
    return this.fixedWriter ?? String(this.doc.clientID)
  }

  /** Stops tracking the doc; the TreeDoc must not be used afterwards. */
  destroy(): void {
    this.mirror.destroy()
  }

  // ---- writes ----------------------------------------------------------------------------

  create(parentId: string, name: string, kind: Kind, mode: number, meta?: Readonly<Record<string, string>>): string {
    this.sync()
    validateName(name)
    if (kind !== 'group' && kind !== 'file' && kind !== 'symlink') throw new TreeError('EINVAL', `bad kind ${String(kind)}`)
    checkMode(mode)
    const entries = Object.entries(meta ?? {})
    for (const [k, v] of entries) checkMeta(k, v)
    this.requireGroup(parentId)
    if (this.listing(parentId).idOf(name) !== undefined) throw new TreeError('EEXIST', `${name} exists`)
    let id: string
    do {
      id = this.newId()
      if (!isNodeId(id)) throw new TypeError(`newId() returned ${id}, not 16 hex chars`)
    } while (this.maps.t.has(id))
    const stamp = this.mirror.lamport + 1
    const rec: NodeRec = { kind, name, parent: parentId, created: stamp, named: stamp, mode, moves: [] }
    this.doc.transact(() => {
      this.maps.t.set(id, encodeRec(rec))
      for (const [k, v] of entries) this.maps.x.set(metaKey(id, k), v)
    }, this)
    this.mirror.queueNode(id)
    for (const [k] of entries) this.mirror.queueMeta(id, k)
    return id
  }

  rename(id: string, newName: string): void {
    this.sync()
    validateName(newName)
    const rec = this.requireNode(id)
    const parent = this.structure.parentOf(id)!
    const holder = this.listing(parent).idOf(newName)
    if (holder === id) return
    if (holder !== undefined) throw new TreeError('EEXIST', `${newName} exists`)
    this.write(id, { ...rec, name: newName, named: this.mirror.lamport + 1 })
  }

  /** Moves (and optionally renames) a node; without newName it keeps its stored name. */
  move(id: string, newParentId: string, newName?: string): void {
    this.sync()
    const rec = this.requireNode(id)
    const name = validateName(newName ?? rec.name)
    this.requireGroup(newParentId)
    if (this.structure.isAncestorOrSelf(id, newParentId)) {
      throw new TreeError('EINVAL', 'cannot move a node into itself or its own subtree')
    }
    if (this.structure.parentOf(id) === newParentId) return this.rename(id, name)
    if (this.listing(newParentId).idOf(name) !== undefined) throw new TreeError('EEXIST', `${name} exists`)
    const stamp = this.mirror.lamport + 1
    const moves: Edge[] = [...rec.moves, { node: id, parent: newParentId, lamport: stamp }]
    this.write(id, { ...rec, name, named: stamp, moves })
  }

  /**
   * Tombstones a node with the versions it has here; a group must be empty unless recursive: then
   * each shown node below is tombstoned too, so an edit this replica has not seen keeps just that.
   */
  remove(id: string, opts: RemoveOptions = {}): void {
    this.sync()
    const rec = this.requireNode(id)
    if (rec.kind === 'group' && !opts.recursive && this.listing(id).size > 0) {
      throw new TreeError('ENOTEMPTY', `${id} is not empty`)
    }
    const doomed = opts.recursive ? this.survival.heldSubtree(id) : [id]
    const writer = this.writer
    this.doc.transact(() => {
      for (const node of doomed) this.maps.d.set(metaKey(node, writer), encodeSeen(this.mirror.versions.get(node)))
    }, this)
    for (const node of doomed) this.mirror.queueTomb(metaKey(node, writer))
    // Folded now, not at the next read: an edit arriving later is then a revival of what this replica removed.
    this.sync()
  }

  setMode(id: string, mode: number): void {
    this.sync()
    checkMode(mode)
    if (id !== ROOT) this.requireNode(id)
    this.doc.transact(() => {
      this.maps.m.set(id, mode)
      this.bump(id)
    }, this)
  }

  /** Sets one metadata entry; undefined deletes it. */
  setMeta(id: string, key: string, value: string | undefined): void {
    this.sync()
    checkMeta(key, value)
    if (id !== ROOT) this.requireNode(id)
    this.doc.transact(() => {
      if (value === undefined) this.maps.x.delete(metaKey(id, key))
      else this.maps.x.set(metaKey(id, key), value)
      this.bump(id)
    }, this)
    this.mirror.queueMeta(id, key)
  }

  // ---- reads -------------------------------------------------------------------------------

  /** Throws ENOENT unless the node is live. */
  get(id: string): TreeNode {
    const node = this.find(id)
    if (node === undefined) throw new TreeError('ENOENT', `no node ${id}`)
    return node
  }

  find(id: string): TreeNode | undefined {
    this.sync()
    if (!this.liveNow(id)) return undefined
    if (id === ROOT) return this.node(ROOT, undefined, '', undefined)
    const parent = this.structure.parentOf(id)!
    return this.node(id, parent, this.listing(parent).nameOf(id)!, this.mirror.recs.get(id))
  }

  /** Live children in display-name order. Throws ENOENT / ENOTDIR for a bad parent. */
  children(parentId: string): TreeNode[] {
    this.sync()
    this.requireGroup(parentId)
    const listing = this.listing(parentId)
    return listing.order().map((id) => this.node(id, parentId, listing.nameOf(id)!, this.mirror.recs.get(id)))
  }

  /** Child id by displayed name, undefined if absent. Throws ENOENT / ENOTDIR for a bad parent. */
  lookup(parentId: string, name: string): string | undefined {
    this.sync()
    this.requireGroup(parentId)
    return this.listing(parentId).idOf(name)
  }

  /** Id at a path of displayed names ([] is the root), undefined if any segment is absent. */
  resolvePath(segments: readonly string[]): string | undefined {
    this.sync()
    let cur = ROOT
    for (const seg of segments) {
      if (this.kindOf(cur) !== 'group') return undefined
      const next = this.listing(cur).idOf(seg)
      if (next === undefined) return undefined
      cur = next
    }
    return cur
  }

  /** Displayed names from the root down to the node ([] for the root). Throws ENOENT. */
  pathOf(id: string): string[] {
    this.sync()
    if (!this.liveNow(id)) throw new TreeError('ENOENT', `no node ${id}`)
    const out: string[] = []
    for (let cur = id; cur !== ROOT; ) {
      const parent = this.structure.parentOf(cur)!
      out.push(this.listing(parent).nameOf(cur)!)
      cur = parent
    }
    return out.reverse()
  }

  isLive(id: string): boolean {
    this.sync()
    return this.liveNow(id)
  }

  /**
   * Where the node hangs in the resolved forest even if it is not live (a tombstoned ancestor);
   * undefined for the root and unknown ids. For diagnostics and tests.
   */
  effectiveParent(id: string): string | undefined {
    this.sync()
    return this.structure.parentOf(id)
  }

  /** Whether the node has a tombstone of its own (shown anyway if an edit or a survivor outlived it). */
  isTombstoned(id: string): boolean {
    this.sync()
    return this.mirror.tombs.has(id)
  }

  /**
   * Tombstoned nodes shown again since the last call (an edit their deletes had not seen, or a
   * survivor inside), parents first. Found as changes are folded in: call it after each change.
   */
  takeRevived(): Revival[] {
    this.sync()
    return this.survival.take().filter((r) => this.liveNow(r.id))
  }

  // ---- internals ---------------------------------------------------------------------------

  /** Folds changed keys into the mirrors, the resolved structure and the cached listings. */
  private sync(): void {
    if (!this.mirror.dirty) return
    const { rebuild, added } = this.mirror.fold(this.touched, this.vitals, (id) => this.structure.wasMissing(id))
    if (rebuild || !this.structure.tryAppend(added)) {
      this.structure.rebuild()
      this.survival.rebuild()
      this.listings.clear()
      this.listedIn.clear()
    } else {
      this.survival.settle(this.vitals)
      for (const id of this.touched) this.relist(id)
    }
    this.touched.clear()
    this.vitals.clear()
  }

  /** Takes a changed node out of the listing it was in and into its current group's listing. */
  private relist(id: string): void {
    const was = this.listedIn.get(id)
    if (was !== undefined) {
      if (this.listings.get(was)!.tryRemove(id)) this.listedIn.delete(id)
      else this.dropListing(was)
    }
    const rec = this.mirror.recs.get(id)
    const dir = this.structure.parentOf(id)
    if (rec === undefined || dir === undefined || !this.survival.holdsSurvivor(id)) return
    const listing = this.listings.get(dir)
    if (listing === undefined) return
    if (listing.tryAdd({ id, name: rec.name, named: rec.named })) this.listedIn.set(id, dir)
    else this.dropListing(dir)
  }

  private dropListing(dir: string): void {
    const listing = this.listings.get(dir)
    if (listing === undefined) return
    for (const id of listing.ids()) this.listedIn.delete(id)
    this.listings.delete(dir)
  }

  /** Shown: it holds a survivor (then so does every ancestor) and hangs under the root. */
  private liveNow(id: string): boolean {
    if (!this.survival.holdsSurvivor(id)) return false
    for (let cur: string | undefined = id; cur !== ROOT; cur = this.structure.parentOf(cur)) {
      if (cur === undefined || !this.mirror.recs.has(cur)) return false
    }
    return true
  }

  private kindOf(id: string): Kind | undefined {
    return id === ROOT ? 'group' : this.mirror.recs.get(id)?.kind
  }

  /** A live, non-root node's record; ENOENT if not live, EINVAL for the root. */
  private requireNode(id: string): NodeRec {
    if (id === ROOT) throw new TreeError('EINVAL', 'the root cannot be renamed, moved or removed')
    if (!this.liveNow(id)) throw new TreeError('ENOENT', `no node ${id}`)
    return this.mirror.recs.get(id)!
  }

  private requireGroup(id: string): void {
    if (!this.liveNow(id)) throw new TreeError('ENOENT', `no node ${id}`)
    if (this.kindOf(id) !== 'group') throw new TreeError('ENOTDIR', `${id} is not a group`)
  }

  /** A rename or move: rewrites the record, and counts as an edit. */
  private write(id: string, rec: NodeRec): void {
    this.doc.transact(() => {
      this.maps.t.set(id, encodeRec(rec))
      this.bump(id)
    }, this)
    this.mirror.queueNode(id)
  }

  /** One more edit by this writer: last in the write's transaction, so holding it means holding the edit. */
  private bump(id: string): void {
    if (id === ROOT) return
    const key = metaKey(id, this.writer)
    const n = this.maps.v.get(key)
    this.maps.v.set(key, (isCounter(n) ? n : 0) + 1)
    this.mirror.queueVersion(key)
  }

  private listing(dir: string): Listing {
    const cached = this.listings.get(dir)
    if (cached !== undefined) return cached
    const siblings: Sibling[] = []
    for (const id of this.structure.childrenOf(dir)) {
      if (!this.survival.holdsSurvivor(id)) continue
      const rec = this.mirror.recs.get(id)!
      siblings.push({ id, name: rec.name, named: rec.named })
      this.listedIn.set(id, dir)
    }
    const listing = new Listing(siblings)
    this.listings.set(dir, listing)
    return listing
  }

  private node(id: string, parentId: string | undefined, name: string, rec: NodeRec | undefined): TreeNode {
    const kind = rec?.kind ?? 'group'
    const chmod = this.maps.m.get(id)
    const mode = isMode(chmod) ? chmod : (rec?.mode ?? DEFAULT_MODE[kind])
    const meta: Record<string, string> = {}
    for (const key of [...(this.mirror.metaKeys.get(id) ?? [])].sort(compareIds)) {
      const v = this.maps.x.get(metaKey(id, key))
      if (typeof v === 'string') meta[key] = v
    }
    return { id, parentId, name, storedName: rec?.name ?? '', kind, mode, meta }
  }
}
