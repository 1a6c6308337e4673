// Whole-tree tools inside a replicated namespace: cp -r, tar x (and tar c back out), rsync -a and
// git, on a real source tree with a native binary in it; then an unmount and a remount on the same
// data directory, after which every byte, mode and the git repository must be as before.
//
// File mtimes are compared to the second after `tar x` and `cp -p` (a namespace keeps whole
// seconds); directory mtimes are not kept by a namespace (README, Limitations). Content, modes,
// types and link targets are compared exactly.

import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import path from 'node:path'
import { after, before, describe, test } from 'node:test'
import { ok, REPO, sh, startMount, tempDir, type MountedNode } from '../support/harness.js'

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`
const BINARY = path.join(REPO, 'node_modules/better-sqlite3/build/Release/better_sqlite3.node')
/** git without the user's or the system's configuration, with a fixed identity. */
const GIT_ENV = {
  ...process.env,
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_AUTHOR_NAME: 'meshfs test',
  GIT_AUTHOR_EMAIL: 'test@meshfs.invalid',
  GIT_COMMITTER_NAME: 'meshfs test',
  GIT_COMMITTER_EMAIL: 'test@meshfs.invalid',
}

async function git(args: string, cwd: string): Promise<string> {
  const r = await sh(`git ${args}`, { cwd, env: GIT_ENV, timeoutMs: 120_000 })
  if (r.code !== 0) throw new Error(`git ${args} failed (${r.code}):\n${r.stderr}${r.stdout}`)
  return r.stdout
}

/** Type, mode, size (files) and link target of everything under `dir`: what the copies must keep. */
const shape = (dir: string) =>
  ok(
    `cd ${q(dir)} && { find . -mindepth 1 -type f -printf '%P f %m %s\\n'; find . -mindepth 1 ! -type f -printf '%P %y %m %l\\n'; } | LC_ALL=C sort`,
  )
/** sha256 of every file under `dir`, by path. */
const sums = (dir: string) => ok(`cd ${q(dir)} && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum`)
/** Each regular file's mtime in whole seconds (what a namespace keeps). */
const fileMtimes = (dir: string) => ok(`cd ${q(dir)} && find . -type f -printf '%p %T@\\n' | sed 's/\\.[0-9]*$//' | LC_ALL=C sort`)

describe('cp -r, tar, rsync and git on a replicated namespace, and all of it after a remount', () => {
  const root = tempDir('tools')
  const tree = path.join(root, 'tree') // the source: a snapshot of src/ plus a binary and odd files
  let node: MountedNode | undefined
  let ns = ''
  let treeShape = ''

  before(async () => {
    await ok(
      `mkdir -p ${q(tree)} && cp -r ${q(path.join(REPO, 'src'))} ${q(tree)}/src && mkdir ${q(tree)}/bin && cp ${q(BINARY)} ${q(tree)}/bin/`,
    )
    await ok(
      `cd ${q(tree)} && printf '#!/bin/sh\\necho hi\\n' > run.sh && chmod 755 run.sh && : > empty && chmod 600 empty && ` +
        `ln -s src/index.ts link-to-index && mkdir -p deep/er/est && printf 'tab\\there\\n' > 'deep/er/with space.txt' && head -c 300000 /dev/urandom > deep/random.bin`,
    )
    treeShape = await shape(tree)
    assert.match(treeShape, /^bin\/better_sqlite3\.node f 755 \d{6,}$/m, 'the tree holds a native binary of real size')
    node = await startMount([], { root })
    ns = path.join(node.mnt, 'proj')
    await ok(`mkdir ${q(ns)}`)
  })
  after(async () => {
    await node?.stop()
    await ok(`rm -rf ${q(root)}`)
  })

  test('cp -r copies the tree exactly (diff -r; types, modes, sizes, link targets)', async () => {
    await ok(`cp -r ${q(tree)} ${q(ns)}/cp`, root)
    await ok(`diff -r --no-dereference ${q(tree)} ${q(ns)}/cp`)
    assert.equal(await shape(`${ns}/cp`), treeShape)
    assert.equal(await sums(`${ns}/cp`), await sums(tree))
  })

  test('tar x of a tarball of the tree extracts it exactly, file mtimes too; tar c of the copy round-trips', async () => {
    const tarball = path.join(root, 'tree.tar')
    await ok(`touch -d '2001-02-03 04:05:06' ${q(tree)}/run.sh ${q(tree)}/deep/random.bin`)
    await ok(`tar -C ${q(tree)} -cf ${q(tarball)} . && mkdir ${q(ns)}/tar && tar -C ${q(ns)}/tar -xf ${q(tarball)}`)
    await ok(`diff -r --no-dereference ${q(tree)} ${q(ns)}/tar`)
    assert.equal(await shape(`${ns}/tar`), treeShape)
    assert.equal(await fileMtimes(`${ns}/tar`), await fileMtimes(tree))
    await ok(`cp -p ${q(tree)}/run.sh ${q(ns)}/run-copy.sh`)
    assert.equal((await ok(`stat -c %Y ${q(ns)}/run-copy.sh`)).trim(), String(Date.UTC(2001, 1, 3, 4, 5, 6) / 1000))
    // And back out: a tarball made from the mount extracts to the same tree on the host.
    const back = path.join(root, 'back')
    await ok(`mkdir ${q(back)} && tar -C ${q(ns)}/tar -cf - . | tar -C ${q(back)} -xf -`)
    await ok(`diff -r --no-dereference ${q(tree)} ${q(back)}`)
    assert.equal(await shape(back), treeShape)
  })

  test('rsync -a copies the tree; a checksum dry run finds nothing but mtimes to do; a second rsync carries a change', async () => {
    const dest = `${ns}/rsync`
    await ok(`rsync -a ${q(tree)}/ ${q(dest)}/`)
    await ok(`diff -r --no-dereference ${q(tree)} ${q(dest)}`)
    assert.equal(await shape(dest), treeShape)
    // Without -t: content, permissions, links and existence only. Nothing may be left to do.
    assert.equal(await ok(`rsync -rlp --checksum --dry-run -i ${q(tree)}/ ${q(dest)}/`), '')
    // With -a: at most the mtime (the utimens limitation) may differ, never content, size, mode.
    const items = (await ok(`rsync -a --checksum --dry-run -i ${q(tree)}/ ${q(dest)}/`)).split('\n').filter(Boolean)
    for (const line of items) assert.match(line, /^\.[fdL]\.\.[tT]\.{6} /, `rsync found more than an mtime to change: ${line}`)
    // Second and third runs over existing files (rsync writes a temp file and renames it over):
    // a changed copy of the tree goes in, then the original comes back.
    const changed = path.join(root, 'tree-changed')
    await ok(`cp -a ${q(tree)} ${q(changed)} && printf '// changed for rsync\\n' >> ${q(changed)}/src/index.ts && rm ${q(changed)}/empty`)
    await ok(`rsync -a --delete --checksum ${q(changed)}/ ${q(dest)}/`)
    await ok(`diff -r --no-dereference ${q(changed)} ${q(dest)}`)
    assert.equal(await ok(`tail -n 1 ${q(dest)}/src/index.ts`), '// changed for rsync\n')
    await ok(`rsync -a --delete --checksum ${q(tree)}/ ${q(dest)}/`)
    await ok(`diff -r --no-dereference ${q(tree)} ${q(dest)}`)
    assert.equal(await shape(dest), treeShape)
  })

  test('git init, add -A, commit in the namespace: clean status, one commit, fsck clean', async () => {
    const repo = `${ns}/repo`
    await ok(`cp -r ${q(tree)} ${q(repo)}`)
    await git('init -q -b main', repo)
    await git('add -A', repo)
    await git('commit -q -m "initial import"', repo)
    assert.equal(await git('status --porcelain', repo), '')
    assert.match(await git('log --oneline', repo), /^[0-9a-f]{7,} initial import\n$/)
    assert.equal(await git('fsck --full --strict', repo), '')
    // What was committed is the tree: the executable bit, the symlink, the binary.
    const files = await git('ls-files -s', repo)
    assert.match(files, /^100755 [0-9a-f]{40} 0\trun\.sh$/m)
    assert.match(files, /^120000 [0-9a-f]{40} 0\tlink-to-index$/m)
    assert.match(files, /^100755 [0-9a-f]{40} 0\tbin\/better_sqlite3\.node$/m)
    const entries = Number((await ok(`cd ${q(tree)} && find . ! -type d | wc -l`)).trim())
    assert.equal((await git('ls-files', repo)).split('\n').filter(Boolean).length, entries)
    // git's own copy of the tree matches: export the commit to a host folder and compare.
    const out = path.join(root, 'git-out')
    await ok(`mkdir ${q(out)}`)
    await ok(`cd ${q(repo)} && GIT_CONFIG_GLOBAL=/dev/null git archive HEAD | tar -C ${q(out)} -xf -`)
    await ok(`diff -r --no-dereference -x est ${q(tree)} ${q(out)}`) // git does not keep the empty deep/er/est
    assert.equal(await git('status --porcelain', repo), '')
  })

  test('after unmount and remount on the same data: identical trees, sha256 sums and a clean git repository', async () => {
    assert.ok(node, 'the mount is up')
    assert.ok(existsSync(`${ns}/repo/.git`), 'the git test ran')
    const beforeSums = await sums(ns)
    const beforeShape = await shape(ns)
    await node.stop()
    node = undefined
    node = await startMount([], { root })
    assert.equal(await sums(ns), beforeSums)
    assert.equal(await shape(ns), beforeShape)
    for (const copy of ['cp', 'tar', 'rsync', 'repo']) await ok(`diff -r --no-dereference -x .git ${q(tree)} ${q(`${ns}/${copy}`)}`)
    const repo = `${ns}/repo`
    assert.equal(await git('status --porcelain', repo), '')
    assert.match(await git('log --oneline', repo), /^[0-9a-f]{7,} initial import\n$/)
    assert.equal(await git('fsck --full --strict', repo), '')
  })
})
