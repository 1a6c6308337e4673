import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { DirHandler } from '../../src/handlers/dir.js'
import { MemoryHandler } from '../../src/handlers/memory.js'
import { runHandlerConformance } from './conformance.js'

runHandlerConformance('memory', async () => ({ handler: new MemoryHandler(), cleanup: async () => {} }))

runHandlerConformance('dir', async () => {
  const folder = mkdtempSync(path.join(os.tmpdir(), 'meshfs-conf-'))
  const handler = new DirHandler(folder)
  return {
    handler,
    cleanup: async () => {
      await handler.close()
      rmSync(folder, { recursive: true, force: true })
    },
  }
})
