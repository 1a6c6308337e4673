// `meshfs sync list|enable|disable`: a namespace's sync targets (Hoss's get_sync_configuration,
// enable_sync_target, disable_sync_target) through the daemon's control API. `--json` prints the
// daemon's answer: the namespace's sync configuration, as `.meshfs/ns/NS/sync.json` shows it.

import { parseArgs } from 'node:util'
import type { EnableSyncTargetOptions, SyncConfiguration, SyncType } from '../client/client.js'
import { client, COMMON, need, print, run, table } from './common.js'
import { UsageError } from './usage-error.js'

const OPTIONS = {
  ...COMMON,
  type: { type: 'string' },
  'target-namespace': { type: 'string' },
  group: { type: 'string' },
} as const

function describe(c: SyncConfiguration): string {
  if (c.targets.length === 0) return `namespace ${c.namespace} has no sync targets\n`
  const rows = [['URL', 'TARGET NAMESPACE', 'TYPE', 'STATE', 'GROUPS']]
  for (const t of c.targets) {
    const groups = Object.entries(t.groups).map(([g, m]) => `${g}=${m}`).join(',') || '-'
    rows.push([t.url, t.targetNamespace, t.type, t.lastError ? `${t.state} (last error: ${t.lastError})` : t.state, groups])
  }
  return table(rows)
}

export async function runSync(args: string[]): Promise<number> {
  const [sub, ...rest] = args
  const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: OPTIONS })
  const daemon = client(values.data)
  const unexpected = (flags: Array<keyof typeof values>) => {
    for (const f of flags) if (values[f] !== undefined) throw new UsageError(`sync ${sub}: --${f} does not apply here`)
  }
  let config: SyncConfiguration
  let done: string
  switch (sub) {
    case 'list': {
      unexpected(['type', 'target-namespace', 'group'])
      const [ns] = need(positionals, ['NS'], 'sync list')
      config = await run(() => daemon.getSyncConfiguration(ns!))
      done = ''
      break
    }
    case 'enable': {
      unexpected([])
      const [ns, url] = need(positionals, ['NS', 'TARGET_URL'], 'sync enable')
      if (values.type !== 'simplex' && values.type !== 'duplex') {
        throw new UsageError(`sync enable: --type simplex|duplex is required${values.type === undefined ? '' : `, not '${values.type}'`}`)
      }
      const opts: EnableSyncTargetOptions = {}
      if (values['target-namespace'] !== undefined) opts.targetNamespace = values['target-namespace']
      if (values.group !== undefined) opts.group = values.group
      config = await run(() => daemon.enableSyncTarget(ns!, url!, values.type as SyncType, opts))
      done = values.group === undefined ? `namespace ${config.namespace} syncs into ${opts.targetNamespace ?? config.namespace} at ${url} (${values.type})\n` : `group ${values.group} of namespace ${config.namespace} is ${values.type}\n`
      break
    }
    case 'disable': {
      unexpected(['type', 'target-namespace'])
      const [ns, url, name] = need(positionals, ['NS', 'TARGET_URL', 'NAME'], 'sync disable')
      config = await run(() => daemon.disableSyncTarget(ns!, url!, name!, values.group === undefined ? {} : { group: values.group }))
      done = values.group === undefined ? `namespace ${config.namespace} no longer syncs into ${name} at ${url}\n` : `group ${values.group} of namespace ${config.namespace} is not synced into ${name}\n`
      break
    }
    default:
      throw new UsageError(sub === undefined ? 'sync: missing subcommand (list, enable, disable)' : `sync: unknown subcommand '${sub}'`)
  }
  print(values.json, config, () => done + describe(config))
  return 0
}
