// Dropping the kernel's caches, for "cold" figures. It needs root; without it the measure says
// that its cold figure is only "first run after the files were made".

import { writeFile } from 'node:fs/promises'
import { runCommand } from './proc.js'

/**
 * Write back dirty data, then drop the page cache, dentries and inodes. tmpfs keeps its files
 * (they have no backing store) and a FUSE server keeps its own memory: what goes is the kernel's
 * copy, so the next lookups and reads must ask the filesystem again.
 */
export async function dropKernelCaches(): Promise<boolean> {
  await runCommand('sync', [])
  try {
    await writeFile('/proc/sys/vm/drop_caches', '3\n')
    return true
  } catch {
    return false
  }
}
