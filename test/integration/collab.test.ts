// Two (or three) people edit one file on two (three) nodes with their own tools, and every edit
// survives: vim and nano in real terminals (tmux) saving at the same moment and 2 s apart (the
// later one answering its "changed since reading" prompt with yes), `sed -i` against a program
// that truncates, sleeps and writes, a temp-file + rename save with a `cat` on the same node in
// between, and three writers on three nodes. Each case runs REPEAT times with timings drawn from
// a seeded PRNG (COLLAB_SEED=N replays a run; scripts/collab-loop.sh runs the file in a loop), and
// asserts the exact final text on every node, the same resource id, and no conflict copy.
//
// The rule under test (README, "Resources"): the merge base of a whole-file save is the version
// *that writer* read, and a truncation stays inside its open until the file is published.

import assert from 'node:assert/strict'
import path from 'node:path'
import { after, before, describe, test } from 'node:test'
import { ok, sh, type MountedNode } from '../support/harness.js'
import { Prng } from '../support/prng.js'
import { Tmux, type Terminal } from '../support/terminal.js'
import { Cluster, TEST_TIMEOUT, cat, eventually, idOf, out, q, share, waitContent } from '../support/cluster.js'

const REPEAT = 5
const SEED = Number(process.env.COLLAB_SEED ?? Date.now() % 100_000)
const VIM = `vim -u DEFAULTS -i NONE --cmd 'set backupskip='`
const NANO = 'nano --ignorercfiles'

/** `line 1` .. `line 20`, each line `n` with `edits[n]` appended. */
function lines(edits: Record<number, string> = {}): string {
  let out = ''
  for (let n = 1; n <= 20; n++) out += `line ${n}${edits[n] ?? ''}\n`
  return out
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe(`concurrent edits on several nodes keep every edit (COLLAB_SEED=${SEED})`, () => {
  const cluster = new Cluster()
  const tmux = new Tmux()
  let failed = false
  let a: MountedNode
  let b: MountedNode
  let c: MountedNode
  let n = 0

  before(async () => {
    a = await cluster.start()
    b = await cluster.start()
    c = await cluster.start()
    await share(a, [b, c])
  })
  after(async () => {
    await tmux.close()
    await cluster.close(failed)
  })

  const dir = (node: MountedNode) => path.join(node.mnt, 'team')

  /** A fresh file of 20 lines on every node; returns its name and resource id. */
  async function fresh(): Promise<{ name: string; id: string }> {
    const name = `notes-${++n}.txt`
    await ok(`printf %s ${q(lines())} > ${q(path.join(dir(a), name))}`)
    for (const node of [b, c]) await waitContent(path.join(dir(node), name), lines())
    return { name, id: await idOf(path.join(dir(a), name)) }
  }

  /** Every node shows exactly `expected`, the same id, and no other file of that name. */
  async function converged(name: string, id: string, expected: string): Promise<void> {
    for (const node of [a, b, c]) {
      const file = path.join(dir(node), name)
      try {
        await eventually(`${file} to hold both edits`, () => cat(file), expected)
      } catch (err) {
        // What each node shows, to tell a lost edit from a size that disagrees with the bytes.
        const views = await Promise.all(
          [a, b, c].map(async (n) => {
            const f = path.join(dir(n), name)
            return `${f}: stat size ${(await out(`stat -c %s ${q(f)}`)).trim()}, ${JSON.stringify(await cat(f))}`
          }),
        )
        throw new Error(`${(err as Error).message}\n${views.join('\n')}`)
      }
      assert.equal(await idOf(file), id, `${file} is still the same resource`)
      const stem = name.replace(/\.txt$/, '')
      const others = (await ok(`ls -A ${q(dir(node))}`)).split('\n').filter((f) => f.startsWith(stem) && f !== name)
      assert.deepEqual(others, [], `no conflict copy or leftover next to ${file}`)
    }
  }

  /** Runs `body` REPEAT times, each with its own PRNG drawn from the run's seed. */
  async function repeated(what: string, body: (rng: Prng, round: number) => Promise<void>): Promise<void> {
    for (let round = 0; round < REPEAT; round++) {
      const seed = SEED * 1000 + n
      try {
        await body(new Prng(seed), round)
      } catch (err) {
        failed = true
        throw new Error(`${what}, round ${round + 1} of ${REPEAT} (COLLAB_SEED=${SEED}): ${(err as Error).message}`)
      }
    }
  }

  /** vim on `node` with `name` open and line 2 changed in its buffer (not saved yet). */
  async function vimWithEdit(node: MountedNode, name: string, round: number): Promise<Terminal> {
    const term = await tmux.open(`vim-${round}-${n}`, `${VIM} ${name}`, dir(node))
    await term.waitScreen('vim to show the file', new RegExp(`"${name.replace('.', '\\.')}" 20L`))
    await term.keys([':2s/$/ edited-by-vim/', 'Enter'])
    await term.waitScreen('the edit in the buffer', /^line 2 edited-by-vim\s*$/m)
    return term
  }

  /** nano on `node` with `name` open, line 10 changed and the write-out prompt up. */
  async function nanoWithEdit(node: MountedNode, name: string, round: number): Promise<Terminal> {
    const term = await tmux.open(`nano-${round}-${n}`, `${NANO} ${name}`, dir(node))
    await term.waitScreen('nano to show the file', /GNU nano[\s\S]*^line 1\s*$/m)
    await term.keys(Array(9).fill('Down'))
    await term.keys(['End'])
    await term.keys([' edited-by-nano'], true)
    await term.waitScreen('the edit in the buffer', /^line 10 edited-by-nano\s*$/m)
    await term.keys(['C-o'])
    await term.waitScreen('the write-out prompt', /File Name to Write: /)
    return term
  }

  /** After its Enter: vim wrote the file, answering "changed since reading?" with yes if asked. */
  async function vimSaved(term: Terminal): Promise<void> {
    await term.waitScreen('vim to write or to ask', /written|changed since reading/)
    if (/changed since reading/.test(await term.screen())) {
      await term.keys(['y'])
      await term.waitScreen('vim to write', /written/)
    }
    await term.keys([':q!', 'Enter'])
    await term.waitExit('vim to quit')
  }

  /** After its Enter: nano wrote the file, answering "modified since you opened it?" with yes if asked. */
  async function nanoSaved(term: Terminal): Promise<void> {
    await term.waitScreen('nano to write or to ask', /Wrote 20 lines|modified since/)
    if (/modified since/.test(await term.screen())) {
      await term.keys(['y'])
      await term.waitScreen('nano to write', /Wrote 20 lines/)
    }
    await term.keys(['C-x'])
    await term.waitExit('nano to quit')
  }

  /** vim on A and nano on B edit lines 2 and 10; their saves `gapMs` apart (vim first if `vimFirst`). */
  async function vimAndNano(round: number, gapMs: number, vimFirst: boolean): Promise<void> {
    const { name, id } = await fresh()
    const vim = await vimWithEdit(a, name, round)
    const nano = await nanoWithEdit(b, name, round)
    try {
      await vim.keys([':w'])
      const [first, second] = vimFirst ? [vim, nano] : [nano, vim]
      await first.keys(['Enter'])
      await sleep(gapMs)
      await second.keys(['Enter'])
      await Promise.all([vimSaved(vim), nanoSaved(nano)])
      await converged(name, id, lines({ 2: ' edited-by-vim', 10: ' edited-by-nano' }))
    } finally {
      await vim.close()
      await nano.close()
    }
  }

  test('vim on A and nano on B save different lines at the same moment', { timeout: TEST_TIMEOUT * 2 }, () =>
    repeated('vim + nano at once', (rng, round) => vimAndNano(round, rng.int(30), rng.bool())),
  )

  test(
    'vim on A and nano on B save 2 s apart, vim first; nano is told the file changed and saves anyway',
    { timeout: TEST_TIMEOUT * 2 },
    () => repeated('vim, then nano 2 s later', (rng, round) => vimAndNano(round, 2000 + rng.int(200), true)),
  )

  test(
    'nano on B and vim on A save 2 s apart, nano first; vim is told the file changed and writes anyway',
    { timeout: TEST_TIMEOUT * 2 },
    () => repeated('nano, then vim 2 s later', (rng, round) => vimAndNano(round, 2000 + rng.int(200), false)),
  )

  test('sed -i on A while a program on B reads, truncates, sleeps and writes', { timeout: TEST_TIMEOUT }, () =>
    repeated('sed -i vs truncate-sleep-write', async (rng) => {
      const { name, id } = await fresh()
      const onB = path.join(dir(b), name)
      // It read the file (its base), computes its edit, opens with O_TRUNC, and writes 0.3 s later.
      const program = `import time; p=${JSON.stringify(onB)}; old=open(p).read(); new=old.replace('line 10\\n','line 10 edited-by-python\\n'); f=open(p,'w'); time.sleep(0.3); f.write(new); f.close()`
      const python = sh(`python3 -c ${q(program)}`)
      await sleep(rng.int(250))
      await ok(`sed -i 's/^line 2$/line 2 edited-by-sed/' ${q(path.join(dir(a), name))}`)
      const r = await python
      assert.equal(r.code, 0, r.stderr)
      await converged(name, id, lines({ 2: ' edited-by-sed', 10: ' edited-by-python' }))
    }),
  )

  test('a temp-file + rename save on A keeps the edit B made meanwhile, with a cat on A in between', { timeout: TEST_TIMEOUT }, () =>
    repeated('temp-file save with a cat between', async (rng) => {
      const { name, id } = await fresh()
      const onA = path.join(dir(a), name)
      // The program reads, then waits for a go (a file) before it writes its temp file and renames it.
      const go = path.join(dir(a), `.go-${n}`)
      const program = `import os, time
p=${JSON.stringify(onA)}; go=${JSON.stringify(go)}
old=open(p).read(); new=old.replace('line 2\\n','line 2 edited-by-python\\n')
while not os.path.exists(go): time.sleep(0.02)
t=p+'.tmp'
with open(t,'w') as f:
    f.write(new); f.flush(); os.fsync(f.fileno())
os.replace(t,p)`
      const python = sh(`python3 -c ${q(program)}`)
      await sleep(100 + rng.int(200))
      await ok(`sed -i 's/^line 10$/line 10 edited-by-sed/' ${q(path.join(dir(b), name))}`)
      await waitContent(onA, lines({ 10: ' edited-by-sed' }))
      await cat(onA) // another reader on A: it must not move the program's merge base
      await ok(`touch ${q(go)}`)
      const r = await python
      assert.equal(r.code, 0, r.stderr)
      await ok(`rm -f ${q(go)}`)
      await converged(name, id, lines({ 2: ' edited-by-python', 10: ' edited-by-sed' }))
    }),
  )

  test('three writers on three nodes edit one file at once', { timeout: TEST_TIMEOUT }, () =>
    repeated('three writers', async (rng) => {
      const { name, id } = await fresh()
      const edit = (node: MountedNode, line: number, who: string) =>
        sleep(rng.int(40)).then(() => ok(`sed -i 's/^line ${line}$/line ${line} edited-on-${who}/' ${q(path.join(dir(node), name))}`))
      await Promise.all([edit(a, 3, 'a'), edit(b, 11, 'b'), edit(c, 19, 'c')])
      await converged(name, id, lines({ 3: ' edited-on-a', 11: ' edited-on-b', 19: ' edited-on-c' }))
    }),
  )
})
