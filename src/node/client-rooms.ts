// What the stock-client endpoint (net/yws/endpoint.ts) needs of this node, from the namespaces
// it holds: a room is a text resource of a mounted namespace, and the namespace's handler decides
// what is text and records a client's edits in the tree.

import type { ReplicatedHandler } from '../namespace/handler.js'
import type { ClientRoomHost } from '../net/yws/endpoint.js'
import type { Namespaces } from './namespaces.js'

const NAMESPACE_ID = /^[0-9a-f]{32}$/

export function clientRoomHost(namespaces: Namespaces): ClientRoomHost {
  /**
   * The handler of a mounted namespace, by id (never by alias: a room name is the immutable id);
   * none for a namespace joined whose first sync has not arrived: nothing to open yet.
   */
  const handlerOf = (ns: string): ReplicatedHandler | undefined =>
    NAMESPACE_ID.test(ns) ? namespaces.registry.byId(ns)?.handler : undefined
  return {
    publicKey: namespaces.identity.publicKey,
    replica: (ns) => (handlerOf(ns) ? namespaces.replica(ns) : undefined),
    isTextResource: (ns, id) => handlerOf(ns)?.isTextResource(id) ?? false,
    textEdited: (ns, id) => handlerOf(ns)?.recordTextEdit(id),
  }
}
