#!/usr/bin/env bash
# install-sops.sh [BIN_DIR] — build sops (encrypted YAML/JSON files) from
# source through the Go module proxy, for the opt-in end-to-end test of a
# sops --secret-command (e2e TestSecretCommandSops).
#
#   bash scripts/install-sops.sh                 # into ${XDG_CACHE_HOME:-~/.cache}/vkc-credential-bench/bin
#   VKC_E2E_SOPS=$(bash scripts/install-sops.sh) VKC_E2E_REQUIRED=1 \
#     bash scripts/test-env.sh go test -count=1 -run TestSecretCommandSops ./e2e/
#
# Installs BIN_DIR/sops, github.com/getsops/sops/v3/cmd/sops@v3.13.3
# (VKC_SOPS_VERSION overrides it): it builds with Go 1.26. Idempotent: a
# binary whose build info (`go version -m`) already names the wanted
# version is not built again. Prints the path of the binary on stdout, what
# it did on stderr. Needs only Go and the module proxy (CGO_ENABLED=0).
# Not part of scripts/test.sh: sops brings the SDKs of every cloud's KMS
# (90 modules to download here), 6 CPU-minutes to build with an empty
# build cache (5m23s user, 59s system, measured here) and a 75 MB binary:
# too much for the one command line it proves.
set -euo pipefail

NAME=install-sops.sh
MODULE=github.com/getsops/sops/v3
VERSION=${VKC_SOPS_VERSION:-v3.13.3}
. "$(dirname "${BASH_SOURCE[0]}")/go-tool.sh"
go_tool_setup "${1:-}"
bin=$BIN_DIR/sops

if [ "$(built_version "$bin")" = "$VERSION" ]; then
  log "sops $VERSION already in $bin"
  echo "$bin"
  exit 0
fi

T0=$(date +%s)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/install-sops.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
log "building $MODULE/cmd/sops@$VERSION (cached afterwards in $BIN_DIR)"
if ! GOBIN="$tmp" CGO_ENABLED=0 GOFLAGS='' GOTOOLCHAIN=local timeout -k 10 1800 \
    "$GO" install -trimpath -ldflags='-s -w' "$MODULE/cmd/sops@$VERSION" >"$tmp/log" 2>&1; then
  tail -n 30 "$tmp/log" >&2
  die "go install $MODULE/cmd/sops@$VERSION failed or timed out"
fi
mv -f "$tmp/sops" "$bin"
[ "$(built_version "$bin")" = "$VERSION" ] || die "$bin does not report $MODULE $VERSION after the build"
log "sops $VERSION built in $(( $(date +%s) - T0 )) s: $bin"
echo "$bin"
