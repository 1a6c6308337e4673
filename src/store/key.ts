/**
 * Storage keys are arrays of strings, compared part by part: `['a', 'bc']` and `['ab', 'c']` are
 * different keys, and `['a']` is a prefix of the first only.
 *
 * Encoding (used as the SQLite primary key and the in-memory map key): each part is its UTF-8
 * bytes with every 0x00 byte written as 0x00 0xFF, followed by the terminator 0x00 0x01. 0xFF
 * never occurs in UTF-8, so a part's bytes cannot contain a terminator and the encoding of a key
 * prefix is a byte prefix of the encoding of every key under it, and of no other key. The
 * encoding also keeps order: comparing two encodings byte by byte is the same as comparing the
 * keys part by part, each part by its UTF-8 bytes, a shorter part before a longer one it starts.
 */
import { StoreError } from './errors.js'

export type StorageKey = readonly string[]

const ESCAPE = 0xff
const TERMINATOR = 0x01
const PART_END = Buffer.from([0x00, TERMINATOR])
const LONE_SURROGATE = /\p{Cs}/u

function invalidKey(message: string): StoreError {
  return new StoreError(message, { kind: 'invalid-argument', code: 'EINVAL' })
}

function checkParts(key: StorageKey): void {
  if (!Array.isArray(key)) throw invalidKey(`storage key must be an array of strings, got ${typeof key}`)
  for (const part of key) {
    if (typeof part !== 'string') throw invalidKey(`storage key part must be a string, got ${typeof part} in ${JSON.stringify(key)}`)
    // A lone surrogate has no UTF-8 form: two different keys would encode to the same bytes.
    if (LONE_SURROGATE.test(part)) throw invalidKey(`storage key part is not well-formed Unicode: ${JSON.stringify(part)}`)
  }
}

/** Encodes a key or a key prefix. An empty array encodes to no bytes (the prefix of everything). */
export function encodeKey(key: StorageKey): Buffer {
  checkParts(key)
  const pieces: Buffer[] = []
  for (const part of key) {
    const bytes = Buffer.from(part, 'utf8')
    if (bytes.includes(0x00)) {
      const escaped: number[] = []
      for (const byte of bytes) {
        escaped.push(byte)
        if (byte === 0x00) escaped.push(ESCAPE)
      }
      pieces.push(Buffer.from(escaped))
    } else {
      pieces.push(bytes)
    }
    pieces.push(PART_END)
  }
  return Buffer.concat(pieces)
}

/** Encodes a full key, which must have at least one part. */
export function encodeFullKey(key: StorageKey): Buffer {
  checkParts(key)
  if (key.length === 0) throw invalidKey('storage key must have at least one part')
  return encodeKey(key)
}

export function decodeKey(encoded: Uint8Array): string[] {
  const parts: string[] = []
  let current: number[] = []
  for (let i = 0; i < encoded.length; i++) {
    const byte = encoded[i]!
    if (byte !== 0x00) {
      current.push(byte)
      continue
    }
    const next = encoded[i + 1]
    i++
    if (next === ESCAPE) {
      current.push(0x00)
    } else if (next === TERMINATOR) {
      parts.push(Buffer.from(current).toString('utf8'))
      current = []
    } else {
      throw new StoreError(`malformed encoded storage key ${Buffer.from(encoded).toString('hex')}`, {
        kind: 'corrupt-record',
        code: 'EIO',
      })
    }
  }
  if (current.length > 0) {
    throw new StoreError(`malformed encoded storage key ${Buffer.from(encoded).toString('hex')} (unterminated part)`, {
      kind: 'corrupt-record',
      code: 'EIO',
    })
  }
  return parts
}

/**
 * The smallest byte string greater than every encoding that starts with `encodedPrefix`, for a
 * range scan `encodedPrefix <= k < upper`. A non-empty encoded prefix always ends in the
 * terminator 0x01, so incrementing that last byte is enough. `undefined` means no upper bound
 * (the empty prefix).
 */
export function prefixUpperBound(encodedPrefix: Buffer): Buffer | undefined {
  if (encodedPrefix.length === 0) return undefined
  const upper = Buffer.from(encodedPrefix)
  upper[upper.length - 1] = upper[upper.length - 1]! + 1
  return upper
}

/** True when `prefix` is a part-by-part prefix of `key` (every key starts with `[]`). */
export function isKeyPrefix(prefix: StorageKey, key: StorageKey): boolean {
  if (prefix.length > key.length) return false
  for (let i = 0; i < prefix.length; i++) if (prefix[i] !== key[i]) return false
  return true
}

/** Orders keys part by part, each part by its UTF-8 bytes; the same order as `encodeKey` bytes. */
export function compareKeys(a: StorageKey, b: StorageKey): number {
  return Buffer.compare(encodeKey(a), encodeKey(b))
}
