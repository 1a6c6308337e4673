// The merge base of each writer: the text a process was served when it last opened a resource for
// reading. A save that rewrites the whole file (O_TRUNC, an editor's new file of the old name, a
// temp file renamed over it) is that writer's edit of what *it* read, so it is diffed against this
// and replayed onto the current text: a peer's edit that arrived meanwhile stays, whoever else
// read the file on this node in between (a `cat`, or the editor's own check).
//
// Entries are keyed by process (thread group id and start time, from /proc, so a thread that
// writes finds what another thread of its process read, and a recycled pid never finds a dead
// process's base) and resource. Bounded: at most MAX_ENTRIES entries and MAX_CHARS characters of
// text, least recently used first out; when full, entries of processes that have exited go
// first. A caller /proc cannot name (pid 0 from another pid namespace) has no base: its save is
// a blind overwrite of the version current at its open.

import { readFileSync } from 'node:fs'

const MAX_ENTRIES = 1024
/** Texts are shared with the content they were read from, but may outlive it: bound them. */
const MAX_CHARS = 64 << 20

/** A process as /proc names it: `tgid@starttime`, or undefined when it cannot be named. */
export type ProcessOf = (pid: number) => string | undefined

export class ReadBases {
  /** By `process/resource`, least recently used first. */
  private readonly entries = new Map<string, { process: string; text: string }>()
  private chars = 0

  constructor(
    private readonly processOf: ProcessOf = processFromProc,
    private readonly isAlive: (process: string) => boolean = aliveInProc,
    private readonly maxEntries = MAX_ENTRIES,
    private readonly maxChars = MAX_CHARS,
  ) {}

  get size(): number {
    return this.entries.size
  }

  /** Process `pid` was served `text` as resource `id`. */
  remember(pid: number | undefined, id: string, text: string): void {
    const process = pid === undefined ? undefined : this.processOf(pid)
    if (process === undefined) return
    const key = `${process}/${id}`
    this.drop(key)
    this.entries.set(key, { process, text })
    this.chars += text.length
    if (this.entries.size > this.maxEntries || this.chars > this.maxChars) this.evict()
  }

  /** The text process `pid` last read of resource `id`, if it read it (and is the same process). */
  baseOf(pid: number | undefined, id: string): string | undefined {
    const process = pid === undefined ? undefined : this.processOf(pid)
    if (process === undefined) return undefined
    const key = `${process}/${id}`
    const entry = this.entries.get(key)
    if (!entry) return undefined
    this.entries.delete(key)
    this.entries.set(key, entry)
    return entry.text
  }

  private drop(key: string): void {
    const entry = this.entries.get(key)
    if (!entry) return
    this.entries.delete(key)
    this.chars -= entry.text.length
  }

  private evict(): void {
    const full = () => this.entries.size > this.maxEntries || this.chars > this.maxChars
    const alive = new Map<string, boolean>()
    for (const [key, { process }] of this.entries) {
      if (!full()) return
      let live = alive.get(process)
      if (live === undefined) alive.set(process, (live = this.isAlive(process)))
      if (!live) this.drop(key)
    }
    for (const key of this.entries.keys()) {
      if (!full()) return
      this.drop(key)
    }
  }
}

/** FUSE names the calling thread; its process is the thread group, told apart by start time. */
export function processFromProc(pid: number): string | undefined {
  if (!Number.isInteger(pid) || pid <= 0) return undefined
  try {
    const tgid = /^Tgid:\s*(\d+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]
    if (tgid === undefined) return undefined
    const start = startTimeOf(tgid)
    return start === undefined ? undefined : `${tgid}@${start}`
  } catch {
    return undefined
  }
}

function aliveInProc(process: string): boolean {
  const [tgid, start] = process.split('@')
  try {
    return startTimeOf(tgid!) === start
  } catch {
    return false
  }
}

/** Field 22 of /proc/PID/stat; the command name (field 2) may hold spaces and parentheses. */
function startTimeOf(pid: string): string | undefined {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]
}
