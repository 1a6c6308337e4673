// Invitations to the namespaces this node holds (Calimero's create_namespace_invitation): signed
// by this node, and redeemed here by a peer, which then becomes a member. A token's uses are
// counted in the local store.

import { createInvitation, encodeToken, InvitationError, parseToken, verifyInvitation } from '../net/trust/invitation.js'
import type { Signer } from '../net/trust/identity.js'
import type { MetaStore } from '../store/meta-store.js'
import type { Membership } from './membership.js'
import type { HeldNamespace, NamespaceRegistry } from './registry.js'

export interface InvitationOptions {
  /** Where the invitation is redeemed: this node's URLs. */
  addresses: string[]
  /** Also admit to the namespaces nested in it that this node holds. */
  recursive: boolean
  expiresAtMs: number
  uses: number
}

const usesKey = (nonce: string) => ['invite-uses', nonce]

export class Invitations {
  constructor(
    private readonly registry: NamespaceRegistry,
    private readonly membership: Membership,
    private readonly identity: Signer,
    private readonly meta: MetaStore,
  ) {}

  create({ replica }: HeldNamespace, opts: InvitationOptions): string {
    return encodeToken(createInvitation({ namespaceId: replica.id, inviter: this.identity, ...opts }))
  }

  /**
   * Redeem an invitation: `publicKey` becomes a member of its namespace, and with a recursive
   * one also of every namespace nested in it that this node holds and is a member of.
   */
  admit(tokenText: string, publicKey: string): string {
    const token = parseToken(tokenText)
    const held = this.registry.byId(token.ns)
    verifyInvitation(token, {
      now: Date.now(),
      isKnownInviter: (pub) => held !== undefined && this.membership.listOf(held.replica).isMember(pub),
      usesSoFar: (nonce) => this.usesOf(nonce),
    })
    if (!held) throw new InvitationError('wrong-namespace', `this node does not hold namespace ${token.ns}`)
    this.meta.setMeta(usesKey(token.nonce), this.usesOf(token.nonce) + 1)
    this.membership.admit(token.recursive ? [held, ...this.registry.descendantsOf(token.ns)] : [held], publicKey)
    return token.ns
  }

  private usesOf(nonce: string): number {
    return this.meta.getMeta<number>(usesKey(nonce)) ?? 0
  }
}
