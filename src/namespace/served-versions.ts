// Which version of each binary resource this node serves. A peer's new version reaches the tree
// doc (as its manifest hash) before its manifest and chunks reach the blob store, so serving what
// the tree names would read holes ("chunk 4 ... is missing"). The rule: a binary's newest version
// is served once this node holds its manifest and every chunk of it; until then the version it
// replaced is served if that one was complete here (its *fallback*: new opens get it, and stat
// shows its size), else the newest is served as arriving (arriving-reader.ts: reads wait).
//
// The fallback is learnt when the content entry changes: the tree doc's metadata map tells the
// value it replaced. It is kept in the store (ReplicaStore.setLocal) because after a restart the
// replaced value is gone from the tree doc, and its chunks would be gone too: the start-up
// garbage collection keeps only what the live resources and `addBlobs` name. Fallbacks are
// forgotten once the newest version is complete (or the resource is gone).

import type * as Y from 'yjs'
import {
  decodeContentRef,
  decodeManifest,
  encodeContentRef,
  manifestReader,
  META,
  CHUNK,
  type ContentReader,
  type ContentRef,
  type Manifest,
} from '../model/content.js'
import { splitMetaKey, treeMaps } from '../model/tree/schema.js'
import { servedVersionsKey, type NamespaceReplica } from '../replica/replica.js'
import { fsError, isFsError } from '../vfs/errors.js'
import { ArrivingReader, type Arrival } from './arriving-reader.js'

/** How a node waits for binaries still arriving; the daemon sets it from `meshfs mount`. */
export interface ArrivalOptions {
  /** How long a read of a first version waits without a byte arriving before EIO (default 60 s). */
  waitMs?: number
  /** The peers asked for any of these blobs (for the error and the transfers view). */
  expectedFrom?: (hashes: readonly string[]) => string[]
}

export const DEFAULT_ARRIVAL_WAIT_MS = 60_000

/** A resource whose newest version is not complete on this node yet. */
export interface InFlight {
  id: string
  /** Its path inside the namespace, `/`-separated from the namespace's root. */
  path: string
  /** The arriving version's size and how many of its bytes this node holds. */
  size: number
  have: number
  /** Hashes still to come: the manifest's when it has not come, else the missing chunks'. */
  missing: string[]
  /** The size of the complete version served meanwhile; null: reads wait for this one. */
  servedSize: number | null
}

export class ServedVersions {
  /** Per resource, the complete version served while a newer one arrives (kept in the store). */
  private readonly fallback = new Map<string, ContentRef>()
  /** Resources whose newest version was not complete when last looked at. */
  private readonly arriving = new Set<string>()
  /** The tree doc observed (a replica rebuilds its doc after a failed store write). */
  private doc: Y.Doc | undefined

  constructor(
    private readonly replica: NamespaceReplica,
    private readonly opts: ArrivalOptions = {},
  ) {
    const stored = replica.store.getLocal(servedVersionsKey(replica.id))
    if (stored && typeof stored === 'object') {
      for (const [id, value] of Object.entries(stored)) {
        const ref = typeof value === 'string' ? parseRef(value) : undefined
        if (ref?.kind === 'b') this.fallback.set(id, ref)
      }
    }
    this.attach()
  }

  /** The version of resource `id` to serve, given its newest one (`latest`). */
  servedRef(id: string, latest: ContentRef): ContentRef {
    return this.choose(id, latest).ref
  }

  /** A reader of the version to serve: a snapshot, or for a first version still arriving, one that waits. */
  reader(id: string, latest: ContentRef, getChunk: (hash: string) => Uint8Array | undefined): ContentReader {
    const chosen = this.choose(id, latest)
    if (chosen.complete) return this.readerOf(chosen.ref, getChunk)
    return new ArrivingReader(
      latest.size,
      (): Arrival => {
        const now = this.latestOf(id)
        if (!now) return { have: 0 }
        const c = this.choose(id, now)
        return c.complete ? { reader: this.readerOf(c.ref, getChunk) } : { have: this.progress(now).have }
      },
      () => this.describe(id, this.latestOf(id) ?? latest),
      this.opts.waitMs ?? DEFAULT_ARRIVAL_WAIT_MS,
    )
  }

  /** The resources whose newest version is still arriving, with how much of it is here. */
  inFlight(): InFlight[] {
    this.attach()
    const tree = this.replica.tree
    const out: InFlight[] = []
    for (const id of [...this.arriving]) {
      const latest = this.latestOf(id)
      if (latest?.kind !== 'b' || this.complete(latest)) {
        this.arrived(id)
        continue
      }
      const fallback = this.fallback.get(id)
      out.push({
        id,
        path: `/${tree.pathOf(id).join('/')}`,
        size: latest.size,
        ...this.progress(latest),
        servedSize: fallback && this.complete(fallback) ? fallback.size : null,
      })
    }
    return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
  }

  /** The manifest and chunks of the version of `id` served while a newer one arrives, added to `into` (kept by the GC). */
  addBlobsOf(id: string, into: Set<string>): void {
    const ref = this.fallback.get(id)
    if (!ref) return
    const latest = this.latestOf(id)
    if (latest?.kind !== 'b' || this.complete(latest)) return this.arrived(id)
    into.add(ref.manifest!)
    for (const c of this.manifestOf(ref)?.chunks ?? []) if (c) into.add(c)
  }

  private choose(id: string, latest: ContentRef): { ref: ContentRef; complete: boolean } {
    this.attach()
    if (latest.kind !== 'b' || !this.arriving.has(id)) return { ref: latest, complete: true }
    if (this.complete(latest)) {
      this.arrived(id)
      return { ref: latest, complete: true }
    }
    const fallback = this.fallback.get(id)
    if (fallback && this.complete(fallback)) return { ref: fallback, complete: true }
    return { ref: latest, complete: false }
  }

  /** Observe the tree doc's metadata; learn which binaries are not complete yet. */
  private attach(): void {
    const doc = this.replica.doc
    if (doc === this.doc) return
    this.doc = doc
    const meta = treeMaps(doc).x
    meta.observe((event) => this.contentChanged(meta, event))
    this.arriving.clear()
    for (const [key, value] of meta.entries()) {
      const id = contentKeyId(key)
      const ref = id === undefined ? undefined : parseRef(value)
      if (id !== undefined && ref?.kind === 'b' && !this.complete(ref)) this.arriving.add(id)
    }
    // A fallback kept for a version that completed while nobody looked (before a restart) is done.
    for (const id of [...this.fallback.keys()]) if (!this.arriving.has(id)) this.setFallback(id, undefined)
  }

  private contentChanged(meta: Y.Map<unknown>, event: Y.YMapEvent<unknown>): void {
    for (const [key, change] of event.changes.keys) {
      const id = contentKeyId(key)
      if (id === undefined) continue
      const now = parseRef(meta.get(key))
      if (now?.kind !== 'b' || this.complete(now)) {
        this.arrived(id)
        continue
      }
      this.arriving.add(id)
      // The version replaced is the one to serve meanwhile if it was complete; if it was still
      // arriving itself, the fallback it had stays.
      const before = change.action === 'add' ? undefined : parseRef(change.oldValue)
      if (before?.kind === 'b' && this.complete(before)) this.setFallback(id, before)
    }
  }

  private arrived(id: string): void {
    this.arriving.delete(id)
    this.setFallback(id, undefined)
  }

  private setFallback(id: string, ref: ContentRef | undefined): void {
    const had = this.fallback.get(id)
    if (had?.manifest === ref?.manifest && had?.size === ref?.size) return
    if (ref) this.fallback.set(id, ref)
    else this.fallback.delete(id)
    const record: Record<string, string> = {}
    for (const [k, v] of this.fallback) record[k] = encodeContentRef(v)
    this.replica.store.setLocal(servedVersionsKey(this.replica.id), this.fallback.size ? record : undefined)
  }

  /** The newest content of a live resource, or undefined if it is gone. */
  private latestOf(id: string): ContentRef | undefined {
    const tree = this.replica.tree
    const node = tree.find(id)
    if (node?.kind !== 'file' || !tree.isLive(id)) return undefined
    return parseRef(node.meta[META.content])
  }

  private complete(ref: ContentRef): boolean {
    const m = this.manifestOf(ref)
    return m?.chunks.every((c) => c === null || this.replica.store.hasBlob(c)) ?? false
  }

  private progress(ref: ContentRef): { have: number; missing: string[] } {
    const m = this.manifestOf(ref)
    if (!m) return { have: 0, missing: [ref.manifest!] }
    let have = 0
    const missing: string[] = []
    m.chunks.forEach((c, i) => {
      if (c === null || this.replica.store.hasBlob(c)) have += Math.min(CHUNK, m.size - i * CHUNK)
      else missing.push(c)
    })
    return { have, missing }
  }

  /** Undefined while the manifest has not arrived (or is unreadable: then it never completes). */
  private manifestOf(ref: ContentRef): Manifest | undefined {
    const bytes = this.replica.store.getBlob(ref.manifest!)
    if (!bytes) return undefined
    try {
      return decodeManifest(bytes, ref.manifest!)
    } catch (err) {
      if (isFsError(err)) return undefined
      throw err
    }
  }

  private readerOf(ref: ContentRef, getChunk: (hash: string) => Uint8Array | undefined): ContentReader {
    const bytes = this.replica.store.getBlob(ref.manifest!)
    if (!bytes) throw fsError('EIO', `the manifest ${ref.manifest} is missing from the store`)
    return manifestReader(decodeManifest(bytes, ref.manifest!), getChunk)
  }

  private describe(id: string, latest: ContentRef): string {
    const tree = this.replica.tree
    const where = tree.isLive(id) ? `/${tree.pathOf(id).join('/')}` : '(deleted)'
    const { have, missing } = this.progress(latest)
    const what =
      missing[0] === latest.manifest
        ? `its manifest ${latest.manifest}`
        : `${missing.length} chunks (${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ', ...' : ''})`
    const peers = this.opts.expectedFrom?.(missing) ?? []
    const from = peers.length ? `expected from peer ${peers.join(', ')}` : 'no connected peer has been asked for them'
    return `resource ${where} (${id}) of namespace ${this.replica.id}: ${have} of ${latest.size} bytes are here, missing ${what}, ${from}`
  }
}

/** The resource id of a tree metadata key holding content, else undefined. */
function contentKeyId(key: string): string | undefined {
  const split = splitMetaKey(key)
  return split && split[1] === META.content ? split[0] : undefined
}

/** A content entry as written by any peer: one that does not parse is not served as a binary. */
function parseRef(value: unknown): ContentRef | undefined {
  if (typeof value !== 'string') return undefined
  try {
    return decodeContentRef(value, 0)
  } catch (err) {
    if (isFsError(err)) return undefined
    throw err
  }
}
