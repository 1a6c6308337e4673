// Measure 5 (the part measurable today): how much the serving process grows per file. Fresh
// server, RSS when idle, create N small files, RSS again. The default meshfs target keeps them
// in an in-memory handler (memfs), so this is the cost of a file there, not of a replicated
// resource (the opt-in meshfs-ns target gives an early figure for those).

import { readFile, mkdir } from 'node:fs/promises'
import path from 'node:path'
import { sleep } from '../proc.js'
import type { Measure } from './measure.js'
import { runFsWorker } from './worker.js'

const FILE_BYTES = 100

/** Resident set size of `pid` in bytes, from /proc/PID/status (VmRSS is in kB). */
async function rssBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  const kb = /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1]
  if (kb === undefined) throw new Error(`no VmRSS in /proc/${pid}/status`)
  return Number(kb) * 1024
}

export const daemonMemory: Measure = {
  id: 'daemon-memory',
  title: '5. Memory of the serving process',
  // tmpfs has no process of its own: its files are kernel memory.
  targets: ['bare', 'meshfs', 'meshfs-ns'],

  rows: ({ profile: p }) => [
    { key: 'rss-idle', label: 'server RSS, freshly mounted', unit: 'MiB', better: 'lower' },
    {
      key: 'rss-files',
      label: `server RSS after creating ${p.memoryFiles.toLocaleString('en')} files of ${FILE_BYTES} B`,
      unit: 'MiB',
      better: 'lower',
    },
    { key: 'rss-per-file', label: 'RSS growth per file', unit: 'B/file', better: 'lower' },
  ],

  async run(target, { profile: p }) {
    if (target.serverPid === undefined) throw new Error(`${target.name} has no server process`)
    const dir = path.join(target.dir, 'many')
    await mkdir(dir)
    const idle = await rssBytes(target.serverPid)
    await runFsWorker(['create', dir, p.memoryFiles, FILE_BYTES])
    // Let the server answer the last releases and settle before sampling.
    await sleep(500)
    const after = await rssBytes(target.serverPid)
    return {
      values: { 'rss-idle': idle / 2 ** 20, 'rss-files': after / 2 ** 20, 'rss-per-file': (after - idle) / p.memoryFiles },
      raw: { idleBytes: idle, afterBytes: after, files: p.memoryFiles },
    }
  },

  notes: () => [
    'Memory: VmRSS of the process serving the mount (the meshfs daemon; the bare FUSE server). It includes garbage ' +
      'V8 has not collected yet, so it is an upper bound of what the files need. meshfs keeps these files in an ' +
      'in-memory handler (memfs); meshfs ns in a replicated namespace (tree doc, loaded text docs, SQLite cache).',
  ],
}
