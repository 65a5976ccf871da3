#!/usr/bin/env bash
# The release check of the test command: packs the clients (scripts/release-pack.sh), starts the
# server as `npm start` runs it (the bundle, in-memory store) on a free port, and, for each language,
# runs the README's install lines and first call in a scratch project outside the checkout
# (scripts/release-check/<language>.sh). Exits non-zero if any language fails; stops the server.
set -uo pipefail
cd "$(dirname "$0")/../.."
export PATH="$PWD/node_modules/.bin:$PATH"
checkout=$PWD

bash scripts/release-pack.sh || { echo "release-check: packing failed" >&2; exit 1; }
npm run --silent build || { echo "release-check: the server bundle did not build" >&2; exit 1; }

scratch=$(mktemp -d /tmp/taskservice-release-XXXXXX)
server_log="$scratch/server.log"
TASKSERVICE_ADDR=127.0.0.1:0 TASKSERVICE_LOG_RPCS=false node dist/main.mjs > "$server_log" 2>&1 &
server=$!
cleanup() {
  kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
  rm -rf "$scratch"
}
trap cleanup EXIT

# The server logs its address once it listens.
for _ in $(seq 1 100); do
  addr=$(grep -o '"address":"[^"]*"' "$server_log" | head -1 | cut -d'"' -f4)
  [[ -n $addr ]] && break
  kill -0 "$server" 2>/dev/null || { echo "release-check: the server exited:" >&2; cat "$server_log" >&2; exit 1; }
  sleep 0.1
done
[[ -n ${addr:-} ]] || { echo "release-check: the server did not listen within 10 s" >&2; cat "$server_log" >&2; exit 1; }
export TASKSERVICE_ADDR=$addr

languages=("$@")
((${#languages[@]})) || languages=(typescript python go)
failed=()
for language in "${languages[@]}"; do
  printf '\n-- release check: %s (scratch project in %s, server %s)\n' "$language" "$scratch/$language" "$addr"
  mkdir -p "$scratch/$language"
  if bash "scripts/release-check/$language.sh" "$checkout" "$scratch/$language"; then
    echo "release check passed: $language"
  else
    echo "release check FAILED: $language"
    failed+=("$language")
  fi
done
if ((${#failed[@]})); then
  echo "release check failed for: ${failed[*]}"
  exit 1
fi
echo "release check: every language installed as README.md says and called the server"
