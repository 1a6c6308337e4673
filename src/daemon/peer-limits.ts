// The sync options `meshfs mount` builds from its flags: the peer limits the user may set, the
// rest the sync layer's defaults.

import { DEFAULT_SYNC_OPTIONS, type SyncOptions } from '../net/sync-node.js'

/** The peer limits `meshfs mount` lets the user set; the rest of the sync options are defaults. */
export interface PeerLimits {
  maxFrameBytes?: number | undefined
  maxConnectionsPerPeer?: number | undefined
  maxBlobBytesPerSecond?: number | undefined
}

export function syncOptionsWith(limits: PeerLimits): Omit<SyncOptions, 'listenHost' | 'listenPort'> {
  return {
    ...DEFAULT_SYNC_OPTIONS,
    maxFrameBytes: limits.maxFrameBytes ?? DEFAULT_SYNC_OPTIONS.maxFrameBytes,
    maxConnectionsPerPeer: limits.maxConnectionsPerPeer ?? DEFAULT_SYNC_OPTIONS.maxConnectionsPerPeer,
    maxBlobBytesPerSecond: limits.maxBlobBytesPerSecond ?? DEFAULT_SYNC_OPTIONS.maxBlobBytesPerSecond,
  }
}
