// `meshfs sync list|enable|disable`: a namespace's sync targets (Hoss's get_sync_configuration,
// enable_sync_target, disable_sync_target) through the daemon's control API. `--json` prints the
// daemon's answer: the namespace's sync configuration, as `.meshfs/ns/NS/sync.json` shows it.

import type { SyncConfiguration, SyncType } from '../api/wire.js'
import type { EnableSyncTargetOptions } from '../client/client.js'
import { command, need, type Command } from './command.js'
import { COMMON, print, run, table } from './common.js'
import { UsageError } from './usage-error.js'

/** Every subcommand parses all the flags, so one that does not apply is named as such. */
const OPTIONS = {
  ...COMMON,
  type: { type: 'string' },
  'target-namespace': { type: 'string' },
  group: { type: 'string' },
} as const

type Flag = 'type' | 'target-namespace' | 'group'

function describe(c: SyncConfiguration): string {
  if (c.targets.length === 0) return `namespace ${c.namespace} has no sync targets\n`
  const rows = [['URL', 'TARGET NAMESPACE', 'TYPE', 'STATE', 'GROUPS']]
  for (const t of c.targets) {
    const groups =
      Object.entries(t.groups)
        .map(([g, m]) => `${g}=${m}`)
        .join(',') || '-'
    rows.push([t.url, t.targetNamespace, t.type, t.lastError ? `${t.state} (last error: ${t.lastError})` : t.state, groups])
  }
  return table(rows)
}

/**
 * A sync subcommand: `change` asks the daemon and says what it did (`''` for a plain listing);
 * the configuration follows either way. `inapplicable` flags are refused.
 */
function syncCommand(
  sub: string,
  args: string[],
  inapplicable: Flag[],
  change: (
    values: Partial<Record<Flag | 'data', string>> & { verbose?: boolean },
    positionals: string[],
  ) => Promise<{ config: SyncConfiguration; done: string }>,
): Command<typeof OPTIONS> {
  return command({
    options: OPTIONS,
    // Counted after the flags are checked: a flag that does not apply is the first thing to say.
    async run(values, positionals) {
      for (const f of inapplicable) if (values[f] !== undefined) throw new UsageError(`sync ${sub}: --${f} does not apply here`)
      const { config, done } = await change(values, need(positionals, args, `sync ${sub}`))
      print(values.json, config, () => done + describe(config))
      return 0
    },
  })
}

export const SYNC_COMMANDS: Record<string, Command<any>> = {
  list: syncCommand('list', ['NS'], ['type', 'target-namespace', 'group'], async (values, [ns]) => ({
    config: await run(values, (c) => c.getSyncConfiguration(ns!)),
    done: '',
  })),
  enable: syncCommand('enable', ['NS', 'TARGET_URL'], [], async (values, [ns, url]) => {
    if (values.type !== 'simplex' && values.type !== 'duplex') {
      throw new UsageError(`sync enable: --type simplex|duplex is required${values.type === undefined ? '' : `, not '${values.type}'`}`)
    }
    const opts: EnableSyncTargetOptions = {}
    if (values['target-namespace'] !== undefined) opts.targetNamespace = values['target-namespace']
    if (values.group !== undefined) opts.group = values.group
    const config = await run(values, (c) => c.enableSyncTarget(ns!, url!, values.type as SyncType, opts))
    const done =
      values.group === undefined
        ? `namespace ${config.namespace} syncs into ${opts.targetNamespace ?? config.namespace} at ${url} (${values.type})\n`
        : `group ${values.group} of namespace ${config.namespace} is ${values.type}\n`
    return { config, done }
  }),
  disable: syncCommand('disable', ['NS', 'TARGET_URL', 'NAME'], ['type', 'target-namespace'], async (values, [ns, url, name]) => {
    const config = await run(values, (c) =>
      c.disableSyncTarget(ns!, url!, name!, values.group === undefined ? {} : { group: values.group }),
    )
    const done =
      values.group === undefined
        ? `namespace ${config.namespace} no longer syncs into ${name} at ${url}\n`
        : `group ${values.group} of namespace ${config.namespace} is not synced into ${name}\n`
    return { config, done }
  }),
}
