import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { KeyPair } from '../../src/net/trust/identity.js'
import { throwsCode } from '../support/errno.js'
import {
  InvitationError,
  createInvitation,
  encodeToken,
  parseDuration,
  parseToken,
  verifyInvitation,
} from '../../src/net/trust/invitation.js'
import type { InvitationToken, VerifyInvitationOptions } from '../../src/net/trust/invitation.js'

const NOW = 1_800_000_000_000
const inviter = KeyPair.generate()

function token(overrides: Partial<Parameters<typeof createInvitation>[0]> = {}): InvitationToken {
  return createInvitation({
    namespaceId: 'team',
    inviter,
    addresses: ['ws://10.0.0.1:7420', 'ws://[::1]:7420'],
    recursive: true,
    expiresAtMs: NOW + 3_600_000,
    ...overrides,
  })
}

const ok: VerifyInvitationOptions = {
  now: NOW,
  expectedNamespace: 'team',
  isKnownInviter: (p) => p === inviter.publicKey,
  usesSoFar: () => 0,
}

/** An InvitationError with `code` and a message that says more than the code. */
const assertCode = (fn: () => unknown, code: string) => throwsCode(fn, code, { type: InvitationError, message: /.{11}/s })

/** The printed token with one field replaced, as a user editing it would. */
function edited(t: InvitationToken, field: string, value: unknown): string {
  return JSON.stringify({ ...t, [field]: value })
}

/** Another spelling of the same 32 bytes: base64url's last character carries 2 unused bits. */
function nonCanonical(b64: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
  const last = alphabet.indexOf(b64.at(-1)!)
  const other = b64.slice(0, -1) + alphabet[last | 1]
  assert.deepEqual(Buffer.from(other, 'base64url'), Buffer.from(b64, 'base64url'))
  return other
}

describe('invitation tokens', () => {
  it('round-trip through the printed JSON and verify', () => {
    const t = token({ uses: 3 })
    const text = encodeToken(t)
    assert.equal(text, JSON.stringify(JSON.parse(text)), 'compact JSON')
    assert.deepEqual(Object.keys(JSON.parse(text)), ['v', 'ns', 'inviter', 'addrs', 'recursive', 'exp', 'uses', 'nonce', 'sig'])
    const parsed = parseToken(text)
    assert.deepEqual(parsed, t)
    assert.deepEqual(verifyInvitation(parsed, ok), t)
    assert.equal(t.uses, 3)
    assert.equal(token().uses, 1, 'single use by default')
  })

  it('verify regardless of JSON key order and whitespace', () => {
    const t = token()
    const reordered = JSON.stringify(Object.fromEntries(Object.entries(t).reverse()), null, 2)
    verifyInvitation(parseToken(reordered), ok)
  })

  it('are deterministic for a given nonce, and random nonces differ', () => {
    const nonce = 'AAECAwQFBgcICQoLDA0ODw'
    assert.equal(encodeToken(token({ nonce })), encodeToken(token({ nonce })))
    assert.notEqual(token().nonce, token().nonce)
  })

  it('report an edited field as tampered, for every signed field', () => {
    const t = token({ uses: 2 })
    const other = KeyPair.generate().publicKey
    const edits: Array<[string, unknown]> = [
      ['ns', 'teams'],
      ['inviter', other],
      ['addrs', ['ws://evil:1']],
      ['recursive', false],
      ['exp', t.exp + 1],
      ['uses', 3],
      ['nonce', 'AAECAwQFBgcICQoLDA0ODw'],
    ]
    for (const [field, value] of edits) {
      const parsed = parseToken(edited(t, field, value))
      assertCode(() => verifyInvitation(parsed, { ...ok, expectedNamespace: undefined, isKnownInviter: undefined }), 'tampered')
    }
    const sig = Buffer.from(t.sig, 'base64url')
    sig[10]! ^= 1
    assertCode(() => verifyInvitation(parseToken(edited(t, 'sig', sig.toString('base64url'))), ok), 'tampered')
  })

  it('report expired, wrong namespace, unknown inviter and used up', () => {
    const t = token({ uses: 2 })
    assertCode(() => verifyInvitation(t, { ...ok, now: t.exp + 1 }), 'expired')
    verifyInvitation(t, { ...ok, now: t.exp }) // valid up to and including exp
    assertCode(() => verifyInvitation(t, { ...ok, expectedNamespace: 'other' }), 'wrong-namespace')
    assertCode(() => verifyInvitation(t, { ...ok, isKnownInviter: () => false }), 'unknown-inviter')
    verifyInvitation(t, { ...ok, usesSoFar: () => 1 })
    assertCode(() => verifyInvitation(t, { ...ok, usesSoFar: (n) => (n === t.nonce ? 2 : 0) }), 'used')
  })

  it('report malformed text with code malformed', () => {
    const t = token()
    const cases: string[] = [
      '',
      'not json',
      encodeToken(t).slice(0, -5), // truncated copy-paste
      '[]',
      'null',
      '"a string"',
      '{}',
      edited(t, 'v', '1'),
      edited(t, 'ns', ''),
      edited(t, 'ns', 7),
      edited(t, 'inviter', t.inviter.slice(0, -1)),
      edited(t, 'inviter', `${t.inviter.slice(0, -1)}+`),
      edited(t, 'inviter', nonCanonical(t.inviter)), // same bytes, different text
      edited(t, 'addrs', 'ws://a'),
      edited(t, 'addrs', [1]),
      edited(t, 'addrs', ['']),
      edited(t, 'recursive', 'true'),
      edited(t, 'exp', '123'),
      edited(t, 'exp', 1.5),
      edited(t, 'exp', -1),
      edited(t, 'uses', 0),
      edited(t, 'uses', null),
      edited(t, 'nonce', 'short'),
      edited(t, 'sig', t.sig.slice(0, -4)), // truncated signature
      edited(t, 'sig', `${t.sig}AA`),
      edited(t, 'extra', 'unsigned data'),
      JSON.stringify({ ...t, ns: undefined }), // missing field
      'x'.repeat(20_000),
    ]
    for (const text of cases) assertCode(() => parseToken(text), 'malformed')
    assertCode(() => parseToken(42 as unknown as string), 'malformed')
    assertCode(() => verifyInvitation({ ...t, exp: 'soon' } as unknown as InvitationToken, ok), 'malformed')
  })

  it('report an unknown version as unsupported', () => {
    assertCode(() => parseToken(edited(token(), 'v', 2)), 'unsupported')
  })

  it('cannot be created with invalid fields', () => {
    assertCode(() => token({ namespaceId: '' }), 'malformed')
    assertCode(() => token({ uses: 0 }), 'malformed')
    assertCode(() => token({ expiresAtMs: Number.NaN }), 'malformed')
    assertCode(() => token({ nonce: 'abc' }), 'malformed')
  })
})

describe('parseDuration', () => {
  it('parses seconds, minutes, hours and days to milliseconds', () => {
    assert.equal(parseDuration('90s'), 90_000)
    assert.equal(parseDuration('30m'), 1_800_000)
    assert.equal(parseDuration('1h'), 3_600_000)
    assert.equal(parseDuration('7d'), 604_800_000)
    assert.equal(parseDuration(' 2h '), 7_200_000)
  })

  it('rejects anything else with a message that shows the expected form', () => {
    for (const bad of ['', '1', 'h', '1x', '1.5h', '-1h', '0s', '1h30m', '1 h', '1H', '999999999999999d', 'ten minutes']) {
      assert.throws(
        () => parseDuration(bad),
        (e: unknown) => e instanceof RangeError && e.message.includes(JSON.stringify(bad)),
        bad,
      )
    }
    assert.throws(() => parseDuration(undefined as unknown as string), RangeError)
  })
})
