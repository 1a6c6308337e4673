/**
 * Long run of the TreeDoc convergence property, plus the size of the tree doc per node.
 *
 *   node dist/scripts/fuzz-tree.js --cases 100000 --seed 1
 *   node dist/scripts/fuzz-tree.js --cases 0          # only the size measurement
 *
 * Cases are seeds seed, seed+1, ...; a failure prints the seed (rerun it alone with
 * MESHFS_TREE_SEED=N node --test dist/test/crdt/) and exits 1.
 */
import { parseArgs } from 'node:util'
import * as Y from 'yjs'
import { TreeDoc } from '../src/model/tree/tree.js'
import { runCase } from '../test/model/tree-harness.js'
import { Prng } from '../test/support/prng.js'

const ROOT = TreeDoc.ROOT

function fuzz(cases: number, first: number): boolean {
  const start = Date.now()
  let lastReport = start
  const totals = { ops: 0, nodes: 0, conflicts: 0, cycleSkips: 0, editBeatDelete: 0, heldOpen: 0 }
  for (let i = 0; i < cases; i++) {
    const seed = first + i
    try {
      const r = runCase(seed)
      totals.ops += r.ops
      totals.nodes += r.nodes
      totals.conflicts += r.coverage.conflicts
      totals.cycleSkips += r.coverage.cycleSkips
      totals.editBeatDelete += r.coverage.editBeatDelete
      totals.heldOpen += r.coverage.heldOpen
    } catch (e) {
      console.error(e instanceof Error ? e.message : e)
      console.error(`FAILED at seed ${seed} after ${i} passing cases`)
      return false
    }
    if (Date.now() - lastReport > 10_000) {
      lastReport = Date.now()
      console.log(`${i + 1}/${cases} cases, ${((lastReport - start) / 1000).toFixed(0)} s`)
    }
  }
  const secs = (Date.now() - start) / 1000
  console.log(`${cases} cases passed (seeds ${first}..${first + cases - 1}) in ${secs.toFixed(1)} s`, totals)
  return true
}

interface Size {
  readonly label: string
  readonly nodes: number
  readonly v1: number
  readonly v2: number
  readonly ms: number
  readonly loadMs: number
}

/** 10,000 creates in a realistic shape: 100 groups of 99 files each. */
function measure(label: string, shape: 'nested' | 'flat', extra?: (tree: TreeDoc, files: string[], rng: Prng) => void): Size {
  const tree = new TreeDoc(new Y.Doc())
  const rng = new Prng(42)
  const files: string[] = []
  const start = performance.now()
  if (shape === 'flat') {
    for (let f = 0; f < 10_000; f++) files.push(tree.create(ROOT, `file-${f.toString().padStart(5, '0')}.txt`, 'file', 0o644))
  } else {
    for (let g = 0; g < 100; g++) {
      const group = tree.create(ROOT, `dir-${g.toString().padStart(2, '0')}`, 'group', 0o755)
      for (let f = 0; f < 99; f++) files.push(tree.create(group, `file-${f.toString().padStart(4, '0')}.txt`, 'file', 0o644))
    }
  }
  extra?.(tree, files, rng)
  const ms = performance.now() - start
  const nodes = 10_000
  const v1 = Y.encodeStateAsUpdate(tree.doc).byteLength
  const v2 = Y.encodeStateAsUpdateV2(tree.doc).byteLength
  // The resolved tree must survive the round trip; a fresh load is a full resolution.
  const copy = new Y.Doc()
  Y.applyUpdate(copy, Y.encodeStateAsUpdate(tree.doc))
  const loadStart = performance.now()
  const loaded = new TreeDoc(copy)
  if (loaded.children(ROOT).length !== tree.children(ROOT).length) throw new Error('round trip lost nodes')
  return { label, nodes, v1, v2, ms, loadMs: performance.now() - loadStart }
}

function sizes(): void {
  const hash = (rng: Prng) => rng.hex16() + rng.hex16() + rng.hex16() + rng.hex16()
  const rows = [
    measure('10k creates (100 dirs x 99 files)', 'nested'),
    measure('10k creates, flat directory', 'flat'),
    measure('+ meta {h: 64-hex hash, size} per file', 'nested', (t, files, rng) => {
      for (const f of files) {
        t.setMeta(f, 'h', hash(rng))
        t.setMeta(f, 'size', String(rng.int(1e6)))
      }
    }),
    measure('+ every file renamed once', 'nested', (t, files) => {
      for (const f of files) t.rename(f, `${t.get(f).name}.bak`)
    }),
    measure('+ every file moved once', 'nested', (t, files, rng) => {
      const groups = t.children(ROOT).map((c) => c.id)
      for (const f of files) {
        const to = rng.pick(groups)
        if (to !== t.get(f).parentId) t.move(f, to, `m-${f}`)
      }
    }),
    measure('+ every file removed', 'nested', (t, files) => {
      for (const f of files) t.remove(f)
    }),
  ]
  console.log('tree doc size, Y.encodeStateAsUpdate (V1) and ...V2, per node:')
  for (const r of rows) {
    console.log(
      `  ${r.label.padEnd(42)} ${(r.v1 / r.nodes).toFixed(1).padStart(6)} B/node V1  ${(r.v2 / r.nodes).toFixed(1).padStart(6)} B/node V2  (ops ${r.ms.toFixed(0)} ms, full resolve ${r.loadMs.toFixed(0)} ms)`,
    )
  }
}

const { values } = parseArgs({
  options: {
    cases: { type: 'string', default: '10000' },
    seed: { type: 'string', default: '1' },
  },
})
const cases = Number(values.cases)
const seed = Number(values.seed)
if (!Number.isSafeInteger(cases) || cases < 0 || !Number.isSafeInteger(seed)) {
  console.error('usage: fuzz-tree.js [--cases N] [--seed S]')
  process.exit(2)
}
sizes()
if (cases > 0 && !fuzz(cases, seed)) process.exitCode = 1
