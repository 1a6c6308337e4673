#!/usr/bin/env node
// Summarize a V8 .cpuprofile (from `node --cpu-prof`, or `npm run bench -- --cpu-prof DIR`):
// the functions with the most self time, and the source files they live in. Enough to see
// where a daemon spends its time without opening DevTools.
//
// Usage: node dist/scripts/bench/cpu-profile-top.js FILE.cpuprofile [TOP]

import { readFileSync } from 'node:fs'

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  hitCount?: number
}

interface CpuProfile {
  nodes: ProfileNode[]
  startTime: number
  endTime: number
  samples: number[]
  timeDeltas: number[]
}

/** Self time in microseconds per node id: each sample's delta belongs to the node sampled. */
function selfTimes(p: CpuProfile): Map<number, number> {
  const self = new Map<number, number>()
  for (const [i, id] of p.samples.entries()) self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i + 1] ?? 0))
  return self
}

function shortUrl(url: string): string {
  const at = url.lastIndexOf('/node_modules/')
  if (at >= 0) return url.slice(at + '/node_modules/'.length)
  const dist = url.lastIndexOf('/dist/')
  if (dist >= 0) return url.slice(dist + 1)
  return url.replace(/^node:/, '') || '(native)'
}

function table(title: string, totals: Map<string, number>, all: number, top: number): string[] {
  const rows = [...totals].sort((a, b) => b[1] - a[1]).slice(0, top)
  return [
    title,
    ...rows.map(([name, us]) => `${((100 * us) / all).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(7)} ms  ${name}`),
    '',
  ]
}

function main(file: string, top: number): string {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile
  const byId = new Map(p.nodes.map((n) => [n.id, n]))
  const byFunction = new Map<string, number>()
  const byFile = new Map<string, number>()
  let all = 0
  for (const [id, us] of selfTimes(p)) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame
    const where = shortUrl(url)
    const fn = `${functionName || '(anonymous)'}  ${where}${url ? `:${lineNumber + 1}` : ''}`
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + us)
    byFile.set(where, (byFile.get(where) ?? 0) + us)
    all += us
  }
  return [
    `${file}: ${(all / 1e6).toFixed(2)} s sampled`,
    '',
    ...table('self time by function:', byFunction, all, top),
    ...table('self time by file:', byFile, all, top),
  ].join('\n')
}

const [file, top] = process.argv.slice(2)
if (!file) {
  process.stderr.write('usage: cpu-profile-top FILE.cpuprofile [TOP]\n')
  process.exitCode = 2
} else {
  process.stdout.write(`${main(file, Number(top ?? 25))}\n`)
}
