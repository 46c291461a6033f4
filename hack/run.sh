#!/usr/bin/env bash
# Entry point behind the npm scripts and the README commands: makes sure Node.js >= 22.12 and the npm
# dependencies are present, then runs the requested step. The last command of each step replaces this
# shell (exec), and the npm scripts exec this script, so a signal to npm reaches the command itself.
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
    ensure_test_packages
    run_step node test/env/prepare.ts --moto
    run_step node_modules/.bin/eslint .
    run_step node_modules/.bin/prettier --check .
    run_step node_modules/.bin/depcruise --config hack/dependency-rules.js src plugins test
    run_step node_modules/.bin/tsc --noEmit -p .
    exec node_modules/.bin/vitest run "$@"
    ;;
  lint)
    run_step node_modules/.bin/eslint .
    run_step node_modules/.bin/prettier --check .
    exec node_modules/.bin/depcruise --config hack/dependency-rules.js src plugins test
    ;;
  format)
    run_step node_modules/.bin/prettier --write .
    exec node_modules/.bin/eslint --fix .
    ;;
  test-localstack)
    # The driver conformance suite against LocalStack, installed into the cache first (with progress,
    # a few minutes the first time: longer than a test hook may take).
    ensure_test_packages
    run_step node test/env/prepare.ts --localstack
    SPROUT_LOCALSTACK=1 exec node_modules/.bin/vitest run --project localstack "$@"
    ;;
  test-chaos)
    # The chaos runs (docs/machine-lifecycle.md#safety): minutes each, so not in npm test.
    ensure_test_packages
    run_step node test/env/prepare.ts --moto
    SPROUT_CHAOS=1 exec node_modules/.bin/vitest run --project chaos "$@"
    ;;
  tools)
    exec node src/cli/main.ts tools "$@"
    ;;
  start)
    exec node src/cli/main.ts start "$@"
    ;;
  bench)
    run_step node src/cli/main.ts tools
    exec node test/bench/scale.ts "$@"
    ;;
  bench-nodesim)
    run_step node src/cli/main.ts tools
    exec node test/bench/nodesim.ts "$@"
    ;;
  bench-runtime)
    run_step node src/cli/main.ts tools
    exec node --expose-gc test/bench/runtime.ts "$@"
    ;;
  *)
    exec node src/cli/main.ts "$step" "$@"
    ;;
esac
