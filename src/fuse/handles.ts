// Open files by the number the kernel holds (fuse-native passes it as a uint32).

import { fsError } from '../vfs/errors.js'
import type { OpenFile } from '../vfs/handler.js'

export class HandleTable {
  private readonly open = new Map<number, OpenFile>()
  private next = 1

  add(file: OpenFile): number {
    while (this.open.has(this.next) || this.next === 0) this.next = (this.next + 1) >>> 0
    const fd = this.next
    this.next = (this.next + 1) >>> 0
    this.open.set(fd, file)
    return fd
  }

  get(fd: number): OpenFile {
    const file = this.open.get(fd)
    if (!file) throw fsError('EBADF', `no open file with handle ${fd}`)
    return file
  }

  remove(fd: number): OpenFile {
    const file = this.get(fd)
    this.open.delete(fd)
    return file
  }

  get size(): number {
    return this.open.size
  }

  all(): OpenFile[] {
    return [...this.open.values()]
  }
}
