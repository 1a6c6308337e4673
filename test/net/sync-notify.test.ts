// send_notify and sync-state events between two in-process nodes (node/node.ts, on in-memory
// stores, real WebSockets on loopback): the receiver's events stream of the namespace carries
// the notify and the peer's sync state.

import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { test } from 'node:test'
import { Node } from '../../src/node/node.js'
import type { StampedEvent } from '../../src/events/event-hub.js'
import { KeyPair } from '../../src/net/trust/identity.js'
import { NotifyError } from '../../src/net/peers/notify.js'
import { DEFAULT_SYNC_OPTIONS } from '../../src/net/sync-node.js'
import { openMemoryStore } from '../../src/store/local-store.js'
import { createLogger } from '../../src/util/log.js'
import { waitFor } from '../support/wait.js'

async function node(dir: string): Promise<Node> {
  const node = new Node(openMemoryStore(), KeyPair.generate(), dir, {
    listen: { host: DEFAULT_SYNC_OPTIONS.listenHost, port: 0 },
    sync: DEFAULT_SYNC_OPTIONS,
    log: createLogger('error'),
  })
  await node.start()
  return node
}

test("a notify reaches the member's events stream, with the sender's key; sync state shows as events too", {
  timeout: 60_000,
}, async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'meshfs-notify-'))
  const nodes: Node[] = []
  try {
    const a = await node(path.join(dir, 'a'))
    const b = await node(path.join(dir, 'b'))
    nodes.push(a, b)
    const team = a.namespaces.create({ alias: 'team' })
    const solo = a.namespaces.create({ alias: 'solo' })
    const seen: StampedEvent[] = []
    b.events.subscribe(team.id, (e) => seen.push(e))
    const token = a.namespaces.createInvitation('team', {
      addresses: [a.sync.url],
      recursive: false,
      expiresAtMs: Date.now() + 60_000,
      uses: 1,
    })
    const keyA = a.namespaces.identity.publicKey
    const keyB = b.namespaces.identity.publicKey
    assert.equal(await b.sync.join(a.sync.url, token, keyA), team.id)
    b.sync.keepConnected(a.sync.url, keyA)

    await waitFor(() => seen.some((e) => e.type === 'sync' && e.state === 'reconciled' && e.peer === keyA), {
      what: 'B to have reconciled team with A',
      timeoutMs: 20_000,
    })
    assert.ok(seen.some((e) => e.type === 'sync' && e.state === 'connected' && e.peer === keyA))
    await waitFor(() => a.sync.peersOf(team.id).some((p) => p.key === keyB && p.connected), {
      what: 'A to share team with B',
      timeoutMs: 20_000,
    })

    assert.equal(a.sync.notify(team.id, keyB.slice(0, 6), 'ping ✓'), keyB)
    await waitFor(() => seen.some((e) => e.type === 'notify'), { what: "the notify on B's events", timeoutMs: 20_000 })
    const n = seen.find((e) => e.type === 'notify')!
    assert.deepEqual(
      { type: n.type, ns: n.ns, from: (n as { from: string }).from, data: (n as { data: string }).data },
      { type: 'notify', ns: team.id, from: keyA, data: 'ping ✓' },
    )

    const refusal = (fn: () => unknown, code: string, re: RegExp) =>
      assert.throws(fn, (err: unknown) => err instanceof NotifyError && err.code === code && re.test(err.message))
    refusal(() => a.sync.notify(solo.id, keyB, 'x'), 'EACCES', /not a member/)
    refusal(() => a.sync.notify(team.id, 'nobody', 'x'), 'ENOENT', /no known peer/)
    refusal(() => a.sync.notify(team.id, keyB, 'x'.repeat(64 * 1024 + 1)), 'EINVAL', /at most 65536/)
    refusal(() => a.sync.notify('0'.repeat(32), keyB, 'x'), 'ENOENT', /does not hold/)

    await a.sync.stop()
    await waitFor(() => seen.some((e) => e.type === 'sync' && e.state === 'disconnected' && e.peer === keyA), {
      what: 'B to see A disconnected',
      timeoutMs: 20_000,
    })
    refusal(() => b.sync.notify(team.id, keyA, 'x'), 'ENOTCONN', /not connected/)
  } finally {
    for (const n of nodes) await n.stop()
    rmSync(dir, { recursive: true, force: true })
  }
})
