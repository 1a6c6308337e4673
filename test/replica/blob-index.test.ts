// The blob index without a network: what a namespace's tree names but the store lacks, and
// which blobs a peer may fetch from it (the set is walked again once the namespace changes).

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { META, encodeContentRef, encodeManifest } from '../../src/model/content.js'
import { TreeDoc } from '../../src/model/tree/tree.js'
import { replicaStoreOf } from '../../src/node/replica-store.js'
import { BlobIndex } from '../../src/replica/blob-index.js'
import { NamespaceReplica } from '../../src/replica/replica.js'
import { openMemoryStore } from '../../src/store/local-store.js'
import { createLogger } from '../../src/util/log.js'

const INFO = {
  id: 'ab'.repeat(16),
  alias: 'b',
  application: 'files',
  upgradePolicy: 'lazy-on-access' as const,
  description: '',
  createdMs: 1,
}

test('missing blobs: a manifest not stored, then the chunks it lists; a corrupt content record is logged and skipped', () => {
  const store = openMemoryStore()
  const replica = NamespaceReplica.create(replicaStoreOf(store), INFO)
  const lines: string[] = []
  const index = new BlobIndex(
    { tree: () => replica.tree, referenced: () => new Set() },
    store.blobs,
    createLogger('warn', (l) => lines.push(l)),
  )
  const chunk = 'c'.repeat(64)
  const manifest = encodeManifest({ v: 1, size: 3, chunk: 1 << 20, chunks: [chunk] })
  const manifestHash = store.blobs.putBlob(manifest)
  replica.change((t) => {
    const bad = t.create(TreeDoc.ROOT, 'bad', 'file', 0o644)
    t.setMeta(bad, META.content, 'not a content record')
    const dir = t.create(TreeDoc.ROOT, 'dir', 'group', 0o755)
    const bin = t.create(dir, 'bin', 'file', 0o644)
    t.setMeta(bin, META.content, encodeContentRef({ kind: 'b', size: 3, mtimeSec: 1, manifest: 'd'.repeat(64) }))
    const known = t.create(TreeDoc.ROOT, 'known', 'file', 0o644)
    t.setMeta(known, META.content, encodeContentRef({ kind: 'b', size: 3, mtimeSec: 1, manifest: manifestHash }))
  })
  assert.deepEqual(index.missing(INFO.id).sort(), [chunk, 'd'.repeat(64)].sort())
  assert.equal(lines.filter((l) => /resource [0-9a-f]{16} skipped .*unreadable content record/.test(l)).length, 1, lines.join('\n'))
})

test('blobs in a namespace: kept until the namespace or the blob store changes', () => {
  let referenced = new Set(['x'])
  let walks = 0
  const index = new BlobIndex(
    { tree: () => undefined, referenced: (ns) => (ns === 'held' ? (walks++, referenced) : undefined) },
    { getBlob: () => undefined, hasBlob: () => false },
    createLogger('error'),
  )
  assert.equal(index.has('held', 'x'), true)
  assert.equal(index.has('held', 'y'), false)
  assert.equal(index.has('other', 'x'), false)
  assert.equal(walks, 1)
  referenced = new Set(['y'])
  assert.equal(index.has('held', 'y'), false, 'kept')
  index.forget('held')
  assert.equal(index.has('held', 'y'), true)
  referenced = new Set(['z'])
  index.blobStored()
  assert.equal(index.has('held', 'z'), true)
  assert.equal(walks, 3)
})
