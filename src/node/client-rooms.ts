// What the stock-client endpoint (net/yws-endpoint.ts) needs of this node, from the namespaces
// it holds: a room is a text resource of a mounted namespace, and the namespace's handler decides
// what is text and records a client's edits in the tree.

import { ReplicatedHandler } from '../namespace/handler.js'
import type { ClientRoomHost } from '../net/yws/endpoint.js'
import type { MountTable } from '../vfs/mount-table.js'
import type { Namespaces } from './namespaces.js'

const NAMESPACE_ID = /^[0-9a-f]{32}$/

export function clientRoomHost(namespaces: Namespaces, table: MountTable): ClientRoomHost {
  /** The handler of a mounted namespace, by id (never by alias: a room name is the immutable id). */
  const handlerOf = (ns: string): ReplicatedHandler | undefined => {
    if (!NAMESPACE_ID.test(ns) || !namespaces.namespaceIds().includes(ns)) return undefined
    let mountPath: string
    try {
      const info = namespaces.get(ns)
      mountPath = '/' + (info.path ?? info.alias) // a nested namespace is mounted inside its parent
    } catch {
      return undefined // joined, but its first sync has not arrived: nothing to open yet
    }
    const { handler } = table.resolve(mountPath)
    return handler instanceof ReplicatedHandler && handler.replica.id === ns ? handler : undefined
  }
  return {
    publicKey: namespaces.identity.publicKey,
    replica: (ns) => (handlerOf(ns) ? namespaces.replica(ns) : undefined),
    isTextResource: (ns, id) => handlerOf(ns)?.isTextResource(id) ?? false,
    textEdited: (ns, id) => handlerOf(ns)?.recordTextEdit(id),
  }
}
