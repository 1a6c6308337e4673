/**
 * Opens (or creates) `<dataDir>/meshfs.db`, refusing files that are not ours or not sound.
 *
 * Start-up order, so that a file we must not touch is never written:
 *   1. read the 100-byte SQLite header with plain fs: not "SQLite format 3" -> not a database;
 *      application_id (header offset 68) not ours -> another application's database.
 *      Neither case ever reaches SQLite, so SQLite creates no -wal/-shm beside such a file.
 *   2. open read-only and check: the `meta` marker, `user_version` not newer than this build,
 *      `PRAGMA quick_check`. A read-only connection never checkpoints, so even a corrupt file
 *      keeps its bytes (and see withInspectionPath for the files SQLite puts beside it).
 *   3. only then open read-write and run the migrations from `user_version` upwards.
 *
 * A new database is built under a temporary name and renamed into place, so `meshfs.db` either
 * does not exist or is a complete, marked, schema-bearing database: a crash during creation
 * leaves nothing that start-up would have to guess about.
 */
import Database from 'better-sqlite3'
import fs from 'node:fs'
import path from 'node:path'
import { StoreError, fromSqliteError } from './errors.js'
import { decodeKey, encodeFullKey } from './key.js'
import { schema2Key } from './schema1-keys.js'

export type SqliteDatabase = Database.Database

export const DB_FILE_NAME = 'meshfs.db'
/** 'MSHF' in the SQLite header's application_id: recognisable without running any SQL. */
export const APPLICATION_ID = 0x4d534846
export const APP_MARKER = 'meshfs'
export const SCHEMA_VERSION = 2

const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1')
const HEADER_SIZE = 100
const INSPECTION_DIR_PREFIX = '.meshfs-inspect-'

export interface OpenDatabaseOptions {
  /**
   * The consistency check at start-up. 'quick' (default) is `PRAGMA quick_check`, O(file size)
   * but without the index cross-checks of 'full' (`integrity_check`); 'none' skips it.
   */
  startupCheck?: 'quick' | 'full' | 'none'
  /** How long a statement waits for another connection's lock before failing with EBUSY. */
  busyTimeoutMs?: number
}

interface Migration {
  version: number
  up(db: SqliteDatabase): void
}

/**
 * Each migration moves the schema from `version - 1` to `version`; they run in one transaction
 * with the `user_version` update, so a crash leaves either the old or the new schema.
 */
const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    up(db) {
      db.exec(`
        CREATE TABLE meta (
          key   TEXT PRIMARY KEY NOT NULL,
          value TEXT NOT NULL
        ) STRICT;
        -- The storage adapter's entries. key is the part-by-part encoding of key.ts (BLOB
        -- comparison is memcmp, which keeps the part-by-part order); crc32 is zlib's CRC-32 of
        -- data, checked on every read, because SQLite does not checksum row contents.
        CREATE TABLE chunks (
          id    INTEGER PRIMARY KEY,
          key   BLOB NOT NULL UNIQUE,
          data  BLOB NOT NULL,
          crc32 INTEGER NOT NULL
        ) STRICT;
      `)
      db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run('app', APP_MARKER)
      db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run('created_at', new Date().toISOString())
    },
  },
  {
    // Doc ids and metadata names become key parts instead of ':'-joined strings (schema1-keys.ts).
    // The values and their CRC-32s stay as they are: only the keys move.
    version: 2,
    up(db) {
      const rows = db.prepare<[], { id: number; key: Buffer }>('SELECT id, key FROM chunks').all()
      const rekey = db.prepare<[Buffer, number]>('UPDATE chunks SET key = ? WHERE id = ?')
      for (const row of rows) {
        const moved = schema2Key(decodeKey(row.key))
        if (moved !== undefined) rekey.run(encodeFullKey(moved), row.id)
      }
    },
  },
]

/** Opens the store's database in `dataDir`, creating the directory and database if needed. */
export function openDatabase(dataDir: string, options: OpenDatabaseOptions = {}): SqliteDatabase {
  const file = path.join(path.resolve(dataDir), DB_FILE_NAME)
  makeDataDir(path.dirname(file))
  removeStaleInspectionDirs(path.dirname(file))

  const stat = statOrUndefined(file)
  if (stat === undefined) {
    refuseOrphanJournals(file)
    createDatabase(file)
  } else {
    if (!stat.isFile()) throw notADatabase(file, 'it is not a regular file')
    checkHeader(file)
    refuseRollbackJournal(file)
    inspectReadOnly(file, options.startupCheck ?? 'quick')
  }
  return openReadWrite(file, options.busyTimeoutMs ?? 5000)
}

/** Creates the data dir and makes the new directory entries durable, like the database file. */
function makeDataDir(dir: string): void {
  try {
    const created = fs.mkdirSync(dir, { recursive: true })
    if (created === undefined) return
    for (let d = dir; ; d = path.dirname(d)) {
      fsyncPath(path.dirname(d))
      if (d === created || path.dirname(d) === d) break
    }
  } catch (err) {
    throw new StoreError(`cannot create the data directory ${dir}: ${(err as Error).message}`, {
      kind: (err as NodeJS.ErrnoException).code === 'ENOSPC' ? 'disk-full' : 'io',
      code: (err as NodeJS.ErrnoException).code === 'ENOSPC' ? 'ENOSPC' : 'EIO',
      path: dir,
      cause: err,
    })
  }
}

/** Private directories of an inspection that was killed half-way (see withInspectionPath). */
function removeStaleInspectionDirs(dir: string): void {
  for (const name of fs.readdirSync(dir)) {
    if (name.startsWith(INSPECTION_DIR_PREFIX)) fs.rmSync(path.join(dir, name), { recursive: true, force: true })
  }
}

function statOrUndefined(file: string): fs.Stats | undefined {
  try {
    return fs.statSync(file)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new StoreError(`cannot stat ${file}: ${(err as Error).message}`, { kind: 'io', code: 'EIO', path: file, cause: err })
  }
}

/**
 * A -wal or -journal without its database belongs to a database that was moved or deleted:
 * creating a new database beside it would let SQLite replay or discard someone else's pages.
 */
function refuseOrphanJournals(file: string): void {
  for (const suffix of ['-wal', '-journal']) {
    if (fs.existsSync(file + suffix)) {
      throw new StoreError(
        `${file} does not exist but ${file + suffix} does: refusing to create a new database beside ` +
          'the journal of a missing one (move the journal away if the database is really gone)',
        { kind: 'corrupt-database', code: 'EIO', path: file },
      )
    }
  }
}

/**
 * meshfs.db is always in WAL mode, so SQLite never writes a rollback journal for it. One beside
 * it means another program wrote to the file; reading it (which would roll that journal back)
 * is not our call.
 */
function refuseRollbackJournal(file: string): void {
  if (fs.existsSync(`${file}-journal`)) {
    throw new StoreError(
      `${file}-journal exists: some other program has written to ${file} in rollback-journal mode ` +
        '(meshfs never does); meshfs has not modified either file',
      { kind: 'corrupt-database', code: 'EIO', path: file },
    )
  }
}

function notADatabase(file: string, why: string): StoreError {
  return new StoreError(`${file} is not a meshfs database: ${why}; meshfs has not modified it`, {
    kind: 'not-a-database',
    code: 'EIO',
    path: file,
  })
}

function checkHeader(file: string): void {
  const header = Buffer.alloc(HEADER_SIZE)
  let read: number
  const fd = fs.openSync(file, 'r')
  try {
    read = fs.readSync(fd, header, 0, HEADER_SIZE, 0)
  } finally {
    fs.closeSync(fd)
  }
  if (read === 0) {
    // We create the database under another name and rename it into place, so an empty
    // meshfs.db was made by something else.
    throw notADatabase(file, 'the file is empty (meshfs never leaves an empty database file)')
  }
  if (read < HEADER_SIZE || !header.subarray(0, SQLITE_MAGIC.length).equals(SQLITE_MAGIC)) {
    throw notADatabase(file, 'it is not a SQLite database (no "SQLite format 3" header)')
  }
  const applicationId = header.readUInt32BE(68)
  if (applicationId !== APPLICATION_ID) {
    throw new StoreError(
      `${file} is a SQLite database of another application (application_id 0x${hex32(applicationId)}, ` +
        `meshfs uses 0x${hex32(APPLICATION_ID)}); meshfs has not modified it`,
      { kind: 'foreign-database', code: 'EIO', path: file },
    )
  }
}

function hex32(n: number): string {
  return n.toString(16).padStart(8, '0')
}

/**
 * Runs `inspect` on a path that reads the database without leaving anything beside it.
 *
 * Even a read-only SQLite connection creates `-wal` and `-shm` files next to a WAL-mode
 * database, and leaves them. When the database has no `-wal` (it was closed cleanly, or it is
 * not ours to begin with), the main file alone is the whole database, so we read it through a
 * hard link in a private directory: SQLite's side files appear there and are removed with it.
 * When a `-wal` exists (we crashed), its frames are part of the database and we must read it
 * in place; that `-wal` is ours already. Where hard links are not supported, we read in place.
 */
function withInspectionPath<T>(file: string, inspect: (readPath: string) => T): T {
  if (fs.existsSync(`${file}-wal`)) return inspect(file)
  let dir: string
  try {
    dir = fs.mkdtempSync(path.join(path.dirname(file), INSPECTION_DIR_PREFIX))
  } catch (err) {
    if (!NO_PRIVATE_LINK.has((err as NodeJS.ErrnoException).code ?? '')) throw inspectionError(err, file)
    return inspect(file)
  }
  try {
    const link = path.join(dir, DB_FILE_NAME)
    try {
      fs.linkSync(file, link)
    } catch (err) {
      if (!NO_PRIVATE_LINK.has((err as NodeJS.ErrnoException).code ?? '')) throw inspectionError(err, file)
      return inspect(file)
    }
    return inspect(link)
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

/**
 * Why a private directory or hard link may be impossible while reading in place still works:
 * no hard links on this file system, no room or no write permission beside the database.
 * Any other failure (EIO, ...) is a real problem and is reported.
 */
const NO_PRIVATE_LINK = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'EXDEV', 'EMLINK', 'ENOSPC', 'EDQUOT', 'EACCES', 'EROFS'])

function inspectionError(err: unknown, file: string): StoreError {
  return new StoreError(`cannot prepare to inspect ${file}: ${(err as Error).message}`, { kind: 'io', code: 'EIO', path: file, cause: err })
}

function inspectReadOnly(file: string, check: 'quick' | 'full' | 'none'): void {
  withInspectionPath(file, (readPath) => inspectAt(file, readPath, check))
}

function inspectAt(file: string, readPath: string, check: 'quick' | 'full' | 'none'): void {
  let db: SqliteDatabase | undefined
  try {
    db = new Database(readPath, { readonly: true, fileMustExist: true })
    if (readAppMarker(db) !== APP_MARKER) {
      const tables = db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name").pluck().all() as string[]
      throw new StoreError(
        `${file} carries the meshfs application_id but no meshfs marker in a meta table ` +
          `(tables: ${tables.length === 0 ? 'none' : tables.join(', ')}); meshfs has not modified it`,
        { kind: 'foreign-database', code: 'EIO', path: file },
      )
    }
    const version = db.pragma('user_version', { simple: true }) as number
    if (version > SCHEMA_VERSION) {
      throw new StoreError(
        `${file} has schema version ${version}, written by a newer meshfs (this build knows up to ` +
          `${SCHEMA_VERSION}); upgrade meshfs. The file has not been modified`,
        { kind: 'newer-schema', code: 'EIO', path: file },
      )
    }
    if (check !== 'none') {
      const pragma = check === 'quick' ? 'quick_check(20)' : 'integrity_check(20)'
      const problems = (db.pragma(pragma) as Array<Record<string, string>>).map((row) => Object.values(row)[0]!)
      if (!(problems.length === 1 && problems[0] === 'ok')) {
        throw new StoreError(
          `${file} is corrupted (PRAGMA ${pragma.replace('(20)', '')}: ${problems.join('; ')}); ` +
            'meshfs has not modified it: restore it from a backup or a peer',
          { kind: 'corrupt-database', code: 'EIO', path: file },
        )
      }
    }
  } catch (err) {
    throw fromSqliteError(err, file, 'checking the database at start-up')
  } finally {
    db?.close()
  }
}

function readAppMarker(db: SqliteDatabase): unknown {
  try {
    return db.prepare("SELECT value FROM meta WHERE key = 'app'").pluck().get()
  } catch (err) {
    // No meta table, or one with other columns: SQLITE_ERROR. Corruption is not this case.
    if ((err as { code?: unknown }).code === 'SQLITE_ERROR') return undefined
    throw err
  }
}

/** Builds a new database under a temporary name, makes it durable, then renames it into place. */
function createDatabase(file: string): void {
  const temp = `${file}.creating`
  for (const leftover of [temp, `${temp}-journal`, `${temp}-wal`, `${temp}-shm`]) fs.rmSync(leftover, { force: true })
  try {
    const db = new Database(temp)
    try {
      db.pragma('synchronous = FULL')
      db.pragma(`application_id = ${APPLICATION_ID}`)
      migrate(db, temp)
      // WAL is a persistent property of the file; closing checkpoints and removes the -wal.
      db.pragma('journal_mode = WAL')
    } finally {
      db.close()
    }
    fsyncPath(temp)
    fs.renameSync(temp, file)
    fsyncPath(path.dirname(file))
  } catch (err) {
    throw fromSqliteError(asStoreIoError(err, file), file, 'creating the database')
  }
}

function asStoreIoError(err: unknown, file: string): unknown {
  const code = (err as NodeJS.ErrnoException).code
  if (code === 'ENOSPC') {
    return new StoreError(`disk full while creating ${file}`, { kind: 'disk-full', code: 'ENOSPC', path: file, cause: err })
  }
  if (typeof code === 'string' && !code.startsWith('SQLITE_') && code.startsWith('E')) {
    return new StoreError(`cannot create ${file}: ${(err as Error).message}`, { kind: 'io', code: 'EIO', path: file, cause: err })
  }
  return err
}

function fsyncPath(p: string): void {
  const fd = fs.openSync(p, 'r')
  try {
    fs.fsyncSync(fd)
  } finally {
    fs.closeSync(fd)
  }
}

function openReadWrite(file: string, busyTimeoutMs: number): SqliteDatabase {
  let db: SqliteDatabase | undefined
  try {
    db = new Database(file, { fileMustExist: true, timeout: busyTimeoutMs })
    db.pragma('journal_mode = WAL')
    // FULL, not WAL's usual NORMAL: NORMAL syncs the WAL only at checkpoints, so a committed
    // transaction can vanish in a power cut. meshfs acknowledges fsync/close only after the
    // commit, and promises that what was acknowledged survives a power cut, so every commit
    // must reach the disk before it returns.
    db.pragma('synchronous = FULL')
    // Checks each b-tree cell's size as it is read: malformed pages show up as SQLITE_CORRUPT
    // (an EIO StoreError) instead of being read as garbage.
    db.pragma('cell_size_check = ON')
    migrate(db, file)
    return db
  } catch (err) {
    db?.close()
    throw fromSqliteError(err, file, 'opening the database')
  }
}

function migrate(db: SqliteDatabase, file: string): void {
  db.transaction(() => {
    // Read inside the write transaction: another process may have migrated meanwhile.
    const current = db.pragma('user_version', { simple: true }) as number
    if (current > SCHEMA_VERSION) {
      throw new StoreError(`${file} has schema version ${current}, newer than this build's ${SCHEMA_VERSION}`, {
        kind: 'newer-schema',
        code: 'EIO',
        path: file,
      })
    }
    for (const migration of MIGRATIONS) {
      if (migration.version <= current) continue
      migration.up(db)
      db.pragma(`user_version = ${migration.version}`)
    }
  }).immediate()
}
