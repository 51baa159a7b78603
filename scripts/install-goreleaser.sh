#!/usr/bin/env bash
# install-goreleaser.sh [BIN_DIR] — build goreleaser from source through the
# Go module proxy, for scripts/release.sh and scripts/test-release.sh.
#
#   bash scripts/install-goreleaser.sh           # into ${XDG_CACHE_HOME:-~/.cache}/vkc-credential-bench/bin
#   bash scripts/install-goreleaser.sh /opt/gr/bin
#
# Installs BIN_DIR/goreleaser, github.com/goreleaser/goreleaser/v2@v2.15.1
# (VKC_GORELEASER_VERSION overrides it). v2.15.1 is pinned: later releases
# need Go 1.27. Idempotent: a binary whose build info (`go version -m`)
# already names the wanted version is not built again. Prints the path of
# the binary on stdout, what it did on stderr. Needs only Go and the module
# proxy (CGO_ENABLED=0); a few minutes on 2 cores the first time.
set -euo pipefail

NAME=install-goreleaser.sh
MODULE=github.com/goreleaser/goreleaser/v2
VERSION=${VKC_GORELEASER_VERSION:-v2.15.1}
. "$(dirname "${BASH_SOURCE[0]}")/go-tool.sh"
go_tool_setup "${1:-}"
bin=$BIN_DIR/goreleaser

if [ "$(built_version "$bin")" = "$VERSION" ]; then
  log "goreleaser $VERSION already in $bin"
  echo "$bin"
  exit 0
fi

T0=$(date +%s)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/install-goreleaser.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
log "building $MODULE@$VERSION (cached afterwards in $BIN_DIR)"
# goreleaser reads its own version from -X main.version; without it, it
# says "unknown" but works the same.
if ! GOBIN="$tmp" CGO_ENABLED=0 GOFLAGS='' GOTOOLCHAIN=local timeout -k 10 1800 \
    "$GO" install -trimpath -ldflags="-s -w -X main.version=${VERSION#v}" "$MODULE@$VERSION" >"$tmp/log" 2>&1; then
  tail -n 30 "$tmp/log" >&2
  die "go install $MODULE@$VERSION failed or timed out"
fi
mv -f "$tmp/goreleaser" "$bin"
[ "$(built_version "$bin")" = "$VERSION" ] || die "$bin does not report $MODULE $VERSION after the build"
log "goreleaser $VERSION built in $(( $(date +%s) - T0 )) s: $bin"
echo "$bin"
