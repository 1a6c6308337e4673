/**
 * Seeded convergence property of TreeDoc (harness in tree-harness.ts). Each case is
 * reproducible: MESHFS_TREE_SEED=N runs just seed N; the failure message names the seed and
 * carries the operation/network trace.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { runCase } from './tree-harness.js'

const CASES = 2400
const only = process.env.MESHFS_TREE_SEED

test('replicas converge to the same valid tree under random ops and a random network', () => {
  const seeds = only !== undefined ? [Number(only)] : Array.from({ length: CASES }, (_, i) => i + 1)
  const stats = { 2: 0, 3: 0, ops: 0, nodes: 0, conflicts: 0, cycleSkips: 0, editBeatDelete: 0, heldOpen: 0, revivals: 0 }
  for (const seed of seeds) {
    assert.ok(Number.isSafeInteger(seed), `bad MESHFS_TREE_SEED ${only}`)
    const r = runCase(seed)
    stats[r.replicas as 2 | 3]++
    stats.ops += r.ops
    stats.nodes += r.nodes
    stats.conflicts += r.coverage.conflicts
    stats.cycleSkips += r.coverage.cycleSkips
    stats.editBeatDelete += r.coverage.editBeatDelete
    stats.heldOpen += r.coverage.heldOpen
    stats.revivals += r.coverage.revivals
  }
  console.log(`# ${JSON.stringify(stats)}`)
  // Both replica counts really ran, and the cases did work (guards against a vacuous pass).
  if (only === undefined) {
    assert.ok(stats[2] >= 1000 && stats[3] >= 1000, JSON.stringify(stats))
    assert.ok(stats.nodes > seeds.length * 3, JSON.stringify(stats))
    assert.ok(stats.conflicts > 100 && stats.cycleSkips > 100, JSON.stringify(stats))
    assert.ok(stats.editBeatDelete > 500 && stats.heldOpen > 150 && stats.revivals > 500, JSON.stringify(stats))
  }
})
