// Syncing nodes on real mounts: `meshfs invite` / `meshfs join` over loopback WebSockets, then
// files, groups, concurrent edits and moves, restarts (clean and kill -9), three nodes and binary
// content, all driven with shell tools on each node's mount. Every test starts its own daemons on
// fresh temp roots and stops every one in a `finally` (cluster.ts).

import assert from 'node:assert/strict'
import fs from 'node:fs/promises'
import net from 'node:net'
import path from 'node:path'
import { describe, test } from 'node:test'
import { ok, runCli, type MountedNode } from '../support/harness.js'
import { waitFor } from '../support/wait.js'
import {
  LISTEN,
  TEST_TIMEOUT,
  cat,
  convergedTree,
  eventually,
  idOf,
  invite,
  join,
  joinStdin,
  out,
  q,
  sha256,
  shape,
  share,
  statusUrl,
  waitAbsent,
  waitContent,
  waitPresent,
  withCluster,
} from '../support/cluster.js'

/** A joiner's refusal: non-zero exit, one line on stderr matching `reason`, nothing joined. */
async function refusedJoin(node: MountedNode, token: string, reason: RegExp): Promise<void> {
  const r = await runCli(['join', token, '--data', node.data], { timeoutMs: 30_000 })
  assert.notEqual(r.code, 0, `meshfs join should have failed (${reason}); stdout: ${r.stdout}`)
  assert.match(r.stderr, reason)
  assert.equal(r.stderr.trim().split('\n').length, 1, `not one line: ${JSON.stringify(r.stderr)}`)
  assert.equal(await ok(`ls ${q(node.mnt)}`), '', `something was joined on ${node.mnt}`)
  const list = await runCli(['ns', 'list', '--data', node.data, '--json'])
  assert.equal(list.code, 0, list.stderr)
  assert.deepEqual(JSON.parse(list.stdout), [])
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port
      srv.close(() => resolve(port))
    })
  })
}

describe('syncing nodes (invite, join, replication over loopback)', () => {
  test(
    "invite prints a signed one-line token with the node's address; join brings the namespace with its tree, ids and contents",
    { timeout: TEST_TIMEOUT },
    () =>
      withCluster(async (c) => {
        const a = await c.start()
        const b = await c.start()
        const url = await statusUrl(a)
        assert.match(url, /^ws:\/\/127\.0\.0\.1:\d+$/)
        assert.notEqual(url, 'ws://127.0.0.1:0', 'the status shows port 0, not the port actually bound')

        await ok(
          `mkdir ${a.mnt}/team && cd ${a.mnt}/team && mkdir -p docs/drafts ops && echo hello > docs/readme.txt && printf 'x%.0s' {1..5000} > ops/big.txt`,
        )
        const before = Date.now()
        const token = await invite(a, 'team', '--expires', '1h')
        const t = JSON.parse(token) as { ns: string; addrs: string[]; exp: number; uses: number }
        assert.equal(t.ns, await idOf(`${a.mnt}/team`))
        assert.ok(t.addrs.includes(url), `the token's addrs ${JSON.stringify(t.addrs)} lack ${url}`)
        assert.ok(t.exp >= before + 3_600_000 - 5_000 && t.exp <= Date.now() + 3_600_000 + 5_000, `exp ${t.exp} is not about 1 h from now`)
        assert.equal(t.uses, 1)

        await join(b, token)
        await waitContent(`${b.mnt}/team/docs/readme.txt`, 'hello\n')
        assert.equal(await idOf(`${b.mnt}/team`), t.ns)
        for (const p of ['docs', 'docs/drafts', 'ops', 'docs/readme.txt', 'ops/big.txt']) {
          assert.equal(await idOf(`${b.mnt}/team/${p}`), await idOf(`${a.mnt}/team/${p}`), `the id of team/${p}`)
        }
        assert.equal(await getAttr(b, 'team', 'user.meshfs.kind'), 'namespace')
        assert.equal(await getAttr(b, 'team', 'user.meshfs.alias'), 'team')
        assert.equal(await cat(`${b.mnt}/team/ops/big.txt`), 'x'.repeat(5000))
        assert.equal(
          shape(await convergedTree([`${a.mnt}/team`, `${b.mnt}/team`])),
          ['. d', './docs d', './docs/drafts d', './docs/readme.txt f', './ops d', './ops/big.txt f'].join('\n'),
        )
        // The joiner lists it as a namespace of its own now.
        const list = await runCli(['ns', 'list', '--data', b.data, '--json'])
        assert.deepEqual(
          (JSON.parse(list.stdout) as Array<{ id: string; alias: string }>).map((n) => [n.id, n.alias]),
          [[t.ns, 'team']],
        )
      }),
  )

  test('files propagate both ways: create, overwrite, append, rename, delete', { timeout: TEST_TIMEOUT }, () =>
    withCluster(async (c) => {
      const a = await c.start()
      const b = await c.start()
      await share(a, [b])
      const A = `${a.mnt}/team`
      const B = `${b.mnt}/team`

      await ok(`echo one > ${A}/a.txt`)
      await waitContent(`${B}/a.txt`, 'one\n')
      await ok(`echo two >> ${B}/a.txt`)
      await waitContent(`${A}/a.txt`, 'one\ntwo\n')
      await ok(`printf 'from b' > ${B}/b.txt && touch ${B}/empty`)
      await waitContent(`${A}/b.txt`, 'from b')
      await waitContent(`${A}/empty`, '')

      const id = await idOf(`${A}/a.txt`)
      await ok(`mv ${A}/a.txt ${A}/c.txt`)
      await waitContent(`${B}/c.txt`, 'one\ntwo\n')
      await waitAbsent(`${B}/a.txt`)
      assert.equal(await idOf(`${B}/c.txt`), id, 'a rename keeps the id on the other node')

      await ok(`printf 'replaced\\n' > ${B}/c.txt`)
      await waitContent(`${A}/c.txt`, 'replaced\n')
      await ok(`rm ${B}/b.txt`)
      await waitAbsent(`${A}/b.txt`)
      await ok(`rm ${A}/empty`)
      await waitAbsent(`${B}/empty`)
      assert.equal(shape(await convergedTree([A, B])), '. d\n./c.txt f')
    }),
  )

  test('groups propagate both ways: mkdir, nest, unnest, rmdir, rm -r, with ids kept', { timeout: TEST_TIMEOUT }, () =>
    withCluster(async (c) => {
      const a = await c.start()
      const b = await c.start()
      await share(a, [b])
      const A = `${a.mnt}/team`
      const B = `${b.mnt}/team`

      await ok(`mkdir -p ${A}/design/icons ${A}/ops && echo logo > ${A}/design/icons/logo.svg`)
      await waitContent(`${B}/design/icons/logo.svg`, 'logo\n')
      await waitPresent(`${B}/ops`)
      const design = await idOf(`${A}/design`)
      assert.equal(await idOf(`${B}/design`), design)

      await ok(`cd ${B} && mv design ops/`) // nest on B
      await waitContent(`${A}/ops/design/icons/logo.svg`, 'logo\n')
      await waitAbsent(`${A}/design`)
      assert.equal(await idOf(`${A}/ops/design`), design)

      await ok(`cd ${A} && mv ops/design .`) // unnest on A
      await waitContent(`${B}/design/icons/logo.svg`, 'logo\n')
      await waitAbsent(`${B}/ops/design`)
      assert.equal(await idOf(`${B}/design`), design)

      await ok(`mkdir ${B}/tmp`)
      await waitPresent(`${A}/tmp`)
      await ok(`rmdir ${A}/tmp`)
      await waitAbsent(`${B}/tmp`)
      await ok(`mv ${B}/ops ${B}/operations`) // rename a group
      await waitPresent(`${A}/operations`)
      await waitAbsent(`${A}/ops`)
      await ok(`rm -r ${A}/design`)
      await waitAbsent(`${B}/design`)
      assert.equal(shape(await convergedTree([A, B])), '. d\n./operations d')
    }),
  )

  test('the same text file edited on two nodes at once keeps both edits, with no conflict copy', { timeout: TEST_TIMEOUT }, () =>
    withCluster(async (c) => {
      const a = await c.start()
      const b = await c.start()
      await share(a, [b])
      const A = `${a.mnt}/team`
      const B = `${b.mnt}/team`
      const lines = Array.from({ length: 10 }, (_, i) => `line ${i + 1}`)
      await ok(`seq -f 'line %g' 1 10 > ${A}/notes.txt`)
      await waitContent(`${B}/notes.txt`, `${lines.join('\n')}\n`)

      await Promise.all([
        ok(`sed -i 's/^line 2$/line 2 edited on A/' ${A}/notes.txt`),
        ok(`sed -i 's/^line 9$/line 9 edited on B/' ${B}/notes.txt`),
      ])
      const both = `${lines.map((l) => (l === 'line 2' ? 'line 2 edited on A' : l === 'line 9' ? 'line 9 edited on B' : l)).join('\n')}\n`
      // One probe of both mounts, so that a failure shows what each of them holds.
      const bothMounts = async () => `A: ${await cat(`${A}/notes.txt`)}\nB: ${await cat(`${B}/notes.txt`)}`
      await eventually('both edits on both nodes', bothMounts, `A: ${both}\nB: ${both}`)
      assert.equal(shape(await convergedTree([A, B])), '. d\n./notes.txt f')
    }),
  )

  test('concurrent `mv a b/` on one node and `mv b a/` on the other converge to one tree without a cycle', { timeout: TEST_TIMEOUT }, () =>
    withCluster(async (c) => {
      const a = await c.start()
      const b = await c.start()
      await share(a, [b])
      const A = `${a.mnt}/team`
      const B = `${b.mnt}/team`
      await ok(`mkdir ${A}/a ${A}/b && echo in-a > ${A}/a/fa && echo in-b > ${A}/b/fb`)
      await waitContent(`${B}/a/fa`, 'in-a\n')
      await waitContent(`${B}/b/fb`, 'in-b\n')

      // Each move is valid where it runs; whichever arrives second would close a cycle.
      // Two rename(2) calls issued together from this process, with the destinations spelled
      // out. Not `mv a b/` from two shells: they start milliseconds apart, about as long as sync
      // takes on loopback, so one node often had the other's move already, and then `mv b a/`
      // found no `a` beside `b` and renamed `b` to `a` (rename(2) takes a trailing slash for a
      // directory) - a valid sequential outcome, a group `a` holding `a` and `fb`, but not the
      // case under test. A rename that still comes too late fails with ENOENT (its target group
      // is gone from where it looked) and the tree is the other move's.
      const rename = (from: string, to: string) =>
        fs.rename(from, to).then(
          () => 'ok',
          (err: NodeJS.ErrnoException) => err.code ?? String(err),
        )
      const moves = await Promise.all([rename(`${A}/a`, `${A}/b/a`), rename(`${B}/b`, `${B}/a/b`)])
      const how = `(a -> b/a on A: ${moves[0]}; b -> a/b on B: ${moves[1]})`
      assert.ok(moves.includes('ok'), `at least one move succeeds ${how}`)
      for (const m of moves) assert.ok(m === 'ok' || m === 'ENOENT', `a move fails only for having seen the other ${how}`)
      const tree = shape(await convergedTree([A, B]))
      const paths = tree.split('\n').map((l) => l.split(' ')[0]!)
      const named = (n: string) => paths.filter((p) => path.basename(p) === n)
      assert.equal(named('a').length, 1, `one group named a ${how}:\n${tree}`)
      assert.equal(named('b').length, 1, `one group named b ${how}:\n${tree}`)
      assert.ok(
        tree === '. d\n./a d\n./a/b d\n./a/b/fb f\n./a/fa f' || tree === '. d\n./b d\n./b/a d\n./b/a/fa f\n./b/fb f',
        `expected a in b or b in a, with both files ${how}, got:\n${tree}`,
      )
      const fa = named('fa')[0]!
      const fb = named('fb')[0]!
      for (const root of [A, B]) {
        assert.equal(await cat(path.join(root, fa)), 'in-a\n')
        assert.equal(await cat(path.join(root, fb)), 'in-b\n')
      }
    }),
  )

  test('binary files propagate byte for byte (3 MiB), and a partial overwrite too', { timeout: TEST_TIMEOUT }, () =>
    withCluster(async (c) => {
      const a = await c.start()
      const b = await c.start()
      await share(a, [b])
      const A = `${a.mnt}/team`
      const B = `${b.mnt}/team`

      await ok(`head -c 3145728 /dev/urandom > ${A}/blob.bin`)
      const sum = await sha256(`${A}/blob.bin`)
      await eventually(`sha256 of ${B}/blob.bin`, () => sha256(`${B}/blob.bin`), sum)

      await ok(`head -c 3145728 /dev/urandom > ${B}/other.bin`)
      await eventually(`sha256 of ${A}/other.bin`, () => sha256(`${A}/other.bin`), await sha256(`${B}/other.bin`))

      // 100 KiB in the middle of the second chunk, written on B: A sees exactly the new bytes.
      await ok(`head -c 102400 /dev/urandom | dd of=${B}/blob.bin bs=1024 seek=1500 conv=notrunc status=none`)
      const changed = await sha256(`${B}/blob.bin`)
      assert.notEqual(changed, sum)
      await eventually(`sha256 of ${A}/blob.bin after the overwrite on B`, () => sha256(`${A}/blob.bin`), changed)
      assert.equal(await out(`stat -c %s ${A}/blob.bin`), '3145728\n')
    }),
  )

  test(
    'three nodes: one invitation for two uses (argv and stdin); a file written on B shows on C, and back',
    { timeout: TEST_TIMEOUT },
    () =>
      withCluster(async (c) => {
        const a = await c.start()
        const b = await c.start()
        const cc = await c.start()
        await ok(`mkdir ${a.mnt}/team`)
        const token = await invite(a, 'team', '--uses', '2')
        assert.equal((JSON.parse(token) as { uses: number }).uses, 2)
        await join(b, token)
        await joinStdin(cc, token)
        await waitPresent(`${b.mnt}/team`)
        await waitPresent(`${cc.mnt}/team`)

        await ok(`echo from-b > ${b.mnt}/team/hello.txt`)
        await waitContent(`${cc.mnt}/team/hello.txt`, 'from-b\n')
        await waitContent(`${a.mnt}/team/hello.txt`, 'from-b\n')
        await ok(`mkdir ${cc.mnt}/team/c-group && echo from-c > ${cc.mnt}/team/c-group/f`)
        await waitContent(`${b.mnt}/team/c-group/f`, 'from-c\n')
        await waitContent(`${a.mnt}/team/c-group/f`, 'from-c\n')
        assert.equal(
          shape(await convergedTree([`${a.mnt}/team`, `${b.mnt}/team`, `${cc.mnt}/team`])),
          '. d\n./c-group d\n./c-group/f f\n./hello.txt f',
        )
      }),
  )

  test('a joined node stopped and restarted catches up; so does one killed with kill -9', { timeout: TEST_TIMEOUT }, () =>
    withCluster(async (c) => {
      const a = await c.start()
      const rootB = c.keptRoot('sync-b')
      let b = await c.start(LISTEN, rootB)
      await share(a, [b])
      const A = `${a.mnt}/team`
      const B = `${b.mnt}/team`
      await ok(`echo first > ${A}/keep.txt && echo doomed > ${A}/doomed.txt && mkdir ${A}/g`)
      await waitContent(`${B}/keep.txt`, 'first\n')
      await waitContent(`${B}/doomed.txt`, 'doomed\n')

      await c.stop(b)
      await ok(
        `echo while-stopped > ${A}/new.txt && echo second >> ${A}/keep.txt && rm ${A}/doomed.txt && mkdir ${A}/g/sub && mv ${A}/new.txt ${A}/g/sub/`,
      )
      b = await c.start(LISTEN, rootB)
      await waitContent(`${B}/g/sub/new.txt`, 'while-stopped\n')
      await waitContent(`${B}/keep.txt`, 'first\nsecond\n')
      await waitAbsent(`${B}/doomed.txt`)
      await convergedTree([A, B])
      // It is connected again both ways, not just caught up once.
      await ok(`echo after-restart > ${B}/from-b.txt`)
      await waitContent(`${A}/from-b.txt`, 'after-restart\n')

      await c.kill9(b)
      await ok(`echo while-dead > ${A}/g/dead.txt && echo third >> ${A}/keep.txt && rm ${A}/from-b.txt && mv ${A}/g/sub ${A}/sub2`)
      b = await c.start(LISTEN, rootB) // on the dead mountpoint, as after a crash
      await waitContent(`${B}/g/dead.txt`, 'while-dead\n')
      await waitContent(`${B}/keep.txt`, 'first\nsecond\nthird\n')
      await waitContent(`${B}/sub2/new.txt`, 'while-stopped\n')
      await waitAbsent(`${B}/from-b.txt`)
      assert.equal(shape(await convergedTree([A, B])), '. d\n./g d\n./g/dead.txt f\n./keep.txt f\n./sub2 d\n./sub2/new.txt f')
      await ok(`echo after-crash > ${B}/g/from-b.txt`)
      await waitContent(`${A}/g/from-b.txt`, 'after-crash\n')
    }),
  )

  test(
    'the inviting node killed with kill -9 and restarted on its address catches up on what the other made meanwhile',
    { timeout: TEST_TIMEOUT },
    () =>
      withCluster(async (c) => {
        const port = await freePort()
        const listenA = ['--listen', `127.0.0.1:${port}`]
        const rootA = c.keptRoot('sync-a')
        let a = await c.start(listenA, rootA)
        assert.equal(await statusUrl(a), `ws://127.0.0.1:${port}`)
        const b = await c.start()
        await share(a, [b])
        const A = `${a.mnt}/team`
        const B = `${b.mnt}/team`
        await ok(`echo base > ${A}/base.txt`)
        await waitContent(`${B}/base.txt`, 'base\n')

        await c.kill9(a)
        await ok(`echo while-a-dead > ${B}/b.txt && echo more >> ${B}/base.txt && mkdir ${B}/bg`)
        a = await c.start(listenA, rootA)
        await waitContent(`${A}/b.txt`, 'while-a-dead\n')
        await waitContent(`${A}/base.txt`, 'base\nmore\n')
        await waitPresent(`${A}/bg`)
        await ok(`echo back > ${A}/bg/a.txt`)
        await waitContent(`${B}/bg/a.txt`, 'back\n')
        assert.equal(shape(await convergedTree([A, B])), '. d\n./b.txt f\n./base.txt f\n./bg d\n./bg/a.txt f')
      }),
  )

  test(
    'join refuses malformed, tampered, expired and used-up tokens with one clear line and joins nothing',
    { timeout: TEST_TIMEOUT },
    () =>
      withCluster(async (c) => {
        const a = await c.start()
        const b = await c.start()
        const cc = await c.start()
        await ok(`mkdir ${a.mnt}/team && echo secret > ${a.mnt}/team/s.txt`)

        await refusedJoin(b, 'not a token', /malformed|not valid JSON|invalid/i)
        await refusedJoin(b, '{"v":1}', /malformed|missing|invalid/i)

        const good = JSON.parse(await invite(a, 'team')) as Record<string, unknown>
        await refusedJoin(b, JSON.stringify({ ...good, exp: (good.exp as number) + 3_600_000 }), /tamper|signature/i)
        const sig = good.sig as string
        await refusedJoin(b, JSON.stringify({ ...good, sig: (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1) }), /tamper|signature/i)

        const short = JSON.parse(await invite(a, 'team', '--expires', '1s')) as { exp: number }
        await waitFor(() => Date.now() > short.exp + 100, { what: 'the 1 s invitation to expire', timeoutMs: 5_000 })
        await refusedJoin(b, JSON.stringify(short), /expired/i)

        const once = await invite(a, 'team', '--uses', '1')
        await join(cc, once)
        await waitContent(`${cc.mnt}/team/s.txt`, 'secret\n')
        await refusedJoin(b, once, /used/i)

        // The refusals left B able to join with a good token.
        await join(b, JSON.stringify(good))
        await waitContent(`${b.mnt}/team/s.txt`, 'secret\n')

        const unknown = await runCli(['invite', 'nothing', '--data', a.data])
        assert.notEqual(unknown.code, 0)
        assert.equal(unknown.stderr.trim().split('\n').length, 1, unknown.stderr)
      }),
  )
})

function getAttr(node: MountedNode, rel: string, name: string): Promise<string> {
  return out(`getfattr -n ${name} --only-values ${q(path.join(node.mnt, rel))}`)
}
