// Control files under `MOUNT/.meshfs/` (Plan 9 / sysfs style): one value or one JSON document per
// file, a directory per namespace. They are local to this node and never replicate. What each
// file shows or does is given by the daemon (daemon/control-files.ts), as calls of the same
// control API the CLI and the client use; this handler only turns those into files:
//
// - `read` files are rendered when stat'ed or opened and the rendering is kept for a moment, so
//   `cat` (stat, then open, then read) sees one document whose size matches what it reads;
// - `write` files apply each line written (`echo TOKEN > .meshfs/join`), and the write(2) fails
//   with the action's errno, so the shell reports it;
// - `stream` files are event logs read with direct I/O: a read at the end waits for the next
//   event, so `cat` and `tail -f` follow them.

import { fsError, toFsError, type ErrnoCode } from '../vfs/errors.js'
import type { AttrChanges, Handler, OpenFile, OpenFlags, Stat } from '../vfs/handler.js'
import type { EventLog } from '../events/event-log.js'
import { snapshotFile } from './read-only-file.js'
import { splitPath } from '../vfs/path.js'

export type ControlNode =
  | { kind: 'dir'; entries(): Promise<Record<string, ControlNode>> | Record<string, ControlNode> }
  | { kind: 'read'; render(): Promise<unknown> | unknown }
  | { kind: 'write'; apply(line: string): Promise<void> }
  /** `log` peeks (for stat); `open` starts following it and returns how to stop. */
  | { kind: 'stream'; log(): EventLog; open(): () => void }

/** How long a rendering is reused by the next stat/open of the same file. */
const RENDER_TTL_MS = 1000
/** A line longer than this written into a control file is refused. */
const MAX_LINE = 64 * 1024

function toBytes(value: unknown): Buffer {
  if (Buffer.isBuffer(value)) return value
  if (typeof value === 'string') return Buffer.from(value.endsWith('\n') ? value : `${value}\n`)
  return Buffer.from(`${JSON.stringify(value, null, 2)}\n`)
}

export class ControlHandler implements Handler {
  readonly kind = 'control'
  private readonly createdMs = Date.now()
  private readonly rendered = new Map<string, { bytes: Buffer; atMs: number }>()

  constructor(private readonly root: ControlNode) {}

  async stat(path: string): Promise<Stat> {
    const node = await this.node(path)
    const t = this.createdMs
    const now = Date.now()
    switch (node.kind) {
      case 'dir':
        return { kind: 'dir', mode: 0o555, size: 0, atimeMs: t, mtimeMs: t, ctimeMs: t, nlink: 2 }
      case 'read':
        return {
          kind: 'file',
          mode: 0o444,
          size: (await this.render(path, node, false)).length,
          atimeMs: now,
          mtimeMs: now,
          ctimeMs: now,
          nlink: 1,
        }
      case 'write':
        return { kind: 'file', mode: 0o200, size: 0, atimeMs: t, mtimeMs: t, ctimeMs: t, nlink: 1 }
      case 'stream': {
        const log = node.log()
        return { kind: 'file', mode: 0o444, size: log.size, atimeMs: now, mtimeMs: log.modifiedMs, ctimeMs: log.modifiedMs, nlink: 1 }
      }
    }
  }

  async list(path: string): Promise<string[]> {
    const node = await this.node(path)
    if (node.kind !== 'dir') throw fsError('ENOTDIR', `.meshfs${path} is not a directory`)
    return Object.keys(await node.entries())
  }

  async open(path: string, flags: OpenFlags): Promise<OpenFile> {
    const node = await this.node(path)
    switch (node.kind) {
      case 'dir':
        throw fsError('EISDIR', `.meshfs${path} is a directory`)
      case 'read':
        if (flags.write) throw fsError('EACCES', `.meshfs${path} is read-only`)
        // Direct I/O: a stat between the open and the read (cat's fstat) renders anew, and a
        // shorter document then (a transfer ended) must not cut the reader's snapshot short.
        return { ...snapshotFile(await this.render(path, node, true)), directIo: true }
      case 'write':
        if (flags.read) throw fsError('EACCES', `.meshfs${path} is write-only: write a line into it`)
        return lineWriter(path, node.apply)
      case 'stream':
        if (flags.write) throw fsError('EACCES', `.meshfs${path} is read-only`)
        return streamReader(node.log(), node.open())
    }
  }

  /** `echo x > .meshfs/join` truncates before writing: allowed, and nothing to do. */
  async setattr(path: string, changes: AttrChanges): Promise<void> {
    const node = await this.node(path)
    if (node.kind === 'write' && changes.size === 0 && Object.keys(changes).every((k) => k === 'size' || k.endsWith('timeMs'))) return
    throw fsError('EPERM', `.meshfs${path}: control files cannot be changed that way`)
  }

  private async node(path: string): Promise<ControlNode> {
    let node = this.root
    for (const name of splitPath(path)) {
      if (node.kind !== 'dir') throw fsError('ENOTDIR', `.meshfs${path}: not a directory`)
      const entries = await node.entries()
      const next = Object.hasOwn(entries, name) ? entries[name] : undefined
      if (!next) throw fsError('ENOENT', `.meshfs has no ${path.slice(1)}`)
      node = next
    }
    return node
  }

  /** A rendering newer than RENDER_TTL_MS is reused; `take` hands it to an open (used once). */
  private async render(path: string, node: { render(): unknown }, take: boolean): Promise<Buffer> {
    const cached = this.rendered.get(path)
    if (cached && Date.now() - cached.atMs < RENDER_TTL_MS) {
      if (take) this.rendered.delete(path)
      return cached.bytes
    }
    let bytes: Buffer
    try {
      bytes = toBytes(await node.render())
    } catch (err) {
      throw controlFsError(err, `.meshfs${path}`)
    }
    if (!take) this.rendered.set(path, { bytes, atMs: Date.now() })
    return bytes
  }
}

/** Control API errors carry errno-like codes; unknown ones become EIO. */
function controlFsError(err: unknown, context: string): Error {
  const code = (err as { code?: unknown }).code
  if (code === 'EHOSTUNREACH' || code === 'ENOTCONN') return fsError(code as ErrnoCode, `${context}: ${(err as Error).message}`)
  return toFsError(err, context)
}

function lineWriter(path: string, apply: (line: string) => Promise<void>): OpenFile {
  let pending = ''
  const run = async (text: string) => {
    const line = text.trim()
    if (line === '') return
    try {
      await apply(line)
    } catch (err) {
      throw controlFsError(err, `.meshfs${path}`)
    }
  }
  return {
    async read() {
      throw fsError('EBADF', `.meshfs${path} is write-only`)
    },
    async write(data) {
      pending += data.toString('utf8')
      if (pending.length > MAX_LINE) {
        pending = ''
        throw fsError('E2BIG', `.meshfs${path}: a line is at most ${MAX_LINE} bytes`)
      }
      let nl: number
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl)
        pending = pending.slice(nl + 1)
        await run(line)
      }
      return data.length
    },
    async truncate() {},
    async flush() {
      const rest = pending
      pending = ''
      await run(rest)
    },
    async release() {},
  }
}

/**
 * A reader of an event log. With direct I/O the kernel passes the reader's own file offset; the
 * log is addressed by log offsets, which differ only after this reader was told it fell behind
 * (the marker line is this reader's alone), so each open keeps that difference.
 */
function streamReader(log: EventLog, close: () => void): OpenFile {
  let skew = 0
  let closed = false
  return {
    directIo: true,
    async read(position, length) {
      const pos = position + skew
      while (!closed && pos >= log.size) await log.waitBeyond(pos)
      if (closed) return Buffer.alloc(0)
      const { data, next } = log.read(pos, length)
      skew += next - pos - data.length
      return data
    },
    async release() {
      closed = true
      close()
    },
  }
}
