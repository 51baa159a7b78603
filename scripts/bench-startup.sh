#!/usr/bin/env bash
# Whole-process cost of a cached `vkc-credential get`, against the floors:
#   (1) floor-readfile: a Go program that only reads one small file;
#   (2) floor-linked:   the same, linking urfave/cli/v2, go-keyring,
#                       net/http and encoding/json (their init runs), and
#                       go.yaml.in/yaml/v3 as the binary does; built with
#                       -tags floor_without_yaml it is the contract's floor
#                       (2) to the letter, without yaml.
# The binary measured is the one install.sh builds. The cache is filled from
# a real Keystone, so run it through the test environment:
#
#   bash scripts/test-env.sh bash scripts/bench-startup.sh [OUT.md]
#       time, in one hyperfine run; writes a markdown table to OUT.md
#       (default bench-results/startup.md)
#   bash scripts/test-env.sh bash scripts/bench-startup.sh --callgrind [--write] [--against REV]
#       count instructions (valgrind --tool=callgrind, deterministic where
#       time is not on a shared machine) and the package inits that run
#       before main (GODEBUG=inittrace=1), and print them as the markdown
#       block docs/speed.md keeps between <!-- figures:instructions -->
#       and <!-- /figures:instructions -->; --write puts it there;
#       --against REV measures the binary of commit REV too (git archive,
#       built the same way), for a before and after
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/go/bin:$PATH

mode=time write=false against="" out=bench-results/startup.md
while [ $# -gt 0 ]; do
  case "$1" in
    --callgrind) mode=callgrind ;;
    --write) write=true ;;
    --against) against=${2:?--against needs a commit}; shift ;;
    -*) echo "usage: bash scripts/bench-startup.sh [OUT.md] | --callgrind [--write] [--against REV]" >&2; exit 2 ;;
    *) out=$1 ;;
  esac
  shift
done
runs=${BENCH_RUNS:-300}
: "${VKC_E2E_AUTH_URL:?run this through scripts/test-env.sh}"
need() { command -v "$1" >/dev/null || { echo "bench-startup.sh: $1 is needed (apt-get install $1)" >&2; exit 1; }; }
if [ "$mode" = time ]; then need hyperfine; else need valgrind; fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
repo=$PWD
# install.sh from a checkout at dir into prefix, without the openstack
# CLI plugin (nothing here needs it).
install_at() { (cd "$1" && PREFIX=$2 VKC_SKIP_PLUGIN=1 bash install.sh >/dev/null); }
install_at "$repo" "$work/prefix"
bin=$work/prefix/bin/vkc-credential
floor() { CGO_ENABLED=0 go build -trimpath -tags "urfave_cli_no_docs $2" -ldflags "-s -w" -o "$work/$1" "./bench/$3"; }
floor floor-readfile "" floor-readfile
floor floor-linked "" floor-linked
floor floor-linked-no-yaml floor_without_yaml floor-linked
if [ -n "$against" ]; then
  mkdir "$work/base"
  git archive "$against" | tar -x -C "$work/base"
  install_at "$work/base" "$work/base-prefix"
fi

export HOME=$work/home XDG_CONFIG_HOME=$work/home/.config XDG_CACHE_HOME=$work/home/.cache
mkdir -p "$HOME"
"$bin" store --profile bench --auth-url "$VKC_E2E_AUTH_URL" --project-id "$VKC_E2E_PROJECT_ID" \
  --username "$VKC_E2E_USERNAME" --user-domain-name "$VKC_E2E_USER_DOMAIN" --password-stdin \
  < "$VKC_E2E_PASSWORD_FILE" >/dev/null
erase() { "$bin" erase --profile bench </dev/null >/dev/null; }
trap 'erase; rm -rf "$work"' EXIT
"$bin" get --profile bench </dev/null | grep -q '"cached":true' || { echo "bench-startup.sh: the cache is not warm" >&2; exit 1; }
cachefile=$(ls "$XDG_CACHE_HOME"/vkc-credential/*.json | head -n1)
get=(get --profile bench --format token)

if [ "$mode" = callgrind ]; then
  # Instructions of one run, all threads: "MEDIAN MIN MAX" of 7 runs. The
  # Go runtime's background threads (sysmon, the GC's workers) move the
  # count by a few per cent from run to run. Asynchronous preemption is
  # off: callgrind trips over the signal it sends (an assertion in
  # vgCallgrind_post_signal), and a run that trips anyway is run again.
  instructions() {
    local i n counts=()
    for i in $(seq 10); do
      n=$(GODEBUG=asyncpreemptoff=1 valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" </dev/null 2>&1 >/dev/null | awk '/Collected :/ { print $NF }')
      [ -z "$n" ] || counts+=("$n")
      [ "${#counts[@]}" -lt 7 ] || break
    done
    [ "${#counts[@]}" -eq 7 ] || { echo "bench-startup.sh: callgrind failed on $*" >&2; return 1; }
    printf '%s\n' "${counts[@]}" | sort -n | awk '{ c[NR] = $1 } END { print c[4], c[1], c[7] }'
  }
  # The package inits of 21 runs (GODEBUG=inittrace=1): one line a run
  # and a package, "init PKG @T ms, CLOCK ms clock, BYTES bytes, ALLOCS allocs".
  inits() { for _ in $(seq 21); do GODEBUG=inittrace=1 "$@" </dev/null 2>&1 >/dev/null | grep '^init '; done; }
  count() { local n; n=$(instructions "${@:2}") || exit 1; echo "$1 $n"; }
  {
    count floor-readfile "$work/floor-readfile" "$cachefile"
    count floor-linked-no-yaml "$work/floor-linked-no-yaml" "$cachefile"
    count floor-linked "$work/floor-linked" "$cachefile"
    [ -z "$against" ] || count base "$work/base-prefix/bin/vkc-credential" "${get[@]}"
    count get "$bin" "${get[@]}"
  } > "$work/instructions"
  inits "$bin" "${get[@]}" > "$work/inits"
  inits "$work/floor-linked-no-yaml" "$cachefile" > "$work/inits-floor"
  commit=$(git log -1 --format=%h -- '*.go' go.mod go.sum 2>/dev/null || echo unknown)
  if [ -n "$(git status --porcelain --untracked-files=no -- '*.go' go.mod go.sum 2>/dev/null)" ]; then commit="$commit + uncommitted Go changes"; fi
  base=""
  [ -z "$against" ] || base="$(git rev-parse --short "$against^{commit}") ($against)"
  block=$(/usr/bin/python3 - "$work/instructions" "$work/inits" "$work/inits-floor" "$commit" "$base" "$(go env GOVERSION)" <<'PY'
import re, statistics, sys, datetime, os, platform
counts = {k: [int(x) for x in v] for k, *v in (l.split() for l in open(sys.argv[1]))}
commit, against, gover = sys.argv[4], sys.argv[5], sys.argv[6]
cpu = next((l.split(": ", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "an unknown CPU")
def inits(path):
    per = {}
    for l in open(path):
        m = re.match(r"init (\S+) @\S+ ms, (\S+) ms clock, (\d+) bytes, (\d+) allocs", l)
        if m:
            per.setdefault(m[1], []).append((float(m[2]), int(m[3]), int(m[4])))
    # clock: the median of the runs; bytes and allocs do not move.
    return {p: (statistics.median(c for c, _, _ in v), v[0][1], v[0][2]) for p, v in per.items()}
g, f = inits(sys.argv[2]), inits(sys.argv[3])
print("<!-- figures:instructions -->")
print(f"Measured by `bash scripts/test-env.sh bash scripts/bench-startup.sh --callgrind` on "
      f"{datetime.date.today()}, {cpu} ({os.cpu_count()} cores), {gover}, commit {commit}: instructions "
      "of one run, all threads (`valgrind --tool=callgrind`, the median of 7 runs and their range; "
      "`GODEBUG=asyncpreemptoff=1`), the binary as install.sh builds it "
      "running `get --profile bench --format token` with a warm cache.\n")
print("| program | instructions (median) | range of 7 | vs floor (1) | vs floor (2), no yaml | vs floor (2) with yaml |")
print("|---|---|---|---|---|---|")
rows = [("(1) floor-readfile", "floor-readfile"),
        ("(2) floor-linked -tags floor_without_yaml (the contract's floor)", "floor-linked-no-yaml"),
        ("(2) floor-linked, with yaml as the binary links it", "floor-linked")]
if against:
    rows.append((f"cached get, commit {against}", "base"))
rows.append(("**cached get**", "get"))
n = lambda k: counts[k][0]
for name, k in rows:
    lo, hi = counts[k][1:]
    print(f"| {name} | {n(k)/1e6:.3f} M | {lo/1e6:.3f}–{hi/1e6:.3f} M | {n(k)/n('floor-readfile'):.2f}x | {n(k)/n('floor-linked-no-yaml'):.2f}x | {n(k)/n('floor-linked'):.2f}x |")
tot = lambda d: (len(d), sum(v[0] for v in d.values()), sum(v[1] for v in d.values()), sum(v[2] for v in d.values()))
print("\nPackage inits before main (`GODEBUG=inittrace=1`, clock the median of 21 runs):\n")
print("| program | inits | clock (ms) | bytes | allocs |")
print("|---|---|---|---|---|")
for name, d in (("(2) floor-linked -tags floor_without_yaml", f), ("cached get", g)):
    c, ms, b, a = tot(d)
    print(f"| {name} | {c} | {ms:.3f} | {b} | {a} |")
print("\nThe cached get's inits that the floor does not run, the costliest first:\n")
print("| package | clock (ms) | bytes | allocs |")
print("|---|---|---|---|")
extra = sorted(((p, v) for p, v in g.items() if p not in f), key=lambda pv: (-pv[1][0], -pv[1][2]))
for p, (ms, b, a) in extra[:8]:
    print(f"| {p} | {ms:.3f} | {b} | {a} |")
c, ms, b, a = tot(dict(extra))
print(f"| all {c} | {ms:.3f} | {b} | {a} |")
print("<!-- /figures:instructions -->")
PY
  )
  echo "$block"
  if $write; then
    doc=docs/speed.md
    grep -q '^<!-- figures:instructions -->$' "$doc" || { echo "bench-startup.sh: $doc has no <!-- figures:instructions --> block" >&2; exit 1; }
    tmp=$(mktemp)
    BLOCK=$block awk '
      /^<!-- figures:instructions -->$/ { print ENVIRON["BLOCK"]; skip = 1; next }
      /^<!-- \/figures:instructions -->$/ { skip = 0; next }
      !skip { print }' "$doc" > "$tmp"
    cat "$tmp" > "$doc"
    rm -f "$tmp"
    echo "bench-startup.sh: wrote the block into $doc" >&2
  fi
  exit 0
fi

hyperfine -N --warmup 30 --runs "$runs" --export-json "$work/h.json" \
  -n floor-readfile "$work/floor-readfile $cachefile" \
  -n floor-linked-no-yaml "$work/floor-linked-no-yaml $cachefile" \
  -n floor-linked "$work/floor-linked $cachefile" \
  -n "cached get" "$bin ${get[*]}" >&2

rss() { /usr/bin/time -f %M "$@" </dev/null 2>&1 >/dev/null | tail -n1; }
rss_floor=$(rss "$work/floor-linked" "$cachefile")
rss_get=$(rss "$bin" "${get[@]}")

mkdir -p "$(dirname "$out")"
/usr/bin/python3 - "$work/h.json" "$rss_floor" "$rss_get" "$runs" > "$out" <<'PY'
import json, sys, platform, os
res = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
f1, f2, f2y, g = res["floor-readfile"], res["floor-linked-no-yaml"], res["floor-linked"], res["cached get"]
ms = lambda r: r["mean"] * 1000
print(f"Cached `get`, whole process, hyperfine -N, {sys.argv[4]} runs each, {os.cpu_count()} cores, {platform.machine()}, Linux {platform.release()}\n")
print("| command | mean (ms) | stddev (ms) | median (ms) | vs floor (1) | vs floor (2), no yaml | vs floor (2) with yaml |")
print("|---|---|---|---|---|---|---|")
for name, r in (("(1) floor-readfile", f1), ("(2) floor-linked -tags floor_without_yaml (the contract's floor)", f2), ("(2) floor-linked, with yaml as the binary links it", f2y), ("cached get", g)):
    print(f"| {name} | {ms(r):.3f} | {r['stddev']*1000:.3f} | {r['median']*1000:.3f} | {r['mean']/f1['mean']:.2f}x | {r['mean']/f2['mean']:.2f}x | {r['mean']/f2y['mean']:.2f}x |")
print(f"\nMax RSS: floor-linked {sys.argv[2]} KiB, cached get {sys.argv[3]} KiB (/usr/bin/time -f %M).")
PY
cat "$out"
