// A namespace's own description, replicated with its tree in the same Y.Doc (map `ns`), so a
// node that joins learns the alias, application and policy with the first sync (Calimero's
// create_namespace(application_id, upgrade_policy, alias)).

import type * as Y from 'yjs'
import { TreeError } from './errors.js'

export const UPGRADE_POLICIES = ['automatic', 'lazy-on-access', 'coordinated'] as const
export type UpgradePolicy = (typeof UPGRADE_POLICIES)[number]

export interface NamespaceInfo {
  id: string
  alias: string
  application: string
  upgradePolicy: UpgradePolicy
  description: string
  /** Unix ms when the namespace was created. */
  createdMs: number
}

export function isUpgradePolicy(v: unknown): v is UpgradePolicy {
  return typeof v === 'string' && (UPGRADE_POLICIES as readonly string[]).includes(v)
}

export function checkUpgradePolicy(v: unknown): UpgradePolicy {
  if (!isUpgradePolicy(v)) throw new TreeError('EINVAL', `unknown upgrade policy ${JSON.stringify(v)} (known: ${UPGRADE_POLICIES.join(', ')})`)
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
  })
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
  return {
    id,
    alias: String(m.get('alias') ?? id),
    application: String(m.get('app') ?? 'files'),
    // A peer may have written a policy this version does not know; show it as the default.
    upgradePolicy: isUpgradePolicy(policy) ? policy : 'lazy-on-access',
    description: String(m.get('desc') ?? ''),
    createdMs: typeof created === 'number' ? created : 0,
  }
}
