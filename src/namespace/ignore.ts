// Editor junk stays on this node: swap, backup and temp files (`.*.swp`, `*~`, vim's `4913`
// probe, Emacs's `.#*` locks) are never replicated. The defaults can be extended, and defaults
// removed, by a `.meshfsignore` file at the top of the namespace (it is replicated itself): one
// glob per line (`*` and `?` within one name), `!GLOB` removes a default, `#` starts a comment.

export const IGNORE_FILE = '.meshfsignore'

export const DEFAULT_IGNORES = ['.*.swp', '.*.swo', '.*.swx', '*~', '4913', '.#*', '#*#', '*.tmp'] as const

function globToRegExp(glob: string): RegExp {
  let re = ''
  for (const ch of glob) {
    if (ch === '*') re += '[^/]*'
    else if (ch === '?') re += '[^/]'
    else re += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&')
  }
  return new RegExp(`^${re}$`)
}

export class IgnoreList {
  private readonly patterns: RegExp[]

  constructor(readonly globs: readonly string[]) {
    this.patterns = globs.map(globToRegExp)
  }

  /** The defaults, adjusted by the lines of an ignore file. */
  static fromFile(text: string | undefined): IgnoreList {
    const globs = new Set<string>(DEFAULT_IGNORES)
    for (const raw of (text ?? '').split('\n')) {
      const line = raw.trim()
      if (line === '' || line.startsWith('#')) continue
      if (line.startsWith('!')) globs.delete(line.slice(1))
      else globs.add(line)
    }
    return new IgnoreList([...globs])
  }

  matches(name: string): boolean {
    return name !== IGNORE_FILE && this.patterns.some((p) => p.test(name))
  }

  /** A path is local when any of its names is ignored (everything inside junk is junk). */
  isLocal(segments: readonly string[]): boolean {
    return segments.some((s) => this.matches(s))
  }
}
