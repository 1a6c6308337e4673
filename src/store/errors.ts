/**
 * The one error type of the store. `code` is the errno the FUSE boundary should answer with;
 * `kind` says what went wrong, for logs and for callers that react to a particular failure.
 */

/** Errno names the FUSE layer can map one to one. */
export type StoreErrno = 'EIO' | 'ENOSPC' | 'EINVAL' | 'EBUSY' | 'EROFS'

export type StoreErrorKind =
  /** the file is not a SQLite database at all */
  | 'not-a-database'
  /** a SQLite database, but not one of meshfs (another application's file) */
  | 'foreign-database'
  /** a meshfs database written by a newer meshfs: we must not guess its format */
  | 'newer-schema'
  /** SQLite's own consistency check failed, or SQLite reported corruption */
  | 'corrupt-database'
  /** one stored record failed its checksum, or a Yjs update in it does not decode */
  | 'corrupt-record'
  /** a blob whose bytes no longer hash to its name */
  | 'blob-mismatch'
  | 'disk-full'
  | 'io'
  /** another connection holds the lock longer than the busy timeout */
  | 'busy'
  | 'read-only'
  /** the caller passed something the store cannot accept (bad key, bad update, bad hash) */
  | 'invalid-argument'
  /** the store was used after close() */
  | 'closed'

export interface StoreErrorOptions {
  kind: StoreErrorKind
  code: StoreErrno
  /** the database file concerned, when there is one */
  path?: string
  /** the storage key of the record concerned, when there is one */
  key?: readonly string[]
  cause?: unknown
}

export class StoreError extends Error {
  override readonly name = 'StoreError'
  readonly code: StoreErrno
  readonly kind: StoreErrorKind
  readonly path: string | undefined
  readonly key: readonly string[] | undefined

  constructor(message: string, options: StoreErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.code = options.code
    this.kind = options.kind
    this.path = options.path
    this.key = options.key
  }
}

/** better-sqlite3 throws `SqliteError` with an extended result code name in `code`. */
function sqliteCode(err: unknown): string | undefined {
  if (err instanceof Error && typeof (err as { code?: unknown }).code === 'string') {
    const code = (err as unknown as { code: string }).code
    return code.startsWith('SQLITE_') ? code : undefined
  }
  return undefined
}

/**
 * Turns an error thrown by better-sqlite3 into a StoreError that says which file and which
 * operation failed. StoreErrors pass through unchanged; anything that is not a SQLite error is
 * returned as is (a bug in our code should keep its own stack and type).
 */
export function fromSqliteError(err: unknown, path: string, doing: string): unknown {
  if (err instanceof StoreError) return err
  const code = sqliteCode(err)
  if (code === undefined) return err
  const detail = `${(err as Error).message} (${code})`
  const at = `${doing} in ${path}`
  if (code === 'SQLITE_FULL') {
    return new StoreError(`disk full while ${at}: ${detail}`, { kind: 'disk-full', code: 'ENOSPC', path, cause: err })
  }
  if (code.startsWith('SQLITE_IOERR')) {
    return new StoreError(`I/O error while ${at}: ${detail}`, { kind: 'io', code: 'EIO', path, cause: err })
  }
  if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB') {
    return new StoreError(`database corrupted, found while ${at}: ${detail}`, {
      kind: 'corrupt-database',
      code: 'EIO',
      path,
      cause: err,
    })
  }
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new StoreError(`database busy (locked by another connection) while ${at}: ${detail}`, {
      kind: 'busy',
      code: 'EBUSY',
      path,
      cause: err,
    })
  }
  if (code.startsWith('SQLITE_READONLY')) {
    return new StoreError(`database is read-only while ${at}: ${detail}`, { kind: 'read-only', code: 'EROFS', path, cause: err })
  }
  if (code.startsWith('SQLITE_CANTOPEN') || code.startsWith('SQLITE_PERM') || code === 'SQLITE_AUTH') {
    return new StoreError(`cannot open or access the database while ${at}: ${detail}`, { kind: 'io', code: 'EIO', path, cause: err })
  }
  // Anything else (SQLITE_ERROR, SQLITE_CONSTRAINT, SQLITE_MISUSE, ...) is a bug or an
  // unexpected state, still reported with its file and operation, as EIO.
  return new StoreError(`SQLite error while ${at}: ${detail}`, { kind: 'io', code: 'EIO', path, cause: err })
}
