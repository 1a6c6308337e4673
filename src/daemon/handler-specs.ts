// `--handler /PATH=KIND[:ARG]`: which handler kinds exist and how each is made.
//   memory          an in-memory area (like the root)
//   dir:FOLDER      a host folder
//   time            Fan's TimeNamespace example
//   module:FILE     a user module: its default export is a Handler, or a function
//                   `(arg?: string) => Handler | Promise<Handler>`; FILE may end in `?ARG`

import path from 'node:path'
import { pathToFileURL } from 'node:url'
import type { Handler } from '../vfs/handler.js'
import { normalizePath } from '../vfs/path.js'
import { DirHandler } from '../handlers/dir.js'
import { MemoryHandler } from '../handlers/memory.js'
import { TimeHandler } from '../handlers/time.js'

export const HANDLER_KINDS = ['memory', 'dir', 'time', 'module'] as const

export interface HandlerSpec {
  /** Where in the tree it is mounted. */
  path: string
  kind: string
  arg?: string
}

export class SpecError extends Error {}

export function parseHandlerSpec(text: string): HandlerSpec {
  const eq = text.indexOf('=')
  if (eq <= 0) throw new SpecError(`--handler ${text}: expected /PATH=KIND[:ARG], e.g. /host=dir:/srv/share`)
  const at = text.slice(0, eq)
  if (!at.startsWith('/')) throw new SpecError(`--handler ${text}: the path must start with '/'`)
  let mountPath: string
  try {
    mountPath = normalizePath(at)
  } catch (err) {
    throw new SpecError(`--handler ${text}: ${(err as Error).message}`)
  }
  if (mountPath === '/') throw new SpecError(`--handler ${text}: '/' is the root namespace; mount below it`)
  if (mountPath === '/.meshfs' || mountPath.startsWith('/.meshfs/'))
    throw new SpecError(`--handler ${text}: /.meshfs is reserved for control files`)
  const rest = text.slice(eq + 1)
  const colon = rest.indexOf(':')
  const kind = colon < 0 ? rest : rest.slice(0, colon)
  const arg = colon < 0 ? undefined : rest.slice(colon + 1)
  if (!(HANDLER_KINDS as readonly string[]).includes(kind)) {
    throw new SpecError(`--handler ${text}: unknown handler kind '${kind}' (known: ${HANDLER_KINDS.join(', ')})`)
  }
  if ((kind === 'dir' || kind === 'module') && !arg) throw new SpecError(`--handler ${text}: ${kind} needs an argument, as ${kind}:PATH`)
  return arg === undefined ? { path: mountPath, kind } : { path: mountPath, kind, arg }
}

export async function createHandler(spec: HandlerSpec): Promise<Handler> {
  switch (spec.kind) {
    case 'memory':
      return new MemoryHandler()
    case 'time':
      return new TimeHandler()
    case 'dir':
      return new DirHandler(spec.arg!)
    case 'module':
      return loadModuleHandler(spec.arg!)
    default:
      throw new SpecError(`unknown handler kind '${spec.kind}'`)
  }
}

async function loadModuleHandler(arg: string): Promise<Handler> {
  const q = arg.indexOf('?')
  const file = path.resolve(q < 0 ? arg : arg.slice(0, q))
  const moduleArg = q < 0 ? undefined : arg.slice(q + 1)
  let mod: { default?: unknown }
  try {
    mod = (await import(pathToFileURL(file).href)) as { default?: unknown }
  } catch (err) {
    throw new SpecError(`module handler ${file}: cannot load it: ${(err as Error).message}`)
  }
  const exported = mod.default
  const handler = typeof exported === 'function' ? await (exported as (a?: string) => unknown)(moduleArg) : exported
  const h = handler as Partial<Handler> | undefined
  if (!h || typeof h.stat !== 'function' || typeof h.list !== 'function' || typeof h.open !== 'function' || typeof h.kind !== 'string') {
    throw new SpecError(`module handler ${file}: its default export must be a Handler (kind, stat, list, open) or a function returning one`)
  }
  return h as Handler
}
