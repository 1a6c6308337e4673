// The control API's routes: one per verb of the contract (api/verbs.ts), which the table
// `satisfies`. Each checks its arguments, calls the one implementation in the node, and answers
// the contract's type.

import type { MountInfo, NamespaceInfo, NodeStatus, PendingNamespace } from '../api/wire.js'
import type { Routes } from '../api/verbs.js'
import { ControlError, ControlStream } from './control-server.js'
import type { EventHub } from '../events/event-hub.js'
import type { Namespaces } from '../node/namespaces.js'
import { parseDuration, parseToken } from '../net/trust/invitation.js'
import { NotifyError } from '../net/peers/notify.js'
import type { SyncNode } from '../net/sync-node.js'
import type { SyncTargets } from '../mirror/targets.js'
import { transferViews } from '../node/transfers.js'
import { createClientToken } from '../net/yws/client-token.js'
import { FsError } from '../vfs/errors.js'

function str(body: Record<string, unknown>, key: string): string {
  const v = body[key]
  if (typeof v !== 'string' || v === '') throw new ControlError('EINVAL', `${key} is required (a string)`)
  return v
}

function optStr(body: Record<string, unknown>, key: string): string | undefined {
  const v = body[key]
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'string') throw new ControlError('EINVAL', `${key} must be a string`)
  return v
}

function optNum(body: Record<string, unknown>, key: string): number | undefined {
  const v = body[key]
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0)
    throw new ControlError('EINVAL', `${key} must be a positive whole number`)
  return v
}

/** How long a joined namespace may take to arrive before `join` answers anyway. */
const ARRIVAL_WAIT_MS = 10_000
/** How long `leave` waits for the connected peers to acknowledge the tombstone. */
const LEAVE_ACK_MS = 5_000

/** The namespace if this node has mounted it, else undefined (a joined one mounts on its first sync). */
function mountedNow(ns: Namespaces, id: string): NamespaceInfo | undefined {
  try {
    return ns.get(id)
  } catch (err) {
    // Not mounted yet: expected until its first sync arrives.
    if (err instanceof FsError && err.code === 'ENOENT') return undefined
    throw err
  }
}

/** The namespace once this node has mounted it, or undefined if that takes longer than `ms`. */
function whenMounted(ns: Namespaces, id: string, ms: number): Promise<NamespaceInfo | undefined> {
  const now = mountedNow(ns, id)
  if (now) return Promise.resolve(now)
  return new Promise((resolve) => {
    const done = (info: NamespaceInfo | undefined): void => {
      clearTimeout(timer)
      off()
      resolve(info)
    }
    const off = ns.registry.mountedOne.on(({ replica }) => {
      if (replica.id === id) done(mountedNow(ns, id))
    })
    const timer = setTimeout(() => done(undefined), ms)
  })
}

/**
 * `status` is the daemon's status document (the same as `.meshfs/status`); `mounts` the handlers
 * of its tree.
 */
export function controlRoutes(
  ns: Namespaces,
  sync: SyncNode,
  targets: SyncTargets,
  events: EventHub,
  status: () => NodeStatus,
  mounts: () => MountInfo[],
) {
  return {
    status: async () => status(),
    listMounts: async () => mounts(),
    getPeers: async (b) => sync.peersOf(ns.get(str(b, 'namespace')).id),
    getTransfers: async (b) => transferViews(ns.transfers(str(b, 'namespace')), (hashes) => sync.askedFor(hashes)),
    notify: async (b) => {
      const data = b.data
      if (typeof data !== 'string') throw new ControlError('EINVAL', 'data is required (a string)')
      try {
        return { peer: sync.notify(ns.get(str(b, 'namespace')).id, str(b, 'peer'), data) }
      } catch (err) {
        // A NotifyError's code is an errno: it reaches the client as it is.
        if (err instanceof NotifyError) throw new ControlError(err.code, err.message)
        throw err
      }
    },
    /** A stream of the namespace's events (JSON lines) for as long as the client listens. */
    subscribeNamespace: async (b) => {
      const id = ns.get(str(b, 'namespace')).id
      return new ControlStream((send) => events.subscribe(id, send))
    },
    createNamespaceInvitation: async (b) => {
      const expires = optStr(b, 'expires')
      let expiresAtMs = optNum(b, 'expiresAtMs') ?? Date.now() + 24 * 3600_000
      if (expires !== undefined) {
        try {
          expiresAtMs = Date.now() + parseDuration(expires)
        } catch (err) {
          throw new ControlError('EINVAL', (err as Error).message)
        }
      }
      const token = ns.createInvitation(str(b, 'namespace'), {
        addresses: [sync.url],
        recursive: b.recursive === true,
        expiresAtMs,
        uses: optNum(b, 'uses') ?? 1,
      })
      return { token }
    },
    createClientToken: async (b) => {
      const expires = optStr(b, 'expires')
      let expiresAtMs: number | null = null
      if (expires !== undefined) {
        try {
          expiresAtMs = Date.now() + parseDuration(expires)
        } catch (err) {
          throw new ControlError('EINVAL', (err as Error).message)
        }
      }
      if (b.readOnly !== undefined && typeof b.readOnly !== 'boolean') throw new ControlError('EINVAL', 'readOnly must be true or false')
      const namespace = ns.get(str(b, 'namespace')).id
      const { token } = createClientToken({ namespaceId: namespace, issuer: ns.identity, expiresAtMs, readOnly: b.readOnly === true })
      return { token, namespace, url: sync.url, expiresAtMs, readOnly: b.readOnly === true }
    },
    joinNamespace: async (b) => {
      const text = str(b, 'token').trim()
      let token: ReturnType<typeof parseToken>
      try {
        token = parseToken(text)
      } catch (err) {
        throw new ControlError('EINVAL', `bad invitation: ${(err as Error).message}`)
      }
      // Dialling itself would only fail as "could not reach the inviter".
      if (token.inviter === ns.identity.publicKey)
        throw new ControlError(
          'EINVAL',
          'this invitation was made by this node: join it from another node (meshfs join TOKEN --data ITS_DATA_DIR)',
        )
      let nsId: string | undefined
      const failures: string[] = []
      for (const url of token.addrs) {
        try {
          nsId = await sync.join(url, text, token.inviter)
          sync.keepConnected(url, token.inviter)
          break
        } catch (err) {
          const code = (err as { code?: string }).code
          if (code && code !== 'ECONNREFUSED') throw new ControlError('EACCES', `invitation refused (${code}): ${(err as Error).message}`)
          failures.push((err as Error).message)
        }
      }
      if (!nsId) throw new ControlError('EHOSTUNREACH', `could not reach the inviter: ${failures.join('; ')}`)
      const info = await whenMounted(ns, nsId, ARRIVAL_WAIT_MS)
      return info ?? ({ id: nsId, pending: true } satisfies PendingNamespace)
    },
    createNamespace: async (b) => {
      const opts: Parameters<Namespaces['create']>[0] = { alias: str(b, 'alias') }
      const application = optStr(b, 'application')
      const upgradePolicy = optStr(b, 'upgradePolicy')
      const description = optStr(b, 'description')
      if (application !== undefined) opts.application = application
      if (upgradePolicy !== undefined) opts.upgradePolicy = upgradePolicy
      if (description !== undefined) opts.description = description
      return ns.create(opts)
    },
    getNamespace: async (b) => ns.get(str(b, 'namespace')),
    listNamespaces: async () => ns.list(),
    listNamespacesForApplication: async (b) => ns.list(str(b, 'application')),
    deleteNamespace: async (b) => ns.delete(str(b, 'namespace'), b.force === true),
    getNamespaceIdentity: async (b) => ns.namespaceIdentity(str(b, 'namespace')),
    listMembers: async (b) => ns.listMembers(str(b, 'namespace')),
    grantRole: async (b) => ns.grant(str(b, 'namespace'), str(b, 'member'), str(b, 'role')),
    leaveNamespace: async (b) => {
      const info = ns.get(str(b, 'namespace'))
      const ids = ns.beginLeave(info.id, b.force === true)
      // The tombstones are stored and on their way; give the peers a moment to apply them.
      const acks = await Promise.all(ids.map((id) => sync.awaitUnshared(id, LEAVE_ACK_MS)))
      ns.finishLeave(ids)
      return { ...info, left: ids, peers: acks[acks.length - 1]!.peers, acknowledged: acks[acks.length - 1]!.acknowledged }
    },
    listNamespaceGroups: async (b) => ns.listGroups(str(b, 'namespace')),
    createGroupInNamespace: async (b) => ns.createGroup(str(b, 'namespace'), str(b, 'path')),
    nestGroup: async (b) => ns.nestGroup(str(b, 'namespace'), str(b, 'parent'), str(b, 'child')),
    unnestGroup: async (b) => ns.unnestGroup(str(b, 'namespace'), str(b, 'group')),
    listSubgroups: async (b) => ns.listSubgroups(str(b, 'namespace'), str(b, 'group')),
    getSyncConfiguration: async (b) => targets.getSyncConfiguration(str(b, 'namespace')),
    enableSyncTarget: async (b) => {
      const opts: Parameters<SyncTargets['enableSyncTarget']>[1] = { url: str(b, 'targetUrl'), type: str(b, 'syncType') }
      const targetNamespace = optStr(b, 'targetNamespace')
      const group = optStr(b, 'group')
      if (targetNamespace !== undefined) opts.targetNamespace = targetNamespace
      if (group !== undefined) opts.group = group
      return targets.enableSyncTarget(str(b, 'namespace'), opts)
    },
    disableSyncTarget: async (b) => {
      const opts: Parameters<SyncTargets['disableSyncTarget']>[1] = { url: str(b, 'targetUrl'), targetNamespace: str(b, 'targetNamespace') }
      const group = optStr(b, 'group')
      if (group !== undefined) opts.group = group
      return targets.disableSyncTarget(str(b, 'namespace'), opts)
    },
  } satisfies Routes
}
