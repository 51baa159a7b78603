#!/usr/bin/env bash
# The Keystone stand-in's figures, measured side by side in one run (not
# part of CI; docs/benchmarks.md quotes them):
#
#   bash scripts/test-env.sh bash scripts/bench-standin.sh [OUT_DIR]
#   BENCH_RUNS=3 BENCH_STANDIN_MINUTES=2 bash scripts/test-env.sh bash scripts/bench-standin.sh /tmp/bs   # a quick try
#
# 1. `terraform plan` (Terraform and the OpenStack provider of
#    scripts/install-terraform.sh, an empty provider block and an
#    openstack_identity_auth_scope_v3 data source, so the plan signs in)
#    under `vkc-credential exec --` and under `vkc-credential exec --serve --`,
#    with a warm cache, against test-env.sh's Keystone: hyperfine, BENCH_RUNS
#    runs each (default 20) after 2 warm-up runs, alternating.  Target: the
#    stand-in costs at most 1.05x.
# 2. 20 gophercloud clients (bench/gophercloud-clients: re-authentication
#    on, GET /v3/projects/ID every 3 s each) under one `exec --serve` for
#    BENCH_STANDIN_MINUTES minutes (default 10), against a second Keystone
#    started here with [token] expiration = 60: the token POSTs its access
#    log shows (target: at most one per token lifetime, 11 for 10 minutes),
#    failed calls (0) and tokens used.
#
# Writes OUT_DIR/standin.md and OUT_DIR/standin.json (OUT_DIR defaults to
# bench-results).  Exits non-zero when a run fails; the targets are
# reported, not enforced.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=terraform-workspace.sh
. scripts/terraform-workspace.sh
export PATH=/usr/local/go/bin:$PATH
out=${1:-bench-results}
runs=${BENCH_RUNS:-20}
minutes=${BENCH_STANDIN_MINUTES:-10}
: "${VKC_E2E_KEYRING_LOCK:?run this through scripts/test-env.sh}"
command -v hyperfine >/dev/null || { echo "bench-standin.sh: hyperfine is not installed (scripts/test-env.sh --install-only)" >&2; exit 1; }
mkdir -p "$out"
out=$(cd "$out" && pwd)
T0=$(date +%s)
log() { echo "bench-standin.sh: [$(( $(date +%s) - T0 )) s] $*" >&2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/vkc-bench-standin.XXXXXX")
bin=$work/prefix/bin/vkc-credential
stored=()
cleanup() {
  local rc=$?
  set +e
  trap - EXIT INT TERM HUP
  # Only once HOME is the temp one: never a real profile of the user.
  for p in "${stored[@]}"; do "$bin" erase --profile "$p" </dev/null >/dev/null 2>&1; done
  bash scripts/keystone-down.sh "$work/keystone60" 2>/dev/null
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# Tools, built before HOME moves (GOPATH and Go's build cache are under it).
gobin=$(go env GOPATH | cut -d: -f1)/bin
bash scripts/install-terraform.sh "$gobin"
tf=$gobin/terraform
VKC_SKIP_PLUGIN=1 PREFIX=$work/prefix bash install.sh >/dev/null
go build -o "$work/gophercloud-clients" ./bench/gophercloud-clients
log "tools built"

export HOME=$work/home XDG_CONFIG_HOME=$work/home/.config XDG_CACHE_HOME=$work/home/.cache CHECKPOINT_DISABLE=1
mkdir -p "$HOME"
store() { # store PROFILE ENV_FILE: the e2e user of the Keystone that ENV_FILE describes
  ( # shellcheck disable=SC1090
    source "$2"
    "$bin" store --profile "$1" --auth-url "$VKC_E2E_AUTH_URL" --project-id "$VKC_E2E_PROJECT_ID" \
      --username "$VKC_E2E_USERNAME" --user-domain-name "$VKC_E2E_USER_DOMAIN" --password-stdin \
      < "$VKC_E2E_PASSWORD_FILE" >/dev/null )
  stored+=("$1")
}
posts() { grep -c '"POST /v3/auth/tokens ' "$1" || true; }

# 1. terraform plan, exec against exec --serve.
store bench "$VKC_E2E_DIR/keystone/env"
tfdir=$work/tf
terraform_workspace "$work" "$tfdir" "$gobin" "$tf"
"$bin" get --profile bench </dev/null >/dev/null # warm
plan="$tf plan -input=false -no-color -lock=false"
printf '#!/bin/bash\nset -e\ncd %q\nexec %q exec --profile bench -- %s\n' "$tfdir" "$bin" "$plan" > "$work/plan-exec.sh"
printf '#!/bin/bash\nset -e\ncd %q\nexec %q exec --serve --profile bench -- %s\n' "$tfdir" "$bin" "$plan" > "$work/plan-serve.sh"
for s in plan-exec plan-serve; do bash "$work/$s.sh" </dev/null >/dev/null || { echo "bench-standin.sh: $s failed" >&2; bash "$work/$s.sh" </dev/null; exit 1; }; done
log "timing terraform plan, $runs runs each"
load0=$(cut -d' ' -f1-3 /proc/loadavg)
hyperfine -N --warmup 2 --runs "$runs" --export-json "$work/plan.json" \
  -n "terraform plan, vkc-credential exec (token)" "bash $work/plan-exec.sh" \
  -n "terraform plan, vkc-credential exec --serve (stand-in)" "bash $work/plan-serve.sh" >&2
load1=$(cut -d' ' -f1-3 /proc/loadavg)

# 2. 20 gophercloud clients for BENCH_STANDIN_MINUTES minutes, 60 s tokens.
log "starting a Keystone with 60 s tokens"
VKC_E2E_TOKEN_EXPIRATION=60 bash scripts/keystone-up.sh "$work/keystone60"
store short "$work/keystone60/env"
klog=$work/keystone60/keystone-access.log
p0=$(posts "$klog")
log "20 gophercloud clients for $minutes minutes under exec --serve"
start=$(date +%s)
"$bin" exec --serve --profile short -- "$work/gophercloud-clients" -clients 20 -duration "${minutes}m" -every 3s \
  > "$work/clients.json" </dev/null
took=$(( $(date +%s) - start ))
p1=$(posts "$klog")
log "done in $took s"

BENCH_RUNS=$runs MINUTES=$minutes TOOK=$took POSTS=$(( p1 - p0 )) LOADS="$load0 / $load1" \
/usr/bin/python3 - "$work/plan.json" "$work/clients.json" "$out" <<'PY'
import json, os, platform, sys
plan = json.load(open(sys.argv[1]))["results"]
clients = json.load(open(sys.argv[2]))
out, env = sys.argv[3], os.environ
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.machine())
ex, sv = plan[0], plan[1]
ratio = sv["mean"] / ex["mean"]
posts, minutes = int(env["POSTS"]), int(env["MINUTES"])
data = {"machine": f"{os.cpu_count()} cores, {cpu}", "runs": int(env["BENCH_RUNS"]), "loadavg_before_after": env["LOADS"],
        "terraform_plan": [{"command": r["command"], "mean_ms": r["mean"] * 1000, "stddev_ms": (r["stddev"] or 0) * 1000,
                            "min_ms": r["min"] * 1000, "max_ms": r["max"] * 1000} for r in plan],
        "serve_over_exec": ratio,
        "gophercloud": {"clients": clients["clients"], "minutes": minutes, "seconds": int(env["TOOK"]), "calls": clients["calls"],
                        "failed": clients["failed"], "tokens": clients["all_tokens"], "keystone_token_posts": posts,
                        "target_posts": minutes + 1}}
json.dump(data, open(os.path.join(out, "standin.json"), "w"), indent=2)
with open(os.path.join(out, "standin.md"), "w") as f:
    f.write(f"{data['machine']}; load average before / after the timed runs: {env['LOADS']}.\n\n")
    f.write(f"terraform plan, warm cache, test-env.sh's Keystone; {data['runs']} runs each (hyperfine, 2 warm-up runs):\n\n")
    f.write("| command | mean ± sd (ms) | min (ms) | max (ms) |\n|---|---|---|---|\n")
    for r in data["terraform_plan"]:
        f.write(f"| {r['command']} | {r['mean_ms']:.1f} ± {r['stddev_ms']:.1f} | {r['min_ms']:.1f} | {r['max_ms']:.1f} |\n")
    f.write(f"\nexec --serve / exec: {ratio:.3f}x (target at most 1.05x).\n\n")
    g = data["gophercloud"]
    f.write(f"{g['clients']} gophercloud clients under one exec --serve for {g['seconds']} s, 60 s tokens: "
            f"{g['calls']} calls, {g['failed']} failed, {g['tokens']} distinct tokens, "
            f"{g['keystone_token_posts']} token POSTs at Keystone (target at most {g['target_posts']}).\n")
print(open(os.path.join(out, "standin.md")).read())
if clients["failed"]:
    sys.exit(1)
PY
log "done: $out/standin.md, standin.json"
