// What a CLI command is: its options (node:util parseArgs), the positionals it takes, and a
// handler; a command with subcommands is a table of them. The runner parses, counts the
// positionals, and turns parse errors into usage errors (exit 2) before the handler runs.

import { parseArgs, type ParseArgsConfig } from 'node:util'
import { UsageError } from './usage-error.js'

type Options = NonNullable<ParseArgsConfig['options']>
type Values<O extends Options> = ReturnType<typeof parseArgs<{ options: O; allowPositionals: true }>>['values']

export interface Command<O extends Options = Options> {
  options: O
  /** The positionals' names, exactly this many; undefined: the handler counts them. */
  args?: string[]
  run(values: Values<O>, positionals: string[]): Promise<number>
}

/** A command, typed by its options (so the handler's `values` are). */
export function command<O extends Options>(spec: Command<O>): Command<O> {
  return spec
}

/** Exactly `names.length` positionals; `name` is what the user typed, e.g. `ns grant`. */
export function need(positionals: string[], names: string[], name: string): string[] {
  if (positionals.length < names.length)
    throw new UsageError(`${name}: missing ${names[positionals.length]} (see meshfs ${name.split(' ')[0]} --help)`)
  if (positionals.length > names.length) throw new UsageError(`${name}: unexpected argument '${positionals[names.length]}'`)
  return positionals
}

export async function runCommand<O extends Options>(name: string, cmd: Command<O>, args: string[]): Promise<number> {
  let parsed: ReturnType<typeof parseArgs<{ options: O; allowPositionals: true }>>
  try {
    parsed = parseArgs({ args: positionalsLast(args, cmd.options), allowPositionals: true, options: cmd.options })
  } catch (err) {
    // parseArgs reports unknown or malformed flags with a TypeError coded ERR_PARSE_ARGS_*.
    if (err instanceof TypeError && (err as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')) throw new UsageError(err.message)
    throw err
  }
  const positionals = cmd.args === undefined ? parsed.positionals : need(parsed.positionals, cmd.args, name)
  return cmd.run(parsed.values as Values<O>, positionals)
}

/**
 * Node keys are base64url and may start with '-' (`-5i31...`): an argument that starts with one
 * '-' but is not one of the command's short flags is a positional, not an unknown option. The
 * positionals go after a '--', in their order, so parseArgs sees them as such.
 */
function positionalsLast(args: string[], options: Options): string[] {
  const shorts = new Map(Object.values(options).flatMap((o) => (o.short ? [[o.short, o.type] as const] : [])))
  const longs = new Map(Object.entries(options).map(([k, o]) => [k, o.type]))
  const flags: string[] = []
  const positionals: string[] = []
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!
    if (a === '--') {
      positionals.push(...args.slice(i + 1))
      break
    }
    const takesValue = a.startsWith('--')
      ? !a.includes('=') && longs.get(a.slice(2)) === 'string'
      : a.length === 2 && shorts.get(a[1]!) === 'string'
    if (a.startsWith('--') || (a.length === 2 && a[0] === '-' && shorts.has(a[1]!))) {
      flags.push(a)
      if (takesValue && i + 1 < args.length) flags.push(args[++i]!)
    } else positionals.push(a)
  }
  return [...flags, '--', ...positionals]
}

/** `meshfs NAME SUB ...`: runs the subcommand SUB of `table`. */
export function subcommands(name: string, table: Record<string, Command<any>>): (args: string[]) => Promise<number> {
  const names = Object.keys(table).join(', ')
  return async (args) => {
    const [sub, ...rest] = args
    if (sub === undefined) throw new UsageError(`${name}: missing subcommand (${names})`)
    if (!Object.hasOwn(table, sub)) throw new UsageError(`${name}: unknown subcommand '${sub}'`)
    return runCommand(`${name} ${sub}`, table[sub]!, rest)
  }
}
