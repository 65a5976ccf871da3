#!/usr/bin/env bash
# Release check, TypeScript: a new npm project outside the checkout installs the packed
# @taskservice/client with README's install line and runs README's first call with plain node.
#   typescript.sh <checkout> <scratch project folder>   ($TASKSERVICE_ADDR: the server)
set -euo pipefail
checkout=$1
cd "$2"
block() { node "$checkout/scripts/release-check/readme-block.mjs" "$1"; }

npm init -y >/dev/null
bash -euo pipefail -c "$(block typescript-install)" 2>&1 | grep -v '^npm warn' || true
[[ -d node_modules/@taskservice/client ]] || { echo "typescript: the package did not install" >&2; exit 1; }
# Only the runtime dependencies the package declares came with it.
node -e '
  const deps = Object.keys(require("./node_modules/@taskservice/client/package.json").dependencies).sort();
  const want = ["@bufbuild/protobuf", "@grpc/grpc-js"];
  if (JSON.stringify(deps) !== JSON.stringify(want)) { console.error("dependencies:", deps); process.exit(1); }'

block typescript-first-call > first-call.mjs
out=$(node first-call.mjs)
echo "$out"
version=$(cat "$checkout/VERSION")
for want in "client $version, server $version" "hi" "slept 1 s" "NOT_FOUND, as expected"; do
  grep -qxF -- "$want" <<<"$out" || { echo "typescript: the first call did not print \"$want\"" >&2; exit 1; }
done

# The CommonJS half works from require() too.
cat > first-call.cjs <<'JS'
const { Client } = require('@taskservice/client');
const client = new Client(process.env.TASKSERVICE_ADDR);
client.execute('echo', { text: 'from require' }).then((r) => { console.log(r.text); client.close(); });
JS
[[ $(node first-call.cjs) == 'from require' ]] || { echo "typescript: require() of the package failed" >&2; exit 1; }
