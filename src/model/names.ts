/**
 * Entry names: validation of what users write, and the deterministic display names that make
 * concurrent duplicates visible side by side instead of hiding one of them.
 */
import { TreeError } from './tree/errors.js'
import { compareIds } from './ids.js'

/** NAME_MAX on Linux: longer names cannot cross the FUSE boundary. */
export const NAME_MAX_BYTES = 255

// A lone surrogate has no UTF-8 encoding, so such a name could not round-trip through FUSE.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

export function utf8Bytes(s: string): number {
  return Buffer.byteLength(s, 'utf8')
}

/** Throws EINVAL / ENAMETOOLONG; returns the name so callers can validate inline. */
export function validateName(name: unknown): string {
  if (typeof name !== 'string' || name.length === 0) throw new TreeError('EINVAL', 'empty name')
  if (name === '.' || name === '..') throw new TreeError('EINVAL', `reserved name ${name}`)
  if (name.includes('/') || name.includes('\0')) throw new TreeError('EINVAL', 'name contains / or NUL')
  if (LONE_SURROGATE.test(name)) throw new TreeError('EINVAL', 'name is not valid Unicode')
  if (utf8Bytes(name) > NAME_MAX_BYTES) throw new TreeError('ENAMETOOLONG', `name longer than ${NAME_MAX_BYTES} bytes`)
  return name
}

export function isValidName(name: unknown): name is string {
  try {
    validateName(name)
    return true
  } catch (err) {
    if (err instanceof TreeError) return false
    throw err
  }
}

export interface Sibling {
  readonly id: string
  /** The name stored in the doc. */
  readonly name: string
  /** Lamport time at which the node got this name in this place; earlier keeps the name. */
  readonly named: number
}

/**
 * Display names for the live children of one group: a pure function of the sibling set.
 *
 * Among siblings sharing a stored name, the one named first (lowest `named`, then lowest id)
 * keeps it, so an entry that has been there for a while is never renamed under a user's feet by
 * a concurrent newcomer. Every other one is shown as `stem (conflict 3f2a).ext`, the tag taken
 * from its id; the tag is lengthened (then numbered) until the result collides with no stored
 * name and no display name already handed out, so display names are unique per group.
 */
export function displayNames(siblings: readonly Sibling[]): Map<string, string> {
  const ordered = [...siblings].sort((a, b) => a.named - b.named || compareIds(a.id, b.id))
  const taken = new Set(siblings.map((s) => s.name))
  const claimed = new Set<string>()
  const out = new Map<string, string>()
  const losers: Sibling[] = []
  for (const s of ordered) {
    if (claimed.has(s.name)) {
      losers.push(s)
    } else {
      claimed.add(s.name)
      out.set(s.id, s.name)
    }
  }
  for (const s of losers) {
    const shown = conflictName(s.name, s.id, taken)
    taken.add(shown)
    out.set(s.id, shown)
  }
  return out
}

function conflictName(name: string, id: string, taken: ReadonlySet<string>): string {
  for (let len = 4; len <= id.length; len += 4) {
    const shown = withTag(name, id.slice(0, len))
    if (!taken.has(shown)) return shown
  }
  // Only reachable when someone deliberately created names equal to our tags.
  for (let n = 2; ; n++) {
    const shown = withTag(name, `${id} ${n}`)
    if (!taken.has(shown)) return shown
  }
}

/** `notes.txt` -> `notes (conflict 3f2a).txt`; `.bashrc` and `README` get the tag appended. */
export function withTag(name: string, tag: string): string {
  const dot = name.lastIndexOf('.')
  const hasExt = dot > 0 && dot < name.length - 1
  let stem = hasExt ? name.slice(0, dot) : name
  let ext = hasExt ? name.slice(dot) : ''
  const suffix = ` (conflict ${tag})`
  // Keep the display name within NAME_MAX: shorten the stem, and if even the extension does not
  // fit, treat the whole name as the stem.
  if (utf8Bytes(suffix + ext) >= NAME_MAX_BYTES - 8) {
    stem = name
    ext = ''
  }
  stem = truncateUtf8(stem, NAME_MAX_BYTES - utf8Bytes(suffix + ext))
  return stem + suffix + ext
}

function truncateUtf8(s: string, maxBytes: number): string {
  if (utf8Bytes(s) <= maxBytes) return s
  let out = ''
  let used = 0
  for (const ch of s) {
    const b = utf8Bytes(ch)
    if (used + b > maxBytes) break
    out += ch
    used += b
  }
  return out
}
