// Where a bench run keeps its files. FUSE mountpoints, daemon data dirs and logs live under /tmp;
// the tmpfs baseline, the source tarball and `cp -r` destinations live under /dev/shm, so that
// what surrounds a measured operation costs the same (memory speed) for every target.

import { mkdirSync, rmSync } from 'node:fs'
import path from 'node:path'
import { mountsUnder } from './mounts.js'

export interface Workspace {
  /** Mountpoints, data directories and server logs. */
  fuseRoot: string
  /** tmpfs: the tmpfs target's directories and scratch files. */
  shmRoot: string
  logDir: string
  scratch: string
}

export function createWorkspace(): Workspace {
  const tag = `meshfs-bench-${process.pid}`
  const fuseRoot = path.join('/tmp', tag)
  const shmRoot = path.join('/dev/shm', tag)
  const ws = { fuseRoot, shmRoot, logDir: path.join(fuseRoot, 'logs'), scratch: path.join(shmRoot, 'scratch') }
  for (const dir of [ws.logDir, ws.scratch]) mkdirSync(dir, { recursive: true })
  return ws
}

/**
 * Remove the run's files once every target is stopped. rm must never walk into a live mount,
 * so if one is left (an unmount failed) the FUSE side is kept and the leftover is reported.
 */
export async function removeWorkspace(ws: Workspace, keepLogs: boolean): Promise<string[]> {
  rmSync(ws.shmRoot, { recursive: true, force: true })
  const leftover = await mountsUnder(ws.fuseRoot)
  if (!keepLogs && leftover.length === 0) rmSync(ws.fuseRoot, { recursive: true, force: true })
  return leftover
}
