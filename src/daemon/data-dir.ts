// The node's data directory (`--data`): created 0700 on first use, and held by one daemon at a
// time through a pid file, so that two daemons never write the same store.

import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'

const PID_FILE = 'daemon.pid'

/** The pid of the daemon holding `dir`, if one is alive (tools ask before choosing a node). */
export function runningDaemonPid(dir: string): number | undefined {
  let pid: number
  try {
    pid = Number.parseInt(readFileSync(path.join(dir, PID_FILE), 'utf8'), 10)
  } catch {
    return undefined
  }
  return Number.isInteger(pid) && pid > 0 && isAlive(pid) ? pid : undefined
}

export class DataDirLock {
  private constructor(
    readonly dir: string,
    private readonly pidFile: string,
  ) {}

  static acquire(dir: string): DataDirLock {
    const abs = path.resolve(dir)
    mkdirSync(abs, { recursive: true, mode: 0o700 })
    const pidFile = path.join(abs, PID_FILE)
    try {
      writeFileSync(pidFile, `${process.pid}\n`, { flag: 'wx', mode: 0o600 })
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      const other = Number.parseInt(readFileSync(pidFile, 'utf8'), 10)
      if (Number.isInteger(other) && other !== process.pid && isAlive(other)) {
        throw new Error(`data directory ${abs} is in use by the meshfs daemon with pid ${other}`)
      }
      // Left behind by a daemon that died (kill -9): take it over.
      writeFileSync(pidFile, `${process.pid}\n`, { mode: 0o600 })
    }
    return new DataDirLock(abs, pidFile)
  }

  release(): void {
    rmSync(this.pidFile, { force: true })
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}
