#!/usr/bin/env bash
# Regenerates gen/ (TypeScript, Go, Python) from proto/ with local plugins only.
#   codegen/generate.sh          lint, then write gen/
#   codegen/generate.sh --check  lint, generate into a temporary folder, fail if gen/ differs
set -euo pipefail
cd "$(dirname "$0")/.."
# buf.gen.yaml names every plugin itself (node_modules, `go run` at pinned
# versions, python3): here we only check that their runtimes are present.
export PATH="$PWD/node_modules/.bin:$PATH"
missing=()
command -v buf >/dev/null || missing+=("buf (npm ci)")
[[ -f node_modules/ts-proto/protoc-gen-ts_proto ]] || missing+=("ts-proto (npm ci)")
command -v go >/dev/null || missing+=("go (the Go plugins run with 'go run')")
python3 -c 'import grpc_tools' 2>/dev/null || missing+=("grpcio-tools (pip install -r codegen/requirements.txt)")
if ((${#missing[@]})); then
  printf 'generate: missing %s\n' "${missing[@]}" >&2
  exit 1
fi
buf lint
if [[ "${1:-}" == "--check" ]]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  buf generate -o "$tmp"
  if ! diff -r "$tmp/gen" gen; then
    echo "generate: gen/ differs from a fresh 'buf generate' (diff above); run 'npm run generate' and commit gen/" >&2
    exit 1
  fi
  echo "generate: gen/ matches a fresh generation"
else
  buf generate
fi
