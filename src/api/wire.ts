// The values the control API sends, as JSON. These are the contract: the daemon converts its own
// values to them, and the client and CLI know nothing else of the daemon.

export type UpgradePolicy = 'automatic' | 'lazy-on-access' | 'coordinated'

export interface NamespaceInfo {
  id: string
  alias: string
  application: string
  upgradePolicy: UpgradePolicy
  description: string
  /** Unix ms when the namespace was created. */
  createdMs: number
  /** The namespace this one is nested in, or null at the top. */
  parentId?: string | null
  /** Where it is mounted, from the top of the tree: `team`, `team/design`. */
  path?: string
}

/** What `joinNamespace` answers when the namespace's first sync has not arrived in time. */
export interface PendingNamespace {
  id: string
  pending: true
}

export type Role = 'admin' | 'member'

/** One member record, as the namespace's signed grants say. */
export interface MemberRecord {
  publicKey: string
  role: Role
  joinedMs: number
  leftMs?: number
  /** The key that signed the grant (the creator granted itself). */
  grantedBy: string
}

/** Who this node is in a namespace (Calimero's get_namespace_identity). */
export interface NamespaceIdentityInfo {
  namespace: string
  path: string
  /** The node's key: the key its peers know it by in every namespace. */
  publicKey: string
  /** null while the namespace's member list does not (yet) show this node. */
  role: Role | null
  joinedMs: number | null
}

/** What `leaveNamespace` did: the namespaces left (nested ones too), and who heard of it. */
export interface LeaveResult extends NamespaceInfo {
  left: string[]
  /** Connected peers that shared the namespace, and how many acknowledged the tombstone in time. */
  peers: number
  acknowledged: number
}

export interface GroupInfo {
  id: string
  /** Path inside the namespace, '/' for its root. */
  path: string
  alias: string
  parentId: string | null
}

/** One peer of a namespace as `getPeers` shows it. */
export interface PeerView {
  key: string
  urls: string[]
  /** When its agent info expires; null for a connected member that sent none yet. */
  expiresAtMs: number | null
  lastSeenMs: number | null
  failures: number
  unresponsiveSinceMs: number | null
  connected: boolean
}

export interface ConnectedPeerView {
  key: string
  urls: string[]
  /** 'out' when this node dialed the (first) connection, 'in' when the peer did. */
  direction: 'in' | 'out'
  connections: number
  /** Namespaces shared with it. */
  namespaces: string[]
}

export interface NamespaceSyncStatus {
  id: string
  /** null while a joined namespace has not arrived. */
  alias: string | null
  connectedPeers: number
  knownPeers: number
  lastReconciledAtMs: number | null
  pendingBlobFetches: number
  /** The binary versions still arriving (what `.meshfs/ns/NS/transfers` shows). */
  transfers: TransferView[]
}

/**
 * A binary resource whose newest version is not all on this node yet: until it is, the node
 * serves the complete version it had (`servedSize`), or reads wait (`servedSize` null).
 */
export interface TransferView {
  /** Inside the namespace, from its root: `/design/pic.bin`. */
  path: string
  /** The resource's id (`user.meshfs.id`). */
  id: string
  /** The arriving version's size, and how many of its bytes are here. */
  bytes: number
  have: number
  /** The peers asked for what is missing; `connected: false` for one that went away since. */
  from: Array<{ peer: string; connected: boolean }>
  servedSize: number | null
}

/** `.meshfs/status`: this node, where peers reach it, its connections and each namespace's sync. */
export interface NodeStatus {
  version: string
  pid: number
  mountpoint?: string | undefined
  dataDir: string
  startedAt: string
  uptimeSeconds: number
  openFiles: number
  nodeId: string
  /** The URL peers reach this node at (the first of `urls`). */
  url: string
  urls: string[]
  connectedPeers: ConnectedPeerView[]
  namespaces: NamespaceSyncStatus[]
}

/** One handler in the mount's tree (what `.meshfs/mounts` shows). */
export interface MountInfo {
  path: string
  kind: string
  source?: string
}

export type SyncType = 'simplex' | 'duplex'
export type GroupMode = SyncType | 'off'

/** One sync target as `getSyncConfiguration` shows it (and `.meshfs/ns/NS/sync.json`). */
export interface SyncTargetInfo {
  /** The target node's URL, or `local` for this node. */
  url: string
  local: boolean
  targetNamespace: string
  targetNamespaceId: string
  type: SyncType
  /** Groups that narrow the type: path in the source namespace -> simplex or off. */
  groups: Record<string, GroupMode>
  /** `waiting` until both namespaces are mounted here (a joined target arrives with its first sync). */
  state: 'mirroring' | 'waiting'
  lastPassAt?: string
  lastError?: string
}

export interface SyncConfiguration {
  namespace: string
  namespaceId: string
  targets: SyncTargetInfo[]
}

/** A bearer token for stock Yjs clients (y-websocket). */
export interface ClientToken {
  token: string
  /** The namespace id: the first half of every room name. */
  namespace: string
  /** This node's WebSocket URL: the server URL a WebsocketProvider connects to. */
  url: string
  expiresAtMs: number | null
  readOnly: boolean
}
