// What a sync session needs of the node it runs in. `src/node/namespaces.ts` implements SyncHost
// and NamespaceReplica implements SyncReplica; the session sees nothing else of the node.

import type { Signer } from '../trust/identity.js'

/** What the sync layer needs of a namespace replica (NamespaceReplica provides it). */
export interface SyncReplica {
  /** Returns whether the update changed anything (and was stored and announced). */
  applyRemote(docKey: string, update: Uint8Array, from: unknown): boolean
  stateVector(docKey: string): Uint8Array
  diff(docKey: string, stateVector: Uint8Array): Uint8Array
  docKeys(): string[]
  onStored(listener: (docKey: string, update: Uint8Array, from: unknown) => void): () => void
}

/** What the sync layer needs of the node (the daemon provides it). */
export interface SyncHost {
  identity: Signer
  namespaceIds(): string[]
  replica(ns: string): SyncReplica | undefined
  /** May `publicKey` receive and write namespace `ns`? */
  isMember(ns: string, publicKey: string): boolean
  /** Verify an invitation redeemed by `publicKey` and record it as a member; returns the namespace. */
  admit(token: string, publicKey: string): string
  /** Namespaces nested in `ns` that `publicKey` is a member of: a joiner is told of them with `ns`. */
  nestedIn?(ns: string, publicKey: string): string[]
  /** This node was admitted to `ns` by `inviter` (reachable at `url`): start holding it. */
  joined(ns: string, inviter: string, url: string): void
  /** Blobs the live resources of `ns` refer to that this node lacks. */
  missingBlobs(ns: string): string[]
  /** Whether `hash` belongs to namespace `ns` (a peer may only fetch what it shares). */
  blobIn(ns: string, hash: string): boolean
  getBlob(hash: string): Uint8Array | undefined
  putBlob(bytes: Uint8Array): string
}
