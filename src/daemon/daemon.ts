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
import { isMounted, lazyUnmount } from '../util/mounts.js'
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
      const node = await startNode(lock.dir, opts, (n) => cleanup.unshift(() => n.stop()))
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

  /**
   * The way out when a clean stop cannot be waited for (a second signal): detach the mount
   * lazily and release the data directory, so neither a dead mount nor a stale pid file stays
   * behind. The store is left as a crash would leave it, which it survives.
   */
  async detach(): Promise<void> {
    try {
      if (await isMounted(this.mount.mountpoint)) await lazyUnmount(this.mount.mountpoint)
    } finally {
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

/**
 * Open and start the node. The port remembered from last time may have been taken since (by
 * another node or program): rather than refuse to start, take a free one and say so. A port the
 * user asked for is theirs to change, so that failure stays, with the option to pass.
 */
async function startNode(dir: string, opts: DaemonOptions, opened: (n: Node) => void): Promise<Node> {
  const first = Node.open(dir, opts)
  opened(first)
  try {
    await first.start()
    return first
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err
    const { host, port } = opts.listen
    if (port !== undefined)
      throw new Error(
        `${(err as Error).message}: port ${port} is taken; pass --listen ${host}:OTHER_PORT, or --listen ${host} for a free one`,
      )
    await first.stop()
    opts.log.warn(
      `${(err as Error).message}: the port this node used last time is taken; listening on a free port instead (pass --listen ${host}:PORT to choose one)`,
    )
  }
  const second = Node.open(dir, { ...opts, listen: { host: opts.listen.host, port: 0 } })
  opened(second)
  await second.start()
  return second
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
