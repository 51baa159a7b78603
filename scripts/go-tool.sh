# go-tool.sh — sourced by the scripts that build a pinned tool from the Go
# module proxy into a cache (install-goreleaser.sh, install-toxiproxy.sh,
# install-staticcheck.sh).
# The sourcing script sets NAME (for messages) and MODULE first, and calls
#   go_tool_setup "${1:-}"     # sets GO and BIN_DIR (the cache, or $1)
#   built_version FILE         # the version of MODULE that FILE was built
#                              # from ("" when FILE is missing or another)

die() { echo "$NAME: error: $*" >&2; exit 1; }
log() { echo "$NAME: $*" >&2; }

go_tool_setup() {
  if command -v go >/dev/null 2>&1; then
    GO=$(command -v go)
  elif [ -x /usr/local/go/bin/go ]; then
    GO=/usr/local/go/bin/go
  else
    die "no go command: install Go into /usr/local/go or PATH"
  fi
  BIN_DIR=${1:-${XDG_CACHE_HOME:-$HOME/.cache}/vkc-credential-bench/bin}
  mkdir -p "$BIN_DIR"
  BIN_DIR=$(cd "$BIN_DIR" && pwd)
}

built_version() {
  [ -x "$1" ] || return 0
  "$GO" version -m "$1" 2>/dev/null | awk -v m="$MODULE" '$1 == "mod" && $2 == m { print $3; exit }'
}
