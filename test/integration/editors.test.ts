// Editors and atomic saves inside a replicated namespace, driven as users drive them: vim and
// nano in a real terminal (tmux), vim -es, sed -i, and the write-temp + fsync + rename pattern of
// Python and Node programs. The contract (DESIGN.md, "Atomic save"): the saved content is exact,
// and the resource keeps its identity (`user.meshfs.id`) across the save; editor junk files
// (swap, backup, the `4913` probe) work like ordinary files.
//
// vim runs with `-u DEFAULTS -i NONE` (its defaults, no user vimrc or viminfo) and
// `--cmd 'set backupskip='`: the default 'backupskip' contains /tmp/*, where test mounts live, and
// would silently turn off the backup path a user's ~/mesh gets. With it, `:w` creates the swap
// file, probes the directory with `4913`, renames the file to `FILE~`, writes a new FILE and
// deletes the backup (the strace check below proves that this path is what the test exercises).

import assert from 'node:assert/strict'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { after, before, describe, test } from 'node:test'
import { ok, sh, startMount, tempDir, type MountedNode } from '../support/harness.js'
import { Tmux } from '../support/terminal.js'

const VIM = `vim -u DEFAULTS -i NONE --cmd 'set backupskip='`
const tmux = new Tmux()

const idOf = (p: string) => ok(`getfattr -n user.meshfs.id --only-values '${p}'`)
const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`

describe('editors and atomic saves in a replicated namespace', () => {
  let node: MountedNode
  let ns: string
  let n = 0
  /** A fresh group per test, holding FILE with `content`. */
  const fresh = async (file: string, content: string) => {
    const dir = path.join(ns, `t${++n}`)
    await ok(`mkdir ${q(dir)}`)
    writeFileSync(path.join(dir, file), content)
    return { dir, file: path.join(dir, file) }
  }
  const listing = (dir: string) => ok(`ls -A ${q(dir)}`)

  before(async () => {
    node = await startMount()
    ns = path.join(node.mnt, 'ns')
    await ok(`mkdir ${q(ns)}`)
  })
  after(async () => {
    await node?.stop()
    await tmux.close()
  })

  test('vim (defaults): :s and :wq save the exact content, through swap file, 4913 probe and backup rename', async () => {
    const { dir, file } = await fresh('notes.txt', 'one\ntwo\nthree\n')
    const strace = (await sh('command -v strace')).code === 0
    const traceDir = tempDir('vimtrace')
    const trace = path.join(traceDir, 'trace')
    const prefix = strace ? `strace -f -e trace=file -o ${q(trace)} ` : ''
    let calls = ''
    try {
      await ok(`cd ${q(dir)} && ${prefix}${VIM} -es -c '%s/two/TWO/' -c 'wq' notes.txt`)
      if (strace) calls = readFileSync(trace, 'utf8')
    } finally {
      rmSync(traceDir, { recursive: true, force: true })
    }
    assert.equal(readFileSync(file, 'utf8'), 'one\nTWO\nthree\n')
    assert.equal(await listing(dir), 'notes.txt\n', 'no swap, backup or probe file is left')
    if (strace) {
      assert.match(calls, /openat\(AT_FDCWD, "\.notes\.txt\.swp", O_RDWR\|O_CREAT\|O_EXCL.*= \d+$/m, 'vim made its swap file on the mount')
      assert.match(calls, /openat\(AT_FDCWD, "4913", O_WRONLY\|O_CREAT\|O_EXCL.*= \d+$/m, 'vim probed the directory with 4913')
      assert.match(calls, /rename\("notes\.txt", "notes\.txt~"\) += 0$/m, 'vim renamed the original to its backup')
      assert.match(calls, /unlink\("notes\.txt~"\) += 0$/m, 'vim deleted the backup after writing')
    }
  })

  test('vim (defaults): :wq keeps the resource id (its save renames FILE to FILE~, creates FILE, deletes FILE~)', async () => {
    const { dir, file } = await fresh('keep.txt', 'alpha\nbeta\n')
    const id = await idOf(file)
    await ok(`cd ${q(dir)} && ${VIM} -es -c '%s/beta/BETA/' -c 'wq' keep.txt`)
    assert.equal(readFileSync(file, 'utf8'), 'alpha\nBETA\n')
    assert.equal(await idOf(file), id, "vim's save (rename to keep.txt~, new keep.txt) must apply the content to the same resource")
  })

  test('vim in a terminal: type text, the swap file is there while editing, :wq saves', async () => {
    const { dir, file } = await fresh('typed.txt', 'first line\n')
    const id = await idOf(file)
    const term = await tmux.open(`vim-${process.pid}`, `${VIM} typed.txt`, dir)
    try {
      await term.waitScreen('vim to show the file', /"typed\.txt" 1L, 11B/)
      assert.match(await listing(dir), /^\.typed\.txt\.swp$/m, 'vim keeps its swap file next to the file')
      await term.keys(['G', 'o'])
      await term.waitScreen('insert mode', /-- INSERT --/)
      await term.keys(['typed in vim, on a mesh'], true)
      await term.keys(['Escape'])
      await term.waitScreen('normal mode with the typed text', /^typed in vim, on a mesh\s*$(?![\s\S]*-- INSERT --)/m)
      await term.keys([':wq', 'Enter'])
      await term.waitExit('vim to exit after :wq')
      assert.equal(readFileSync(file, 'utf8'), 'first line\ntyped in vim, on a mesh\n')
      assert.equal(await idOf(file), id)
      assert.equal(await listing(dir), 'typed.txt\n')
    } finally {
      await term.close()
    }
  })

  test('vim recovers unsaved text from its swap file on the mount (vim -r) after vim was killed', async () => {
    const { dir, file } = await fresh('draft.txt', 'saved\n')
    const term = await tmux.open(`vimr-${process.pid}`, `${VIM} draft.txt`, dir)
    try {
      await term.waitScreen('vim to show the file', /"draft\.txt" 1L/)
      await term.keys(['G', 'o'])
      await term.waitScreen('insert mode', /-- INSERT --/)
      await term.keys(['not saved, only in the swap file'], true)
      await term.keys(['Escape'])
      await term.keys([':preserve', 'Enter']) // write everything to the swap file now
      await term.waitScreen(':preserve to finish', /File preserved/)
    } finally {
      await term.close() // vim dies with its terminal; the swap file stays
    }
    assert.equal(await listing(dir), '.draft.txt.swp\ndraft.txt\n')
    assert.equal(readFileSync(file, 'utf8'), 'saved\n')
    const outDir = tempDir('recovered')
    try {
      const out = path.join(outDir, 'out')
      await ok(`cd ${q(dir)} && ${VIM} -es -r draft.txt -c ${q(`w! ${out}`)} -c 'q!'`)
      assert.equal(readFileSync(out, 'utf8'), 'saved\nnot saved, only in the swap file\n')
    } finally {
      rmSync(outDir, { recursive: true, force: true })
    }
    await ok(`rm ${q(path.join(dir, '.draft.txt.swp'))}`)
    assert.equal(await listing(dir), 'draft.txt\n')
  })

  test('nano in a terminal: type, Ctrl-O Enter, Ctrl-X saves in place (same id)', async () => {
    const { dir, file } = await fresh('memo.txt', 'memo\n')
    const id = await idOf(file)
    const term = await tmux.open(`nano-${process.pid}`, 'nano --ignorercfiles memo.txt', dir)
    try {
      await term.waitScreen('nano to show the file', /GNU nano[\s\S]*^memo\s*$/m)
      await term.keys(['typed in nano'], true)
      await term.keys(['Enter'])
      await term.keys(['C-o'])
      await term.waitScreen('the write-out prompt', /File Name to Write: memo\.txt/)
      await term.keys(['Enter'])
      await term.waitScreen('nano to confirm the write', /\[ Wrote 2 lines \]/)
      await term.keys(['C-x'])
      await term.waitExit('nano to exit after Ctrl-X')
    } finally {
      await term.close()
    }
    assert.equal(readFileSync(file, 'utf8'), 'typed in nano\nmemo\n')
    assert.equal(await idOf(file), id)
    assert.equal(await listing(dir), 'memo.txt\n')
  })

  test('sed -i (temp file + rename over) saves the exact content', async () => {
    const { dir, file } = await fresh('conf.ini', '[a]\nkey = old\nother = 1\n')
    await ok(`sed -i 's/old/new/' ${q(file)}`)
    assert.equal(readFileSync(file, 'utf8'), '[a]\nkey = new\nother = 1\n')
    assert.equal(await listing(dir), 'conf.ini\n', "sed's temp file is gone")
  })

  test('sed -i keeps the resource id', async () => {
    const { dir, file } = await fresh('conf.ini', 'key = old\n')
    await ok(`chmod 640 ${q(file)}`)
    const id = await idOf(file)
    await ok(`sed -i 's/old/new/' ${q(file)}`)
    assert.equal(readFileSync(file, 'utf8'), 'key = new\n')
    assert.equal(await idOf(file), id, 'rename(tmp, existing) of a text resource must apply the content as an edit')
    assert.equal(await ok(`stat -c %a ${q(file)}`), '640\n', 'sed gives its temp file the original mode; the saved file has it')
    assert.equal(await listing(dir), 'conf.ini\n')
  })

  // The save routine of many programs: write a temp file next to the target, fsync, rename over.
  const PY_SAVE = (file: string, content: string) =>
    `python3 - ${q(file)} ${q(content)} <<'EOF'
import os, sys
target, content = sys.argv[1], sys.argv[2]
tmp = os.path.join(os.path.dirname(target), '.' + os.path.basename(target) + '.tmp')
with open(tmp, 'w') as f:
    f.write(content)
    f.flush()
    os.fsync(f.fileno())
os.rename(tmp, target)
EOF`
  const NODE_SAVE = (file: string, content: string) =>
    `${q(process.execPath)} --input-type=module - ${q(file)} ${q(content)} <<'EOF'
import fs from 'node:fs'
import path from 'node:path'
const [target, content] = process.argv.slice(2)
const tmp = path.join(path.dirname(target), '.' + path.basename(target) + '.' + process.pid + '.tmp')
const fd = fs.openSync(tmp, 'wx')
fs.writeSync(fd, content)
fs.fsyncSync(fd)
fs.closeSync(fd)
fs.renameSync(tmp, target)
EOF`

  for (const [who, save] of [
    ['Python', PY_SAVE],
    ['Node', NODE_SAVE],
  ] as const) {
    test(`${who}: write temp + fsync + rename over the target saves the exact content`, async () => {
      const { dir, file } = await fresh('data.json', '{"v": 1}\n')
      await ok(save(file, '{"v": 2, "note": "saved atomically"}\n'))
      assert.equal(readFileSync(file, 'utf8'), '{"v": 2, "note": "saved atomically"}\n')
      assert.equal(await listing(dir), 'data.json\n')
    })

    test(`${who}: write temp + fsync + rename over the target keeps the resource id`, async () => {
      const { file } = await fresh('data.json', '{"v": 1}\n')
      const id = await idOf(file)
      await ok(save(file, '{"v": 3}\n'))
      assert.equal(readFileSync(file, 'utf8'), '{"v": 3}\n')
      assert.equal(await idOf(file), id, 'rename(tmp, existing) of a text resource must apply the content as an edit')
    })
  }

  test('editor junk (.foo.swp, foo~, 4913, .#foo) works like any file (create, write, append, read, rename, delete) and stays local', async () => {
    const { dir } = await fresh('foo', 'the real file\n')
    const junk = ['.foo.swp', 'foo~', '4913', '.#foo']
    for (const name of junk) {
      const p = path.join(dir, name)
      await ok(`printf 'junk %s\\n' ${q(name)} > ${q(p)} && printf 'more\\n' >> ${q(p)}`)
      assert.equal(readFileSync(p, 'utf8'), `junk ${name}\nmore\n`)
      assert.equal(await ok(`stat -c %s ${q(p)}`), `${Buffer.byteLength(`junk ${name}\nmore\n`)}\n`)
    }
    assert.equal(await listing(dir), '.#foo\n.foo.swp\n4913\nfoo\nfoo~\n')
    // Kept on this node only (DESIGN: "Editor junk stays local"): not resources of the namespace.
    await idOf(path.join(dir, 'foo'))
    for (const name of junk)
      assert.match((await sh(`getfattr -n user.meshfs.id ${q(path.join(dir, name))}`)).stderr, /No such attribute/, name)
    await ok(`cd ${q(dir)} && mv foo~ foo.bak && mv 4913 4913.x && rm .foo.swp`)
    assert.equal(readFileSync(path.join(dir, 'foo.bak'), 'utf8'), 'junk foo~\nmore\n')
    await ok(`cd ${q(dir)} && rm foo.bak 4913.x .#foo`)
    assert.equal(await listing(dir), 'foo\n')
    assert.equal(readFileSync(path.join(dir, 'foo'), 'utf8'), 'the real file\n')
  })
})
