// Who belongs to a namespace, replicated in its tree doc (map `members`): public key -> role and
// when they joined; a member who leaves keeps a tombstone (`left`) so peers stop expecting it.

import type * as Y from 'yjs'

export type Role = 'admin' | 'member'

export interface Member {
  publicKey: string
  role: Role
  joinedMs: number
  leftMs?: number
}

function map(doc: Y.Doc): Y.Map<unknown> {
  return doc.getMap('members')
}

export function addMember(doc: Y.Doc, publicKey: string, role: Role, joinedMs = Date.now()): void {
  map(doc).set(publicKey, { role, joined: joinedMs })
}

export function readMember(doc: Y.Doc, publicKey: string): Member | undefined {
  const v = map(doc).get(publicKey) as { role?: unknown; joined?: unknown; left?: unknown } | undefined
  if (!v || typeof v !== 'object') return undefined
  const member: Member = { publicKey, role: v.role === 'admin' ? 'admin' : 'member', joinedMs: typeof v.joined === 'number' ? v.joined : 0 }
  if (typeof v.left === 'number') member.leftMs = v.left
  return member
}

/** A current member (joined, not left). */
export function isMember(doc: Y.Doc, publicKey: string): boolean {
  const m = readMember(doc, publicKey)
  return m !== undefined && m.leftMs === undefined
}

export function listMembers(doc: Y.Doc): Member[] {
  return [...map(doc).keys()].sort().map((k) => readMember(doc, k)!).filter(Boolean)
}
