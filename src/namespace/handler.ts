// A replicated namespace as a handler: directories are groups, files are resources, all held in
// the namespace's tree doc. Paths are resolved to stable ids on every call, so a group moved by
// `mv` (nest/unnest) keeps its id, its subtree and its history.
//
// `TreeHandler` has the POSIX verbs over the tree; its parts do the rest: content-writer.ts
// (stored content, read and written), open-copies.ts (what writers share, and publishing it),
// revival.ts (an editor's backup waiting for its new file), xattrs.ts. `ReplicatedHandler`, what
// callers mount, is the tree handler under the ignored-file overlay (local-overlay.ts).

import { TreeDoc, type TreeNode } from '../model/tree/tree.js'
import { fsError } from '../vfs/errors.js'
import type { AttrChanges, Caller, Handler, OpenFile, OpenFlags, Stat, XattrSetMode } from '../vfs/handler.js'
import { splitPath } from '../vfs/path.js'
import type { NamespaceReplica } from '../replica/replica.js'
import { CHUNK, EMPTY_READER, META, TEXT_MAX, type ContentReader } from '../model/content.js'
import { readerOpen, WritableFile } from './resource-file.js'
import { WorkingCopy } from './working-copy.js'
import { ContentWriter, emptyContent } from './content-writer.js'
import { OpenCopies } from './open-copies.js'
import { ReadBases } from './read-bases.js'
import { RevivalWindow } from './revival.js'
import { NamespaceXattrs } from './xattrs.js'
import type { ServedVersions } from './served-versions.js'
import { changeTree } from './tree-change.js'
import { IGNORE_FILE, IgnoreList } from './ignore.js'
import { LocalOverlay, type LocalSource, type TrackedNamespace } from './local-overlay.js'
import type { LocalArea } from './local-area.js'

const ROOT = TreeDoc.ROOT

export interface NamespaceHooks {
  /** `rmdir` of the namespace itself, which is empty: delete it. */
  removeNamespace(): Promise<void>
  /** Throws EACCES unless this node may change the namespace itself (`what` it would do). */
  requireAdmin?(what: string): void
  /** Which version of each binary is served (served-versions.ts); the node shows its transfers. */
  served?: ServedVersions
}

export class TreeHandler implements Handler, TrackedNamespace {
  readonly kind = 'replicated'
  private readonly content: ContentWriter
  /** Working copies of resources open for writing on this node. */
  private readonly copies: OpenCopies
  /** Resources renamed to an ignored name (an editor's backup), hidden until revived or removed. */
  private readonly revival: RevivalWindow
  private readonly xattrs: NamespaceXattrs
  /** What each process last read of each text resource: its merge base when it rewrites it. */
  private readonly bases = new ReadBases()
  private ignores: { ref: string | undefined; list: IgnoreList } | undefined

  constructor(
    readonly replica: NamespaceReplica,
    private readonly hooks: NamespaceHooks,
  ) {
    this.content = new ContentWriter(replica, hooks.served, (copy, mine) => this.bases.remember(copy.rewriter, copy.id, mine))
    this.copies = new OpenCopies(replica, this.content)
    this.revival = new RevivalWindow(
      (id) => this.tree.isLive(id),
      (id) => this.change(id, (t) => t.remove(id)),
    )
    this.xattrs = new NamespaceXattrs(replica, (what) => hooks.requireAdmin?.(what))
  }

  get source(): string {
    return `namespace ${this.replica.info.alias} (${this.replica.id})`
  }

  private get tree(): TreeDoc {
    return this.replica.tree
  }

  async stat(path: string): Promise<Stat> {
    return this.statOf(this.node(path))
  }

  async list(path: string): Promise<string[]> {
    const node = this.node(path)
    if (node.kind !== 'group') throw fsError('ENOTDIR', `${path} is not a group`)
    return this.tree
      .children(node.id)
      .filter((c) => !this.revival.isHidden(c.id))
      .map((c) => c.name)
  }

  async open(path: string, flags: OpenFlags): Promise<OpenFile> {
    const node = this.node(path)
    if (node.kind === 'group') throw fsError('EISDIR', `${path} is a group`)
    if (!flags.write) {
      const { reader, text } = this.copies.served(node)
      if (text !== undefined) this.bases.remember(flags.caller?.pid, node.id, text)
      return readerOpen(reader)
    }
    const copy = this.copies.shared(node)
    if (flags.truncate) this.rewrite(copy, node, flags.caller).truncate(0)
    return new WritableFile(copy, flags, this.copies)
  }

  async create(path: string, mode: number, flags: OpenFlags): Promise<OpenFile> {
    const { parent, name } = this.parentAndName(path)
    const revived = this.revival.revive(parent, name)
    if (revived) {
      if (this.tree.get(revived).mode !== mode) this.change(path, (t) => t.setMode(revived, mode))
      const node = this.tree.get(revived)
      const copy = this.rewrite(this.copies.shared(node), node, flags.caller)
      copy.truncate(0)
      return new WritableFile(copy, flags, this.copies)
    }
    const id = this.change(path, (t) => t.create(parent, name, 'file', mode, emptyContent()))
    const copy = new WorkingCopy(id, EMPTY_READER, this.replica.store)
    this.copies.add(copy)
    return new WritableFile(copy, flags, this.copies)
  }

  async mkdir(path: string, mode: number): Promise<void> {
    const { parent, name } = this.parentAndName(path)
    this.change(path, (t) => t.create(parent, name, 'group', mode))
  }

  async unlink(path: string): Promise<void> {
    const node = this.node(path)
    if (node.kind === 'group') throw fsError('EISDIR', `${path} is a group`)
    this.change(path, (t) => t.remove(node.id))
  }

  async rmdir(path: string): Promise<void> {
    const node = this.node(path)
    if (node.kind !== 'group') throw fsError('ENOTDIR', `${path} is not a group`)
    if (this.tree.children(node.id).length > 0) {
      throw fsError('ENOTEMPTY', node.id === ROOT ? `namespace ${this.replica.info.alias} is not empty` : `${path} is not empty`)
    }
    if (node.id === ROOT) return this.hooks.removeNamespace()
    this.change(path, (t) => t.remove(node.id))
  }

  /**
   * POSIX rename: replaces a resource or an empty group at `to`; moving a group nests it.
   * Renaming a resource over another one (an editor's atomic save: write a temp file, rename it
   * over the original) keeps the original's identity: the new content is applied to it as an
   * edit, so its id and history stay and a concurrent edit elsewhere still merges.
   */
  async rename(from: string, to: string, caller?: Caller): Promise<void> {
    const src = this.node(from)
    if (src.id === ROOT) throw fsError('EBUSY', 'the namespace root cannot be moved inside itself')
    const { parent, name } = this.parentAndName(to)
    const existingId = this.revival.revive(parent, name) ?? this.visibleLookup(parent, name)
    if (existingId === src.id) return
    const existing = existingId === undefined ? undefined : this.tree.get(existingId)
    if (existing) {
      if (src.kind === 'group' && existing.kind !== 'group') throw fsError('ENOTDIR', `${to} is not a group`)
      if (src.kind !== 'group' && existing.kind === 'group') throw fsError('EISDIR', `${to} is a group`)
      if (existing.kind === 'group' && this.tree.children(existing.id).length > 0) throw fsError('ENOTEMPTY', `${to} is not empty`)
    }
    if (existing?.kind === 'file' && src.kind === 'file') return this.saveOver(src, existing, `${from} -> ${to}`, caller)
    this.change(`${from} -> ${to}`, (t) => {
      if (existing) t.remove(existing.id)
      t.move(src.id, parent, name)
    })
  }

  async setattr(path: string, c: AttrChanges): Promise<void> {
    const node = this.node(path)
    if (c.mode !== undefined) this.change(path, (t) => t.setMode(node.id, c.mode! & 0o7777))
    if (c.size !== undefined) {
      if (node.kind !== 'file') throw fsError(node.kind === 'group' ? 'EISDIR' : 'EINVAL', `truncate ${path}`)
      // A truncate by path acts on the bytes local writers share (O_TRUNC arrives this way).
      const copy = this.copies.get(node.id) ?? this.content.copyOf(node)
      copy.truncate(c.size)
      this.copies.publish(copy)
    }
    if (c.mtimeMs !== undefined && node.kind === 'file') {
      // `cp -p` and `tar x` set the times while the file is still open with its writes unpublished:
      // publish them now, so the close that follows has nothing left to stamp with the current time.
      const open = this.copies.get(node.id)
      if (open) this.copies.publish(open)
      this.change(path, (t) => this.content.stamp(t, node.id, Math.floor(c.mtimeMs! / 1000)))
    }
    // uid/gid: every resource shows as owned by the mounting user; a chown is accepted and has
    // no effect, as on other single-owner file systems (vfat, sshfs).
  }

  async symlink(target: string, path: string): Promise<void> {
    if (Buffer.byteLength(target) > 1024) throw fsError('ENAMETOOLONG', 'symlink targets are limited to 1024 bytes here')
    const { parent, name } = this.parentAndName(path)
    this.change(path, (t) => t.create(parent, name, 'symlink', 0o777, { [META.target]: target }))
  }

  async readlink(path: string): Promise<string> {
    const node = this.node(path)
    if (node.kind !== 'symlink') throw fsError('EINVAL', `${path} is not a symlink`)
    return node.meta[META.target] ?? ''
  }

  async getxattr(path: string, name: string): Promise<Buffer> {
    return this.xattrs.get(this.node(path), name)
  }

  async listxattr(path: string): Promise<string[]> {
    return this.xattrs.list(this.node(path))
  }

  async setxattr(path: string, name: string, value: Buffer, mode: XattrSetMode): Promise<void> {
    this.xattrs.set(this.node(path), path, name, value, mode)
  }

  async removexattr(path: string, name: string): Promise<void> {
    this.xattrs.remove(this.node(path), path, name)
  }

  /** Unmount: settle what waits for a revival, so the namespace says what the user did. */
  async close(): Promise<void> {
    this.revival.settle()
  }

  /** Every blob the live resources of this namespace refer to: manifests and their chunks. */
  referencedBlobs(into: Set<string> = new Set()): Set<string> {
    const walk = (id: string) => {
      for (const child of this.tree.children(id)) {
        if (child.kind === 'group') walk(child.id)
        else if (child.kind === 'file') this.content.addBlobsOf(child, into)
      }
    }
    walk(ROOT)
    this.copies.addSpilled(into)
    return into
  }

  // ---- what the ignored-file overlay asks (local-overlay.ts) ---------------------------------

  ignoreList(): IgnoreList {
    const fileId = this.tree.lookup(ROOT, IGNORE_FILE)
    const node = fileId === undefined ? undefined : this.tree.find(fileId)
    const ref = node?.kind === 'file' ? node.meta[META.content] : undefined
    if (!this.ignores || this.ignores.ref !== ref) {
      const text = node?.kind === 'file' ? this.content.reader(node).read(0, TEXT_MAX).toString('utf8') : undefined
      this.ignores = { ref, list: IgnoreList.fromFile(text) }
    }
    return this.ignores.list
  }

  requireGroup(segments: string[]): void {
    const id = this.tree.resolvePath(segments)
    if (id === undefined || this.revival.isHidden(id) || this.tree.get(id).kind !== 'group') {
      throw fsError('ENOENT', `/${segments.join('/')} does not exist in namespace ${this.replica.info.alias}`)
    }
  }

  async adopt(to: string, source: LocalSource, caller?: Caller): Promise<void> {
    const { parent, name } = this.parentAndName(to)
    const targetId = this.revival.revive(parent, name) ?? this.visibleLookup(parent, name)
    const target = targetId === undefined ? undefined : this.tree.get(targetId)
    if (target?.kind === 'group') throw fsError('EISDIR', `${to} is a group`)
    const id = target?.id ?? this.change(to, (t) => t.create(parent, name, 'file', source.mode, emptyContent()))
    // The local file's bytes are the whole new content: a rewrite of what its writer read.
    const node = this.tree.get(id)
    const copy = this.rewrite(this.copies.get(id) ?? this.content.copyOf(node), node, caller)
    copy.truncate(0)
    for (let at = 0; at < source.size; at += CHUNK) copy.write(await source.read(at, Math.min(CHUNK, source.size - at)), at)
    const published = this.change(to, (t) => {
      const reader = this.content.write(t, id, copy)
      if (this.tree.get(id).mode !== source.mode) t.setMode(id, source.mode)
      return reader
    })
    copy.rebase(published)
  }

  async detach(from: string, keep: (mode: number, content: ContentReader) => Promise<void>): Promise<void> {
    const node = this.node(from)
    if (node.kind !== 'file') throw fsError('EXDEV', `${from} is a ${node.kind}: it cannot become an ignored, local file`)
    await keep(node.mode, this.copies.current(node))
    this.revival.hold(node.parentId!, node.name, node.id) // a file always hangs in a group
  }

  // ---- stock Yjs clients (net/yws-endpoint.ts) ------------------------------------------------

  /**
   * Whether `id` is a live resource whose content is its Y.Text, or still empty. One hidden
   * while an editor saves (renamed to its backup name, waiting to be revived) still is.
   */
  isTextResource(id: string): boolean {
    if (!this.tree.isLive(id)) return false
    const node = this.tree.get(id)
    return node.kind === 'file' && this.content.ref(node).kind !== 'b'
  }

  /**
   * A client edited the Y.Text of `id` directly: record the text as the resource's content, with
   * its size and mtime, as a save through the mount would (peers learn both from the tree).
   */
  recordTextEdit(id: string): void {
    if (!this.isTextResource(id)) return
    this.change(id, (t) => this.content.recordText(t, id))
  }

  // ---- internals ---------------------------------------------------------------------------

  /**
   * A whole-file rewrite of `node` by `caller` (O_TRUNC, an editor's new file of the old name, a
   * temp file renamed over it): the writer's bytes are its edit of what *it* last read, so that
   * is the merge base, and edits that reached this node since then (a peer's) stay. A writer
   * that never read the file overwrites the version current when `copy` was made.
   */
  private rewrite(copy: WorkingCopy, node: TreeNode, caller: Caller | undefined): WorkingCopy {
    const base = this.bases.baseOf(caller?.pid, node.id)
    // Unpublished bytes of another local writer are what its base describes: leave that alone.
    if (base !== undefined && !copy.dirty && this.content.isText(node)) copy.baseText = base
    copy.rewriter = caller?.pid
    return copy
  }

  /** The atomic save: `src`'s content and mode go to `dst`, which keeps its id; `src` goes. */
  private saveOver(src: TreeNode, dst: TreeNode, what: string, caller: Caller | undefined): void {
    const srcOpen = this.copies.get(src.id)
    if (srcOpen?.dirty) this.copies.publish(srcOpen)
    const srcNow = this.tree.get(src.id)
    const dstCopy = this.rewrite(this.copies.get(dst.id) ?? this.content.copyOf(dst), dst, caller)
    const published = this.change(what, (t) => {
      const reader = this.content.writeOver(t, srcNow, dst.id, dstCopy)
      if (srcNow.mode !== dst.mode) t.setMode(dst.id, srcNow.mode)
      t.remove(src.id)
      return reader
    })
    dstCopy.rebase(published)
  }

  private node(path: string): TreeNode {
    const id = this.tree.resolvePath(splitPath(path))
    if (id === undefined || this.revival.isHidden(id))
      throw fsError('ENOENT', `${path} does not exist in namespace ${this.replica.info.alias}`)
    return this.tree.get(id)
  }

  private visibleLookup(parent: string, name: string): string | undefined {
    const id = this.tree.lookup(parent, name)
    return id === undefined || this.revival.isHidden(id) ? undefined : id
  }

  private parentAndName(path: string): { parent: string; name: string } {
    const segs = splitPath(path)
    const name = segs.pop()
    if (name === undefined) throw fsError('EEXIST', 'the namespace root exists')
    const parent = this.tree.resolvePath(segs)
    if (parent === undefined) throw fsError('ENOENT', `/${segs.join('/')} does not exist`)
    if (this.tree.get(parent).kind !== 'group') throw fsError('ENOTDIR', `/${segs.join('/')} is not a group`)
    return { parent, name }
  }

  private change<T>(what: string, fn: (t: TreeDoc) => T): T {
    return changeTree(this.replica, what, fn)
  }

  private statOf(node: TreeNode): Stat {
    const t = this.replica.info.createdMs
    if (node.kind === 'group') return { kind: 'dir', mode: node.mode, size: 0, atimeMs: t, mtimeMs: t, ctimeMs: t, nlink: 2 }
    if (node.kind === 'symlink') {
      return {
        kind: 'symlink',
        mode: 0o777,
        size: Buffer.byteLength(node.meta[META.target] ?? ''),
        atimeMs: t,
        mtimeMs: t,
        ctimeMs: t,
        nlink: 1,
      }
    }
    const ref = this.content.servedRef(node)
    const mtimeMs = ref.mtimeSec * 1000
    // The size of what a read serves now (open-copies.ts `served`): local writers' unpublished
    // bytes, else the published content - for a text, its text now, whatever the tree recorded.
    const open = this.copies.get(node.id)
    const size = open?.dirty ? open.length : ref.kind === 't' ? this.replica.textSize(node.id, ref.size) : ref.size
    return { kind: 'file', mode: node.mode, size, atimeMs: mtimeMs, mtimeMs, ctimeMs: mtimeMs, nlink: 1 }
  }
}

/**
 * What callers construct and mount: the tree handler under the ignored-file overlay, which
 * serves editor junk from `local` (without it, every name is tracked).
 */
export class ReplicatedHandler extends LocalOverlay<TreeHandler> {
  constructor(replica: NamespaceReplica, hooks: NamespaceHooks, local?: LocalArea) {
    super(new TreeHandler(replica, hooks), local)
  }

  get replica(): NamespaceReplica {
    return this.tracked.replica
  }

  isTextResource(id: string): boolean {
    return this.tracked.isTextResource(id)
  }

  recordTextEdit(id: string): void {
    this.tracked.recordTextEdit(id)
  }

  referencedBlobs(into?: Set<string>): Set<string> {
    return this.tracked.referencedBlobs(into)
  }
}
