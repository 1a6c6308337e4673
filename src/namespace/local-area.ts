// The node-local part of a namespace: ignored files (editor junk) live in a host folder under
// the data directory, `local/<namespace id>/`, at the same paths as in the namespace. They
// survive a restart (a swap file is for recovering from crashes) and are never replicated.

import { mkdirSync, rmSync } from 'node:fs'
import path from 'node:path'
import { DirHandler } from '../handlers/dir.js'
import { isFsError } from '../vfs/errors.js'

export class LocalArea {
  readonly handler: DirHandler

  constructor(readonly root: string) {
    mkdirSync(root, { recursive: true, mode: 0o700 })
    this.handler = new DirHandler(root)
  }

  /** Create the folders above `rel`, mirroring the namespace's groups. */
  ensureParent(rel: string): void {
    mkdirSync(path.join(this.root, path.dirname(rel)), { recursive: true, mode: 0o755 })
  }

  /** The local names in the folder at `rel`; none when no ignored file was ever made there. */
  async names(rel: string): Promise<string[]> {
    try {
      return await this.handler.list(rel)
    } catch (err) {
      // No folder there (ENOENT), or a local file where the namespace now has a group because the
      // ignore list changed (ENOTDIR): nothing local to show. Anything else is a real failure.
      if (isFsError(err) && (err.code === 'ENOENT' || err.code === 'ENOTDIR')) return []
      throw err
    }
  }

  destroy(): void {
    rmSync(this.root, { recursive: true, force: true })
  }
}
