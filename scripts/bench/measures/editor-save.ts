// Measure 3: editor save latency. The atomic save that editors do (write a temp file, fsync,
// rename it over the original), timed one by one; a user feels the slow tail, hence p99.

import { percentile } from '../stats.js'
import type { Measure } from './measure.js'
import { runFsWorker } from './worker.js'

/** A typical source file. */
const FILE_BYTES = 8 * 1024

export const editorSave: Measure = {
  id: 'editor-save',
  title: '3. Editor save (write temp, fsync, rename over)',

  rows: ({ profile: p }) => [
    { key: 'save-p50', label: `save of an 8 KiB file, p50 of ${p.editorSaves}`, unit: 'ms', better: 'lower' },
    { key: 'save-p99', label: `save of an 8 KiB file, p99 of ${p.editorSaves}`, unit: 'ms', better: 'lower' },
  ],

  async run(target, { profile: p }) {
    const { latenciesMs } = await runFsWorker<{ latenciesMs: number[] }>(['saves', target.dir, p.editorSaves, FILE_BYTES])
    return {
      values: { 'save-p50': percentile(latenciesMs, 50), 'save-p99': percentile(latenciesMs, 99) },
      raw: { maxMs: Math.max(...latenciesMs), meanMs: latenciesMs.reduce((a, b) => a + b, 0) / latenciesMs.length },
    }
  },

  notes: () => [
    "Editor save: meshfs's in-memory handler has nothing to make durable, so its fsync returns at once, as the " +
      "bare server's does. In a replicated namespace fsync must store the change first (the durability rule).",
  ],
}
