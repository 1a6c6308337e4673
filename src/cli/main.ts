#!/usr/bin/env node
// The `meshfs` command. Exit codes: 0 success, 1 the operation failed, 2 bad arguments.

import { MeshfsError } from '../client/transport.js'
import { tolerateLostReaders, writeTo } from '../util/stdio.js'
import { VERSION } from '../version.js'
import { runCommand, subcommands, type Command } from './command.js'
import { MOUNT, UNMOUNT, WHICH } from './commands.js'
import { GROUP_COMMANDS, INVITE, JOIN, NS_COMMANDS } from './ns-commands.js'
import { NOTIFY, PEERS, STATUS } from './peer-commands.js'
import { SYNC_COMMANDS } from './sync-commands.js'
import { USAGE } from './usage.js'
import { UsageError } from './usage-error.js'

/** Every command: its help text, and how it runs (one command, or a table of subcommands). */
const COMMANDS: Record<string, { usage: string; run: (args: string[]) => Promise<number> }> = {}
const one = (name: string, cmd: Command<any>) => (COMMANDS[name] = { usage: USAGE[name]!, run: (args) => runCommand(name, cmd, args) })
const table = (name: string, subs: Record<string, Command<any>>) => (COMMANDS[name] = { usage: USAGE[name]!, run: subcommands(name, subs) })
one('mount', MOUNT)
one('unmount', UNMOUNT)
one('which', WHICH)
table('ns', NS_COMMANDS)
table('group', GROUP_COMMANDS)
one('invite', INVITE)
one('join', JOIN)
one('status', STATUS)
one('peers', PEERS)
one('notify', NOTIFY)
table('sync', SYNC_COMMANDS)

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    process.stdout.write(USAGE.main!)
    return name === undefined ? 2 : 0
  }
  if (name === '-V' || name === '--version') {
    process.stdout.write(rest.includes('--json') ? `${JSON.stringify({ name: 'meshfs', version: VERSION })}\n` : `meshfs ${VERSION}\n`)
    return 0
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined
  if (!command) throw new UsageError(`unknown command '${name}' (see meshfs --help)`)
  if (rest.includes('-h') || rest.includes('--help')) {
    process.stdout.write(command.usage)
    return 0
  }
  return command.run(rest)
}

/** The machine-readable code of a failure: the daemon's errno-like code, EUSAGE, or Node's own. */
function codeOf(err: unknown): string {
  if (err instanceof UsageError) return 'EUSAGE'
  if (err instanceof MeshfsError) return err.code
  // Node's system errors (a host fs call in `mount`) carry their errno name.
  const code = (err as NodeJS.ErrnoException | undefined)?.code
  return typeof code === 'string' ? code : 'EIO'
}

tolerateLostReaders()
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (err: unknown) => {
    const usage = err instanceof UsageError
    // With --json the error is machine-readable too.
    if (process.argv.includes('--json'))
      writeTo(process.stderr, `${JSON.stringify({ error: { code: codeOf(err), message: (err as Error).message } })}\n`)
    else writeTo(process.stderr, `meshfs: ${(err as Error).message}\n`)
    process.exitCode = usage ? 2 : 1
  },
)
