import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { MemoryStorageAdapter } from '../../src/store/memory-adapter.js'
import { SqliteStorageAdapter } from '../../src/store/sqlite-adapter.js'
import { removeTempDir, tempDir } from './helpers.js'
import { runStorageAdapterTests } from './storage-adapter-suite.js'

runStorageAdapterTests('memory', () => ({ adapter: new MemoryStorageAdapter() }))

runStorageAdapterTests('sqlite', () => {
  const dir = tempDir('adapter')
  return { adapter: SqliteStorageAdapter.open(dir), teardown: () => removeTempDir(dir) }
})

describe('sqlite adapter persistence', () => {
  it('finds after close and reopen what was saved, removed and range-removed before', () => {
    const dir = tempDir('persist')
    try {
      let adapter = SqliteStorageAdapter.open(dir)
      adapter.save(['a', 'b'], new Uint8Array([1]))
      adapter.save(['a', 'c'], new Uint8Array([2]))
      adapter.save(['ab'], new Uint8Array([3]))
      adapter.save(['gone'], new Uint8Array([4]))
      adapter.remove(['gone'])
      adapter.save(['range', '1'], new Uint8Array([5]))
      adapter.removeRange(['range'])
      adapter.transaction(() => adapter.save(['txn'], new Uint8Array([6])))
      adapter.close()

      adapter = SqliteStorageAdapter.open(dir)
      assert.deepEqual(adapter.listKeys([]), [['a', 'b'], ['a', 'c'], ['ab'], ['txn']])
      assert.deepEqual(new Uint8Array(adapter.load(['a', 'c'])!), new Uint8Array([2]))
      adapter.close()
    } finally {
      removeTempDir(dir)
    }
  })
})
