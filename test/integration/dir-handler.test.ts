// A host folder mounted into the tree: live, and confined to its folder.

import assert from 'node:assert/strict'
import { rmSync } from 'node:fs'
import { after, before, describe, test } from 'node:test'
import { ok, sh, startMount, tempDir, type MountedNode } from '../support/harness.js'
import { waitFor } from '../support/wait.js'

describe('dir handler on a real mount', () => {
  let node: MountedNode
  let top: string
  let host: string
  before(async () => {
    top = tempDir('dirh')
    host = `${top}/shared`
    await ok(`mkdir -p ${host}/sub ${top}/outside && echo secret > ${top}/outside/secret && echo inside > ${host}/sub/in`)
    node = await startMount(['--handler', `/host=dir:${host}`])
  })
  after(async () => {
    await node?.stop()
    rmSync(top, { recursive: true, force: true })
  })

  test('a file created outside the mount shows up within 1 s, and its change is logged', async () => {
    await ok(`echo made-outside > ${host}/fresh.txt`)
    const started = Date.now()
    await waitFor(async () => (await ok(`ls ${node.mnt}/host`)).includes('fresh.txt'), { what: 'fresh.txt on the mount', timeoutMs: 1000 })
    assert.ok(Date.now() - started < 1000)
    assert.equal(await ok(`cat ${node.mnt}/host/fresh.txt`), 'made-outside\n')
    await waitFor(() => /dir \/host: add file \/fresh\.txt/.test(node.log()), { what: 'the watch event in the log', timeoutMs: 5000 })
  })

  test('writes through the mount land in the folder', async () => {
    await ok(`mkdir ${node.mnt}/host/made && echo through > ${node.mnt}/host/made/f && mv ${node.mnt}/host/made/f ${node.mnt}/host/made/g`)
    assert.equal(await ok(`cat ${host}/made/g`), 'through\n')
    await ok(`rm -r ${node.mnt}/host/made`)
    assert.equal((await sh(`ls ${host}/made`)).code, 2)
  })

  test('`..` at the top of the handler leads to the mount root, never to the host parent', async () => {
    assert.equal((await sh(`ls ${node.mnt}/host/../outside`)).code, 2)
    assert.match(await ok(`ls -a ${node.mnt}/host/..`), /\.meshfs/)
  })

  test('symlinks that point out of the folder are refused: absolute, relative, and through a directory link', async () => {
    await ok(
      `ln -s ${top}/outside/secret ${host}/abs && ln -s ../outside/secret ${host}/rel && ln -s ${top}/outside ${host}/dirlink && ln -s sub/in ${host}/good`,
    )
    for (const link of ['abs', 'rel']) {
      const r = await sh(`cat ${node.mnt}/host/${link}`)
      assert.notEqual(r.code, 0, `${link} must not be readable`)
      assert.doesNotMatch(r.stdout, /secret/)
      assert.match(r.stderr, /Permission denied/)
    }
    const through = await sh(`cat ${node.mnt}/host/dirlink/secret`)
    assert.notEqual(through.code, 0)
    assert.doesNotMatch(through.stdout, /secret/)
    assert.equal(await ok(`cat ${node.mnt}/host/good`), 'inside\n', 'a link that stays inside works')
  })

  test('creating a symlink that leaves the folder is refused', async () => {
    const r = await sh(`ln -s /etc/passwd ${node.mnt}/host/evil`)
    assert.match(r.stderr, /Permission denied/)
    assert.equal((await sh(`ls ${host}/evil`)).code, 2)
  })
})
