// The performance goals for meshfs, checked on each run for each meshfs variant that ran.
// They are goals for later comparison, not gates: a miss is reported with its margin and the
// run does not fail on it.

import { formatNumber } from './format.js'
import type { Subject, TargetName } from './targets.js'

export type Figures = Partial<Record<TargetName, number>>

export interface GoalCheck {
  pass: boolean
  /** The measured side of the comparison, e.g. "0.31x bare" or "812 files/s". */
  measured: string
}

export interface Goal {
  /** The row it applies to. */
  row: string
  text: string
  /** Undefined when a figure it needs is missing. */
  check(f: Figures, subject: Subject): GoalCheck | undefined
}

/** A meshfs figure / bare FUSE's, compared with a bound. */
function ratioToBare(row: string, op: '>=' | '<=', bound: number): Goal {
  return {
    row,
    text: `${op} ${bound}x bare FUSE`,
    check: (f, subject) => {
      const mine = f[subject]
      if (mine === undefined || !f.bare) return undefined
      const r = mine / f.bare
      return { pass: op === '>=' ? r >= bound : r <= bound, measured: `${r.toFixed(2)}x bare` }
    },
  }
}

/** A meshfs figure compared with a bound. */
function absolute(row: string, op: '>=' | '<=', bound: number, unit: string): Goal {
  return {
    row,
    text: `${op} ${bound.toLocaleString('en')} ${unit}`,
    check: (f, subject) => {
      const mine = f[subject]
      if (mine === undefined) return undefined
      return { pass: op === '>=' ? mine >= bound : mine <= bound, measured: `${formatNumber(mine)} ${unit}` }
    },
  }
}

export const GOALS: Goal[] = [
  ratioToBare('seq-read', '>=', 0.5),
  ratioToBare('seq-write', '>=', 0.5),
  absolute('create', '>=', 1000, 'files/s'),
  ratioToBare('ls-warm', '<=', 2),
  absolute('save-p99', '<=', 50, 'ms'),
]
