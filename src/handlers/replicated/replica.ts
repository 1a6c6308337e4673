// One namespace's replica on this node: its Y.Doc (tree + info), kept durable in the local store.
// Every change runs through `change`, which appends the Yjs updates it produced to the store
// before returning, so a change that was acknowledged survives kill -9. If the store refuses
// (disk full, I/O error), the in-memory doc is rebuilt from the store, so memory never holds
// what the disk does not, and the caller gets the errno.

import * as Y from 'yjs'
import { TreeDoc } from '../../crdt/tree.js'
import { readNamespaceInfo, writeNamespaceInfo, type NamespaceInfo } from '../../crdt/namespace-info.js'
import { toFsError } from '../../vfs/errors.js'

/** What a replica needs of the local store (store/LocalStore provides it). */
export interface ReplicaStore {
  appendUpdate(docId: string, update: Uint8Array): number
  loadDoc(docId: string): Uint8Array | undefined
  deleteDoc(docId: string): boolean
  putBlob(bytes: Uint8Array): string
  getBlob(hash: string): Uint8Array | undefined
  /** Run `fn` so that all its appends commit together, or none does. */
  atomically<T>(fn: () => T): T
}

export function treeDocId(namespaceId: string): string {
  return `tree:${namespaceId}`
}

export class NamespaceReplica {
  private docState!: { doc: Y.Doc; tree: TreeDoc }
  private pending: Uint8Array[] = []

  private constructor(readonly id: string, readonly store: ReplicaStore) {
    this.reload()
  }

  /** A new namespace: its info is the first update stored. */
  static create(store: ReplicaStore, info: NamespaceInfo): NamespaceReplica {
    const replica = new NamespaceReplica(info.id, store)
    replica.change(() => writeNamespaceInfo(replica.doc, info))
    return replica
  }

  /** A namespace this node holds: rebuilt from the store. */
  static load(store: ReplicaStore, id: string): NamespaceReplica {
    const replica = new NamespaceReplica(id, store)
    if (!replica.maybeInfo()) throw toFsError(Object.assign(new Error(`namespace ${id} has no stored state`), { code: 'EIO' }), 'load')
    return replica
  }

  get doc(): Y.Doc {
    return this.docState.doc
  }

  get tree(): TreeDoc {
    return this.docState.tree
  }

  get info(): NamespaceInfo {
    const info = this.maybeInfo()
    if (!info) throw new Error(`namespace ${this.id} has no info`)
    return info
  }

  private maybeInfo(): NamespaceInfo | undefined {
    return readNamespaceInfo(this.doc)
  }

  /**
   * Run a local change; returns only after its updates are stored, all in one store transaction
   * (a rename that replaces its target is a remove and a move: both land, or neither).
   */
  change<T>(fn: (tree: TreeDoc) => T): T {
    let result: T
    try {
      result = fn(this.tree)
    } catch (err) {
      // A failed validation writes nothing; a failure halfway may have: keep memory = disk.
      if (this.pending.length > 0) this.reload()
      throw err
    }
    const updates = this.pending
    this.pending = []
    try {
      this.store.atomically(() => {
        for (const u of updates) this.store.appendUpdate(treeDocId(this.id), u)
      })
    } catch (err) {
      this.reload()
      throw toFsError(err, `storing a change of namespace ${this.id}`)
    }
    return result
  }

  /** Forget the namespace's replicated state on this node (irreversible). */
  destroy(): void {
    this.docState.tree.destroy()
    this.docState.doc.destroy()
    this.store.deleteDoc(treeDocId(this.id))
  }

  private reload(): void {
    this.docState?.tree.destroy()
    this.docState?.doc.destroy()
    const doc = new Y.Doc()
    const stored = this.store.loadDoc(treeDocId(this.id))
    if (stored) Y.applyUpdate(doc, stored)
    this.pending = []
    doc.on('update', (update: Uint8Array) => this.pending.push(update))
    this.docState = { doc, tree: new TreeDoc(doc) }
  }
}
