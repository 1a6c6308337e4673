import assert from 'node:assert/strict'
import { afterEach, beforeEach, describe, it } from 'node:test'
import * as Y from 'yjs'
import type { Chunk, StorageAdapter } from '../../src/store/adapter.js'
import { DocStore } from '../../src/store/doc-store.js'
import type { DocId, DocStoreOptions } from '../../src/store/doc-store.js'
import type { StorageKey } from '../../src/store/key.js'
import { MemoryStorageAdapter } from '../../src/store/memory-adapter.js'
import { SqliteStorageAdapter } from '../../src/store/sqlite-adapter.js'
import { seededRandom } from '../support/prng.js'
import { removeTempDir, storeError, tempDir } from './helpers.js'

/** A Y.Doc whose every update is appended to the store, the way the crdt layer will use it. */
function recordedDoc(store: DocStore, docId: DocId): Y.Doc {
  const doc = new Y.Doc()
  doc.on('update', (update: Uint8Array) => store.appendUpdate(docId, update))
  return doc
}

function rebuild(store: DocStore, docId: DocId): Y.Doc {
  const bytes = store.loadDoc(docId)
  assert.ok(bytes !== undefined, `doc ${JSON.stringify(docId)} should be stored`)
  const doc = new Y.Doc()
  Y.applyUpdate(doc, bytes)
  return doc
}

/** Two docs hold the same state when each one's state, applied to the other, adds nothing. */
function assertSameState(actual: Y.Doc, expected: Y.Doc): void {
  assert.deepEqual(Y.encodeStateVector(actual), Y.encodeStateVector(expected))
  assert.deepEqual(Y.encodeStateAsUpdate(actual), Y.encodeStateAsUpdate(expected))
  assert.equal(actual.store.pendingStructs, null, 'the rebuilt doc has updates it cannot integrate')
}

/** Random edits to a text, a map and an array, reproducible from the seed. */
function randomEdits(doc: Y.Doc, count: number, seed: number): void {
  const random = seededRandom(seed)
  const text = doc.getText('text')
  const map = doc.getMap('map')
  const list = doc.getArray<number>('list')
  for (let i = 0; i < count; i++) {
    const r = random()
    if (r < 0.4) text.insert(Math.floor(random() * (text.length + 1)), `w${i} `)
    else if (r < 0.55 && text.length > 3) text.delete(Math.floor(random() * (text.length - 3)), 3)
    else if (r < 0.8) map.set(`k${Math.floor(random() * 20)}`, { i, s: 'x'.repeat(Math.floor(random() * 40)) })
    else if (r < 0.95) list.push([i])
    else if (list.length > 0) list.delete(0, 1)
  }
}

/** Passes every call through; tests override single methods to inject events. */
class DelegatingAdapter implements StorageAdapter {
  constructor(readonly inner: StorageAdapter) {}
  load(key: StorageKey) {
    return this.inner.load(key)
  }
  save(key: StorageKey, data: Uint8Array) {
    this.inner.save(key, data)
  }
  remove(key: StorageKey) {
    this.inner.remove(key)
  }
  loadRange(prefix: StorageKey) {
    return this.inner.loadRange(prefix)
  }
  removeRange(prefix: StorageKey) {
    return this.inner.removeRange(prefix)
  }
  has(key: StorageKey) {
    return this.inner.has(key)
  }
  listKeys(prefix: StorageKey) {
    return this.inner.listKeys(prefix)
  }
  transaction<T>(fn: () => T): T {
    return this.inner.transaction(fn)
  }
  close() {
    this.inner.close()
  }
}

interface Backend {
  /** a store on a fresh adapter */
  open(options?: DocStoreOptions): { store: DocStore; adapter: StorageAdapter }
  /** a new store on the same data (a close and reopen for SQLite; the same map for memory) */
  reopen(options?: DocStoreOptions): { store: DocStore; adapter: StorageAdapter }
  cleanup(): void
}

function sqliteBackend(): Backend {
  const dir = tempDir('docs')
  let adapter: SqliteStorageAdapter | undefined
  return {
    open(options) {
      adapter = SqliteStorageAdapter.open(dir)
      return { store: new DocStore(adapter, options), adapter }
    },
    reopen(options) {
      adapter?.close()
      adapter = SqliteStorageAdapter.open(dir)
      return { store: new DocStore(adapter, options), adapter }
    },
    cleanup() {
      adapter?.close()
      removeTempDir(dir)
    },
  }
}

function memoryBackend(): Backend {
  const adapter = new MemoryStorageAdapter()
  return {
    open: (options) => ({ store: new DocStore(adapter, options), adapter }),
    reopen: (options) => ({ store: new DocStore(adapter, options), adapter }),
    cleanup: () => adapter.close(),
  }
}

for (const [name, makeBackend] of [
  ['sqlite', sqliteBackend],
  ['memory', memoryBackend],
] as const) {
  describe(`DocStore on ${name}`, () => {
    let backend: Backend
    beforeEach(() => {
      backend = makeBackend()
    })
    afterEach(() => backend.cleanup())

    it('returns undefined for an unknown doc and numbers appended updates 1, 2, 3', () => {
      const { store } = backend.open()
      assert.equal(store.loadDoc(['nope']), undefined)
      assert.equal(store.hasDoc(['nope']), false)
      const doc = new Y.Doc()
      const seqs: number[] = []
      doc.on('update', (u: Uint8Array) => seqs.push(store.appendUpdate(['d'], u)))
      doc.getText('t').insert(0, 'a')
      doc.getText('t').insert(1, 'b')
      doc.getText('t').insert(2, 'c')
      assert.deepEqual(seqs, [1, 2, 3])
      assert.equal(rebuild(store, ['d']).getText('t').toString(), 'abc')
      assert.deepEqual(store.stats(['d']), { seq: 3, snapshotSeq: 0, logCount: 3, logBytes: store.stats(['d'])!.logBytes })
    })

    it('rebuilds after reopening exactly the doc that was written', () => {
      let { store } = backend.open({ compactAfterUpdates: 0, compactAfterBytes: 0 })
      const original = recordedDoc(store, ['doc/a'])
      randomEdits(original, 300, 11)
      ;({ store } = backend.reopen())
      const rebuilt = rebuild(store, ['doc/a'])
      assertSameState(rebuilt, original)
      assert.equal(rebuilt.getText('text').toString(), original.getText('text').toString())
      assert.deepEqual(rebuilt.getMap('map').toJSON(), original.getMap('map').toJSON())
      assert.deepEqual(rebuilt.getArray('list').toJSON(), original.getArray('list').toJSON())
    })

    it('merges updates of several clients, whatever their order of arrival', () => {
      const { store } = backend.open()
      const a = new Y.Doc()
      const b = new Y.Doc()
      a.getText('t').insert(0, 'from a. ')
      b.getText('t').insert(0, 'from b. ')
      const aUpdate = Y.encodeStateAsUpdate(a)
      Y.applyUpdate(b, aUpdate)
      b.getText('t').insert(0, 'b after a. ')
      // b's update depends on a's, and is stored first.
      store.appendUpdate(['shared'], Y.encodeStateAsUpdate(b, Y.encodeStateVector(a)))
      store.appendUpdate(['shared'], aUpdate)
      assertSameState(rebuild(store, ['shared']), b)
    })

    it('compacts into a snapshot that, with the remaining log, equals the doc', () => {
      let { store } = backend.open({ compactAfterUpdates: 0, compactAfterBytes: 0 })
      const original = recordedDoc(store, ['c'])
      randomEdits(original, 120, 5)
      const before = store.stats(['c'])!
      const result = store.compact(['c'])!
      assert.equal(result.throughSeq, before.seq)
      assert.equal(result.folded, before.logCount)
      assert.deepEqual(store.stats(['c']), { seq: before.seq, snapshotSeq: before.seq, logCount: 0, logBytes: 0 })
      assertSameState(rebuild(store, ['c']), original)

      randomEdits(original, 50, 6) // appended after the snapshot point
      ;({ store } = backend.reopen({ compactAfterUpdates: 0, compactAfterBytes: 0 }))
      assertSameState(rebuild(store, ['c']), original)
      assert.equal(store.stats(['c'])!.logCount, store.stats(['c'])!.seq - before.seq)
      assert.equal(store.compact(['c'])!.folded, store.stats(['c'])!.seq - before.seq)
      assertSameState(rebuild(store, ['c']), original)
      assert.deepEqual(store.compact(['c']), {
        throughSeq: store.stats(['c'])!.seq,
        folded: 0,
        snapshotBytes: store.loadDoc(['c'])!.byteLength,
      })
    })

    it('keeps an update appended while compaction runs, after the log was read', () => {
      const { adapter } = backend.open()
      const late = new Y.Doc()
      late.getMap('m').set('late', true)
      let store: DocStore
      let lateSeq = 0
      // An adapter that lets a writer in right after compaction has read the log: the moment a
      // concurrent append would land between compaction's read and its delete.
      const racing = new (class extends DelegatingAdapter {
        override loadRange(prefix: StorageKey): Chunk[] {
          const chunks = super.loadRange(prefix)
          if (prefix[0] === 'log' && compacting && lateSeq === 0) lateSeq = store.appendUpdate(['r'], Y.encodeStateAsUpdate(late))
          return chunks
        }
      })(adapter)
      let compacting = false
      store = new DocStore(racing, { compactAfterUpdates: 0, compactAfterBytes: 0 })
      const doc = recordedDoc(store, ['r'])
      doc.getMap('m').set('a', 1)
      doc.getMap('m').set('b', 2)
      compacting = true
      const result = store.compact(['r'])!
      compacting = false
      assert.equal(lateSeq, 3)
      assert.equal(result.throughSeq, 2, 'the snapshot covers only what compaction read')
      assert.deepEqual(store.stats(['r']), { seq: 3, snapshotSeq: 2, logCount: 1, logBytes: Y.encodeStateAsUpdate(late).byteLength })
      const rebuilt = rebuild(new DocStore(adapter), ['r'])
      assert.deepEqual(rebuilt.getMap('m').toJSON(), { a: 1, b: 2, late: true })
      // The next append gets a fresh seq rather than overwriting the late one.
      doc.getMap('m').set('c', 3)
      assert.equal(store.stats(['r'])!.seq, 4)
      assert.deepEqual(rebuild(store, ['r']).getMap('m').toJSON(), { a: 1, b: 2, c: 3, late: true })
    })

    it('compacts on its own after N updates or M bytes, and the doc stays whole', () => {
      const { store } = backend.open({ compactAfterUpdates: 10, compactAfterBytes: 0 })
      const doc = recordedDoc(store, ['auto'])
      for (let i = 0; i < 25; i++) doc.getArray('a').push([i])
      assert.deepEqual(store.stats(['auto']), { seq: 25, snapshotSeq: 20, logCount: 5, logBytes: store.stats(['auto'])!.logBytes })
      assertSameState(rebuild(store, ['auto']), doc)

      const bytes = backend.reopen({ compactAfterUpdates: 0, compactAfterBytes: 1000 }).store
      const big = recordedDoc(bytes, ['bytes'])
      for (let i = 0; i < 20; i++) big.getText('t').insert(0, 'y'.repeat(300))
      const stats = bytes.stats(['bytes'])!
      assert.ok(stats.snapshotSeq > 0, 'the byte threshold should have triggered compaction')
      assert.ok(stats.logBytes < 1000)
      assertSameState(rebuild(bytes, ['bytes']), big)
    })

    it('refuses to append something that is not a Yjs update, and stores nothing', () => {
      const { store } = backend.open()
      assert.throws(() => store.appendUpdate(['bad'], new TextEncoder().encode('not an update')), storeError('invalid-argument', 'bad'))
      assert.throws(() => store.appendUpdate(['bad'], new Uint8Array(0)), storeError('invalid-argument'))
      assert.throws(() => store.appendUpdate([''], new Uint8Array([0, 0])), storeError('invalid-argument'))
      assert.throws(() => store.appendUpdate([], new Uint8Array([0, 0])), storeError('invalid-argument'))
      assert.throws(() => store.appendUpdate(['text', '', 'r'], new Uint8Array([0, 0])), storeError('invalid-argument'))
      assert.equal(store.hasDoc(['bad']), false)
    })

    it('names the doc and seq of a corrupted log entry instead of skipping it', () => {
      const { store, adapter } = backend.open({ compactAfterUpdates: 0, compactAfterBytes: 0 })
      const doc = recordedDoc(store, ['broken'])
      doc.getText('t').insert(0, 'one')
      doc.getText('t').insert(3, 'two')
      doc.getText('t').insert(6, 'three')
      const key = ['log', 'broken', '', '0000000000000002']
      const good = adapter.load(key)!
      adapter.save(key, good.subarray(0, good.byteLength - 2)) // truncated: a valid row, a broken update
      assert.throws(() => store.loadDoc(['broken']), storeError('corrupt-record', 'doc ["broken"]', 'seq 2'))
      assert.throws(() => store.compact(['broken']), storeError('corrupt-record', 'doc ["broken"]', 'seq 2'))
      assert.equal(store.stats(['broken'])!.logCount, 3, 'a failed compaction changes nothing')
      // A lone entry is checked too (Yjs returns a single update unread).
      const lone = recordedDoc(store, ['lone'])
      lone.getText('t').insert(0, 'x')
      adapter.save(['log', 'lone', '', '0000000000000001'], new Uint8Array([0xff, 0xfe, 0x01]))
      assert.throws(() => store.loadDoc(['lone']), storeError('corrupt-record', 'doc ["lone"]', 'seq 1'))
    })

    it('names the doc when its snapshot is corrupted', () => {
      const { store, adapter } = backend.open({ compactAfterUpdates: 0, compactAfterBytes: 0 })
      const doc = recordedDoc(store, ['snap'])
      doc.getText('t').insert(0, 'hello')
      store.compact(['snap'])
      doc.getText('t').insert(0, 'more ')
      adapter.save(['snapshot', 'snap'], new TextEncoder().encode('garbage garbage'))
      assert.throws(() => store.loadDoc(['snap']), storeError('corrupt-record', 'doc ["snap"]', 'snapshot'))
    })

    it('deletes a doc completely and starts a new one under the same id from seq 1', () => {
      const { store, adapter } = backend.open({ compactAfterUpdates: 3 })
      const doc = recordedDoc(store, ['del'])
      for (let i = 0; i < 5; i++) doc.getArray('a').push([i])
      recordedDoc(store, ['del-keep']).getArray('a').push([1])
      assert.equal(store.deleteDoc(['del']), true)
      assert.equal(store.deleteDoc(['del']), false)
      assert.equal(store.loadDoc(['del']), undefined)
      assert.deepEqual(
        adapter.listKeys([]).filter((key) => key[1] === 'del'),
        [],
        'nothing of the deleted doc is left in the adapter',
      )
      assert.equal(store.appendUpdate(['del'], Y.encodeStateAsUpdate(new Y.Doc())), 1)
      assert.deepEqual(rebuild(store, ['del-keep']).getArray('a').toJSON(), [1])
    })

    it('lists docs by a prefix of parts, never by a prefix of characters', () => {
      const { store } = backend.open()
      const empty = Y.encodeStateAsUpdate(new Y.Doc())
      const ids = [['ns1', 'tree'], ['ns1', 'res', 'a'], ['ns10', 'tree'], ['ns1:x', 'tree'], ['ns2', 'tree'], ['x']]
      for (const id of ids) store.appendUpdate(id, empty)
      assert.deepEqual(store.listDocs(), [
        ['ns1', 'res', 'a'],
        ['ns1', 'tree'],
        ['ns10', 'tree'],
        ['ns1:x', 'tree'],
        ['ns2', 'tree'],
        ['x'],
      ])
      assert.deepEqual(store.listDocs(['ns1']), [
        ['ns1', 'res', 'a'],
        ['ns1', 'tree'],
      ])
      assert.deepEqual(store.listDocs(['ns1', 'res']), [['ns1', 'res', 'a']])
      assert.deepEqual(store.listDocs(['ns']), [])
      assert.deepEqual(store.listDocs(['none']), [])
    })

    it('keeps the log of a doc apart from the log of a doc whose id extends it', () => {
      const { store } = backend.open({ compactAfterUpdates: 0, compactAfterBytes: 0 })
      const short = recordedDoc(store, ['a'])
      const long = recordedDoc(store, ['a', 'b'])
      short.getText('t').insert(0, 'short')
      long.getText('t').insert(0, 'long')
      long.getText('t').insert(0, 'er ')
      assert.equal(rebuild(store, ['a']).getText('t').toString(), 'short')
      assert.equal(store.stats(['a'])!.logCount, 1)
      assert.equal(store.compact(['a'])!.folded, 1)
      assert.equal(store.deleteDoc(['a']), true)
      assert.equal(rebuild(store, ['a', 'b']).getText('t').toString(), 'er long')
      assert.equal(store.stats(['a', 'b'])!.logCount, 2)
    })
  })
}

describe('DocStore on sqlite: on-disk corruption', () => {
  it("names doc and seq when a log entry's bytes changed on disk", () => {
    const dir = tempDir('rowcrc')
    const adapter = SqliteStorageAdapter.open(dir)
    try {
      const store = new DocStore(adapter)
      const doc = recordedDoc(store, ['disk'])
      doc.getText('t').insert(0, 'aaaa')
      doc.getText('t').insert(0, 'bbbb')
      // Flip one byte of the second entry's stored value, leaving its stored CRC as it was.
      const rows = adapter.database.prepare('SELECT id, data FROM chunks').all() as Array<{ id: number; data: Buffer }>
      const row = rows.find((r) => r.data.includes(Buffer.from('bbbb')))
      assert.ok(row !== undefined)
      const changed = Buffer.from(row.data)
      changed[changed.indexOf('bbbb') + 3] = 'c'.charCodeAt(0)
      adapter.database.prepare('UPDATE chunks SET data = ? WHERE id = ?').run(changed, row.id)
      assert.throws(() => store.loadDoc(['disk']), storeError('corrupt-record', 'doc ["disk"]', 'log entry seq 2', 'CRC-32'))
    } finally {
      adapter.close()
      removeTempDir(dir)
    }
  })
})
