// The one place where exceptions become errnos (go-fuse's ToErrno). An FsError keeps its errno
// and is logged with its reason; anything else is a bug in a handler: logged with its stack and
// answered EIO, so the mount stays up.

import { constants } from 'node:os'
import { isFsError, type ErrnoCode } from '../vfs/errors.js'
import type { Logger } from '../util/log.js'

const ERRNO = constants.errno as Record<string, number>

/**
 * Expected on every lookup of a missing name, and on every `ls -l` asking for ACLs and SELinux
 * labels: not worth a line at info level.
 */
const ROUTINE = new Set<ErrnoCode>(['ENOENT', 'ENODATA', 'ENOTSUP'])

export function errnoOf(code: ErrnoCode): number {
  return -(ERRNO[code] ?? ERRNO.EIO!)
}

export function toErrno(err: unknown, op: string, path: string, log: Logger): number {
  if (isFsError(err)) {
    if (ROUTINE.has(err.code)) log.debug(`${op} ${path}: ${err.message}`)
    else log.info(`${op} ${path}: ${err.message}`)
    return errnoOf(err.code)
  }
  const detail = err instanceof Error ? (err.stack ?? err.message) : String(err)
  log.error(`${op} ${path}: handler failed, answering EIO: ${detail}`)
  return errnoOf('EIO')
}
