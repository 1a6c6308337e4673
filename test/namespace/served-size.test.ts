// `stat` shows the size of the bytes a read serves. A peer's save reaches this node as two
// updates, the tree's (the recorded size) and the text's (the bytes), in either order; a size
// that disagrees with the bytes makes the kernel pad a read with NULs, which a program then
// saves back (as binary, so nothing merges any more). Found by the collab test: a temp-file save
// read "text + NULs" and lost a peer's edit.

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { replicaStoreOf } from '../../src/node/namespaces.js'
import { ReplicatedHandler } from '../../src/namespace/handler.js'
import { NamespaceReplica } from '../../src/replica/replica.js'
import { openMemoryStore } from '../../src/store/local-store.js'

const INFO = {
  id: '5e'.repeat(16),
  alias: 's',
  application: 'files',
  upgradePolicy: 'lazy-on-access' as const,
  description: '',
  createdMs: 1,
}
const RO = { read: true, write: false, append: false, truncate: false }
const RW = { read: true, write: true, append: false, truncate: true }

async function readAll(h: ReplicatedHandler, path: string): Promise<string> {
  const f = await h.open(path, RO)
  const bytes = await f.read(0, 1 << 20)
  await f.release()
  return bytes.toString()
}

for (const first of ['tree', 'text'] as const) {
  test(`a peer's save whose ${first} update arrives first: stat and read agree at every step`, async () => {
    const a = NamespaceReplica.create(replicaStoreOf(openMemoryStore()), INFO)
    const ha = new ReplicatedHandler(a, { removeNamespace: async () => {} })
    const w = await ha.create('/f.txt', 0o644, RW)
    await w.write!(Buffer.from('short\n'), 0)
    await w.release()
    const b = NamespaceReplica.load(replicaStoreOf(openMemoryStore()), INFO.id)
    for (const key of a.docKeys()) b.applyRemote(key, a.diff(key, b.stateVector(key)), 'a')
    const hb = new ReplicatedHandler(b, { removeNamespace: async () => {} })
    const before = a.docKeys().map((k) => [k, a.stateVector(k)] as const)
    const wb = await hb.open('/f.txt', RW)
    await wb.write!(Buffer.from('a much longer line, written on B\n'), 0)
    await wb.release()
    const updates = new Map(before.map(([k, sv]) => [k, b.diff(k, sv)]))
    const order = [...updates.keys()].sort((x, y) =>
      (x === 'tree') === (first === 'tree') ? -1 : (y === 'tree') === (first === 'tree') ? 1 : 0,
    )
    for (const key of order) {
      a.applyRemote(key, updates.get(key)!, 'b')
      const served = await readAll(ha, '/f.txt')
      assert.equal((await ha.stat('/f.txt')).size, Buffer.byteLength(served), `after the ${key} update: stat says what a read serves`)
    }
    assert.equal(await readAll(ha, '/f.txt'), 'a much longer line, written on B\n')
  })
}
