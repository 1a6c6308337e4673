// Measure 1: bytes through the filesystem. A sequential write then read of one big file in
// 1 MiB blocks, then random 4 KiB reads and writes in the same file for a fixed time.

import path from 'node:path'
import { runFio, type FioFigures } from '../fio.js'
import type { Measure } from './measure.js'

export const throughput: Measure = {
  id: 'throughput',
  title: '1. Throughput (fio, psync, one job)',

  rows: ({ profile: p }) => {
    const span = p.randomSeconds > 0 ? `${p.randomSeconds} s` : 'one pass'
    return [
      { key: 'seq-write', label: `sequential write, ${p.seqFileMiB} MiB in 1 MiB blocks`, unit: 'MiB/s', better: 'higher' },
      { key: 'seq-read', label: `sequential read, ${p.seqFileMiB} MiB in 1 MiB blocks`, unit: 'MiB/s', better: 'higher' },
      { key: 'rand-read', label: `random 4 KiB reads, O_DIRECT, ${span}`, unit: 'IOPS', better: 'higher' },
      { key: 'rand-write', label: `random 4 KiB writes, O_DIRECT, ${span}`, unit: 'IOPS', better: 'higher' },
    ]
  },

  async run(target, { profile: p }) {
    const file = path.join(target.dir, 'fio.dat')
    const common = { file, sizeMiB: p.seqFileMiB }
    // In this order: the write job lays the file out for the three after it.
    const seqWrite = await runFio({ ...common, name: 'seq-write', rw: 'write', blockSize: '1M', endFsync: true })
    const seqRead = await runFio({ ...common, name: 'seq-read', rw: 'read', blockSize: '1M' })
    const random = { ...common, blockSize: '4k', direct: true, ...(p.randomSeconds > 0 && { seconds: p.randomSeconds }) }
    const randRead = await runFio({ ...random, name: 'rand-read', rw: 'randread' })
    const randWrite = await runFio({ ...random, name: 'rand-write', rw: 'randwrite', endFsync: true })
    const raw: Record<string, FioFigures> = { seqWrite, seqRead, randRead, randWrite }
    return {
      values: {
        'seq-write': seqWrite.mibPerSecond,
        'seq-read': seqRead.mibPerSecond,
        'rand-read': randRead.iops,
        'rand-write': randWrite.iops,
      },
      raw,
    }
  },

  notes: () => [
    'Throughput, what is cached: tmpfs *is* the page cache, so its figures are memory bandwidth. ' +
      'The FUSE targets mount without kernel_cache and without writeback cache: buffered writes go ' +
      'through to the server in 128 KiB requests (big_writes), and each fio job opens the file anew, ' +
      'which drops its cached pages, so the sequential read is served by the server (with kernel ' +
      'readahead, 128 KiB per request). Random jobs use O_DIRECT, so every 4 KiB block is one ' +
      "request. Dropping the page cache globally is not needed and would not reach into a FUSE server's own memory.",
  ],
}
