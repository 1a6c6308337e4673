// Client tokens (src/net/client-token.ts): what a node signs for stock Yjs clients, and every way
// a token that is not this node's, not this shape or not current is refused with its code.

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { KeyPair, toBase64url } from '../../src/net/trust/identity.js'
import { ClientTokenError, createClientToken, verifyClientToken } from '../../src/net/yws/client-token.js'

const NOW = 1_800_000_000_000
const NS = '0123456789abcdef0123456789abcdef'
const node = KeyPair.generate()
const other = KeyPair.generate()

function mint(opts: { expiresAtMs?: number | null; readOnly?: boolean; issuer?: KeyPair } = {}): string {
  return createClientToken({
    namespaceId: NS,
    issuer: opts.issuer ?? node,
    expiresAtMs: opts.expiresAtMs ?? null,
    readOnly: opts.readOnly ?? false,
  }).token
}

function refused(token: unknown, code: string, now = NOW): void {
  assert.throws(
    () => verifyClientToken(token, { publicKey: node.publicKey, now }),
    (err: unknown) => {
      assert.ok(err instanceof ClientTokenError, String(err))
      assert.equal(err.code, code, err.message)
      return true
    },
  )
}

/** A token whose payload is `claims`, signed (validly) by `signer` over exactly those bytes. */
function signed(claims: unknown, signer = node): string {
  const payload = Buffer.from(JSON.stringify(claims))
  const sig = signer.sign(new Uint8Array(Buffer.concat([Buffer.from('meshfs-client-token-v1\n'), payload])))
  return `${toBase64url(payload)}.${toBase64url(sig)}`
}

describe('client tokens', () => {
  it('verify on the issuing node, with the namespace, expiry and read-only flag they were made with', () => {
    const token = mint({ expiresAtMs: NOW + 60_000, readOnly: true })
    assert.match(token, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/, 'URL-safe as it is')
    const claims = verifyClientToken(token, { publicKey: node.publicKey, now: NOW })
    assert.deepEqual(
      { ns: claims.ns, iss: claims.iss, exp: claims.exp, ro: claims.ro },
      { ns: NS, iss: node.publicKey, exp: NOW + 60_000, ro: true },
    )
    assert.equal(verifyClientToken(mint(), { publicKey: node.publicKey, now: Number.MAX_SAFE_INTEGER }).exp, null, 'no expiry')
    assert.notEqual(mint(), mint(), 'each token has its own nonce')
  })

  it('are refused when missing or malformed', () => {
    for (const t of [undefined, '', 'x', 'a.b.c', '!!.!!', 'x'.repeat(5000), 42]) refused(t, 'malformed')
    const claims = JSON.parse(Buffer.from(mint().split('.')[0]!, 'base64url').toString()) as Record<string, unknown>
    refused(signed({ ...claims, ns: 'team' }), 'malformed')
    refused(signed({ ...claims, extra: 1 }), 'malformed')
    refused(signed({ ...claims, ro: 'yes' }), 'malformed')
    refused(signed({ ...claims, exp: -1 }), 'malformed')
    refused(signed([claims]), 'malformed')
  })

  it('are refused when edited, re-signed by another key, or issued by another node', () => {
    const token = mint({ expiresAtMs: NOW + 1000 })
    const [payload, sig] = token.split('.') as [string, string]
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>
    refused(`${toBase64url(Buffer.from(JSON.stringify({ ...claims, exp: NOW + 9e9 })))}.${sig}`, 'tampered')
    refused(`${payload}.${toBase64url(new Uint8Array(64))}`, 'tampered')
    refused(signed(claims, other), 'tampered')
    refused(mint({ issuer: other }), 'tampered')
  })

  it('are refused once expired', () => {
    const token = mint({ expiresAtMs: NOW })
    assert.equal(verifyClientToken(token, { publicKey: node.publicKey, now: NOW }).exp, NOW)
    refused(token, 'expired', NOW + 1)
  })
})
