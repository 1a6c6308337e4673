// The daemon: a Node (node/node.ts) served through a FUSE mount and a control server, over a
// data directory it holds alone. It mounts the control files and the handlers asked for into the
// node's tree, and takes it all down again.

import type { Server } from 'node:http'
import { socketPathOf } from '../api/socket.js'
import { FuseMount } from '../fuse/mount.js'
import { ControlHandler } from '../handlers/control.js'
import type { SyncNode } from '../net/sync-node.js'
import { Node, type NodeOptions } from '../node/node.js'
import type { Logger } from '../util/log.js'
import type { MountTable } from '../vfs/mount-table.js'
import { Vfs } from '../vfs/vfs.js'
import { VERSION } from '../version.js'
import { controlFiles } from './control-files.js'
import { controlRoutes } from './control-routes.js'
import { startControlServer } from './control-server.js'
import { DataDirLock } from './data-dir.js'
import { createHandler, type HandlerSpec } from './handler-specs.js'

export interface DaemonOptions extends NodeOptions {
  mountpoint: string
  dataDir: string
  handlers: HandlerSpec[]
  opTimeoutMs: number
  allowOther?: boolean
  debugFuse?: boolean
}

export class Daemon {
  private readonly unwatch: Array<() => void> = []
  private stopped = false

  private constructor(
    readonly node: Node,
    readonly mount: FuseMount,
    private readonly control: Server,
    private readonly lock: DataDirLock,
    private readonly log: Logger,
  ) {}

  /** Where peers reach this node, and its peers (`meshfs mount` prints the URL). */
  get sync(): SyncNode {
    return this.node.sync
  }

  static async start(opts: DaemonOptions): Promise<Daemon> {
    const { log } = opts
    const lock = DataDirLock.acquire(opts.dataDir)
    const cleanup: Array<() => void | Promise<void>> = [() => lock.release()]
    try {
      const node = Node.open(lock.dir, opts)
      cleanup.unshift(() => node.stop())
      await node.start()
      const startedMs = Date.now()
      const mount = new FuseMount(
        opts.mountpoint,
        new Vfs(node.table),
        {
          opTimeoutMs: opts.opTimeoutMs,
          allowOther: opts.allowOther ?? false,
          debug: opts.debugFuse ?? false,
        },
        log.child('fuse'),
      )
      const routes = controlRoutes(
        node.namespaces,
        node.sync,
        node.targets,
        node.events,
        () => statusOf(node, mount, lock.dir, startedMs),
        () => node.table.list(),
      )
      node.table.mount('/.meshfs', new ControlHandler(controlFiles(routes, node.events)))
      await mountHandlers(node.table, opts.handlers, log)
      const control = await startControlServer(socketPathOf(lock.dir), routes, log.child('control'))
      cleanup.unshift(() => new Promise<void>((r) => control.close(() => r())))
      const daemon = new Daemon(node, mount, control, lock, log)
      daemon.watchHandlers()
      await mount.mount()
      log.info(`mounted at ${mount.mountpoint} (data ${lock.dir}, ${node.namespaces.list().length} namespaces, pid ${process.pid})`)
      return daemon
    } catch (err) {
      for (const undo of cleanup) await undo()
      throw err
    }
  }

  /** Unmount, stop the node (closing every handler), release the data directory. Safe to call twice. */
  async stop(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    for (const off of this.unwatch) off()
    try {
      await this.mount.unmount()
      this.log.info(`unmounted ${this.mount.mountpoint}`)
    } finally {
      await new Promise<void>((r) => this.control.close(() => r()))
      await this.node.stop()
      this.lock.release()
    }
  }

  private watchHandlers(): void {
    const { table } = this.node
    for (const { path: at } of table.list()) {
      const { handler } = table.resolve(at)
      if (!handler.watch) continue
      this.unwatch.push(handler.watch((e) => this.log.info(`${handler.kind} ${at}: ${e.type} ${e.kind} ${e.path}`)))
    }
  }
}

/** One document for `.meshfs/status`, `meshfs status` and the client's status(). */
function statusOf(node: Node, mount: FuseMount, dataDir: string, startedMs: number) {
  return {
    version: VERSION,
    pid: process.pid,
    mountpoint: mount.mountpoint,
    dataDir,
    startedAt: new Date(startedMs).toISOString(),
    uptimeSeconds: Math.round((Date.now() - startedMs) / 1000),
    openFiles: mount.handles.size,
    ...node.status(),
  }
}

/** The handlers asked for with `--handler`, each at its path. */
async function mountHandlers(table: MountTable, specs: HandlerSpec[], log: Logger): Promise<void> {
  for (const spec of specs) {
    table.mount(spec.path, await createHandler(spec))
    log.info(`handler ${spec.kind}${spec.arg ? `:${spec.arg}` : ''} mounted at ${spec.path}`)
  }
}
