// One namespace's replica on this node: its Y.Doc (tree + info), kept durable in the local store.
// Every change runs through `change`, which appends the Yjs updates it produced to the store
// before returning, so a change that was acknowledged survives kill -9. If the store refuses
// (disk full, I/O error), the in-memory doc is rebuilt from the store, so memory never holds
// what the disk does not, and the caller gets the errno.

import * as Y from 'yjs'
import { TreeDoc } from '../model/tree/tree.js'
import { splitMetaKey, treeMaps } from '../model/tree/schema.js'
import { META } from '../model/content.js'
import { readNamespaceInfo, writeNamespaceInfo, type NamespaceInfo } from '../model/namespace-info.js'
import { toFsError } from '../vfs/errors.js'

/** A stored doc's id, compared part by part (store/DocStore's DocId). */
export type DocId = readonly string[]

/** What a replica needs of the local store (store/LocalStore provides it). */
export interface ReplicaStore {
  /** This node's stable key as a writer of tree docs; absent: a new one per process (Yjs clientID). */
  readonly writer?: string
  appendUpdate(docId: DocId, update: Uint8Array): number
  loadDoc(docId: DocId): Uint8Array | undefined
  deleteDoc(docId: DocId): boolean
  /** The ids that start with `prefix`, part by part. */
  listDocs(prefix: DocId): readonly DocId[]
  putBlob(bytes: Uint8Array): string
  getBlob(hash: string): Uint8Array | undefined
  /** Whether the blob is stored, without loading (and hash-checking) its bytes. */
  hasBlob(hash: string): boolean
  /** This node's own bookkeeping of the namespace (never replicated), as a JSON value. */
  getLocal(key: DocId): unknown
  /** `undefined` removes the value. */
  setLocal(key: DocId, value: unknown): void
  /** Run `fn` so that all its appends commit together, or none does. */
  atomically<T>(fn: () => T): T
}

export function treeDocId(namespaceId: string): DocId {
  return ['tree', namespaceId]
}

/** Where this node keeps which version of each binary resource it serves (namespace/served-versions.ts). */
export function servedVersionsKey(namespaceId: string): DocId {
  return ['served', namespaceId]
}

/** Every text doc of a namespace starts with this prefix. */
function textDocPrefix(namespaceId: string): DocId {
  return ['text', namespaceId]
}

/** A text resource's content doc: one Y.Text, its own Yjs document, stored beside the tree. */
export function textDocId(namespaceId: string, resourceId: string): DocId {
  return [...textDocPrefix(namespaceId), resourceId]
}

/** Content docs kept loaded; the least recently used beyond this are unloaded. */
const LOADED_TEXTS = 64

interface LoadedDoc {
  doc: Y.Doc
  pending: Uint8Array[]
}

/** The origin of updates that came from a peer: stored by `applyRemote`, not by `change`. */
export const REMOTE = Symbol('remote')

/** `docKey` is 'tree' for the tree doc, or a resource id for its text doc. */
export type StoredListener = (docKey: string, update: Uint8Array, from: unknown) => void

const RESOURCE_ID = /^[0-9a-f]{16}$/

export class NamespaceReplica {
  private docState!: { doc: Y.Doc; tree: TreeDoc }
  private pending: Uint8Array[] = []
  /** Loaded content docs by resource id, least recently used first. */
  private readonly texts = new Map<string, LoadedDoc>()
  private readonly storedListeners = new Set<StoredListener>()
  /**
   * The UTF-8 size of each text doc's content, computed on demand and forgotten when the doc
   * changes. It, not the size the tree records, is what `stat` shows: a peer's tree update and
   * its text update arrive separately, and a size that disagrees with the bytes a read serves
   * makes the kernel pad the file with NULs (which a program then saves back, as binary).
   */
  private readonly textSizes = new Map<string, number>()
  /**
   * Text resources whose text or recorded content a peer changed since this replica loaded:
   * only theirs can disagree with the size the tree records (a local save writes both at once),
   * so only theirs are measured - a stat of anything else costs no text load.
   */
  private readonly peerChanged = new Set<string>()

  private constructor(
    readonly id: string,
    readonly store: ReplicaStore,
  ) {
    this.reload()
  }

  /** A new namespace: its info is the first update stored. */
  static create(store: ReplicaStore, info: NamespaceInfo): NamespaceReplica {
    const replica = new NamespaceReplica(info.id, store)
    replica.change(() => writeNamespaceInfo(replica.doc, info))
    return replica
  }

  /** A namespace this node holds (or is joining: then its info arrives with the first sync). */
  static load(store: ReplicaStore, id: string): NamespaceReplica {
    return new NamespaceReplica(id, store)
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

  /** Undefined while a joined namespace has not received its first sync. */
  maybeInfo(): NamespaceInfo | undefined {
    return readNamespaceInfo(this.doc)
  }

  /** The Y.Text of a text resource, loaded from the store on first use. */
  text(resourceId: string): Y.Text {
    let loaded = this.texts.get(resourceId)
    if (loaded) {
      this.texts.delete(resourceId)
    } else {
      const doc = new Y.Doc()
      const stored = this.store.loadDoc(textDocId(this.id, resourceId))
      if (stored) Y.applyUpdate(doc, stored)
      loaded = { doc, pending: [] }
      const target = loaded
      doc.on('update', (update: Uint8Array, origin: unknown) => {
        this.textSizes.delete(resourceId)
        if (origin !== REMOTE) target.pending.push(update)
      })
      this.unloadBeyond(LOADED_TEXTS - 1)
    }
    this.texts.set(resourceId, loaded)
    return loaded.doc.getText('t')
  }

  /**
   * Run a local change of the tree and/or content docs; returns only after its updates are
   * stored, all in one store transaction (a rename that replaces its target is a remove and a
   * move; a save is a text edit and a new size: both land, or neither).
   */
  change<T>(fn: (tree: TreeDoc) => T): T {
    let result: T
    try {
      result = fn(this.tree)
    } catch (err) {
      // A failed validation writes nothing; a failure halfway may have: keep memory = disk.
      if (this.hasPending()) this.reload()
      throw err
    }
    const treeUpdates = this.pending
    this.pending = []
    const textUpdates: Array<[string, Uint8Array[]]> = []
    for (const [id, loaded] of this.texts) {
      if (loaded.pending.length === 0) continue
      textUpdates.push([id, loaded.pending])
      loaded.pending = []
    }
    try {
      this.store.atomically(() => {
        for (const u of treeUpdates) this.store.appendUpdate(treeDocId(this.id), u)
        for (const [id, updates] of textUpdates) for (const u of updates) this.store.appendUpdate(textDocId(this.id, id), u)
      })
    } catch (err) {
      this.reload()
      throw toFsError(err, `storing a change of namespace ${this.id}`)
    }
    // Only now, stored, may the change be announced (Kitsune2's inform_ops_stored).
    for (const u of treeUpdates) this.emitStored('tree', u, this)
    for (const [id, updates] of textUpdates) for (const u of updates) this.emitStored(id, u, this)
    return result
  }

  // ---- replication -----------------------------------------------------------------------------

  onStored(listener: StoredListener): () => void {
    this.storedListeners.add(listener)
    return () => this.storedListeners.delete(listener)
  }

  /**
   * A peer's update of `docKey`. It is applied, and only if it changed anything (peers offer
   * what others already have, and two paths between nodes deliver twice) it is stored, and only
   * then announced to the others (`from` is the peer, so it is not echoed back). If the store
   * refuses, memory is rebuilt from it and the peer will offer the update again later.
   */
  applyRemote(docKey: string, update: Uint8Array, from: unknown): boolean {
    if (docKey !== 'tree' && !RESOURCE_ID.test(docKey))
      throw toFsError(Object.assign(new Error(`bad doc key ${docKey}`), { code: 'EINVAL' }), 'applyRemote')
    const doc = docKey === 'tree' ? this.doc : this.text(docKey).doc!
    let changed = false
    const onUpdate = () => (changed = true)
    doc.on('update', onUpdate)
    try {
      Y.applyUpdate(doc, update, REMOTE)
    } finally {
      doc.off('update', onUpdate)
    }
    if (!changed) return false
    if (docKey !== 'tree') this.peerChanged.add(docKey)
    try {
      this.store.appendUpdate(this.docIdOf(docKey), update)
    } catch (err) {
      this.reload()
      throw toFsError(err, `storing a peer's change of namespace ${this.id}`)
    }
    this.emitStored(docKey, update, from)
    return true
  }

  /** Every doc of this namespace that holds state: 'tree' and the resource ids of text docs. */
  docKeys(): string[] {
    const prefix = textDocPrefix(this.id)
    return ['tree', ...this.store.listDocs(prefix).map((d) => d[prefix.length]!)]
  }

  stateVector(docKey: string): Uint8Array {
    const loaded = docKey === 'tree' ? { doc: this.doc } : this.texts.get(docKey)
    if (loaded) return Y.encodeStateVector(loaded.doc)
    const stored = this.store.loadDoc(this.docIdOf(docKey))
    return stored ? Y.encodeStateVectorFromUpdate(stored) : Y.encodeStateVector(new Y.Doc())
  }

  /** What this replica has of `docKey` that a peer with `stateVector` lacks. */
  diff(docKey: string, stateVector: Uint8Array): Uint8Array {
    const loaded = docKey === 'tree' ? { doc: this.doc } : this.texts.get(docKey)
    if (loaded) return Y.encodeStateAsUpdate(loaded.doc, stateVector)
    const stored = this.store.loadDoc(this.docIdOf(docKey))
    return stored ? Y.diffUpdate(stored, stateVector) : Y.encodeStateAsUpdate(new Y.Doc())
  }

  /** The UTF-8 size of a text resource's content as this replica holds it now (`recorded`: the tree's). */
  textSize(resourceId: string, recorded: number): number {
    if (!this.peerChanged.has(resourceId)) return recorded
    let size = this.textSizes.get(resourceId)
    if (size === undefined) this.textSizes.set(resourceId, (size = Buffer.byteLength(this.text(resourceId).toString())))
    return size
  }

  private docIdOf(docKey: string): DocId {
    return docKey === 'tree' ? treeDocId(this.id) : textDocId(this.id, docKey)
  }

  private emitStored(docKey: string, update: Uint8Array, from: unknown): void {
    for (const l of this.storedListeners) l(docKey, update, from)
  }

  /** Forget a resource's content doc (the resource is gone or became binary). */
  dropText(resourceId: string): void {
    const loaded = this.texts.get(resourceId)
    loaded?.doc.destroy()
    this.texts.delete(resourceId)
    this.textSizes.delete(resourceId)
    this.store.deleteDoc(textDocId(this.id, resourceId))
  }

  private hasPending(): boolean {
    if (this.pending.length > 0) return true
    for (const loaded of this.texts.values()) if (loaded.pending.length > 0) return true
    return false
  }

  private unloadBeyond(max: number): void {
    for (const [id, loaded] of this.texts) {
      if (this.texts.size <= max) return
      if (loaded.pending.length > 0) continue
      loaded.doc.destroy()
      this.texts.delete(id)
    }
  }

  /** Forget the namespace's replicated state on this node (irreversible). */
  destroy(): void {
    for (const loaded of this.texts.values()) loaded.doc.destroy()
    this.texts.clear()
    for (const doc of this.store.listDocs(textDocPrefix(this.id))) this.store.deleteDoc(doc)
    this.docState.tree.destroy()
    this.docState.doc.destroy()
    this.store.deleteDoc(treeDocId(this.id))
    this.store.setLocal(servedVersionsKey(this.id), undefined)
  }

  private reload(): void {
    for (const loaded of this.texts.values()) loaded.doc.destroy()
    this.texts.clear()
    this.docState?.tree.destroy()
    this.docState?.doc.destroy()
    const doc = new Y.Doc()
    const stored = this.store.loadDoc(treeDocId(this.id))
    if (stored) Y.applyUpdate(doc, stored)
    this.pending = []
    doc.on('update', (update: Uint8Array, origin: unknown) => {
      if (origin !== REMOTE) this.pending.push(update)
    })
    // A peer's change of a content ref: that resource's text may now lag (or lead) its record.
    treeMaps(doc).x.observe((event, tr) => {
      if (tr.origin !== REMOTE) return
      for (const key of event.keysChanged) {
        const split = splitMetaKey(key)
        if (split?.[1] === META.content) this.peerChanged.add(split[0])
      }
    })
    this.docState = { doc, tree: new TreeDoc(doc, this.store.writer === undefined ? {} : { writer: this.store.writer }) }
  }
}
