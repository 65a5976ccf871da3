#!/usr/bin/env bash
# Installs whatever the test suite needs and is missing. Safe to run again:
# each step checks first. Node 20, Go and Python 3 with pip must be present.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== setup: %s\n' "$*"; }

for tool in node npm go python3; do
  command -v "$tool" >/dev/null || { echo "setup: $tool is required but not installed" >&2; exit 1; }
done

# redis-server and redis-cli (Debian package) for the Redis and Cluster suites.
if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
  step "apt-get install redis-server"
  if [[ $(id -u) -eq 0 ]]; then apt=(apt-get); else apt=(sudo apt-get); fi
  "${apt[@]}" update -qq
  DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y -qq redis-server
  # Only the binaries are wanted: the suites start their own servers on free ports.
  if command -v systemctl >/dev/null && systemctl is-active --quiet redis-server 2>/dev/null; then systemctl stop redis-server || true; fi
fi

# Debian's Chromium for the console's browser tests (test/console/), driven by playwright-core: Playwright's
# own browser download cannot be fetched here.
if ! command -v chromium >/dev/null; then
  step "apt-get install chromium"
  if [[ $(id -u) -eq 0 ]]; then apt=(apt-get); else apt=(sudo apt-get); fi
  "${apt[@]}" update -qq
  DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y -qq chromium
fi

# npm ci when node_modules is absent or older than the lock file.
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  step "npm ci"
  npm ci --no-audit --no-fund
fi

step "Python packages (generator, client and MCP client tests)"
python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore \
  -r codegen/requirements.txt -r test/clients/python/requirements.txt -r clients/python/requirements-test.txt \
  -r test/mcp/python/requirements.txt

GOBIN_DIR="$(go env GOPATH)/bin"
go_tool() { # name module@version
  if [[ ! -x "$GOBIN_DIR/$1" ]]; then
    step "go install $2"
    go install "$2"
  fi
}
go_tool grpcurl github.com/fullstorydev/grpcurl/cmd/grpcurl@v1.9.4

step "Go modules of the Go client tests, the Go client and worker library, the Go example and the worker fixture"
for module in test/clients/go clients/go examples/go test/fixtures/workers/go bench/go; do (cd "$module" && go mod download); done
