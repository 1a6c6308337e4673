// Who belongs to a namespace, replicated in its tree doc (map `members`): public key -> role, when
// they joined, who granted it; a member who leaves keeps a tombstone (`left`) so peers stop
// expecting it.
//
// Any member can write this map (a Y.Map takes whatever a peer's update says), so a record is
// believed only if it is signed:
// - a grant {role, joined, by, sig}: `by` signed [namespace, key, role, joined, by]. A reader
//   accepts it if `by` is the namespace's creator (verifiedCreator: derived from the namespace
//   id, unforgeable) or an accepted member, and an admin when the role is admin. Computed at
//   read time, from the creator outwards, so a member granting admin (to itself or another)
//   has no effect, and neither has a cycle of grants no admin started;
// - a tombstone {left, lsig}: the leaving member signed [namespace, key, left]. Nobody can mark
//   another member left.
// What this does not stop: a modified member's peer can overwrite or delete records (a Y.Map
// value is last-writer-wins), which makes the victim's record unreadable (denial, never
// escalation); and a member that left still holds a key whose earlier grants stay valid.
// Records are keyed by the node key: the node key is what the handshake proves, so it is also
// the node's identity in every namespace (see Namespaces.identity).

import type * as Y from 'yjs'
import { verifiedCreator } from './namespace-info.js'

export type Role = 'admin' | 'member'

export interface Member {
  publicKey: string
  role: Role
  joinedMs: number
  leftMs?: number
  /** The key that signed the grant (the creator granted itself). */
  grantedBy: string
}

/** Signs records: the node's identity. */
export interface RecordSigner {
  readonly publicKey: string
  sign(bytes: Uint8Array): Uint8Array
}

/** ed25519 verification of `sig` over `bytes` by `publicKey` (base64url); never throws. */
export type Verify = (publicKey: string, bytes: Uint8Array, sig: Uint8Array) => boolean

interface StoredRecord {
  role: Role
  joined: number
  by: string
  sig: string
  left?: number
  lsig?: string
}

function map(doc: Y.Doc): Y.Map<unknown> {
  return doc.getMap('members')
}

function grantBytes(ns: string, key: string, r: Pick<StoredRecord, 'role' | 'joined' | 'by'>): Uint8Array {
  return new TextEncoder().encode(`meshfs-member-v1\n${JSON.stringify([ns, key, r.role, r.joined, r.by])}`)
}

function leftBytes(ns: string, key: string, left: number): Uint8Array {
  return new TextEncoder().encode(`meshfs-left-v1\n${JSON.stringify([ns, key, left])}`)
}

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url')

function parse(v: unknown): StoredRecord | undefined {
  if (typeof v !== 'object' || v === null) return undefined
  const o = v as Record<string, unknown>
  if ((o.role !== 'admin' && o.role !== 'member') || typeof o.joined !== 'number' || typeof o.by !== 'string' || typeof o.sig !== 'string')
    return undefined
  const r: StoredRecord = { role: o.role, joined: o.joined, by: o.by, sig: o.sig }
  if (typeof o.left === 'number' && typeof o.lsig === 'string') {
    r.left = o.left
    r.lsig = o.lsig
  }
  return r
}

/**
 * `signer` grants `role` to `publicKey` (a new member, or a role change; `joined` is kept when
 * the key has a record). Whether the grant counts is decided by readers (MemberList).
 */
export function grantRole(doc: Y.Doc, ns: string, signer: RecordSigner, publicKey: string, role: Role, joinedMs = Date.now()): void {
  const before = parse(map(doc).get(publicKey))
  const joined = before && before.left === undefined ? before.joined : joinedMs
  const r = { role, joined, by: signer.publicKey }
  map(doc).set(publicKey, { ...r, sig: b64(signer.sign(grantBytes(ns, publicKey, r))) })
}

/** `signer` leaves: its own record gets a signed tombstone. */
export function markLeft(doc: Y.Doc, ns: string, signer: RecordSigner, leftMs = Date.now()): void {
  const before = parse(map(doc).get(signer.publicKey))
  if (!before) throw new Error(`${signer.publicKey} has no member record in namespace ${ns}`)
  map(doc).set(signer.publicKey, {
    role: before.role,
    joined: before.joined,
    by: before.by,
    sig: before.sig,
    left: leftMs,
    lsig: b64(signer.sign(leftBytes(ns, signer.publicKey, leftMs))),
  })
}

/** The members a reader believes, as of now. */
export class MemberList {
  private constructor(private readonly byKey: ReadonlyMap<string, Member>) {}

  /** Read (and verify) the members of namespace `ns` from its doc; cached until the doc's members or info change. */
  static read(doc: Y.Doc, ns: string, verify: Verify): MemberList {
    const cached = cache.get(doc)
    if (cached?.ns === ns) return cached.list
    if (!observed.has(doc)) {
      observed.add(doc)
      const drop = () => cache.delete(doc)
      map(doc).observe(drop)
      doc.getMap('ns').observe(drop)
    }
    const list = new MemberList(verifyAll(doc, ns, verify))
    cache.set(doc, { ns, list })
    return list
  }

  get(publicKey: string): Member | undefined {
    return this.byKey.get(publicKey)
  }

  /** Every believed record, left members included, by key. */
  all(): Member[] {
    return [...this.byKey.values()].sort((a, b) => (a.publicKey < b.publicKey ? -1 : 1))
  }

  /** Joined and not left. */
  current(): Member[] {
    return this.all().filter((m) => m.leftMs === undefined)
  }

  isMember(publicKey: string): boolean {
    const m = this.byKey.get(publicKey)
    return m !== undefined && m.leftMs === undefined
  }

  isAdmin(publicKey: string): boolean {
    return this.isMember(publicKey) && this.byKey.get(publicKey)!.role === 'admin'
  }

  get size(): number {
    return this.byKey.size
  }
}

const cache = new WeakMap<Y.Doc, { ns: string; list: MemberList }>()
const observed = new WeakSet<Y.Doc>()

/**
 * The least fixed point: start from the creator, accept every grant signed by an accepted key
 * allowed to make it, until nothing changes. A grant's granter may have left since: what it
 * granted while it could still stands (an admin hands over, then leaves).
 */
function verifyAll(doc: Y.Doc, ns: string, verify: Verify): Map<string, Member> {
  const accepted = new Map<string, Member>()
  const creator = verifiedCreator(doc, ns)
  if (creator === undefined) return accepted
  const pending = new Map<string, StoredRecord>()
  for (const [key, v] of map(doc)) {
    const r = parse(v)
    if (r) pending.set(key, r)
  }
  const roleOf = (key: string): Role | undefined => (key === creator ? 'admin' : accepted.get(key)?.role)
  let progress = true
  while (progress) {
    progress = false
    for (const [key, r] of pending) {
      const granter = roleOf(r.by)
      if (granter === undefined || (r.role === 'admin' && granter !== 'admin')) continue
      pending.delete(key)
      if (!verify(r.by, grantBytes(ns, key, r), Buffer.from(r.sig, 'base64url'))) continue
      // The creator stays admin whatever its record says: its role comes from the namespace id.
      const m: Member = { publicKey: key, role: key === creator ? 'admin' : r.role, joinedMs: r.joined, grantedBy: r.by }
      if (r.left !== undefined && verify(key, leftBytes(ns, key, r.left), Buffer.from(r.lsig!, 'base64url'))) m.leftMs = r.left
      accepted.set(key, m)
      progress = true
    }
  }
  return accepted
}
