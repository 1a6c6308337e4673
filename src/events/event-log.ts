// One namespace's event stream as a file: JSON lines at fixed byte offsets since the log began,
// so every reader (`cat` from 0, `tail -f` from the end) sees the same bytes at the same offset.
// Only the newest MAX_BYTES are kept: a reader that fell behind is told how much it missed by a
// marker line and carries on from the oldest line kept. Readers pull; nothing ever waits for a
// reader, so one that stops reading cannot stall the daemon.

const MAX_BYTES = 1 << 20

export interface LogRead {
  data: Buffer
  /** Where, in log offsets, the read ended. */
  next: number
}

export class EventLog {
  private chunks: Buffer[] = []
  /** Log offset of chunks[0]. */
  private start = 0
  private end = 0
  private kept = 0
  private waiters: Array<() => void> = []
  private lastMs = Date.now()

  constructor(private readonly maxBytes = MAX_BYTES) {}

  get size(): number {
    return this.end
  }

  get modifiedMs(): number {
    return this.lastMs
  }

  append(line: string): void {
    const buf = Buffer.from(line.endsWith('\n') ? line : `${line}\n`)
    this.chunks.push(buf)
    this.end += buf.length
    this.kept += buf.length
    this.lastMs = Date.now()
    while (this.kept > this.maxBytes && this.chunks.length > 1) {
      const dropped = this.chunks.shift()!
      this.start += dropped.length
      this.kept -= dropped.length
    }
    const waiters = this.waiters
    this.waiters = []
    for (const w of waiters) w()
  }

  /**
   * Up to `length` bytes from log offset `pos`. Before the oldest line kept: a marker saying how
   * many bytes were dropped, and `next` jumps to the oldest line kept.
   */
  read(pos: number, length: number): LogRead {
    if (pos < this.start) {
      const marker = Buffer.from(`${JSON.stringify({ type: 'dropped', bytes: this.start - pos })}\n`)
      return { data: marker.subarray(0, length), next: this.start }
    }
    const out: Buffer[] = []
    let at = this.start
    let want = Math.min(length, this.end - pos)
    for (const c of this.chunks) {
      if (want <= 0) break
      const cEnd = at + c.length
      if (cEnd > pos) {
        const from = Math.max(0, pos - at)
        const piece = c.subarray(from, Math.min(c.length, from + want))
        out.push(piece)
        want -= piece.length
      }
      at = cEnd
    }
    const data = Buffer.concat(out)
    return { data, next: pos + data.length }
  }

  /** Resolves once the log has grown past `pos` (at once if it already has). */
  waitBeyond(pos: number): Promise<void> {
    if (this.end > pos) return Promise.resolve()
    return new Promise((resolve) => this.waiters.push(resolve))
  }

  /** Wake every waiting reader (the stream is closing). */
  wakeAll(): void {
    const waiters = this.waiters
    this.waiters = []
    for (const w of waiters) w()
  }
}
