// The C half of the binding as JavaScript sees it: the addon native/ builds (loaded once, on
// first use), and the caller of an op as the C side stored it in that op's worker state.

import { createRequire } from 'node:module'
import { endianness } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

/** Each libfuse worker's state: a buffer this side allocated and the C side points into. */
export type NativeHandle = Buffer
export type NativeHandler = (handle: NativeHandle, opcode: number, ...args: never[]) => void
type Signal = (handle: NativeHandle, ...args: unknown[]) => void

export interface Native {
  sizeof_fuse_thread_t: number
  /** Where a worker's state holds its current caller: uid, gid, pid as native uint32s. */
  offsetof_fuse_thread_locals_t_caller: number
  open_direct_io: number
  open_keep_cache: number
  open_nonseekable: number
  fuse_native_mount(
    mnt: string,
    opts: string,
    thread: Buffer,
    ctx: object,
    malloc: (size: number) => Buffer,
    handlers: NativeHandler[],
    implemented: Uint32Array,
  ): void
  fuse_native_unmount(mnt: string, thread: Buffer): void
  [key: `op_${string}`]: number
  [key: `fuse_native_signal_${string}`]: Signal
}

/** From dist/src/fuse/ (or src/fuse/) up to the repository. */
const ADDON = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..', 'native/build/Release/fuse.node')

let loaded: Native | undefined
export function native(): Native {
  if (loaded) return loaded
  try {
    loaded = createRequire(import.meta.url)(ADDON) as Native
  } catch (err) {
    throw new Error(`cannot load the FUSE binding ${ADDON} (build it with \`npm run build:native\`): ${(err as Error).message}`)
  }
  return loaded
}

/** Who made a request: libfuse's `fuse_get_context()`. `pid` is the calling thread's id. */
export interface FuseCaller {
  uid: number
  gid: number
  pid: number
}

const readU32 = endianness() === 'LE' ? Buffer.prototype.readUInt32LE : Buffer.prototype.readUInt32BE

/** The caller the C side stored in a worker's state as it took the request. */
export function callerOf(handle: NativeHandle): FuseCaller {
  const at = native().offsetof_fuse_thread_locals_t_caller
  return { uid: readU32.call(handle, at), gid: readU32.call(handle, at + 4), pid: readU32.call(handle, at + 8) }
}
