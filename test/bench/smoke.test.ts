// The benchmark must not rot: a tiny run of every measure on every default target, in CI.
// Its figures mean nothing; that it runs, and reports each target, does.

import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { readdirSync, readFileSync, rmSync } from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'
import { REPO, tempDir } from '../support/harness.js'

test('npm run bench -- --tiny runs every measure and writes its results', { timeout: 300_000 }, async () => {
  const out = tempDir('bench')
  try {
    const r = await new Promise<{ code: number; stderr: string }>((resolve) =>
      execFile(
        process.execPath,
        [path.join(REPO, 'dist/scripts/bench/run.js'), '--tiny', '--out', out],
        { cwd: REPO, timeout: 280_000 },
        (err, _o, stderr) => resolve({ code: err ? 1 : 0, stderr }),
      ),
    )
    assert.equal(r.code, 0, r.stderr)
    const files = readdirSync(out)
    const json = files.find((f) => f.endsWith('.json'))
    assert.ok(json, `results JSON in ${files.join(', ')}`)
    assert.ok(
      files.some((f) => f.endsWith('.md')),
      'a markdown table',
    )
    const text = readFileSync(path.join(out, json!), 'utf8')
    for (const target of ['tmpfs', 'bare', 'meshfs-ns']) assert.match(text, new RegExp(`"${target}"`), target)
  } finally {
    rmSync(out, { recursive: true, force: true })
  }
})
