// The mirror of one sync target: keeps a target namespace in step with a source namespace, both
// held by this node (a remote target is a namespace this node joined; normal replication carries
// what the mirror writes into it to its other members, and brings their changes back).
//
// Path-based and three-way. Resources and groups are compared by path, not id (two namespaces
// never share ids), against a merge base: what both sides held when they last agreed on that
// path (base.ts). On a stored change of either namespace (debounced), one pass compares every
// path's source, target and base state:
//   simplex  a source change is copied to the target, overwriting it; a change made only on the
//            target stays there (never copied back, never reverted) until the source changes
//            that path again; a source delete deletes on the target only if the target still
//            holds what was agreed, else the target's version stays as its own.
//   duplex   a change on one side only is copied to the other; a delete propagates if the other
//            side did not change the path. Both changed: a deleted side gets the other's version
//            back (an edit beats a delete); two texts merge three ways (mergeText), both edits
//            kept; anything else (binary, symlinks, a file against a group, texts with no
//            common base) keeps both: the target's version is renamed to a conflict name, as
//            the tree names concurrent duplicates (`notes (conflict 3f2a).txt`), and the next
//            pass copies it to the source like any new file.
// A group's mode (config.ts) narrows a subtree to simplex or takes it out (`off`).
// A rename on one side reaches the other as a delete and a create (paths, not ids); binary
// content is copied as its manifest hash, so both namespaces share the same chunks on this node.
// Deletes run first, children before parents (a group is removed only once empty), then copies,
// parents before children. Writes go through NamespaceReplica.change, as a peer's change would
// arrive: stored before the pass goes on, and open files merge with them on their next publish.
// A pass is idempotent: if the node dies halfway, the next pass finds the copied paths equal on
// both sides and just records them as agreed.

import { mergeText } from '../text/merge.js'
import type { NamespaceReplica } from '../replica/replica.js'
import type { Logger } from '../util/log.js'
import { sameEntry, type BaseEntry, type MirrorBase } from './base.js'
import { modeAt, type TargetConfig } from './config.js'
import { entryOf, isText, MirrorSide, textContent, type Entry, type Item, type SideName } from './side.js'

/** Changes in one burst (a `cp -r`, a peer's catch-up) are reconciled in one pass. */
const DEBOUNCE_MS = 50
/** After a pass with errors (a full disk, a blob not fetched yet), try again this much later. */
const RETRY_MS = 2_000

type Step =
  | { op: 'agree'; path: string; entry: Entry | undefined }
  | { op: 'forget'; path: string }
  | { op: 'copy'; path: string; to: SideName; from: Entry }
  | { op: 'delete'; path: string; on: SideName }
  | { op: 'merge'; path: string; s: Entry; t: Entry; baseText: string }
  | { op: 'conflict'; path: string; s: Entry }

export interface PassStats {
  copied: number
  deleted: number
  merged: number
  conflicts: number
  errors: number
}

export interface MirrorState {
  /** When the last pass ended. */
  lastPassMs?: number
  lastError?: string
}

export class Mirror {
  private readonly sides: Record<SideName, MirrorSide>
  private readonly offs: Array<() => void> = []
  private timer: NodeJS.Timeout | undefined
  /** Set during a pass: the stored changes it makes itself need no new pass. */
  private applying = false
  private running = false
  readonly state: MirrorState = {}

  constructor(
    source: NamespaceReplica,
    target: NamespaceReplica,
    /** Read at every pass: a group's mode may change while the mirror runs. */
    private readonly config: () => TargetConfig,
    private readonly base: MirrorBase,
    private readonly log: Logger,
  ) {
    this.sides = { source: new MirrorSide(source, log), target: new MirrorSide(target, log) }
    // Fingerprints follow every change from the start, passes only once started.
    for (const side of Object.values(this.sides)) {
      this.offs.push(
        side.replica.onStored((docKey) => {
          side.changed(docKey)
          if (this.running && !this.applying) this.schedule()
        }),
      )
    }
  }

  /** Reconcile once now, and after every stored change of either namespace. */
  start(): void {
    this.running = true
    this.schedule(0)
  }

  /** For good: a stopped mirror no longer follows its namespaces (a new one takes over). */
  stop(): void {
    this.running = false
    for (const off of this.offs.splice(0)) off()
    clearTimeout(this.timer)
    this.timer = undefined
  }

  schedule(delayMs = DEBOUNCE_MS): void {
    if (this.timer || !this.running) return
    this.timer = setTimeout(() => {
      this.timer = undefined
      this.reconcile()
    }, delayMs)
    this.timer.unref()
  }

  /** One pass over every path; schedules another when this one set something aside or failed. */
  reconcile(): PassStats {
    const stats: PassStats = { copied: 0, deleted: 0, merged: 0, conflicts: 0, errors: 0 }
    const cfg = this.config()
    let again = false
    let lastError: string | undefined
    this.applying = true
    try {
      let steps: Step[]
      try {
        steps = this.plan(cfg)
      } catch (err) {
        // Reading a side failed (its store refused): nothing was written; try again later.
        steps = []
        stats.errors++
        lastError = `reading the namespaces: ${(err as Error).message}`
        this.log.warn(`sync ${this.names()}: ${lastError}`)
      }
      const run = (step: Step, fn: () => void) => {
        try {
          fn()
        } catch (err) {
          stats.errors++
          lastError = `${step.path}: ${(err as Error).message}`
          this.log.warn(`sync ${this.names()}: ${step.op} ${lastError}`)
        }
      }
      for (const step of steps.filter((s) => s.op === 'delete').reverse()) {
        run(step, () => {
          if (step.op !== 'delete') return
          // A group that keeps content the other side added stays; the base forgets it either way.
          if (this.sides[step.on].remove(step.path)) stats.deleted++
          this.base.set(step.path, undefined)
        })
      }
      const movedAside: string[] = []
      for (const step of steps) {
        if (step.op === 'delete') continue
        if (movedAside.some((p) => step.path.startsWith(`${p}/`))) continue
        run(step, () => {
          const aside = this.apply(step, cfg, stats)
          if (aside) {
            movedAside.push(step.path)
            again = true
          }
        })
      }
    } finally {
      this.applying = false
    }
    this.state.lastPassMs = Date.now()
    if (lastError === undefined) delete this.state.lastError
    else this.state.lastError = lastError
    if (stats.copied + stats.deleted + stats.merged + stats.conflicts > 0) {
      this.log.info(
        `sync ${this.names()}: ${stats.copied} copied, ${stats.deleted} deleted, ${stats.merged} merged, ${stats.conflicts} kept both`,
      )
    }
    if (again) this.schedule(0)
    else if (stats.errors > 0) this.schedule(RETRY_MS)
    return stats
  }

  private names(): string {
    return `${this.sides.source.replica.info.alias} -> ${this.sides.target.replica.info.alias}`
  }

  /** What to do with every path, in path order (a parent sorts before its children). */
  private plan(cfg: TargetConfig): Step[] {
    const src = this.sides.source.snapshot()
    const dst = this.sides.target.snapshot()
    const paths = [...new Set([...src.keys(), ...dst.keys(), ...this.base.paths()])].sort()
    const steps: Step[] = []
    for (const path of paths) {
      const mode = modeAt(cfg, path)
      if (mode === 'off') continue
      const step = this.decide(path, mode, src.get(path), dst.get(path), this.base.get(path))
      if (step) steps.push(step)
    }
    return steps
  }

  private decide(
    path: string,
    mode: 'simplex' | 'duplex',
    s: Entry | undefined,
    t: Entry | undefined,
    b: BaseEntry | undefined,
  ): Step | undefined {
    if (sameEntry(s, t)) return sameEntry(s, b) ? undefined : { op: 'agree', path, entry: s }
    const sourceChanged = !sameEntry(s, b)
    const targetChanged = !sameEntry(t, b)
    if (mode === 'simplex') {
      if (!sourceChanged) return undefined
      if (s) return { op: 'copy', path, to: 'target', from: s }
      return targetChanged ? { op: 'forget', path } : { op: 'delete', path, on: 'target' }
    }
    if (!targetChanged) return s ? { op: 'copy', path, to: 'target', from: s } : { op: 'delete', path, on: 'target' }
    if (!sourceChanged) return t ? { op: 'copy', path, to: 'source', from: t } : { op: 'delete', path, on: 'source' }
    // Both sides changed the path.
    if (!s) return { op: 'copy', path, to: 'source', from: t! }
    if (!t) return { op: 'copy', path, to: 'target', from: s }
    if (s.k === 'g' && t.k === 'g') return { op: 'copy', path, to: 'target', from: s }
    if (isText(s) && isText(t) && b && isText(b)) {
      const baseText = b.f === 'e' ? '' : this.base.text(path)
      if (baseText !== undefined) return { op: 'merge', path, s, t, baseText }
    }
    return { op: 'conflict', path, s }
  }

  /** Run one step; true if something at its path was set aside (its subtree is left for the next pass). */
  private apply(step: Exclude<Step, { op: 'delete' }>, cfg: TargetConfig, stats: PassStats): boolean {
    const { source, target } = this.sides
    const keepText = cfg.type === 'duplex'
    switch (step.op) {
      case 'agree':
        // Only a text kept for merging needs reading; the fingerprints say the rest.
        if (step.entry && keepText && isText(step.entry)) this.record(step.path, source.read(step.entry), keepText)
        else this.base.set(step.path, step.entry && { k: step.entry.k, m: step.entry.m, f: step.entry.f })
        return false
      case 'forget':
        this.base.set(step.path, undefined)
        return false
      case 'copy': {
        const item = this.sides[step.to === 'target' ? 'source' : 'target'].read(step.from)
        const aside = this.sides[step.to].put(step.path, item)
        this.record(step.path, item, keepText)
        stats.copied++
        return aside
      }
      case 'merge': {
        const mine = source.text(step.s)
        const theirs = target.text(step.t)
        const merged = mergeText(step.baseText, mine, theirs)
        const b = this.base.get(step.path)!
        const item: Item = {
          k: 'f',
          m: step.s.m !== b.m ? step.s.m : step.t.m,
          mtimeSec: Math.floor(Date.now() / 1000),
          content: textContent(merged),
        }
        if (merged !== mine || item.m !== step.s.m) source.put(step.path, item)
        if (merged !== theirs || item.m !== step.t.m) target.put(step.path, item)
        this.record(step.path, item, keepText)
        stats.merged++
        return false
      }
      case 'conflict': {
        target.setAside(step.path)
        const item = source.read(step.s)
        target.put(step.path, item)
        this.record(step.path, item, keepText)
        stats.conflicts++
        return true
      }
    }
  }

  private record(path: string, item: Item | undefined, keepText: boolean): void {
    if (!item) return this.base.set(path, undefined)
    const text = item.k === 'f' && item.content.kind === 't' && keepText ? item.content.text : undefined
    this.base.set(path, entryOf(item), text)
  }
}
