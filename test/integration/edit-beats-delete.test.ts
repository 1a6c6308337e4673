// An edit beats a concurrent delete, on real nodes: B is cut off from the network (its own network
// namespace, joined to A by a veth pair whose link goes down, as in cut-off.test.ts); meanwhile A
// deletes `notes.txt` and `rm -r`s `docs`, and B appends to `notes.txt` and `docs/sub/a.txt`.
// After the link comes back both nodes show both files with B's edit, under the groups that A
// had removed, with the ids they had; A's other deleted files stay deleted, and so does a file A
// deleted after B's edit of it had reached A. A's event stream says `revived`, its log says why,
// and B, which never saw anything go, reports nothing. The namespace and the link are removed in
// a `finally`, as are the daemons and the event readers (by pid).

import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import path from 'node:path'
import { test } from 'node:test'
import { ok, type MountedNode } from '../support/harness.js'
import { canMakeNetworkNamespaces, withCutLink } from '../support/netns.js'
import { TEST_TIMEOUT, cat, convergedTree, eventually, idOf, invite, join, q, shape, waitContent, withCluster } from '../support/cluster.js'

/** Long enough for the heartbeat to drop a dead connection and for the redial backoff to pass. */
const RECONNECT_MS = 60_000

/** `cat` of a node's event stream of `team` (it never ends): its lines so far, and a stop by pid. */
function followEvents(node: MountedNode) {
  const proc = spawn('cat', [path.join(node.mnt, '.meshfs/ns/team/events')], { stdio: ['ignore', 'pipe', 'pipe'] })
  let text = ''
  proc.stdout.on('data', (d: Buffer) => (text += d.toString()))
  const exited = new Promise<void>((r) => proc.once('exit', () => r()))
  return {
    revived: () =>
      text
        .split('\n')
        .filter((l) => l.includes('"revived"'))
        .map((l) => JSON.parse(l) as { path: string; id: string; kind: string; reason: string }),
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL')
      await exited
    },
  }
}

test('edits made on a cut-off node beat the deletes made meanwhile on the other, and are reported', {
  timeout: TEST_TIMEOUT,
}, async (t) => {
  if (!(await canMakeNetworkNamespaces())) return t.skip('needs root, ip and nsenter')
  await withCutLink('e', 232, (link) =>
    withCluster(async (c) => {
      const a = await c.start(['--listen', `${link.hostIp}:0`])
      const b = await c.start(['--listen', `${link.nodeIp}:0`], undefined, link.wrap)
      const A = path.join(a.mnt, 'team')
      const B = path.join(b.mnt, 'team')
      await ok(`mkdir ${q(A)} && cd ${q(A)} && mkdir -p docs/sub docs/other && echo one > notes.txt && echo seen > seen.txt`)
      await ok(`cd ${q(A)} && echo alpha > docs/sub/a.txt && echo beta > docs/b.txt && echo gamma > docs/other/c.txt`)
      await join(b, await invite(a, 'team'))
      for (const [rel, text] of [
        ['notes.txt', 'one\n'],
        ['seen.txt', 'seen\n'],
        ['docs/sub/a.txt', 'alpha\n'],
        ['docs/b.txt', 'beta\n'],
        ['docs/other/c.txt', 'gamma\n'],
      ] as const)
        await waitContent(path.join(B, rel), text)
      // B's edit of seen.txt reaches A before A deletes it: that delete saw the edit.
      await ok(`echo b-was-here >> ${q(B)}/seen.txt`)
      await waitContent(path.join(A, 'seen.txt'), 'seen\nb-was-here\n')
      const notesId = await idOf(path.join(A, 'notes.txt'))
      const fileId = await idOf(path.join(A, 'docs/sub/a.txt'))
      const docsId = await idOf(path.join(A, 'docs'))
      const subId = await idOf(path.join(A, 'docs/sub'))
      const eventsA = followEvents(a)
      const eventsB = followEvents(b)
      try {
        // Cut B off: its packets go nowhere, so neither node sees what the other does now.
        await link.cut()
        await ok(`cd ${q(A)} && rm notes.txt seen.txt && rm -r docs`)
        await ok(`cd ${q(B)} && echo more >> notes.txt && echo more >> docs/sub/a.txt`)
        assert.equal(shape(await convergedTree([A])), '. d')
        assert.equal(await cat(path.join(B, 'notes.txt')), 'one\nmore\n')

        // Back on the network: the edits win over the deletes they had not seen, on both nodes.
        await link.heal()
        await eventually("A to show notes.txt with B's edit", () => cat(path.join(A, 'notes.txt')), 'one\nmore\n', RECONNECT_MS)
        await waitContent(path.join(A, 'docs/sub/a.txt'), 'alpha\nmore\n')
        const tree = await convergedTree([A, B], RECONNECT_MS)
        assert.equal(shape(tree), ['. d', './docs d', './docs/sub d', './docs/sub/a.txt f', './notes.txt f'].join('\n'))
        for (const dir of [A, B]) {
          assert.equal(await cat(path.join(dir, 'notes.txt')), 'one\nmore\n')
          assert.equal(await cat(path.join(dir, 'docs/sub/a.txt')), 'alpha\nmore\n')
          assert.equal(await idOf(path.join(dir, 'notes.txt')), notesId)
          assert.equal(await idOf(path.join(dir, 'docs/sub/a.txt')), fileId)
          assert.equal(await idOf(path.join(dir, 'docs')), docsId)
        }

        // A says what came back and why, in its event stream and its log; B saw nothing go.
        const edited = 'edited on another node while deleted here'
        // Sorted by path: B's two edits may arrive in one update or two.
        await eventually(
          "A's events to show the revivals",
          () =>
            JSON.stringify(
              eventsA
                .revived()
                .map((e) => [e.path, e.id, e.kind, e.reason])
                .sort(),
            ),
          JSON.stringify([
            ['/docs', docsId, 'group', `it holds sub/a.txt, ${edited}`],
            ['/docs/sub', subId, 'group', `it holds a.txt, ${edited}`],
            ['/docs/sub/a.txt', fileId, 'file', edited],
            ['/notes.txt', notesId, 'file', edited],
          ]),
        )
        assert.ok(a.log().includes(`team/notes.txt (${notesId}) came back: ${edited}`), a.log())
        assert.ok(a.log().includes(`team/docs/sub/a.txt (${fileId}) came back: ${edited}`), a.log())
        assert.deepEqual(eventsB.revived(), [])
        assert.ok(!b.log().includes('came back'), b.log())
      } finally {
        // Before the daemons stop: an open events file would keep the mount busy.
        await eventsA.stop()
        await eventsB.stop()
      }
    }),
  )
})
