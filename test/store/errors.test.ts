import Database from 'better-sqlite3'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { describe, it } from 'node:test'
import * as Y from 'yjs'
import { StoreError, fromSqliteError } from '../../src/store/errors.js'
import type { LocalStore } from '../../src/store/local-store.js'
import { openLocalStore } from '../../src/store/local-store.js'
import { seededBytes } from '../support/prng.js'
import { removeTempDir, tempDir } from './helpers.js'

describe('SQLite errors become StoreErrors with an errno', () => {
  const cases: Array<[string, string, string]> = [
    ['SQLITE_FULL', 'ENOSPC', 'disk-full'],
    ['SQLITE_IOERR', 'EIO', 'io'],
    ['SQLITE_IOERR_WRITE', 'EIO', 'io'],
    ['SQLITE_IOERR_FSYNC', 'EIO', 'io'],
    ['SQLITE_CORRUPT', 'EIO', 'corrupt-database'],
    ['SQLITE_NOTADB', 'EIO', 'corrupt-database'],
    ['SQLITE_BUSY', 'EBUSY', 'busy'],
    ['SQLITE_READONLY_DBMOVED', 'EROFS', 'read-only'],
    ['SQLITE_CANTOPEN', 'EIO', 'io'],
    ['SQLITE_CONSTRAINT_UNIQUE', 'EIO', 'io'],
  ]
  for (const [sqlite, errno, kind] of cases) {
    it(`${sqlite} -> ${errno}`, () => {
      const original = new Database.SqliteError('something failed', sqlite)
      const mapped = fromSqliteError(original, '/data/meshfs.db', 'saving ["k"]')
      assert.ok(mapped instanceof StoreError)
      assert.equal(mapped.code, errno)
      assert.equal(mapped.kind, kind)
      assert.equal(mapped.path, '/data/meshfs.db')
      assert.equal(mapped.cause, original)
      assert.match(mapped.message, /saving \["k"\] in \/data\/meshfs\.db/)
      assert.match(mapped.message, new RegExp(sqlite))
    })
  }

  it('passes StoreErrors and non-SQLite errors through unchanged', () => {
    const store = new StoreError('x', { kind: 'io', code: 'EIO' })
    const bug = new TypeError('a bug')
    assert.equal(fromSqliteError(store, 'f', 'd'), store)
    assert.equal(fromSqliteError(bug, 'f', 'd'), bug)
  })
})

/** Mounts a tmpfs of `size` at a new directory, or returns undefined where that is not allowed. */
function mountTmpfs(size: string): string | undefined {
  const dir = tempDir('tmpfs')
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'pipe' })
    return dir
  } catch {
    removeTempDir(dir)
    return undefined
  }
}

function unmount(dir: string): void {
  execFileSync('umount', [dir], { stdio: 'pipe' })
  removeTempDir(dir)
}

const canMount = (() => {
  const dir = mountTmpfs('64k')
  if (dir === undefined) return false
  unmount(dir)
  return true
})()

describe('a full disk', { skip: canMount ? false : 'needs permission to mount a tmpfs (root)' }, () => {
  it('fails the write that does not fit with ENOSPC, keeps every acknowledged write, and works again once there is room', () => {
    const mountPoint = mountTmpfs('1m')!
    let store: LocalStore | undefined
    try {
      const dataDir = path.join(mountPoint, 'data')
      store = openLocalStore(dataDir)
      const acked: Array<{ key: string; value: number }> = []
      const blobs: string[] = []
      const doc = new Y.Doc()
      let last: Uint8Array | undefined
      doc.on('update', (update: Uint8Array) => (last = update))
      let failure: unknown
      for (let i = 0; i < 10_000 && failure === undefined; i++) {
        doc.getMap('m').set(`k${i}`, i)
        try {
          store.docs.appendUpdate(['full'], last!)
          acked.push({ key: `k${i}`, value: i })
          blobs.push(store.blobs.putBlob(seededBytes(8000, i + 1)))
        } catch (err) {
          failure = err
        }
      }
      assert.ok(failure instanceof StoreError, `expected a StoreError, got ${String(failure)}`)
      assert.equal(failure.code, 'ENOSPC')
      assert.equal(failure.kind, 'disk-full')
      assert.match(failure.message, /meshfs\.db/)
      assert.ok(acked.length > 5, 'some writes should fit before the disk is full')

      // Still readable, with everything acknowledged, while the disk is full.
      const check = (s: LocalStore) => {
        const rebuilt = new Y.Doc()
        Y.applyUpdate(rebuilt, s.docs.loadDoc(['full'])!)
        for (const { key, value } of acked) assert.equal(rebuilt.getMap('m').get(key), value, key)
        for (const hash of blobs) assert.ok(s.blobs.getBlob(hash) !== undefined, hash)
      }
      check(store)
      store.close()
      store = undefined

      execFileSync('mount', ['-o', 'remount,size=8m', mountPoint], { stdio: 'pipe' })
      store = openLocalStore(dataDir)
      check(store)
      store.blobs.putBlob(seededBytes(100_000, 99))
    } finally {
      try {
        store?.close()
      } finally {
        unmount(mountPoint)
      }
    }
  })

  it('refuses to create a database on a full disk with ENOSPC', () => {
    const mountPoint = mountTmpfs('256k')!
    try {
      const filler = path.join(mountPoint, 'filler')
      try {
        fs.writeFileSync(filler, Buffer.alloc(512 * 1024))
      } catch {
        // ENOSPC: the disk is now full, which is the point
      }
      assert.throws(
        () => openLocalStore(path.join(mountPoint, 'data')),
        (err) => err instanceof StoreError && err.code === 'ENOSPC' && err.kind === 'disk-full',
      )
    } finally {
      unmount(mountPoint)
    }
  })
})
