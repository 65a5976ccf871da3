#!/usr/bin/env bash
# Release check, Go: a new module outside the checkout requires the client with README's install
# lines (the module paths at the release, replaced by the checkout until they have a public path),
# builds README's first call and runs it against the server. The build must come from the
# checkout's two modules, and `go mod vendor` must be enough to build without the checkout.
#   go.sh <checkout> <scratch project folder>   ($TASKSERVICE_ADDR: the server)
set -euo pipefail
checkout=$1
cd "$2"
block() { node "$checkout/scripts/release-check/readme-block.mjs" "$1"; }
fail() {
  echo "go: $*" >&2
  exit 1
}
version=$(cat "$checkout/VERSION")
module=github.com/taskservice/taskservice
export GOWORK=off # a go.work of the user's must not decide what this module builds with

go mod init example.com/agent 2>/dev/null
bash -euo pipefail -c "$(block go-install)"
block go-first-call > main.go
go mod tidy
go build -o agent .

# Both module paths resolve at the release, to the checkout's folders (go list -m all: the build list).
modules=$(go list -m all)
for path in clients/go gen/go; do
  want="$module/$path v$version => $checkout/$path"
  grep -qxF -- "$want" <<<"$modules" || fail "the build list has no \"$want\":"$'\n'"$modules"
done
# The binary links the two modules, gRPC and protobuf with theirs, nothing else (no test-only goleak).
linked=$(go version -m agent | awk '$1 == "dep" { print $2 }' | LC_ALL=C sort | tr '\n' ' ')
want="$module/clients/go $module/gen/go golang.org/x/net golang.org/x/sys golang.org/x/text google.golang.org/genproto/googleapis/rpc google.golang.org/grpc google.golang.org/protobuf "
[[ $linked == "$want" ]] || fail "the binary links $linked"$'\n'"want $want"
echo "go: agent built from the checkout, $(($(stat -c %s agent) / 1024)) KiB; modules linked: $linked"

out=$(timeout 60 ./agent)
echo "$out"
for want in "client $version, server $version" "hi" "slept 1 s" "NOT_FOUND, as expected"; do
  grep -qxF -- "$want" <<<"$out" || fail "the first call did not print \"$want\""
done

# Vendoring: after `go mod vendor` a build needs neither the checkout nor the network. The replace
# lines point at a copy of the two modules here, which is removed before the build.
mkdir -p vendored copy/clients copy/gen
cp -r "$checkout/clients/go" copy/clients/
cp -r "$checkout/gen/go" copy/gen/
cp main.go go.mod go.sum vendored/
cd vendored
go mod edit -replace="$module/clients/go=../copy/clients/go" -replace="$module/gen/go=../copy/gen/go"
go mod vendor
rm -rf ../copy
GOPROXY=off GOFLAGS=-mod=vendor go build -o agent . || fail "the vendored module did not build without the checkout"
[[ $(timeout 60 ./agent) == "$out" ]] || fail "the vendored build printed something else"
echo "go: the vendored module built and ran without the checkout"
