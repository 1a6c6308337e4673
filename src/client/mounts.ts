// Finding the daemon behind a mountpoint, for tools given a path rather than a data directory
// (`meshfs which`, `meshfs unmount`): the kernel's mount table says which directories are meshfs
// mounts, and a mount's status document (api/socket.ts, STATUS_FILE) names its data directory,
// whose control socket the client then speaks to. Also detaching a mount whose daemon is gone,
// which no daemon can do.
//
// fuse/unmount.ts does the same for the daemon's own mount; the client may import only api/ and
// Node, so it keeps these few lines itself.

import { execFile } from 'node:child_process'
import { promises as fsp } from 'node:fs'
import path from 'node:path'
import { STATUS_FILE } from '../api/socket.js'
import type { MountInfo, NodeStatus } from '../api/wire.js'
import { MeshfsClient } from './client.js'

export interface MountEntry {
  source: string
  mountpoint: string
  type: string
}

/** The type /proc/mounts shows for a meshfs mount (FUSE subtype `meshfs`). */
export const MESHFS_MOUNT_TYPE = 'fuse.meshfs'

/** /proc/mounts escapes space, tab, newline and backslash as octal. */
function unescapeMountField(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)))
}

export async function readMounts(): Promise<MountEntry[]> {
  const text = await fsp.readFile('/proc/mounts', 'utf8')
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [source = '', mountpoint = '', type = ''] = line.split(' ')
      return { source: unescapeMountField(source), mountpoint: unescapeMountField(mountpoint), type }
    })
}

export async function isMounted(mnt: string): Promise<boolean> {
  return (await readMounts()).some((m) => m.mountpoint === mnt)
}

/** A FUSE mount whose daemon died answers ENOTCONN ("Transport endpoint is not connected"). */
export async function isDeadMount(mnt: string): Promise<boolean> {
  try {
    await fsp.stat(mnt)
    return false
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOTCONN'
  }
}

const UNMOUNTERS: Array<[string, string[]]> = [
  ['fusermount3', ['-uz']],
  ['fusermount', ['-uz']],
  ['umount', ['-l']],
]

/** Lazily detach the mount at `mnt` with the first unmount tool that works. */
export async function lazyUnmount(mnt: string): Promise<void> {
  const failures: string[] = []
  for (const [cmd, args] of UNMOUNTERS) {
    const result = await new Promise<string | null>((resolve) =>
      execFile(cmd, [...args, mnt], (err, _out, stderr) => resolve(err ? `${cmd}: ${stderr.trim() || err.message}` : null)),
    )
    if (result === null) return
    failures.push(result)
  }
  throw new Error(`could not unmount ${mnt}: ${failures.join('; ')}`)
}

/** The client of the daemon serving the meshfs mount at `mountpoint`. */
export async function connectToMount(mountpoint: string): Promise<MeshfsClient> {
  const status = JSON.parse(await fsp.readFile(path.join(mountpoint, STATUS_FILE), 'utf8')) as Pick<NodeStatus, 'dataDir'>
  return new MeshfsClient(status.dataDir)
}

/** `p` is `base` or inside it (both absolute and normalised). */
function isWithin(p: string, base: string): boolean {
  return base === '/' || p === base || p.startsWith(`${base}/`)
}

function longestWithin(bases: string[], p: string): string | undefined {
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
