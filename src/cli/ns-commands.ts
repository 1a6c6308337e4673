// `meshfs ns ...` and `meshfs group ...`: namespaces and groups through the daemon's control
// API (the same verbs as the TypeScript client). `--json` prints the daemon's answer as JSON.

import { parseArgs } from 'node:util'
import type { GroupInfo, Member, NamespaceInfo, UpgradePolicy } from '../client/client.js'
import { client, COMMON, need, print, run, table } from './common.js'
import { UsageError } from './usage-error.js'

function describeNamespace(n: NamespaceInfo): string {
  return [
    `id:             ${n.id}`,
    `alias:          ${n.alias}`,
    `path:           ${n.path ?? n.alias}`,
    `application:    ${n.application}`,
    `upgrade policy: ${n.upgradePolicy}`,
    `description:    ${n.description}`,
    `created:        ${new Date(n.createdMs).toISOString()}`,
  ].join('\n') + '\n'
}

const iso = (ms: number) => new Date(ms).toISOString()

function memberRows(members: Member[]): string {
  return table([['KEY', 'ROLE', 'JOINED', 'LEFT'], ...members.map((m) => [m.publicKey, m.role, iso(m.joinedMs), m.leftMs === undefined ? '-' : iso(m.leftMs)])])
}

function groupRows(groups: GroupInfo[]): string {
  return table([['ID', 'PATH'], ...groups.map((g) => [g.id, g.path])])
}

export async function runNs(args: string[]): Promise<number> {
  const [sub, ...rest] = args
  switch (sub) {
    case 'create': {
      const { values, positionals } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: { ...COMMON, app: { type: 'string' }, 'upgrade-policy': { type: 'string' }, description: { type: 'string' } },
      })
      const [alias] = need(positionals, ['ALIAS'], 'ns create')
      const opts: { alias: string; upgradePolicy?: UpgradePolicy; description?: string } = { alias: alias! }
      if (values['upgrade-policy'] !== undefined) opts.upgradePolicy = values['upgrade-policy'] as UpgradePolicy
      if (values.description !== undefined) opts.description = values.description
      const info = await run(() => client(values.data).createNamespace(values.app ?? 'files', opts))
      print(values.json, info, () => `created namespace ${info.alias} (${info.id})\n`)
      return 0
    }
    case 'list': {
      const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { ...COMMON, app: { type: 'string' } } })
      need(positionals, [], 'ns list')
      const c = client(values.data)
      const list = await run(() => (values.app === undefined ? c.listNamespaces() : c.listNamespacesForApplication(values.app)))
      print(values.json, list, () =>
        table([['ID', 'PATH', 'APPLICATION', 'POLICY'], ...list.map((n) => [n.id, n.path ?? n.alias, n.application, n.upgradePolicy])]),
      )
      return 0
    }
    case 'get': {
      const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: COMMON })
      const [ns] = need(positionals, ['NS'], 'ns get')
      const info = await run(() => client(values.data).getNamespace(ns!))
      print(values.json, info, () => describeNamespace(info))
      return 0
    }
    case 'delete': {
      const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { ...COMMON, force: { type: 'boolean' } } })
      const [ns] = need(positionals, ['NS'], 'ns delete')
      const info = await run(() => client(values.data).deleteNamespace(ns!, { force: values.force ?? false }))
      print(values.json, info, () => `deleted namespace ${info.alias} (${info.id}) from this node; this cannot be undone\n`)
      return 0
    }
    case 'identity': {
      const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: COMMON })
      const [ns] = need(positionals, ['NS'], 'ns identity')
      const id = await run(() => client(values.data).getNamespaceIdentity(ns!))
      print(values.json, id, () =>
        [
          `namespace:  ${id.path} (${id.namespace})`,
          `public key: ${id.publicKey}`,
          `role:       ${id.role ?? 'none (not in the member list yet)'}`,
          `joined:     ${id.joinedMs === null ? '-' : iso(id.joinedMs)}`,
        ].join('\n') + '\n',
      )
      return 0
    }
    case 'members': {
      const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: COMMON })
      const [ns] = need(positionals, ['NS'], 'ns members')
      const members = await run(() => client(values.data).listMembers(ns!))
      print(values.json, members, () => memberRows(members))
      return 0
    }
    case 'grant': {
      const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: COMMON })
      const [ns, key, role] = need(positionals, ['NS', 'MEMBER_KEY', 'ROLE'], 'ns grant')
      if (role !== 'admin' && role !== 'member') throw new UsageError(`ns grant: ROLE is admin or member, not '${role}'`)
      const m = await run(() => client(values.data).grantRole(ns!, key!, role))
      print(values.json, m, () => `${m.publicKey} is now ${m.role} of ${ns}\n`)
      return 0
    }
    case 'leave': {
      const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { ...COMMON, force: { type: 'boolean' } } })
      const [ns] = need(positionals, ['NS'], 'ns leave')
      const r = await run(() => client(values.data).leaveNamespace(ns!, { force: values.force ?? false }))
      const heard = r.peers === 0 ? 'no peer was connected to hear of it' : `${r.acknowledged} of ${r.peers} connected peers acknowledged`
      const nested = r.left.length > 1 ? ` and ${r.left.length - 1} nested namespace(s)` : ''
      print(values.json, r, () => `left namespace ${r.path ?? r.alias} (${r.id})${nested}; ${heard}\n`)
      return 0
    }
    case 'token': {
      const { values, positionals } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: { ...COMMON, expires: { type: 'string' }, 'read-only': { type: 'boolean' } },
      })
      const [ns] = need(positionals, ['NS'], 'ns token')
      const opts: { expires?: string; readOnly?: boolean } = { readOnly: values['read-only'] ?? false }
      if (values.expires !== undefined) opts.expires = values.expires
      const t = await run(() => client(values.data).createClientToken(ns!, opts))
      print(values.json, t, () => t.token + '\n')
      return 0
    }
    default:
      throw new UsageError(sub === undefined ? 'ns: missing subcommand (create, list, get, delete, identity, members, grant, leave, token)' : `ns: unknown subcommand '${sub}'`)
  }
}

export async function runGroup(args: string[]): Promise<number> {
  const [sub, ...rest] = args
  const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: COMMON })
  const c = client(values.data)
  switch (sub) {
    case 'list': {
      const [ns] = need(positionals, ['NS'], 'group list')
      const groups = await run(() => c.listNamespaceGroups(ns!))
      print(values.json, groups, () => groupRows(groups))
      return 0
    }
    case 'create': {
      const [ns, path] = need(positionals, ['NS', 'PATH'], 'group create')
      const g = await run(() => c.createGroupInNamespace(ns!, path!))
      print(values.json, g, () => `created group ${g.path} (${g.id})\n`)
      return 0
    }
    case 'nest': {
      const [ns, parent, child] = need(positionals, ['NS', 'PARENT', 'CHILD'], 'group nest')
      const g = await run(() => c.nestGroup(ns!, parent!, child!))
      print(values.json, g, () => `group ${g.id} is now ${g.path}\n`)
      return 0
    }
    case 'unnest': {
      const [ns, group] = need(positionals, ['NS', 'GROUP'], 'group unnest')
      const g = await run(() => c.unnestGroup(ns!, group!))
      print(values.json, g, () => `group ${g.id} is now ${g.path}\n`)
      return 0
    }
    case 'subgroups': {
      const [ns, group] = need(positionals, ['NS', 'GROUP'], 'group subgroups')
      const groups = await run(() => c.listSubgroups(ns!, group!))
      print(values.json, groups, () => groupRows(groups))
      return 0
    }
    default:
      throw new UsageError(sub === undefined ? 'group: missing subcommand (list, create, nest, unnest, subgroups)' : `group: unknown subcommand '${sub}'`)
  }
}

export async function runInvite(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { ...COMMON, recursive: { type: 'boolean' }, expires: { type: 'string' }, 'expires-at': { type: 'string' }, uses: { type: 'string' } },
  })
  const [ns] = need(positionals, ['NS'], 'invite')
  if (values.expires !== undefined && values['expires-at'] !== undefined) throw new UsageError('invite: give --expires or --expires-at, not both')
  const opts: { recursive?: boolean; expires?: string; expiresAtMs?: number; uses?: number } = { recursive: values.recursive ?? false }
  if (values.expires !== undefined) opts.expires = values.expires
  if (values['expires-at'] !== undefined) opts.expiresAtMs = wholeNumber(values['expires-at'], '--expires-at')
  if (values.uses !== undefined) opts.uses = wholeNumber(values.uses, '--uses')
  const token = await run(() => client(values.data).createNamespaceInvitation(ns!, opts))
  print(values.json, { token }, () => token + '\n')
  return 0
}

export async function runJoin(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: COMMON })
  const [given] = need(positionals, ['TOKEN'], 'join')
  const token = given === '-' ? await readStdin() : given!
  const info = await run(() => client(values.data).joinNamespace(token))
  print(values.json, info, () => (info.alias ? `joined namespace ${info.alias} (${info.id})\n` : `joined namespace ${info.id}; it appears once its first sync arrives\n`))
  return 0
}

function wholeNumber(text: string, flag: string): number {
  const n = Number(text)
  if (!Number.isSafeInteger(n) || n <= 0) throw new UsageError(`${flag}: expected a positive whole number, got '${text}'`)
  return n
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = []
  for await (const c of process.stdin) chunks.push(c as Buffer)
  return Buffer.concat(chunks).toString('utf8').trim()
}
