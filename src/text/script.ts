// Edit scripts and the time budget of the diffs that compute them (diff.ts, myers.ts).

/** Diff steps between two clock reads: reading the clock costs far more than one step. */
const CHECK_EVERY = 1024

export const EQ = 0
export const DEL = 1
export const INS = 2

/** A flat edit script `[kind, count, kind, count, ...]`; adjacent ops of one kind are merged. */
export class Script {
  readonly ops: number[] = []

  push(kind: number, n: number): void {
    if (n === 0) return
    const o = this.ops
    if (o.length > 0 && o[o.length - 2] === kind) o[o.length - 1] += n
    else o.push(kind, n)
  }
}

export class DiffTimeout extends Error {}

/** Counts diff work and reads the clock every CHECK_EVERY steps. */
export class Budget {
  private work = 0
  private nextCheck = CHECK_EVERY

  constructor(private readonly deadline: number) {}

  spend(n: number): void {
    this.work += n
    if (this.work < this.nextCheck) return
    this.nextCheck = this.work + CHECK_EVERY
    if (performance.now() > this.deadline) throw new DiffTimeout('text diff time limit exceeded')
  }
}
