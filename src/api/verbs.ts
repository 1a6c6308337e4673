// The control API's verbs: for each, what the request body holds and what the answer is. The
// daemon's route table `satisfies` `Routes` below, so a verb missing there, or answering another
// type, does not compile; the client is typed by the same table.

import type { NamespaceEvent } from './events.js'
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
  UpgradePolicy,
} from './wire.js'

/** `notify`'s `data` is a string of at most this many bytes (UTF-8). */
export const MAX_NOTIFY_BYTES = 64 * 1024

type Namespace = { namespace: string }
type None = Record<string, never>

export interface CreateNamespaceRequest {
  alias: string
  application?: string
  upgradePolicy?: UpgradePolicy
  description?: string
}

export interface InvitationRequest extends Namespace {
  recursive?: boolean
  /** A duration: `90s`, `30m`, `1h`, `7d` (default 24 h). */
  expires?: string
  expiresAtMs?: number
  /** How many nodes may join with it (default 1). */
  uses?: number
}

export interface ClientTokenRequest extends Namespace {
  /** A duration: `90s`, `30m`, `1h`, `7d`; without it the token does not expire. */
  expires?: string
  /** The bearer may read rooms and share awareness, not edit. */
  readOnly?: boolean
}

export interface EnableSyncTargetRequest extends Namespace {
  targetUrl: string
  syncType: SyncType
  /** Alias or id of the target namespace (default: the same alias as `namespace`). */
  targetNamespace?: string
  /** Set only this group's mode (it may narrow the target's type, never widen it). */
  group?: string
}

export interface DisableSyncTargetRequest extends Namespace {
  targetUrl: string
  targetNamespace: string
  group?: string
}

/** The one-shot verbs: a request, one answer. */
export interface CallVerbs {
  status: { request: None; response: NodeStatus }
  listMounts: { request: None; response: MountInfo[] }
  getPeers: { request: Namespace; response: PeerView[] }
  getTransfers: { request: Namespace; response: TransferView[] }
  notify: { request: Namespace & { peer: string; data: string }; response: { peer: string } }
  createNamespaceInvitation: { request: InvitationRequest; response: { token: string } }
  createClientToken: { request: ClientTokenRequest; response: ClientToken }
  joinNamespace: { request: { token: string }; response: NamespaceInfo | PendingNamespace }
  createNamespace: { request: CreateNamespaceRequest; response: NamespaceInfo }
  getNamespace: { request: Namespace; response: NamespaceInfo }
  listNamespaces: { request: None; response: NamespaceInfo[] }
  listNamespacesForApplication: { request: { application: string }; response: NamespaceInfo[] }
  deleteNamespace: { request: Namespace & { force?: boolean }; response: NamespaceInfo }
  getNamespaceIdentity: { request: Namespace; response: NamespaceIdentityInfo }
  listMembers: { request: Namespace; response: MemberRecord[] }
  grantRole: { request: Namespace & { member: string; role: Role }; response: MemberRecord }
  leaveNamespace: { request: Namespace & { force?: boolean }; response: LeaveResult }
  listNamespaceGroups: { request: Namespace; response: GroupInfo[] }
  createGroupInNamespace: { request: Namespace & { path: string }; response: GroupInfo }
  nestGroup: { request: Namespace & { parent: string; child: string }; response: GroupInfo }
  unnestGroup: { request: Namespace & { group: string }; response: GroupInfo }
  listSubgroups: { request: Namespace & { group: string }; response: GroupInfo[] }
  getSyncConfiguration: { request: Namespace; response: SyncConfiguration }
  enableSyncTarget: { request: EnableSyncTargetRequest; response: SyncConfiguration }
  disableSyncTarget: { request: DisableSyncTargetRequest; response: SyncConfiguration }
}

/** The streaming verbs: answered 200, then one JSON value per line while the client listens. */
export interface StreamVerbs {
  subscribeNamespace: { request: Namespace; event: NamespaceEvent }
}

export type CallVerb = keyof CallVerbs
export type StreamVerb = keyof StreamVerbs
export type Verb = CallVerb | StreamVerb

export type RequestOf<V extends Verb> = V extends CallVerb
  ? CallVerbs[V]['request']
  : V extends StreamVerb
    ? StreamVerbs[V]['request']
    : never
export type ResponseOf<V extends CallVerb> = CallVerbs[V]['response']
export type EventOf<V extends StreamVerb> = StreamVerbs[V]['event']

/** Every verb's name, once: the table the daemon's routes and the control files are checked by. */
export const VERBS = {
  status: 'call',
  listMounts: 'call',
  getPeers: 'call',
  getTransfers: 'call',
  notify: 'call',
  subscribeNamespace: 'stream',
  createNamespaceInvitation: 'call',
  createClientToken: 'call',
  joinNamespace: 'call',
  createNamespace: 'call',
  getNamespace: 'call',
  listNamespaces: 'call',
  listNamespacesForApplication: 'call',
  deleteNamespace: 'call',
  getNamespaceIdentity: 'call',
  listMembers: 'call',
  grantRole: 'call',
  leaveNamespace: 'call',
  listNamespaceGroups: 'call',
  createGroupInNamespace: 'call',
  nestGroup: 'call',
  unnestGroup: 'call',
  listSubgroups: 'call',
  getSyncConfiguration: 'call',
  enableSyncTarget: 'call',
  disableSyncTarget: 'call',
} as const satisfies { [V in CallVerb]: 'call' } & { [V in StreamVerb]: 'stream' }

/** What a streaming route answers: `start` begins sending its events and returns how to stop. */
export interface EventStream<E> {
  start(send: (event: E) => void): () => void
}

/**
 * What a daemon implements: one route per verb. A route gets the request body as sent (it
 * checks it: the wire is untrusted) and answers the verb's response type, or for a streaming
 * verb an `EventStream` of its events.
 */
export type Routes = {
  [V in CallVerb]: (body: Record<string, unknown>) => Promise<ResponseOf<V>>
} & {
  [V in StreamVerb]: (body: Record<string, unknown>) => Promise<EventStream<EventOf<V>>>
}
