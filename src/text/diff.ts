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

/** Budget for a diff; past it the trimmed middle is replaced whole. */
export const DEFAULT_TIME_LIMIT_MS = 50;
/** Diff steps between two clock reads: reading the clock costs far more than one step. */
const CHECK_EVERY = 1024;

/** The edit script from `prev` to `next`: trimmed prefix, the middle of `next`, EQ/DEL/INS runs. */
export function editScript(prev: string, next: string, timeLimitMs: number): { pre: number; b: string; ops: number[]; fallback: boolean } {
  const budget = new Budget(performance.now() + timeLimitMs);
  const pre = commonPrefix(prev, next);
  const suf = commonSuffix(prev, next, pre);
  const a = prev.slice(pre, prev.length - suf);
  const b = next.slice(pre, next.length - suf);
  try {
    const out = new Script();
    diffText(a, b, LINES, out, budget);
    return { pre, b, ops: out.ops, fallback: false };
  } catch (e) {
    if (!(e instanceof DiffTimeout)) throw e;
    return { pre, b, ops: [DEL, a.length, INS, b.length], fallback: true };
  }
}

/** One change of a text: `del` code units at `at` (in the old text) replaced by `ins`. */
export interface TextChange {
  at: number;
  del: number;
  ins: string;
}

/** The changes that turn `prev` into `next`, in order, positions in `prev`. */
export function textChanges(prev: string, next: string, timeLimitMs = DEFAULT_TIME_LIMIT_MS): TextChange[] {
  if (prev === next) return [];
  const { pre, b, ops } = editScript(prev, next, timeLimitMs);
  const out: TextChange[] = [];
  let at = pre;
  let ib = 0;
  for (let i = 0; i < ops.length; i += 2) {
    const kind = ops[i];
    const n = ops[i + 1]!;
    if (n === 0) continue;
    const last = out[out.length - 1];
    const open = last !== undefined && last.at + last.del === at;
    if (kind === EQ) {
      at += n;
      ib += n;
    } else if (kind === DEL) {
      if (open) last.del += n;
      else out.push({ at, del: n, ins: '' });
      at += n;
    } else {
      const ins = b.slice(ib, ib + n);
      if (open) last.ins += ins;
      else out.push({ at, del: 0, ins });
      ib += n;
    }
  }
  return out;
}

// ---- edit scripts ---------------------------------------------------------------------------

export const EQ = 0;
export const DEL = 1;
export const INS = 2;

/** A flat edit script `[kind, count, kind, count, ...]`; adjacent ops of one kind are merged. */
class Script {
  readonly ops: number[] = [];

  push(kind: number, n: number): void {
    if (n === 0) return;
    const o = this.ops;
    if (o.length > 0 && o[o.length - 2] === kind) o[o.length - 1] += n;
    else o.push(kind, n);
  }
}

class DiffTimeout extends Error {}

/** Counts diff work and reads the clock every CHECK_EVERY steps. */
class Budget {
  private work = 0;
  private nextCheck = CHECK_EVERY;

  constructor(private readonly deadline: number) {}

  spend(n: number): void {
    this.work += n;
    if (this.work < this.nextCheck) return;
    this.nextCheck = this.work + CHECK_EVERY;
    if (performance.now() > this.deadline) throw new DiffTimeout('text diff time limit exceeded');
  }
}

// ---- trimming -------------------------------------------------------------------------------

const isHigh = (c: number): boolean => c >= 0xd800 && c <= 0xdbff;
const isLow = (c: number): boolean => c >= 0xdc00 && c <= 0xdfff;

/** Common prefix length in code units, never ending just after a high surrogate. */
function commonPrefix(a: string, b: string): number {
  const max = Math.min(a.length, b.length);
  let i = 0;
  while (i < max && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  // 😀 (D83D DE00) vs 😁 (D83D DE01) share a high surrogate: keep the pair together.
  if (i > 0 && isHigh(a.charCodeAt(i - 1))) i--;
  return i;
}

/** Common suffix length, not overlapping the prefix and never starting at a low surrogate. */
function commonSuffix(a: string, b: string, prefix: number): number {
  const max = Math.min(a.length, b.length) - prefix;
  let i = 0;
  while (i < max && a.charCodeAt(a.length - 1 - i) === b.charCodeAt(b.length - 1 - i)) i++;
  if (i > 0 && isLow(a.charCodeAt(a.length - i))) i--;
  return i;
}

// ---- line, then code point diff -------------------------------------------------------------

// Refinement levels. Each diffs only what the previous one found changed, so the expensive
// code point diff sees small pieces; this also keeps edits aligned with what people change.
const LINES = 0; // whole lines, exactly
const TRIMMED = 1; // lines ignoring surrounding whitespace: reindents, CRLF/LF, trailing blanks
const CHARS = 2; // code points

/** Appends to `out` an edit script in code units turning `a` into `b`. */
function diffText(a: string, b: string, level: number, out: Script, budget: Budget): void {
  if (a === '' || b === '') {
    out.push(DEL, a.length);
    out.push(INS, b.length);
    return;
  }
  if (level === CHARS) {
    const ac = codePoints(a);
    const bc = codePoints(b);
    const cps = new Script();
    diff(ac, bc, cps, budget);
    toUnits(cps.ops, ac, bc, out);
    return;
  }
  const aLines = splitLines(a);
  const bLines = splitLines(b);
  const ids = new Map<string, number>();
  const intern = (lines: string[]): Int32Array =>
    Int32Array.from(lines, (line) => {
      const key = level === TRIMMED ? line.trim() : line;
      let id = ids.get(key);
      if (id === undefined) ids.set(key, (id = ids.size));
      return id;
    });
  const lineScript = new Script();
  diffLines(intern(aLines), intern(bLines), ids.size, lineScript, budget);

  let ia = 0; // line indexes in a and b
  let ib = 0;
  // Line by line: an equal run (identical, or equal but for whitespace at TRIMMED), or a changed
  // run with as many lines on both sides (a reformat). Diffing each pair on its own keeps the
  // cost linear where one diff of the whole run would be quadratic in its size.
  const pairwise = (n: number): void => {
    for (let j = 0; j < n; j++) {
      const x = aLines[ia + j];
      const y = bLines[ib + j];
      if (x === y) out.push(EQ, x.length);
      else diffText(x, y, CHARS, out, budget);
    }
    ia += n;
    ib += n;
  };
  let runA = 0; // lines deleted / inserted since the last equal run
  let runB = 0;
  const flush = (): void => {
    if (level === TRIMMED && runA === runB) pairwise(runA);
    else {
      const x = aLines.slice(ia, ia + runA).join('');
      const y = bLines.slice(ib, ib + runB).join('');
      diffText(x, y, level + 1, out, budget);
      ia += runA;
      ib += runB;
    }
    runA = runB = 0;
  };
  const ls = lineScript.ops;
  for (let i = 0; i < ls.length; i += 2) {
    const kind = ls[i];
    const n = ls[i + 1];
    if (kind === DEL) runA += n;
    else if (kind === INS) runB += n;
    else {
      flush();
      pairwise(n);
    }
  }
  flush();
}

/**
 * Myers over line ids `0..nIds-1`, first discarding lines that occur on one side only (as GNU
 * diff does): they can never match, and Myers is quadratic in them (a reindented file has no
 * line in common with its old self). Removing them keeps the script a shortest one.
 */
function diffLines(a: Int32Array, b: Int32Array, nIds: number, out: Script, budget: Budget): void {
  const inA = new Uint8Array(nIds);
  const inB = new Uint8Array(nIds);
  for (const id of a) inA[id] = 1;
  for (const id of b) inB[id] = 1;
  const keepA = indexesWhere(a, inB);
  const keepB = indexesWhere(b, inA);
  const inner = new Script();
  diff(
    Int32Array.from(keepA, (i) => a[i]),
    Int32Array.from(keepB, (i) => b[i]),
    inner,
    budget,
  );
  // Map the matches back; everything between two matches is deleted / inserted.
  let fa = 0; // indexes into keepA / keepB
  let fb = 0;
  let oa = 0; // next unconsumed index in a / b
  let ob = 0;
  const ops = inner.ops;
  for (let i = 0; i < ops.length; i += 2) {
    const kind = ops[i];
    const n = ops[i + 1];
    if (kind === DEL) fa += n;
    else if (kind === INS) fb += n;
    else
      for (let j = 0; j < n; j++, fa++, fb++) {
        out.push(DEL, keepA[fa] - oa);
        out.push(INS, keepB[fb] - ob);
        out.push(EQ, 1);
        oa = keepA[fa] + 1;
        ob = keepB[fb] + 1;
      }
  }
  out.push(DEL, a.length - oa);
  out.push(INS, b.length - ob);
}

function indexesWhere(ids: Int32Array, present: Uint8Array): number[] {
  const out: number[] = [];
  for (let i = 0; i < ids.length; i++) if (present[ids[i]]) out.push(i);
  return out;
}

/** Lines with their terminators ("\r\n" ends in "\n"), so joining them gives `s` back. */
function splitLines(s: string): string[] {
  const lines: string[] = [];
  let start = 0;
  for (let i = s.indexOf('\n'); i !== -1; i = s.indexOf('\n', start)) {
    lines.push(s.slice(start, i + 1));
    start = i + 1;
  }
  if (start < s.length) lines.push(s.slice(start));
  return lines;
}

/** Code points of `s`; a lone surrogate stays one element of its own. */
function codePoints(s: string): Int32Array {
  const out = new Int32Array(s.length);
  let n = 0;
  for (let i = 0; i < s.length; ) {
    const cp = s.codePointAt(i)!;
    out[n++] = cp;
    i += cp > 0xffff ? 2 : 1;
  }
  return out.subarray(0, n);
}

/** Converts a code point script over (a, b) to code units, appending to `out`. */
function toUnits(ops: number[], a: Int32Array, b: Int32Array, out: Script): void {
  const width = (cp: number): number => (cp > 0xffff ? 2 : 1);
  let ia = 0;
  let ib = 0;
  for (let i = 0; i < ops.length; i += 2) {
    const kind = ops[i];
    const n = ops[i + 1];
    let units = 0;
    if (kind === INS) for (let j = ib; j < ib + n; j++) units += width(b[j]);
    else for (let j = ia; j < ia + n; j++) units += width(a[j]);
    if (kind !== INS) ia += n;
    if (kind !== DEL) ib += n;
    out.push(kind, units);
  }
}

// ---- Myers ----------------------------------------------------------------------------------

/** Appends to `out` a shortest edit script from `a` to `b` (Myers, divide and conquer). */
function diff(a: Int32Array, b: Int32Array, out: Script, budget: Budget): void {
  const max = Math.min(a.length, b.length);
  let p = 0;
  while (p < max && a[p] === b[p]) p++;
  let s = 0;
  while (s < max - p && a[a.length - 1 - s] === b[b.length - 1 - s]) s++;
  budget.spend(1 + p + s);
  out.push(EQ, p);
  const a2 = a.subarray(p, a.length - s);
  const b2 = b.subarray(p, b.length - s);
  const split = a2.length > 0 && b2.length > 0 ? middleSnake(a2, b2, budget) : null;
  // A split at either end would recurse forever; it cannot happen once the ends are trimmed.
  if (split && (split[0] > 0 || split[1] > 0) && (split[0] < a2.length || split[1] < b2.length)) {
    diff(a2.subarray(0, split[0]), b2.subarray(0, split[1]), out, budget);
    diff(a2.subarray(split[0]), b2.subarray(split[1]), out, budget);
  } else {
    out.push(DEL, a2.length);
    out.push(INS, b2.length);
  }
  out.push(EQ, s);
}

/**
 * Myers' middle snake (port of diff-match-patch's diff_bisect): runs the forward and reverse
 * searches until their furthest paths overlap and returns where, which splits the problem in
 * two halves of about half the edit distance each. O(ND) time, O(N) space: the greedy variant
 * with a stored trace would need O(D²) memory. Returns null if a and b share no element.
 */
function middleSnake(a: Int32Array, b: Int32Array, budget: Budget): [number, number] | null {
  const n = a.length;
  const m = b.length;
  const maxD = Math.ceil((n + m) / 2);
  const off = maxD;
  const vLen = 2 * maxD;
  // v1[off + k]: furthest x on diagonal k (x - y = k) of the forward search; v2 likewise for the
  // reverse search, with x counted from the end.
  const v1 = new Int32Array(vLen).fill(-1);
  const v2 = new Int32Array(vLen).fill(-1);
  v1[off + 1] = 0;
  v2[off + 1] = 0;
  const delta = n - m;
  // With an odd delta the paths meet during a forward step, otherwise during a reverse step.
  const front = (delta & 1) !== 0;
  // Diagonals that ran off the grid are skipped from then on.
  let k1start = 0;
  let k1end = 0;
  let k2start = 0;
  let k2end = 0;
  for (let d = 0; d < maxD; d++) {
    for (let k1 = -d + k1start; k1 <= d - k1end; k1 += 2) {
      const k1o = off + k1;
      let x1 = k1 === -d || (k1 !== d && v1[k1o - 1] < v1[k1o + 1]) ? v1[k1o + 1] : v1[k1o - 1] + 1;
      let y1 = x1 - k1;
      const x0 = x1;
      while (x1 < n && y1 < m && a[x1] === b[y1]) {
        x1++;
        y1++;
      }
      budget.spend(1 + x1 - x0);
      v1[k1o] = x1;
      if (x1 > n) k1end += 2;
      else if (y1 > m) k1start += 2;
      else if (front) {
        const k2o = off + delta - k1;
        if (k2o >= 0 && k2o < vLen && v2[k2o] !== -1 && x1 >= n - v2[k2o]) return [x1, y1];
      }
    }
    for (let k2 = -d + k2start; k2 <= d - k2end; k2 += 2) {
      const k2o = off + k2;
      let x2 = k2 === -d || (k2 !== d && v2[k2o - 1] < v2[k2o + 1]) ? v2[k2o + 1] : v2[k2o - 1] + 1;
      let y2 = x2 - k2;
      const x0 = x2;
      while (x2 < n && y2 < m && a[n - 1 - x2] === b[m - 1 - y2]) {
        x2++;
        y2++;
      }
      budget.spend(1 + x2 - x0);
      v2[k2o] = x2;
      if (x2 > n) k2end += 2;
      else if (y2 > m) k2start += 2;
      else if (!front) {
        const k1o = off + delta - k2;
        if (k1o >= 0 && k1o < vLen && v1[k1o] !== -1) {
          const x1 = v1[k1o];
          if (x1 >= n - x2) return [x1, off + x1 - k1o];
        }
      }
    }
  }
  return null;
}
