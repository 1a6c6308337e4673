// Which blobs a namespace refers to and which of them this node lacks: the sync layer serves a
// peer's fetch only for a blob of a namespace the peer shares, and fetches what its own tree
// names but its store does not hold.

import { type ContentRef, decodeContentRef, decodeManifest, META } from '../model/content.js'
import { TreeDoc } from '../model/tree/tree.js'
import type { Logger } from '../util/log.js'

/** What the index needs of the blob store. */
export interface BlobLookup {
  getBlob(hash: string): Uint8Array | undefined
  hasBlob(hash: string): boolean
}

/** What the index needs of the namespaces a node holds and has mounted. */
export interface BlobIndexHost {
  tree(ns: string): TreeDoc | undefined
  /** Every blob the namespace refers to (its open files' spilled chunks too); undefined if not held. */
  referenced(ns: string): Set<string> | undefined
}

export class BlobIndex {
  /** Blobs each namespace refers to, kept until the namespace or the blob store changes. */
  private readonly referenced = new Map<string, Set<string>>()

  constructor(
    private readonly host: BlobIndexHost,
    private readonly blobs: BlobLookup,
    private readonly log: Logger,
  ) {}

  /** The blobs the live resources of `ns` refer to that this node lacks. */
  missing(ns: string): string[] {
    const tree = this.host.tree(ns)
    if (!tree) return []
    const missing: string[] = []
    const walk = (id: string) => {
      for (const child of tree.children(id)) {
        if (child.kind === 'group') walk(child.id)
        if (child.kind !== 'file') continue
        let ref: ContentRef
        try {
          ref = decodeContentRef(child.meta[META.content], 0)
        } catch (err) {
          // One unreadable record (a faulty peer's write) must not stop the others' fetch.
          this.log.warn(`namespace ${ns}: resource ${child.id} skipped while looking for missing blobs: ${(err as Error).message}`)
          continue
        }
        if (ref.kind !== 'b') continue
        const manifest = this.blobs.getBlob(ref.manifest!)
        if (!manifest) {
          missing.push(ref.manifest!)
          continue
        }
        for (const c of decodeManifest(manifest, ref.manifest!).chunks) if (c && !this.blobs.hasBlob(c)) missing.push(c)
      }
    }
    walk(TreeDoc.ROOT)
    return missing
  }

  /**
   * Whether `hash` belongs to `ns`. Walking a namespace for the blobs it refers to is
   * O(resources); a peer fetching many blobs asks once per blob, so the set is kept.
   */
  has(ns: string, hash: string): boolean {
    let set = this.referenced.get(ns)
    if (!set) {
      set = this.host.referenced(ns)
      if (!set) return false
      this.referenced.set(ns, set)
    }
    return set.has(hash)
  }

  /** `ns` changed (or is gone): its set is walked again when next asked. */
  forget(ns: string): void {
    this.referenced.delete(ns)
  }

  /** A blob was stored: a manifest that arrives makes its chunks part of its namespace. */
  blobStored(): void {
    this.referenced.clear()
  }
}
