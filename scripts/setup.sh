#!/usr/bin/env bash
# Sets meshfs up on a fresh Debian machine: the system packages it needs (FUSE 3, a C toolchain
# and libfuse 3's headers for its FUSE binding, and the tools its tests drive), then the npm
# packages (`npm ci`, which also compiles the binding), then the build. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -e /dev/fuse ]; then
  echo "setup: /dev/fuse is missing: this machine cannot mount FUSE file systems (load the fuse module, or give the container --device /dev/fuse)" >&2
  exit 1
fi

# fuse3: fusermount3 and libfuse3.so.3, which our FUSE binding (native/) links at run time;
# libfuse3-dev and pkg-config: the headers and flags it is compiled with (`pkg-config fuse3`);
# build-essential and python3: node-gyp compiles that binding during `npm ci`; libfuse2: only the
# benchmark's stock fuse-native 2.2.6 baseline (scripts/bench/bare-fuse.ts) links libfuse.so.2;
# attr: getfattr/setfattr; the rest are tools that the tests and benchmarks drive for real
# (editors, git, rsync, fio; iproute2 for the network namespaces that cut a node off).
wanted=(fuse3 libfuse3-dev pkg-config attr build-essential fio git rsync tmux vim nano python3 openssl iproute2)
missing=()
for pkg in "${wanted[@]}"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
# Debian 13 renamed libfuse2 for the 64-bit time_t transition.
if ! dpkg -s libfuse2 >/dev/null 2>&1 && ! dpkg -s libfuse2t64 >/dev/null 2>&1; then missing+=(libfuse2); fi

if [ "${#missing[@]}" -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "setup: installing ${missing[*]}"
  $sudo apt-get update -qq
  if [[ " ${missing[*]} " == *" libfuse2 "* ]] && ! apt-cache show libfuse2 >/dev/null 2>&1; then
    missing=("${missing[@]/libfuse2/libfuse2t64}")
  fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# Native addons compile against this Node's own headers (Debian: /usr/include/node) instead of
# downloading them: better-sqlite3 when its prebuilt binary cannot be fetched, and our FUSE
# binding, which `npm ci` builds too (the package's install script, native/build.mjs).
node_prefix="$(dirname "$(dirname "$(command -v node)")")"
if [ -z "${npm_config_nodedir:-}" ] && [ -f "$node_prefix/include/node/node_api.h" ]; then
  export npm_config_nodedir="$node_prefix"
fi
npm ci --no-audit --no-fund
npm run build
echo "setup: done (node $(node --version))"
