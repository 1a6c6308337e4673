// What a resource's content is, as the tree doc records it, and how to read it.
//
// One tree-metadata entry per resource, `c` = `MTIME:SIZE:KIND[HASH]` (one entry, not three:
// each entry costs ~25 bytes of key in the tree doc, and all three change together anyway):
//   KIND `e`  empty
//   KIND `t`  text: strict UTF-8 without NUL, at most TEXT_MAX bytes, held in a Y.Text in the
//             resource's own content doc (`text:<id>`), so concurrent edits merge
//   KIND `b`  binary (or big): fixed-size chunks in the blob store, listed by a manifest blob
//             whose hash follows; an all-zero chunk is not stored (a hole reads as zeros)
// A 1 GiB file is never held whole: it is binary whatever its bytes, and read chunk by chunk.

import { fsError } from '../vfs/errors.js'

/** The keys of a tree node's meta map that hold its content: a ContentRef (files) or a symlink target. */
export const META = { content: 'c', target: 'l' } as const

export const CHUNK = 1 << 20
/** Above this a file is stored as chunks even if it is text: a Y.Text that big helps nobody. */
export const TEXT_MAX = 4 << 20

export type ContentKind = 'e' | 't' | 'b'

export interface ContentRef {
  kind: ContentKind
  size: number
  mtimeSec: number
  /** The manifest's hash, for binary content. */
  manifest?: string
}

export function encodeContentRef(ref: ContentRef): string {
  return `${ref.mtimeSec}:${ref.size}:${ref.kind}${ref.kind === 'b' ? ref.manifest : ''}`
}

export function decodeContentRef(value: string | undefined, fallbackMtimeSec: number): ContentRef {
  if (value === undefined) return { kind: 'e', size: 0, mtimeSec: fallbackMtimeSec }
  const m = /^(\d+):(\d+):([etb])([0-9a-f]{64})?$/.exec(value)
  if (!m || (m[3] === 'b') !== (m[4] !== undefined)) throw fsError('EIO', `unreadable content record ${JSON.stringify(value)}`)
  const ref: ContentRef = { kind: m[3] as ContentKind, size: Number(m[2]), mtimeSec: Number(m[1]) }
  if (m[4]) ref.manifest = m[4]
  return ref
}

/** The chunk list of a binary resource; `null` is a chunk of zeros that is not stored. */
export interface Manifest {
  v: 1
  size: number
  chunk: number
  chunks: Array<string | null>
}

export function encodeManifest(m: Manifest): Buffer {
  return Buffer.from(JSON.stringify(m))
}

export function decodeManifest(bytes: Uint8Array, hash: string): Manifest {
  let m: Manifest
  try {
    m = JSON.parse(Buffer.from(bytes).toString('utf8')) as Manifest
  } catch (err) {
    throw fsError('EIO', `manifest ${hash} is not JSON: ${(err as Error).message}`)
  }
  const ok =
    m &&
    m.v === 1 &&
    Number.isSafeInteger(m.size) &&
    m.chunk === CHUNK &&
    Array.isArray(m.chunks) &&
    m.chunks.length === Math.ceil(m.size / CHUNK) &&
    m.chunks.every((c) => c === null || (typeof c === 'string' && /^[0-9a-f]{64}$/.test(c)))
  if (!ok) throw fsError('EIO', `manifest ${hash} is malformed`)
  return m
}

export function isZero(buf: Uint8Array): boolean {
  for (let i = 0; i < buf.length; i++) if (buf[i] !== 0) return false
  return true
}

/** Reads published content; immutable, so it is also a reader's snapshot. */
export interface ContentReader {
  readonly size: number
  read(position: number, length: number): Buffer
  /** The stored hash of chunk `index` when it is a full stored chunk, to reuse it unchanged. */
  chunkHash?(index: number): string | null | undefined
  /**
   * Present on content that is still arriving from peers: resolves once `read` can answer, or
   * rejects (EIO) when it did not arrive in time. Callers that may wait await it before reading.
   */
  ready?(): Promise<void>
}

export function bufferReader(bytes: Buffer): ContentReader {
  return {
    size: bytes.length,
    read: (position, length) => bytes.subarray(Math.min(position, bytes.length), Math.min(position + length, bytes.length)),
  }
}

export const EMPTY_READER: ContentReader = bufferReader(Buffer.alloc(0))

/** A binary resource read chunk by chunk; keeps the last chunk it read. */
export function manifestReader(manifest: Manifest, getBlob: (hash: string) => Uint8Array | undefined): ContentReader {
  let cached: { index: number; bytes: Buffer } | undefined
  const chunk = (index: number): Buffer => {
    if (cached?.index === index) return cached.bytes
    const hash = manifest.chunks[index]
    const len = Math.min(CHUNK, manifest.size - index * CHUNK)
    let bytes: Buffer
    if (hash === null || hash === undefined) bytes = Buffer.alloc(len)
    else {
      const blob = getBlob(hash)
      if (!blob) throw fsError('EIO', `chunk ${index} (${hash}) is missing from the store`)
      bytes = Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength)
    }
    cached = { index, bytes }
    return bytes
  }
  return {
    size: manifest.size,
    read(position, length) {
      const end = Math.min(manifest.size, position + length)
      if (position >= end) return Buffer.alloc(0)
      const parts: Buffer[] = []
      for (let at = position; at < end; ) {
        const index = Math.floor(at / CHUNK)
        const offset = at - index * CHUNK
        const piece = chunk(index).subarray(offset, Math.min(CHUNK, offset + end - at))
        parts.push(piece)
        at += piece.length
      }
      return parts.length === 1 ? parts[0]! : Buffer.concat(parts)
    },
    chunkHash: (index) => manifest.chunks[index],
  }
}
