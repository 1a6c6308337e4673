// One POSIX conformance suite, run against every writable handler (go-fuse's posixtest):
// each handler must answer the same way a local disk does.

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { errnoOf as code } from '../support/errno.js'
import type { Handler, OpenFlags } from '../../src/vfs/handler.js'

const RW: OpenFlags = { read: true, write: true, append: false, truncate: false }
const RO: OpenFlags = { read: true, write: false, append: false, truncate: false }

async function write(h: Handler, path: string, text: string): Promise<void> {
  const f = await h.create!(path, 0o644, RW)
  await f.write!(Buffer.from(text), 0)
  await f.flush?.()
  await f.release()
}

async function read(h: Handler, path: string): Promise<string> {
  const f = await h.open(path, RO)
  const size = (await h.stat(path)).size
  const data = await f.read(0, size + 10)
  await f.release()
  return data.toString()
}

export interface Capabilities {
  /** Keeps access times apart from modification times (replicated resources do not). */
  atime: boolean
}

export function runHandlerConformance(
  name: string,
  make: () => Promise<{ handler: Handler; cleanup(): Promise<void> }>,
  caps: Capabilities = { atime: true },
): void {
  const withHandler = (title: string, fn: (h: Handler) => Promise<void>) =>
    test(`${name}: ${title}`, async () => {
      const { handler, cleanup } = await make()
      try {
        await fn(handler)
      } finally {
        await cleanup()
      }
    })

  withHandler('create, write, read back, stat size and kind', async (h) => {
    await write(h, '/f', 'hello')
    assert.equal(await read(h, '/f'), 'hello')
    const st = await h.stat('/f')
    assert.equal(st.kind, 'file')
    assert.equal(st.size, 5)
    assert.equal(await code(h.create!('/f', 0o644, RW)), 'EEXIST')
  })

  withHandler('sparse writes read back zeros in the hole; truncate grows and shrinks', async (h) => {
    const f = await h.create!('/sparse', 0o644, RW)
    await f.write!(Buffer.from('end'), 10)
    assert.deepEqual([...(await f.read(0, 13))], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 101, 110, 100])
    await f.truncate!(4)
    await f.release()
    assert.equal((await h.stat('/sparse')).size, 4)
    await h.setattr!('/sparse', { size: 8 })
    assert.equal((await h.stat('/sparse')).size, 8)
  })

  withHandler('append mode writes at the end whatever the offset', async (h) => {
    await write(h, '/log', 'one\n')
    const f = await h.open('/log', { ...RW, append: true })
    await f.write!(Buffer.from('two\n'), 0)
    await f.release()
    assert.equal(await read(h, '/log'), 'one\ntwo\n')
  })

  withHandler('mkdir, list, rmdir; ENOTEMPTY, ENOTDIR, EEXIST, ENOENT', async (h) => {
    await h.mkdir!('/d', 0o755)
    await write(h, '/d/x', '1')
    assert.deepEqual(await h.list('/d'), ['x'])
    assert.equal(await code(h.mkdir!('/d', 0o755)), 'EEXIST')
    assert.equal(await code(h.rmdir!('/d')), 'ENOTEMPTY')
    assert.equal(await code(h.rmdir!('/d/x')), 'ENOTDIR')
    assert.equal(await code(h.unlink!('/d')), 'EISDIR')
    assert.equal(await code(h.stat('/d/nothing')), 'ENOENT')
    assert.equal(await code(h.mkdir!('/nothing/d', 0o755)), 'ENOENT')
    await h.unlink!('/d/x')
    await h.rmdir!('/d')
    assert.deepEqual(await h.list('/'), [])
  })

  withHandler('rename: files replace files, dirs replace only empty dirs, never into themselves', async (h) => {
    await write(h, '/a', 'A')
    await write(h, '/b', 'B')
    await h.rename!('/a', '/b')
    assert.equal(await read(h, '/b'), 'A')
    assert.equal(await code(h.stat('/a')), 'ENOENT')
    await h.mkdir!('/d1', 0o755)
    await h.mkdir!('/d1/in', 0o755)
    await h.mkdir!('/empty', 0o755)
    await h.mkdir!('/full', 0o755)
    await write(h, '/full/keep', 'K')
    assert.equal(await code(h.rename!('/d1', '/full')), 'ENOTEMPTY')
    assert.equal(await code(h.rename!('/d1', '/d1/in/x')), 'EINVAL')
    assert.equal(await code(h.rename!('/b', '/full')), 'EISDIR')
    assert.equal(await code(h.rename!('/d1', '/b')), 'ENOTDIR')
    await h.rename!('/d1', '/empty')
    assert.deepEqual(await h.list('/empty'), ['in'])
    assert.equal(await read(h, '/full/keep'), 'K', 'nothing was lost')
    assert.equal(await code(h.rename!('/missing', '/x')), 'ENOENT')
  })

  withHandler('setattr: chmod and times', async (h) => {
    await write(h, '/m', 'x')
    await h.setattr!('/m', { mode: 0o600 })
    assert.equal((await h.stat('/m')).mode, 0o600)
    await h.setattr!('/m', { atimeMs: 1_000_000, mtimeMs: 2_000_000 })
    const st = await h.stat('/m')
    assert.equal(st.mtimeMs, 2_000_000)
    if (caps.atime) assert.equal(st.atimeMs, 1_000_000)
    // chmod after the times (as `cp -p` and `tar x` do) leaves the mtime alone.
    await h.setattr!('/m', { mode: 0o640 })
    assert.equal((await h.stat('/m')).mtimeMs, 2_000_000)
  })

  withHandler('symlinks: stat shows the link, readlink its target', async (h) => {
    await write(h, '/target', 'T')
    await h.symlink!('target', '/link')
    const st = await h.stat('/link')
    assert.equal(st.kind, 'symlink')
    assert.equal(st.size, 6)
    assert.equal(await h.readlink!('/link'), 'target')
  })
}
