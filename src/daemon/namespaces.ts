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

export class Namespaces {
  private readonly members = new Map<string, Member>()
  private readonly replicaStore: ReplicaStore

  /** `dataDir/local/<namespace id>` holds each namespace's ignored, node-local files. */
  constructor(
    private readonly store: LocalStore,
    private readonly table: MountTable,
    private readonly dataDir: string,
    private readonly log: Logger,
  ) {
    this.replicaStore = replicaStoreOf(store)
  }

  /** Mount every namespace this node is a member of, as stored. */
  loadAll(): void {
    for (const id of this.membership()) {
      const replica = NamespaceReplica.load(this.replicaStore, id)
      this.mount(replica)
    }
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
    this.store.meta.setMeta(MEMBERSHIP_KEY, [...this.membership(), info.id])
    this.mount(replica)
    this.log.info(`namespace ${alias} created (${info.id}, application ${info.application}, policy ${info.upgradePolicy})`)
    return info
  }

  list(application?: string): NamespaceInfo[] {
    return [...this.members.values()].map((m) => m.replica.info).filter((i) => application === undefined || i.application === application)
  }

  get(ref: string): NamespaceInfo {
    return this.member(ref).replica.info
  }

  /** Delete a namespace from this node; it must be empty unless `force` (irreversible). */
  delete(ref: string, force = false): NamespaceInfo {
    const member = this.member(ref)
    const info = member.replica.info
    if (!force && member.replica.tree.children(TreeDoc.ROOT).length > 0) {
      throw fsError('ENOTEMPTY', `namespace ${info.alias} is not empty: remove its contents, or delete it with --force (irreversible)`)
    }
    this.store.meta.setMeta(MEMBERSHIP_KEY, this.membership().filter((id) => id !== info.id))
    if (this.table.isMountPoint(member.mountPath)) this.table.unmount(member.mountPath)
    this.members.delete(info.id)
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
