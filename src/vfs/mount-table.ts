// Fan's `Sys.mount`: branches of the tree are served by handlers, and the longest mounted prefix
// of a path wins. The root '/' is always mounted, so every path resolves to exactly one handler.

import { fsError } from './errors.js'
import type { Handler } from './handler.js'
import { isWithin, longestPrefix, normalizePath, relativeTo, splitPath } from './path.js'

export interface Resolved {
  handler: Handler
  /** Where the handler is mounted. */
  mountPath: string
  /** The path relative to the mount point, as the handler sees it. */
  rel: string
}

export interface MountInfo {
  path: string
  kind: string
  source?: string
}

export class MountTable {
  private readonly mounts = new Map<string, Handler>()

  constructor(root: Handler) {
    this.mounts.set('/', root)
  }

  mount(path: string, handler: Handler): void {
    const at = normalizePath(path)
    if (at === '/') throw fsError('EBUSY', 'the root handler is fixed; mount below it')
    if (this.mounts.has(at)) throw fsError('EBUSY', `${at} is already mounted (${this.mounts.get(at)!.kind})`)
    this.mounts.set(at, handler)
  }

  unmount(path: string): Handler {
    const at = normalizePath(path)
    const handler = this.mounts.get(at)
    if (!handler || at === '/') throw fsError('EINVAL', `nothing is mounted at ${at}`)
    this.mounts.delete(at)
    return handler
  }

  /** The handler serving `path`: the longest mounted prefix, compared segment by segment. */
  resolve(path: string): Resolved {
    const abs = normalizePath(path)
    const at = longestPrefix(this.mounts.keys(), abs) ?? '/'
    return { handler: this.mounts.get(at)!, mountPath: at, rel: relativeTo(abs, at) }
  }

  isMountPoint(path: string): boolean {
    return this.mounts.has(normalizePath(path))
  }

  /** Names directly below `dir` that lead to a mount point (they show up in its listing). */
  mountNamesBelow(dir: string): string[] {
    const at = normalizePath(dir)
    const depth = splitPath(at).length
    const names = new Set<string>()
    for (const mounted of this.mounts.keys()) {
      if (mounted === at || !isWithin(mounted, at)) continue
      names.add(splitPath(mounted)[depth]!)
    }
    return [...names]
  }

  /** True when some mount point lies strictly below `path` (so `path` must exist as a directory). */
  hasMountBelow(path: string): boolean {
    const at = normalizePath(path)
    for (const mounted of this.mounts.keys()) if (mounted !== at && isWithin(mounted, at)) return true
    return false
  }

  list(): MountInfo[] {
    return [...this.mounts.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([path, h]) => (h.source === undefined ? { path, kind: h.kind } : { path, kind: h.kind, source: h.source }))
  }

  handlers(): Handler[] {
    return [...this.mounts.values()]
  }
}
