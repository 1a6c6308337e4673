// The control API's verbs, named as the TypeScript client's methods (the seeds' verbs in
// camelCase). Each checks its arguments and calls the one implementation in the daemon.

import type { ControlRoute } from './control-server.js'
import { ControlError } from './control-server.js'
import type { Namespaces } from './namespaces.js'

function str(body: Record<string, unknown>, key: string): string {
  const v = body[key]
  if (typeof v !== 'string' || v === '') throw new ControlError('EINVAL', `${key} is required (a string)`)
  return v
}

function optStr(body: Record<string, unknown>, key: string): string | undefined {
  const v = body[key]
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'string') throw new ControlError('EINVAL', `${key} must be a string`)
  return v
}

export function controlRoutes(ns: Namespaces): Record<string, ControlRoute> {
  return {
    createNamespace: async (b) => {
      const opts: Parameters<Namespaces['create']>[0] = { alias: str(b, 'alias') }
      const application = optStr(b, 'application')
      const upgradePolicy = optStr(b, 'upgradePolicy')
      const description = optStr(b, 'description')
      if (application !== undefined) opts.application = application
      if (upgradePolicy !== undefined) opts.upgradePolicy = upgradePolicy
      if (description !== undefined) opts.description = description
      return ns.create(opts)
    },
    getNamespace: async (b) => ns.get(str(b, 'namespace')),
    listNamespaces: async () => ns.list(),
    listNamespacesForApplication: async (b) => ns.list(str(b, 'application')),
    deleteNamespace: async (b) => ns.delete(str(b, 'namespace'), b.force === true),
    listNamespaceGroups: async (b) => ns.listGroups(str(b, 'namespace')),
    createGroupInNamespace: async (b) => ns.createGroup(str(b, 'namespace'), str(b, 'path')),
    nestGroup: async (b) => ns.nestGroup(str(b, 'namespace'), str(b, 'parent'), str(b, 'child')),
    unnestGroup: async (b) => ns.unnestGroup(str(b, 'namespace'), str(b, 'group')),
    listSubgroups: async (b) => ns.listSubgroups(str(b, 'namespace'), str(b, 'group')),
  }
}
