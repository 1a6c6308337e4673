// Every change this namespace's handlers make goes through the replica (stored before it
// returns, then announced); a refusal (a full disk, a validation) becomes the errno it names.

import type { TreeDoc } from '../model/tree/tree.js'
import type { NamespaceReplica } from '../replica/replica.js'
import { toFsError } from '../vfs/errors.js'

/** Run a tree change through the replica; errors carry `what`. */
export function changeTree<T>(replica: NamespaceReplica, what: string, fn: (t: TreeDoc) => T): T {
  try {
    return replica.change(fn)
  } catch (err) {
    throw toFsError(err, what)
  }
}
