// The layering of src/ (scripts/architecture.ts, described in the README's "How it is built"):
// no import points up, every room is in the layering, and no source file grows past the limit.

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { fileSizes, importEdges, MAX_FILE_LINES, violation } from '../scripts/architecture.js'

test('every import of src/ points down the layering (or stays in its room)', () => {
  const edges = importEdges()
  assert.ok(edges.length > 100, `only ${edges.length} imports found: the scan is broken`)
  const bad = edges.filter((e) => violation(e)).map((e) => `${e.file}: '${e.spec}' (${violation(e)})`)
  assert.deepEqual(bad, [])
})

test('the layering check rejects an upward import and a foreign one (it can fail)', () => {
  assert.match(violation({ from: 'store', to: 'namespace', file: 'x', spec: '../namespace/x.js' }) ?? '', /points up/)
  assert.match(violation({ from: 'client', to: 'net', file: 'x', spec: '../net/x.js' }) ?? '', /may import only/)
  assert.equal(violation({ from: 'namespace', to: 'replica', file: 'x', spec: '../replica/x.js' }), undefined)
})

test(`no source file of src/ passes ${MAX_FILE_LINES} lines`, () => {
  const big = fileSizes()
    .filter((f) => f.lines > MAX_FILE_LINES)
    .map((f) => `${f.file}: ${f.lines} lines`)
  assert.deepEqual(big, [])
})
