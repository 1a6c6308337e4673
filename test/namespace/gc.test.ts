import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { test } from 'node:test'
import { Namespaces } from '../../src/node/namespaces.js'
import { MemoryHandler } from '../../src/handlers/memory.js'
import { KeyPair } from '../../src/net/trust/identity.js'
import { openMemoryStore } from '../../src/store/local-store.js'
import { silentLogger } from '../../src/util/log.js'
import { MountTable } from '../../src/vfs/mount-table.js'

const RW = { read: true, write: true, append: false, truncate: false }

test('blobs no live resource refers to are collected; referenced ones stay', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'meshfs-gc-'))
  const store = openMemoryStore()
  try {
    const table = new MountTable(new MemoryHandler())
    const ns = new Namespaces(store, table, dir, KeyPair.generate(), silentLogger)
    ns.create({ alias: 'g' })
    const h = table.resolve('/g').handler
    const put = async (p: string, bytes: number[]) => {
      const f = await h.create!(p, 0o644, RW).catch(() => h.open(p, { ...RW, truncate: true }))
      await f.write!(Buffer.from(bytes), 0)
      await f.release()
    }
    await put('/keep', [1, 0, 1])
    await put('/gone', [2, 0, 2])
    await put('/changed', [3, 0, 3])
    await put('/changed', [4, 0, 4])
    await h.unlink!('/gone')
    const before = store.blobs.listBlobs().length
    assert.equal(before, 8, 'a chunk and a manifest for each of the four contents')
    assert.equal(ns.collectGarbage(), 4)
    assert.equal(store.blobs.listBlobs().length, 4)
    const read = async (p: string) => [...(await (await h.open(p, { ...RW, write: false })).read(0, 10))]
    assert.deepEqual(await read('/keep'), [1, 0, 1])
    assert.deepEqual(await read('/changed'), [4, 0, 4])
    assert.equal(ns.collectGarbage(), 0)
  } finally {
    store.close()
    rmSync(dir, { recursive: true, force: true })
  }
})
