// A live FUSE mount of a Vfs on fuse-native, with the binding's pitfalls handled here:
// - options it does not know (big_writes, max_write, max_read) are appended to its single
//   `-o` string, so writes arrive in 128 KiB pieces instead of 4 KiB;
// - attr/entry timeouts of 0 must be strings, or fuse-native drops them as falsy (we want 0:
//   a host folder or a peer may change a file at any time, and the kernel must ask again);
// - every op has a timeout (15 s unless told), so it is set explicitly and configurable;
// - unmounting goes through our `lazyUnmount`, since fuse-native only knows `fusermount`.

import Fuse from 'fuse-native'
import path from 'node:path'
import type { Vfs } from '../vfs/vfs.js'
import type { Logger } from '../util/log.js'
import { HandleTable } from './handles.js'
import { buildOps } from './ops.js'
import { lazyUnmount } from './unmount.js'

/** Linux FUSE 2 caps one request at 32 pages: 128 KiB. */
const MAX_IO = 128 * 1024

Fuse.unmount = (mnt, cb) => {
  lazyUnmount(mnt).then(() => cb(null), (err: Error) => cb(err))
}

class MeshFuse extends Fuse {
  protected override _fuseOptions(): string {
    const base = super._fuseOptions()
    const extra = `big_writes,max_write=${MAX_IO},max_read=${MAX_IO}`
    return base ? `${base},${extra}` : `-o${extra}`
  }
}

export interface MountOptions {
  /** Per-op timeout in ms; 0 means an op may take as long as it needs. */
  opTimeoutMs: number
  allowOther?: boolean
  debug?: boolean
}

export class FuseMount {
  readonly mountpoint: string
  readonly handles = new HandleTable()
  private readonly fuse: MeshFuse

  constructor(mountpoint: string, vfs: Vfs, opts: MountOptions, log: Logger) {
    this.mountpoint = path.resolve(mountpoint)
    this.fuse = new MeshFuse(this.mountpoint, buildOps(vfs, this.handles, log), {
      timeout: opts.opTimeoutMs > 0 ? opts.opTimeoutMs : false,
      attrTimeout: '0',
      entryTimeout: '0',
      defaultPermissions: true,
      allowOther: opts.allowOther ?? false,
      fsname: 'meshfs',
      subtype: 'meshfs',
      debug: opts.debug ?? false,
    })
  }

  mount(): Promise<void> {
    return new Promise((resolve, reject) =>
      this.fuse.mount((err) => (err ? reject(new Error(`mount ${this.mountpoint}: ${err.message}`)) : resolve())),
    )
  }

  /** Detach the mount; open files are released by the kernel as their holders close them. */
  unmount(): Promise<void> {
    return new Promise((resolve, reject) =>
      this.fuse.unmount((err) => (err ? reject(new Error(`unmount ${this.mountpoint}: ${err.message}`)) : resolve())),
    )
  }
}
