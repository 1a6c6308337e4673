// The rough edges a new user hit (issue 17), each on real daemons: Ctrl-C on `meshfs mount | tee`,
// a second signal, a remembered port taken since, a non-empty mountpoint, `--mkdir` after a
// refusal, joining one's own invitation, `--version --json`, and leave acknowledgements counted
// per peer.

import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { describe, test } from 'node:test'
import { invite, join, q, share, statusUrl, TEST_TIMEOUT, withCluster } from '../support/cluster.js'
import { CLI, isMounted, ok, REPO, runCli, sh, startMount, tempDir } from '../support/harness.js'
import { waitFor } from '../support/wait.js'

const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

interface Status {
  pid: number
  nodeId: string
  connectedPeers: Array<{ key: string; connections: number; namespaces: string[] }>
  namespaces: Array<{ id: string; alias: string | null }>
}

describe('rough edges of everyday use', () => {
  test('--version --json prints JSON', async () => {
    const version = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')).version
    for (const args of [
      ['--version', '--json'],
      ['-V', '--json'],
    ]) {
      const r = await runCli(args)
      assert.equal(r.code, 0)
      assert.deepEqual(JSON.parse(r.stdout), { name: 'meshfs', version })
    }
  })

  test('`meshfs mount X 2>&1 | tee log`, then Ctrl-C to the group: unmounted, exited, no stale pid file', async () => {
    const root = tempDir('tee')
    const mnt = path.join(root, 'mnt')
    const data = path.join(root, 'data')
    const log = path.join(root, 'log')
    mkdirSync(mnt)
    // Its own process group, as a shell job is: the terminal's Ctrl-C goes to the whole group.
    const job = spawn('bash', ['-c', `${q(process.execPath)} ${q(CLI)} mount ${q(mnt)} --data ${q(data)} 2>&1 | tee ${q(log)}`], {
      detached: true,
      stdio: 'ignore',
    })
    let daemon: number | undefined
    try {
      await waitFor(async () => (await isMounted(mnt)) && existsSync(path.join(mnt, '.meshfs/status')), { what: 'the mount' })
      daemon = (JSON.parse(readFileSync(path.join(mnt, '.meshfs/status'), 'utf8')) as Status).pid
      process.kill(-job.pid!, 'SIGINT')
      await waitFor(() => !alive(daemon!), { what: `the daemon (pid ${daemon}) to exit after SIGINT` })
      assert.equal(await isMounted(mnt), false)
      assert.equal(existsSync(path.join(data, 'daemon.pid')), false, 'daemon.pid left behind')
      assert.match(readFileSync(log, 'utf8'), /mounted at/)
    } finally {
      if (daemon !== undefined && alive(daemon)) process.kill(daemon, 'SIGKILL')
      if (job.exitCode === null && job.signalCode === null) process.kill(-job.pid!, 'SIGKILL')
      if (await isMounted(mnt)) await sh(`fusermount3 -uz ${q(mnt)}`)
      rmSync(root, { recursive: true, force: true })
    }
  })

  test('a second signal right after the first still unmounts before exiting', async () => {
    const node = await startMount()
    try {
      node.proc.kill('SIGTERM')
      node.proc.kill('SIGTERM')
      await waitFor(() => node.proc.exitCode !== null, { what: 'the daemon to exit' })
      assert.equal(await isMounted(node.mnt), false, 'a (dead) mount was left behind')
      await ok(`stat ${q(node.mnt)}`)
      assert.equal(existsSync(path.join(node.data, 'daemon.pid')), false, 'daemon.pid left behind')
    } finally {
      await node.stop()
    }
  })

  test(
    'a remembered port taken since: a free one, logged; a taken --listen port: a hint, and --mkdir cleans up',
    { timeout: TEST_TIMEOUT },
    () =>
      withCluster(async (c) => {
        const root = c.keptRoot('port')
        const first = await c.start(['--listen', '127.0.0.1'], root)
        const port = Number(new URL(await statusUrl(first)).port)
        await c.stop(first)
        const squatter = net.createServer()
        await new Promise<void>((resolve, reject) => squatter.once('error', reject).listen(port, '127.0.0.1', resolve))
        const other = tempDir('port-other')
        try {
          const again = await c.start([], root)
          assert.match(
            again.log(),
            new RegExp(
              `EADDRINUSE.*${port}: the port this node used last time is taken; listening on a free port instead \\(pass --listen 127\\.0\\.0\\.1:PORT`,
            ),
          )
          assert.notEqual(Number(new URL(await statusUrl(again)).port), port)

          const made = path.join(other, 'made')
          const r = await runCli([
            'mount',
            path.join(made, 'deeper', 'mnt'),
            '--mkdir',
            '--data',
            path.join(other, 'data'),
            '--listen',
            `127.0.0.1:${port}`,
          ])
          assert.equal(r.code, 1, r.stderr)
          assert.match(
            r.stderr,
            new RegExp(`port ${port} is taken; pass --listen 127\\.0\\.0\\.1:OTHER_PORT, or --listen 127\\.0\\.0\\.1 for a free one`),
          )
          assert.equal(existsSync(made), false, '--mkdir left the directories it made')
        } finally {
          squatter.close()
          rmSync(other, { recursive: true, force: true })
        }
      }),
  )

  test('a non-empty mountpoint is refused by meshfs, not by libfuse', async () => {
    const dir = tempDir('full')
    const data = tempDir('full-data')
    try {
      writeFileSync(path.join(dir, 'precious.txt'), 'mine\n')
      const r = await runCli(['mount', dir, '--data', data])
      assert.equal(r.code, 2, r.stderr)
      assert.match(r.stderr, /^meshfs: mount: mountpoint \S+ is not empty \(meshfs mounts on an empty directory/)
      assert.doesNotMatch(r.stderr, /'nonempty'/)
      assert.equal(await isMounted(dir), false)
      assert.equal(readFileSync(path.join(dir, 'precious.txt'), 'utf8'), 'mine\n')
    } finally {
      rmSync(dir, { recursive: true, force: true })
      rmSync(data, { recursive: true, force: true })
    }
  })

  test('joining your own invitation says so', { timeout: TEST_TIMEOUT }, () =>
    withCluster(async (c) => {
      const a = await c.start()
      await ok(`mkdir ${q(`${a.mnt}/team`)}`)
      const r = await runCli(['join', await invite(a, 'team'), '--data', a.data])
      assert.equal(r.code, 2, r.stderr)
      assert.match(r.stderr, /this invitation was made by this node: join it from another node/)
      assert.doesNotMatch(r.stderr, /could not reach the inviter/)
    }),
  )

  test('ns leave counts acknowledgements per peer, also with two connections to it', { timeout: TEST_TIMEOUT }, () =>
    withCluster(async (c) => {
      const a = await c.start()
      const b = await c.start()
      // Each joins through the other, so each keeps a connection to the other: two links.
      await share(a, [b], 'team')
      await ok(`mkdir ${q(`${b.mnt}/other`)}`)
      await join(a, await invite(b, 'other'))
      const status = async (n: typeof a) => JSON.parse(await ok(`cat ${q(`${n.mnt}/.meshfs/status`)}`)) as Status
      const sa = await status(a)
      const teamId = sa.namespaces.find((n) => n.alias === 'team')!.id
      await waitFor(
        async () =>
          (await status(b)).connectedPeers.some((p) => p.key === sa.nodeId && p.connections === 2 && p.namespaces.includes(teamId)),
        { what: 'B to share team with A over two connections', timeoutMs: 20_000 },
      )
      const r = await runCli(['ns', 'leave', 'team', '--data', b.data])
      assert.equal(r.code, 0, r.stderr)
      assert.match(r.stdout, /; 1 of 1 connected peers acknowledged\n$/)
    }),
  )
})
