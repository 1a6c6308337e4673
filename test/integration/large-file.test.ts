// A 1 GiB file works and is never held whole: the daemon's peak memory stays far below its size.

import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { ok, startMount, tempDir } from '../support/harness.js'

function peakRssKiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmHWM:'))!
  return Number(line.split(/\s+/)[1])
}

/** Writing or hashing 1 GiB through the mount: ~20 s on an idle machine, much more on a busy one. */
const BIG_MS = 240_000

test('a 1 GiB file is written, read back exactly, survives a restart, and is never held in memory whole', {
  timeout: 900_000,
}, async () => {
  const root = tempDir('large')
  let node = await startMount([], { root })
  const m = () => node.mnt
  try {
    await ok(`mkdir ${m()}/big`)
    // A deterministic, incompressible 1 GiB stream (AES-CTR of zeros), hashed as it is written.
    const gen = `openssl enc -aes-128-ctr -nosalt -pass pass:meshfs -pbkdf2 -in /dev/zero 2>/dev/null | head -c 1073741824`
    const written = (await ok(`${gen} | tee ${m()}/big/file | sha256sum`, undefined, BIG_MS)).split(' ')[0]
    assert.equal(await ok(`stat -c %s ${m()}/big/file`), '1073741824\n')
    assert.equal((await ok(`sha256sum < ${m()}/big/file`, undefined, BIG_MS)).split(' ')[0], written)
    const peakMiB = peakRssKiB(node.proc.pid!) / 1024
    assert.ok(peakMiB < 512, `daemon peak RSS ${peakMiB.toFixed(0)} MiB for a 1024 MiB file`)
    await node.stop()
    node = await startMount([], { root })
    assert.equal((await ok(`sha256sum < ${m()}/big/file`, undefined, BIG_MS)).split(' ')[0], written)
  } finally {
    await node.stop()
    await ok(`rm -rf ${root}`)
  }
})
