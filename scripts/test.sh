#!/usr/bin/env bash
# Runs every test: typecheck, lint, unit tests (no root), root tests (real containers), the hostile suite
# (a real agent attacked and starved: bad input, floods, a full disk, a corrupt store), end-to-end tests
# in Chromium. Ends with one line "N passed, N failed". Root tests need root and fail without it.
set -uo pipefail
cd "$(dirname "$0")/.."
export NEXT_TELEMETRY_DISABLED=1
[ -d node_modules ] && [ -f apps/agent/native/build/libcorral.so ] || bash scripts/setup.sh

passed=0; failed=0; broken=()
log=$(mktemp -d)

# node's test runner prints "# pass N" and "# fail N"; Playwright "N passed" and "N failed".
count() {
  local file=$1 p f
  p=$(grep -E '^# pass [0-9]+' "$file" | awk '{s+=$3} END{print s+0}')
  f=$(grep -E '^# fail [0-9]+' "$file" | awk '{s+=$3} END{print s+0}')
  if [ "$p" = 0 ] && [ "$f" = 0 ]; then
    p=$(grep -Eo '^ *[0-9]+ passed' "$file" | tail -1 | grep -Eo '[0-9]+' || echo 0)
    f=$(grep -Eo '^ *[0-9]+ failed' "$file" | tail -1 | grep -Eo '[0-9]+' || echo 0)
  fi
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
}

step() {
  local name=$1; shift
  printf '\n=== %s\n' "$name"
  "$@" 2>&1 | tee "$log/$name.log"
  local rc=${PIPESTATUS[0]}
  count "$log/$name.log"
  if [ "$rc" != 0 ]; then broken+=("$name"); fi
}

step typecheck pnpm --silent typecheck
step lint pnpm --silent lint
step core-unit bash -c 'cd packages/core && node --import tsx --test test/*.test.ts'
step agent-unit bash -c 'cd apps/agent && node --import tsx --test test/unit/*.test.ts'
step web-unit bash -c 'cd apps/web && node --import tsx --test test/*.test.ts'
step agent-root bash -c 'cd apps/agent && node --import tsx --test --test-concurrency=1 test/root/*.test.ts'
step hostile pnpm --silent test:hostile
step e2e pnpm --silent test:e2e

printf '\n'
if [ ${#broken[@]} -gt 0 ]; then
  echo "steps that failed: ${broken[*]}"
  [ "$failed" = 0 ] && failed=${#broken[@]}
fi
echo "$passed passed, $failed failed"
[ ${#broken[@]} = 0 ] && [ "$failed" = 0 ]
