// The peer meta store (Kitsune2's): what this node observed of each peer, by node key — when it
// last heard from it, how many dials in a row failed, and since when it has been unresponsive
// (the first failure since the last success). Local observations: never gossiped or persisted.
// Bounded: beyond MAX_ENTRIES the least recently touched peer that is not connected is dropped.

export const MAX_ENTRIES = 4096

export interface PeerHealth {
  lastSeenMs: number | null
  /** Failed dials since the last successful connection. */
  failures: number
  unresponsiveSinceMs: number | null
  /** When the current run of dial backoff allows the next attempt. */
  nextDialAtMs: number
}

export class PeerMeta {
  private readonly entries = new Map<string, PeerHealth>()

  constructor(private readonly isConnected: (key: string) => boolean) {}

  get(key: string): PeerHealth | undefined {
    return this.entries.get(key)
  }

  /** A message (or a completed handshake) from `key`. */
  seen(key: string, now: number): void {
    this.touch(key).lastSeenMs = now
  }

  /** A connection to `key` completed its handshake: it is responsive again. */
  connected(key: string, now: number): void {
    const h = this.touch(key)
    h.lastSeenMs = now
    h.failures = 0
    h.unresponsiveSinceMs = null
    h.nextDialAtMs = 0
  }

  /** A dial of `key` failed; the next one waits `backoffMs`. */
  dialFailed(key: string, now: number, backoffMs: number): void {
    const h = this.touch(key)
    h.failures++
    h.unresponsiveSinceMs ??= now
    h.nextDialAtMs = now + backoffMs
  }

  /** Hold off dialing `key` until `atMs` (a dial race, or a fresh disconnect). */
  deferDial(key: string, atMs: number): void {
    const h = this.touch(key)
    h.nextDialAtMs = Math.max(h.nextDialAtMs, atMs)
  }

  private touch(key: string): PeerHealth {
    let h = this.entries.get(key)
    if (h) this.entries.delete(key)
    else h = { lastSeenMs: null, failures: 0, unresponsiveSinceMs: null, nextDialAtMs: 0 }
    this.entries.set(key, h)
    if (this.entries.size > MAX_ENTRIES) {
      for (const k of this.entries.keys()) {
        if (k === key || this.isConnected(k)) continue
        this.entries.delete(k)
        break
      }
    }
    return h
  }
}
