// Measure 2b: a real source tree. Untar a deterministic tarball of one package from
// node_modules/ onto the target, then `cp -r` it back out to tmpfs, with the real tools.
// The tarball and the copy's destination are on tmpfs for every target, so the difference
// between targets is the target.

import { readdirSync, rmSync, statSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import path from 'node:path'
import { REPO_ROOT } from '../paths.js'
import { runCommand } from '../proc.js'
import type { Measure } from './measure.js'

interface Tree {
  tarball: string
  files: number
  bytes: number
}

let tree: Tree | undefined

function preparedTree(): Tree {
  if (!tree) throw new Error('source-tree: prepare() did not run')
  return tree
}

/** Files and bytes under `dir`, for labels and files/s. */
function countTree(dir: string): { files: number; bytes: number } {
  let files = 0
  let bytes = 0
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue
    files++
    bytes += statSync(path.join(entry.parentPath, entry.name)).size
  }
  return { files, bytes }
}

export const sourceTree: Measure = {
  id: 'source-tree',
  title: '2b. Metadata: untar and copy out a source tree',

  async prepare(ctx) {
    const pkg = ctx.profile.sourceTreePackage
    const nodeModules = path.join(REPO_ROOT, 'node_modules')
    const tarball = path.join(ctx.ws.scratch, `${pkg.replace('/', '_')}.tar`)
    // Sorted names, fixed mtimes and owners: the same bytes from the same package version.
    await runCommand('tar', [
      '--sort=name',
      '--mtime=@0',
      '--owner=0',
      '--group=0',
      '--numeric-owner',
      '-C',
      nodeModules,
      '-cf',
      tarball,
      pkg,
    ])
    tree = { tarball, ...countTree(path.join(nodeModules, pkg)) }
  },

  rows(ctx) {
    const t = preparedTree()
    const what = `${ctx.profile.sourceTreePackage} (${t.files} files, ${(t.bytes / 2 ** 20).toFixed(1)} MiB)`
    return [
      { key: 'untar', label: `untar ${what}`, unit: 's', better: 'lower' },
      { key: 'cp-out', label: `\`cp -r\` it back out to tmpfs`, unit: 's', better: 'lower' },
    ]
  },

  async run(target, ctx) {
    const t = preparedTree()
    const into = path.join(target.dir, 'tree')
    await mkdir(into)
    const untar = await runCommand('tar', ['-xf', t.tarball, '-C', into], { timeoutMs: 600_000 })
    const copy = path.join(ctx.ws.scratch, `cp-${target.name}`)
    try {
      const cp = await runCommand('cp', ['-r', into, copy], { timeoutMs: 600_000 })
      return {
        values: { untar: untar.seconds, 'cp-out': cp.seconds },
        raw: { files: t.files, bytes: t.bytes, untarFilesPerSecond: t.files / untar.seconds, cpFilesPerSecond: t.files / cp.seconds },
      }
    } finally {
      rmSync(copy, { recursive: true, force: true })
    }
  },

  notes: () => ['Source tree: tar runs as root, so it also restores owners (chown) and mtimes (utimens) on every entry.'],
}
