// A Node in-process, without FUSE: built over a data directory, started, stopped, and opened
// again with what it holds and where it listened remembered; its namespaces' events flow.

import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { test } from 'node:test'
import type { StampedEvent } from '../../src/events/event-hub.js'
import { DEFAULT_SYNC_OPTIONS } from '../../src/net/sync-node.js'
import { Node, type NodeOptions } from '../../src/node/node.js'
import { createLogger } from '../../src/util/log.js'
import { waitFor } from '../support/wait.js'

const OPTS: NodeOptions = { listen: { host: '127.0.0.1', port: undefined }, sync: DEFAULT_SYNC_OPTIONS, log: createLogger('error') }

test('a node reopened from its data directory holds its namespaces, with the same key and port', { timeout: 30_000 }, async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'meshfs-node-'))
  try {
    const first = Node.open(dir, OPTS)
    let url: string
    let id: string
    try {
      await first.start()
      url = first.sync.url
      id = first.namespaces.create({ alias: 'team' }).id
      first.namespaces.create({ alias: 'team/design' })
      const seen: StampedEvent[] = []
      first.events.subscribe(id, (e) => seen.push(e))
      await first.table.resolve('/team').handler.mkdir!('/docs', 0o755)
      await waitFor(() => seen.some((e) => e.type === 'put' && e.path === '/docs'), { what: 'the put event of /docs', timeoutMs: 10_000 })
      assert.deepEqual(
        first
          .status()
          .namespaces.map((n) => n.alias)
          .sort(),
        ['design', 'team'],
      )
    } finally {
      await first.stop()
      await first.stop()
    }
    const again = Node.open(dir, OPTS)
    try {
      await again.start()
      assert.equal(again.sync.url, url)
      assert.equal(again.identity.publicKey, first.identity.publicKey)
      assert.deepEqual(
        again.namespaces.list().map((n) => n.path),
        ['team', 'team/design'],
      )
      assert.equal(again.namespaces.get('team').id, id)
      assert.equal(again.table.isMountPoint('/team/design'), true)
    } finally {
      await again.stop()
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('a namespace deleted is unmounted and no longer held; a top-level mkdir creates one', { timeout: 30_000 }, async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'meshfs-node-'))
  const node = Node.open(dir, { ...OPTS, listen: { host: '127.0.0.1', port: 0 } })
  try {
    await node.start()
    await node.table.resolve('/').handler.mkdir!('/made', 0o755)
    const info = node.namespaces.get('made')
    assert.deepEqual(node.namespaces.namespaceIds(), [info.id])
    node.namespaces.delete('made')
    assert.deepEqual(node.namespaces.namespaceIds(), [])
    assert.equal(node.table.isMountPoint('/made'), false)
    assert.throws(() => node.namespaces.get('made'), /ENOENT/)
  } finally {
    await node.stop()
    rmSync(dir, { recursive: true, force: true })
  }
})
