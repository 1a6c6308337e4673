// Namespace events derived from tree snapshots: one event per created, changed, moved or removed
// entry; a moved or removed group is one event, its subtree goes with it; members joining/leaving.

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { TreeDoc } from '../../src/model/tree/tree.js'
import { treeEventSource } from '../../src/events/tree-events.js'
import type { NamespaceEvent } from '../../src/events/event-hub.js'

function harness() {
  const tree = new TreeDoc()
  const listeners = new Set<(k: string) => void>()
  let members: Array<{ publicKey: string; role: string; leftMs?: number }> = []
  const replica = { tree, onStored: (l: (k: string) => void) => (listeners.add(l), () => listeners.delete(l)) }
  const events: NamespaceEvent[] = []
  const stop = treeEventSource(replica, () => members)((e) => events.push(e))
  const changed = async (docKey = 'tree') => {
    for (const l of listeners) l(docKey)
    await new Promise((r) => setTimeout(r, 20))
  }
  return { tree, events, changed, stop, setMembers: (m: typeof members) => (members = m) }
}

test('create, change, move, remove and members become events', async () => {
  const h = harness()
  const g = h.tree.create(TreeDoc.ROOT, 'g', 'group', 0o755)
  const f = h.tree.create(g, 'f.txt', 'file', 0o644, { c: '1:1:t' })
  await h.changed()
  assert.deepEqual(h.events.splice(0), [
    { type: 'put', path: '/g', id: g, kind: 'group' },
    { type: 'put', path: '/g/f.txt', id: f, kind: 'file' },
  ])
  h.tree.setMeta(f, 'c', '2:5:t')
  await h.changed()
  assert.deepEqual(h.events.splice(0), [{ type: 'put', path: '/g/f.txt', id: f, kind: 'file' }])
  await h.changed(f) // a text edit that left the tree alone
  assert.deepEqual(h.events.splice(0), [{ type: 'put', path: '/g/f.txt', id: f, kind: 'file' }])
  const h2 = h.tree.create(TreeDoc.ROOT, 'h', 'group', 0o755)
  h.tree.move(g, h2)
  await h.changed()
  assert.deepEqual(h.events.splice(0), [
    { type: 'put', path: '/h', id: h2, kind: 'group' },
    { type: 'move', from: '/g', to: '/h/g', id: g, kind: 'group' },
  ])
  h.tree.remove(h2, { recursive: true })
  await h.changed()
  assert.deepEqual(h.events.splice(0), [{ type: 'remove', path: '/h', id: h2, kind: 'group' }])
  h.setMembers([{ publicKey: 'k1', role: 'member' }])
  await h.changed()
  h.setMembers([{ publicKey: 'k1', role: 'member', leftMs: 5 }])
  await h.changed()
  assert.deepEqual(h.events.splice(0), [
    { type: 'member-joined', member: 'k1', role: 'member' },
    { type: 'member-left', member: 'k1' },
  ])
  h.stop()
})
