// The package's public entry: `import { connect } from 'meshfs'`. The client, and the control
// API's own types (api/): nothing of the daemon's insides.
export { connect, MeshfsClient } from './client/client.js'
export { MeshfsError } from './client/transport.js'
export type {
  ClientTokenOptions,
  ConnectOptions,
  CreateNamespaceOptions,
  EnableSyncTargetOptions,
  InvitationOptions,
} from './client/client.js'
export type { EntryKind, NamespaceChange, NamespaceEvent } from './api/events.js'
export type { ApiErrorBody } from './api/errors.js'
export type {
  ClientToken,
  ConnectedPeerView,
  GroupInfo,
  GroupMode,
  LeaveResult,
  MemberRecord as Member,
  MemberRecord,
  MountInfo,
  NamespaceIdentityInfo as NamespaceIdentity,
  NamespaceIdentityInfo,
  NamespaceInfo,
  NamespaceSyncStatus,
  NodeStatus,
  PeerView,
  PendingNamespace,
  Role,
  SyncConfiguration,
  SyncTargetInfo,
  SyncType,
  UpgradePolicy,
} from './api/wire.js'
