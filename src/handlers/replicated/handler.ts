// A replicated namespace as a handler: directories are groups, files are resources, all held in
// the namespace's tree doc. Paths are resolved to stable ids on every call, so a group moved by
// `mv` (nest/unnest) keeps its id, its subtree and its history.

import { TreeDoc, type TreeNode } from '../../crdt/tree.js'
import { checkDescription, checkUpgradePolicy, updateNamespaceInfo } from '../../crdt/namespace-info.js'
import { fsError, toFsError } from '../../vfs/errors.js'
import type { AttrChanges, Handler, OpenFile, OpenFlags, Stat, XattrSetMode } from '../../vfs/handler.js'
import { splitPath } from '../../vfs/path.js'
import { checkUserXattr } from '../xattr-map.js'
import type { NamespaceReplica } from './replica.js'
import { snapshotOpen, WorkingCopy, WritableFile, type Publisher } from './resource-file.js'

const ROOT = TreeDoc.ROOT

/** Tree metadata keys of a resource (short: they are stored for every file). */
const META = { hash: 'h', size: 's', mtime: 'm', target: 'l' } as const
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
}

export class ReplicatedHandler implements Handler, Publisher {
  readonly kind = 'replicated'
  /** Working copies of resources open for writing on this node, by id. */
  private readonly copies = new Map<string, WorkingCopy>()

  constructor(readonly replica: NamespaceReplica, private readonly hooks: NamespaceHooks) {}

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
    return this.tree.children(node.id).map((c) => c.name)
  }

  async open(path: string, flags: OpenFlags): Promise<OpenFile> {
    const node = this.node(path)
    if (node.kind === 'group') throw fsError('EISDIR', `${path} is a group`)
    if (!flags.write) return snapshotOpen(Buffer.from(this.copies.get(node.id)?.contents() ?? this.content(node)))
    const copy = this.workingCopy(node)
    if (flags.truncate) copy.truncate(0)
    return new WritableFile(copy, flags, this)
  }

  async create(path: string, mode: number, flags: OpenFlags): Promise<OpenFile> {
    const { parent, name } = this.parentAndName(path)
    const mtime = String(Math.floor(Date.now() / 1000))
    const id = this.change(path, (t) => t.create(parent, name, 'file', mode, { [META.mtime]: mtime }))
    const copy = new WorkingCopy(id, Buffer.alloc(0))
    this.copies.set(id, copy)
    return new WritableFile(copy, flags, this)
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

  /** POSIX rename: replaces a resource or an empty group at `to`; moving a group nests it. */
  async rename(from: string, to: string): Promise<void> {
    const src = this.node(from)
    if (src.id === ROOT) throw fsError('EBUSY', 'the namespace root cannot be moved inside itself')
    const { parent, name } = this.parentAndName(to)
    const existingId = this.tree.lookup(parent, name)
    if (existingId === src.id) return
    const existing = existingId === undefined ? undefined : this.tree.get(existingId)
    if (existing) {
      if (src.kind === 'group' && existing.kind !== 'group') throw fsError('ENOTDIR', `${to} is not a group`)
      if (src.kind !== 'group' && existing.kind === 'group') throw fsError('EISDIR', `${to} is a group`)
      if (existing.kind === 'group' && this.tree.children(existing.id).length > 0) throw fsError('ENOTEMPTY', `${to} is not empty`)
    }
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
      const open = this.copies.get(node.id)
      const copy = open ?? new WorkingCopy(node.id, this.content(node))
      copy.truncate(c.size)
      this.publish(copy)
    }
    if (c.mtimeMs !== undefined && node.kind === 'file') {
      this.change(path, (t) => t.setMeta(node.id, META.mtime, String(Math.floor(c.mtimeMs! / 1000))))
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
    const node = this.node(path)
    const shown = this.shownAttrs(node)
    if (Object.hasOwn(shown, name)) return Buffer.from(shown[name]!)
    const stored = name.startsWith('user.') ? node.meta[XATTR_PREFIX + name.slice(5)] : undefined
    if (stored === undefined) throw fsError('ENODATA', `no attribute ${name}`)
    return Buffer.from(stored, 'base64')
  }

  async listxattr(path: string): Promise<string[]> {
    const node = this.node(path)
    const stored = Object.keys(node.meta)
      .filter((k) => k.startsWith(XATTR_PREFIX))
      .map((k) => 'user.' + k.slice(XATTR_PREFIX.length))
    return [...Object.keys(this.shownAttrs(node)), ...stored]
  }

  async setxattr(path: string, name: string, value: Buffer, mode: XattrSetMode): Promise<void> {
    const node = this.node(path)
    if (name === ATTR.policy || name === ATTR.description) {
      if (node.id !== ROOT) throw fsError('ENOTSUP', `${name} belongs to the namespace root`)
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
    const node = this.node(path)
    if (name.startsWith('user.meshfs.')) throw fsError('EPERM', `${name} cannot be removed`)
    const key = XATTR_PREFIX + name.slice(5)
    if (!name.startsWith('user.') || node.meta[key] === undefined) throw fsError('ENODATA', `no attribute ${name}`)
    this.change(path, (t) => t.setMeta(node.id, key, undefined))
  }

  // ---- Publisher: what open files call -------------------------------------------------------

  /** Make the working copy the resource's content: blob first, then the tree points at it. */
  publish(copy: WorkingCopy): void {
    if (!copy.dirty) return
    const { id } = copy
    copy.dirty = false
    // A file unlinked while open keeps working for its holder; its content goes nowhere (POSIX).
    if (!this.tree.isLive(id)) return
    const content = copy.contents()
    try {
      const hash = content.length > 0 ? this.replica.store.putBlob(content) : undefined
      const mtime = String(Math.floor(Date.now() / 1000))
      this.change(id, (t) => {
        t.doc.transact(() => {
          t.setMeta(id, META.hash, hash)
          t.setMeta(id, META.size, content.length > 0 ? String(content.length) : undefined)
          t.setMeta(id, META.mtime, mtime)
        })
      })
    } catch (err) {
      copy.dirty = true
      throw err
    }
  }

  release(copy: WorkingCopy): void {
    if (this.copies.get(copy.id) === copy) this.copies.delete(copy.id)
  }

  // ---- internals ---------------------------------------------------------------------------

  private workingCopy(node: TreeNode): WorkingCopy {
    let copy = this.copies.get(node.id)
    if (!copy) this.copies.set(node.id, (copy = new WorkingCopy(node.id, this.content(node))))
    return copy
  }

  private node(path: string): TreeNode {
    const id = this.tree.resolvePath(splitPath(path))
    if (id === undefined) throw fsError('ENOENT', `${path} does not exist in namespace ${this.replica.info.alias}`)
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

  private content(node: TreeNode): Buffer {
    const hash = node.meta[META.hash]
    if (!hash) return Buffer.alloc(0)
    const blob = this.replica.store.getBlob(hash)
    if (!blob) throw fsError('EIO', `the content ${hash} of ${node.id} is missing from the store`)
    return Buffer.from(blob)
  }

  private statOf(node: TreeNode): Stat {
    const info = this.replica.info
    if (node.kind === 'group') {
      const t = info.createdMs
      return { kind: 'dir', mode: node.mode, size: 0, atimeMs: t, mtimeMs: t, ctimeMs: t, nlink: 2 }
    }
    const mtimeMs = Number(node.meta[META.mtime] ?? Math.floor(info.createdMs / 1000)) * 1000
    let size = node.kind === 'symlink' ? Buffer.byteLength(node.meta[META.target] ?? '') : Number(node.meta[META.size] ?? 0)
    const open = this.copies.get(node.id)
    if (open) size = open.length
    return { kind: node.kind === 'symlink' ? 'symlink' : 'file', mode: node.mode, size, atimeMs: mtimeMs, mtimeMs, ctimeMs: mtimeMs, nlink: 1 }
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
