// Real mounts for integration tests: a `meshfs mount` daemon in its own process (the real CLI),
// driven by real shell tools. Every mount is stopped by pid and unmounted in `stop`, which tests
// call from a `finally`/after hook, so a failing test leaves nothing behind.

import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, promises as fsp, rmSync, statSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { waitFor } from './wait.js'

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..')
export const CLI = path.join(REPO, 'dist/src/cli/main.js')
export const FIXTURES = path.join(REPO, 'dist/test/fixtures')

export interface ShResult {
  code: number
  stdout: string
  stderr: string
}

/** Run a bash command line; never throws, so tests can assert on failures too. */
export function sh(cmd: string, opts: { cwd?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<ShResult> {
  return new Promise((resolve) => {
    execFile(
      'bash',
      ['-c', cmd],
      { cwd: opts.cwd, timeout: opts.timeoutMs ?? 60_000, env: opts.env ?? process.env, maxBuffer: 64 << 20 },
      (err, stdout, stderr) => {
        // 124, as timeout(1) says it: the command was killed when its time ran out.
        const code = err ? (typeof err.code === 'number' ? err.code : err.killed ? 124 : 1) : 0
        resolve({ code, stdout, stderr })
      },
    )
  })
}

/**
 * Run and demand success, with the command's stderr in the failure message. `timeoutMs` (default
 * 60 s, sh's) only guards against a hang: a command that moves a gigabyte on a busy 2-core
 * machine may need more.
 */
export async function ok(cmd: string, cwd?: string, timeoutMs?: number): Promise<string> {
  const r = await sh(cmd, { ...(cwd === undefined ? {} : { cwd }), ...(timeoutMs === undefined ? {} : { timeoutMs }) })
  if (r.code !== 0)
    throw new Error(`command failed (${r.code}${r.code === 124 ? ', killed after the timeout' : ''}): ${cmd}\n${r.stderr}${r.stdout}`)
  return r.stdout
}

export function runCli(args: string[], opts: { timeoutMs?: number } = {}): Promise<ShResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { timeout: opts.timeoutMs ?? 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr })
    })
  })
}

export function tempDir(prefix: string): string {
  return mkdtempSync(path.join(os.tmpdir(), `meshfs-${prefix}-`))
}

export async function isMounted(mnt: string): Promise<boolean> {
  const text = await fsp.readFile('/proc/mounts', 'utf8')
  return text.split('\n').some((l) => l.split(' ')[1] === mnt)
}

export interface MountedNode {
  root: string
  mnt: string
  data: string
  proc: ChildProcess
  log(): string
  stop(): Promise<void>
}

/** Start `meshfs mount` on a fresh temp mountpoint and wait until the mount answers. */
export async function startMount(extraArgs: string[] = [], opts: { root?: string; wrap?: string[] } = {}): Promise<MountedNode> {
  const root = opts.root ?? tempDir('it')
  const mnt = path.join(root, 'mnt')
  const data = path.join(root, 'data')
  // A mountpoint left dead by a killed daemon answers ENOTCONN: `meshfs mount` recovers it.
  await fsp.mkdir(mnt, { recursive: true }).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOTCONN') throw err
  })
  // `wrap` runs the daemon under a command that execs it (`nsenter --net=...`), so the pid is its own.
  const argv = [process.execPath, CLI, 'mount', mnt, '--data', data, ...extraArgs]
  const [cmd, ...args] = [...(opts.wrap ?? []), ...argv]
  const proc = spawn(cmd!, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  let log = ''
  proc.stdout!.on('data', (d: Buffer) => (log += d.toString()))
  proc.stderr!.on('data', (d: Buffer) => (log += d.toString()))
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()))
  const node: MountedNode = {
    root,
    mnt,
    data,
    proc,
    log: () => log,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGTERM')
        let timer: NodeJS.Timeout | undefined
        const killed = await Promise.race([
          exited.then(() => true),
          new Promise<boolean>((r) => (timer = setTimeout(() => r(false), 10_000))),
        ])
        clearTimeout(timer)
        if (!killed) {
          proc.kill('SIGKILL')
          await exited
        }
      }
      if (await isMounted(mnt)) await sh(`fusermount3 -uz '${mnt}' || umount -l '${mnt}'`)
      if (!opts.root) rmSync(root, { recursive: true, force: true })
    },
  }
  try {
    await waitFor(
      async () => {
        if (proc.exitCode !== null) throw new Error(`meshfs mount exited with ${proc.exitCode}: ${log}`)
        return (await isMounted(mnt)) && existsSync(path.join(mnt, '.meshfs', 'status'))
      },
      { what: `the mount at ${mnt} (log: ${log})` },
    )
  } catch (err) {
    await node.stop()
    throw err
  }
  return node
}

export function modeOf(p: string): number {
  return statSync(p).mode & 0o7777
}
