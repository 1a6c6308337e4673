// The package's public entry: `import { connect } from 'meshfs'`.
export { connect, MeshfsClient, MeshfsError } from './client/client.js'
export type {
  ConnectOptions,
  CreateNamespaceOptions,
  GroupInfo,
  GroupMode,
  InvitationOptions,
  LeaveResult,
  Member,
  NamespaceEvent,
  NamespaceIdentity,
  NamespaceInfo,
  Role,
  SyncConfiguration,
  SyncTargetInfo,
  SyncType,
  UpgradePolicy,
} from './client/client.js'
