// meshfs's FUSE binding: the C half is native/ (our fork of fuse-native 2.2.6, built to
// native/build/Release/fuse.node), and this is the JavaScript half of fuse-native, ported to the
// ops meshfs serves. Each FUSE request blocks one libfuse worker thread until its reply; the C
// side hands it to this event loop, and `reply` below sends the answer back exactly once, with
// every argument the C side reads (a missing one would leave that worker waiting forever).
// What the fork adds over the stock binding: utimens gets the real mtime (and `undefined` for a
// time to leave as is); an open/create reply may ask for direct_io, keep_cache, nonseekable; and
// a read the kernel interrupts (its caller got a signal) is answered EINTR at once.

import { promises as fsp } from 'node:fs'
import { createRequire } from 'node:module'
import { constants as OS } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { isMounted, lazyUnmount } from '../util/mounts.js'

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

type OpName = keyof FuseOps
type NativeHandle = Buffer
type NativeHandler = (handle: NativeHandle, opcode: number, ...args: never[]) => void
type Signal = (handle: NativeHandle, ...args: unknown[]) => void

interface Native {
  sizeof_fuse_thread_t: number
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
function native(): Native {
  if (loaded) return loaded
  try {
    loaded = createRequire(import.meta.url)(ADDON) as Native
  } catch (err) {
    throw new Error(`cannot load the FUSE binding ${ADDON} (build it with \`npm run build:native\`): ${(err as Error).message}`)
  }
  return loaded
}

const ETIMEDOUT = -OS.errno.ETIMEDOUT
const EINTR = -OS.errno.EINTR
const EIO = -OS.errno.EIO
const ERANGE = -OS.errno.ERANGE
const ENODATA = -OS.errno.ENODATA

const EMPTY_STAT = statArray()
const EMPTY_STATFS = statfsArray()

/** 64-bit numbers cross the binding as two uint32 halves. */
const u64 = (low: number, high: number): number => low + high * 0x100000000

function setU64(ints: Uint32Array, at: number, n: number): void {
  ints[at] = n % 0x100000000
  ints[at + 1] = (n - ints[at]!) / 0x100000000
}

function statArray(st?: FuseStat): Uint32Array {
  const ints = new Uint32Array(18)
  if (!st) return ints
  ints[0] = st.mode
  ints[1] = st.uid
  ints[2] = st.gid
  setU64(ints, 3, st.size)
  ints[6] = st.nlink
  ints[9] = st.blksize
  setU64(ints, 10, st.blocks)
  setU64(ints, 12, st.atime)
  setU64(ints, 14, st.mtime)
  setU64(ints, 16, st.ctime)
  return ints
}

function statfsArray(s?: FuseStatfs): Uint32Array {
  const ints = new Uint32Array(11)
  if (!s) return ints
  ints.set([s.bsize, s.frsize, s.blocks, s.bfree, s.bavail, s.files, s.ffree, s.favail, 0, 0, s.namemax])
  return ints
}

function openFlagBits(flags: OpenReplyFlags | undefined): number {
  const n = native()
  return (
    (flags?.directIo ? n.open_direct_io : 0) | (flags?.keepCache ? n.open_keep_cache : 0) | (flags?.nonseekable ? n.open_nonseekable : 0)
  )
}

/**
 * How each op meets the C side: `call` runs the op on the arguments the C side passed and sends
 * the complete signal arguments; `failed` is the complete reply for an errno (a timeout, or an
 * op that threw). Buffers that point into libfuse's memory are detached by the C side as it
 * takes the reply, so they go back in the reply.
 */
interface Adapter {
  call(ops: FuseOps, args: any[], send: (reply: unknown[]) => void): void
  failed(err: number, args: any[]): unknown[]
}

const plain = (call: (ops: FuseOps, args: any[], done: Reply) => void): Adapter => ({
  call: (ops, args, send) => call(ops, args, (err) => send([err])),
  failed: (err) => [err],
})

const ADAPTERS: { [K in OpName]-?: Adapter } = {
  getattr: {
    call: (ops, [p], send) => ops.getattr(p, (err, st) => send(err ? [err, EMPTY_STAT] : [0, statArray(st as FuseStat)])),
    failed: (err) => [err, EMPTY_STAT],
  },
  readdir: {
    call: (ops, [p], send) => ops.readdir!(p, (err, names) => send(err ? [err, [], []] : [0, names, []])),
    failed: (err) => [err, [], []],
  },
  open: {
    call: (ops, [p, flags], send) => ops.open!(p, flags, (err, fd, f) => send([err, err ? 0 : (fd ?? 0), err ? 0 : openFlagBits(f)])),
    failed: (err) => [err, 0, 0],
  },
  create: {
    call: (ops, [p, mode, flags], send) =>
      ops.create!(p, mode, flags, (err, fd, f) => send([err, err ? 0 : (fd ?? 0), err ? 0 : openFlagBits(f)])),
    failed: (err) => [err, 0, 0],
  },
  read: {
    call: (ops, [p, fd, buf, len, lo, hi], send) => ops.read!(p, fd, buf, len, u64(lo, hi), (n) => send([n, 0, buf.buffer])),
    failed: (err, [, , buf]) => [err, 0, buf.buffer],
  },
  write: {
    call: (ops, [p, fd, buf, len, lo, hi], send) => ops.write!(p, fd, buf, len, u64(lo, hi), (n) => send([n, 0, buf.buffer])),
    failed: (err, [, , buf]) => [err, 0, buf.buffer],
  },
  flush: plain((ops, [p, fd], done) => ops.flush!(p, fd, done)),
  fsync: plain((ops, [p, datasync, fd], done) => ops.fsync!(p, datasync, fd, done)),
  release: plain((ops, [p, fd], done) => ops.release!(p, fd, done)),
  truncate: plain((ops, [p, lo, hi], done) => ops.truncate!(p, u64(lo, hi), done)),
  ftruncate: plain((ops, [p, fd, lo, hi], done) => ops.ftruncate!(p, fd, u64(lo, hi), done)),
  mkdir: plain((ops, [p, mode], done) => ops.mkdir!(p, mode, done)),
  rmdir: plain((ops, [p], done) => ops.rmdir!(p, done)),
  unlink: plain((ops, [p], done) => ops.unlink!(p, done)),
  rename: plain((ops, [src, dest], done) => ops.rename!(src, dest, done)),
  link: plain((ops, [src, dest], done) => ops.link!(src, dest, done)),
  symlink: plain((ops, [target, p], done) => ops.symlink!(target, p, done)),
  readlink: {
    call: (ops, [p], send) => ops.readlink!(p, (err, target) => send(err ? [err, ''] : [0, target])),
    failed: (err) => [err, ''],
  },
  chmod: plain((ops, [p, mode], done) => ops.chmod!(p, mode, done)),
  chown: plain((ops, [p, uid, gid], done) => ops.chown!(p, uid, gid, done)),
  utimens: plain((ops, [p, atime, mtime], done) => ops.utimens!(p, atime, mtime, done)),
  statfs: {
    call: (ops, [p], send) => ops.statfs!(p, (err, s) => send(err ? [err, EMPTY_STATFS] : [0, statfsArray(s as FuseStatfs)])),
    failed: (err) => [err, EMPTY_STATFS],
  },
  // A zero-sized buffer asks for the size only; a buffer too small is ERANGE, as in getxattr(2).
  getxattr: {
    call: (ops, [p, name, buf], send) =>
      ops.getxattr!(p, name, (err, value) => {
        if (err) return send([err, buf.buffer])
        if (!value) return send([ENODATA, buf.buffer])
        const v = value as Buffer
        if (buf.length > 0 && v.length > buf.length) return send([ERANGE, buf.buffer])
        v.copy(buf)
        send([v.length, buf.buffer])
      }),
    failed: (err, [, , buf]) => [err, buf.buffer],
  },
  listxattr: {
    call: (ops, [p, buf], send) =>
      ops.listxattr!(p, (err, names) => {
        if (err) return send([err, buf.buffer])
        const list = Buffer.concat((names as string[]).map((n) => Buffer.from(`${n}\0`)))
        if (buf.length > 0 && list.length > buf.length) return send([ERANGE, buf.buffer])
        list.copy(buf)
        send([list.length, buf.buffer])
      }),
    failed: (err, [, buf]) => [err, buf.buffer],
  },
  setxattr: {
    call: (ops, [p, name, value, , flags], send) => ops.setxattr!(p, name, value, flags, (err) => send([err, value.buffer])),
    failed: (err, [, , value]) => [err, value.buffer],
  },
  removexattr: plain((ops, [p, name], done) => ops.removexattr!(p, name, done)),
}

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
        adapter.call(this.ops, args, send)
      } catch (err) {
        // The ops catch their own errors (fuse/ops.ts); this keeps a bug in an adapter from
        // hanging the kernel's request, and says so.
        process.emitWarning(
          `FUSE ${name}: the op threw instead of replying, answering EIO: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
        )
        send(adapter.failed(EIO, args))
      }
    }
  }
}
