// fio, the standard I/O benchmark (Debian package `fio`), run as one job per invocation with
// JSON output. Every job opens the file anew, which matters on FUSE: without `kernel_cache` the
// kernel drops a file's page cache on open, so a read job reads from the server, not from pages
// left behind by the write job before it.

import { runCommand } from './proc.js'

export interface FioJob {
  name: string
  file: string
  rw: 'write' | 'read' | 'randwrite' | 'randread'
  blockSize: string
  sizeMiB: number
  /** O_DIRECT: every block is a request to the filesystem, none is answered by the page cache. */
  direct?: boolean
  /** Run for this long (re-reading the file as needed) instead of once through it. */
  seconds?: number
  /** fsync at the end, inside the timed part: written data must have reached the filesystem. */
  endFsync?: boolean
}

export interface FioFigures {
  mibPerSecond: number
  iops: number
  ioBytes: number
  runtimeMs: number
  /** Completion latency percentiles in microseconds, as fio reports them. */
  clatUs: { p50: number; p99: number }
}

export async function runFio(job: FioJob): Promise<FioFigures> {
  const args = [
    `--name=${job.name}`,
    `--filename=${job.file}`,
    `--rw=${job.rw}`,
    `--bs=${job.blockSize}`,
    `--size=${job.sizeMiB}M`,
    // One synchronous request at a time: what `cp` or an editor does, and what a FUSE server
    // sees without any queue depth hiding its latency.
    '--ioengine=psync',
    '--numjobs=1',
    // Neither FUSE server implements fallocate; make tmpfs lay files out the same way.
    '--fallocate=none',
    '--output-format=json',
    ...(job.direct ? ['--direct=1'] : []),
    ...(job.seconds ? ['--time_based', `--runtime=${job.seconds}`] : []),
    ...(job.endFsync ? ['--end_fsync=1'] : []),
  ]
  const timeoutMs = ((job.seconds ?? 0) + 600) * 1000
  const { stdout } = await runCommand('fio', args, { timeoutMs })
  return parseFio(stdout, job)
}

function parseFio(stdout: string, job: FioJob): FioFigures {
  // fio may print notices before the JSON document.
  const doc = JSON.parse(stdout.slice(stdout.indexOf('{'))) as { jobs: Array<Record<'read' | 'write', FioSide>> }
  const side = doc.jobs[0]?.[job.rw.endsWith('read') ? 'read' : 'write']
  if (!side || side.io_bytes === 0) throw new Error(`fio ${job.name}: no I/O reported`)
  const pct = side.clat_ns.percentile ?? {}
  return {
    mibPerSecond: side.bw_bytes / 2 ** 20,
    iops: side.iops,
    ioBytes: side.io_bytes,
    runtimeMs: side.runtime,
    clatUs: { p50: (pct['50.000000'] ?? NaN) / 1000, p99: (pct['99.000000'] ?? NaN) / 1000 },
  }
}

interface FioSide {
  bw_bytes: number
  iops: number
  io_bytes: number
  runtime: number
  clat_ns: { percentile?: Record<string, number> }
}

export async function fioVersion(): Promise<string> {
  return (await runCommand('fio', ['--version'])).stdout.trim()
}
