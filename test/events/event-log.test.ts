// The events file's log: fixed offsets, a bounded size with a marker for readers left behind,
// and readers that wait for data without anything waiting for them.

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { EventLog } from '../../src/events/event-log.js'
import { EventHub } from '../../src/events/event-hub.js'

test('bytes stay at their offsets; reads take what is there', () => {
  const log = new EventLog()
  log.append('{"a":1}')
  log.append('{"b":2}\n')
  assert.equal(log.size, 16)
  assert.equal(log.read(0, 100).data.toString(), '{"a":1}\n{"b":2}\n')
  assert.equal(log.read(8, 4).data.toString(), '{"b"')
  assert.deepEqual(log.read(5, 6), { data: Buffer.from('1}\n{"b'), next: 11 })
  assert.equal(log.read(16, 10).data.length, 0)
})

test('past its size the oldest lines go, and a reader that fell behind is told how much it missed', () => {
  const log = new EventLog(100)
  for (let i = 0; i < 50; i++) log.append(JSON.stringify({ i }))
  assert.ok(log.size > 100)
  const behind = log.read(0, 1000)
  const marker = JSON.parse(behind.data.toString()) as { type: string; bytes: number }
  assert.equal(marker.type, 'dropped')
  assert.ok(marker.bytes > 0)
  assert.equal(behind.next, marker.bytes, 'the reader carries on at the oldest line kept')
  const rest = log.read(behind.next, 1000).data.toString()
  assert.ok(rest.length <= 100 && rest.endsWith('{"i":49}\n'), rest)
  assert.ok(rest.startsWith('{"i":'), 'the oldest kept data starts at a line')
})

test('a reader at the end waits for the next line; nothing waits for a reader', async () => {
  const log = new EventLog()
  log.append('first')
  let woke = false
  const waiting = log.waitBeyond(log.size).then(() => (woke = true))
  await new Promise((r) => setImmediate(r))
  assert.equal(woke, false)
  log.append('second')
  await waiting
  assert.equal(woke, true)
  // A million lines with nobody reading: bounded memory, appends never block.
  const big = new EventLog(1 << 16)
  for (let i = 0; i < 100_000; i++) big.append(`{"n":${i}}`)
  assert.ok(
    big
      .read(big.size - 12, 12)
      .data.toString()
      .endsWith('{"n":99999}\n'),
  )
})

test('the hub starts a costly source with its first subscriber and stops it with the last', () => {
  const hub = new EventHub()
  let running = 0
  let emit: ((e: { type: 'member-left'; member: string }) => void) | undefined
  hub.setSource('ns', (e) => {
    running++
    emit = e
    return () => running--
  })
  assert.equal(running, 0)
  const got: string[] = []
  const off1 = hub.subscribe('ns', (e) => got.push(`1:${e.type}`))
  const off2 = hub.subscribe('ns', (e) => got.push(`2:${e.type}`))
  assert.equal(running, 1)
  emit!({ type: 'member-left', member: 'k' })
  hub.emit('other', { type: 'member-left', member: 'k' })
  assert.deepEqual(got, ['1:member-left', '2:member-left'])
  off1()
  assert.equal(running, 1)
  off2()
  assert.equal(running, 0)
})
