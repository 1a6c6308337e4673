import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import * as Y from 'yjs'
import { TreeError, type TreeErrorCode } from '../../src/model/tree/errors.js'
import { withTag } from '../../src/model/names.js'
import { TreeDoc } from '../../src/model/tree/tree.js'
import { dumpTree } from './tree-harness.js'
import { throwsCode as throwsAnyCode } from '../support/errno.js'

const ROOT = TreeDoc.ROOT

const throwsCode = (fn: () => unknown, code: TreeErrorCode): void => throwsAnyCode(fn, code, { type: TreeError })

/** Replicas with ids from a counter (readable, and ordered as created). */
function replicas(n: number, prefixes = ['aaaa', 'bbbb', 'cccc']): TreeDoc[] {
  return Array.from({ length: n }, (_, i) => {
    let next = 0
    const prefix = prefixes[i]!
    return new TreeDoc(new Y.Doc(), { newId: () => prefix + (++next).toString(16).padStart(12, '0') })
  })
}

function syncAll(...trees: TreeDoc[]): void {
  for (const a of trees) {
    for (const b of trees) if (a !== b) Y.applyUpdate(b.doc, Y.encodeStateAsUpdate(a.doc, Y.encodeStateVector(b.doc)))
  }
}

function assertConverged(...trees: TreeDoc[]): string {
  const dumps = trees.map(dumpTree)
  for (const d of dumps) assert.equal(d, dumps[0])
  return dumps[0]!
}

function names(tree: TreeDoc, dir: string): string[] {
  return tree.children(dir).map((c) => c.name)
}

describe('TreeDoc local operations', () => {
  test('create, get, children, lookup, resolvePath, pathOf', () => {
    const [t] = replicas(1)
    const docs = t!.create(ROOT, 'docs', 'group', 0o750)
    const f = t!.create(docs, 'notes.txt', 'file', 0o644, { h: 'abc', size: '3' })
    const l = t!.create(docs, 'link', 'symlink', 0o777, { target: 'notes.txt' })
    assert.deepEqual(t!.get(f), {
      id: f,
      parentId: docs,
      name: 'notes.txt',
      storedName: 'notes.txt',
      kind: 'file',
      mode: 0o644,
      meta: { h: 'abc', size: '3' },
    })
    assert.equal(t!.get(docs).mode, 0o750)
    assert.equal(t!.get(l).kind, 'symlink')
    assert.deepEqual(names(t!, docs), ['link', 'notes.txt'])
    assert.equal(t!.lookup(docs, 'notes.txt'), f)
    assert.equal(t!.lookup(docs, 'nope'), undefined)
    assert.equal(t!.resolvePath(['docs', 'notes.txt']), f)
    assert.equal(t!.resolvePath([]), ROOT)
    assert.equal(t!.resolvePath(['docs', 'notes.txt', 'x']), undefined)
    assert.equal(t!.resolvePath(['nope']), undefined)
    assert.deepEqual(t!.pathOf(f), ['docs', 'notes.txt'])
    assert.deepEqual(t!.pathOf(ROOT), [])
    assert.equal(t!.get(ROOT).kind, 'group')
    assert.equal(t!.isLive(f), true)
    assert.equal(t!.isLive('0123456789abcdef'), false)
    assert.equal(t!.find('0123456789abcdef'), undefined)
    throwsCode(() => t!.get('0123456789abcdef'), 'ENOENT')
    throwsCode(() => t!.pathOf('0123456789abcdef'), 'ENOENT')
  })

  test('create errors', () => {
    const [t] = replicas(1)
    const f = t!.create(ROOT, 'f', 'file', 0o644)
    throwsCode(() => t!.create(ROOT, 'f', 'group', 0o755), 'EEXIST')
    throwsCode(() => t!.create(f, 'x', 'file', 0o644), 'ENOTDIR')
    throwsCode(() => t!.children(f), 'ENOTDIR')
    throwsCode(() => t!.create('0123456789abcdef', 'x', 'file', 0o644), 'ENOENT')
    throwsCode(() => t!.create(ROOT, 'x', 'file', 0o10000), 'EINVAL')
    throwsCode(() => t!.create(ROOT, 'x', 'file', -1), 'EINVAL')
    throwsCode(() => t!.create(ROOT, 'x', 'dir' as 'group', 0o755), 'EINVAL')
    throwsCode(() => t!.create(ROOT, 'x', 'file', 0o644, { '': 'v' }), 'EINVAL')
    throwsCode(() => t!.create(ROOT, 'x', 'file', 0o644, { k: 'v'.repeat(2000) }), 'EINVAL')
    assert.deepEqual(names(t!, ROOT), ['f'])
  })

  test('name validation', () => {
    const [t] = replicas(1)
    for (const bad of ['', '.', '..', 'a/b', 'a\0b', 'x\uD800y']) throwsCode(() => t!.create(ROOT, bad, 'file', 0o644), 'EINVAL')
    throwsCode(() => t!.create(ROOT, 'a'.repeat(256), 'file', 0o644), 'ENAMETOOLONG')
    throwsCode(() => t!.create(ROOT, 'é'.repeat(128), 'file', 0o644), 'ENAMETOOLONG') // 256 bytes
    t!.create(ROOT, 'a'.repeat(255), 'file', 0o644)
    t!.create(ROOT, 'é'.repeat(127), 'file', 0o644)
    t!.create(ROOT, '...', 'file', 0o644)
    t!.create(ROOT, '😀 .x', 'file', 0o644)
    const g = t!.create(ROOT, 'g', 'group', 0o755)
    throwsCode(() => t!.rename(g, 'a/b'), 'EINVAL')
    throwsCode(() => t!.move(g, ROOT, '..'), 'EINVAL')
  })

  test('rename', () => {
    const [t] = replicas(1)
    const a = t!.create(ROOT, 'a', 'file', 0o644)
    t!.create(ROOT, 'b', 'file', 0o644)
    t!.rename(a, 'c')
    assert.deepEqual(names(t!, ROOT), ['b', 'c'])
    t!.rename(a, 'c') // same name: no-op
    throwsCode(() => t!.rename(a, 'b'), 'EEXIST')
    throwsCode(() => t!.rename(ROOT, 'x'), 'EINVAL')
    throwsCode(() => t!.rename('0123456789abcdef', 'x'), 'ENOENT')
  })

  test('move', () => {
    const [t] = replicas(1)
    const a = t!.create(ROOT, 'a', 'group', 0o755)
    const b = t!.create(a, 'b', 'group', 0o755)
    const c = t!.create(ROOT, 'c', 'group', 0o755)
    const f = t!.create(ROOT, 'f', 'file', 0o644)
    throwsCode(() => t!.move(a, a), 'EINVAL')
    throwsCode(() => t!.move(a, b), 'EINVAL')
    throwsCode(() => t!.move(c, f), 'ENOTDIR')
    throwsCode(() => t!.move(ROOT, c), 'EINVAL')
    throwsCode(() => t!.move('0123456789abcdef', c), 'ENOENT')
    throwsCode(() => t!.move(c, '0123456789abcdef'), 'ENOENT')
    t!.create(c, 'f', 'file', 0o644)
    throwsCode(() => t!.move(f, c), 'EEXIST')
    t!.move(f, c, 'g')
    assert.deepEqual(t!.pathOf(f), ['c', 'g'])
    t!.move(a, c) // nest a group with its subtree
    assert.deepEqual(t!.pathOf(b), ['c', 'a', 'b'])
    t!.move(a, ROOT, 'a2') // unnest, renamed
    assert.deepEqual(t!.pathOf(b), ['a2', 'b'])
    t!.move(f, c, 'h') // same parent: a rename
    assert.deepEqual(t!.pathOf(f), ['c', 'h'])
    // Moving back and forth keeps working (the move history is append-only).
    for (let i = 0; i < 10; i++) t!.move(b, i % 2 === 0 ? c : a)
    assert.deepEqual(t!.pathOf(b), ['a2', 'b'])
    assert.equal(dumpTree(t!), dumpTree(new TreeDoc(loaded(t!.doc))))
  })

  test('remove', () => {
    const [t] = replicas(1)
    const g = t!.create(ROOT, 'g', 'group', 0o755)
    const sub = t!.create(g, 'sub', 'group', 0o755)
    const f = t!.create(sub, 'f', 'file', 0o644)
    const e = t!.create(ROOT, 'e', 'group', 0o755)
    throwsCode(() => t!.remove(g), 'ENOTEMPTY')
    throwsCode(() => t!.remove(ROOT), 'EINVAL')
    t!.remove(e)
    t!.remove(g, { recursive: true })
    for (const id of [g, sub, f, e]) {
      assert.equal(t!.isLive(id), false)
      assert.equal(t!.find(id), undefined)
      throwsCode(() => t!.get(id), 'ENOENT')
    }
    // A recursive remove tombstones every node it takes, as `rm -r` does one by one, so that
    // an edit elsewhere it had not seen keeps just that node (tree.edit-beats-delete.test.ts).
    for (const id of [g, sub, f, e]) assert.equal(t!.isTombstoned(id), true)
    throwsCode(() => t!.remove(f), 'ENOENT')
    throwsCode(() => t!.children(g), 'ENOENT')
    throwsCode(() => t!.create(g, 'x', 'file', 0o644), 'ENOENT')
    assert.deepEqual(names(t!, ROOT), [])
    // The name is free again; the new node gets a new id.
    const g2 = t!.create(ROOT, 'g', 'group', 0o755)
    assert.notEqual(g2, g)
  })

  test('setMode and setMeta', () => {
    const [t] = replicas(1)
    const f = t!.create(ROOT, 'f', 'file', 0o644)
    t!.setMode(f, 0o600)
    t!.setMeta(f, 'h', 'abc')
    t!.setMeta(f, 'size', '10')
    t!.setMeta(f, 'h', 'def')
    assert.equal(t!.get(f).mode, 0o600)
    assert.deepEqual(t!.get(f).meta, { h: 'def', size: '10' })
    t!.setMeta(f, 'size', undefined)
    assert.deepEqual(t!.get(f).meta, { h: 'def' })
    t!.setMode(ROOT, 0o700)
    assert.equal(t!.get(ROOT).mode, 0o700)
    throwsCode(() => t!.setMode(f, 0o17777), 'EINVAL')
    throwsCode(() => t!.setMode('0123456789abcdef', 0o600), 'ENOENT')
    throwsCode(() => t!.setMeta(f, 'k'.repeat(65), 'v'), 'EINVAL')
    throwsCode(() => t!.setMeta('0123456789abcdef', 'k', 'v'), 'ENOENT')
  })

  test('operations inside an outer Yjs transaction see each other', () => {
    const [t] = replicas(1)
    t!.doc.transact(() => {
      const g = t!.create(ROOT, 'g', 'group', 0o755)
      throwsCode(() => t!.create(ROOT, 'g', 'file', 0o644), 'EEXIST')
      const f = t!.create(g, 'f', 'file', 0o644, { h: '1' })
      assert.deepEqual(t!.pathOf(f), ['g', 'f'])
      assert.deepEqual(t!.get(f).meta, { h: '1' })
      t!.move(f, ROOT)
      t!.remove(g)
      assert.deepEqual(names(t!, ROOT), ['f'])
    })
    assert.deepEqual(names(t!, ROOT), ['f'])
    assert.equal(dumpTree(t!), dumpTree(new TreeDoc(loaded(t!.doc))))
  })

  test('reads never write to the doc', () => {
    const [a, b] = replicas(2)
    const g = a!.create(ROOT, 'g', 'group', 0o755)
    b!.create(ROOT, 'g', 'group', 0o755)
    a!.create(g, 'x', 'file', 0o644)
    syncAll(a!, b!)
    let writes = 0
    a!.doc.on('update', () => writes++)
    dumpTree(a!)
    for (const c of a!.children(ROOT)) a!.pathOf(c.id)
    a!.resolvePath(['g', 'x'])
    assert.equal(writes, 0)
  })
})

describe('TreeDoc concurrent operations', () => {
  test('same name created on two replicas: both survive, deterministic display names', () => {
    const [a, b] = replicas(2)
    const na = a!.create(ROOT, 'notes.txt', 'file', 0o644)
    const nb = b!.create(ROOT, 'notes.txt', 'file', 0o644)
    const ra = a!.create(ROOT, 'README', 'file', 0o644)
    const rb = b!.create(ROOT, 'README', 'file', 0o644)
    const da = a!.create(ROOT, '.bashrc', 'file', 0o644)
    const db = b!.create(ROOT, '.bashrc', 'file', 0o644)
    syncAll(a!, b!)
    assertConverged(a!, b!)
    // Same Lamport times on both sides, so the lower id keeps the name.
    assert.deepEqual(names(a!, ROOT), [
      '.bashrc',
      '.bashrc (conflict bbbb)',
      'README',
      'README (conflict bbbb)',
      'notes (conflict bbbb).txt',
      'notes.txt',
    ])
    assert.equal(a!.lookup(ROOT, 'notes.txt'), na)
    assert.equal(a!.lookup(ROOT, 'notes (conflict bbbb).txt'), nb)
    assert.equal(b!.get(nb).storedName, 'notes.txt')
    assert.equal(b!.get(rb).name, 'README (conflict bbbb)')
    assert.equal(b!.get(ra).name, 'README')
    assert.equal(b!.get(db).name, '.bashrc (conflict bbbb)')
    assert.equal(b!.get(da).name, '.bashrc')
    throwsCode(() => b!.create(ROOT, 'README (conflict bbbb)', 'file', 0o644), 'EEXIST')
    // Renaming the loser resolves the conflict.
    b!.rename(nb, 'notes-b.txt')
    syncAll(a!, b!)
    assert.deepEqual(
      names(a!, ROOT).filter((n) => n.startsWith('notes')),
      ['notes-b.txt', 'notes.txt'],
    )
  })

  test('an entry named first keeps its name against a later concurrent rename onto it', () => {
    const [a, b] = replicas(2, ['ffff', '0000'])
    const y = b!.create(ROOT, 'y', 'file', 0o644) // id 0000..., lower than anything a makes
    syncAll(a!, b!)
    const z = a!.create(ROOT, 'z', 'file', 0o644) // Lamport 2
    b!.create(ROOT, 'tmp1', 'file', 0o644) //          b's clock: 2
    b!.rename(y, 'z') //                               Lamport 3: named after a's z
    syncAll(a!, b!)
    assertConverged(a!, b!)
    assert.equal(a!.lookup(ROOT, 'z'), z)
    assert.equal(a!.get(y).name, 'z (conflict 0000)')
  })

  test('conflict tag that collides with a real sibling is lengthened', () => {
    const [a, b] = replicas(2)
    a!.create(ROOT, 'x.txt', 'file', 0o644)
    a!.create(ROOT, 'x (conflict bbbb).txt', 'file', 0o644)
    const bx = b!.create(ROOT, 'x.txt', 'file', 0o644)
    syncAll(a!, b!)
    assertConverged(a!, b!)
    assert.equal(a!.get(bx).name, 'x (conflict bbbb0000).txt')
    assert.equal(new Set(names(a!, ROOT)).size, 3)
  })

  test('display names stay within 255 bytes', () => {
    const long = `${'n'.repeat(250)}.txt`
    const shown = withTag(long, 'abcd')
    assert.ok(Buffer.byteLength(shown) <= 255)
    assert.ok(shown.endsWith(' (conflict abcd).txt'))
    const hugeExt = `a.${'e'.repeat(252)}`
    assert.ok(Buffer.byteLength(withTag(hugeExt, 'abcd')) <= 255)
    assert.ok(Buffer.byteLength(withTag('é'.repeat(127), 'abcd')) <= 255)
  })

  test('concurrent rename to the same name', () => {
    const [a, b] = replicas(2)
    const x = a!.create(ROOT, 'x', 'file', 0o644)
    const y = a!.create(ROOT, 'y', 'file', 0o644)
    syncAll(a!, b!)
    a!.rename(x, 'n')
    b!.rename(y, 'n')
    syncAll(a!, b!)
    assertConverged(a!, b!)
    assert.deepEqual(names(a!, ROOT), ['n', `n (conflict ${[x, y].sort()[1]!.slice(0, 4)})`].sort())
  })

  test('concurrent moves forming a cycle converge to one tree, nothing lost', () => {
    const [a, b] = replicas(2)
    const ga = a!.create(ROOT, 'a', 'group', 0o755)
    const gb = a!.create(ROOT, 'b', 'group', 0o755)
    const fa = a!.create(ga, 'in-a', 'file', 0o644)
    const fb = a!.create(gb, 'in-b', 'file', 0o644)
    syncAll(a!, b!)
    a!.move(ga, gb) // a: a under b
    b!.move(gb, ga) // b: b under a
    syncAll(a!, b!)
    const dump = assertConverged(a!, b!)
    for (const id of [ga, gb, fa, fb]) assert.equal(a!.isLive(id), true, dump)
    // Equal Lamport times: the edge of the higher node id (b) is replayed last and is the one
    // skipped, so replica a's move wins.
    assert.deepEqual(a!.pathOf(gb), ['b'])
    assert.deepEqual(a!.pathOf(fa), ['b', 'a', 'in-a'])
  })

  test('three-way cycle on three replicas', () => {
    const [a, b, c] = replicas(3)
    const g = ['g0', 'g1', 'g2'].map((n) => a!.create(ROOT, n, 'group', 0o755))
    syncAll(a!, b!, c!)
    a!.move(g[0]!, g[1]!)
    b!.move(g[1]!, g[2]!)
    c!.move(g[2]!, g[0]!)
    syncAll(a!, b!, c!)
    syncAll(a!, b!, c!)
    assertConverged(a!, b!, c!)
    for (const id of g) assert.equal(a!.isLive(id), true)
    assert.equal(a!.children(ROOT).length, 1)
  })

  test('a cycle closed by three moves: the latest edge in the replay is skipped', () => {
    const [a, b] = replicas(2)
    const p = a!.create(ROOT, 'p', 'group', 0o755) // Lamport 1..3
    const q = a!.create(ROOT, 'q', 'group', 0o755)
    const r = a!.create(ROOT, 'r', 'group', 0o755)
    syncAll(a!, b!)
    a!.move(q, r) // (4, q -> r)
    a!.move(p, q) // (5, p -> q)
    b!.move(r, p) // (4, r -> p), concurrent: together they close p -> q -> r -> p
    syncAll(a!, b!)
    assertConverged(a!, b!)
    // Replay: q -> r, then r -> p (q < r by id), then p -> q would close the cycle: skipped,
    // so p stays where it was and nothing is lost.
    assert.deepEqual(a!.pathOf(q), ['p', 'r', 'q'])
    assert.equal(dumpTree(a!), dumpTree(new TreeDoc(loaded(a!.doc))))
  })

  test('delete of a group vs concurrent move out of it', () => {
    const [a, b] = replicas(2)
    const d = a!.create(ROOT, 'd', 'group', 0o755)
    const keep = a!.create(d, 'keep', 'file', 0o644)
    const lose = a!.create(d, 'lose', 'file', 0o644)
    syncAll(a!, b!)
    a!.remove(d, { recursive: true })
    b!.move(keep, ROOT)
    syncAll(a!, b!)
    assertConverged(a!, b!)
    assert.deepEqual(a!.pathOf(keep), ['keep'])
    assert.equal(a!.isLive(lose), false)
    assert.equal(a!.isLive(d), false)
  })

  test('chmod and metadata survive a concurrent rename and move', () => {
    const [a, b] = replicas(2)
    const x = a!.create(ROOT, 'x', 'file', 0o644)
    const g = a!.create(ROOT, 'g', 'group', 0o755)
    syncAll(a!, b!)
    a!.setMode(x, 0o600)
    a!.setMeta(x, 'h', 'v2')
    b!.move(x, g, 'y')
    syncAll(a!, b!)
    assertConverged(a!, b!)
    assert.deepEqual(a!.pathOf(x), ['g', 'y'])
    assert.equal(a!.get(x).mode, 0o600)
    assert.deepEqual(a!.get(x).meta, { h: 'v2' })
  })

  test('concurrent moves of the same node: one wins, no duplicate', () => {
    const [a, b] = replicas(2)
    const x = a!.create(ROOT, 'x', 'file', 0o644)
    const g1 = a!.create(ROOT, 'g1', 'group', 0o755)
    const g2 = a!.create(ROOT, 'g2', 'group', 0o755)
    syncAll(a!, b!)
    a!.move(x, g1)
    b!.move(x, g2)
    syncAll(a!, b!)
    const dump = assertConverged(a!, b!)
    assert.equal(dump.split('\n').filter((l) => l.includes(x)).length, 1)
  })

  test('updates applied in any order give the same tree', () => {
    const [a, b] = replicas(2)
    const ups: Uint8Array[] = []
    a!.doc.on('update', (u: Uint8Array) => ups.push(u))
    const g = a!.create(ROOT, 'g', 'group', 0o755)
    const h = a!.create(g, 'h', 'group', 0o755)
    a!.create(h, 'f', 'file', 0o644)
    a!.move(h, ROOT)
    a!.move(g, h)
    a!.rename(g, 'g2')
    b!.create(ROOT, 'g2', 'file', 0o644)
    Y.applyUpdate(b!.doc, Y.encodeStateAsUpdate(b!.doc)) // no-op
    for (const u of [...ups].reverse()) Y.applyUpdate(b!.doc, u)
    syncAll(a!, b!)
    assertConverged(a!, b!)
    assert.deepEqual(b!.pathOf(g), ['h', 'g2'])
  })
})

describe('TreeDoc on foreign data', () => {
  test('malformed records are ignored, whole', () => {
    const [t] = replicas(1)
    const f = t!.create(ROOT, 'f', 'file', 0o644)
    const m = t!.doc.getMap('t')
    t!.doc.transact(() => {
      m.set('not-an-id', { n: 'x', p: ROOT, c: 1 })
      m.set('0000000000000001', { n: 'a/b', p: ROOT, c: 1 })
      m.set('0000000000000002', { n: 'ok', p: ROOT, c: -1 })
      m.set('0000000000000003', { n: 'ok', p: ROOT, c: 1, k: 'q' })
      m.set('0000000000000004', { n: 'ok', p: ROOT, c: 1, e: [ROOT] })
      m.set('0000000000000005', 'string')
    })
    assert.deepEqual(names(t!, ROOT), ['f'])
    assert.equal(t!.isLive(f), true)
  })

  test('an edge received before its target, with a Lamport time below the target creation', () => {
    const [t] = replicas(1)
    const m = t!.doc.getMap('t')
    // Only a misbehaving replica writes this; the view must still equal a fresh load.
    t!.doc.transact(() => m.set('0000000000000001', { n: 'child', p: '0000000000000002', c: 1 }))
    assert.deepEqual(names(t!, ROOT), [])
    t!.doc.transact(() => m.set('0000000000000002', { n: 'late', p: ROOT, c: 5, k: 'g' }))
    assert.deepEqual(t!.resolvePath(['late', 'child']), '0000000000000001')
    assert.equal(dumpTree(t!), dumpTree(new TreeDoc(loaded(t!.doc))))
  })

  test('a record changing kind rebuilds the view', () => {
    const [t] = replicas(1)
    const g = t!.create(ROOT, 'g', 'group', 0o755)
    const f = t!.create(g, 'f', 'file', 0o644)
    const m = t!.doc.getMap('t')
    t!.doc.transact(() => m.set(g, { ...(m.get(g) as object), k: undefined }))
    assert.equal(t!.isLive(f), false)
    assert.equal(dumpTree(t!), dumpTree(new TreeDoc(loaded(t!.doc))))
  })
})

function loaded(doc: Y.Doc): Y.Doc {
  const copy = new Y.Doc()
  Y.applyUpdate(copy, Y.encodeStateAsUpdate(doc))
  return copy
}
