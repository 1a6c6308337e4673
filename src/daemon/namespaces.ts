// The namespaces this node is a member of (Calimero's namespaces and groups): created, listed,
// deleted, each mounted at /ALIAS as a replicated handler, and remembered in the local store.
// The CLI, the control API and `mkdir`/`rmdir` on the mount all end up here.

import { randomBytes } from 'node:crypto'
import {
  checkApplication,
  checkDescription,
  checkUpgradePolicy,
  type NamespaceInfo,
  type UpgradePolicy,
} from '../crdt/namespace-info.js'
import { TreeDoc } from '../crdt/tree.js'
import { addMember, isMember, listMembers, readMember } from '../crdt/members.js'
import type { Signer } from '../net/identity.js'
import { createInvitation, encodeToken, parseToken, verifyInvitation } from '../net/invitation.js'
import type { SyncHost, SyncReplica } from '../net/sync-node.js'
import { decodeContentRef, decodeManifest } from '../handlers/replicated/content.js'
import { ReplicatedHandler } from '../handlers/replicated/handler.js'
import { NamespaceReplica, type ReplicaStore } from '../handlers/replicated/replica.js'
import { LocalArea } from '../handlers/replicated/local-area.js'
import path from 'node:path'
import type { LocalStore } from '../store/local-store.js'
import type { Logger } from '../util/log.js'
import { fsError } from '../vfs/errors.js'
import type { MountTable } from '../vfs/mount-table.js'
import { checkName, splitPath } from '../vfs/path.js'

const MEMBERSHIP_KEY = 'namespaces'
/** Peers this node dials at start-up: [{url, publicKey}]. */
const PEERS_KEY = 'peers'
const NAMESPACE_ID = /^[0-9a-f]{32}$/
const NODE_ID = /^[0-9a-f]{16}$/

export interface CreateNamespaceOptions {
  alias: string
  application?: string
  upgradePolicy?: UpgradePolicy | string
  description?: string
}

export interface GroupInfo {
  id: string
  /** Path inside the namespace, '/' for its root. */
  path: string
  alias: string
  parentId: string | null
}

interface Member {
  replica: NamespaceReplica
  handler: ReplicatedHandler
  local: LocalArea
  mountPath: string
}

export function replicaStoreOf(store: LocalStore): ReplicaStore {
  return {
    appendUpdate: (doc, u) => store.docs.appendUpdate(doc, u),
    loadDoc: (doc) => store.docs.loadDoc(doc),
    deleteDoc: (doc) => store.docs.deleteDoc(doc),
    listDocs: (prefix) => store.docs.listDocs(prefix),
    putBlob: (b) => store.blobs.putBlob(b),
    getBlob: (h) => store.blobs.getBlob(h),
    atomically: (fn) => store.adapter.transaction(fn),
  }
}

export interface PeerRecord {
  url: string
  publicKey: string
}

export class Namespaces implements SyncHost {
  private readonly members = new Map<string, Member>()
  /** Joined namespaces whose first sync has not arrived yet: no alias to mount them at. */
  private readonly joining = new Map<string, NamespaceReplica>()
  private readonly replicaStore: ReplicaStore
  /** Blobs each namespace refers to, for serving peers' fetches; dropped on any change. */
  private readonly referenced = new Map<string, Set<string>>()
  /** Told when a namespace starts or stops being held (the sync layer watches it). */
  onHeld: (ns: string) => void = () => {}
  onDropped: (ns: string) => void = () => {}
  /** Asked before a namespace is deleted; throws to refuse (sync targets still mirror it). */
  beforeDelete: (ns: NamespaceInfo) => void = () => {}

  /** `dataDir/local/<namespace id>` holds each namespace's ignored, node-local files. */
  constructor(
    private readonly store: LocalStore,
    private readonly table: MountTable,
    private readonly dataDir: string,
    readonly identity: Signer,
    private readonly log: Logger,
  ) {
    this.replicaStore = replicaStoreOf(store)
  }

  /** Mount every namespace this node is a member of, as stored. */
  loadAll(): void {
    for (const id of this.membership()) this.hold(NamespaceReplica.load(this.replicaStore, id))
  }

  /**
   * Remove the blobs no live resource refers to any more. Run at start-up, before anything is
   * open: a reader holds on to the chunks it opened, which the tree may no longer name.
   */
  collectGarbage(): number {
    const live = new Set<string>()
    for (const m of this.members.values()) m.handler.referencedBlobs(live)
    const removed = this.store.blobs.gcBlobs(live).length
    if (removed > 0) this.log.info(`removed ${removed} blobs no resource refers to`)
    return removed
  }

  create(opts: CreateNamespaceOptions): NamespaceInfo {
    const alias = this.checkAlias(opts.alias)
    const info: NamespaceInfo = {
      id: randomBytes(16).toString('hex'),
      alias,
      application: checkApplication(opts.application ?? 'files'),
      upgradePolicy: checkUpgradePolicy(opts.upgradePolicy ?? 'lazy-on-access'),
      description: checkDescription(opts.description ?? ''),
      createdMs: Date.now(),
    }
    const replica = NamespaceReplica.create(this.replicaStore, info)
    replica.change(() => addMember(replica.doc, this.identity.publicKey, 'admin'))
    this.store.meta.setMeta(MEMBERSHIP_KEY, [...this.membership(), info.id])
    this.hold(replica)
    this.log.info(`namespace ${alias} created (${info.id}, application ${info.application}, policy ${info.upgradePolicy})`)
    return info
  }

  list(application?: string): NamespaceInfo[] {
    return [...this.members.values()].map((m) => m.replica.info).filter((i) => application === undefined || i.application === application)
  }

  get(ref: string): NamespaceInfo {
    return this.member(ref).replica.info
  }

  /** The replica of a mounted namespace, by id or alias (sync targets mirror between them). */
  replicaOf(ref: string): NamespaceReplica {
    return this.member(ref).replica
  }

  /** Delete a namespace from this node; it must be empty unless `force` (irreversible). */
  delete(ref: string, force = false): NamespaceInfo {
    const member = this.member(ref)
    const info = member.replica.info
    if (!force && member.replica.tree.children(TreeDoc.ROOT).length > 0) {
      throw fsError('ENOTEMPTY', `namespace ${info.alias} is not empty: remove its contents, or delete it with --force (irreversible)`)
    }
    if (!readMember(member.replica.doc, this.identity.publicKey) || readMember(member.replica.doc, this.identity.publicKey)!.role !== 'admin') {
      throw fsError('EACCES', `only an admin of namespace ${info.alias} may delete it`)
    }
    this.beforeDelete(info)
    this.store.meta.setMeta(MEMBERSHIP_KEY, this.membership().filter((id) => id !== info.id))
    if (this.table.isMountPoint(member.mountPath)) this.table.unmount(member.mountPath)
    this.members.delete(info.id)
    this.onDropped(info.id)
    member.replica.destroy()
    member.local.destroy()
    this.log.info(`namespace ${info.alias} deleted (${info.id})${force ? ' with --force' : ''}`)
    return info
  }

  // ---- groups ------------------------------------------------------------------------------

  listGroups(ref: string): GroupInfo[] {
    const { replica } = this.member(ref)
    const out: GroupInfo[] = []
    const walk = (id: string) => {
      out.push(this.groupInfo(replica, id))
      for (const child of replica.tree.children(id)) if (child.kind === 'group') walk(child.id)
    }
    walk(TreeDoc.ROOT)
    return out
  }

  /** create_group_in_namespace: `path` names the new group (its parent must exist). */
  createGroup(ref: string, path: string): GroupInfo {
    const { replica } = this.member(ref)
    const segs = splitPath(path)
    const name = segs.pop()
    if (name === undefined) throw fsError('EEXIST', 'the namespace root exists')
    const parent = this.groupId(replica, '/' + segs.join('/'))
    const id = replica.change((t) => t.create(parent, name, 'group', 0o755))
    return this.groupInfo(replica, id)
  }

  /** nest_group: move `child` (with its subtree, keeping its id) under `parent`. */
  nestGroup(ref: string, parentRef: string, childRef: string): GroupInfo {
    const { replica } = this.member(ref)
    const parent = this.groupId(replica, parentRef)
    const child = this.groupId(replica, childRef)
    if (child === TreeDoc.ROOT) throw fsError('EINVAL', 'the namespace root cannot be nested')
    replica.change((t) => t.move(child, parent))
    return this.groupInfo(replica, child)
  }

  /** unnest_group: move a group out of its parent, to the top of the namespace. */
  unnestGroup(ref: string, groupRef: string): GroupInfo {
    const { replica } = this.member(ref)
    const id = this.groupId(replica, groupRef)
    if (id === TreeDoc.ROOT) throw fsError('EINVAL', 'the namespace root cannot be unnested')
    if (replica.tree.get(id).parentId !== TreeDoc.ROOT) replica.change((t) => t.move(id, TreeDoc.ROOT))
    return this.groupInfo(replica, id)
  }

  listSubgroups(ref: string, groupRef: string): GroupInfo[] {
    const { replica } = this.member(ref)
    const id = this.groupId(replica, groupRef)
    return replica.tree.children(id).filter((c) => c.kind === 'group').map((c) => this.groupInfo(replica, c.id))
  }

  // ---- internals ---------------------------------------------------------------------------

  /** Start holding a replica: mounted now if it knows its alias, else once its first sync lands. */
  private hold(replica: NamespaceReplica): void {
    if (replica.maybeInfo()) {
      this.mount(replica)
      return this.onHeld(replica.id)
    }
    this.joining.set(replica.id, replica)
    this.onHeld(replica.id)
    const off = replica.onStored(() => {
      if (!replica.maybeInfo() || !this.joining.has(replica.id)) return
      off()
      this.joining.delete(replica.id)
      this.mount(replica)
      this.log.info(`namespace ${replica.info.alias} (${replica.id}) arrived and is mounted`)
    })
  }

  private mount(replica: NamespaceReplica): void {
    const info = replica.info
    const mountPath = '/' + info.alias
    const local = new LocalArea(path.join(this.dataDir, 'local', info.id))
    const handler = new ReplicatedHandler(replica, {
      removeNamespace: async () => {
        this.delete(info.id)
      },
    }, local)
    this.table.mount(mountPath, handler)
    this.members.set(info.id, { replica, handler, local, mountPath })
    replica.onStored(() => this.referenced.delete(info.id))
  }

  // ---- invitations and the sync host -------------------------------------------------------

  /** Calimero's create_namespace_invitation, signed by this node, to be redeemed at `addresses`. */
  createInvitation(ref: string, opts: { addresses: string[]; recursive: boolean; expiresAtMs: number; uses: number }): string {
    const { replica } = this.member(ref)
    return encodeToken(createInvitation({ namespaceId: replica.id, inviter: this.identity, ...opts }))
  }

  namespaceIds(): string[] {
    return [...this.members.keys(), ...this.joining.keys()]
  }

  replica(ns: string): SyncReplica | undefined {
    return this.members.get(ns)?.replica ?? this.joining.get(ns)
  }

  isMember(ns: string, publicKey: string): boolean {
    const replica = this.members.get(ns)?.replica ?? this.joining.get(ns)
    if (!replica) return false
    // Before its first sync a joined namespace knows no members: trust the node that admitted us.
    if (listMembers(replica.doc).length === 0) return this.store.meta.getMeta<string>(`inviter:${ns}`) === publicKey
    return isMember(replica.doc, publicKey)
  }

  admit(tokenText: string, publicKey: string): string {
    const token = parseToken(tokenText)
    const member = this.members.get(token.ns)
    verifyInvitation(token, {
      now: Date.now(),
      isKnownInviter: (pub) => member !== undefined && isMember(member.replica.doc, pub),
      usesSoFar: (nonce) => this.store.meta.getMeta<number>(`invite-uses:${nonce}`) ?? 0,
    })
    if (!member) throw Object.assign(new Error(`this node does not hold namespace ${token.ns}`), { code: 'wrong-namespace' })
    this.store.meta.setMeta(`invite-uses:${token.nonce}`, (this.store.meta.getMeta<number>(`invite-uses:${token.nonce}`) ?? 0) + 1)
    if (!isMember(member.replica.doc, publicKey)) member.replica.change(() => addMember(member.replica.doc, publicKey, 'member'))
    return token.ns
  }

  joined(ns: string, inviter: string, url: string): void {
    this.store.meta.setMeta(`inviter:${ns}`, inviter)
    const peers = this.peers().filter((p) => p.url !== url)
    this.store.meta.setMeta(PEERS_KEY, [...peers, { url, publicKey: inviter }])
    if (this.members.has(ns) || this.joining.has(ns)) return
    this.store.meta.setMeta(MEMBERSHIP_KEY, [...this.membership(), ns])
    this.hold(NamespaceReplica.load(this.replicaStore, ns))
  }

  peers(): PeerRecord[] {
    const v = this.store.meta.getMeta<unknown>(PEERS_KEY)
    return Array.isArray(v) ? v.filter((p): p is PeerRecord => typeof p?.url === 'string' && typeof p?.publicKey === 'string') : []
  }

  missingBlobs(ns: string): string[] {
    const replica = this.members.get(ns)?.replica
    if (!replica) return []
    const missing: string[] = []
    const walk = (id: string) => {
      for (const child of replica.tree.children(id)) {
        if (child.kind === 'group') walk(child.id)
        if (child.kind !== 'file') continue
        let ref
        try {
          ref = decodeContentRef(child.meta.c, 0)
        } catch {
          continue
        }
        if (ref.kind !== 'b') continue
        const manifest = this.store.blobs.getBlob(ref.manifest!)
        if (!manifest) {
          missing.push(ref.manifest!)
          continue
        }
        for (const c of decodeManifest(manifest, ref.manifest!).chunks) if (c && !this.store.blobs.hasBlob(c)) missing.push(c)
      }
    }
    walk(TreeDoc.ROOT)
    return missing
  }

  /**
   * Walking a namespace for the blobs it refers to is O(resources); a peer fetching many blobs
   * asks once per blob, so the set is kept until the namespace or the blob store changes.
   */
  blobIn(ns: string, hash: string): boolean {
    const member = this.members.get(ns)
    if (!member) return false
    let set = this.referenced.get(ns)
    if (!set) {
      set = member.handler.referencedBlobs()
      this.referenced.set(ns, set)
    }
    return set.has(hash)
  }

  getBlob(hash: string): Uint8Array | undefined {
    return this.store.blobs.getBlob(hash)
  }

  putBlob(bytes: Uint8Array): string {
    // A manifest that arrives makes its chunks part of its namespace.
    this.referenced.clear()
    return this.store.blobs.putBlob(bytes)
  }

  private membership(): string[] {
    const ids = this.store.meta.getMeta<unknown>(MEMBERSHIP_KEY)
    return Array.isArray(ids) ? ids.filter((x): x is string => typeof x === 'string') : []
  }

  /** A namespace by id or alias. */
  private member(ref: string): Member {
    if (NAMESPACE_ID.test(ref) && this.members.has(ref)) return this.members.get(ref)!
    for (const m of this.members.values()) if (m.replica.info.alias === ref) return m
    throw fsError('ENOENT', `no namespace ${JSON.stringify(ref)} on this node`)
  }

  private checkAlias(alias: unknown): string {
    if (typeof alias !== 'string') throw fsError('EINVAL', 'an alias is a name')
    try {
      checkName(alias)
    } catch (err) {
      throw fsError((err as { code: 'EINVAL' | 'ENAMETOOLONG' }).code, `bad alias ${JSON.stringify(alias)}: ${(err as Error).message}`)
    }
    if (alias === '.meshfs') throw fsError('EINVAL', 'the alias .meshfs is reserved for control files')
    if (this.table.isMountPoint('/' + alias)) throw fsError('EEXIST', `/${alias} is taken (a namespace or handler is mounted there)`)
    return alias
  }

  /** A group by id or by path inside the namespace. */
  private groupId(replica: NamespaceReplica, ref: string): string {
    if (NODE_ID.test(ref)) {
      if (!replica.tree.isLive(ref)) throw fsError('ENOENT', `no group ${ref}`)
      if (replica.tree.get(ref).kind !== 'group') throw fsError('ENOTDIR', `${ref} is not a group`)
      return ref
    }
    const id = replica.tree.resolvePath(splitPath(ref))
    if (id === undefined) throw fsError('ENOENT', `no group at ${ref}`)
    if (replica.tree.get(id).kind !== 'group') throw fsError('ENOTDIR', `${ref} is not a group`)
    return id
  }

  private groupInfo(replica: NamespaceReplica, id: string): GroupInfo {
    const node = replica.tree.get(id)
    const path = '/' + replica.tree.pathOf(id).join('/')
    return { id: id === TreeDoc.ROOT ? replica.id : id, path, alias: node.name || replica.info.alias, parentId: node.parentId === undefined ? null : node.parentId === TreeDoc.ROOT ? replica.id : node.parentId }
  }
}
