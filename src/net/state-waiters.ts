/**
 * Waiting for a state without polling: `until` checks its condition at once and again on every
 * `changed()` (the owner calls it where the state can change), and gives up at a deadline.
 */
export class StateWaiters {
  private readonly waiting = new Set<() => void>()

  /** Resolves true once `holds()` is true, or false when `timeoutMs` passed first. */
  until(holds: () => boolean, timeoutMs: number): Promise<boolean> {
    if (holds()) return Promise.resolve(true)
    return new Promise((resolve) => {
      const check = () => {
        if (!holds()) return
        finish(true)
      }
      const finish = (ok: boolean) => {
        clearTimeout(timer)
        this.waiting.delete(check)
        resolve(ok)
      }
      const timer = setTimeout(() => finish(false), timeoutMs)
      this.waiting.add(check)
    })
  }

  changed(): void {
    for (const check of [...this.waiting]) check()
  }
}
