#!/usr/bin/env bash
# Entry point behind the npm scripts and the README commands: makes sure Node.js >= 22.12 and the npm
# dependencies are present, then runs the requested step.
set -euo pipefail
# shellcheck source=hack/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ensure_node
ensure_deps
cd "$SPROUT_ROOT"

step="${1:-}"
shift || true
case "$step" in
  test)
    node src/cli/main.ts tools --moto
    npm run --silent lint
    npm run --silent typecheck
    npx vitest run "$@"
    ;;
  test-localstack)
    # The driver conformance suite against LocalStack (installed into the cache on first use).
    SPROUT_LOCALSTACK=1 exec npx vitest run --project localstack "$@"
    ;;
  tools)
    exec node src/cli/main.ts tools "$@"
    ;;
  start)
    exec node src/cli/main.ts start "$@"
    ;;
  bench)
    node src/cli/main.ts tools
    exec node test/bench/scale.ts "$@"
    ;;
  bench-nodesim)
    node src/cli/main.ts tools
    exec node test/bench/nodesim.ts "$@"
    ;;
  bench-runtime)
    node src/cli/main.ts tools
    exec node --expose-gc test/bench/runtime.ts "$@"
    ;;
  *)
    exec node src/cli/main.ts "$step" "$@"
    ;;
esac
