// The bytes that this node's writable opens of one resource share: the published content
// (`base`, read lazily) under an overlay of changed chunks. Memory stays bounded whatever the
// file's size: past MAX_DIRTY chunks in memory, the least recently written ones are stored as
// blobs early ("spilled") and read back if written again. Publishing turns the result into
// content (text or chunks) and makes it the new base.

import { CHUNK, type ContentReader } from '../model/content.js'
import { fsError } from '../vfs/errors.js'

/** 32 MiB of changed chunks in memory per open resource, at most. */
const MAX_DIRTY = 32

export interface ChunkStore {
  putBlob(bytes: Uint8Array): string
  getBlob(hash: string): Uint8Array | undefined
}

type Slot = { bytes: Buffer } | { spilled: string }

export class WorkingCopy {
  private base: ContentReader
  /** Bytes of `base` still valid: a shrink cuts it, and what lies beyond reads as zeros. */
  private baseLimit: number
  private len: number
  private readonly slots = new Map<number, Slot>()
  private inMemory = 0
  dirty = false
  /** Open writable handles. */
  refs = 0
  /** For a text resource: the text these bytes started from (the base of a three-way merge). */
  baseText: string | undefined
  /**
   * The caller (pid) whose whole-file rewrite these bytes are: once published, what it wrote is
   * what it knows, so its merge base moves there (namespace/read-bases.ts).
   */
  rewriter: number | undefined

  constructor(
    readonly id: string,
    base: ContentReader,
    private readonly chunks: ChunkStore,
  ) {
    this.base = base
    this.baseLimit = base.size
    this.len = base.size
  }

  get length(): number {
    return this.len
  }

  read(position: number, length: number): Buffer {
    const end = Math.min(this.len, position + length)
    if (position >= end) return Buffer.alloc(0)
    const out = Buffer.alloc(end - position)
    for (let at = position; at < end; ) {
      const index = Math.floor(at / CHUNK)
      const offset = at - index * CHUNK
      const n = Math.min(CHUNK - offset, end - at)
      this.readChunk(index, offset, n).copy(out, at - position)
      at += n
    }
    return out
  }

  write(data: Buffer, position: number): number {
    if (position > this.len) this.zeroRange(this.len, position)
    for (let done = 0; done < data.length; ) {
      const at = position + done
      const index = Math.floor(at / CHUNK)
      const offset = at - index * CHUNK
      const n = Math.min(CHUNK - offset, data.length - done)
      data.copy(this.chunkForWrite(index), offset, done, done + n)
      done += n
    }
    this.len = Math.max(this.len, position + data.length)
    this.dirty = true
    return data.length
  }

  truncate(size: number): void {
    if (size < this.len) {
      this.baseLimit = Math.min(this.baseLimit, size)
      for (const index of [...this.slots.keys()]) if (index * CHUNK >= size) this.drop(index)
      const tail = this.slots.get(Math.floor(size / CHUNK))
      if (tail && 'bytes' in tail) tail.bytes.fill(0, size % CHUNK)
      else if (tail) this.chunkForWrite(Math.floor(size / CHUNK)).fill(0, size % CHUNK)
    } else if (size > this.len) {
      this.zeroRange(this.len, size)
    }
    this.len = size
    this.dirty = true
  }

  /** Every byte, for content small enough to be text. */
  contents(): Buffer {
    return this.read(0, this.len)
  }

  /**
   * The stored hash (or null for zeros) of chunk `index` when it can be reused as it is:
   * unchanged from the base, or spilled whole. Undefined when its bytes must be read and stored.
   */
  reusableChunk(index: number): string | null | undefined {
    const end = Math.min(CHUNK, this.len - index * CHUNK)
    const slot = this.slots.get(index)
    if (slot) return 'spilled' in slot && end === CHUNK ? slot.spilled : undefined
    const fromBase = this.base.chunkHash?.(index)
    if (fromBase === undefined) return undefined
    const baseEnd = Math.min(CHUNK, this.base.size - index * CHUNK)
    return index * CHUNK + end <= this.baseLimit && baseEnd === end ? fromBase : undefined
  }

  /** After publishing: the published content is the new base and the overlay is empty. */
  rebase(published: ContentReader): void {
    this.base = published
    this.baseLimit = published.size
    this.len = published.size
    this.slots.clear()
    this.inMemory = 0
    this.dirty = false
  }

  /** Hashes of spilled chunks: stored but not yet referenced, so not to be collected. */
  spilledHashes(): string[] {
    return [...this.slots.values()].flatMap((s) => ('spilled' in s ? [s.spilled] : []))
  }

  private readChunk(index: number, offset: number, n: number): Buffer {
    const slot = this.slots.get(index)
    if (slot && 'bytes' in slot) return slot.bytes.subarray(offset, offset + n)
    if (slot) return Buffer.from(this.spilled(slot.spilled)).subarray(offset, offset + n)
    const start = index * CHUNK + offset
    const out = Buffer.alloc(n)
    if (start < this.baseLimit) this.base.read(start, Math.min(n, this.baseLimit - start)).copy(out)
    return out
  }

  private chunkForWrite(index: number): Buffer {
    const slot = this.slots.get(index)
    if (slot && 'bytes' in slot) {
      // Most recently written last: spilling takes the oldest first.
      this.slots.delete(index)
      this.slots.set(index, slot)
      return slot.bytes
    }
    const bytes = Buffer.alloc(CHUNK)
    if (slot) Buffer.from(this.spilled(slot.spilled)).copy(bytes)
    else {
      const start = index * CHUNK
      if (start < this.baseLimit) this.base.read(start, Math.min(CHUNK, this.baseLimit - start)).copy(bytes)
    }
    this.slots.delete(index)
    this.slots.set(index, { bytes })
    this.inMemory++
    this.spillIfNeeded(index)
    return bytes
  }

  private spillIfNeeded(keep: number): void {
    if (this.inMemory <= MAX_DIRTY) return
    for (const [index, slot] of this.slots) {
      if (index === keep || !('bytes' in slot)) continue
      this.slots.set(index, { spilled: this.chunks.putBlob(slot.bytes) })
      this.inMemory--
      if (this.inMemory <= MAX_DIRTY) return
    }
  }

  private spilled(hash: string): Uint8Array {
    const bytes = this.chunks.getBlob(hash)
    if (!bytes) throw fsError('EIO', `spilled chunk ${hash} is missing from the store`)
    return bytes
  }

  private drop(index: number): void {
    const slot = this.slots.get(index)
    if (slot && 'bytes' in slot) this.inMemory--
    this.slots.delete(index)
  }

  /** Make [from, to) read as zeros: cut the base there and clear overlay bytes in the range. */
  private zeroRange(from: number, to: number): void {
    this.baseLimit = Math.min(this.baseLimit, from)
    for (let at = from; at < to; ) {
      const index = Math.floor(at / CHUNK)
      const offset = at - index * CHUNK
      const n = Math.min(CHUNK - offset, to - at)
      const slot = this.slots.get(index)
      if (slot) this.chunkForWrite(index).fill(0, offset, offset + n)
      at += n
    }
  }
}
