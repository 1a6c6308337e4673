// Interactive programs in real terminals: a tmux server of our own (its socket in a temp folder,
// so a user's sessions are never touched), one session per program. Editors are driven as users
// drive them: keys in, the screen read back until it shows what is expected (bounded).

import { rmSync } from 'node:fs'
import { ok, sh, tempDir } from './harness.js'
import { waitFor } from './wait.js'

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`
const ENV = { ...process.env, TERM: process.env.TERM && process.env.TERM !== 'dumb' ? process.env.TERM : 'xterm-256color' }

/** One tmux server; `close()` (from a `finally`/`after`) kills it and removes its socket. */
export class Tmux {
  private readonly dir = tempDir('tmux')
  readonly command = `tmux -S ${this.dir}/socket`

  /** A session running `command` in `cwd`, 120x40. */
  async open(name: string, command: string, cwd: string): Promise<Terminal> {
    const r = await sh(`${this.command} new-session -d -s ${name} -x 120 -y 40 -c ${q(cwd)} ${q(command)}`, { env: ENV })
    if (r.code !== 0) throw new Error(`tmux new-session failed: ${r.stderr}`)
    return new Terminal(this.command, name)
  }

  async close(): Promise<void> {
    await sh(`${this.command} kill-server 2>/dev/null; true`, { env: ENV })
    rmSync(this.dir, { recursive: true, force: true })
  }
}

/** A tmux session running one program; `close()` kills the session by name. */
export class Terminal {
  constructor(
    private readonly tmux: string,
    readonly name: string,
  ) {}

  async screen(): Promise<string> {
    return (await sh(`${this.tmux} capture-pane -p -t ${this.name}`, { env: ENV })).stdout
  }

  /** Keys by tmux name (Enter, Escape, C-o) or, with `literal`, text typed as is. */
  async keys(keys: string[], literal = false): Promise<void> {
    await ok(`${this.tmux} send-keys -t ${this.name} ${literal ? '-l ' : ''}${keys.map(q).join(' ')}`)
  }

  async waitScreen(what: string, re: RegExp, timeoutMs = 10_000): Promise<void> {
    try {
      await waitFor(async () => re.test(await this.screen()), { what, timeoutMs })
    } catch (err) {
      throw new Error(`${(err as Error).message}; the screen shows:\n${await this.screen()}`)
    }
  }

  async alive(): Promise<boolean> {
    return (await sh(`${this.tmux} has-session -t ${this.name}`, { env: ENV })).code === 0
  }

  /** Waits until the program exited (the session closes with it). */
  async waitExit(what: string, timeoutMs = 10_000): Promise<void> {
    let last = ''
    try {
      await waitFor(
        async () => {
          if (!(await this.alive())) return true
          last = await this.screen()
          return false
        },
        { what, timeoutMs },
      )
    } catch (err) {
      throw new Error(`${(err as Error).message}; the screen shows:\n${last}`)
    }
  }

  async close(): Promise<void> {
    if (await this.alive()) await sh(`${this.tmux} kill-session -t ${this.name}`, { env: ENV })
  }
}
