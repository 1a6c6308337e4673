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

/**
 * A streaming request: resolves once the daemon is streaming (from then on nothing is missed), or
 * rejects with its error. Values are handed out as their lines arrive; `return()` on the iterator
 * (a `break` out of `for await`) closes the request.
 */
export function stream<T>(dataDir: string, verb: string, body: Record<string, unknown>): Promise<AsyncIterableIterator<T>> {
  const payload = JSON.stringify(body)
  return new Promise((resolve, reject) => {
    const req = http.request(
      { socketPath: socketPathOf(dataDir), path: `/v1/${verb}`, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } },
      (res) => {
        res.setEncoding('utf8')
        if (res.statusCode !== 200) {
          let text = ''
          res.on('data', (c: string) => (text += c))
          res.on('end', () => {
            try {
              const e = (JSON.parse(text) as { error?: { code: string; message: string } }).error
              reject(new MeshfsError(e?.code ?? 'EIO', e?.message ?? `the daemon answered ${verb} with status ${res.statusCode}`))
            } catch {
              reject(new MeshfsError('EIO', `the daemon answered ${verb} with status ${res.statusCode}`))
            }
          })
          return
        }
        resolve(lines<T>(res, () => req.destroy(), verb))
      },
    )
    req.on('error', (err: NodeJS.ErrnoException) => {
      reject(err.code === 'ENOENT' || err.code === 'ECONNREFUSED' ? new MeshfsError('ENOTCONN', `no meshfs daemon is running for data directory ${dataDir}`) : new MeshfsError('EIO', `control socket: ${err.message}`))
    })
    req.end(payload)
  })
}

/** The JSON lines of a streaming response as an async iterator. */
function lines<T>(res: http.IncomingMessage, close: () => void, verb: string): AsyncIterableIterator<T> {
  const queue: T[] = []
  let failure: Error | undefined
  let ended = false
  let wake: (() => void) | undefined
  const notify = () => {
    wake?.()
    wake = undefined
  }
  let buffered = ''
  res.on('data', (chunk: string) => {
    buffered += chunk
    let nl: number
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl)
      buffered = buffered.slice(nl + 1)
      if (line.trim() === '') continue
      try {
        queue.push(JSON.parse(line) as T)
      } catch {
        failure = new MeshfsError('EIO', `the daemon sent a line that is not JSON on ${verb}`)
      }
    }
    notify()
  })
  const end = () => {
    ended = true
    notify()
  }
  res.on('end', end)
  res.on('error', end)
  res.on('close', end)
  const iterator: AsyncIterableIterator<T> = {
    async next() {
      for (;;) {
        if (queue.length > 0) return { value: queue.shift()!, done: false }
        if (failure) {
          const f = failure
          failure = undefined
          close()
          throw f
        }
        if (ended) return { value: undefined, done: true }
        await new Promise<void>((r) => (wake = r))
      }
    },
    async return() {
      ended = true
      close()
      notify()
      return { value: undefined, done: true }
    },
    [Symbol.asyncIterator]() {
      return iterator
    },
  }
  return iterator
}

// The daemon answers with these shapes as JSON; the types are shared, nothing else is.
export type { NamespaceInfo, UpgradePolicy } from '../model/namespace-info.js'
import type { NamespaceInfo, UpgradePolicy } from '../model/namespace-info.js'
export type { StampedEvent as NamespaceEvent } from '../events/event-hub.js'
import type { StampedEvent as NamespaceEvent } from '../events/event-hub.js'

export type { Member, Role } from '../model/members.js'
import type { Member, Role } from '../model/members.js'

/** Who this node is in a namespace (Calimero's get_namespace_identity). */
export interface NamespaceIdentity {
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

export type { SyncConfiguration, SyncTargetInfo } from '../mirror/targets.js'
export type { SyncType, GroupMode } from '../mirror/config.js'
import type { SyncConfiguration } from '../mirror/targets.js'
import type { SyncType } from '../mirror/config.js'

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

  /** This node's identity in a namespace: its key, role and when it joined. */
  getNamespaceIdentity(namespace: string): Promise<NamespaceIdentity> {
    return call(this.dataDir, 'getNamespaceIdentity', { namespace })
  }

  /** The namespace's members as this node believes them (signed grants only), left ones too. */
  listMembers(namespace: string): Promise<Member[]> {
    return call(this.dataDir, 'listMembers', { namespace })
  }

  /** Admins only: set a member's role. `member` is its public key (or a unique prefix of 6+ characters). */
  grantRole(namespace: string, member: string, role: Role): Promise<Member> {
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
    return (await call<{ token: string }>(this.dataDir, 'createNamespaceInvitation', { namespace, ...opts })).token
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

  /** Hoss's get_sync_configuration: the namespace's sync targets (what `.meshfs/ns/NS/sync.json` shows). */
  getSyncConfiguration(namespace: string): Promise<SyncConfiguration> {
    return call(this.dataDir, 'getSyncConfiguration', { namespace })
  }

  /**
   * Hoss's enable_sync_target: mirror `namespace` into a target namespace at `targetUrl` (a node's
   * ws:// URL, or `local` for this node). Admins only; a remote target namespace must be joined first.
   */
  enableSyncTarget(namespace: string, targetUrl: string, syncType: SyncType, opts: EnableSyncTargetOptions = {}): Promise<SyncConfiguration> {
    return call(this.dataDir, 'enableSyncTarget', { namespace, targetUrl, syncType, ...opts })
  }

  /** Hoss's disable_sync_target; with `group`, turns mirroring off for that group only. */
  disableSyncTarget(namespace: string, targetUrl: string, targetNamespace: string, opts: { group?: string } = {}): Promise<SyncConfiguration> {
    return call(this.dataDir, 'disableSyncTarget', { namespace, targetUrl, targetNamespace, ...opts })
  }
}

export interface EnableSyncTargetOptions {
  /** Alias or id of the target namespace (default: the same alias as `namespace`). */
  targetNamespace?: string
  /** Set only this group's mode (it may narrow the target's type, never widen it). */
  group?: string
}

export interface InvitationOptions {
  recursive?: boolean
  /** A duration: `90s`, `30m`, `1h`, `7d` (default 24 h). */
  expires?: string
  expiresAtMs?: number
  /** How many nodes may join with it (default 1). */
  uses?: number
}

export interface ClientTokenOptions {
  /** A duration: `90s`, `30m`, `1h`, `7d`; without it the token does not expire. */
  expires?: string
  /** The bearer may read rooms and share awareness, not edit. */
  readOnly?: boolean
}

export interface ClientToken {
  token: string
  /** The namespace id: the first half of every room name. */
  namespace: string
  /** This node's WebSocket URL: the server URL a WebsocketProvider connects to. */
  url: string
  expiresAtMs: number | null
  readOnly: boolean
}

export function connect(opts: ConnectOptions): MeshfsClient {
  return new MeshfsClient(opts.dataDir)
}
