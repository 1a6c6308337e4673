// Sync targets on real mounts: `meshfs sync enable|disable|list` on real daemons, files written
// and read with shell tools. One node mirroring a namespace into another (simplex and duplex),
// two nodes over loopback (a simplex target on the other node), and the refusals. Every daemon a
// test starts it stops in a `finally`; nothing waits a fixed time: a check polls until the
// expected state shows, and "did not come back" is checked after a later change has gone through.

import assert from 'node:assert/strict'
import { rmSync } from 'node:fs'
import path from 'node:path'
import { describe, test } from 'node:test'
import { ok, runCli, sh, startMount, tempDir, type MountedNode } from '../support/harness.js'
import { eventually as eventuallyWithin } from '../support/cluster.js'

const LISTEN = ['--listen', '127.0.0.1:0']
const SYNC_MS = 15_000
const TEST_TIMEOUT = 180_000

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`

async function withNodes(n: number, fn: (nodes: MountedNode[]) => Promise<void>): Promise<void> {
  const nodes: MountedNode[] = []
  let failed = true
  try {
    for (let i = 0; i < n; i++) nodes.push(await startMount(LISTEN))
    await fn(nodes)
    failed = false
  } finally {
    for (const node of nodes) {
      if (failed)
        console.error(`--- log of the daemon at ${node.mnt} (last lines) ---\n${node.log().trim().split('\n').slice(-30).join('\n')}`)
      await node.stop()
    }
  }
}

/** A command's output, or `<exit N: stderr>`: a probe never throws. */
async function out(cmd: string): Promise<string> {
  const r = await sh(`set -o pipefail; ${cmd}`, { timeoutMs: 5_000 })
  return r.code === 0 ? r.stdout : `<exit ${r.code}: ${r.stderr.trim()}>`
}

const eventually = (what: string, probe: () => Promise<string>, expected: string) => eventuallyWithin(what, probe, expected, SYNC_MS)

const cat = (p: string) => out(`cat ${q(p)}`)
const waitContent = (p: string, expected: string) => eventually(`${p} to read ${JSON.stringify(expected)}`, () => cat(p), expected)
const presence = (p: string) => out(`test -e ${q(p)} && echo present || echo absent`)
const waitPresent = (p: string) => eventually(`${p} to exist`, () => presence(p), 'present\n')
const waitAbsent = (p: string) => eventually(`${p} to be gone`, () => presence(p), 'absent\n')
const TREE = `find . -printf '%p %y %s\\n' | sort`

async function meshfs(node: MountedNode, ...args: string[]) {
  return runCli([...args, '--data', node.data])
}

async function meshfsOk(node: MountedNode, ...args: string[]): Promise<string> {
  const r = await meshfs(node, ...args)
  assert.equal(r.code, 0, `meshfs ${args.join(' ')} exited ${r.code}: ${r.stderr}`)
  return r.stdout
}

/** A refusal: exit `code`, one line on stderr that matches `reason`. */
async function refused(node: MountedNode, args: string[], code: number, reason: RegExp): Promise<void> {
  const r = await meshfs(node, ...args)
  assert.equal(r.code, code, `meshfs ${args.join(' ')} should exit ${code}; it exited ${r.code}: ${r.stderr}${r.stdout}`)
  assert.match(r.stderr, reason)
  assert.equal(r.stderr.trim().split('\n').length, 1, `not one line: ${JSON.stringify(r.stderr)}`)
}

async function statusUrl(node: MountedNode): Promise<string> {
  return (JSON.parse(await ok(`cat ${q(path.join(node.mnt, '.meshfs/status'))}`)) as { url: string }).url
}

describe('sync targets', () => {
  test(
    "simplex into another namespace on this node: a's changes reach b, b's stay in b, a later change in a overwrites b",
    { timeout: TEST_TIMEOUT },
    () =>
      withNodes(1, async ([n]) => {
        const A = `${n!.mnt}/a`
        const B = `${n!.mnt}/b`
        await ok(
          `mkdir ${A} ${B} && mkdir -p ${A}/docs/sub && echo hello > ${A}/docs/readme.txt && head -c 3000000 /dev/urandom > ${A}/blob.bin`,
        )
        const enabled = await meshfsOk(n!, 'sync', 'enable', 'a', 'local', '--type', 'simplex', '--target-namespace', 'b')
        assert.match(enabled, /namespace a syncs into b at local \(simplex\)/)

        await waitContent(`${B}/docs/readme.txt`, 'hello\n')
        await waitPresent(`${B}/docs/sub`)
        await eventually(
          'blob.bin to arrive whole in b',
          () => out(`sha256sum < ${q(`${B}/blob.bin`)}`),
          await out(`sha256sum < ${q(`${A}/blob.bin`)}`),
        )
        await ok(`mkdir ${A}/docs/sub/deeper && printf 'x' > ${A}/docs/sub/deeper/x`)
        await waitContent(`${B}/docs/sub/deeper/x`, 'x')
        assert.equal(await out(`cd ${B} && ${TREE}`), await out(`cd ${A} && ${TREE}`))

        // b's own changes stay in b: checked once a later change of a has gone through.
        await ok(`echo 'edited in b' > ${B}/docs/readme.txt && echo mine > ${B}/only-b.txt && rm ${B}/blob.bin`)
        await ok(`echo 1 > ${A}/marker`)
        await waitContent(`${B}/marker`, '1\n')
        assert.equal(await cat(`${A}/docs/readme.txt`), 'hello\n')
        assert.equal(await presence(`${A}/only-b.txt`), 'absent\n')
        assert.equal(await presence(`${A}/blob.bin`), 'present\n')
        assert.equal(await cat(`${B}/docs/readme.txt`), 'edited in b\n', 'the target keeps its own change')
        assert.equal(await presence(`${B}/blob.bin`), 'absent\n', 'a delete on the target is not reverted')

        await ok(`echo 'hello again' > ${A}/docs/readme.txt`)
        await waitContent(`${B}/docs/readme.txt`, 'hello again\n')
        await ok(`rm -r ${A}/docs/sub`)
        await waitAbsent(`${B}/docs/sub`)
        assert.equal(await cat(`${B}/only-b.txt`), 'mine\n')

        const config = JSON.parse(await meshfsOk(n!, 'sync', 'list', 'a', '--json')) as {
          namespace: string
          targets: Array<Record<string, unknown>>
        }
        assert.equal(config.namespace, 'a')
        assert.equal(config.targets.length, 1)
        assert.deepEqual(
          {
            url: config.targets[0]!.url,
            local: config.targets[0]!.local,
            targetNamespace: config.targets[0]!.targetNamespace,
            type: config.targets[0]!.type,
            state: config.targets[0]!.state,
          },
          { url: 'local', local: true, targetNamespace: 'b', type: 'simplex', state: 'mirroring' },
        )
        assert.match(await meshfsOk(n!, 'sync', 'list', 'a'), /^URL\s+TARGET NAMESPACE\s+TYPE.*\nlocal\s+b\s+simplex\s+mirroring/)

        // Disabled, nothing more is mirrored.
        await meshfsOk(n!, 'sync', 'disable', 'a', 'local', 'b')
        assert.deepEqual((JSON.parse(await meshfsOk(n!, 'sync', 'list', 'a', '--json')) as { targets: unknown[] }).targets, [])
        await ok(`echo after > ${A}/after.txt && mkdir ${n!.mnt}/c`)
        await meshfsOk(n!, 'sync', 'enable', 'a', 'local', '--type', 'simplex', '--target-namespace', 'c')
        await waitContent(`${n!.mnt}/c/after.txt`, 'after\n')
        assert.equal(await presence(`${B}/after.txt`), 'absent\n')
      }),
  )

  test('duplex on one node: changes go both ways; edits of one text on both sides are both kept', { timeout: TEST_TIMEOUT }, () =>
    withNodes(1, async ([n]) => {
      const C = `${n!.mnt}/c`
      const D = `${n!.mnt}/d`
      await ok(`mkdir ${C} ${D} && mkdir ${C}/shared && printf 'one\\ntwo\\nthree\\n' > ${C}/shared/notes.txt && echo from-d > ${D}/d.txt`)
      // The node's own URL is this same node, as `local` is.
      await meshfsOk(n!, 'sync', 'enable', 'c', await statusUrl(n!), '--type', 'duplex', '--target-namespace', 'd')
      await waitContent(`${D}/shared/notes.txt`, 'one\ntwo\nthree\n')
      await waitContent(`${C}/d.txt`, 'from-d\n')
      await ok(`mkdir ${D}/made-in-d && echo x > ${D}/made-in-d/x`)
      await waitContent(`${C}/made-in-d/x`, 'x\n')
      await ok(`rm ${C}/d.txt`)
      await waitAbsent(`${D}/d.txt`)

      // Both sides edit the text while the group is off; turned back on, the edits merge.
      await meshfsOk(n!, 'sync', 'disable', 'c', 'local', 'd', '--group', 'shared')
      await ok(`printf 'ONE\\ntwo\\nthree\\n' > ${C}/shared/notes.txt && printf 'one\\ntwo\\nTHREE\\n' > ${D}/shared/notes.txt`)
      await ok(`echo 1 > ${C}/marker`)
      await waitContent(`${D}/marker`, '1\n')
      assert.equal(await cat(`${D}/shared/notes.txt`), 'one\ntwo\nTHREE\n', 'a group turned off is not mirrored')
      const listed = JSON.parse(await meshfsOk(n!, 'sync', 'list', 'c', '--json')) as {
        targets: Array<{ url: string; groups: Record<string, string> }>
      }
      assert.deepEqual(listed.targets[0]!.groups, { '/shared': 'off' })
      assert.equal(listed.targets[0]!.url, 'local')
      await meshfsOk(n!, 'sync', 'enable', 'c', 'local', '--type', 'duplex', '--target-namespace', 'd', '--group', 'shared')
      await waitContent(`${C}/shared/notes.txt`, 'ONE\ntwo\nTHREE\n')
      await waitContent(`${D}/shared/notes.txt`, 'ONE\ntwo\nTHREE\n')
    }),
  )

  test(
    "simplex to a namespace on another node: a file in src reaches B's dst; B's change in dst does not come back",
    { timeout: TEST_TIMEOUT },
    () =>
      withNodes(2, async ([a, b]) => {
        await ok(`mkdir ${b!.mnt}/dst && echo 'b was here' > ${b!.mnt}/dst/existing.txt`)
        const token = (await meshfsOk(b!, 'invite', 'dst')).trim()
        await meshfsOk(a!, 'join', token)
        await waitContent(`${a!.mnt}/dst/existing.txt`, 'b was here\n')
        await ok(
          `mkdir ${a!.mnt}/src && mkdir ${a!.mnt}/src/g && echo 'from a' > ${a!.mnt}/src/g/f.txt && head -c 2500000 /dev/urandom > ${a!.mnt}/src/g/blob.bin`,
        )
        const bUrl = await statusUrl(b!)

        await refused(
          a!,
          ['sync', 'enable', 'src', bUrl, '--type', 'simplex', '--target-namespace', 'nope'],
          1,
          /does not hold namespace "nope".*join it first/,
        )
        await meshfsOk(a!, 'sync', 'enable', 'src', bUrl, '--type', 'simplex', '--target-namespace', 'dst')
        await waitContent(`${b!.mnt}/dst/g/f.txt`, 'from a\n')
        assert.equal(await cat(`${b!.mnt}/dst/existing.txt`), 'b was here\n', 'what the target had stays')
        // Binary content crosses as its chunks, fetched by B from A like any of dst's blobs.
        await eventually(
          'blob.bin to arrive whole on B',
          () => out(`sha256sum < ${q(`${b!.mnt}/dst/g/blob.bin`)}`),
          await out(`sha256sum < ${q(`${a!.mnt}/src/g/blob.bin`)}`),
        )

        await ok(`echo 'changed on b' > ${b!.mnt}/dst/g/f.txt && echo new > ${b!.mnt}/dst/g/b-only.txt`)
        await waitContent(`${a!.mnt}/dst/g/f.txt`, 'changed on b\n')
        await ok(`echo 1 > ${a!.mnt}/src/marker`)
        await waitContent(`${b!.mnt}/dst/marker`, '1\n')
        assert.equal(await cat(`${a!.mnt}/src/g/f.txt`), 'from a\n', "simplex: the target's change does not come back")
        assert.equal(await presence(`${a!.mnt}/src/g/b-only.txt`), 'absent\n')
        await ok(`echo 'a again' > ${a!.mnt}/src/g/f.txt`)
        await waitContent(`${b!.mnt}/dst/g/f.txt`, 'a again\n')

        const config = JSON.parse(await meshfsOk(a!, 'sync', 'list', 'src', '--json')) as {
          targets: Array<{ url: string; local: boolean; targetNamespace: string }>
        }
        assert.deepEqual(
          config.targets.map((t) => [t.url, t.local, t.targetNamespace]),
          [[bUrl, false, 'dst']],
        )

        // A is a member of dst, not an admin: it may not give dst targets.
        await refused(
          a!,
          ['sync', 'enable', 'dst', 'local', '--type', 'simplex', '--target-namespace', 'src'],
          1,
          /EACCES: only an admin of namespace dst may change its sync targets/,
        )
      }),
  )

  test('targets and what they agreed on survive a restart of the node', { timeout: TEST_TIMEOUT }, async () => {
    const root = tempDir('targets-restart')
    let n: MountedNode | undefined
    try {
      n = await startMount(LISTEN, { root })
      await ok(`mkdir ${n.mnt}/a ${n.mnt}/b && echo one > ${n.mnt}/a/f`)
      await meshfsOk(n, 'sync', 'enable', 'a', 'local', '--type', 'simplex', '--target-namespace', 'b')
      await waitContent(`${n.mnt}/b/f`, 'one\n')
      await ok(`echo 'b kept this' > ${n.mnt}/b/f`)
      await n.stop()
      n = await startMount(LISTEN, { root })
      await ok(`echo two > ${n.mnt}/a/g`)
      await waitContent(`${n.mnt}/b/g`, 'two\n')
      assert.equal(await cat(`${n.mnt}/b/f`), 'b kept this\n', "after a restart the target's own change still stays")
      assert.equal((JSON.parse(await meshfsOk(n, 'sync', 'list', 'a', '--json')) as { targets: unknown[] }).targets.length, 1)
    } finally {
      await n?.stop()
      rmSync(root, { recursive: true, force: true })
    }
  })

  test(
    'refusals: a widening group, a bad type, an unknown namespace, deleting a namespace with live targets',
    { timeout: TEST_TIMEOUT },
    () =>
      withNodes(1, async ([n]) => {
        await ok(`mkdir ${n!.mnt}/a ${n!.mnt}/b && mkdir ${n!.mnt}/a/data`)
        await refused(
          n!,
          ['sync', 'enable', 'a', 'local', '--type', 'simplex', '--target-namespace', 'nope'],
          1,
          /no namespace "nope" on this node to sync into: create it first/,
        )
        await refused(
          n!,
          ['sync', 'enable', 'a', 'local', '--type', 'sideways', '--target-namespace', 'b'],
          2,
          /--type simplex\|duplex is required/,
        )
        await refused(n!, ['sync', 'enable', 'a', 'local', '--type', 'simplex'], 2, /cannot be its own sync target/)
        await refused(n!, ['sync', 'enable', 'a', 'ftp://x', '--type', 'simplex', '--target-namespace', 'b'], 2, /ws:\/\/ URL/)
        await meshfsOk(n!, 'sync', 'enable', 'a', 'local', '--type', 'simplex', '--target-namespace', 'b')
        await refused(
          n!,
          ['sync', 'enable', 'a', 'local', '--type', 'duplex', '--target-namespace', 'b', '--group', 'data'],
          2,
          /group \/data cannot be duplex: the target b of namespace a is simplex/,
        )
        await refused(
          n!,
          ['sync', 'enable', 'a', 'local', '--type', 'simplex', '--target-namespace', 'b', '--group', 'missing'],
          1,
          /no group \/missing in namespace a/,
        )
        await refused(n!, ['sync', 'disable', 'a', 'local', 'c'], 1, /namespace a has no sync target c/)

        await refused(
          n!,
          ['ns', 'delete', 'a', '--force'],
          1,
          /EBUSY: namespace a has live sync targets \(into b at local\): disable them first \(meshfs sync disable a local b\)/,
        )
        await refused(n!, ['ns', 'delete', 'b', '--force'], 1, /namespace b has live sync targets \(from a\)/)
        assert.equal(await presence(`${n!.mnt}/a/data`), 'present\n')
        // rmdir of an empty namespace with a live target: EBUSY, with the reason in the log.
        await ok(`mkdir ${n!.mnt}/e ${n!.mnt}/f`)
        await meshfsOk(n!, 'sync', 'enable', 'e', 'local', '--type', 'duplex', '--target-namespace', 'f')
        const rmdir = await sh(`rmdir ${q(`${n!.mnt}/e`)}`)
        assert.notEqual(rmdir.code, 0, 'rmdir of a namespace with a live target must fail')
        assert.match(rmdir.stderr, /Device or resource busy/)
        assert.match(n!.log(), /rmdir \/e: EBUSY: namespace e has live sync targets \(into f at local\)/)
        assert.equal(await presence(`${n!.mnt}/e`), 'present\n')

        await meshfsOk(n!, 'sync', 'disable', 'a', 'local', 'b')
        await meshfsOk(n!, 'ns', 'delete', 'a', '--force')
        await meshfsOk(n!, 'sync', 'disable', 'e', 'local', 'f')
        await ok(`rmdir ${n!.mnt}/e`)
      }),
  )
})
