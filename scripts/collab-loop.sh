#!/usr/bin/env bash
# Runs the concurrent-editing tests (test/integration/collab.test.ts: vim, nano, sed, temp-file
# saves, three writers; each case 5 times) in a loop with a new seed each time, and stops at the
# first failure, printing the seed that replays it: COLLAB_SEED=N node --test dist/test/integration/collab.test.js
# Usage: bash scripts/collab-loop.sh [RUNS=20] [FIRST_SEED=1]   (after `npm run build`)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-20}
first=${2:-1}
passed=0
for ((seed = first; seed < first + runs; seed++)); do
  if COLLAB_SEED=$seed node --test dist/test/integration/collab.test.js > "/tmp/collab-loop-$seed.log" 2>&1; then
    passed=$((passed + 1))
    echo "seed $seed: pass ($passed of $((seed - first + 1)))"
    rm -f "/tmp/collab-loop-$seed.log"
  else
    echo "seed $seed: FAIL, log in /tmp/collab-loop-$seed.log; replay: COLLAB_SEED=$seed node --test dist/test/integration/collab.test.js"
    exit 1
  fi
done
echo "$passed of $runs runs passed"
