/**
 * Handshake: on a fresh connection each side proves it holds the private key of the public key
 * it claims, before any namespace data flows. Pure message builders/verifiers, no socket: the
 * transport feeds received binary frames to `receive` and sends what it returns.
 *
 * Flow (symmetric; both sides may send their hello at once):
 *
 *   A -> B  hello(pubA, nonceA)          B -> A  hello(pubB, nonceB)
 *   A -> B  proof(sigA)                  B -> A  proof(sigB)          each verifies the other
 *
 * Wire format, lib0 encoding like the y-protocols messages (varUint = 7-bit little-endian
 * varint, bytes = varUint length + raw bytes). Message types 100/101 lie outside y-protocols'
 * 0..3, so a sync message arriving before the handshake ended is "out of order", not misread.
 *
 *   hello  = varUint 100 | varUint version (=1) | bytes pub (32) | bytes nonce (32 random)
 *            | bytes invitation (UTF-8 token JSON being redeemed, 0..4096 bytes; empty = none)
 *   proof  = varUint 101 | bytes sig (64)
 *
 * A message is at most 8 KiB and must have no trailing bytes.
 *
 * Each side signs, with the key it announced:
 *
 *   utf8("meshfs-handshake-v1") || own pub || peer pub || peer nonce || own nonce
 *     || bytes own invitation || bytes channel binding
 *
 * - The peer's fresh nonce makes a recorded proof useless on another connection (replay).
 * - Both public keys make a proof for one peer useless towards another (relay to a third node).
 * - Signing one's own invitation binds the redeemed token to the key being admitted, so a
 *   relay cannot swap in another token.
 * - A hello carrying our own key or our own nonce is refused: with the symmetric transcript, a
 *   peer reflecting our own messages back would otherwise "prove" to be us.
 *
 * Limit: this authenticates the peer but does not protect the bytes after it. A relay that
 * forwards both sides verbatim completes the handshake and may then tamper with plain-ws
 * traffic. Run over TLS (wss) and pass the TLS exported keying material as `channelBinding`
 * to tie the proof to that TLS session.
 */
import { randomBytes } from 'node:crypto'
import * as encoding from 'lib0/encoding'
import { toBase64url, verify } from '../trust/identity.js'
import type { Signer } from '../trust/identity.js'

export const HANDSHAKE_VERSION = 1
export const MSG_HELLO = 100
export const MSG_PROOF = 101
export const MAX_HANDSHAKE_MESSAGE = 8 * 1024
export const MAX_INVITATION_BYTES = 4 * 1024
const TRANSCRIPT_TAG = new TextEncoder().encode('meshfs-handshake-v1')
const KEY_BYTES = 32
const NONCE_BYTES = 32
const SIG_BYTES = 64

export type HandshakeErrorCode =
  | 'malformed' // cannot be decoded: garbage, truncated, wrong lengths, trailing bytes
  | 'oversized' // longer than MAX_HANDSHAKE_MESSAGE
  | 'out-of-order' // a message the current state does not expect, or use after failure
  | 'unsupported-version'
  | 'bad-signature' // the peer did not prove its key
  | 'unexpected-peer' // a valid key, but not the one we dialed
  | 'reflected' // the peer presented our own key or nonce

export class HandshakeError extends Error {
  override readonly name = 'HandshakeError'
  constructor(
    readonly code: HandshakeErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`handshake failed: ${message}`, options)
  }
}

export interface HandshakeOptions {
  /** The key this side proves (normally the node identity). */
  identity: Signer
  /** Invitation token text this side redeems (joining); sent in the hello and signed. */
  invitation?: string
  /** base64url public key the peer must have, when dialing a known node. */
  expectedPeer?: string
  /** Bytes both ends derive from the underlying secure channel (e.g. TLS exporter); must match. */
  channelBinding?: Uint8Array
  /** Source of nonces; tests only. */
  randomBytes?: (n: number) => Uint8Array
}

type State = 'new' | 'hello-sent' | 'proof-sent' | 'done' | 'failed'

interface Hello {
  pub: Uint8Array
  nonce: Uint8Array
  invitation: Uint8Array
}

export class Handshake {
  private state: State = 'new'
  private readonly nonce: Uint8Array
  private readonly invitation: Uint8Array
  private readonly binding: Uint8Array
  private peer: Hello | undefined
  private verifiedPeer: { publicKey: string; invitation: string | undefined } | undefined

  constructor(private readonly options: HandshakeOptions) {
    this.nonce = Uint8Array.from((options.randomBytes ?? randomBytes)(NONCE_BYTES))
    if (this.nonce.length !== NONCE_BYTES) throw new RangeError(`nonce source must return ${NONCE_BYTES} bytes`)
    this.invitation = new TextEncoder().encode(options.invitation ?? '')
    if (this.invitation.length > MAX_INVITATION_BYTES) throw new RangeError(`invitation longer than ${MAX_INVITATION_BYTES} bytes`)
    this.binding = Uint8Array.from(options.channelBinding ?? [])
  }

  get done(): boolean {
    return this.state === 'done'
  }

  /** The peer's proven public key (base64url); undefined until the handshake is done. */
  get peerPublicKey(): string | undefined {
    return this.verifiedPeer?.publicKey
  }

  /** The invitation token text the proven peer redeems, if any; undefined until done. */
  get peerInvitation(): string | undefined {
    return this.verifiedPeer?.invitation
  }

  /** Our hello; call once, before `receive`. */
  start(): Uint8Array {
    if (this.state !== 'new') this.fail('out-of-order', 'start() called twice')
    this.state = 'hello-sent'
    const e = encoding.createEncoder()
    encoding.writeVarUint(e, MSG_HELLO)
    encoding.writeVarUint(e, HANDSHAKE_VERSION)
    encoding.writeVarUint8Array(e, this.options.identity.publicKeyBytes)
    encoding.writeVarUint8Array(e, this.nonce)
    encoding.writeVarUint8Array(e, this.invitation)
    return encoding.toUint8Array(e)
  }

  /**
   * Feed one received message. Returns the message to send next (our proof, after the peer's
   * hello), or undefined (after the peer's proof: check `done`). Any problem throws
   * HandshakeError and leaves the handshake failed: close the connection.
   */
  receive(message: Uint8Array): Uint8Array | undefined {
    if (this.state === 'failed') this.fail('out-of-order', 'message received after the handshake failed')
    try {
      return this.step(message)
    } catch (err) {
      this.state = 'failed'
      if (err instanceof HandshakeError) throw err
      // Decoding is written not to throw anything else; if it does, still keep the promise.
      throw new HandshakeError('malformed', `unexpected error: ${(err as Error)?.message}`, { cause: err })
    }
  }

  private step(message: Uint8Array): Uint8Array | undefined {
    if (this.state === 'new') this.fail('out-of-order', 'message received before start()')
    if (this.state === 'done') this.fail('out-of-order', 'message received after the handshake completed')
    if (!(message instanceof Uint8Array)) this.fail('malformed', 'expected a binary message')
    if (message.length > MAX_HANDSHAKE_MESSAGE)
      this.fail('oversized', `message of ${message.length} bytes exceeds ${MAX_HANDSHAKE_MESSAGE}`)
    const r = new Reader(message)
    const type = r.varUint()
    switch (this.state) {
      case 'hello-sent':
        if (type !== MSG_HELLO) this.fail('out-of-order', `expected hello (${MSG_HELLO}), got message type ${type}`)
        this.peer = this.readHello(r)
        this.state = 'proof-sent'
        return this.proof()
      case 'proof-sent':
        if (type !== MSG_PROOF) this.fail('out-of-order', `expected proof (${MSG_PROOF}), got message type ${type}`)
        this.checkProof(r)
        this.state = 'done'
        return undefined
      default:
        return this.fail('out-of-order', `message in state ${this.state}`)
    }
  }

  private readHello(r: Reader): Hello {
    const version = r.varUint()
    if (version !== HANDSHAKE_VERSION)
      this.fail('unsupported-version', `peer speaks handshake version ${version}, this node ${HANDSHAKE_VERSION}`)
    const pub = r.bytes(r.varUint(), 'public key')
    const nonce = r.bytes(r.varUint(), 'nonce')
    const invitation = r.bytes(r.varUint(), 'invitation')
    r.end()
    if (pub.length !== KEY_BYTES) this.fail('malformed', `public key of ${pub.length} bytes, expected ${KEY_BYTES}`)
    if (nonce.length !== NONCE_BYTES) this.fail('malformed', `nonce of ${nonce.length} bytes, expected ${NONCE_BYTES}`)
    if (invitation.length > MAX_INVITATION_BYTES)
      this.fail('malformed', `invitation of ${invitation.length} bytes exceeds ${MAX_INVITATION_BYTES}`)
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(invitation)
    } catch {
      this.fail('malformed', 'invitation is not valid UTF-8')
    }
    if (equalBytes(pub, this.options.identity.publicKeyBytes)) {
      this.fail('reflected', "peer presented this node's own public key (a reflected hello, or two nodes sharing one identity file)")
    }
    if (equalBytes(nonce, this.nonce)) this.fail('reflected', "peer echoed this node's own nonce")
    const peerKey = toBase64url(pub)
    if (this.options.expectedPeer !== undefined && peerKey !== this.options.expectedPeer) {
      this.fail('unexpected-peer', `expected node ${this.options.expectedPeer}, the peer is ${peerKey}`)
    }
    return { pub, nonce, invitation }
  }

  private proof(): Uint8Array {
    const peer = this.peer!
    const me = this.options.identity.publicKeyBytes
    const sig = this.options.identity.sign(transcript(me, peer.pub, peer.nonce, this.nonce, this.invitation, this.binding))
    const e = encoding.createEncoder()
    encoding.writeVarUint(e, MSG_PROOF)
    encoding.writeVarUint8Array(e, sig)
    return encoding.toUint8Array(e)
  }

  private checkProof(r: Reader): void {
    const sig = r.bytes(r.varUint(), 'signature')
    r.end()
    if (sig.length !== SIG_BYTES) this.fail('malformed', `signature of ${sig.length} bytes, expected ${SIG_BYTES}`)
    const peer = this.peer!
    const expected = transcript(peer.pub, this.options.identity.publicKeyBytes, this.nonce, peer.nonce, peer.invitation, this.binding)
    if (!verify(peer.pub, expected, sig)) {
      this.fail('bad-signature', 'the peer did not prove possession of the key it announced (or the channel bindings differ)')
    }
    const invitation = peer.invitation.length > 0 ? new TextDecoder().decode(peer.invitation) : undefined
    this.verifiedPeer = { publicKey: toBase64url(peer.pub), invitation }
  }

  private fail(code: HandshakeErrorCode, message: string): never {
    this.state = 'failed'
    throw new HandshakeError(code, message)
  }
}

function transcript(
  signerPub: Uint8Array,
  verifierPub: Uint8Array,
  verifierNonce: Uint8Array,
  signerNonce: Uint8Array,
  signerInvitation: Uint8Array,
  binding: Uint8Array,
): Uint8Array {
  const e = encoding.createEncoder()
  encoding.writeUint8Array(e, TRANSCRIPT_TAG)
  encoding.writeUint8Array(e, signerPub)
  encoding.writeUint8Array(e, verifierPub)
  encoding.writeUint8Array(e, verifierNonce)
  encoding.writeUint8Array(e, signerNonce)
  encoding.writeVarUint8Array(e, signerInvitation)
  encoding.writeVarUint8Array(e, binding)
  return encoding.toUint8Array(e)
}

/**
 * Bounds-checked reader for the lib0 encoding. Not lib0's decoder: that one builds views on the
 * underlying ArrayBuffer, so a lying length on a pooled Node Buffer slice reads neighbouring
 * memory instead of failing.
 */
class Reader {
  private pos = 0
  constructor(private readonly buf: Uint8Array) {}

  /** Handshake numbers are small: refuse varints past 4 bytes (2^28) rather than do big math. */
  varUint(): number {
    let n = 0
    for (let shift = 0; shift < 28; shift += 7) {
      if (this.pos >= this.buf.length) throw new HandshakeError('malformed', 'message truncated inside a number')
      const b = this.buf[this.pos++]!
      n += (b & 0x7f) * 2 ** shift
      if (b < 0x80) return n
    }
    throw new HandshakeError('malformed', 'number too large')
  }

  bytes(length: number, what: string): Uint8Array {
    if (length > this.buf.length - this.pos) throw new HandshakeError('malformed', `message truncated inside the ${what}`)
    // A copy (Buffer#slice would share memory): the transport may reuse its buffer after receive().
    const out = new Uint8Array(this.buf.subarray(this.pos, this.pos + length))
    this.pos += length
    return out
  }

  end(): void {
    if (this.pos !== this.buf.length) throw new HandshakeError('malformed', `${this.buf.length - this.pos} unexpected trailing byte(s)`)
  }
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i])
}
