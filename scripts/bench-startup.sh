#!/usr/bin/env bash
# Whole-process timing of a cached `vkc-credential get`, in one run, against
# two floors:
#   (1) floor-readfile: a Go program that only reads one small file;
#   (2) floor-linked:   the same, linking urfave/cli/v2, go-keyring,
#                       net/http and encoding/json (their init runs).
# The binary timed is the one install.sh builds. The cache is filled from a
# real Keystone, so run it through the test environment:
#   bash scripts/test-env.sh bash scripts/bench-startup.sh [OUT.md]
# Writes a markdown table to OUT.md (default bench-results/startup.md).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/go/bin:$PATH
out=${1:-bench-results/startup.md}
runs=${BENCH_RUNS:-300}
: "${VKC_E2E_AUTH_URL:?run this through scripts/test-env.sh}"
command -v hyperfine >/dev/null || { echo "bench-startup.sh: hyperfine is needed (apt-get install hyperfine)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
PREFIX=$work/prefix bash install.sh >/dev/null
bin=$work/prefix/bin/vkc-credential
for f in floor-readfile floor-linked; do
  CGO_ENABLED=0 go build -trimpath -tags urfave_cli_no_docs -ldflags "-s -w" -o "$work/$f" "./bench/$f"
done

export HOME=$work/home XDG_CONFIG_HOME=$work/home/.config XDG_CACHE_HOME=$work/home/.cache
mkdir -p "$HOME"
"$bin" store --profile bench --auth-url "$VKC_E2E_AUTH_URL" --project-id "$VKC_E2E_PROJECT_ID" \
  --username "$VKC_E2E_USERNAME" --user-domain-name "$VKC_E2E_USER_DOMAIN" --password-stdin \
  < "$VKC_E2E_PASSWORD_FILE" >/dev/null
"$bin" get --profile bench </dev/null | grep -q '"cached":true' || { echo "bench-startup.sh: the cache is not warm" >&2; exit 1; }
cachefile=$(ls "$XDG_CACHE_HOME"/vkc-credential/*.json | head -n1)

hyperfine -N --warmup 30 --runs "$runs" --export-json "$work/h.json" \
  -n floor-readfile "$work/floor-readfile $cachefile" \
  -n floor-linked "$work/floor-linked $cachefile" \
  -n "cached get" "$bin get --profile bench --format token" >&2
erase() { "$bin" erase --profile bench </dev/null >/dev/null; }
trap 'erase; rm -rf "$work"' EXIT

rss() { /usr/bin/time -f %M "$@" </dev/null 2>&1 >/dev/null | tail -n1; }
rss_floor=$(rss "$work/floor-linked" "$cachefile")
rss_get=$(rss "$bin" get --profile bench --format token)

mkdir -p "$(dirname "$out")"
/usr/bin/python3 - "$work/h.json" "$rss_floor" "$rss_get" "$runs" > "$out" <<'PY'
import json, sys, platform, os
res = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
f1, f2, g = res["floor-readfile"], res["floor-linked"], res["cached get"]
ms = lambda r: r["mean"] * 1000
print(f"Cached `get`, whole process, hyperfine -N, {sys.argv[4]} runs each, {os.cpu_count()} cores, {platform.machine()}, Linux {platform.release()}\n")
print("| command | mean (ms) | stddev (ms) | median (ms) | vs floor (1) | vs floor (2) |")
print("|---|---|---|---|---|---|")
for name, r in (("(1) floor-readfile", f1), ("(2) floor-linked", f2), ("cached get", g)):
    print(f"| {name} | {ms(r):.3f} | {r['stddev']*1000:.3f} | {r['median']*1000:.3f} | {r['mean']/f1['mean']:.2f}x | {r['mean']/f2['mean']:.2f}x |")
print(f"\nMax RSS: floor-linked {sys.argv[2]} KiB, cached get {sys.argv[3]} KiB (/usr/bin/time -f %M).")
PY
cat "$out"
