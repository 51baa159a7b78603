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

NAME=install-toxiproxy.sh
MODULE=github.com/Shopify/toxiproxy/v2
VERSION=${VKC_TOXIPROXY_VERSION:-v2.12.0}
. "$(dirname "${BASH_SOURCE[0]}")/go-tool.sh"
go_tool_setup "${1:-}"

if [ "$(built_version "$BIN_DIR/toxiproxy-server")" = "$VERSION" ] && [ "$(built_version "$BIN_DIR/toxiproxy-cli")" = "$VERSION" ]; then
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
[ "$(built_version "$BIN_DIR/toxiproxy-server")" = "$VERSION" ] || die "$BIN_DIR/toxiproxy-server does not report $VERSION"
log "built in $(( $(date +%s) - T0 )) s: $BIN_DIR/toxiproxy-server, $BIN_DIR/toxiproxy-cli ($VERSION)"
