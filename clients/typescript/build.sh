#!/usr/bin/env bash
# Builds @taskservice/client from src/client and the generated stubs it imports (gen/ts):
# ES modules and CommonJS, each with .d.ts types, into clients/typescript/dist. The sources keep
# their layout (dist/esm/src/client, dist/esm/gen/ts), so their relative imports need no rewriting;
# package.json's "exports" points at the entry points.
set -euo pipefail
cd "$(dirname "$0")"
PATH="$PWD/../../node_modules/.bin:$PATH"
rm -rf dist
tsc -p tsconfig.esm.json
tsc -p tsconfig.cjs.json
# The package is "type": "module"; the CommonJS half says so for its own folder.
echo '{ "type": "commonjs" }' > dist/cjs/package.json
cp ../../LICENSE LICENSE
