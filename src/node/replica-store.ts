// The local store as a replica sees it: its docs, its blobs, its node-local bookkeeping (under
// ['replica', ...] in the meta store) and an atomic batch.

import type { ReplicaStore } from '../replica/replica.js'
import type { LocalStore } from '../store/local-store.js'

/**
 * `writer`: this node's stable key in the tree docs' version vectors (edit beats delete), so
 * that a restart goes on counting under the same key rather than adding one per process.
 */
export function replicaStoreOf(store: LocalStore, writer?: string): ReplicaStore {
  return {
    ...(writer !== undefined && { writer }),
    appendUpdate: (doc, u) => store.docs.appendUpdate(doc, u),
    loadDoc: (doc) => store.docs.loadDoc(doc),
    deleteDoc: (doc) => store.docs.deleteDoc(doc),
    listDocs: (prefix) => store.docs.listDocs(prefix),
    putBlob: (b) => store.blobs.putBlob(b),
    getBlob: (h) => store.blobs.getBlob(h),
    hasBlob: (h) => store.blobs.hasBlob(h),
    getLocal: (key) => store.meta.getMeta(['replica', ...key]),
    setLocal: (key, value) =>
      void (value === undefined ? store.meta.deleteMeta(['replica', ...key]) : store.meta.setMeta(['replica', ...key], value)),
    atomically: (fn) => store.adapter.transaction(fn),
  }
}
