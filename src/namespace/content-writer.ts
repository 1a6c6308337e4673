// A resource's content as the namespace stores it: a working copy becomes a stored change (text
// as a minimal edit of its Y.Text, merged with what peers wrote meanwhile; anything else, or
// anything big, as chunks and a manifest), and stored content reads back as an immutable reader.

import type { TreeDoc, TreeNode } from '../model/tree/tree.js'
import type { NamespaceReplica } from '../replica/replica.js'
import { applyTextContent } from '../replica/apply-text.js'
import { mergeText } from '../text/merge.js'
import { isStrictText } from '../text/utf8.js'
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
import { ServedVersions } from './served-versions.js'
import { WorkingCopy } from './working-copy.js'

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

export class ContentWriter {
  /** 32 MiB of recently read chunks, shared by every open of this namespace. */
  private readonly chunks = new BlobCache(32 << 20, (h) => this.replica.store.getBlob(h))

  /** `wroteText` hears the text a copy's own bytes made (before the merge) as it is stored. */
  constructor(
    private readonly replica: NamespaceReplica,
    /** Which version of each binary is served: only one whose chunks are all here. */
    readonly served: ServedVersions = new ServedVersions(replica),
    private readonly wroteText: (copy: WorkingCopy, mine: string) => void = () => {},
  ) {}

  ref(node: TreeNode): ContentRef {
    return decodeContentRef(node.meta[META.content], Math.floor(this.replica.info.createdMs / 1000))
  }

  /** The content record of the version this node serves (a binary's newest may still be arriving). */
  servedRef(node: TreeNode): ContentRef {
    return this.served.servedRef(node.id, this.ref(node))
  }

  /** The published content of a resource: immutable, so also a reader's snapshot. */
  reader(node: TreeNode): ContentReader {
    const ref = this.ref(node)
    switch (ref.kind) {
      case 'e':
        return EMPTY_READER
      case 't':
        return bufferReader(Buffer.from(this.text(node.id), 'utf8'))
      case 'b':
        // The version this node holds whole, not necessarily the newest (served-versions.ts).
        return this.served.reader(node.id, ref, (h) => this.chunks.get(h))
    }
  }

  /** The text of a text resource as this node holds it now. */
  text(id: string): string {
    return this.replica.text(id).toString()
  }

  /** Whether a resource's content is text (or still empty, which text may fill). */
  isText(node: TreeNode): boolean {
    return this.ref(node).kind !== 'b'
  }

  /**
   * A working copy of a resource, holding its content as it is now. Its merge base is that
   * text too: what a writer editing these bytes started from (a whole-file rewrite sets the base
   * to what its writer read instead: namespace/read-bases.ts).
   */
  copyOf(node: TreeNode): WorkingCopy {
    const ref = this.ref(node)
    if (ref.kind === 'b') return new WorkingCopy(node.id, this.reader(node), this.replica.store)
    const text = ref.kind === 't' ? this.text(node.id) : ''
    const copy = new WorkingCopy(node.id, ref.kind === 't' ? bufferReader(Buffer.from(text, 'utf8')) : EMPTY_READER, this.replica.store)
    copy.baseText = text
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
      this.wroteText(copy, mine)
      const merged = copy.baseText === undefined ? mine : mergeText(copy.baseText, mine, text.toString())
      applyTextContent(text, merged)
      copy.baseText = merged
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

  /** The manifest and chunks a resource refers to (and those of the version served meanwhile), added to `into`. */
  addBlobsOf(node: TreeNode, into: Set<string>): void {
    this.served.addBlobsOf(node.id, into)
    const ref = this.ref(node)
    if (ref.kind !== 'b') return
    into.add(ref.manifest!)
    const bytes = this.replica.store.getBlob(ref.manifest!)
    if (bytes) for (const c of decodeManifest(bytes, ref.manifest!).chunks) if (c) into.add(c)
  }
}

/** The content meta of a new, empty resource. */
export function emptyContent(): Record<string, string> {
  return { [META.content]: encodeContentRef({ kind: 'e', size: 0, mtimeSec: nowSec() }) }
}

function nowSec(): number {
  return Math.floor(Date.now() / 1000)
}
