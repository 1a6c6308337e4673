// Compiles the FUSE binding (native/build/Release/fuse.node) with the node-gyp that npm bundles.
// Run by `npm install`/`npm ci` (the root package's install script) and `npm run build:native`.
// It builds against the local Node headers when the system has them (/usr/include/node), so it
// needs neither a download nor a user's ~/.npmrc, and against the system's libfuse 3 as
// `pkg-config fuse3` describes it (Debian: libfuse3-dev and pkg-config).

import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const here = path.dirname(fileURLToPath(import.meta.url))

/** npm sets npm_config_node_gyp for its scripts; otherwise use the copy beside this node's npm. */
function nodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    path.join(path.dirname(process.execPath), '../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js'),
  ]
  const found = candidates.find((p) => p && existsSync(p))
  if (!found) {
    console.error('native: node-gyp not found (it comes with npm); install npm, or run this from an npm script')
    process.exit(1)
  }
  return found
}

// binding.gyp asks pkg-config; its own failure would be a gyp stack trace, so say it plainly first.
const fuse3 = spawnSync('pkg-config', ['--exists', 'fuse3'])
if (fuse3.status !== 0) {
  console.error(
    `native: libfuse 3's development files are missing (${fuse3.error ? 'no pkg-config' : 'pkg-config knows no fuse3'}); on Debian: apt-get install libfuse3-dev pkg-config`,
  )
  process.exit(1)
}

const args = [nodeGyp(), 'rebuild']
// A nodedir holds include/node/*.h; Debian's nodejs puts them in /usr/include/node.
const nodedir = path.join(path.dirname(process.execPath), '..')
if (existsSync(path.join(nodedir, 'include/node/node_api.h'))) args.push(`--nodedir=${path.resolve(nodedir)}`)

const r = spawnSync(process.execPath, args, { cwd: here, stdio: 'inherit' })
if (r.status !== 0) {
  console.error(
    `native: building the FUSE binding failed (node-gyp exited with ${r.status ?? r.signal}); a C compiler, make, python3 and libfuse3-dev are needed`,
  )
  process.exit(1)
}
