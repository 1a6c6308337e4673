// The FUSE binding on real mounts: the known pitfalls of the stock fuse-native, each handled, and
// what our fork of it (native/) adds: correct utimens, and per-open direct_io.

import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { rmSync } from 'node:fs'
import path from 'node:path'
import { describe, test } from 'node:test'
import { FIXTURES, ok, sh, startMount, tempDir } from '../support/harness.js'
import { waitFor } from '../support/wait.js'

const probe = (query = '') => `/probe=module:${path.join(FIXTURES, 'probe-handler.js')}${query}`

describe('fuse-native pitfalls', () => {
  test('a handler that throws or rejects does not take the mount down: EIO, a log line, and the mount serves on', async () => {
    const node = await startMount(['--handler', probe()])
    try {
      const boom = await sh(`stat ${node.mnt}/probe/boom`)
      assert.notEqual(boom.code, 0)
      assert.match(boom.stderr, /Input\/output error/)
      const reject = await sh(`cat ${node.mnt}/probe/reject`)
      assert.match(reject.stderr, /Input\/output error/)
      assert.equal(await ok(`cat ${node.mnt}/probe/ok`), 'fine\n')
      await ok(`echo still > ${node.mnt}/alive && cat ${node.mnt}/alive`)
      assert.match(node.log(), /getattr \/probe\/boom: handler failed, answering EIO: TypeError: probe: a bug in a handler/)
      assert.equal(node.proc.exitCode, null, 'the daemon is still running')
    } finally {
      await node.stop()
    }
  })

  test("an op slower than fuse-native's default 15 s still succeeds (the timeout is set explicitly)", { timeout: 60_000 }, async () => {
    const node = await startMount(['--handler', probe('?slowMs=16000')])
    try {
      const started = Date.now()
      assert.equal(await ok(`cat ${node.mnt}/probe/slow`), 'late\n')
      assert.ok(Date.now() - started >= 16_000)
    } finally {
      await node.stop()
    }
  })

  test('--op-timeout bounds an op: ETIMEDOUT, and the mount serves on', async () => {
    const node = await startMount(['--op-timeout', '1', '--handler', probe('?slowMs=3000')])
    try {
      const r = await sh(`cat ${node.mnt}/probe/slow`)
      assert.match(r.stderr, /Connection timed out/)
      assert.equal(await ok(`cat ${node.mnt}/probe/ok`), 'fine\n')
    } finally {
      await node.stop()
    }
  })

  test('writes arrive in 1 MiB pieces, not 4 KiB (max_write and libfuse 3 max_pages reach the kernel)', async () => {
    const node = await startMount(['--handler', probe()])
    try {
      await ok(`dd if=/dev/zero of=${node.mnt}/probe/sink bs=1M count=2 conv=notrunc status=none`)
      assert.equal(await ok(`cat ${node.mnt}/probe/maxwrite`), `${1024 * 1024}\n`)
    } finally {
      await node.stop()
    }
  })

  test('attributes are not cached: a size changed behind the mount is seen at once', async () => {
    const host = tempDir('host')
    await ok(`printf 1 > ${host}/f`)
    const node = await startMount(['--handler', `/host=dir:${host}`])
    try {
      // fstat on one open descriptor: no lookup refreshes the attributes in between, so only
      // attr_timeout=0 makes the second answer fresh.
      const script = [
        'import os',
        `fd = os.open('${node.mnt}/host/f', os.O_RDONLY)`,
        'before = os.fstat(fd).st_size',
        `open('${host}/f', 'w').write('12345')`,
        'print(before, os.fstat(fd).st_size)',
      ].join('\n')
      assert.equal(await ok(`python3 -c "${script}"`), '1 5\n')
      assert.equal(await ok(`cat ${node.mnt}/host/f`), '12345')
    } finally {
      await node.stop()
      rmSync(host, { recursive: true, force: true })
    }
  })

  test('utimens gets each time as asked: touch -d, touch -m, touch -a (one time only), os.utime', async () => {
    const node = await startMount(['--handler', probe()])
    try {
      const sink = `${node.mnt}/probe/sink`
      const times = async () => (await ok(`cat ${node.mnt}/probe/times`)).trim()
      // The probe shows -1 for a time that was left as it is.
      await ok(`TZ=UTC touch -d '2001-02-03 04:05:06' ${sink}`)
      assert.equal(await times(), `${981173106000} ${981173106000}`)
      await ok(`touch -m -d @1500000000 ${sink}`)
      assert.equal(await times(), `-1 ${1500000000 * 1000}`)
      await ok(`touch -a -d @1400000000 ${sink}`)
      assert.equal(await times(), `${1400000000 * 1000} -1`)
      await ok(`python3 -c "import os; os.utime('${sink}', ns=(1000000000123456789, 1500000000987654321))"`)
      assert.equal(await times(), `${1000000000123} ${1500000000987}`, 'milliseconds, the atime and the mtime each')
      await ok(`python3 -c "import os; os.utime('${sink}', (-86400, 0))"`)
      assert.equal(await times(), `${-86400 * 1000} 0`, 'times before 1970 too')
    } finally {
      await node.stop()
    }
  })

  test('touch -d, cp -p, tar x and rsync -a keep mtimes (through the dir handler, which stores them as given)', async () => {
    const root = tempDir('mtimes')
    try {
      await ok(
        `mkdir ${root}/src ${root}/host && cd ${root}/src && echo a > a && mkdir d && echo b > d/b && TZ=UTC touch -d '2001-02-03 04:05:06' a d/b d && tar cf ${root}/src.tar .`,
      )
      const node = await startMount(['--handler', `/host=dir:${root}/host`])
      try {
        const at = `${node.mnt}/host`
        await ok(`touch ${at}/f && TZ=UTC touch -d '2001-02-03 04:05:06' ${at}/f`)
        await ok(
          `cp -p ${root}/src/a ${at}/cp-p && mkdir ${at}/tar && tar xf ${root}/src.tar -C ${at}/tar && rsync -a ${root}/src/ ${at}/rsync/`,
        )
        const mtimes = await ok(`cd ${at} && stat -c '%n %Y' f cp-p tar/a tar/d tar/d/b rsync/a rsync/d rsync/d/b`)
        assert.equal(
          mtimes,
          ['f', 'cp-p', 'tar/a', 'tar/d', 'tar/d/b', 'rsync/a', 'rsync/d', 'rsync/d/b'].map((n) => `${n} 981173106\n`).join(''),
        )
        // And the host folder holds them, so it was the utimens that set them.
        assert.equal(await ok(`stat -c %Y ${root}/host/tar/d/b`), '981173106\n')
        // rsync finds nothing left to do, mtimes included.
        assert.equal(await ok(`rsync -a --dry-run -i ${root}/src/ ${at}/rsync/`), '')
      } finally {
        await node.stop()
      }
    } finally {
      rmSync(root, { recursive: true, force: true })
    }
  })
})

describe('per-open direct_io (OpenFile.directIo)', () => {
  const stream = `/stream=module:${path.join(FIXTURES, 'stream-handler.js')}`
  const readLog = async (mnt: string) => (await ok(`cat ${mnt}/stream/log`)).split('\n').filter(Boolean)

  test("a direct_io file of size 0 streams: cat gets each line as it is produced, every read with the caller's own offset and length", async () => {
    const node = await startMount(['--handler', stream])
    try {
      assert.equal(await ok(`stat -c %s ${node.mnt}/stream/ticks`), '0\n', 'the page cache would answer end of file at once')
      const cat = spawn('cat', [`${node.mnt}/stream/ticks`], { stdio: ['ignore', 'pipe', 'pipe'] })
      let out = ''
      let servedAtFirstLine = -1
      const firstLine = new Promise<void>((resolve) =>
        cat.stdout.on('data', (d: Buffer) => {
          out += d.toString()
          if (servedAtFirstLine < 0) {
            servedAtFirstLine = 0
            void readLog(node.mnt).then((log) => {
              servedAtFirstLine = log.filter((l) => l.startsWith('ticks ')).length
              resolve()
            })
          }
        }),
      )
      const exit = new Promise<number | null>((resolve) => cat.on('exit', resolve))
      await firstLine
      assert.equal(await exit, 0)
      assert.equal(out, 'tick 1\ntick 2\ntick 3\ntick 4\ntick 5\n')
      assert.ok(servedAtFirstLine < 6, `cat printed the first line before the stream ended (${servedAtFirstLine} reads served then)`)
      // cat asks for 128 KiB at a time; each read reached the handler at cat's own offset,
      // one line after another, and the sixth found the end.
      const reads = (await readLog(node.mnt)).filter((l) => l.startsWith('ticks '))
      assert.deepEqual(
        reads.map((l) => Number(l.split(' ')[1])),
        [0, 7, 14, 21, 28, 35],
      )
      const lengths = new Set(reads.map((l) => Number(l.split(' ')[2])))
      assert.equal(lengths.size, 1, `every read asked for cat's buffer size: ${[...lengths].join(', ')}`)
      assert.ok([...lengths][0]! > 4096, 'not cut down to the size of 0 nor to a page')

      // A small read(2) arrives as asked: 3 bytes at 0, then 4 at 3, not a page.
      await ok(`python3 -c "import os; fd = os.open('${node.mnt}/stream/ticks', os.O_RDONLY); print(os.read(fd, 3), os.read(fd, 4))"`)
      const small = (await readLog(node.mnt)).filter((l) => l.startsWith('ticks ')).slice(reads.length)
      assert.deepEqual(small, ['ticks 0 3', 'ticks 3 4'])
    } finally {
      await node.stop()
    }
  })

  test('an ordinary file is still page-cached: reads come in pages, and a second read of them stays in the kernel', async () => {
    const node = await startMount(['--handler', stream])
    try {
      const script = [
        'import os',
        `served = lambda: sum(1 for l in open('${node.mnt}/stream/log') if l.startswith('cached '))`,
        `fd = os.open('${node.mnt}/stream/cached', os.O_RDONLY)`,
        'a = os.read(fd, 3)',
        'after_a = served()',
        'b = os.pread(fd, 3, 0)',
        'print(a, b, after_a, served())',
      ].join('; ')
      const [a, b, afterA, afterB] = (await ok(`python3 -c "${script}"`)).trim().split(' ')
      assert.deepEqual([a, b], ["b'ccc'", "b'ccc'"])
      assert.ok(Number(afterA) >= 1)
      assert.equal(afterB, afterA, 'the second read was answered from the page cache')
      const reads = (await readLog(node.mnt)).filter((l) => l.startsWith('cached '))
      assert.equal(reads[0], `cached 0 ${reads[0]!.split(' ')[2]}`)
      for (const r of reads) assert.ok(Number(r.split(' ')[2]) >= 4096, `a page-sized read, not the caller's 3 bytes: ${r}`)
    } finally {
      await node.stop()
    }
  })

  test('a read that waits for data holds up nothing else: ls, stat and other reads answer meanwhile', async () => {
    const node = await startMount(['--handler', stream])
    try {
      const cat = spawn('cat', [`${node.mnt}/stream/held`], { stdio: ['ignore', 'pipe', 'pipe'] })
      let out = ''
      cat.stdout.on('data', (d: Buffer) => (out += d.toString()))
      const exit = new Promise<number | null>((resolve) => cat.on('exit', resolve))
      try {
        await waitFor(async () => (await readLog(node.mnt)).includes('held waiting'), { what: 'the read of /held to wait' })
        assert.equal(await ok(`ls ${node.mnt}/stream`), 'cached\ngate\nheld\nlog\nticks\n')
        assert.equal(await ok(`stat -c %s ${node.mnt}/stream/cached`), '8192\n')
        assert.equal(await ok(`head -c 5 ${node.mnt}/stream/cached`), 'ccccc')
        await ok(`echo hi > ${node.mnt}/alive && cat ${node.mnt}/alive`)
        assert.equal(out, '', 'cat is still waiting')
        assert.equal(cat.exitCode, null)
        await ok(`echo go > ${node.mnt}/stream/gate`)
        assert.equal(await exit, 0)
        assert.equal(out, 'released\n')
      } finally {
        if (cat.exitCode === null) {
          await sh(`echo go > ${node.mnt}/stream/gate`)
          await exit
        }
      }
    } finally {
      await node.stop()
    }
  })

  test('a read that waits for data outlives --op-timeout, and its reader can still be killed at once', async () => {
    const node = await startMount(['--op-timeout', '1', '--handler', stream])
    try {
      const waitingReads = async () => (await readLog(node.mnt)).filter((l) => l === 'held waiting').length
      const first = spawn('cat', [`${node.mnt}/stream/held`], { stdio: ['ignore', 'pipe', 'pipe'] })
      let out = ''
      first.stdout.on('data', (d: Buffer) => (out += d.toString()))
      const firstExit = new Promise<number | null>((resolve) => first.on('exit', resolve))
      await waitFor(async () => (await waitingReads()) === 1, { what: 'the first read of /held to wait' })
      // Past the op timeout: an ordinary op would have failed with ETIMEDOUT by now.
      await new Promise((r) => setTimeout(r, 1500))
      assert.equal(first.exitCode, null, 'cat is still waiting for data')

      // A reader killed while it waits is gone at once, though its read is never answered
      // (without the interrupt it would wait, unkillable, for the gate).
      const second = spawn('cat', [`${node.mnt}/stream/held`], { stdio: ['ignore', 'pipe', 'pipe'] })
      const secondExit = new Promise<NodeJS.Signals | null>((resolve) => second.on('exit', (_code, signal) => resolve(signal)))
      await waitFor(async () => (await waitingReads()) === 2, { what: 'the second read of /held to wait' })
      second.kill('SIGTERM')
      let signal: NodeJS.Signals | null | undefined
      void secondExit.then((s) => (signal = s))
      await waitFor(() => signal !== undefined, { what: 'the killed reader to exit' })
      assert.equal(signal, 'SIGTERM')
      assert.equal(await ok(`cat ${node.mnt}/stream/cached | wc -c`), '8192\n', 'the mount serves on')

      await ok(`echo go > ${node.mnt}/stream/gate`)
      assert.equal(await firstExit, 0)
      assert.equal(out, 'released\n')
    } finally {
      await sh(`echo go > ${node.mnt}/stream/gate`)
      await node.stop()
    }
  })
})
