#!/bin/sh
# Regenerates every fixture in packages/core/test/fixtures. The Go and Node profiles record real
# (non-deterministic) runs: after regenerating them, the *.top.txt files are rewritten too and the
# tests compare against the new pair. Run from anywhere: sh packages/core/scripts/gen-fixtures.sh
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
fixtures="$here/../test/fixtures"
root="$here/../../.."
export GOCACHE="${GOCACHE:-/tmp/hotpath-gocache}" GOPATH="${GOPATH:-/tmp/hotpath-gopath}" GO111MODULE=off
(cd "$root" && go run ./packages/core/scripts/gen-go-fixtures "$fixtures")
sh "$here/gen-go-top.sh"
(cd "$root" && node packages/core/scripts/gen-node-fixtures.mjs "$fixtures")
(cd "$root" && node packages/core/scripts/gen-edge-fixtures.mjs "$fixtures")
