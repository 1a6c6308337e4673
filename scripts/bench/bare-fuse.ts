#!/usr/bin/env node
// The "bare FUSE" baseline: the smallest in-memory filesystem that the measures need, written
// directly on fuse-native. It shows what the binding and the kernel round trips cost by
// themselves, so that meshfs / bare FUSE is the price of meshfs's own layers (Vfs, MountTable,
// handlers, memfs). For a fair ratio it mounts exactly as src/fuse/mount.ts does: the same extra
// `-o` options, timeouts of '0' as strings, default_permissions and the same per-op timeout.
//
// Usage: node dist/scripts/bench/bare-fuse.js MOUNTPOINT [--op-timeout SECONDS]
// It runs in the foreground in its own process (its FUSE callbacks must not share an event loop
// with the bench driver, just like the meshfs daemon); SIGTERM/SIGINT unmount and exit.

import Fuse from 'fuse-native'
import path from 'node:path'
import { constants as C } from 'node:fs'
import { constants as OS } from 'node:os'
import { parseArgs } from 'node:util'
import { lazyUnmount } from './mounts.js'

type Reply = (err: number, ...result: unknown[]) => void

/** Linux FUSE caps one request at 32 pages: 128 KiB (as in src/fuse/mount.ts). */
const MAX_IO = 128 * 1024
const O_ACCMODE = 3

/** Replies take negative errnos; fuse-native's own Fuse.E* statics are not in our typings. */
const [ENOENT, ENOTDIR, EEXIST, EINVAL, EISDIR, ENOTEMPTY, EBADF] = (
  ['ENOENT', 'ENOTDIR', 'EEXIST', 'EINVAL', 'EISDIR', 'ENOTEMPTY', 'EBADF'] as const
).map((name) => -OS.errno[name]) as [number, number, number, number, number, number, number]

Fuse.unmount = (mnt, cb) => {
  lazyUnmount(mnt).then(
    () => cb(null),
    (err: Error) => cb(err),
  )
}

class BareFuse extends Fuse {
  protected override _fuseOptions(): string {
    const base = super._fuseOptions()
    const extra = `big_writes,max_write=${MAX_IO},max_read=${MAX_IO}`
    return base ? `${base},${extra}` : `-o${extra}`
  }
}

interface Node {
  kind: 'file' | 'dir'
  mode: number
  /** File bytes; `data.length` is the capacity, `size` the used part (grows by doubling). */
  data: Buffer
  size: number
  /** Child names of a directory. */
  children: Set<string>
  atime: number
  mtime: number
  ctime: number
}

function newNode(kind: Node['kind'], mode: number): Node {
  const now = Date.now()
  return { kind, mode: mode & 0o7777, data: Buffer.alloc(0), size: 0, children: new Set(), atime: now, mtime: now, ctime: now }
}

/** Grow `node.data` to hold `size` bytes; doubling keeps sequential writes linear. */
function ensureCapacity(node: Node, size: number): void {
  if (size <= node.data.length) return
  const grown = Buffer.alloc(Math.max(size, node.data.length * 2))
  node.data.copy(grown, 0, 0, node.size)
  node.data = grown
}

function setSize(node: Node, size: number): void {
  if (size > node.size) {
    ensureCapacity(node, size)
    node.data.fill(0, node.size, size)
  }
  node.size = size
  node.mtime = node.ctime = Date.now()
}

/** The whole tree: nodes by absolute path. */
class Tree {
  readonly nodes = new Map<string, Node>([['/', newNode('dir', 0o755)]])
  private readonly handles = new Map<number, Node>()
  private nextHandle = 1

  get(p: string): Node | undefined {
    return this.nodes.get(p)
  }

  /** The parent directory of `p`, or a negative errno. */
  parentOf(p: string): Node | number {
    const parent = this.nodes.get(path.posix.dirname(p))
    if (!parent) return ENOENT
    return parent.kind === 'dir' ? parent : ENOTDIR
  }

  add(p: string, node: Node): number {
    if (this.nodes.has(p)) return EEXIST
    const parent = this.parentOf(p)
    if (typeof parent === 'number') return parent
    parent.children.add(path.posix.basename(p))
    parent.mtime = parent.ctime = Date.now()
    this.nodes.set(p, node)
    return 0
  }

  remove(p: string): void {
    const parent = this.parentOf(p) as Node
    parent.children.delete(path.posix.basename(p))
    parent.mtime = parent.ctime = Date.now()
    this.nodes.delete(p)
  }

  rename(from: string, to: string): number {
    const node = this.nodes.get(from)
    if (!node) return ENOENT
    if (from === to) return 0
    if (to.startsWith(`${from}/`)) return EINVAL
    const target = this.nodes.get(to)
    if (target) {
      if (target.kind === 'dir' && node.kind !== 'dir') return EISDIR
      if (target.kind !== 'dir' && node.kind === 'dir') return ENOTDIR
      if (target.kind === 'dir' && target.children.size > 0) return ENOTEMPTY
      this.remove(to)
    }
    this.remove(from)
    const err = this.add(to, node)
    if (err !== 0) return err
    if (node.kind === 'dir') this.moveDescendants(from, to)
    node.ctime = Date.now()
    return 0
  }

  /** Paths are the keys, so a directory's descendants are re-keyed under its new name. */
  private moveDescendants(from: string, to: string): void {
    const prefix = `${from}/`
    for (const [p, n] of [...this.nodes]) {
      if (!p.startsWith(prefix)) continue
      this.nodes.delete(p)
      this.nodes.set(to + p.slice(from.length), n)
    }
  }

  openHandle(node: Node): number {
    const fd = this.nextHandle++
    this.handles.set(fd, node)
    return fd
  }

  handle(fd: number): Node | undefined {
    return this.handles.get(fd)
  }

  closeHandle(fd: number): void {
    this.handles.delete(fd)
  }
}

function toStat(node: Node) {
  const uid = process.getuid?.() ?? 0
  const gid = process.getgid?.() ?? 0
  return {
    mode: (node.kind === 'dir' ? C.S_IFDIR : C.S_IFREG) | node.mode,
    uid,
    gid,
    size: node.size,
    nlink: node.kind === 'dir' ? 2 : 1,
    blksize: 4096,
    blocks: Math.ceil(node.size / 512),
    atime: node.atime,
    mtime: node.mtime,
    ctime: node.ctime,
  }
}

function buildOps(tree: Tree) {
  /** Look `p` up and hand the node to `fn`, or answer ENOENT. */
  const withNode = (p: string, cb: Reply, fn: (n: Node) => void) => {
    const node = tree.get(p)
    if (!node) return cb(ENOENT)
    fn(node)
  }
  const ok = (cb: Reply) => cb(0)

  return {
    getattr: (p: string, cb: Reply) => withNode(p, cb, (n) => cb(0, toStat(n))),
    readdir: (p: string, cb: Reply) => withNode(p, cb, (n) => (n.kind === 'dir' ? cb(0, ['.', '..', ...n.children]) : cb(ENOTDIR))),
    open: (p: string, flags: number, cb: Reply) =>
      withNode(p, cb, (n) => {
        if ((flags & C.O_TRUNC) !== 0 && (flags & O_ACCMODE) !== C.O_RDONLY) setSize(n, 0)
        cb(0, tree.openHandle(n))
      }),
    create: (p: string, mode: number, cb: Reply) => {
      const node = newNode('file', mode)
      const err = tree.add(p, node)
      if (err !== 0) return cb(err)
      cb(0, tree.openHandle(node))
    },
    read: (_p: string, fd: number, buf: Buffer, len: number, pos: number, cb: (n: number) => void) => {
      const node = tree.handle(fd)
      if (!node) return cb(EBADF)
      const end = Math.min(node.size, pos + len)
      cb(end > pos ? node.data.copy(buf, 0, pos, end) : 0)
    },
    write: (_p: string, fd: number, buf: Buffer, len: number, pos: number, cb: (n: number) => void) => {
      const node = tree.handle(fd)
      if (!node) return cb(EBADF)
      ensureCapacity(node, pos + len)
      if (pos > node.size) node.data.fill(0, node.size, pos)
      buf.copy(node.data, pos, 0, len)
      node.size = Math.max(node.size, pos + len)
      node.mtime = node.ctime = Date.now()
      cb(len)
    },
    truncate: (p: string, size: number, cb: Reply) => withNode(p, cb, (n) => (setSize(n, size), cb(0))),
    ftruncate: (_p: string, fd: number, size: number, cb: Reply) => {
      const node = tree.handle(fd)
      if (!node) return cb(EBADF)
      setSize(node, size)
      cb(0)
    },
    flush: (_p: string, _fd: number, cb: Reply) => ok(cb),
    fsync: (_p: string, _datasync: number, _fd: number, cb: Reply) => ok(cb),
    release: (_p: string, fd: number, cb: Reply) => (tree.closeHandle(fd), cb(0)),
    unlink: (p: string, cb: Reply) => withNode(p, cb, (n) => (n.kind === 'dir' ? cb(EISDIR) : (tree.remove(p), cb(0)))),
    mkdir: (p: string, mode: number, cb: Reply) => cb(tree.add(p, newNode('dir', mode))),
    rmdir: (p: string, cb: Reply) =>
      withNode(p, cb, (n) => {
        if (n.kind !== 'dir') return cb(ENOTDIR)
        if (n.children.size > 0) return cb(ENOTEMPTY)
        tree.remove(p)
        cb(0)
      }),
    rename: (src: string, dest: string, cb: Reply) => cb(tree.rename(src, dest)),
    // fuse-native hands the atime in both arguments (see its README, Limitations).
    utimens: (p: string, atime: number, mtime: number, cb: Reply) =>
      withNode(p, cb, (n) => ((n.atime = atime), (n.mtime = mtime), (n.ctime = Date.now()), cb(0))),
    chmod: (p: string, mode: number, cb: Reply) => withNode(p, cb, (n) => ((n.mode = mode & 0o7777), (n.ctime = Date.now()), cb(0))),
    // tar and cp -p call chown; as the owner, accepting it unchanged is what a single-user fs does.
    chown: (p: string, _uid: number, _gid: number, cb: Reply) => withNode(p, cb, () => cb(0)),
  }
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { 'op-timeout': { type: 'string', default: '120' } },
  })
  if (positionals.length !== 1) throw new Error('usage: bare-fuse MOUNTPOINT [--op-timeout SECONDS]')
  const mnt = path.resolve(positionals[0]!)
  const timeoutSec = Number(values['op-timeout'])
  const fuse = new BareFuse(mnt, buildOps(new Tree()), {
    timeout: timeoutSec > 0 ? timeoutSec * 1000 : false,
    attrTimeout: '0',
    entryTimeout: '0',
    defaultPermissions: true,
    fsname: 'barefuse',
    subtype: 'barefuse',
  })
  await new Promise<void>((resolve, reject) => fuse.mount((err) => (err ? reject(err) : resolve())))
  process.stdout.write(`mounted ${mnt} pid ${process.pid}\n`)

  let stopping = false
  const stop = () => {
    if (stopping) return
    stopping = true
    fuse.unmount((err) => {
      if (err) process.stderr.write(`bare-fuse: ${err.message}\n`)
      process.exit(err ? 1 : 0)
    })
  }
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
}

main().catch((err: Error) => {
  process.stderr.write(`bare-fuse: ${err.message}\n`)
  process.exit(1)
})
