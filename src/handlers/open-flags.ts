import { constants as C } from 'node:fs'
import type { OpenFlags } from '../vfs/handler.js'

/** The numeric open(2) flags for a host or memfs open of `flags` (O_CREAT/O_TRUNC are the caller's). */
export function nodeFlags(flags: OpenFlags): number {
  const access = flags.read && flags.write ? C.O_RDWR : flags.write ? C.O_WRONLY : C.O_RDONLY
  return access | (flags.append ? C.O_APPEND : 0)
}
