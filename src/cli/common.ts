// What every control command of the CLI shares: the `--data`/`--json`/`--verbose` options, the
// client of the node they choose, output as a table or as JSON, and which daemon errors mean
// "your arguments are wrong" (exit 2).

import { USAGE_ERROR_CODES } from '../api/errors.js'
import { connect, type MeshfsClient } from '../client/client.js'
import { MeshfsError } from '../client/transport.js'
import { writeTo } from '../util/stdio.js'
import { chooseNode } from './node-choice.js'
import { UsageError } from './usage-error.js'

export const COMMON = {
  data: { type: 'string' },
  json: { type: 'boolean' },
  verbose: { type: 'boolean' },
} as const

/** The client of the node the command talks to (node-choice.ts); `--verbose` says which and why. */
export async function client(values: { data?: string | undefined; verbose?: boolean | undefined }): Promise<MeshfsClient> {
  const { dataDir, why } = await chooseNode(values.data)
  if (values.verbose) writeTo(process.stderr, `meshfs: the node with data directory ${dataDir}: ${why}\n`)
  return connect({ dataDir })
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

/**
 * Ask the node the command talks to. Daemon errors that mean "your arguments are wrong" exit 2,
 * like local argument errors.
 */
export async function run<T>(
  values: { data?: string | undefined; verbose?: boolean | undefined },
  fn: (c: MeshfsClient) => Promise<T>,
): Promise<T> {
  const c = await client(values)
  try {
    return await fn(c)
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
