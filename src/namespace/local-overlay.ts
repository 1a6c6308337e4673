// Editor junk stays on this node (DESIGN.md): a path with an ignored name on it (`.*.swp`, `*~`,
// `4913`, ...) is served from the namespace's local area, a host folder at the same paths, and
// every other path from the replicated tree. Listings show both. A rename across the boundary is
// how editors save, so it moves content, not just a name: a tracked file renamed to an ignored
// name leaves its bytes here and waits to be revived (see revival.ts); an ignored file renamed
// to a tracked name joins the namespace.

import type { ContentReader } from '../model/content.js'
import { CHUNK } from '../model/content.js'
import { fsError, isFsError } from '../vfs/errors.js'
import type { AttrChanges, Caller, Handler, OpenFile, OpenFlags, Stat, XattrSetMode } from '../vfs/handler.js'
import { splitPath } from '../vfs/path.js'
import type { IgnoreList } from './ignore.js'
import type { LocalArea } from './local-area.js'

/** The bytes of a local file that joins the namespace. */
export interface LocalSource {
  mode: number
  size: number
  read(position: number, length: number): Promise<Buffer>
}

type Verbs =
  | 'create'
  | 'mkdir'
  | 'unlink'
  | 'rmdir'
  | 'rename'
  | 'setattr'
  | 'symlink'
  | 'readlink'
  | 'getxattr'
  | 'listxattr'
  | 'setxattr'
  | 'removexattr'
  | 'close'

/** What the overlay needs of the replicated namespace it covers: every verb, and these. */
export interface TrackedNamespace extends Omit<Handler, Verbs>, Required<Pick<Handler, Verbs>> {
  /** The ignore list in force (it may change with the namespace). */
  ignoreList(): IgnoreList
  /** Throws ENOENT unless `segments` name a group of the namespace that is shown. */
  requireGroup(segments: string[]): void
  /** A local file renamed to the tracked path `to` by `caller`: its bytes and mode become that resource. */
  adopt(to: string, source: LocalSource, caller?: Caller): Promise<void>
  /** A tracked file renamed to an ignored name: `keep` stores its bytes locally, then it hides. */
  detach(from: string, keep: (mode: number, content: ContentReader) => Promise<void>): Promise<void>
}

const READ = { read: true, write: false, append: false, truncate: false }
const READ_WRITE = { read: true, write: true, append: false, truncate: false }

export class LocalOverlay<T extends TrackedNamespace> implements Handler {
  /** Without a local area (unit tests) every path is tracked. */
  constructor(
    readonly tracked: T,
    private readonly local?: LocalArea,
  ) {}

  get kind(): string {
    return this.tracked.kind
  }

  get source(): string | undefined {
    return this.tracked.source
  }

  async stat(path: string): Promise<Stat> {
    return this.route(path).stat(path)
  }

  async list(path: string): Promise<string[]> {
    const local = this.localFor(path)
    if (local) return local.list(path)
    const names = await this.tracked.list(path)
    if (!this.local) return names
    const ignore = this.tracked.ignoreList()
    const taken = new Set(names)
    const junk = (await this.local.names(path)).filter((n) => ignore.matches(n) && !taken.has(n))
    return names.concat(junk)
  }

  async open(path: string, flags: OpenFlags): Promise<OpenFile> {
    return this.route(path).open(path, flags)
  }

  async create(path: string, mode: number, flags: OpenFlags): Promise<OpenFile> {
    return this.route(path, true).create(path, mode, flags)
  }

  async mkdir(path: string, mode: number): Promise<void> {
    return this.route(path, true).mkdir(path, mode)
  }

  async unlink(path: string): Promise<void> {
    return this.route(path).unlink(path)
  }

  async rmdir(path: string): Promise<void> {
    return this.route(path).rmdir(path)
  }

  async rename(from: string, to: string, caller?: Caller): Promise<void> {
    const fromLocal = this.localFor(from)
    const toLocal = this.localFor(to, true)
    if (fromLocal && toLocal) return fromLocal.rename(from, to)
    if (fromLocal) return this.adopt(fromLocal, from, to, caller)
    if (toLocal) return this.tracked.detach(from, (mode, content) => keepLocally(toLocal, to, mode, content))
    return this.tracked.rename(from, to, caller)
  }

  async setattr(path: string, changes: AttrChanges): Promise<void> {
    return this.route(path).setattr(path, changes)
  }

  async symlink(target: string, path: string): Promise<void> {
    return this.route(path, true).symlink(target, path)
  }

  async readlink(path: string): Promise<string> {
    return this.route(path).readlink(path)
  }

  // Ignored files keep no attributes: their host folder is private to this node.

  async getxattr(path: string, name: string): Promise<Buffer> {
    if (this.localFor(path)) throw fsError('ENODATA', `no attribute ${name} (an ignored, local file)`)
    return this.tracked.getxattr(path, name)
  }

  async listxattr(path: string): Promise<string[]> {
    if (this.localFor(path)) return []
    return this.tracked.listxattr(path)
  }

  async setxattr(path: string, name: string, value: Buffer, mode: XattrSetMode): Promise<void> {
    if (this.localFor(path)) throw fsError('ENOTSUP', 'ignored, local files keep no attributes')
    return this.tracked.setxattr(path, name, value, mode)
  }

  async removexattr(path: string, name: string): Promise<void> {
    if (this.localFor(path)) throw fsError('ENODATA', `no attribute ${name}`)
    return this.tracked.removexattr(path, name)
  }

  async close(): Promise<void> {
    return this.tracked.close()
  }

  private route(path: string, creating = false): LocalArea['handler'] | T {
    return this.localFor(path, creating) ?? this.tracked
  }

  /**
   * The local area's handler when `path` is ignored (a name on it matches the ignore list), after
   * checking that the tracked part above it exists; `creating` also makes its folders there.
   */
  private localFor(path: string, creating = false): LocalArea['handler'] | undefined {
    if (!this.local) return undefined
    const segs = splitPath(path)
    const ignore = this.tracked.ignoreList()
    const first = segs.findIndex((s) => ignore.matches(s))
    if (first < 0) return undefined
    this.tracked.requireGroup(segs.slice(0, first))
    if (creating) this.local.ensureParent(path)
    return this.local.handler
  }

  /** An ignored file renamed to a tracked name (a save through a `*.tmp` file): it joins the namespace. */
  private async adopt(local: LocalArea['handler'], from: string, to: string, caller: Caller | undefined): Promise<void> {
    const st = await local.stat(from)
    if (st.kind !== 'file') throw fsError('EXDEV', `${from} is an ignored ${st.kind}: it can only be copied into the namespace`)
    const src = await local.open(from, READ)
    try {
      await this.tracked.adopt(to, { mode: st.mode, size: st.size, read: (at, n) => src.read(at, n) }, caller)
    } finally {
      await src.release()
    }
    await local.unlink(from)
  }
}

/** A tracked file's bytes, written to the ignored path `to`, replacing what was there. */
async function keepLocally(local: LocalArea['handler'], to: string, mode: number, content: ContentReader): Promise<void> {
  await local.unlink(to).catch((err: unknown) => {
    // Nothing there yet is the usual case; anything else (EACCES, EISDIR) is the rename's error.
    if (!(isFsError(err) && err.code === 'ENOENT')) throw err
  })
  const out = await local.create(to, mode, READ_WRITE)
  try {
    for (let at = 0; at < content.size; at += CHUNK) await out.write!(Buffer.from(content.read(at, CHUNK)), at)
  } finally {
    await out.release()
  }
}
