#!/usr/bin/env bash
# install-staticcheck.sh [BIN_DIR] — build the staticcheck linter
# (honnef.co/go/tools) from source through the Go module proxy, for
# scripts/test.sh.
#
#   bash scripts/install-staticcheck.sh          # into ${XDG_CACHE_HOME:-~/.cache}/vkc-credential-bench/bin
#   bash scripts/install-staticcheck.sh /opt/sc/bin
#
# Installs BIN_DIR/staticcheck, honnef.co/go/tools/cmd/staticcheck@v0.8.2
# (VKC_STATICCHECK_VERSION overrides it): the newest release, and it builds
# with Go 1.26. Idempotent: a binary whose build info (`go version -m`)
# already names the wanted version is not built again. Prints the path of
# the binary on stdout, what it did on stderr. Needs only Go and the module
# proxy (CGO_ENABLED=0); about 2 minutes on 2 cores the first time.
set -euo pipefail

NAME=install-staticcheck.sh
MODULE=honnef.co/go/tools
VERSION=${VKC_STATICCHECK_VERSION:-v0.8.2}
. "$(dirname "${BASH_SOURCE[0]}")/go-tool.sh"
go_tool_setup "${1:-}"
bin=$BIN_DIR/staticcheck

if [ "$(built_version "$bin")" = "$VERSION" ]; then
  log "staticcheck $VERSION already in $bin"
  echo "$bin"
  exit 0
fi

T0=$(date +%s)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/install-staticcheck.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
log "building $MODULE/cmd/staticcheck@$VERSION (cached afterwards in $BIN_DIR)"
if ! GOBIN="$tmp" CGO_ENABLED=0 GOFLAGS='' GOTOOLCHAIN=local timeout -k 10 900 \
    "$GO" install -trimpath "$MODULE/cmd/staticcheck@$VERSION" >"$tmp/log" 2>&1; then
  tail -n 30 "$tmp/log" >&2
  die "go install $MODULE/cmd/staticcheck@$VERSION failed or timed out"
fi
mv -f "$tmp/staticcheck" "$bin"
[ "$(built_version "$bin")" = "$VERSION" ] || die "$bin does not report $MODULE $VERSION after the build"
log "staticcheck $VERSION built in $(( $(date +%s) - T0 )) s: $bin"
echo "$bin"
