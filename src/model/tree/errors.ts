/**
 * The one error type of the tree layer. Codes are POSIX errno names so the FUSE adapter can
 * map them one-to-one; the adapter, not this layer, turns them into numbers.
 */
export type TreeErrorCode = 'ENOENT' | 'EEXIST' | 'EINVAL' | 'ENOTEMPTY' | 'ENOTDIR' | 'ENAMETOOLONG'

export class TreeError extends Error {
  readonly code: TreeErrorCode

  constructor(code: TreeErrorCode, message: string) {
    super(`${code}: ${message}`)
    this.name = 'TreeError'
    this.code = code
  }
}

export function isTreeError(e: unknown, code?: TreeErrorCode): e is TreeError {
  return e instanceof TreeError && (code === undefined || e.code === code)
}
