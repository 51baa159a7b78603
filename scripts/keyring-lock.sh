#!/usr/bin/env bash
# keyring-lock.sh [lock|unlock|status] — lock/unlock the test keyring.
#
# Use inside the D-Bus session that keyring-up.sh set up (e.g. from a test run
# by scripts/test-env.sh; DBUS_SESSION_BUS_ADDRESS must be set).
#   lock    (default) lock the `login` collection.  Clients then get a prompt
#           that fails at once without a DISPLAY; go-keyring returns
#           "failed to unlock correct collection '/org/freedesktop/secrets/collection/login'".
#   unlock  unlock it again without a prompt, with the password in
#           $VKC_E2E_KEYRING_PASSWORD_FILE (gnome-keyring's private
#           UnlockWithMasterPassword call, through Debian's python3-jeepney).
#   status  print "locked" or "unlocked" (exit 0).
#
# From Go, the same is: exec.Command("bash", "scripts/keyring-lock.sh", "lock").
set -euo pipefail
die() { echo "keyring-lock.sh: error: $*" >&2; exit 1; }
[ -n "${DBUS_SESSION_BUS_ADDRESS:-}" ] || die "DBUS_SESSION_BUS_ADDRESS is not set"
LOGIN=/org/freedesktop/secrets/collection/login
G=(timeout 15 gdbus call --session --timeout 10 --dest org.freedesktop.secrets)

locked() {
  "${G[@]}" --object-path "$LOGIN" --method org.freedesktop.DBus.Properties.Get \
    org.freedesktop.Secret.Collection Locked | grep -q true
}

case "${1:-lock}" in
  lock)
    "${G[@]}" --object-path /org/freedesktop/secrets \
      --method org.freedesktop.Secret.Service.Lock "[objectpath '$LOGIN']" >/dev/null \
      || die "Secret Service Lock call failed"
    locked || die "collection still unlocked after Lock"
    ;;
  unlock)
    pwfile=${VKC_E2E_KEYRING_PASSWORD_FILE:-}
    { [ -n "$pwfile" ] && [ -r "$pwfile" ]; } || die "VKC_E2E_KEYRING_PASSWORD_FILE is not set or unreadable"
    timeout 20 /usr/bin/python3 - "$LOGIN" "$pwfile" <<'EOF' || die "unlock failed"
import sys
from jeepney import DBusAddress, new_method_call
from jeepney.io.blocking import open_dbus_connection
from jeepney.wrappers import unwrap_msg

login = sys.argv[1]
with open(sys.argv[2], 'rb') as f:
    password = f.read()
svc = DBusAddress('/org/freedesktop/secrets', bus_name='org.freedesktop.secrets',
                  interface='org.freedesktop.Secret.Service')
internal = DBusAddress('/org/freedesktop/secrets', bus_name='org.freedesktop.secrets',
                       interface='org.gnome.keyring.InternalUnsupportedGuiltRiddenInterface')
with open_dbus_connection(bus='SESSION') as conn:
    # A "plain" session: the secret goes over the (private) session bus as is.
    _, session = unwrap_msg(conn.send_and_get_reply(
        new_method_call(svc, 'OpenSession', 'sv', ('plain', ('s', ''))), timeout=10))
    unwrap_msg(conn.send_and_get_reply(
        new_method_call(internal, 'UnlockWithMasterPassword', 'o(oayays)',
                        (login, (session, b'', password, 'text/plain'))), timeout=10))
EOF
    ! locked || die "collection still locked after unlock"
    ;;
  status)
    if locked; then echo locked; else echo unlocked; fi
    ;;
  *) die "usage: $0 [lock|unlock|status]";;
esac
