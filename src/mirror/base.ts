// A mirror's merge base: for every path, what the source and the target both held when they last
// agreed on it. Three-way reconciliation needs it to tell "changed here" from "changed there"
// (without it, a change on the target and a stale source look the same). Kept in the node's meta
// store, one key per path so a pass writes only what it changed; the text of text resources is
// kept beside it, read only when both sides edited one text and the edits are merged.

import type { MetaLike } from './config.js'

/** `g` group, `f` file (resource), `s` symlink. */
export type EntryKind = 'g' | 'f' | 's'

/** A path's state, cheap to compare: kind, mode and a fingerprint of the content. */
export interface BaseEntry {
  k: EntryKind
  m: number
  /** Files: `e` empty, `t<sha1 of the text>`, `b<manifest hash>`; symlinks: the link target; groups: ''. */
  f: string
}

export class MirrorBase {
  private readonly entries = new Map<string, BaseEntry>()
  private readonly prefix: readonly string[]
  private readonly textPrefix: readonly string[]

  /** `pair` names the mirror: the source and target namespace ids. */
  constructor(
    private readonly meta: MetaLike,
    pair: string,
  ) {
    this.prefix = ['sync-base', pair]
    this.textPrefix = ['sync-base-text', pair]
    for (const key of meta.listMeta(this.prefix)) {
      const e = meta.getMeta<BaseEntry>(key)
      if (e && (e.k === 'g' || e.k === 'f' || e.k === 's') && typeof e.m === 'number' && typeof e.f === 'string')
        this.entries.set(key[this.prefix.length]!, e)
    }
  }

  get(path: string): BaseEntry | undefined {
    return this.entries.get(path)
  }

  paths(): IterableIterator<string> {
    return this.entries.keys()
  }

  /** The text a text resource had when both sides last agreed, if it was kept. */
  text(path: string): string | undefined {
    return this.meta.getMeta<string>([...this.textPrefix, path])
  }

  /** Record the agreed state of `path`; undefined: absent on both sides. `text` for text resources. */
  set(path: string, entry: BaseEntry | undefined, text?: string): void {
    const had = this.entries.get(path)
    if (entry === undefined) {
      if (!had) return
      this.entries.delete(path)
      this.meta.deleteMeta([...this.prefix, path])
      this.meta.deleteMeta([...this.textPrefix, path])
      return
    }
    // A text's fingerprint is its hash: the same entry has the same text, already kept.
    if (had && sameEntry(had, entry)) return
    this.entries.set(path, entry)
    this.meta.setMeta([...this.prefix, path], entry)
    if (text !== undefined) this.meta.setMeta([...this.textPrefix, path], text)
    else if (had) this.meta.deleteMeta([...this.textPrefix, path])
  }

  /** Forget everything (the target was disabled): a new target starts from no common history. */
  clear(): void {
    for (const key of this.meta.listMeta(this.prefix)) this.meta.deleteMeta(key)
    for (const key of this.meta.listMeta(this.textPrefix)) this.meta.deleteMeta(key)
    this.entries.clear()
  }
}

export function sameEntry(a: BaseEntry | undefined, b: BaseEntry | undefined): boolean {
  if (a === undefined || b === undefined) return a === b
  return a.k === b.k && a.m === b.m && a.f === b.f
}
