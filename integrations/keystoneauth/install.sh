#!/usr/bin/env bash
# install.sh [PIP-INSTALL-ARGS...] — install the keystoneauth1 auth type `vkc`
# (this directory's vkc-keystoneauth package) offline, from these files only:
# no index, no build isolation (Debian's python3-setuptools and python3-wheel
# build it), no dependencies fetched.  Re-running reinstalls.
#
#   sudo bash integrations/keystoneauth/install.sh            # system python
#   bash integrations/keystoneauth/install.sh --target DIR    # into DIR (then
#                                                 # PYTHONPATH=DIR openstack …)
#   PYTHON=~/venv/bin/python bash integrations/keystoneauth/install.sh
#
# PYTHON is the interpreter whose openstack CLI should get the plugin
# (default /usr/bin/python3, the one Debian's python3-openstackclient uses).
# Into that interpreter's own environment, pip is given
# --break-system-packages when it knows the flag (PEP 668: Debian 12 marks
# its python EXTERNALLY-MANAGED; the package lands in /usr/local/lib).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PY=${PYTHON:-/usr/bin/python3}
die() { echo "install.sh: error: $*" >&2; exit 1; }

# `python -c` and `python -m` put the current directory first on sys.path:
# a keystoneauth1.py or pip.py planted in the directory this runs in (as
# root, under sudo) would be imported. The probes run from / instead;
# pip_here runs pip in the current directory (a relative --target stays
# relative to it) with that first entry dropped before anything is
# imported (sys is built in), which works on every Python 3, unlike -P.
py_probe() { (cd / && "$PY" "$@"); }
pip_here() {
  "$PY" -c 'import sys
if sys.path and sys.path[0] == "": del sys.path[0]
import runpy
runpy.run_module("pip", run_name="__main__", alter_sys=True)' "$@"
}

py_probe -c 'import keystoneauth1' 2>/dev/null \
  || die "$PY has no keystoneauth1 (Debian: apt-get install python3-keystoneauth1 python3-openstackclient)"
py_probe -m pip --version >/dev/null 2>&1 \
  || die "$PY has no pip (Debian: apt-get install python3-pip)"

# pip and setuptools build in the source tree (build/, *.egg-info): build
# from a private copy so the checkout stays clean and parallel runs do not
# collide.
SRC=$(mktemp -d "${TMPDIR:-/tmp}/vkc-keystoneauth.XXXXXX")
trap 'rm -rf "$SRC"' EXIT
cp -R "$HERE/pyproject.toml" "$HERE/README.md" "$HERE/vkc_keystoneauth" "$SRC/"
find "$SRC" -name __pycache__ -prune -exec rm -rf {} +

target=""
into_env=1
prev=""
for a in "$@"; do
  case "$prev" in -t|--target) target=$a;; esac
  case "$a" in
    --target=*) target=${a#--target=};;
    -t|--target|--prefix|--prefix=*|--root|--root=*|--user) into_env="";;
  esac
  prev=$a
done
[ -n "$target" ] && into_env=""

args=(--no-index --no-build-isolation --no-deps --force-reinstall --upgrade
      --no-cache-dir --disable-pip-version-check --quiet)
if [ -n "$into_env" ] && py_probe -m pip install --help 2>/dev/null | grep -q -- --break-system-packages; then
  args+=(--break-system-packages)
fi
PIP_ROOT_USER_ACTION=ignore pip_here install "${args[@]}" "$@" "$SRC" || die "pip install failed"

# Check that keystoneauth1 now finds the auth type.
check='from keystoneauth1 import loading; loading.get_plugin_loader("vkc")'
if [ -n "$target" ]; then
  abs_target=$(cd "$target" && pwd) || die "installed into $target, which is not a directory now"
  PYTHONPATH="$abs_target${PYTHONPATH:+:$PYTHONPATH}" py_probe -c "$check" \
    || die "installed into $target, but keystoneauth1 does not find the auth type vkc there"
  echo "install.sh: auth type vkc installed into $target (use PYTHONPATH=$abs_target)" >&2
elif [ -n "$into_env" ]; then
  py_probe -c "$check" || die "installed, but keystoneauth1 does not find the auth type vkc"
  echo "install.sh: auth type vkc installed for $PY" >&2
fi
