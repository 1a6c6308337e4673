// The verbs of the whole tree: each call is routed through the MountTable to one handler, with
// the rules that belong to the tree rather than to any handler: mount points show up in their
// parent's listing, cannot be removed or renamed (EBUSY), a rename never crosses handlers (EXDEV,
// so `mv` copies), and a verb the handler lacks answers EROFS or ENOTSUP.

import { fsError, type ErrnoCode } from './errors.js'
import type { AttrChanges, Caller, Handler, OpenFile, OpenFlags, Stat, StatFs, XattrSetMode } from './handler.js'
import type { MountTable, Resolved } from './mount-table.js'
import { normalizePath } from './path.js'

type Verb = Exclude<keyof Handler, 'kind' | 'source'>

export class Vfs {
  private readonly startedMs = Date.now()

  constructor(readonly table: MountTable) {}

  resolve(path: string): Resolved {
    return this.table.resolve(path)
  }

  async stat(path: string): Promise<Stat> {
    const { handler, rel } = this.resolve(path)
    try {
      return await handler.stat(rel)
    } catch (err) {
      // A directory that exists only because something is mounted below it.
      if (isCode(err, 'ENOENT') && this.table.hasMountBelow(path)) return this.syntheticDir()
      throw err
    }
  }

  async list(path: string): Promise<string[]> {
    const { handler, rel } = this.resolve(path)
    let names: string[]
    try {
      names = await handler.list(rel)
    } catch (err) {
      if (!(isCode(err, 'ENOENT') && this.table.hasMountBelow(path))) throw err
      names = []
    }
    const mounted = this.table.mountNamesBelow(path)
    if (mounted.length === 0) return names
    const seen = new Set(names)
    return names.concat(mounted.filter((n) => !seen.has(n)))
  }

  async open(path: string, flags: OpenFlags): Promise<OpenFile> {
    const { handler, rel } = this.resolve(path)
    return handler.open(rel, flags)
  }

  async create(path: string, mode: number, flags: OpenFlags): Promise<OpenFile> {
    this.refuseMountPoint(path, 'create', 'EEXIST')
    const { handler, rel } = this.resolve(path)
    return need(handler, 'create', 'EROFS').call(handler, rel, mode, flags)
  }

  async mkdir(path: string, mode: number): Promise<void> {
    this.refuseMountPoint(path, 'mkdir', 'EEXIST')
    const { handler, rel } = this.resolve(path)
    return need(handler, 'mkdir', 'EROFS').call(handler, rel, mode)
  }

  async unlink(path: string): Promise<void> {
    this.refuseMountPoint(path, 'unlink', 'EBUSY')
    const { handler, rel } = this.resolve(path)
    return need(handler, 'unlink', 'EROFS').call(handler, rel)
  }

  /**
   * Removing a mount point asks the handler mounted there to remove its own root (a replicated
   * namespace agrees when it is empty; most handlers answer EBUSY); if it agrees, it is unmounted.
   */
  async rmdir(path: string): Promise<void> {
    const at = normalizePath(path)
    if (this.table.isMountPoint(at) && !this.table.hasMountBelow(at)) {
      const { handler } = this.resolve(at)
      await need(handler, 'rmdir', 'EBUSY').call(handler, '/')
      // The handler's owner may have unmounted it already (a deleted namespace does).
      if (this.table.isMountPoint(at)) this.table.unmount(at)
      await handler.close?.()
      return
    }
    this.refuseMountPoint(at, 'rmdir', 'EBUSY')
    const { handler, rel } = this.resolve(at)
    return need(handler, 'rmdir', 'EROFS').call(handler, rel)
  }

  async rename(from: string, to: string, caller?: Caller): Promise<void> {
    this.refuseMountPoint(from, 'rename', 'EBUSY')
    this.refuseMountPoint(to, 'rename onto', 'EBUSY')
    const src = this.resolve(from)
    const dst = this.resolve(to)
    if (src.handler !== dst.handler || src.mountPath !== dst.mountPath) {
      throw fsError('EXDEV', `rename ${from} -> ${to} crosses handlers (${src.mountPath} -> ${dst.mountPath})`)
    }
    return need(src.handler, 'rename', 'EROFS').call(src.handler, src.rel, dst.rel, caller)
  }

  async setattr(path: string, changes: AttrChanges): Promise<void> {
    const { handler, rel } = this.resolve(path)
    return need(handler, 'setattr', 'EROFS').call(handler, rel, changes)
  }

  async symlink(target: string, path: string): Promise<void> {
    this.refuseMountPoint(path, 'symlink', 'EEXIST')
    const { handler, rel } = this.resolve(path)
    return need(handler, 'symlink', 'EROFS').call(handler, target, rel)
  }

  async readlink(path: string): Promise<string> {
    const { handler, rel } = this.resolve(path)
    return need(handler, 'readlink', 'EINVAL').call(handler, rel)
  }

  async getxattr(path: string, name: string): Promise<Buffer> {
    const { handler, rel } = this.resolve(path)
    return need(handler, 'getxattr', 'ENOTSUP').call(handler, rel, name)
  }

  async listxattr(path: string): Promise<string[]> {
    const { handler, rel } = this.resolve(path)
    // Listing nothing is the honest answer of a handler without attributes (`getfattr -d` is quiet).
    return handler.listxattr ? handler.listxattr(rel) : []
  }

  async setxattr(path: string, name: string, value: Buffer, mode: XattrSetMode): Promise<void> {
    const { handler, rel } = this.resolve(path)
    return need(handler, 'setxattr', 'ENOTSUP').call(handler, rel, name, value, mode)
  }

  async removexattr(path: string, name: string): Promise<void> {
    const { handler, rel } = this.resolve(path)
    return need(handler, 'removexattr', 'ENOTSUP').call(handler, rel, name)
  }

  async statfs(path: string): Promise<StatFs> {
    const { handler } = this.resolve(path)
    if (handler.statfs) return handler.statfs()
    const root = this.resolve('/').handler
    if (root.statfs) return root.statfs()
    return { blockSize: 4096, blocks: 0, blocksFree: 0, blocksAvailable: 0, files: 0, filesFree: 0 }
  }

  private refuseMountPoint(path: string, verb: string, code: ErrnoCode): void {
    const at = normalizePath(path)
    if (this.table.isMountPoint(at) || this.table.hasMountBelow(at)) {
      throw fsError(code, `${verb} ${at}: a handler is mounted ${this.table.isMountPoint(at) ? 'there' : 'below it'}`)
    }
  }

  private syntheticDir(): Stat {
    const t = this.startedMs
    return { kind: 'dir', mode: 0o755, size: 0, atimeMs: t, mtimeMs: t, ctimeMs: t, nlink: 2 }
  }
}

function isCode(err: unknown, code: ErrnoCode): boolean {
  return (err as { code?: unknown } | null)?.code === code
}

/** The handler's verb, or the errno a handler without it answers. */
function need<V extends Verb>(handler: Handler, verb: V, code: ErrnoCode): NonNullable<Handler[V]> {
  const fn = handler[verb]
  if (typeof fn !== 'function') throw fsError(code, `the ${handler.kind} handler does not support ${verb}`)
  return fn as NonNullable<Handler[V]>
}
