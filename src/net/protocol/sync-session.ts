// One peer session of the sync protocol, after the handshake, as pure code in the spirit of
// y-protocols' sync.js: messages in (`receive`), messages out (`send`), no socket and no timer.
// - Sharing: a namespace is shared when both sides hold it and the peer is a member of it; a
//   stranger learns none of this node's namespaces. A namespace that stops being shared is
//   remembered as dropped, so its messages still in flight are ignored rather than an error.
// - y-sync per doc of every shared namespace: step 1 (state vector) is answered with step 2
//   (what the other lacks) and a step 1 of our own if we did not send one, so both converge;
//   updates stored locally are pushed as they are (`push`).
// - Blobs: after a tree change, the blobs the namespace refers to and this node lacks are asked
//   of the peer (blobWant); a blob answers only a want and must match its hash.
// What is not y-sync (agent infos, notify, joined, error) goes to the hooks.

import { createHash } from 'node:crypto'
import type { SignedAgentInfo } from '../peers/agent-info.js'
import { SYNC_STEP1, SYNC_STEP2, SYNC_UPDATE, type PeerMessage } from './peer-messages.js'
import type { SyncHost, SyncReplica } from './sync-host.js'

/** The peer broke the protocol: the connection is closed with `code` (a WebSocket close code). */
export class SessionClose extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message)
  }
}

export interface SessionHooks {
  /** `ns` became shared with the peer (its docs were offered). */
  startedSharing(ns: string): void
  /** The set of shared namespaces shrank. */
  stoppedSharing(): void
  /** The peer answered our state vector of `ns`'s tree: we hold all of it the peer held. */
  reconciled(ns: string): void
  agentInfos(ns: string, infos: SignedAgentInfo[]): void
  notify(ns: string, data: string): void
  /** The peer we redeemed an invitation with admitted us to `ns` (already recorded by the host). */
  joined(ns: string): void
  error(code: string, message: string): void
}

export interface SessionOptions {
  host: SyncHost
  peerKey: string
  send: (m: PeerMessage) => void
  hooks: SessionHooks
  /** Set when this node dialed the peer: only then may the peer say we joined. */
  dialedUrl?: string
}

export class SyncSession {
  /** Namespaces both sides hold and the peer may have. */
  readonly shared = new Set<string>()
  /** Namespaces shared once and no longer: their messages still in flight are ignored, not an error. */
  readonly dropped = new Set<string>()
  /** Blobs asked of this peer and not received yet, with the namespace they are for. */
  readonly wanted = new Map<string, string>()
  private peerNamespaces = new Set<string>()
  private readonly sentStep1 = new Set<string>()
  private readonly host: SyncHost
  readonly peerKey: string

  constructor(private readonly opts: SessionOptions) {
    this.host = opts.host
    this.peerKey = opts.peerKey
  }

  /** The namespaces this node holds that the peer is a member of: a stranger learns none. */
  announce(): void {
    this.opts.send({ type: 'namespaces', ids: this.host.namespaceIds().filter((ns) => this.host.isMember(ns, this.peerKey)) })
  }

  /** Stop sharing `ns` (the peer is no longer a member) and tell the peer so. */
  unshare(ns: string): void {
    this.drop(ns)
    this.announce()
  }

  /** Stop sharing `ns` without telling (the caller announces). */
  drop(ns: string): void {
    if (!this.shared.delete(ns)) return
    this.dropped.add(ns)
    this.opts.hooks.stoppedSharing()
  }

  /** Re-offer every doc of every shared namespace (a new session starts so; periodic gossip too). */
  reconcile(): void {
    this.sentStep1.clear()
    for (const ns of this.shared) this.offer(ns)
  }

  /** A change of `ns` stored locally (by this node or another peer `from`): pass it on. */
  push(ns: string, docKey: string, update: Uint8Array, from: unknown): void {
    if (!this.shared.has(ns)) return
    // The members live in the tree doc: a change there may have ended the peer's membership.
    if (docKey === 'tree' && !this.host.isMember(ns, this.peerKey)) this.unshare(ns)
    else if (from !== this) this.opts.send({ type: 'sync', ns, docKey, kind: SYNC_UPDATE, payload: update })
  }

  receive(m: PeerMessage): void {
    switch (m.type) {
      case 'namespaces':
        return this.namespaces(m.ids)
      case 'sync':
        return this.sync(m.ns, m.docKey, m.kind, m.payload)
      case 'blobWant': {
        const ns = [...this.shared].find((n) => this.host.blobIn(n, m.hash))
        const bytes = ns ? this.host.getBlob(m.hash) : undefined
        if (bytes) this.opts.send({ type: 'blob', hash: m.hash, bytes })
        return
      }
      case 'blob':
        return this.blob(m.hash, m.bytes)
      case 'joined':
        if (!this.opts.dialedUrl) throw new SessionClose(4400, 'unexpected joined message')
        this.host.joined(m.ns, this.peerKey, this.opts.dialedUrl)
        this.opts.hooks.joined(m.ns)
        this.announce()
        return
      case 'error':
        return this.opts.hooks.error(m.code, m.message)
      case 'agentInfos':
        // Infos of a namespace not shared with this peer are not its to tell (or arrive after
        // this node dropped the namespace): the hook ignores them.
        return this.opts.hooks.agentInfos(m.ns, m.infos)
      case 'notify':
        return this.opts.hooks.notify(m.ns, m.data)
    }
  }

  private namespaces(ids: string[]): void {
    this.peerNamespaces = new Set(ids)
    for (const ns of [...this.shared]) if (!this.peerNamespaces.has(ns)) this.drop(ns)
    for (const ns of this.host.namespaceIds()) {
      if (this.shared.has(ns) || !this.peerNamespaces.has(ns) || !this.host.isMember(ns, this.peerKey)) continue
      this.shared.add(ns)
      this.dropped.delete(ns)
      this.offer(ns)
      this.opts.hooks.startedSharing(ns)
    }
  }

  private sync(ns: string, docKey: string, kind: 0 | 1 | 2, payload: Uint8Array): void {
    if (!this.shared.has(ns)) {
      if (this.dropped.has(ns)) return
      throw new SessionClose(4403, `sync of namespace ${ns}, which is not shared with this peer`)
    }
    const replica = this.host.replica(ns)!
    if (kind === SYNC_STEP1) {
      this.opts.send({ type: 'sync', ns, docKey, kind: SYNC_STEP2, payload: replica.diff(docKey, payload) })
      if (!this.sentStep1.has(`${ns}/${docKey}`)) this.step1(ns, docKey, replica)
      return
    }
    const changed = replica.applyRemote(docKey, payload, this)
    if (docKey !== 'tree') return
    if (kind !== SYNC_STEP2) {
      if (changed) this.fetchMissing(ns)
      return
    }
    // The answer to our state vector of the tree: we now hold all of it the peer held. Blobs
    // still missing are asked for again, also those asked before: a session after a cut must
    // ask for what the old one never got although the tree did not change, and a peer that
    // lacked a blob when first asked may hold it by now.
    this.fetchMissing(ns, true)
    this.opts.hooks.reconciled(ns)
  }

  private blob(hash: string, bytes: Uint8Array): void {
    if (!this.wanted.delete(hash)) {
      // Asked twice (see `sync`), the peer may answer twice: a blob this node holds is harmless.
      if (this.host.getBlob(hash)) return
      throw new SessionClose(4400, `unrequested blob ${hash}`)
    }
    if (createHash('sha256').update(bytes).digest('hex') !== hash) throw new SessionClose(4400, `blob ${hash} does not match its hash`)
    this.host.putBlob(bytes)
    // A manifest that arrived names chunks that may be missing now.
    for (const ns of this.shared) this.fetchMissing(ns)
  }

  private offer(ns: string): void {
    const replica = this.host.replica(ns)
    if (!replica) return
    for (const docKey of replica.docKeys()) this.step1(ns, docKey, replica)
  }

  private step1(ns: string, docKey: string, replica: SyncReplica): void {
    this.sentStep1.add(`${ns}/${docKey}`)
    this.opts.send({ type: 'sync', ns, docKey, kind: SYNC_STEP1, payload: replica.stateVector(docKey) })
  }

  private fetchMissing(ns: string, again = false): void {
    for (const hash of this.host.missingBlobs(ns)) {
      if (this.wanted.has(hash) && !again) continue
      this.wanted.set(hash, ns)
      this.opts.send({ type: 'blobWant', hash })
    }
  }
}
