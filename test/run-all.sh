#!/usr/bin/env bash
# The whole test suite from a fresh clone: installs what is missing, then runs
# every check. Each suite starts the servers it needs on free loopback ports
# and stops them. Exits non-zero if anything failed.
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$(go env GOPATH)/bin:$PATH"

bash test/setup.sh || { echo "setup failed" >&2; exit 1; }

logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
failed=()
run() { # name command...
  local name=$1
  shift
  printf '\n== %s: %s\n' "$name" "$*"
  if ! "$@" 2>&1 | tee "$logs/$name.log"; then failed+=("$name"); fi
}

run generated bash codegen/generate.sh --check
# The API only grows: proto/ against the last release's (proto-baseline/); additions pass, removals fail.
run breaking buf breaking proto --against proto-baseline
run packages bash -c 'cd gen/go && go build ./... && cd ../python && tmp=$(mktemp -d) && python3 -m pip wheel --quiet --no-deps --no-build-isolation -w "$tmp" . && ls "$tmp" && rm -rf "$tmp" build *.egg-info'
run typecheck tsc -p .
# The Python client and worker library, strict (clients/python/pyproject.toml [tool.mypy]), against gen/python's .pyi.
run mypy bash -c 'cd clients/python && python3 -m mypy'
# Formatting: Prettier, gofmt, and 120 columns in src/ (npm run format fixes most of it).
run format bash scripts/check-format.sh
# The layer rules of docs/ARCHITECTURE.md (.dependency-cruiser.cjs): any import that runs the wrong way fails.
run layers depcruise src --config .dependency-cruiser.cjs
# Every path and environment variable that README.md and docs/*.md mention exists.
run docs tsx scripts/check-docs.ts
run mocha mocha 'test/unit/**/*.test.ts' 'test/contract/**/*.test.ts' 'test/integration/**/*.test.ts' 'test/workers/**/*.test.ts' 'test/cli/**/*.test.ts'
# The operators' console in headless Chromium (Debian's, installed by setup.sh), driven by playwright-core.
run console mocha 'test/console/**/*.test.ts'
run mocha-redis env TEST_STORE=redis mocha 'test/integration/**/*.test.ts' 'test/redis/**/*.test.ts'
# The fault suite (test/redis/faults.test.ts runs in mocha-redis above); --expose-gc for the soak's heap check.
run faults env MALLOC_ARENA_MAX=2 TEST_STORE=redis mocha --node-option expose-gc --node-option import=tsx 'test/faults/**/*.test.ts'
run mocha-cluster env TEST_STORE=cluster mocha 'test/integration/**/*.test.ts'
run mocha-sentinel env TEST_STORE=sentinel mocha 'test/integration/**/*.test.ts'
run pytest bash -c 'cd test/clients/python && python3 -m pytest -q'
run gotest bash -c 'set -o pipefail; (cd examples/go && go vet ./...) && cd test/clients/go && go test -count=1 -v ./... | grep -E "^(=== RUN|--- |PASS|FAIL|ok|panic)"'
run pytest-worker bash -c 'cd clients/python && python3 -m pytest -q'
# The MCP front door through the official Python MCP client: /mcp in both protocol eras, and `taskservice mcp` (stdio).
run pytest-mcp bash -c 'cd test/mcp/python && python3 -m pytest -q'
# The release check: packs the three clients, installs each into a scratch project outside the checkout with
# README.md's install lines and runs README's first call against a real server (scripts/release-check/).
run release bash scripts/release-check/run.sh
# The benchmarks in their short mode: every scenario once, briefly, ratios printed, nothing asserted.
run bench-smoke npx tsx bench/run.ts --smoke
run gotest-worker bash -c 'set -o pipefail; cd clients/go && go vet ./... && go test -count=1 -race -v ./... | grep -E "^(=== RUN|--- |PASS|FAIL|ok|panic)"'

# One closing line across every runner.
count() { grep -Eo "$2" "$logs/$1.log" 2>/dev/null | awk '{ n += $1 } END { print n + 0 }'; }
mocha_count() { local n=0; for f in mocha console mocha-redis faults mocha-cluster mocha-sentinel; do n=$(( n + $(count "$f" "$1") )); done; echo "$n"; }
py_count() { echo $(( $(count pytest "$1") + $(count pytest-worker "$1") + $(count pytest-mcp "$1") )); }
go_count() { cat "$logs"/gotest*.log 2>/dev/null | grep -c -- "^--- $1" || true; }
passed=$(( $(mocha_count '[0-9]+ passing') + $(py_count '[0-9]+ passed') + $(go_count PASS) ))
fails=$(( $(mocha_count '[0-9]+ failing') + $(py_count '[0-9]+ failed') + $(go_count FAIL) ))
echo
if ((${#failed[@]})); then
  # CI keeps only the end of the output: repeat what each failed step said about its failures here.
  for name in "${failed[@]}"; do
    echo "-- ${name}: what failed"
    { sed -n '/^ *[0-9]* failing/,$p' "$logs/$name.log"; grep -E '^(FAILED |--- FAIL|FAIL)' "$logs/$name.log"; } |
      head -n 80
  done
  echo "FAILED steps: ${failed[*]}"
  echo "${passed} passed, $(( fails > 0 ? fails : ${#failed[@]} )) failed"
  exit 1
fi
echo "${passed} passed, ${fails} failed"
