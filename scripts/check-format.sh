#!/usr/bin/env bash
# The formatting check of the test command: Prettier for TypeScript, JavaScript, JSON and YAML
# (.prettierrc.json; `npm run format` fixes it), gofmt for Go, and a 120-column limit on the TypeScript
# of src/, test/, bench/ and scripts/ that Prettier cannot enforce on long strings and comments.
# (mawk counts bytes, so a non-ASCII character may count twice.) Generated code (gen/) is left as
# generated; test/clients/ is left out of the 120-column limit. Also: no file in src/ over 400 lines.
set -uo pipefail
cd "$(dirname "$0")/.."
PATH="$PWD/node_modules/.bin:$PATH"
status=0

prettier --check --log-level warn . || status=1

unformatted=$(git ls-files '*.go' | grep -v '^gen/' | xargs gofmt -l)
if [[ -n $unformatted ]]; then
  echo "gofmt: not formatted (run gofmt -w):"
  echo "$unformatted"
  status=1
fi

long=$(git ls-files 'src/*.ts' 'test/*.ts' 'bench/*.ts' 'scripts/*.ts' | grep -v '^test/clients/' |
  xargs awk 'length > 120 { print FILENAME ":" FNR ": " length " columns" }')
if [[ -n $long ]]; then
  echo "src/, test/, bench/, scripts/: lines over 120 columns (split the string or the comment):"
  echo "$long"
  status=1
fi

# Small modules (docs/ARCHITECTURE.md): a file in src/ past 400 lines is a hub waiting to be split.
big=$(git ls-files 'src/*.ts' | xargs wc -l | awk '$2 != "total" && $1 > 400 { print $2 ": " $1 " lines" }')
if [[ -n $big ]]; then
  echo "src/: files over 400 lines (split them by concern):"
  echo "$big"
  status=1
fi

((status == 0)) && echo "format: prettier, gofmt, 120 columns (src/, test/, bench/, scripts/) and 400 lines a file (src/) hold"
exit $status
