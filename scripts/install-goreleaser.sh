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

die() { echo "install-goreleaser.sh: error: $*" >&2; exit 1; }
log() { echo "install-goreleaser.sh: $*" >&2; }

MODULE=github.com/goreleaser/goreleaser/v2
VERSION=${VKC_GORELEASER_VERSION:-v2.15.1}

if command -v go >/dev/null 2>&1; then
  GO=$(command -v go)
elif [ -x /usr/local/go/bin/go ]; then
  GO=/usr/local/go/bin/go
else
  die "no go command: install Go into /usr/local/go or PATH"
fi

BIN_DIR=${1:-${XDG_CACHE_HOME:-$HOME/.cache}/vkc-credential-bench/bin}
mkdir -p "$BIN_DIR"
BIN_DIR=$(cd "$BIN_DIR" && pwd)
bin=$BIN_DIR/goreleaser

have() {
  [ -x "$bin" ] || return 0
  "$GO" version -m "$bin" 2>/dev/null | awk -v m="$MODULE" '$1 == "mod" && $2 == m { print $3; exit }'
}

if [ "$(have)" = "$VERSION" ]; then
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
[ "$(have)" = "$VERSION" ] || die "$bin does not report $MODULE $VERSION after the build"
log "goreleaser $VERSION built in $(( $(date +%s) - T0 )) s: $bin"
echo "$bin"
