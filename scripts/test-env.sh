#!/usr/bin/env bash
# test-env.sh CMD [ARGS...] — run CMD with a live Keystone and Secret Service.
#
#   bash scripts/test-env.sh go test -race -count=1 ./...
#   bash scripts/test-env.sh --install-only      # just install the packages
#
# 1. installs the Debian packages it needs if any is missing (apt is skipped
#    entirely when all are present);
# 2. starts a real Keystone on 127.0.0.1 (scripts/keystone-up.sh) in a temp
#    dir and exports its VKC_E2E_* variables (see keystone-up.sh);
# 3. runs CMD inside `dbus-run-session` after scripts/keyring-up.sh has
#    started an unlocked gnome-keyring (exports VKC_E2E_KEYRING_*);
#    VKC_E2E_KEYRING_LOCK is the path of scripts/keyring-lock.sh;
# 4. on exit stops Keystone (the keyring dies with the D-Bus session) and
#    deletes the temp dir (kept when VKC_E2E_KEEP=1);
# 5. exits with CMD's status.
# CMD's stdin is /dev/null-safe; DISPLAY/WAYLAND_DISPLAY are unset so that a
# locked keyring can never pop up a dialog.  dbus-daemon's own chatter goes to
# $VKC_E2E_DIR/dbus-daemon.log instead of the test output.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
die() { echo "test-env.sh: error: $*" >&2; exit 1; }
log() { echo "test-env.sh: $*" >&2; }

PACKAGES=(
  python3-keystone python3-keystoneclient python3-keystoneauth1
  python3-openstackclient
  gnome-keyring libsecret-tools dbus dbus-daemon libglib2.0-bin
  python3-secretstorage python3-jeepney
  hyperfine python3-pip python3-setuptools fish
  age
  pass gnupg keyutils oathtool
  xvfb xdotool zenity kdialog ksshaskpass ssh-askpass
  curl ca-certificates procps util-linux coreutils
)

install_packages() {
  local missing=() p st
  for p in "${PACKAGES[@]}"; do
    st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    [ "$st" = installed ] || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" = 0 ] || die "missing packages (${missing[*]}) and not root: install them first"
  log "installing: ${missing[*]}"
  local aptlog
  aptlog=$(mktemp "${TMPDIR:-/tmp}/vkc-apt.XXXXXX.log")
  export DEBIAN_FRONTEND=noninteractive
  if ! timeout 900 apt-get -o DPkg::Lock::Timeout=120 update -q >"$aptlog" 2>&1; then
    tail -n 30 "$aptlog" >&2; die "apt-get update failed (log: $aptlog)"
  fi
  if ! timeout 1800 apt-get -o DPkg::Lock::Timeout=120 install -y -q --no-install-recommends \
      "${missing[@]}" >>"$aptlog" 2>&1; then
    tail -n 40 "$aptlog" >&2; die "apt-get install failed: ${missing[*]} (log: $aptlog)"
  fi
  log "installed $(grep -c '^Setting up' "$aptlog") packages (log: $aptlog)"
}

if [ "${1:-}" = --install-only ]; then
  install_packages
  exit 0
fi
[ $# -ge 1 ] || die "usage: $0 CMD [ARGS...]   |   $0 --install-only"

T0=$(date +%s.%N)
install_packages

DIR=$(mktemp -d "${TMPDIR:-/tmp}/vkc-e2e.XXXXXX")
# shellcheck disable=SC2317  # invoked by trap
cleanup() {
  local rc=$?
  trap - EXIT INT TERM HUP
  bash "$SCRIPT_DIR/keystone-down.sh" "$DIR/keystone" || true
  if [ "${VKC_E2E_KEEP:-}" = 1 ]; then
    log "kept $DIR"
  else
    rm -rf "$DIR"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

T1=$(date +%s.%N)
bash "$SCRIPT_DIR/keystone-up.sh" "$DIR/keystone"
T2=$(date +%s.%N)
# shellcheck disable=SC1091
source "$DIR/keystone/env"
export VKC_E2E_DIR="$DIR"
export VKC_E2E_KEYRING_LOCK="$SCRIPT_DIR/keyring-lock.sh"

# dbus-daemon (and services it activates, e.g. gcr-prompter when a test locks
# the keyring) would write warnings to our stderr; send them to a log file.
DBUS_DAEMON=$(command -v dbus-daemon) || die "dbus-daemon not found"
cat >"$DIR/dbus-daemon" <<EOF
#!/bin/sh
exec $DBUS_DAEMON "\$@" 2>>$(printf '%q' "$DIR/dbus-daemon.log")
EOF
chmod +x "$DIR/dbus-daemon"

el() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.1f", b-a}'; }
log "packages $(el "$T0" "$T1") s, keystone $(el "$T1" "$T2") s; running: $*"

# timeout bounds the run.  On a terminal everything stays in the foreground
# process group, so Ctrl-C works as usual.  Elsewhere (CI) timeout owns a
# process group (on expiry it kills CMD's children too) and runs in the
# background so that a TERM/INT/HUP sent to this script is forwarded to it
# at once (bash would otherwise wait for CMD before running the trap).
TIMEOUT_ARGS=(-k 30 "${VKC_E2E_TIMEOUT:-4800}")
RUN=(env -u DISPLAY -u WAYLAND_DISPLAY timeout)
# shellcheck disable=SC2016  # $1/$2 expand in the inner bash
INNER=(dbus-run-session --dbus-daemon="$DIR/dbus-daemon" -- bash -c '
    source "$1/keyring-up.sh" "$2" || { echo "test-env.sh: error: keyring-up.sh failed" >&2; exit 125; }
    shift 2
    exec "$@"' test-env "$SCRIPT_DIR" "$DIR/keyring" "$@")
set +e
if [ -t 0 ]; then
  "${RUN[@]}" --foreground "${TIMEOUT_ARGS[@]}" "${INNER[@]}"
  rc=$?
else
  exec 3<&0
  "${RUN[@]}" "${TIMEOUT_ARGS[@]}" "${INNER[@]}" <&3 3<&- &
  CHILD=$!
  exec 3<&-
  trap 'kill -TERM "$CHILD" 2>/dev/null' TERM INT HUP
  wait "$CHILD"; rc=$?
  # wait returns early (>128) when a trapped signal arrives: wait again.
  while kill -0 "$CHILD" 2>/dev/null; do wait "$CHILD"; rc=$?; done
fi
set -e
[ "$rc" = 124 ] && log "command timed out after ${VKC_E2E_TIMEOUT:-4800} s"
exit "$rc"
