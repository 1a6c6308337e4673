// The filesystems under test, and how each is started and stopped. Every measure gets a fresh
// instance of each target, so no measure inherits another's files, cache state or heap.
// Stopping is by pid (SIGTERM: both FUSE servers unmount on it), and every mount is detached
// again in `finally`, also when a measure or the server failed.

import type { ChildProcess } from 'node:child_process'
import { mkdirSync, promises as fsp, readFileSync, rmSync } from 'node:fs'
import path from 'node:path'
import { isMounted, unmountIfMounted } from './mounts.js'
import { BARE_FUSE, MESHFS_CLI } from './paths.js'
import { OP_TIMEOUT_SECONDS } from './profiles.js'
import { hasExited, startServer, stopServer, waitUntil } from './proc.js'
import type { Workspace } from './workspace.js'

export type TargetName = 'tmpfs' | 'bare' | 'meshfs' | 'meshfs-ns'

/** What meshfs is compared against. */
export const BASELINES = ['tmpfs', 'bare'] as const satisfies readonly TargetName[]
/** The meshfs variants whose figures are divided by the baselines'. */
export const SUBJECTS = ['meshfs', 'meshfs-ns'] as const satisfies readonly TargetName[]
export type Baseline = (typeof BASELINES)[number]
export type Subject = (typeof SUBJECTS)[number]

/** Every target, in table order: the floor, the binding's own cost, then meshfs. */
export const ALL_TARGETS: TargetName[] = ['tmpfs', 'bare', 'meshfs', 'meshfs-ns']

/**
 * What a run measures unless told otherwise. `meshfs-ns` (a replicated namespace, made by
 * `mkdir MOUNT/NAME`) is opt-in with --targets while replicated namespaces are being built.
 */
export const DEFAULT_TARGETS: TargetName[] = ['tmpfs', 'bare', 'meshfs-ns', 'meshfs']

export const TARGET_LABELS: Record<TargetName, string> = {
  tmpfs: 'tmpfs',
  bare: 'bare FUSE',
  meshfs: 'meshfs',
  'meshfs-ns': 'meshfs ns',
}

/** What a measure sees of a running target. */
export interface RunningTarget {
  name: TargetName
  /** An empty directory on the target to work in. */
  dir: string
  /** The process serving the filesystem, for its RSS; none for tmpfs (the kernel serves it). */
  serverPid?: number
}

export interface TargetOptions {
  /** Write a V8 CPU profile of each meshfs daemon into this directory. */
  cpuProfDir?: string
}

interface StartedTarget extends RunningTarget {
  stop(): Promise<void>
}

/**
 * Measures work in MOUNT/bench, never in the mount's root: they must not trip over a target's
 * own entries (.meshfs), and on meshfs a top-level name has a meaning of its own.
 */
const WORK_DIR = 'bench'

/** Targets alive right now, so that an interrupted run can still stop and unmount them. */
const live = new Set<StartedTarget>()
let instanceCounter = 0

/** Start a fresh `name`, run `fn` on it, and stop it whatever happens. */
export async function withTarget<T>(
  name: TargetName,
  ws: Workspace,
  opts: TargetOptions,
  fn: (t: RunningTarget) => Promise<T>,
): Promise<T> {
  const tag = `${name}-${++instanceCounter}`
  const target = await START[name](ws, tag, opts)
  live.add(target)
  try {
    return await fn(target)
  } finally {
    live.delete(target)
    await target.stop()
  }
}

/** For signal handlers: stop whatever is still running. */
export async function stopAllTargets(): Promise<void> {
  for (const t of [...live]) {
    live.delete(t)
    await t.stop().catch((err: Error) => process.stderr.write(`bench: stopping ${t.name}: ${err.message}\n`))
  }
}

const START: Record<TargetName, (ws: Workspace, tag: string, opts: TargetOptions) => Promise<StartedTarget>> = {
  tmpfs: startTmpfs,
  bare: startBareFuse,
  meshfs: (ws, tag, opts) => startMeshfs(ws, tag, opts, 'memory'),
  'meshfs-ns': (ws, tag, opts) => startMeshfs(ws, tag, opts, 'namespace'),
}

async function startTmpfs(ws: Workspace, tag: string): Promise<StartedTarget> {
  const dir = path.join(ws.shmRoot, tag)
  mkdirSync(dir, { recursive: true })
  return { name: 'tmpfs', dir, stop: async () => rmSync(dir, { recursive: true, force: true }) }
}

async function startBareFuse(ws: Workspace, tag: string): Promise<StartedTarget> {
  const mnt = path.join(ws.fuseRoot, tag)
  const args = [BARE_FUSE, mnt, '--op-timeout', String(OP_TIMEOUT_SECONDS)]
  const target = await startFuseServer('bare', mnt, process.execPath, args, ws, tag)
  try {
    // The same depth below the mountpoint as meshfs's work directory.
    await fsp.mkdir(target.dir)
  } catch (err) {
    await target.stop()
    throw err
  }
  return target
}

/**
 * Where meshfs measures work. `memory`: an in-memory handler mounted at /bench (the same class
 * as the root's), named explicitly because a top-level `mkdir` in the root now makes a
 * replicated namespace. `namespace`: exactly that, a replicated namespace made by `mkdir`.
 */
type MeshfsVariant = 'memory' | 'namespace'

async function startMeshfs(ws: Workspace, tag: string, opts: TargetOptions, variant: MeshfsVariant): Promise<StartedTarget> {
  const mnt = path.join(ws.fuseRoot, tag)
  const dataDir = path.join(ws.fuseRoot, `${tag}-data`)
  const prof = opts.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${opts.cpuProfDir}`, `--cpu-prof-name=${tag}.cpuprofile`] : []
  const args = [
    ...prof,
    MESHFS_CLI,
    'mount',
    mnt,
    '--data',
    dataDir,
    ...(variant === 'memory' ? ['--handler', `/${WORK_DIR}=memory`] : []),
    '--op-timeout',
    String(OP_TIMEOUT_SECONDS),
    // info logs a line per handler event; warn keeps the daemon's stderr out of the timings.
    '--log-level',
    'warn',
  ]
  const name: TargetName = variant === 'memory' ? 'meshfs' : 'meshfs-ns'
  const target = await startFuseServer(name, mnt, process.execPath, args, ws, tag)
  const stopServerAndMount = target.stop
  target.stop = async () => {
    try {
      await stopServerAndMount()
    } finally {
      rmSync(dataDir, { recursive: true, force: true })
    }
  }
  try {
    if (variant === 'namespace') await fsp.mkdir(target.dir)
    // The control file names the pid that serves the mount: the daemon itself, not a wrapper.
    const status = JSON.parse(await fsp.readFile(path.join(mnt, '.meshfs', 'status'), 'utf8')) as { pid: number }
    target.serverPid = status.pid
  } catch (err) {
    await target.stop()
    throw err
  }
  return target
}

/**
 * Start a FUSE server process on `mnt` and wait until the kernel lists the mount. The server
 * runs in its own process so its FUSE callbacks never share the bench driver's event loop.
 */
async function startFuseServer(
  name: TargetName,
  mnt: string,
  cmd: string,
  args: string[],
  ws: Workspace,
  tag: string,
): Promise<StartedTarget> {
  mkdirSync(mnt, { recursive: true })
  const logFile = path.join(ws.logDir, `${tag}.log`)
  const child = startServer(cmd, args, logFile)
  const stop = () => stopFuseServer(child, mnt, logFile)
  try {
    await waitUntil(
      async () => {
        if (hasExited(child)) throw new Error(`${name} exited before mounting:\n${tail(logFile)}`)
        return isMounted(mnt)
      },
      20_000,
      `${name} to mount ${mnt}`,
    )
  } catch (err) {
    await stop()
    throw err
  }
  return { name, dir: path.join(mnt, WORK_DIR), serverPid: child.pid, stop }
}

async function stopFuseServer(child: ChildProcess, mnt: string, logFile: string): Promise<void> {
  try {
    const how = await stopServer(child)
    if (how === 'killed') process.stderr.write(`bench: ${mnt}: server ignored SIGTERM and was killed (log: ${logFile})\n`)
  } finally {
    await unmountIfMounted(mnt)
    rmSync(mnt, { recursive: true, force: true })
  }
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-10).join('\n')
  } catch {
    return '(no log)'
  }
}
