// Groups inside a namespace (Calimero's groups): the folders of its tree, listed, created and
// nested by id or by path. A group's id is its tree node's; the namespace root is the namespace.

import { TreeDoc } from '../model/tree/tree.js'
import type { NamespaceReplica } from '../replica/replica.js'
import { fsError } from '../vfs/errors.js'
import { splitPath } from '../vfs/path.js'

const NODE_ID = /^[0-9a-f]{16}$/

export interface GroupInfo {
  id: string
  /** Path inside the namespace, '/' for its root. */
  path: string
  alias: string
  parentId: string | null
}

/** Every group of the namespace, its root first, each before the groups inside it. */
export function listGroups(replica: NamespaceReplica): GroupInfo[] {
  const out: GroupInfo[] = []
  const walk = (id: string) => {
    out.push(groupInfo(replica, id))
    for (const child of replica.tree.children(id)) if (child.kind === 'group') walk(child.id)
  }
  walk(TreeDoc.ROOT)
  return out
}

/** create_group_in_namespace: `path` names the new group (its parent must exist). */
export function createGroup(replica: NamespaceReplica, path: string): GroupInfo {
  const segs = splitPath(path)
  const name = segs.pop()
  if (name === undefined) throw fsError('EEXIST', 'the namespace root exists')
  const parent = groupId(replica, `/${segs.join('/')}`)
  const id = replica.change((t) => t.create(parent, name, 'group', 0o755))
  return groupInfo(replica, id)
}

/** nest_group: move `child` (with its subtree, keeping its id) under `parent`. */
export function nestGroup(replica: NamespaceReplica, parentRef: string, childRef: string): GroupInfo {
  const parent = groupId(replica, parentRef)
  const child = groupId(replica, childRef)
  if (child === TreeDoc.ROOT) throw fsError('EINVAL', 'the namespace root cannot be nested')
  replica.change((t) => t.move(child, parent))
  return groupInfo(replica, child)
}

/** unnest_group: move a group out of its parent, to the top of the namespace. */
export function unnestGroup(replica: NamespaceReplica, groupRef: string): GroupInfo {
  const id = groupId(replica, groupRef)
  if (id === TreeDoc.ROOT) throw fsError('EINVAL', 'the namespace root cannot be unnested')
  if (replica.tree.get(id).parentId !== TreeDoc.ROOT) replica.change((t) => t.move(id, TreeDoc.ROOT))
  return groupInfo(replica, id)
}

export function listSubgroups(replica: NamespaceReplica, groupRef: string): GroupInfo[] {
  const id = groupId(replica, groupRef)
  return replica.tree
    .children(id)
    .filter((c) => c.kind === 'group')
    .map((c) => groupInfo(replica, c.id))
}

/** A group by id or by path inside the namespace. */
function groupId(replica: NamespaceReplica, ref: string): string {
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

function groupInfo(replica: NamespaceReplica, id: string): GroupInfo {
  const node = replica.tree.get(id)
  const path = `/${replica.tree.pathOf(id).join('/')}`
  const parentId = node.parentId === undefined ? null : node.parentId === TreeDoc.ROOT ? replica.id : node.parentId
  return { id: id === TreeDoc.ROOT ? replica.id : id, path, alias: node.name || replica.info.alias, parentId }
}
