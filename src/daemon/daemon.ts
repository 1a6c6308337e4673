// The composition root: builds the tree (root memory handler, control files, the handlers asked
// for), mounts it with FUSE, and takes it all down again. Nothing else wires layers together.

import { MountTable } from '../vfs/mount-table.js'
import { Vfs } from '../vfs/vfs.js'
import type { Handler } from '../vfs/handler.js'
import { MemoryHandler } from '../handlers/memory.js'
import { ControlHandler } from '../handlers/control.js'
import { FuseMount } from '../fuse/mount.js'
import type { Logger } from '../util/log.js'
import { VERSION } from '../version.js'
import { DataDirLock } from './data-dir.js'
import { createHandler, type HandlerSpec } from './handler-specs.js'

export interface DaemonOptions {
  mountpoint: string
  dataDir: string
  handlers: HandlerSpec[]
  opTimeoutMs: number
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
    private readonly lock: DataDirLock,
    private readonly log: Logger,
  ) {}

  static async start(opts: DaemonOptions): Promise<Daemon> {
    const { log } = opts
    const lock = DataDirLock.acquire(opts.dataDir)
    try {
      const table = new MountTable(new MemoryHandler())
      const startedMs = Date.now()
      let mount: FuseMount | undefined
      table.mount('/.meshfs', new ControlHandler({
        status: () => ({
          version: VERSION,
          pid: process.pid,
          mountpoint: mount?.mountpoint,
          dataDir: lock.dir,
          startedAt: new Date(startedMs).toISOString(),
          uptimeSeconds: Math.round((Date.now() - startedMs) / 1000),
          openFiles: mount?.handles.size ?? 0,
        }),
        mounts: () => table.list(),
      }))
      for (const spec of opts.handlers) {
        table.mount(spec.path, await createHandler(spec))
        log.info(`handler ${spec.kind}${spec.arg ? ':' + spec.arg : ''} mounted at ${spec.path}`)
      }
      mount = new FuseMount(opts.mountpoint, new Vfs(table), {
        opTimeoutMs: opts.opTimeoutMs,
        allowOther: opts.allowOther ?? false,
        debug: opts.debugFuse ?? false,
      }, log.child('fuse'))
      const daemon = new Daemon(table, mount, lock, log)
      daemon.watchHandlers()
      await mount.mount()
      log.info(`mounted at ${mount.mountpoint} (data ${lock.dir}, pid ${process.pid})`)
      return daemon
    } catch (err) {
      lock.release()
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
      for (const h of this.table.handlers()) await closeQuietly(h, this.log)
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
