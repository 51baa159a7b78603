#!/usr/bin/env bash
# install-toxiproxy.sh [BIN_DIR] — build Shopify's toxiproxy (a TCP proxy that
# adds latency and other faults) from source through the Go module proxy, for
# scripts/bench-slow.sh.
#
#   bash scripts/install-toxiproxy.sh            # into ${XDG_CACHE_HOME:-~/.cache}/vkc-credential-bench/bin
#   bash scripts/install-toxiproxy.sh /opt/tox/bin
#
# Installs
#
#   BIN_DIR/toxiproxy-server   github.com/Shopify/toxiproxy/v2/cmd/server@v2.12.0
#   BIN_DIR/toxiproxy-cli      github.com/Shopify/toxiproxy/v2/cmd/cli@v2.12.0
#
# v2.12.0 builds with Go 1.26 (`go install`, no replace directives).
# VKC_TOXIPROXY_VERSION overrides it.  Idempotent: a binary whose build info
# (`go version -m`) already names the wanted version is not built again.
# Needs only Go and the module proxy (CGO_ENABLED=0); about 20 s the first time.
set -euo pipefail

die() { echo "install-toxiproxy.sh: error: $*" >&2; exit 1; }
log() { echo "install-toxiproxy.sh: $*" >&2; }

MODULE=github.com/Shopify/toxiproxy/v2
VERSION=${VKC_TOXIPROXY_VERSION:-v2.12.0}

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

have() {
  [ -x "$1" ] || return 0
  "$GO" version -m "$1" 2>/dev/null | awk -v m="$MODULE" '$1 == "mod" && $2 == m { print $3; exit }'
}

if [ "$(have "$BIN_DIR/toxiproxy-server")" = "$VERSION" ] && [ "$(have "$BIN_DIR/toxiproxy-cli")" = "$VERSION" ]; then
  log "toxiproxy $VERSION already in $BIN_DIR"
  exit 0
fi

T0=$(date +%s)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/install-toxiproxy.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
log "building $MODULE@$VERSION (server, cli)"
# go install names each binary after its package directory (server, cli):
# build into a temp dir, then move under names that say what they are.
if ! GOBIN="$tmp" CGO_ENABLED=0 GOFLAGS='' GOTOOLCHAIN=local timeout -k 10 600 \
    "$GO" install -trimpath -ldflags='-s -w' "$MODULE/cmd/server@$VERSION" "$MODULE/cmd/cli@$VERSION" >"$tmp/log" 2>&1; then
  tail -n 30 "$tmp/log" >&2
  die "go install $MODULE/cmd/{server,cli}@$VERSION failed or timed out"
fi
mv -f "$tmp/server" "$BIN_DIR/toxiproxy-server"
mv -f "$tmp/cli" "$BIN_DIR/toxiproxy-cli"
[ "$(have "$BIN_DIR/toxiproxy-server")" = "$VERSION" ] || die "$BIN_DIR/toxiproxy-server does not report $VERSION"
log "built in $(( $(date +%s) - T0 )) s: $BIN_DIR/toxiproxy-server, $BIN_DIR/toxiproxy-cli ($VERSION)"
