// Agent infos: signed by their agent, refused when edited, forged, expired, from the future or
// malformed; and the peer store that holds them: members only, newest wins, pending until
// membership shows, expiry, bounds and persistence.

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { AgentInfoError, MAX_TTL_MS, signAgentInfo, verifyAgentInfo, type SignedAgentInfo } from '../../src/net/peers/agent-info.js'
import { KeyPair, toBase64url } from '../../src/net/trust/identity.js'
import { decodeMessage, encodeMessage, PeerProtocolError } from '../../src/net/protocol/peer-messages.js'
import { MAX_INFOS_PER_NAMESPACE, MAX_PENDING_PER_NAMESPACE, PeerStore } from '../../src/net/peers/peer-store.js'

const NOW = 1_800_000_000_000
const NS = '0123456789abcdef0123456789abcdef'
const OTHER_NS = 'fedcba9876543210fedcba9876543210'
const alice = KeyPair.generate()
const bob = KeyPair.generate()

function info(signer = alice, over: Partial<Parameters<typeof signAgentInfo>[1]> = {}): SignedAgentInfo {
  return signAgentInfo(signer, {
    space: NS,
    urls: ['ws://127.0.0.1:7300'],
    createdAtMs: NOW,
    expiresAtMs: NOW + 20 * 60_000,
    isTombstone: false,
    ...over,
  })
}

function code(fn: () => unknown, expected: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof AgentInfoError, `expected AgentInfoError, got ${String(err)}`)
    assert.equal(err.code, expected, err.message)
    return true
  })
}

describe('agent infos', () => {
  it('are signed by their agent and verify as a plain copy', () => {
    const i = info()
    assert.equal(i.agent, alice.publicKey)
    const v = verifyAgentInfo(JSON.parse(JSON.stringify(i)), NOW + 1000)
    assert.deepEqual(v, i)
    assert.notEqual(v.urls, i.urls)
  })

  it('refuse any edited field as a bad signature', () => {
    const i = info()
    code(() => verifyAgentInfo({ ...i, urls: ['ws://10.0.0.66:7300'] }, NOW), 'bad-signature')
    code(() => verifyAgentInfo({ ...i, expiresAtMs: i.expiresAtMs + 1 }, NOW), 'bad-signature')
    code(() => verifyAgentInfo({ ...i, createdAtMs: i.createdAtMs + 1 }, NOW), 'bad-signature')
    code(() => verifyAgentInfo({ ...i, isTombstone: true }, NOW), 'bad-signature')
    code(() => verifyAgentInfo({ ...i, space: OTHER_NS }, NOW), 'bad-signature')
  })

  it('refuse an info claiming another agent (signed by someone else)', () => {
    const forged = { ...info(bob), agent: alice.publicKey }
    code(() => verifyAgentInfo(forged, NOW), 'bad-signature')
    code(() => verifyAgentInfo({ ...info(), sig: toBase64url(new Uint8Array(64)) }, NOW), 'bad-signature')
  })

  it('refuse expired and future infos', () => {
    const i = info()
    code(() => verifyAgentInfo(i, i.expiresAtMs), 'expired')
    code(() => verifyAgentInfo(i, i.expiresAtMs + 1), 'expired')
    code(() => verifyAgentInfo(info(alice, { createdAtMs: NOW + 3600_000, expiresAtMs: NOW + 3700_000 }), NOW), 'future')
  })

  it('refuse malformed values, and signing refuses to make one', () => {
    const i = info()
    for (const bad of [
      null,
      [],
      'x',
      { ...i, agent: 'abc' },
      { ...i, space: 'team' },
      { ...i, urls: 'ws://x' },
      { ...i, urls: ['http://x:1'] },
      { ...i, urls: [`ws://${'a'.repeat(300)}`] },
      { ...i, urls: Array(9).fill('ws://a:1') },
      { ...i, createdAtMs: -1 },
      { ...i, expiresAtMs: 1.5 },
      { ...i, expiresAtMs: i.createdAtMs },
      { ...i, isTombstone: 0 },
      { ...i, sig: 'short' },
    ]) {
      code(() => verifyAgentInfo(bad, NOW), 'malformed')
    }
    code(() => info(alice, { expiresAtMs: NOW + MAX_TTL_MS + 1 }), 'malformed')
    code(() => info(alice, { urls: ['not a url'] }), 'malformed')
  })

  it('cross the wire intact in an AGENT_INFOS message; a bad one in a message is a protocol error', () => {
    const infos = [info(), info(bob, { isTombstone: true, urls: [] })]
    const m = decodeMessage(encodeMessage({ type: 'agentInfos', ns: NS, infos }))
    assert.deepEqual(m, { type: 'agentInfos', ns: NS, infos })
    const bytes = encodeMessage({ type: 'agentInfos', ns: NS, infos: [{ ...info(), urls: ['ftp://x'] }] })
    assert.throws(() => decodeMessage(bytes), PeerProtocolError)
    assert.throws(() => decodeMessage(bytes.subarray(0, bytes.length - 3)), PeerProtocolError)
  })

  it('NOTIFY carries UTF-8 text up to 64 KiB; more, or invalid UTF-8, is a protocol error', () => {
    assert.deepEqual(decodeMessage(encodeMessage({ type: 'notify', ns: NS, data: 'héllo ✓' })), { type: 'notify', ns: NS, data: 'héllo ✓' })
    assert.throws(() => decodeMessage(encodeMessage({ type: 'notify', ns: NS, data: 'x'.repeat(64 * 1024 + 1) })), PeerProtocolError)
    const bad = encodeMessage({ type: 'notify', ns: NS, data: 'ab' })
    bad[bad.length - 1] = 0xff
    assert.throws(() => decodeMessage(bad), PeerProtocolError)
  })
})

describe('the peer store', () => {
  const self = KeyPair.generate()
  function store(members: Set<string>, saved: { value?: unknown } = {}) {
    return new PeerStore({
      selfKey: self.publicKey,
      isMember: (ns, key) => ns === NS && members.has(key),
      persistence: { load: () => saved.value, save: (v) => (saved.value = JSON.parse(JSON.stringify(v))) },
    })
  }

  it('keeps the newest info of each member and ignores older or equal ones', () => {
    const s = store(new Set([alice.publicKey]))
    assert.equal(s.offer(info(), NOW), 'accepted')
    assert.equal(s.offer(info(), NOW), 'stale')
    const newer = info(alice, { createdAtMs: NOW + 5, expiresAtMs: NOW + 60_000, urls: ['ws://127.0.0.1:9'] })
    assert.equal(s.offer(newer, NOW), 'accepted')
    assert.equal(s.offer(info(), NOW), 'stale')
    assert.deepEqual(s.get(NS, alice.publicKey), newer)
    assert.deepEqual(
      s.live(NS).map((i) => i.agent),
      [alice.publicKey],
    )
  })

  it('throws on a bad signature and stores nothing', () => {
    const s = store(new Set([alice.publicKey]))
    assert.throws(() => s.offer({ ...info(), urls: ['ws://evil:1'] }, NOW), AgentInfoError)
    assert.deepEqual(s.all(NS), [])
  })

  it("holds a non-member's info pending, and takes it in once the key is a member", () => {
    const members = new Set<string>()
    const s = store(members)
    assert.equal(s.offer(info(bob), NOW), 'pending')
    assert.deepEqual(s.all(NS), [])
    assert.deepEqual(s.promote(), [])
    members.add(bob.publicKey)
    assert.deepEqual(
      s.promote().map((i) => i.agent),
      [bob.publicKey],
    )
    assert.deepEqual(
      s.live(NS).map((i) => i.agent),
      [bob.publicKey],
    )
  })

  it('a tombstone replaces the live info, and the older live info cannot come back', () => {
    const s = store(new Set([alice.publicKey]))
    s.offer(info(), NOW)
    assert.equal(s.offer(info(alice, { createdAtMs: NOW + 1, isTombstone: true, urls: [] }), NOW), 'accepted')
    assert.deepEqual(s.live(NS), [])
    assert.equal(s.offer(info(), NOW), 'stale')
  })

  it('drops expired infos on expire, including pending ones', () => {
    const members = new Set([alice.publicKey])
    const s = store(members)
    s.offer(info(alice, { expiresAtMs: NOW + 1000 }), NOW)
    s.offer(info(bob, { expiresAtMs: NOW + 1000 }), NOW)
    assert.deepEqual(s.expire(NOW + 999), [])
    assert.deepEqual(
      s.expire(NOW + 1000).map((i) => i.agent),
      [alice.publicKey],
    )
    members.add(bob.publicKey)
    assert.deepEqual(s.promote(), [], 'the expired pending info is gone too')
    assert.deepEqual(s.namespaces(), [])
  })

  it('never takes an info about itself from a peer', () => {
    const s = store(new Set([self.publicKey]))
    assert.equal(s.offer(info(self), NOW), 'stale')
    assert.deepEqual(s.all(NS), [])
  })

  it('is bounded per namespace, pending included', () => {
    const members = new Set<string>()
    const s = store(members)
    const keys = Array.from({ length: MAX_PENDING_PER_NAMESPACE + 1 }, () => KeyPair.generate())
    const results = keys.map((k) => s.offer(info(k), NOW))
    assert.equal(results.filter((r) => r === 'pending').length, MAX_PENDING_PER_NAMESPACE)
    assert.equal(results.at(-1), 'full')
    const all = new PeerStore({ selfKey: self.publicKey, isMember: () => true })
    const many = Array.from({ length: MAX_INFOS_PER_NAMESPACE + 1 }, () => KeyPair.generate())
    const placed = many.map((k) => all.offer(info(k), NOW))
    assert.equal(all.all(NS).length, MAX_INFOS_PER_NAMESPACE)
    assert.equal(placed.at(-1), 'full')
    // A member already held may still renew its info when the store is full.
    assert.equal(all.offer(info(many[0], { createdAtMs: NOW + 1 }), NOW), 'accepted')
  })

  it('persists what it holds; a new store loads the infos still valid of namespaces still held', () => {
    const saved: { value?: unknown } = {}
    const members = new Set([alice.publicKey, bob.publicKey])
    const s = store(members, saved)
    s.offer(info(), NOW)
    s.offer(info(bob, { expiresAtMs: NOW + 1000 }), NOW)
    s.putOwn(info(self))
    const again = store(members, saved)
    assert.equal(again.load(new Set([NS]), NOW + 2000), 1, "bob's expired and the own info are not loaded")
    assert.deepEqual(
      again.live(NS).map((i) => i.agent),
      [alice.publicKey],
    )
    assert.equal(store(members, saved).load(new Set([OTHER_NS]), NOW), 0, 'a namespace no longer held')
    // A tampered record is skipped, not trusted.
    const value = saved.value as { infos: SignedAgentInfo[] }
    const tampered = { value: { v: 1, infos: value.infos.map((i) => ({ ...i, urls: ['ws://evil:1'] })) } }
    assert.equal(store(members, tampered).load(new Set([NS]), NOW), 0)
  })
})
