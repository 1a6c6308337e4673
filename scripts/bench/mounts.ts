// Mount-table helpers for the benchmark, on top of meshfs's own (src/util/mounts.ts).

import { isMounted, lazyUnmount, readMounts } from '../../src/util/mounts.js'

export { isMounted, lazyUnmount }

/** Detach `mnt` if it is still mounted: the last line of defence in `finally` blocks. */
export async function unmountIfMounted(mnt: string): Promise<void> {
  if (await isMounted(mnt)) await lazyUnmount(mnt)
}

/** Mountpoints at or below `root`: a workspace must have none left before it is removed. */
export async function mountsUnder(root: string): Promise<string[]> {
  return (await readMounts()).map((m) => m.mountpoint).filter((mnt) => mnt === root || mnt.startsWith(`${root}/`))
}
