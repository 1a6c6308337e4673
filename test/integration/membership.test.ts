// Membership on real mounts and real daemons over loopback: a node's identity in a namespace,
// roles (only admins delete a namespace or change it; `ns grant` hands admin on), leaving (a
// tombstone the others see, then the namespace is gone from the leaver for good), and nested
// namespaces (`ns create team/design`, mounted inside its parent; recursive invitations join
// them too). Every daemon a test starts is stopped in a `finally`; checks poll, bounded.

import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { openLocalStore } from '../../src/store/local-store.js'
import type { Member, NamespaceIdentity } from '../../src/index.js'
import { ok, runCli, sh, type MountedNode } from '../support/harness.js'
import { LISTEN, cat, eventually, idOf, out, q, withCluster } from '../support/cluster.js'

const TEST_TIMEOUT = 180_000

async function cli(node: MountedNode, ...args: string[]) {
  return runCli([...args, '--data', node.data], { timeoutMs: 30_000 })
}

async function cliOk(node: MountedNode, ...args: string[]): Promise<string> {
  const r = await cli(node, ...args)
  assert.equal(r.code, 0, `meshfs ${args.join(' ')} (on ${node.data}) exited ${r.code}: ${r.stderr}${r.stdout}`)
  return r.stdout
}

async function cliJson<T>(node: MountedNode, ...args: string[]): Promise<T> {
  return JSON.parse(await cliOk(node, ...args, '--json')) as T
}

/** `node` joins with an invitation to `ns` from `inviter` (extra invite flags in `flags`). */
async function join(inviter: MountedNode, node: MountedNode, ns: string, ...flags: string[]): Promise<void> {
  const token = (await cliOk(inviter, 'invite', ns, ...flags)).trim()
  await cliOk(node, 'join', token)
}

const ls = (p: string) => out(`ls ${q(p)}`)

describe('members, roles, leaving and nested namespaces', () => {
  test('ns identity: the node key, role and join time in each namespace (text and --json)', { timeout: TEST_TIMEOUT }, () =>
    withCluster(async (nodes) => {
      const a = await nodes.start()
      const b = await nodes.start()
      await ok(`mkdir ${q(a.mnt)}/team`)
      const before = Date.now()
      await join(a, b, 'team')
      const status = JSON.parse(await cat(`${a.mnt}/.meshfs/status`)) as { nodeId: string }
      const ia = await cliJson<NamespaceIdentity>(a, 'ns', 'identity', 'team')
      assert.equal(ia.publicKey, status.nodeId)
      assert.equal(ia.role, 'admin')
      assert.equal(ia.path, 'team')
      assert.equal(ia.namespace, await idOf(`${a.mnt}/team`))
      const text = await cliOk(a, 'ns', 'identity', 'team')
      assert.match(text, new RegExp(`public key: ${ia.publicKey.replace(/-/g, '\\.')}\\n`))
      assert.match(text, /role: +admin\n/)
      await eventually(
        'B to see itself a member',
        async () => (await cliJson<NamespaceIdentity>(b, 'ns', 'identity', 'team')).role ?? 'null',
        'member',
      )
      const ib = await cliJson<NamespaceIdentity>(b, 'ns', 'identity', 'team')
      assert.notEqual(ib.publicKey, ia.publicKey)
      assert.ok(ib.joinedMs! >= before - 1000 && ib.joinedMs! <= Date.now(), `joinedMs ${ib.joinedMs}`)
      const members = await cliJson<Member[]>(a, 'ns', 'members', 'team')
      assert.deepEqual(
        members.map((m) => [m.publicKey, m.role]).sort(),
        [
          [ia.publicKey, 'admin'],
          [ib.publicKey, 'member'],
        ].sort(),
      )
      const r = await cli(a, 'ns', 'identity', 'nothing')
      assert.equal(r.code, 1)
      assert.match(r.stderr, /no namespace "nothing"/)
    }),
  )

  test(
    'a member gets EACCES deleting or changing the namespace, with a clear message; after ns grant admin it can',
    { timeout: TEST_TIMEOUT },
    () =>
      withCluster(async (nodes) => {
        const a = await nodes.start()
        const b = await nodes.start()
        await ok(`mkdir ${q(a.mnt)}/team`)
        await join(a, b, 'team')
        const keyA = (await cliJson<NamespaceIdentity>(a, 'ns', 'identity', 'team')).publicKey
        const keyB = (await cliJson<NamespaceIdentity>(b, 'ns', 'identity', 'team')).publicKey

        const rmdir = await sh(`rmdir ${q(b.mnt)}/team`)
        assert.notEqual(rmdir.code, 0)
        assert.match(rmdir.stderr, /Permission denied/)
        const setf = await sh(`setfattr -n user.meshfs.description -v mine ${q(b.mnt)}/team`)
        assert.match(setf.stderr, /Permission denied/)
        const del = await cli(b, 'ns', 'delete', 'team')
        assert.equal(del.code, 1)
        assert.match(del.stderr, /only an admin of namespace team may delete it; this node is a member/)
        assert.equal(del.stderr.trim().split('\n').length, 1)
        const grant = await cli(b, 'ns', 'grant', 'team', keyB, 'admin')
        assert.equal(grant.code, 1)
        assert.match(grant.stderr, /only an admin of namespace team may grant roles/)
        assert.equal(await ls(b.mnt), 'team\n', 'refused verbs change nothing')
        assert.equal((await cliJson<NamespaceIdentity>(b, 'ns', 'identity', 'team')).role, 'member')

        const bad = await cli(a, 'ns', 'grant', 'team', keyB, 'owner')
        assert.equal(bad.code, 2)
        assert.match(bad.stderr, /admin or member/)
        assert.match(
          await cliOk(a, 'ns', 'grant', 'team', keyB.slice(0, 10), 'admin'),
          new RegExp(`${keyB.replace(/-/g, '\\.')} is now admin`),
        )
        await eventually(
          'B to see itself admin',
          async () => (await cliJson<NamespaceIdentity>(b, 'ns', 'identity', 'team')).role ?? 'null',
          'admin',
        )
        await ok(`setfattr -n user.meshfs.description -v ours ${q(b.mnt)}/team`)
        await eventually('the description on A', () => out(`getfattr -n user.meshfs.description --only-values ${q(a.mnt)}/team`), 'ours')
        // Now B may hand roles on too (the creator stays admin), and delete (from itself) with rmdir.
        assert.equal((await cliJson<Member>(b, 'ns', 'grant', 'team', keyA, 'admin')).role, 'admin')
        assert.match((await cli(b, 'ns', 'grant', 'team', keyA, 'member')).stderr, /created namespace team and stays an admin/)
        await ok(`rmdir ${q(b.mnt)}/team`)
        assert.equal(await ls(b.mnt), '')
        assert.equal(await ls(a.mnt), 'team\n', 'deleting is from this node only')
      }),
  )

  test(
    'leave: the last admin is refused; a member leaves, A sees its tombstone, B holds nothing of it, also after a restart',
    { timeout: TEST_TIMEOUT },
    () =>
      withCluster(async (nodes) => {
        const a = await nodes.start()
        const bRoot = nodes.keptRoot('member')
        let b = await nodes.start(LISTEN, bRoot)
        await ok(`mkdir ${q(a.mnt)}/team && echo one > ${q(a.mnt)}/team/x.txt`)
        await join(a, b, 'team')
        await eventually('x.txt on B', () => cat(`${b.mnt}/team/x.txt`), 'one\n')
        const nsId = (await cliJson<NamespaceIdentity>(a, 'ns', 'identity', 'team')).namespace
        const keyB = (await cliJson<NamespaceIdentity>(b, 'ns', 'identity', 'team')).publicKey

        const last = await cli(a, 'ns', 'leave', 'team')
        assert.equal(last.code, 1)
        assert.match(last.stderr, /last admin of namespace team, which has other members: grant admin to one of them first/)
        assert.equal(await ls(a.mnt), 'team\n')

        const left = await cliOk(b, 'ns', 'leave', 'team')
        // B may still hold its join connection to A beside the lasting one: each acknowledges.
        assert.match(left, /^left namespace team \([0-9a-f]{32}\); (\d) of \1 connected peers acknowledged\n$/)
        assert.equal(await ls(b.mnt), '')
        assert.deepEqual(await cliJson(b, 'ns', 'list'), [])
        const members = await cliJson<Member[]>(a, 'ns', 'members', 'team')
        const rec = members.find((m) => m.publicKey === keyB)
        assert.ok(rec && typeof rec.leftMs === 'number', `A's member list shows B left: ${JSON.stringify(members)}`)
        assert.match(
          await cliOk(a, 'ns', 'members', 'team'),
          new RegExp(`${keyB.replace(/-/g, '\\.')} +member +\\S+ +\\d{4}-\\d\\d-\\d\\dT`),
        )

        // A goes on; nothing of it reaches B, which holds no document of the namespace any more.
        await ok(`echo two > ${q(a.mnt)}/team/y.txt`)
        await b.stop()
        const store = openLocalStore(b.data)
        try {
          assert.deepEqual(
            store.docs.listDocs().filter((d) => d.includes(nsId)),
            [],
          )
        } finally {
          store.close()
        }
        b = await nodes.start(LISTEN, bRoot)
        assert.equal(await ls(b.mnt), '')
        assert.deepEqual(await cliJson(b, 'ns', 'list'), [])
        assert.equal(await cat(`${a.mnt}/team/y.txt`), 'two\n')
      }),
  )

  test(
    'nested namespaces: ns create team/design mounts inside team; mv copies across; recursive invitations join both, plain ones only team',
    { timeout: TEST_TIMEOUT },
    () =>
      withCluster(async (nodes) => {
        const a = await nodes.start()
        const b = await nodes.start()
        const c = await nodes.start()
        await ok(`mkdir ${q(a.mnt)}/team && echo hi > ${q(a.mnt)}/team/a.txt`)
        const design = await cliJson<{ id: string; path: string; parentId: string }>(a, 'ns', 'create', 'team/design')
        assert.equal(design.path, 'team/design')
        const teamId = await idOf(`${a.mnt}/team`)
        assert.equal(design.parentId, teamId)
        assert.equal(await ls(`${a.mnt}/team`), 'a.txt\ndesign\n')
        assert.equal(await idOf(`${a.mnt}/team/design`), design.id)
        assert.notEqual(design.id, teamId)
        assert.equal(await out(`getfattr -n user.meshfs.kind --only-values ${q(a.mnt)}/team/design`), 'namespace')
        assert.deepEqual(
          (await cliJson<Array<{ path: string }>>(a, 'ns', 'list')).map((n) => n.path),
          ['team', 'team/design'],
        )
        assert.match(await cliOk(a, 'ns', 'list'), /team\/design +files/)
        const taken = await cli(a, 'ns', 'create', 'team/a.txt')
        assert.match(taken.stderr, /has a group or resource called a.txt/)

        // mv across namespaces: EXDEV, which mv answers by copying.
        await ok(`mv ${q(a.mnt)}/team/a.txt ${q(a.mnt)}/team/design/`)
        assert.equal(await ls(`${a.mnt}/team`), 'design\n')
        assert.equal(await cat(`${a.mnt}/team/design/a.txt`), 'hi\n')
        assert.notEqual(await idOf(`${a.mnt}/team/design/a.txt`), '')
        await ok(`echo top > ${q(a.mnt)}/team/top.txt`)

        await join(a, b, 'team', '--recursive')
        await eventually('team/design/a.txt on B (recursive)', () => cat(`${b.mnt}/team/design/a.txt`), 'hi\n')
        assert.equal(await cat(`${b.mnt}/team/top.txt`), 'top\n')
        assert.equal(await idOf(`${b.mnt}/team/design`), design.id)
        assert.deepEqual(
          (await cliJson<Array<{ path: string }>>(b, 'ns', 'list')).map((n) => n.path),
          ['team', 'team/design'],
        )

        await join(a, c, 'team')
        await eventually('team/top.txt on C', () => cat(`${c.mnt}/team/top.txt`), 'top\n')
        assert.equal(await ls(`${c.mnt}/team`), 'top.txt\n', 'a plain invitation does not join the nested namespace')
        assert.deepEqual(
          (await cliJson<Array<{ path: string }>>(c, 'ns', 'list')).map((n) => n.path),
          ['team'],
        )
        // A change in design reaches B, and not C.
        await ok(`echo more > ${q(a.mnt)}/team/design/b.txt`)
        await eventually('design/b.txt on B', () => cat(`${b.mnt}/team/design/b.txt`), 'more\n')
        assert.equal(await ls(`${c.mnt}/team`), 'top.txt\n')

        const refused = await cli(a, 'ns', 'delete', 'team')
        assert.equal(refused.code, 1)
        assert.match(refused.stderr, /holds nested namespaces \(team\/design\).*--force/)
        const forced = await cliJson<{ path: string }>(a, 'ns', 'delete', 'team', '--force')
        assert.equal(forced.path, 'team')
        assert.equal(await ls(a.mnt), '')
        assert.deepEqual(await cliJson(a, 'ns', 'list'), [])
      }),
  )
})
