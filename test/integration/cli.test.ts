// The meshfs command: help, versions, argument errors, which, unmount, crash recovery.

import assert from 'node:assert/strict'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { describe, test } from 'node:test'
import { REPO, isMounted, ok, runCli, sh, startMount, tempDir } from '../support/harness.js'
import { waitFor } from '../support/wait.js'

describe('meshfs CLI', () => {
  test('--help and --version', async () => {
    const help = await runCli(['--help'])
    assert.equal(help.code, 0)
    assert.match(help.stdout, /Usage: meshfs <command>/)
    for (const cmd of ['mount', 'unmount', 'which']) {
      const r = await runCli([cmd, '--help'])
      assert.equal(r.code, 0)
      assert.match(r.stdout, new RegExp(`Usage: meshfs ${cmd}`))
    }
    const version = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')).version
    assert.equal((await runCli(['--version'])).stdout, `meshfs ${version}\n`)
  })

  test('bad arguments exit 2 with a one-line reason', async () => {
    const dir = tempDir('cli')
    try {
      writeFileSync(`${dir}/file`, 'x')
      const cases: Array<[string[], RegExp]> = [
        [['mount'], /missing MOUNTPOINT/],
        [['mount', `${dir}/nowhere`], /does not exist/],
        [['mount', `${dir}/file`], /is not a directory/],
        [['mount', dir, '--handler', '/x=nosuch'], /unknown handler kind 'nosuch'/],
        [['mount', dir, '--handler', 'x=memory'], /must start with '\/'/],
        [['mount', dir, '--handler', '/x=dir'], /needs an argument/],
        [['mount', dir, '--op-timeout', 'soon'], /--op-timeout/],
        [['mount', dir, '--bogus'], /Unknown option '--bogus'/],
        [['frobnicate'], /unknown command 'frobnicate'/],
        [['which'], /missing PATH/],
      ]
      for (const [args, reason] of cases) {
        const r = await runCli(args)
        assert.equal(r.code, 2, `meshfs ${args.join(' ')} should exit 2, got ${r.code}: ${r.stderr}`)
        assert.match(r.stderr, reason)
        assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`)
      }
      assert.equal((await runCli([])).code, 2)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  test('which names the handler serving a path', async () => {
    const host = tempDir('which')
    const node = await startMount(['--handler', `/host=dir:${host}`, '--handler', '/time=time', '--handler', '/host/inner=memory'])
    try {
      assert.equal((await runCli(['which', `${node.mnt}/host/a/b`])).stdout, `/host\tdir\t${host}\t/a/b\n`)
      assert.equal((await runCli(['which', `${node.mnt}/host/inner/x`])).stdout, `/host/inner\tmemory\t/x\n`)
      assert.equal((await runCli(['which', `${node.mnt}/time`])).stdout, `/time\ttime\t/\n`)
      assert.equal((await runCli(['which', `${node.mnt}/elsewhere`])).stdout, `/\tmemory\t/elsewhere\n`)
      // Fan's rule: /a/b/c mounted inside /a wins for everything under it, and shows up in listings.
      assert.match(await ok(`ls ${node.mnt}/host`), /^inner$/m)
      const outside = await runCli(['which', '/etc'])
      assert.equal(outside.code, 1)
      assert.match(outside.stderr, /not inside a meshfs mount/)
    } finally {
      await node.stop()
      rmSync(host, { recursive: true, force: true })
    }
  })

  test('the time handler is read-only (EROFS)', async () => {
    const node = await startMount(['--handler', '/time=time'])
    try {
      assert.match(await ok(`cat ${node.mnt}/time/year`), /^\d{4}\n$/)
      assert.match((await sh(`echo 1999 > ${node.mnt}/time/year`)).stderr, /Read-only file system/)
      assert.match((await sh(`touch ${node.mnt}/time/new`)).stderr, /Read-only file system/)
      assert.match((await sh(`rm ${node.mnt}/time/year`)).stderr, /Read-only file system/)
    } finally {
      await node.stop()
    }
  })

  test('meshfs unmount stops the daemon and unmounts', async () => {
    const node = await startMount()
    try {
      const r = await runCli(['unmount', node.mnt])
      assert.equal(r.code, 0, r.stderr)
      assert.equal(await isMounted(node.mnt), false)
      await waitFor(() => node.proc.exitCode !== null, { what: 'the daemon to exit' })
      assert.equal(node.proc.exitCode, 0)
      assert.match(node.log(), /SIGTERM: unmounting/)
    } finally {
      await node.stop()
    }
  })

  test('SIGINT unmounts cleanly too', async () => {
    const node = await startMount()
    try {
      node.proc.kill('SIGINT')
      await waitFor(() => node.proc.exitCode !== null, { what: 'the daemon to exit' })
      assert.equal(node.proc.exitCode, 0)
      assert.equal(await isMounted(node.mnt), false)
    } finally {
      await node.stop()
    }
  })

  test('a mountpoint left dead by kill -9 is recovered by the next mount', async () => {
    const root = tempDir('dead')
    const first = await startMount([], { root })
    try {
      first.proc.kill('SIGKILL')
      await waitFor(() => first.proc.signalCode !== null, { what: 'the daemon to die' })
      const dead = await sh(`stat ${first.mnt}`)
      assert.match(dead.stderr, /Transport endpoint is not connected/)
      const second = await startMount([], { root })
      try {
        assert.match(second.log(), /left dead by a crashed daemon/)
        await ok(`echo back > ${second.mnt}/f && cat ${second.mnt}/f`)
      } finally {
        await second.stop()
      }
    } finally {
      await first.stop()
      rmSync(root, { recursive: true, force: true })
    }
  })

  test('one data directory serves one daemon at a time', async () => {
    const node = await startMount()
    const other = tempDir('other')
    try {
      const r = await runCli(['mount', other, '--data', node.data], { timeoutMs: 10_000 })
      assert.equal(r.code, 1)
      assert.match(r.stderr, /in use by the meshfs daemon with pid \d+/)
      assert.equal(await isMounted(other), false)
    } finally {
      await node.stop()
      rmSync(other, { recursive: true, force: true })
    }
  })
})
