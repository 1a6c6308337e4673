// What reaches a node's sync port from strangers: a peer that is not a member gets nothing of a
// namespace, and garbage frames close that connection without hurting the node.

import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'
import { WebSocket } from 'ws'
import { Handshake } from '../../src/net/protocol/handshake.js'
import { KeyPair } from '../../src/net/trust/identity.js'
import { decodeMessage, encodeMessage, type PeerMessage } from '../../src/net/protocol/peer-messages.js'
import { ok, startMount } from '../support/harness.js'
import { waitFor } from '../support/wait.js'

interface Stranger {
  received: PeerMessage[]
  closed: Promise<void>
  send(m: PeerMessage): void
  ws: WebSocket
}

/** A real client that completes the handshake with a key of its own, then speaks the protocol. */
async function stranger(url: string): Promise<Stranger> {
  const ws = new WebSocket(url)
  const hs = new Handshake({ identity: KeyPair.generate() })
  const received: PeerMessage[] = []
  const closed = new Promise<void>((r) => ws.once('close', () => r()))
  await new Promise<void>((resolve, reject) => {
    ws.once('error', reject)
    ws.once('open', () => ws.send(hs.start()))
    ws.on('message', (data: Buffer) => {
      if (!hs.done) {
        const reply = hs.receive(new Uint8Array(data))
        if (reply) ws.send(reply)
        if (hs.done) resolve()
        return
      }
      received.push(decodeMessage(new Uint8Array(data)))
    })
  })
  return { received, closed, ws, send: (m) => ws.send(encodeMessage(m)) }
}

function statusOf(mnt: string): { url: string } {
  return JSON.parse(readFileSync(path.join(mnt, '.meshfs', 'status'), 'utf8'))
}

test('a connection whose key is not a member receives nothing of a namespace, not even its id', async () => {
  const node = await startMount(['--listen', '127.0.0.1:0'])
  try {
    await ok(`mkdir ${node.mnt}/secret && echo classified > ${node.mnt}/secret/plans.txt`)
    const ns = (await ok(`getfattr -n user.meshfs.id --only-values ${node.mnt}/secret`)).trim()
    const s = await stranger(statusOf(node.mnt).url)
    // It claims the namespace and asks for every doc from nothing.
    s.send({ type: 'namespaces', ids: [ns] })
    s.send({ type: 'sync', ns, docKey: 'tree', kind: 0, payload: new Uint8Array([0]) })
    await s.closed
    const leaked = s.received.filter((m) => m.type === 'sync' || m.type === 'blob' || (m.type === 'namespaces' && m.ids.length > 0))
    assert.deepEqual(leaked, [], 'no namespace data, not even its id')
    assert.match(node.log(), /not shared with this peer/)
    assert.equal(await ok(`cat ${node.mnt}/secret/plans.txt`), 'classified\n')
  } finally {
    await node.stop()
  }
})

test('thousands of random and truncated frames close their connections; the node keeps serving', { timeout: 120_000 }, async () => {
  const node = await startMount(['--listen', '127.0.0.1:0'])
  try {
    await ok(`mkdir ${node.mnt}/ns && echo ok > ${node.mnt}/ns/f`)
    const url = statusOf(node.mnt).url
    let seed = 12345
    const rand = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32
    const frames: Uint8Array[] = []
    for (let i = 0; i < 3000; i++) {
      const bytes = new Uint8Array(Math.floor(rand() * 64))
      for (let j = 0; j < bytes.length; j++) bytes[j] = Math.floor(rand() * 256)
      if (bytes.length > 0 && rand() < 0.5) bytes[0] = 1 + Math.floor(rand() * 6) // a known type, bad body
      frames.push(bytes)
    }
    // Before the handshake (garbage hellos) and after it (garbage protocol messages).
    for (let batch = 0; batch < 30; batch++) {
      const s = batch % 2 === 0 ? await stranger(url) : undefined
      const ws = s?.ws ?? new WebSocket(url)
      if (!s) await new Promise<void>((r, j) => (ws.once('open', () => r()), ws.once('error', j)))
      const closed = s?.closed ?? new Promise<void>((r) => ws.once('close', () => r()))
      for (const f of frames.slice(batch * 100, batch * 100 + 100)) if (ws.readyState === WebSocket.OPEN) ws.send(f)
      if (ws.readyState === WebSocket.OPEN) ws.send('a text frame')
      await closed
    }
    await waitFor(() => /protocol error/.test(node.log()), { what: 'the log to show protocol errors' })
    assert.equal(node.proc.exitCode, null, 'the daemon is still running')
    assert.equal(await ok(`cat ${node.mnt}/ns/f`), 'ok\n')
    await ok(`echo more >> ${node.mnt}/ns/f`)
  } finally {
    await node.stop()
  }
})

test('--max-frame-bytes and --max-connections-per-peer close what exceeds them; the node keeps serving', { timeout: 60_000 }, async () => {
  const node = await startMount(['--listen', '127.0.0.1:0', '--max-frame-bytes', '4096', '--max-connections-per-peer', '2'])
  try {
    await ok(`mkdir ${node.mnt}/ns && echo ok > ${node.mnt}/ns/f`)
    const url = statusOf(node.mnt).url

    // An oversized frame, before or after the handshake, closes that connection: 1009 (too big).
    const big = new Uint8Array(8192)
    const raw = new WebSocket(url)
    await new Promise<void>((r, j) => (raw.once('open', () => r()), raw.once('error', j)))
    const rawCode = new Promise<number>((r) => raw.once('close', (code) => r(code)))
    raw.send(big)
    assert.equal(await rawCode, 1009)
    const s = await stranger(url)
    const sCode = new Promise<number>((r) => s.ws.once('close', (code) => r(code)))
    s.ws.send(big)
    assert.equal(await sCode, 1009)
    // A frame under the limit is fine.
    const under = await stranger(url)
    under.send({ type: 'namespaces', ids: [] })

    // One key, three connections: the third is closed (1008), the first two stay.
    const key = KeyPair.generate()
    const conns: Array<{ ws: WebSocket; code: Promise<number>; ready: Promise<void> }> = []
    for (let i = 0; i < 3; i++) {
      const ws = new WebSocket(url)
      const hs = new Handshake({ identity: key })
      const code = new Promise<number>((r) => ws.once('close', (c) => r(c)))
      const ready = new Promise<void>((resolve, reject) => {
        ws.once('error', reject)
        ws.once('open', () => ws.send(hs.start()))
        ws.on('message', (data: Buffer) => {
          if (hs.done) return resolve()
          const reply = hs.receive(new Uint8Array(data))
          if (reply) ws.send(reply)
          if (hs.done) resolve()
        })
      })
      await ready
      conns.push({ ws, code, ready })
    }
    assert.equal(await conns[2]!.code, 1008)
    await new Promise((r) => setTimeout(r, 300))
    assert.equal(conns[0]!.ws.readyState, WebSocket.OPEN, 'the first connection stays')
    assert.equal(conns[1]!.ws.readyState, WebSocket.OPEN, 'the second connection stays')
    assert.match(node.log(), /more than 2 connections from one peer/)
    for (const c of conns) c.ws.close()
    under.ws.close()

    assert.equal(node.proc.exitCode, null, 'the daemon is still running')
    assert.equal(await ok(`cat ${node.mnt}/ns/f`), 'ok\n')
  } finally {
    await node.stop()
  }
})
