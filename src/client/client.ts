// The TypeScript client of a running meshfs daemon: the local control API over the Unix socket
// in its data directory. Errors come back as MeshfsError with the daemon's code and message.

import http from 'node:http'
import path from 'node:path'

export class MeshfsError extends Error {
  constructor(readonly code: string, message: string) {
    super(message)
    this.name = 'MeshfsError'
  }
}

export interface ConnectOptions {
  /** The daemon's data directory; its control socket is `control.sock` inside. */
  dataDir: string
}

export function socketPathOf(dataDir: string): string {
  return path.join(path.resolve(dataDir), 'control.sock')
}

/** One request to the control API. */
export function call<T>(dataDir: string, verb: string, body: Record<string, unknown> = {}): Promise<T> {
  const payload = JSON.stringify(body)
  return new Promise<T>((resolve, reject) => {
    const req = http.request(
      { socketPath: socketPathOf(dataDir), path: `/v1/${verb}`, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => {
          let parsed: { result?: T; error?: { code: string; message: string } }
          try {
            parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'))
          } catch {
            return reject(new MeshfsError('EIO', `the daemon answered ${verb} with something that is not JSON`))
          }
          if (parsed.error) reject(new MeshfsError(parsed.error.code, parsed.error.message))
          else resolve(parsed.result as T)
        })
      },
    )
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') {
        reject(new MeshfsError('ENOTCONN', `no meshfs daemon is running for data directory ${dataDir} (start one with: meshfs mount MOUNTPOINT --data ${dataDir})`))
      } else reject(new MeshfsError('EIO', `control socket: ${err.message}`))
    })
    req.end(payload)
  })
}

// The daemon answers with these shapes as JSON; the types are shared, nothing else is.
export type { NamespaceInfo, UpgradePolicy } from '../crdt/namespace-info.js'
import type { NamespaceInfo, UpgradePolicy } from '../crdt/namespace-info.js'

export type { ConnectedPeerView, PeerView } from '../net/sync-node.js'
import type { ConnectedPeerView, PeerView } from '../net/sync-node.js'

/** `.meshfs/status`: this node, where peers reach it, its connections and each namespace's sync. */
export interface NodeStatus {
  version: string
  pid: number
  mountpoint?: string
  dataDir: string
  startedAt: string
  uptimeSeconds: number
  openFiles: number
  nodeId: string
  /** The URL peers reach this node at (the first of `urls`). */
  url: string
  urls: string[]
  connectedPeers: ConnectedPeerView[]
  namespaces: Array<{
    id: string
    alias: string | null
    connectedPeers: number
    knownPeers: number
    lastReconciledAtMs: number | null
    pendingBlobFetches: number
  }>
}

export interface GroupInfo {
  id: string
  path: string
  alias: string
  parentId: string | null
}

export interface CreateNamespaceOptions {
  upgradePolicy?: UpgradePolicy
  alias?: string
  description?: string
}

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
    return call(this.dataDir, 'listNamespaces')
  }

  listNamespacesForApplication(application: string): Promise<NamespaceInfo[]> {
    return call(this.dataDir, 'listNamespacesForApplication', { application })
  }

  /** Irreversible. Without `force` the namespace must be empty. */
  deleteNamespace(namespace: string, opts: { force?: boolean } = {}): Promise<NamespaceInfo> {
    return call(this.dataDir, 'deleteNamespace', { namespace, force: opts.force ?? false })
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
    return (await call<{ token: string }>(this.dataDir, 'createNamespaceInvitation', { namespace, ...opts })).token
  }

  /** Redeem an invitation: connect to the inviter, prove this node's key, sync, mount. */
  joinNamespace(token: string): Promise<NamespaceInfo> {
    return call(this.dataDir, 'joinNamespace', { token })
  }

  /** The same document as `.meshfs/status`. */
  status(): Promise<NodeStatus> {
    return call(this.dataDir, 'status')
  }

  /** The members of `namespace` this node knows of, with what it observed of each. */
  getPeers(namespace: string): Promise<PeerView[]> {
    return call(this.dataDir, 'getPeers', { namespace })
  }

  /**
   * send_notify: hand `data` (a string of at most 64 KiB) to member `peer` (its key or a unique
   * prefix) over its live connection; it appears on that node's events stream of `namespace`.
   * Resolves with the peer's full key once the message is sent (not when it arrived).
   */
  async notify(namespace: string, peer: string, data: string): Promise<string> {
    return (await call<{ peer: string }>(this.dataDir, 'notify', { namespace, peer, data })).peer
  }
}

export interface InvitationOptions {
  recursive?: boolean
  /** A duration: `90s`, `30m`, `1h`, `7d` (default 24 h). */
  expires?: string
  expiresAtMs?: number
  /** How many nodes may join with it (default 1). */
  uses?: number
}

export function connect(opts: ConnectOptions): MeshfsClient {
  return new MeshfsClient(opts.dataDir)
}
