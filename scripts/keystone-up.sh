#!/usr/bin/env bash
# keystone-up.sh DIR
#
# Start a real OpenStack Keystone (Debian python3-keystone, wsgiref test
# server, sqlite, fernet tokens) on 127.0.0.1 at a free port, in the
# background, and create the vkc-credential e2e fixtures.  Writes DIR/env, a
# sourceable file of `export VKC_E2E_...=...` lines.  Stop it with
# `scripts/keystone-down.sh DIR` (or kill "$VKC_E2E_KEYSTONE_PID" and
# "$VKC_E2E_RULES_PID").
#
# The fixtures, all in domain "users" (keystone_fixture.py create):
#   dev.user@example.com     member of vkc-test and vkc-test-2
#   second.user@example.com  member of vkc-test-2
#   mfa.user@example.com     member of vkc-test; MFA rule password + totp, so a
#                            password alone gets a 401 with an auth receipt
#   application credential "vkc-e2e" of dev.user on vkc-test
#   service "vkc-rules" in the catalog: an echo app behind keystonemiddleware's
#                            auth_token on another free port, which enforces
#                            application credentials' access rules as every
#                            OpenStack service does (keystone_fixture.py
#                            protect; Keystone's own API does not enforce them)
# Every secret is in a file of DIR (mode 0600, no trailing newline) that a
# VKC_E2E_*_FILE variable names; none is in an argv or an env value.
#
# Every HTTP request is logged, one line each, to DIR/keystone-access.log:
#   127.0.0.1 - - [27/Nov/2025 18:40:01] "POST /v3/auth/tokens HTTP/1.1" 201 1234
# The server is Debian's keystone-wsgi-public (wsgiref, single-threaded) run
# through keystone_fixture.py serve, which writes each line BEFORE the
# response is sent (stock wsgiref writes it after), so a test may count lines
# as soon as its request has returned.  N = body bytes (Content-Length).
#
# VKC_E2E_TOKEN_EXPIRATION (default 3600) is the lifetime in seconds of the
# tokens it issues ([token] expiration): the e2e tests of the Keystone
# stand-in start a second Keystone with 60, so that a run outlasts several
# tokens in minutes (e2e/standin_long_test.go).
#
# VKC_E2E_HASH_ROUNDS (default 4) is Keystone's bcrypt cost for the
# passwords it creates: 4 keeps tests fast (a password POST /v3/auth/tokens
# ~12 ms on 2 cores); 12, bcrypt's default and a real Keystone's, ~215 ms
# (docs/benchmarks.md, scripts/bench-slow.sh).
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PY=/usr/bin/python3   # Debian's python: the one that has keystone/keystoneauth

die() { echo "keystone-up.sh: error: $*" >&2; exit 1; }
log() { echo "keystone-up.sh: $*" >&2; }

HASH_ROUNDS=${VKC_E2E_HASH_ROUNDS:-4}
TOKEN_EXPIRATION=${VKC_E2E_TOKEN_EXPIRATION:-3600}
case "$TOKEN_EXPIRATION" in [1-9][0-9]|[1-9][0-9][0-9]|[1-9][0-9][0-9][0-9]|[1-9][0-9][0-9][0-9][0-9]) ;;
  *) die "VKC_E2E_TOKEN_EXPIRATION must be 10..99999 seconds, not $TOKEN_EXPIRATION";; esac
case "$HASH_ROUNDS" in 4|5|6|7|8|9|1[0-9]|2[0-9]|3[01]) ;; *) die "VKC_E2E_HASH_ROUNDS must be 4..31 (bcrypt cost), not $HASH_ROUNDS";; esac

[ $# -eq 1 ] || die "usage: $0 DIR"
mkdir -p "$1"
DIR=$(cd "$1" && pwd)
case "$DIR" in *[[:space:]]*) die "DIR must not contain whitespace: $DIR";; esac

START_TIME=$(date +%s.%N)

# On any failure, do not leave a half-started server behind.
PID=""
RULES_PID=""
OK=""
on_exit() {
  if [ -z "$OK" ] && [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; fi
  if [ -z "$OK" ] && [ -n "$RULES_PID" ]; then kill "$RULES_PID" 2>/dev/null || true; fi
}
trap on_exit EXIT

# Install packages if missing (fast no-op when present).
for c in keystone-manage keystone-wsgi-public curl; do
  if ! command -v "$c" >/dev/null 2>&1 || ! [ -x "$PY" ]; then
    log "$c missing, installing packages"
    bash "$SCRIPT_DIR/test-env.sh" --install-only
    break
  fi
done
"$PY" -c 'import keystoneclient.v3, keystoneauth1' 2>/dev/null \
  || bash "$SCRIPT_DIR/test-env.sh" --install-only

CONF="$DIR/keystone.conf"
ACCESS_LOG="$DIR/keystone-access.log"
mkdir -p "$DIR/fernet-keys" "$DIR/fernet-receipts" "$DIR/credential-keys"
chmod 700 "$DIR/fernet-keys" "$DIR/fernet-receipts" "$DIR/credential-keys"

cat >"$CONF" <<EOF
[DEFAULT]
log_dir = $DIR
log_file = keystone.log
use_stderr = false
debug = false

[database]
connection = sqlite:///$DIR/keystone.db

[token]
provider = fernet
expiration = $TOKEN_EXPIRATION

[identity]
password_hash_algorithm = bcrypt
password_hash_rounds = $HASH_ROUNDS

[auth]
# Debian's defaults (external,password,token,oauth1,mapped,
# application_credential) plus totp, the second factor of the MFA user.
methods = external,password,token,oauth1,mapped,application_credential,totp

[fernet_tokens]
key_repository = $DIR/fernet-keys

[fernet_receipts]
key_repository = $DIR/fernet-receipts

[credential]
key_repository = $DIR/credential-keys
# Not cached: with dogpile.cache.memory the cache hands out the very dicts
# that keystone's credential manager then decrypts in place (it pops
# encrypted_blob), so the second totp authentication of a user failed with
# 500 (KeyError: 'encrypted_blob').  memcached, a real keystone's cache,
# returns copies.
caching = false

[cache]
# In-process cache: token validation drops from ~0.6 s to ~15 ms.  Safe with
# this single-process server (keystone invalidates it on revocations etc.).
enabled = true
backend = dogpile.cache.memory

[oslo_policy]
# Built-in default rules only: never pick up /etc/keystone/policy.d (shipped
# by the keystone service package, present on some machines, not on others).
policy_file = $DIR/policy.yaml
policy_dirs = $DIR/policy.d
enforce_new_defaults = false
enforce_scope = false
EOF

KUSER=$(id -un); KGROUP=$(id -gn)
manage() {
  # keystone-manage's own logging goes to DIR/keystone.log (log_file above);
  # its stdout/stderr (Python noise at exit) to DIR/keystone-manage-CMD.out.
  local out="$DIR/keystone-manage-$1.out"
  if ! timeout 180 keystone-manage --config-file "$CONF" "$@" >"$out" 2>&1; then
    { echo "--- $out"; tail -n 30 "$out"; echo "--- $DIR/keystone.log"
      tail -n 30 "$DIR/keystone.log"; } >&2 2>/dev/null || true
    echo "keystone-up.sh: error: keystone-manage $1 failed (see $out, $DIR/keystone.log)" >&2
    return 1
  fi
}
# Each keystone-manage run costs ~2 s of Python imports: run the independent
# ones in parallel.  fernet_setup also initialises [fernet_receipts]
# (receipt_setup must NOT run beside it: both would write fernet-receipts/0).
pids=()
manage db_sync & pids+=($!)
manage fernet_setup --keystone-user "$KUSER" --keystone-group "$KGROUP" & pids+=($!)
manage credential_setup --keystone-user "$KUSER" --keystone-group "$KGROUP" & pids+=($!)
failed=0
for p in "${pids[@]}"; do wait "$p" || failed=1; done
[ "$failed" = 0 ] || die "keystone-manage set-up failed"

# Passwords.  Files hold the password with NO trailing newline, mode 0600.
umask 077
ADMIN_PW_FILE="$DIR/admin-password"
PW_FILE="$DIR/password"
PW2_FILE="$DIR/password2"
MFA_PW_FILE="$DIR/mfa-password"
TOTP_FILE="$DIR/mfa-totp-secret"
APP_CRED_FILE="$DIR/app-cred-secret"
if [ ! -s "$ADMIN_PW_FILE" ]; then
  printf 'admin-%s' "$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')" >"$ADMIN_PW_FILE"
fi
# spaces, both quote kinds, non-ASCII letters; and a backslash/dollar one.
printf '%s' 'pä ss "wörd'"'"' 1' >"$PW_FILE"
# shellcheck disable=SC2016  # literal $ and backquotes on purpose
printf '%s' 'Ünï cødé $HOME \ `x` ;&|' >"$PW2_FILE"
printf 'mfa-%s' "$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')" >"$MFA_PW_FILE"
# The TOTP secret: 20 random bytes (RFC 4226's recommended length), base32
# without padding, as oathtool --totp -b and authenticator apps take it.
head -c 20 /dev/urandom | base32 | tr -d '=\n' >"$TOTP_FILE"
printf 'appcred-%s' "$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')" >"$APP_CRED_FILE"
chmod 600 "$ADMIN_PW_FILE" "$PW_FILE" "$PW2_FILE" "$MFA_PW_FILE" "$TOTP_FILE" "$APP_CRED_FILE"
umask 022

free_port() {
  "$PY" -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

dump_logs() {
  { echo "--- tail of $ACCESS_LOG"; tail -n 40 "$ACCESS_LOG"
    echo "--- tail of $DIR/keystone.log"; tail -n 40 "$DIR/keystone.log"; } >&2 2>/dev/null || true
}

# Start the server and, at the same time, bootstrap the admin user, roles and
# catalog (bootstrap needs the URL, so the port is picked first; the server
# does not touch the db until the first real request).  If the port got taken
# meanwhile, retry with another one (bootstrap updates the endpoint URLs).
PORT=""
up=""
for attempt in 1 2 3; do
  PORT=$(free_port)
  AUTH_URL="http://127.0.0.1:$PORT/v3"
  : >"$ACCESS_LOG"
  # setsid: own session/process group, so the caller's Ctrl-C or job control
  # does not hit it; stdin from /dev/null.  PYTHONUNBUFFERED: every access
  # line reaches the log at once.
  # keystone_fixture.py serve = keystone-wsgi-public, but each access-log
  # line is written before its response is sent (see keystone_fixture.py).
  PYTHONUNBUFFERED=1 setsid "$PY" "$SCRIPT_DIR/keystone_fixture.py" serve \
    --port "$PORT" --host 127.0.0.1 -- --config-file "$CONF" \
    </dev/null >>"$ACCESS_LOG" 2>&1 &
  PID=$!
  echo "$PID" >"$DIR/keystone.pid"
  # Password via env, not argv.
  OS_BOOTSTRAP_PASSWORD=$(cat "$ADMIN_PW_FILE") \
    manage bootstrap --bootstrap-username admin --bootstrap-project-name admin \
      --bootstrap-role-name admin \
      --bootstrap-admin-url "$AUTH_URL" --bootstrap-public-url "$AUTH_URL" \
      --bootstrap-internal-url "$AUTH_URL" --bootstrap-region-id RegionOne &
  BOOT_PID=$!
  deadline=$(( $(date +%s) + 60 ))
  while [ "$(date +%s)" -lt "$deadline" ]; do
    if ! kill -0 "$PID" 2>/dev/null; then break; fi
    if curl -fsS -m 2 -o /dev/null "$AUTH_URL" 2>/dev/null; then
      up=1; break
    fi
    sleep 0.2
  done
  wait "$BOOT_PID" || { kill "$PID" 2>/dev/null || true; die "keystone-manage bootstrap failed"; }
  [ -n "$up" ] && break
  if kill -0 "$PID" 2>/dev/null; then
    kill "$PID" 2>/dev/null || true
    dump_logs
    die "Keystone did not answer GET $AUTH_URL within 60 s"
  fi
  if grep -q 'Address already in use' "$ACCESS_LOG"; then
    log "port $PORT taken, retrying ($attempt)"
    continue
  fi
  dump_logs
  die "the Keystone server (keystone-wsgi-public) exited during start-up"
done
[ -n "$up" ] || die "could not start Keystone on a free port after 3 attempts"

# The service that enforces access rules (see the header), started now so
# that its Python imports overlap the fixtures' creation.
RULES_SERVICE=vkc-rules
RULES_PORT=$(free_port)
RULES_URL="http://127.0.0.1:$RULES_PORT"
RULES_LOG="$DIR/rules.log"
: >"$RULES_LOG"
FIX_AUTH_URL="$AUTH_URL" FIX_ADMIN_PASSWORD_FILE="$ADMIN_PW_FILE" FIX_RULES_SERVICE="$RULES_SERVICE" \
  PYTHONUNBUFFERED=1 setsid "$PY" "$SCRIPT_DIR/keystone_fixture.py" protect \
  --port "$RULES_PORT" --host 127.0.0.1 --log "$RULES_LOG" </dev/null >>"$RULES_LOG" 2>&1 &
RULES_PID=$!
echo "$RULES_PID" >"$DIR/rules.pid"

FIX_OUT=$(FIX_AUTH_URL="$AUTH_URL" FIX_ADMIN_PASSWORD_FILE="$ADMIN_PW_FILE" \
  FIX_PASSWORD_FILE="$PW_FILE" FIX_PASSWORD2_FILE="$PW2_FILE" \
  FIX_DOMAIN=users FIX_PROJECT=vkc-test FIX_USER=dev.user@example.com \
  FIX_PROJECT2=vkc-test-2 FIX_USER2=second.user@example.com \
  FIX_MFA_USER=mfa.user@example.com FIX_MFA_PASSWORD_FILE="$MFA_PW_FILE" \
  FIX_MFA_TOTP_SECRET_FILE="$TOTP_FILE" \
  FIX_APP_CRED_NAME=vkc-e2e FIX_APP_CRED_SECRET_FILE="$APP_CRED_FILE" \
  FIX_RULES_SERVICE="$RULES_SERVICE" FIX_RULES_URL="$RULES_URL" \
  timeout 120 "$PY" "$SCRIPT_DIR/keystone_fixture.py" create) \
  || { kill "$PID" 2>/dev/null || true; dump_logs; die "creating fixtures failed"; }
fix() { printf '%s\n' "$FIX_OUT" | sed -n "s/^$1=//p"; }
PROJECT_ID=$(fix PROJECT_ID); PROJECT2_ID=$(fix PROJECT2_ID)
APP_CRED_ID=$(fix APP_CRED_ID)
if [ -z "$PROJECT_ID" ] || [ -z "$PROJECT2_ID" ] || [ -z "$APP_CRED_ID" ]; then
  die "fixture script printed no project or application credential IDs"
fi

# Any answer (401 without a token) means the rules service is up.
deadline=$(( $(date +%s) + 60 ))
until [ "$(curl -sS -m 2 -o /dev/null -w '%{http_code}' "$RULES_URL/" 2>/dev/null)" != 000 ]; do
  if ! kill -0 "$RULES_PID" 2>/dev/null || [ "$(date +%s)" -ge "$deadline" ]; then
    { echo "--- tail of $RULES_LOG"; tail -n 30 "$RULES_LOG"; } >&2 2>/dev/null || true
    die "the access-rules service (keystone_fixture.py protect) did not answer at $RULES_URL"
  fi
  sleep 0.2
done

{
  q() { printf 'export %s=%q\n' "$1" "$2"; }
  q VKC_E2E_AUTH_URL "$AUTH_URL"
  q VKC_E2E_PROJECT_ID "$PROJECT_ID"
  q VKC_E2E_PROJECT_NAME vkc-test
  q VKC_E2E_USERNAME dev.user@example.com
  q VKC_E2E_USER_DOMAIN users
  q VKC_E2E_PASSWORD_FILE "$PW_FILE"
  q VKC_E2E_PROJECT2_ID "$PROJECT2_ID"
  q VKC_E2E_PROJECT2_NAME vkc-test-2
  q VKC_E2E_USERNAME2 second.user@example.com
  q VKC_E2E_PASSWORD2_FILE "$PW2_FILE"
  q VKC_E2E_MFA_USERNAME mfa.user@example.com
  q VKC_E2E_MFA_PASSWORD_FILE "$MFA_PW_FILE"
  q VKC_E2E_MFA_TOTP_SECRET_FILE "$TOTP_FILE"
  q VKC_E2E_APP_CRED_ID "$APP_CRED_ID"
  q VKC_E2E_APP_CRED_SECRET_FILE "$APP_CRED_FILE"
  q VKC_E2E_RULES_URL "$RULES_URL"
  q VKC_E2E_RULES_SERVICE "$RULES_SERVICE"
  q VKC_E2E_RULES_PID "$RULES_PID"
  q VKC_E2E_ADMIN_USERNAME admin
  q VKC_E2E_ADMIN_PASSWORD_FILE "$ADMIN_PW_FILE"
  q VKC_E2E_KEYSTONE_LOG "$ACCESS_LOG"
  q VKC_E2E_KEYSTONE_PID "$PID"
  q VKC_E2E_KEYSTONE_PORT "$PORT"
  q VKC_E2E_KEYSTONE_DIR "$DIR"
} >"$DIR/env.tmp"
mv "$DIR/env.tmp" "$DIR/env"
OK=1

END_TIME=$(date +%s.%N)
log "Keystone up at $AUTH_URL (pid $PID) in $(awk -v a="$START_TIME" -v b="$END_TIME" 'BEGIN{printf "%.1f", b-a}') s; env: $DIR/env"
