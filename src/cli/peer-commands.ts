// `meshfs status`, `meshfs peers NS` and `meshfs notify NS PEER DATA`: the node, its peers and
// send_notify through the daemon's control API. `--json` prints the daemon's answer as JSON.

import type { NodeStatus, PeerView } from '../api/wire.js'
import { MAX_NOTIFY_BYTES } from '../api/verbs.js'
import { command } from './command.js'
import { COMMON, print, readStdin, run, table } from './common.js'
import { readKey, showKey } from './keys.js'
import { UsageError } from './usage-error.js'

function duration(seconds: number): string {
  const d = Math.floor(seconds / 86400)
  const h = Math.floor((seconds % 86400) / 3600)
  const m = Math.floor((seconds % 3600) / 60)
  const s = seconds % 60
  return [d && `${d}d`, (d || h) && `${h}h`, (d || h || m) && `${m}m`, `${s}s`].filter(Boolean).join(' ')
}

const when = (ms: number | null) => (ms === null ? '-' : new Date(ms).toISOString())

function describeStatus(s: NodeStatus): string {
  const aliases = new Map(s.namespaces.map((n) => [n.id, n.alias ?? n.id]))
  let out = table([
    ['node', showKey(s.nodeId)],
    ['url', s.urls.join(' ') || '-'],
    ['uptime', duration(s.uptimeSeconds)],
    ['pid', String(s.pid)],
    ['mountpoint', s.mountpoint ?? '-'],
    ['peers', `${s.connectedPeers.length} connected`],
  ])
  if (s.connectedPeers.length > 0) {
    out +=
      '\n' +
      table([
        ['PEER', 'DIRECTION', 'URL', 'NAMESPACES'],
        ...s.connectedPeers.map((p) => [
          showKey(p.key),
          p.direction,
          p.urls.join(' ') || '-',
          p.namespaces.map((n) => aliases.get(n) ?? n).join(',') || '-',
        ]),
      ])
  }
  if (s.namespaces.length > 0) {
    out +=
      '\n' +
      table([
        ['NAMESPACE', 'ID', 'CONNECTED', 'KNOWN', 'LAST RECONCILED', 'PENDING BLOBS'],
        ...s.namespaces.map((n) => [
          n.alias ?? '(arriving)',
          n.id,
          String(n.connectedPeers),
          String(n.knownPeers),
          when(n.lastReconciledAtMs),
          String(n.pendingBlobFetches),
        ]),
      ])
  }
  const transfers = s.namespaces.flatMap((n) => n.transfers.map((t) => ({ ns: n.alias ?? n.id, ...t })))
  if (transfers.length > 0) {
    out +=
      '\n' +
      table([
        ['ARRIVING', 'HAVE', 'OF', 'FROM', 'SERVED MEANWHILE'],
        ...transfers.map((t) => [
          `${t.ns}${t.path}`,
          String(t.have),
          String(t.bytes),
          t.from.map((f) => (f.connected ? f.peer : `${f.peer} (gone)`)).join(' ') || '-',
          t.servedSize === null ? 'nothing: reads wait' : `${t.servedSize} bytes`,
        ]),
      ])
  }
  return out
}

function describePeers(peers: PeerView[]): string {
  if (peers.length === 0) return 'no known peers\n'
  return table([
    ['PEER', 'CONNECTED', 'URL', 'LAST SEEN', 'FAILURES', 'UNRESPONSIVE SINCE', 'INFO EXPIRES'],
    ...peers.map((p) => [
      showKey(p.key),
      p.connected ? 'yes' : 'no',
      p.urls.join(' ') || '-',
      when(p.lastSeenMs),
      String(p.failures),
      when(p.unresponsiveSinceMs),
      when(p.expiresAtMs),
    ]),
  ])
}

export const STATUS = command({
  options: COMMON,
  args: [],
  async run(values) {
    const s = await run(values, (c) => c.status())
    print(values.json, s, () => describeStatus(s))
    return 0
  },
})

export const PEERS = command({
  options: COMMON,
  args: ['NS'],
  async run(values, [ns]) {
    const peers = await run(values, (c) => c.getPeers(ns!))
    print(values.json, peers, () => describePeers(peers))
    return 0
  },
})

export const NOTIFY = command({
  options: COMMON,
  args: ['NS', 'PEER', 'DATA'],
  async run(values, [ns, peer, given]) {
    if (peer === '') throw new UsageError('notify: PEER is empty')
    const data = given === '-' ? await readStdin() : given!
    if (Buffer.byteLength(data) > MAX_NOTIFY_BYTES)
      throw new UsageError(`notify: DATA is ${Buffer.byteLength(data)} bytes; at most ${MAX_NOTIFY_BYTES} may be sent`)
    const key = await run(values, (c) => c.notify(ns!, readKey(peer!), data))
    print(
      values.json,
      { peer: key, bytes: Buffer.byteLength(data) },
      () => `sent ${Buffer.byteLength(data)} bytes to ${showKey(key)}
`,
    )
    return 0
  },
})
