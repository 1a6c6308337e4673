// The root of the tree: Fan's in-memory root namespace, where a top-level `mkdir NAME` creates
// a replicated namespace called NAME (Calimero's create_namespace) instead of a plain folder.
// Files at the top level stay in memory: local to this node and gone when it stops.

import { splitPath } from '../vfs/path.js'
import { MemoryHandler } from './memory.js'

export class RootHandler extends MemoryHandler {
  constructor(private readonly createNamespace: (alias: string, mode: number) => Promise<void>) {
    super()
  }

  override async mkdir(path: string, mode: number): Promise<void> {
    const segs = splitPath(path)
    if (segs.length === 1) return this.createNamespace(segs[0]!, mode)
    return super.mkdir(path, mode)
  }
}
