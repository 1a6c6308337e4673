// A node's side of replication: it listens for peers, dials the peers it knows, proves its key
// (handshake.ts), and keeps every namespace it shares with a peer in sync with it:
// - on connect (and every RECONCILE_MS) both sides exchange state vectors for every doc of
//   every shared namespace (sync step 1) and answer with what the other lacks (step 2), so
//   nothing missed while apart is ever lost;
// - a change stored locally is pushed to every peer sharing its namespace; a peer's update is
//   stored before it is applied or passed on (inform_ops_stored);
// - binary chunks a replica lacks are fetched by hash from the peer that announced them.
// A namespace is shared with a peer only if the peer's key is a member of it: a connection
// that is not a member's gets nothing of it. A peer that stops being a member (it left) is
// dropped from the namespace at once and told so by a new announcement, which is also how a
// leaving node learns that its tombstone arrived.
//
// Peers (Kitsune2's space): per namespace the node signs an agent info (its key, URL, expiry;
// agent-info.ts) and gossips it, with the members' infos it holds (peer-store.ts), to every peer
// sharing the namespace, on connect, when they change and with each reconciliation. It dials the
// members it learns of and is not connected to, so a node that joined through one member meets
// the others; what it observes of each peer (last seen, failed dials) is in peer-meta.ts.
// `notify` sends a member a message (send_notify) that reaches the receiver's `onNotify`.

import { createHash } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import { WebSocket, WebSocketServer, type RawData } from 'ws'
import type { Logger } from '../util/log.js'
import { AgentInfoError, signAgentInfo, type SignedAgentInfo } from './peers/agent-info.js'
import { Handshake, HandshakeError } from './protocol/handshake.js'
import type { Signer } from './trust/identity.js'
import {
  decodeMessage,
  encodeMessage,
  MAX_INFOS_PER_MESSAGE,
  MAX_NOTIFY_BYTES,
  PeerProtocolError,
  SYNC_STEP1,
  SYNC_STEP2,
  SYNC_UPDATE,
  type PeerMessage,
} from './protocol/peer-messages.js'
import { PeerMeta } from './peers/peer-meta.js'
import { PeerStore, type PeerStorePersistence } from './peers/peer-store.js'

/** What the sync layer needs of a namespace replica (NamespaceReplica provides it). */
export interface SyncReplica {
  /** Returns whether the update changed anything (and was stored and announced). */
  applyRemote(docKey: string, update: Uint8Array, from: unknown): boolean
  stateVector(docKey: string): Uint8Array
  diff(docKey: string, stateVector: Uint8Array): Uint8Array
  docKeys(): string[]
  onStored(listener: (docKey: string, update: Uint8Array, from: unknown) => void): () => void
}

/** What the sync layer needs of the node (the daemon provides it). */
export interface SyncHost {
  identity: Signer
  namespaceIds(): string[]
  replica(ns: string): SyncReplica | undefined
  /** May `publicKey` receive and write namespace `ns`? */
  isMember(ns: string, publicKey: string): boolean
  /** Verify an invitation redeemed by `publicKey` and record it as a member; returns the namespace. */
  admit(token: string, publicKey: string): string
  /** Namespaces nested in `ns` that `publicKey` is a member of: a joiner is told of them with `ns`. */
  nestedIn?(ns: string, publicKey: string): string[]
  /** This node was admitted to `ns` by `inviter` (reachable at `url`): start holding it. */
  joined(ns: string, inviter: string, url: string): void
  /** Blobs the live resources of `ns` refer to that this node lacks. */
  missingBlobs(ns: string): string[]
  /** Whether `hash` belongs to namespace `ns` (a peer may only fetch what it shares). */
  blobIn(ns: string, hash: string): boolean
  getBlob(hash: string): Uint8Array | undefined
  putBlob(bytes: Uint8Array): string
}

export interface SyncOptions {
  listenHost: string
  listenPort: number
  /** Largest frame accepted; larger ones close the connection. */
  maxFrameBytes: number
  maxConnectionsPerPeer: number
  /** Messages per second a connection may send before it is closed as a flood. */
  maxMessagesPerSecond: number
}

export const DEFAULT_SYNC_OPTIONS: SyncOptions = {
  listenHost: '127.0.0.1',
  listenPort: 7300,
  maxFrameBytes: 16 << 20,
  maxConnectionsPerPeer: 4,
  maxMessagesPerSecond: 20_000,
}

/** Takes the connections whose path is not `/`: stock Yjs clients opening rooms (yws-endpoint.ts). */
export interface ClientConnections {
  accept(ws: WebSocket, req: IncomingMessage): void
  stop(): void
}

const RECONCILE_MS = 15_000
/**
 * Every connection is pinged this often and dropped when it answered nothing since the ping
 * before: a peer whose network went away silently (a cable pulled, a laptop asleep) is noticed
 * within two periods instead of TCP's minutes, and dialing it again starts.
 */
const HEARTBEAT_MS = 5_000
const BACKOFF_MIN_MS = 250
const BACKOFF_MAX_MS = 10_000
const HANDSHAKE_TIMEOUT_MS = 10_000
/** How long an own agent info is valid; it is re-signed when half of that is left. */
export const AGENT_INFO_TTL_MS = 20 * 60_000
/** Expiry, re-signing, pending infos and dials of learned members are looked at this often. */
const MAINTAIN_MS = 1_000
/**
 * When two nodes learn of each other at once, the one with the smaller key dials first and the
 * other waits this long, so that they usually end up with one connection rather than two.
 */
const DIAL_YIELD_MS = 3_000

export type PeerState = 'connected' | 'disconnected' | 'reconciled'

/** `notify` refused: the code is an errno the control API passes on. */
export class NotifyError extends Error {
  constructor(readonly code: 'ENOENT' | 'EINVAL' | 'EACCES' | 'ENOTCONN', message: string) {
    super(message)
  }
}

/** One peer of a namespace as `peersOf` shows it (JSON-ready). */
export interface PeerView {
  key: string
  urls: string[]
  /** When its agent info expires; null for a connected member that sent none yet. */
  expiresAtMs: number | null
  lastSeenMs: number | null
  failures: number
  unresponsiveSinceMs: number | null
  connected: boolean
}

export interface ConnectedPeerView {
  key: string
  urls: string[]
  /** 'out' when this node dialed the (first) connection, 'in' when the peer did. */
  direction: 'in' | 'out'
  connections: number
  /** Namespaces shared with it. */
  namespaces: string[]
}

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

class Peer {
  key: string | undefined
  /** Heard from since the last heartbeat ping (a pong or any message). */
  alive = true
  readonly handshake: Handshake
  /** Namespaces both sides hold and the peer may have. */
  readonly shared = new Set<string>()
  /** Namespaces shared once and no longer: their messages still in flight are ignored, not an error. */
  readonly dropped = new Set<string>()
  private peerNamespaces = new Set<string>()
  private readonly sentStep1 = new Set<string>()
  /** Blobs asked of this peer and not received yet, with the namespace they are for. */
  readonly wanted = new Map<string, string>()
  private window = { start: Date.now(), count: 0 }
  /** Dialed because gossip named a member this node was not connected to. */
  memberDial = false
  /** Carries an invitation: the joiner closes it once admitted (the lasting one is keepConnected's). */
  readonly redeeming: boolean
  onJoined?: (ns: string) => void
  onError?: (code: string, message: string) => void

  constructor(readonly ws: WebSocket, readonly node: SyncNode, readonly dialedUrl?: string, invitation?: string, readonly expectedPeer?: string) {
    const opts: ConstructorParameters<typeof Handshake>[0] = { identity: node.host.identity }
    if (invitation !== undefined) opts.invitation = invitation
    if (expectedPeer !== undefined) opts.expectedPeer = expectedPeer
    this.handshake = new Handshake(opts)
    this.redeeming = invitation !== undefined
  }

  send(m: PeerMessage): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(encodeMessage(m))
  }

  close(code: number, reason: string): void {
    this.node.log.info(`closing connection${this.key ? ' with ' + this.key.slice(0, 8) : ''}: ${reason}`)
    this.ws.close(code, reason.slice(0, 120))
  }

  receive(data: Uint8Array): void {
    if (++this.window.count > this.node.opts.maxMessagesPerSecond) {
      if (Date.now() - this.window.start < 1000) return this.close(1008, 'flood: too many messages')
      this.window = { start: Date.now(), count: 1 }
    }
    if (!this.handshake.done) {
      const reply = this.handshake.receive(data)
      if (reply) this.ws.send(reply)
      if (this.handshake.done) this.node.established(this)
      return
    }
    if (this.key) this.node.meta.seen(this.key, Date.now())
    this.handle(decodeMessage(data))
  }

  /** The namespaces this node holds that the peer is a member of: a stranger learns none. */
  announce(): void {
    const host = this.node.host
    this.send({ type: 'namespaces', ids: host.namespaceIds().filter((ns) => host.isMember(ns, this.key!)) })
  }

  /** Stop sharing `ns` (the peer is no longer a member) and tell the peer so. */
  unshare(ns: string): void {
    this.shared.delete(ns)
    this.dropped.add(ns)
    this.announce()
  }

  /** Re-offer every doc of every shared namespace (reconnect and periodic gossip). */
  reconcile(): void {
    this.sentStep1.clear()
    for (const ns of this.shared) {
      this.offer(ns)
      this.sendInfos(ns, this.node.peerStore.all(ns))
    }
  }

  sendInfos(ns: string, infos: SignedAgentInfo[]): void {
    for (let i = 0; i < infos.length; i += MAX_INFOS_PER_MESSAGE) this.send({ type: 'agentInfos', ns, infos: infos.slice(i, i + MAX_INFOS_PER_MESSAGE) })
  }

  private offer(ns: string): void {
    const replica = this.node.host.replica(ns)
    if (!replica) return
    for (const docKey of replica.docKeys()) this.step1(ns, docKey, replica)
  }

  private step1(ns: string, docKey: string, replica: SyncReplica): void {
    this.sentStep1.add(`${ns}/${docKey}`)
    this.send({ type: 'sync', ns, docKey, kind: SYNC_STEP1, payload: replica.stateVector(docKey) })
  }

  private handle(m: PeerMessage): void {
    const host = this.node.host
    switch (m.type) {
      case 'namespaces': {
        this.peerNamespaces = new Set(m.ids)
        for (const ns of this.shared) {
          if (this.peerNamespaces.has(ns)) continue
          this.shared.delete(ns)
          this.dropped.add(ns)
        }
        for (const ns of host.namespaceIds()) {
          if (this.shared.has(ns) || !this.peerNamespaces.has(ns) || !host.isMember(ns, this.key!)) continue
          this.shared.add(ns)
          this.dropped.delete(ns)
          this.offer(ns)
          this.sendInfos(ns, this.node.peerStore.all(ns))
          this.node.startedSharing(ns, this)
        }
        return
      }
      case 'sync': {
        if (!this.shared.has(m.ns)) {
          if (this.dropped.has(m.ns)) return
          return this.close(4403, `sync of namespace ${m.ns}, which is not shared with this peer`)
        }
        const replica = host.replica(m.ns)!
        if (m.kind === SYNC_STEP1) {
          this.send({ type: 'sync', ns: m.ns, docKey: m.docKey, kind: SYNC_STEP2, payload: replica.diff(m.docKey, m.payload) })
          if (!this.sentStep1.has(`${m.ns}/${m.docKey}`)) this.step1(m.ns, m.docKey, replica)
          return
        }
        if (replica.applyRemote(m.docKey, m.payload, this) && m.docKey === 'tree') this.fetchMissing(m.ns)
        // The answer to our state vector of the tree: we now hold all of it the peer held.
        if (m.kind === SYNC_STEP2 && m.docKey === 'tree') this.node.reconciled(m.ns, this.key!)
        return
      }
      case 'blobWant': {
        const ns = [...this.shared].find((n) => host.blobIn(n, m.hash))
        const bytes = ns ? host.getBlob(m.hash) : undefined
        if (bytes) this.send({ type: 'blob', hash: m.hash, bytes })
        return
      }
      case 'blob': {
        if (!this.wanted.delete(m.hash)) return this.close(4400, `unrequested blob ${m.hash}`)
        if (createHash('sha256').update(m.bytes).digest('hex') !== m.hash) return this.close(4400, `blob ${m.hash} does not match its hash`)
        host.putBlob(m.bytes)
        for (const ns of this.shared) this.fetchMissing(ns)
        return
      }
      case 'joined':
        if (!this.dialedUrl) return this.close(4400, 'unexpected joined message')
        host.joined(m.ns, this.key!, this.dialedUrl)
        this.onJoined?.(m.ns)
        this.announce()
        return
      case 'error':
        this.onError?.(m.code, m.message)
        return
      case 'agentInfos':
        // Infos of a namespace not shared with this peer are not its to tell (or arrive after
        // this node dropped the namespace): ignored.
        if (!this.shared.has(m.ns)) return this.node.log.debug(`agent infos of unshared namespace ${m.ns} from ${this.key!.slice(0, 8)} ignored`)
        return this.node.learn(m.ns, m.infos, this)
      case 'notify':
        if (!this.shared.has(m.ns)) return this.node.log.warn(`notify from ${this.key!.slice(0, 8)} in namespace ${m.ns}, which is not shared with it, dropped`)
        this.node.log.info(`notify from ${this.key!.slice(0, 8)} in namespace ${m.ns}: ${Buffer.byteLength(m.data)} bytes`)
        this.node.onNotify(m.ns, this.key!, m.data)
        return
    }
  }

  private fetchMissing(ns: string): void {
    for (const hash of this.node.host.missingBlobs(ns)) {
      if (this.wanted.has(hash)) continue
      this.wanted.set(hash, ns)
      this.send({ type: 'blobWant', hash })
    }
  }
}

export class SyncNode {
  private server: WebSocketServer | undefined
  private readonly peers = new Set<Peer>()
  private readonly unsubscribe = new Map<string, () => void>()
  private readonly dialers = new Map<string, { stop: boolean; timer?: NodeJS.Timeout }>()
  /** Keys keepConnected dials by URL: gossip does not dial them a second time. */
  private readonly pinned = new Set<string>()
  private readonly reconciledAt = new Map<string, number>()
  private reconcileTimer: NodeJS.Timeout | undefined
  private maintainTimer: NodeJS.Timeout | undefined
  private heartbeatTimer: NodeJS.Timeout | undefined
  private stopped = false
  private startedMs = Date.now()
  readonly peerStore: PeerStore
  readonly meta: PeerMeta
  url = ''
  /** Where connections to any path but `/` (the peer protocol's) go; without one they are refused. */
  clients: ClientConnections | undefined
  /** A member sent this node a message in `ns` (send_notify). */
  onNotify: (ns: string, from: string, data: string) => void = () => {}
  /** A peer started or stopped sharing `ns`, or this node caught up with it. */
  onPeerState: (ns: string, peer: string, state: PeerState) => void = () => {}

  constructor(readonly host: SyncHost, readonly opts: SyncOptions, readonly log: Logger, persistence?: PeerStorePersistence) {
    const storeOpts: ConstructorParameters<typeof PeerStore>[0] = { selfKey: host.identity.publicKey, isMember: (ns, key) => host.isMember(ns, key) }
    if (persistence) storeOpts.persistence = persistence
    this.peerStore = new PeerStore(storeOpts)
    this.meta = new PeerMeta((key) => this.connectionsTo(key).length > 0)
  }

  async start(): Promise<void> {
    this.server = new WebSocketServer({ host: this.opts.listenHost, port: this.opts.listenPort, maxPayload: this.opts.maxFrameBytes })
    await new Promise<void>((resolve, reject) => {
      this.server!.once('listening', resolve)
      this.server!.once('error', reject)
    })
    const addr = this.server.address()
    if (typeof addr === 'object' && addr) this.url = `ws://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`
    this.server.on('connection', (ws, req) => {
      if ((req.url ?? '/').split('?')[0] === '/') return this.attach(new Peer(ws, this))
      if (this.clients) return this.clients.accept(ws, req)
      ws.close(4404, 'this node serves no rooms')
    })
    this.startedMs = Date.now()
    this.reconcileTimer = setInterval(() => {
      for (const p of this.peers) if (p.handshake.done) p.reconcile()
    }, RECONCILE_MS)
    this.reconcileTimer.unref()
    const loaded = this.peerStore.load(new Set(this.host.namespaceIds()), Date.now())
    if (loaded > 0) this.log.info(`${loaded} stored agent infos of other members loaded`)
    for (const ns of this.unsubscribe.keys()) this.signOwn(ns)
    this.maintainTimer = setInterval(() => this.maintain(), MAINTAIN_MS)
    this.maintainTimer.unref()
    this.heartbeatTimer = setInterval(() => this.heartbeat(), HEARTBEAT_MS)
    this.heartbeatTimer.unref()
    this.log.info(`listening at ${this.url}`)
  }

  /** Start pushing a namespace's stored changes to the peers that share it. */
  watch(ns: string): void {
    const replica = this.host.replica(ns)
    if (!replica || this.unsubscribe.has(ns)) return
    this.unsubscribe.set(ns, replica.onStored((docKey, update, from) => {
      for (const p of this.peers) {
        if (!p.shared.has(ns)) continue
        // The members live in the tree doc: a change there may have ended a peer's membership.
        if (docKey === 'tree' && !this.host.isMember(ns, p.key!)) p.unshare(ns)
        else if (p !== from) p.send({ type: 'sync', ns, docKey, kind: SYNC_UPDATE, payload: update })
      }
    }))
    if (this.url) this.signOwn(ns)
    for (const p of this.peers) if (p.handshake.done) p.announce()
  }

  /** Stop holding `ns`: peers sharing it get this node's tombstone (local_agent_leave). */
  unwatch(ns: string): void {
    if (this.url && this.unsubscribe.has(ns)) this.signOwn(ns, true)
    this.unsubscribe.get(ns)?.()
    this.unsubscribe.delete(ns)
    this.peerStore.dropNamespace(ns)
    this.reconciledAt.delete(ns)
    for (const p of this.peers) {
      if (p.shared.delete(ns)) p.dropped.add(ns)
      // Peers learn that this node no longer holds it, and stop sending it.
      if (p.handshake.done) p.announce()
    }
  }

  /**
   * Wait, at most `timeoutMs`, until no connected peer shares `ns` any more: after this node
   * marked itself left, each peer that applied the tombstone stops sharing and says so.
   * Returns how many peers shared it at the start and how many of them acknowledged.
   */
  async awaitUnshared(ns: string, timeoutMs: number): Promise<{ peers: number; acknowledged: number }> {
    const sharing = [...this.peers].filter((p) => p.shared.has(ns))
    const deadline = Date.now() + timeoutMs
    while (Date.now() < deadline && sharing.some((p) => p.shared.has(ns) && this.peers.has(p))) await new Promise((r) => setTimeout(r, 25))
    return { peers: sharing.length, acknowledged: sharing.filter((p) => !p.shared.has(ns)).length }
  }

  /** Keep a connection to `url` (reconnecting with backoff) for as long as the node runs. */
  keepConnected(url: string, expectedPeer: string): void {
    if (this.dialers.has(url)) return
    this.pinned.add(expectedPeer)
    const state: { stop: boolean; timer?: NodeJS.Timeout } = { stop: false }
    this.dialers.set(url, state)
    let backoff = BACKOFF_MIN_MS
    const dial = () => {
      if (state.stop || this.stopped) return
      const peer = this.dial(url, undefined, expectedPeer)
      peer.ws.once('open', () => (backoff = BACKOFF_MIN_MS))
      peer.ws.once('close', () => {
        if (state.stop || this.stopped) return
        state.timer = setTimeout(dial, backoff)
        state.timer.unref()
        backoff = Math.min(backoff * 2, BACKOFF_MAX_MS)
      })
    }
    dial()
  }

  /** Redeem an invitation at `url`; resolves with the namespace id once admitted. */
  join(url: string, token: string, inviter: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const peer = this.dial(url, token, inviter)
      const timer = setTimeout(() => {
        reject(new Error(`no answer from ${url} within ${HANDSHAKE_TIMEOUT_MS / 1000} s`))
        peer.ws.terminate()
      }, HANDSHAKE_TIMEOUT_MS)
      peer.onJoined = (ns) => {
        clearTimeout(timer)
        resolve(ns)
        // The lasting connection is the one keepConnected dials; two between one pair of nodes
        // would deliver everything twice.
        setTimeout(() => peer.ws.close(1000, 'joined'), 1000).unref()
      }
      peer.onError = (code, message) => {
        clearTimeout(timer)
        reject(Object.assign(new Error(message), { code }))
      }
      peer.ws.once('error', (err) => {
        clearTimeout(timer)
        reject(new Error(`cannot reach ${url}: ${err.message}`))
      })
      peer.ws.once('close', () => {
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
    const key = this.resolvePeer(peerRef)
    if (!this.host.isMember(ns, key)) throw new NotifyError('EACCES', `peer ${key} is not a member of namespace ${ns}`)
    const conns = this.connectionsTo(key)
    // A connection that is closing would drop the message silently; the one an invitation was
    // redeemed on is about to close.
    const usable = conns.filter((p) => p.shared.has(ns) && p.ws.readyState === WebSocket.OPEN)
    const peer = usable.find((p) => !p.redeeming && !p.handshake.peerInvitation) ?? usable[0]
    if (!peer) {
      throw new NotifyError('ENOTCONN', conns.length > 0
        ? `peer ${key} is connected but does not share namespace ${ns} with this node yet`
        : `peer ${key} is not connected to this node`)
    }
    peer.send({ type: 'notify', ns, data })
    return key
  }

  /** The members of `ns` this node knows of (by gossip or a live connection), with their health. */
  peersOf(ns: string): PeerView[] {
    // A member that left keeps its info until it expires, but is no peer of the namespace.
    const keys = new Set(this.peerStore.live(ns).filter((i) => this.host.isMember(ns, i.agent)).map((i) => i.agent))
    for (const p of this.peers) if (p.handshake.done && p.shared.has(ns)) keys.add(p.key!)
    return [...keys].sort().map((key) => {
      const info = this.peerStore.get(ns, key)
      const h = this.meta.get(key)
      const live = info && !info.isTombstone ? info : undefined
      return {
        key,
        urls: live?.urls ?? this.urlsOf(key),
        expiresAtMs: live?.expiresAtMs ?? null,
        lastSeenMs: h?.lastSeenMs ?? null,
        failures: h?.failures ?? 0,
        unresponsiveSinceMs: h?.unresponsiveSinceMs ?? null,
        connected: this.connectionsTo(key).some((p) => p.shared.has(ns)),
      }
    })
  }

  /** This node as peers see it, its connections, and each namespace's sync state (JSON-ready). */
  status(): SyncStatus {
    const byKey = new Map<string, Peer[]>()
    for (const p of this.peers) if (p.handshake.done) byKey.set(p.key!, [...(byKey.get(p.key!) ?? []), p])
    const connectedPeers = [...byKey].sort(([a], [b]) => (a < b ? -1 : 1)).map(([key, conns]) => ({
      key,
      urls: this.urlsOf(key),
      direction: conns[0]!.dialedUrl ? ('out' as const) : ('in' as const),
      connections: conns.length,
      namespaces: [...new Set(conns.flatMap((p) => [...p.shared]))].sort(),
    }))
    const namespaces = this.host.namespaceIds().map((ns) => {
      const pending = new Set<string>()
      for (const p of this.peers) for (const [hash, n] of p.wanted) if (n === ns) pending.add(hash)
      return {
        id: ns,
        connectedPeers: connectedPeers.filter((c) => c.namespaces.includes(ns)).length,
        knownPeers: this.peerStore.live(ns).filter((i) => this.host.isMember(ns, i.agent)).length,
        lastReconciledAtMs: this.reconciledAt.get(ns) ?? null,
        pendingBlobFetches: pending.size,
      }
    })
    return {
      nodeId: this.host.identity.publicKey,
      urls: this.url ? [this.url] : [],
      uptimeSeconds: Math.round((Date.now() - this.startedMs) / 1000),
      connectedPeers,
      namespaces,
    }
  }

  async stop(): Promise<void> {
    this.stopped = true
    clearInterval(this.reconcileTimer)
    clearInterval(this.maintainTimer)
    clearInterval(this.heartbeatTimer)
    for (const d of this.dialers.values()) {
      d.stop = true
      clearTimeout(d.timer)
    }
    for (const off of this.unsubscribe.values()) off()
    this.clients?.stop()
    for (const p of this.peers) p.ws.terminate()
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()))
  }

  /** Called by a peer whose handshake just completed. */
  established(peer: Peer): void {
    const key = peer.handshake.peerPublicKey!
    const others = this.connectionsTo(key)
    if (others.length >= this.opts.maxConnectionsPerPeer) return peer.close(1008, `more than ${this.opts.maxConnectionsPerPeer} connections from one peer`)
    // Both nodes dialed each other after learning of each other: the one with the larger key
    // drops the connection it dialed, so exactly one of the two survives.
    if (peer.memberDial && others.length > 0 && this.host.identity.publicKey > key) return peer.close(1000, 'already connected')
    peer.key = key
    this.meta.connected(key, Date.now())
    this.log.info(`peer ${key.slice(0, 8)} connected${peer.dialedUrl ? ' (dialed ' + peer.dialedUrl + ')' : ''}`)
    const token = peer.handshake.peerInvitation
    if (token && !peer.dialedUrl) {
      try {
        const ns = this.host.admit(token, key)
        this.log.info(`peer ${key.slice(0, 8)} joined namespace ${ns} with an invitation`)
        peer.send({ type: 'joined', ns })
        for (const nested of this.host.nestedIn?.(ns, key) ?? []) peer.send({ type: 'joined', ns: nested })
      } catch (err) {
        const code = (err as { code?: string }).code ?? 'refused'
        peer.send({ type: 'error', code, message: (err as Error).message })
        return peer.close(4403, `invitation refused: ${(err as Error).message}`)
      }
    }
    peer.announce()
  }

  /** Agent infos of `ns` from `from`: keep the valid, newer ones, pass them on, meet new members. */
  learn(ns: string, infos: SignedAgentInfo[], from: Peer): void {
    const now = Date.now()
    const accepted: SignedAgentInfo[] = []
    for (const info of infos) {
      try {
        const result = this.peerStore.offer(info, now)
        if (result === 'accepted') accepted.push(info)
        else if (result === 'full') this.log.warn(`agent info of ${info.agent.slice(0, 8)} in ${ns} dropped: the peer store of the namespace is full`)
      } catch (err) {
        if (!(err instanceof AgentInfoError)) throw err
        this.log.warn(`agent info from ${from.key!.slice(0, 8)} refused: ${err.message}`)
      }
    }
    this.accepted(ns, accepted, from)
  }

  /** `peer` started sharing `ns`; the first connection of its key to do so makes it 'connected'. */
  startedSharing(ns: string, peer: Peer): void {
    if (!this.connectionsTo(peer.key!).some((p) => p !== peer && p.shared.has(ns))) this.onPeerState(ns, peer.key!, 'connected')
  }

  reconciled(ns: string, peer: string): void {
    this.reconciledAt.set(ns, Date.now())
    this.onPeerState(ns, peer, 'reconciled')
  }

  private accepted(ns: string, infos: SignedAgentInfo[], from?: Peer): void {
    if (infos.length === 0) return
    const now = Date.now()
    for (const info of infos) {
      if (info.isTombstone || this.meta.get(info.agent) || this.connectionsTo(info.agent).length > 0) continue
      this.log.info(`learned of member ${info.agent.slice(0, 8)} of ${ns} at ${info.urls.join(', ') || 'no address'}`)
      this.meta.deferDial(info.agent, this.host.identity.publicKey < info.agent ? now : now + DIAL_YIELD_MS)
    }
    for (const p of this.peers) if (p !== from && p.handshake.done && p.shared.has(ns)) p.sendInfos(ns, infos)
  }

  /** Sign this node's info for `ns` (a tombstone when leaving) and tell the peers sharing it. */
  private signOwn(ns: string, isTombstone = false): void {
    const now = Date.now()
    const prev = this.peerStore.get(ns, this.host.identity.publicKey)
    // Peers keep only a strictly newer info: never sign two in one millisecond.
    const createdAtMs = Math.max(now, (prev?.createdAtMs ?? 0) + 1)
    const info = signAgentInfo(this.host.identity, { space: ns, urls: [this.url], createdAtMs, expiresAtMs: createdAtMs + AGENT_INFO_TTL_MS, isTombstone })
    if (!isTombstone) this.peerStore.putOwn(info)
    for (const p of this.peers) if (p.handshake.done && p.shared.has(ns)) p.sendInfos(ns, [info])
  }

  private maintain(): void {
    if (this.stopped) return
    const now = Date.now()
    const self = this.host.identity.publicKey
    for (const ns of this.unsubscribe.keys()) {
      const own = this.peerStore.get(ns, self)
      if (!own || own.expiresAtMs - now < AGENT_INFO_TTL_MS / 2) this.signOwn(ns)
    }
    for (const gone of this.peerStore.expire(now)) this.log.debug(`agent info of ${gone.agent.slice(0, 8)} in ${gone.space} expired`)
    const promoted = new Map<string, SignedAgentInfo[]>()
    for (const info of this.peerStore.promote()) promoted.set(info.space, [...(promoted.get(info.space) ?? []), info])
    for (const [ns, infos] of promoted) this.accepted(ns, infos)
    this.dialMembers(now)
  }

  /** Dial every live member this node knows an address of and has no connection to. */
  private dialMembers(now: number): void {
    const targets = new Map<string, string[]>()
    for (const ns of this.host.namespaceIds()) {
      for (const info of this.peerStore.live(ns)) {
        if (info.urls.length === 0 || !this.host.isMember(ns, info.agent)) continue
        targets.set(info.agent, [...new Set([...(targets.get(info.agent) ?? []), ...info.urls])])
      }
    }
    for (const [key, urls] of targets) {
      if (this.pinned.has(key) || [...this.peers].some((p) => p.key === key || p.expectedPeer === key)) continue
      const h = this.meta.get(key)
      if (h && h.nextDialAtMs > now) continue
      const url = urls[(h?.failures ?? 0) % urls.length]!
      this.log.debug(`dialing member ${key.slice(0, 8)} at ${url}`)
      try {
        this.dial(url, undefined, key).memberDial = true
      } catch (err) {
        this.dialFailed(key, url, (err as Error).message)
      }
    }
  }

  private dialFailed(key: string, url: string, why: string): void {
    const failures = (this.meta.get(key)?.failures ?? 0) + 1
    this.meta.dialFailed(key, Date.now(), Math.min(BACKOFF_MIN_MS * 2 ** failures, BACKOFF_MAX_MS))
    if (failures === 1) this.log.info(`peer ${key.slice(0, 8)} is unresponsive: cannot reach it at ${url}${why ? ' (' + why + ')' : ''}`)
    else this.log.debug(`peer ${key.slice(0, 8)}: dial ${failures} to ${url} failed${why ? ' (' + why + ')' : ''}`)
  }

  /** Established connections with `key`. */
  private connectionsTo(key: string): Peer[] {
    return [...this.peers].filter((p) => p.key === key)
  }

  private urlsOf(key: string): string[] {
    const urls = new Set<string>()
    for (const p of this.peers) if (p.key === key && p.dialedUrl) urls.add(p.dialedUrl)
    for (const ns of this.peerStore.namespaces()) {
      const info = this.peerStore.get(ns, key)
      if (info && !info.isTombstone) for (const u of info.urls) urls.add(u)
    }
    return [...urls]
  }

  private resolvePeer(ref: string): string {
    const known = new Set<string>()
    for (const p of this.peers) if (p.key) known.add(p.key)
    for (const ns of this.peerStore.namespaces()) for (const info of this.peerStore.live(ns)) known.add(info.agent)
    if (known.has(ref)) return ref
    const matches = [...known].filter((k) => k.startsWith(ref))
    if (matches.length === 1) return matches[0]!
    if (matches.length === 0) throw new NotifyError('ENOENT', `no known peer ${JSON.stringify(ref)}: give a node key (or a unique prefix of one) of a connected peer or a known member`)
    throw new NotifyError('EINVAL', `peer ${JSON.stringify(ref)} is ambiguous: it starts ${matches.length} known keys (${matches.map((k) => k.slice(0, 12)).join(', ')}); give more of the key`)
  }

  private dial(url: string, invitation: string | undefined, expectedPeer: string): Peer {
    const ws = new WebSocket(url, { maxPayload: this.opts.maxFrameBytes })
    const peer = new Peer(ws, this, url, invitation, expectedPeer)
    ws.once('open', () => ws.send(peer.handshake.start()))
    this.attach(peer, true)
    return peer
  }

  private heartbeat(): void {
    for (const p of this.peers) {
      if (p.ws.readyState !== WebSocket.OPEN) continue
      if (!p.alive) {
        this.log.info(`peer ${p.key?.slice(0, 8) ?? '?'} answered nothing for ${(2 * HEARTBEAT_MS) / 1000} s: dropping the connection`)
        p.ws.terminate()
        continue
      }
      p.alive = false
      p.ws.ping()
    }
  }

  private attach(peer: Peer, dialed = false): void {
    this.peers.add(peer)
    const ws = peer.ws
    ws.binaryType = 'nodebuffer'
    const timer = setTimeout(() => {
      if (!peer.handshake.done) peer.close(1008, 'handshake timed out')
    }, HANDSHAKE_TIMEOUT_MS)
    timer.unref()
    if (!dialed) ws.send(peer.handshake.start())
    let lastError = ''
    ws.on('pong', () => (peer.alive = true))
    ws.on('message', (data: RawData, isBinary: boolean) => {
      peer.alive = true
      try {
        if (!isBinary) throw new PeerProtocolError('text frame')
        peer.receive(toBytes(data))
      } catch (err) {
        if (err instanceof PeerProtocolError || err instanceof HandshakeError) peer.close(4400, `protocol error: ${err.message}`)
        else {
          this.log.warn(`peer ${peer.key?.slice(0, 8) ?? '?'}: ${(err as Error).message}`)
          peer.close(1011, (err as Error).message)
        }
      }
    })
    ws.on('error', (err) => {
      lastError = err.message
      // A node we dial may simply be down (its failures are counted); what an incoming
      // connection does wrong (an oversized frame, a broken stream) is worth a line.
      if (dialed) this.log.debug(`connection error: ${err.message}`)
      else this.log.info(`connection from ${peer.key?.slice(0, 8) ?? 'an unknown peer'} closed: ${err.message}`)
    })
    ws.on('close', () => {
      clearTimeout(timer)
      this.peers.delete(peer)
      if (this.stopped) return
      if (peer.key) {
        this.log.info(`peer ${peer.key.slice(0, 8)} disconnected`)
        // A node that went away is dialed again (if gossip named it), after a short pause.
        if (this.connectionsTo(peer.key).length === 0) this.meta.deferDial(peer.key, Date.now() + BACKOFF_MIN_MS)
        for (const ns of peer.shared) {
          if (!this.connectionsTo(peer.key).some((p) => p.shared.has(ns))) this.onPeerState(ns, peer.key, 'disconnected')
        }
      } else if (peer.expectedPeer && peer.dialedUrl && !peer.handshake.done) {
        // No handshake with the node we dialed: unreachable, or not who gossip said was there.
        this.dialFailed(peer.expectedPeer, peer.dialedUrl, lastError)
      }
    })
  }
}

function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return new Uint8Array(Buffer.concat(data))
  return data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
}
