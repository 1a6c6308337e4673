// The namespaces this node is a member of (Calimero's namespaces and groups): created, listed,
// deleted or left, each mounted at /PATH as a replicated handler (PATH is the alias, or
// PARENT/ALIAS for a namespace nested in another), and remembered in the local store. Members
// and roles live in each namespace (crdt/members.ts); admin-only verbs are checked here. The
// CLI, the control API and `mkdir`/`rmdir` on the mount all end up here.

import { randomBytes } from 'node:crypto'
import {
  checkApplication,
  checkDescription,
  checkUpgradePolicy,
  namespaceIdFor,
  recordChild,
  verifiedCreator,
  writeOrigin,
  type NamespaceInfo,
  type UpgradePolicy,
} from '../model/namespace-info.js'
import { TreeDoc } from '../model/tree/tree.js'
import { grantRole, markLeft, MemberList, type Member as MemberRecord, type Role } from '../model/members.js'
import { verify, type Signer } from '../net/trust/identity.js'
import { createInvitation, encodeToken, parseToken, verifyInvitation } from '../net/trust/invitation.js'
import type { SyncHost } from '../net/sync-node.js'
import { META, decodeContentRef, decodeManifest } from '../model/content.js'
import { ReplicatedHandler } from '../namespace/handler.js'
import { NamespaceReplica, type ReplicaStore } from '../replica/replica.js'
import { LocalArea } from '../namespace/local-area.js'
import path from 'node:path'
import type { LocalStore } from '../store/local-store.js'
import type { Logger } from '../util/log.js'
import { fsError } from '../vfs/errors.js'
import type { MountTable } from '../vfs/mount-table.js'
import { checkName, splitPath } from '../vfs/path.js'

const MEMBERSHIP_KEY = ['namespaces']
/** Peers this node dials at start-up: [{url, publicKey}]. */
const PEERS_KEY = ['peers']
const NAMESPACE_ID = /^[0-9a-f]{32}$/
const NODE_ID = /^[0-9a-f]{16}$/

/** Member records are checked with the node keys' ed25519 signatures. */
/** Where a namespace is mounted, from the top; its alias for one written before namespaces nested. */
const pathOf = (info: NamespaceInfo): string => info.path ?? info.alias

const verifyRecord = (key: string, bytes: Uint8Array, sig: Uint8Array) => verify(key, bytes, sig)

export interface CreateNamespaceOptions {
  alias: string
  application?: string
  upgradePolicy?: UpgradePolicy | string
  description?: string
}

/** Calimero's get_namespace_identity: who this node is in a namespace. */
export interface NamespaceIdentityInfo {
  namespace: string
  path: string
  /**
   * The node key: the handshake proves one key per connection, and members are recorded by the
   * key a peer proved, so a node is the same key in all its namespaces.
   */
  publicKey: string
  /** null while the namespace's member list does not (yet) show this node. */
  role: Role | null
  joinedMs: number | null
}

export type { MemberRecord }

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

  /** A namespace at the top (`team`), or nested in a namespace this node holds (`team/design`). */
  create(opts: CreateNamespaceOptions): NamespaceInfo {
    const segs = typeof opts.alias === 'string' ? opts.alias.split('/') : [opts.alias]
    const parent = segs.length > 1 ? this.memberAt(segs.slice(0, -1).join('/')) : undefined
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
      grantRole(replica.doc, info.id, this.identity, this.identity.publicKey, 'admin', info.createdMs)
    })
    if (parent) parent.replica.change(() => recordChild(parent.replica.doc, { id: info.id, alias }))
    this.store.meta.setMeta(MEMBERSHIP_KEY, [...this.membership(), info.id])
    this.hold(replica)
    this.log.info(`namespace ${pathOf(info)} created (${info.id}, application ${info.application}, policy ${info.upgradePolicy})`)
    return info
  }

  list(application?: string): NamespaceInfo[] {
    return [...this.members.values()]
      .map((m) => m.replica.info)
      .filter((i) => application === undefined || i.application === application)
      .sort((a, b) => (pathOf(a) < pathOf(b) ? -1 : pathOf(a) > pathOf(b) ? 1 : 0))
  }

  get(ref: string): NamespaceInfo {
    return this.member(ref).replica.info
  }

  /** The replica of a mounted namespace, by id or alias (sync targets mirror between them). */
  replicaOf(ref: string): NamespaceReplica {
    return this.member(ref).replica
  }

  /**
   * Delete a namespace from this node (irreversible); only its admins may. It must be empty and
   * hold no nested namespaces unless `force`, which deletes those too (their admins only).
   */
  delete(ref: string, force = false): NamespaceInfo {
    const member = this.member(ref)
    const info = member.replica.info
    const nested = this.heldDescendants(info.id)
    for (const m of [member, ...nested]) this.requireAdmin(m, 'delete it')
    if (!force && nested.length > 0) {
      throw fsError('ENOTEMPTY', `namespace ${pathOf(info)} holds nested namespaces (${nested.map((m) => pathOf(m.replica.info)).join(', ')}): delete them first, or delete with --force, which deletes them too (irreversible)`)
    }
    if (!force && member.replica.tree.children(TreeDoc.ROOT).length > 0) {
      throw fsError('ENOTEMPTY', `namespace ${pathOf(info)} is not empty: remove its contents, or delete it with --force (irreversible)`)
    }
    for (const m of [member, ...nested]) this.beforeDelete(m.replica.info)
    for (const m of [...nested, member]) this.drop(m)
    this.log.info(`namespace ${pathOf(info)} deleted (${info.id})${force ? ' with --force' : ''}${nested.length ? `, with ${nested.length} nested` : ''}`)
    return info
  }

  // ---- members and roles -------------------------------------------------------------------

  /** Calimero's get_namespace_identity. */
  namespaceIdentity(ref: string): NamespaceIdentityInfo {
    const { replica } = this.member(ref)
    const me = this.memberList(replica).get(this.identity.publicKey)
    const current = me !== undefined && me.leftMs === undefined
    return {
      namespace: replica.id,
      path: pathOf(replica.info),
      publicKey: this.identity.publicKey,
      role: current ? me.role : null,
      joinedMs: current ? me.joinedMs : null,
    }
  }

  /** Every member record this node believes (signed by someone allowed to), left ones too. */
  listMembers(ref: string): MemberRecord[] {
    return this.memberList(this.member(ref).replica).all()
  }

  /** An admin sets a current member's role (`admin` or `member`). */
  grant(ref: string, memberRef: string, role: string): MemberRecord {
    if (role !== 'admin' && role !== 'member') throw fsError('EINVAL', `unknown role ${JSON.stringify(role)}: use admin or member`)
    const member = this.member(ref)
    const { replica } = member
    const path = pathOf(replica.info)
    this.requireAdmin(member, 'grant roles')
    const list = this.memberList(replica)
    const matches = list.current().filter((m) => m.publicKey === memberRef || (memberRef.length >= 6 && m.publicKey.startsWith(memberRef)))
    if (matches.length === 0) throw fsError('ENOENT', `no current member ${memberRef} in namespace ${path} (see: meshfs ns members ${path})`)
    if (matches.length > 1) throw fsError('EINVAL', `${memberRef} matches ${matches.length} members of ${path}: give more of the key`)
    const target = matches[0]!
    if (role === 'member' && target.publicKey === verifiedCreator(replica.doc, replica.id)) {
      throw fsError('EPERM', `${target.publicKey} created namespace ${path} and stays an admin while a member`)
    }
    if (role === 'member' && target.role === 'admin' && list.current().filter((m) => m.role === 'admin').length === 1) {
      throw fsError('EPERM', `${target.publicKey} is the last admin of namespace ${path}: grant admin to another member first`)
    }
    replica.change(() => grantRole(replica.doc, replica.id, this.identity, target.publicKey, role))
    const after = this.memberList(replica).get(target.publicKey)!
    this.log.info(`namespace ${path}: ${target.publicKey.slice(0, 8)} is now ${role}`)
    return after
  }

  /**
   * The first half of leaving `ref` (and the namespaces nested in it that this node holds): a
   * signed tombstone in each, stored and so pushed to the peers sharing it. Refused for the last
   * admin while others remain, unless `force`. Returns the ids to `finishLeave` once the peers
   * had a chance to receive it.
   */
  beginLeave(ref: string, force = false): string[] {
    const member = this.member(ref)
    const all = [...this.heldDescendants(member.replica.id), member]
    const me = this.identity.publicKey
    for (const { replica } of all) {
      const list = this.memberList(replica)
      const admins = list.current().filter((m) => m.role === 'admin')
      if (!force && list.isAdmin(me) && admins.length === 1 && list.current().length > 1) {
        throw fsError('EPERM', `this node is the last admin of namespace ${pathOf(replica.info)}, which has other members: grant admin to one of them first (meshfs ns grant ${pathOf(replica.info)} KEY admin), or leave with --force`)
      }
    }
    for (const { replica } of all) {
      if (this.memberList(replica).isMember(me)) replica.change(() => markLeft(replica.doc, replica.id, this.identity))
    }
    return all.map((m) => m.replica.id)
  }

  /** The second half of leaving: drop the namespaces from this node. */
  finishLeave(ids: string[]): void {
    for (const id of ids) {
      const member = this.members.get(id)
      if (!member) continue
      const path = pathOf(member.replica.info)
      this.drop(member)
      this.log.info(`left namespace ${path} (${id})`)
    }
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
    const mountPath = '/' + pathOf(info)
    const local = new LocalArea(path.join(this.dataDir, 'local', info.id))
    const handler = new ReplicatedHandler(replica, {
      removeNamespace: async () => {
        this.delete(info.id)
      },
      requireAdmin: (what) => this.requireAdmin(this.members.get(info.id)!, what),
    }, local)
    this.table.mount(mountPath, handler)
    this.members.set(info.id, { replica, handler, local, mountPath })
    replica.onStored(() => this.referenced.delete(info.id))
  }

  /** Stop holding a namespace: unmounted, forgotten, its replica and local area deleted. */
  private drop(member: Member): void {
    const id = member.replica.id
    this.store.meta.setMeta(MEMBERSHIP_KEY, this.membership().filter((x) => x !== id))
    if (this.table.isMountPoint(member.mountPath)) this.table.unmount(member.mountPath)
    this.members.delete(id)
    this.onDropped(id)
    member.replica.destroy()
    member.local.destroy()
  }

  private memberList(replica: NamespaceReplica): MemberList {
    return MemberList.read(replica.doc, replica.id, verifyRecord)
  }

  private requireAdmin(member: Member, what: string): void {
    const { replica } = member
    const list = this.memberList(replica)
    const me = this.identity.publicKey
    if (list.isAdmin(me)) return
    const path = pathOf(replica.info)
    throw fsError('EACCES', `only an admin of namespace ${path} may ${what}; this node is ${list.isMember(me) ? 'a member' : 'not a member'} (an admin can run: meshfs ns grant ${path} ${me} admin)`)
  }

  /** The held namespaces nested in `id`, at any depth, the deepest first. */
  private heldDescendants(id: string): Member[] {
    const out: Member[] = []
    for (const m of this.members.values()) {
      if (m.replica.info.parentId !== id) continue
      out.push(...this.heldDescendants(m.replica.id), m)
    }
    return out
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

  replica(ns: string): NamespaceReplica | undefined {
    return this.members.get(ns)?.replica ?? this.joining.get(ns)
  }

  isMember(ns: string, publicKey: string): boolean {
    const replica = this.members.get(ns)?.replica ?? this.joining.get(ns)
    if (!replica) return false
    const list = MemberList.read(replica.doc, ns, verifyRecord)
    // Before its first sync a joined namespace knows no members: trust the node that admitted us.
    if (list.size === 0) return this.store.meta.getMeta<string>(['inviter', ns]) === publicKey
    return list.isMember(publicKey)
  }

  /**
   * Redeem an invitation: `publicKey` becomes a member of its namespace, and with a recursive
   * one also of every namespace nested in it that this node holds and is a member of.
   */
  admit(tokenText: string, publicKey: string): string {
    const token = parseToken(tokenText)
    const member = this.members.get(token.ns)
    verifyInvitation(token, {
      now: Date.now(),
      isKnownInviter: (pub) => member !== undefined && this.memberList(member.replica).isMember(pub),
      usesSoFar: (nonce) => this.store.meta.getMeta<number>(['invite-uses', nonce]) ?? 0,
    })
    if (!member) throw Object.assign(new Error(`this node does not hold namespace ${token.ns}`), { code: 'wrong-namespace' })
    this.store.meta.setMeta(['invite-uses', token.nonce], (this.store.meta.getMeta<number>(['invite-uses', token.nonce]) ?? 0) + 1)
    const into = token.recursive ? [member, ...this.heldDescendants(token.ns)] : [member]
    for (const { replica } of into) {
      const list = this.memberList(replica)
      if (list.isMember(publicKey) || !list.isMember(this.identity.publicKey)) continue
      replica.change(() => grantRole(replica.doc, replica.id, this.identity, publicKey, 'member'))
    }
    return token.ns
  }

  /** The held namespaces nested in `ns` that `publicKey` is a member of (a joiner learns of them with `ns`). */
  nestedIn(ns: string, publicKey: string): string[] {
    return this.heldDescendants(ns)
      .reverse()
      .filter((m) => this.memberList(m.replica).isMember(publicKey))
      .map((m) => m.replica.id)
  }

  joined(ns: string, inviter: string, url: string): void {
    this.store.meta.setMeta(['inviter', ns], inviter)
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
          ref = decodeContentRef(child.meta[META.content], 0)
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

  /** A namespace by id, path (`team/design`) or, when unambiguous, alias. */
  private member(ref: string): Member {
    if (NAMESPACE_ID.test(ref) && this.members.has(ref)) return this.members.get(ref)!
    const all = [...this.members.values()]
    const byPath = all.find((m) => pathOf(m.replica.info) === ref)
    if (byPath) return byPath
    const byAlias = all.filter((m) => m.replica.info.alias === ref)
    if (byAlias.length > 1) throw fsError('EINVAL', `${JSON.stringify(ref)} names ${byAlias.length} namespaces (${byAlias.map((m) => pathOf(m.replica.info)).join(', ')}): give its path`)
    if (byAlias.length === 1) return byAlias[0]!
    throw fsError('ENOENT', `no namespace ${JSON.stringify(ref)} on this node`)
  }

  /** The namespace mounted at `path`, as a parent for a nested one. */
  private memberAt(path: string): Member {
    const m = [...this.members.values()].find((m) => pathOf(m.replica.info) === path)
    if (!m) throw fsError('ENOENT', `no namespace at ${path} on this node: a nested namespace is created inside a namespace (PARENT/NAME)`)
    return m
  }

  private checkAlias(alias: unknown, parent?: Member): string {
    if (typeof alias !== 'string') throw fsError('EINVAL', 'an alias is a name')
    try {
      checkName(alias)
    } catch (err) {
      throw fsError((err as { code: 'EINVAL' | 'ENAMETOOLONG' }).code, `bad alias ${JSON.stringify(alias)}: ${(err as Error).message}`)
    }
    if (!parent && alias === '.meshfs') throw fsError('EINVAL', 'the alias .meshfs is reserved for control files')
    const at = parent ? `${parent.mountPath}/${alias}` : '/' + alias
    if (this.table.isMountPoint(at)) throw fsError('EEXIST', `${at} is taken (a namespace or handler is mounted there)`)
    if (parent && parent.replica.tree.lookup(TreeDoc.ROOT, alias) !== undefined) {
      throw fsError('EEXIST', `${at} is taken (namespace ${pathOf(parent.replica.info)} has a group or resource called ${alias})`)
    }
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
