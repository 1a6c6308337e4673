// What the control API shows of the node's peers (JSON-ready): the members of a namespace with
// their health, the live connections, and each namespace's sync state. Read-only over what the
// node, its links and its peer store hold.

import type { PeerLink } from '../peer-link.js'
import type { SyncHost } from '../protocol/sync-host.js'
import type { PeerMeta } from './peer-meta.js'
import type { PeerStore } from './peer-store.js'

// The views are the control API's wire types: one declaration, in api/.
import type { ConnectedPeerView, PeerView } from '../../api/wire.js'

export type { ConnectedPeerView, PeerView }

export interface NamespaceSyncView {
  id: string
  connectedPeers: number
  knownPeers: number
  lastReconciledAtMs: number | null
  pendingBlobFetches: number
}

export interface SyncStatus {
  nodeId: string
  urls: string[]
  uptimeSeconds: number
  connectedPeers: ConnectedPeerView[]
  namespaces: NamespaceSyncView[]
}

/** What the views read. */
export interface ViewSource {
  host: SyncHost
  store: PeerStore
  meta: PeerMeta
  links: ReadonlySet<PeerLink>
  url: string
  startedMs: number
  reconciledAt: ReadonlyMap<string, number>
}

/** The members of `ns` this node knows of (by gossip or a live connection), with their health. */
export function peersOf(src: ViewSource, ns: string): PeerView[] {
  // A member that left keeps its info until it expires, but is no peer of the namespace.
  const keys = new Set(
    src.store
      .live(ns)
      .filter((i) => src.host.isMember(ns, i.agent))
      .map((i) => i.agent),
  )
  for (const l of src.links) if (l.key && l.shared.has(ns)) keys.add(l.key)
  return [...keys].sort().map((key) => {
    const info = src.store.get(ns, key)
    const h = src.meta.get(key)
    const live = info && !info.isTombstone ? info : undefined
    return {
      key,
      urls: live?.urls ?? urlsOf(src, key),
      expiresAtMs: live?.expiresAtMs ?? null,
      lastSeenMs: h?.lastSeenMs ?? null,
      failures: h?.failures ?? 0,
      unresponsiveSinceMs: h?.unresponsiveSinceMs ?? null,
      connected: [...src.links].some((l) => l.key === key && l.shared.has(ns)),
    }
  })
}

/** This node as peers see it, its connections, and each namespace's sync state. */
export function syncStatus(src: ViewSource): SyncStatus {
  const byKey = new Map<string, PeerLink[]>()
  for (const l of src.links) if (l.key) byKey.set(l.key, [...(byKey.get(l.key) ?? []), l])
  const connectedPeers = [...byKey]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([key, links]) => ({
      key,
      urls: urlsOf(src, key),
      direction: links[0]!.dialedUrl ? ('out' as const) : ('in' as const),
      connections: links.length,
      namespaces: [...new Set(links.flatMap((l) => [...l.shared]))].sort(),
    }))
  const namespaces = src.host.namespaceIds().map((ns) => {
    const pending = new Set<string>()
    for (const l of src.links) for (const [hash, n] of l.session?.wanted ?? []) if (n === ns) pending.add(hash)
    return {
      id: ns,
      connectedPeers: connectedPeers.filter((c) => c.namespaces.includes(ns)).length,
      knownPeers: src.store.live(ns).filter((i) => src.host.isMember(ns, i.agent)).length,
      lastReconciledAtMs: src.reconciledAt.get(ns) ?? null,
      pendingBlobFetches: pending.size,
    }
  })
  return {
    nodeId: src.host.identity.publicKey,
    urls: src.url ? [src.url] : [],
    uptimeSeconds: Math.round((Date.now() - src.startedMs) / 1000),
    connectedPeers,
    namespaces,
  }
}

/** Every address `key` is known at: the URLs this node dialed it at, and those of its infos. */
export function urlsOf(src: Pick<ViewSource, 'links' | 'store'>, key: string): string[] {
  const urls = new Set<string>()
  for (const l of src.links) if (l.key === key && l.dialedUrl) urls.add(l.dialedUrl)
  for (const ns of src.store.namespaces()) {
    const info = src.store.get(ns, key)
    if (info && !info.isTombstone) for (const u of info.urls) urls.add(u)
  }
  return [...urls]
}
