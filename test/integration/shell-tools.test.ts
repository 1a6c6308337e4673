// A mount driven by the tools people use. Each test works in its own top-level directory of
// one shared mount, which makes it a replicated namespace; exact outputs are asserted.

import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { ok, sh, startMount, tempDir, type MountedNode } from '../support/harness.js'

describe('shell tools in namespaces', () => {
  let node: MountedNode
  before(async () => {
    node = await startMount()
  })
  after(async () => {
    await node?.stop()
  })
  const inMnt = (cmd: string) => ok(cmd, node.mnt)
  const tryInMnt = (cmd: string) => sh(cmd, { cwd: node.mnt })

  test('echo >, >> and cat', async () => {
    await inMnt('mkdir t1 && echo hello > t1/a && echo world >> t1/a')
    assert.equal(await inMnt('cat t1/a'), 'hello\nworld\n')
    await inMnt('echo replaced > t1/a')
    assert.equal(await inMnt('cat t1/a'), 'replaced\n')
  })

  test('ls -la lists names, sizes and kinds', async () => {
    await inMnt('mkdir t2 && cd t2 && printf 12345 > five && mkdir sub && ln -s five link')
    const lines = (await inMnt("ls -la --time-style=+ t2 | awk '{print $1, $5, $NF}'")).trim().split('\n')
    assert.match(lines[0]!, /^total /)
    assert.deepEqual(lines.slice(1), ['drwxr-xr-x 0 .', 'drwxr-xr-x 0 ..', '-rw-r--r-- 5 five', 'lrwxrwxrwx 4 five', 'drwxr-xr-x 0 sub'])
    assert.equal(await inMnt('readlink t2/link'), 'five\n')
    assert.equal(await inMnt('cat t2/link'), '12345')
  })

  test('mkdir -p, mv of files and directories, rm -r, rmdir', async () => {
    await inMnt('mkdir -p t3/a/b/c && echo x > t3/a/b/c/f && mkdir t3/dest')
    await inMnt('mv t3/a t3/dest/ && mv t3/dest/a/b/c/f t3/f2')
    assert.equal(await inMnt('cd t3 && find . | sort'), '.\n./dest\n./dest/a\n./dest/a/b\n./dest/a/b/c\n./f2\n')
    await inMnt('rmdir t3/dest/a/b/c')
    await inMnt('rm -r t3/dest')
    assert.equal(await inMnt('ls t3'), 'f2\n')
  })

  test('cp -r of a tree keeps content and structure (diff -r)', async () => {
    const src = tempDir('cpsrc')
    await ok(`cd ${src} && mkdir -p x/y z && seq 1 20000 > x/y/big && head -c 70000 /dev/urandom > z/bin && echo small > top`)
    await ok(`cp -r ${src} ${node.mnt}/t4`)
    await ok(`diff -r ${src} ${node.mnt}/t4`)
    await ok(`rm -rf ${src}`)
  })

  test('touch, stat, chmod', async () => {
    await inMnt('mkdir t5 && touch t5/empty && chmod 640 t5/empty')
    assert.equal(await inMnt("stat -c '%s %a %F' t5/empty"), '0 640 regular empty file\n')
    await inMnt('printf abc > t5/f && truncate -s 10 t5/f')
    assert.equal(await inMnt("stat -c '%s' t5/f"), '10\n')
    assert.equal(await inMnt('od -An -c t5/f | tr -s " "'), ' a b c \\0 \\0 \\0 \\0 \\0 \\0 \\0\n')
  })

  test('getfattr and setfattr on user.* attributes', async () => {
    await inMnt('mkdir t6 && echo > t6/f && setfattr -n user.color -v blue t6/f && setfattr -n user.size -v L t6/f')
    // user.meshfs.* are meshfs's own (id, kind); the rest are the user's.
    assert.equal(
      await inMnt('getfattr -d --absolute-names t6/f | grep -v user.meshfs | sort'),
      '\n# file: t6/f\nuser.color="blue"\nuser.size="L"\n',
    )
    await inMnt('setfattr -x user.size t6/f && mv t6/f t6/g')
    assert.equal(await inMnt('getfattr -n user.color --only-values t6/g'), 'blue')
    const acl = await tryInMnt('setfattr -n system.posix_acl_access -v 0x02 t6/g')
    assert.notEqual(acl.code, 0, 'ACL attributes are not stored')
    assert.doesNotMatch(await inMnt('ls -l t6/g'), /\+/)
  })

  test('df reports the mount', async () => {
    const out = await inMnt("df -P . | tail -1 | awk '{print $1, $6}'")
    assert.equal(out, `meshfs ${node.mnt}\n`)
  })

  test('errors: ENOENT, EEXIST, ENOTEMPTY, ENOTDIR, ENAMETOOLONG', async () => {
    await inMnt('mkdir t7 && mkdir t7/d && echo x > t7/d/f')
    assert.match((await tryInMnt('cat t7/missing')).stderr, /No such file or directory/)
    assert.match((await tryInMnt('mkdir t7/d')).stderr, /File exists/)
    assert.match((await tryInMnt('rmdir t7/d')).stderr, /Directory not empty/)
    assert.match((await tryInMnt('rmdir t7/d/f')).stderr, /Not a directory/)
    const long = 'n'.repeat(256)
    assert.match((await tryInMnt(`touch t7/${long}`)).stderr, /File name too long/)
    await inMnt(`touch t7/${'n'.repeat(255)}`)
    // A multi-byte name is measured in bytes: 128 two-byte characters are 256 bytes.
    assert.match((await tryInMnt(`touch t7/${'é'.repeat(128)}`)).stderr, /File name too long/)
  })

  test('POSIX rename rules: over an empty dir, not over a non-empty one, not into itself', async () => {
    await inMnt('mkdir -p t8/a/in t8/empty t8/full && echo x > t8/full/f && echo a > t8/file')
    await inMnt('mv -T t8/a t8/empty')
    assert.equal(await inMnt('ls t8'), 'empty\nfile\nfull\n')
    assert.match((await tryInMnt('mv -T t8/empty t8/full')).stderr, /(Directory not empty|File exists)/)
    assert.match((await tryInMnt('mv t8/empty t8/empty/in/')).stderr, /(Invalid argument|cannot move)/)
    assert.equal(await inMnt('cat t8/full/f'), 'x\n', 'nothing was lost')
  })

  test('rename onto a mount point or across handlers is refused', async () => {
    await inMnt('mkdir t9 && echo x > t9/f')
    assert.match((await tryInMnt('mv -T t9 .meshfs')).stderr, /busy|Device or resource busy|cannot|Invalid/i)
    assert.equal(await inMnt('cat t9/f'), 'x\n')
    assert.match((await tryInMnt('rmdir .meshfs')).stderr, /busy/i)
  })

  // On one node the kernel's page cache is shared by every open of a file, so local opens see
  // each other's writes at once, as on a local disk (resources do not ask for direct_io: the
  // page cache is what makes reads fast). Close-to-open is the contract between nodes: see the
  // sync tests.
  test('open handles on one node: writers share bytes, own unflushed writes are visible, close publishes', async () => {
    await inMnt('mkdir t10 && printf old-content > t10/f')
    const script = [
      'import os',
      "reader = os.open('t10/f', os.O_RDONLY)",
      "w1 = os.open('t10/f', os.O_RDWR)",
      "w2 = os.open('t10/f', os.O_WRONLY | os.O_APPEND)",
      "os.write(w1, b'NEW')",
      'print(os.pread(w1, 20, 0))', // own unflushed write
      "print(os.stat('t10/f').st_size)",
      "os.write(w2, b'+tail')", // appends to the shared bytes
      'print(os.pread(w1, 30, 0))',
      'os.fsync(w1)',
      'print(os.pread(reader, 30, 0))', // the page cache is shared locally
      "fresh = os.open('t10/f', os.O_RDONLY)",
      'print(os.pread(fresh, 30, 0))',
      'for fd in (reader, w1, w2, fresh): os.close(fd)',
    ].join('\n')
    assert.equal(
      await inMnt(`python3 -c "${script}"`),
      "b'NEW-content'\n11\nb'NEW-content+tail'\nb'NEW-content+tail'\nb'NEW-content+tail'\n",
    )
    assert.equal(await inMnt('cat t10/f'), 'NEW-content+tail')
    await inMnt('echo short > t10/f')
    assert.equal(await inMnt('cat t10/f'), 'short\n')
  })
})
