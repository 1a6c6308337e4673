/**
 * Content-addressed blobs (binary file chunks) on a StorageAdapter, under ['blob', hash].
 *
 * The name of a blob is the lowercase hex SHA-256 of its bytes. We compute it with node:crypto,
 * which is about ten times faster than @noble/hashes' sha256 on large inputs and gives the same
 * digest (a test checks that), so peers and clients that use @noble/hashes agree on every name.
 * Every read re-hashes the bytes: a blob that no longer matches its name is an EIO StoreError,
 * never returned.
 */
import { createHash } from 'node:crypto'
import type { StorageAdapter } from './adapter.js'
import { StoreError } from './errors.js'

const HASH_PATTERN = /^[0-9a-f]{64}$/

/** The name of a blob with these bytes: lowercase hex SHA-256. */
export function blobHash(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex')
}

export class BlobStore {
  readonly #adapter: StorageAdapter

  constructor(adapter: StorageAdapter) {
    this.#adapter = adapter
  }

  /** Stores the bytes under their hash and returns it; storing the same bytes again writes nothing. */
  putBlob(bytes: Uint8Array): string {
    if (!(bytes instanceof Uint8Array)) {
      throw new StoreError('blob must be a Uint8Array', { kind: 'invalid-argument', code: 'EINVAL' })
    }
    const hash = blobHash(bytes)
    this.#adapter.transaction(() => {
      if (!this.#adapter.has(blobKey(hash))) this.#adapter.save(blobKey(hash), bytes)
    })
    return hash
  }

  /** The blob's bytes, checked against its hash, or undefined when it is not stored. */
  getBlob(hash: string): Uint8Array | undefined {
    checkHash(hash)
    const bytes = this.#adapter.load(blobKey(hash))
    if (bytes === undefined) return undefined
    const actual = blobHash(bytes)
    if (actual !== hash) {
      throw new StoreError(`blob ${hash} is corrupted: its ${bytes.byteLength} stored bytes hash to ${actual}`, {
        kind: 'blob-mismatch',
        code: 'EIO',
        key: blobKey(hash),
      })
    }
    return bytes
  }

  hasBlob(hash: string): boolean {
    checkHash(hash)
    return this.#adapter.has(blobKey(hash))
  }

  /** Removes a blob; false if it was not stored. */
  deleteBlob(hash: string): boolean {
    checkHash(hash)
    return this.#adapter.transaction(() => {
      const existed = this.#adapter.has(blobKey(hash))
      if (existed) this.#adapter.remove(blobKey(hash))
      return existed
    })
  }

  listBlobs(): string[] {
    return this.#adapter.listKeys(['blob']).map((key) => key[1]!)
  }

  /**
   * Removes every stored blob whose hash is not in `live`, in one transaction, and returns the
   * removed hashes. The caller computes `live` from every document that can reference a blob;
   * a blob stored after that computation and before this call would be removed too, so the
   * caller must not run this concurrently with writers that put blobs.
   */
  gcBlobs(live: ReadonlySet<string>): string[] {
    return this.#adapter.transaction(() => {
      const dead = this.listBlobs().filter((hash) => !live.has(hash))
      for (const hash of dead) this.#adapter.remove(blobKey(hash))
      return dead
    })
  }
}

function blobKey(hash: string): string[] {
  return ['blob', hash]
}

function checkHash(hash: string): void {
  if (typeof hash !== 'string' || !HASH_PATTERN.test(hash)) {
    throw new StoreError(`not a blob hash (64 lowercase hex digits): ${JSON.stringify(hash)}`, {
      kind: 'invalid-argument',
      code: 'EINVAL',
    })
  }
}
