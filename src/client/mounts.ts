// Finding the daemon behind a mountpoint, for tools given a path rather than a data directory
// (`meshfs which`, `meshfs unmount`, and the CLI choosing its node from the current directory): the kernel's mount table says which directories are meshfs
// mounts, and a mount's status document (api/socket.ts, STATUS_FILE) names its data directory,
// whose control socket the client then speaks to. Also detaching a mount whose daemon is gone,
// which no daemon can do.
//
// The mount table itself is read by util/mounts.ts, which the daemon's own unmount uses too.

import { promises as fsp } from 'node:fs'
import path from 'node:path'
import { STATUS_FILE } from '../api/socket.js'
import type { MountInfo, NodeStatus } from '../api/wire.js'
import { readMounts } from '../util/mounts.js'
import { MeshfsClient } from './client.js'

/** The type /proc/mounts shows for a meshfs mount (FUSE subtype `meshfs`). */
export const MESHFS_MOUNT_TYPE = 'fuse.meshfs'

/** The client of the daemon serving the meshfs mount at `mountpoint`. */
export async function connectToMount(mountpoint: string): Promise<MeshfsClient> {
  const status = JSON.parse(await fsp.readFile(path.join(mountpoint, STATUS_FILE), 'utf8')) as Pick<NodeStatus, 'dataDir'>
  return new MeshfsClient(status.dataDir)
}

/** A meshfs mount on this machine, and the data directory of the daemon serving it. */
export interface RunningNode {
  mountpoint: string
  /** Undefined: the mount did not answer in time (its daemon is busy or hung). */
  dataDir: string | undefined
  pid: number | undefined
}

/** How long a mount's status may take; a hung daemon must not hang the caller with it. */
const STATUS_WAIT_MS = 2_000

/** Where meshfs is mounted on this machine, from the kernel's mount table (nothing is asked). */
export async function meshfsMountpoints(): Promise<string[]> {
  return (await readMounts()).filter((m) => m.type === MESHFS_MOUNT_TYPE).map((m) => m.mountpoint)
}

/**
 * The daemons serving the meshfs mounts at `mountpoints`, each with its data directory from its
 * status document. Dead mounts (a crashed daemon) and other users' mounts (EACCES) are left out.
 */
export async function nodesAt(mountpoints: string[]): Promise<RunningNode[]> {
  const nodes = await Promise.all(mountpoints.map((m) => statusWithin(m, STATUS_WAIT_MS)))
  return nodes.filter((n): n is RunningNode => n !== null)
}

async function statusWithin(mountpoint: string, ms: number): Promise<RunningNode | null> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), ms).unref()))
  const read = fsp
    .readFile(path.join(mountpoint, STATUS_FILE), 'utf8')
    .then((text) => JSON.parse(text) as Pick<NodeStatus, 'dataDir' | 'pid'>)
    .catch(() => null)
  const status = await Promise.race([read, late])
  clearTimeout(timer)
  if (status === null) return null
  if (status === 'late') return { mountpoint, dataDir: undefined, pid: undefined }
  return { mountpoint, dataDir: status.dataDir, pid: status.pid }
}

/** `p` is `base` or inside it (both absolute and normalised). */
function isWithin(p: string, base: string): boolean {
  return base === '/' || p === base || p.startsWith(`${base}/`)
}

export function longestWithin(bases: string[], p: string): string | undefined {
  return bases.filter((b) => isWithin(p, b)).sort((a, b) => b.length - a.length)[0]
}

/** `p` relative to `base`, as an absolute path inside it. */
function inside(p: string, base: string): string {
  if (base === '/') return p
  return p.slice(base.length) || '/'
}

export interface HandlerAt {
  /** Where the handler is mounted in the tree, its kind and what it serves. */
  handler: MountInfo
  /** The path relative to the handler. */
  path: string
}

/** Which handler of which meshfs mount serves the absolute host path `target`. */
export async function handlerAt(target: string): Promise<HandlerAt> {
  const meshMounts = (await readMounts()).filter((m) => m.type === MESHFS_MOUNT_TYPE).map((m) => m.mountpoint)
  const mnt = longestWithin(meshMounts, target)
  if (!mnt) throw new Error(`${target} is not inside a meshfs mount`)
  const mounts = await (await connectToMount(mnt)).listMounts()
  const inTree = inside(target, mnt)
  const at =
    longestWithin(
      mounts.map((m) => m.path),
      inTree,
    ) ?? '/'
  return { handler: mounts.find((m) => m.path === at)!, path: inside(inTree, at) }
}
