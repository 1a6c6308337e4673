// Which node a CLI command talks to, when several may run on one machine. In order: `--data`,
// else $MESHFS_DATA, else the meshfs mount that contains the current directory, else the
// default data directory if its daemon runs, else the only daemon running; with none running,
// the default (whose absence the call then reports). Several running and nothing to tell them
// apart is refused with the list: answering for the wrong node is worse than asking.

import path from 'node:path'
import { defaultDataDir } from '../api/socket.js'
import { longestWithin, meshfsMountpoints, nodesAt, type RunningNode } from '../client/mounts.js'
import { runningDaemonPid } from '../daemon/data-dir.js'
import { UsageError } from './usage-error.js'

/** The environment variable that names the data directory, as `--data` does. */
export const DATA_ENV = 'MESHFS_DATA'

export interface NodeChoice {
  dataDir: string
  /** Why this one, for `--verbose`. */
  why: string
}

/** What the choice is made from, gathered by `chooseNode` (tests give it directly). */
export interface Situation {
  flag: string | undefined
  env: string | undefined
  /** The current directory; undefined when it cannot be read (deleted, or on a dead mount). */
  cwd: string | undefined
  defaultDir: string
  defaultRunning: boolean
  running: RunningNode[]
}

export async function chooseNode(flag: string | undefined): Promise<NodeChoice> {
  const env = process.env[DATA_ENV] || undefined
  // Explicit choices need nothing else looked at (and no mount asked).
  if (flag !== undefined || env !== undefined)
    return decide({ flag, env, cwd: undefined, defaultDir: '', defaultRunning: false, running: [] })
  const defaultDir = defaultDataDir()
  const defaultRunning = runningDaemonPid(defaultDir) !== undefined
  const cwd = currentDir()
  const mountpoints = await meshfsMountpoints()
  const inside = cwd === undefined ? undefined : longestWithin(mountpoints, cwd)
  // Only the mounts the choice depends on are asked: a hung one elsewhere must not hold this up.
  const ask = inside !== undefined ? [inside] : defaultRunning ? [] : mountpoints
  return decide({ flag, env, cwd, defaultDir, defaultRunning, running: await nodesAt(ask) })
}

export function decide(s: Situation): NodeChoice {
  if (s.flag !== undefined) return { dataDir: path.resolve(s.flag), why: 'given with --data' }
  if (s.env !== undefined) return { dataDir: path.resolve(s.env), why: `given by $${DATA_ENV}` }
  const mnt =
    s.cwd === undefined
      ? undefined
      : longestWithin(
          s.running.map((n) => n.mountpoint),
          s.cwd,
        )
  if (mnt !== undefined) {
    const node = s.running.find((n) => n.mountpoint === mnt)!
    if (node.dataDir === undefined)
      throw new Error(`the current directory is inside the meshfs mount at ${mnt}, whose daemon does not answer`)
    return { dataDir: node.dataDir, why: `the current directory is inside its mount at ${mnt}` }
  }
  if (s.defaultRunning) return { dataDir: s.defaultDir, why: 'the default data directory, whose daemon is running' }
  if (s.running.length === 0) return { dataDir: s.defaultDir, why: 'the default data directory (no meshfs daemon is running)' }
  if (s.running.length === 1 && s.running[0]!.dataDir !== undefined)
    return { dataDir: s.running[0]!.dataDir, why: `the only meshfs daemon running (mounted at ${s.running[0]!.mountpoint})` }
  throw new UsageError(
    `${s.running.length} meshfs daemons are running and nothing says which one to use: pass --data DIR, set ${DATA_ENV}, or run the command inside a mount\n${listOf(s.running)}`,
  )
}

function listOf(nodes: RunningNode[]): string {
  return nodes
    .map((n) => `  ${n.dataDir ?? '(not answering)'}  mounted at ${n.mountpoint}${n.pid === undefined ? '' : `, pid ${n.pid}`}`)
    .join('\n')
}

function currentDir(): string | undefined {
  try {
    return process.cwd()
  } catch {
    return undefined
  }
}
