// The `revived` events and log lines: one per entry a delete here had removed and a peer's edit
// (or an entry it created inside) brought back, parents first, each saying why; nothing for a
// delete that saw the edit, and nothing on the node that made the edit (it never saw a delete).

import assert from 'node:assert/strict'
import { test } from 'node:test'
import * as Y from 'yjs'
import type { NamespaceEvent } from '../../src/events/event-hub.js'
import { watchRevivals } from '../../src/events/revivals.js'
import { TreeDoc } from '../../src/model/tree/tree.js'
import { createLogger } from '../../src/util/log.js'

const ROOT = TreeDoc.ROOT

/**
 * A node: its tree (ids from a counter, so the order of equally deep revivals is known), what
 * its revival watch emitted and logged, and `receive` for a peer's state.
 */
function node(prefix: string) {
  let next = 0
  const tree = new TreeDoc(new Y.Doc(), { newId: () => prefix + (++next).toString(16).padStart(12, '0') })
  const listeners = new Set<(k: string) => void>()
  const replica = { tree, onStored: (l: (k: string) => void) => (listeners.add(l), () => listeners.delete(l)) }
  const events: NamespaceEvent[] = []
  const lines: string[] = []
  const stop = watchRevivals(
    replica,
    (e) => events.push(e),
    createLogger('info', (l) => lines.push(l)),
    () => 'team',
  )
  const stored = () => {
    for (const l of listeners) l('tree')
  }
  const receive = (from: TreeDoc) => {
    Y.applyUpdate(tree.doc, Y.encodeStateAsUpdate(from.doc, Y.encodeStateVector(tree.doc)))
    stored()
  }
  return { tree, events, lines, stop, stored, receive }
}

function pair() {
  const a = node('aaaa')
  const b = node('bbbb')
  return { a, b, sync: () => (a.receive(b.tree), b.receive(a.tree)) }
}

test('a file deleted here and edited on a peer: one revived event and one log line', () => {
  const { a, b, sync } = pair()
  const f = a.tree.create(ROOT, 'notes.txt', 'file', 0o644)
  sync()
  a.tree.remove(f)
  a.stored()
  b.tree.setMeta(f, 'c', 'v2')
  b.stored()
  sync()
  assert.deepEqual(a.events, [
    { type: 'revived', path: '/notes.txt', id: f, kind: 'file', reason: 'edited on another node while deleted here' },
  ])
  assert.equal(a.lines.length, 1)
  assert.match(a.lines[0]!, new RegExp(`info  team/notes.txt \\(${f}\\) came back: edited on another node while deleted here$`))
  assert.deepEqual(b.events, [])
  assert.deepEqual(b.lines, [])
  a.stop()
  b.stop()
})

test('a group removed here, a file edited in it and one created in another: groups first, each with its reason', () => {
  const { a, b, sync } = pair()
  const docs = a.tree.create(ROOT, 'docs', 'group', 0o755)
  const sub = a.tree.create(docs, 'sub', 'group', 0o755)
  const f = a.tree.create(sub, 'a.txt', 'file', 0o644)
  a.tree.create(docs, 'b.txt', 'file', 0o644)
  const e = a.tree.create(ROOT, 'empty', 'group', 0o755)
  sync()
  a.tree.remove(docs, { recursive: true })
  a.tree.remove(e)
  a.stored()
  b.tree.setMeta(f, 'c', 'v2')
  const made = b.tree.create(e, 'new.txt', 'file', 0o644)
  sync()
  assert.deepEqual(a.events, [
    { type: 'revived', path: '/docs', id: docs, kind: 'group', reason: 'it holds sub/a.txt, edited on another node while deleted here' },
    {
      type: 'revived',
      path: '/empty',
      id: e,
      kind: 'group',
      reason: 'it holds new.txt, created or moved into it on another node while it was deleted here',
    },
    { type: 'revived', path: '/docs/sub', id: sub, kind: 'group', reason: 'it holds a.txt, edited on another node while deleted here' },
    { type: 'revived', path: '/docs/sub/a.txt', id: f, kind: 'file', reason: 'edited on another node while deleted here' },
  ])
  assert.equal(a.lines.length, 4)
  assert.equal(a.tree.lookup(e, 'new.txt'), made)
  a.stop()
  b.stop()
})

test('a delete after the edit arrived revives nothing; a stopped watch reports nothing', () => {
  const { a, b, sync } = pair()
  const f = a.tree.create(ROOT, 'f', 'file', 0o644)
  const g = a.tree.create(ROOT, 'g', 'file', 0o644)
  sync()
  b.tree.setMeta(f, 'c', 'v2')
  sync()
  a.tree.remove(f)
  a.stored()
  sync()
  assert.equal(a.tree.isLive(f), false)
  a.stop()
  a.tree.remove(g)
  a.stored()
  b.tree.setMeta(g, 'c', 'v2')
  sync()
  assert.equal(a.tree.isLive(g), true)
  assert.deepEqual(a.events, [])
  assert.deepEqual(a.lines, [])
  b.stop()
})
