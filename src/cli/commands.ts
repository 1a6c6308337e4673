// The CLI's commands. Each parses its own arguments, checks them with a one-line reason, and
// does its work through the daemon (mount) or through a running mount's control files.

import { mkdirSync, promises as fsp, statSync } from 'node:fs'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { Daemon } from '../daemon/daemon.js'
import { defaultDataDir } from '../daemon/data-dir.js'
import { parseHandlerSpec, SpecError, type HandlerSpec } from '../daemon/handler-specs.js'
import { isDeadMount, isMounted, lazyUnmount, readMounts } from '../fuse/unmount.js'
import { createLogger, type LogLevel } from '../util/log.js'
import { DEFAULT_SYNC_OPTIONS } from '../net/sync-node.js'
import { longestPrefix, relativeTo } from '../vfs/path.js'
import type { MountInfo } from '../vfs/mount-table.js'
import { UsageError } from './usage-error.js'


const LEVELS: LogLevel[] = ['debug', 'info', 'warn', 'error']

function onePositional(positionals: string[], what: string, command: string): string {
  if (positionals.length === 0) throw new UsageError(`${command}: missing ${what} (see meshfs ${command} --help)`)
  if (positionals.length > 1) throw new UsageError(`${command}: unexpected argument '${positionals[1]}'`)
  return path.resolve(positionals[0]!)
}

export async function runMount(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
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
      json: { type: 'boolean' },
    },
  })
  const mountpoint = onePositional(positionals, 'MOUNTPOINT', 'mount')
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
  if (!Number.isFinite(timeoutSec) || timeoutSec < 0) throw new UsageError(`--op-timeout: expected seconds >= 0, got '${values['op-timeout']}'`)
  const listen = parseListen(values.listen ?? '127.0.0.1')
  const sync = {
    ...DEFAULT_SYNC_OPTIONS,
    maxFrameBytes: positive(values['max-frame-bytes'], '--max-frame-bytes', DEFAULT_SYNC_OPTIONS.maxFrameBytes),
    maxConnectionsPerPeer: positive(values['max-connections-per-peer'], '--max-connections-per-peer', DEFAULT_SYNC_OPTIONS.maxConnectionsPerPeer),
  }
  const level = (values['log-level'] ?? 'info') as LogLevel
  if (!LEVELS.includes(level)) throw new UsageError(`--log-level: expected one of ${LEVELS.join(', ')}`)
  const log = createLogger(level)

  await prepareMountpoint(mountpoint, values.mkdir ?? false, log.info)
  let daemon: Daemon
  try {
    daemon = await Daemon.start({
      mountpoint,
      dataDir: values.data ?? defaultDataDir(),
      handlers,
      opTimeoutMs: timeoutSec * 1000,
      listen,
      sync,
      allowOther: values['allow-other'] ?? false,
      debugFuse: values['debug-fuse'] ?? false,
      log,
    })
  } catch (err) {
    if (err instanceof SpecError) throw new UsageError(err.message)
    throw err
  }

  // The log goes to stderr; with --json, stdout carries one line saying the mount is up.
  if (values.json) {
    process.stdout.write(JSON.stringify({ mountpoint: daemon.mount.mountpoint, pid: process.pid, dataDir: path.resolve(values.data ?? defaultDataDir()), url: daemon.sync.url }) + '\n')
  }

  // A daemon that dies leaves a dead mount behind; one bug in a background task must not do that.
  process.on('uncaughtException', (err) => log.error(`uncaught: ${err.stack ?? err.message}`))
  process.on('unhandledRejection', (err) => log.error(`unhandled rejection: ${(err as Error)?.stack ?? String(err)}`))

  return new Promise<number>((resolve) => {
    let stopping = false
    const stop = (signal: string) => {
      if (stopping) {
        log.warn(`${signal} again: exiting without a clean unmount`)
        process.exit(1)
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
}

/** `HOST`, `HOST:PORT` or `[IPv6]:PORT`; without a port, the daemon reuses the last one. */
function parseListen(text: string): { host: string; port: number | undefined } {
  const m = /^(?:\[([^\]]+)\]|([^:]+))(?::(\d+))?$/.exec(text)
  if (!m) throw new UsageError(`--listen: expected HOST or HOST:PORT, got '${text}'`)
  const port = m[3] === undefined ? undefined : Number(m[3])
  if (port !== undefined && port > 65535) throw new UsageError(`--listen: port ${port} is out of range`)
  return { host: m[1] ?? m[2]!, port }
}

function positive(text: string | undefined, flag: string, fallback: number): number {
  if (text === undefined) return fallback
  const n = Number(text)
  if (!Number.isSafeInteger(n) || n <= 0) throw new UsageError(`${flag}: expected a positive whole number, got '${text}'`)
  return n
}

async function prepareMountpoint(mountpoint: string, mkdir: boolean, note: (m: string) => void): Promise<void> {
  if (await isDeadMount(mountpoint)) {
    note(`${mountpoint} was left dead by a crashed daemon (Transport endpoint is not connected): detaching it`)
    await lazyUnmount(mountpoint)
  }
  let st
  try {
    st = statSync(mountpoint)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    if (!mkdir) throw new UsageError(`mount: mountpoint ${mountpoint} does not exist (create it, or pass --mkdir)`)
    mkdirSync(mountpoint, { recursive: true })
    return
  }
  if (!st.isDirectory()) throw new UsageError(`mount: mountpoint ${mountpoint} is not a directory`)
  if (await isMounted(mountpoint)) throw new UsageError(`mount: ${mountpoint} is already a mount point`)
}

export async function runUnmount(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { json: { type: 'boolean' } } })
  const mountpoint = onePositional(positionals, 'MOUNTPOINT', 'unmount')
  const say = (dead: boolean, text: string) => process.stdout.write(values.json ? JSON.stringify({ unmounted: mountpoint, dead }) + '\n' : text)
  if (await isDeadMount(mountpoint)) {
    await lazyUnmount(mountpoint)
    say(true, `detached the dead mount ${mountpoint}\n`)
    return 0
  }
  const entry = (await readMounts()).find((m) => m.mountpoint === mountpoint)
  if (!entry) throw new Error(`${mountpoint} is not mounted`)
  if (entry.type !== 'fuse.meshfs') throw new Error(`${mountpoint} is a ${entry.type} mount, not meshfs`)
  const status = JSON.parse(await fsp.readFile(path.join(mountpoint, '.meshfs', 'status'), 'utf8')) as { pid: number }
  process.kill(status.pid, 'SIGTERM')
  // The daemon unmounts and exits; give it a bounded while, then detach what is left.
  for (let i = 0; i < 100 && (await isMounted(mountpoint)); i++) await new Promise((r) => setTimeout(r, 100))
  if (await isMounted(mountpoint)) await lazyUnmount(mountpoint)
  say(false, `unmounted ${mountpoint}\n`)
  return 0
}

export async function runWhich(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { json: { type: 'boolean' } } })
  const target = onePositional(positionals, 'PATH', 'which')
  const meshMounts = (await readMounts()).filter((m) => m.type === 'fuse.meshfs').map((m) => m.mountpoint)
  const mnt = longestPrefix(meshMounts, target)
  if (!mnt) throw new Error(`${target} is not inside a meshfs mount`)
  const mounts = JSON.parse(await fsp.readFile(path.join(mnt, '.meshfs', 'mounts'), 'utf8')) as MountInfo[]
  const inTree = relativeTo(target, mnt)
  const at = longestPrefix(mounts.map((m) => m.path), inTree) ?? '/'
  const info = mounts.find((m) => m.path === at)!
  const rel = relativeTo(inTree, at)
  if (values.json) process.stdout.write(JSON.stringify({ mount: at, kind: info.kind, source: info.source ?? null, path: rel }) + '\n')
  else process.stdout.write(`${at}\t${info.kind}${info.source ? '\t' + info.source : ''}\t${rel}\n`)
  return 0
}
