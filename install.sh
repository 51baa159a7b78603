#!/usr/bin/env bash
# Builds vkc-credential from this checkout and installs it, with the
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

version=$(git -C "$here" describe --tags --always --dirty 2>/dev/null || echo devel)
mkdir -p "$bindir"
tmp=$(mktemp "$bindir/.vkc-credential.XXXXXX")
trap 'rm -f "$tmp"' EXIT
# urfave_cli_no_docs leaves out the man-page and markdown generators,
# which cost start-up time on every call.
(cd "$here" && CGO_ENABLED=0 go build -trimpath -tags urfave_cli_no_docs \
  -ldflags "-s -w -X vkc-credential/cmdline.buildVersion=$version" -o "$tmp" .)
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
if [ "${VKC_SKIP_PLUGIN:-}" != 1 ] && [ -x "$py" ] && "$py" -c 'import keystoneauth1' 2>/dev/null; then
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
