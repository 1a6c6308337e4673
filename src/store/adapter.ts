/**
 * The storage adapter: a tiny, synchronous key-value interface in the style of automerge-repo's
 * StorageAdapterInterface. It knows nothing of documents, snapshots or blobs; the stores above
 * it (DocStore, BlobStore, MetaStore) own what keys mean.
 *
 * Synchronous on purpose: when `save` returns, the data is on disk (for a durable adapter). A
 * caller that acknowledges a write after `save` therefore never acknowledges something a crash
 * can take back.
 *
 * Keys are compared part by part, never as joined strings (see key.ts).
 */
import type { StorageKey } from './key.js'

export type { StorageKey } from './key.js'

export interface Chunk {
  key: string[]
  data: Uint8Array
}

export interface StorageAdapter {
  /** The value stored under exactly `key`, or undefined. */
  load(key: StorageKey): Uint8Array | undefined
  /** Stores (or replaces) the value under `key`. Durable when it returns. */
  save(key: StorageKey, data: Uint8Array): void
  /** Removes `key`; removing a missing key is not an error. */
  remove(key: StorageKey): void
  /** Every entry whose key starts with `prefix` part by part, ordered by key (see compareKeys). */
  loadRange(prefix: StorageKey): Chunk[]
  /** Removes every entry whose key starts with `prefix`; returns how many were removed. */
  removeRange(prefix: StorageKey): number

  /** True when a value is stored under exactly `key`, without reading the value. */
  has(key: StorageKey): boolean
  /** The keys under `prefix`, ordered, without their values. */
  listKeys(prefix: StorageKey): string[][]
  /**
   * Runs `fn` so that all its reads see one consistent state and all its writes commit together
   * or not at all. If `fn` throws, every write it made is undone and the error is rethrown.
   * Transactions nest: an inner one that throws undoes only its own writes.
   */
  transaction<T>(fn: () => T): T

  close(): void
}
