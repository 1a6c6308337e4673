// A stock Yjs client against real daemons: y-websocket's WebsocketProvider (in Node, with `ws`)
// opens a text resource's room `NAMESPACE_ID/RESOURCE_ID` on a node with a token from
// `meshfs ns token`, and its edits meet the mount's: `cat` shows the client's, `sed -i` and `>>`
// reach the client's Y.Text, on the node it connected to and on a node that joined the namespace.
// Awareness is echoed to every connection (the sender's too); bad tokens, other namespaces,
// unknown rooms, read-only writes, removed resources and malformed frames are closed with
// 4401/4403/4400 and the stock client stops retrying. Every provider is destroyed and every daemon stopped in `finally`.

import assert from 'node:assert/strict'
import { rmSync } from 'node:fs'
import path from 'node:path'
import { describe, test } from 'node:test'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { WebSocket } from 'ws'
import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'
import type { ClientToken } from '../../src/index.js'
import { ok, runCli, startMount, tempDir, type MountedNode } from '../support/harness.js'
import { waitFor } from '../support/wait.js'
import { LISTEN, SYNC_MS, cat, eventually, q } from '../support/cluster.js'

const TEST_TIMEOUT = 120_000

/** `meshfs ns token NS --json ...` on `node`. */
async function mint(node: MountedNode, ns: string, ...extra: string[]): Promise<ClientToken> {
  const r = await runCli(['ns', 'token', ns, '--data', node.data, '--json', ...extra])
  assert.equal(r.code, 0, `meshfs ns token ${ns} ${extra.join(' ')} exited ${r.code}: ${r.stderr}`)
  return JSON.parse(r.stdout) as ClientToken
}

const idOf = async (p: string) => (await ok(`getfattr -n user.meshfs.id --only-values ${q(p)}`)).trim()

/** A stock provider and what it went through: connection attempts, closes, messages received. */
interface Client {
  doc: Y.Doc
  provider: WebsocketProvider
  text: Y.Text
  attempts: number
  closed: Array<{ code: number; reason: string }>
  /** Awareness client ids in the frames this client received, in order. */
  awarenessFrom: number[]
}

class Clients {
  private readonly all: Client[] = []

  open(url: string, room: string, params: Record<string, string>, opts: { connect?: boolean } = {}): Client {
    const doc = new Y.Doc()
    const provider = new WebsocketProvider(url, room, doc, {
      WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
      params,
      // Two providers of one room in one process would otherwise talk over BroadcastChannel,
      // not through the node.
      disableBc: true,
      // A refused client that (wrongly) retried would do so within a few hundred ms.
      maxBackoffTime: 200,
      connect: false,
    })
    const c: Client = { doc, provider, text: doc.getText('t'), attempts: 0, closed: [], awarenessFrom: [] }
    provider.on('status', ({ status }) => {
      if (status !== 'connecting') return
      c.attempts++
      // Watch the raw frames beside the provider's own handler.
      provider.ws?.addEventListener('message', (e: { data: unknown }) => {
        const bytes = new Uint8Array(e.data as ArrayBuffer)
        const d = decoding.createDecoder(bytes)
        if (decoding.readVarUint(d) !== 1) return
        const u = decoding.createDecoder(decoding.readVarUint8Array(d))
        const n = decoding.readVarUint(u)
        for (let i = 0; i < n; i++) {
          c.awarenessFrom.push(decoding.readVarUint(u))
          decoding.readVarUint(u)
          decoding.readVarString(u)
        }
      })
    })
    provider.on('closed', (e) => c.closed.push(e))
    this.all.push(c)
    if (opts.connect !== false) provider.connect()
    return c
  }

  async synced(c: Client): Promise<void> {
    await waitFor(() => c.provider.synced, { what: `the provider of ${c.provider.roomname} to sync (closed: ${JSON.stringify(c.closed)})` })
  }

  destroy(): void {
    for (const c of this.all) {
      c.provider.destroy()
      c.doc.destroy()
    }
  }
}

async function withNodes(
  fn: (start: (root?: string) => Promise<MountedNode>, clients: Clients, stop: (n: MountedNode) => Promise<void>) => Promise<void>,
): Promise<void> {
  const nodes: MountedNode[] = []
  /** Roots given to `start` outlive their node (a restart); removed once every node stopped. */
  const kept = new Set<string>()
  const clients = new Clients()
  let failed = true
  try {
    await fn(
      async (root) => {
        if (root !== undefined) kept.add(root)
        const n = await startMount(LISTEN, root === undefined ? {} : { root })
        nodes.push(n)
        return n
      },
      clients,
      async (n) => {
        nodes.splice(nodes.indexOf(n), 1)
        await n.stop()
      },
    )
    failed = false
  } finally {
    clients.destroy()
    for (const n of nodes.reverse()) {
      if (failed) console.error(`--- log of the daemon at ${n.mnt} ---\n${n.log().trim().split('\n').slice(-40).join('\n')}`)
      await n.stop().catch((err: Error) => console.error(`stopping ${n.mnt}: ${err.message}`))
    }
    for (const root of kept) rmSync(root, { recursive: true, force: true })
  }
}

/** `meshfs ns create team`, a text file in it through the mount; returns the room's parts. */
async function namespaceWithFile(
  node: MountedNode,
  alias: string,
  file: string,
  text: string,
): Promise<{ nsId: string; fileId: string; path: string }> {
  const r = await runCli(['ns', 'create', alias, '--data', node.data])
  assert.equal(r.code, 0, r.stderr)
  const p = path.join(node.mnt, alias, file)
  await ok(`printf %s ${q(text)} > ${q(p)}`)
  return { nsId: await idOf(path.join(node.mnt, alias)), fileId: await idOf(p), path: p }
}

/** A raw WebSocket's close code (after it opened, or not). */
function closeCode(url: string, send?: (ws: WebSocket) => void): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url)
    const timer = setTimeout(() => {
      ws.terminate()
      reject(new Error(`${url} was not closed by the node`))
    }, SYNC_MS)
    ws.once('open', () => send?.(ws))
    ws.once('error', () => undefined)
    ws.once('close', (code) => {
      clearTimeout(timer)
      resolve(code)
    })
  })
}

describe('a stock Yjs client (y-websocket WebsocketProvider)', () => {
  test(
    "syncs a resource made through the mount; its edits show in cat, the mount's edits reach it, and both survive a restart",
    { timeout: TEST_TIMEOUT },
    () =>
      withNodes(async (start, clients, stop) => {
        const root = tempDir('yws-restart')
        {
          const a = await start(root)
          const { nsId, fileId, path: file } = await namespaceWithFile(a, 'team', 'notes.txt', 'hello world\n')
          const minted = await mint(a, 'team')
          assert.equal(minted.namespace, nsId)
          assert.match(minted.url, /^ws:\/\/127\.0\.0\.1:\d+$/)
          assert.equal(minted.expiresAtMs, null)
          // The plain form is the token alone, one line.
          const plain = await runCli(['ns', 'token', 'team', '--data', a.data])
          assert.equal(plain.code, 0, plain.stderr)
          assert.match(plain.stdout, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\n$/)

          const c = clients.open(minted.url, `${nsId}/${fileId}`, { token: minted.token })
          await clients.synced(c)
          await eventually('the client to hold the file', () => c.text.toString(), 'hello world\n')

          c.text.insert(0, 'Hi! ')
          await eventually("cat to show the client's edit", () => cat(file), 'Hi! hello world\n')
          const size = (await ok(`stat -c %s ${q(file)}`)).trim()
          assert.equal(size, String(Buffer.byteLength('Hi! hello world\n')))

          await ok(`sed -i 's/world/mesh/' ${q(file)}`)
          await eventually('the client to receive sed -i', () => c.text.toString(), 'Hi! hello mesh\n')
          await ok(`echo 'more ✓' >> ${q(file)}`)
          await eventually('the client to receive the append', () => c.text.toString(), 'Hi! hello mesh\nmore ✓\n')
          // The file keeps its identity through the editors' saves.
          assert.equal(await idOf(file), fileId)

          c.text.delete(0, 4)
          await eventually("cat to show the client's delete", () => cat(file), 'hello mesh\nmore ✓\n')
          // Emptying the file through the mount empties the client's text; its next edit is all there is.
          await ok(`: > ${q(file)}`)
          await eventually('the client to see the file emptied', () => c.text.toString(), '')
          c.text.insert(0, 'fresh\n')
          await eventually('cat to show the edit after emptying', () => cat(file), 'fresh\n')
          c.text.insert(6, 'last ✓\n')
          await eventually('cat to show the last edit', () => cat(file), 'fresh\nlast ✓\n')

          // Stored, with its size in the tree: a restarted node serves it whole, to cat and clients.
          c.provider.disconnect()
          await stop(a)
          const a2 = await start(root)
          await eventually('cat after the restart', () => cat(file.replace(a.mnt, a2.mnt)), 'fresh\nlast ✓\n')
          const again = await mint(a2, nsId)
          const fresh = clients.open(again.url, `${nsId}/${fileId}`, { token: again.token })
          await clients.synced(fresh)
          await eventually('a new client to receive the stored text', () => fresh.text.toString(), 'fresh\nlast ✓\n')
        }
      }),
  )

  test('awareness reaches the other clients and is echoed to its sender; a client that leaves is removed', { timeout: TEST_TIMEOUT }, () =>
    withNodes(async (start, clients) => {
      const a = await start()
      const { nsId, fileId } = await namespaceWithFile(a, 'team', 'doc.md', '# doc\n')
      const { token, url } = await mint(a, 'team')
      const room = `${nsId}/${fileId}`
      const ann = clients.open(url, room, { token })
      await clients.synced(ann)
      const bob = clients.open(url, room, { token })
      await clients.synced(bob)

      ann.provider.awareness.setLocalStateField('user', { name: 'ann' })
      await waitFor(
        () => (bob.provider.awareness.getStates().get(ann.doc.clientID) as { user?: { name?: string } } | undefined)?.user?.name === 'ann',
        { what: 'bob to see ann' },
      )
      // The node sends ann's update back to ann: the stock client counts it as a sign of life.
      await waitFor(() => ann.awarenessFrom.includes(ann.doc.clientID), { what: 'ann to receive her own awareness' })
      const echoes = () => ann.awarenessFrom.filter((id) => id === ann.doc.clientID).length
      for (let i = 1; i <= 10; i++) {
        const before = echoes()
        ann.provider.awareness.setLocalStateField('cursor', i)
        await waitFor(() => echoes() > before, { what: `the echo of ann's update ${i}` })
      }
      await waitFor(() => (bob.provider.awareness.getStates().get(ann.doc.clientID) as { cursor?: number } | undefined)?.cursor === 10, {
        what: 'bob to see the last cursor',
      })
      assert.equal(ann.attempts, 1, 'ann reconnected')
      assert.equal(bob.attempts, 1, 'bob reconnected')
      assert.equal(ann.provider.wsconnected, true)

      bob.provider.awareness.setLocalStateField('user', { name: 'bob' })
      await waitFor(() => ann.provider.awareness.getStates().has(bob.doc.clientID), { what: 'ann to see bob' })
      bob.provider.destroy()
      await waitFor(() => !ann.provider.awareness.getStates().has(bob.doc.clientID), { what: 'ann to see bob leave' })
      assert.equal(ann.provider.wsconnected, true)
    }),
  )

  test(
    'bad tokens close with 4401, other namespaces, unknown rooms and read-only writes with 4403; the client stops retrying',
    { timeout: TEST_TIMEOUT },
    () =>
      withNodes(async (start, clients) => {
        const a = await start()
        const b = await start()
        const { nsId, fileId, path: file } = await namespaceWithFile(a, 'team', 'notes.txt', 'secret\n')
        const other = await runCli(['ns', 'create', 'other', '--data', a.data])
        assert.equal(other.code, 0, other.stderr)
        const good = await mint(a, 'team')
        const url = good.url
        const room = `${nsId}/${fileId}`

        /** Open a provider, wait for the node to close it, and check that it does not come back. */
        const refused = async (what: string, r: string, params: Record<string, string>, code: number) => {
          const c = clients.open(url, r, params)
          await waitFor(() => c.closed.length > 0, { what: `${what}: the node to close the connection` })
          assert.equal(c.closed[0]!.code, code, `${what}: closed with ${JSON.stringify(c.closed[0])}`)
          assert.equal(c.provider.shouldConnect, false, `${what}: the client would retry`)
          // Its retry would have been scheduled within maxBackoffTime (200 ms): give it ten times that.
          await new Promise((r) => setTimeout(r, 2_000))
          assert.equal(c.attempts, 1, `${what}: the client connected again`)
          assert.equal(c.provider.ws, null)
          assert.equal(c.text.toString(), '', `${what}: the client received the text`)
        }

        await refused('no token', room, {}, 4401)
        const [payload, sig] = good.token.split('.') as [string, string]
        const flipped = sig.slice(0, 10) + (sig[10] === 'A' ? 'B' : 'A') + sig.slice(11)
        await refused('a tampered signature', room, { token: `${payload}.${flipped}` }, 4401)
        const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>
        const forged = Buffer.from(JSON.stringify({ ...claims, ro: true })).toString('base64url')
        await refused('an edited payload', room, { token: `${forged}.${sig}` }, 4401)
        await refused('garbage', room, { token: 'not-a-token' }, 4401)
        const fromB = await runCli(['ns', 'create', 'team', '--data', b.data, '--json'])
        assert.equal(fromB.code, 0, fromB.stderr)
        const bToken = (await mint(b, 'team')).token
        await refused('a token another node issued', room, { token: bToken }, 4401)
        const short = await mint(a, 'team', '--expires', '1s')
        assert.ok(short.expiresAtMs !== null && short.expiresAtMs > Date.now() - 5_000)
        await waitFor(() => Date.now() > short.expiresAtMs! + 10, { what: 'the short token to expire', timeoutMs: 5_000 })
        await refused('an expired token', room, { token: short.token }, 4401)

        await refused('a token for another namespace', room, { token: (await mint(a, 'other')).token }, 4403)
        await refused('an unknown resource', `${nsId}/0123456789abcdef`, { token: good.token }, 4403)
        await refused('the tree doc', nsId, { token: good.token }, 4403)
        await refused('the tree doc by name', `${nsId}/tree`, { token: good.token }, 4403)

        // A read-only token reads, and is closed when it writes; the file is unchanged.
        const ro = await mint(a, 'team', '--read-only')
        assert.equal(ro.readOnly, true)
        const reader = clients.open(url, room, { token: ro.token })
        await eventually('the read-only client to receive the text', () => reader.text.toString(), 'secret\n')
        reader.text.insert(0, 'vandal ')
        await waitFor(() => reader.closed.length > 0, { what: 'the read-only writer to be closed' })
        assert.equal(reader.closed[0]!.code, 4403)
        assert.equal(reader.provider.shouldConnect, false)
        assert.equal(await cat(file), 'secret\n')

        // Malformed frames from a client with a good token: closed with 4400, nothing stored.
        const roomUrl = `${url}/${room}?token=${good.token}`
        assert.equal(await closeCode(roomUrl, (ws) => ws.send('a text frame')), 4400)
        assert.equal(await closeCode(roomUrl, (ws) => ws.send(new Uint8Array([0x00, 0x02, 0x05, 0x01]))), 4400, 'a truncated update')
        assert.equal(await closeCode(roomUrl, (ws) => ws.send(new Uint8Array([0x09]))), 4400, 'an unknown message type')
        const junk = encoding.createEncoder()
        encoding.writeVarUint(junk, 0)
        encoding.writeVarUint(junk, 2)
        encoding.writeVarUint8Array(junk, new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f, 0x07]))
        assert.equal(await closeCode(roomUrl, (ws) => ws.send(encoding.toUint8Array(junk))), 4400, 'an update Yjs cannot decode')
        assert.equal(await cat(file), 'secret\n')
        assert.match(a.log(), /closing client .* \(4400\): protocol error/)

        // The peer protocol still answers at `/`, and a good client still works after all that.
        const fine = clients.open(url, room, { token: good.token })
        await eventually('a good client to sync', () => fine.text.toString(), 'secret\n')
        // Removing the resource closes its room for good.
        await ok(`rm ${q(file)}`)
        await waitFor(() => fine.closed.length > 0, { what: "the removed resource's client to be closed" })
        assert.equal(fine.closed[0]!.code, 4403)
        assert.equal(fine.provider.shouldConnect, false)

        // The CLI: bad arguments exit 2, an unknown namespace 1, each with one line on stderr.
        const badDuration = await runCli(['ns', 'token', 'team', '--expires', 'soon', '--data', a.data])
        assert.equal(badDuration.code, 2, badDuration.stderr)
        assert.equal(badDuration.stderr.trim().split('\n').length, 1, badDuration.stderr)
        const unknown = await runCli(['ns', 'token', 'nope', '--data', a.data])
        assert.equal(unknown.code, 1, unknown.stderr)
        assert.match(unknown.stderr, /no namespace "nope"/)
      }),
  )

  test("a client's edit on node A shows on node B's mount, and a client on B reaches A", { timeout: TEST_TIMEOUT }, () =>
    withNodes(async (start, clients) => {
      const a = await start()
      const b = await start()
      const { nsId, fileId, path: fileA } = await namespaceWithFile(a, 'team', 'plan.txt', 'step 1\n')
      const inv = await runCli(['invite', 'team', '--data', a.data])
      assert.equal(inv.code, 0, inv.stderr)
      const joined = await runCli(['join', inv.stdout.trim(), '--data', b.data], { timeoutMs: 30_000 })
      assert.equal(joined.code, 0, joined.stderr)
      const fileB = path.join(b.mnt, 'team', 'plan.txt')
      await eventually('B to receive the file', () => cat(fileB), 'step 1\n')

      const onA = await mint(a, 'team')
      const ca = clients.open(onA.url, `${nsId}/${fileId}`, { token: onA.token })
      await clients.synced(ca)
      ca.text.insert(ca.text.length, 'step 2 (from a client on A)\n')
      await eventually("B's mount to show the edit made on A", () => cat(fileB), 'step 1\nstep 2 (from a client on A)\n')

      // Tokens are the issuing node's: B mints its own for the same room.
      const onB = await mint(b, 'team')
      assert.equal(onB.namespace, nsId)
      const cb = clients.open(onB.url, `${nsId}/${fileId}`, { token: onB.token })
      await eventually('the client on B to hold the text', () => cb.text.toString(), 'step 1\nstep 2 (from a client on A)\n')
      cb.text.insert(cb.text.length, 'step 3 (from a client on B)\n')
      const all = 'step 1\nstep 2 (from a client on A)\nstep 3 (from a client on B)\n'
      await eventually("A's mount to show the edit made on B", () => cat(fileA), all)
      await eventually('the client on A to receive the edit made on B', () => ca.text.toString(), all)
      await ok(`echo 'step 4 (through the mount on B)' >> ${q(fileB)}`)
      const four = `${all}step 4 (through the mount on B)\n`
      await eventually("the client on A to receive B's mount edit", () => ca.text.toString(), four)
      await eventually("the client on B to receive B's mount edit", () => cb.text.toString(), four)
    }),
  )
})
