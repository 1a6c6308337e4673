// The replicated handler's own rules, without FUSE: snapshots for readers, one working copy for
// local writers, publication on flush, and memory never ahead of the store.

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { replicaStoreOf } from '../../src/node/namespaces.js'
import { ReplicatedHandler } from '../../src/namespace/handler.js'
import { NamespaceReplica, type ReplicaStore } from '../../src/replica/replica.js'
import { openMemoryStore } from '../../src/store/local-store.js'

const RW = { read: true, write: true, append: false, truncate: false }
const RO = { read: true, write: false, append: false, truncate: false }
const INFO = {
  id: 'ab'.repeat(16),
  alias: 'unit',
  application: 'files',
  upgradePolicy: 'lazy-on-access' as const,
  description: '',
  createdMs: 1,
}

function setup(wrap: (s: ReplicaStore) => ReplicaStore = (s) => s) {
  const local = openMemoryStore()
  const store = wrap(replicaStoreOf(local))
  const replica = NamespaceReplica.create(store, INFO)
  return { local, store, replica, handler: new ReplicatedHandler(replica, { removeNamespace: async () => {} }) }
}

test('a reader keeps the snapshot it opened; the next open sees what was published', async () => {
  const { handler } = setup()
  const w = await handler.create('/f', 0o644, RW)
  await w.write!(Buffer.from('v1'), 0)
  await w.release()
  const reader = await handler.open('/f', RO)
  const writer = await handler.open('/f', RW)
  await writer.write!(Buffer.from('v2'), 0)
  await writer.flush!()
  assert.equal((await reader.read(0, 10)).toString(), 'v1')
  assert.equal((await (await handler.open('/f', RO)).read(0, 10)).toString(), 'v2')
})

test('published content survives a reload of the namespace from the store', async () => {
  const { local, handler } = setup()
  await handler.mkdir('/g', 0o755)
  const w = await handler.create('/g/f', 0o600, RW)
  await w.write!(Buffer.from('durable'), 0)
  await w.fsync!(false)
  const again = new ReplicatedHandler(NamespaceReplica.load(replicaStoreOf(local), INFO.id), { removeNamespace: async () => {} })
  assert.equal((await (await again.open('/g/f', RO)).read(0, 20)).toString(), 'durable')
  assert.equal((await again.stat('/g/f')).mode, 0o600)
})

test('a file unlinked while open keeps working for its holder and comes back nowhere', async () => {
  const { handler } = setup()
  const w = await handler.create('/gone', 0o644, RW)
  await handler.unlink('/gone')
  await w.write!(Buffer.from('late'), 0)
  assert.equal((await w.read(0, 10)).toString(), 'late')
  await w.release()
  assert.deepEqual(await handler.list('/'), [])
})

test('when the store refuses a change (disk full), the caller gets ENOSPC and memory stays equal to disk', async () => {
  let full = false
  const { handler, replica } = setup((s) => ({
    ...s,
    appendUpdate: (doc, u) => {
      if (full) throw Object.assign(new Error('database or disk is full'), { code: 'ENOSPC' })
      return s.appendUpdate(doc, u)
    },
  }))
  await handler.mkdir('/kept', 0o755)
  full = true
  await assert.rejects(handler.mkdir('/lost', 0o755), { code: 'ENOSPC' })
  assert.deepEqual(await handler.list('/'), ['kept'])
  assert.equal(replica.tree.resolvePath(['lost']), undefined)
  full = false
  await handler.mkdir('/lost', 0o755)
  assert.deepEqual(await handler.list('/'), ['kept', 'lost'])
})
