// One error convention for the whole tree: a handler fails by throwing an FsError that names a
// POSIX errno code and says why. The FUSE adapter turns it into a negative errno in one place
// (fuse/errno.ts); anything else thrown is a bug and becomes EIO there, with a log line.

export const ERRNO_CODES = [
  'EPERM',
  'ENOENT',
  'EIO',
  'EBADF',
  'EACCES',
  'EBUSY',
  'EEXIST',
  'EXDEV',
  'ENOTDIR',
  'EISDIR',
  'EINVAL',
  'EFBIG',
  'ENOSPC',
  'EROFS',
  'ENAMETOOLONG',
  'ENOSYS',
  'ENOTEMPTY',
  'ELOOP',
  'ENODATA',
  'ENOTSUP',
  'ERANGE',
  'ETIMEDOUT',
  'E2BIG',
  'EHOSTUNREACH',
  'ENOTCONN',
] as const

export type ErrnoCode = (typeof ERRNO_CODES)[number]

export class FsError extends Error {
  readonly code: ErrnoCode

  constructor(code: ErrnoCode, message: string) {
    super(`${code}: ${message}`)
    this.name = 'FsError'
    this.code = code
  }
}

export function fsError(code: ErrnoCode, message: string): FsError {
  return new FsError(code, message)
}

export function isFsError(err: unknown): err is FsError {
  return err instanceof FsError
}

const KNOWN = new Set<string>(ERRNO_CODES)

/**
 * Node's own fs errors (from the `dir` handler's host folder, or memfs) carry a string `code`;
 * keep that errno when it is one we know, so a host EACCES stays EACCES on the mount.
 */
export function toFsError(err: unknown, context: string): FsError {
  if (err instanceof FsError) return err
  const code = (err as { code?: unknown } | null)?.code
  const message = err instanceof Error ? err.message : String(err)
  if (typeof code === 'string') {
    if (code === 'EOPNOTSUPP') return new FsError('ENOTSUP', `${context}: ${message}`)
    if (KNOWN.has(code)) return new FsError(code as ErrnoCode, `${context}: ${message}`)
  }
  return new FsError('EIO', `${context}: ${message}`)
}
