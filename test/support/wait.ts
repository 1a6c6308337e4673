// The one polling helper of the tests: wait for a condition that another process, a peer or a
// timer makes true, bounded, and say what was awaited when it never came.

export interface WaitOptions {
  /** What is awaited, for the failure message ("B to see the file"). */
  what: string
  /** Give up after this long (default 10 s). */
  timeoutMs?: number
  /** Check this often (default 25 ms). */
  intervalMs?: number
}

/** What waitFor throws when the condition did not come true in time (an error of `cond` passes as it is). */
export class WaitTimeout extends Error {
  override readonly name = 'WaitTimeout'
}

/** Polls `cond` until it returns true; throws WaitTimeout, naming `what`, when `timeoutMs` passes first. */
export async function waitFor(
  cond: () => Promise<boolean> | boolean,
  { what, timeoutMs = 10_000, intervalMs = 25 }: WaitOptions,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await cond()) return
    await new Promise((r) => setTimeout(r, intervalMs))
  }
  throw new WaitTimeout(`timed out after ${timeoutMs} ms waiting for ${what}`)
}
