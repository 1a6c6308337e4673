// How each op meets the C side: the arguments it passes, and the complete reply it reads back
// (every argument: a missing one would leave that worker waiting forever).

import { constants as OS } from 'node:os'
import type { FuseOps, FuseStat, FuseStatfs, OpenReplyFlags, Reply } from './binding.js'
import { native } from './native.js'

export type OpName = keyof FuseOps

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
export interface Adapter {
  call(ops: FuseOps, args: any[], send: (reply: unknown[]) => void): void
  failed(err: number, args: any[]): unknown[]
}

const plain = (call: (ops: FuseOps, args: any[], done: Reply) => void): Adapter => ({
  call: (ops, args, send) => call(ops, args, (err) => send([err])),
  failed: (err) => [err],
})

export const ADAPTERS: { [K in OpName]-?: Adapter } = {
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
