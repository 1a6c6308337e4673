// The root namespace (Fan's RootNamespace): an in-memory store on memfs. It is neither replicated
// nor persistent: what is written here lives until the daemon stops. Replicated namespaces and
// other handlers are mounted into it.

import { constants as C } from 'node:fs'
import os from 'node:os'
import { Volume } from 'memfs'
import { toFsError } from '../vfs/errors.js'
import type { AttrChanges, Handler, NodeKind, OpenFile, OpenFlags, Stat, StatFs, XattrSetMode } from '../vfs/handler.js'
import { nodeFlags } from './open-flags.js'
import { checkRename, checkRmdir, checkUnlink, type Probe } from './posix-checks.js'
import { XattrMap } from './xattr-map.js'

/** The fields of a memfs Stats that we read (its own types mix number and bigint variants). */
interface MemStats {
  isDirectory(): boolean
  isSymbolicLink(): boolean
  mode: number
  size: number
  atimeMs: number
  mtimeMs: number
  ctimeMs: number
  nlink: number
  uid: number
  gid: number
  ino: number
}

export class MemoryHandler implements Handler {
  readonly kind = 'memory'
  private readonly vol = new Volume()
  private readonly xattrs = new XattrMap()
  private readonly probe: Probe = {
    kindOf: (p) => {
      const st = this.vol.lstatSync(p, { throwIfNoEntry: false }) as unknown as MemStats | undefined
      return st ? kindOf(st) : undefined
    },
    isEmptyDir: (p) => this.vol.readdirSync(p).length === 0,
  }

  constructor() {
    // memfs creates its root 0777; a fresh directory should look like one made by mkdir.
    this.vol.chmodSync('/', 0o755)
  }

  async stat(path: string): Promise<Stat> {
    const st = toStat(this.call('stat', path, () => this.vol.lstatSync(path) as unknown as MemStats))
    if (st.kind === 'symlink') {
      // memfs gives links mode 0666 and size 0; Linux shows 0777 and the target's length.
      st.mode = 0o777
      st.size = Buffer.byteLength(String(this.vol.readlinkSync(path)))
    }
    return st
  }

  async list(path: string): Promise<string[]> {
    return this.call('list', path, () => this.vol.readdirSync(path) as string[])
  }

  async open(path: string, flags: OpenFlags): Promise<OpenFile> {
    const fd = this.call('open', path, () => this.vol.openSync(path, nodeFlags(flags)))
    if (flags.truncate && flags.write) this.call('open', path, () => this.vol.ftruncateSync(fd, 0))
    return this.openFile(fd, path, flags)
  }

  async create(path: string, mode: number, flags: OpenFlags): Promise<OpenFile> {
    const fd = this.call('create', path, () => this.vol.openSync(path, C.O_CREAT | C.O_EXCL | nodeFlags(flags), mode))
    return this.openFile(fd, path, flags)
  }

  async mkdir(path: string, mode: number): Promise<void> {
    this.call('mkdir', path, () => this.vol.mkdirSync(path, { mode }))
  }

  async unlink(path: string): Promise<void> {
    checkUnlink(this.probe, path)
    const ino = this.inoOf(path)
    this.call('unlink', path, () => this.vol.unlinkSync(path))
    this.xattrs.forget(ino)
  }

  async rmdir(path: string): Promise<void> {
    checkRmdir(this.probe, path)
    const ino = this.inoOf(path)
    this.call('rmdir', path, () => this.vol.rmdirSync(path))
    this.xattrs.forget(ino)
  }

  async rename(from: string, to: string): Promise<void> {
    const replaces = checkRename(this.probe, from, to)
    if (from === to) return
    if (replaces) {
      const ino = this.inoOf(to)
      if (this.probe.kindOf(to) === 'dir') this.vol.rmdirSync(to)
      else this.vol.unlinkSync(to)
      this.xattrs.forget(ino)
    }
    this.call('rename', from, () => this.vol.renameSync(from, to))
  }

  async setattr(path: string, c: AttrChanges): Promise<void> {
    this.call('setattr', path, () => {
      // memfs stamps the mtime on chmod/chown, which POSIX leaves alone (only the ctime changes):
      // `cp -p` and `tar x` chmod after setting the times, so put the mtime back.
      const before = c.mode !== undefined || c.uid !== undefined || c.gid !== undefined ? this.vol.lstatSync(path) : undefined
      if (c.mode !== undefined) this.vol.chmodSync(path, c.mode & 0o7777)
      if (c.uid !== undefined || c.gid !== undefined) this.vol.lchownSync(path, c.uid ?? before!.uid, c.gid ?? before!.gid)
      if (before && c.mtimeMs === undefined && c.size === undefined) {
        const st = this.vol.lstatSync(path)
        if (st.mtimeMs !== before.mtimeMs) this.vol.lutimesSync(path, st.atimeMs / 1000, before.mtimeMs / 1000)
      }
      if (c.size !== undefined) this.vol.truncateSync(path, c.size)
      if (c.atimeMs !== undefined || c.mtimeMs !== undefined) {
        const st = this.vol.lstatSync(path)
        // memfs takes seconds, like utimes(2).
        this.vol.lutimesSync(path, (c.atimeMs ?? st.atimeMs) / 1000, (c.mtimeMs ?? st.mtimeMs) / 1000)
      }
    })
  }

  async symlink(target: string, path: string): Promise<void> {
    this.call('symlink', path, () => this.vol.symlinkSync(target, path))
  }

  async readlink(path: string): Promise<string> {
    return String(this.call('readlink', path, () => this.vol.readlinkSync(path)))
  }

  async getxattr(path: string, name: string): Promise<Buffer> {
    return this.xattrs.get(this.inoOf(path), name)
  }

  async listxattr(path: string): Promise<string[]> {
    return this.xattrs.list(this.inoOf(path))
  }

  async setxattr(path: string, name: string, value: Buffer, mode: XattrSetMode): Promise<void> {
    this.xattrs.set(this.inoOf(path), name, value, mode)
  }

  async removexattr(path: string, name: string): Promise<void> {
    this.xattrs.remove(this.inoOf(path), name)
  }

  async statfs(): Promise<StatFs> {
    // Memory is the only limit of this store, so that is what `df` should see.
    const bs = 4096
    const free = Math.floor(os.freemem() / bs)
    return {
      blockSize: bs,
      blocks: Math.floor(os.totalmem() / bs),
      blocksFree: free,
      blocksAvailable: free,
      files: 1 << 20,
      filesFree: 1 << 20,
    }
  }

  private inoOf(path: string): string {
    return String(this.call('stat', path, () => this.vol.lstatSync(path).ino))
  }

  private openFile(fd: number, path: string, flags: OpenFlags): OpenFile {
    const vol = this.vol
    const call = this.call.bind(this)
    const file: OpenFile = {
      async read(position, length) {
        const buf = Buffer.alloc(length)
        const n = call('read', path, () => vol.readSync(fd, buf, 0, length, position))
        return n === length ? buf : buf.subarray(0, n)
      },
      async release() {
        call('release', path, () => vol.closeSync(fd))
      },
    }
    if (flags.write) {
      file.write = async (data, position) => call('write', path, () => vol.writeSync(fd, data, 0, data.length, position))
      file.truncate = async (size) => call('truncate', path, () => vol.ftruncateSync(fd, size))
    }
    return file
  }

  /** Run a memfs call; its Node-style errors become FsErrors with the same errno. */
  private call<T>(verb: string, path: string, fn: () => T): T {
    try {
      return fn()
    } catch (err) {
      throw toFsError(err, `memory ${verb} ${path}`)
    }
  }
}

function kindOf(st: MemStats): NodeKind {
  if (st.isDirectory()) return 'dir'
  if (st.isSymbolicLink()) return 'symlink'
  return 'file'
}

function toStat(st: MemStats): Stat {
  return {
    kind: kindOf(st),
    mode: Number(st.mode) & 0o7777,
    size: Number(st.size),
    atimeMs: Number(st.atimeMs),
    mtimeMs: Number(st.mtimeMs),
    ctimeMs: Number(st.ctimeMs),
    nlink: Number(st.nlink),
    uid: Number(st.uid),
    gid: Number(st.gid),
  }
}
