#!/usr/bin/env bash
# Builds vkc-credential from this checkout and installs it (for a release
# archive or package, which need no Go, see the README's "Install"), with the
# keystoneauth plugin for the openstack CLI when that CLI is present.
#   PREFIX            where to install (default: $HOME/.local); the binary goes to $PREFIX/bin
#   VKC_SKIP_PLUGIN=1 do not install the openstack CLI plugin
#   PYTHON            the Python whose openstack CLI gets the plugin (default /usr/bin/python3)
# Running it again replaces the installed copy with a fresh build.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
prefix=${PREFIX:-$HOME/.local}
bindir=$prefix/bin

if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
  PATH=/usr/local/go/bin:$PATH
fi
command -v go >/dev/null 2>&1 || { echo "install.sh: Go 1.26.8 or newer is needed to build vkc-credential (https://go.dev/doc/install)" >&2; exit 1; }

# The build flags are those of the releases: scripts/build.env.
. "$here/scripts/build.env"
version=$(git -C "$here" describe --tags --always --dirty 2>/dev/null || echo devel)
commit=$(git -C "$here" rev-parse HEAD 2>/dev/null || echo unknown)
if [ "$commit" != unknown ] && [ -n "$(git -C "$here" status --porcelain --untracked-files=no 2>/dev/null)" ]; then
  commit=$commit-dirty
fi
build_date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
mkdir -p "$bindir"
tmp=$(mktemp "$bindir/.vkc-credential.XXXXXX")
trap 'rm -f "$tmp"' EXIT
(cd "$here" && CGO_ENABLED=$VKC_CGO_ENABLED go build $VKC_GOFLAGS -tags "$VKC_BUILD_TAGS" \
  -ldflags "$VKC_LDFLAGS -X $VKC_X_VERSION=$version -X $VKC_X_COMMIT=$commit -X $VKC_X_DATE=$build_date" -o "$tmp" .)
chmod 0755 "$tmp"
mv -f "$tmp" "$bindir/vkc-credential"
trap - EXIT
echo "installed vkc-credential $version to $bindir/vkc-credential"

case ":$PATH:" in
  *":$bindir:"*) echo "$bindir is on your PATH" ;;
  *) echo "$bindir is NOT on your PATH; add it, e.g.: export PATH=\"$bindir:\$PATH\"" ;;
esac

# The openstack CLI's `vkc` auth type, when that CLI is installed.
py=${PYTHON:-/usr/bin/python3}
# The probe runs from /: `python -c` imports from the current directory
# first, where a planted keystoneauth1.py would run (as root, under sudo).
if [ "${VKC_SKIP_PLUGIN:-}" != 1 ] && [ -x "$py" ] && (cd / && "$py" -c 'import keystoneauth1') 2>/dev/null; then
  if [ "$(id -u)" = 0 ] || [ -n "${PYTHON:-}" ]; then
    echo "installing the openstack CLI auth type 'vkc' into $py's own site-packages with pip (VKC_SKIP_PLUGIN=1 skips this)"
    bash "$here/integrations/keystoneauth/install.sh" >/dev/null 2>&1 &&
      echo "installed the openstack CLI auth type 'vkc' for $py" ||
      echo "could not install the keystoneauth plugin; see integrations/keystoneauth/README.md" >&2
  else
    bash "$here/integrations/keystoneauth/install.sh" --user >/dev/null 2>&1 &&
      echo "installed the openstack CLI auth type 'vkc' for $py (user site)" ||
      echo "the keystoneauth plugin needs root for $py: sudo bash integrations/keystoneauth/install.sh" >&2
  fi
fi
