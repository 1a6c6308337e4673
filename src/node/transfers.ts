// What `meshfs status`, the client's getTransfers and `.meshfs/ns/NS/transfers` show of the binary
// versions still arriving: each resource's path, bytes here of the total, and the peers asked for
// what is missing. Computed when asked, from the store and the sync sessions, so always current.

import type { TransferView } from '../api/wire.js'
import type { BlobSource } from '../net/blob-asks.js'
import type { InFlight } from '../namespace/served-versions.js'

export function transferViews(inFlight: readonly InFlight[], askedFor: (hashes: readonly string[]) => BlobSource[]): TransferView[] {
  return inFlight.map((t) => ({
    path: t.path,
    id: t.id,
    bytes: t.size,
    have: t.have,
    from: askedFor(t.missing),
    servedSize: t.servedSize,
  }))
}
