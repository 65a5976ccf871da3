#!/usr/bin/env bash
# Regenerates gen/ (TypeScript, Go, Python) from proto/ with local plugins only.
#   codegen/generate.sh          lint, then write gen/
#   codegen/generate.sh --check  lint, generate into a temporary folder, fail if gen/ differs
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$(go env GOPATH 2>/dev/null)/bin:$PATH"
missing=()
command -v buf >/dev/null || missing+=("buf (npm ci)")
command -v protoc-gen-ts_proto >/dev/null || missing+=("ts-proto (npm ci)")
command -v protoc-gen-go >/dev/null || missing+=("protoc-gen-go (go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12)")
command -v protoc-gen-go-grpc >/dev/null || missing+=("protoc-gen-go-grpc (go install google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.2)")
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
