// send_notify's rules: which peer a reference names, and which of its links carries the message.

import type { PeerLink } from '../peer-link.js'
import type { PeerStore } from './peer-store.js'

/** `notify` refused: the code is an errno the control API passes on. */
export class NotifyError extends Error {
  constructor(
    readonly code: 'ENOENT' | 'EINVAL' | 'EACCES' | 'ENOTCONN',
    message: string,
  ) {
    super(message)
  }
}

/** The key `ref` names: a known key, or a unique prefix of one (connected or known by gossip). */
export function resolvePeer(links: Iterable<PeerLink>, store: PeerStore, ref: string): string {
  const known = new Set<string>()
  for (const l of links) if (l.key) known.add(l.key)
  for (const ns of store.namespaces()) for (const info of store.live(ns)) known.add(info.agent)
  if (known.has(ref)) return ref
  const matches = [...known].filter((k) => k.startsWith(ref))
  if (matches.length === 1) return matches[0]!
  if (matches.length === 0)
    throw new NotifyError(
      'ENOENT',
      `no known peer ${JSON.stringify(ref)}: give a node key (or a unique prefix of one) of a connected peer or a known member`,
    )
  throw new NotifyError(
    'EINVAL',
    `peer ${JSON.stringify(ref)} is ambiguous: it starts ${matches.length} known keys (${matches.map((k) => k.slice(0, 12)).join(', ')}); give more of the key`,
  )
}

/** The link to `key` a notify in `ns` goes over; ENOTCONN when there is none. */
export function notifyLink(links: Iterable<PeerLink>, key: string, ns: string): PeerLink {
  const conns = [...links].filter((l) => l.key === key)
  // A connection that is closing would drop the message silently; the one an invitation was
  // redeemed on is about to close.
  const usable = conns.filter((l) => l.shared.has(ns) && l.conn.isOpen)
  const link = usable.find((l) => !l.redeeming && !l.handshake.peerInvitation) ?? usable[0]
  if (link) return link
  throw new NotifyError(
    'ENOTCONN',
    conns.length > 0
      ? `peer ${key} is connected but does not share namespace ${ns} with this node yet`
      : `peer ${key} is not connected to this node`,
  )
}
