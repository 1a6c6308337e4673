// The TypeScript client of a running meshfs daemon: the local control API over the Unix socket
// in its data directory, one method per verb of the contract (api/verbs.ts). Errors come back as
// MeshfsError with the daemon's code and message.

import type { NamespaceEvent } from '../api/events.js'
import type { ClientTokenRequest, CreateNamespaceRequest, EnableSyncTargetRequest, InvitationRequest } from '../api/verbs.js'
import type {
  ClientToken,
  GroupInfo,
  LeaveResult,
  MemberRecord,
  MountInfo,
  NamespaceIdentityInfo,
  NamespaceInfo,
  NodeStatus,
  PeerView,
  PendingNamespace,
  Role,
  SyncConfiguration,
  SyncType,
  TransferView,
} from '../api/wire.js'
import { call, stream } from './transport.js'

export interface ConnectOptions {
  /** The daemon's data directory; its control socket is `control.sock` inside. */
  dataDir: string
}

export type CreateNamespaceOptions = Omit<CreateNamespaceRequest, 'alias' | 'application'> & { alias?: string }
export type InvitationOptions = Omit<InvitationRequest, 'namespace'>
export type ClientTokenOptions = Omit<ClientTokenRequest, 'namespace'>
export type EnableSyncTargetOptions = Pick<EnableSyncTargetRequest, 'targetNamespace' | 'group'>

/** A typed client of one daemon; methods mirror the seeds' verbs. */
export class MeshfsClient {
  constructor(readonly dataDir: string) {}

  createNamespace(application: string, opts: CreateNamespaceOptions & { alias: string }): Promise<NamespaceInfo> {
    return call(this.dataDir, 'createNamespace', { application, ...opts })
  }

  getNamespace(namespace: string): Promise<NamespaceInfo> {
    return call(this.dataDir, 'getNamespace', { namespace })
  }

  listNamespaces(): Promise<NamespaceInfo[]> {
    return call(this.dataDir, 'listNamespaces', {})
  }

  listNamespacesForApplication(application: string): Promise<NamespaceInfo[]> {
    return call(this.dataDir, 'listNamespacesForApplication', { application })
  }

  /** Irreversible. Without `force` the namespace must be empty. */
  deleteNamespace(namespace: string, opts: { force?: boolean } = {}): Promise<NamespaceInfo> {
    return call(this.dataDir, 'deleteNamespace', { namespace, force: opts.force ?? false })
  }

  /** This node's identity in a namespace: its key, role and when it joined. */
  getNamespaceIdentity(namespace: string): Promise<NamespaceIdentityInfo> {
    return call(this.dataDir, 'getNamespaceIdentity', { namespace })
  }

  /** The namespace's members as this node believes them (signed grants only), left ones too. */
  listMembers(namespace: string): Promise<MemberRecord[]> {
    return call(this.dataDir, 'listMembers', { namespace })
  }

  /** Admins only: set a member's role. `member` is its public key (or a unique prefix of 6+ characters). */
  grantRole(namespace: string, member: string, role: Role): Promise<MemberRecord> {
    return call(this.dataDir, 'grantRole', { namespace, member, role })
  }

  /**
   * Leave a namespace (and those nested in it): a tombstone goes to the peers, then the namespace
   * is dropped from this node. The last admin must grant admin first, unless `force`.
   */
  leaveNamespace(namespace: string, opts: { force?: boolean } = {}): Promise<LeaveResult> {
    return call(this.dataDir, 'leaveNamespace', { namespace, force: opts.force ?? false })
  }

  listNamespaceGroups(namespace: string): Promise<GroupInfo[]> {
    return call(this.dataDir, 'listNamespaceGroups', { namespace })
  }

  /** `path` inside the namespace, e.g. `design` or `design/icons`. */
  createGroupInNamespace(namespace: string, path: string): Promise<GroupInfo> {
    return call(this.dataDir, 'createGroupInNamespace', { namespace, path })
  }

  nestGroup(namespace: string, parent: string, child: string): Promise<GroupInfo> {
    return call(this.dataDir, 'nestGroup', { namespace, parent, child })
  }

  unnestGroup(namespace: string, group: string): Promise<GroupInfo> {
    return call(this.dataDir, 'unnestGroup', { namespace, group })
  }

  listSubgroups(namespace: string, group: string): Promise<GroupInfo[]> {
    return call(this.dataDir, 'listSubgroups', { namespace, group })
  }

  /** A signed token another node redeems with joinNamespace. */
  async createNamespaceInvitation(namespace: string, opts: InvitationOptions = {}): Promise<string> {
    return (await call(this.dataDir, 'createNamespaceInvitation', { namespace, ...opts })).token
  }

  /**
   * The namespace's events as they happen (put, remove, move, member-joined, member-left, notify,
   * sync), the same stream as `MOUNT/.meshfs/ns/NS/events`. Resolves once subscribed (nothing
   * after that is missed); an unknown namespace rejects. Stop with `break` or `return()`.
   */
  subscribeNamespace(namespace: string): Promise<AsyncIterableIterator<NamespaceEvent>> {
    return stream(this.dataDir, 'subscribeNamespace', { namespace })
  }

  /**
   * A bearer token for stock Yjs clients (y-websocket) opening rooms of `namespace` on this node:
   * `ws://URL/NAMESPACE_ID/RESOURCE_ID?token=TOKEN`. No expiry unless `expires` is given.
   */
  createClientToken(namespace: string, opts: ClientTokenOptions = {}): Promise<ClientToken> {
    return call(this.dataDir, 'createClientToken', { namespace, ...opts })
  }

  /**
   * Redeem an invitation: connect to the inviter, prove this node's key, sync, mount. Answers
   * `{id, pending: true}` when the namespace's first sync has not arrived within 10 s.
   */
  joinNamespace(token: string): Promise<NamespaceInfo | PendingNamespace> {
    return call(this.dataDir, 'joinNamespace', { token })
  }

  /** The same document as `.meshfs/status`. */
  status(): Promise<NodeStatus> {
    return call(this.dataDir, 'status', {})
  }

  /** The handlers of the mount's tree: where each is mounted, its kind and what it serves (`.meshfs/mounts`). */
  listMounts(): Promise<MountInfo[]> {
    return call(this.dataDir, 'listMounts', {})
  }

  /** The members of `namespace` this node knows of, with what it observed of each. */
  getPeers(namespace: string): Promise<PeerView[]> {
    return call(this.dataDir, 'getPeers', { namespace })
  }

  /**
   * The binary versions of `namespace` still arriving on this node: path, bytes here of the
   * total, the peers asked (what `.meshfs/ns/NS/transfers` shows).
   */
  getTransfers(namespace: string): Promise<TransferView[]> {
    return call(this.dataDir, 'getTransfers', { namespace })
  }

  /**
   * send_notify: hand `data` (a string of at most 64 KiB) to member `peer` (its key or a unique
   * prefix) over its live connection; it appears on that node's events stream of `namespace`.
   * Resolves with the peer's full key once the message is sent (not when it arrived).
   */
  async notify(namespace: string, peer: string, data: string): Promise<string> {
    return (await call(this.dataDir, 'notify', { namespace, peer, data })).peer
  }

  /** Hoss's get_sync_configuration: the namespace's sync targets (what `.meshfs/ns/NS/sync.json` shows). */
  getSyncConfiguration(namespace: string): Promise<SyncConfiguration> {
    return call(this.dataDir, 'getSyncConfiguration', { namespace })
  }

  /**
   * Hoss's enable_sync_target: mirror `namespace` into a target namespace at `targetUrl` (a node's
   * ws:// URL, or `local` for this node). Admins only; a remote target namespace must be joined first.
   */
  enableSyncTarget(
    namespace: string,
    targetUrl: string,
    syncType: SyncType,
    opts: EnableSyncTargetOptions = {},
  ): Promise<SyncConfiguration> {
    return call(this.dataDir, 'enableSyncTarget', { namespace, targetUrl, syncType, ...opts })
  }

  /** Hoss's disable_sync_target; with `group`, turns mirroring off for that group only. */
  disableSyncTarget(
    namespace: string,
    targetUrl: string,
    targetNamespace: string,
    opts: { group?: string } = {},
  ): Promise<SyncConfiguration> {
    return call(this.dataDir, 'disableSyncTarget', { namespace, targetUrl, targetNamespace, ...opts })
  }
}

export function connect(opts: ConnectOptions): MeshfsClient {
  return new MeshfsClient(opts.dataDir)
}
