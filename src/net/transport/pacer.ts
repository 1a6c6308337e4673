// Paces what one connection sends to at most `bytesPerSecond` on average (a token bucket one
// second deep): what exceeds it waits its turn, in order. The blobs a node serves go through it,
// so serving chunks to a peer cannot take the whole uplink (`meshfs mount --max-blob-rate`).

export class Pacer {
  private readonly queue: Array<{ bytes: number; send: () => void }> = []
  private budget: number
  private refilledMs = Date.now()
  private timer: NodeJS.Timeout | undefined

  constructor(private readonly bytesPerSecond: number) {
    this.budget = bytesPerSecond
  }

  /** Run `send` (which sends `bytes`) now if the budget allows, else once it does. */
  send(bytes: number, send: () => void): void {
    this.queue.push({ bytes, send })
    this.drain()
  }

  /** The connection closed: what waits is dropped. */
  stop(): void {
    clearTimeout(this.timer)
    this.timer = undefined
    this.queue.length = 0
  }

  private drain(): void {
    const now = Date.now()
    this.budget = Math.min(this.bytesPerSecond, this.budget + ((now - this.refilledMs) * this.bytesPerSecond) / 1000)
    this.refilledMs = now
    // A message bigger than a second's budget goes once the bucket is full, leaving it in debt.
    const affordable = (bytes: number) => this.budget >= Math.min(bytes, this.bytesPerSecond)
    while (this.queue.length > 0 && affordable(this.queue[0]!.bytes)) {
      const next = this.queue.shift()!
      this.budget -= next.bytes
      next.send()
    }
    if (this.queue.length === 0 || this.timer) return
    const short = Math.min(this.queue[0]!.bytes, this.bytesPerSecond) - this.budget
    this.timer = setTimeout(
      () => {
        this.timer = undefined
        this.drain()
      },
      Math.max(1, Math.ceil((short * 1000) / this.bytesPerSecond)),
    )
  }
}
