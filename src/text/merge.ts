import { DEFAULT_TIME_LIMIT_MS, textChanges } from './diff.js'

/**
 * Three-way merge of whole-file saves: what a writer changed from the `base` it read to `mine`
 * is replayed onto `theirs`, the text as it is now (with what peers changed meanwhile). A save
 * made from an older version so keeps the peers' edits instead of reverting them. Where both
 * sides changed the same place, both versions stay, theirs first: visible, never silent.
 */
export function mergeText(base: string, mine: string, theirs: string, timeLimitMs = DEFAULT_TIME_LIMIT_MS): string {
  if (base === theirs) return mine
  if (base === mine) return theirs
  const ours = textChanges(base, mine, timeLimitMs)
  const their = textChanges(base, theirs, timeLimitMs)
  // A position in `base` as a position in `theirs`: shifted by their changes before it; inside
  // a range they replaced (or, for the start of one of ours, at its start), it moves past their
  // replacement, so ours never overwrites theirs.
  const map = (p: number, isStart: boolean): number => {
    let shift = 0
    for (const c of their) {
      if (c.at + c.del <= p) {
        shift += c.ins.length - c.del
        continue
      }
      if (c.at < p || (isStart && c.at === p)) return c.at + shift + c.ins.length
      break
    }
    return p + shift
  }
  let out = theirs
  for (let i = ours.length - 1; i >= 0; i--) {
    const c = ours[i]!
    const start = map(c.at, true)
    const end = Math.max(start, map(c.at + c.del, false))
    out = out.slice(0, start) + c.ins + out.slice(end)
  }
  return out
}
