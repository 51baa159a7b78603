#!/usr/bin/env bash
# figures.sh [--write] — measure the in-process benchmark figures that
# docs/speed.md quotes, and print them as the markdown block that the doc
# keeps between <!-- figures:in-process --> and <!-- /figures:in-process -->.
#
#   bash scripts/figures.sh            # print the block
#   bash scripts/figures.sh --write    # and put it into docs/speed.md
#
# Needs no Keystone and no keychain: the benchmarks use the fake Keystone
# (internal/keystonetest) and keychains in memory. About 30 s on 2 cores.
# The block says when, on what CPU, with which Go and at which commit the
# figures were measured, so a figure in the docs is never older than it
# says. BENCHTIME overrides the iterations (default 3000x).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/go/bin:$PATH

write=false
case "${1:-}" in
  --write) write=true ;;
  "") ;;
  *) echo "usage: bash scripts/figures.sh [--write]" >&2; exit 2 ;;
esac

benchtime=${BENCHTIME:-3000x}
raw=$(go test -run '^$' -bench 'BenchmarkCachedGetRun|BenchmarkReadCache' -benchmem -benchtime "$benchtime" -count 1 ./cmdline/ ./helper/)

# The commit of the last change to the Go code (a commit that only writes
# the figures into the doc changes nothing they measure).
commit=$(git log -1 --format=%h -- '*.go' go.mod go.sum 2>/dev/null || echo unknown)
if [ -n "$(git status --porcelain --untracked-files=no -- '*.go' go.mod go.sum 2>/dev/null)" ]; then commit="$commit + uncommitted Go changes"; fi
cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)

block=$(
  echo "<!-- figures:in-process -->"
  echo "Measured by \`bash scripts/figures.sh\` on $(date -u +%Y-%m-%d), ${cpu:-an unknown CPU} ($(nproc) cores), $(go env GOVERSION), commit $commit (\`go test -bench -benchmem -benchtime $benchtime\`):"
  echo
  echo "| benchmark | ns/op | B/op | allocs/op |"
  echo "|---|---|---|---|"
  echo "$raw" | awk '/^Benchmark/ {
    name = $1; sub(/-[0-9]+$/, "", name)
    for (i = 2; i < NF; i++) {
      if ($(i+1) == "ns/op") ns = $i
      if ($(i+1) == "B/op") b = $i
      if ($(i+1) == "allocs/op") a = $i
    }
    printf "| `%s` | %s | %s | %s |\n", name, ns, b, a
  }'
  echo "<!-- /figures:in-process -->"
)
echo "$block"

if $write; then
  doc=docs/speed.md
  grep -q '^<!-- figures:in-process -->$' "$doc" || { echo "figures.sh: $doc has no <!-- figures:in-process --> block" >&2; exit 1; }
  tmp=$(mktemp)
  BLOCK=$block awk '
    /^<!-- figures:in-process -->$/ { print ENVIRON["BLOCK"]; skip = 1; next }
    /^<!-- \/figures:in-process -->$/ { skip = 0; next }
    !skip { print }
  ' "$doc" >"$tmp"
  mv "$tmp" "$doc"
  echo "figures.sh: wrote the block into $doc" >&2
fi
