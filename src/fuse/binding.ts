// meshfs's FUSE binding: the C half is native/ (our fork of fuse-native 2.2.6, on libfuse 3,
// built to native/build/Release/fuse.node), and this is the JavaScript half of fuse-native,
// ported to the ops meshfs serves. Each FUSE request blocks one libfuse worker thread until its reply; the C
// side (native.ts loads it) hands it to this event loop, and the op's adapter (adapters.ts) sends
// the answer back exactly once, with every argument the C side reads.
// What the fork adds over the stock binding: utimens gets the real mtime (and `undefined` for a
// time to leave as is); an open/create reply may ask for direct_io, keep_cache, nonseekable; a
// read the kernel interrupts (its caller got a signal) is answered EINTR at once; and each op
// knows its caller (uid, gid, pid: `fuseContext`, as libfuse's `fuse_get_context()`).

import { promises as fsp } from 'node:fs'
import { constants as OS } from 'node:os'
import path from 'node:path'
import { isMounted, lazyUnmount } from '../util/mounts.js'
import { ADAPTERS, type OpName } from './adapters.js'
import { callerOf, type FuseCaller, native, type NativeHandle, type NativeHandler } from './native.js'

/** A negative errno, or 0, followed by the op's result. */
export type Reply = (err: number, ...result: unknown[]) => void
/** read/write/getxattr answer a byte count (or a negative errno) alone. */
export type CountReply = (n: number) => void

/** Per-open flags an open/create reply may ask the kernel for. */
export interface OpenReplyFlags {
  /** Bypass the page cache: every read(2)/write(2) reaches the op with its own offset and size. */
  directIo?: boolean
  /** Keep the page cache of earlier opens (the default drops it on every open). */
  keepCache?: boolean
  /** The file is a stream: lseek/pread/pwrite fail with ESPIPE. */
  nonseekable?: boolean
}
export type OpenReply = (err: number, fd?: number, flags?: OpenReplyFlags) => void

export type { FuseCaller } from './native.js'

let caller: FuseCaller | undefined

/**
 * The caller of the op being dispatched, as libfuse's `fuse_get_context()`: valid only in the
 * synchronous part of an op (read it before the first `await`), undefined outside any op.
 */
export function fuseContext(): FuseCaller | undefined {
  return caller
}

export interface FuseStat {
  mode: number
  uid: number
  gid: number
  size: number
  nlink: number
  blksize: number
  blocks: number
  atime: number
  mtime: number
  ctime: number
}

export interface FuseStatfs {
  bsize: number
  frsize: number
  blocks: number
  bfree: number
  bavail: number
  files: number
  ffree: number
  favail: number
  namemax: number
}

export interface FuseOps {
  getattr(path: string, cb: Reply): void
  readdir?(path: string, cb: Reply): void
  open?(path: string, flags: number, cb: OpenReply): void
  create?(path: string, mode: number, flags: number, cb: OpenReply): void
  read?(path: string, fd: number, buf: Buffer, len: number, pos: number, cb: CountReply): void
  write?(path: string, fd: number, buf: Buffer, len: number, pos: number, cb: CountReply): void
  flush?(path: string, fd: number, cb: Reply): void
  fsync?(path: string, datasync: number, fd: number, cb: Reply): void
  release?(path: string, fd: number, cb: Reply): void
  truncate?(path: string, size: number, cb: Reply): void
  ftruncate?(path: string, fd: number, size: number, cb: Reply): void
  mkdir?(path: string, mode: number, cb: Reply): void
  rmdir?(path: string, cb: Reply): void
  unlink?(path: string, cb: Reply): void
  rename?(src: string, dest: string, cb: Reply): void
  link?(src: string, dest: string, cb: Reply): void
  symlink?(target: string, path: string, cb: Reply): void
  readlink?(path: string, cb: Reply): void
  chmod?(path: string, mode: number, cb: Reply): void
  chown?(path: string, uid: number, gid: number, cb: Reply): void
  /** Times in ms since the epoch; `undefined` leaves that time as it is (UTIME_OMIT). */
  utimens?(path: string, atime: number | undefined, mtime: number | undefined, cb: Reply): void
  statfs?(path: string, cb: Reply): void
  getxattr?(path: string, name: string, cb: Reply): void
  listxattr?(path: string, cb: Reply): void
  setxattr?(path: string, name: string, value: Buffer, flags: number, cb: Reply): void
  removexattr?(path: string, name: string, cb: Reply): void
}

export interface FuseOptions {
  /** libfuse's `-o` options, each `name` or `name=value`. */
  options: string[]
  /**
   * Per-op timeout in ms; an op not answered by then is answered ETIMEDOUT. 0: none. Reads of a
   * direct_io open are exempt: they wait for data by design, and their caller can interrupt them.
   */
  timeoutMs: number
}

const ETIMEDOUT = -OS.errno.ETIMEDOUT
const EINTR = -OS.errno.EINTR
const EIO = -OS.errno.EIO

export class Fuse {
  readonly mnt: string
  private readonly thread: Buffer
  /** Each libfuse worker's state, allocated here and pointed into by the C side: kept for life. */
  private readonly workers = new Set<Buffer>()
  private onInit: ((err: Error | null) => void) | undefined
  /**
   * Reads in flight, by the handle of the worker that waits on each: how an interrupt finds what
   * to answer. Only reads: they change nothing, so one answered EINTR is simply forgotten, where
   * an interrupted open or write might still take effect after its caller was told it failed.
   */
  private readonly inflight = new Map<NativeHandle, (err: number) => void>()
  /** Handles (fh) opened with direct_io. */
  private readonly streams = new Set<number>()

  constructor(
    mnt: string,
    private readonly ops: FuseOps,
    private readonly opts: FuseOptions,
  ) {
    this.mnt = path.resolve(mnt)
    this.thread = Buffer.alloc(native().sizeof_fuse_thread_t)
  }

  /** Resolves once the kernel has initialised the connection (the first request, INIT). */
  async mount(): Promise<void> {
    const st = await fsp.stat(this.mnt).catch((err: NodeJS.ErrnoException) => {
      throw new Error(err.code === 'ENOENT' ? 'the mountpoint does not exist' : err.message)
    })
    if (!st.isDirectory()) throw new Error('the mountpoint is not a directory')
    const parent = await fsp.stat(path.join(this.mnt, '..'))
    if (parent.dev !== st.dev) throw new Error('something is already mounted there')

    const n = native()
    const handlers: NativeHandler[] = []
    const implemented = new Uint32Array(35)
    handlers[n.op_init] = (handle) => {
      this.onInit?.(null)
      this.onInit = undefined
      process.nextTick(n.fuse_native_signal_init, handle, 0)
    }
    implemented[n.op_init] = 1
    handlers[n.op_interrupt] = (handle) => this.inflight.get(handle)?.(EINTR)
    for (const name of Object.keys(ADAPTERS) as OpName[]) {
      if (!this.ops[name]) continue
      handlers[n[`op_${name}`]] = this.handler(name)
      implemented[n[`op_${name}`]] = 1
    }
    const opts = this.opts.options.length ? `-o${this.opts.options.join(',')}` : ''
    await new Promise<void>((resolve, reject) => {
      this.onInit = (err) => (err ? reject(err) : resolve())
      const malloc = (size: number) => {
        const buf = Buffer.alloc(size)
        this.workers.add(buf)
        return buf
      }
      try {
        n.fuse_native_mount(this.mnt, opts, this.thread, this, malloc, handlers, implemented)
      } catch (err) {
        this.onInit = undefined
        reject(err)
      }
    })
  }

  /**
   * Detach the mount with our `lazyUnmount` (fuse-native only knew `fusermount`, absent on a
   * fresh Debian); then the C side stops holding the event loop open. A mount someone else
   * already detached (`fusermount3 -uz`) counts as unmounted, so the daemon can still exit.
   */
  async unmount(): Promise<void> {
    try {
      await lazyUnmount(this.mnt)
    } catch (err) {
      if (await isMounted(this.mnt)) throw err
    }
    native().fuse_native_unmount(this.mnt, this.thread)
  }

  private handler(name: OpName): NativeHandler {
    const n = native()
    const signal = n[`fuse_native_signal_${name}`]
    const adapter = ADAPTERS[name]
    const timeoutMs = this.opts.timeoutMs
    return (handle, _opcode, ...args: any[]) => {
      let timer: NodeJS.Timeout | undefined
      let answered = false
      const send = (reply: unknown[]) => {
        if (answered) return
        answered = true
        clearTimeout(timer)
        this.inflight.delete(handle)
        if ((name === 'open' || name === 'create') && reply[0] === 0 && (reply[2] as number) & n.open_direct_io)
          this.streams.add(reply[1] as number)
        process.nextTick(signal, handle, ...reply)
      }
      if (name === 'read') this.inflight.set(handle, (err) => send(adapter.failed(err, args)))
      if (name === 'release') this.streams.delete(args[1])
      const stream = name === 'read' && this.streams.has(args[1])
      if (timeoutMs > 0 && !stream) timer = setTimeout(() => send(adapter.failed(ETIMEDOUT, args)), timeoutMs)
      try {
        caller = callerOf(handle)
        adapter.call(this.ops, args, send)
      } catch (err) {
        // The ops catch their own errors (fuse/ops.ts); this keeps a bug in an adapter from
        // hanging the kernel's request, and says so.
        process.emitWarning(
          `FUSE ${name}: the op threw instead of replying, answering EIO: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
        )
        send(adapter.failed(EIO, args))
      } finally {
        caller = undefined
      }
    }
  }
}
