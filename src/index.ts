// The package's public entry: `import { connect } from 'meshfs'`.
export { connect, MeshfsClient, MeshfsError } from './client/client.js'
export type { ConnectOptions, InvitationOptions, CreateNamespaceOptions, GroupInfo, NamespaceInfo, NamespaceEvent, UpgradePolicy } from './client/client.js'
