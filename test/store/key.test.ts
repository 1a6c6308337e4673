import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { compareKeys, decodeKey, encodeKey, isKeyPrefix } from '../../src/store/key.js'
import { seededRandom } from '../support/prng.js'
import { storeError } from './helpers.js'

/** The order the encoding must keep, written the obvious way: part by part, by UTF-8 bytes. */
function referenceCompare(a: readonly string[], b: readonly string[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const c = Buffer.compare(Buffer.from(a[i]!, 'utf8'), Buffer.from(b[i]!, 'utf8'))
    if (c !== 0) return c
  }
  return Math.sign(a.length - b.length)
}

function startsWith(haystack: Buffer, needle: Buffer): boolean {
  return haystack.length >= needle.length && haystack.subarray(0, needle.length).equals(needle)
}

const ALPHABET = ['a', 'b', '', '\u0000', '\u0001', '\u00ff', '/', 'é', '😀', '\uffff']

function randomKey(random: () => number): string[] {
  const parts = Math.floor(random() * 4)
  const key: string[] = []
  for (let p = 0; p < parts; p++) {
    let part = ''
    const length = Math.floor(random() * 4)
    for (let c = 0; c < length; c++) part += ALPHABET[Math.floor(random() * ALPHABET.length)]
    key.push(part)
  }
  return key
}

describe('storage key encoding', () => {
  it('keeps ["a","bc"], ["ab","c"] and ["abc"] apart', () => {
    const encodings = [['a', 'bc'], ['ab', 'c'], ['abc'], ['a', 'b', 'c']].map((k) => encodeKey(k).toString('hex'))
    assert.equal(new Set(encodings).size, 4)
    assert.equal(startsWith(encodeKey(['ab', 'c']), encodeKey(['a'])), false)
    assert.equal(startsWith(encodeKey(['a', 'bc']), encodeKey(['a'])), true)
  })

  it('round-trips, orders like part-by-part comparison, and matches prefixes only part by part (2000 random pairs)', () => {
    const random = seededRandom(12345)
    for (let n = 0; n < 2000; n++) {
      const a = randomKey(random)
      const b = random() < 0.3 ? [...a, ...randomKey(random)] : randomKey(random)
      const ea = encodeKey(a)
      const eb = encodeKey(b)
      assert.deepEqual(decodeKey(ea), a)
      assert.equal(Math.sign(Buffer.compare(ea, eb)), referenceCompare(a, b), `${JSON.stringify(a)} vs ${JSON.stringify(b)}`)
      assert.equal(Math.sign(compareKeys(a, b)), referenceCompare(a, b))
      assert.equal(startsWith(eb, ea), isKeyPrefix(a, b), `prefix ${JSON.stringify(a)} of ${JSON.stringify(b)}`)
      assert.equal(ea.equals(eb), a.length === b.length && a.every((part, i) => part === b[i]))
    }
  })

  it('refuses lone surrogates, which have no UTF-8 form', () => {
    assert.throws(() => encodeKey(['\ud83d']), storeError('invalid-argument'))
    assert.deepEqual(decodeKey(encodeKey(['\ud83d\ude00'])), ['😀'])
  })

  it('reports a malformed encoding instead of guessing', () => {
    assert.throws(() => decodeKey(Buffer.from([0x61, 0x00, 0x02])), storeError('corrupt-record'))
    assert.throws(() => decodeKey(Buffer.from([0x61])), storeError('corrupt-record'))
  })
})
