// The stream events of `subscribeNamespace` (and of `MOUNT/.meshfs/ns/NS/events`): one JSON value
// per line, each stamped with its namespace, a per-daemon sequence number and the time.

export type EntryKind = 'file' | 'group' | 'symlink'

/** What happened in a namespace. */
export type NamespaceChange =
  | { type: 'put'; path: string; id: string; kind: EntryKind }
  | { type: 'remove'; path: string; id: string; kind: EntryKind }
  | { type: 'move'; from: string; to: string; id: string; kind: EntryKind }
  /** A deleted entry shown again: another node edited it (or something in it) without having seen the delete. */
  | { type: 'revived'; path: string; id: string; kind: EntryKind; reason: string }
  | { type: 'member-joined'; member: string; role: string }
  | { type: 'member-left'; member: string }
  | { type: 'notify'; from: string; data: string }
  | { type: 'sync'; peer: string; state: string }

/** An event as sent. */
export type NamespaceEvent = NamespaceChange & { ns: string; seq: number; atMs: number }
