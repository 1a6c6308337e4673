// Open resources. On one node, every writable open of a resource shares one working copy, as
// processes share a file on a local disk (O_TRUNC, a truncate by path, and several writers all
// act on the same bytes). Nothing reaches the namespace until flush/fsync/close publishes the
// working copy: that is the close-to-open contract other nodes see. A read-only open takes a
// snapshot when it opens and keeps it: what a reader opened is its copy.

import { fsError } from '../vfs/errors.js'
import type { OpenFile, OpenFlags } from '../vfs/handler.js'
import type { ContentReader } from '../model/content.js'
import type { WorkingCopy } from './working-copy.js'

export interface Publisher {
  /** Store the working copy as the resource's content, if it changed. */
  publish(copy: WorkingCopy): void
  /** The last writable handle of `copy` closed. */
  release(copy: WorkingCopy): void
}

/** A writable open: reads and writes go to the shared working copy. */
export class WritableFile implements OpenFile {
  private released = false

  constructor(
    private readonly copy: WorkingCopy,
    private readonly flags: OpenFlags,
    private readonly publisher: Publisher,
  ) {
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

/**
 * A read-only open: the content as it was when opened (published content is immutable). Content
 * still arriving from peers (a binary's first version) is waited for by each read, not the open.
 */
export function readerOpen(content: ContentReader): OpenFile {
  return {
    async read(position, length) {
      await content.ready?.()
      return Buffer.from(content.read(position, length))
    },
    async release() {},
  }
}
