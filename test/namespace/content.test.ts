// Resource content in a replicated namespace, without FUSE: text on Y.Text, binaries as chunks,
// a working copy that never holds a large file whole, and atomic saves that keep identity.

import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { test } from 'node:test'
import { replicaStoreOf } from '../../src/node/namespaces.js'
import { CHUNK } from '../../src/model/content.js'
import { ReplicatedHandler } from '../../src/namespace/handler.js'
import { NamespaceReplica } from '../../src/replica/replica.js'
import { openMemoryStore } from '../../src/store/local-store.js'

const RW = { read: true, write: true, append: false, truncate: false }
const RO = { read: true, write: false, append: false, truncate: false }
const INFO = {
  id: 'cd'.repeat(16),
  alias: 'c',
  application: 'files',
  upgradePolicy: 'lazy-on-access' as const,
  description: '',
  createdMs: 1,
}

function setup() {
  const store = openMemoryStore()
  const replica = NamespaceReplica.create(replicaStoreOf(store), INFO)
  const handler = new ReplicatedHandler(replica, { removeNamespace: async () => {} })
  return { store, replica, handler }
}

async function writeFile(h: ReplicatedHandler, path: string, data: Buffer | string): Promise<void> {
  const f = await h.create(path, 0o644, RW).catch(() => h.open(path, { ...RW, truncate: true }))
  await f.write!(Buffer.from(data), 0)
  await f.release()
}

async function readAll(h: ReplicatedHandler, path: string): Promise<Buffer> {
  const size = (await h.stat(path)).size
  const f = await h.open(path, RO)
  const out = await f.read(0, size)
  await f.release()
  return out
}

const contentOf = (r: NamespaceReplica, path: string) => r.tree.get(r.tree.resolvePath(path.split('/').filter(Boolean))!).meta.c!

test('text lives in a Y.Text; binary in chunks; a file can switch between them', async () => {
  const { handler, replica } = setup()
  await writeFile(handler, '/note.txt', 'héllo ✓\n')
  assert.match(contentOf(replica, '/note.txt'), /^\d+:11:t$/)
  const id = replica.tree.resolvePath(['note.txt'])!
  assert.equal(replica.text(id).toString(), 'héllo ✓\n')
  await writeFile(handler, '/note.txt', Buffer.from([0, 1, 2, 0xff]))
  assert.match(contentOf(replica, '/note.txt'), /^\d+:4:b[0-9a-f]{64}$/)
  assert.deepEqual([...(await readAll(handler, '/note.txt'))], [0, 1, 2, 0xff])
  await writeFile(handler, '/note.txt', 'text again')
  assert.equal((await readAll(handler, '/note.txt')).toString(), 'text again')
  assert.equal(replica.text(id).toString(), 'text again')
})

test('a byte order mark and CRLF survive the round trip exactly', async () => {
  const { handler } = setup()
  const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('a\r\nb\r\n')])
  await writeFile(handler, '/bom.txt', bytes)
  assert.deepEqual(await readAll(handler, '/bom.txt'), bytes)
})

test('a large file is written through a bounded working copy and read back exactly', async () => {
  const { handler, store } = setup()
  const f = await handler.create('/big.bin', 0o644, RW)
  const hash = createHash('sha256')
  const block = Buffer.alloc(CHUNK / 2)
  const total = 48 * CHUNK // past the 32 chunks a working copy keeps in memory
  for (let at = 0; at < total; at += block.length) {
    block.fill((at / block.length) % 251)
    block.writeUInt32BE(at, 0)
    hash.update(block)
    await f.write!(block, at)
  }
  await f.release()
  assert.equal((await handler.stat('/big.bin')).size, total)
  const r = await handler.open('/big.bin', RO)
  const back = createHash('sha256')
  for (let at = 0; at < total; at += 3 * 65536 + 7) back.update(await r.read(at, Math.min(3 * 65536 + 7, total - at)))
  assert.equal(back.digest('hex'), hash.digest('hex'))
  // Rewriting one byte stores one new chunk: the others are reused.
  const before = store.blobs.listBlobs().length
  const w = await handler.open('/big.bin', RW)
  await w.write!(Buffer.from([42]), 5 * CHUNK + 3)
  await w.release()
  assert.equal(store.blobs.listBlobs().length - before, 2, 'one chunk and one manifest')
})

test('holes read as zeros and are not stored; truncation cuts and extends with zeros', async () => {
  const { handler } = setup()
  const f = await handler.create('/sparse', 0o644, RW)
  await f.write!(Buffer.from('end'), 3 * CHUNK)
  await f.truncate!(3 * CHUNK + 2)
  await f.truncate!(3 * CHUNK + 10)
  await f.release()
  const data = await readAll(handler, '/sparse')
  assert.equal(data.length, 3 * CHUNK + 10)
  assert.equal(
    data.subarray(0, 3 * CHUNK).every((b) => b === 0),
    true,
  )
  assert.deepEqual([...data.subarray(3 * CHUNK)], [101, 110, 0, 0, 0, 0, 0, 0, 0, 0])
})

test('rename over an existing resource keeps its id and applies the content as an edit', async () => {
  const { handler, replica } = setup()
  await writeFile(handler, '/doc.txt', 'line 1\nline 2\nline 3\n')
  const id = replica.tree.resolvePath(['doc.txt'])!
  const text = replica.text(id)
  // Another replica's edit, concurrent with the save below.
  const other = new (await import('yjs')).Doc()
  const Y = await import('yjs')
  Y.applyUpdate(other, Y.encodeStateAsUpdate(text.doc!))
  other.getText('t').insert(0, 'REMOTE ')
  await writeFile(handler, '/.doc.txt.tmp', 'line 1\nline 2 edited\nline 3\n')
  await handler.setattr('/.doc.txt.tmp', { mode: 0o600 })
  await handler.rename('/.doc.txt.tmp', '/doc.txt')
  assert.equal(replica.tree.resolvePath(['doc.txt']), id, 'same id')
  assert.deepEqual(await handler.list('/'), ['doc.txt'])
  assert.equal((await handler.stat('/doc.txt')).mode, 0o600)
  Y.applyUpdate(text.doc!, Y.encodeStateAsUpdate(other))
  assert.equal(text.toString(), 'REMOTE line 1\nline 2 edited\nline 3\n', 'both edits kept')
})

test('rename of a binary over an existing resource shares its chunks and keeps the id', async () => {
  const { handler, replica } = setup()
  await writeFile(handler, '/img', Buffer.from([1, 2, 3, 0]))
  const id = replica.tree.resolvePath(['img'])!
  await writeFile(handler, '/img.new', Buffer.from([9, 9, 0]))
  await handler.rename('/img.new', '/img')
  assert.equal(replica.tree.resolvePath(['img']), id)
  assert.deepEqual([...(await readAll(handler, '/img'))], [9, 9, 0])
})
