// Each writer's merge base (src/namespace/read-bases.ts): keyed by the real process behind a
// caller (/proc), bounded, and what a whole-file save of a replicated namespace merges from, so a
// peer's edit that arrived after the writer read survives however many other readers came between.

import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { test } from 'node:test'
import { replicaStoreOf } from '../../src/node/namespaces.js'
import { ReplicatedHandler } from '../../src/namespace/handler.js'
import { processFromProc, ReadBases } from '../../src/namespace/read-bases.js'
import { NamespaceReplica } from '../../src/replica/replica.js'
import { openMemoryStore } from '../../src/store/local-store.js'

const INFO = {
  id: 'ab'.repeat(16),
  alias: 'r',
  application: 'files',
  upgradePolicy: 'lazy-on-access' as const,
  description: '',
  createdMs: 1,
}

/** A child process that lives until killed: a second, real caller. */
async function withChild(fn: (pid: number) => Promise<void>): Promise<void> {
  const child = spawn('sleep', ['30'], { stdio: 'ignore' })
  await once(child, 'spawn')
  try {
    await fn(child.pid!)
  } finally {
    child.kill('SIGKILL')
    if (child.exitCode === null && child.signalCode === null) await once(child, 'exit')
  }
}

test('a process is named by its thread group and start time; pid 0 and a dead process have no name', async () => {
  const me = processFromProc(process.pid)
  assert.match(me ?? '', new RegExp(`^${process.pid}@\\d+$`))
  assert.equal(processFromProc(0), undefined)
  let childPid = 0
  await withChild(async (pid) => {
    childPid = pid
    assert.match(processFromProc(pid) ?? '', new RegExp(`^${pid}@\\d+$`))
    assert.notEqual(processFromProc(pid), me)
  })
  assert.equal(processFromProc(childPid), undefined, 'an exited (and reaped) process has no name')
})

test('bases are per process and per resource; a process never sees another one’s', async () => {
  const bases = new ReadBases()
  bases.remember(process.pid, 'r1', 'mine')
  assert.equal(bases.baseOf(process.pid, 'r1'), 'mine')
  assert.equal(bases.baseOf(process.pid, 'r2'), undefined)
  await withChild(async (pid) => {
    assert.equal(bases.baseOf(pid, 'r1'), undefined)
    bases.remember(pid, 'r1', 'theirs')
    assert.equal(bases.baseOf(pid, 'r1'), 'theirs')
    assert.equal(bases.baseOf(process.pid, 'r1'), 'mine')
  })
  bases.remember(0, 'r1', 'nobody')
  assert.equal(bases.baseOf(0, 'r1'), undefined, 'a caller /proc cannot name keeps no base')
})

test('threads of one process share its bases (the kernel names the thread)', () => {
  const threads: Record<number, string> = { 101: 'p@1', 102: 'p@1', 201: 'q@1' }
  const bases = new ReadBases((tid) => threads[tid])
  bases.remember(101, 'r', 'read by thread 101')
  assert.equal(bases.baseOf(102, 'r'), 'read by thread 101')
  assert.equal(bases.baseOf(201, 'r'), undefined)
})

test('the bound: past the entry or character limit, exited processes go first, then the least recently used', () => {
  const alive = new Set(['p@1', 'q@1'])
  const bases = new ReadBases(
    (pid) => `${pid === 1 ? 'p' : pid === 2 ? 'q' : 'dead'}@1`,
    (p) => alive.has(p),
    3,
    100,
  )
  bases.remember(3, 'x', 'of a dead process')
  bases.remember(1, 'a', 'a')
  bases.remember(2, 'b', 'b')
  bases.remember(1, 'c', 'c')
  assert.equal(bases.size, 3)
  assert.equal(bases.baseOf(3, 'x'), undefined, 'the dead process went first, though it was not the oldest live use')
  bases.baseOf(1, 'a') // used again: now the most recent
  bases.remember(2, 'd', 'd')
  assert.equal(bases.baseOf(2, 'b'), undefined, 'then the least recently used')
  assert.equal(bases.baseOf(1, 'a'), 'a')
  bases.remember(1, 'big', 'x'.repeat(99))
  assert.equal(bases.size, 2, 'the character bound holds too: 1 + 99 characters fit in 100')
  assert.equal(bases.baseOf(1, 'c'), undefined, 'the least recently used went first')
  assert.equal(bases.baseOf(2, 'd'), undefined)
  assert.equal(bases.baseOf(1, 'a'), 'a')
  assert.equal(bases.baseOf(1, 'big')?.length, 99)
})

test("a whole-file save merges from what that writer read, not from another reader's later read", async () => {
  const replica = NamespaceReplica.create(replicaStoreOf(openMemoryStore()), INFO)
  const handler = new ReplicatedHandler(replica, { removeNamespace: async () => {} })
  const write = async (path: string, text: string) => {
    const f = await handler.create(path, 0o644, { read: false, write: true, append: false, truncate: true })
    await f.write!(Buffer.from(text), 0)
    await f.release()
  }
  /** An O_TRUNC open by `pid` that writes `text` and closes: a whole-file save. */
  const save = async (path: string, text: string, pid: number) => {
    const f = await handler.open(path, { read: false, write: true, append: false, truncate: true, caller: { uid: 0, gid: 0, pid } })
    await f.write!(Buffer.from(text), 0)
    await f.release()
  }
  const read = async (path: string, pid: number) => {
    const f = await handler.open(path, { read: true, write: false, append: false, truncate: false, caller: { uid: 0, gid: 0, pid } })
    const bytes = await f.read(0, 1 << 20)
    await f.release()
    return bytes.toString()
  }
  await write('/f.txt', 'one\ntwo\nthree\n')
  const id = replica.tree.lookup(replica.tree.resolvePath([])!, 'f.txt')!
  // The writer (this process) reads the file.
  assert.equal(await read('/f.txt', process.pid), 'one\ntwo\nthree\n')
  // A peer's edit arrives: line 3 changes.
  const text = replica.text(id)
  text.delete(8, 5)
  text.insert(8, 'THREE')
  await withChild(async (other) => {
    // Another reader on this node reads the new text in between.
    assert.equal(await read('/f.txt', other), 'one\ntwo\nTHREE\n')
    // The writer saves its edit of what it read (line 1), truncating: the peer's line 3 stays.
    await save('/f.txt', 'ONE\ntwo\nthree\n', process.pid)
  })
  assert.equal(replica.text(id).toString(), 'ONE\ntwo\nTHREE\n')
  // Its next save is an edit of what it wrote: line 2 now, nothing of the peer's undone.
  await save('/f.txt', 'ONE\nTWO\nthree\n', process.pid)
  assert.equal(replica.text(id).toString(), 'ONE\nTWO\nTHREE\n')
})
