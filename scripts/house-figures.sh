#!/usr/bin/env bash
# house-figures.sh — measure the house figures of issue 17 and print them
# beside their targets, one line each, then the offenders:
#
#   largest non-test Go file            target <= 500 lines
#   highest cyclomatic complexity        target <= 20, none over 15 but the
#     (gocyclo, non-test code)           error and flag tables
#   unit statement coverage without      target >= 85% overall, cmdline >= 80%
#     Keystone (go test -cover of every
#     package but e2e)
#   near-copies between non-test files   target <= 2 pairs
#     (duplicates)
#
#   bash scripts/house-figures.sh           # all four, ~1 minute on 2 cores
#   bash scripts/house-figures.sh --quick   # without the coverage run
#
# gocyclo is github.com/fzipp/gocyclo at a pinned version, built into the
# tool cache as the other scripts/install-*.sh do (scripts/go-tool.sh);
# duplicates is used when it is on PATH (it is not a Go module), else that
# figure is skipped. Exit 0 always: the figures are for reading, not a gate.
# Not run in CI.
set -euo pipefail
cd "$(dirname "$0")/.."

NAME=house-figures.sh
MODULE=github.com/fzipp/gocyclo
VERSION=${VKC_GOCYCLO_VERSION:-v0.6.0}
. scripts/go-tool.sh
go_tool_setup ""

quick=false
[ "${1:-}" = --quick ] && quick=true

# The non-test Go files git knows (tracked, or new and not ignored).
mapfile -t files < <(git ls-files -co --exclude-standard '*.go' | grep -v '_test\.go$' | sort)

# 1. The largest file.
echo "== largest non-test Go files (target <= 500 lines)"
wc -l "${files[@]}" | grep -v ' total$' | sort -rn | awk 'NR <= 5 || $1 > 500 { printf "  %5d %s%s\n", $1, $2, ($1 > 500 ? "  OVER" : "") }'

# 2. Cyclomatic complexity.
gocyclo=$BIN_DIR/gocyclo
if [ "$(built_version "$gocyclo")" != "$VERSION" ]; then
  log "building $MODULE/cmd/gocyclo@$VERSION into $BIN_DIR"
  GOBIN="$BIN_DIR" CGO_ENABLED=0 GOFLAGS='' GOTOOLCHAIN=local "$GO" install "$MODULE/cmd/gocyclo@$VERSION" >&2
fi
echo "== cyclomatic complexity, non-test code (target <= 20, none over 15 but the error and flag tables)"
"$gocyclo" -over 15 "${files[@]}" | sed 's/^/  /' || true
"$gocyclo" -top 1 "${files[@]}" | awk '{ printf "  highest: %s %s %s\n", $1, $3, $4 }'
echo "  over 14: $("$gocyclo" -over 14 "${files[@]}" | wc -l) functions"

# 3. Coverage without Keystone.
if ! $quick; then
  echo "== unit statement coverage without Keystone (target >= 85% overall, cmdline >= 80%)"
  profile=$(mktemp)
  trap 'rm -f "$profile"' EXIT
  # VKC_E2E_* unset: the tests that want a real Keystone skip.
  env -u VKC_E2E_AUTH_URL -u VKC_E2E_REQUIRED "$GO" test -count=1 -coverprofile="$profile" \
    $("$GO" list ./... | grep -v '/e2e$') 2>&1 | awk '/coverage:/ { for (i = 1; i <= NF; i++) { if ($i ~ /^vkc-credential/) p = $i; if ($i == "coverage:") c = $(i+1) } printf "  %-45s %s\n", p, c }'
  echo "  overall: $("$GO" tool cover -func="$profile" | awk '/^total:/ { print $NF }')"
fi

# 4. Near-copies.
echo "== near-copies between non-test files (duplicates; target <= 2 pairs)"
if command -v duplicates >/dev/null 2>&1; then
  tree=$(mktemp -d)
  for f in "${files[@]}"; do mkdir -p "$tree/$(dirname "$f")"; cp "$f" "$tree/$f"; done
  rows=$(duplicates --repo "$tree" --most 200 --seconds 60 | grep -E '^D[0-9]+ ' || true)
  rm -rf "$tree"
  # Rows duplicates marks boilerplate, and rows whose two sides both lie
  # in import blocks, are not near-copies of code.
  python3 - "$rows" <<'EOF'
import re, sys
def in_imports(path, lo, hi):
    lines = open(path).read().split("\n")
    inside, spans = False, []
    for i, l in enumerate(lines, 1):
        if l.startswith("import ("):
            inside, start = True, i
        elif inside and l == ")":
            inside = False
            spans.append((start, i))
    return any(a <= lo and hi <= b for a, b in spans)
count = 0
for row in sys.argv[1].splitlines():
    m = re.match(r"D\d+ (\S+):(\d+)-(\d+) ~ (\S+):(\d+)-(\d+)", row)
    if not m or "boilerplate" in row:
        continue
    a, alo, ahi, b, blo, bhi = m.groups()
    if in_imports(a, int(alo), int(ahi)) and in_imports(b, int(blo), int(bhi)):
        continue
    count += 1
    print("  " + row)
print(f"  pairs: {count}")
EOF
else
  echo "  skipped: no duplicates command on PATH"
fi
