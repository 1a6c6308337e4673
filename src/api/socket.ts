// Where a daemon's control API listens, and how a verb is addressed on it: HTTP + JSON over a
// Unix socket in the data directory, `POST /v1/<verb>`.

import os from 'node:os'
import path from 'node:path'

export const CONTROL_SOCKET_NAME = 'control.sock'

/** Every verb is `POST` to this prefix followed by its name. */
export const VERB_PATH_PREFIX = '/v1/'

export function socketPathOf(dataDir: string): string {
  return path.join(path.resolve(dataDir), CONTROL_SOCKET_NAME)
}

/**
 * What a mount shows of its daemon: `MOUNT/.meshfs/status` is the `status` document. A tool
 * given only a mountpoint learns the daemon's data directory (and so its socket) from it.
 */
export const STATUS_FILE = '.meshfs/status'

/** Where a node keeps its data (and so its control socket) when no `--data` is given. */
export function defaultDataDir(): string {
  const base = process.env.XDG_DATA_HOME || path.join(os.homedir(), '.local', 'share')
  return path.join(base, 'meshfs')
}
