/**
 * Invitation tokens: a member signs "whoever holds this may join namespace `ns`".
 *
 * Printed form (what `meshfs invite` prints and `meshfs join` reads): compact JSON, fields in
 * this order —
 *
 *   {"v":1,"ns":"<namespace id>","inviter":"<B64U 32-byte ed25519 public key>",
 *    "addrs":["ws://host:port",...],"recursive":false,"exp":<unix ms>,"uses":<max redemptions>,
 *    "nonce":"<B64U 16 random bytes>","sig":"<B64U 64-byte ed25519 signature>"}
 *
 * Signed bytes (deterministic, independent of how the JSON was spaced or ordered):
 *
 *   utf8("meshfs-invitation-v1\n") || utf8(JSON.stringify([v, ns, inviter, addrs, recursive, exp, uses, nonce]))
 *
 * A fixed-order array of strings, booleans and safe integers stringifies one way only, so the
 * signer and the verifier always hash the same bytes; the prefix keeps an invitation signature
 * from ever being valid as some other kind of meshfs signature.
 *
 * Error codes (InvitationError.code):
 *   'malformed'       not JSON, wrong/missing/unknown fields, bad base64url or lengths
 *   'unsupported'     a version other than 1 (made by a newer meshfs)
 *   'tampered'        the signature does not match the fields (edited or corrupted token)
 *   'unknown-inviter' validly signed, but by a key the namespace does not know as a member
 *   'wrong-namespace' validly signed for another namespace than the one being joined
 *   'expired'         now > exp
 *   'used'            already redeemed `uses` times
 *
 * `uses` is counted by the admitting side (`usesSoFar(nonce)`); keep that count in replicated
 * namespace state, and expect that two partitioned nodes may each admit up to `uses`.
 */
import { randomBytes } from 'node:crypto'
import { decodeBase64url, toBase64url, verify } from './identity.js'
import type { Signer } from './identity.js'

export const INVITATION_VERSION = 1
const SIGNING_PREFIX = 'meshfs-invitation-v1\n'
const NONCE_BYTES = 16
const MAX_TOKEN_CHARS = 16 * 1024
const MAX_NAMESPACE_ID_CHARS = 256
const MAX_ADDRESSES = 32
const MAX_ADDRESS_CHARS = 512
const FIELDS = ['v', 'ns', 'inviter', 'addrs', 'recursive', 'exp', 'uses', 'nonce', 'sig'] as const

export interface InvitationToken {
  v: 1
  ns: string
  inviter: string
  addrs: string[]
  recursive: boolean
  exp: number
  uses: number
  nonce: string
  sig: string
}

export type InvitationErrorCode = 'malformed' | 'unsupported' | 'tampered' | 'unknown-inviter' | 'wrong-namespace' | 'expired' | 'used'

export class InvitationError extends Error {
  override readonly name = 'InvitationError'
  constructor(
    readonly code: InvitationErrorCode,
    message: string,
  ) {
    super(message)
  }
}

export interface CreateInvitationOptions {
  namespaceId: string
  inviter: Signer
  addresses: string[]
  recursive: boolean
  expiresAtMs: number
  /** How many joins this token admits; default 1. */
  uses?: number
  /** base64url of 16 bytes; random by default (tests pass one to get a fixed token). */
  nonce?: string
}

export function createInvitation(options: CreateInvitationOptions): InvitationToken {
  const unsigned = {
    v: INVITATION_VERSION as 1,
    ns: options.namespaceId,
    inviter: options.inviter.publicKey,
    addrs: [...options.addresses],
    recursive: options.recursive,
    exp: options.expiresAtMs,
    uses: options.uses ?? 1,
    nonce: options.nonce ?? toBase64url(randomBytes(NONCE_BYTES)),
  }
  // Validate what we are about to sign, so we never hand out a token that parseToken rejects.
  validateToken({ ...unsigned, sig: toBase64url(new Uint8Array(64)) })
  const sig = toBase64url(options.inviter.sign(signingBytes(unsigned)))
  return { ...unsigned, sig }
}

/** The printed token: compact JSON in the documented field order. */
export function encodeToken(token: InvitationToken): string {
  return JSON.stringify(Object.fromEntries(FIELDS.map((f) => [f, token[f]])))
}

/** Parse and shape-check a printed token. Checks no signature: see verifyInvitation. */
export function parseToken(text: string): InvitationToken {
  if (typeof text !== 'string') throw malformed('the token must be a string')
  if (text.length > MAX_TOKEN_CHARS) throw malformed(`the token is longer than ${MAX_TOKEN_CHARS} characters`)
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    throw malformed(`the token is not valid JSON (${(err as Error).message}); copy the whole line printed by "meshfs invite"`)
  }
  return validateToken(value)
}

export interface VerifyInvitationOptions {
  now: number
  /** The namespace being joined; omit to accept whatever namespace the token names. */
  expectedNamespace?: string
  /** Whether `pub` may invite (a member with a role that can invite). Omit to skip the check. */
  isKnownInviter?: (inviterPublicKey: string) => boolean
  /** How many times the token with this nonce has been redeemed already. */
  usesSoFar: (nonce: string) => number
}

/**
 * Throws InvitationError unless the token is well-formed, signed by its inviter, from a known
 * inviter, for the expected namespace, unexpired and not used up. The signature is checked first
 * so that an edited field (say a later `exp`) reports 'tampered', not a misleading reason.
 */
export function verifyInvitation(token: InvitationToken, options: VerifyInvitationOptions): InvitationToken {
  const t = validateToken(token)
  const sig = decodeBase64url(t.sig, 64)!
  if (!verify(t.inviter, signingBytes(t), sig)) {
    throw new InvitationError('tampered', 'the invitation signature does not match its contents: the token was edited or corrupted')
  }
  if (options.isKnownInviter && !options.isKnownInviter(t.inviter)) {
    throw new InvitationError(
      'unknown-inviter',
      `the invitation was signed by ${t.inviter}, which is not a member allowed to invite to namespace ${JSON.stringify(t.ns)}`,
    )
  }
  if (options.expectedNamespace !== undefined && t.ns !== options.expectedNamespace) {
    throw new InvitationError(
      'wrong-namespace',
      `the invitation is for namespace ${JSON.stringify(t.ns)}, not ${JSON.stringify(options.expectedNamespace)}`,
    )
  }
  if (options.now > t.exp) {
    throw new InvitationError('expired', `the invitation expired at ${new Date(t.exp).toISOString()}; ask for a new one`)
  }
  const used = options.usesSoFar(t.nonce)
  if (used >= t.uses) {
    throw new InvitationError('used', `the invitation was already used ${used} time(s) of ${t.uses}; ask for a new one`)
  }
  return t
}

const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }

/**
 * `--expires DURATION`: a positive whole number and one unit, s m h or d ('90s', '30m', '1h',
 * '7d'); returns milliseconds. Throws RangeError with a message fit for the command line.
 */
export function parseDuration(text: string): number {
  const m = typeof text === 'string' ? /^(\d{1,15})([smhd])$/.exec(text.trim()) : null
  if (!m) {
    throw new RangeError(
      `invalid duration ${JSON.stringify(text)}: expected a whole number followed by s, m, h or d (e.g. 90s, 30m, 1h, 7d)`,
    )
  }
  const ms = Number(m[1]) * UNITS[m[2]!]!
  if (ms <= 0) throw new RangeError(`invalid duration ${JSON.stringify(text)}: must be longer than zero`)
  if (!Number.isSafeInteger(ms)) throw new RangeError(`invalid duration ${JSON.stringify(text)}: too long`)
  return ms
}

function signingBytes(t: Omit<InvitationToken, 'sig'>): Uint8Array {
  const body = JSON.stringify([t.v, t.ns, t.inviter, t.addrs, t.recursive, t.exp, t.uses, t.nonce])
  return new TextEncoder().encode(SIGNING_PREFIX + body)
}

/** Strict shape check; returns a fresh, plain copy so later mutation of the input changes nothing. */
function validateToken(value: unknown): InvitationToken {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw malformed('the token is not a JSON object')
  const o = value as Record<string, unknown>
  // Version first: a newer token may have fields we do not know, and "upgrade" is the useful advice.
  if (o.v !== INVITATION_VERSION) {
    if (typeof o.v === 'number')
      throw new InvitationError(
        'unsupported',
        `invitation version ${o.v} is not supported (this meshfs understands version ${INVITATION_VERSION})`,
      )
    throw malformed('"v" must be the number 1')
  }
  const unknown = Object.keys(o).filter((k) => !(FIELDS as readonly string[]).includes(k))
  // Unknown fields would ride along unsigned; reject rather than let them look authoritative.
  if (unknown.length > 0) throw malformed(`unknown field(s) ${unknown.map((k) => JSON.stringify(k)).join(', ')}`)
  for (const f of FIELDS) if (!Object.hasOwn(o, f)) throw malformed(`missing field "${f}"`)

  const { ns, inviter, addrs, recursive, exp, uses, nonce, sig } = o
  if (typeof ns !== 'string' || ns.length === 0 || ns.length > MAX_NAMESPACE_ID_CHARS)
    throw malformed(`"ns" must be a non-empty string of at most ${MAX_NAMESPACE_ID_CHARS} characters`)
  if (typeof inviter !== 'string' || !decodeBase64url(inviter, 32)) throw malformed('"inviter" must be a 32-byte public key in base64url')
  if (!Array.isArray(addrs) || addrs.length > MAX_ADDRESSES)
    throw malformed(`"addrs" must be an array of at most ${MAX_ADDRESSES} addresses`)
  for (const a of addrs) {
    if (typeof a !== 'string' || a.length === 0 || a.length > MAX_ADDRESS_CHARS)
      throw malformed(`every address in "addrs" must be a non-empty string of at most ${MAX_ADDRESS_CHARS} characters`)
  }
  if (typeof recursive !== 'boolean') throw malformed('"recursive" must be true or false')
  if (typeof exp !== 'number' || !Number.isSafeInteger(exp) || exp < 0)
    throw malformed('"exp" must be a non-negative whole number of Unix milliseconds')
  if (typeof uses !== 'number' || !Number.isSafeInteger(uses) || uses < 1) throw malformed('"uses" must be a whole number of at least 1')
  if (typeof nonce !== 'string' || !decodeBase64url(nonce, NONCE_BYTES))
    throw malformed(`"nonce" must be ${NONCE_BYTES} bytes in base64url`)
  if (typeof sig !== 'string' || !decodeBase64url(sig, 64))
    throw malformed('"sig" must be a 64-byte signature in base64url (truncated token?)')
  return { v: 1, ns, inviter, addrs: [...(addrs as string[])], recursive, exp, uses, nonce, sig }
}

function malformed(why: string): InvitationError {
  return new InvitationError('malformed', `malformed invitation: ${why}`)
}
