// A namespace's own description, replicated with its tree in the same Y.Doc (map `ns`), so a
// node that joins learns the alias, application and policy with the first sync (Calimero's
// create_namespace(application_id, upgrade_policy, alias)).
//
// Namespaces nest (`team/design`): a child records its parent's id and its path from the top of
// the tree, fixed at creation, so every node mounts it at the same place, also a node that holds
// the child but not the parent. (Docs written by earlier versions also hold a map `subns` in
// the parent, listing its children; nothing reads it, and it is no longer written.)
//
// The creator is the namespace's first admin, and that must not be forgeable by a peer that
// rewrites this map: a namespace id is derived from the creator's key and a nonce, and a reader
// believes the recorded creator only if the two hash to the id it knows the namespace by.

import { createHash } from 'node:crypto'
import type * as Y from 'yjs'
import type { NamespaceInfo, UpgradePolicy as ApiUpgradePolicy } from '../api/wire.js'
import { TreeError } from './tree/errors.js'
import { isValidName } from './names.js'

export const UPGRADE_POLICIES = ['automatic', 'lazy-on-access', 'coordinated'] as const
export type UpgradePolicy = (typeof UPGRADE_POLICIES)[number] & ApiUpgradePolicy

/** What the tree doc records of a namespace: the control API's wire type (api/wire.ts). */
export type { NamespaceInfo }

export function isUpgradePolicy(v: unknown): v is UpgradePolicy {
  return typeof v === 'string' && (UPGRADE_POLICIES as readonly string[]).includes(v)
}

export function checkUpgradePolicy(v: unknown): UpgradePolicy {
  if (!isUpgradePolicy(v))
    throw new TreeError('EINVAL', `unknown upgrade policy ${JSON.stringify(v)} (known: ${UPGRADE_POLICIES.join(', ')})`)
  return v
}

/** Application ids are short identifiers: letters, digits, '.', '_', '-'. */
export function checkApplication(v: unknown): string {
  if (typeof v !== 'string' || !/^[A-Za-z0-9._-]{1,128}$/.test(v)) {
    throw new TreeError('EINVAL', `bad application id ${JSON.stringify(v)}: use 1-128 letters, digits, '.', '_' or '-'`)
  }
  return v
}

export function checkDescription(v: unknown): string {
  if (typeof v !== 'string' || Buffer.byteLength(v) > 1024 || v.includes('\0')) {
    throw new TreeError('EINVAL', 'a description is text of at most 1024 bytes, without NUL')
  }
  return v
}

function map(doc: Y.Doc): Y.Map<unknown> {
  return doc.getMap('ns')
}

export function writeNamespaceInfo(doc: Y.Doc, info: NamespaceInfo): void {
  doc.transact(() => {
    const m = map(doc)
    m.set('id', info.id)
    m.set('alias', info.alias)
    m.set('app', info.application)
    m.set('policy', info.upgradePolicy)
    m.set('desc', info.description)
    m.set('created', info.createdMs)
    if (info.parentId) m.set('parent', info.parentId)
    m.set('path', info.path ?? info.alias)
  })
}

/** The id of a namespace created by `creator` with `nonce`: a hex half of a SHA-256. */
export function namespaceIdFor(creator: string, nonce: string): string {
  return createHash('sha256').update(`meshfs-namespace-v1\n${creator}\n${nonce}`).digest('hex').slice(0, 32)
}

/** Record who created the namespace, with the nonce its id was derived from. */
export function writeOrigin(doc: Y.Doc, creator: string, nonce: string): void {
  doc.transact(() => {
    map(doc).set('creator', creator)
    map(doc).set('nonce', nonce)
  })
}

/** The creator's key, if the recorded creator and nonce hash to `namespaceId` (the id this node knows). */
export function verifiedCreator(doc: Y.Doc, namespaceId: string): string | undefined {
  const creator = map(doc).get('creator')
  const nonce = map(doc).get('nonce')
  if (typeof creator !== 'string' || typeof nonce !== 'string') return undefined
  return namespaceIdFor(creator, nonce) === namespaceId ? creator : undefined
}

export function updateNamespaceInfo(doc: Y.Doc, changes: Partial<Pick<NamespaceInfo, 'alias' | 'upgradePolicy' | 'description'>>): void {
  doc.transact(() => {
    const m = map(doc)
    if (changes.alias !== undefined) m.set('alias', changes.alias)
    if (changes.upgradePolicy !== undefined) m.set('policy', checkUpgradePolicy(changes.upgradePolicy))
    if (changes.description !== undefined) m.set('desc', checkDescription(changes.description))
  })
}

/** The info as stored; undefined until the doc holds one (a replica not yet synced). */
export function readNamespaceInfo(doc: Y.Doc): NamespaceInfo | undefined {
  const m = map(doc)
  const id = m.get('id')
  if (typeof id !== 'string') return undefined
  const policy = m.get('policy')
  const created = m.get('created')
  const parent = m.get('parent')
  const alias = String(m.get('alias') ?? id)
  const path = m.get('path')
  return {
    id,
    alias,
    application: String(m.get('app') ?? 'files'),
    // A peer may have written a policy this version does not know; show it as the default.
    upgradePolicy: isUpgradePolicy(policy) ? policy : 'lazy-on-access',
    description: String(m.get('desc') ?? ''),
    createdMs: typeof created === 'number' ? created : 0,
    parentId: typeof parent === 'string' ? parent : null,
    // A path a peer wrote must still be a path of plain names; anything else mounts at the alias.
    path: typeof path === 'string' && path.split('/').every(isValidName) ? path : alias,
  }
}
