/**
 * Client tokens: a bearer token a node signs with its own key, saying "whoever holds this may
 * open rooms of namespace `ns` on this node" (see yws-endpoint.ts). It is what a stock Yjs
 * client (y-websocket's WebsocketProvider) sends as `?token=` when it connects.
 *
 * Printed form (URL-safe, so it goes into a query string as it is):
 *
 *   B64U(payload) "." B64U(64-byte ed25519 signature)
 *   payload = utf8(JSON {"v":1,"ns":"<namespace id>","iss":"<B64U issuing node's public key>",
 *                        "exp":<unix ms>|null,"ro":<bool>,"nonce":"<B64U 16 random bytes>"})
 *
 * Signed bytes: utf8("meshfs-client-token-v1\n") || payload bytes, exactly as carried in the token,
 * so nothing is re-serialized before verifying; the prefix keeps the signature from being valid
 * as any other kind of meshfs signature (invitations use their own prefix).
 *
 * Rules, and why:
 * - A token is valid only on the node that issued it (`iss` is checked against this node's key):
 *   the node vouches for the bearer, so no other node needs to know the bearer or the token.
 * - `exp` null means no expiry: the token is then as long-lived as a password. There is no
 *   revocation list; prefer `--expires`.
 * - `ro` (read-only) tokens may read a room and exchange awareness, never change the document.
 *
 * Error codes (ClientTokenError.code): 'malformed' (missing, not this format, wrong fields),
 * 'tampered' (signature does not match, or issued by another node), 'expired'.
 */
import { randomBytes } from 'node:crypto'
import { decodeBase64url, toBase64url, verify, type Signer } from '../trust/identity.js'

const SIGNING_PREFIX = 'meshfs-client-token-v1\n'
const MAX_TOKEN_CHARS = 4096
const NONCE_BYTES = 16
const NS_ID = /^[0-9a-f]{32}$/
const FIELDS = ['v', 'ns', 'iss', 'exp', 'ro', 'nonce'] as const

export interface ClientTokenClaims {
  v: 1
  ns: string
  iss: string
  exp: number | null
  ro: boolean
  nonce: string
}

export type ClientTokenErrorCode = 'malformed' | 'tampered' | 'expired'

export class ClientTokenError extends Error {
  override readonly name = 'ClientTokenError'
  constructor(
    readonly code: ClientTokenErrorCode,
    message: string,
  ) {
    super(message)
  }
}

export interface CreateClientTokenOptions {
  namespaceId: string
  issuer: Signer
  /** Unix ms, or null for a token that never expires. */
  expiresAtMs: number | null
  readOnly: boolean
}

export function createClientToken(opts: CreateClientTokenOptions): { token: string; claims: ClientTokenClaims } {
  const claims: ClientTokenClaims = {
    v: 1,
    ns: opts.namespaceId,
    iss: opts.issuer.publicKey,
    exp: opts.expiresAtMs,
    ro: opts.readOnly,
    nonce: toBase64url(randomBytes(NONCE_BYTES)),
  }
  checkClaims(claims)
  const payload = new TextEncoder().encode(JSON.stringify(Object.fromEntries(FIELDS.map((f) => [f, claims[f]]))))
  const sig = opts.issuer.sign(signingBytes(payload))
  return { token: `${toBase64url(payload)}.${toBase64url(sig)}`, claims }
}

/**
 * The claims of a token this node (`publicKey`) issued, unexpired at `now`; throws
 * ClientTokenError otherwise. The signature is checked before expiry, so an edited `exp`
 * reports 'tampered', not a misleading reason.
 */
export function verifyClientToken(text: unknown, opts: { publicKey: string; now: number }): ClientTokenClaims {
  if (typeof text !== 'string' || text === '')
    throw new ClientTokenError('malformed', 'no token given (connect with ?token=...; mint one with: meshfs ns token NS)')
  if (text.length > MAX_TOKEN_CHARS) throw new ClientTokenError('malformed', `the token is longer than ${MAX_TOKEN_CHARS} characters`)
  const parts = text.split('.')
  const payload = parts.length === 2 ? decodeBase64url(parts[0]!) : undefined
  const sig = parts.length === 2 ? decodeBase64url(parts[1]!, 64) : undefined
  if (!payload || !sig) throw new ClientTokenError('malformed', 'not a meshfs client token (expected PAYLOAD.SIGNATURE in base64url)')
  let value: unknown
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload))
  } catch {
    throw new ClientTokenError('malformed', 'the token payload is not JSON')
  }
  const claims = checkClaims(value)
  if (claims.iss !== opts.publicKey || !verify(opts.publicKey, signingBytes(payload), sig)) {
    throw new ClientTokenError('tampered', 'the token was not signed by this node: it was edited, corrupted, or issued by another node')
  }
  if (claims.exp !== null && opts.now > claims.exp)
    throw new ClientTokenError('expired', `the token expired at ${new Date(claims.exp).toISOString()}; mint a new one`)
  return claims
}

function signingBytes(payload: Uint8Array): Uint8Array {
  const prefix = new TextEncoder().encode(SIGNING_PREFIX)
  const out = new Uint8Array(prefix.length + payload.length)
  out.set(prefix)
  out.set(payload, prefix.length)
  return out
}

function checkClaims(value: unknown): ClientTokenClaims {
  const bad = (why: string) => new ClientTokenError('malformed', `malformed client token: ${why}`)
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad('the payload is not a JSON object')
  const o = value as Record<string, unknown>
  if (o.v !== 1) throw bad('"v" must be 1')
  const keys = Object.keys(o)
  if (keys.length !== FIELDS.length || !FIELDS.every((f) => Object.hasOwn(o, f)))
    throw bad(`the fields must be exactly ${FIELDS.join(', ')}`)
  const { ns, iss, exp, ro, nonce } = o
  if (typeof ns !== 'string' || !NS_ID.test(ns)) throw bad('"ns" must be a namespace id (32 hex digits)')
  if (typeof iss !== 'string' || !decodeBase64url(iss, 32)) throw bad('"iss" must be a 32-byte public key in base64url')
  if (exp !== null && (typeof exp !== 'number' || !Number.isSafeInteger(exp) || exp < 0))
    throw bad('"exp" must be null or whole Unix milliseconds')
  if (typeof ro !== 'boolean') throw bad('"ro" must be true or false')
  if (typeof nonce !== 'string' || !decodeBase64url(nonce, NONCE_BYTES)) throw bad(`"nonce" must be ${NONCE_BYTES} bytes in base64url`)
  return { v: 1, ns, iss, exp, ro, nonce }
}
