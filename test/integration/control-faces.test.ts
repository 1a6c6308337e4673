// The three control faces agree: the control files under MOUNT/.meshfs/ show what the CLI prints
// with --json and what the TypeScript client returns (all three are calls of one control API);
// writing a token into .meshfs/join joins like `meshfs join`; namespace events reach the client's
// subscribeNamespace and `tail -f`/`cat` of .meshfs/ns/NS/events as they happen, from local and
// remote changes. Every daemon and every reader process is stopped by pid in a `finally`.

import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, test } from 'node:test'
import { connect, MeshfsError, type NamespaceEvent } from '../../src/index.js'
import { ok, REPO, runCli, sh } from '../support/harness.js'
import { rejectsCode } from '../support/errno.js'
import { waitFor } from '../support/wait.js'
import { LISTEN, SYNC_MS, TEST_TIMEOUT, q, waitPresent, withCluster } from '../support/cluster.js'
import type { MountedNode } from '../support/harness.js'

async function cliJson<T>(node: MountedNode, ...args: string[]): Promise<T> {
  const r = await runCli([...args, '--data', node.data, '--json'])
  assert.equal(r.code, 0, `meshfs ${args.join(' ')} --json exited ${r.code}: ${r.stderr}`)
  return JSON.parse(r.stdout) as T
}

const file = (node: MountedNode, rel: string) => readFileSync(path.join(node.mnt, '.meshfs', rel), 'utf8')
const json = <T>(node: MountedNode, rel: string) => JSON.parse(file(node, rel)) as T

/** A reader of a file that may never end (tail -f, cat of events); killed by pid in `stop`. */
function follow(cmd: string[]): { proc: ChildProcess; output: () => string; stop: () => Promise<void> } {
  const proc = spawn(cmd[0]!, cmd.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] })
  let text = ''
  proc.stdout!.on('data', (d: Buffer) => (text += d.toString()))
  proc.stderr!.on('data', (d: Buffer) => (text += d.toString()))
  const exited = new Promise<void>((r) => proc.once('exit', () => r()))
  return {
    proc,
    output: () => text,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL')
      await exited
    },
  }
}

/** Collect a subscription's events in the background until `stop`. */
function collect(it: AsyncIterableIterator<NamespaceEvent>): {
  events: NamespaceEvent[]
  stop: () => Promise<void>
  failure: () => unknown
} {
  const events: NamespaceEvent[] = []
  let failure: unknown
  const done = (async () => {
    try {
      for await (const e of it) events.push(e)
    } catch (err) {
      failure = err
    }
  })()
  return {
    events,
    failure: () => failure,
    async stop() {
      await it.return?.()
      await done
    },
  }
}

describe('control faces', () => {
  test('control files, the CLI and the client show the same namespace', { timeout: TEST_TIMEOUT }, () =>
    withCluster(async (c) => {
      const a = await c.start()
      await ok(`mkdir ${q(path.join(a.mnt, 'proj'))}`)
      const client = connect({ dataDir: a.data })

      const viaCli = await cliJson<Record<string, unknown>>(a, 'ns', 'get', 'proj')
      const viaClient = await client.getNamespace('proj')
      const info = json<Record<string, unknown>>(a, 'ns/proj/info.json')
      assert.deepEqual(viaClient, viaCli)
      assert.deepEqual({ ...info, members: undefined }, { ...viaCli, members: undefined })
      assert.equal(info.members, 1, 'the creator is the one member')

      assert.deepEqual(json(a, 'ns/proj/members'), await cliJson(a, 'ns', 'members', 'proj'))
      assert.deepEqual(json(a, 'ns/proj/members'), await client.listMembers('proj'))
      const identity = await cliJson<{ publicKey: string; role: string }>(a, 'ns', 'identity', 'proj')
      assert.equal(file(a, 'ns/proj/identity').trim(), identity.publicKey)
      assert.deepEqual(await client.getNamespaceIdentity('proj'), identity)
      assert.equal(identity.role, 'admin')
      assert.deepEqual(json(a, 'ns/proj/sync.json'), await cliJson(a, 'sync', 'list', 'proj'))
      assert.deepEqual(json(a, 'ns/proj/sync.json'), await client.getSyncConfiguration('proj'))
      const status = json<{ nodeId: string }>(a, 'status')
      assert.equal(status.nodeId, identity.publicKey)

      // Reading `invite` mints a token for this namespace, as `meshfs invite` does.
      const minted = JSON.parse(file(a, 'ns/proj/invite')) as { ns: string; inviter: string }
      assert.equal(minted.ns, viaClient.id)
      assert.equal(minted.inviter, identity.publicKey)

      // Control files are read-only (or write-only), and never appear inside a namespace.
      const write = await sh(`echo x > ${q(path.join(a.mnt, '.meshfs/ns/proj/info.json'))}`)
      assert.notEqual(write.code, 0)
      assert.match(write.stderr, /Permission denied/)
      const readJoin = await sh(`cat ${q(path.join(a.mnt, '.meshfs/join'))}`)
      assert.notEqual(readJoin.code, 0)
      assert.match(readJoin.stderr, /Permission denied/)
      const bad = await sh(`echo 'not a token' > ${q(path.join(a.mnt, '.meshfs/join'))}`)
      assert.notEqual(bad.code, 0, 'a bad token written into .meshfs/join fails the write')
      assert.match(bad.stderr, /Invalid argument/)
      assert.deepEqual((await ok(`ls -A ${q(path.join(a.mnt, 'proj'))}`)).trim(), '')
      assert.match(a.log(), /bad invitation/)

      // Bad arguments: clear errors from the client (typed) and the CLI (exit 2).
      await rejectsCode(client.getNamespace('nope'), 'ENOENT', { type: MeshfsError, message: /nope/ })
      await rejectsCode(client.subscribeNamespace('nope'), 'ENOENT', { type: MeshfsError })
    }),
  )

  test('events: the client and the events file see local changes as they happen', { timeout: TEST_TIMEOUT }, () =>
    withCluster(async (c) => {
      const a = await c.start()
      const ns = path.join(a.mnt, 'proj')
      await ok(`mkdir ${q(ns)}`)
      const sub = collect(await connect({ dataDir: a.data }).subscribeNamespace('proj'))
      const cat = follow(['cat', path.join(a.mnt, '.meshfs/ns/proj/events')])
      try {
        await ok(`echo one > ${q(ns)}/a.txt`)
        await waitFor(() => sub.events.some((e) => e.type === 'put' && e.path === '/a.txt'), { what: 'put /a.txt', timeoutMs: SYNC_MS })
        await ok(`mkdir ${q(ns)}/g`)
        await waitFor(() => sub.events.some((e) => e.type === 'put' && e.path === '/g' && e.kind === 'group'), {
          what: 'put /g',
          timeoutMs: SYNC_MS,
        })
        await ok(`mv ${q(ns)}/a.txt ${q(ns)}/g/`)
        await waitFor(() => sub.events.some((e) => e.type === 'move' && e.from === '/a.txt' && e.to === '/g/a.txt'), {
          what: 'move',
          timeoutMs: SYNC_MS,
        })
        await ok(`rm -r ${q(ns)}/g`)
        await waitFor(() => sub.events.some((e) => e.type === 'remove' && e.path === '/g'), { what: 'remove /g', timeoutMs: SYNC_MS })
        // `cat` of the events file is still running (blocked reads) and saw the same events.
        await waitFor(() => cat.output().includes('"type":"move"'), { what: 'cat of events to show the move', timeoutMs: SYNC_MS })
        assert.equal(cat.proc.exitCode, null, `cat ended: ${cat.output()}`)
        const lines = cat
          .output()
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as { type: string; seq?: number })
        assert.equal(lines[0]!.type, 'stream')
        for (const want of ['put', 'move', 'remove'])
          assert.ok(
            lines.some((l) => l.type === want),
            `${want} in ${cat.output()}`,
          )
      } finally {
        await sub.stop()
        await cat.stop()
      }
      assert.equal(sub.failure(), undefined)
    }),
  )

  test(
    'two nodes: join through .meshfs/join; tail -f and the client see remote changes and the member joining',
    { timeout: TEST_TIMEOUT },
    () =>
      withCluster(async (c) => {
        const a = await c.start(LISTEN)
        const b = await c.start(LISTEN)
        await ok(`mkdir ${q(path.join(a.mnt, 'team'))}`)
        const sub = collect(await connect({ dataDir: a.data }).subscribeNamespace('team'))
        let tail: ReturnType<typeof follow> | undefined
        try {
          const token = file(a, 'ns/team/invite').trim()
          await ok(`echo ${q(token)} > ${q(path.join(b.mnt, '.meshfs/join'))}`)
          await waitPresent(path.join(b.mnt, 'team'))
          const bKey = file(b, 'ns/team/identity').trim()
          await waitFor(() => sub.events.some((e) => e.type === 'member-joined' && e.member === bKey), {
            what: 'member-joined on A',
            timeoutMs: SYNC_MS,
          })

          tail = follow(['tail', '-f', '-n', '1', path.join(b.mnt, '.meshfs/ns/team/events')])
          await waitFor(() => tail!.output().trim().length > 0, { what: 'tail to print the last line', timeoutMs: SYNC_MS })
          await ok(`echo hello > ${q(path.join(a.mnt, 'team/hello.txt'))}`)
          await waitFor(() => /"type":"put","path":"\/hello.txt"/.test(tail!.output()), {
            what: 'tail -f on B to show the put made on A',
            timeoutMs: SYNC_MS,
          })
          await ok(`echo more >> ${q(path.join(b.mnt, 'team/hello.txt'))}`)
          await waitFor(() => sub.events.filter((e) => e.type === 'put' && e.path === '/hello.txt').length >= 2, {
            what: "the client on A to see B's edit",
            timeoutMs: SYNC_MS,
          })
        } finally {
          await sub.stop()
          await tail?.stop()
        }
      }),
  )

  test("the README's client example is the file the tests run, and it runs as written", { timeout: TEST_TIMEOUT }, () =>
    withCluster(async (c) => {
      const example = path.join(REPO, 'scripts/examples/client.mjs')
      const readme = readFileSync(path.join(REPO, 'README.md'), 'utf8')
      assert.ok(readme.includes(`\`\`\`js\n${readFileSync(example, 'utf8')}\`\`\``), 'README.md shows scripts/examples/client.mjs verbatim')
      const a = await c.start()
      const out = await ok(`${q(process.execPath)} ${q(example)} ${q(a.data)}`)
      assert.match(out, /^created journal \([0-9a-f]{32}\)$/m)
      assert.match(out, /^this node is admin of journal/m)
      assert.match(out, /^event: put \/drafts\/today$/m)
      assert.match(out, /^a typed error: ENOENT$/m)
      assert.match(out, /^deleted journal$/m)
    }),
  )
})
