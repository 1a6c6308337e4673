#!/usr/bin/env node
// The `meshfs` command. Exit codes: 0 success, 1 the operation failed, 2 bad arguments.

import { VERSION } from '../version.js'
import { USAGE } from './usage.js'
import { runMount, runUnmount, runWhich } from './commands.js'
import { runGroup, runInvite, runJoin, runNs } from './ns-commands.js'
import { runNotify, runPeers, runStatus } from './peer-commands.js'
import { runSync } from './sync-commands.js'
import { UsageError } from './usage-error.js'

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv
  if (command === undefined || command === '-h' || command === '--help' || command === 'help') {
    process.stdout.write(USAGE.main)
    return command === undefined ? 2 : 0
  }
  if (command === '-V' || command === '--version') {
    process.stdout.write(`meshfs ${VERSION}\n`)
    return 0
  }
  const commands: Record<string, (args: string[]) => Promise<number>> = {
    mount: runMount,
    unmount: runUnmount,
    which: runWhich,
    ns: runNs,
    group: runGroup,
    invite: runInvite,
    join: runJoin,
    status: runStatus,
    peers: runPeers,
    notify: runNotify,
    sync: runSync,
  }
  const run = commands[command]
  if (!run) throw new UsageError(`unknown command '${command}' (see meshfs --help)`)
  if (rest.includes('-h') || rest.includes('--help')) {
    process.stdout.write(USAGE[command]!)
    return 0
  }
  return run(rest)
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (err: unknown) => {
    const usage = err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')
    // With --json the error is machine-readable too: the daemon's errno-like code, or EUSAGE.
    if (process.argv.includes('--json')) {
      const code = usage ? 'EUSAGE' : typeof (err as { code?: unknown }).code === 'string' ? (err as { code: string }).code : 'EIO'
      process.stderr.write(JSON.stringify({ error: { code, message: (err as Error).message } }) + '\n')
    } else process.stderr.write(`meshfs: ${(err as Error).message}\n`)
    process.exitCode = usage ? 2 : 1
  },
)

