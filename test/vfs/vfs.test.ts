// The tree's own rules, on handlers in memory (no FUSE).

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { errnoOf as code } from '../support/errno.js'
import { MemoryHandler } from '../../src/handlers/memory.js'
import { TimeHandler } from '../../src/handlers/time.js'
import type { Handler } from '../../src/vfs/handler.js'
import { MountTable } from '../../src/vfs/mount-table.js'
import { Vfs } from '../../src/vfs/vfs.js'

const RW = { read: true, write: true, append: false, truncate: false }

/** A handler with nothing but the required verbs: every optional verb is missing. */
const bare: Handler = {
  kind: 'bare',
  async stat() {
    return { kind: 'dir', mode: 0o755, size: 0, atimeMs: 0, mtimeMs: 0, ctimeMs: 0 }
  },
  async list() {
    return []
  },
  async open() {
    throw new Error('not used')
  },
}

function tree() {
  const root = new MemoryHandler()
  const table = new MountTable(root)
  const b = new MemoryHandler()
  table.mount('/a/b/c', b)
  table.mount('/bare', bare)
  table.mount('/time', new TimeHandler(() => new Date(Date.UTC(2008, 3, 7, 21, 47, 21))))
  return { vfs: new Vfs(table), table, root, b }
}

test('resolution hands each handler paths relative to its mount point (uri.relTo)', async () => {
  const { table, root, b } = tree()
  assert.deepEqual(table.resolve('/a/b/c/d/e'), { handler: b, mountPath: '/a/b/c', rel: '/d/e' })
  assert.deepEqual(table.resolve('/a/b/c'), { handler: b, mountPath: '/a/b/c', rel: '/' })
  assert.deepEqual(table.resolve('/a/b'), { handler: root, mountPath: '/', rel: '/a/b' })
  assert.throws(() => table.mount('/a/b/c', new MemoryHandler()), /already mounted/)
  assert.throws(() => table.mount('/', new MemoryHandler()), /root handler is fixed/)
})

test('the ancestors of a mount point exist as directories and list it', async () => {
  const { vfs } = tree()
  assert.equal((await vfs.stat('/a')).kind, 'dir')
  assert.equal((await vfs.stat('/a/b')).kind, 'dir')
  assert.deepEqual((await vfs.list('/')).sort(), ['a', 'bare', 'time'])
  assert.deepEqual(await vfs.list('/a/b'), ['c'])
  assert.equal(await code(vfs.stat('/nothing')), 'ENOENT')
})

test('mount points and their ancestors cannot be removed, renamed or created over', async () => {
  const { vfs } = tree()
  assert.equal(await code(vfs.rmdir('/a/b/c')), 'EBUSY')
  assert.equal(await code(vfs.rmdir('/a')), 'EBUSY')
  assert.equal(await code(vfs.rename('/a', '/z')), 'EBUSY')
  await vfs.mkdir('/x', 0o755)
  assert.equal(await code(vfs.rename('/x', '/bare')), 'EBUSY')
  assert.equal(await code(vfs.mkdir('/a', 0o755)), 'EEXIST')
})

test('rename across handlers is EXDEV, so mv copies', async () => {
  const { vfs } = tree()
  const f = await vfs.create('/file', 0o644, RW)
  await f.release()
  assert.equal(await code(vfs.rename('/file', '/a/b/c/file')), 'EXDEV')
  assert.equal((await vfs.stat('/file')).kind, 'file')
})

test('a missing verb answers EROFS (changes) or ENOTSUP (xattrs), never a crash', async () => {
  const { vfs } = tree()
  for (const p of [
    vfs.create('/bare/f', 0o644, RW),
    vfs.mkdir('/bare/d', 0o755),
    vfs.unlink('/bare/f'),
    vfs.rmdir('/bare/d'),
    vfs.rename('/bare/x', '/bare/y'),
    vfs.setattr('/bare', { mode: 0o700 }),
    vfs.symlink('t', '/bare/l'),
  ]) {
    assert.equal(await code(p), 'EROFS')
  }
  assert.equal(await code(vfs.getxattr('/bare', 'user.x')), 'ENOTSUP')
  assert.equal(await code(vfs.setxattr('/bare', 'user.x', Buffer.from('1'), 'any')), 'ENOTSUP')
  assert.equal(await code(vfs.removexattr('/bare', 'user.x')), 'ENOTSUP')
  assert.deepEqual(await vfs.listxattr('/bare'), [])
  assert.equal(await code(vfs.readlink('/bare')), 'EINVAL')
})

test("the time handler is Fan's TimeNamespace: read-only fields of now", async () => {
  const { vfs } = tree()
  const read = async (p: string) => {
    const f = await vfs.open(p, { read: true, write: false, append: false, truncate: false })
    const data = await f.read(0, 100)
    await f.release()
    return data.toString()
  }
  assert.equal(await read('/time/year'), '2008\n')
  assert.equal(await read('/time/month'), 'apr\n')
  assert.equal(await read('/time/now'), '2008-04-07T21:47:21.000Z\n')
  assert.equal((await vfs.stat('/time/now')).size, 25)
  assert.equal(await code(vfs.open('/time/year', RW)), 'EROFS')
  assert.equal(await code(vfs.stat('/time/constructor')), 'ENOENT')
  assert.equal(await code(vfs.unlink('/time/year')), 'EROFS')
})
