// Whole-file saves made from an older version keep what peers changed meanwhile.

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { mergeText } from '../../src/text/merge.js'
import { replicaStoreOf } from '../../src/node/namespaces.js'
import { ReplicatedHandler } from '../../src/namespace/handler.js'
import { NamespaceReplica } from '../../src/replica/replica.js'
import { openMemoryStore } from '../../src/store/local-store.js'

const lines = (n: number) => Array.from({ length: n }, (_, i) => `line ${i + 1}\n`).join('')

test('mergeText replays my changes onto theirs', () => {
  const base = lines(10)
  const mine = base.replace('line 2\n', 'line 2 edited on A\n')
  const theirs = base.replace('line 9\n', 'line 9 edited on B\n')
  assert.equal(mergeText(base, mine, theirs), base.replace('line 2\n', 'line 2 edited on A\n').replace('line 9\n', 'line 9 edited on B\n'))
  assert.equal(mergeText(base, mine, base), mine)
  assert.equal(mergeText(base, base, theirs), theirs)
  assert.equal(mergeText('a', 'ac', 'ab'), 'abc', 'insertions at one place: theirs first, then mine')
  assert.equal(mergeText('x', 'xA', 'Bx'), 'BxA')
  // Both changed the same line: both versions stay, visibly.
  const both = mergeText('one\ntwo\n', 'one\nTWO-a\n', 'one\nTWO-b\n')
  assert.match(both, /TWO-b/)
  assert.match(both, /TWO-a/)
})

test('an atomic save from an older read keeps a peer edit that arrived meanwhile', async () => {
  const INFO = {
    id: 'ef'.repeat(16),
    alias: 'm',
    application: 'files',
    upgradePolicy: 'lazy-on-access' as const,
    description: '',
    createdMs: 1,
  }
  const RW = { read: true, write: true, append: false, truncate: false }
  const RO = { read: true, write: false, append: false, truncate: false }
  const a = NamespaceReplica.create(replicaStoreOf(openMemoryStore()), INFO)
  const ha = new ReplicatedHandler(a, { removeNamespace: async () => {} })
  const w = await ha.create('/notes.txt', 0o644, RW)
  await w.write!(Buffer.from(lines(10)), 0)
  await w.release()
  // Node B starts from A's state and edits line 9.
  const b = NamespaceReplica.load(replicaStoreOf(openMemoryStore()), INFO.id)
  for (const key of a.docKeys()) b.applyRemote(key, a.diff(key, b.stateVector(key)), 'a')
  const hb = new ReplicatedHandler(b, { removeNamespace: async () => {} })
  // An editor on A (this process) reads the file (before B's edit arrives)...
  const editor = { uid: 0, gid: 0, pid: process.pid }
  const r = await ha.open('/notes.txt', { ...RO, caller: editor })
  const read = (await r.read(0, 1000)).toString()
  await r.release()
  const wb = await hb.open('/notes.txt', RW)
  await wb.truncate!(0)
  await wb.write!(Buffer.from(lines(10).replace('line 9\n', 'line 9 edited on B\n')), 0)
  await wb.release()
  // ...B's edit reaches A...
  for (const key of b.docKeys()) a.applyRemote(key, b.diff(key, a.stateVector(key)), 'b')
  // ...and A's editor saves what it read plus its own change, through a temp file.
  const tmp = await ha.create('/notes.txt.sed1', 0o644, RW)
  await tmp.write!(Buffer.from(read.replace('line 2\n', 'line 2 edited on A\n')), 0)
  await tmp.release()
  await ha.rename('/notes.txt.sed1', '/notes.txt', editor)
  for (const key of a.docKeys()) b.applyRemote(key, a.diff(key, b.stateVector(key)), 'a')
  const expected = lines(10).replace('line 2\n', 'line 2 edited on A\n').replace('line 9\n', 'line 9 edited on B\n')
  for (const h of [ha, hb]) {
    const f = await h.open('/notes.txt', RO)
    assert.equal((await f.read(0, 1000)).toString(), expected)
    assert.equal((await h.stat('/notes.txt')).size, Buffer.byteLength(expected))
  }
})
