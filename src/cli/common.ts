// What every control command of the CLI shares: the `--data`/`--json` options, the client of the
// daemon they name, output as a table or as JSON, and which daemon errors mean "your arguments
// are wrong" (exit 2).

import { USAGE_ERROR_CODES } from '../api/errors.js'
import { defaultDataDir } from '../api/socket.js'
import { connect, type MeshfsClient } from '../client/client.js'
import { MeshfsError } from '../client/transport.js'
import { UsageError } from './usage-error.js'

export const COMMON = {
  data: { type: 'string' },
  json: { type: 'boolean' },
} as const

export function client(data: string | undefined): MeshfsClient {
  return connect({ dataDir: data ?? defaultDataDir() })
}

export function print(json: boolean | undefined, value: unknown, human: () => string): void {
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : human())
}

/** Columns padded to their widest cell; the first row is the header. */
export function table(rows: string[][]): string {
  if (rows.length === 0) return ''
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)))
  return `${rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n')}\n`
}

/** Daemon errors that mean "your arguments are wrong" exit 2, like local argument errors. */
export async function run<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (err) {
    if (err instanceof MeshfsError && USAGE_ERROR_CODES.includes(err.code)) throw new UsageError(err.message)
    throw err
  }
}

export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = []
  for await (const c of process.stdin) chunks.push(c as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

export function wholeNumber(text: string, flag: string): number {
  const n = Number(text)
  if (!Number.isSafeInteger(n) || n <= 0) throw new UsageError(`${flag}: expected a positive whole number, got '${text}'`)
  return n
}
