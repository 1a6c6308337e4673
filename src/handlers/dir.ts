// A host folder mounted into the tree (Fan's `Namespace.makeDir`). Every operation goes to the
// host file system directly, so what the mount shows is always what the folder holds; chokidar
// watches the folder and reports changes made behind the mount's back (the `watch` verb).
//
// Confinement: no path ever reaches outside the folder. Names are checked before they arrive
// (no '..'), every path is resolved with realpath and must stay below the folder's real path,
// a symlink whose target leaves the folder reads as EACCES, and creating one is refused.
// (A symlink swapped between the check and the use can still race; Node has no openat2/RESOLVE_BENEATH.)

import { constants as C, promises as fsp, realpathSync, type Stats, statSync } from 'node:fs'
import path from 'node:path'
import { watch as chokidarWatch, type FSWatcher } from 'chokidar'
import { fsError, toFsError } from '../vfs/errors.js'
import type { AttrChanges, ChangeEvent, Handler, NodeKind, OpenFile, OpenFlags, Stat, StatFs } from '../vfs/handler.js'
import { nodeFlags } from './open-flags.js'

export class DirHandler implements Handler {
  readonly kind = 'dir'
  readonly source: string
  private readonly root: string
  private watcher: FSWatcher | undefined
  private readonly listeners = new Set<(e: ChangeEvent) => void>()

  constructor(folder: string) {
    const abs = path.resolve(folder)
    let st: Stats
    try {
      st = statSync(abs)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw fsError('ENOENT', `dir handler: folder ${abs} does not exist`)
      throw toFsError(err, `dir handler: folder ${abs}`)
    }
    if (!st.isDirectory()) throw fsError('ENOTDIR', `dir handler: ${abs} is not a folder`)
    this.root = realpathSync(abs)
    this.source = this.root
  }

  async stat(rel: string): Promise<Stat> {
    const host = await this.reach(rel, 'stat')
    return toStat(await this.call('stat', rel, () => fsp.lstat(host)))
  }

  async list(rel: string): Promise<string[]> {
    const host = await this.reach(rel, 'list', true)
    return this.call('list', rel, () => fsp.readdir(host))
  }

  async open(rel: string, flags: OpenFlags): Promise<OpenFile> {
    const host = await this.reach(rel, 'open', true)
    const fh = await this.call('open', rel, () => fsp.open(host, nodeFlags(flags) | C.O_NOFOLLOW | (flags.truncate ? C.O_TRUNC : 0)))
    return this.openFile(fh, rel, flags)
  }

  async create(rel: string, mode: number, flags: OpenFlags): Promise<OpenFile> {
    const host = await this.reach(rel, 'create')
    const fh = await this.call('create', rel, () => fsp.open(host, nodeFlags(flags) | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW, mode))
    return this.openFile(fh, rel, flags)
  }

  async mkdir(rel: string, mode: number): Promise<void> {
    const host = await this.reach(rel, 'mkdir')
    await this.call('mkdir', rel, () => fsp.mkdir(host, { mode }))
  }

  async unlink(rel: string): Promise<void> {
    const host = await this.reach(rel, 'unlink')
    await this.call('unlink', rel, () => fsp.unlink(host))
  }

  async rmdir(rel: string): Promise<void> {
    if (rel === '/') throw fsError('EBUSY', 'rmdir: the root of a dir handler cannot be removed')
    const host = await this.reach(rel, 'rmdir')
    await this.call('rmdir', rel, () => fsp.rmdir(host))
  }

  async rename(from: string, to: string): Promise<void> {
    const src = await this.reach(from, 'rename')
    const dst = await this.reach(to, 'rename')
    await this.call('rename', from, () => fsp.rename(src, dst))
  }

  async setattr(rel: string, c: AttrChanges): Promise<void> {
    const host = await this.reach(rel, 'setattr', true)
    await this.call('setattr', rel, async () => {
      if (c.mode !== undefined) await fsp.chmod(host, c.mode & 0o7777)
      if (c.uid !== undefined || c.gid !== undefined) await fsp.lchown(host, c.uid ?? -1, c.gid ?? -1)
      if (c.size !== undefined) await fsp.truncate(host, c.size)
      if (c.atimeMs !== undefined || c.mtimeMs !== undefined) {
        const st = await fsp.lstat(host)
        await fsp.lutimes(host, (c.atimeMs ?? st.atimeMs) / 1000, (c.mtimeMs ?? st.mtimeMs) / 1000)
      }
    })
  }

  async symlink(target: string, rel: string): Promise<void> {
    const host = await this.reach(rel, 'symlink')
    if (!this.inside(path.resolve(path.dirname(host), target))) {
      throw fsError('EACCES', `symlink ${rel} -> ${target}: the target leaves the folder ${this.root}`)
    }
    await this.call('symlink', rel, () => fsp.symlink(target, host))
  }

  async readlink(rel: string): Promise<string> {
    const host = await this.reach(rel, 'readlink')
    const target = await this.call('readlink', rel, () => fsp.readlink(host))
    if (!this.inside(path.resolve(path.dirname(host), target))) {
      throw fsError('EACCES', `readlink ${rel}: its target ${target} lies outside the folder ${this.root}`)
    }
    return target
  }

  async statfs(): Promise<StatFs> {
    const s = await fsp.statfs(this.root)
    return { blockSize: s.bsize, blocks: s.blocks, blocksFree: s.bfree, blocksAvailable: s.bavail, files: s.files, filesFree: s.ffree }
  }

  watch(listener: (e: ChangeEvent) => void): () => void {
    this.listeners.add(listener)
    if (!this.watcher) {
      const emit = (type: ChangeEvent['type'], kind: NodeKind) => (p: string) => {
        const event: ChangeEvent = { type, kind, path: `/${path.relative(this.root, p).split(path.sep).join('/')}` }
        for (const l of this.listeners) l(event)
      }
      this.watcher = chokidarWatch(this.root, { ignoreInitial: true, followSymlinks: false })
        .on('add', emit('add', 'file'))
        .on('change', emit('change', 'file'))
        .on('unlink', emit('remove', 'file'))
        .on('addDir', emit('add', 'dir'))
        .on('unlinkDir', emit('remove', 'dir'))
    }
    return () => {
      this.listeners.delete(listener)
    }
  }

  async close(): Promise<void> {
    await this.watcher?.close()
    this.watcher = undefined
  }

  /**
   * The host path for `rel`, after checking that its parent (or, with `followLast`, the path
   * itself) resolves inside the folder. `rel` has no '..' (names were checked at the vfs).
   */
  private async reach(rel: string, verb: string, followLast = false): Promise<string> {
    const host = path.join(this.root, rel)
    const probe = followLast || rel === '/' ? host : path.dirname(host)
    let real: string
    try {
      real = await fsp.realpath(probe)
    } catch (err) {
      throw toFsError(err, `dir ${verb} ${rel}`)
    }
    if (!this.inside(real)) throw fsError('EACCES', `dir ${verb} ${rel}: resolves to ${real}, outside the folder ${this.root}`)
    return host
  }

  private inside(p: string): boolean {
    return p === this.root || p.startsWith(this.root + path.sep)
  }

  private openFile(fh: fsp.FileHandle, rel: string, flags: OpenFlags): OpenFile {
    const call = this.call.bind(this)
    const file: OpenFile = {
      async read(position, length) {
        const buf = Buffer.alloc(length)
        const { bytesRead } = await call('read', rel, () => fh.read(buf, 0, length, position))
        return bytesRead === length ? buf : buf.subarray(0, bytesRead)
      },
      async fsync(dataOnly) {
        await call('fsync', rel, () => (dataOnly ? fh.datasync() : fh.sync()))
      },
      async release() {
        await call('release', rel, () => fh.close())
      },
    }
    if (flags.write) {
      file.write = async (data, position) => (await call('write', rel, () => fh.write(data, 0, data.length, position))).bytesWritten
      file.truncate = async (size) => call('truncate', rel, () => fh.truncate(size))
    }
    return file
  }

  private async call<T>(verb: string, rel: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn()
    } catch (err) {
      throw toFsError(err, `dir ${verb} ${rel}`)
    }
  }
}

function toStat(st: import('node:fs').Stats): Stat {
  const kind: NodeKind = st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : 'file'
  return {
    kind,
    mode: st.mode & 0o7777,
    size: st.size,
    atimeMs: st.atimeMs,
    mtimeMs: st.mtimeMs,
    ctimeMs: st.ctimeMs,
    nlink: st.nlink,
    uid: st.uid,
    gid: st.gid,
  }
}
