// The results of a run: collected row by row while measures run, then written as JSON (for
// tools and later comparison) and as a markdown table (for people), which also goes to stdout.

import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { formatNumber } from './format.js'
import { GOALS, type Figures, type GoalCheck } from './goals.js'
import { isBusy, type MachineFacts } from './machine.js'
import type { RowSpec } from './measures/measure.js'
import type { PendingMeasure } from './not-yet.js'
import type { ProfileName } from './profiles.js'
import { median } from './stats.js'
import { ALL_TARGETS, BASELINES, SUBJECTS, TARGET_LABELS, type Baseline, type Subject, type TargetName } from './targets.js'

export interface RowResult extends RowSpec {
  measure: string
  group: string
  /** The median over rounds, per target: what the table shows. */
  values: Figures
  /** Every round's figure, per target, in round order. */
  samples: Partial<Record<TargetName, number[]>>
  /** meshfs / baseline: by meshfs variant, then by baseline. */
  ratios: Partial<Record<Subject, Partial<Record<Baseline, number>>>>
  /** The goal for this row, checked for each meshfs variant that ran. */
  goal?: { text: string; checks: Partial<Record<Subject, GoalCheck>> }
}

export interface BenchResult {
  schema: 1
  date: string
  startedAt: string
  profile: ProfileName
  rounds: number
  durationSeconds: number
  machine: MachineFacts
  /** The targets this run measured, in table order, with their labels. */
  targets: Array<{ name: TargetName; label: string }>
  rows: RowResult[]
  notYetMeasurable: PendingMeasure[]
  /** Per measure and target, one entry per round: the measure's raw figures (seconds, fio percentiles, ...). */
  raw: Record<string, Partial<Record<TargetName, unknown[]>>>
  notes: string[]
  /** "measure / target: message" for every measure that failed on a target. */
  errors: string[]
}

/** Collects figures as the run goes; `finish` turns them into a BenchResult. */
export class ResultCollector {
  private readonly rows: Array<Omit<RowResult, 'values' | 'ratios' | 'goal'>> = []
  private readonly raw: BenchResult['raw'] = {}
  private readonly notes: string[] = []
  readonly errors: string[] = []

  addRows(measure: string, group: string, specs: RowSpec[]): void {
    for (const spec of specs) this.rows.push({ ...spec, measure, group, samples: {} })
  }

  /** One round's figures of `measure` on `target`. */
  record(measure: string, target: TargetName, values: Record<string, number>, raw: unknown): void {
    for (const row of this.rows) {
      if (row.measure === measure && row.key in values) (row.samples[target] ??= []).push(values[row.key]!)
    }
    ;((this.raw[measure] ??= {})[target] ??= []).push(raw)
  }

  fail(measure: string, target: TargetName, err: Error): void {
    this.errors.push(`${measure} / ${TARGET_LABELS[target]}: ${err.message}`)
  }

  addNotes(notes: string[]): void {
    this.notes.push(...notes)
  }

  finish(
    meta: Pick<BenchResult, 'date' | 'startedAt' | 'profile' | 'rounds' | 'durationSeconds' | 'machine' | 'notYetMeasurable'>,
    ran: TargetName[],
  ): BenchResult {
    const rows = this.rows.map((row) => {
      const values: Figures = {}
      for (const t of ALL_TARGETS) {
        const samples = row.samples[t]
        if (samples?.length) values[t] = median(samples)
      }
      return { ...row, values, ratios: ratiosOf(values), ...goalOf(row.key, values) }
    })
    const targets = ALL_TARGETS.filter((t) => ran.includes(t)).map((name) => ({ name, label: TARGET_LABELS[name] }))
    return { schema: 1, ...meta, targets, rows, raw: this.raw, notes: this.notes, errors: this.errors }
  }
}

function ratiosOf(values: Figures): RowResult['ratios'] {
  const ratios: RowResult['ratios'] = {}
  for (const s of SUBJECTS) {
    const mine = values[s]
    if (mine === undefined) continue
    for (const b of BASELINES) {
      const base = values[b]
      if (base) (ratios[s] ??= {})[b] = mine / base
    }
  }
  return ratios
}

function goalOf(key: string, values: Figures): Pick<RowResult, 'goal'> {
  const goal = GOALS.find((g) => g.row === key)
  if (!goal) return {}
  const checks: Partial<Record<Subject, GoalCheck>> = {}
  for (const s of SUBJECTS) {
    const check = goal.check(values, s)
    if (check) checks[s] = check
  }
  return { goal: { text: goal.text, checks } }
}

/** `2025-11-23-df046f5` for the reference run; quick and tiny runs say so, never overwriting it. */
export function resultBaseName(r: BenchResult): string {
  return `${r.date}-${r.machine.commit}${r.profile === 'full' ? '' : `-${r.profile}`}`
}

export function writeResults(r: BenchResult, dir: string): { json: string; markdown: string } {
  mkdirSync(dir, { recursive: true })
  const base = path.join(dir, resultBaseName(r))
  const files = { json: `${base}.json`, markdown: `${base}.md` }
  writeFileSync(files.json, `${JSON.stringify(r, null, 2)}\n`)
  writeFileSync(files.markdown, renderMarkdown(r))
  return files
}

const cell = (v: number | undefined) => (v === undefined ? '—' : formatNumber(v))
const ratioCell = (v: number | undefined) => (v === undefined ? '—' : `${v.toFixed(2)}x`)

/** The table's columns: figures per target, ratios per (meshfs variant, baseline) that both ran. */
function columnsOf(r: BenchResult) {
  const ran = r.targets.map((t) => t.name)
  const subjects = SUBJECTS.filter((s) => ran.includes(s))
  const ratioPairs = subjects.flatMap((s) => BASELINES.filter((b) => ran.includes(b)).map((b) => [s, b] as const))
  return { ran, subjects, ratioPairs }
}

function goalCells(row: RowResult, subjects: Subject[]): [string, string] {
  if (!row.goal) return ['', '']
  const status = subjects.map((s) => {
    const c = row.goal!.checks[s]
    const verdict = c === undefined ? 'n/a' : c.pass ? `pass (${c.measured})` : `**miss** (${c.measured})`
    return subjects.length > 1 ? `${TARGET_LABELS[s]}: ${verdict}` : verdict
  })
  return [row.goal.text, status.join('; ')]
}

function renderTable(r: BenchResult): string[] {
  const { ran, subjects, ratioPairs } = columnsOf(r)
  const head = [
    'measure',
    'unit',
    ...ran.map((t) => TARGET_LABELS[t]),
    ...ratioPairs.map(([s, b]) => `${TARGET_LABELS[s]} / ${TARGET_LABELS[b]}`),
    'goal',
    'status',
  ]
  const lines = [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i < 2 || i >= head.length - 2 ? ' --- ' : ' ---: ')).join('|')}|`]
  const groupRow = (title: string) => `| **${title}** |${' |'.repeat(head.length - 1)}`
  let group = ''
  for (const row of r.rows) {
    if (row.group !== group) lines.push(groupRow((group = row.group)))
    const cells = [
      row.label,
      `${row.unit} ${row.better === 'higher' ? '↑' : '↓'}`,
      ...ran.map((t) => cell(row.values[t])),
      ...ratioPairs.map(([s, b]) => ratioCell(row.ratios[s]?.[b])),
      ...goalCells(row, subjects),
    ]
    lines.push(`| ${cells.join(' | ')} |`)
  }
  for (const p of r.notYetMeasurable) {
    if (p.group !== group) lines.push(groupRow((group = p.group)))
    const dashes = [...ran, ...ratioPairs].map(() => '—')
    lines.push(`| ${p.label} | | ${dashes.join(' | ')} | not yet measurable | needs ${p.needs} |`)
  }
  return lines
}

function describeMachine(m: MachineFacts): string {
  const gib = (m.memoryBytes / 2 ** 30).toFixed(1)
  return `${m.cpus} × ${m.cpuModel}, ${gib} GiB RAM, Linux ${m.kernel} (${m.os}), Node ${m.node}, ${m.fio}, fuse-native ${m.fuseNative}`
}

export function renderMarkdown(r: BenchResult): string {
  const commit = `${r.machine.commit}${r.machine.dirty ? ' + uncommitted changes' : ''}`
  const out = [
    `# meshfs benchmark — ${r.date}, ${commit} (${r.profile} run, ${(r.durationSeconds / 60).toFixed(1)} min)`,
    '',
    `Machine: ${describeMachine(r.machine)}.`,
    '',
    ...(isBusy(r.machine)
      ? [
          `**Warning:** the machine was busy when the run started (1-minute load ${r.machine.loadAverageAtStart.toFixed(2)} on ${r.machine.cpus} cores): other processes competed with every measure.`,
          '',
        ]
      : []),
    `Every figure was measured in this run, on a fresh instance of each target${r.rounds > 1 ? `; each is the median of ${r.rounds} rounds, the targets interleaved in every round` : ` (one round: on a small VM a single round's FUSE figures can be up to 2x off, compare full runs)`}. Ratios are meshfs / baseline; ` +
      '↑ higher is better, ↓ lower is better. **meshfs ns** works in a replicated namespace made by `mkdir MOUNT/bench` ' +
      '(Yjs tree and text docs, SQLite store, every close durable): what users get. **meshfs** works in an in-memory ' +
      'handler (`--handler /bench=memory`, the class of the root handler): the cost of the FUSE adapter, Vfs and mount table alone.',
    '',
    ...renderTable(r),
    '',
  ]
  if (r.notes.length) out.push('Notes:', '', ...r.notes.map((n) => `- ${n}`), '')
  if (r.errors.length) out.push('Errors:', '', ...r.errors.map((e) => `- ${e.replace(/\n/g, ' ')}`), '')
  return out.join('\n')
}
