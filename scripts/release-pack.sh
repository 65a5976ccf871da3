#!/usr/bin/env bash
# Builds the release artifacts of this checkout into dist/release/:
#   taskservice-client-<version>.tgz                 the TypeScript client (npm)
#   taskservice_proto-<version>-py3-none-any.whl     the generated Python messages and stubs (gen/python)
#   taskservice-<version>-py3-none-any.whl           the Python client and worker library (clients/python)
# The Go modules are not packed: Go consumers require the module paths and, until they are public,
# replace them with this checkout (README, "Go").
set -euo pipefail
cd "$(dirname "$0")/.."
version=$(cat VERSION)
out=dist/release
rm -rf "$out"
mkdir -p "$out"

bash clients/typescript/build.sh
(cd clients/typescript && npm pack --silent --pack-destination "../../$out" >/dev/null)

build=$(mktemp -d)
trap 'rm -rf "$build"' EXIT
for project in gen/python clients/python; do
  # Built from a copy, so the checkout keeps no build/ or *.egg-info behind; -L turns the links to
  # the repository's LICENSE (clients/python/LICENSE) into the file itself, which the wheel ships.
  cp -rL "$project" "$build/project"
  python3 -m pip wheel --quiet --no-deps --no-build-isolation -w "$out" "$build/project"
  rm -rf "$build/project"
done

for artifact in "taskservice-client-$version.tgz" "taskservice_proto-$version-py3-none-any.whl" \
  "taskservice-$version-py3-none-any.whl"; do
  [[ -f "$out/$artifact" ]] || { echo "release-pack: $out/$artifact was not built" >&2; exit 1; }
done
ls -l "$out" | awk 'NR > 1 { printf "%8d bytes  %s\n", $5, $9 }'
