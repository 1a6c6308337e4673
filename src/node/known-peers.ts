// The peers this node dials at start-up: each node it joined a namespace through, by URL and
// key, remembered in the local store.

import type { MetaStore } from '../store/meta-store.js'

const PEERS_KEY = ['peers']

export interface PeerRecord {
  url: string
  publicKey: string
}

export class KnownPeers {
  constructor(private readonly meta: MetaStore) {}

  list(): PeerRecord[] {
    const v = this.meta.getMeta<unknown>(PEERS_KEY)
    return Array.isArray(v) ? v.filter((p): p is PeerRecord => typeof p?.url === 'string' && typeof p?.publicKey === 'string') : []
  }

  /** The node at `url` is `publicKey` (replacing what was known of that URL). */
  remember(url: string, publicKey: string): void {
    this.meta.setMeta(PEERS_KEY, [...this.list().filter((p) => p.url !== url), { url, publicKey }])
  }
}
