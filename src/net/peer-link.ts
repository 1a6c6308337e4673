// One connection to a peer: the handshake (protocol/handshake.ts) first, then a sync session
// (protocol/sync-session.ts) over the decoded messages. It owns what is per connection and
// neither the transport's nor the protocol's: the handshake deadline, and turning what the
// session or the decoder throws into a close with the right code.

import type { Logger } from '../util/log.js'
import { Handshake, HandshakeError } from './protocol/handshake.js'
import { decodeMessage, encodeMessage, PeerProtocolError, type PeerMessage } from './protocol/peer-messages.js'
import { SessionClose, SyncSession, type SessionHooks } from './protocol/sync-session.js'
import type { SyncHost } from './protocol/sync-host.js'
import { Pacer } from './transport/pacer.js'
import type { Connection, ConnectionHandler } from './transport/websocket.js'

export const HANDSHAKE_TIMEOUT_MS = 10_000

/** What a link needs of the node that owns it. */
export interface LinkOwner {
  readonly host: SyncHost
  readonly log: Logger
  /** Bytes per second of blobs sent on one link; 0: unpaced. */
  readonly maxBlobBytesPerSecond: number
  /** The handshake completed: accept the link (`link.begin`) or close it. */
  established(link: PeerLink): void
  /** Any message after the handshake: the peer is alive. */
  seen(key: string): void
  hooksFor(link: PeerLink): SessionHooks
  closed(link: PeerLink, lastError: string): void
}

export interface LinkOptions {
  /** Redeemed in the handshake: the joiner closes the link once admitted. */
  invitation?: string
  /** The key the dialed node must prove. */
  expectedPeer?: string
}

export class PeerLink implements ConnectionHandler {
  readonly handshake: Handshake
  /** Set once the owner accepted the link; until then nothing but the handshake flows. */
  session: SyncSession | undefined
  /** Dialed because gossip named a member this node was not connected to. */
  memberDial = false
  /** Carries an invitation: the joiner closes it once admitted (the lasting one is keepConnected's). */
  readonly redeeming: boolean
  readonly expectedPeer: string | undefined
  /** What `join` waits for: set by the caller that dialed with an invitation. */
  onJoined?: (ns: string) => void
  onError?: (code: string, message: string) => void
  private readonly timer: NodeJS.Timeout
  /** Paces the blobs this node serves on the link, if the owner limits them. */
  private readonly blobPacer: Pacer | undefined

  constructor(
    readonly conn: Connection,
    private readonly owner: LinkOwner,
    opts: LinkOptions = {},
  ) {
    const hs: ConstructorParameters<typeof Handshake>[0] = { identity: owner.host.identity }
    if (opts.invitation !== undefined) hs.invitation = opts.invitation
    if (opts.expectedPeer !== undefined) hs.expectedPeer = opts.expectedPeer
    this.handshake = new Handshake(hs)
    this.redeeming = opts.invitation !== undefined
    this.expectedPeer = opts.expectedPeer
    this.timer = setTimeout(() => {
      if (!this.handshake.done) this.close(1008, 'handshake timed out')
    }, HANDSHAKE_TIMEOUT_MS)
    this.timer.unref()
    if (owner.maxBlobBytesPerSecond > 0) this.blobPacer = new Pacer(owner.maxBlobBytesPerSecond)
  }

  /** The peer's key, once the owner accepted the link. */
  get key(): string | undefined {
    return this.session?.peerKey
  }

  get dialedUrl(): string | undefined {
    return this.conn.dialedUrl
  }

  /** Shared namespaces; none before the session began. */
  get shared(): ReadonlySet<string> {
    return this.session?.shared ?? EMPTY
  }

  peerKey(): string | undefined {
    return this.key
  }

  /** Accepted by the owner: the sync session starts. */
  begin(key: string): SyncSession {
    this.session = new SyncSession({
      host: this.owner.host,
      peerKey: key,
      send: (m) => this.send(m),
      hooks: this.owner.hooksFor(this),
      ...(this.dialedUrl !== undefined ? { dialedUrl: this.dialedUrl } : {}),
    })
    return this.session
  }

  send(m: PeerMessage): void {
    if (m.type === 'blob' && this.blobPacer) this.blobPacer.send(m.bytes.byteLength, () => this.conn.send(encodeMessage(m)))
    else this.conn.send(encodeMessage(m))
  }

  close(code: number, reason: string): void {
    this.conn.close(code, reason)
  }

  opened(): void {
    this.conn.send(this.handshake.start())
  }

  message(bytes: Uint8Array): void {
    try {
      this.receive(bytes)
    } catch (err) {
      if (err instanceof PeerProtocolError || err instanceof HandshakeError) this.close(4400, `protocol error: ${err.message}`)
      else if (err instanceof SessionClose) this.close(err.code, err.message)
      else {
        this.owner.log.warn(`peer ${this.key?.slice(0, 8) ?? '?'}: ${(err as Error).message}`)
        this.close(1011, (err as Error).message)
      }
    }
  }

  closed(lastError: string): void {
    clearTimeout(this.timer)
    this.blobPacer?.stop()
    this.owner.closed(this, lastError)
  }

  private receive(bytes: Uint8Array): void {
    if (!this.handshake.done) {
      const reply = this.handshake.receive(bytes)
      if (reply) this.conn.send(reply)
      if (this.handshake.done) this.owner.established(this)
      return
    }
    // Refused by the owner after the handshake and closing: what still arrives is not read.
    if (!this.session) return
    this.owner.seen(this.session.peerKey)
    this.session.receive(decodeMessage(bytes))
  }
}

const EMPTY: ReadonlySet<string> = new Set()
