// Fan's TimeNamespace example as a read-only handler: `cat /time/now`, `cat /time/year`.
// Each file's content is computed when it is opened; nothing here can be written (EROFS).

import { fsError } from '../vfs/errors.js'
import type { Handler, OpenFile, OpenFlags, Stat } from '../vfs/handler.js'
import { snapshotFile } from './read-only-file.js'

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec']
const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat']

/** The fields of "now", in UTC so that every node agrees. */
const FIELDS: Record<string, (d: Date) => string> = {
  now: (d) => d.toISOString(),
  year: (d) => String(d.getUTCFullYear()),
  month: (d) => MONTHS[d.getUTCMonth()]!,
  day: (d) => String(d.getUTCDate()),
  weekday: (d) => WEEKDAYS[d.getUTCDay()]!,
  hour: (d) => String(d.getUTCHours()),
  minute: (d) => String(d.getUTCMinutes()),
  second: (d) => String(d.getUTCSeconds()),
  epoch: (d) => String(d.getTime()),
}

export class TimeHandler implements Handler {
  readonly kind = 'time'
  private readonly mountedMs = Date.now()

  constructor(private readonly clock: () => Date = () => new Date()) {}

  async stat(path: string): Promise<Stat> {
    const t = this.mountedMs
    if (path === '/') return { kind: 'dir', mode: 0o555, size: 0, atimeMs: t, mtimeMs: t, ctimeMs: t, nlink: 2 }
    const now = this.clock()
    const content = this.content(path, now)
    const ms = now.getTime()
    return { kind: 'file', mode: 0o444, size: content.length, atimeMs: ms, mtimeMs: ms, ctimeMs: ms, nlink: 1 }
  }

  async list(path: string): Promise<string[]> {
    if (path !== '/') throw fsError('ENOTDIR', `time: ${path} is not a directory`)
    return Object.keys(FIELDS)
  }

  async open(path: string, flags: OpenFlags): Promise<OpenFile> {
    if (flags.write) throw fsError('EROFS', `time: ${path} is read-only`)
    if (path === '/') throw fsError('EISDIR', 'time: / is a directory')
    return snapshotFile(this.content(path, this.clock()))
  }

  private content(path: string, now: Date): Buffer {
    const name = path.slice(1)
    const field = Object.hasOwn(FIELDS, name) ? FIELDS[name] : undefined
    if (!field) throw fsError('ENOENT', `time: no field ${name} (there are ${Object.keys(FIELDS).join(', ')})`)
    return Buffer.from(`${field(now)}\n`)
  }
}
