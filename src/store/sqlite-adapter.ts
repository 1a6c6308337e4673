/**
 * The durable StorageAdapter: one row per key in the `chunks` table of meshfs.db.
 *
 * Every write is a SQLite commit with `synchronous = FULL` (see sqlite.ts), or part of one when
 * inside `transaction()`: when a method returns, its effect is on disk. Every value is checked
 * against its stored CRC-32 when read.
 */
import type Database from 'better-sqlite3'
import zlib from 'node:zlib'
import type { Chunk, StorageAdapter } from './adapter.js'
import { StoreError, fromSqliteError } from './errors.js'
import { decodeKey, encodeFullKey, encodeKey, prefixUpperBound } from './key.js'
import type { StorageKey } from './key.js'
import { openDatabase } from './sqlite.js'
import type { OpenDatabaseOptions, SqliteDatabase } from './sqlite.js'

interface Row {
  key: Buffer
  data: Buffer
  crc32: number
}

export class SqliteStorageAdapter implements StorageAdapter {
  readonly path: string
  readonly #db: SqliteDatabase
  readonly #load: Database.Statement<[Buffer], { data: Buffer; crc32: number }>
  readonly #has: Database.Statement<[Buffer], number>
  readonly #save: Database.Statement<[Buffer, Buffer, number]>
  readonly #remove: Database.Statement<[Buffer]>
  readonly #rangeAll: Database.Statement<[], Row>
  readonly #range: Database.Statement<[Buffer, Buffer], Row>
  readonly #keysAll: Database.Statement<[], Buffer>
  readonly #keys: Database.Statement<[Buffer, Buffer], Buffer>
  readonly #removeAll: Database.Statement<[]>
  readonly #removeRange: Database.Statement<[Buffer, Buffer]>
  readonly #transaction: Database.Transaction<(fn: () => unknown) => unknown>

  /** Opens `<dataDir>/meshfs.db` with every start-up check of sqlite.ts. */
  static open(dataDir: string, options?: OpenDatabaseOptions): SqliteStorageAdapter {
    return new SqliteStorageAdapter(openDatabase(dataDir, options))
  }

  /** Wraps an already opened and migrated database; the adapter owns it from now on. */
  constructor(db: SqliteDatabase) {
    this.#db = db
    this.path = db.name
    try {
      this.#load = db.prepare('SELECT data, crc32 FROM chunks WHERE key = ?')
      this.#has = db.prepare<[Buffer], number>('SELECT 1 FROM chunks WHERE key = ?').pluck()
      this.#save = db.prepare(
        'INSERT INTO chunks (key, data, crc32) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET data = excluded.data, crc32 = excluded.crc32',
      )
      this.#remove = db.prepare('DELETE FROM chunks WHERE key = ?')
      this.#rangeAll = db.prepare('SELECT key, data, crc32 FROM chunks ORDER BY key')
      this.#range = db.prepare('SELECT key, data, crc32 FROM chunks WHERE key >= ? AND key < ? ORDER BY key')
      this.#keysAll = db.prepare<[], Buffer>('SELECT key FROM chunks ORDER BY key').pluck()
      this.#keys = db.prepare<[Buffer, Buffer], Buffer>('SELECT key FROM chunks WHERE key >= ? AND key < ? ORDER BY key').pluck()
      this.#removeAll = db.prepare('DELETE FROM chunks')
      this.#removeRange = db.prepare('DELETE FROM chunks WHERE key >= ? AND key < ?')
      this.#transaction = db.transaction((fn: () => unknown) => fn())
    } catch (err) {
      throw fromSqliteError(err, this.path, 'preparing statements')
    }
  }

  load(key: StorageKey): Uint8Array | undefined {
    const encoded = encodeFullKey(key)
    const row = this.#run(`loading ${show(key)}`, () => this.#load.get(encoded))
    return row === undefined ? undefined : this.#verified(key, row.data, row.crc32)
  }

  save(key: StorageKey, data: Uint8Array): void {
    const encoded = encodeFullKey(key)
    if (!(data instanceof Uint8Array)) {
      throw new StoreError(`value for ${show(key)} must be a Uint8Array`, { kind: 'invalid-argument', code: 'EINVAL' })
    }
    const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength)
    this.#run(`saving ${show(key)}`, () => this.#save.run(encoded, bytes, zlib.crc32(bytes)))
  }

  remove(key: StorageKey): void {
    const encoded = encodeFullKey(key)
    this.#run(`removing ${show(key)}`, () => this.#remove.run(encoded))
  }

  loadRange(prefix: StorageKey): Chunk[] {
    const [low, high] = bounds(prefix)
    const rows = this.#run(`loading the range ${show(prefix)}`, () =>
      high === undefined ? this.#rangeAll.all() : this.#range.all(low, high),
    )
    return rows.map((row) => {
      const key = decodeKey(row.key)
      return { key, data: this.#verified(key, row.data, row.crc32) }
    })
  }

  removeRange(prefix: StorageKey): number {
    const [low, high] = bounds(prefix)
    const result = this.#run(`removing the range ${show(prefix)}`, () =>
      high === undefined ? this.#removeAll.run() : this.#removeRange.run(low, high),
    )
    return result.changes
  }

  has(key: StorageKey): boolean {
    const encoded = encodeFullKey(key)
    return this.#run(`looking up ${show(key)}`, () => this.#has.get(encoded)) !== undefined
  }

  listKeys(prefix: StorageKey): string[][] {
    const [low, high] = bounds(prefix)
    const keys = this.#run(`listing the keys under ${show(prefix)}`, () =>
      high === undefined ? this.#keysAll.all() : this.#keys.all(low, high),
    )
    return keys.map(decodeKey)
  }

  transaction<T>(fn: () => T): T {
    // IMMEDIATE takes the write lock up front: a deferred transaction that reads and then
    // writes can fail with SQLITE_BUSY_SNAPSHOT when another connection wrote in between,
    // which the busy timeout cannot wait out. Nested calls become savepoints.
    return this.#run('committing a transaction', () => this.#transaction.immediate(fn) as T)
  }

  close(): void {
    if (this.#db.open) this.#run('closing', () => this.#db.close())
  }

  /** The raw database, for checks and tests; writing to it bypasses the CRC bookkeeping. */
  get database(): SqliteDatabase {
    return this.#db
  }

  #verified(key: StorageKey, data: Buffer, crc: number): Uint8Array {
    const actual = zlib.crc32(data)
    if (actual !== crc) {
      throw new StoreError(
        `stored value of ${show(key)} in ${this.path} is corrupted: CRC-32 is ${actual.toString(16)}, ` +
          `${crc.toString(16)} was stored with it`,
        { kind: 'corrupt-record', code: 'EIO', path: this.path, key },
      )
    }
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
  }

  #run<T>(doing: string, fn: () => T): T {
    if (!this.#db.open) {
      throw new StoreError(`${this.path} used after close() (${doing})`, { kind: 'closed', code: 'EIO', path: this.path })
    }
    try {
      return fn()
    } catch (err) {
      throw fromSqliteError(err, this.path, doing)
    }
  }
}

function bounds(prefix: StorageKey): [Buffer, Buffer | undefined] {
  const low = encodeKey(prefix)
  return [low, prefixUpperBound(low)]
}

function show(key: StorageKey): string {
  return JSON.stringify(key)
}
