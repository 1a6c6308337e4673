// What a measure is: rows it fills (one figure per target each), and a run against one fresh
// target. The driver runs every measure against every target it applies to, in the same run,
// so each meshfs figure has its baselines measured minutes apart on the same machine.

import type { Profile } from '../profiles.js'
import type { RunningTarget, TargetName } from '../targets.js'
import type { Workspace } from '../workspace.js'

export interface RowSpec {
  key: string
  label: string
  unit: string
  /** Which direction is good; ratios are always meshfs / baseline, this says how to read them. */
  better: 'higher' | 'lower'
}

export interface MeasureContext {
  profile: Profile
  ws: Workspace
}

export interface MeasureResult {
  /** One figure per row key. */
  values: Record<string, number>
  /** Anything worth keeping in the JSON beside the figures (raw seconds, fio's numbers). */
  raw?: Record<string, unknown>
}

export interface Measure {
  id: string
  title: string
  /** The targets this measure makes sense for (default: all). */
  targets?: TargetName[]
  /** Once per run, before any target: build inputs shared by all targets (a tarball). */
  prepare?(ctx: MeasureContext): Promise<void>
  /** Called after `prepare`, so labels can name what was prepared. */
  rows(ctx: MeasureContext): RowSpec[]
  run(target: RunningTarget, ctx: MeasureContext): Promise<MeasureResult>
  /** Caveats a reader needs (what is cached, what "cold" means here). */
  notes(ctx: MeasureContext): string[]
}
