import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import * as encoding from 'lib0/encoding'
import { Handshake, HandshakeError, MAX_HANDSHAKE_MESSAGE, MSG_HELLO, MSG_PROOF } from '../../src/net/protocol/handshake.js'
import type { HandshakeErrorCode, HandshakeOptions } from '../../src/net/protocol/handshake.js'
import { KeyPair } from '../../src/net/trust/identity.js'
import { Prng } from '../support/prng.js'

const alice = KeyPair.generate()
const bob = KeyPair.generate()
const mallory = KeyPair.generate()

/** Run a full handshake between two sides, delivering messages in the natural order. */
function run(a: Handshake, b: Handshake) {
  const helloA = a.start()
  const helloB = b.start()
  const proofB = b.receive(helloA)!
  const proofA = a.receive(helloB)!
  assert.equal(a.receive(proofB), undefined)
  assert.equal(b.receive(proofA), undefined)
  return { helloA, helloB, proofA, proofB }
}

function assertFails(fn: () => unknown, code?: HandshakeErrorCode) {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof HandshakeError, `expected HandshakeError, got ${String(err)}`)
    if (code) assert.equal(err.code, code, err.message)
    return true
  })
}

function message(type: number, ...parts: Array<number | Uint8Array>): Uint8Array {
  const e = encoding.createEncoder()
  encoding.writeVarUint(e, type)
  for (const p of parts) typeof p === 'number' ? encoding.writeVarUint(e, p) : encoding.writeVarUint8Array(e, p)
  return encoding.toUint8Array(e)
}

describe('handshake', () => {
  it('completes and each side learns the other’s proven key', () => {
    const a = new Handshake({ identity: alice })
    const b = new Handshake({ identity: bob })
    assert.equal(a.peerPublicKey, undefined)
    run(a, b)
    assert.ok(a.done && b.done)
    assert.equal(a.peerPublicKey, bob.publicKey)
    assert.equal(b.peerPublicKey, alice.publicKey)
    assert.equal(b.peerInvitation, undefined)
  })

  it('carries the invitation being redeemed, bound to the joiner’s key', () => {
    const token = '{"v":1,"ns":"team"}'
    const joiner = new Handshake({ identity: alice, invitation: token })
    const admitter = new Handshake({ identity: bob })
    run(joiner, admitter)
    assert.equal(admitter.peerInvitation, token)

    // A relay swapping the token in the joiner's hello breaks the joiner's proof.
    const j = new Handshake({ identity: alice, invitation: token })
    const adm = new Handshake({ identity: bob })
    const helloJ = j.start()
    const swapped = message(MSG_HELLO, 1, alice.publicKeyBytes, helloJ.slice(36, 68), new TextEncoder().encode('{"stolen":1}'))
    assert.deepEqual(swapped.subarray(0, 68), helloJ.subarray(0, 68), 'the test rewrites only the token')
    const helloAdm = adm.start()
    adm.receive(swapped)
    const proofJ = j.receive(helloAdm)!
    assertFails(() => adm.receive(proofJ), 'bad-signature')
  })

  it('fails when the dialed node is not the one that answers', () => {
    const a = new Handshake({ identity: alice, expectedPeer: bob.publicKey })
    const m = new Handshake({ identity: mallory })
    a.start()
    assertFails(() => a.receive(m.start()), 'unexpected-peer')
  })

  it('fails when a replayed hello and proof from an earlier session are presented', () => {
    // Mallory recorded a whole session between Alice and Bob ...
    const recorded = run(new Handshake({ identity: alice }), new Handshake({ identity: bob }))
    // ... and now connects to Bob pretending to be Alice. Bob's fresh nonce makes the old proof useless.
    const b = new Handshake({ identity: bob })
    b.start()
    b.receive(recorded.helloA)
    assertFails(() => b.receive(recorded.proofA), 'bad-signature')
    assert.equal(b.peerPublicKey, undefined)
  })

  it('fails when Mallory claims Alice’s key but signs with her own', () => {
    const b = new Handshake({ identity: bob })
    const fakeAlice = new Handshake({
      identity: { publicKey: alice.publicKey, publicKeyBytes: alice.publicKeyBytes, sign: (d) => mallory.sign(d) },
    })
    const helloM = fakeAlice.start()
    const helloB = b.start()
    b.receive(helloM)
    const proofM = fakeAlice.receive(helloB)!
    assertFails(() => b.receive(proofM), 'bad-signature')
  })

  it('fails when Alice’s proof for Mallory is relayed to Bob', () => {
    // Alice connects to Mallory; Mallory connects to Bob as Alice and forwards Alice's messages.
    const a = new Handshake({ identity: alice })
    const mToA = new Handshake({ identity: mallory })
    const b = new Handshake({ identity: bob })
    const helloA = a.start()
    const helloM = mToA.start()
    b.start()
    mToA.receive(helloA)
    b.receive(helloA) // Mallory replays Alice's hello to Bob
    // Alice answers Mallory's hello; her proof names Mallory's key and nonce, not Bob's.
    const proofA = a.receive(helloM)!
    assertFails(() => b.receive(proofA), 'bad-signature')
  })

  it('refuses a reflected hello (our own key or nonce sent back)', () => {
    const a = new Handshake({ identity: alice })
    const helloA = a.start()
    assertFails(() => a.receive(helloA), 'reflected')

    // Same key, fresh nonce: two nodes sharing one identity file.
    const twin = new Handshake({ identity: alice })
    twin.start()
    assertFails(() => twin.receive(new Handshake({ identity: alice }).start()), 'reflected')

    const nonce = new Uint8Array(32).fill(7)
    const x = new Handshake({ identity: alice, randomBytes: () => nonce })
    const y = new Handshake({ identity: bob, randomBytes: () => nonce })
    x.start()
    assertFails(() => x.receive(y.start()), 'reflected')
  })

  it('fails when channel bindings differ (different TLS sessions)', () => {
    const a = new Handshake({ identity: alice, channelBinding: new Uint8Array([1, 2, 3]) })
    const b = new Handshake({ identity: bob, channelBinding: new Uint8Array([1, 2, 4]) })
    const helloA = a.start()
    const helloB = b.start()
    const proofB = b.receive(helloA)!
    a.receive(helloB)
    assertFails(() => a.receive(proofB), 'bad-signature')
    run(
      new Handshake({ identity: alice, channelBinding: new Uint8Array([9]) }),
      new Handshake({ identity: bob, channelBinding: new Uint8Array([9]) }),
    )
  })

  it('rejects out-of-order messages and any use after failure or completion', () => {
    const a = new Handshake({ identity: alice })
    const b = new Handshake({ identity: bob })
    assertFails(() => a.receive(b.start()), 'out-of-order') // before start()
    const a2 = new Handshake({ identity: alice })
    a2.start()
    assertFails(() => a2.start(), 'out-of-order')
    assertFails(() => a2.receive(message(MSG_PROOF, new Uint8Array(64))), 'out-of-order') // proof before hello
    assertFails(() => a2.receive(b.start()), 'out-of-order') // failed stays failed

    const c = new Handshake({ identity: alice })
    const d = new Handshake({ identity: bob })
    const { helloB } = run(c, d)
    assertFails(() => c.receive(helloB), 'out-of-order') // after done
    const e = new Handshake({ identity: alice })
    e.start()
    e.receive(new Handshake({ identity: bob }).start())
    assertFails(() => e.receive(new Handshake({ identity: mallory }).start()), 'out-of-order') // second hello
    assertFails(() => new Handshake({ identity: alice }).receive('hello' as unknown as Uint8Array), 'out-of-order')
    const f = new Handshake({ identity: alice })
    f.start()
    assertFails(() => f.receive('hello' as unknown as Uint8Array), 'malformed')
    const g = new Handshake({ identity: alice })
    g.start()
    assertFails(() => g.receive(message(0, 0)), 'out-of-order') // a y-protocols sync step 1 too early
  })

  it('rejects wrong versions, lengths, trailing bytes and oversized messages', () => {
    const nonce = new Uint8Array(32).fill(1)
    const cases: Array<[Uint8Array, HandshakeErrorCode]> = [
      [message(MSG_HELLO, 2, bob.publicKeyBytes, nonce, new Uint8Array()), 'unsupported-version'],
      [message(MSG_HELLO, 1, bob.publicKeyBytes.subarray(0, 31), nonce, new Uint8Array()), 'malformed'],
      [message(MSG_HELLO, 1, bob.publicKeyBytes, nonce.subarray(0, 16), new Uint8Array()), 'malformed'],
      [message(MSG_HELLO, 1, bob.publicKeyBytes, nonce, new Uint8Array([0xff, 0xfe])), 'malformed'], // not UTF-8
      [message(MSG_HELLO, 1, bob.publicKeyBytes, nonce, new Uint8Array(4097).fill(0x41)), 'malformed'],
      [message(MSG_HELLO, 1, bob.publicKeyBytes, nonce, new Uint8Array(), 0), 'malformed'], // trailing
      [message(MSG_HELLO, 1, bob.publicKeyBytes, nonce, new Uint8Array(MAX_HANDSHAKE_MESSAGE)), 'oversized'],
      [new Uint8Array(), 'malformed'],
      [new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0x01]), 'malformed'],
    ]
    for (const [msg, code] of cases) {
      const h = new Handshake({ identity: alice })
      h.start()
      assertFails(() => h.receive(msg), code)
    }
    const h = new Handshake({ identity: alice })
    h.start()
    h.receive(new Handshake({ identity: bob }).start())
    assertFails(() => h.receive(message(MSG_PROOF, new Uint8Array(63))), 'malformed')
  })

  it('copies what it keeps, so the transport may reuse its receive buffer', () => {
    const a = new Handshake({ identity: alice })
    const b = new Handshake({ identity: bob })
    const helloA = a.start()
    const helloB = Buffer.from(b.start())
    const proofB = b.receive(helloA)!
    const proofA = a.receive(helloB)!
    helloB.fill(0) // e.g. a pooled frame buffer overwritten by the next frame
    a.receive(proofB)
    b.receive(proofA)
    assert.ok(a.done && b.done)
    assert.equal(a.peerPublicKey, bob.publicKey)
  })

  it('never reads past a Buffer slice whose length field lies', () => {
    // Node pools small Buffers: the bytes after this slice belong to someone else.
    const valid = new Handshake({ identity: bob }).start()
    const pool = Buffer.alloc(4096, 0x41)
    Buffer.from(valid).copy(pool, 100)
    const truncated = pool.subarray(100, 100 + valid.length - 10) // the nonce runs past the end
    const h = new Handshake({ identity: alice })
    h.start()
    assertFails(() => h.receive(truncated), 'malformed')
  })

  it('throws only HandshakeError on seeded random garbage, truncations and bit flips', () => {
    const prng = new Prng(0x5eed)
    const next = () => prng.int(2 ** 32)
    let messages = 0
    const feed = (msg: Uint8Array, afterHello: boolean) => {
      const opts: HandshakeOptions = { identity: alice }
      const h = new Handshake(opts)
      h.start()
      if (afterHello) h.receive(new Handshake({ identity: bob }).start())
      messages++
      try {
        h.receive(msg)
      } catch (err) {
        if (!(err instanceof HandshakeError)) throw new Error(`non-HandshakeError on ${Buffer.from(msg).toString('hex')}: ${String(err)}`)
      }
    }
    // Pure garbage, biased towards valid-looking type bytes so decoding goes deep.
    for (let i = 0; i < 3000; i++) {
      const len = next() % 200
      const buf = new Uint8Array(len)
      for (let j = 0; j < len; j++) buf[j] = next() & 0xff
      if (len > 0 && i % 2 === 0) buf[0] = next() % 2 === 0 ? MSG_HELLO : MSG_PROOF
      if (len > 1 && i % 4 === 0) buf[1] = 1
      feed(buf, i % 3 === 0)
    }
    // Every truncation and many bit flips of valid hello and proof messages.
    const pair = [new Handshake({ identity: bob, invitation: '{"v":1}' }), new Handshake({ identity: alice })] as const
    const hello = pair[0].start()
    const proof = pair[0].receive(pair[1].start())!
    for (const [valid, afterHello] of [
      [hello, false],
      [proof, true],
    ] as const) {
      for (let cut = 0; cut < valid.length; cut++) {
        const h = new Handshake({ identity: alice })
        h.start()
        if (afterHello) h.receive(new Handshake({ identity: bob }).start())
        assertFails(() => h.receive(valid.subarray(0, cut)))
        messages++
      }
      for (let i = 0; i < 1000; i++) {
        const flipped = Uint8Array.from(valid)
        flipped[next() % flipped.length]! ^= 1 << (next() % 8)
        feed(flipped, afterHello)
      }
    }
    assert.ok(messages > 5000, `fed ${messages} messages`)
  })
})
