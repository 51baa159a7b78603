#!/usr/bin/env bash
# keystone-down.sh DIR — stop the Keystone started by keystone-up.sh DIR, and
# its access-rules service.  Safe to call twice or when it never started
# (trap-friendly).  Bounded: TERM, wait up to 10 s, then KILL.  Does not
# delete DIR.
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
[ -d "$1" ] || exit 0
DIR=$(cd "$1" && pwd)

# stop PIDFILE MARK: stop the process of PIDFILE, but only if it still is
# ours (pid reuse guard): its command line holds the argument MARK.
stop() {
  local pidfile=$1 mark=$2 pid
  [ -f "$pidfile" ] || return 0
  pid=$(cat "$pidfile")
  case "$pid" in ''|*[!0-9]*) echo "keystone-down.sh: bad pid file $pidfile" >&2; return 1;; esac
  if kill -0 "$pid" 2>/dev/null && tr '\0' '\n' 2>/dev/null <"/proc/$pid/cmdline" | grep -qxF "$mark"; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      echo "keystone-down.sh: pid $pid ignored TERM, sending KILL" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$pidfile"
}
rc=0
stop "$DIR/rules.pid" "$DIR/rules.log" || rc=1
stop "$DIR/keystone.pid" "$DIR/keystone.conf" || rc=1
exit "$rc"
