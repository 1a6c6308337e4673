// Binaries never read half-arrived, on real daemons over loopback: a node serves a binary's new
// version only once it holds every chunk of it, and until then the complete version it had; a
// first version's reads wait for the chunks (and fail with EIO once nothing arrived for
// --fetch-timeout). The serving node paces its chunks (--max-blob-rate) so that a transfer
// lasts long enough to be watched in `.meshfs/ns/NS/transfers` and `meshfs status`.

import assert from 'node:assert/strict'
import path from 'node:path'
import { test } from 'node:test'
import { ok, runCli, sh, type MountedNode } from '../support/harness.js'
import { waitFor } from '../support/wait.js'
import { LISTEN, TEST_TIMEOUT, invite, join, q, share, waitPresent, withCluster } from '../support/cluster.js'

const MiB = 1 << 20

interface Transfer {
  path: string
  bytes: number
  have: number
  from: Array<{ peer: string; connected: boolean }>
  servedSize: number | null
}

/** A fresh random file of `bytes` outside the mounts, and its sha256. */
async function randomFile(dir: string, name: string, bytes: number): Promise<{ file: string; sha: string }> {
  const file = path.join(dir, name)
  await ok(`head -c ${bytes} /dev/urandom > ${q(file)}`)
  return { file, sha: (await ok(`sha256sum < ${q(file)}`)).split(' ')[0]! }
}

/** sha256sum of a file on a mount: the hash, or the failure as `<exit N: stderr>`. */
async function shaOf(file: string): Promise<string> {
  const r = await sh(`sha256sum < ${q(file)}`, { timeoutMs: 120_000 })
  return r.code === 0 ? r.stdout.split(' ')[0]! : `<exit ${r.code}: ${r.stderr.trim()}>`
}

async function sizeOf(file: string): Promise<number | undefined> {
  const r = await sh(`stat -c %s ${q(file)}`, { timeoutMs: 30_000 })
  return r.code === 0 ? Number(r.stdout) : undefined
}

async function transfers(node: MountedNode, ns = 'team'): Promise<Transfer[]> {
  return JSON.parse(await ok(`cat ${q(path.join(node.mnt, '.meshfs/ns', ns, 'transfers'))}`)) as Transfer[]
}

/** The transfers of `ns` as `meshfs status --json` shows them. */
async function statusTransfers(node: MountedNode, ns = 'team'): Promise<Transfer[]> {
  const r = await runCli(['status', '--json', '--data', node.data])
  assert.equal(r.code, 0, r.stderr)
  const all = (JSON.parse(r.stdout) as { namespaces: Array<{ alias: string; transfers: Transfer[] }> }).namespaces
  return all.find((n) => n.alias === ns)?.transfers ?? []
}

async function nodeId(node: MountedNode): Promise<string> {
  return (JSON.parse(await ok(`cat ${q(path.join(node.mnt, '.meshfs/status'))}`)) as { nodeId: string }).nodeId
}

test(
  'a 50 MB binary overwritten on A again and again: every read on B succeeds with one of the written versions, and B ends at the last',
  { timeout: TEST_TIMEOUT },
  () =>
    withCluster(async (c) => {
      // Paced below the speed of B's reads, so a read that opens while a new version arrives
      // would catch up with the chunks still missing (and fail, if that version were served).
      const a = await c.start([...LISTEN, '--max-blob-rate', String(10 * MiB)])
      const b = await c.start()
      await share(a, [b])
      const onA = path.join(a.mnt, 'team/big.bin')
      const onB = path.join(b.mnt, 'team/big.bin')
      const first = await randomFile(a.root, 'v0.bin', 50 * MiB)
      await ok(`cp ${q(first.file)} ${q(onA)}`)
      const written = [first.sha]
      await waitFor(async () => (await shaOf(onB)) === first.sha, { what: 'B to read the first version', timeoutMs: 60_000 })

      const reads: string[] = []
      let reading = true
      const loop = (async () => {
        while (reading) reads.push(await shaOf(onB))
      })()
      try {
        for (let v = 1; v <= 4; v++) {
          const next = await randomFile(a.root, `v${v}.bin`, 50 * MiB)
          // In place (no truncation): one new version per overwrite, published when dd closes.
          await ok(`dd if=${q(next.file)} of=${q(onA)} bs=1M conv=notrunc status=none`)
          written.push(next.sha)
          await ok(`rm ${q(next.file)}`)
          const seen = reads.length
          await waitFor(() => reads.length >= seen + 2, { what: `B to read twice after version ${v}`, timeoutMs: 60_000 })
        }
        await waitFor(() => reads.at(-1) === written.at(-1), { what: 'B to read the last version', timeoutMs: 60_000 })
      } finally {
        reading = false
        await loop
      }
      const wrong = reads.filter((r) => !written.includes(r))
      assert.deepEqual(wrong, [], `${wrong.length} of ${reads.length} reads on B were no written version`)
      assert.equal(await sizeOf(onB), 50 * MiB)
    }),
)

test(
  'right after a join: stat shows a size whose bytes a read returns (it waits), a new version is served only once whole, transfers show what is in flight, and a first version whose peer is gone fails with EIO',
  { timeout: TEST_TIMEOUT },
  () =>
    withCluster(async (c) => {
      // 8 MiB/s: 40 MiB take about five seconds to arrive. A's root is kept: A is killed at the end.
      const a = await c.start([...LISTEN, '--max-blob-rate', String(8 * MiB)], c.keptRoot('a'))
      const b = await c.start([...LISTEN, '--fetch-timeout', '3'])
      const aKey = await nodeId(a)
      await ok(`mkdir ${q(path.join(a.mnt, 'team'))}`)
      const v1 = await randomFile(a.root, 'v1.bin', 40 * MiB)
      await ok(`cp ${q(v1.file)} ${q(path.join(a.mnt, 'team/big.bin'))}`)
      await join(b, await invite(a, 'team'))
      const onB = path.join(b.mnt, 'team/big.bin')
      await waitPresent(onB)

      // A first version: stat shows its size while it arrives, and a read waits for all of it.
      const sizes: Array<number | undefined> = []
      let statting = true
      const statLoop = (async () => {
        while (statting) sizes.push(await sizeOf(onB))
      })()
      const read = shaOf(onB)
      const seen: Transfer[] = []
      try {
        await waitFor(
          async () => {
            const t = (await transfers(b)).find((x) => x.path === '/big.bin')
            if (t && t.have < t.bytes && !seen.some((s) => s.have === t.have)) seen.push(t)
            return seen.length >= 2
          },
          { what: 'the transfers file to show big.bin arriving, twice with different progress', timeoutMs: 60_000, intervalMs: 100 },
        )
        assert.equal(await read, v1.sha, 'the read waited for the whole first version')
      } finally {
        statting = false
        await statLoop
      }
      for (const t of seen) {
        assert.equal(t.bytes, 40 * MiB)
        assert.equal(t.servedSize, null, 'nothing complete to serve meanwhile: reads wait')
        assert.deepEqual(t.from, [{ peer: aKey, connected: true }])
      }
      assert.ok(sizes.length > 0)
      assert.deepEqual([...new Set(sizes)], [40 * MiB], 'stat showed the size of the only version, whose bytes the read returned')
      await waitFor(async () => (await transfers(b)).length === 0, { what: 'nothing left in flight', timeoutMs: 30_000 })

      // A new version of another size (an atomic save): B serves the whole first one until the
      // second is whole. Whenever the new version is still arriving after a stat and a read (as
      // `meshfs status` says, which renders anew on each call, where the transfers file may
      // reuse a rendering for a second), the stat and the read saw the first version.
      const v2 = await randomFile(a.root, 'v2.bin', 56 * MiB)
      await ok(
        `cp ${q(v2.file)} ${q(path.join(a.mnt, 'team/big.bin.new'))} && mv ${q(path.join(a.mnt, 'team/big.bin.new'))} ${q(path.join(a.mnt, 'team/big.bin'))}`,
      )
      let sampled = 0
      for (const deadline = Date.now() + 90_000; ; ) {
        assert.ok(Date.now() < deadline, 'B did not come to read the new version')
        const size = await sizeOf(onB)
        const sha = await shaOf(onB)
        const after = (await statusTransfers(b)).find((x) => x.path === '/big.bin' && x.bytes === 56 * MiB)
        assert.ok([v1.sha, v2.sha].includes(sha), `a read on B returned ${sha}, no written version`)
        if (after) {
          sampled++
          assert.equal(after.servedSize, 40 * MiB, 'the transfers name the size served meanwhile')
          assert.equal(size, 40 * MiB, 'stat shows the version served while the new one arrives')
          assert.equal(sha, v1.sha, 'a read gets the version served while the new one arrives')
        }
        if (sha === v2.sha) break
      }
      assert.ok(sampled > 0, 'the new version was seen arriving at least once')
      assert.equal(await sizeOf(onB), 56 * MiB)

      // A first version whose only peer dies before it arrived: the read fails with EIO once
      // nothing arrived for --fetch-timeout, the log says what is missing and from whom, and
      // the transfers file and `meshfs status` show it stuck.
      const lost = await randomFile(a.root, 'lost.bin', 48 * MiB)
      await ok(`cp ${q(lost.file)} ${q(path.join(a.mnt, 'team/lost.bin'))}`)
      await waitPresent(path.join(b.mnt, 'team/lost.bin'))
      await c.kill9(a)
      assert.equal(await sizeOf(path.join(b.mnt, 'team/lost.bin')), 48 * MiB)
      const failed = await shaOf(path.join(b.mnt, 'team/lost.bin'))
      assert.match(failed, /^<exit 1: .*Input\/output error/)
      await waitFor(() => /nothing arrived for 3000 ms: resource \/lost\.bin .*expected from peer/.test(b.log()), {
        what: "B's log to say what it waited for",
      })
      assert.match(
        b.log(),
        new RegExp(`nothing arrived for 3000 ms: resource /lost\\.bin .*expected from peer ${aKey} \\(not connected\\)`),
      )
      const stuck = (await transfers(b)).find((x) => x.path === '/lost.bin')
      assert.ok(stuck && stuck.have < stuck.bytes && stuck.bytes === 48 * MiB, `lost.bin in flight: ${JSON.stringify(stuck)}`)
      assert.deepEqual(stuck.from, [{ peer: aKey, connected: false }])
      assert.deepEqual(
        (await statusTransfers(b)).map((t) => [t.path, t.have, t.bytes]),
        [['/lost.bin', stuck.have, stuck.bytes]],
      )
      const text = await runCli(['status', '--data', b.data])
      assert.match(text.stdout, /ARRIVING[\s\S]*team\/lost\.bin/)
      // What arrived whole is still read whole.
      assert.equal(await shaOf(onB), v2.sha)
    }),
)
