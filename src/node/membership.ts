// Who belongs to the namespaces this node holds, as each namespace's signed member list says
// (model/members.ts): this node's own identity and role in one, roles granted by an admin, new
// members admitted, and leaving. Admin-only verbs are checked here.

import type { NamespaceIdentityInfo } from '../api/wire.js'
import { grantRole, markLeft, MemberList, type Member as MemberRecord } from '../model/members.js'
import { verifiedCreator } from '../model/namespace-info.js'
import { verify, type Signer } from '../net/trust/identity.js'
import type { NamespaceReplica } from '../replica/replica.js'
import type { MetaStore } from '../store/meta-store.js'
import type { Logger } from '../util/log.js'
import { fsError } from '../vfs/errors.js'
import { pathOf, type HeldNamespace, type NamespaceRegistry } from './registry.js'

export type { MemberRecord }

/** Calimero's get_namespace_identity, as the control API sends it (api/wire.ts). */
export type { NamespaceIdentityInfo }

/** Member records are checked with the node keys' ed25519 signatures. */
const verifyRecord = (key: string, bytes: Uint8Array, sig: Uint8Array) => verify(key, bytes, sig)

/** The node that admitted this one to a namespace, until the namespace's member list arrives. */
const inviterKey = (ns: string) => ['inviter', ns]

export class Membership {
  constructor(
    private readonly registry: NamespaceRegistry,
    private readonly identity: Signer,
    private readonly meta: MetaStore,
    private readonly log: Logger,
  ) {}

  /** Every member record this node believes (signed by someone allowed to), left ones too. */
  listOf(replica: NamespaceReplica): MemberList {
    return MemberList.read(replica.doc, replica.id, verifyRecord)
  }

  identityIn({ replica }: HeldNamespace): NamespaceIdentityInfo {
    const me = this.listOf(replica).get(this.identity.publicKey)
    const current = me !== undefined && me.leftMs === undefined
    return {
      namespace: replica.id,
      path: pathOf(replica.info),
      publicKey: this.identity.publicKey,
      role: current ? me.role : null,
      joinedMs: current ? me.joinedMs : null,
    }
  }

  /** The namespace's creator grants itself admin as the namespace's first record. */
  grantCreator(replica: NamespaceReplica, atMs: number): void {
    grantRole(replica.doc, replica.id, this.identity, this.identity.publicKey, 'admin', atMs)
  }

  /** An admin sets a current member's role (`admin` or `member`). */
  grant(held: HeldNamespace, memberRef: string, role: string): MemberRecord {
    if (role !== 'admin' && role !== 'member') throw fsError('EINVAL', `unknown role ${JSON.stringify(role)}: use admin or member`)
    const { replica } = held
    const path = pathOf(replica.info)
    this.requireAdmin(held, 'grant roles')
    const list = this.listOf(replica)
    const matches = list.current().filter((m) => m.publicKey === memberRef || (memberRef.length >= 6 && m.publicKey.startsWith(memberRef)))
    if (matches.length === 0)
      throw fsError('ENOENT', `no current member ${memberRef} in namespace ${path} (see: meshfs ns members ${path})`)
    if (matches.length > 1) throw fsError('EINVAL', `${memberRef} matches ${matches.length} members of ${path}: give more of the key`)
    const target = matches[0]!
    if (role === 'member' && target.publicKey === verifiedCreator(replica.doc, replica.id)) {
      throw fsError('EPERM', `${target.publicKey} created namespace ${path} and stays an admin while a member`)
    }
    if (role === 'member' && target.role === 'admin' && list.current().filter((m) => m.role === 'admin').length === 1) {
      throw fsError('EPERM', `${target.publicKey} is the last admin of namespace ${path}: grant admin to another member first`)
    }
    replica.change(() => grantRole(replica.doc, replica.id, this.identity, target.publicKey, role))
    const after = this.listOf(replica).get(target.publicKey)!
    this.log.info(`namespace ${path}: ${target.publicKey.slice(0, 8)} is now ${role}`)
    return after
  }

  requireAdmin({ replica }: HeldNamespace, what: string): void {
    const list = this.listOf(replica)
    const me = this.identity.publicKey
    if (list.isAdmin(me)) return
    const path = pathOf(replica.info)
    throw fsError(
      'EACCES',
      `only an admin of namespace ${path} may ${what}; this node is ${list.isMember(me) ? 'a member' : 'not a member'} (an admin can run: meshfs ns grant ${path} ${me} admin)`,
    )
  }

  /**
   * The first half of leaving `held` (and the namespaces nested in it that this node holds): a
   * signed tombstone in each, stored and so pushed to the peers sharing it. Refused for the last
   * admin while others remain, unless `force`. Returns the ids to `finishLeave` once the peers
   * had a chance to receive it.
   */
  beginLeave(held: HeldNamespace, force: boolean): string[] {
    const all = [...this.registry.descendantsOf(held.replica.id), held]
    const me = this.identity.publicKey
    for (const { replica } of all) {
      const list = this.listOf(replica)
      const admins = list.current().filter((m) => m.role === 'admin')
      if (!force && list.isAdmin(me) && admins.length === 1 && list.current().length > 1) {
        throw fsError(
          'EPERM',
          `this node is the last admin of namespace ${pathOf(replica.info)}, which has other members: grant admin to one of them first (meshfs ns grant ${pathOf(replica.info)} KEY admin), or leave with --force`,
        )
      }
    }
    for (const { replica } of all) {
      if (this.listOf(replica).isMember(me)) replica.change(() => markLeft(replica.doc, replica.id, this.identity))
    }
    return all.map((m) => m.replica.id)
  }

  /** The second half of leaving: drop the namespaces from this node. */
  finishLeave(ids: string[]): void {
    for (const id of ids) {
      const held = this.registry.byId(id)
      if (!held) continue
      const path = pathOf(held.replica.info)
      this.registry.drop(held)
      this.log.info(`left namespace ${path} (${id})`)
    }
  }

  /** May `publicKey` receive and write namespace `ns`? */
  isMember(ns: string, publicKey: string): boolean {
    const replica = this.registry.replica(ns)
    if (!replica) return false
    const list = this.listOf(replica)
    // Before its first sync a joined namespace knows no members: trust the node that admitted us.
    if (list.size === 0) return this.meta.getMeta<string>(inviterKey(ns)) === publicKey
    return list.isMember(publicKey)
  }

  /** This node was admitted to `ns` by `inviter`. */
  recordInviter(ns: string, inviter: string): void {
    this.meta.setMeta(inviterKey(ns), inviter)
  }

  /** `publicKey` becomes a member of each of `into` where it is not yet and this node is one. */
  admit(into: HeldNamespace[], publicKey: string): void {
    for (const { replica } of into) {
      const list = this.listOf(replica)
      if (list.isMember(publicKey) || !list.isMember(this.identity.publicKey)) continue
      replica.change(() => grantRole(replica.doc, replica.id, this.identity, publicKey, 'member'))
    }
  }

  /** The held namespaces nested in `ns` that `publicKey` is a member of (a joiner learns of them with `ns`). */
  nestedIn(ns: string, publicKey: string): string[] {
    return this.registry
      .descendantsOf(ns)
      .reverse()
      .filter((m) => this.listOf(m.replica).isMember(publicKey))
      .map((m) => m.replica.id)
  }
}
