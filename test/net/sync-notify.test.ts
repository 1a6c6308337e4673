// send_notify and sync-state events between two in-process nodes (real Namespaces hosts on
// in-memory stores, real WebSockets on loopback), wired to an EventHub as the daemon wires them:
// the receiver's events stream of the namespace carries the notify and the peer's sync state.

import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { test } from 'node:test'
import { Namespaces } from '../../src/node/namespaces.js'
import { EventHub, type StampedEvent } from '../../src/events/event-hub.js'
import { RootHandler } from '../../src/handlers/root.js'
import { KeyPair } from '../../src/net/trust/identity.js'
import { DEFAULT_SYNC_OPTIONS, NotifyError, SyncNode } from '../../src/net/sync-node.js'
import { openMemoryStore } from '../../src/store/local-store.js'
import { createLogger } from '../../src/util/log.js'
import { MountTable } from '../../src/vfs/mount-table.js'
import { throwsCode } from '../support/errno.js'
import { waitFor } from '../support/wait.js'

interface Node {
  ns: Namespaces
  sync: SyncNode
  events: EventHub
}

async function node(dir: string): Promise<Node> {
  const store = openMemoryStore()
  let ns: Namespaces | undefined
  const table = new MountTable(new RootHandler(async (alias) => void ns!.create({ alias })))
  ns = new Namespaces(store, table, dir, KeyPair.generate(), createLogger('error'))
  const sync = new SyncNode(ns, { ...DEFAULT_SYNC_OPTIONS, listenPort: 0 }, createLogger('error'))
  const events = new EventHub()
  sync.onNotify = (n, from, data) => events.emit(n, { type: 'notify', from, data })
  sync.onPeerState = (n, peer, state) => events.emit(n, { type: 'sync', peer, state })
  ns.onHeld = (id) => sync.watch(id)
  ns.onDropped = (id) => sync.unwatch(id)
  await sync.start()
  return { ns, sync, events }
}

test('a notify reaches the member\'s events stream, with the sender\'s key; sync state shows as events too', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'meshfs-notify-'))
  const nodes: Node[] = []
  try {
    const a = await node(path.join(dir, 'a'))
    const b = await node(path.join(dir, 'b'))
    nodes.push(a, b)
    const team = a.ns.create({ alias: 'team' })
    const solo = a.ns.create({ alias: 'solo' })
    const seen: StampedEvent[] = []
    b.events.subscribe(team.id, (e) => seen.push(e))
    const token = a.ns.createInvitation('team', { addresses: [a.sync.url], recursive: false, expiresAtMs: Date.now() + 60_000, uses: 1 })
    const keyA = a.ns.identity.publicKey
    const keyB = b.ns.identity.publicKey
    assert.equal(await b.sync.join(a.sync.url, token, keyA), team.id)
    b.sync.keepConnected(a.sync.url, keyA)

    await waitFor(() => seen.some((e) => e.type === 'sync' && e.state === 'reconciled' && e.peer === keyA), { what: 'B to have reconciled team with A', timeoutMs: 20_000 })
    assert.ok(seen.some((e) => e.type === 'sync' && e.state === 'connected' && e.peer === keyA))
    await waitFor(() => a.sync.peersOf(team.id).some((p) => p.key === keyB && p.connected), { what: 'A to share team with B', timeoutMs: 20_000 })

    assert.equal(a.sync.notify(team.id, keyB.slice(0, 6), 'ping ✓'), keyB)
    await waitFor(() => seen.some((e) => e.type === 'notify'), { what: 'the notify on B\'s events', timeoutMs: 20_000 })
    const n = seen.find((e) => e.type === 'notify')!
    assert.deepEqual({ type: n.type, ns: n.ns, from: (n as { from: string }).from, data: (n as { data: string }).data }, { type: 'notify', ns: team.id, from: keyA, data: 'ping ✓' })

    throwsCode(() => a.sync.notify(solo.id, keyB, 'x'), 'EACCES', { type: NotifyError, message: /not a member/ })
    throwsCode(() => a.sync.notify(team.id, 'nobody', 'x'), 'ENOENT', { type: NotifyError, message: /no known peer/ })
    throwsCode(() => a.sync.notify(team.id, keyB, 'x'.repeat(64 * 1024 + 1)), 'EINVAL', { type: NotifyError, message: /at most 65536/ })
    throwsCode(() => a.sync.notify('0'.repeat(32), keyB, 'x'), 'ENOENT', { type: NotifyError, message: /does not hold/ })

    await a.sync.stop()
    await waitFor(() => seen.some((e) => e.type === 'sync' && e.state === 'disconnected' && e.peer === keyA), { what: 'B to see A disconnected', timeoutMs: 20_000 })
    throwsCode(() => b.sync.notify(team.id, keyA, 'x'), 'ENOTCONN', { type: NotifyError, message: /not connected/ })
  } finally {
    for (const n of nodes) await n.sync.stop()
    rmSync(dir, { recursive: true, force: true })
  }
})
