// A full disk under the data directory: the writer gets ENOSPC, nothing acknowledged is lost,
// and once there is room again everything works and is all there after a restart.

import assert from 'node:assert/strict'
import { mkdirSync } from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'
import { ok, sh, startMount, tempDir } from '../support/harness.js'

test('a full disk gives the writer ENOSPC and loses nothing acknowledged', { timeout: 120_000 }, async () => {
  const root = tempDir('full')
  const data = path.join(root, 'data')
  mkdirSync(data)
  await ok(`mount -t tmpfs -o size=6m tmpfs ${data}`)
  try {
    let node = await startMount(['--data', data], { root })
    const acknowledged: string[] = []
    try {
      await ok(`mkdir ${node.mnt}/ns`)
      // Each file is 256 KiB of incompressible bytes; a write is acknowledged when close succeeds.
      let refused = ''
      for (let i = 0; i < 60 && !refused; i++) {
        const name = `f${i}`
        const r = await sh(`python3 -c "
import os
data = os.urandom(262144)
f = open('${node.mnt}/ns/${name}', 'wb')
f.write(data)
f.close()
open('${root}/${name}.sha', 'w').write(__import__('hashlib').sha256(data).hexdigest())
"`)
        if (r.code === 0) acknowledged.push(name)
        else refused = r.stderr
      }
      assert.match(refused, /No space left on device/, 'the writer is told')
      assert.ok(acknowledged.length >= 3, `some writes fit first (${acknowledged.length})`)
      for (const name of acknowledged) {
        assert.equal((await ok(`sha256sum < ${node.mnt}/ns/${name}`)).split(' ')[0], (await ok(`cat ${root}/${name}.sha`)).trim(), name)
      }
      // Room again: the same daemon goes on working.
      await ok(`mount -o remount,size=64m ${data}`)
      await ok(`echo after > ${node.mnt}/ns/after.txt`)
    } finally {
      await node.stop()
    }
    node = await startMount(['--data', data], { root })
    try {
      for (const name of acknowledged) {
        assert.equal(
          (await ok(`sha256sum < ${node.mnt}/ns/${name}`)).split(' ')[0],
          (await ok(`cat ${root}/${name}.sha`)).trim(),
          `${name} after restart`,
        )
      }
      assert.equal(await ok(`cat ${node.mnt}/ns/after.txt`), 'after\n')
    } finally {
      await node.stop()
    }
  } finally {
    await sh(`umount ${data}`)
    await sh(`rm -rf ${root}`)
  }
})
