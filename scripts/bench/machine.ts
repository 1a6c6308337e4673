// Facts about the machine and the code under test, recorded in every result: a figure means
// little without the cores, memory, kernel and commit it was measured on.

import { readFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fioVersion } from './fio.js'
import { REPO_ROOT } from './paths.js'
import { runCommand } from './proc.js'

export interface MachineFacts {
  cpus: number
  cpuModel: string
  memoryBytes: number
  kernel: string
  os: string
  node: string
  fio: string
  fuseNative: string
  commit: string
  commitFull: string
  /** Uncommitted changes were present: the figures are for the working tree, not the commit. */
  dirty: boolean
  /** 1-minute load average when the run started: other work on the machine skews every figure. */
  loadAverageAtStart: number
}

/** Above this 1-minute load per core, other processes are competing with the bench. */
export const BUSY_LOAD_PER_CPU = 0.25

export function isBusy(m: MachineFacts): boolean {
  return m.loadAverageAtStart / m.cpus > BUSY_LOAD_PER_CPU
}

async function git(args: string[]): Promise<string> {
  return (await runCommand('git', args, { cwd: REPO_ROOT })).stdout.trim()
}

function osName(): string {
  try {
    return /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? os.type()
  } catch {
    return os.type()
  }
}

function packageVersion(name: string): string {
  const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }
  return pkg.version
}

export async function machineFacts(): Promise<MachineFacts> {
  const cpus = os.cpus()
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    memoryBytes: os.totalmem(),
    kernel: os.release(),
    os: osName(),
    node: process.version,
    fio: await fioVersion(),
    fuseNative: packageVersion('fuse-native'),
    commit: await git(['rev-parse', '--short', 'HEAD']),
    commitFull: await git(['rev-parse', 'HEAD']),
    dirty: (await git(['status', '--porcelain'])).length > 0,
    loadAverageAtStart: os.loadavg()[0]!,
  }
}
