#!/usr/bin/env bash
# keystone-down.sh DIR — stop the Keystone started by keystone-up.sh DIR.
# Safe to call twice or when it never started (trap-friendly).  Bounded: TERM,
# wait up to 10 s, then KILL.  Does not delete DIR.
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
PIDFILE="$1/keystone.pid"
[ -f "$PIDFILE" ] || exit 0
PID=$(cat "$PIDFILE")
case "$PID" in ''|*[!0-9]*) echo "keystone-down.sh: bad pid file $PIDFILE" >&2; exit 1;; esac
DIR=$(cd "$1" && pwd)
# Only kill it if it still is our server (pid reuse guard): its command line
# holds DIR/keystone.conf.
if kill -0 "$PID" 2>/dev/null && tr '\0' '\n' 2>/dev/null <"/proc/$PID/cmdline" | grep -qxF "$DIR/keystone.conf"; then
  kill -TERM "$PID" 2>/dev/null || true
  for _ in $(seq 1 100); do
    kill -0 "$PID" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$PID" 2>/dev/null; then
    echo "keystone-down.sh: pid $PID ignored TERM, sending KILL" >&2
    kill -KILL "$PID" 2>/dev/null || true
  fi
fi
rm -f "$PIDFILE"
