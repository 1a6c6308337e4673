// The composition root: builds the tree (root memory handler, control files, the handlers asked
// for), mounts it with FUSE, and takes it all down again. Nothing else wires layers together.

import { MountTable } from '../vfs/mount-table.js'
import { Vfs } from '../vfs/vfs.js'
import type { Handler } from '../vfs/handler.js'
import { ControlHandler } from '../handlers/control.js'
import { RootHandler } from '../handlers/root.js'
import { openLocalStore, type LocalStore } from '../store/local-store.js'
import { socketPathOf } from '../api/socket.js'
import type { Server } from 'node:http'
import { FuseMount } from '../fuse/mount.js'
import type { Logger } from '../util/log.js'
import { VERSION } from '../version.js'
import { DataDirLock } from './data-dir.js'
import { createHandler, type HandlerSpec } from './handler-specs.js'
import { startControlServer } from './control-server.js'
import { controlRoutes } from './control-routes.js'
import { Namespaces } from '../node/namespaces.js'
import { Identity } from '../net/trust/identity.js'
import { SyncNode, type SyncOptions } from '../net/sync-node.js'
import { EventHub } from '../events/event-hub.js'
import { treeEventSource } from '../events/tree-events.js'
import { controlFiles } from './control-files.js'
import { SyncTargets } from '../mirror/targets.js'
import { ClientEndpoint } from '../net/yws/endpoint.js'
import { clientRoomHost } from '../node/client-rooms.js'

export interface DaemonOptions {
  mountpoint: string
  dataDir: string
  handlers: HandlerSpec[]
  opTimeoutMs: number
  /** Where peers reach this node; port undefined: the one used last time, else any free one. */
  listen: { host: string; port: number | undefined }
  sync: Omit<SyncOptions, 'listenHost' | 'listenPort'>
  allowOther?: boolean
  debugFuse?: boolean
  log: Logger
}

export class Daemon {
  private readonly unwatch: Array<() => void> = []
  private stopped = false

  private constructor(
    readonly table: MountTable,
    readonly mount: FuseMount,
    readonly namespaces: Namespaces,
    readonly sync: SyncNode,
    readonly targets: SyncTargets,
    /** Every namespace's event stream: notify and sync-state events are published here. */
    readonly events: EventHub,
    private readonly store: LocalStore,
    private readonly control: Server,
    private readonly lock: DataDirLock,
    private readonly log: Logger,
  ) {}

  static async start(opts: DaemonOptions): Promise<Daemon> {
    const { log } = opts
    const lock = DataDirLock.acquire(opts.dataDir)
    const cleanup: Array<() => void | Promise<void>> = [() => lock.release()]
    try {
      const store = openLocalStore(lock.dir)
      cleanup.unshift(() => store.close())
      let namespaces: Namespaces | undefined
      const table = new MountTable(
        new RootHandler(async (alias) => {
          namespaces!.create({ alias })
        }),
      )
      const identity = Identity.loadOrCreate(lock.dir)
      namespaces = new Namespaces(store, table, lock.dir, identity, log.child('ns'))
      const port = opts.listen.port ?? store.meta.getMeta<number>('listen-port') ?? 0
      const sync = new SyncNode(namespaces, { ...opts.sync, listenHost: opts.listen.host, listenPort: port }, log.child('sync'), {
        load: () => store.meta.getMeta('agent-infos'),
        save: (v) => store.meta.setMeta('agent-infos', v),
      })
      const clients = new ClientEndpoint(clientRoomHost(namespaces, table), { maxMessagesPerSecond: opts.sync.maxMessagesPerSecond }, log.child('clients'))
      sync.clients = clients
      const events = new EventHub()
      sync.onNotify = (ns, from, data) => events.emit(ns, { type: 'notify', from, data })
      sync.onPeerState = (ns, peer, state) => events.emit(ns, { type: 'sync', peer, state })
      namespaces.onHeld = (ns) => {
        sync.watch(ns)
        // A namespace still joining has no members list yet: it has no member events either.
        const membersOf = () => {
          try {
            return namespaces!.listMembers(ns)
          } catch {
            return []
          }
        }
        events.setSource(ns, treeEventSource(namespaces!.replica(ns)!, membersOf))
      }
      namespaces.onDropped = (ns) => {
        sync.unwatch(ns)
        events.setSource(ns, undefined)
        clients.dropNamespace(ns)
      }
      namespaces.loadAll()
      namespaces.collectGarbage()
      await sync.start()
      cleanup.unshift(() => sync.stop())
      const bound = Number(new URL(sync.url).port)
      if (store.meta.getMeta<number>('listen-port') !== bound) store.meta.setMeta('listen-port', bound)
      for (const peer of namespaces.peers()) sync.keepConnected(peer.url, peer.publicKey)
      const targets = new SyncTargets({
        roleIn: (ns) => namespaces!.namespaceIdentity(ns).role,
        replica: (ref) => namespaces!.replicaOf(ref),
        ownUrl: () => sync.url,
        // The target's node is known by its key only if this node joined through it.
        connect: (url) => {
          const peer = namespaces!.peers().find((p) => p.url === url)
          if (peer) sync.keepConnected(peer.url, peer.publicKey)
        },
      }, store.meta, log.child('targets'))
      namespaces.beforeDelete = (info) => targets.checkDeletable(info.id)
      targets.start()
      cleanup.unshift(() => targets.stop())
      const startedMs = Date.now()
      let mount: FuseMount | undefined
      // One document for `.meshfs/status`, `meshfs status` and the client's status().
      const status = () => {
        const s = sync.status()
        const aliases = new Map(namespaces!.list().map((n) => [n.id, n.alias]))
        return {
          version: VERSION,
          pid: process.pid,
          mountpoint: mount?.mountpoint,
          dataDir: lock.dir,
          startedAt: new Date(startedMs).toISOString(),
          uptimeSeconds: Math.round((Date.now() - startedMs) / 1000),
          openFiles: mount?.handles.size ?? 0,
          nodeId: identity.publicKey,
          url: sync.url,
          urls: s.urls,
          connectedPeers: s.connectedPeers,
          namespaces: s.namespaces.map(({ id, ...rest }) => ({ id, alias: aliases.get(id) ?? null, ...rest })),
        }
      }
      const routes = controlRoutes(namespaces, sync, targets, events, status, () => table.list())
      table.mount('/.meshfs', new ControlHandler(controlFiles(routes, events)))
      for (const spec of opts.handlers) {
        table.mount(spec.path, await createHandler(spec))
        log.info(`handler ${spec.kind}${spec.arg ? ':' + spec.arg : ''} mounted at ${spec.path}`)
      }
      const control = await startControlServer(socketPathOf(lock.dir), routes, log.child('control'))
      cleanup.unshift(() => new Promise<void>((r) => control.close(() => r())))
      mount = new FuseMount(opts.mountpoint, new Vfs(table), {
        opTimeoutMs: opts.opTimeoutMs,
        allowOther: opts.allowOther ?? false,
        debug: opts.debugFuse ?? false,
      }, log.child('fuse'))
      const daemon = new Daemon(table, mount, namespaces, sync, targets, events, store, control, lock, log)
      daemon.watchHandlers()
      await mount.mount()
      log.info(`mounted at ${mount.mountpoint} (data ${lock.dir}, ${namespaces.list().length} namespaces, pid ${process.pid})`)
      return daemon
    } catch (err) {
      for (const undo of cleanup) await undo()
      throw err
    }
  }

  /** Unmount, close every handler, release the data directory. Safe to call twice. */
  async stop(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    for (const off of this.unwatch) off()
    try {
      await this.mount.unmount()
      this.log.info(`unmounted ${this.mount.mountpoint}`)
    } finally {
      this.targets.stop()
      await this.sync.stop()
      await new Promise<void>((r) => this.control.close(() => r()))
      for (const h of this.table.handlers()) await closeQuietly(h, this.log)
      this.store.close()
      this.lock.release()
    }
  }

  private watchHandlers(): void {
    for (const { path: at } of this.table.list()) {
      const { handler } = this.table.resolve(at)
      if (!handler.watch) continue
      this.unwatch.push(handler.watch((e) => this.log.info(`${handler.kind} ${at}: ${e.type} ${e.kind} ${e.path}`)))
    }
  }
}

async function closeQuietly(h: Handler, log: Logger): Promise<void> {
  try {
    await h.close?.()
  } catch (err) {
    log.warn(`closing the ${h.kind} handler failed: ${(err as Error).message}`)
  }
}
