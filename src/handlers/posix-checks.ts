// POSIX rules for rename/rmdir/unlink that a backing store may not enforce itself (memfs, for
// one, lets a directory replace a non-empty directory and loses it). Handlers that wrap such a
// store run these checks first; the `dir` handler does not need them, the host kernel enforces.

import { fsError } from '../vfs/errors.js'
import type { NodeKind } from '../vfs/handler.js'
import { isWithin, parentOf } from '../vfs/path.js'

export interface Probe {
  /** The kind at `path` without following a final symlink, or undefined when nothing is there. */
  kindOf(path: string): NodeKind | undefined
  isEmptyDir(path: string): boolean
}

/** Returns whether `to` exists and must be removed before the move (it is replaceable). */
export function checkRename(probe: Probe, from: string, to: string): boolean {
  const src = probe.kindOf(from)
  if (!src) throw fsError('ENOENT', `rename: ${from} does not exist`)
  const parent = probe.kindOf(parentOf(to))
  if (!parent) throw fsError('ENOENT', `rename: ${parentOf(to)} does not exist`)
  if (parent !== 'dir') throw fsError('ENOTDIR', `rename: ${parentOf(to)} is not a directory`)
  if (from === to) return false
  if (src === 'dir' && isWithin(to, from)) throw fsError('EINVAL', `rename: cannot move ${from} into itself (${to})`)
  const dst = probe.kindOf(to)
  if (!dst) return false
  if (src === 'dir') {
    if (dst !== 'dir') throw fsError('ENOTDIR', `rename: ${to} is not a directory`)
    if (!probe.isEmptyDir(to)) throw fsError('ENOTEMPTY', `rename: ${to} is not empty`)
  } else if (dst === 'dir') {
    throw fsError('EISDIR', `rename: ${to} is a directory`)
  }
  return true
}

export function checkRmdir(probe: Probe, path: string): void {
  const kind = probe.kindOf(path)
  if (!kind) throw fsError('ENOENT', `rmdir: ${path} does not exist`)
  if (kind !== 'dir') throw fsError('ENOTDIR', `rmdir: ${path} is not a directory`)
  if (path === '/') throw fsError('EBUSY', 'rmdir: the root of a handler cannot be removed')
  if (!probe.isEmptyDir(path)) throw fsError('ENOTEMPTY', `rmdir: ${path} is not empty`)
}

export function checkUnlink(probe: Probe, path: string): void {
  const kind = probe.kindOf(path)
  if (!kind) throw fsError('ENOENT', `unlink: ${path} does not exist`)
  if (kind === 'dir') throw fsError('EISDIR', `unlink: ${path} is a directory`)
}
