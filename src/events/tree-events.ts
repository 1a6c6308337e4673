// The put/remove/move and member events of one namespace, derived from its replica: after each
// stored change (local or a peer's) the resolved tree is compared with the one seen before.
// Comparing walks the whole tree, so it runs only while someone listens (EventHub sources), and
// right after each change only while that is cheap: once a comparison costs more than a couple of
// milliseconds (a large namespace), the next waits ten times as long, so events cost at most about
// a tenth of the daemon's time; changes that land meanwhile are seen together (a file created and
// removed in between shows no event). A removed or moved group is one event; its subtree goes
// with it.

import { META } from '../model/content.js'
import { TreeDoc } from '../model/tree/tree.js'
import type { EntryKind, EventSource, NamespaceEvent } from './event-hub.js'

/** A comparison cheaper than this runs after every change. */
const CHEAP_MS = 2
/** Otherwise at most this share of the time goes to comparing. */
const SHARE = 10

/** What the events need of a namespace replica (NamespaceReplica provides it). */
export interface WatchedReplica {
  readonly tree: TreeDoc
  onStored(listener: (docKey: string) => void): () => void
}

/** The namespace's believed members (signatures checked), left ones included. */
export type MembersOf = () => Array<{ publicKey: string; role: string; leftMs?: number }>

interface Entry {
  path: string
  parentId: string
  kind: EntryKind
  content: string
}

interface Snapshot {
  entries: Map<string, Entry>
  members: Map<string, { role: string; left: boolean }>
}

function snapshot(replica: WatchedReplica, membersOf: MembersOf): Snapshot {
  const entries = new Map<string, Entry>()
  const walk = (id: string, prefix: string) => {
    for (const child of replica.tree.children(id)) {
      const path = `${prefix}/${child.name}`
      entries.set(child.id, { path, parentId: id, kind: child.kind, content: child.meta[META.content] ?? '' })
      if (child.kind === 'group') walk(child.id, path)
    }
  }
  walk(TreeDoc.ROOT, '')
  const members = new Map<string, { role: string; left: boolean }>()
  for (const m of membersOf()) members.set(m.publicKey, { role: m.role, left: m.leftMs !== undefined })
  return { entries, members }
}

/** Events that turn `before` into `after`, parents before children for puts. */
export function diffSnapshots(before: Snapshot, after: Snapshot, textsChanged: ReadonlySet<string>): NamespaceEvent[] {
  const out: NamespaceEvent[] = []
  const removedGroups = new Set<string>()
  for (const [id, was] of before.entries) {
    if (after.entries.has(id)) continue
    // A child of a removed group goes with it: one event for the group.
    if (removedGroups.has(was.parentId)) {
      if (was.kind === 'group') removedGroups.add(id)
      continue
    }
    if (was.kind === 'group') removedGroups.add(id)
    out.push({ type: 'remove', path: was.path, id, kind: was.kind })
  }
  const movedGroups = new Set<string>()
  for (const [id, now] of after.entries) {
    const was = before.entries.get(id)
    if (!was) {
      out.push({ type: 'put', path: now.path, id, kind: now.kind })
      continue
    }
    if (was.path !== now.path) {
      // Only the moved node itself: its subtree's paths change with it.
      const parentMoved = movedGroups.has(now.parentId) && was.parentId === now.parentId
      if (now.kind === 'group') movedGroups.add(id)
      if (!parentMoved) out.push({ type: 'move', from: was.path, to: now.path, id, kind: now.kind })
    }
    if (was.content !== now.content || textsChanged.has(id)) out.push({ type: 'put', path: now.path, id, kind: now.kind })
  }
  for (const [key, now] of after.members) {
    const was = before.members.get(key)
    if (!now.left && (!was || was.left)) out.push({ type: 'member-joined', member: key, role: now.role })
    if (now.left && was && !was.left) out.push({ type: 'member-left', member: key })
  }
  return out
}

export function treeEventSource(replica: WatchedReplica, membersOf: MembersOf): EventSource {
  return (emit) => {
    let last = snapshot(replica, membersOf)
    let timer: NodeJS.Timeout | undefined
    let costMs = 0
    const texts = new Set<string>()
    const flush = () => {
      timer = undefined
      const started = performance.now()
      const now = snapshot(replica, membersOf)
      const changed = new Set(texts)
      texts.clear()
      for (const e of diffSnapshots(last, now, changed)) emit(e)
      last = now
      costMs = performance.now() - started
    }
    const off = replica.onStored((docKey) => {
      if (docKey !== 'tree') texts.add(docKey)
      timer ??= setTimeout(flush, costMs > CHEAP_MS ? costMs * SHARE : 0)
    })
    return () => {
      off()
      clearTimeout(timer)
    }
  }
}
