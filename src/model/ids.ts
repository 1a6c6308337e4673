import { randomBytes } from 'node:crypto'

/** The root group. It is implicit: never stored, always live, cannot be moved or removed. */
export const ROOT = 'root'

// 64 random bits: collisions are negligible for the size of one namespace, and 16 hex chars keep
// every record key and parent reference short (they dominate the encoded size of the tree doc).
const ID_RE = /^[0-9a-f]{16}$/

export function newId(): string {
  return randomBytes(8).toString('hex')
}

/** A stored node id (never ROOT). Remote data with any other key shape is ignored. */
export function isNodeId(v: unknown): v is string {
  return typeof v === 'string' && ID_RE.test(v)
}

/** Something a node may hang under: another node or the root. */
export function isParentRef(v: unknown): v is string {
  return v === ROOT || isNodeId(v)
}

/**
 * Total order on ids by UTF-16 code units. Never localeCompare: resolution must give the same
 * answer on every replica whatever its locale or ICU version.
 */
export function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
