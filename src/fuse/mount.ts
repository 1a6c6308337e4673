// A live FUSE mount of a Vfs on meshfs's own binding (binding.ts, native/, on libfuse 3), with
// the pitfalls of the stock fuse-native binding it came from still handled here, explicitly:
// - max_write is in the `-o` options, so writes arrive in pieces of up to 1 MiB (libfuse 3 asks
//   the kernel for that many pages per request) instead of 4 KiB; reads have no max_read, so
//   the same page count bounds them;
// - atomic_o_trunc (a capability the binding asks for in init): a truncating open stays inside
//   that open until it is published;
// - attr/entry timeouts are 0 (a host folder or a peer may change a file at any time, and the
//   kernel must ask again);
// - every op has a timeout (the binding would otherwise wait forever), set explicitly and
//   configurable; only reads of a direct_io open (a stream) wait as long as it takes, and their
//   caller can interrupt them;
// - unmounting goes through our `lazyUnmount`, since fuse-native only knew `fusermount`.

import path from 'node:path'
import type { Vfs } from '../vfs/vfs.js'
import type { Logger } from '../util/log.js'
import { Fuse } from './binding.js'
import { HandleTable } from './handles.js'
import { buildOps } from './ops.js'

/**
 * The largest read or write request: libfuse 3 negotiates max_pages with the kernel (Linux 4.20+;
 * 256 pages, 1 MiB, is libfuse's own buffer), where libfuse 2.9 had the kernel's 32 pages.
 */
const MAX_IO = 1024 * 1024

export interface MountOptions {
  /** Per-op timeout in ms; 0 means an op may take as long as it needs. */
  opTimeoutMs: number
  allowOther?: boolean
  debug?: boolean
}

export class FuseMount {
  readonly mountpoint: string
  readonly handles = new HandleTable()
  private readonly fuse: Fuse

  constructor(mountpoint: string, vfs: Vfs, opts: MountOptions, log: Logger) {
    this.mountpoint = path.resolve(mountpoint)
    const options = [
      'fsname=meshfs',
      'subtype=meshfs',
      'default_permissions',
      // The binding's init sets these too (and asks for atomic_o_trunc: open(O_TRUNC) arrives as
      // one open with O_TRUNC, truncating that open's working copy only; without it the kernel
      // sends a truncate by path before the open, a change of its own that peers saw as an empty
      // file before the writer wrote). libfuse 3 refuses big_writes: it is always on.
      'attr_timeout=0',
      'entry_timeout=0',
      `max_write=${MAX_IO}`,
      ...(opts.allowOther ? ['allow_other'] : []),
      ...(opts.debug ? ['debug'] : []),
    ]
    this.fuse = new Fuse(this.mountpoint, buildOps(vfs, this.handles, log), { options, timeoutMs: Math.max(0, opts.opTimeoutMs) })
  }

  async mount(): Promise<void> {
    await this.fuse.mount().catch((err: Error) => {
      throw new Error(`mount ${this.mountpoint}: ${err.message}`)
    })
  }

  /** Detach the mount; open files are released by the kernel as their holders close them. */
  async unmount(): Promise<void> {
    await this.fuse.unmount().catch((err: Error) => {
      throw new Error(`unmount ${this.mountpoint}: ${err.message}`)
    })
  }
}
