// The peer store (Kitsune2's): per namespace, the freshest verified agent info of each member.
// What enters it: a validly signed info whose agent is a member of its namespace (asked of the
// node), newer than the one held, and not expired. An info from a key this node does not know
// as a member yet waits in a small pending set, since gossip can outrun the membership change
// that admitted its agent; `promote` re-checks those. Expired infos leave on `expire`.
// Everything is bounded: infos per namespace, pending per namespace.

import { AgentInfoError, verifyAgentInfo, type SignedAgentInfo } from './agent-info.js'

export const MAX_INFOS_PER_NAMESPACE = 1024
export const MAX_PENDING_PER_NAMESPACE = 64

/** Where the store keeps its infos across restarts (the daemon's meta store). */
export interface PeerStorePersistence {
  load(): unknown
  save(value: unknown): void
}

export interface PeerStoreOptions {
  /** This node's key: infos about itself come from itself only. */
  selfKey: string
  isMember(ns: string, key: string): boolean
  persistence?: PeerStorePersistence
}

export type OfferResult = 'accepted' | 'stale' | 'pending' | 'full'

export class PeerStore {
  private readonly infos = new Map<string, Map<string, SignedAgentInfo>>()
  private readonly pending = new Map<string, Map<string, SignedAgentInfo>>()

  constructor(private readonly opts: PeerStoreOptions) {}

  /**
   * Load the persisted infos of the namespaces in `held`; anything that no longer verifies (or
   * expired while the node was down) is left out.
   */
  load(held: Set<string>, now: number): number {
    const saved = this.opts.persistence?.load() as { infos?: unknown } | undefined
    if (!saved || !Array.isArray(saved.infos)) return 0
    let n = 0
    for (const v of saved.infos) {
      try {
        const info = verifyAgentInfo(v, now)
        if (held.has(info.space) && info.agent !== this.opts.selfKey && this.place(info) === 'accepted') n++
      } catch (err) {
        if (!(err instanceof AgentInfoError)) throw err
      }
    }
    return n
  }

  /** Take in an info received from a peer; throws AgentInfoError when it does not verify. */
  offer(value: unknown, now: number): OfferResult {
    const info = verifyAgentInfo(value, now)
    if (info.agent === this.opts.selfKey) return 'stale'
    const result = this.place(info)
    if (result === 'accepted') this.save()
    return result
  }

  /** This node's own (freshly signed) info. */
  putOwn(info: SignedAgentInfo): void {
    this.space(info.space).set(info.agent, info)
    this.save()
  }

  get(ns: string, agent: string): SignedAgentInfo | undefined {
    return this.infos.get(ns)?.get(agent)
  }

  /** Every info held for `ns`, own and tombstones included: what is gossiped. */
  all(ns: string): SignedAgentInfo[] {
    return [...(this.infos.get(ns)?.values() ?? [])]
  }

  /** The other members of `ns` that announced themselves and have not left. */
  live(ns: string): SignedAgentInfo[] {
    return this.all(ns).filter((i) => !i.isTombstone && i.agent !== this.opts.selfKey)
  }

  namespaces(): string[] {
    return [...this.infos.keys()]
  }

  /** This node stopped holding `ns`: forget what it knew of it. */
  dropNamespace(ns: string): void {
    this.pending.delete(ns)
    if (this.infos.delete(ns)) this.save()
  }

  /** Remove expired infos (own ones too: the node re-signs before); returns them. */
  expire(now: number): SignedAgentInfo[] {
    const gone: SignedAgentInfo[] = []
    for (const map of [this.infos, this.pending]) {
      for (const [ns, space] of map) {
        for (const [agent, info] of space) {
          if (info.expiresAtMs > now) continue
          space.delete(agent)
          if (map === this.infos) gone.push(info)
        }
        if (space.size === 0) map.delete(ns)
      }
    }
    if (gone.length > 0) this.save()
    return gone
  }

  /** Move pending infos whose agents became members into the store; returns those accepted. */
  promote(): SignedAgentInfo[] {
    const accepted: SignedAgentInfo[] = []
    for (const [ns, space] of this.pending) {
      for (const [agent, info] of space) {
        if (!this.opts.isMember(ns, agent)) continue
        space.delete(agent)
        if (this.place(info) === 'accepted') accepted.push(info)
      }
      if (space.size === 0) this.pending.delete(ns)
    }
    if (accepted.length > 0) this.save()
    return accepted
  }

  private place(info: SignedAgentInfo): OfferResult {
    const held = this.infos.get(info.space)?.get(info.agent)
    if (held && held.createdAtMs >= info.createdAtMs) return 'stale'
    if (!this.opts.isMember(info.space, info.agent)) {
      const pending = this.pending.get(info.space) ?? new Map<string, SignedAgentInfo>()
      const waiting = pending.get(info.agent)
      if (waiting && waiting.createdAtMs >= info.createdAtMs) return 'stale'
      if (!waiting && pending.size >= MAX_PENDING_PER_NAMESPACE) return 'full'
      pending.set(info.agent, info)
      this.pending.set(info.space, pending)
      return 'pending'
    }
    const space = this.space(info.space)
    if (!held && space.size >= MAX_INFOS_PER_NAMESPACE) return 'full'
    space.set(info.agent, info)
    return 'accepted'
  }

  private space(ns: string): Map<string, SignedAgentInfo> {
    let space = this.infos.get(ns)
    if (!space) this.infos.set(ns, (space = new Map()))
    return space
  }

  private save(): void {
    this.opts.persistence?.save({ v: 1, infos: [...this.infos.values()].flatMap((s) => [...s.values()]) })
  }
}
