// The `revived` events of one namespace, each with a log line: an entry that a delete had removed
// on this node, shown again because another node edited it, or created or moved something into
// it, without having seen the delete (model/tree/survival.ts has the rule). Unlike the diffing
// events (tree-events.ts) this runs whether or not anyone listens, because the log line must be
// written either way; after each stored change of the tree it asks what came back, which costs
// nothing when nothing did. The entry also appears as a `put` in the diffing events, like any
// entry that appears, so a listener that mirrors the tree needs nothing else.

import type { Revival, TreeDoc } from '../model/tree/tree.js'
import type { Logger } from '../util/log.js'
import type { NamespaceEvent } from './event-hub.js'
import type { WatchedReplica } from './tree-events.js'

/** Reports revivals until the returned function is called; `label` names the namespace in the log. */
export function watchRevivals(
  replica: WatchedReplica,
  emit: (event: NamespaceEvent) => void,
  log: Logger,
  label: () => string,
): () => void {
  return replica.onStored((docKey) => {
    if (docKey !== 'tree') return
    const tree = replica.tree
    for (const r of tree.takeRevived()) {
      const path = `/${tree.pathOf(r.id).join('/')}`
      const reason = reasonOf(tree, r)
      emit({ type: 'revived', path, id: r.id, kind: tree.get(r.id).kind, reason })
      log.info(`${label()}${path} (${r.id}) came back: ${reason}`)
    }
  })
}

function reasonOf(tree: TreeDoc, r: Revival): string {
  if (r.cause === 'edited') return 'edited on another node while deleted here'
  const survivor = r.survivor!
  const inside = tree.pathOf(survivor).slice(tree.pathOf(r.id).length).join('/')
  return tree.isTombstoned(survivor)
    ? `it holds ${inside}, edited on another node while deleted here`
    : `it holds ${inside}, created or moved into it on another node while it was deleted here`
}
