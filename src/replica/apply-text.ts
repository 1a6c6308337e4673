/** A whole-file save applied to a Y.Text as the minimal edit (text/diff.ts), in one transaction. */
import type * as Y from 'yjs'
import { DEFAULT_TIME_LIMIT_MS, editScript } from '../text/diff.js'
import { DEL, EQ } from '../text/script.js'

export interface TextEditOptions {
  /** Budget for the diff; past it the trimmed middle is replaced whole. Default 50 ms. */
  timeLimitMs?: number
  /** Transaction origin, passed to `doc.transact` (lets providers skip their own echoes). */
  origin?: unknown
}

/** Counts are UTF-16 code units of the old (kept, deleted) and new (inserted) text. */
export interface TextEditResult {
  kept: number
  deleted: number
  inserted: number
  /** The diff ran out of time and the trimmed middle was replaced whole. */
  fallback: boolean
}

/**
 * Makes `text` read `next` with as small an edit as the time limit allows, in one transaction.
 * Computes the whole edit script before touching the doc, so a timeout never leaves a half edit.
 */
export function applyTextContent(text: Y.Text, next: string, opts: TextEditOptions = {}): TextEditResult {
  const prev = text.toString()
  if (prev === next) return { kept: prev.length, deleted: 0, inserted: 0, fallback: false }
  const doc = text.doc
  const transact = (f: () => void): void => (doc ? doc.transact(f, opts.origin) : f())

  // Embeds count in Y.Text indexes but not in toString(): offsets from the string would be
  // wrong, so replace everything (meshfs only ever stores plain strings).
  if (text.length !== prev.length) {
    const len = text.length
    transact(() => {
      text.delete(0, len)
      text.insert(0, next)
    })
    return { kept: 0, deleted: len, inserted: next.length, fallback: true }
  }

  const { pre, b, ops, fallback } = editScript(prev, next, opts.timeLimitMs ?? DEFAULT_TIME_LIMIT_MS)

  // Walk the script forwards; `pos` is the index in the text as edited so far, so earlier
  // edits have already shifted it and later ones need no adjustment.
  let deleted = 0
  let inserted = 0
  transact(() => {
    let pos = pre
    let ib = 0 // offset in b of the next inserted text
    for (let i = 0; i < ops.length; i += 2) {
      const kind = ops[i]
      const n = ops[i + 1]
      if (n === 0) continue
      if (kind === EQ) {
        pos += n
        ib += n
      } else if (kind === DEL) {
        text.delete(pos, n)
        deleted += n
      } else {
        text.insert(pos, b.slice(ib, ib + n))
        pos += n
        ib += n
        inserted += n
      }
    }
  })
  return { kept: prev.length - deleted, deleted, inserted, fallback }
}
