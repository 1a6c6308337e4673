// Replicated namespaces and groups on a real mount: mkdir creates, mv nests and unnests with
// ids kept, POSIX errors, the CLI, and everything back after a remount.

import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { describe, test } from 'node:test'
import { ok, runCli, sh, startMount, tempDir } from '../support/harness.js'

const idOf = (p: string) => ok(`getfattr -n user.meshfs.id --only-values '${p}'`)

describe('namespaces and groups on a real mount', () => {
  test('mkdir at the top creates a namespace; deeper mkdir creates groups; mv nests and unnests keeping ids', async () => {
    const node = await startMount()
    try {
      const m = node.mnt
      await ok(`mkdir ${m}/team && mkdir -p ${m}/team/design/icons ${m}/team/ops`)
      assert.equal(await ok(`getfattr -n user.meshfs.kind --only-values ${m}/team`), 'namespace')
      assert.equal(await ok(`getfattr -n user.meshfs.application --only-values ${m}/team`), 'files')
      assert.equal(await ok(`getfattr -n user.meshfs.upgrade_policy --only-values ${m}/team`), 'lazy-on-access')
      assert.equal(await ok(`getfattr -n user.meshfs.kind --only-values ${m}/team/design`), 'group')
      const design = await idOf(`${m}/team/design`)
      const icons = await idOf(`${m}/team/design/icons`)
      assert.match(design, /^[0-9a-f]{16}$/)
      await ok(`echo logo > ${m}/team/design/icons/logo.svg`)

      await ok(`cd ${m}/team && mv design ops/`) // nest_group(ops, design)
      assert.equal(await ok(`cd ${m}/team && find . | sort`), '.\n./ops\n./ops/design\n./ops/design/icons\n./ops/design/icons/logo.svg\n')
      assert.equal(await idOf(`${m}/team/ops/design`), design)
      assert.equal(await idOf(`${m}/team/ops/design/icons`), icons)

      await ok(`cd ${m}/team && mv ops/design .`) // unnest_group
      assert.equal(await idOf(`${m}/team/design`), design)
      assert.equal(await ok(`cat ${m}/team/design/icons/logo.svg`), 'logo\n')

      const groups = JSON.parse((await runCli(['group', 'list', 'team', '--data', node.data, '--json'])).stdout) as Array<{
        id: string
        path: string
      }>
      assert.deepEqual(
        groups.map((g) => g.path),
        ['/', '/design', '/design/icons', '/ops'],
      )
      assert.equal(groups.find((g) => g.path === '/design')!.id, design)
    } finally {
      await node.stop()
    }
  })

  test('POSIX errors: into its own subtree EINVAL, across namespaces EXDEV (mv copies), over non-empty ENOTEMPTY', async () => {
    const node = await startMount()
    try {
      const m = node.mnt
      await ok(
        `mkdir ${m}/a ${m}/b && mkdir -p ${m}/a/g/sub ${m}/a/empty ${m}/a/full && echo x > ${m}/a/full/f && echo moved > ${m}/a/file`,
      )
      const into = await sh(`mv ${m}/a/g ${m}/a/g/sub/`)
      assert.notEqual(into.code, 0)
      assert.match(into.stderr, /Invalid argument|cannot move .* to a subdirectory of itself/)
      assert.match((await sh(`mv -T ${m}/a/g ${m}/a/full`)).stderr, /(Directory not empty|File exists)/)
      await ok(`mv -T ${m}/a/g ${m}/a/empty`) // over an empty group: replaces it
      assert.equal(await ok(`ls ${m}/a/empty`), 'sub\n')
      // rename(2) across namespaces is EXDEV; mv falls back to copy + delete.
      const py = await sh(`python3 -c "import os; os.rename('${m}/a/file', '${m}/b/file')"`)
      assert.match(py.stderr, /Invalid cross-device link/)
      await ok(`mv ${m}/a/file ${m}/b/`)
      assert.equal(await ok(`cat ${m}/b/file`), 'moved\n')
      assert.equal((await sh(`ls ${m}/a/file`)).code, 2)
      assert.match((await sh(`rmdir ${m}/a`)).stderr, /Directory not empty/)
      await ok(`mkdir ${m}/gone && rmdir ${m}/gone`)
      assert.equal(await ok(`ls ${m}`), 'a\nb\n')
    } finally {
      await node.stop()
    }
  })

  test('the meshfs ns and group commands, and their errors', async () => {
    const node = await startMount()
    const cli = (...args: string[]) => runCli([...args, '--data', node.data])
    try {
      const created = await cli(
        'ns',
        'create',
        'chat',
        '--app',
        'chat-app',
        '--upgrade-policy',
        'coordinated',
        '--description',
        'talk',
        '--json',
      )
      assert.equal(created.code, 0, created.stderr)
      const info = JSON.parse(created.stdout)
      assert.equal(info.alias, 'chat')
      assert.equal(await ok(`getfattr -n user.meshfs.upgrade_policy --only-values ${node.mnt}/chat`), 'coordinated')
      assert.equal(JSON.parse((await cli('ns', 'get', info.id, '--json')).stdout).description, 'talk')
      await ok(`mkdir ${node.mnt}/docs`)
      assert.deepEqual(
        JSON.parse((await cli('ns', 'list', '--app', 'chat-app', '--json')).stdout).map((n: { alias: string }) => n.alias),
        ['chat'],
      )
      assert.match(
        (await cli('ns', 'list')).stdout,
        /^ID +PATH +APPLICATION +POLICY\n.*chat +chat-app +coordinated\n.*docs +files +lazy-on-access\n$/,
      )

      for (const [args, reason] of [
        [['ns', 'create', 'x', '--upgrade-policy', 'sometimes'], /unknown upgrade policy "sometimes"/],
        [['ns', 'create', 'a/b'], /no namespace at a on this node/],
        [['ns', 'create', 'chat/'], /bad alias/],
        [['ns', 'create', '.meshfs'], /reserved/],
        [['ns', 'create', 'n'.repeat(256)], /bad alias/],
        [['ns', 'create', 'chat'], /is taken/],
        [['ns', 'get'], /missing NS/],
        [['ns', 'frob'], /unknown subcommand/],
      ] as Array<[string[], RegExp]>) {
        const r = await cli(...args)
        assert.notEqual(r.code, 0, args.join(' '))
        assert.match(r.stderr, reason)
      }
      assert.equal((await cli('ns', 'get', 'nothing')).code, 1)

      const g = JSON.parse((await cli('group', 'create', 'chat', 'rooms', '--json')).stdout)
      await cli('group', 'create', 'chat', 'rooms/general')
      await cli('group', 'create', 'chat', 'archive')
      assert.equal((await cli('group', 'nest', 'chat', 'archive', g.id)).code, 0)
      assert.equal(await idOf(`${node.mnt}/chat/archive/rooms`), g.id)
      assert.deepEqual(
        JSON.parse((await cli('group', 'subgroups', 'chat', 'archive/rooms', '--json')).stdout).map((x: { path: string }) => x.path),
        ['/archive/rooms/general'],
      )
      await cli('group', 'unnest', 'chat', g.id)
      assert.equal(await ok(`ls ${node.mnt}/chat`), 'archive\nrooms\n')
      assert.match((await cli('group', 'nest', 'chat', 'rooms/general', 'rooms')).stderr, /EINVAL|itself/)

      const refused = await cli('ns', 'delete', 'chat')
      assert.equal(refused.code, 1)
      assert.match(refused.stderr, /not empty.*--force/)
      const forced = await cli('ns', 'delete', 'chat', '--force')
      assert.equal(forced.code, 0)
      assert.match(forced.stdout, /cannot be undone/)
      assert.equal(await ok(`ls ${node.mnt}`), 'docs\n')
    } finally {
      await node.stop()
    }
  })

  test('setfattr changes the writable namespace attributes, validated; the others are read-only', async () => {
    const node = await startMount()
    try {
      const m = node.mnt
      await ok(`mkdir ${m}/ns && mkdir ${m}/ns/g`)
      await ok(`setfattr -n user.meshfs.description -v 'our files' ${m}/ns`)
      assert.equal(await ok(`getfattr -n user.meshfs.description --only-values ${m}/ns`), 'our files')
      assert.match((await sh(`setfattr -n user.meshfs.upgrade_policy -v never ${m}/ns`)).stderr, /Invalid argument/)
      assert.match((await sh(`setfattr -n user.meshfs.id -v 00 ${m}/ns/g`)).stderr, /Operation not permitted/)
      await ok(`setfattr -n user.note -v hi ${m}/ns/g`)
      assert.equal(await ok(`getfattr -n user.note --only-values ${m}/ns/g`), 'hi')
    } finally {
      await node.stop()
    }
  })

  test('the whole tree, its ids and contents are back after unmount and remount', async () => {
    const root = tempDir('remount')
    const first = await startMount([], { root })
    let before: string
    try {
      const m = first.mnt
      await ok(
        `mkdir ${m}/keep && cd ${m}/keep && mkdir -p a/b c && echo one > a/b/f && head -c 5000 /dev/urandom > c/bin && mv a c/ && ln -s c/a/b/f link && chmod 600 c/a/b/f`,
      )
      before = await ok(
        `cd ${m}/keep && find . -printf '%p %y %m %s\\n' | sort && getfattr -R -d -m user.meshfs.id . | sort && md5sum c/bin`,
      )
    } finally {
      await first.stop()
    }
    const second = await startMount([], { root })
    try {
      const after = await ok(
        `cd ${second.mnt}/keep && find . -printf '%p %y %m %s\\n' | sort && getfattr -R -d -m user.meshfs.id . | sort && md5sum c/bin`,
      )
      assert.equal(after, before)
      assert.equal(await ok(`cat ${second.mnt}/keep/link`), 'one\n')
    } finally {
      await second.stop()
      await ok(`rm -rf ${root}`)
    }
  })

  test('a corrupted or foreign database stops start-up with a clear message and is left untouched', async () => {
    const root = tempDir('corrupt')
    try {
      const data = path.join(root, 'data')
      await ok(`mkdir -p ${data} ${root}/mnt`)
      writeFileSync(path.join(data, 'meshfs.db'), "this is not a database, but it is somebody's file\n".repeat(100))
      const hash = () =>
        createHash('sha256')
          .update(readFileSync(path.join(data, 'meshfs.db')))
          .digest('hex')
      const before = hash()
      const r = await runCli(['mount', `${root}/mnt`, '--data', data], { timeoutMs: 20_000 })
      assert.equal(r.code, 1)
      assert.match(r.stderr, /meshfs\.db/)
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
      assert.equal(hash(), before)
      assert.equal(await ok(`ls ${data}`), 'meshfs.db\n')
    } finally {
      await ok(`rm -rf ${root}`)
    }
  })
})
