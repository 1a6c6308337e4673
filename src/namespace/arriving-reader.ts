// The content of a binary whose first version is still arriving from peers (no complete version
// of it is on this node yet): an open succeeds and shows the arriving version's size, and reads
// wait until a complete version is here, then keep reading that one (the open's snapshot). A
// read that waited `waitMs` in vain fails with EIO, naming what is missing and from whom; the
// next read waits again. The caller's interrupt (a signal) ends the wait at the FUSE boundary
// (fuse/binding.ts answers an interrupted read EINTR at once).

import type { ContentReader } from '../model/content.js'
import { fsError } from '../vfs/errors.js'

/** How often a waiting read looks whether the chunks arrived (a cheap look in the store). */
const POLL_MS = 50

export class ArrivingReader implements ContentReader {
  private pinned: ContentReader | undefined
  private waiting: Promise<void> | undefined

  constructor(
    /** The arriving version's size: what stat showed, so what a reader expects to read. */
    readonly size: number,
    /** The reader of a complete version once there is one, else undefined. */
    private readonly complete: () => ContentReader | undefined,
    /** What is missing and from whom it is expected, for the error. */
    private readonly describe: () => string,
    private readonly waitMs: number,
  ) {}

  ready(): Promise<void> {
    if (this.pinned || (this.pinned = this.complete())) return Promise.resolve()
    // Concurrent reads (readahead) share one wait; a failed wait is not kept, so a later read waits anew.
    this.waiting ??= this.wait().finally(() => (this.waiting = undefined))
    return this.waiting
  }

  read(position: number, length: number): Buffer {
    if (!this.pinned) throw fsError('EIO', `not arrived yet: ${this.describe()}`)
    return this.pinned.read(position, length)
  }

  private async wait(): Promise<void> {
    const deadline = Date.now() + this.waitMs
    while (!(this.pinned = this.complete())) {
      if (Date.now() >= deadline) throw fsError('EIO', `waited ${this.waitMs} ms in vain for ${this.describe()}`)
      await new Promise((r) => setTimeout(r, POLL_MS))
    }
  }
}
