// The mirror engine over two in-memory namespaces on one store, written and read through their
// replicated handlers (the same code the mount runs). Each test drives passes by hand
// (`reconcile()`), so what a pass does is checked step by step.

import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { replicaStoreOf } from '../../src/node/namespaces.js'
import { ReplicatedHandler } from '../../src/namespace/handler.js'
import { NamespaceReplica } from '../../src/replica/replica.js'
import { openMemoryStore, type LocalStore } from '../../src/store/local-store.js'
import { MirrorBase } from '../../src/mirror/base.js'
import { withGroupMode, type GroupMode, type SyncType, type TargetConfig } from '../../src/mirror/config.js'
import { Mirror } from '../../src/mirror/mirror.js'
import { createLogger } from '../../src/util/log.js'
import type { OpenFile } from '../../src/vfs/handler.js'
import { errnoOf, throwsCode } from '../support/errno.js'

const RW = { read: true, write: true, append: false, truncate: true }
const RO = { read: true, write: false, append: false, truncate: false }
const QUIET = createLogger('error')

function info(alias: string, id: string) {
  return { id: id.repeat(32), alias, application: 'files', upgradePolicy: 'lazy-on-access' as const, description: '', createdMs: 1 }
}

class Pair {
  readonly local: LocalStore = openMemoryStore()
  readonly a: ReplicatedHandler
  readonly b: ReplicatedHandler
  cfg: TargetConfig
  mirror: Mirror

  constructor(type: SyncType) {
    const store = replicaStoreOf(this.local)
    const ra = NamespaceReplica.create(store, info('a', 'a'))
    const rb = NamespaceReplica.create(store, info('b', 'b'))
    this.a = new ReplicatedHandler(ra, { removeNamespace: async () => {} })
    this.b = new ReplicatedHandler(rb, { removeNamespace: async () => {} })
    this.cfg = { source: ra.id, url: 'local', target: rb.id, type, groups: {} }
    this.mirror = this.newMirror()
  }

  /** A mirror as after a restart: the base comes back from the meta store. */
  newMirror(): Mirror {
    return new Mirror(
      this.a.replica,
      this.b.replica,
      () => this.cfg,
      new MirrorBase(this.local.meta, `${this.cfg.source}>${this.cfg.target}`),
      QUIET,
    )
  }

  setGroup(path: string, mode: GroupMode): void {
    this.cfg = withGroupMode(this.cfg, path, mode, { source: 'a', target: 'b' })
  }

  pass() {
    return this.mirror.reconcile()
  }
}

async function write(h: ReplicatedHandler, path: string, data: string | Buffer, mode = 0o644): Promise<void> {
  let f: OpenFile
  try {
    f = await h.open(path, RW)
  } catch {
    f = await h.create(path, mode, RW)
  }
  await f.write!(Buffer.from(data), 0)
  await f.release()
}

async function read(h: ReplicatedHandler, path: string): Promise<string> {
  const st = await h.stat(path)
  const f = await h.open(path, RO)
  try {
    return (await f.read(0, st.size + 1)).toString()
  } finally {
    await f.release()
  }
}

async function exists(h: ReplicatedHandler, path: string): Promise<boolean> {
  const code = await errnoOf(h.stat(path))
  if (code === 'no error' || code === 'ENOENT') return code === 'no error'
  throw new Error(`stat ${path}: ${code}`)
}

/** `find`: every path with its kind, sorted. */
async function tree(h: ReplicatedHandler, dir = '/'): Promise<string[]> {
  const out: string[] = []
  for (const name of await h.list(dir)) {
    const p = dir === '/' ? `/${name}` : `${dir}/${name}`
    const st = await h.stat(p)
    out.push(`${p} ${st.kind}`)
    if (st.kind === 'dir') out.push(...(await tree(h, p)))
  }
  return out.sort()
}

describe('simplex', () => {
  test('files, groups and symlinks of the source appear on the target, with modes', async () => {
    const p = new Pair('simplex')
    await p.a.mkdir('/docs', 0o750)
    await p.a.mkdir('/docs/drafts', 0o755)
    await write(p.a, '/docs/readme.txt', 'hello\n', 0o600)
    await write(p.a, '/empty', '')
    await p.a.symlink('docs/readme.txt', '/link')
    const stats = p.pass()
    assert.equal(stats.errors, 0)
    assert.deepEqual(await tree(p.b), await tree(p.a))
    assert.equal(await read(p.b, '/docs/readme.txt'), 'hello\n')
    assert.equal((await p.b.stat('/docs/readme.txt')).mode, 0o600)
    assert.equal((await p.b.stat('/docs')).mode, 0o750)
    assert.equal(await p.b.readlink('/link'), 'docs/readme.txt')
    assert.equal(p.pass().copied, 0, 'a second pass finds nothing to do')
  })

  test('binary content is copied by its manifest: the target reads the same bytes', async () => {
    const p = new Pair('simplex')
    const bytes = Buffer.alloc(3 << 20)
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7) & 0xff
    bytes[5] = 0
    await write(p.a, '/blob.bin', bytes)
    p.pass()
    const st = await p.b.stat('/blob.bin')
    assert.equal(st.size, bytes.length)
    const f = await p.b.open('/blob.bin', RO)
    assert.ok((await f.read(0, bytes.length)).equals(bytes))
    await f.release()
  })

  test('a change on the target stays there and does not come back; a later source change overwrites it', async () => {
    const p = new Pair('simplex')
    await write(p.a, '/f.txt', 'one\n')
    p.pass()
    await write(p.b, '/f.txt', 'changed on b\n')
    await write(p.b, '/only-b.txt', 'mine\n')
    p.pass()
    assert.equal(await read(p.a, '/f.txt'), 'one\n')
    assert.equal(await exists(p.a, '/only-b.txt'), false)
    assert.equal(await read(p.b, '/f.txt'), 'changed on b\n', 'the target keeps its own change')
    // Still so after a restart of the mirror (the base is durable).
    p.mirror.stop()
    p.mirror = p.newMirror()
    p.pass()
    assert.equal(await read(p.b, '/f.txt'), 'changed on b\n')
    await write(p.a, '/f.txt', 'two\n')
    p.pass()
    assert.equal(await read(p.b, '/f.txt'), 'two\n')
    assert.equal(await read(p.b, '/only-b.txt'), 'mine\n')
  })

  test('a source delete deletes on the target unless the target changed that path', async () => {
    const p = new Pair('simplex')
    await p.a.mkdir('/g', 0o755)
    await write(p.a, '/g/x', 'x')
    await write(p.a, '/keep', 'k')
    p.pass()
    await write(p.b, '/keep', 'edited on b')
    await p.a.unlink('/g/x')
    await p.a.rmdir('/g')
    await p.a.unlink('/keep')
    p.pass()
    assert.equal(await exists(p.b, '/g'), false)
    assert.equal(await read(p.b, '/keep'), 'edited on b')
    // A target-only file inside a group the source removes keeps the group.
    await p.a.mkdir('/h', 0o755)
    p.pass()
    await write(p.b, '/h/mine', 'b')
    await p.a.rmdir('/h')
    p.pass()
    assert.equal(await read(p.b, '/h/mine'), 'b')
  })

  test('a rename on the source is a delete and a create on the target', async () => {
    const p = new Pair('simplex')
    await write(p.a, '/old.txt', 'content\n')
    p.pass()
    await p.a.rename('/old.txt', '/new.txt')
    p.pass()
    assert.deepEqual(await tree(p.b), ['/new.txt file'])
    assert.equal(await read(p.b, '/new.txt'), 'content\n')
  })

  test('a file in the source where the target made a group with content: the group moves aside', async () => {
    const p = new Pair('simplex')
    await p.b.mkdir('/x', 0o755)
    await write(p.b, '/x/inner', 'b')
    await write(p.a, '/x', 'a file')
    p.pass()
    p.pass()
    assert.equal(await read(p.b, '/x'), 'a file')
    const aside = (await p.b.list('/')).find((n) => n.startsWith('x (conflict '))
    assert.ok(aside, `no conflict copy in ${await p.b.list('/')}`)
    assert.equal(await read(p.b, `/${aside}/inner`), 'b')
  })
})

describe('duplex', () => {
  test('changes go both ways, deletes too', async () => {
    const p = new Pair('duplex')
    await write(p.a, '/from-a', 'a')
    await p.b.mkdir('/from-b', 0o755)
    await write(p.b, '/from-b/f', 'b')
    p.pass()
    assert.deepEqual(await tree(p.a), await tree(p.b))
    assert.equal(await read(p.a, '/from-b/f'), 'b')
    await write(p.b, '/from-a', 'a, edited on b')
    await p.a.unlink('/from-b/f')
    p.pass()
    assert.equal(await read(p.a, '/from-a'), 'a, edited on b')
    assert.equal(await exists(p.b, '/from-b/f'), false)
    assert.equal(p.pass().copied + p.pass().deleted, 0)
  })

  test('both sides edit one text: the edits merge three ways and both sides read the result', async () => {
    const p = new Pair('duplex')
    await write(p.a, '/notes.txt', 'one\ntwo\nthree\n')
    p.pass()
    await write(p.a, '/notes.txt', 'ONE\ntwo\nthree\n')
    await write(p.b, '/notes.txt', 'one\ntwo\nTHREE\n')
    const stats = p.pass()
    assert.equal(stats.merged, 1)
    assert.equal(await read(p.a, '/notes.txt'), 'ONE\ntwo\nTHREE\n')
    assert.equal(await read(p.b, '/notes.txt'), 'ONE\ntwo\nTHREE\n')
  })

  test("both sides change a binary: both versions are kept, the target's under a conflict name", async () => {
    const p = new Pair('duplex')
    await write(p.a, '/pic.bin', Buffer.from([0, 1, 2]))
    p.pass()
    await write(p.a, '/pic.bin', Buffer.from([0, 1, 2, 3]))
    await write(p.b, '/pic.bin', Buffer.from([0, 9, 9]))
    assert.equal(p.pass().conflicts, 1)
    p.pass()
    assert.deepEqual(await tree(p.a), await tree(p.b))
    const names = await p.a.list('/')
    assert.equal(names.length, 2, names.join(', '))
    const aside = names.find((n) => n !== 'pic.bin')!
    assert.match(aside, /^pic \(conflict [0-9a-f]{4}\)\.bin$/)
    assert.deepEqual([...Buffer.from(await read(p.b, '/pic.bin'), 'latin1')], [0, 1, 2, 3])
    const f = await p.a.open(`/${aside}`, RO)
    assert.deepEqual([...(await f.read(0, 10))], [0, 9, 9])
    await f.release()
  })

  test('an edit beats a concurrent delete', async () => {
    const p = new Pair('duplex')
    await write(p.a, '/f', 'v1')
    p.pass()
    await p.a.unlink('/f')
    await write(p.b, '/f', 'v2')
    p.pass()
    assert.equal(await read(p.a, '/f'), 'v2')
  })

  test('a group narrowed to simplex mirrors one way only; a group turned off is not mirrored', async () => {
    const p = new Pair('duplex')
    await p.a.mkdir('/one-way', 0o755)
    await p.a.mkdir('/private', 0o755)
    p.setGroup('/one-way', 'simplex')
    p.setGroup('/private', 'off')
    await write(p.a, '/one-way/f', 'a')
    await write(p.a, '/private/secret', 's')
    p.pass()
    assert.equal(await read(p.b, '/one-way/f'), 'a')
    assert.equal(await exists(p.b, '/private'), false)
    await write(p.b, '/one-way/f', 'b')
    await write(p.b, '/one-way/g', 'b')
    await write(p.b, '/elsewhere', 'b')
    p.pass()
    assert.equal(await read(p.a, '/one-way/f'), 'a')
    assert.equal(await exists(p.a, '/one-way/g'), false)
    assert.equal(await read(p.a, '/elsewhere'), 'b', 'the rest is still duplex')
  })
})

describe('modes', () => {
  test("a group may narrow its target's mode, never widen it", () => {
    const cfg: TargetConfig = { source: 'a', url: 'local', target: 'b', type: 'simplex', groups: {} }
    const names = { source: 'a', target: 'b' }
    throwsCode(() => withGroupMode(cfg, '/g', 'duplex', names), 'EINVAL', {
      message: /cannot be duplex: the target b of namespace a is simplex/,
    })
    const off = withGroupMode(cfg, '/g', 'off', names)
    assert.deepEqual(off.groups, { '/g': 'off' })
    assert.deepEqual(withGroupMode(off, '/g', 'simplex', names).groups, {}, 'asking for the enclosing mode clears the setting')
    const duplex = withGroupMode({ ...cfg, type: 'duplex' }, '/g', 'simplex', names)
    assert.throws(() => withGroupMode(duplex, '/g/h', 'duplex', names), /a group around \/g\/h is simplex/)
  })
})
