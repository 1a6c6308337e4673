/** Counts a connection's messages per one-second window: more than `maxPerSecond` in one is a flood. */
export class FloodGate {
  private window = { start: Date.now(), count: 0 }

  constructor(private readonly maxPerSecond: number) {}

  /** Count one message; false when it exceeds the limit within the current second. */
  admit(now = Date.now()): boolean {
    if (++this.window.count > this.maxPerSecond) {
      if (now - this.window.start < 1000) return false
      this.window = { start: now, count: 1 }
    }
    return true
  }
}
