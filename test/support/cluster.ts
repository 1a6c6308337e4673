// Several real daemons on loopback for the tests that sync: a Cluster starts and stops them (by
// pid, unmounting in `close`, called from a `finally`), and the helpers below drive and probe
// their mounts with shell tools and the CLI. Nothing waits a fixed time: each check polls until
// the expected state shows (bounded), and a timeout reports what was seen instead.

import assert from 'node:assert/strict'
import { rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { CLI, ok, runCli, sh, startMount, tempDir, type MountedNode } from './harness.js'
import { WaitTimeout, waitFor } from './wait.js'

export const LISTEN = ['--listen', '127.0.0.1:0']
/** How long a change may take to show on another connected node. */
export const SYNC_MS = 10_000
/** How long all mounts may take to show one identical tree. */
export const CONVERGE_MS = 20_000
export const TEST_TIMEOUT = 180_000

export const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`

/** The daemons of one test: stopped (and their kept roots removed) in `close`, from a `finally`. */
export class Cluster {
  private live: MountedNode[] = []
  private roots: string[] = []
  private all: MountedNode[] = []

  async start(args: string[] = LISTEN, root?: string, wrap?: string[]): Promise<MountedNode> {
    if (root !== undefined && !this.roots.includes(root)) this.roots.push(root)
    const node = await startMount(args, { ...(root !== undefined && { root }), ...(wrap !== undefined && { wrap }) })
    this.live.push(node)
    this.all.push(node)
    return node
  }

  /** A root that survives the node's stop, to restart a node on the same mountpoint and data. */
  keptRoot(name: string): string {
    const root = tempDir(name)
    this.roots.push(root)
    return root
  }

  async stop(node: MountedNode): Promise<void> {
    this.live = this.live.filter((n) => n !== node)
    await node.stop()
  }

  /** SIGKILL, as a crash: the dead mountpoint is left for the next `meshfs mount` to recover. */
  async kill9(node: MountedNode): Promise<void> {
    this.live = this.live.filter((n) => n !== node)
    const exited = new Promise<void>((r) =>
      node.proc.exitCode !== null || node.proc.signalCode !== null ? r() : node.proc.once('exit', () => r()),
    )
    node.proc.kill('SIGKILL')
    await exited
  }

  async close(failed: boolean): Promise<void> {
    if (failed) {
      for (const n of this.all) {
        const tail = n.log().trim().split('\n').slice(-30).join('\n')
        console.error(`--- log of the daemon at ${n.mnt} (last lines) ---\n${tail}`)
      }
    }
    for (const n of this.live.reverse()) await n.stop().catch((err: Error) => console.error(`stopping ${n.mnt}: ${err.message}`))
    for (const r of this.roots) {
      await sh(`fusermount3 -uz ${q(path.join(r, 'mnt'))} 2>/dev/null; true`)
      rmSync(r, { recursive: true, force: true })
    }
  }
}

export async function withCluster(fn: (c: Cluster) => Promise<void>): Promise<void> {
  const c = new Cluster()
  let failed = true
  try {
    await fn(c)
    failed = false
  } finally {
    await c.close(failed)
  }
}

/** Poll `probe` until it returns `expected`; on timeout fail with the last value seen. */
export async function eventually(
  what: string,
  probe: () => Promise<string | undefined> | string | undefined,
  expected: string,
  timeoutMs = SYNC_MS,
): Promise<void> {
  let last: string | undefined
  try {
    await waitFor(async () => (last = await probe()) === expected, { what, timeoutMs })
  } catch (err) {
    if (!(err instanceof WaitTimeout)) throw err
    assert.fail(
      `timed out after ${timeoutMs} ms waiting for ${what}\nexpected: ${JSON.stringify(expected)}\nactual:   ${JSON.stringify(last)}`,
    )
  }
}

/** A probe's answer time; a mount that does not answer in it fails the probe (and says so). */
export const PROBE_MS = 5_000

/** The output of a command, or `<exit N: stderr>` when it failed (absent file, racing change). */
export async function out(cmd: string): Promise<string> {
  const t0 = Date.now()
  const r = await sh(`set -o pipefail; ${cmd}`, { timeoutMs: PROBE_MS })
  if (r.code === 0) return r.stdout
  return Date.now() - t0 >= PROBE_MS ? `<no answer within ${PROBE_MS} ms: ${cmd}>` : `<exit ${r.code}: ${r.stderr.trim()}>`
}

export const cat = (p: string) => out(`cat ${q(p)}`)
export const sha256 = (p: string) => out(`sha256sum < ${q(p)} | cut -d' ' -f1`)
export const idOf = (p: string) => out(`getfattr -n user.meshfs.id --only-values ${q(p)}`)
/** 'absent' once stat says ENOENT (a dead mount says something else, and does not pass). */
export const presence = async (p: string) => {
  const t0 = Date.now()
  const r = await sh(`stat ${q(p)}`, { timeoutMs: PROBE_MS })
  if (r.code === 0) return 'present'
  if (/No such file or directory/.test(r.stderr)) return 'absent'
  return Date.now() - t0 >= PROBE_MS ? `<stat: no answer within ${PROBE_MS} ms>` : `<stat: ${r.stderr.trim()}>`
}

export const waitContent = (p: string, expected: string) => eventually(`${p} to read ${JSON.stringify(expected)}`, () => cat(p), expected)
export const waitPresent = (p: string) => eventually(`${p} to exist`, () => presence(p), 'present')
export const waitAbsent = (p: string) => eventually(`${p} to be gone`, () => presence(p), 'absent')

export const TREE = `find . -printf '%p %y %s\\n' | sort`

/** Poll until `find . -printf '%p %y %s\n' | sort` is the same in every directory; returns it. */
export async function convergedTree(dirs: string[], timeoutMs = CONVERGE_MS): Promise<string> {
  let trees: string[] = []
  const converged = async () => {
    trees = await Promise.all(dirs.map((d) => out(`cd ${q(d)} && ${TREE}`)))
    return trees.every((t) => !t.startsWith('<') && t === trees[0])
  }
  try {
    await waitFor(converged, { what: 'the trees to converge', timeoutMs, intervalMs: 100 })
  } catch (err) {
    if (!(err instanceof WaitTimeout)) throw err
    assert.fail(`the trees did not converge within ${timeoutMs} ms:\n${dirs.map((d, i) => `--- ${d}\n${trees[i]}`).join('\n')}`)
  }
  return trees[0]!
}

/** Just the paths and types of a `convergedTree` (directory sizes are the handler's business). */
export const shape = (tree: string) =>
  tree
    .trim()
    .split('\n')
    .map((l) => l.split(' ').slice(0, 2).join(' '))
    .join('\n')

export async function statusUrl(node: MountedNode): Promise<string> {
  const status = JSON.parse(await ok(`cat ${q(path.join(node.mnt, '.meshfs/status'))}`)) as { url?: unknown }
  assert.equal(typeof status.url, 'string', `no "url" in ${node.mnt}/.meshfs/status`)
  return status.url as string
}

/** `meshfs invite NS --data DIR ...`: exit 0 and one line of JSON on stdout, which it returns. */
export async function invite(node: MountedNode, ns: string, ...extra: string[]): Promise<string> {
  const r = await runCli(['invite', ns, '--data', node.data, ...extra])
  assert.equal(r.code, 0, `meshfs invite ${ns} ${extra.join(' ')} exited ${r.code}: ${r.stderr}`)
  const token = r.stdout.trim()
  assert.equal(token.split('\n').length, 1, `the invitation is not one line: ${JSON.stringify(r.stdout)}`)
  JSON.parse(token)
  return token
}

export async function join(node: MountedNode, token: string): Promise<void> {
  const r = await runCli(['join', token, '--data', node.data], { timeoutMs: 30_000 })
  assert.equal(r.code, 0, `meshfs join (on ${node.data}) exited ${r.code}: ${r.stderr}${r.stdout}`)
}

/** `meshfs join - --data DIR` with the token on stdin. */
export async function joinStdin(node: MountedNode, token: string): Promise<void> {
  const file = path.join(node.root, 'token.txt')
  writeFileSync(file, `${token}\n`)
  const r = await sh(`${q(process.execPath)} ${q(CLI)} join - --data ${q(node.data)} < ${q(file)}`, { timeoutMs: 30_000 })
  assert.equal(r.code, 0, `meshfs join - (on ${node.data}) exited ${r.code}: ${r.stderr}${r.stdout}`)
}

/** A creates namespace `ns` (by mkdir), invites, each other node joins; returns when all show it. */
export async function share(a: MountedNode, others: MountedNode[], ns = 'team'): Promise<void> {
  await ok(`mkdir ${q(path.join(a.mnt, ns))}`)
  for (const b of others) {
    await join(b, await invite(a, ns))
    await waitPresent(path.join(b.mnt, ns))
  }
}
