// What every control command of the CLI shares: the `--data`/`--json` options, the client of the
// daemon they name, argument counting, output as a table or as JSON, and which daemon errors mean
// "your arguments are wrong" (exit 2).

import { connect, MeshfsError, type MeshfsClient } from '../client/client.js'
import { defaultDataDir } from '../daemon/data-dir.js'
import { UsageError } from './usage-error.js'

export const COMMON = {
  data: { type: 'string' },
  json: { type: 'boolean' },
} as const

export function client(data: string | undefined): MeshfsClient {
  return connect({ dataDir: data ?? defaultDataDir() })
}

/** Exactly `names.length` positionals; `command` is what the user typed, e.g. `ns grant`. */
export function need(positionals: string[], names: string[], command: string): string[] {
  if (positionals.length < names.length) throw new UsageError(`${command}: missing ${names[positionals.length]} (see meshfs ${command.split(' ')[0]} --help)`)
  if (positionals.length > names.length) throw new UsageError(`${command}: unexpected argument '${positionals[names.length]}'`)
  return positionals
}

export function print(json: boolean | undefined, value: unknown, human: () => string): void {
  process.stdout.write(json ? JSON.stringify(value, null, 2) + '\n' : human())
}

/** Columns padded to their widest cell; the first row is the header. */
export function table(rows: string[][]): string {
  if (rows.length === 0) return ''
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)))
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n') + '\n'
}

/** Daemon errors that mean "your arguments are wrong" exit 2, like local argument errors. */
export async function run<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (err) {
    if (err instanceof MeshfsError && (err.code === 'EINVAL' || err.code === 'ENAMETOOLONG')) throw new UsageError(err.message)
    throw err
  }
}
