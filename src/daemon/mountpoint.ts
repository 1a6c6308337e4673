// Getting a mountpoint ready for `meshfs mount`: a mount left dead by a crashed daemon is
// detached, a missing directory is made on request, and anything else in the way is refused
// with a reason the CLI shows as a usage error.

import { mkdirSync, type Stats, statSync } from 'node:fs'
import { isDeadMount, isMounted, lazyUnmount } from '../util/mounts.js'

/** The mountpoint cannot be used as given: the user's to fix (exit 2). */
export class MountpointError extends Error {}

export async function prepareMountpoint(mountpoint: string, mkdir: boolean, note: (m: string) => void): Promise<void> {
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
    mkdirSync(mountpoint, { recursive: true })
    return
  }
  if (!st.isDirectory()) throw new MountpointError(`mount: mountpoint ${mountpoint} is not a directory`)
  if (await isMounted(mountpoint)) throw new MountpointError(`mount: ${mountpoint} is already a mount point`)
}
