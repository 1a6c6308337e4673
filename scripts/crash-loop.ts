// Long crash run: `node dist/scripts/crash-loop.js [--kills N] [--seed S] [--max-delay MS]`.
// Kills the meshfs daemon with SIGKILL N times (default 100) at seeded random moments while a
// writer fsyncs files and log lines in a replicated namespace, remounts each time and checks that
// every fsync-acknowledged write survived intact (test/fixtures/crash-loop-runner.ts).
// Exit 0 when all kills passed, 1 on a violation (with the seed to replay it), 2 on bad arguments.

import { runCrashLoop } from '../test/fixtures/crash-loop-runner.js'

function parseArgs(argv: string[]): { kills: number; seed: number; maxDelayMs: number } {
  const out = { kills: 100, seed: Date.now() % 1_000_000_007, maxDelayMs: 300 }
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!
    const value = argv[++i]
    const n = Number(value)
    if (value === undefined || !Number.isInteger(n) || n < 0) throw new Error(`${flag} needs a non-negative integer`)
    if (flag === '--kills') out.kills = n
    else if (flag === '--seed') out.seed = n
    else if (flag === '--max-delay') out.maxDelayMs = Math.max(1, n)
    else throw new Error(`unknown option ${flag} (usage: crash-loop [--kills N] [--seed S] [--max-delay MS])`)
  }
  return out
}

let args: ReturnType<typeof parseArgs>
try {
  args = parseArgs(process.argv.slice(2))
} catch (err) {
  process.stderr.write(`crash-loop: ${(err as Error).message}\n`)
  process.exit(2)
}

try {
  const result = await runCrashLoop({ ...args, report: (line) => process.stdout.write(`${line}\n`) })
  process.stdout.write(`ok: ${JSON.stringify(result)}\n`)
} catch (err) {
  process.stderr.write(`crash-loop FAILED (seed ${args.seed}): ${(err as Error).stack ?? err}\n`)
  process.exit(1)
}
