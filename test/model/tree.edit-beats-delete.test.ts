/**
 * An edit beats a concurrent delete (tree.ts, survival.ts): a node deleted on one replica while
 * another edits it (metadata, chmod, rename, move), or creates or moves an entry into it, without
 * having seen the delete, is shown on both once they converge, with the edit, at its place, with
 * its ancestors; a delete that saw every edit stays a delete. Each case checks both replicas, a
 * fresh load of the same state, and what `takeRevived` reports on each side.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import * as Y from 'yjs'
import { TreeDoc } from '../../src/model/tree/tree.js'
import { dumpTree } from './tree-harness.js'

const ROOT = TreeDoc.ROOT

/** Replicas with readable ids from a counter, and writers 'A', 'B', 'C'. */
function replicas(n: number): TreeDoc[] {
  return Array.from({ length: n }, (_, i) => {
    let next = 0
    const prefix = ['aaaa', 'bbbb', 'cccc'][i]!
    return new TreeDoc(new Y.Doc(), { newId: () => prefix + (++next).toString(16).padStart(12, '0'), writer: 'ABC'[i]! })
  })
}

/** Everything `to` lacks from `from`, as sync step 2. */
function send(from: TreeDoc, to: TreeDoc): void {
  Y.applyUpdate(to.doc, Y.encodeStateAsUpdate(from.doc, Y.encodeStateVector(to.doc)))
}

function syncAll(...trees: TreeDoc[]): void {
  for (const a of trees) for (const b of trees) if (a !== b) send(a, b)
}

/** Both replicas and fresh loads of them show one tree; returns its paths. */
function converged(...trees: TreeDoc[]): string[] {
  const dumps = trees.map(dumpTree)
  for (const [i, t] of trees.entries()) {
    assert.equal(dumps[i], dumps[0], `replica ${i} differs`)
    const copy = new Y.Doc()
    Y.applyUpdate(copy, Y.encodeStateAsUpdate(t.doc))
    assert.equal(dumpTree(new TreeDoc(copy)), dumps[0], `replica ${i} differs from a fresh load`)
  }
  const paths: string[] = []
  const walk = (dir: string, at: string) => {
    for (const c of trees[0]!.children(dir)) {
      paths.push(`${at}/${c.name}`)
      if (c.kind === 'group') walk(c.id, `${at}/${c.name}`)
    }
  }
  walk(ROOT, '')
  return paths
}

describe('edit beats delete', () => {
  test('an edit the delete had not seen keeps the node, with the edit and its id', () => {
    const [a, b] = replicas(2)
    const f = a!.create(ROOT, 'notes.txt', 'file', 0o644, { c: 'v1' })
    syncAll(a!, b!)
    a!.remove(f)
    b!.setMeta(f, 'c', 'v2')
    assert.equal(a!.isLive(f), false)
    assert.deepEqual(a!.takeRevived(), [])
    syncAll(a!, b!)
    assert.deepEqual(converged(a!, b!), ['/notes.txt'])
    assert.deepEqual(a!.get(f).meta, { c: 'v2' })
    assert.equal(a!.isTombstoned(f), true)
    // A saw it gone and back; B never saw it go.
    assert.deepEqual(a!.takeRevived(), [{ id: f, cause: 'edited' }])
    assert.deepEqual(a!.takeRevived(), [], 'a revival is reported once')
    assert.deepEqual(b!.takeRevived(), [])
  })

  test('the same wherever the delete arrives first: a third replica sees it go and come back', () => {
    const [a, b, c] = replicas(3)
    const f = a!.create(ROOT, 'f', 'file', 0o644)
    syncAll(a!, b!, c!)
    a!.remove(f)
    b!.setMeta(f, 'c', 'v2')
    send(a!, c!)
    assert.equal(c!.isLive(f), false)
    send(b!, c!)
    assert.equal(c!.isLive(f), true)
    assert.deepEqual(c!.takeRevived(), [{ id: f, cause: 'edited' }])
    syncAll(a!, b!, c!)
    assert.deepEqual(converged(a!, b!, c!), ['/f'])
  })

  test('a replica that gets the delete and the edit together, or loads them, saw nothing go', () => {
    const [a, b, c] = replicas(3)
    const g = a!.create(ROOT, 'g', 'group', 0o755)
    const f = a!.create(g, 'f', 'file', 0o644)
    syncAll(a!, b!)
    a!.remove(g, { recursive: true })
    b!.setMeta(f, 'c', 'v2')
    send(a!, c!)
    send(b!, c!)
    assert.deepEqual(c!.takeRevived(), [])
    const copy = new Y.Doc()
    Y.applyUpdate(copy, Y.encodeStateAsUpdate(c!.doc))
    const loaded = new TreeDoc(copy)
    assert.deepEqual(loaded.takeRevived(), [])
    assert.deepEqual(converged(c!, loaded), ['/g', '/g/f'])
  })

  test('a delete that saw the edit stays a delete, and nothing is reported', () => {
    const [a, b] = replicas(2)
    const f = a!.create(ROOT, 'f', 'file', 0o644)
    syncAll(a!, b!)
    b!.setMeta(f, 'c', 'v2')
    syncAll(a!, b!)
    a!.remove(f)
    syncAll(a!, b!)
    assert.deepEqual(converged(a!, b!), [])
    assert.deepEqual(a!.takeRevived(), [])
    assert.deepEqual(b!.takeRevived(), [])
  })

  test('concurrent deletes: an edit one of them saw is beaten', () => {
    const [a, b, c] = replicas(3)
    const f = a!.create(ROOT, 'f', 'file', 0o644)
    syncAll(a!, b!, c!)
    c!.setMeta(f, 'c', 'v2')
    send(c!, b!)
    b!.remove(f) // saw the edit
    a!.remove(f) // did not
    syncAll(a!, b!, c!)
    assert.deepEqual(converged(a!, b!, c!), [])
  })

  test('B edits, then deletes it too: both deletes together saw every edit', () => {
    const [a, b] = replicas(2)
    const f = a!.create(ROOT, 'f', 'file', 0o644)
    syncAll(a!, b!)
    a!.remove(f)
    b!.setMeta(f, 'c', 'v2')
    b!.remove(f)
    syncAll(a!, b!)
    assert.deepEqual(converged(a!, b!), [])
  })

  test('after a revival, a delete that saw it removes the node for good', () => {
    const [a, b] = replicas(2)
    const f = a!.create(ROOT, 'f', 'file', 0o644)
    syncAll(a!, b!)
    a!.remove(f)
    b!.setMeta(f, 'c', 'v2')
    syncAll(a!, b!)
    assert.equal(a!.isLive(f), true)
    a!.remove(f)
    syncAll(a!, b!)
    assert.deepEqual(converged(a!, b!), [])
  })

  test('rename, move and chmod are edits too', () => {
    const [a, b] = replicas(2)
    const x = a!.create(ROOT, 'x', 'file', 0o644)
    const y = a!.create(ROOT, 'y', 'file', 0o644)
    const z = a!.create(ROOT, 'z', 'file', 0o644)
    const g = a!.create(ROOT, 'g', 'group', 0o755)
    syncAll(a!, b!)
    for (const id of [x, y, z]) a!.remove(id)
    b!.rename(x, 'x2')
    b!.move(y, g)
    b!.setMode(z, 0o600)
    syncAll(a!, b!)
    assert.deepEqual(converged(a!, b!), ['/g', '/g/y', '/x2', '/z'])
    assert.equal(a!.get(z).mode, 0o600)
  })

  test('rm -r of a group vs an edit deep inside: the file and its groups come back, nothing else', () => {
    const [a, b] = replicas(2)
    const docs = a!.create(ROOT, 'docs', 'group', 0o755)
    const sub = a!.create(docs, 'sub', 'group', 0o755)
    const other = a!.create(docs, 'other', 'group', 0o755)
    const f = a!.create(sub, 'a.txt', 'file', 0o644, { c: 'v1' })
    a!.create(sub, 'b.txt', 'file', 0o644)
    a!.create(other, 'c.txt', 'file', 0o644)
    a!.create(docs, 'd.txt', 'file', 0o644)
    syncAll(a!, b!)
    a!.remove(docs, { recursive: true })
    b!.setMeta(f, 'c', 'v2')
    syncAll(a!, b!)
    assert.deepEqual(converged(a!, b!), ['/docs', '/docs/sub', '/docs/sub/a.txt'])
    assert.deepEqual(a!.get(f).meta, { c: 'v2' })
    assert.deepEqual(a!.takeRevived(), [
      { id: docs, cause: 'holds', survivor: f },
      { id: sub, cause: 'holds', survivor: f },
      { id: f, cause: 'edited' },
    ])
    // Deleting the file again takes its groups with it: they were deleted, and hold nothing now.
    a!.remove(f)
    syncAll(a!, b!)
    assert.deepEqual(converged(a!, b!), [])
  })

  test('an entry created in, or moved into, a concurrently deleted group keeps the group', () => {
    const [a, b] = replicas(2)
    const d = a!.create(ROOT, 'd', 'group', 0o755)
    const e = a!.create(ROOT, 'e', 'group', 0o755)
    const x = a!.create(ROOT, 'x', 'file', 0o644)
    syncAll(a!, b!)
    a!.remove(d)
    a!.remove(e)
    const made = b!.create(d, 'new', 'file', 0o644)
    b!.move(x, e)
    syncAll(a!, b!)
    assert.deepEqual(converged(a!, b!), ['/d', '/d/new', '/e', '/e/x'])
    assert.deepEqual(a!.takeRevived(), [
      { id: d, cause: 'holds', survivor: made },
      { id: e, cause: 'holds', survivor: x },
    ])
    assert.equal(a!.isTombstoned(d), true)
  })

  test('a move out of a removed group survives; the group stays removed', () => {
    const [a, b] = replicas(2)
    const d = a!.create(ROOT, 'd', 'group', 0o755)
    const keep = a!.create(d, 'keep', 'file', 0o644)
    const g = a!.create(ROOT, 'g', 'group', 0o755)
    syncAll(a!, b!)
    a!.remove(d, { recursive: true })
    b!.move(keep, g)
    syncAll(a!, b!)
    assert.deepEqual(converged(a!, b!), ['/g', '/g/keep'])
    assert.deepEqual(a!.takeRevived(), [{ id: keep, cause: 'edited' }])
  })

  test('a revived node keeps its place even when its group had been moved meanwhile', () => {
    const [a, b] = replicas(2)
    const p = a!.create(ROOT, 'p', 'group', 0o755)
    const q = a!.create(ROOT, 'q', 'group', 0o755)
    const f = a!.create(p, 'f', 'file', 0o644)
    syncAll(a!, b!)
    a!.move(p, q)
    a!.remove(f)
    a!.remove(p)
    b!.setMeta(f, 'c', 'v2')
    syncAll(a!, b!)
    assert.deepEqual(converged(a!, b!), ['/q', '/q/p', '/q/p/f'])
  })

  test('a tombstone from before versions (`1`) beats every edit', () => {
    const [a, b] = replicas(2)
    const f = a!.create(ROOT, 'f', 'file', 0o644)
    syncAll(a!, b!)
    a!.doc.transact(() => a!.doc.getMap('d').set(f, 1))
    b!.setMeta(f, 'c', 'v2')
    syncAll(a!, b!)
    assert.deepEqual(converged(a!, b!), [])
  })

  test('versions and tombstones are keyed by writer', () => {
    const [a, b] = replicas(2)
    const f = a!.create(ROOT, 'f', 'file', 0o644)
    syncAll(a!, b!)
    a!.setMeta(f, 'c', '1')
    a!.setMeta(f, 'c', '2')
    b!.rename(f, 'g')
    syncAll(a!, b!)
    b!.remove(f)
    assert.deepEqual(b!.doc.getMap('v').toJSON(), { [`${f}/A`]: 2, [`${f}/B`]: 1 })
    assert.deepEqual(b!.doc.getMap('d').toJSON(), { [`${f}/B`]: { A: 2, B: 1 } })
  })

  test('the default writer is the Yjs clientID', () => {
    const doc = new Y.Doc()
    doc.clientID = 4242
    const t = new TreeDoc(doc)
    const f = t.create(ROOT, 'f', 'file', 0o644)
    t.setMeta(f, 'c', '1')
    assert.deepEqual(doc.getMap('v').toJSON(), { [`${f}/4242`]: 1 })
  })

  test('reads after many tombstones still see revivals and listings right (incremental = fresh)', () => {
    const [a, b] = replicas(2)
    const g = a!.create(ROOT, 'g', 'group', 0o755)
    const ids = Array.from({ length: 200 }, (_, i) => a!.create(g, `f${i}`, 'file', 0o644))
    syncAll(a!, b!)
    a!.remove(g, { recursive: true })
    assert.deepEqual(converged(a!), [])
    b!.setMeta(ids[7]!, 'c', 'v2')
    b!.setMeta(ids[150]!, 'c', 'v2')
    send(b!, a!)
    assert.deepEqual(converged(a!), ['/g', '/g/f150', '/g/f7'])
    assert.deepEqual(
      a!.takeRevived().map((r) => r.id),
      [g, ids[7], ids[150]],
    )
    syncAll(a!, b!)
    assert.deepEqual(converged(a!, b!), ['/g', '/g/f150', '/g/f7'])
  })
})
