// A meshfs node without FUSE: its store, the namespaces it holds (mounted in its MountTable), the
// sync layer that replicates them with peers, the stock-client endpoint, the namespaces' event
// streams and the sync targets. Each part is built here from the parts below it, in order; the
// daemon adds the FUSE mount and the control server, and tests run nodes in-process.

import { EventHub } from '../events/event-hub.js'
import { watchRevivals } from '../events/revivals.js'
import { treeEventSource } from '../events/tree-events.js'
import { RootHandler } from '../handlers/root.js'
import { SyncTargets } from '../mirror/targets.js'
import { Identity, type Signer } from '../net/trust/identity.js'
import type { ConnectedPeerView, TransferView } from '../api/wire.js'
import type { NamespaceSyncView } from '../net/peers/views.js'
import { SyncNode, type SyncOptions } from '../net/sync-node.js'
import { ClientEndpoint } from '../net/yws/endpoint.js'
import { openLocalStore, type LocalStore } from '../store/local-store.js'
import type { Logger } from '../util/log.js'
import type { Handler } from '../vfs/handler.js'
import { MountTable } from '../vfs/mount-table.js'
import { clientRoomHost } from './client-rooms.js'
import { Namespaces } from './namespaces.js'
import { transferViews } from './transfers.js'

/** Where the port peers reached this node at last time is remembered. */
const LISTEN_PORT_KEY = ['listen-port']
const AGENT_INFOS_KEY = ['agent-infos']

export interface NodeOptions {
  /** Where peers reach this node; port undefined: the one used last time, else any free one. */
  listen: { host: string; port: number | undefined }
  sync: Omit<SyncOptions, 'listenHost' | 'listenPort'>
  log: Logger
  /** How long a read of a binary's first version waits with no chunk arriving (default 60 s). */
  fetchTimeoutMs?: number
}

/** The node's part of the status document. */
export interface NodeStatus {
  nodeId: string
  url: string
  urls: string[]
  connectedPeers: ConnectedPeerView[]
  namespaces: Array<NamespaceSyncView & { alias: string | null; transfers: TransferView[] }>
}

export class Node {
  /** The tree the namespaces (and whatever else the owner mounts) are served from. */
  readonly table: MountTable
  readonly namespaces: Namespaces
  readonly sync: SyncNode
  readonly clients: ClientEndpoint
  /** Every namespace's event stream: tree, member, notify and sync-state events. */
  readonly events = new EventHub()
  readonly targets: SyncTargets
  private readonly log: Logger
  /** Per held namespace: stops its revival reports (events/revivals.ts). */
  private readonly revivalWatches = new Map<string, () => void>()
  private stopped = false

  /** The node owns `store` from here on: `stop` closes it. */
  constructor(
    readonly store: LocalStore,
    readonly identity: Signer,
    /** Holds each namespace's ignored, node-local files. */
    readonly dataDir: string,
    opts: NodeOptions,
  ) {
    const { log } = opts
    this.log = log
    // A top-level `mkdir` creates a namespace; it runs only once the node is built.
    this.table = new MountTable(new RootHandler(async (alias) => void this.namespaces.create({ alias })))
    this.namespaces = new Namespaces(store, this.table, dataDir, identity, log.child('ns'), {
      beforeDelete: (info) => this.targets.checkDeletable(info.id),
      arrivals: {
        ...(opts.fetchTimeoutMs !== undefined && { waitMs: opts.fetchTimeoutMs }),
        expectedFrom: (hashes) => this.sync.askedFor(hashes).map((s) => (s.connected ? s.peer : `${s.peer} (not connected)`)),
      },
    })
    const port = opts.listen.port ?? store.meta.getMeta<number>(LISTEN_PORT_KEY) ?? 0
    this.sync = new SyncNode(this.namespaces, { ...opts.sync, listenHost: opts.listen.host, listenPort: port }, log.child('sync'), {
      load: () => store.meta.getMeta(AGENT_INFOS_KEY),
      save: (v) => store.meta.setMeta(AGENT_INFOS_KEY, v),
    })
    this.clients = new ClientEndpoint(
      clientRoomHost(this.namespaces),
      { maxMessagesPerSecond: opts.sync.maxMessagesPerSecond },
      log.child('clients'),
    )
    // SyncNode takes these as properties (its API, net/); set once, here, before it starts.
    this.sync.clients = this.clients
    this.sync.onNotify = (ns, from, data) => this.events.emit(ns, { type: 'notify', from, data })
    this.sync.onPeerState = (ns, peer, state) => this.events.emit(ns, { type: 'sync', peer, state })
    this.targets = new SyncTargets(
      {
        roleIn: (ns) => this.namespaces.namespaceIdentity(ns).role,
        replica: (ref) => this.namespaces.replicaOf(ref),
        ownUrl: () => this.sync.url,
        // The target's node is known by its key only if this node joined through it.
        connect: (url) => {
          const peer = this.namespaces.peers().find((p) => p.url === url)
          if (peer) this.sync.keepConnected(peer.url, peer.publicKey)
        },
      },
      store.meta,
      log.child('targets'),
    )
    this.namespaces.registry.held.on((ns) => this.watch(ns))
    this.namespaces.registry.dropped.on((ns) => this.unwatch(ns))
  }

  /** A node over the store and identity in `dataDir` (created on first use). */
  static open(dataDir: string, opts: NodeOptions): Node {
    const store = openLocalStore(dataDir)
    try {
      return new Node(store, Identity.loadOrCreate(dataDir), dataDir, opts)
    } catch (err) {
      store.close()
      throw err
    }
  }

  /** Mount the stored namespaces, listen for peers, dial the known ones, run the sync targets. */
  async start(): Promise<void> {
    this.namespaces.loadAll()
    this.namespaces.collectGarbage()
    await this.sync.start()
    const bound = Number(new URL(this.sync.url).port)
    if (this.store.meta.getMeta<number>(LISTEN_PORT_KEY) !== bound) this.store.meta.setMeta(LISTEN_PORT_KEY, bound)
    for (const peer of this.namespaces.peers()) this.sync.keepConnected(peer.url, peer.publicKey)
    this.targets.start()
  }

  /** Stop syncing, close every mounted handler and the store. Safe to call twice, or after a failed start. */
  async stop(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    try {
      this.targets.stop()
      await this.sync.stop()
      for (const h of this.table.handlers()) await closeQuietly(h, this.log)
    } finally {
      this.store.close()
    }
  }

  status(): NodeStatus {
    const s = this.sync.status()
    const aliases = new Map(this.namespaces.list().map((n) => [n.id, n.alias]))
    return {
      nodeId: this.identity.publicKey,
      url: this.sync.url,
      urls: s.urls,
      connectedPeers: s.connectedPeers,
      namespaces: s.namespaces.map(({ id, ...rest }) => ({
        id,
        alias: aliases.get(id) ?? null,
        ...rest,
        // A namespace still joining has nothing arriving that it could show.
        transfers: aliases.has(id) ? transferViews(this.namespaces.transfers(id), (hashes) => this.sync.askedFor(hashes)) : [],
      })),
    }
  }

  /** A namespace is held: sync it, and derive its events from its replica. */
  private watch(ns: string): void {
    this.sync.watch(ns)
    // A namespace still joining has no members list yet: it has no member events either.
    const membersOf = () => (this.namespaces.registry.byId(ns) ? this.namespaces.listMembers(ns) : [])
    const replica = this.namespaces.replica(ns)!
    this.events.setSource(ns, treeEventSource(replica, membersOf))
    this.revivalWatches.get(ns)?.()
    const label = () => replica.maybeInfo()?.path ?? ns
    this.revivalWatches.set(
      ns,
      watchRevivals(replica, (e) => this.events.emit(ns, e), this.log.child('ns'), label),
    )
  }

  private unwatch(ns: string): void {
    this.revivalWatches.get(ns)?.()
    this.revivalWatches.delete(ns)
    this.sync.unwatch(ns)
    this.events.setSource(ns, undefined)
    this.clients.dropNamespace(ns)
  }
}

async function closeQuietly(h: Handler, log: Logger): Promise<void> {
  try {
    await h.close?.()
  } catch (err) {
    log.warn(`closing the ${h.kind} handler failed: ${(err as Error).message}`)
  }
}
