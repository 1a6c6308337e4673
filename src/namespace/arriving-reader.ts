// The content of a binary whose first version is still arriving from peers (no complete version
// of it is on this node yet): an open succeeds and shows the arriving version's size, and reads
// wait until a complete version is here, then keep reading that one (the open's snapshot). A
// read fails with EIO once `waitMs` passed without a byte arriving (a big file on a slow link
// keeps waiting while it progresses), naming what is missing and from whom; the next read waits
// again. The caller's interrupt (a signal) ends the wait at the FUSE boundary
// (fuse/binding.ts answers an interrupted read EINTR at once).

import type { ContentReader } from '../model/content.js'
import { fsError } from '../vfs/errors.js'

/** How often a waiting read looks whether the chunks arrived (a look in the store per chunk). */
const POLL_MS = 100

/** A complete version's reader once there is one; else how many bytes of the arriving one are here. */
export type Arrival = { reader: ContentReader } | { have: number }

export class ArrivingReader implements ContentReader {
  private pinned: ContentReader | undefined
  private waiting: Promise<void> | undefined

  constructor(
    /** The arriving version's size: what stat showed, so what a reader expects to read. */
    readonly size: number,
    private readonly look: () => Arrival,
    /** What is missing and from whom it is expected, for the error. */
    private readonly describe: () => string,
    private readonly waitMs: number,
  ) {}

  ready(): Promise<void> {
    if (this.pinned || this.pin()) return Promise.resolve()
    // Concurrent reads (readahead) share one wait; a failed wait is not kept, so a later read waits anew.
    this.waiting ??= this.wait().finally(() => (this.waiting = undefined))
    return this.waiting
  }

  read(position: number, length: number): Buffer {
    if (!this.pinned) throw fsError('EIO', `not arrived yet: ${this.describe()}`)
    return this.pinned.read(position, length)
  }

  private async wait(): Promise<void> {
    let have = -1
    let progressMs = Date.now()
    for (;;) {
      const now = this.look()
      if ('reader' in now) {
        this.pinned = now.reader
        return
      }
      if (now.have > have) {
        have = now.have
        progressMs = Date.now()
      } else if (Date.now() - progressMs >= this.waitMs) {
        throw fsError('EIO', `nothing arrived for ${this.waitMs} ms: ${this.describe()}`)
      }
      await new Promise((r) => setTimeout(r, POLL_MS))
    }
  }

  private pin(): boolean {
    const now = this.look()
    if ('reader' in now) this.pinned = now.reader
    return this.pinned !== undefined
  }
}
