// Getting a mountpoint ready for `meshfs mount`: a mount left dead by a crashed daemon is
// detached, a missing directory is made on request, and anything else in the way is refused
// with a reason the CLI shows as a usage error. A directory made here is removed again when the
// mount then fails, so a refused `--mkdir` leaves nothing behind.

import { mkdirSync, readdirSync, rmdirSync, type Stats, statSync } from 'node:fs'
import path from 'node:path'
import { isDeadMount, isMounted, lazyUnmount } from '../util/mounts.js'

/** The mountpoint cannot be used as given: the user's to fix (exit 2). */
export class MountpointError extends Error {}

/** What preparing did: `undo` removes the directories it made (none: does nothing). */
export interface PreparedMountpoint {
  undo(): void
}

export async function prepareMountpoint(mountpoint: string, mkdir: boolean, note: (m: string) => void): Promise<PreparedMountpoint> {
  if (await isDeadMount(mountpoint)) {
    note(`${mountpoint} was left dead by a crashed daemon (Transport endpoint is not connected): detaching it`)
    await lazyUnmount(mountpoint)
  }
  let st: Stats
  try {
    st = statSync(mountpoint)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    if (!mkdir) throw new MountpointError(`mount: mountpoint ${mountpoint} does not exist (create it, or pass --mkdir)`)
    const first = mkdirSync(mountpoint, { recursive: true })
    return { undo: () => removeMade(mountpoint, first ?? mountpoint) }
  }
  if (!st.isDirectory()) throw new MountpointError(`mount: mountpoint ${mountpoint} is not a directory`)
  if (await isMounted(mountpoint)) throw new MountpointError(`mount: ${mountpoint} is already a mount point`)
  // libfuse would refuse with "use the 'nonempty' mount option", an option meshfs does not take:
  // what is in the directory would be hidden under the mount.
  if (readdirSync(mountpoint).length > 0)
    throw new MountpointError(
      `mount: mountpoint ${mountpoint} is not empty (meshfs mounts on an empty directory: move its contents away, or pick another)`,
    )
  return { undo() {} }
}

/** Remove `mountpoint` and its parents up to `first`, the topmost directory mkdir made. */
function removeMade(mountpoint: string, first: string): void {
  for (let dir = mountpoint; ; dir = path.dirname(dir)) {
    try {
      rmdirSync(dir)
    } catch {
      // Something was put in it meanwhile: it is no longer only ours to remove.
      return
    }
    if (dir === first || dir === path.dirname(dir)) return
  }
}
