// Which peers this node asked for a blob: the sessions' open wants (protocol/sync-session.ts),
// and for a peer that went away before answering, the last one asked (so a read that waits in
// vain, and the transfers view, can still say whom the data was expected from).

import type { PeerLink } from './peer-link.js'

/** A peer asked for a blob, and whether it is still connected. */
export interface BlobSource {
  peer: string
  connected: boolean
}

/** Hashes remembered for peers that went away; the oldest are forgotten beyond this. */
const REMEMBERED_MAX = 4096

export class BlobAsks {
  private readonly lastAsked = new Map<string, string>()

  /** A link closed: remember whom its open wants were asked of. */
  linkClosed(link: PeerLink): void {
    const key = link.key
    if (!key) return
    for (const hash of link.session?.wanted.keys() ?? []) {
      this.lastAsked.delete(hash)
      this.lastAsked.set(hash, key)
    }
    for (const hash of this.lastAsked.keys()) {
      if (this.lastAsked.size <= REMEMBERED_MAX) break
      this.lastAsked.delete(hash)
    }
  }

  /** The peers asked for any of `hashes`: connected ones with an open want, else those last asked. */
  askedFor(links: Iterable<PeerLink>, hashes: readonly string[]): BlobSource[] {
    const wanted = new Set(hashes)
    const live = new Set<string>()
    for (const l of links) {
      if (!l.key || !l.session) continue
      for (const hash of l.session.wanted.keys()) {
        if (wanted.has(hash)) {
          live.add(l.key)
          break
        }
      }
    }
    if (live.size > 0) return [...live].sort().map((peer) => ({ peer, connected: true }))
    const gone = new Set<string>()
    for (const hash of hashes) {
      const key = this.lastAsked.get(hash)
      if (key) gone.add(key)
    }
    return [...gone].sort().map((peer) => ({ peer, connected: false }))
  }
}
