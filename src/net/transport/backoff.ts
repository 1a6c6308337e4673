// Reconnect delays: doubling from `minMs` to `maxMs`, each drawn at random from its upper half,
// so that nodes cut off together (a restarted hub, a network back) do not all redial at once.

export class Backoff {
  private ceilingMs: number

  constructor(
    private readonly minMs: number,
    private readonly maxMs: number,
    private readonly random: () => number = Math.random,
  ) {
    this.ceilingMs = minMs
  }

  /** The delay before the next attempt; each call doubles the next one's ceiling. */
  next(): number {
    const ms = this.ceilingMs / 2 + (this.random() * this.ceilingMs) / 2
    this.ceilingMs = Math.min(this.ceilingMs * 2, this.maxMs)
    return Math.round(ms)
  }

  /** A connection succeeded: start again from the shortest delay. */
  reset(): void {
    this.ceilingMs = this.minMs
  }
}

/** The pause after the `failures`-th failed dial of a member gossip named (not jittered: the dial loop runs every second). */
export function dialBackoffMs(failures: number, minMs: number, maxMs: number): number {
  return Math.min(minMs * 2 ** failures, maxMs)
}
