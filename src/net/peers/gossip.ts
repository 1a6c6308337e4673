// Agent-info gossip and member dialing (Kitsune2's space): per namespace the node signs an agent
// info (its key, URL, expiry; agent-info.ts) and gossips it, with the members' infos it holds
// (peer-store.ts), to every peer sharing the namespace, on connect, when they change and with
// each reconciliation. It dials the members it learns of and is not connected to, so a node that
// joined through one member meets the others; what it observes of each peer (last seen, failed
// dials) is in peer-meta.ts.

import type { Logger } from '../../util/log.js'
import type { PeerLink } from '../peer-link.js'
import { MAX_INFOS_PER_MESSAGE } from '../protocol/peer-messages.js'
import type { SyncHost } from '../protocol/sync-host.js'
import { dialBackoffMs } from '../transport/backoff.js'
import { AgentInfoError, signAgentInfo, type SignedAgentInfo } from './agent-info.js'
import type { PeerMeta } from './peer-meta.js'
import type { PeerStore } from './peer-store.js'

/** How long an own agent info is valid; it is re-signed when half of that is left. */
export const AGENT_INFO_TTL_MS = 20 * 60_000
export const DIAL_BACKOFF_MIN_MS = 250
export const DIAL_BACKOFF_MAX_MS = 10_000
/**
 * When two nodes learn of each other at once, the one with the smaller key dials first and the
 * other waits this long, so that they usually end up with one connection rather than two.
 */
const DIAL_YIELD_MS = 3_000

/** What gossip needs of the node's connections. */
export interface GossipLinks {
  /** The node's own URL (empty before it listens). */
  url(): string
  /** Every link, established or not. */
  links(): Iterable<PeerLink>
  /** Namespaces the node watches (holds and pushes). */
  watched(): Iterable<string>
  /** Keys keepConnected dials by URL: gossip does not dial them a second time. */
  isPinned(key: string): boolean
  /** Dial member `key` at `url` (throws when the URL cannot be dialed). */
  dialMember(url: string, key: string): void
}

export class Gossip {
  constructor(
    private readonly host: SyncHost,
    private readonly store: PeerStore,
    private readonly meta: PeerMeta,
    private readonly net: GossipLinks,
    private readonly log: Logger,
  ) {}

  /** Send `infos` of `ns` over `link`, in messages of the largest size the protocol allows. */
  send(link: PeerLink, ns: string, infos: SignedAgentInfo[] = this.store.all(ns)): void {
    for (let i = 0; i < infos.length; i += MAX_INFOS_PER_MESSAGE)
      link.send({ type: 'agentInfos', ns, infos: infos.slice(i, i + MAX_INFOS_PER_MESSAGE) })
  }

  /** Agent infos of `ns` from `from`: keep the valid, newer ones, pass them on, meet new members. */
  learn(ns: string, infos: SignedAgentInfo[], from: PeerLink): void {
    const now = Date.now()
    const accepted: SignedAgentInfo[] = []
    for (const info of infos) {
      try {
        const result = this.store.offer(info, now)
        if (result === 'accepted') accepted.push(info)
        else if (result === 'full')
          this.log.warn(`agent info of ${info.agent.slice(0, 8)} in ${ns} dropped: the peer store of the namespace is full`)
      } catch (err) {
        if (!(err instanceof AgentInfoError)) throw err
        this.log.warn(`agent info from ${from.key!.slice(0, 8)} refused: ${err.message}`)
      }
    }
    this.accepted(ns, accepted, from)
  }

  /** Sign this node's info for `ns` (a tombstone when leaving) and tell the peers sharing it. */
  signOwn(ns: string, isTombstone = false): void {
    const now = Date.now()
    const prev = this.store.get(ns, this.host.identity.publicKey)
    // Peers keep only a strictly newer info: never sign two in one millisecond.
    const createdAtMs = Math.max(now, (prev?.createdAtMs ?? 0) + 1)
    const info = signAgentInfo(this.host.identity, {
      space: ns,
      urls: [this.net.url()],
      createdAtMs,
      expiresAtMs: createdAtMs + AGENT_INFO_TTL_MS,
      isTombstone,
    })
    if (!isTombstone) this.store.putOwn(info)
    for (const l of this.net.links()) if (l.shared.has(ns)) this.send(l, ns, [info])
  }

  /** Expiry, re-signing, pending infos and dials of learned members (run every second or so). */
  maintain(): void {
    const now = Date.now()
    const self = this.host.identity.publicKey
    for (const ns of this.net.watched()) {
      const own = this.store.get(ns, self)
      if (!own || own.expiresAtMs - now < AGENT_INFO_TTL_MS / 2) this.signOwn(ns)
    }
    for (const gone of this.store.expire(now)) this.log.debug(`agent info of ${gone.agent.slice(0, 8)} in ${gone.space} expired`)
    const promoted = new Map<string, SignedAgentInfo[]>()
    for (const info of this.store.promote()) promoted.set(info.space, [...(promoted.get(info.space) ?? []), info])
    for (const [ns, infos] of promoted) this.accepted(ns, infos)
    this.dialMembers(now)
  }

  /** A dial of `key` (named by gossip) got no handshake: count it and back off. */
  dialFailed(key: string, url: string, why: string): void {
    const failures = (this.meta.get(key)?.failures ?? 0) + 1
    this.meta.dialFailed(key, Date.now(), dialBackoffMs(failures, DIAL_BACKOFF_MIN_MS, DIAL_BACKOFF_MAX_MS))
    if (failures === 1) this.log.info(`peer ${key.slice(0, 8)} is unresponsive: cannot reach it at ${url}${why ? ` (${why})` : ''}`)
    else this.log.debug(`peer ${key.slice(0, 8)}: dial ${failures} to ${url} failed${why ? ` (${why})` : ''}`)
  }

  private accepted(ns: string, infos: SignedAgentInfo[], from?: PeerLink): void {
    if (infos.length === 0) return
    const now = Date.now()
    for (const info of infos) {
      if (info.isTombstone || this.meta.get(info.agent) || this.connected(info.agent)) continue
      this.log.info(`learned of member ${info.agent.slice(0, 8)} of ${ns} at ${info.urls.join(', ') || 'no address'}`)
      this.meta.deferDial(info.agent, this.host.identity.publicKey < info.agent ? now : now + DIAL_YIELD_MS)
    }
    for (const l of this.net.links()) if (l !== from && l.shared.has(ns)) this.send(l, ns, infos)
  }

  /** Dial every live member this node knows an address of and has no connection to. */
  private dialMembers(now: number): void {
    const targets = new Map<string, string[]>()
    for (const ns of this.host.namespaceIds()) {
      for (const info of this.store.live(ns)) {
        if (info.urls.length === 0 || !this.host.isMember(ns, info.agent)) continue
        targets.set(info.agent, [...new Set([...(targets.get(info.agent) ?? []), ...info.urls])])
      }
    }
    for (const [key, urls] of targets) {
      if (this.net.isPinned(key) || [...this.net.links()].some((l) => l.key === key || l.expectedPeer === key)) continue
      const h = this.meta.get(key)
      if (h && h.nextDialAtMs > now) continue
      const url = urls[(h?.failures ?? 0) % urls.length]!
      this.log.debug(`dialing member ${key.slice(0, 8)} at ${url}`)
      try {
        this.net.dialMember(url, key)
      } catch (err) {
        // An address gossip gave that cannot even be dialed (a malformed URL) counts as a failure.
        this.dialFailed(key, url, (err as Error).message)
      }
    }
  }

  private connected(key: string): boolean {
    for (const l of this.net.links()) if (l.key === key) return true
    return false
  }
}
