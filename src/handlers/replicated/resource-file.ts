// Open resources. On one node, every writable open of a resource shares one working copy, as
// processes share a file on a local disk (O_TRUNC, a truncate by path, and several writers all
// act on the same bytes). Nothing reaches the namespace until flush/fsync/close publishes the
// working copy: that is the close-to-open contract other nodes see. A read-only open takes a
// snapshot when it opens and keeps it: what a reader opened is its copy.
// This first version holds content in one Buffer; content docs for text and chunked binaries
// replace it (see the resources issue).

import { fsError } from '../../vfs/errors.js'
import type { OpenFile, OpenFlags } from '../../vfs/handler.js'

export class WorkingCopy {
  private buf: Buffer
  private len: number
  dirty = false
  /** Open writable handles. */
  refs = 0

  constructor(readonly id: string, content: Buffer) {
    this.buf = content
    this.len = content.length
  }

  get length(): number {
    return this.len
  }

  read(position: number, length: number): Buffer {
    const end = Math.min(this.len, position + length)
    return position >= end ? Buffer.alloc(0) : Buffer.from(this.buf.subarray(position, end))
  }

  write(data: Buffer, position: number): number {
    this.ensure(position + data.length)
    if (position > this.len) this.buf.fill(0, this.len, position)
    data.copy(this.buf, position)
    this.len = Math.max(this.len, position + data.length)
    this.dirty = true
    return data.length
  }

  truncate(size: number): void {
    this.ensure(size)
    if (size > this.len) this.buf.fill(0, this.len, size)
    this.len = size
    this.dirty = true
  }

  /** The current bytes (a view: copy it before keeping it past the next write). */
  contents(): Buffer {
    return this.buf.subarray(0, this.len)
  }

  /** Grow geometrically; bytes past `len` are zeroed when they come into use (a hole). */
  private ensure(size: number): void {
    if (size <= this.buf.length) return
    const next = Buffer.alloc(Math.max(size, this.buf.length * 2, 4096))
    this.buf.copy(next, 0, 0, this.len)
    this.buf = next
  }
}

export interface Publisher {
  /** Store the working copy as the resource's content, if it changed. */
  publish(copy: WorkingCopy): void
  /** The last writable handle of `copy` closed. */
  release(copy: WorkingCopy): void
}

/** A writable open: reads and writes go to the shared working copy. */
export class WritableFile implements OpenFile {
  private released = false

  constructor(private readonly copy: WorkingCopy, private readonly flags: OpenFlags, private readonly publisher: Publisher) {
    copy.refs++
  }

  async read(position: number, length: number): Promise<Buffer> {
    if (!this.flags.read) throw fsError('EBADF', 'the file is not open for reading')
    return this.copy.read(position, length)
  }

  async write(data: Buffer, position: number): Promise<number> {
    return this.copy.write(data, this.flags.append ? this.copy.length : position)
  }

  async truncate(size: number): Promise<void> {
    this.copy.truncate(size)
  }

  async flush(): Promise<void> {
    this.publisher.publish(this.copy)
  }

  async fsync(): Promise<void> {
    this.publisher.publish(this.copy)
  }

  async release(): Promise<void> {
    if (this.released) return
    this.released = true
    this.copy.refs--
    try {
      this.publisher.publish(this.copy)
    } finally {
      if (this.copy.refs === 0) this.publisher.release(this.copy)
    }
  }
}

/** A read-only open: the content as it was when opened. */
export function snapshotOpen(content: Buffer): OpenFile {
  return {
    async read(position, length) {
      return content.subarray(Math.min(position, content.length), Math.min(position + length, content.length))
    },
    async release() {},
  }
}
