// Every method of the TypeScript client against running daemons (two nodes on loopback): each is
// called at least once and its answer checked, and a method added to the client without a test
// here fails the last assertion. Errors come back typed (MeshfsError with the daemon's code).

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { connect, MeshfsClient, MeshfsError, type NamespaceEvent } from '../../src/index.js'
import { rejectsCode } from '../support/errno.js'
import { waitFor } from '../support/wait.js'
import { SYNC_MS, TEST_TIMEOUT, withCluster } from '../support/cluster.js'

/** The client, with every method call recorded by name. */
function recorded(dataDir: string, called: Set<string>): MeshfsClient {
  const client = connect({ dataDir })
  return new Proxy(client, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown
      if (typeof v !== 'function' || typeof prop !== 'string') return v
      return (...args: unknown[]) => {
        called.add(prop)
        return (v as (...a: unknown[]) => unknown).apply(target, args)
      }
    },
  })
}

test('every client method against running daemons', { timeout: TEST_TIMEOUT }, () =>
  withCluster(async (c) => {
    const called = new Set<string>()
    const nodeA = await c.start()
    const nodeB = await c.start()
    const a = recorded(nodeA.data, called)
    const b = recorded(nodeB.data, called)

    // Namespaces.
    const team = await a.createNamespace('chat', { alias: 'team', description: 'the team' })
    assert.equal(team.application, 'chat')
    assert.deepEqual(await a.getNamespace('team'), team)
    assert.deepEqual(await a.getNamespace(team.id), team)
    assert.ok((await a.listNamespaces()).some((n) => n.id === team.id))
    assert.deepEqual(
      (await a.listNamespacesForApplication('chat')).map((n) => n.id),
      [team.id],
    )
    assert.deepEqual(await a.listNamespacesForApplication('other'), [])
    const me = await a.getNamespaceIdentity('team')
    assert.equal(me.role, 'admin')
    assert.equal(me.namespace, team.id)

    // Groups.
    await a.createGroupInNamespace('team', 'g1')
    const g2 = await a.createGroupInNamespace('team', 'g2')
    assert.equal((await a.nestGroup('team', 'g1', 'g2')).path, '/g1/g2')
    assert.deepEqual(
      (await a.listSubgroups('team', 'g1')).map((g) => g.id),
      [g2.id],
    )
    assert.equal((await a.unnestGroup('team', g2.id)).path, '/g2')
    assert.deepEqual((await a.listNamespaceGroups('team')).map((g) => g.path).sort(), ['/', '/g1', '/g2'])

    // The node, its tokens, and a second node joining.
    const status = await a.status()
    assert.equal(status.nodeId, me.publicKey)
    assert.match(status.url, /^ws:\/\/127\.0\.0\.1:\d+$/)
    const mounts = await a.listMounts()
    assert.deepEqual(
      mounts.filter((m) => m.path === '/' || m.path === '/team').map((m) => m.path),
      ['/', '/team'],
    )
    const clientToken = await a.createClientToken('team', { expires: '1h', readOnly: true })
    assert.equal(clientToken.namespace, team.id)
    assert.equal(clientToken.readOnly, true)
    const invitation = await a.createNamespaceInvitation('team', { expires: '10m' })
    const joined = await b.joinNamespace(invitation)
    assert.equal(joined.id, team.id)
    const bKey = (await b.status()).nodeId
    await waitFor(async () => (await a.listMembers('team')).some((m) => m.publicKey === bKey && m.leftMs === undefined), {
      what: 'A to list B as a member',
      timeoutMs: SYNC_MS,
    })
    await waitFor(async () => (await a.getPeers('team')).some((p) => p.key === bKey && p.connected), {
      what: 'A to see B connected',
      timeoutMs: SYNC_MS,
    })
    // team holds no binary, so nothing is in flight (binary-visibility.test.ts watches real transfers).
    assert.deepEqual(await b.getTransfers('team'), [])
    await rejectsCode(b.getTransfers('nowhere'), 'ENOENT', { type: MeshfsError })

    // Events and notify: B subscribes; A notifies B and changes the namespace.
    const events = await b.subscribeNamespace('team')
    const seen: NamespaceEvent[] = []
    const reading = (async () => {
      for await (const e of events) seen.push(e)
    })()
    try {
      assert.equal(await a.notify('team', bKey.slice(0, 10), 'hello B'), bKey)
      await waitFor(() => seen.some((e) => e.type === 'notify' && e.data === 'hello B' && e.from === me.publicKey), {
        what: 'the notify on B',
        timeoutMs: SYNC_MS,
      })
      await a.createGroupInNamespace('team', 'from-a')
      await waitFor(() => seen.some((e) => e.type === 'put' && e.path === '/from-a'), { what: 'the new group on B', timeoutMs: SYNC_MS })
    } finally {
      await events.return?.()
      await reading
    }

    // Roles.
    assert.equal((await a.grantRole('team', bKey, 'admin')).role, 'admin')
    await waitFor(async () => (await b.getNamespaceIdentity('team')).role === 'admin', {
      what: 'B to see itself admin',
      timeoutMs: SYNC_MS,
    })

    // Sync targets (local).
    await a.createNamespace('files', { alias: 'mirror' })
    const enabled = await a.enableSyncTarget('team', 'local', 'simplex', { targetNamespace: 'mirror' })
    assert.equal(enabled.targets.length, 1)
    assert.equal(enabled.targets[0]!.type, 'simplex')
    assert.deepEqual(
      (await a.getSyncConfiguration('team')).targets.map((t) => t.targetNamespace),
      ['mirror'],
    )
    assert.equal((await a.disableSyncTarget('team', 'local', 'mirror')).targets.length, 0)
    assert.equal((await a.deleteNamespace('mirror', { force: true })).alias, 'mirror')

    // Leaving, then typed errors.
    const left = await b.leaveNamespace('team')
    assert.deepEqual(left.left, [team.id])
    await rejectsCode(b.getNamespace('team'), 'ENOENT', { type: MeshfsError })
    await rejectsCode(a.createNamespace('chat', { alias: 'team' }), 'EEXIST', { type: MeshfsError })
    await rejectsCode(a.joinNamespace('not a token'), 'EINVAL', { type: MeshfsError })
    await rejectsCode(connect({ dataDir: '/nonexistent' }).listNamespaces(), 'ENOTCONN', { type: MeshfsError })

    const methods = Object.getOwnPropertyNames(MeshfsClient.prototype).filter((m) => m !== 'constructor')
    assert.deepEqual(
      methods.filter((m) => !called.has(m)),
      [],
      'every client method is exercised here',
    )
  }),
)
