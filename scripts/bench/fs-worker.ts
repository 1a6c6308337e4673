#!/usr/bin/env node
// A child process that drives a filesystem with plain synchronous fs calls, one syscall after the
// other, as a shell tool would, and prints its own timings as one JSON line. It runs outside the
// bench driver so that neither Node's startup nor the driver's event loop is in the figures.
// It works inside DIR with names relative to it, like a user who did `cd DIR`: with FUSE entry
// timeouts of 0, every absolute path would also re-validate each directory above the file.
//
//   fs-worker create DIR COUNT BYTES   create COUNT files of BYTES bytes   -> {"seconds": s}
//   fs-worker stat DIR COUNT           stat each of them                   -> {"seconds": s}
//   fs-worker unlink DIR COUNT         delete each of them                 -> {"seconds": s}
//   fs-worker saves DIR COUNT BYTES    COUNT atomic saves of DIR/notes.txt -> {"latenciesMs": [...]}

import { closeSync, fsyncSync, openSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs'

/** Zero-padded names: `ls` sorts them the same way on every target. */
function smallFileName(i: number): string {
  return `f${String(i).padStart(6, '0')}`
}

function timed(fn: () => void): number {
  const start = process.hrtime.bigint()
  fn()
  return Number(process.hrtime.bigint() - start) / 1e9
}

function createFiles(count: number, bytes: number): number {
  const content = Buffer.alloc(bytes, 'x')
  return timed(() => {
    for (let i = 0; i < count; i++) {
      const fd = openSync(smallFileName(i), 'wx')
      writeSync(fd, content)
      closeSync(fd)
    }
  })
}

function statFiles(count: number): number {
  return timed(() => {
    for (let i = 0; i < count; i++) statSync(smallFileName(i))
  })
}

function unlinkFiles(count: number): number {
  return timed(() => {
    for (let i = 0; i < count; i++) unlinkSync(smallFileName(i))
  })
}

/**
 * What vim (`backupcopy=no`), VS Code and most editors do on save: write the whole new content to
 * a temporary file, fsync it, and rename it over the original. Each save's content differs a
 * little, as a real edit does, so a content-aware filesystem cannot skip it.
 */
function atomicSaves(count: number, bytes: number): number[] {
  const file = 'notes.txt'
  const tmp = `.${file}.tmp`
  const base = Buffer.alloc(bytes, 'lorem ipsum dolor sit amet\n')
  const latencies: number[] = []
  for (let i = 0; i < count; i++) {
    const content = Buffer.concat([Buffer.from(`save ${i}\n`), base])
    latencies.push(
      timed(() => {
        const fd = openSync(tmp, 'w')
        writeSync(fd, content)
        fsyncSync(fd)
        closeSync(fd)
        renameSync(tmp, file)
      }) * 1000,
    )
  }
  return latencies
}

function main(argv: string[]): unknown {
  const [op, dir, countArg, bytesArg] = argv
  const count = Number(countArg)
  const bytes = Number(bytesArg ?? 0)
  if (!dir || !Number.isInteger(count) || count < 0) throw new Error(`bad arguments: ${argv.join(' ')}`)
  process.chdir(dir)
  switch (op) {
    case 'create':
      return { seconds: createFiles(count, bytes) }
    case 'stat':
      return { seconds: statFiles(count) }
    case 'unlink':
      return { seconds: unlinkFiles(count) }
    case 'saves':
      return { latenciesMs: atomicSaves(count, bytes) }
    default:
      throw new Error(`unknown op '${op}'`)
  }
}

try {
  process.stdout.write(`${JSON.stringify(main(process.argv.slice(2)))}\n`)
} catch (err) {
  process.stderr.write(`fs-worker: ${(err as Error).message}\n`)
  process.exitCode = 1
}
