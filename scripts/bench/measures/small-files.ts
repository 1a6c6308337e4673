// Measure 2a: metadata. Many small files in one directory: create them, stat them, list them
// with `ls -l` (cold, then warm), delete them. Creates, stats and deletes are plain syscalls from
// a child process (fs-worker); the listing is the real `ls`.

import { mkdir } from 'node:fs/promises'
import path from 'node:path'
import { dropKernelCaches } from '../kernel-cache.js'
import { runCommand } from '../proc.js'
import { median } from '../stats.js'
import type { Measure } from './measure.js'
import { runFsWorker } from './worker.js'

const WARM_LISTINGS = 3

/** Whether the last cold listing really ran on dropped caches (root), for the notes. */
let coldMeansDropped: boolean | undefined

/** `cd DIR; ls -l`, as a user would list it (see fs-worker.ts on relative paths). */
async function lsLong(dir: string): Promise<number> {
  // LC_ALL=C: the same collation everywhere, and no locale files loaded into the timing.
  const { seconds } = await runCommand('ls', ['-l'], { cwd: dir, discardStdout: true, env: { LC_ALL: 'C' }, timeoutMs: 600_000 })
  return seconds
}

export const smallFiles: Measure = {
  id: 'small-files',
  title: '2a. Metadata: small files in one directory',

  rows: ({ profile: p }) => [
    {
      key: 'create',
      label: `create ${p.smallFiles.toLocaleString('en')} files of ${p.smallFileBytes} B`,
      unit: 'files/s',
      better: 'higher',
    },
    { key: 'stat', label: `stat ${p.smallFiles.toLocaleString('en')} files`, unit: 'stats/s', better: 'higher' },
    { key: 'ls-cold', label: `\`ls -l\` of ${p.smallFiles.toLocaleString('en')} entries, cold`, unit: 's', better: 'lower' },
    {
      key: 'ls-warm',
      label: `\`ls -l\` of ${p.smallFiles.toLocaleString('en')} entries, warm (median of ${WARM_LISTINGS})`,
      unit: 's',
      better: 'lower',
    },
    { key: 'delete', label: `delete ${p.smallFiles.toLocaleString('en')} files`, unit: 'files/s', better: 'higher' },
  ],

  async run(target, { profile: p }) {
    const dir = path.join(target.dir, 'small')
    await mkdir(dir)
    const n = p.smallFiles
    const create = await runFsWorker<{ seconds: number }>(['create', dir, n, p.smallFileBytes])
    const stat = await runFsWorker<{ seconds: number }>(['stat', dir, n])
    coldMeansDropped = await dropKernelCaches()
    const lsCold = await lsLong(dir)
    const warm: number[] = []
    for (let i = 0; i < WARM_LISTINGS; i++) warm.push(await lsLong(dir))
    const del = await runFsWorker<{ seconds: number }>(['unlink', dir, n])
    return {
      values: {
        create: n / create.seconds,
        stat: n / stat.seconds,
        'ls-cold': lsCold,
        'ls-warm': median(warm),
        delete: n / del.seconds,
      },
      raw: {
        seconds: { create: create.seconds, stat: stat.seconds, lsCold, lsWarm: warm, delete: del.seconds },
        cachesDropped: coldMeansDropped,
      },
    }
  },

  notes: () => [
    coldMeansDropped === false
      ? 'Metadata, cold `ls -l`: the first listing after the files were made; the kernel caches could not be dropped (not root).'
      : 'Metadata, cold `ls -l`: after `sync` and `echo 3 > /proc/sys/vm/drop_caches` (dentries, inodes, pages); ' +
        'a FUSE server keeps its own in-memory state either way. Both FUSE targets mount with attr/entry timeouts 0, ' +
        'so a warm listing still asks the server about every entry. Files are made, listed and removed from inside ' +
        'their directory (`cd DIR`), as a user would.',
    'Metadata, xattrs: `ls -l` asks for two xattrs per entry (security.selinux, system.posix_acl_access) and the ' +
      'kernel asks for security.capability before every write. meshfs implements getxattr (user.meshfs.*) and answers ' +
      'each of these with a round trip (ENODATA); the bare server has no getxattr, its first ENOSYS makes the kernel stop asking.',
  ],
}
