// One readable line per notable event, to stderr: `2026-11-23T07:10:00.123Z info  mount: ready`.
// A leaf module: every layer may log, none has to know where lines go.

import { writeTo } from './stdio.js'

export type LogLevel = 'debug' | 'info' | 'warn' | 'error'

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 }

export interface Logger {
  debug(msg: string): void
  info(msg: string): void
  warn(msg: string): void
  error(msg: string): void
  /** A logger whose lines are prefixed with `scope: `. */
  child(scope: string): Logger
}

export function createLogger(
  level: LogLevel = 'info',
  write: (line: string) => void = (line) => writeTo(process.stderr, `${line}\n`),
  scope = '',
): Logger {
  const min = RANK[level]
  const emit = (lvl: LogLevel, msg: string) => {
    if (RANK[lvl] < min) return
    write(`${new Date().toISOString()} ${lvl.padEnd(5)} ${scope ? `${scope}: ` : ''}${msg}`)
  }
  return {
    debug: (m) => emit('debug', m),
    info: (m) => emit('info', m),
    warn: (m) => emit('warn', m),
    error: (m) => emit('error', m),
    child: (s) => createLogger(level, write, scope ? `${scope}/${s}` : s),
  }
}

export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child: () => silentLogger,
}
