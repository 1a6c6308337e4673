/**
 * Crash durability: a child process appends updates and stores blobs, printing each one as soon
 * as the store call returned (its acknowledgement); the parent SIGKILLs it at a random moment,
 * reopens the store and checks that every acknowledged write is there. Ten rounds on the same
 * data dir, so later rounds also recover from earlier crashes, and compaction runs every few
 * updates, so some kills land in the middle of one.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { describe, it } from 'node:test'
import * as Y from 'yjs'
import { openLocalStore } from '../../src/store/local-store.js'
import { seededRandom } from '../support/prng.js'
import { removeTempDir, tempDir } from './helpers.js'

const ROUNDS = 10
const DOCS = 3

/** Runs in the child. Writes go to a pipe, which Node writes synchronously on Linux. */
const CHILD = `
const { openLocalStore } = await import(process.env.MESHFS_STORE_MODULE);
const Y = await import(process.env.MESHFS_YJS_MODULE);
const store = openLocalStore(process.env.MESHFS_DATA_DIR, { compactAfterUpdates: 7 });
const round = process.env.MESHFS_ROUND;
let seq = 0;
const docs = [];
for (let k = 0; k < ${DOCS}; k++) {
  const doc = new Y.Doc();
  doc.on('update', (update) => { seq = store.docs.appendUpdate(['crash', 'doc' + k], update); });
  docs.push(doc);
}
for (let i = 0; ; i++) {
  const k = i % ${DOCS};
  docs[k].getMap('m').set('r' + round + '-' + i, i);
  process.stdout.write('update ' + k + ' r' + round + '-' + i + ' ' + i + ' ' + seq + '\\n');
  if (i % 10 === 0) {
    const hash = store.blobs.putBlob(new TextEncoder().encode('blob r' + round + '-' + i + ' '.repeat(i % 5000)));
    process.stdout.write('blob ' + hash + '\\n');
  }
}
`

interface Acks {
  updates: Array<{ doc: number; key: string; value: number; seq: number }>
  blobs: string[]
}

interface ChildRun {
  lines: string[]
  signal: NodeJS.Signals | null
  code: number | null
  stderr: string
  delayMs: number
}

function runAndKill(dataDir: string, round: number, delayMs: number): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD], {
      env: {
        ...process.env,
        MESHFS_STORE_MODULE: new URL('../../src/store/local-store.js', import.meta.url).href,
        MESHFS_YJS_MODULE: import.meta.resolve('yjs'),
        MESHFS_DATA_DIR: dataDir,
        MESHFS_ROUND: String(round),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    let timer: NodeJS.Timeout | undefined
    // A child that never acknowledges anything would hang the test: kill it regardless.
    const safety = setTimeout(() => child.kill('SIGKILL'), 20_000)
    child.stdout.setEncoding('utf8')
    child.stderr.setEncoding('utf8')
    child.stdout.on('data', (chunk: string) => {
      stdout += chunk
      if (timer === undefined && stdout.includes('\n')) timer = setTimeout(() => child.kill('SIGKILL'), delayMs)
    })
    child.stderr.on('data', (chunk: string) => (stderr += chunk))
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(safety)
      if (timer !== undefined) clearTimeout(timer)
      // Only complete lines are acknowledgements; a torn last line was never fully written.
      const lines = stdout.split('\n').slice(0, -1)
      resolve({ lines, signal, code, stderr, delayMs })
    })
  })
}

function parseAcks(lines: string[], into: Acks): void {
  for (const line of lines) {
    const [kind, ...rest] = line.split(' ')
    if (kind === 'update') {
      const [doc, key, value, seq] = rest
      into.updates.push({ doc: Number(doc), key: key!, value: Number(value), seq: Number(seq) })
    } else if (kind === 'blob') {
      into.blobs.push(rest[0]!)
    } else {
      assert.fail(`unexpected child output line ${JSON.stringify(line)}`)
    }
  }
}

describe('crash durability', () => {
  it(`keeps every acknowledged write across ${ROUNDS} SIGKILLs at random moments`, async (t) => {
    const dataDir = tempDir('crash')
    const seed = Date.now() >>> 0
    const random = seededRandom(seed)
    const acked: Acks = { updates: [], blobs: [] }
    const perRound: number[] = []
    try {
      for (let round = 0; round < ROUNDS; round++) {
        const delayMs = Math.floor(random() * 250)
        const run = await runAndKill(dataDir, round, delayMs)
        const context = `round ${round}, seed ${seed}, kill ${delayMs} ms after the first ack`
        assert.equal(run.signal, 'SIGKILL', `the child should die by SIGKILL, not exit (${run.code}): ${context}\n${run.stderr}`)
        assert.ok(run.lines.length > 0, `the child acknowledged nothing: ${context}\n${run.stderr}`)
        const before = acked.updates.length
        parseAcks(run.lines, acked)
        perRound.push(acked.updates.length - before)

        const store = openLocalStore(dataDir) // includes the quick_check of start-up
        try {
          for (let k = 0; k < DOCS; k++) {
            const bytes = store.docs.loadDoc(['crash', `doc${k}`])
            const ackedHere = acked.updates.filter((u) => u.doc === k)
            if (ackedHere.length === 0) continue
            assert.ok(bytes !== undefined, `doc ${k} lost entirely: ${context}`)
            const doc = new Y.Doc()
            Y.applyUpdate(doc, bytes)
            assert.equal(doc.store.pendingStructs, null, `doc ${k} has updates with missing predecessors: ${context}`)
            const map = doc.getMap<number>('m')
            for (const ack of ackedHere) {
              assert.equal(
                map.get(ack.key),
                ack.value,
                `acknowledged update ${ack.key} (seq ${ack.seq}) of doc ${k} is missing: ${context}`,
              )
            }
            const lastSeq = Math.max(...ackedHere.map((u) => u.seq))
            assert.ok(store.docs.stats(['crash', `doc${k}`])!.seq >= lastSeq, `doc ${k}'s seq went back: ${context}`)
          }
          for (const hash of acked.blobs)
            assert.ok(store.blobs.getBlob(hash) !== undefined, `acknowledged blob ${hash} is missing: ${context}`)
        } finally {
          store.close()
        }
      }
      t.diagnostic(`seed ${seed}; updates acknowledged per round: ${perRound.join(', ')}; blobs: ${acked.blobs.length}`)
      // Each round wrote something, so each crash hit a store with work in flight.
      assert.equal(perRound.filter((n) => n > 0).length, ROUNDS, `updates acknowledged per round: ${perRound.join(', ')}`)
    } finally {
      removeTempDir(dataDir)
    }
  })
})
