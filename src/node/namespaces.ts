// The namespaces this node is a member of (Calimero's namespaces and groups): created, listed,
// deleted or left, and what the sync layer asks of them (SyncHost). The CLI, the control API and
// `mkdir`/`rmdir` on the mount all end up here; each verb finds its namespace and hands it to the
// room that does the work: registry.ts (which are held and mounted), membership.ts, groups.ts,
// invitations.ts, and the blob index (replica/blob-index.ts).

import { randomBytes } from 'node:crypto'
import {
  checkApplication,
  checkDescription,
  checkUpgradePolicy,
  namespaceIdFor,
  writeOrigin,
  type NamespaceInfo,
  type UpgradePolicy,
} from '../model/namespace-info.js'
import { TreeDoc } from '../model/tree/tree.js'
import type { Signer } from '../net/trust/identity.js'
import type { ArrivalOptions, InFlight } from '../namespace/served-versions.js'
import type { SyncHost } from '../net/protocol/sync-host.js'
import { BlobIndex } from '../replica/blob-index.js'
import { NamespaceReplica, type ReplicaStore } from '../replica/replica.js'
import type { LocalStore } from '../store/local-store.js'
import type { Logger } from '../util/log.js'
import { fsError, isFsError } from '../vfs/errors.js'
import type { MountTable } from '../vfs/mount-table.js'
import { checkName } from '../vfs/path.js'
import * as groups from './groups.js'
import { Invitations, type InvitationOptions } from './invitations.js'
import { KnownPeers, type PeerRecord } from './known-peers.js'
import { Membership, type MemberRecord, type NamespaceIdentityInfo } from './membership.js'
import { NamespaceRegistry, pathOf, type HeldNamespace } from './registry.js'
import { replicaStoreOf } from './replica-store.js'

export type { GroupInfo } from './groups.js'
export type { MemberRecord, NamespaceIdentityInfo } from './membership.js'
export type { PeerRecord } from './known-peers.js'
// Tests build replicas over a local store with it.
export { replicaStoreOf }

export interface CreateNamespaceOptions {
  alias: string
  application?: string
  upgradePolicy?: UpgradePolicy | string
  description?: string
}

export interface NamespacesOptions {
  /** Asked before a namespace is deleted; throws to refuse (sync targets still mirror it). */
  beforeDelete?: (ns: NamespaceInfo) => void
  /** How reads wait for binaries still arriving from peers. */
  arrivals?: ArrivalOptions
}

export class Namespaces implements SyncHost {
  /** Which namespaces are held; its signals tell when one starts or stops being held. */
  readonly registry: NamespaceRegistry
  private readonly membership: Membership
  private readonly invitations: Invitations
  private readonly knownPeers: KnownPeers
  private readonly blobIndex: BlobIndex
  private readonly replicaStore: ReplicaStore

  /** `dataDir/local/<namespace id>` holds each namespace's ignored, node-local files. */
  constructor(
    private readonly store: LocalStore,
    private readonly table: MountTable,
    dataDir: string,
    readonly identity: Signer,
    private readonly log: Logger,
    private readonly opts: NamespacesOptions = {},
  ) {
    // 16 characters of the node's key (96 bits): unique among a namespace's writers, and short,
    // since each edited node stores it in its version vector.
    this.replicaStore = replicaStoreOf(store, identity.publicKey.slice(0, 16))
    this.registry = new NamespaceRegistry(
      this.replicaStore,
      store.meta,
      table,
      dataDir,
      (id) => ({
        // `rmdir` of an empty namespace and the admin check come back through the verbs.
        removeNamespace: async () => void this.delete(id),
        requireAdmin: (what) => this.membership.requireAdmin(this.registry.byId(id)!, what),
      }),
      log,
      opts.arrivals,
    )
    this.membership = new Membership(this.registry, identity, store.meta, log)
    this.invitations = new Invitations(this.registry, this.membership, identity, store.meta)
    this.knownPeers = new KnownPeers(store.meta)
    this.blobIndex = new BlobIndex(
      {
        tree: (ns) => this.registry.byId(ns)?.replica.tree,
        referenced: (ns) => this.registry.byId(ns)?.handler.referencedBlobs(),
      },
      store.blobs,
      log,
    )
    this.registry.mountedOne.on(({ replica }) => replica.onStored(() => this.blobIndex.forget(replica.id)))
  }

  /** Mount every namespace this node is a member of, as stored. */
  loadAll(): void {
    this.registry.loadAll()
  }

  /**
   * Remove the blobs no live resource refers to any more. Run at start-up, before anything is
   * open: a reader holds on to the chunks it opened, which the tree may no longer name.
   */
  collectGarbage(): number {
    const live = new Set<string>()
    for (const m of this.registry.all()) m.handler.referencedBlobs(live)
    const removed = this.store.blobs.gcBlobs(live).length
    if (removed > 0) this.log.info(`removed ${removed} blobs no resource refers to`)
    return removed
  }

  /** A namespace at the top (`team`), or nested in a namespace this node holds (`team/design`). */
  create(opts: CreateNamespaceOptions): NamespaceInfo {
    const segs = typeof opts.alias === 'string' ? opts.alias.split('/') : [opts.alias]
    const parent = segs.length > 1 ? this.registry.at(segs.slice(0, -1).join('/')) : undefined
    const alias = this.checkAlias(segs[segs.length - 1], parent)
    const nonce = randomBytes(16).toString('hex')
    const info: NamespaceInfo = {
      id: namespaceIdFor(this.identity.publicKey, nonce),
      alias,
      application: checkApplication(opts.application ?? 'files'),
      upgradePolicy: checkUpgradePolicy(opts.upgradePolicy ?? 'lazy-on-access'),
      description: checkDescription(opts.description ?? ''),
      createdMs: Date.now(),
      parentId: parent?.replica.id ?? null,
      path: parent ? `${pathOf(parent.replica.info)}/${alias}` : alias,
    }
    const replica = NamespaceReplica.create(this.replicaStore, info)
    replica.change(() => {
      writeOrigin(replica.doc, this.identity.publicKey, nonce)
      this.membership.grantCreator(replica, info.createdMs)
    })
    this.registry.add(replica)
    this.log.info(`namespace ${pathOf(info)} created (${info.id}, application ${info.application}, policy ${info.upgradePolicy})`)
    return info
  }

  list(application?: string): NamespaceInfo[] {
    return this.registry
      .all()
      .map((m) => m.replica.info)
      .filter((i) => application === undefined || i.application === application)
      .sort((a, b) => (pathOf(a) < pathOf(b) ? -1 : pathOf(a) > pathOf(b) ? 1 : 0))
  }

  get(ref: string): NamespaceInfo {
    return this.registry.resolve(ref).replica.info
  }

  /** The replica of a mounted namespace, by id or alias (sync targets mirror between them). */
  replicaOf(ref: string): NamespaceReplica {
    return this.registry.resolve(ref).replica
  }

  /**
   * Delete a namespace from this node (irreversible); only its admins may. It must be empty and
   * hold no nested namespaces unless `force`, which deletes those too (their admins only).
   */
  delete(ref: string, force = false): NamespaceInfo {
    const held = this.registry.resolve(ref)
    const info = held.replica.info
    const nested = this.registry.descendantsOf(info.id)
    for (const m of [held, ...nested]) this.membership.requireAdmin(m, 'delete it')
    if (!force && nested.length > 0) {
      throw fsError(
        'ENOTEMPTY',
        `namespace ${pathOf(info)} holds nested namespaces (${nested.map((m) => pathOf(m.replica.info)).join(', ')}): delete them first, or delete with --force, which deletes them too (irreversible)`,
      )
    }
    if (!force && held.replica.tree.children(TreeDoc.ROOT).length > 0) {
      throw fsError('ENOTEMPTY', `namespace ${pathOf(info)} is not empty: remove its contents, or delete it with --force (irreversible)`)
    }
    for (const m of [held, ...nested]) this.opts.beforeDelete?.(m.replica.info)
    for (const m of [...nested, held]) this.registry.drop(m)
    this.log.info(
      `namespace ${pathOf(info)} deleted (${info.id})${force ? ' with --force' : ''}${nested.length ? `, with ${nested.length} nested` : ''}`,
    )
    return info
  }

  // ---- members and roles (membership.ts) ---------------------------------------------------

  /** Calimero's get_namespace_identity. */
  namespaceIdentity(ref: string): NamespaceIdentityInfo {
    return this.membership.identityIn(this.registry.resolve(ref))
  }

  /** Every member record this node believes (signed by someone allowed to), left ones too. */
  listMembers(ref: string): MemberRecord[] {
    return this.membership.listOf(this.registry.resolve(ref).replica).all()
  }

  /** An admin sets a current member's role (`admin` or `member`). */
  grant(ref: string, memberRef: string, role: string): MemberRecord {
    return this.membership.grant(this.registry.resolve(ref), memberRef, role)
  }

  /** The first half of leaving (see Membership.beginLeave). */
  beginLeave(ref: string, force = false): string[] {
    return this.membership.beginLeave(this.registry.resolve(ref), force)
  }

  /** The second half of leaving: drop the namespaces from this node. */
  finishLeave(ids: string[]): void {
    this.membership.finishLeave(ids)
  }

  // ---- groups (groups.ts) ------------------------------------------------------------------

  listGroups(ref: string): groups.GroupInfo[] {
    return groups.listGroups(this.replicaOf(ref))
  }

  createGroup(ref: string, path: string): groups.GroupInfo {
    return groups.createGroup(this.replicaOf(ref), path)
  }

  nestGroup(ref: string, parentRef: string, childRef: string): groups.GroupInfo {
    return groups.nestGroup(this.replicaOf(ref), parentRef, childRef)
  }

  unnestGroup(ref: string, groupRef: string): groups.GroupInfo {
    return groups.unnestGroup(this.replicaOf(ref), groupRef)
  }

  listSubgroups(ref: string, groupRef: string): groups.GroupInfo[] {
    return groups.listSubgroups(this.replicaOf(ref), groupRef)
  }

  // ---- invitations and the sync host -------------------------------------------------------

  /** Calimero's create_namespace_invitation, signed by this node, to be redeemed at `addresses`. */
  createInvitation(ref: string, opts: InvitationOptions): string {
    return this.invitations.create(this.registry.resolve(ref), opts)
  }

  namespaceIds(): string[] {
    return this.registry.ids()
  }

  replica(ns: string): NamespaceReplica | undefined {
    return this.registry.replica(ns)
  }

  isMember(ns: string, publicKey: string): boolean {
    return this.membership.isMember(ns, publicKey)
  }

  admit(tokenText: string, publicKey: string): string {
    return this.invitations.admit(tokenText, publicKey)
  }

  nestedIn(ns: string, publicKey: string): string[] {
    return this.membership.nestedIn(ns, publicKey)
  }

  joined(ns: string, inviter: string, url: string): void {
    this.membership.recordInviter(ns, inviter)
    this.knownPeers.remember(url, inviter)
    this.registry.join(ns)
  }

  /** Peers this node dials at start-up. */
  peers(): PeerRecord[] {
    return this.knownPeers.list()
  }

  /** The binary versions of a namespace still arriving (served-versions.ts). */
  transfers(ref: string): InFlight[] {
    return this.registry.resolve(ref).served.inFlight()
  }

  missingBlobs(ns: string): string[] {
    return this.blobIndex.missing(ns)
  }

  blobIn(ns: string, hash: string): boolean {
    return this.blobIndex.has(ns, hash)
  }

  getBlob(hash: string): Uint8Array | undefined {
    return this.store.blobs.getBlob(hash)
  }

  putBlob(bytes: Uint8Array): string {
    this.blobIndex.blobStored()
    return this.store.blobs.putBlob(bytes)
  }

  private checkAlias(alias: unknown, parent?: HeldNamespace): string {
    if (typeof alias !== 'string') throw fsError('EINVAL', 'an alias is a name')
    try {
      checkName(alias)
    } catch (err) {
      if (!isFsError(err)) throw err
      throw fsError(err.code, `bad alias ${JSON.stringify(alias)}: ${err.message}`)
    }
    if (!parent && alias === '.meshfs') throw fsError('EINVAL', 'the alias .meshfs is reserved for control files')
    const at = parent ? `${parent.mountPath}/${alias}` : `/${alias}`
    if (this.table.isMountPoint(at)) throw fsError('EEXIST', `${at} is taken (a namespace or handler is mounted there)`)
    if (parent && parent.replica.tree.lookup(TreeDoc.ROOT, alias) !== undefined) {
      throw fsError('EEXIST', `${at} is taken (namespace ${pathOf(parent.replica.info)} has a group or resource called ${alias})`)
    }
    return alias
  }
}
