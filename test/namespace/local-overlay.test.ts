// The ignored-file overlay without FUSE: editor junk lives in the local area and never in the
// tree, and renames across the boundary behave as editors need (vim's backup dance keeps the
// resource's id; a save through a `*.tmp` file is an edit of the original).

import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { test } from 'node:test'
import { replicaStoreOf } from '../../src/node/namespaces.js'
import { ReplicatedHandler } from '../../src/namespace/handler.js'
import { LocalArea } from '../../src/namespace/local-area.js'
import { NamespaceReplica } from '../../src/replica/replica.js'
import { openMemoryStore } from '../../src/store/local-store.js'
import { errnoOf } from '../support/errno.js'

const RW = { read: true, write: true, append: false, truncate: false }
const RO = { read: true, write: false, append: false, truncate: false }
const INFO = {
  id: 'cd'.repeat(16),
  alias: 'overlay',
  application: 'files',
  upgradePolicy: 'lazy-on-access' as const,
  description: '',
  createdMs: 1,
}

/** A handler over a fresh namespace with its local area in a temp folder, removed after `fn`. */
async function withHandler(fn: (h: ReplicatedHandler, localRoot: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'meshfs-overlay-'))
  const replica = NamespaceReplica.create(replicaStoreOf(openMemoryStore()), INFO)
  const handler = new ReplicatedHandler(replica, { removeNamespace: async () => {} }, new LocalArea(dir))
  try {
    await fn(handler, dir)
  } finally {
    await handler.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

async function write(h: ReplicatedHandler, p: string, text: string): Promise<void> {
  const f = await h.create(p, 0o644, RW)
  await f.write!(Buffer.from(text), 0)
  await f.release()
}

async function read(h: ReplicatedHandler, p: string): Promise<string> {
  const f = await h.open(p, RO)
  try {
    return (await f.read(0, 1 << 16)).toString()
  } finally {
    await f.release()
  }
}

const idOf = async (h: ReplicatedHandler, p: string) => (await h.getxattr(p, 'user.meshfs.id')).toString()

test('ignored names live in the local area: listed, readable, never in the tree, without attributes', async () => {
  await withHandler(async (h, localRoot) => {
    await write(h, '/f', 'real')
    await write(h, '/.f.swp', 'swap')
    assert.deepEqual(await h.list('/'), ['f', '.f.swp'])
    assert.equal(await read(h, '/.f.swp'), 'swap')
    assert.equal(readFileSync(path.join(localRoot, '.f.swp'), 'utf8'), 'swap')
    assert.equal(h.replica.tree.lookup(h.replica.tree.resolvePath([])!, '.f.swp'), undefined)
    assert.equal(await errnoOf(h.getxattr('/.f.swp', 'user.meshfs.id')), 'ENODATA')
    assert.deepEqual(await h.listxattr('/.f.swp'), [])
    assert.equal(await errnoOf(h.setxattr('/.f.swp', 'user.x', Buffer.from('1'), 'any')), 'ENOTSUP')
    assert.equal(await errnoOf(h.stat('/nowhere/.f.swp')), 'ENOENT')
  })
})

test("vim's backup dance (f -> f~, new f, rm f~) keeps the resource's id and saves the new text", async () => {
  await withHandler(async (h) => {
    await write(h, '/f', 'v1\n')
    const id = await idOf(h, '/f')
    await h.rename('/f', '/f~')
    assert.deepEqual(await h.list('/'), ['f~'])
    assert.equal(await read(h, '/f~'), 'v1\n')
    await write(h, '/f', 'v2\n')
    await h.unlink('/f~')
    assert.equal(await idOf(h, '/f'), id)
    assert.equal(await read(h, '/f'), 'v2\n')
    assert.deepEqual(await h.list('/'), ['f'])
  })
})

test('a backup that nobody revives leaves the namespace when the handler closes', async () => {
  await withHandler(async (h) => {
    await write(h, '/f', 'v1\n')
    const id = await idOf(h, '/f')
    await h.rename('/f', '/f~')
    await h.close()
    assert.equal(h.replica.tree.isLive(id), false)
    assert.equal(await read(h, '/f~'), 'v1\n')
  })
})

test('a tracked file renamed over an existing ignored file replaces it', async () => {
  await withHandler(async (h, localRoot) => {
    writeFileSync(path.join(localRoot, 'f~'), 'stale backup')
    await write(h, '/f', 'fresh')
    await h.rename('/f', '/f~')
    assert.equal(await read(h, '/f~'), 'fresh')
  })
})

test('a save through a *.tmp file renamed over the original is an edit of it (same id, local file gone)', async () => {
  await withHandler(async (h, localRoot) => {
    await write(h, '/f', 'old')
    const id = await idOf(h, '/f')
    await write(h, '/f.tmp', 'new')
    await h.rename('/f.tmp', '/f')
    assert.equal(await idOf(h, '/f'), id)
    assert.equal(await read(h, '/f'), 'new')
    assert.equal(existsSync(path.join(localRoot, 'f.tmp')), false)
    await write(h, '/g.tmp', 'joins')
    await h.rename('/g.tmp', '/g')
    assert.equal(await read(h, '/g'), 'joins')
    assert.deepEqual((await h.list('/')).sort(), ['f', 'g'])
  })
})

test('groups and local folders cannot cross the boundary by rename (EXDEV: mv copies)', async () => {
  await withHandler(async (h) => {
    await h.mkdir('/g', 0o755)
    assert.equal(await errnoOf(h.rename('/g', '/g~')), 'EXDEV')
    await h.mkdir('/d~', 0o755)
    assert.equal(await errnoOf(h.rename('/d~', '/d')), 'EXDEV')
  })
})
