/**
 * The node's local store: one durable adapter (meshfs.db) with the document, blob and metadata
 * stores on top. The daemon opens one at start-up and closes it at shutdown.
 */
import type { StorageAdapter } from './adapter.js'
import { BlobStore } from './blob-store.js'
import { DocStore } from './doc-store.js'
import type { DocStoreOptions } from './doc-store.js'
import { MemoryStorageAdapter } from './memory-adapter.js'
import { MetaStore } from './meta-store.js'
import { SqliteStorageAdapter } from './sqlite-adapter.js'
import type { OpenDatabaseOptions } from './sqlite.js'

export interface LocalStore {
  readonly adapter: StorageAdapter
  readonly docs: DocStore
  readonly blobs: BlobStore
  readonly meta: MetaStore
  close(): void
}

export type LocalStoreOptions = OpenDatabaseOptions & DocStoreOptions

export function storeOn(adapter: StorageAdapter, options: DocStoreOptions = {}): LocalStore {
  return {
    adapter,
    docs: new DocStore(adapter, options),
    blobs: new BlobStore(adapter),
    meta: new MetaStore(adapter),
    close: () => adapter.close(),
  }
}

/** Opens (creating if needed) the durable store in `dataDir`; throws StoreError if unusable. */
export function openLocalStore(dataDir: string, options: LocalStoreOptions = {}): LocalStore {
  return storeOn(SqliteStorageAdapter.open(dataDir, options), options)
}

/** A store in memory, for tests of the layers above. */
export function openMemoryStore(options: DocStoreOptions = {}): LocalStore {
  return storeOn(new MemoryStorageAdapter(), options)
}
