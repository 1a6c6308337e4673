/**
 * Edit scripts between two texts: what a whole-file save changed, as few, small edits.
 *
 * An editor saving a file rewrites all of it. Replacing the whole Y.Text would make a concurrent
 * edit on another replica collide with a delete of everything (the merge keeps both full copies,
 * or drops the other edit), so we diff the old and new content and apply only what changed (replica/apply-text.ts):
 *
 *   1. trim the common prefix and suffix (the usual save touches one spot: this alone is enough);
 *   2. diff the rest with Myers' O(ND) algorithm in its linear-space form (middle snake, as in
 *      diff-match-patch), refining level by level: lines; inside changed runs, lines compared
 *      without surrounding whitespace (so a reindent or CRLF change is per-line, not one big run);
 *      then code points inside each remaining changed run, or line by line when a run has as
 *      many lines on both sides (a reformat);
 *   3. the diff runs against a deadline: O(ND) is quadratic for unrelated texts (a minute on
 *      80 KB), so when the deadline passes we replace just the trimmed middle instead.
 *
 * Y.Text indexes by UTF-16 code units, and Yjs turns a split surrogate pair into two U+FFFD
 * (ContentString.splice), so every edit boundary must fall between code points: the trims back
 * off a half pair and the character diff works on code points.
 */

import { Budget, DEL, DiffTimeout, EQ, INS, Script } from './script.js'
import { diff } from './myers.js'

/** Budget for a diff; past it the trimmed middle is replaced whole. */
export const DEFAULT_TIME_LIMIT_MS = 50

/** The edit script from `prev` to `next`: trimmed prefix, the middle of `next`, EQ/DEL/INS runs. */
export function editScript(prev: string, next: string, timeLimitMs: number): { pre: number; b: string; ops: number[]; fallback: boolean } {
  const budget = new Budget(performance.now() + timeLimitMs)
  const pre = commonPrefix(prev, next)
  const suf = commonSuffix(prev, next, pre)
  const a = prev.slice(pre, prev.length - suf)
  const b = next.slice(pre, next.length - suf)
  try {
    const out = new Script()
    diffText(a, b, LINES, out, budget)
    return { pre, b, ops: out.ops, fallback: false }
  } catch (e) {
    if (!(e instanceof DiffTimeout)) throw e
    return { pre, b, ops: [DEL, a.length, INS, b.length], fallback: true }
  }
}

/** One change of a text: `del` code units at `at` (in the old text) replaced by `ins`. */
export interface TextChange {
  at: number
  del: number
  ins: string
}

/** The changes that turn `prev` into `next`, in order, positions in `prev`. */
export function textChanges(prev: string, next: string, timeLimitMs = DEFAULT_TIME_LIMIT_MS): TextChange[] {
  if (prev === next) return []
  const { pre, b, ops } = editScript(prev, next, timeLimitMs)
  const out: TextChange[] = []
  let at = pre
  let ib = 0
  for (let i = 0; i < ops.length; i += 2) {
    const kind = ops[i]
    const n = ops[i + 1]!
    if (n === 0) continue
    const last = out[out.length - 1]
    const open = last !== undefined && last.at + last.del === at
    if (kind === EQ) {
      at += n
      ib += n
    } else if (kind === DEL) {
      if (open) last.del += n
      else out.push({ at, del: n, ins: '' })
      at += n
    } else {
      const ins = b.slice(ib, ib + n)
      if (open) last.ins += ins
      else out.push({ at, del: 0, ins })
      ib += n
    }
  }
  return out
}

// ---- trimming -------------------------------------------------------------------------------

const isHigh = (c: number): boolean => c >= 0xd800 && c <= 0xdbff
const isLow = (c: number): boolean => c >= 0xdc00 && c <= 0xdfff

/** Common prefix length in code units, never ending just after a high surrogate. */
function commonPrefix(a: string, b: string): number {
  const max = Math.min(a.length, b.length)
  let i = 0
  while (i < max && a.charCodeAt(i) === b.charCodeAt(i)) i++
  // 😀 (D83D DE00) vs 😁 (D83D DE01) share a high surrogate: keep the pair together.
  if (i > 0 && isHigh(a.charCodeAt(i - 1))) i--
  return i
}

/** Common suffix length, not overlapping the prefix and never starting at a low surrogate. */
function commonSuffix(a: string, b: string, prefix: number): number {
  const max = Math.min(a.length, b.length) - prefix
  let i = 0
  while (i < max && a.charCodeAt(a.length - 1 - i) === b.charCodeAt(b.length - 1 - i)) i++
  if (i > 0 && isLow(a.charCodeAt(a.length - i))) i--
  return i
}

// ---- line, then code point diff -------------------------------------------------------------

// Refinement levels. Each diffs only what the previous one found changed, so the expensive
// code point diff sees small pieces; this also keeps edits aligned with what people change.
const LINES = 0 // whole lines, exactly
const TRIMMED = 1 // lines ignoring surrounding whitespace: reindents, CRLF/LF, trailing blanks
const CHARS = 2 // code points

/** Appends to `out` an edit script in code units turning `a` into `b`. */
function diffText(a: string, b: string, level: number, out: Script, budget: Budget): void {
  if (a === '' || b === '') {
    out.push(DEL, a.length)
    out.push(INS, b.length)
    return
  }
  if (level === CHARS) {
    const ac = codePoints(a)
    const bc = codePoints(b)
    const cps = new Script()
    diff(ac, bc, cps, budget)
    toUnits(cps.ops, ac, bc, out)
    return
  }
  const aLines = splitLines(a)
  const bLines = splitLines(b)
  const ids = new Map<string, number>()
  const intern = (lines: string[]): Int32Array =>
    Int32Array.from(lines, (line) => {
      const key = level === TRIMMED ? line.trim() : line
      let id = ids.get(key)
      if (id === undefined) ids.set(key, (id = ids.size))
      return id
    })
  const lineScript = new Script()
  diffLines(intern(aLines), intern(bLines), ids.size, lineScript, budget)

  let ia = 0 // line indexes in a and b
  let ib = 0
  // Line by line: an equal run (identical, or equal but for whitespace at TRIMMED), or a changed
  // run with as many lines on both sides (a reformat). Diffing each pair on its own keeps the
  // cost linear where one diff of the whole run would be quadratic in its size.
  const pairwise = (n: number): void => {
    for (let j = 0; j < n; j++) {
      const x = aLines[ia + j]
      const y = bLines[ib + j]
      if (x === y) out.push(EQ, x.length)
      else diffText(x, y, CHARS, out, budget)
    }
    ia += n
    ib += n
  }
  let runA = 0 // lines deleted / inserted since the last equal run
  let runB = 0
  const flush = (): void => {
    if (level === TRIMMED && runA === runB) pairwise(runA)
    else {
      const x = aLines.slice(ia, ia + runA).join('')
      const y = bLines.slice(ib, ib + runB).join('')
      diffText(x, y, level + 1, out, budget)
      ia += runA
      ib += runB
    }
    runA = runB = 0
  }
  const ls = lineScript.ops
  for (let i = 0; i < ls.length; i += 2) {
    const kind = ls[i]
    const n = ls[i + 1]
    if (kind === DEL) runA += n
    else if (kind === INS) runB += n
    else {
      flush()
      pairwise(n)
    }
  }
  flush()
}

/**
 * Myers over line ids `0..nIds-1`, first discarding lines that occur on one side only (as GNU
 * diff does): they can never match, and Myers is quadratic in them (a reindented file has no
 * line in common with its old self). Removing them keeps the script a shortest one.
 */
function diffLines(a: Int32Array, b: Int32Array, nIds: number, out: Script, budget: Budget): void {
  const inA = new Uint8Array(nIds)
  const inB = new Uint8Array(nIds)
  for (const id of a) inA[id] = 1
  for (const id of b) inB[id] = 1
  const keepA = indexesWhere(a, inB)
  const keepB = indexesWhere(b, inA)
  const inner = new Script()
  diff(
    Int32Array.from(keepA, (i) => a[i]),
    Int32Array.from(keepB, (i) => b[i]),
    inner,
    budget,
  )
  // Map the matches back; everything between two matches is deleted / inserted.
  let fa = 0 // indexes into keepA / keepB
  let fb = 0
  let oa = 0 // next unconsumed index in a / b
  let ob = 0
  const ops = inner.ops
  for (let i = 0; i < ops.length; i += 2) {
    const kind = ops[i]
    const n = ops[i + 1]
    if (kind === DEL) fa += n
    else if (kind === INS) fb += n
    else
      for (let j = 0; j < n; j++, fa++, fb++) {
        out.push(DEL, keepA[fa] - oa)
        out.push(INS, keepB[fb] - ob)
        out.push(EQ, 1)
        oa = keepA[fa] + 1
        ob = keepB[fb] + 1
      }
  }
  out.push(DEL, a.length - oa)
  out.push(INS, b.length - ob)
}

function indexesWhere(ids: Int32Array, present: Uint8Array): number[] {
  const out: number[] = []
  for (let i = 0; i < ids.length; i++) if (present[ids[i]]) out.push(i)
  return out
}

/** Lines with their terminators ("\r\n" ends in "\n"), so joining them gives `s` back. */
function splitLines(s: string): string[] {
  const lines: string[] = []
  let start = 0
  for (let i = s.indexOf('\n'); i !== -1; i = s.indexOf('\n', start)) {
    lines.push(s.slice(start, i + 1))
    start = i + 1
  }
  if (start < s.length) lines.push(s.slice(start))
  return lines
}

/** Code points of `s`; a lone surrogate stays one element of its own. */
function codePoints(s: string): Int32Array {
  const out = new Int32Array(s.length)
  let n = 0
  for (let i = 0; i < s.length; ) {
    const cp = s.codePointAt(i)!
    out[n++] = cp
    i += cp > 0xffff ? 2 : 1
  }
  return out.subarray(0, n)
}

/** Converts a code point script over (a, b) to code units, appending to `out`. */
function toUnits(ops: number[], a: Int32Array, b: Int32Array, out: Script): void {
  const width = (cp: number): number => (cp > 0xffff ? 2 : 1)
  let ia = 0
  let ib = 0
  for (let i = 0; i < ops.length; i += 2) {
    const kind = ops[i]
    const n = ops[i + 1]
    let units = 0
    if (kind === INS) for (let j = ib; j < ib + n; j++) units += width(b[j])
    else for (let j = ia; j < ia + n; j++) units += width(a[j])
    if (kind !== INS) ia += n
    if (kind !== DEL) ib += n
    out.push(kind, units)
  }
}
