// The FUSE op table: one function per op, each a straight call into the Vfs, with exactly one
// reply per request. `run` is the only place a reply is sent: whatever a handler throws (or
// rejects with) becomes an errno there, so no handler can take the mount down.

import { constants as C } from 'node:fs'
import { fsError } from '../vfs/errors.js'
import type { OpenFile, OpenFlags, Stat, XattrSetMode } from '../vfs/handler.js'
import type { Vfs } from '../vfs/vfs.js'
import type { Logger } from '../util/log.js'
import { fuseContext, type FuseOps, type FuseStat, type OpenReply, type Reply } from './binding.js'
import { errnoOf, toErrno } from './errno.js'
import type { HandleTable } from './handles.js'

/** Not in Node's fs.constants; the same on every Linux architecture. */
const O_ACCMODE = 3

const ENODATA = errnoOf('ENODATA')

const TYPE_BITS = { file: C.S_IFREG, dir: C.S_IFDIR, symlink: C.S_IFLNK } as const

export function decodeOpenFlags(flags: number): OpenFlags {
  const access = flags & O_ACCMODE
  return {
    read: access === C.O_RDONLY || access === C.O_RDWR,
    write: access === C.O_WRONLY || access === C.O_RDWR,
    append: (flags & C.O_APPEND) !== 0,
    truncate: (flags & C.O_TRUNC) !== 0,
  }
}

export function buildOps(vfs: Vfs, handles: HandleTable, log: Logger): FuseOps {
  const uid = process.getuid?.() ?? 0
  const gid = process.getgid?.() ?? 0

  /** Run one op; `ok` turns its result into the reply's arguments. */
  function run<T>(op: string, path: string, cb: Reply, fn: () => Promise<T>, ok: (v: T) => unknown[] = () => []): void {
    let p: Promise<T>
    try {
      p = fn()
    } catch (err) {
      p = Promise.reject(err)
    }
    p.then(
      (v) => cb(0, ...ok(v)),
      (err) => cb(toErrno(err, op, path, log)),
    )
  }

  /** read/write answer a byte count where the others answer 0. */
  function runCount(op: string, path: string, cb: (n: number) => void, fn: () => Promise<number>): void {
    run(
      op,
      path,
      (err, n) => cb(err < 0 ? err : (n as number)),
      fn,
      (n) => [n],
    )
  }

  /** Open (or create) a file, and answer with its handle and the per-open flags it asks for. */
  function runOpen(op: string, path: string, cb: OpenReply, fn: () => Promise<OpenFile>): void {
    run(
      op,
      path,
      cb as Reply,
      async () => {
        const file = await fn()
        return { fd: handles.add(file), directIo: file.directIo === true }
      },
      ({ fd, directIo }) => [fd, { directIo }],
    )
  }

  function toFuseStat(st: Stat): FuseStat {
    return {
      mode: TYPE_BITS[st.kind] | (st.mode & 0o7777),
      uid: st.uid ?? uid,
      gid: st.gid ?? gid,
      size: st.size,
      nlink: st.nlink ?? (st.kind === 'dir' ? 2 : 1),
      blksize: 4096,
      blocks: Math.ceil(st.size / 512),
      atime: st.atimeMs,
      mtime: st.mtimeMs,
      ctime: st.ctimeMs,
    }
  }

  return {
    getattr: (path, cb) =>
      run(
        'getattr',
        path,
        cb,
        () => vfs.stat(path),
        (st) => [toFuseStat(st)],
      ),
    readdir: (path, cb) =>
      run(
        'readdir',
        path,
        cb,
        () => vfs.list(path),
        (names) => [['.', '..', ...names]],
      ),
    // The caller rides along with opens and renames: a replicated namespace keeps each writer's
    // merge base by it (namespace/read-bases.ts).
    open: (path, flags, cb) => runOpen('open', path, cb, () => vfs.open(path, { ...decodeOpenFlags(flags), caller: fuseContext() })),
    create: (path, mode, flags, cb) =>
      runOpen('create', path, cb, () => vfs.create(path, mode & 0o7777, { ...decodeOpenFlags(flags), caller: fuseContext() })),
    read: (path, fd, buf, len, pos, cb) =>
      runCount('read', path, cb, async () => {
        const data = await handles.get(fd).read(pos, len)
        return data.copy(buf, 0, 0, Math.min(data.length, len))
      }),
    write: (path, fd, buf, len, pos, cb) =>
      runCount('write', path, cb, async () => {
        const file = handles.get(fd)
        if (!file.write) throw fsError('EBADF', `${path} is not open for writing`)
        // The kernel's buffer is reused as soon as we answer: keep a copy.
        return file.write(Buffer.from(buf.subarray(0, len)), pos)
      }),
    flush: (path, fd, cb) => run('flush', path, cb, async () => handles.get(fd).flush?.()),
    fsync: (path, datasync, fd, cb) => run('fsync', path, cb, async () => handles.get(fd).fsync?.(datasync !== 0)),
    release: (path, fd, cb) => run('release', path, cb, () => handles.remove(fd).release()),
    truncate: (path, size, cb) => run('truncate', path, cb, () => vfs.setattr(path, { size })),
    ftruncate: (path, fd, size, cb) =>
      run('ftruncate', path, cb, async () => {
        const file = handles.get(fd)
        if (!file.truncate) throw fsError('EBADF', `${path} is not open for writing`)
        await file.truncate(size)
      }),
    mkdir: (path, mode, cb) => run('mkdir', path, cb, () => vfs.mkdir(path, mode & 0o7777)),
    rmdir: (path, cb) => run('rmdir', path, cb, () => vfs.rmdir(path)),
    unlink: (path, cb) => run('unlink', path, cb, () => vfs.unlink(path)),
    rename: (src, dest, cb) => run('rename', `${src} -> ${dest}`, cb, () => vfs.rename(src, dest, fuseContext())),
    link: (src, dest, cb) =>
      run('link', `${src} -> ${dest}`, cb, async () => Promise.reject(fsError('ENOTSUP', 'hard links are not supported'))),
    symlink: (target, path, cb) => run('symlink', path, cb, () => vfs.symlink(target, path)),
    readlink: (path, cb) =>
      run(
        'readlink',
        path,
        cb,
        () => vfs.readlink(path),
        (target) => [target],
      ),
    chmod: (path, mode, cb) => run('chmod', path, cb, () => vfs.setattr(path, { mode: mode & 0o7777 })),
    chown: (path, u, g, cb) =>
      // (uid_t)-1 means "leave as is"; it arrives as 2^32-1.
      run('chown', path, cb, () => vfs.setattr(path, { ...(u !== 0xffffffff && { uid: u }), ...(g !== 0xffffffff && { gid: g }) })),
    // A time the caller leaves as is (touch -m, touch -a: UTIME_OMIT) arrives undefined.
    utimens: (path, atime, mtime, cb) =>
      run('utimens', path, cb, () =>
        vfs.setattr(path, { ...(atime !== undefined && { atimeMs: atime }), ...(mtime !== undefined && { mtimeMs: mtime }) }),
      ),
    statfs: (path, cb) =>
      run(
        'statfs',
        path,
        cb,
        () => vfs.statfs(path),
        (s) => [
          {
            bsize: s.blockSize,
            frsize: s.blockSize,
            blocks: s.blocks,
            bfree: s.blocksFree,
            bavail: s.blocksAvailable,
            files: s.files,
            ffree: s.filesFree,
            favail: s.filesFree,
            namemax: 255,
          },
        ],
      ),
    getxattr: (path, name, cb) => {
      // `ls -l` asks for security.selinux and system.posix_acl_access on every entry, and the
      // kernel asks for security.capability before every write: none is ever stored here
      // (handlers keep user.* only), so answer at once, without resolving the path.
      if (name.startsWith('security.') || name.startsWith('system.')) return cb(ENODATA)
      run(
        'getxattr',
        path,
        cb,
        () => vfs.getxattr(path, name),
        (v) => [v],
      )
    },
    listxattr: (path, cb) =>
      run(
        'listxattr',
        path,
        cb,
        () => vfs.listxattr(path),
        (names) => [names],
      ),
    setxattr: (path, name, value, flags, cb) =>
      run('setxattr', path, cb, () => vfs.setxattr(path, name, Buffer.from(value), xattrMode(flags))),
    removexattr: (path, name, cb) => run('removexattr', path, cb, () => vfs.removexattr(path, name)),
  }
}

/** setxattr(2) flags: XATTR_CREATE = 1, XATTR_REPLACE = 2. */
function xattrMode(flags: number): XattrSetMode {
  return flags & 1 ? 'create' : flags & 2 ? 'replace' : 'any'
}
