// The mount's own commands: `mount` starts the daemon in this process; `unmount` and `which`
// find the daemon behind a mountpoint and ask it through the client.

import path from 'node:path'
import { defaultDataDir } from '../api/socket.js'
import { connectToMount, handlerAt, MESHFS_MOUNT_TYPE } from '../client/mounts.js'
import { isDeadMount, isMounted, lazyUnmount, readMounts } from '../util/mounts.js'
import { Daemon } from '../daemon/daemon.js'
import { parseHandlerSpec, SpecError, type HandlerSpec } from '../daemon/handler-specs.js'
import { MountpointError, prepareMountpoint } from '../daemon/mountpoint.js'
import { syncOptionsWith } from '../daemon/peer-limits.js'
import { createLogger, type LogLevel } from '../util/log.js'
import { command } from './command.js'
import { DATA_ENV } from './node-choice.js'
import { UsageError } from './usage-error.js'

const LEVELS: LogLevel[] = ['debug', 'info', 'warn', 'error']

export const MOUNT = command({
  options: {
    data: { type: 'string' },
    handler: { type: 'string', multiple: true },
    'op-timeout': { type: 'string' },
    mkdir: { type: 'boolean' },
    'allow-other': { type: 'boolean' },
    'log-level': { type: 'string' },
    'debug-fuse': { type: 'boolean' },
    listen: { type: 'string' },
    'max-frame-bytes': { type: 'string' },
    'max-connections-per-peer': { type: 'string' },
    'max-blob-rate': { type: 'string' },
    'fetch-timeout': { type: 'string' },
    json: { type: 'boolean' },
  } as const,
  args: ['MOUNTPOINT'],
  async run(values, [given]) {
    const mountpoint = path.resolve(given!)
    let handlers: HandlerSpec[]
    try {
      handlers = (values.handler ?? []).map(parseHandlerSpec)
    } catch (err) {
      if (err instanceof SpecError) throw new UsageError(err.message)
      throw err
    }
    const paths = new Set<string>()
    for (const h of handlers) {
      if (paths.has(h.path)) throw new UsageError(`--handler: two handlers at ${h.path}`)
      paths.add(h.path)
    }
    const timeoutSec = Number(values['op-timeout'] ?? '120')
    if (!Number.isFinite(timeoutSec) || timeoutSec < 0)
      throw new UsageError(`--op-timeout: expected seconds >= 0, got '${values['op-timeout']}'`)
    const listen = parseListen(values.listen ?? '127.0.0.1')
    const sync = syncOptionsWith({
      maxFrameBytes: positive(values['max-frame-bytes'], '--max-frame-bytes'),
      maxConnectionsPerPeer: positive(values['max-connections-per-peer'], '--max-connections-per-peer'),
      maxBlobBytesPerSecond: positive(values['max-blob-rate'], '--max-blob-rate'),
    })
    const fetchTimeoutSec = Number(values['fetch-timeout'] ?? '60')
    if (!Number.isFinite(fetchTimeoutSec) || fetchTimeoutSec <= 0)
      throw new UsageError(`--fetch-timeout: expected seconds > 0, got '${values['fetch-timeout']}'`)
    const level = (values['log-level'] ?? 'info') as LogLevel
    if (!LEVELS.includes(level)) throw new UsageError(`--log-level: expected one of ${LEVELS.join(', ')}`)
    const log = createLogger(level)

    const dataDir = path.resolve(values.data ?? (process.env[DATA_ENV] || defaultDataDir()))
    let daemon: Daemon
    const prepared = await prepareMountpoint(mountpoint, values.mkdir ?? false, log.info).catch((err: unknown) => {
      throw err instanceof MountpointError ? new UsageError(err.message) : err
    })
    try {
      daemon = await Daemon.start({
        mountpoint,
        dataDir,
        handlers,
        opTimeoutMs: timeoutSec * 1000,
        fetchTimeoutMs: fetchTimeoutSec * 1000,
        listen,
        sync,
        allowOther: values['allow-other'] ?? false,
        debugFuse: values['debug-fuse'] ?? false,
        log,
      })
    } catch (err) {
      prepared.undo()
      if (err instanceof SpecError) throw new UsageError(err.message)
      throw err
    }

    // The log goes to stderr; with --json, stdout carries one line saying the mount is up.
    if (values.json) {
      process.stdout.write(
        `${JSON.stringify({
          mountpoint: daemon.mount.mountpoint,
          pid: process.pid,
          dataDir,
          url: daemon.sync.url,
        })}\n`,
      )
    }

    // A daemon that dies leaves a dead mount behind; one bug in a background task must not do that.
    process.on('uncaughtException', (err) => log.error(`uncaught: ${err.stack ?? err.message}`))
    process.on('unhandledRejection', (err) => log.error(`unhandled rejection: ${(err as Error)?.stack ?? String(err)}`))

    return new Promise<number>((resolve) => {
      let stopping = false
      const stop = (signal: string) => {
        // A second signal (a wrapper forwarding the terminal's, or an impatient user) must not
        // leave a dead mount behind: detach it now rather than wait for the clean stop.
        if (stopping) {
          log.warn(`${signal} again: detaching the mount and exiting before the node has stopped cleanly`)
          daemon.detach().then(
            () => process.exit(1),
            (err: Error) => {
              log.error(err.message)
              process.exit(1)
            },
          )
          return
        }
        stopping = true
        log.info(`${signal}: unmounting`)
        daemon.stop().then(
          () => resolve(0),
          (err: Error) => {
            log.error(err.message)
            resolve(1)
          },
        )
      }
      process.on('SIGINT', () => stop('SIGINT'))
      process.on('SIGTERM', () => stop('SIGTERM'))
    })
  },
})

/** `HOST`, `HOST:PORT` or `[IPv6]:PORT`; without a port, the daemon reuses the last one. */
function parseListen(text: string): { host: string; port: number | undefined } {
  const m = /^(?:\[([^\]]+)\]|([^:]+))(?::(\d+))?$/.exec(text)
  if (!m) throw new UsageError(`--listen: expected HOST or HOST:PORT, got '${text}'`)
  const port = m[3] === undefined ? undefined : Number(m[3])
  if (port !== undefined && port > 65535) throw new UsageError(`--listen: port ${port} is out of range`)
  return { host: m[1] ?? m[2]!, port }
}

function positive(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined
  const n = Number(text)
  if (!Number.isSafeInteger(n) || n <= 0) throw new UsageError(`${flag}: expected a positive whole number, got '${text}'`)
  return n
}

/** How long `unmount` gives the daemon to unmount and exit before detaching what is left. */
const STOP_WAIT_MS = 10_000
const STOP_POLL_MS = 100

export const UNMOUNT = command({
  options: { json: { type: 'boolean' } } as const,
  args: ['MOUNTPOINT'],
  async run(values, [given]) {
    const mountpoint = path.resolve(given!)
    const say = (dead: boolean, text: string) =>
      process.stdout.write(values.json ? `${JSON.stringify({ unmounted: mountpoint, dead })}\n` : text)
    if (await isDeadMount(mountpoint)) {
      await lazyUnmount(mountpoint)
      say(true, `detached the dead mount ${mountpoint}\n`)
      return 0
    }
    const entry = (await readMounts()).find((m) => m.mountpoint === mountpoint)
    if (!entry) throw new Error(`${mountpoint} is not mounted`)
    if (entry.type !== MESHFS_MOUNT_TYPE) throw new Error(`${mountpoint} is a ${entry.type} mount, not meshfs`)
    const { pid } = await (await connectToMount(mountpoint)).status()
    // SIGTERM, as Ctrl-C would: the daemon unmounts and exits the one way it always does.
    process.kill(pid, 'SIGTERM')
    // The daemon's unmount shows only in the kernel's mount table, which has no change signal to wait on.
    for (let waited = 0; waited < STOP_WAIT_MS && (await isMounted(mountpoint)); waited += STOP_POLL_MS)
      await new Promise((r) => setTimeout(r, STOP_POLL_MS))
    if (await isMounted(mountpoint)) await lazyUnmount(mountpoint)
    say(false, `unmounted ${mountpoint}\n`)
    return 0
  },
})

export const WHICH = command({
  options: { json: { type: 'boolean' } } as const,
  args: ['PATH'],
  async run(values, [given]) {
    const { handler, path: rel } = await handlerAt(path.resolve(given!))
    if (values.json)
      process.stdout.write(`${JSON.stringify({ mount: handler.path, kind: handler.kind, source: handler.source ?? null, path: rel })}\n`)
    else process.stdout.write(`${handler.path}\t${handler.kind}${handler.source ? `\t${handler.source}` : ''}\t${rel}\n`)
    return 0
  },
})
