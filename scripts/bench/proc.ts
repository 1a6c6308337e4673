// Child processes for the bench: commands whose wall time is measured, and long-running servers
// that are stopped by their own pid (never by name), with a bounded wait for them to exit.

import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process'
import { openSync, closeSync } from 'node:fs'

export interface CommandResult {
  seconds: number
  stdout: string
}

export interface CommandOptions {
  cwd?: string
  /** Kill the command (by pid) if it runs longer; a hung FUSE op must not hang the bench. */
  timeoutMs?: number
  /** Discard stdout instead of collecting it (`ls -l` of 10k entries, `tar`). */
  discardStdout?: boolean
  /** Extra environment variables. */
  env?: Record<string, string>
}

/** Run `cmd` to completion; resolve with its wall time, reject with its stderr if it fails. */
export function runCommand(cmd: string, args: string[], opts: CommandOptions = {}): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint()
    const env = opts.env ? { ...process.env, ...opts.env } : process.env
    const child = spawn(cmd, args, { cwd: opts.cwd, env, stdio: ['ignore', opts.discardStdout ? 'ignore' : 'pipe', 'pipe'] })
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout?.on('data', (b: Buffer) => out.push(b))
    child.stderr?.on('data', (b: Buffer) => err.push(b))
    const timer = opts.timeoutMs
      ? setTimeout(() => {
          if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL')
        }, opts.timeoutMs)
      : undefined
    child.on('error', (e) => {
      clearTimeout(timer)
      reject(new Error(`${cmd}: ${e.message}`))
    })
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      const seconds = Number(process.hrtime.bigint() - started) / 1e9
      if (code === 0) return resolve({ seconds, stdout: Buffer.concat(out).toString() })
      const why = signal ? `killed by ${signal}` : `exit code ${code}`
      const stderr = Buffer.concat(err).toString().trim().split('\n').slice(-5).join('\n')
      reject(new Error(`${cmd} ${args.join(' ')}: ${why}${stderr ? `\n${stderr}` : ''}`))
    })
  })
}

/** Start a long-running server with its output appended to `logFile` (kept for post-mortems). */
export function startServer(cmd: string, args: string[], logFile: string): ChildProcess {
  const log = openSync(logFile, 'a')
  try {
    const stdio: StdioOptions = ['ignore', log, log]
    return spawn(cmd, args, { stdio })
  } finally {
    closeSync(log)
  }
}

export function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null
}

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (hasExited(child)) return Promise.resolve(true)
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs)
    child.once('exit', () => {
      clearTimeout(timer)
      resolve(true)
    })
  })
}

/**
 * SIGTERM the server by pid and wait for it to exit (the FUSE servers unmount on SIGTERM);
 * SIGKILL it by pid if it does not within `graceMs`. Returns how it ended, for the log.
 */
export async function stopServer(child: ChildProcess, graceMs = 15_000): Promise<'exited' | 'killed'> {
  if (hasExited(child) || child.pid === undefined) return 'exited'
  process.kill(child.pid, 'SIGTERM')
  if (await waitForExit(child, graceMs)) return 'exited'
  process.kill(child.pid, 'SIGKILL')
  await waitForExit(child, 5_000)
  return 'killed'
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

/** Poll `check` until it is true; throw `what` after `timeoutMs`. */
export async function waitUntil(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(50)
  }
}
