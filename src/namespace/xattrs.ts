// Extended attributes of a replicated namespace. User attributes (`user.*`) are stored in the
// tree metadata of their node, so they replicate with it; the `user.meshfs.*` attributes show
// what meshfs knows of every node (id, kind) and of the namespace root (alias, application,
// upgrade policy, description), the last two writable by an admin.

import { TreeDoc, type TreeNode } from '../model/tree/tree.js'
import { checkDescription, checkUpgradePolicy, updateNamespaceInfo } from '../model/namespace-info.js'
import type { NamespaceReplica } from '../replica/replica.js'
import { fsError } from '../vfs/errors.js'
import type { XattrSetMode } from '../vfs/handler.js'
import { checkUserXattr } from '../handlers/xattr-map.js'
import { changeTree } from './tree-change.js'

const ROOT = TreeDoc.ROOT

/** User xattrs live in tree metadata under this prefix (keys are limited to 64 bytes). */
const XATTR_PREFIX = 'x.'
const XATTR_NAME_MAX = 64 - XATTR_PREFIX.length
/** Stored base64: 1024 characters hold 768 bytes. */
const XATTR_ENCODED_MAX = 1024

/** Attributes meshfs shows on every node; the writable ones are on the namespace root. */
const ATTR = {
  id: 'user.meshfs.id',
  kind: 'user.meshfs.kind',
  alias: 'user.meshfs.alias',
  application: 'user.meshfs.application',
  policy: 'user.meshfs.upgrade_policy',
  description: 'user.meshfs.description',
} as const

export class NamespaceXattrs {
  /** `requireAdmin` throws EACCES unless this node may change the namespace itself. */
  constructor(
    private readonly replica: NamespaceReplica,
    private readonly requireAdmin?: (what: string) => void,
  ) {}

  get(node: TreeNode, name: string): Buffer {
    const shown = this.shown(node)
    if (Object.hasOwn(shown, name)) return Buffer.from(shown[name]!)
    const stored = name.startsWith('user.') ? node.meta[XATTR_PREFIX + name.slice(5)] : undefined
    if (stored === undefined) throw fsError('ENODATA', `no attribute ${name}`)
    return Buffer.from(stored, 'base64')
  }

  list(node: TreeNode): string[] {
    const stored = Object.keys(node.meta)
      .filter((k) => k.startsWith(XATTR_PREFIX))
      .map((k) => `user.${k.slice(XATTR_PREFIX.length)}`)
    return [...Object.keys(this.shown(node)), ...stored]
  }

  /** `path` names the node in errors. */
  set(node: TreeNode, path: string, name: string, value: Buffer, mode: XattrSetMode): void {
    if (name === ATTR.policy || name === ATTR.description) return this.setNamespaceInfo(node, path, name, value, mode)
    if (name.startsWith('user.meshfs.')) throw fsError('EPERM', `${name} is read-only`)
    checkUserXattr(name)
    const key = name.slice(5)
    if (Buffer.byteLength(key) > XATTR_NAME_MAX) throw fsError('ERANGE', `attribute names here are limited to ${XATTR_NAME_MAX + 5} bytes`)
    const encoded = value.toString('base64')
    if (encoded.length > XATTR_ENCODED_MAX) throw fsError('E2BIG', 'attribute values here are limited to 768 bytes')
    const exists = node.meta[XATTR_PREFIX + key] !== undefined
    if (mode === 'create' && exists) throw fsError('EEXIST', `attribute ${name} exists`)
    if (mode === 'replace' && !exists) throw fsError('ENODATA', `no attribute ${name}`)
    changeTree(this.replica, path, (t) => t.setMeta(node.id, XATTR_PREFIX + key, encoded))
  }

  remove(node: TreeNode, path: string, name: string): void {
    if (name.startsWith('user.meshfs.')) throw fsError('EPERM', `${name} cannot be removed`)
    const key = XATTR_PREFIX + name.slice(5)
    if (!name.startsWith('user.') || node.meta[key] === undefined) throw fsError('ENODATA', `no attribute ${name}`)
    changeTree(this.replica, path, (t) => t.setMeta(node.id, key, undefined))
  }

  private setNamespaceInfo(node: TreeNode, path: string, name: string, value: Buffer, mode: XattrSetMode): void {
    if (node.id !== ROOT) throw fsError('ENOTSUP', `${name} belongs to the namespace root`)
    this.requireAdmin?.(`change ${name}`)
    if (mode === 'create') throw fsError('EEXIST', `${name} exists`)
    const text = value.toString('utf8')
    changeTree(this.replica, path, () =>
      updateNamespaceInfo(
        this.replica.doc,
        name === ATTR.policy ? { upgradePolicy: checkUpgradePolicy(text) } : { description: checkDescription(text) },
      ),
    )
  }

  private shown(node: TreeNode): Record<string, string> {
    const kind = node.id === ROOT ? 'namespace' : node.kind === 'file' ? 'resource' : node.kind
    const attrs: Record<string, string> = {
      [ATTR.id]: node.id === ROOT ? this.replica.id : node.id,
      [ATTR.kind]: kind,
    }
    if (node.id === ROOT) {
      const info = this.replica.info
      attrs[ATTR.alias] = info.alias
      attrs[ATTR.application] = info.application
      attrs[ATTR.policy] = info.upgradePolicy
      attrs[ATTR.description] = info.description
    }
    return attrs
  }
}
