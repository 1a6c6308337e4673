// Unmounting and mount-table queries that work on a fresh Debian, which has `fusermount3` from
// fuse3 but no `fusermount` (the only tool fuse-native knows). As root, `umount -l` also works.

import { execFile } from 'node:child_process'
import { promises as fsp } from 'node:fs'

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

export interface MountEntry {
  source: string
  mountpoint: string
  type: string
}

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
