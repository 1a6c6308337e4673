// What `MOUNT/.meshfs/` shows: every file is a call of the control API (the same routes the CLI
// and the TypeScript client use), so the three faces cannot disagree.
//
//   .meshfs/status            this node (JSON)          .meshfs/mounts    the mount table (JSON)
//   .meshfs/join              write a token to join
//   .meshfs/ns/PATH/info.json     getNamespace + members count (PATH: `team`, `team/design`:
//                                 a nested namespace's directory is inside its parent's)
//   .meshfs/ns/ALIAS/members      listMembers           .meshfs/ns/ALIAS/identity   our public key
//   .meshfs/ns/ALIAS/invite       reading mints an invitation token
//   .meshfs/ns/ALIAS/peers        getPeers              .meshfs/ns/ALIAS/sync.json  getSyncConfiguration
//   .meshfs/ns/ALIAS/transfers    getTransfers: binary versions still arriving, read anew on each open
//   .meshfs/ns/ALIAS/events       the namespace's events, JSON lines, followed by `tail -f`

import type { CallVerb, RequestOf, ResponseOf, Routes } from '../api/verbs.js'
import type { NamespaceInfo } from '../api/wire.js'
import { EventLog } from '../events/event-log.js'
import type { EventHub } from '../events/event-hub.js'
import type { ControlNode } from '../handlers/control.js'

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

export function controlFiles(routes: Routes, hub: EventHub): ControlNode {
  const logs = new EventLogs(hub)
  const call = <V extends CallVerb>(verb: V, body: RequestOf<V>) => (routes[verb] as (b: RequestOf<V>) => Promise<ResponseOf<V>>)(body)

  const namespaceDir = (info: NamespaceInfo, nested: NamespaceInfo[]): ControlNode => {
    const namespace = info.id
    const files: Record<string, ControlNode> = {
      'info.json': {
        kind: 'read',
        render: async () => {
          const now = await call('getNamespace', { namespace })
          const members = await call('listMembers', { namespace })
          return { ...now, members: members.filter((m) => m.leftMs === undefined).length }
        },
      },
      events: { kind: 'stream', log: () => logs.entry(namespace).log, open: () => logs.open(namespace) },
      members: { kind: 'read', render: () => call('listMembers', { namespace }) },
      identity: { kind: 'read', render: async () => (await call('getNamespaceIdentity', { namespace })).publicKey },
      invite: { kind: 'read', render: async () => (await call('createNamespaceInvitation', { namespace })).token },
      peers: { kind: 'read', render: () => call('getPeers', { namespace }) },
      transfers: { kind: 'read', render: () => call('getTransfers', { namespace }) },
      'sync.json': { kind: 'read', render: () => call('getSyncConfiguration', { namespace }) },
    }
    return {
      kind: 'dir',
      entries: () => {
        const out = { ...files }
        for (const child of nested)
          if (child.parentId === info.id && !Object.hasOwn(out, child.alias)) out[child.alias] = namespaceDir(child, nested)
        return out
      },
    }
  }

  const root: Record<string, ControlNode> = {
    status: { kind: 'read', render: () => call('status', {}) },
    mounts: { kind: 'read', render: () => call('listMounts', {}) },
    join: { kind: 'write', apply: async (token) => void (await call('joinNamespace', { token })) },
    ns: {
      kind: 'dir',
      entries: async () => {
        const out: Record<string, ControlNode> = {}
        const all = await call('listNamespaces', {})
        const held = new Set(all.map((i) => i.id))
        // A namespace nested in one this node does not hold is shown at the top.
        for (const info of all) if (!info.parentId || !held.has(info.parentId)) out[info.alias] = namespaceDir(info, all)
        return out
      },
    },
  }
  return { kind: 'dir', entries: () => root }
}
