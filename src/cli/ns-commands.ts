// `meshfs ns ...`, `meshfs group ...`, `invite` and `join`: namespaces and groups through the
// daemon's control API (the same verbs as the TypeScript client). `--json` prints the daemon's
// answer as JSON.

import type { GroupInfo, MemberRecord, NamespaceInfo, UpgradePolicy } from '../api/wire.js'
import type { InvitationOptions, MeshfsClient } from '../client/client.js'
import { command, type Command } from './command.js'
import { COMMON, print, readStdin, run, table, wholeNumber } from './common.js'
import { PrefixError, resolveKey, showKey } from './keys.js'
import { UsageError } from './usage-error.js'

function describeNamespace(n: NamespaceInfo): string {
  return `${[
    `id:             ${n.id}`,
    `alias:          ${n.alias}`,
    `path:           ${n.path ?? n.alias}`,
    `application:    ${n.application}`,
    `upgrade policy: ${n.upgradePolicy}`,
    `description:    ${n.description}`,
    `created:        ${new Date(n.createdMs).toISOString()}`,
  ].join('\n')}\n`
}

const iso = (ms: number) => new Date(ms).toISOString()

function memberRows(members: MemberRecord[]): string {
  return table([
    ['KEY', 'ROLE', 'JOINED', 'LEFT'],
    ...members.map((m) => [showKey(m.publicKey), m.role, iso(m.joinedMs), m.leftMs === undefined ? '-' : iso(m.leftMs)]),
  ])
}

function groupRows(groups: GroupInfo[]): string {
  return table([['ID', 'PATH'], ...groups.map((g) => [g.id, g.path])])
}

const FORCE = { ...COMMON, force: { type: 'boolean' } } as const

export const NS_COMMANDS: Record<string, Command<any>> = {
  create: command({
    options: { ...COMMON, app: { type: 'string' }, 'upgrade-policy': { type: 'string' }, description: { type: 'string' } } as const,
    args: ['ALIAS'],
    async run(values, [alias]) {
      const opts: { alias: string; upgradePolicy?: UpgradePolicy; description?: string } = { alias: alias! }
      if (values['upgrade-policy'] !== undefined) opts.upgradePolicy = values['upgrade-policy'] as UpgradePolicy
      if (values.description !== undefined) opts.description = values.description
      const info = await run(values, (c) => c.createNamespace(values.app ?? 'files', opts))
      print(values.json, info, () => `created namespace ${info.alias} (${info.id})\n`)
      return 0
    },
  }),
  list: command({
    options: { ...COMMON, app: { type: 'string' } } as const,
    args: [],
    async run(values) {
      const list = await run(values, (c) => (values.app === undefined ? c.listNamespaces() : c.listNamespacesForApplication(values.app!)))
      print(values.json, list, () =>
        table([['ID', 'PATH', 'APPLICATION', 'POLICY'], ...list.map((n) => [n.id, n.path ?? n.alias, n.application, n.upgradePolicy])]),
      )
      return 0
    },
  }),
  get: command({
    options: COMMON,
    args: ['NS'],
    async run(values, [ns]) {
      const info = await run(values, (c) => c.getNamespace(ns!))
      print(values.json, info, () => describeNamespace(info))
      return 0
    },
  }),
  delete: command({
    options: FORCE,
    args: ['NS'],
    async run(values, [ns]) {
      const info = await run(values, (c) => c.deleteNamespace(ns!, { force: values.force ?? false }))
      print(values.json, info, () => `deleted namespace ${info.alias} (${info.id}) from this node; this cannot be undone\n`)
      return 0
    },
  }),
  identity: command({
    options: COMMON,
    args: ['NS'],
    async run(values, [ns]) {
      const id = await run(values, (c) => c.getNamespaceIdentity(ns!))
      print(
        values.json,
        id,
        () =>
          `${[
            `namespace:  ${id.path} (${id.namespace})`,
            `public key: ${showKey(id.publicKey)}`,
            `role:       ${id.role ?? 'none (not in the member list yet)'}`,
            `joined:     ${id.joinedMs === null ? '-' : iso(id.joinedMs)}`,
          ].join('\n')}\n`,
      )
      return 0
    },
  }),
  members: command({
    options: COMMON,
    args: ['NS'],
    async run(values, [ns]) {
      const members = await run(values, (c) => c.listMembers(ns!))
      print(values.json, members, () => memberRows(members))
      return 0
    },
  }),
  grant: command({
    options: COMMON,
    args: ['NS', 'MEMBER_KEY', 'ROLE'],
    async run(values, [ns, key, role]) {
      if (role !== 'admin' && role !== 'member') throw new UsageError(`ns grant: ROLE is admin or member, not '${role}'`)
      const m = await run(values, async (c) => c.grantRole(ns!, await memberKey(c, ns!, key!), role))
      print(values.json, m, () => `${showKey(m.publicKey)} is now ${m.role} of ${ns}\n`)
      return 0
    },
  }),
  leave: command({
    options: FORCE,
    args: ['NS'],
    async run(values, [ns]) {
      const r = await run(values, (c) => c.leaveNamespace(ns!, { force: values.force ?? false }))
      const heard = r.peers === 0 ? 'no peer was connected to hear of it' : `${r.acknowledged} of ${r.peers} connected peers acknowledged`
      const nested = r.left.length > 1 ? ` and ${r.left.length - 1} nested namespace(s)` : ''
      print(values.json, r, () => `left namespace ${r.path ?? r.alias} (${r.id})${nested}; ${heard}\n`)
      return 0
    },
  }),
  token: command({
    options: { ...COMMON, expires: { type: 'string' }, 'read-only': { type: 'boolean' } } as const,
    args: ['NS'],
    async run(values, [ns]) {
      const opts: { expires?: string; readOnly?: boolean } = { readOnly: values['read-only'] ?? false }
      if (values.expires !== undefined) opts.expires = values.expires
      const t = await run(values, (c) => c.createClientToken(ns!, opts))
      print(values.json, t, () => `${t.token}\n`)
      return 0
    },
  }),
}

/** The full key of the current member of `ns` that `given` names (keys.ts has the rules). */
async function memberKey(c: MeshfsClient, ns: string, given: string): Promise<string> {
  const current = (await c.listMembers(ns)).filter((m) => m.leftMs === undefined).map((m) => m.publicKey)
  try {
    // Nothing matched: the daemon says so, in its words.
    return resolveKey(given, current, 'members') ?? given
  } catch (err) {
    if (err instanceof PrefixError) throw new UsageError(`ns grant: ${err.message} (see: meshfs ns members ${ns})`)
    throw err
  }
}

/** A group verb: `args` are its positionals after NS, `call` asks the daemon. */
function groupCommand<T extends GroupInfo | GroupInfo[]>(
  args: string[],
  call: (c: MeshfsClient, ns: string, rest: string[]) => Promise<T>,
  human: (answer: T) => string,
): Command<typeof COMMON> {
  return command({
    options: COMMON,
    args: ['NS', ...args],
    async run(values, [ns, ...rest]) {
      const answer = await run(values, (c) => call(c, ns!, rest))
      print(values.json, answer, () => human(answer))
      return 0
    },
  })
}

const nowAt = (g: GroupInfo) => `group ${g.id} is now ${g.path}\n`

export const GROUP_COMMANDS: Record<string, Command<any>> = {
  list: groupCommand([], (c, ns) => c.listNamespaceGroups(ns), groupRows),
  create: groupCommand(
    ['PATH'],
    (c, ns, [path]) => c.createGroupInNamespace(ns, path!),
    (g) => `created group ${g.path} (${g.id})\n`,
  ),
  nest: groupCommand(['PARENT', 'CHILD'], (c, ns, [parent, child]) => c.nestGroup(ns, parent!, child!), nowAt),
  unnest: groupCommand(['GROUP'], (c, ns, [group]) => c.unnestGroup(ns, group!), nowAt),
  subgroups: groupCommand(['GROUP'], (c, ns, [group]) => c.listSubgroups(ns, group!), groupRows),
}

export const INVITE = command({
  options: {
    ...COMMON,
    recursive: { type: 'boolean' },
    expires: { type: 'string' },
    'expires-at': { type: 'string' },
    uses: { type: 'string' },
  } as const,
  args: ['NS'],
  async run(values, [ns]) {
    if (values.expires !== undefined && values['expires-at'] !== undefined)
      throw new UsageError('invite: give --expires or --expires-at, not both')
    const opts: InvitationOptions = { recursive: values.recursive ?? false }
    if (values.expires !== undefined) opts.expires = values.expires
    if (values['expires-at'] !== undefined) opts.expiresAtMs = wholeNumber(values['expires-at'], '--expires-at')
    if (values.uses !== undefined) opts.uses = wholeNumber(values.uses, '--uses')
    const token = await run(values, (c) => c.createNamespaceInvitation(ns!, opts))
    print(values.json, { token }, () => `${token}\n`)
    return 0
  },
})

export const JOIN = command({
  options: COMMON,
  args: ['TOKEN'],
  async run(values, [given]) {
    const token = given === '-' ? (await readStdin()).trim() : given!
    const info = await run(values, (c) => c.joinNamespace(token))
    print(values.json, info, () =>
      'pending' in info
        ? `joined namespace ${info.id}; it appears once its first sync arrives\n`
        : `joined namespace ${info.alias} (${info.id})\n`,
    )
    return 0
  },
})
