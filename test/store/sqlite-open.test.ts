import Database from 'better-sqlite3'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, beforeEach, describe, it } from 'node:test'
import { BlobStore } from '../../src/store/blob-store.js'
import type { StoreError } from '../../src/store/errors.js'
import { APPLICATION_ID, DB_FILE_NAME, SCHEMA_VERSION, openDatabase } from '../../src/store/sqlite.js'
import { SqliteStorageAdapter } from '../../src/store/sqlite-adapter.js'
import { seededBytes } from '../support/prng.js'
import { fingerprintDir, removeTempDir, storeError, tempDir } from './helpers.js'

describe('opening meshfs.db', () => {
  let dir: string
  let file: string
  beforeEach(() => {
    dir = tempDir('open')
    file = path.join(dir, DB_FILE_NAME)
  })
  afterEach(() => removeTempDir(dir))

  /** Opening must fail with this kind, naming the file, and leave the directory exactly as it was. */
  function assertRefusedUntouched(kind: Parameters<typeof storeError>[0], ...fragments: string[]): StoreError {
    const before = fingerprintDir(dir)
    let caught: unknown
    assert.throws(
      () => SqliteStorageAdapter.open(dir),
      (err) => {
        caught = err
        return storeError(kind, file, ...fragments)(err)
      },
    )
    assert.deepEqual(fingerprintDir(dir), before, 'the refused open changed files in the data dir')
    return caught as StoreError
  }

  it('creates the directory and a WAL database with synchronous=FULL, the marker and the schema version', () => {
    const nested = path.join(dir, 'a', 'b')
    const db = openDatabase(nested)
    try {
      assert.equal(db.name, path.join(nested, DB_FILE_NAME))
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal')
      assert.equal(db.pragma('synchronous', { simple: true }), 2, 'synchronous must be FULL (2)')
      assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION)
      assert.equal(db.pragma('application_id', { simple: true }), APPLICATION_ID)
      assert.equal(db.prepare("SELECT value FROM meta WHERE key = 'app'").pluck().get(), 'meshfs')
    } finally {
      db.close()
    }
    assert.deepEqual(
      fs.readdirSync(nested).filter((name) => name.includes('creating')),
      [],
      'no temporary creation file is left behind',
    )
  })

  it('reopens its own database without migrating it again', () => {
    openDatabase(dir).close()
    const db = openDatabase(dir)
    try {
      assert.equal(db.prepare('SELECT count(*) FROM meta').pluck().get(), 2)
      assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION)
    } finally {
      db.close()
    }
  })

  it('refuses a text file named meshfs.db', () => {
    fs.writeFileSync(file, 'these are my notes, not a database\n'.repeat(20))
    const err = assertRefusedUntouched('not-a-database', 'not a SQLite database')
    assert.equal(err.code, 'EIO')
  })

  it('refuses an empty meshfs.db, which meshfs never leaves behind', () => {
    fs.writeFileSync(file, '')
    assertRefusedUntouched('not-a-database', 'empty')
  })

  it('refuses a directory named meshfs.db', () => {
    fs.mkdirSync(file)
    assertRefusedUntouched('not-a-database', 'not a regular file')
  })

  it('refuses a foreign SQLite database with its own tables', () => {
    const foreign = new Database(file)
    foreign.exec("CREATE TABLE songs (title TEXT, artist TEXT); INSERT INTO songs VALUES ('Blue', 'Joni');")
    foreign.pragma('journal_mode = WAL')
    foreign.close()
    const err = assertRefusedUntouched('foreign-database', 'another application', 'application_id 0x00000000')
    assert.equal(err.code, 'EIO')
    const check = new Database(file, { readonly: true })
    assert.deepEqual(check.prepare('SELECT * FROM songs').all(), [{ title: 'Blue', artist: 'Joni' }])
    check.close()
  })

  it('refuses a database with the meshfs application_id but no meshfs marker', () => {
    const foreign = new Database(file)
    foreign.pragma(`application_id = ${APPLICATION_ID}`)
    foreign.exec("CREATE TABLE meta (key TEXT, value TEXT); CREATE TABLE things (x); INSERT INTO meta VALUES ('app', 'other')")
    foreign.close()
    assertRefusedUntouched('foreign-database', 'no meshfs marker', 'meta, things')
  })

  it('refuses a database with the meshfs application_id and a meta table of another shape', () => {
    const foreign = new Database(file)
    foreign.pragma(`application_id = ${APPLICATION_ID}`)
    foreign.exec('CREATE TABLE meta (name TEXT, setting TEXT)')
    foreign.close()
    assertRefusedUntouched('foreign-database', 'no meshfs marker', 'tables: meta')
  })

  it('refuses a database of a newer schema version', () => {
    openDatabase(dir).close()
    const raw = new Database(file)
    raw.pragma(`user_version = ${SCHEMA_VERSION + 1}`)
    raw.close()
    assertRefusedUntouched('newer-schema', `schema version ${SCHEMA_VERSION + 1}`, 'newer meshfs')
  })

  it('refuses a database with garbage written into the middle, and leaves its bytes alone', () => {
    const adapter = SqliteStorageAdapter.open(dir)
    const blobs = new BlobStore(adapter)
    adapter.transaction(() => {
      for (let i = 0; i < 60; i++) blobs.putBlob(seededBytes(3000 + i * 97, i + 1))
      for (let i = 0; i < 400; i++) adapter.save(['row', String(i)], seededBytes(50, 1000 + i))
    })
    const pageSize = adapter.database.pragma('page_size', { simple: true }) as number
    adapter.close() // checkpoints: every page is in meshfs.db, no -wal remains

    const pages = fs.statSync(file).size / pageSize
    assert.ok(pages > 40, `the test database should have many pages, has ${pages}`)
    const fd = fs.openSync(file, 'r+')
    fs.writeSync(fd, seededBytes(pageSize, 4242), 0, pageSize, Math.floor(pages / 2) * pageSize)
    fs.closeSync(fd)

    const err = assertRefusedUntouched('corrupt-database', 'corrupted', 'quick_check')
    assert.equal(err.code, 'EIO')
  })

  it('refuses a truncated database', () => {
    const adapter = SqliteStorageAdapter.open(dir)
    adapter.transaction(() => {
      for (let i = 0; i < 300; i++) adapter.save(['row', String(i)], seededBytes(200, i + 1))
    })
    adapter.close()
    fs.truncateSync(file, Math.floor(fs.statSync(file).size / 2))
    assertRefusedUntouched('corrupt-database')
  })

  it('removes the private directory of an inspection that was killed half-way', () => {
    openDatabase(dir).close()
    fs.mkdirSync(path.join(dir, '.meshfs-inspect-abc123'))
    fs.linkSync(file, path.join(dir, '.meshfs-inspect-abc123', DB_FILE_NAME))
    openDatabase(dir).close()
    assert.deepEqual(fs.readdirSync(dir), [DB_FILE_NAME])
  })

  it('reports a data dir that cannot be created as a StoreError', () => {
    fs.writeFileSync(path.join(dir, 'plain-file'), 'x')
    assert.throws(() => openDatabase(path.join(dir, 'plain-file', 'data')), storeError('io', 'cannot create the data directory'))
  })

  it('refuses to create a database beside the -wal of a missing one', () => {
    fs.writeFileSync(`${file}-wal`, 'left over')
    assertRefusedUntouched('corrupt-database', '-wal')
    assert.equal(fs.existsSync(file), false)
  })

  it('refuses a database that has a rollback journal beside it', () => {
    openDatabase(dir).close()
    fs.writeFileSync(`${file}-journal`, 'hot journal of some other program')
    assertRefusedUntouched('corrupt-database', 'rollback-journal')
  })

  it('replaces a leftover half-created temporary database', () => {
    fs.writeFileSync(`${file}.creating`, 'half written')
    const adapter = SqliteStorageAdapter.open(dir)
    adapter.save(['k'], new Uint8Array([1]))
    adapter.close()
    assert.equal(fs.existsSync(`${file}.creating`), false)
  })
})

describe('stored values are checksummed', () => {
  it("names the key and the file when a value was changed behind the store's back", () => {
    const dir = tempDir('crc')
    try {
      const adapter = SqliteStorageAdapter.open(dir)
      adapter.save(['doc', 'x'], new Uint8Array([1, 2, 3, 4]))
      adapter.save(['doc', 'y'], new Uint8Array([5, 6]))
      // Same length, different bytes: what a flipped bit on disk looks like to SQLite.
      adapter.database.prepare('UPDATE chunks SET data = ? WHERE data = ?').run(Buffer.from([1, 2, 3, 5]), Buffer.from([1, 2, 3, 4]))
      assert.throws(() => adapter.load(['doc', 'x']), storeError('corrupt-record', '["doc","x"]', adapter.path, 'CRC-32'))
      assert.throws(() => adapter.loadRange(['doc']), storeError('corrupt-record', '["doc","x"]'))
      assert.deepEqual(new Uint8Array(adapter.load(['doc', 'y'])!), new Uint8Array([5, 6]))
      adapter.close()
    } finally {
      removeTempDir(dir)
    }
  })
})
