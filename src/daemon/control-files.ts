// What `MOUNT/.meshfs/` shows: every file is a call of the control API (the same routes the CLI
// and the TypeScript client use), so the three faces cannot disagree. A file whose route this
// daemon does not have is not shown.
//
//   .meshfs/status            this node (JSON)          .meshfs/mounts    the mount table (JSON)
//   .meshfs/join              write a token to join
//   .meshfs/ns/PATH/info.json     getNamespace + members count (PATH: `team`, `team/design`:
//                                 a nested namespace's directory is inside its parent's)
//   .meshfs/ns/ALIAS/members      listMembers           .meshfs/ns/ALIAS/identity   our public key
//   .meshfs/ns/ALIAS/invite       reading mints an invitation token
//   .meshfs/ns/ALIAS/peers        getPeers              .meshfs/ns/ALIAS/sync.json  getSyncConfiguration
//   .meshfs/ns/ALIAS/events       the namespace's events, JSON lines, followed by `tail -f`

import type { NamespaceInfo } from '../model/namespace-info.js'
import { EventLog } from '../events/event-log.js'
import type { EventHub } from '../events/event-hub.js'
import type { ControlNode } from '../handlers/control.js'
import type { ControlRoute } from './control-server.js'

type Routes = Record<string, ControlRoute>

/** Each namespace's event log, following the hub while at least one reader has it open. */
class EventLogs {
  private readonly logs = new Map<string, { log: EventLog; readers: number; stop?: () => void }>()

  constructor(private readonly hub: EventHub) {}

  entry(ns: string) {
    let e = this.logs.get(ns)
    if (!e) {
      const log = new EventLog()
      // Never empty, so `tail` sees a regular file with lines in it (and follows it), not a pipe.
      log.append(JSON.stringify({ type: 'stream', ns, atMs: Date.now() }))
      this.logs.set(ns, (e = { log, readers: 0 }))
    }
    return e
  }

  open(ns: string): () => void {
    const e = this.entry(ns)
    if (e.readers++ === 0) e.stop = this.hub.subscribe(ns, (event) => e.log.append(JSON.stringify(event)))
    let open = true
    return () => {
      if (!open) return
      open = false
      if (--e.readers === 0) e.stop?.()
    }
  }
}

export function controlFiles(routes: Routes, hub: EventHub, extra: { mounts: () => unknown }): ControlNode {
  const logs = new EventLogs(hub)
  const call = (verb: string, body: Record<string, unknown> = {}) => routes[verb]!(body)
  const has = (verb: string) => Object.hasOwn(routes, verb)

  const namespaceDir = (info: NamespaceInfo, nested: NamespaceInfo[]): ControlNode => {
    const namespace = info.id
    const files: Record<string, ControlNode> = {
      'info.json': {
        kind: 'read',
        render: async () => {
          const now = (await call('getNamespace', { namespace })) as NamespaceInfo
          if (!has('listMembers')) return now
          const members = (await call('listMembers', { namespace })) as Array<{ leftMs?: number }>
          return { ...now, members: members.filter((m) => m.leftMs === undefined).length }
        },
      },
      events: { kind: 'stream', log: () => logs.entry(namespace).log, open: () => logs.open(namespace) },
    }
    if (has('listMembers')) files.members = { kind: 'read', render: () => call('listMembers', { namespace }) }
    if (has('getNamespaceIdentity')) {
      files.identity = { kind: 'read', render: async () => ((await call('getNamespaceIdentity', { namespace })) as { publicKey: string }).publicKey }
    }
    if (has('createNamespaceInvitation')) {
      files.invite = { kind: 'read', render: async () => ((await call('createNamespaceInvitation', { namespace })) as { token: string }).token }
    }
    if (has('getPeers')) files.peers = { kind: 'read', render: () => call('getPeers', { namespace }) }
    if (has('getSyncConfiguration')) files['sync.json'] = { kind: 'read', render: () => call('getSyncConfiguration', { namespace }) }
    return {
      kind: 'dir',
      entries: () => {
        const out = { ...files }
        for (const child of nested) if (child.parentId === info.id && !Object.hasOwn(out, child.alias)) out[child.alias] = namespaceDir(child, nested)
        return out
      },
    }
  }

  const root: Record<string, ControlNode> = {
    status: { kind: 'read', render: () => call('status') },
    mounts: { kind: 'read', render: extra.mounts },
    join: { kind: 'write', apply: async (token) => void (await call('joinNamespace', { token })) },
    ns: {
      kind: 'dir',
      entries: async () => {
        const out: Record<string, ControlNode> = {}
        const all = (await call('listNamespaces')) as NamespaceInfo[]
        const held = new Set(all.map((i) => i.id))
        // A namespace nested in one this node does not hold is shown at the top.
        for (const info of all) if (!info.parentId || !held.has(info.parentId)) out[info.alias] = namespaceDir(info, all)
        return out
      },
    },
  }
  return { kind: 'dir', entries: () => root }
}
