// A resource's content as the namespace stores it: a working copy becomes a stored change (text
// as a minimal edit of its Y.Text, merged with what peers wrote meanwhile; anything else, or
// anything big, as chunks and a manifest), and stored content reads back as an immutable reader.
// Reading lives here too because the text this node last served is the merge base of the next
// save through a temporary file.

import type { TreeDoc, TreeNode } from '../model/tree/tree.js'
import type { NamespaceReplica } from '../replica/replica.js'
import { applyTextContent } from '../replica/apply-text.js'
import { mergeText } from '../text/merge.js'
import { isStrictText } from '../text/utf8.js'
import { fsError } from '../vfs/errors.js'
import {
  bufferReader,
  CHUNK,
  decodeContentRef,
  decodeManifest,
  EMPTY_READER,
  META,
  encodeContentRef,
  encodeManifest,
  isZero,
  manifestReader,
  TEXT_MAX,
  type ContentReader,
  type ContentRef,
  type Manifest,
} from '../model/content.js'
import { BlobCache } from './blob-cache.js'
import { WorkingCopy } from './working-copy.js'

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/** How many resources' last served text is kept as a merge base. */
const LAST_READ_MAX = 64

export class ContentWriter {
  /**
   * The text this node last served of each text resource: what a local editor most likely read
   * before saving through a temporary file, so the save is merged from there (a few kept).
   */
  private readonly lastRead = new Map<string, string>()
  /** 32 MiB of recently read chunks, shared by every open of this namespace. */
  private readonly chunks = new BlobCache(32 << 20, (h) => this.replica.store.getBlob(h))

  constructor(private readonly replica: NamespaceReplica) {}

  ref(node: TreeNode): ContentRef {
    return decodeContentRef(node.meta[META.content], Math.floor(this.replica.info.createdMs / 1000))
  }

  /** The published content of a resource: immutable, so also a reader's snapshot. */
  reader(node: TreeNode): ContentReader {
    const ref = this.ref(node)
    switch (ref.kind) {
      case 'e':
        return EMPTY_READER
      case 't': {
        const text = this.replica.text(node.id).toString()
        this.remember(node.id, text)
        return bufferReader(Buffer.from(text, 'utf8'))
      }
      case 'b': {
        const bytes = this.replica.store.getBlob(ref.manifest!)
        if (!bytes) throw fsError('EIO', `the manifest ${ref.manifest} of ${node.id} is missing from the store`)
        return manifestReader(decodeManifest(bytes, ref.manifest!), (h) => this.chunks.get(h))
      }
    }
  }

  /**
   * A working copy of a resource. Its merge base is the text as it is now, except for an atomic
   * save (`lastRead`): the temp file was written from what the editor read earlier, which is
   * the text this node last served, so peers' edits since then are kept.
   */
  copyOf(node: TreeNode, base: 'now' | 'lastRead' = 'now'): WorkingCopy {
    const earlier = this.lastRead.get(node.id)
    const copy = new WorkingCopy(node.id, this.reader(node), this.replica.store)
    if (this.ref(node).kind === 't') copy.baseText = base === 'lastRead' && earlier !== undefined ? earlier : this.lastRead.get(node.id)
    return copy
  }

  /**
   * Inside a tree change: store `copy`'s bytes as the content of `id`. Text becomes a minimal
   * edit of its Y.Text; anything else (or anything big) becomes chunks, reusing unchanged ones.
   */
  write(t: TreeDoc, id: string, copy: WorkingCopy): ContentReader {
    const size = copy.length
    const mtimeSec = nowSec()
    let ref: ContentRef
    let reader: ContentReader
    const small = size <= TEXT_MAX ? copy.contents() : undefined
    // An emptied text stays text (its Y.Text cleared): a client editing the Y.Text directly
    // (net/yws-endpoint.ts) must see the truncation, and its next edit must not revive the old text.
    if (size === 0 && this.ref(t.get(id)).kind !== 't') {
      ref = { kind: 'e', size, mtimeSec }
      reader = EMPTY_READER
    } else if (small && isStrictText(small)) {
      // Replayed onto the text as it is now, so edits peers made since this copy was read stay.
      const text = this.replica.text(id)
      const mine = UTF8.decode(small)
      const merged = copy.baseText === undefined ? mine : mergeText(copy.baseText, mine, text.toString())
      applyTextContent(text, merged)
      copy.baseText = merged
      this.remember(id, merged)
      const bytes = merged === mine ? small : Buffer.from(merged, 'utf8')
      ref = { kind: 't', size: bytes.length, mtimeSec }
      reader = bufferReader(bytes)
    } else {
      const manifest: Manifest = { v: 1, size, chunk: CHUNK, chunks: [] }
      for (let i = 0; i * CHUNK < size; i++) {
        const reused = copy.reusableChunk(i)
        if (reused !== undefined) {
          manifest.chunks.push(reused)
          continue
        }
        const bytes = copy.read(i * CHUNK, Math.min(CHUNK, size - i * CHUNK))
        manifest.chunks.push(isZero(bytes) ? null : this.replica.store.putBlob(bytes))
      }
      ref = { kind: 'b', size, mtimeSec, manifest: this.replica.store.putBlob(encodeManifest(manifest)) }
      reader = manifestReader(manifest, (h) => this.chunks.get(h))
    }
    t.setMeta(id, META.content, encodeContentRef(ref))
    return reader
  }

  /**
   * Inside a tree change: `src`'s content becomes that of `dst`, whose working copy is `dstCopy`
   * (an atomic save). Chunks are immutable, so a binary original points at the same manifest;
   * text goes through `write`, so it is an edit that merges.
   */
  writeOver(t: TreeDoc, src: TreeNode, dstId: string, dstCopy: WorkingCopy): ContentReader {
    const srcRef = this.ref(src)
    if (srcRef.kind === 'b') {
      t.setMeta(dstId, META.content, encodeContentRef({ ...srcRef, mtimeSec: nowSec() }))
      return this.reader(src)
    }
    dstCopy.truncate(0)
    dstCopy.write(this.reader(src).read(0, srcRef.size), 0)
    return this.write(t, dstId, dstCopy)
  }

  /** Inside a tree change: the content of `id` is as it was, with `mtimeSec` as its time. */
  stamp(t: TreeDoc, id: string, mtimeSec: number): void {
    t.setMeta(id, META.content, encodeContentRef({ ...this.ref(t.get(id)), mtimeSec }))
  }

  /** Inside a tree change: the Y.Text of `id` was edited directly; record its size and time. */
  recordText(t: TreeDoc, id: string): void {
    const size = Buffer.byteLength(this.replica.text(id).toString())
    t.setMeta(id, META.content, encodeContentRef({ kind: 't', size, mtimeSec: nowSec() }))
  }

  /** The manifest and chunks a resource refers to, added to `into`. */
  addBlobsOf(node: TreeNode, into: Set<string>): void {
    const ref = this.ref(node)
    if (ref.kind !== 'b') return
    into.add(ref.manifest!)
    const bytes = this.replica.store.getBlob(ref.manifest!)
    if (bytes) for (const c of decodeManifest(bytes, ref.manifest!).chunks) if (c) into.add(c)
  }

  private remember(id: string, text: string): void {
    this.lastRead.delete(id)
    this.lastRead.set(id, text)
    for (const key of this.lastRead.keys()) {
      if (this.lastRead.size <= LAST_READ_MAX) break
      this.lastRead.delete(key)
    }
  }
}

/** The content meta of a new, empty resource. */
export function emptyContent(): Record<string, string> {
  return { [META.content]: encodeContentRef({ kind: 'e', size: 0, mtimeSec: nowSec() }) }
}

function nowSec(): number {
  return Math.floor(Date.now() / 1000)
}
