// Myers' O(ND) diff in its linear-space form (middle snake, as in diff-match-patch), over
// integer sequences (line ids or code points), within a time budget.

import { type Budget, DEL, EQ, INS, type Script } from './script.js'

/** Appends to `out` a shortest edit script from `a` to `b` (Myers, divide and conquer). */
export function diff(a: Int32Array, b: Int32Array, out: Script, budget: Budget): void {
  const max = Math.min(a.length, b.length)
  let p = 0
  while (p < max && a[p] === b[p]) p++
  let s = 0
  while (s < max - p && a[a.length - 1 - s] === b[b.length - 1 - s]) s++
  budget.spend(1 + p + s)
  out.push(EQ, p)
  const a2 = a.subarray(p, a.length - s)
  const b2 = b.subarray(p, b.length - s)
  const split = a2.length > 0 && b2.length > 0 ? middleSnake(a2, b2, budget) : null
  // A split at either end would recurse forever; it cannot happen once the ends are trimmed.
  if (split && (split[0] > 0 || split[1] > 0) && (split[0] < a2.length || split[1] < b2.length)) {
    diff(a2.subarray(0, split[0]), b2.subarray(0, split[1]), out, budget)
    diff(a2.subarray(split[0]), b2.subarray(split[1]), out, budget)
  } else {
    out.push(DEL, a2.length)
    out.push(INS, b2.length)
  }
  out.push(EQ, s)
}

/**
 * Myers' middle snake (port of diff-match-patch's diff_bisect): runs the forward and reverse
 * searches until their furthest paths overlap and returns where, which splits the problem in
 * two halves of about half the edit distance each. O(ND) time, O(N) space: the greedy variant
 * with a stored trace would need O(D²) memory. Returns null if a and b share no element.
 */
function middleSnake(a: Int32Array, b: Int32Array, budget: Budget): [number, number] | null {
  const n = a.length
  const m = b.length
  const maxD = Math.ceil((n + m) / 2)
  const off = maxD
  const vLen = 2 * maxD
  // v1[off + k]: furthest x on diagonal k (x - y = k) of the forward search; v2 likewise for the
  // reverse search, with x counted from the end.
  const v1 = new Int32Array(vLen).fill(-1)
  const v2 = new Int32Array(vLen).fill(-1)
  v1[off + 1] = 0
  v2[off + 1] = 0
  const delta = n - m
  // With an odd delta the paths meet during a forward step, otherwise during a reverse step.
  const front = (delta & 1) !== 0
  // Diagonals that ran off the grid are skipped from then on.
  let k1start = 0
  let k1end = 0
  let k2start = 0
  let k2end = 0
  for (let d = 0; d < maxD; d++) {
    for (let k1 = -d + k1start; k1 <= d - k1end; k1 += 2) {
      const k1o = off + k1
      let x1 = k1 === -d || (k1 !== d && v1[k1o - 1] < v1[k1o + 1]) ? v1[k1o + 1] : v1[k1o - 1] + 1
      let y1 = x1 - k1
      const x0 = x1
      while (x1 < n && y1 < m && a[x1] === b[y1]) {
        x1++
        y1++
      }
      budget.spend(1 + x1 - x0)
      v1[k1o] = x1
      if (x1 > n) k1end += 2
      else if (y1 > m) k1start += 2
      else if (front) {
        const k2o = off + delta - k1
        if (k2o >= 0 && k2o < vLen && v2[k2o] !== -1 && x1 >= n - v2[k2o]) return [x1, y1]
      }
    }
    for (let k2 = -d + k2start; k2 <= d - k2end; k2 += 2) {
      const k2o = off + k2
      let x2 = k2 === -d || (k2 !== d && v2[k2o - 1] < v2[k2o + 1]) ? v2[k2o + 1] : v2[k2o - 1] + 1
      let y2 = x2 - k2
      const x0 = x2
      while (x2 < n && y2 < m && a[n - 1 - x2] === b[m - 1 - y2]) {
        x2++
        y2++
      }
      budget.spend(1 + x2 - x0)
      v2[k2o] = x2
      if (x2 > n) k2end += 2
      else if (y2 > m) k2start += 2
      else if (!front) {
        const k1o = off + delta - k2
        if (k1o >= 0 && k1o < vLen && v1[k1o] !== -1) {
          const x1 = v1[k1o]
          if (x1 >= n - x2) return [x1, off + x1 - k1o]
        }
      }
    }
  }
  return null
}
