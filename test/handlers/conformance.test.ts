import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { DirHandler } from '../../src/handlers/dir.js'
import { MemoryHandler } from '../../src/handlers/memory.js'
import { ReplicatedHandler } from '../../src/namespace/handler.js'
import { NamespaceReplica } from '../../src/replica/replica.js'
import { replicaStoreOf } from '../../src/node/namespaces.js'
import { openLocalStore, openMemoryStore } from '../../src/store/local-store.js'
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

function replicated(store: ReturnType<typeof openMemoryStore>) {
  const replica = NamespaceReplica.create(replicaStoreOf(store), {
    id: 'c0ffee00c0ffee00c0ffee00c0ffee00',
    alias: 'conformance',
    application: 'files',
    upgradePolicy: 'lazy-on-access',
    description: '',
    createdMs: Date.now(),
  })
  return new ReplicatedHandler(replica, { removeNamespace: async () => {} })
}

runHandlerConformance(
  'replicated (memory store)',
  async () => {
    const store = openMemoryStore()
    return { handler: replicated(store), cleanup: async () => store.close() }
  },
  { atime: false },
)

runHandlerConformance(
  'replicated (SQLite store)',
  async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'meshfs-conf-db-'))
    const store = openLocalStore(dir)
    return {
      handler: replicated(store),
      cleanup: async () => {
        store.close()
        rmSync(dir, { recursive: true, force: true })
      },
    }
  },
  { atime: false },
)
