// Durability under kill -9 (DESIGN: "once fsync or close returned success, the change survives
// kill -9 of the daemon"). A writer fsyncs new small files and log lines in a replicated
// namespace and acks each only after fsync returned; the daemon is killed with SIGKILL at seeded
// random moments, the same data directory is mounted again on the dead mountpoint, and every
// acknowledged write must be back exactly, with nothing torn. scripts/crash-loop.ts is the long run.

import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { CrashModel, fileContent, fileName, LOG_NAME, logLine } from '../fixtures/crash-model.js'
import { runCrashLoop } from '../fixtures/crash-loop-runner.js'

const KILLS = Number(process.env.MESHFS_CRASH_KILLS ?? 20)
const SEED = Number(process.env.MESHFS_CRASH_SEED ?? Date.now() % 1_000_000_007)

describe('kill -9 of the daemon loses no fsync-acknowledged write', () => {
  test('the checker itself catches lost, torn and invented writes', () => {
    // The crash test is only as good as its checker: feed it broken states and demand it objects.
    const acks = { gen: 0, files: 2, lines: 2 }
    const good = new Map<string, Buffer>([
      [fileName(0, 0), fileContent(0, 0)],
      [fileName(0, 1), fileContent(0, 1)],
      [LOG_NAME, Buffer.from(logLine(0, 0) + logLine(0, 1))],
    ])
    const run = (state: Map<string, Buffer>, a = acks) => new CrashModel().check(a, [...state.keys()], (n) => state.get(n))
    assert.deepEqual(run(good), [])
    const lost = new Map(good)
    lost.delete(fileName(0, 1))
    assert.match(run(lost).join('\n'), /f-0-1 \(fsync acknowledged\) is missing/)
    const torn = new Map(good).set(fileName(0, 1), fileContent(0, 1).subarray(0, 3))
    assert.match(run(torn).join('\n'), /f-0-1 \(fsync acknowledged\) has 3 bytes/)
    const invented = new Map(good).set(fileName(0, 5), Buffer.alloc(0))
    assert.match(run(invented).join('\n'), /f-0-5 exists but was never written/)
    const shortLog = new Map(good).set(LOG_NAME, Buffer.from(logLine(0, 0)))
    assert.match(run(shortLog).join('\n'), /1 lines of generation 0, but 2 were fsync acknowledged/)
    const tornLog = new Map(good).set(LOG_NAME, Buffer.from(logLine(0, 0) + logLine(0, 1) + logLine(0, 2).slice(0, 5)))
    assert.match(run(tornLog).join('\n'), /not a prefix of what was written/)
    // The one write in flight at the kill may be absent, empty or complete, never partial.
    const inFlight = { gen: 0, files: 2, lines: 2 }
    assert.deepEqual(run(new Map(good).set(fileName(0, 2), Buffer.alloc(0)), inFlight), [])
    assert.deepEqual(run(new Map(good).set(fileName(0, 2), fileContent(0, 2)), inFlight), [])
    assert.match(
      run(new Map(good).set(fileName(0, 2), fileContent(0, 2).subarray(0, 3)), inFlight).join('\n'),
      /in flight at the kill\) is torn/,
    )
    // Later checks hold earlier states fixed: a file seen once must not change or vanish.
    const model = new CrashModel()
    assert.deepEqual(
      model.check(acks, [...good.keys()], (n) => good.get(n)),
      [],
    )
    const later = new Map(good)
    later.delete(fileName(0, 0))
    assert.match(
      model.check(undefined, [...later.keys()], (n) => later.get(n)).join('\n'),
      /f-0-0 \(seen after an earlier restart\) is missing/,
    )
  })

  test(`${KILLS} SIGKILLs at random moments (seed ${SEED}); remount on the same data; every acknowledged write is there, exactly`, {
    timeout: 180_000,
  }, async (t) => {
    t.diagnostic(`seed ${SEED} (replay: MESHFS_CRASH_SEED=${SEED}, or node dist/scripts/crash-loop.js --seed ${SEED})`)
    const lines: string[] = []
    const result = await runCrashLoop({ kills: KILLS, seed: SEED, report: (l) => lines.push(l) })
    for (const l of lines) t.diagnostic(l)
    t.diagnostic(JSON.stringify(result))
    assert.equal(result.kills, KILLS)
    // Kills that land after acks are the point of the test; the schedule must produce them.
    assert.ok(result.acknowledged > KILLS, `only ${result.acknowledged} acknowledged writes over ${KILLS} kills`)
  })
})
