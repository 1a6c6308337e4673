#!/usr/bin/env bash
# The quick start: set up, then mount meshfs at MOUNTPOINT (default ~/mesh) in the foreground,
# with its data (the embedded store) in ~/.local/share/meshfs. Ctrl-C unmounts.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
mnt="${1:-$HOME/mesh}"
shift || true
bash "$here/scripts/setup.sh"
mkdir -p "$mnt"
echo "quickstart: mounting meshfs at $mnt (Ctrl-C to unmount)"
exec node "$here/dist/src/cli/main.js" mount "$mnt" "$@"
