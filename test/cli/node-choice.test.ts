// Which node a CLI command talks to (cli/node-choice.ts), and how keys are printed and read
// (cli/keys.ts): the rules on their own, over given situations. The integration tests in
// test/integration/cli-node-choice.test.ts run them against real daemons.

import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { PrefixError, readKey, resolveKey, showKey } from '../../src/cli/keys.js'
import { decide, type Situation } from '../../src/cli/node-choice.js'
import { UsageError } from '../../src/cli/usage-error.js'

const A = { mountpoint: '/tmp/alice', dataDir: '/tmp/alice-data', pid: 11 }
const B = { mountpoint: '/tmp/bob', dataDir: '/tmp/bob-data', pid: 12 }
const HUNG = { mountpoint: '/tmp/hung', dataDir: undefined, pid: undefined }
const base: Situation = {
  flag: undefined,
  env: undefined,
  cwd: '/home/u',
  defaultDir: '/home/u/.local/share/meshfs',
  defaultRunning: false,
  running: [A, B],
}

describe('choosing the node', () => {
  test('--data, then $MESHFS_DATA, then the mount holding the current directory', () => {
    assert.deepEqual(decide({ ...base, flag: 'rel', env: '/e', cwd: '/tmp/bob/team' }), {
      dataDir: `${process.cwd()}/rel`,
      why: 'given with --data',
    })
    assert.equal(decide({ ...base, env: '/e', cwd: '/tmp/bob/team' }).dataDir, '/e')
    const inside = decide({ ...base, cwd: '/tmp/bob/team/design' })
    assert.equal(inside.dataDir, B.dataDir)
    assert.match(inside.why, /inside its mount at \/tmp\/bob/)
    assert.equal(decide({ ...base, cwd: '/tmp/bob' }).dataDir, B.dataDir)
    // A path that only starts with the mount's name is not inside it.
    assert.throws(() => decide({ ...base, cwd: '/tmp/bobby' }), UsageError)
  })

  test('the innermost mount wins, and a hung one is named, not guessed around', () => {
    const nested = { mountpoint: '/tmp/alice/team/inner', dataDir: '/tmp/inner-data', pid: 13 }
    assert.equal(decide({ ...base, running: [A, nested], cwd: '/tmp/alice/team/inner/x' }).dataDir, '/tmp/inner-data')
    assert.throws(
      () => decide({ ...base, running: [A, HUNG], cwd: '/tmp/hung/x' }),
      /inside the meshfs mount at \/tmp\/hung, whose daemon does not answer/,
    )
  })

  test('outside any mount: the running default, else the only daemon, else the default', () => {
    assert.equal(decide({ ...base, defaultRunning: true }).dataDir, base.defaultDir)
    assert.deepEqual(decide({ ...base, running: [B] }), { dataDir: B.dataDir, why: 'the only meshfs daemon running (mounted at /tmp/bob)' })
    assert.match(decide({ ...base, running: [] }).why, /no meshfs daemon is running/)
  })

  test('several running and nothing to tell them apart: refused, with the list', () => {
    for (const running of [[A, B], [A, HUNG], [HUNG]]) {
      let err: unknown
      try {
        decide({ ...base, running })
      } catch (e) {
        err = e
      }
      assert.ok(err instanceof UsageError, `${JSON.stringify(running)} should be refused`)
      assert.match(err.message, /nothing says which one to use: pass --data DIR, set MESHFS_DATA, or run the command inside a mount/)
      for (const n of running) assert.match(err.message, new RegExp(`  ${n.dataDir ?? '\\(not answering\\)'}  mounted at ${n.mountpoint}`))
    }
  })
})

describe('keys on the command line', () => {
  const keys = ['--5i31abcdefAAAA', '-5i31xyz', 'b0c123aaaa', 'b0c123bbbb', 'Zz_9-q']

  test('a printed key never starts with - and reads back as itself, whole or as a prefix', () => {
    for (const k of keys) {
      assert.ok(!showKey(k).startsWith('-'), showKey(k))
      assert.ok(!showKey(k).includes('-'))
      assert.equal(readKey(showKey(k)), k)
      assert.equal(readKey(k), k, 'the old form is still accepted')
    }
    assert.equal(resolveKey('..5i31abc', keys, 'members'), '--5i31abcdefAAAA')
    assert.equal(resolveKey('--5i31abc', keys, 'members'), '--5i31abcdefAAAA')
    assert.equal(resolveKey('Zz_9.q', keys, 'members'), 'Zz_9-q', 'a whole key shorter than the minimum')
    assert.equal(resolveKey('nobody', keys, 'members'), undefined)
  })

  test('a prefix under the minimum or not unique says "prefix too short"', () => {
    assert.throws(
      () => resolveKey('b0c', keys, 'members'),
      (e: Error) => e instanceof PrefixError && /^prefix too short: 'b0c' has 3 characters/.test(e.message),
    )
    assert.throws(
      () => resolveKey('b0c123', keys, 'members'),
      (e: Error) =>
        e instanceof PrefixError && /^prefix too short: 'b0c123' starts the keys of 2 members \(b0c123aaaa, b0c123bbbb\)/.test(e.message),
    )
  })
})
