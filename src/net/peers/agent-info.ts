// Agent infos (Kitsune2's): a node's signed statement "I hold namespace `space` and am reachable
// at `urls` until `expiresAtMs`". Nodes gossip them among the members of a namespace so that a
// node that joined through one member learns how to reach the others, and a restarted node can
// dial members it only heard of. A tombstone (`isTombstone`) says the node left the namespace;
// it replaces the node's earlier infos until it expires, so they cannot come back.
//
// JSON form (persisted, and what the control API shows):
//
//   {"agent": B64U(32 ed25519 public key), "space": "<namespace id>", "urls": ["ws://..."],
//    "createdAtMs": <unix ms>, "expiresAtMs": <unix ms>, "isTombstone": false, "sig": B64U(64)}
//
// Signed bytes, deterministic as for invitations, with a prefix of their own so that an agent
// info signature is never valid as any other meshfs signature:
//
//   utf8("meshfs-agent-info-v1\n") || utf8(JSON.stringify([agent, space, urls, createdAtMs, expiresAtMs, isTombstone]))

import { decodeBase64url, toBase64url, verify, type Signer } from '../trust/identity.js'

const SIGNING_PREFIX = 'meshfs-agent-info-v1\n'
export const MAX_URLS = 8
export const MAX_URL_CHARS = 256
/** Longest lifetime accepted: a leaked info cannot advertise a node for longer than this. */
export const MAX_TTL_MS = 24 * 3600_000
/** How far ahead of our clock a peer's `createdAtMs` may be. */
export const MAX_CLOCK_SKEW_MS = 10 * 60_000
const NS_ID = /^[0-9a-f]{32}$/

export interface AgentInfo {
  agent: string
  space: string
  urls: string[]
  createdAtMs: number
  expiresAtMs: number
  isTombstone: boolean
}

export interface SignedAgentInfo extends AgentInfo {
  sig: string
}

export type AgentInfoErrorCode = 'malformed' | 'bad-signature' | 'expired' | 'future'

export class AgentInfoError extends Error {
  override readonly name = 'AgentInfoError'
  constructor(
    readonly code: AgentInfoErrorCode,
    message: string,
  ) {
    super(message)
  }
}

/** Sign `info` with `signer`, which must be the agent it names. */
export function signAgentInfo(signer: Signer, info: Omit<AgentInfo, 'agent'>): SignedAgentInfo {
  const unsigned: AgentInfo = {
    agent: signer.publicKey,
    space: info.space,
    urls: [...info.urls],
    createdAtMs: info.createdAtMs,
    expiresAtMs: info.expiresAtMs,
    isTombstone: info.isTombstone,
  }
  // Check what we sign, so we never gossip an info our peers would refuse.
  checkAgentInfo({ ...unsigned, sig: toBase64url(new Uint8Array(64)) })
  return { ...unsigned, sig: toBase64url(signer.sign(signingBytes(unsigned))) }
}

/**
 * Throws AgentInfoError unless `value` is a well-formed info signed by its agent, not expired at
 * `now` and not created in the future. Returns a fresh plain copy.
 */
export function verifyAgentInfo(value: unknown, now: number): SignedAgentInfo {
  const info = checkAgentInfo(value)
  if (!verify(info.agent, signingBytes(info), decodeBase64url(info.sig, 64)!)) {
    throw new AgentInfoError('bad-signature', `agent info of ${info.agent} for ${info.space}: the signature does not match its contents`)
  }
  if (info.expiresAtMs <= now)
    throw new AgentInfoError(
      'expired',
      `agent info of ${info.agent} for ${info.space} expired at ${new Date(info.expiresAtMs).toISOString()}`,
    )
  if (info.createdAtMs > now + MAX_CLOCK_SKEW_MS) {
    throw new AgentInfoError(
      'future',
      `agent info of ${info.agent} for ${info.space} was created at ${new Date(info.createdAtMs).toISOString()}, in the future`,
    )
  }
  return info
}

/** Strict shape check of an untrusted value (signature not checked); returns a plain copy. */
export function checkAgentInfo(value: unknown): SignedAgentInfo {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw malformed('not an object')
  const o = value as Record<string, unknown>
  const { agent, space, urls, createdAtMs, expiresAtMs, isTombstone, sig } = o
  if (typeof agent !== 'string' || !decodeBase64url(agent, 32)) throw malformed('"agent" must be a 32-byte public key in base64url')
  if (typeof space !== 'string' || !NS_ID.test(space)) throw malformed('"space" must be a namespace id')
  if (!Array.isArray(urls) || urls.length > MAX_URLS) throw malformed(`"urls" must be an array of at most ${MAX_URLS} URLs`)
  for (const u of urls) if (!isPeerUrl(u)) throw malformed(`every URL must be a ws:// or wss:// URL of at most ${MAX_URL_CHARS} characters`)
  if (!isTime(createdAtMs) || !isTime(expiresAtMs))
    throw malformed('"createdAtMs" and "expiresAtMs" must be non-negative whole numbers of Unix milliseconds')
  if (expiresAtMs <= createdAtMs || expiresAtMs - createdAtMs > MAX_TTL_MS)
    throw malformed(`the lifetime must be positive and at most ${MAX_TTL_MS / 3600_000} h`)
  if (typeof isTombstone !== 'boolean') throw malformed('"isTombstone" must be true or false')
  if (typeof sig !== 'string' || !decodeBase64url(sig, 64)) throw malformed('"sig" must be a 64-byte signature in base64url')
  return { agent, space, urls: [...(urls as string[])], createdAtMs, expiresAtMs, isTombstone, sig }
}

export function isPeerUrl(u: unknown): u is string {
  if (typeof u !== 'string' || u.length === 0 || u.length > MAX_URL_CHARS || !/^wss?:\/\//.test(u)) return false
  try {
    new URL(u)
    return true
  } catch {
    // `new URL` throwing is the answer here: the string is no URL.
    return false
  }
}

function isTime(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0
}

function signingBytes(i: AgentInfo): Uint8Array {
  return new TextEncoder().encode(SIGNING_PREFIX + JSON.stringify([i.agent, i.space, i.urls, i.createdAtMs, i.expiresAtMs, i.isTombstone]))
}

function malformed(why: string): AgentInfoError {
  return new AgentInfoError('malformed', `malformed agent info: ${why}`)
}
