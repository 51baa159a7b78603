#!/usr/bin/env bash
# keyring-up.sh [DIR] — start an unlocked GNOME Keyring Secret Service for tests.
#
# Run it INSIDE a D-Bus session (DBUS_SESSION_BUS_ADDRESS set), e.g. under
# `dbus-run-session -- bash -c 'source scripts/keyring-up.sh && exec CMD'`.
#
#   source scripts/keyring-up.sh [DIR]      exports the variables below
#   eval "$(bash scripts/keyring-up.sh [DIR])"   same, from a subprocess
#
# Starts `gnome-keyring-daemon --unlock --components=secrets --daemonize` with
# its HOME/XDG_DATA_HOME/XDG_RUNTIME_DIR under DIR (default: a new temp dir),
# so the keyring files land there and never in the real ~/.local/share.  Only
# the daemon gets that HOME; the caller's HOME (Go caches!) is not touched.
# Unlocking with a password makes gnome-keyring create the `login`
# collection (and point the `default` alias at it) unlocked: go-keyring needs
# exactly that (without it: "failed to unlock correct collection
# '/org/freedesktop/secrets/aliases/default'").  A store/lookup/clear probe
# with secret-tool proves it before returning.
#
# Exports: VKC_E2E_KEYRING_DIR, VKC_E2E_KEYRING_PASSWORD_FILE (keyring
# password, no trailing newline, 0600), VKC_E2E_KEYRING_PID (daemon pid),
# GNOME_KEYRING_CONTROL.  Lock/unlock later with scripts/keyring-lock.sh.
# The daemon exits by itself when the D-Bus session ends.
#
# Note: a locked collection makes gnome-keyring start gcr-prompter through
# D-Bus activation; with no DISPLAY it fails at once and clients get an error
# (go-keyring: "failed to unlock correct collection ..."); with a DISPLAY it
# would pop up a dialog, so run the session with DISPLAY/WAYLAND_DISPLAY unset
# (scripts/test-env.sh does).

_vkc_keyring_up() (
  set -euo pipefail
  die() { echo "keyring-up.sh: error: $*" >&2; exit 1; }
  [ -n "${DBUS_SESSION_BUS_ADDRESS:-}" ] \
    || die "DBUS_SESSION_BUS_ADDRESS is not set: run inside dbus-run-session"
  for c in gnome-keyring-daemon secret-tool gdbus; do
    command -v "$c" >/dev/null 2>&1 \
      || die "$c not found (install gnome-keyring libsecret-tools libglib2.0-bin, or run scripts/test-env.sh --install-only)"
  done

  local dir
  if [ $# -ge 1 ] && [ -n "$1" ]; then
    mkdir -p "$1"; dir=$(cd "$1" && pwd)
  else
    dir=$(mktemp -d "${TMPDIR:-/tmp}/vkc-keyring.XXXXXX")
  fi
  mkdir -p "$dir/home" "$dir/data" "$dir/run"
  chmod 700 "$dir" "$dir/home" "$dir/data" "$dir/run"
  local pwfile="$dir/keyring-password"
  if [ ! -s "$pwfile" ]; then
    (umask 077; printf '%s' "${VKC_E2E_KEYRING_PASSWORD:-vkc-test-keyring}" >"$pwfile")
  fi
  chmod 600 "$pwfile"

  local G=(gdbus call --session --timeout 10)
  local LOGIN=/org/freedesktop/secrets/collection/login
  has_owner() {
    "${G[@]}" --dest org.freedesktop.DBus --object-path /org/freedesktop/DBus \
      --method org.freedesktop.DBus.NameHasOwner org.freedesktop.secrets 2>/dev/null \
      | grep -q true
  }
  if has_owner; then
    die "a Secret Service already runs on this D-Bus session (started twice, or D-Bus activated before keyring-up.sh)"
  fi

  # --daemonize: the launcher exits once the daemon is on the bus.  Its stdout
  # (GNOME_KEYRING_CONTROL=...) is captured; stderr goes to a log.
  local out
  out=$(HOME="$dir/home" XDG_DATA_HOME="$dir/data" XDG_RUNTIME_DIR="$dir/run" \
          XDG_CONFIG_HOME="$dir/home/.config" XDG_CACHE_HOME="$dir/home/.cache" \
          timeout 30 gnome-keyring-daemon --unlock --components=secrets --daemonize \
          <"$pwfile" 2>>"$dir/gnome-keyring.log") \
    || die "gnome-keyring-daemon failed to start (log: $dir/gnome-keyring.log): $(tail -n 5 "$dir/gnome-keyring.log" 2>/dev/null)"

  # Bounded wait for the bus name and the unlocked login collection.
  local deadline=$(( $(date +%s) + 15 )) ok=""
  while [ "$(date +%s)" -lt "$deadline" ]; do
    if has_owner && "${G[@]}" --dest org.freedesktop.secrets --object-path "$LOGIN" \
         --method org.freedesktop.DBus.Properties.Get org.freedesktop.Secret.Collection Locked \
         2>/dev/null | grep -q false; then
      ok=1; break
    fi
    sleep 0.1
  done
  [ -n "$ok" ] || die "login collection did not appear unlocked within 15 s (log: $dir/gnome-keyring.log)"

  local pid
  pid=$("${G[@]}" --dest org.freedesktop.DBus --object-path /org/freedesktop/DBus \
        --method org.freedesktop.DBus.GetConnectionUnixProcessID org.freedesktop.secrets \
        | tr -dc '0-9 ' | awk '{print $NF}')

  # Probe: store, look up, clear, with a non-ASCII secret on stdin.
  local probe='probé "secret" 1' got
  printf '%s' "$probe" | timeout 10 secret-tool store --label 'vkc-credential probe' \
    service vkc-credential account keyring-up-probe \
    || die "secret-tool store failed"
  got=$(timeout 10 secret-tool lookup service vkc-credential account keyring-up-probe) \
    || die "secret-tool lookup failed"
  [ "$got" = "$probe" ] || die "secret-tool lookup returned a different secret"
  timeout 10 secret-tool clear service vkc-credential account keyring-up-probe \
    || die "secret-tool clear failed"

  local control
  control=$(printf '%s\n' "$out" | sed -n 's/^GNOME_KEYRING_CONTROL=//p')
  [ -n "$control" ] || control="$dir/run/keyring"
  printf 'export %s=%q\n' \
    VKC_E2E_KEYRING_DIR "$dir" \
    VKC_E2E_KEYRING_PASSWORD_FILE "$pwfile" \
    VKC_E2E_KEYRING_PID "$pid" \
    GNOME_KEYRING_CONTROL "$control"
)

if [ "${BASH_SOURCE[0]}" != "$0" ]; then
  # sourced
  _vkc_keyring_up_out=$(_vkc_keyring_up "$@") || { unset -f _vkc_keyring_up; return 1; }
  eval "$_vkc_keyring_up_out"
  unset -v _vkc_keyring_up_out
  unset -f _vkc_keyring_up
else
  _vkc_keyring_up "$@"
fi
