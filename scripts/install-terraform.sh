#!/usr/bin/env bash
# install-terraform.sh [BIN_DIR] — build Terraform and the OpenStack provider
# from source through the Go module proxy, for e2e/terraform_test.go.
#
#   bash scripts/install-terraform.sh              # into $(go env GOPATH)/bin
#   bash scripts/install-terraform.sh /opt/tf/bin
#
# Neither HashiCorp's release downloads nor a Terraform registry is needed: both
# binaries come from `go install MODULE@VERSION`, i.e. from the Go module
# proxy.  Installs
#
#   BIN_DIR/terraform                     github.com/hashicorp/terraform@v1.8.5
#   BIN_DIR/terraform-provider-openstack  github.com/terraform-provider-openstack/terraform-provider-openstack/v3@v3.4.0
#
# Why these versions: `go install M@V` refuses a module whose go.mod has
# replace directives.  Terraform >= 1.9 has them (it is split into nested
# modules, `replace .../internal/backend/remote-state/s3 => ./internal/...`,
# whose code is not even in the module zip), and so has OpenTofu >= 1.7
# (`replace github.com/hashicorp/hcl/v2 => github.com/opentofu/hcl/v2`).
# v1.8.5 is the newest Terraform without them.  VKC_TERRAFORM_VERSION=v1.5.7
# (the last release under the MPL) works too.
#
# Idempotent: a binary whose embedded build info (`go version -m`) already
# names the wanted module and version is not built again.  Bounded: the
# whole run gives up after VKC_TF_INSTALL_TIMEOUT seconds (default 2400).
# Prints how long each step took.  Needs only Go (>= 1.24) and the module
# proxy; no C compiler (CGO_ENABLED=0, like the release builds), no git.
set -euo pipefail

die() { echo "install-terraform.sh: error: $*" >&2; exit 1; }
log() { echo "install-terraform.sh: $*" >&2; }

TERRAFORM_MODULE=github.com/hashicorp/terraform
TERRAFORM_VERSION=${VKC_TERRAFORM_VERSION:-v1.8.5}
PROVIDER_MODULE=github.com/terraform-provider-openstack/terraform-provider-openstack/v3
PROVIDER_VERSION=${VKC_TF_PROVIDER_VERSION:-v3.4.0}
BUDGET=${VKC_TF_INSTALL_TIMEOUT:-2400}

if command -v go >/dev/null 2>&1; then
  GO=$(command -v go)
elif [ -x /usr/local/go/bin/go ]; then
  GO=/usr/local/go/bin/go
else
  die "no go command: install Go (>= 1.24) into /usr/local/go or PATH"
fi

BIN_DIR=${1:-$("$GO" env GOPATH)/bin}
mkdir -p "$BIN_DIR"
BIN_DIR=$(cd "$BIN_DIR" && pwd)

T0=$(date +%s)
el() { echo $(( $(date +%s) - $1 )); }

# installed_version BIN MODULE: the version of MODULE that BIN was built
# from, empty when BIN is missing or was built from something else.
installed_version() {
  [ -x "$1" ] || return 0
  "$GO" version -m "$1" 2>/dev/null | awk -v m="$2" '$1 == "mod" && $2 == m { print $3; exit }'
}

# install NAME MODULE VERSION [LDFLAGS]: go install MODULE@VERSION as
# BIN_DIR/NAME.
install() {
  local name=$1 module=$2 version=$3 ldflags="-s -w ${4:-}" bin="$BIN_DIR/$1" have t left logf
  have=$(installed_version "$bin" "$module")
  if [ "$have" = "$version" ]; then
    log "$name: $module@$version already in $bin"
    return 0
  fi
  left=$(( BUDGET - $(el "$T0") ))
  [ "$left" -gt 0 ] || die "out of time (VKC_TF_INSTALL_TIMEOUT=$BUDGET s) before building $name"
  log "$name: building $module@$version${have:+ (replacing $have)} (at most $left s)"
  logf=$(mktemp "${TMPDIR:-/tmp}/install-$name.XXXXXX.log")
  t=$(date +%s)
  if ! GOBIN="$BIN_DIR" CGO_ENABLED=0 GOFLAGS='' GOTOOLCHAIN=local \
      timeout -k 10 "$left" "$GO" install -trimpath -ldflags="$ldflags" "$module@$version" >"$logf" 2>&1; then
    tail -n 30 "$logf" >&2
    die "go install $module@$version failed or timed out (log: $logf)"
  fi
  rm -f "$logf"
  have=$(installed_version "$bin" "$module")
  [ "$have" = "$version" ] || die "$bin reports ${have:-no build info} after installing $module@$version"
  log "$name: built in $(el "$t") s"
}

# version.dev=no: a release build, "Terraform v1.8.5" rather than "v1.8.5-dev".
install terraform "$TERRAFORM_MODULE" "$TERRAFORM_VERSION" "-X $TERRAFORM_MODULE/version.dev=no"
install terraform-provider-openstack "$PROVIDER_MODULE" "$PROVIDER_VERSION"
log "done in $(el "$T0") s: $BIN_DIR/terraform ($TERRAFORM_VERSION), $BIN_DIR/terraform-provider-openstack ($PROVIDER_VERSION)"
