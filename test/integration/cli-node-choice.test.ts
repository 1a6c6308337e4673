// One node per command, chosen well: with several real daemons running, the CLI talks to the
// node that --data, $MESHFS_DATA or the mount holding the current directory names, to the
// default data directory's daemon when it runs, and otherwise refuses with the list. Keys print
// so that none starts with '-', and the old form, '--' and short prefixes are handled.

import assert from 'node:assert/strict'
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { describe, test } from 'node:test'
import { q, TEST_TIMEOUT, withCluster } from '../support/cluster.js'
import { CLI, ok, sh, tempDir, type ShResult } from '../support/harness.js'

/** `meshfs ARGS` run from `cwd`, with `env` added to (or, as undefined, removed from) the test's environment. */
function meshfs(args: string[], opts: { cwd?: string; env?: Record<string, string | undefined> } = {}): Promise<ShResult> {
  const env = { ...process.env, ...opts.env }
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k]
  return sh(`${q(process.execPath)} ${q(CLI)} ${args.map(q).join(' ')}`, { ...(opts.cwd && { cwd: opts.cwd }), env })
}

/**
 * A node key (base64url) that starts with '--', the worst case for an argument parser: one in
 * 4,096 keys does. Found once with generateKeyPairSync and kept, so the test needs no search (a
 * test key, it guards nothing).
 */
const DASHED_IDENTITY = {
  publicKey: '--QKaaTLXHh8pIj4tPJzoqzEOqBRg4ifyRuc0FVKs-w',
  privateKey: 'fYOuOKt5W3uMgvJ-Ehjbtmikxz4oiwQMrtOZ87JWBu4',
}

describe('the node a command talks to', () => {
  test('--data, MESHFS_DATA, the mount holding the cwd, the running default; else refused with the list', { timeout: TEST_TIMEOUT }, () =>
    withCluster(async (c) => {
      const a = await c.start()
      const b = await c.start()
      await ok(`mkdir ${q(`${a.mnt}/only-a`)} ${q(`${b.mnt}/only-b`)} ${q(`${b.mnt}/only-b/design`)}`)
      // No default node: an empty XDG_DATA_HOME, and no MESHFS_DATA from the environment.
      const home = tempDir('xdg')
      const none = { XDG_DATA_HOME: home, MESHFS_DATA: undefined }
      const list = async (opts: Parameters<typeof meshfs>[1], ...extra: string[]) => {
        const r = await meshfs(['ns', 'list', '--verbose', ...extra], opts)
        assert.equal(r.code, 0, r.stderr)
        return r
      }
      try {
        // Inside B's mount (deep in a group), without --data: B answers, and --verbose says why.
        const inB = await list({ cwd: `${b.mnt}/only-b/design`, env: none })
        assert.match(inB.stdout, /only-b/)
        assert.doesNotMatch(inB.stdout, /only-a/)
        assert.match(inB.stderr, new RegExp(`data directory ${b.data}: the current directory is inside its mount at ${b.mnt}`))
        // MESHFS_DATA beats the current directory, and --data beats both.
        const env = await list({ cwd: b.mnt, env: { ...none, MESHFS_DATA: a.data } })
        assert.match(env.stdout, /only-a/)
        assert.match(env.stderr, /given by \$MESHFS_DATA/)
        const flag = await list({ cwd: a.mnt, env: { ...none, MESHFS_DATA: a.data } }, '--data', b.data)
        assert.match(flag.stdout, /only-b/)
        assert.match(flag.stderr, /given with --data/)

        // Outside every mount, with (at least) these two running and no default: refused, listed.
        const refused = await meshfs(['ns', 'list'], { cwd: home, env: none })
        assert.equal(refused.code, 2, refused.stderr)
        assert.match(refused.stderr, /meshfs daemons are running and nothing says which one to use: pass --data DIR, set MESHFS_DATA/)
        for (const n of [a, b]) assert.match(refused.stderr, new RegExp(`  ${n.data}  mounted at ${n.mnt}, pid \\d+`))
        assert.equal(refused.stdout, '')

        // The default data directory's daemon, when it runs, is the default.
        const xdg = tempDir('xdg-a')
        symlinkSync(a.data, path.join(xdg, 'meshfs'))
        const byDefault = await list({ cwd: home, env: { XDG_DATA_HOME: xdg, MESHFS_DATA: undefined } })
        assert.match(byDefault.stdout, /only-a/)
        assert.match(byDefault.stderr, /the default data directory, whose daemon is running/)
        await ok(`rm -rf ${q(xdg)}`)
      } finally {
        await ok(`rm -rf ${q(home)}`)
      }
    }),
  )

  test("keys print without a leading '-'; both forms, '--' and prefixes are read; short prefixes say so", { timeout: TEST_TIMEOUT }, () =>
    withCluster(async (c) => {
      const root = c.keptRoot('dashes')
      const key = DASHED_IDENTITY
      mkdirSync(path.join(root, 'data'), { mode: 0o700 })
      writeFileSync(path.join(root, 'data', 'identity.json'), JSON.stringify({ version: 1, node: key, namespaces: {} }), { mode: 0o600 })
      const a = await c.start(undefined, root)
      await ok(`mkdir ${q(`${a.mnt}/team`)}`)
      const cli = (...args: string[]) => meshfs([...args, '--data', a.data])
      const shown = key.publicKey.replaceAll('-', '.')

      const members = await cli('ns', 'members', 'team')
      assert.equal(members.code, 0, members.stderr)
      assert.match(members.stdout, new RegExp(`^${shown.replaceAll('.', '\\.')}\\s+admin`, 'm'))
      assert.doesNotMatch(members.stdout, /^-/m)
      assert.match((await cli('ns', 'identity', 'team')).stdout, new RegExp(`public key: ${shown.replaceAll('.', '\\.')}\n`))
      assert.match((await cli('status')).stdout, new RegExp(`^node\\s+${shown.replaceAll('.', '\\.')}$`, 'm'))
      // JSON keeps the key as the API has it.
      assert.equal(JSON.parse((await cli('ns', 'identity', 'team', '--json')).stdout).publicKey, key.publicKey)

      // The printed form, whole and as a prefix, as a plain argument.
      for (const given of [shown, shown.slice(0, 8)]) {
        const r = await cli('ns', 'grant', 'team', given, 'admin')
        assert.equal(r.code, 0, `${given}: ${r.stderr}`)
        assert.equal(r.stdout, `${shown} is now admin of team\n`)
      }
      // The old form needs '--' in front of it (it starts with '--'), and then works.
      const old = await meshfs(['ns', 'grant', '--data', a.data, 'team', '--', key.publicKey, 'admin'])
      assert.equal(old.code, 0, old.stderr)
      const tooShort = await cli('ns', 'grant', 'team', shown.slice(0, 3), 'admin')
      assert.equal(tooShort.code, 2)
      assert.match(tooShort.stderr, /prefix too short: '\.\.\S' has 3 characters; give the whole key or at least 6/)
      assert.doesNotMatch(tooShort.stderr, /no current member/)
      const nobody = await cli('ns', 'grant', 'team', 'zzzzzzzz', 'admin')
      assert.equal(nobody.code, 1)
      assert.match(nobody.stderr, /no current member zzzzzzzz/)
    }),
  )
})
