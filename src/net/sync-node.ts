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

import { createHash } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import { WebSocket, WebSocketServer, type RawData } from 'ws'
import type { Logger } from '../util/log.js'
import { Handshake, HandshakeError } from './handshake.js'
import type { Signer } from './identity.js'
import { decodeMessage, encodeMessage, PeerProtocolError, SYNC_STEP1, SYNC_STEP2, SYNC_UPDATE, type PeerMessage } from './peer-messages.js'

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
const BACKOFF_MIN_MS = 250
const BACKOFF_MAX_MS = 10_000
const HANDSHAKE_TIMEOUT_MS = 10_000

class Peer {
  key: string | undefined
  readonly handshake: Handshake
  /** Namespaces both sides hold and the peer may have. */
  readonly shared = new Set<string>()
  /** Namespaces shared once and no longer: their messages still in flight are ignored, not an error. */
  readonly dropped = new Set<string>()
  private peerNamespaces = new Set<string>()
  private readonly sentStep1 = new Set<string>()
  private readonly wanted = new Set<string>()
  private window = { start: Date.now(), count: 0 }
  onJoined?: (ns: string) => void
  onError?: (code: string, message: string) => void

  constructor(readonly ws: WebSocket, readonly node: SyncNode, readonly dialedUrl?: string, invitation?: string, expectedPeer?: string) {
    const opts: ConstructorParameters<typeof Handshake>[0] = { identity: node.host.identity }
    if (invitation !== undefined) opts.invitation = invitation
    if (expectedPeer !== undefined) opts.expectedPeer = expectedPeer
    this.handshake = new Handshake(opts)
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
    for (const ns of this.shared) this.offer(ns)
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
    }
  }

  private fetchMissing(ns: string): void {
    for (const hash of this.node.host.missingBlobs(ns)) {
      if (this.wanted.has(hash)) continue
      this.wanted.add(hash)
      this.send({ type: 'blobWant', hash })
    }
  }
}

export class SyncNode {
  private server: WebSocketServer | undefined
  private readonly peers = new Set<Peer>()
  private readonly unsubscribe = new Map<string, () => void>()
  private readonly dialers = new Map<string, { stop: boolean; timer?: NodeJS.Timeout }>()
  private reconcileTimer: NodeJS.Timeout | undefined
  private stopped = false
  url = ''
  /** Where connections to any path but `/` (the peer protocol's) go; without one they are refused. */
  clients: ClientConnections | undefined

  constructor(readonly host: SyncHost, readonly opts: SyncOptions, readonly log: Logger) {}

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
    this.reconcileTimer = setInterval(() => {
      for (const p of this.peers) if (p.handshake.done) p.reconcile()
    }, RECONCILE_MS)
    this.reconcileTimer.unref()
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
    for (const p of this.peers) if (p.handshake.done) p.announce()
  }

  unwatch(ns: string): void {
    this.unsubscribe.get(ns)?.()
    this.unsubscribe.delete(ns)
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

  peerCount(): number {
    return [...this.peers].filter((p) => p.handshake.done).length
  }

  async stop(): Promise<void> {
    this.stopped = true
    clearInterval(this.reconcileTimer)
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
    const same = [...this.peers].filter((p) => p.key === key).length
    if (same >= this.opts.maxConnectionsPerPeer) return peer.close(1008, `more than ${this.opts.maxConnectionsPerPeer} connections from one peer`)
    peer.key = key
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

  private dial(url: string, invitation: string | undefined, expectedPeer: string): Peer {
    const ws = new WebSocket(url, { maxPayload: this.opts.maxFrameBytes })
    const peer = new Peer(ws, this, url, invitation, expectedPeer)
    ws.once('open', () => ws.send(peer.handshake.start()))
    this.attach(peer, true)
    return peer
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
    ws.on('message', (data: RawData, isBinary: boolean) => {
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
    ws.on('error', (err) => this.log.debug(`connection error: ${err.message}`))
    ws.on('close', () => {
      clearTimeout(timer)
      this.peers.delete(peer)
      if (peer.key) this.log.info(`peer ${peer.key.slice(0, 8)} disconnected`)
    })
  }
}

function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return new Uint8Array(Buffer.concat(data))
  return data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
}
