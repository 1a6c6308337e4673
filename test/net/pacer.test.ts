// The blob pacer (net/transport/pacer.ts): a second's budget goes at once, the rest waits its
// turn in order, and what waits when the connection closes is dropped.

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Pacer } from '../../src/net/transport/pacer.js'
import { waitFor } from '../support/wait.js'

test('within the budget a message goes at once; beyond it, later and in order', async () => {
  const pacer = new Pacer(10_000)
  const sent: number[] = []
  for (let i = 0; i < 4; i++) pacer.send(4_000, () => sent.push(i))
  assert.deepEqual(sent, [0, 1], 'two fit in the first second')
  await waitFor(() => sent.length === 4, { what: 'the rest to go' })
  assert.deepEqual(sent, [0, 1, 2, 3])
})

test('a message bigger than a second of budget still goes, once the bucket is full', async () => {
  const pacer = new Pacer(1_000)
  const sent: string[] = []
  pacer.send(2_000, () => sent.push('big'))
  pacer.send(10, () => sent.push('small'))
  assert.deepEqual(sent, ['big'])
  await waitFor(() => sent.length === 2, { what: 'the small one after the debt', timeoutMs: 15_000 })
  assert.deepEqual(sent, ['big', 'small'])
})

test('stop drops what waits', async () => {
  const pacer = new Pacer(1_000)
  const sent: number[] = []
  pacer.send(1_000, () => sent.push(1))
  pacer.send(1_000, () => sent.push(2))
  pacer.stop()
  await new Promise((r) => setTimeout(r, 1_200))
  assert.deepEqual(sent, [1])
})
