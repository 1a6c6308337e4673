import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex } from '@noble/hashes/utils.js'
import assert from 'node:assert/strict'
import { afterEach, beforeEach, describe, it } from 'node:test'
import type { StorageAdapter } from '../../src/store/adapter.js'
import { BlobStore, blobHash } from '../../src/store/blob-store.js'
import { MemoryStorageAdapter } from '../../src/store/memory-adapter.js'
import { MetaStore } from '../../src/store/meta-store.js'
import { SqliteStorageAdapter } from '../../src/store/sqlite-adapter.js'
import { seededBytes } from '../support/prng.js'
import { removeTempDir, storeError, tempDir } from './helpers.js'

const backends: Array<[string, () => { adapter: StorageAdapter; reopen: () => StorageAdapter; cleanup: () => void }]> = [
  [
    'sqlite',
    () => {
      const dir = tempDir('blobs')
      let adapter = SqliteStorageAdapter.open(dir)
      return {
        adapter,
        reopen: () => {
          adapter.close()
          adapter = SqliteStorageAdapter.open(dir)
          return adapter
        },
        cleanup: () => {
          adapter.close()
          removeTempDir(dir)
        },
      }
    },
  ],
  [
    'memory',
    () => {
      const adapter = new MemoryStorageAdapter()
      return { adapter, reopen: () => adapter, cleanup: () => adapter.close() }
    },
  ],
]

describe('blobHash', () => {
  it('is lowercase hex SHA-256, the same digest as @noble/hashes computes', () => {
    for (const bytes of [new Uint8Array(0), new TextEncoder().encode('abc'), seededBytes(200_000, 3)]) {
      assert.equal(blobHash(bytes), bytesToHex(sha256(bytes)))
    }
    assert.equal(blobHash(new TextEncoder().encode('abc')), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad')
  })
})

for (const [name, setup] of backends) {
  describe(`BlobStore on ${name}`, () => {
    let fixture: ReturnType<typeof setup>
    let blobs: BlobStore
    beforeEach(() => {
      fixture = setup()
      blobs = new BlobStore(fixture.adapter)
    })
    afterEach(() => fixture.cleanup())

    it('stores by content hash and gives the bytes back, also after reopening', () => {
      const bytes = seededBytes(300_000, 9)
      const hash = blobs.putBlob(bytes)
      assert.equal(hash, blobHash(bytes))
      assert.equal(blobs.hasBlob(hash), true)
      assert.deepEqual(new Uint8Array(blobs.getBlob(hash)!), bytes)
      blobs = new BlobStore(fixture.reopen())
      assert.deepEqual(new Uint8Array(blobs.getBlob(hash)!), bytes)
    })

    it('deduplicates: the same bytes are stored once', () => {
      const a = blobs.putBlob(new TextEncoder().encode('same'))
      const b = blobs.putBlob(new TextEncoder().encode('same'))
      blobs.putBlob(new TextEncoder().encode('other'))
      assert.equal(a, b)
      assert.equal(blobs.listBlobs().length, 2)
      assert.equal(fixture.adapter.listKeys(['blob']).length, 2)
    })

    it('answers undefined / false for a blob it does not have', () => {
      const missing = blobHash(new TextEncoder().encode('never stored'))
      assert.equal(blobs.getBlob(missing), undefined)
      assert.equal(blobs.hasBlob(missing), false)
      assert.equal(blobs.deleteBlob(missing), false)
    })

    it('verifies the hash on read: changed bytes are an EIO StoreError, never returned', () => {
      const hash = blobs.putBlob(new TextEncoder().encode('original content'))
      // Written behind the BlobStore's back (the adapter's own checksum is consistent with it):
      // only the content hash can tell.
      fixture.adapter.save(['blob', hash], new TextEncoder().encode('tampered content'))
      assert.throws(
        () => blobs.getBlob(hash),
        (err) => storeError('blob-mismatch', hash, 'corrupted')(err) && (err as { code: string }).code === 'EIO',
      )
    })

    it('deletes, and collects every blob not in the live set', () => {
      const keep = blobs.putBlob(new TextEncoder().encode('keep'))
      const drop1 = blobs.putBlob(new TextEncoder().encode('drop 1'))
      const drop2 = blobs.putBlob(new TextEncoder().encode('drop 2'))
      const gone = blobs.putBlob(new TextEncoder().encode('gone'))
      assert.equal(blobs.deleteBlob(gone), true)
      assert.equal(blobs.hasBlob(gone), false)
      assert.deepEqual(blobs.gcBlobs(new Set([keep])).sort(), [drop1, drop2].sort())
      assert.deepEqual(blobs.listBlobs(), [keep])
      assert.deepEqual(blobs.gcBlobs(new Set([keep])), [])
    })

    it('refuses names that are not hashes', () => {
      assert.throws(() => blobs.getBlob('../etc/passwd'), storeError('invalid-argument'))
      assert.throws(() => blobs.hasBlob('ABCDEF'.repeat(11).slice(0, 64)), storeError('invalid-argument'))
    })
  })

  describe(`MetaStore on ${name}`, () => {
    let fixture: ReturnType<typeof setup>
    let meta: MetaStore
    beforeEach(() => {
      fixture = setup()
      meta = new MetaStore(fixture.adapter)
    })
    afterEach(() => fixture.cleanup())

    it('round-trips JSON values, also after reopening', () => {
      const value = { mount: '/home/me/mesh', targets: [{ peer: 'ws://127.0.0.1:4000', mode: 'duplex' }], n: 3.5, ok: true, none: null }
      meta.setMeta(['node/config'], value)
      meta.setMeta(['counter'], 7)
      meta.setMeta(['counter'], 8)
      meta = new MetaStore(fixture.reopen())
      assert.deepEqual(meta.getMeta(['node/config']), value)
      assert.equal(meta.getMeta<number>(['counter']), 8)
      assert.equal(meta.getMeta(['missing']), undefined)
      assert.deepEqual(meta.listMeta(), [['counter'], ['node/config']])
      assert.deepEqual(meta.listMeta(['node/config']), [['node/config']])
      assert.deepEqual(meta.listMeta(['node']), [])
    })

    it('deletes, and refuses values JSON cannot hold', () => {
      meta.setMeta(['k'], 'v')
      assert.equal(meta.deleteMeta(['k']), true)
      assert.equal(meta.deleteMeta(['k']), false)
      assert.equal(meta.getMeta(['k']), undefined)
      assert.throws(() => meta.setMeta(['u'], undefined), storeError('invalid-argument'))
      const cyclic: Record<string, unknown> = {}
      cyclic.self = cyclic
      assert.throws(() => meta.setMeta(['c'], cyclic), storeError('invalid-argument'))
      assert.throws(() => meta.setMeta(['f'], () => 1), storeError('invalid-argument'))
      assert.throws(() => meta.setMeta([], 1), storeError('invalid-argument'))
    })

    it('reports a value that is no longer JSON as corrupted', () => {
      fixture.adapter.save(['kv', 'broken'], new TextEncoder().encode('{"half":'))
      assert.throws(() => meta.getMeta(['broken']), storeError('corrupt-record', 'broken'))
    })

    it("lists by a prefix of parts: a part holding ':' matches no foreign prefix", () => {
      meta.setMeta(['sync-base', 'a>b', '/x:y'], 1)
      meta.setMeta(['sync-base', 'a>b:/x'], 2)
      meta.setMeta(['sync-base', 'a>b', ''], 3)
      assert.deepEqual(meta.listMeta(['sync-base', 'a>b']), [
        ['sync-base', 'a>b', ''],
        ['sync-base', 'a>b', '/x:y'],
      ])
      assert.equal(meta.getMeta(['sync-base', 'a>b:/x']), 2)
    })

    it("keeps metadata and blobs apart from documents' keys", () => {
      meta.setMeta(['head'], 1)
      assert.deepEqual(fixture.adapter.listKeys([]), [['kv', 'head']])
    })
  })
}
