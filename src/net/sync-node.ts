// A node's side of replication, composed of:
// - transport/ (WebSocket: listen, dial, heartbeat, frame and flood limits, jittered backoff),
// - peer-link.ts (one connection: handshake, then a sync session),
// - protocol/ (the handshake and the sync session as pure code: sharing rules, y-sync steps per
//   doc, blob fetch; see sync-session.ts),
// - peers/ (agent-info gossip and member dialing, peer health, the status views, notify rules).
// On connect (and every RECONCILE_MS) both sides exchange state vectors for every doc of every
// shared namespace, so nothing missed while apart is lost; a change stored locally is pushed to
// every peer sharing its namespace; a peer's update is stored before it is applied or passed on
// (inform_ops_stored). A namespace is shared with a peer only if the peer's key is a member of
// it. A peer that stops being a member (it left) is dropped from the namespace at once and told
// so by a new announcement, which is also how a leaving node learns that its tombstone arrived.
// `notify` sends a member a message (send_notify) that reaches the receiver's `onNotify`.

import type { Logger } from '../util/log.js'
import { Gossip } from './peers/gossip.js'
import { notifyLink, NotifyError, resolvePeer } from './peers/notify.js'
import { PeerMeta } from './peers/peer-meta.js'
import { PeerStore, type PeerStorePersistence } from './peers/peer-store.js'
import { peersOf, syncStatus, type PeerView, type SyncStatus, type ViewSource } from './peers/views.js'
import { HANDSHAKE_TIMEOUT_MS, PeerLink, type LinkOptions, type LinkOwner } from './peer-link.js'
import { MAX_NOTIFY_BYTES } from '../api/verbs.js'
import type { SyncHost } from './protocol/sync-host.js'
import type { SessionHooks } from './protocol/sync-session.js'
import { Backoff } from './transport/backoff.js'
import { WsTransport, type ClientConnections } from './transport/websocket.js'
import { StateWaiters } from './state-waiters.js'
import { BlobAsks, type BlobSource } from './blob-asks.js'

export interface SyncOptions {
  listenHost: string
  listenPort: number
  /** Largest frame accepted; larger ones close the connection. */
  maxFrameBytes: number
  maxConnectionsPerPeer: number
  /** Messages per second a connection may send before it is closed as a flood. */
  maxMessagesPerSecond: number
  /** Bytes per second of blobs served to each connection; 0: as fast as the link goes. */
  maxBlobBytesPerSecond: number
}

export const DEFAULT_SYNC_OPTIONS: SyncOptions = {
  listenHost: '127.0.0.1',
  listenPort: 7300,
  maxFrameBytes: 16 << 20,
  maxConnectionsPerPeer: 4,
  maxMessagesPerSecond: 20_000,
  maxBlobBytesPerSecond: 0,
}

export type PeerState = 'connected' | 'disconnected' | 'reconciled'

const RECONCILE_MS = 15_000
/** Expiry, re-signing, pending infos and dials of learned members are looked at this often. */
const MAINTAIN_MS = 1_000
const RECONNECT_MIN_MS = 250
const RECONNECT_MAX_MS = 10_000

export class SyncNode {
  private readonly transport: WsTransport
  private readonly links = new Set<PeerLink>()
  private readonly gossip: Gossip
  private readonly unsubscribe = new Map<string, () => void>()
  private readonly dialers = new Map<string, { stop: boolean; timer?: NodeJS.Timeout }>()
  /** Keys keepConnected dials by URL: gossip does not dial them a second time. */
  private readonly pinned = new Set<string>()
  private readonly reconciledAt = new Map<string, number>()
  private readonly blobAsks = new BlobAsks()
  /** Woken whenever a link stops sharing a namespace or closes (awaitUnshared). */
  private readonly sharing = new StateWaiters()
  private reconcileTimer: NodeJS.Timeout | undefined
  private maintainTimer: NodeJS.Timeout | undefined
  private stopped = false
  private startedMs = Date.now()
  /** What the links call back into: kept off the public API. */
  private readonly owner: LinkOwner
  readonly peerStore: PeerStore
  readonly meta: PeerMeta
  /** Where connections to any path but `/` (the peer protocol's) go; without one they are refused. */
  clients: ClientConnections | undefined
  /** A member sent this node a message in `ns` (send_notify). */
  onNotify: (ns: string, from: string, data: string) => void = () => {}
  /** A peer started or stopped sharing `ns`, or this node caught up with it. */
  onPeerState: (ns: string, peer: string, state: PeerState) => void = () => {}

  constructor(
    readonly host: SyncHost,
    readonly opts: SyncOptions,
    readonly log: Logger,
    persistence?: PeerStorePersistence,
  ) {
    const storeOpts: ConstructorParameters<typeof PeerStore>[0] = {
      selfKey: host.identity.publicKey,
      isMember: (ns, key) => host.isMember(ns, key),
    }
    if (persistence) storeOpts.persistence = persistence
    this.peerStore = new PeerStore(storeOpts)
    this.meta = new PeerMeta((key) => this.connectionsTo(key).length > 0)
    this.owner = {
      host,
      log,
      maxBlobBytesPerSecond: opts.maxBlobBytesPerSecond,
      established: (link) => this.established(link),
      seen: (key) => this.meta.seen(key, Date.now()),
      hooksFor: (link) => this.hooksFor(link),
      closed: (link, lastError) => this.closed(link, lastError),
    }
    this.transport = new WsTransport(
      opts,
      log,
      (conn) => this.track(new PeerLink(conn, this.owner)),
      () => this.clients,
    )
    this.gossip = new Gossip(
      host,
      this.peerStore,
      this.meta,
      {
        url: () => this.url,
        links: () => this.links,
        watched: () => this.unsubscribe.keys(),
        isPinned: (key) => this.pinned.has(key),
        dialMember: (url, key) => void (this.dial(url, { expectedPeer: key }).memberDial = true),
      },
      log,
    )
  }

  /** This node's peer URL (empty before `start`). */
  get url(): string {
    return this.transport.url
  }

  async start(): Promise<void> {
    await this.transport.listen()
    this.startedMs = Date.now()
    this.reconcileTimer = setInterval(() => {
      for (const l of this.links) if (l.session) this.reconcile(l)
    }, RECONCILE_MS)
    this.reconcileTimer.unref()
    const loaded = this.peerStore.load(new Set(this.host.namespaceIds()), Date.now())
    if (loaded > 0) this.log.info(`${loaded} stored agent infos of other members loaded`)
    for (const ns of this.unsubscribe.keys()) this.gossip.signOwn(ns)
    this.maintainTimer = setInterval(() => {
      if (!this.stopped) this.gossip.maintain()
    }, MAINTAIN_MS)
    this.maintainTimer.unref()
    this.log.info(`listening at ${this.url}`)
  }

  /** Start pushing a namespace's stored changes to the peers that share it. */
  watch(ns: string): void {
    const replica = this.host.replica(ns)
    if (!replica || this.unsubscribe.has(ns)) return
    this.unsubscribe.set(
      ns,
      replica.onStored((docKey, update, from) => {
        for (const l of this.links) l.session?.push(ns, docKey, update, from)
      }),
    )
    if (this.url) this.gossip.signOwn(ns)
    for (const l of this.links) l.session?.announce()
  }

  /** Stop holding `ns`: peers sharing it get this node's tombstone (local_agent_leave). */
  unwatch(ns: string): void {
    if (this.url && this.unsubscribe.has(ns)) this.gossip.signOwn(ns, true)
    this.unsubscribe.get(ns)?.()
    this.unsubscribe.delete(ns)
    this.peerStore.dropNamespace(ns)
    this.reconciledAt.delete(ns)
    for (const l of this.links) {
      // Peers learn that this node no longer holds it, and stop sending it.
      l.session?.drop(ns)
      l.session?.announce()
    }
  }

  /**
   * Wait, at most `timeoutMs`, until no connected peer shares `ns` any more: after this node
   * marked itself left, each peer that applied the tombstone stops sharing and says so.
   * Returns how many peers shared it at the start and how many of them acknowledged.
   */
  async awaitUnshared(ns: string, timeoutMs: number): Promise<{ peers: number; acknowledged: number }> {
    const sharing = [...this.links].filter((l) => l.shared.has(ns))
    await this.sharing.until(() => !sharing.some((l) => l.shared.has(ns) && this.links.has(l)), timeoutMs)
    // Counted per peer, not per link: one peer may be connected twice (each dialled the other),
    // and it applied the tombstone once any of its links stopped sharing.
    const peers = new Set(sharing.map((l) => l.key))
    const acknowledged = new Set(sharing.filter((l) => !l.shared.has(ns)).map((l) => l.key))
    return { peers: peers.size, acknowledged: acknowledged.size }
  }

  /** Keep a connection to `url` (reconnecting with jittered backoff) for as long as the node runs. */
  keepConnected(url: string, expectedPeer: string): void {
    if (this.dialers.has(url)) return
    this.pinned.add(expectedPeer)
    const state: { stop: boolean; timer?: NodeJS.Timeout } = { stop: false }
    this.dialers.set(url, state)
    const backoff = new Backoff(RECONNECT_MIN_MS, RECONNECT_MAX_MS)
    const dial = () => {
      if (state.stop || this.stopped) return
      const link = this.dial(url, { expectedPeer })
      link.conn.once('open', () => backoff.reset())
      link.conn.once('close', () => {
        if (state.stop || this.stopped) return
        state.timer = setTimeout(dial, backoff.next())
        state.timer.unref()
      })
    }
    dial()
  }

  /** Redeem an invitation at `url`; resolves with the namespace id once admitted. */
  join(url: string, token: string, inviter: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const link = this.dial(url, { invitation: token, expectedPeer: inviter })
      const timer = setTimeout(() => {
        reject(new Error(`no answer from ${url} within ${HANDSHAKE_TIMEOUT_MS / 1000} s`))
        link.conn.terminate()
      }, HANDSHAKE_TIMEOUT_MS)
      link.onJoined = (ns) => {
        clearTimeout(timer)
        resolve(ns)
        // The lasting connection is the one keepConnected dials; two between one pair of nodes
        // would deliver everything twice.
        setTimeout(() => link.conn.close(1000, 'joined'), 1000).unref()
      }
      link.onError = (code, message) => {
        clearTimeout(timer)
        reject(Object.assign(new Error(message), { code }))
      }
      link.conn.once('error', (err) => {
        clearTimeout(timer)
        reject(new Error(`cannot reach ${url}: ${err.message}`))
      })
      link.conn.once('close', () => {
        clearTimeout(timer)
        reject(new Error(`${url} closed the connection before admitting this node`))
      })
    })
  }

  /**
   * send_notify: deliver `data` to member `peerRef` (its key or a unique prefix of it) of `ns`
   * over a live connection. Like Kitsune2's, it returns once the message is handed to the
   * connection, not when the peer got it.
   */
  notify(ns: string, peerRef: string, data: string): string {
    if (!this.host.namespaceIds().includes(ns)) throw new NotifyError('ENOENT', `this node does not hold namespace ${ns}`)
    const size = Buffer.byteLength(data)
    if (size > MAX_NOTIFY_BYTES) throw new NotifyError('EINVAL', `the message is ${size} bytes; at most ${MAX_NOTIFY_BYTES} may be sent`)
    const key = resolvePeer(this.links, this.peerStore, peerRef)
    if (!this.host.isMember(ns, key)) throw new NotifyError('EACCES', `peer ${key} is not a member of namespace ${ns}`)
    notifyLink(this.links, key, ns).send({ type: 'notify', ns, data })
    return key
  }

  /** The members of `ns` this node knows of (by gossip or a live connection), with their health. */
  peersOf(ns: string): PeerView[] {
    return peersOf(this.views(), ns)
  }

  /** The peers this node asked for any of these blobs (blob-asks.ts). */
  askedFor(hashes: readonly string[]): BlobSource[] {
    return this.blobAsks.askedFor(this.links, hashes)
  }

  /** This node as peers see it, its connections, and each namespace's sync state (JSON-ready). */
  status(): SyncStatus {
    return syncStatus(this.views())
  }

  async stop(): Promise<void> {
    this.stopped = true
    clearInterval(this.reconcileTimer)
    clearInterval(this.maintainTimer)
    for (const d of this.dialers.values()) {
      d.stop = true
      clearTimeout(d.timer)
    }
    for (const off of this.unsubscribe.values()) off()
    this.clients?.stop()
    await this.transport.stop()
  }

  private views(): ViewSource {
    return {
      host: this.host,
      store: this.peerStore,
      meta: this.meta,
      links: this.links,
      url: this.url,
      startedMs: this.startedMs,
      reconciledAt: this.reconciledAt,
    }
  }

  private track(link: PeerLink): PeerLink {
    this.links.add(link)
    return link
  }

  private dial(url: string, opts: LinkOptions): PeerLink {
    let link!: PeerLink
    this.transport.dial(url, (conn) => (link = this.track(new PeerLink(conn, this.owner, opts))))
    return link
  }

  private reconcile(link: PeerLink): void {
    link.session!.reconcile()
    for (const ns of link.shared) this.gossip.send(link, ns)
  }

  private established(link: PeerLink): void {
    const key = link.handshake.peerPublicKey!
    const others = this.connectionsTo(key)
    if (others.length >= this.opts.maxConnectionsPerPeer)
      return link.close(1008, `more than ${this.opts.maxConnectionsPerPeer} connections from one peer`)
    // Both nodes dialed each other after learning of each other: the one with the larger key
    // drops the connection it dialed, so exactly one of the two survives.
    if (link.memberDial && others.length > 0 && this.host.identity.publicKey > key) return link.close(1000, 'already connected')
    const session = link.begin(key)
    this.meta.connected(key, Date.now())
    this.log.info(`peer ${key.slice(0, 8)} connected${link.dialedUrl ? ` (dialed ${link.dialedUrl})` : ''}`)
    const token = link.handshake.peerInvitation
    if (token && !link.dialedUrl) {
      let ns: string
      try {
        ns = this.host.admit(token, key)
      } catch (err) {
        // A refused invitation is the joiner's to hear about, with the host's errno if any.
        const code = (err as { code?: string }).code ?? 'refused'
        link.send({ type: 'error', code, message: (err as Error).message })
        return link.close(4403, `invitation refused: ${(err as Error).message}`)
      }
      this.log.info(`peer ${key.slice(0, 8)} joined namespace ${ns} with an invitation`)
      link.send({ type: 'joined', ns })
      for (const nested of this.host.nestedIn?.(ns, key) ?? []) link.send({ type: 'joined', ns: nested })
    }
    session.announce()
  }

  private hooksFor(link: PeerLink): SessionHooks {
    const key = () => link.key!
    return {
      startedSharing: (ns) => {
        this.gossip.send(link, ns)
        // The first link of its key to share `ns` makes the peer 'connected'.
        if (!this.connectionsTo(key()).some((l) => l !== link && l.shared.has(ns))) this.onPeerState(ns, key(), 'connected')
      },
      stoppedSharing: () => this.sharing.changed(),
      reconciled: (ns) => {
        this.reconciledAt.set(ns, Date.now())
        this.onPeerState(ns, key(), 'reconciled')
      },
      agentInfos: (ns, infos) => {
        // Infos of a namespace not shared with this peer are not its to tell (or arrive after
        // this node dropped the namespace): ignored.
        if (!link.shared.has(ns)) return this.log.debug(`agent infos of unshared namespace ${ns} from ${key().slice(0, 8)} ignored`)
        this.gossip.learn(ns, infos, link)
      },
      notify: (ns, data) => {
        if (!link.shared.has(ns))
          return this.log.warn(`notify from ${key().slice(0, 8)} in namespace ${ns}, which is not shared with it, dropped`)
        this.log.info(`notify from ${key().slice(0, 8)} in namespace ${ns}: ${Buffer.byteLength(data)} bytes`)
        this.onNotify(ns, key(), data)
      },
      joined: (ns) => link.onJoined?.(ns),
      error: (code, message) => link.onError?.(code, message),
    }
  }

  private closed(link: PeerLink, lastError: string): void {
    this.links.delete(link)
    this.blobAsks.linkClosed(link)
    this.sharing.changed()
    if (this.stopped) return
    const key = link.key
    if (key) {
      this.log.info(`peer ${key.slice(0, 8)} disconnected`)
      // A node that went away is dialed again (if gossip named it), after a short pause.
      if (this.connectionsTo(key).length === 0) this.meta.deferDial(key, Date.now() + RECONNECT_MIN_MS)
      for (const ns of link.shared) {
        if (!this.connectionsTo(key).some((l) => l.shared.has(ns))) this.onPeerState(ns, key, 'disconnected')
      }
    } else if (link.expectedPeer && link.dialedUrl && !link.handshake.done) {
      // No handshake with the node we dialed: unreachable, or not who gossip said was there.
      this.gossip.dialFailed(link.expectedPeer, link.dialedUrl, lastError)
    }
  }

  /** Established links with `key`. */
  private connectionsTo(key: string): PeerLink[] {
    return [...this.links].filter((l) => l.key === key)
  }
}
