// Which version of a binary a node serves while a peer's new one arrives, without FUSE or
// sockets: two replicas over memory stores, the tree doc handed from A to B as a peer's update
// would be, and blobs copied one by one as the blob fetch would store them.

import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { test } from 'node:test'
import * as Y from 'yjs'
import { decodeContentRef, decodeManifest, META } from '../../src/model/content.js'
import { ReplicatedHandler } from '../../src/namespace/handler.js'
import { ServedVersions, type ArrivalOptions } from '../../src/namespace/served-versions.js'
import { replicaStoreOf } from '../../src/node/namespaces.js'
import { NamespaceReplica } from '../../src/replica/replica.js'
import { openMemoryStore, type LocalStore } from '../../src/store/local-store.js'

const RW = { read: true, write: true, append: false, truncate: true }
const RO = { read: true, write: false, append: false, truncate: false }
const MiB = 1 << 20
const INFO = {
  id: 'cd'.repeat(16),
  alias: 'bin',
  application: 'files',
  upgradePolicy: 'lazy-on-access' as const,
  description: '',
  createdMs: 1,
}
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex')

/** A handler over `replica` and the served versions it reads through, as the node's registry makes them. */
function handlerOf(replica: NamespaceReplica, arrivals: ArrivalOptions = {}) {
  const served = new ServedVersions(replica, arrivals)
  const handler = new ReplicatedHandler(replica, { removeNamespace: async () => {}, served })
  return Object.assign(handler, { transfers: () => served.inFlight() })
}

function nodeA() {
  const local = openMemoryStore()
  const replica = NamespaceReplica.create(replicaStoreOf(local), INFO)
  return { local, replica, handler: handlerOf(replica) }
}

/** B: a replica that receives A's tree doc; its handler made after the first update, as on a join. */
function nodeB(a: ReturnType<typeof nodeA>, arrivals?: ArrivalOptions, local: LocalStore = openMemoryStore()) {
  const replica = NamespaceReplica.load(replicaStoreOf(local), INFO.id)
  const sync = () => replica.applyRemote('tree', Y.encodeStateAsUpdate(a.replica.doc, Y.encodeStateVector(replica.doc)), 'peer')
  sync()
  return { local, replica, sync, handler: handlerOf(replica, arrivals) }
}

async function write(h: ReplicatedHandler, p: string, bytes: Buffer): Promise<void> {
  const f = await h.create(p, 0o644, RW).catch(() => h.open(p, RW))
  await f.write!(bytes, 0)
  await f.release()
}

async function readAll(h: ReplicatedHandler, p: string): Promise<Buffer> {
  const f = await h.open(p, RO)
  try {
    return await f.read(0, 64 * MiB)
  } finally {
    await f.release()
  }
}

/** The manifest and chunk hashes A's resource at `p` names now. */
function blobsOf(a: ReturnType<typeof nodeA>, p: string): { manifest: string; chunks: string[] } {
  const id = a.replica.tree.resolvePath(p.split('/').filter(Boolean))!
  const ref = decodeContentRef(a.replica.tree.get(id).meta[META.content], 0)
  const m = decodeManifest(a.local.blobs.getBlob(ref.manifest!)!, ref.manifest!)
  return { manifest: ref.manifest!, chunks: m.chunks.filter((c): c is string => c !== null) }
}

const copy = (from: LocalStore, to: LocalStore, hashes: string[]) => {
  for (const h of hashes) to.blobs.putBlob(from.blobs.getBlob(h)!)
}

test('a new version is served only once all its chunks are here; meanwhile the last complete one, size and bytes', async () => {
  const a = nodeA()
  const v1 = randomBytes(3 * MiB)
  await write(a.handler, '/pic.bin', v1)
  const b = nodeB(a)
  const first = blobsOf(a, '/pic.bin')
  copy(a.local, b.local, [first.manifest, ...first.chunks])
  assert.equal((await b.handler.stat('/pic.bin')).size, v1.length)
  assert.equal(sha(await readAll(b.handler, '/pic.bin')), sha(v1))

  const v2 = randomBytes(2 * MiB + 5)
  await write(a.handler, '/pic.bin', v2)
  b.sync()
  const second = blobsOf(a, '/pic.bin')
  // The manifest and one of three chunks arrived: still the first version, whole.
  copy(a.local, b.local, [second.manifest, second.chunks[0]!])
  assert.equal((await b.handler.stat('/pic.bin')).size, v1.length)
  const reader = await b.handler.open('/pic.bin', RO)
  assert.equal(sha(await readAll(b.handler, '/pic.bin')), sha(v1))
  const [transfer] = b.handler.transfers()
  assert.deepEqual(
    { path: transfer?.path, size: transfer?.size, have: transfer?.have, missing: transfer?.missing, servedSize: transfer?.servedSize },
    { path: '/pic.bin', size: v2.length, have: MiB, missing: second.chunks.slice(1), servedSize: v1.length },
  )
  // The version served is kept by the garbage collection; the one arriving too.
  const live = b.handler.referencedBlobs()
  for (const h of [first.manifest, ...first.chunks, second.manifest, second.chunks[0]!]) assert.ok(live.has(h), `${h} is kept`)

  copy(a.local, b.local, second.chunks.slice(1))
  assert.equal((await b.handler.stat('/pic.bin')).size, v2.length)
  assert.equal(sha(await readAll(b.handler, '/pic.bin')), sha(v2))
  assert.deepEqual(b.handler.transfers(), [])
  // A reader that opened the first version keeps it.
  assert.equal(sha(await reader.read(0, 64 * MiB)), sha(v1))
  await reader.release()
  const after = b.handler.referencedBlobs()
  assert.ok(!after.has(first.manifest), 'the first version is no longer served, so no longer kept')
  assert.equal(b.local.meta.getMeta(['replica', 'served', INFO.id]), undefined, 'nothing left to remember')
})

test('after a restart the last complete version is still served, and survives the garbage collection', async () => {
  const a = nodeA()
  const v1 = randomBytes(2 * MiB)
  await write(a.handler, '/f.bin', v1)
  const b = nodeB(a)
  const first = blobsOf(a, '/f.bin')
  copy(a.local, b.local, [first.manifest, ...first.chunks])
  await write(a.handler, '/f.bin', randomBytes(2 * MiB))
  b.sync()

  // B restarts: a new replica and handler over the same store, then the start-up collection.
  const again = handlerOf(NamespaceReplica.load(replicaStoreOf(b.local), INFO.id))
  b.local.blobs.gcBlobs(again.referencedBlobs())
  assert.equal((await again.stat('/f.bin')).size, v1.length)
  assert.equal(sha(await readAll(again, '/f.bin')), sha(v1))
  assert.equal(again.transfers()[0]?.servedSize, v1.length)
})

test('a first version not here yet: reads wait for its chunks, then read them whole', async () => {
  const a = nodeA()
  const v1 = randomBytes(2 * MiB + 1)
  await write(a.handler, '/new.bin', v1)
  const b = nodeB(a, { waitMs: 30_000 })
  assert.equal((await b.handler.stat('/new.bin')).size, v1.length, 'stat shows the size a waiting read will get')
  assert.deepEqual(
    b.handler.transfers().map((t) => [t.path, t.have, t.servedSize]),
    [['/new.bin', 0, null]],
  )
  const f = await b.handler.open('/new.bin', RO)
  let settled = false
  const read = f.read(0, 64 * MiB).finally(() => (settled = true))
  await new Promise((r) => setTimeout(r, 120))
  assert.equal(settled, false, 'the read waits while nothing arrived')
  const { manifest, chunks } = blobsOf(a, '/new.bin')
  copy(a.local, b.local, [manifest, ...chunks])
  assert.equal(sha(await read), sha(v1))
  await f.release()
})

test('a first version that does not arrive: the read fails with EIO naming what is missing and the peer asked', async () => {
  const a = nodeA()
  await write(a.handler, '/lost.bin', randomBytes(MiB + 3))
  const asked: string[][] = []
  const b = nodeB(a, {
    waitMs: 100,
    expectedFrom: (hashes) => {
      asked.push([...hashes])
      return ['peerkey-of-a']
    },
  })
  const { manifest } = blobsOf(a, '/lost.bin')
  const f = await b.handler.open('/lost.bin', RO)
  await assert.rejects(f.read(0, 4096), (err: NodeJS.ErrnoException) => {
    assert.equal(err.code, 'EIO')
    assert.match(err.message, /\/lost\.bin/)
    assert.match(err.message, new RegExp(`manifest ${manifest}`))
    assert.match(err.message, /expected from peer peerkey-of-a/)
    return true
  })
  assert.deepEqual(asked.at(-1), [manifest])
})

test('a first version that keeps arriving keeps its read waiting past the timeout, which counts time without progress', async () => {
  const a = nodeA()
  const v1 = randomBytes(6 * MiB)
  await write(a.handler, '/slow.bin', v1)
  const b = nodeB(a, { waitMs: 400 })
  const { manifest, chunks } = blobsOf(a, '/slow.bin')
  const f = await b.handler.open('/slow.bin', RO)
  const read = f.read(0, 64 * MiB)
  const started = Date.now()
  copy(a.local, b.local, [manifest])
  for (const c of chunks) {
    await new Promise((r) => setTimeout(r, 200))
    copy(a.local, b.local, [c])
  }
  assert.equal(sha(await read), sha(v1))
  assert.ok(Date.now() - started > 400, 'the chunks took longer than the timeout in all')
  await f.release()
})

test('a fallback whose newer version completed before a restart is forgotten, and collected', async () => {
  const a = nodeA()
  await write(a.handler, '/f.bin', randomBytes(MiB))
  const b = nodeB(a)
  const first = blobsOf(a, '/f.bin')
  copy(a.local, b.local, [first.manifest, ...first.chunks])
  await write(a.handler, '/f.bin', randomBytes(MiB))
  b.sync()
  const second = blobsOf(a, '/f.bin')
  copy(a.local, b.local, [second.manifest, ...second.chunks])
  assert.ok(b.local.meta.getMeta(['replica', 'served', INFO.id]), 'the fallback was remembered while the second version arrived')

  const again = handlerOf(NamespaceReplica.load(replicaStoreOf(b.local), INFO.id))
  assert.equal(b.local.meta.getMeta(['replica', 'served', INFO.id]), undefined)
  const removed = b.local.blobs.gcBlobs(again.referencedBlobs())
  assert.deepEqual(removed.sort(), [first.manifest, ...first.chunks].sort())
})
