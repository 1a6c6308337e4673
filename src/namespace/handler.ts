// A replicated namespace as a handler: directories are groups, files are resources, all held in
// the namespace's tree doc. Paths are resolved to stable ids on every call, so a group moved by
// `mv` (nest/unnest) keeps its id, its subtree and its history.

import { TreeDoc, type TreeNode } from '../model/tree/tree.js'
import { checkDescription, checkUpgradePolicy, updateNamespaceInfo } from '../model/namespace-info.js'
import { fsError, toFsError } from '../vfs/errors.js'
import type { AttrChanges, Handler, OpenFile, OpenFlags, Stat, XattrSetMode } from '../vfs/handler.js'
import { splitPath } from '../vfs/path.js'
import { checkUserXattr } from '../handlers/xattr-map.js'
import type { NamespaceReplica } from '../replica/replica.js'
import { applyTextContent } from '../replica/apply-text.js'
import { mergeText } from '../text/merge.js'
import { isStrictText } from '../text/utf8.js'
import {
  bufferReader,
  CHUNK,
  decodeContentRef,
  decodeManifest,
  EMPTY_READER,
  META,
  encodeContentRef,
  encodeManifest,
  isZero,
  manifestReader,
  TEXT_MAX,
  type ContentReader,
  type ContentRef,
  type Manifest,
} from '../model/content.js'
import { readerOpen, WritableFile, type Publisher } from './resource-file.js'
import { WorkingCopy } from './working-copy.js'
import { BlobCache } from './blob-cache.js'
import { IGNORE_FILE, IgnoreList } from './ignore.js'
import type { LocalArea } from './local-area.js'

const ROOT = TreeDoc.ROOT

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })
/** User xattrs live in tree metadata under this prefix (keys are limited to 64 bytes). */
const XATTR_PREFIX = 'x.'
const XATTR_NAME_MAX = 64 - XATTR_PREFIX.length

/** Attributes meshfs shows on every node; the writable ones are on the namespace root. */
const ATTR = {
  id: 'user.meshfs.id',
  kind: 'user.meshfs.kind',
  alias: 'user.meshfs.alias',
  application: 'user.meshfs.application',
  policy: 'user.meshfs.upgrade_policy',
  description: 'user.meshfs.description',
} as const

export interface NamespaceHooks {
  /** `rmdir` of the namespace itself, which is empty: delete it. */
  removeNamespace(): Promise<void>
  /** Throws EACCES unless this node may change the namespace itself (`what` it would do). */
  requireAdmin?(what: string): void
}

/**
 * How long a resource renamed to an ignored name (vim's `foo` -> `foo~` backup) waits for a new
 * file of its old name: when one comes, it *is* the resource again (same id, the new content an
 * edit); when none comes in time, the resource is removed from the namespace.
 */
const REVIVE_WINDOW_MS = 10_000

export class ReplicatedHandler implements Handler, Publisher {
  readonly kind = 'replicated'
  /** Working copies of resources open for writing on this node, by id. */
  private readonly copies = new Map<string, WorkingCopy>()
  /** Resources renamed to an ignored name, hidden here until revived or removed: by parent/name. */
  private readonly detached = new Map<string, { id: string; timer: NodeJS.Timeout }>()
  private readonly hidden = new Set<string>()
  private ignoreCache: { ref: string | undefined; list: IgnoreList } | undefined
  /**
   * The text this node last served of each text resource: what a local editor most likely read
   * before saving through a temporary file, so the save is merged from there (a few kept).
   */
  private readonly lastRead = new Map<string, string>()
  /** 32 MiB of recently read chunks, shared by every open of this namespace. */
  private readonly chunks = new BlobCache(32 << 20, (h) => this.replica.store.getBlob(h))

  constructor(
    readonly replica: NamespaceReplica,
    private readonly hooks: NamespaceHooks,
    private readonly local?: LocalArea,
  ) {}

  get source(): string {
    return `namespace ${this.replica.info.alias} (${this.replica.id})`
  }

  private get tree(): TreeDoc {
    return this.replica.tree
  }

  async stat(path: string): Promise<Stat> {
    const local = this.localFor(path)
    if (local) return local.stat(path)
    return this.statOf(this.node(path))
  }

  async list(path: string): Promise<string[]> {
    const local = this.localFor(path)
    if (local) return local.list(path)
    const node = this.node(path)
    if (node.kind !== 'group') throw fsError('ENOTDIR', `${path} is not a group`)
    const names = this.tree.children(node.id).filter((c) => !this.hidden.has(c.id)).map((c) => c.name)
    if (!this.local) return names
    const ignore = this.ignoreList()
    const taken = new Set(names)
    const junk = (await this.local.names(path)).filter((n) => ignore.matches(n) && !taken.has(n))
    return names.concat(junk)
  }

  async open(path: string, flags: OpenFlags): Promise<OpenFile> {
    const local = this.localFor(path)
    if (local) return local.open(path, flags)
    const node = this.node(path)
    if (node.kind === 'group') throw fsError('EISDIR', `${path} is a group`)
    if (!flags.write) {
      const open = this.copies.get(node.id)
      return readerOpen(open?.dirty ? bufferReader(open.contents()) : this.reader(node))
    }
    const copy = this.workingCopy(node)
    if (flags.truncate) copy.truncate(0)
    return new WritableFile(copy, flags, this)
  }

  async create(path: string, mode: number, flags: OpenFlags): Promise<OpenFile> {
    const local = this.localFor(path, true)
    if (local) return local.create(path, mode, flags)
    const { parent, name } = this.parentAndName(path)
    const revived = this.revive(parent, name)
    if (revived) {
      if (this.tree.get(revived).mode !== mode) this.change(path, (t) => t.setMode(revived, mode))
      const copy = this.workingCopy(this.tree.get(revived))
      copy.truncate(0)
      return new WritableFile(copy, flags, this)
    }
    const ref = encodeContentRef({ kind: 'e', size: 0, mtimeSec: nowSec() })
    const id = this.change(path, (t) => t.create(parent, name, 'file', mode, { [META.content]: ref }))
    const copy = new WorkingCopy(id, EMPTY_READER, this.replica.store)
    this.copies.set(id, copy)
    return new WritableFile(copy, flags, this)
  }

  async mkdir(path: string, mode: number): Promise<void> {
    const local = this.localFor(path, true)
    if (local) return local.mkdir(path, mode)
    const { parent, name } = this.parentAndName(path)
    this.change(path, (t) => t.create(parent, name, 'group', mode))
  }

  async unlink(path: string): Promise<void> {
    const local = this.localFor(path)
    if (local) return local.unlink(path)
    const node = this.node(path)
    if (node.kind === 'group') throw fsError('EISDIR', `${path} is a group`)
    this.change(path, (t) => t.remove(node.id))
  }

  async rmdir(path: string): Promise<void> {
    const local = this.localFor(path)
    if (local) return local.rmdir(path)
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
  async rename(from: string, to: string): Promise<void> {
    const fromLocal = this.localFor(from)
    const toLocal = this.localFor(to, true)
    if (fromLocal && toLocal) return fromLocal.rename(from, to)
    if (fromLocal) return this.adoptLocal(from, to)
    if (toLocal) return this.detach(from, to)
    const src = this.node(from)
    if (src.id === ROOT) throw fsError('EBUSY', 'the namespace root cannot be moved inside itself')
    const { parent, name } = this.parentAndName(to)
    const revived = this.revive(parent, name)
    const existingId = revived ?? this.visibleLookup(parent, name)
    if (existingId === src.id) return
    const existing = existingId === undefined ? undefined : this.tree.get(existingId)
    if (existing) {
      if (src.kind === 'group' && existing.kind !== 'group') throw fsError('ENOTDIR', `${to} is not a group`)
      if (src.kind !== 'group' && existing.kind === 'group') throw fsError('EISDIR', `${to} is a group`)
      if (existing.kind === 'group' && this.tree.children(existing.id).length > 0) throw fsError('ENOTEMPTY', `${to} is not empty`)
    }
    if (existing?.kind === 'file' && src.kind === 'file') return this.saveOver(src, existing, `${from} -> ${to}`)
    this.change(`${from} -> ${to}`, (t) => {
      if (existing) t.remove(existing.id)
      t.move(src.id, parent, name)
    })
  }

  async setattr(path: string, c: AttrChanges): Promise<void> {
    const local = this.localFor(path)
    if (local) return local.setattr(path, c)
    const node = this.node(path)
    if (c.mode !== undefined) this.change(path, (t) => t.setMode(node.id, c.mode! & 0o7777))
    if (c.size !== undefined) {
      if (node.kind !== 'file') throw fsError(node.kind === 'group' ? 'EISDIR' : 'EINVAL', `truncate ${path}`)
      // A truncate by path acts on the bytes local writers share (O_TRUNC arrives this way).
      const open = this.copies.get(node.id)
      const copy = open ?? this.newCopy(node)
      copy.truncate(c.size)
      this.publish(copy)
    }
    if (c.mtimeMs !== undefined && node.kind === 'file') {
      // `cp -p` and `tar x` set the times while the file is still open with its writes unpublished:
      // publish them now, so the close that follows has nothing left to stamp with the current time.
      const open = this.copies.get(node.id)
      if (open) this.publish(open)
      const ref = { ...this.contentRef(this.tree.get(node.id)), mtimeSec: Math.floor(c.mtimeMs / 1000) }
      this.change(path, (t) => t.setMeta(node.id, META.content, encodeContentRef(ref)))
    }
    // uid/gid: every resource shows as owned by the mounting user; a chown is accepted and has
    // no effect, as on other single-owner file systems (vfat, sshfs).
  }

  async symlink(target: string, path: string): Promise<void> {
    const local = this.localFor(path, true)
    if (local) return local.symlink(target, path)
    if (Buffer.byteLength(target) > 1024) throw fsError('ENAMETOOLONG', 'symlink targets are limited to 1024 bytes here')
    const { parent, name } = this.parentAndName(path)
    this.change(path, (t) => t.create(parent, name, 'symlink', 0o777, { [META.target]: target }))
  }

  async readlink(path: string): Promise<string> {
    const local = this.localFor(path)
    if (local) return local.readlink(path)
    const node = this.node(path)
    if (node.kind !== 'symlink') throw fsError('EINVAL', `${path} is not a symlink`)
    return node.meta[META.target] ?? ''
  }

  async getxattr(path: string, name: string): Promise<Buffer> {
    if (this.localFor(path)) throw fsError('ENODATA', `no attribute ${name} (an ignored, local file)`)
    const node = this.node(path)
    const shown = this.shownAttrs(node)
    if (Object.hasOwn(shown, name)) return Buffer.from(shown[name]!)
    const stored = name.startsWith('user.') ? node.meta[XATTR_PREFIX + name.slice(5)] : undefined
    if (stored === undefined) throw fsError('ENODATA', `no attribute ${name}`)
    return Buffer.from(stored, 'base64')
  }

  async listxattr(path: string): Promise<string[]> {
    if (this.localFor(path)) return []
    const node = this.node(path)
    const stored = Object.keys(node.meta)
      .filter((k) => k.startsWith(XATTR_PREFIX))
      .map((k) => 'user.' + k.slice(XATTR_PREFIX.length))
    return [...Object.keys(this.shownAttrs(node)), ...stored]
  }

  async setxattr(path: string, name: string, value: Buffer, mode: XattrSetMode): Promise<void> {
    if (this.localFor(path)) throw fsError('ENOTSUP', 'ignored, local files keep no attributes')
    const node = this.node(path)
    if (name === ATTR.policy || name === ATTR.description) {
      if (node.id !== ROOT) throw fsError('ENOTSUP', `${name} belongs to the namespace root`)
      this.hooks.requireAdmin?.(`change ${name}`)
      if (mode === 'create') throw fsError('EEXIST', `${name} exists`)
      const text = value.toString('utf8')
      this.change(path, () =>
        updateNamespaceInfo(this.replica.doc, name === ATTR.policy ? { upgradePolicy: checkUpgradePolicy(text) } : { description: checkDescription(text) }),
      )
      return
    }
    if (name.startsWith('user.meshfs.')) throw fsError('EPERM', `${name} is read-only`)
    checkUserXattr(name)
    const key = name.slice(5)
    if (Buffer.byteLength(key) > XATTR_NAME_MAX) throw fsError('ERANGE', `attribute names here are limited to ${XATTR_NAME_MAX + 5} bytes`)
    const encoded = value.toString('base64')
    if (encoded.length > 1024) throw fsError('E2BIG', 'attribute values here are limited to 768 bytes')
    const exists = node.meta[XATTR_PREFIX + key] !== undefined
    if (mode === 'create' && exists) throw fsError('EEXIST', `attribute ${name} exists`)
    if (mode === 'replace' && !exists) throw fsError('ENODATA', `no attribute ${name}`)
    this.change(path, (t) => t.setMeta(node.id, XATTR_PREFIX + key, encoded))
  }

  async removexattr(path: string, name: string): Promise<void> {
    if (this.localFor(path)) throw fsError('ENODATA', `no attribute ${name}`)
    const node = this.node(path)
    if (name.startsWith('user.meshfs.')) throw fsError('EPERM', `${name} cannot be removed`)
    const key = XATTR_PREFIX + name.slice(5)
    if (!name.startsWith('user.') || node.meta[key] === undefined) throw fsError('ENODATA', `no attribute ${name}`)
    this.change(path, (t) => t.setMeta(node.id, key, undefined))
  }

  /** Unmount: settle what waits for a revival, so the namespace says what the user did. */
  async close(): Promise<void> {
    for (const [key, { id, timer }] of this.detached) {
      clearTimeout(timer)
      this.detached.delete(key)
      this.removeDetached(id)
    }
  }

  /** Every blob the live resources of this namespace refer to: manifests and their chunks. */
  referencedBlobs(into: Set<string> = new Set()): Set<string> {
    const walk = (id: string) => {
      for (const child of this.tree.children(id)) {
        if (child.kind === 'group') walk(child.id)
        else if (child.kind === 'file') {
          const ref = this.contentRef(child)
          if (ref.kind !== 'b') continue
          into.add(ref.manifest!)
          const bytes = this.replica.store.getBlob(ref.manifest!)
          if (bytes) for (const c of decodeManifest(bytes, ref.manifest!).chunks) if (c) into.add(c)
        }
      }
    }
    walk(ROOT)
    for (const copy of this.copies.values()) for (const h of copy.spilledHashes()) into.add(h)
    return into
  }

  // ---- ignored files ---------------------------------------------------------------------------

  private ignoreList(): IgnoreList {
    const fileId = this.tree.lookup(ROOT, IGNORE_FILE)
    const node = fileId === undefined ? undefined : this.tree.find(fileId)
    const ref = node?.kind === 'file' ? node.meta[META.content] : undefined
    if (!this.ignoreCache || this.ignoreCache.ref !== ref) {
      const text = node?.kind === 'file' ? this.reader(node).read(0, TEXT_MAX).toString('utf8') : undefined
      this.ignoreCache = { ref, list: IgnoreList.fromFile(text) }
    }
    return this.ignoreCache.list
  }

  /**
   * The local area's handler when `path` is ignored (a name on it matches the ignore list), after
   * checking that the tracked part above it exists; `creating` also makes its folders there.
   */
  private localFor(path: string, creating = false): LocalArea['handler'] | undefined {
    if (!this.local) return undefined
    const segs = splitPath(path)
    const ignore = this.ignoreList()
    const first = segs.findIndex((s) => ignore.matches(s))
    if (first < 0) return undefined
    const above = this.tree.resolvePath(segs.slice(0, first))
    if (above === undefined || this.hidden.has(above) || this.tree.get(above).kind !== 'group') {
      throw fsError('ENOENT', `/${segs.slice(0, first).join('/')} does not exist in namespace ${this.replica.info.alias}`)
    }
    if (creating) this.local.ensureParent(path)
    return this.local.handler
  }

  /** An ignored file renamed to a tracked name (a save through a `*.tmp` file): it joins the namespace. */
  private async adoptLocal(from: string, to: string): Promise<void> {
    const local = this.local!.handler
    const st = await local.stat(from)
    if (st.kind !== 'file') throw fsError('EXDEV', `${from} is an ignored ${st.kind}: it can only be copied into the namespace`)
    const src = await local.open(from, { read: true, write: false, append: false, truncate: false })
    const { parent, name } = this.parentAndName(to)
    const targetId = this.revive(parent, name) ?? this.visibleLookup(parent, name)
    const target = targetId === undefined ? undefined : this.tree.get(targetId)
    if (target?.kind === 'group') throw fsError('EISDIR', `${to} is a group`)
    const id = target?.id ?? this.change(to, (t) => t.create(parent, name, 'file', st.mode, { [META.content]: encodeContentRef({ kind: 'e', size: 0, mtimeSec: nowSec() }) }))
    const copy = this.copies.get(id) ?? new WorkingCopy(id, this.reader(this.tree.get(id)), this.replica.store)
    try {
      copy.truncate(0)
      for (let at = 0; at < st.size; at += CHUNK) copy.write(await src.read(at, Math.min(CHUNK, st.size - at)), at)
    } finally {
      await src.release()
    }
    const published = this.change(to, (t) => {
      const reader = this.writeContent(t, id, copy)
      if (this.tree.get(id).mode !== st.mode) t.setMode(id, st.mode)
      return reader
    })
    copy.rebase(published)
    await local.unlink(from)
  }

  /** A tracked resource renamed to an ignored name: its bytes go local, and it waits to be revived. */
  private async detach(from: string, to: string): Promise<void> {
    const node = this.node(from)
    if (node.kind !== 'file') throw fsError('EXDEV', `${from} is a ${node.kind}: it cannot become an ignored, local file`)
    const local = this.local!.handler
    const open = this.copies.get(node.id)
    const reader = open?.dirty ? bufferReader(open.contents()) : this.reader(node)
    await local.unlink(to).catch(() => undefined)
    const out = await local.create(to, node.mode, { read: true, write: true, append: false, truncate: false })
    try {
      for (let at = 0; at < reader.size; at += CHUNK) await out.write!(Buffer.from(reader.read(at, CHUNK)), at)
    } finally {
      await out.release()
    }
    const key = `${node.parentId}/${node.name}`
    this.hidden.add(node.id)
    const timer = setTimeout(() => {
      if (this.detached.get(key)?.id !== node.id) return
      this.detached.delete(key)
      this.removeDetached(node.id)
    }, REVIVE_WINDOW_MS)
    timer.unref()
    this.detached.set(key, { id: node.id, timer })
  }

  /** The detached resource waiting at parent/name, made visible again, or undefined. */
  private revive(parent: string, name: string): string | undefined {
    const key = `${parent}/${name}`
    const waiting = this.detached.get(key)
    if (!waiting) return undefined
    clearTimeout(waiting.timer)
    this.detached.delete(key)
    this.hidden.delete(waiting.id)
    return this.tree.isLive(waiting.id) ? waiting.id : undefined
  }

  private removeDetached(id: string): void {
    this.hidden.delete(id)
    // Removed elsewhere meanwhile is the same outcome; anything else is the store refusing,
    // which leaves the resource in place: visible again, nothing lost.
    if (this.tree.isLive(id)) this.change(id, (t) => t.remove(id))
  }

  private visibleLookup(parent: string, name: string): string | undefined {
    const id = this.tree.lookup(parent, name)
    return id === undefined || this.hidden.has(id) ? undefined : id
  }

  // ---- stock Yjs clients (net/yws-endpoint.ts) ------------------------------------------------

  /**
   * Whether `id` is a live resource whose content is its Y.Text, or still empty. One hidden
   * while an editor saves (renamed to its backup name, waiting to be revived) still is.
   */
  isTextResource(id: string): boolean {
    if (!this.tree.isLive(id)) return false
    const node = this.tree.get(id)
    return node.kind === 'file' && this.contentRef(node).kind !== 'b'
  }

  /**
   * A client edited the Y.Text of `id` directly: record the text as the resource's content, with
   * its size and mtime, as a save through the mount would (peers learn both from the tree).
   */
  recordTextEdit(id: string): void {
    if (!this.isTextResource(id)) return
    const size = Buffer.byteLength(this.replica.text(id).toString())
    this.change(id, (t) => t.setMeta(id, META.content, encodeContentRef({ kind: 't', size, mtimeSec: nowSec() })))
  }

  // ---- Publisher: what open files call -------------------------------------------------------

  /** Make the working copy the resource's content, stored before this returns. */
  publish(copy: WorkingCopy): void {
    if (!copy.dirty) return
    // A file unlinked while open keeps working for its holder; its content goes nowhere (POSIX).
    if (!this.tree.isLive(copy.id)) {
      copy.dirty = false
      return
    }
    const published = this.change(copy.id, (t) => this.writeContent(t, copy.id, copy))
    copy.rebase(published)
  }

  release(copy: WorkingCopy): void {
    if (this.copies.get(copy.id) === copy) this.copies.delete(copy.id)
  }

  // ---- internals ---------------------------------------------------------------------------

  private workingCopy(node: TreeNode): WorkingCopy {
    let copy = this.copies.get(node.id)
    if (!copy) this.copies.set(node.id, (copy = this.newCopy(node)))
    return copy
  }

  /**
   * A working copy of a resource. Its merge base is the text as it is now, except for an atomic
   * save (`lastRead`): the temp file was written from what the editor read earlier, which is
   * the text this node last served, so peers' edits since then are kept.
   */
  private newCopy(node: TreeNode, base: 'now' | 'lastRead' = 'now'): WorkingCopy {
    const earlier = this.lastRead.get(node.id)
    const copy = new WorkingCopy(node.id, this.reader(node), this.replica.store)
    if (this.contentRef(node).kind === 't') copy.baseText = base === 'lastRead' && earlier !== undefined ? earlier : this.lastRead.get(node.id)
    return copy
  }

  private remember(id: string, text: string): void {
    this.lastRead.delete(id)
    this.lastRead.set(id, text)
    for (const key of this.lastRead.keys()) {
      if (this.lastRead.size <= 64) break
      this.lastRead.delete(key)
    }
  }

  /**
   * Inside a tree change: store `copy`'s bytes as the content of `id`. Text becomes a minimal
   * edit of its Y.Text; anything else (or anything big) becomes chunks, reusing unchanged ones.
   */
  private writeContent(t: TreeDoc, id: string, copy: WorkingCopy): ContentReader {
    const size = copy.length
    const mtimeSec = nowSec()
    let ref: ContentRef
    let reader: ContentReader
    const small = size <= TEXT_MAX ? copy.contents() : undefined
    // An emptied text stays text (its Y.Text cleared): a client editing the Y.Text directly
    // (net/yws-endpoint.ts) must see the truncation, and its next edit must not revive the old text.
    if (size === 0 && this.contentRef(this.tree.get(id)).kind !== 't') {
      ref = { kind: 'e', size, mtimeSec }
      reader = EMPTY_READER
    } else if (small && isStrictText(small)) {
      // Replayed onto the text as it is now, so edits peers made since this copy was read stay.
      const text = this.replica.text(id)
      const mine = UTF8.decode(small)
      const merged = copy.baseText === undefined ? mine : mergeText(copy.baseText, mine, text.toString())
      applyTextContent(text, merged)
      copy.baseText = merged
      this.remember(id, merged)
      const bytes = merged === mine ? small : Buffer.from(merged, 'utf8')
      ref = { kind: 't', size: bytes.length, mtimeSec }
      reader = bufferReader(bytes)
    } else {
      const manifest: Manifest = { v: 1, size, chunk: CHUNK, chunks: [] }
      for (let i = 0; i * CHUNK < size; i++) {
        const reused = copy.reusableChunk(i)
        if (reused !== undefined) {
          manifest.chunks.push(reused)
          continue
        }
        const bytes = copy.read(i * CHUNK, Math.min(CHUNK, size - i * CHUNK))
        manifest.chunks.push(isZero(bytes) ? null : this.replica.store.putBlob(bytes))
      }
      ref = { kind: 'b', size, mtimeSec, manifest: this.replica.store.putBlob(encodeManifest(manifest)) }
      reader = manifestReader(manifest, (h) => this.chunks.get(h))
    }
    t.setMeta(id, META.content, encodeContentRef(ref))
    return reader
  }

  /** The atomic save: `src`'s content and mode go to `dst`, which keeps its id; `src` goes. */
  private saveOver(src: TreeNode, dst: TreeNode, what: string): void {
    const srcOpen = this.copies.get(src.id)
    if (srcOpen?.dirty) this.publish(srcOpen)
    const srcNow = this.tree.get(src.id)
    const srcRef = this.contentRef(srcNow)
    const dstCopy = this.copies.get(dst.id) ?? this.newCopy(dst, 'lastRead')
    const published = this.change(what, (t) => {
      let reader: ContentReader
      if (srcRef.kind === 'b') {
        // Chunks are immutable: the original can point at the same manifest.
        t.setMeta(dst.id, META.content, encodeContentRef({ ...srcRef, mtimeSec: nowSec() }))
        reader = this.reader(srcNow)
      } else {
        dstCopy.truncate(0)
        dstCopy.write(this.reader(srcNow).read(0, srcRef.size), 0)
        reader = this.writeContent(t, dst.id, dstCopy)
      }
      if (srcNow.mode !== dst.mode) t.setMode(dst.id, srcNow.mode)
      t.remove(src.id)
      return reader
    })
    dstCopy.rebase(published)
  }

  private node(path: string): TreeNode {
    const id = this.tree.resolvePath(splitPath(path))
    if (id === undefined || this.hidden.has(id)) throw fsError('ENOENT', `${path} does not exist in namespace ${this.replica.info.alias}`)
    return this.tree.get(id)
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

  /** Run a tree change through the replica (stored before it returns); errors carry `what`. */
  private change<T>(what: string, fn: (t: TreeDoc) => T): T {
    try {
      return this.replica.change(fn)
    } catch (err) {
      throw toFsError(err, what)
    }
  }

  private contentRef(node: TreeNode): ContentRef {
    return decodeContentRef(node.meta[META.content], Math.floor(this.replica.info.createdMs / 1000))
  }

  /** The published content of a resource: immutable, so also a reader's snapshot. */
  private reader(node: TreeNode): ContentReader {
    const ref = this.contentRef(node)
    switch (ref.kind) {
      case 'e':
        return EMPTY_READER
      case 't': {
        const text = this.replica.text(node.id).toString()
        this.remember(node.id, text)
        return bufferReader(Buffer.from(text, 'utf8'))
      }
      case 'b': {
        const bytes = this.replica.store.getBlob(ref.manifest!)
        if (!bytes) throw fsError('EIO', `the manifest ${ref.manifest} of ${node.id} is missing from the store`)
        return manifestReader(decodeManifest(bytes, ref.manifest!), (h) => this.chunks.get(h))
      }
    }
  }

  private statOf(node: TreeNode): Stat {
    const info = this.replica.info
    if (node.kind === 'group') {
      const t = info.createdMs
      return { kind: 'dir', mode: node.mode, size: 0, atimeMs: t, mtimeMs: t, ctimeMs: t, nlink: 2 }
    }
    if (node.kind === 'symlink') {
      const t = info.createdMs
      return { kind: 'symlink', mode: 0o777, size: Buffer.byteLength(node.meta[META.target] ?? ''), atimeMs: t, mtimeMs: t, ctimeMs: t, nlink: 1 }
    }
    const ref = this.contentRef(node)
    const mtimeMs = ref.mtimeSec * 1000
    const size = this.copies.get(node.id)?.length ?? (ref.kind === 't' ? this.replica.remoteTextSize(node.id) : undefined) ?? ref.size
    return { kind: 'file', mode: node.mode, size, atimeMs: mtimeMs, mtimeMs, ctimeMs: mtimeMs, nlink: 1 }
  }

  private shownAttrs(node: TreeNode): Record<string, string> {
    const kind = node.id === ROOT ? 'namespace' : node.kind === 'file' ? 'resource' : node.kind
    const attrs: Record<string, string> = {
      [ATTR.id]: node.id === ROOT ? this.replica.id : node.id,
      [ATTR.kind]: kind,
    }
    if (node.id === ROOT) {
      const info = this.replica.info
      attrs[ATTR.alias] = info.alias
      attrs[ATTR.application] = info.application
      attrs[ATTR.policy] = info.upgradePolicy
      attrs[ATTR.description] = info.description
    }
    return attrs
  }
}

function nowSec(): number {
  return Math.floor(Date.now() / 1000)
}
