// Paths inside meshfs are absolute, '/'-separated and normalised: no empty segments, no '.' and
// no '..' (they are resolved here and can never climb above '/'). Every name is checked once at
// this boundary, so handlers can trust the segments they are given.

import { fsError } from './errors.js'

/** Linux NAME_MAX, in bytes of UTF-8. */
export const NAME_MAX = 255

export function checkName(name: string): void {
  if (name.length === 0) throw fsError('EINVAL', 'empty name')
  if (name.includes('\0')) throw fsError('EINVAL', `name contains a NUL byte: ${JSON.stringify(name)}`)
  if (name.includes('/')) throw fsError('EINVAL', `name contains '/': ${JSON.stringify(name)}`)
  if (name === '.' || name === '..') throw fsError('EINVAL', `'${name}' is not a name`)
  const bytes = Buffer.byteLength(name, 'utf8')
  if (bytes > NAME_MAX) throw fsError('ENAMETOOLONG', `name is ${bytes} bytes, the limit is ${NAME_MAX}`)
}

/** Split a path into checked segments; '..' pops a segment but never above the root. */
export function splitPath(path: string): string[] {
  if (path.includes('\0')) throw fsError('EINVAL', 'path contains a NUL byte')
  const out: string[] = []
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue
    if (part === '..') {
      out.pop()
      continue
    }
    checkName(part)
    out.push(part)
  }
  return out
}

export function joinPath(segments: readonly string[]): string {
  return `/${segments.join('/')}`
}

export function normalizePath(path: string): string {
  return joinPath(splitPath(path))
}

export function parentOf(path: string): string {
  const segs = splitPath(path)
  segs.pop()
  return joinPath(segs)
}

/** True when `path` equals `prefix` or lies below it (segment-wise, never by string prefix). */
export function isWithin(path: string, prefix: string): boolean {
  if (prefix === '/') return true
  return path === prefix || path.startsWith(`${prefix}/`)
}

/** `path` relative to `base` as an absolute handler path (Fan's `uri.relTo`); both normalised. */
export function relativeTo(path: string, base: string): string {
  if (!isWithin(path, base)) throw fsError('EINVAL', `${path} is not within ${base}`)
  if (base === '/') return path
  const rest = path.slice(base.length)
  return rest === '' ? '/' : rest
}

/** The longest of `prefixes` that `path` lies within (segment-wise), or undefined. */
export function longestPrefix(prefixes: Iterable<string>, path: string): string | undefined {
  let best: string | undefined
  for (const p of prefixes) {
    if (isWithin(path, p) && (best === undefined || p.length > best.length)) best = p
  }
  return best
}
