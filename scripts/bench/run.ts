#!/usr/bin/env node
// `npm run bench [-- OPTIONS]`: runs every measure against meshfs and its baselines (tmpfs, a
// bare fuse-native filesystem) in one run, and writes bench/results/<date>-<commit>.{json,md}.
// Progress goes to stderr; the results table goes to stdout.

import { existsSync, mkdirSync } from 'node:fs'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { formatNumber } from './format.js'
import { isBusy, machineFacts } from './machine.js'
import { MEASURES } from './measures/all.js'
import type { Measure, MeasureContext } from './measures/measure.js'
import { NOT_YET_MEASURABLE } from './not-yet.js'
import { DEFAULT_RESULTS_DIR, MESHFS_CLI } from './paths.js'
import { runCommand } from './proc.js'
import { PROFILES, type Profile } from './profiles.js'
import { ResultCollector, renderMarkdown, writeResults } from './report.js'
import { ALL_TARGETS, DEFAULT_TARGETS, stopAllTargets, TARGET_LABELS, withTarget, type TargetName, type TargetOptions } from './targets.js'
import { createWorkspace, removeWorkspace, type Workspace } from './workspace.js'

const USAGE = `Usage: npm run bench -- [options]

  (no option)        the full run: 256 MiB files, 10,000 small files, 3 rounds (under 20 min on 2 cores)
  --quick            smaller sizes, every measure, one round (under 2 min)
  --tiny             a smoke run of a few seconds, for CI; its figures mean nothing
  --out DIR          where to write the results (default: bench/results)
  --only IDS         comma-separated measure ids: ${MEASURES.map((m) => m.id).join(', ')}
  --targets NAMES    comma-separated targets of ${ALL_TARGETS.join(', ')} (default ${DEFAULT_TARGETS.join(',')};
                     meshfs-ns is a replicated namespace made by mkdir, meshfs the in-memory handler)
  --cpu-prof DIR     write a V8 CPU profile of each meshfs daemon into DIR
  --keep-logs        keep the servers' logs (kept anyway when something failed)
`

interface CliOptions {
  profile: Profile
  outDir: string
  measures: Measure[]
  targets: TargetName[]
  targetOptions: TargetOptions
  keepLogs: boolean
}

function pickList<T>(arg: string | undefined, all: T[], key: (t: T) => string, what: string): T[] {
  if (arg === undefined) return all
  return arg.split(',').map((name) => {
    const found = all.find((t) => key(t) === name.trim())
    if (found === undefined) throw new Error(`unknown ${what} '${name}' (one of ${all.map(key).join(', ')})`)
    return found
  })
}

function parseCli(argv: string[]): CliOptions | undefined {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean' },
      tiny: { type: 'boolean' },
      out: { type: 'string' },
      only: { type: 'string' },
      targets: { type: 'string' },
      'cpu-prof': { type: 'string' },
      'keep-logs': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  if (values.help) return undefined
  if (values.quick && values.tiny) throw new Error('--quick and --tiny exclude each other')
  const cpuProfDir = values['cpu-prof'] && path.resolve(values['cpu-prof'])
  if (cpuProfDir) mkdirSync(cpuProfDir, { recursive: true })
  return {
    profile: PROFILES[values.tiny ? 'tiny' : values.quick ? 'quick' : 'full'],
    outDir: path.resolve(values.out ?? DEFAULT_RESULTS_DIR),
    measures: pickList(values.only, MEASURES, (m) => m.id, 'measure'),
    targets: values.targets === undefined ? DEFAULT_TARGETS : pickList(values.targets, ALL_TARGETS, (t) => t, 'target'),
    targetOptions: cpuProfDir ? { cpuProfDir } : {},
    keepLogs: values['keep-logs'] ?? false,
  }
}

/** Fail early, with the fix, on what a run needs from the machine. */
async function preflight(): Promise<void> {
  await runCommand('fio', ['--version']).catch(() => {
    throw new Error('fio is not installed (Debian: apt-get install fio)')
  })
  if (!existsSync('/dev/fuse')) throw new Error('/dev/fuse is missing: FUSE is not available here')
  if (!existsSync(MESHFS_CLI)) throw new Error(`${MESHFS_CLI} is missing: build first (npm run build)`)
}

const progress = (line: string) => process.stderr.write(`${line}\n`)

function summarize(values: Record<string, number>): string {
  return Object.entries(values)
    .map(([k, v]) => `${k} ${formatNumber(v)}`)
    .join(', ')
}

/**
 * One measure against each target it applies to, each target freshly started and stopped, for
 * as many rounds as the profile asks; the targets take turns within a round, so a slow spell of
 * the machine hits all of them rather than one.
 */
async function runMeasure(
  m: Measure,
  targets: TargetName[],
  ctx: MeasureContext,
  opts: TargetOptions,
  results: ResultCollector,
): Promise<void> {
  progress(`== ${m.title}`)
  const applicable = targets.filter((t) => !m.targets || m.targets.includes(t))
  try {
    await m.prepare?.(ctx)
  } catch (err) {
    for (const t of applicable) results.fail(m.id, t, err as Error)
    progress(`   prepare failed: ${(err as Error).message}`)
    return
  }
  results.addRows(m.id, m.title, m.rows(ctx))
  for (let round = 1; round <= ctx.profile.rounds; round++) {
    for (const name of applicable) {
      const started = Date.now()
      const label = `${ctx.profile.rounds > 1 ? `${round}/${ctx.profile.rounds} ` : ''}${TARGET_LABELS[name].padEnd(10)}`
      try {
        const { values, raw } = await withTarget(name, ctx.ws, opts, (t) => m.run(t, ctx))
        results.record(m.id, name, values, raw ?? {})
        progress(`   ${label} ${summarize(values)}  (${((Date.now() - started) / 1000).toFixed(1)} s)`)
      } catch (err) {
        results.fail(m.id, name, err as Error)
        progress(`   ${label} FAILED: ${(err as Error).message}`)
      }
    }
  }
  results.addNotes(m.notes(ctx))
}

/** Ctrl-C must still stop every server and detach every mount. */
function stopOnSignals(ws: Workspace): void {
  const onSignal = (signal: NodeJS.Signals) => {
    progress(`bench: ${signal}: stopping targets`)
    stopAllTargets()
      .then(() => removeWorkspace(ws, true))
      .then(() => progress(`server logs kept in ${ws.logDir}`))
      .finally(() => process.exit(130))
  }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
}

async function main(argv: string[]): Promise<number> {
  const opts = parseCli(argv)
  if (!opts) {
    process.stdout.write(USAGE)
    return 0
  }
  await preflight()
  const startedAt = new Date()
  const machine = await machineFacts()
  const ws = createWorkspace()
  stopOnSignals(ws)
  progress(
    `meshfs bench: ${opts.profile.name} run, commit ${machine.commit}${machine.dirty ? ' (dirty)' : ''}, work in ${ws.fuseRoot} and ${ws.shmRoot}`,
  )
  if (isBusy(machine))
    progress(
      `warning: 1-minute load is ${machine.loadAverageAtStart.toFixed(2)} on ${machine.cpus} cores: other processes will skew the figures`,
    )

  const results = new ResultCollector()
  const ctx: MeasureContext = { profile: opts.profile, ws }
  let leftover: string[] = []
  try {
    for (const m of opts.measures) await runMeasure(m, opts.targets, ctx, opts.targetOptions, results)
  } finally {
    await stopAllTargets()
    const keepLogs = opts.keepLogs || results.errors.length > 0
    leftover = await removeWorkspace(ws, keepLogs)
    if (keepLogs) progress(`server logs kept in ${ws.logDir}`)
  }
  if (leftover.length) results.errors.push(`still mounted after the run (detach with fusermount3 -uz): ${leftover.join(', ')}`)

  const result = results.finish(
    {
      date: startedAt.toISOString().slice(0, 10),
      startedAt: startedAt.toISOString(),
      profile: opts.profile.name,
      rounds: opts.profile.rounds,
      durationSeconds: (Date.now() - startedAt.getTime()) / 1000,
      machine,
      notYetMeasurable: NOT_YET_MEASURABLE,
    },
    opts.targets,
  )
  const files = writeResults(result, opts.outDir)
  process.stdout.write(renderMarkdown(result))
  progress(`wrote ${files.json}\nwrote ${files.markdown}\n${opts.profile.name} run took ${result.durationSeconds.toFixed(0)} s`)
  return result.errors.length > 0 ? 1 : 0
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (err: Error) => {
    process.stderr.write(`bench: ${err.message}\n`)
    process.exitCode = 1
  },
)
