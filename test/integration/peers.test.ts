// Peers (Kitsune2's space) on real daemons over loopback: signed agent infos gossiped among the
// members of a namespace, so a node that joined through one member meets the others, also after
// a restart; per-peer health (failed dials, unresponsive since); `meshfs status`; and
// `meshfs notify`. Every daemon a test starts it stops in a `finally`; nothing waits a fixed
// time: each check polls until the state shows, within a generous bound.

import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { describe, test } from 'node:test'
import type { NodeStatus as Status, PeerView as Peer } from '../../src/index.js'
import { CLI, ok, runCli, sh, type MountedNode } from '../support/harness.js'
import { waitFor } from '../support/wait.js'
import { LISTEN, q, withCluster } from '../support/cluster.js'

/** Gossip, dials and their backoff: seconds in practice; the bound is generous. */
const MESH_MS = 30_000
const TEST_TIMEOUT = 240_000

async function cli(args: string[]): Promise<string> {
  const r = await runCli(args)
  assert.equal(r.code, 0, `meshfs ${args.join(' ')} exited ${r.code}: ${r.stderr}`)
  return r.stdout
}

const status = async (n: MountedNode) => JSON.parse(await cli(['status', '--json', '--data', n.data])) as Status
const peers = async (n: MountedNode, ns: string) => JSON.parse(await cli(['peers', ns, '--json', '--data', n.data])) as Peer[]

/** Poll `probe` until `cond` holds on its value; on timeout fail showing the last value. */
async function until<T>(what: string, probe: () => Promise<T>, cond: (v: T) => boolean, timeoutMs = MESH_MS): Promise<T> {
  let last: T | undefined
  try {
    await waitFor(async () => cond((last = await probe())), { what, timeoutMs })
  } catch {
    assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}; last seen:\n${JSON.stringify(last, null, 2)}`)
  }
  return last!
}

const connectedTo = (s: Status, key: string) => s.connectedPeers.some((p) => p.key === key)

async function share(a: MountedNode, b: MountedNode, ns = 'team'): Promise<void> {
  const token = (await cli(['invite', ns, '--data', a.data])).trim()
  const r = await runCli(['join', token, '--data', b.data], { timeoutMs: 30_000 })
  assert.equal(r.code, 0, `meshfs join exited ${r.code}: ${r.stderr}`)
  await waitFor(async () => (await sh(`test -d ${q(path.join(b.mnt, ns))}`)).code === 0, { what: `${ns} on ${b.mnt}`, timeoutMs: MESH_MS })
}

async function waitContent(p: string, expected: string): Promise<void> {
  await until(
    `${p} to read ${JSON.stringify(expected)}`,
    async () => (await sh(`cat ${q(p)}`, { timeoutMs: 5_000 })).stdout,
    (v) => v === expected,
  )
}

describe('peers: gossip, health, status and notify', () => {
  test(
    'C joins through A only, learns B by gossip and connects to it, also after a restart with A gone; a stopped B shows as unresponsive',
    { timeout: TEST_TIMEOUT },
    () =>
      withCluster(async (c) => {
        const a = await c.start()
        const rootB = c.keptRoot('peers-b')
        const rootC = c.keptRoot('peers-c')
        let b = await c.start(LISTEN, rootB)
        let cc = await c.start(LISTEN, rootC)
        await ok(`mkdir ${a.mnt}/team`)
        await share(a, b)
        await share(a, cc)
        const [sa, sb, sc] = [await status(a), await status(b), await status(cc)]

        // Neither B nor C was told of the other: only gossip through A can connect them.
        await until(
          'B to list C as a connected peer',
          () => status(b),
          (s) => connectedTo(s, sc.nodeId),
        )
        await until(
          'C to list B as a connected peer',
          () => status(cc),
          (s) => connectedTo(s, sb.nodeId),
        )
        const viewC = await until(
          'C to know A and B with their URLs',
          () => peers(cc, 'team'),
          (p) => p.length === 2 && p.every((x) => x.connected),
        )
        assert.deepEqual(viewC.map((p) => p.key).sort(), [sa.nodeId, sb.nodeId].sort())
        for (const p of viewC) {
          assert.deepEqual(p.urls, [p.key === sa.nodeId ? sa.url : sb.url])
          assert.ok(p.expiresAtMs! > Date.now() + 60_000, `the agent info of ${p.key} expires in the future: ${p.expiresAtMs}`)
          assert.equal(p.failures, 0)
          assert.equal(p.unresponsiveSinceMs, null)
          assert.equal(typeof p.lastSeenMs, 'number')
        }
        // The B–C link carries data: A is not needed in between.
        await c.stop(a)
        await ok(`echo from-b > ${b.mnt}/team/b.txt`)
        await waitContent(`${cc.mnt}/team/b.txt`, 'from-b\n')

        // C restarted with its only configured peer (A) down: it dials B from the stored gossip.
        await c.stop(cc)
        cc = await c.start(LISTEN, rootC)
        await until(
          'restarted C to connect to B',
          () => status(cc),
          (s) => connectedTo(s, sb.nodeId),
        )
        await ok(`echo after-restart > ${b.mnt}/team/b2.txt`)
        await waitContent(`${cc.mnt}/team/b2.txt`, 'after-restart\n')

        // B stopped: C's dials fail, and its peers view says so.
        await c.stop(b)
        const gone = await until(
          'C to show B as unresponsive',
          () => peers(cc, 'team'),
          (p) => p.some((x) => x.key === sb.nodeId && !x.connected && x.failures >= 1 && x.unresponsiveSinceMs !== null),
        )
        const vb = gone.find((x) => x.key === sb.nodeId)!
        assert.ok(
          vb.unresponsiveSinceMs! >= vb.lastSeenMs!,
          `unresponsive since ${vb.unresponsiveSinceMs}, after last seen ${vb.lastSeenMs}`,
        )
        const table = await cli(['peers', 'team', '--data', cc.data])
        assert.match(table, /^PEER\s+CONNECTED\s+URL\s+LAST SEEN\s+FAILURES\s+UNRESPONSIVE SINCE/)
        // The CLI prints keys with '.' for '-' (cli/keys.ts).
        assert.match(table, new RegExp(`${sb.nodeId.replace(/-/g, '\\.')}\\s+no\\s+${sb.url}`))
        const file = JSON.parse(await ok(`cat ${cc.mnt}/.meshfs/ns/team/peers`)) as Peer[]
        assert.equal(file.find((x) => x.key === sb.nodeId)!.connected, false)

        // Back up on its old address: C meets it again, and its failures are cleared.
        b = await c.start(LISTEN, rootB)
        await until(
          'C to show B connected again with no failures',
          () => peers(cc, 'team'),
          (p) => p.some((x) => x.key === sb.nodeId && x.connected && x.failures === 0 && x.unresponsiveSinceMs === null),
        )
      }),
  )

  test(
    'meshfs status (table and --json) and .meshfs/status show the node id, URL, uptime, connected peers and per-namespace state',
    { timeout: TEST_TIMEOUT },
    () =>
      withCluster(async (c) => {
        const a = await c.start()
        const b = await c.start()
        await ok(`mkdir ${a.mnt}/team ${a.mnt}/solo && echo x > ${a.mnt}/team/f`)
        await share(a, b)
        const sb = await status(b)
        const s = await until(
          'A to have reconciled team with B',
          () => status(a),
          (v) => v.namespaces.some((n) => n.alias === 'team' && n.lastReconciledAtMs !== null && n.connectedPeers === 1),
        )
        assert.match(s.nodeId, /^[A-Za-z0-9_-]{43}$/)
        assert.match(s.url, /^ws:\/\/127\.0\.0\.1:\d+$/)
        assert.deepEqual(s.urls, [s.url])
        assert.equal(typeof s.uptimeSeconds, 'number')
        assert.deepEqual(
          s.connectedPeers.map((p) => p.key),
          [sb.nodeId],
        )
        assert.deepEqual(s.connectedPeers[0]!.urls, [sb.url])
        const team = s.namespaces.find((n) => n.alias === 'team')!
        assert.deepEqual(s.connectedPeers[0]!.namespaces, [team.id], 'solo is not shared with B')
        assert.equal(team.knownPeers, 1)
        assert.equal(team.pendingBlobFetches, 0)
        const solo = s.namespaces.find((n) => n.alias === 'solo')!
        assert.deepEqual([solo.connectedPeers, solo.knownPeers, solo.lastReconciledAtMs], [0, 0, null])

        // The control file is the same document.
        const file = JSON.parse(await ok(`cat ${a.mnt}/.meshfs/status`)) as Status
        assert.deepEqual(Object.keys(file).sort(), Object.keys(s).sort())
        assert.equal(file.nodeId, s.nodeId)
        assert.equal(file.pid, a.proc.pid)
        // The same peers; `connections` is a live count, and the link the invitation was redeemed on
        // closes a second after the join, so two reads a moment apart may differ in it.
        const steady = (peers: Status['connectedPeers']) => peers.map(({ connections, ...rest }) => ({ ...rest, live: connections >= 1 }))
        assert.deepEqual(steady(file.connectedPeers), steady(s.connectedPeers))
        assert.deepEqual(file.namespaces.map((n) => n.alias).sort(), ['solo', 'team'])

        const text = await cli(['status', '--data', a.data])
        assert.match(text, new RegExp(`^node\\s+${s.nodeId.replace(/-/g, '\\.')}$`, 'm'))
        assert.match(text, new RegExp(`^url\\s+${s.url}$`, 'm'))
        assert.match(text, /^uptime\s+(\d+[dhm] )*\d+s$/m)
        assert.match(text, /^peers\s+1 connected$/m)
        assert.match(text, new RegExp(`^${sb.nodeId.replace(/-/g, '\\.')}\\s+(in|out)\\s+\\S+\\s+team$`, 'm'))
        assert.match(text, new RegExp(`^team\\s+${team.id}\\s+1\\s+1\\s+\\d{4}-\\d\\d-\\d\\dT\\S+\\s+0$`, 'm'))
        assert.match(text, new RegExp(`^solo\\s+${solo.id}\\s+0\\s+0\\s+-\\s+0$`, 'm'))

        const bad = await runCli(['status', 'extra', '--data', a.data])
        assert.equal(bad.code, 2, bad.stderr)
        assert.match(bad.stderr, /unexpected argument/)
        const none = await runCli(['status', '--data', path.join(a.root, 'nowhere')])
        assert.equal(none.code, 1)
        assert.match(none.stderr, /no meshfs daemon is running/)
      }),
  )

  test(
    'meshfs notify delivers to a connected member; non-members, unknown and absent peers and bad arguments are refused',
    { timeout: TEST_TIMEOUT },
    () =>
      withCluster(async (c) => {
        const a = await c.start()
        const b = await c.start()
        await ok(`mkdir ${a.mnt}/team ${a.mnt}/solo`)
        await share(a, b)
        const sa = await status(a)
        const sb = await status(b)
        const teamId = sa.namespaces.find((n) => n.alias === 'team')!.id
        // One connection left: the one B redeemed its invitation on is closed once B was admitted.
        await until(
          'A to share team with B on one connection',
          () => status(a),
          (s) => s.connectedPeers.some((p) => p.key === sb.nodeId && p.connections === 1 && p.namespaces.includes(teamId)),
        )

        const prefix = sb.nodeId.slice(0, 10)
        assert.equal(
          await cli(['notify', 'team', prefix, 'hello B', '--data', a.data]),
          `sent 7 bytes to ${sb.nodeId.replaceAll('-', '.')}\n`,
        )
        const line = new RegExp(`notify from ${sa.nodeId.slice(0, 8).replace(/-/g, '\\-')} in namespace ${teamId}: 7 bytes`)
        await waitFor(() => line.test(b.log()), { what: "the notify to show in B's log", timeoutMs: MESH_MS })
        // DATA from stdin, by full key, to the namespace's id.
        const msg = path.join(a.root, 'msg.txt')
        writeFileSync(msg, 'from stdin ✓\n')
        const piped = await sh(`${q(process.execPath)} ${q(CLI)} notify ${teamId} ${sb.nodeId} - --json --data ${q(a.data)} < ${q(msg)}`)
        assert.equal(piped.code, 0, piped.stderr)
        assert.deepEqual(JSON.parse(piped.stdout), { peer: sb.nodeId, bytes: Buffer.byteLength('from stdin ✓\n') })
        await waitFor(() => new RegExp(`in namespace ${teamId}: ${Buffer.byteLength('from stdin ✓\n')} bytes`).test(b.log()), {
          what: "the second notify in B's log",
          timeoutMs: MESH_MS,
        })

        const refused = async (args: string[], code: number, reason: RegExp) => {
          const r = await runCli([...args, '--data', a.data])
          assert.equal(r.code, code, `meshfs ${args.join(' ')}: exit ${r.code}, stderr ${r.stderr}`)
          assert.match(r.stderr, reason)
          assert.equal(r.stderr.trim().split('\n').length, 1, `not one line: ${JSON.stringify(r.stderr)}`)
        }
        await refused(['notify', 'solo', prefix, 'psst'], 1, /is not a member of namespace/)
        await refused(['notify', 'team', 'zzzzzzzz', 'hi'], 1, /no known peer "zzzzzzzz"/)
        await refused(['notify', 'nowhere', prefix, 'hi'], 1, /no namespace "nowhere"/)
        await refused(['notify', 'team', prefix], 2, /missing DATA/)
        await refused(['notify', 'team'], 2, /missing PEER/)
        await refused(['notify', 'team', prefix, 'a', 'b'], 2, /unexpected argument 'b'/)
        await refused(['notify', 'team', '', 'x'], 2, /PEER is empty/)
        await refused(['notify', 'team', prefix, 'x'.repeat(64 * 1024 + 1)], 2, /at most 65536/)
        assert.doesNotMatch(b.log(), /psst/)

        await c.stop(b)
        await until(
          'A to see B gone',
          () => status(a),
          (s) => !connectedTo(s, sb.nodeId),
        )
        await refused(['notify', 'team', prefix, 'anyone?'], 1, /is not connected/)
      }),
  )
})
