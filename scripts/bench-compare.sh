#!/usr/bin/env bash
# Side by side, against one local Keystone and in one run: wall time and
# Keystone calls per command for the ways a user gets an openstack token.
#   bash scripts/test-env.sh bash scripts/bench-compare.sh [OUT_DIR]
# Writes OUT_DIR/compare.md (table), OUT_DIR/compare.json (raw hyperfine
# results and call counts) and OUT_DIR/compare.png (chart; needs
# python3-matplotlib). OUT_DIR defaults to bench-results.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/go/bin:$PATH
out=${1:-bench-results}
runs=${BENCH_RUNS:-10}
: "${VKC_E2E_AUTH_URL:?run this through scripts/test-env.sh}"
mkdir -p "$out"

work=$(mktemp -d)
cleanup() { "$bin" erase --profile bench </dev/null >/dev/null 2>&1 || true; rm -rf "$work"; }
bin=$work/prefix/bin/vkc-credential
trap cleanup EXIT
PREFIX=$work/prefix bash install.sh >/dev/null
bash integrations/keystoneauth/install.sh >/dev/null

export HOME=$work/home XDG_CONFIG_HOME=$work/home/.config XDG_CACHE_HOME=$work/home/.cache
export PATH=$work/prefix/bin:$PATH CHECKPOINT_DISABLE=1
mkdir -p "$HOME"
"$bin" store --profile bench --auth-url "$VKC_E2E_AUTH_URL" --project-id "$VKC_E2E_PROJECT_ID" \
  --username "$VKC_E2E_USERNAME" --user-domain-name "$VKC_E2E_USER_DOMAIN" --password-stdin \
  < "$VKC_E2E_PASSWORD_FILE" >/dev/null
cachedir=$XDG_CACHE_HOME/vkc-credential

# The password path needs the password in the environment: that is the
# point of comparison. It stays inside this script's child processes.
pw_env=$work/pw.env
{
  printf 'export OS_AUTH_URL=%q OS_PROJECT_ID=%q OS_USERNAME=%q OS_USER_DOMAIN_NAME=%q OS_IDENTITY_API_VERSION=3 OS_REGION_NAME=RegionOne\n' \
    "$VKC_E2E_AUTH_URL" "$VKC_E2E_PROJECT_ID" "$VKC_E2E_USERNAME" "$VKC_E2E_USER_DOMAIN"
  printf 'export OS_PASSWORD="$(cat %q)"\n' "$VKC_E2E_PASSWORD_FILE"
} > "$pw_env"
body=$work/auth.json
/usr/bin/python3 - "$VKC_E2E_USERNAME" "$VKC_E2E_USER_DOMAIN" "$VKC_E2E_PASSWORD_FILE" "$VKC_E2E_PROJECT_ID" > "$body" <<'PY'
import json, sys
u, d, pwf, p = sys.argv[1:]
print(json.dumps({"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": u, "domain": {"name": d}, "password": open(pwf).read()}}}, "scope": {"project": {"id": p}}}}))
PY

names=(
  "openstack, password"
  "openstack via exec (v3token)"
  "openstack, vkc plugin, warm cache"
  "vkc-credential get, cold"
  "vkc-credential get, warm"
  "curl POST /v3/auth/tokens"
)
cmds=(
  "bash -c 'source $pw_env; exec openstack token issue -f value -c id'"
  "$bin exec --profile bench -- openstack token issue -f value -c id"
  "openstack --os-auth-type vkc --os-vkc-profile bench token issue -f value -c id"
  "$bin get --profile bench --format token"
  "$bin get --profile bench --format token"
  "curl -sf -o /dev/null -X POST -H 'Content-Type: application/json' --data-binary @$body ${VKC_E2E_AUTH_URL%/}/auth/tokens"
)
prepare=("true" "true" "true" "rm -f $cachedir/*.json" "true" "true")

# Keystone calls of one run of each command, counted in its access log.
calls() { grep -c '" [0-9][0-9][0-9] ' "$VKC_E2E_KEYSTONE_LOG" || true; }
posts() { grep -c '"POST /v3/auth/tokens ' "$VKC_E2E_KEYSTONE_LOG" || true; }
counts=$work/counts.tsv
: > "$counts"
"$bin" get --profile bench >/dev/null </dev/null # warm
for i in "${!cmds[@]}"; do
  bash -c "${prepare[$i]}"
  c0=$(calls); p0=$(posts)
  bash -c "${cmds[$i]}" >/dev/null </dev/null
  printf '%s\t%d\t%d\n' "${names[$i]}" "$(( $(calls) - c0 ))" "$(( $(posts) - p0 ))" >> "$counts"
  "$bin" get --profile bench >/dev/null </dev/null # keep the cache warm for the next one
done

args=()
for i in "${!cmds[@]}"; do
  args+=(--prepare "${prepare[$i]}" -n "${names[$i]}" "${cmds[$i]}")
done
hyperfine --warmup 2 --runs "$runs" --export-json "$work/h.json" "${args[@]}" >&2

/usr/bin/python3 - "$work/h.json" "$counts" "$out" "$runs" <<'PY'
import json, os, platform, subprocess, sys
h = json.load(open(sys.argv[1]))["results"]
counts = {}
for line in open(sys.argv[2]):
    name, c, p = line.rstrip("\n").split("\t")
    counts[name] = (int(c), int(p))
out, runs = sys.argv[3], sys.argv[4]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.machine())
rows = []
for r in h:
    c, p = counts[r["command"]]
    rows.append({"command": r["command"], "mean_ms": r["mean"] * 1000, "stddev_ms": r["stddev"] * 1000,
                 "keystone_requests": c, "token_posts": p})
json.dump({"runs": int(runs), "machine": f"{os.cpu_count()} cores, {cpu}", "rows": rows}, open(os.path.join(out, "compare.json"), "w"), indent=2)
with open(os.path.join(out, "compare.md"), "w") as f:
    f.write(f"{runs} runs each (hyperfine, 2 warm-up runs), Keystone {os.environ.get('VKC_E2E_AUTH_URL')} (Debian python3-keystone, sqlite, fernet), {os.cpu_count()} cores, {cpu}.\n\n")
    f.write("| command | wall time, mean ± sd (ms) | Keystone requests | of them POST /v3/auth/tokens |\n|---|---|---|---|\n")
    for r in rows:
        f.write(f"| {r['command']} | {r['mean_ms']:.1f} ± {r['stddev_ms']:.1f} | {r['keystone_requests']} | {r['token_posts']} |\n")
print(open(os.path.join(out, "compare.md")).read())
PY
if /usr/bin/python3 -c 'import matplotlib' 2>/dev/null; then
  /usr/bin/python3 scripts/bench-chart.py "$out/compare.json" "$out/compare.png"
else
  echo "bench-compare.sh: python3-matplotlib is not installed; no chart" >&2
fi
