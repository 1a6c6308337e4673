// Where the compiled pieces are. The bench runs from dist/scripts/bench/, three levels below the
// repository root, next to the compiled daemon in dist/src/.

import path from 'node:path'
import { fileURLToPath } from 'node:url'

/** dist/scripts/bench: the compiled bench, including the helper processes it starts. */
export const BENCH_DIST_DIR = path.dirname(fileURLToPath(import.meta.url))
export const REPO_ROOT = path.resolve(BENCH_DIST_DIR, '../../..')
export const MESHFS_CLI = path.join(REPO_ROOT, 'dist/src/cli/main.js')
export const BARE_FUSE = path.join(BENCH_DIST_DIR, 'bare-fuse.js')
export const FS_WORKER = path.join(BENCH_DIST_DIR, 'fs-worker.js')
export const DEFAULT_RESULTS_DIR = path.join(REPO_ROOT, 'bench/results')
