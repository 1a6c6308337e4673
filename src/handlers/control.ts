// Control files under `MOUNT/.meshfs/` (Plan 9 / sysfs style): one JSON document per file,
// computed when the file is opened. They are local to this node and never replicate.

import { fsError } from '../vfs/errors.js'
import type { Handler, OpenFile, OpenFlags, Stat } from '../vfs/handler.js'
import { snapshotFile } from './read-only-file.js'

export type ControlFiles = Record<string, () => unknown>

export class ControlHandler implements Handler {
  readonly kind = 'control'
  private readonly createdMs = Date.now()

  constructor(private readonly files: ControlFiles) {}

  async stat(path: string): Promise<Stat> {
    const t = this.createdMs
    if (path === '/') return { kind: 'dir', mode: 0o555, size: 0, atimeMs: t, mtimeMs: t, ctimeMs: t, nlink: 2 }
    const now = Date.now()
    return { kind: 'file', mode: 0o444, size: this.render(path).length, atimeMs: now, mtimeMs: now, ctimeMs: now, nlink: 1 }
  }

  async list(path: string): Promise<string[]> {
    if (path !== '/') throw fsError('ENOTDIR', `.meshfs${path} is not a directory`)
    return Object.keys(this.files)
  }

  async open(path: string, flags: OpenFlags): Promise<OpenFile> {
    if (flags.write) throw fsError('EROFS', `.meshfs${path} is read-only`)
    if (path === '/') throw fsError('EISDIR', '.meshfs is a directory')
    return snapshotFile(this.render(path))
  }

  private render(path: string): Buffer {
    const name = path.slice(1)
    const produce = Object.hasOwn(this.files, name) ? this.files[name] : undefined
    if (!produce) throw fsError('ENOENT', `.meshfs has no file ${name}`)
    return Buffer.from(JSON.stringify(produce(), null, 2) + '\n')
  }
}
