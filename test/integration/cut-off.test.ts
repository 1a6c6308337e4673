// A node cut off from the network keeps working and converges when it comes back. Node B runs in
// a network namespace of its own, joined to the host (node A) by a veth pair; "cutting it off"
// takes the link down, so its connections die silently, as when a cable is pulled or a laptop
// sleeps (nothing closes them; the heartbeat notices). Both nodes edit while apart, then the link
// comes back. The namespace and the link are removed in a `finally`, as are the daemons.

import assert from 'node:assert/strict'
import path from 'node:path'
import { test } from 'node:test'
import { ok, sh } from '../support/harness.js'
import { canMakeNetworkNamespaces, withCutLink } from '../support/netns.js'
import { waitFor } from '../support/wait.js'
import { TEST_TIMEOUT, cat, convergedTree, eventually, invite, join, q, waitContent, withCluster } from '../support/cluster.js'

/** Long enough for the heartbeat to drop a dead connection and for the redial backoff to pass. */
const RECONNECT_MS = 60_000

test('a node cut off from the network edits offline and converges after it comes back', { timeout: TEST_TIMEOUT }, async (t) => {
  if (!(await canMakeNetworkNamespaces())) return t.skip('needs root, ip and nsenter')
  await withCutLink('t', 231, (link) =>
    withCluster(async (c) => {
      const a = await c.start(['--listen', `${link.hostIp}:0`])
      const b = await c.start(['--listen', `${link.nodeIp}:0`], undefined, link.wrap)
      await ok(`mkdir ${q(path.join(a.mnt, 'team'))} && printf 'one\\ntwo\\nthree\\n' > ${q(path.join(a.mnt, 'team/shared.txt'))}`)
      await join(b, await invite(a, 'team'))
      const A = path.join(a.mnt, 'team')
      const B = path.join(b.mnt, 'team')
      await waitContent(path.join(B, 'shared.txt'), 'one\ntwo\nthree\n')

      // Cut B off: the link goes down and its packets go nowhere.
      await link.cut()
      await ok(`echo from-a > ${q(A)}/a-offline.txt && sed -i 's/^one$/ONE (A)/' ${q(A)}/shared.txt`)
      await ok(`echo from-b > ${q(B)}/b-offline.txt && sed -i 's/^three$/THREE (B)/' ${q(B)}/shared.txt && mkdir ${q(B)}/b-group`)
      // Apart, each sees only its own changes.
      assert.equal(await cat(path.join(B, 'shared.txt')), 'one\ntwo\nTHREE (B)\n')
      assert.equal(await cat(path.join(A, 'shared.txt')), 'ONE (A)\ntwo\nthree\n')
      await waitFor(() => /answered nothing|disconnected/.test(a.log()), { what: 'A to notice B is gone', timeoutMs: RECONNECT_MS })
      const stillApart = await sh(`test -e ${q(A)}/b-offline.txt`)
      assert.notEqual(stillApart.code, 0, 'nothing of B reached A while the link was down')

      // Back on the network: both converge, both edits of the shared text kept.
      await link.heal()
      await eventually('A to show the text B wrote offline', () => cat(path.join(A, 'b-offline.txt')), 'from-b\n', RECONNECT_MS)
      await waitContent(path.join(A, 'shared.txt'), 'ONE (A)\ntwo\nTHREE (B)\n')
      await waitContent(path.join(B, 'shared.txt'), 'ONE (A)\ntwo\nTHREE (B)\n')
      const tree = await convergedTree([A, B], RECONNECT_MS)
      for (const want of ['./a-offline.txt f', './b-offline.txt f', './b-group d']) assert.ok(tree.includes(want), `${want} in\n${tree}`)
    }),
  )
})
