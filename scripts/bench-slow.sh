#!/usr/bin/env bash
# Side by side, against a Keystone that costs what a real one does, in one
# run: whole-process wall time and Keystone requests of the ways tools get
# a token, with and without vkc-credential's cache.
#
#   bash scripts/test-env.sh bash scripts/bench-slow.sh [OUT_DIR]
#   BENCH_RUNS=1 BENCH_SMOKE=1 bash scripts/test-env.sh bash scripts/bench-slow.sh /tmp/bench-smoke
#
# The Keystone: a second one (scripts/keystone-up.sh, Debian's
# python3-keystone, sqlite, fernet), started by this script with
# VKC_E2E_HASH_ROUNDS=12 (bcrypt's default cost, as on a production
# Keystone) and reached only through toxiproxy (scripts/install-toxiproxy.sh)
# with a latency toxic of BENCH_LATENCY_MS (default 25) ms on each
# direction, so every request pays ~2x that in transit; its catalog points
# at the proxy too.  All on 127.0.0.1.  test-env.sh supplies the Secret
# Service (its own Keystone is not used).
#
# Rows (each timed by hyperfine as a whole process, BENCH_RUNS runs, default
# 10, after 1 warm-up run):
#   openstack project show   password in OS_PASSWORD | vkc-credential exec -- | vkc plugin, warm cache
#   openstack token issue    password in OS_PASSWORD | vkc-credential exec --serve -- | vkc plugin, warm cache
#   kubectl get x10          exec plugin vkc-credential (warm) | exec plugin that POSTs the password each call
#                            (against bench/kube-apiserver, a loopback HTTPS server that checks each
#                            bearer token with Keystone and, like kube-apiserver's webhook cache,
#                            remembers an accepted token for 2 minutes)
#   curl x10                 GET /v3/projects/ID with `get --format token` | with a password POST first
#   terraform plan           under vkc-credential exec | exec --serve | password in OS_PASSWORD
#   vkc-credential get       warm | cold (cache removed before each run)
# Keystone requests per row: the lines one run of it (before the timed runs;
# it also proves the row works) adds to Keystone's access log; every request
# line counts, as in bench-compare.sh.  BENCH_LATENCY_MS and
# BENCH_HASH_ROUNDS (default 12) change the Keystone.
#
# BENCH_SMOKE=1: 2 calls per loop row instead of 10, no warm-up run (with
# BENCH_RUNS=1 under a minute once the tools are built); proves the script
# and the POST counts, not for publishing.
#
# Writes OUT_DIR/slow.md (table), OUT_DIR/slow.json (rows, raw hyperfine
# results) and OUT_DIR/slow.png (chart, scripts/bench-chart.py; needs
# python3-matplotlib).  OUT_DIR defaults to bench-results.  Exits non-zero
# when a command fails or a row's count of token POSTs is not what it must be.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=terraform-workspace.sh
. scripts/terraform-workspace.sh
export PATH=/usr/local/go/bin:$PATH
out=${1:-bench-results}
runs=${BENCH_RUNS:-10}
smoke=${BENCH_SMOKE:-0}
latency=${BENCH_LATENCY_MS:-25}
rounds=${BENCH_HASH_ROUNDS:-12}
if [ "$smoke" = 1 ]; then n=2 warmup=0; else n=10 warmup=1; fi
: "${VKC_E2E_KEYRING_LOCK:?run this through scripts/test-env.sh}"
for c in hyperfine kubectl openstack curl; do
  command -v "$c" >/dev/null || { echo "bench-slow.sh: $c is not installed (scripts/test-env.sh --install-only installs all but kubectl; Debian has kubectl in kubernetes-client)" >&2; exit 1; }
done
mkdir -p "$out"
out=$(cd "$out" && pwd)
T0=$(date +%s)
log() { echo "bench-slow.sh: [$(( $(date +%s) - T0 )) s] $*" >&2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/vkc-bench-slow.XXXXXX")
bin=$work/prefix/bin/vkc-credential
pids=()
stored=""
cleanup() {
  local rc=$?
  set +e
  trap - EXIT INT TERM HUP
  # Only once HOME is the temp one: never a real profile of the user.
  [ -n "$stored" ] && "$bin" erase --profile bench </dev/null >/dev/null 2>&1
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  bash scripts/keystone-down.sh "$work/keystone" 2>/dev/null
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# Tools, built before HOME moves (GOPATH and Go's build cache are under it).
gobin=$(go env GOPATH | cut -d: -f1)/bin
toxbin=${XDG_CACHE_HOME:-$HOME/.cache}/vkc-credential-bench/bin
bash scripts/install-toxiproxy.sh "$toxbin"
bash scripts/install-terraform.sh "$gobin"
tf=$gobin/terraform
VKC_SKIP_PLUGIN=1 PREFIX=$work/prefix bash install.sh >/dev/null
bash integrations/keystoneauth/install.sh --target "$work/py" >/dev/null
go build -o "$work/kube-apiserver" ./bench/kube-apiserver
log "tools built"

free_port() { /usr/bin/python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
wait_for() { # wait_for WHAT CMD...: up to 30 s
  local what=$1; shift
  for _ in $(seq 1 300); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "bench-slow.sh: $what did not come up" >&2; return 1
}

# The slow Keystone.
VKC_E2E_HASH_ROUNDS=$rounds bash scripts/keystone-up.sh "$work/keystone"
# shellcheck disable=SC1091
source "$work/keystone/env"
klog=$VKC_E2E_KEYSTONE_LOG
direct=$VKC_E2E_AUTH_URL

# toxiproxy in front of it: BENCH_LATENCY_MS on each direction.
tport=$(free_port)
"$toxbin/toxiproxy-server" -host 127.0.0.1 -port "$tport" >"$work/toxiproxy.log" 2>&1 &
pids+=($!)
export TOXIPROXY_URL=http://127.0.0.1:$tport
wait_for toxiproxy curl -fsS "$TOXIPROXY_URL/version"
pport=$(free_port)
tox() { "$toxbin/toxiproxy-cli" "$@" >/dev/null; }
tox create --listen "127.0.0.1:$pport" --upstream "127.0.0.1:$VKC_E2E_KEYSTONE_PORT" keystone
tox toxic add --type latency --attribute "latency=$latency" --downstream --toxicName latency_down keystone
tox toxic add --type latency --attribute "latency=$latency" --upstream --toxicName latency_up keystone
url=http://127.0.0.1:$pport/v3
wait_for "Keystone through toxiproxy" curl -fsS "$url"

# Keystone's catalog points at the proxy, so that the openstack CLI and the
# Terraform provider, which take their identity endpoint from it, go
# through the proxy too.  (Admin calls, straight to Keystone.)
/usr/bin/python3 - "$direct" "$url" "$VKC_E2E_ADMIN_PASSWORD_FILE" <<'PY'
import json, sys, urllib.request
direct, proxied, pwf = sys.argv[1:]
def call(method, path, body=None, token=None):
    req = urllib.request.Request(direct.rstrip("/") + path, method=method,
                                 data=json.dumps(body).encode() if body else None,
                                 headers={"Content-Type": "application/json", **({"X-Auth-Token": token} if token else {})})
    with urllib.request.urlopen(req, timeout=60) as r:
        return r.headers.get("X-Subject-Token"), json.load(r)
tok, _ = call("POST", "/auth/tokens", {"auth": {"identity": {"methods": ["password"], "password": {"user": {
    "name": "admin", "domain": {"id": "default"}, "password": open(pwf).read()}}},
    "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}})
_, eps = call("GET", "/endpoints", token=tok)
for ep in eps["endpoints"]:
    if ep["url"].rstrip("/") == direct.rstrip("/"):
        call("PATCH", "/endpoints/" + ep["id"], {"endpoint": {"url": proxied}}, token=tok)
PY
log "Keystone (bcrypt cost $rounds) at $direct, through toxiproxy (+$latency ms each way) at $url"

# What one request costs, for the record: GET /v3 and a password POST, direct
# and through the proxy (median of 5).
body=$work/auth.json # the password is in this file (0600), never in an argv
(umask 077; /usr/bin/python3 - "$VKC_E2E_USERNAME" "$VKC_E2E_USER_DOMAIN" "$VKC_E2E_PASSWORD_FILE" "$VKC_E2E_PROJECT_ID" > "$body" <<'PY'
import json, sys
u, d, pwf, p = sys.argv[1:]
print(json.dumps({"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": u, "domain": {"name": d}, "password": open(pwf).read()}}}, "scope": {"project": {"id": p}}}}))
PY
)
median5() { for _ in 1 2 3 4 5; do curl -sf -o /dev/null -w '%{time_total}\n' "$@"; done | sort -n | sed -n 3p; }
probe_get_direct=$(median5 "$direct")
probe_get_proxy=$(median5 "$url")
probe_post_direct=$(median5 -X POST -H 'Content-Type: application/json' --data-binary "@$body" "$direct/auth/tokens")
probe_post_proxy=$(median5 -X POST -H 'Content-Type: application/json' --data-binary "@$body" "$url/auth/tokens")

# A user of vkc-credential: own HOME, one stored profile (password from a
# file on stdin), a warm cache.
stored=0
export HOME=$work/home XDG_CONFIG_HOME=$work/home/.config XDG_CACHE_HOME=$work/home/.cache
export PATH=$work/prefix/bin:$PATH PYTHONPATH=$work/py CHECKPOINT_DISABLE=1
mkdir -p "$HOME"
"$bin" store --profile bench --auth-url "$url" --project-id "$VKC_E2E_PROJECT_ID" \
  --username "$VKC_E2E_USERNAME" --user-domain-name "$VKC_E2E_USER_DOMAIN" --password-stdin \
  < "$VKC_E2E_PASSWORD_FILE" >/dev/null
stored=1
cachedir=$XDG_CACHE_HOME/vkc-credential

# The password path: the password in the environment of the tool (the point
# of the comparison), read from the file inside the row's own process.
pw_env=$work/pw.env
{
  printf 'export OS_AUTH_URL=%q OS_PROJECT_ID=%q OS_USERNAME=%q OS_USER_DOMAIN_NAME=%q OS_IDENTITY_API_VERSION=3 OS_REGION_NAME=RegionOne OS_INTERFACE=public\n' \
    "$url" "$VKC_E2E_PROJECT_ID" "$VKC_E2E_USERNAME" "$VKC_E2E_USER_DOMAIN"
  printf 'export OS_PASSWORD="$(cat %q)"\n' "$VKC_E2E_PASSWORD_FILE"
} > "$pw_env"

# kubectl: the API server, and two kubeconfigs.
"$work/kube-apiserver" -auth-url "$url" -ca-out "$work/kube-ca.pem" -url-out "$work/kube-url" >"$work/kube-apiserver.log" 2>&1 &
pids+=($!)
wait_for "bench/kube-apiserver" test -s "$work/kube-url"
kube_url=$(cat "$work/kube-url")
# The fresh-token plugin: a password POST with curl, its token as an ExecCredential.
cat > "$work/fresh-token-plugin" <<EOF
#!/bin/sh
set -e
tok=\$(curl -sf -D - -o /dev/null -X POST -H 'Content-Type: application/json' --data-binary @$body $url/auth/tokens | tr -d '\r' | sed -n 's/^x-subject-token: //Ip')
[ -n "\$tok" ]
printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s"}}\n' "\$tok"
EOF
chmod 700 "$work/fresh-token-plugin"
kubeconfig() { # kubeconfig FILE COMMAND ARGS-YAML
  cat > "$1" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: bench
  cluster: {server: "$kube_url", certificate-authority: "$work/kube-ca.pem"}
contexts:
- name: bench
  context: {cluster: bench, user: bench}
current-context: bench
users:
- name: bench
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: $2
      args: $3
      interactiveMode: Never
EOF
}
kubeconfig "$work/kc-vkc" "$bin" "[get, --profile, bench, --format, exec-credential]"
kubeconfig "$work/kc-fresh" "$work/fresh-token-plugin" "[]"

# Terraform: a workspace whose provider block is empty (all from the
# environment) and whose data source makes the provider authenticate.
tfdir=$work/tf
terraform_workspace "$work" "$tfdir" "$gobin" "$tf"
"$bin" get --profile bench </dev/null >/dev/null # warm
log "set up (${n} calls per loop row)"

# The rows: name, group, kind (vkc | baseline | ref), expected POSTs
# /v3/auth/tokens per run (a number, "n" = one per call, or "-" for
# unchecked), and the script of one run.
names=() groups=() kinds=() wantposts=() scripts=() prepares=()
row() {
  local i=${#names[@]}
  names+=("$1"); groups+=("$2"); kinds+=("$3"); wantposts+=("$4"); prepares+=("$5")
  scripts+=("$work/row$i.sh")
  printf '#!/bin/bash\nset -euo pipefail\nexec </dev/null\n%s\n' "$6" > "$work/row$i.sh"
}
osc="project show $VKC_E2E_PROJECT_ID -f value -c id"
row "openstack project show, password in OS_PASSWORD" openstack baseline 1 true \
  "source $pw_env; exec openstack $osc"
row "openstack project show, vkc-credential exec (v3token)" openstack vkc 1 true \
  "exec $bin exec --profile bench -- openstack $osc"
row "openstack project show, vkc plugin, warm cache" openstack vkc 0 true \
  "exec openstack --os-auth-type vkc --os-vkc-profile bench $osc"
row "openstack token issue, password in OS_PASSWORD" token-issue baseline 1 true \
  "source $pw_env; exec openstack token issue -f value -c id"
row "openstack token issue, vkc-credential exec --serve (stand-in), warm cache" token-issue vkc 0 true \
  "exec $bin exec --serve --profile bench -- openstack token issue -f value -c id"
row "openstack token issue, vkc plugin, warm cache" token-issue vkc 0 true \
  "exec openstack --os-auth-type vkc --os-vkc-profile bench token issue -f value -c id"
kget="kubectl get --raw /api/v1/namespaces"
row "$n x kubectl get, exec plugin vkc-credential (warm cache)" kubectl vkc 0 true \
  "for i in \$(seq $n); do $kget --kubeconfig $work/kc-vkc >/dev/null; done"
row "$n x kubectl get, exec plugin POSTs the password each call" kubectl baseline n true \
  "for i in \$(seq $n); do $kget --kubeconfig $work/kc-fresh >/dev/null; done"
proj="$url/projects/$VKC_E2E_PROJECT_ID"
row "$n x curl GET project, token from get --format token" curl vkc 0 true \
  "for i in \$(seq $n); do curl -sf -o /dev/null -H \"X-Auth-Token: \$($bin get --profile bench --format token)\" $proj; done"
row "$n x curl GET project, password POST first" curl baseline n true \
  "for i in \$(seq $n); do
  tok=\$(curl -sf -D - -o /dev/null -X POST -H 'Content-Type: application/json' --data-binary @$body $url/auth/tokens | tr -d '\r' | sed -n 's/^x-subject-token: //Ip')
  curl -sf -o /dev/null -H \"X-Auth-Token: \$tok\" $proj
done"
tfplan="$tf plan -input=false -no-color -lock=false"
row "terraform plan, vkc-credential exec" terraform vkc 1 true \
  "cd $tfdir; exec $bin exec --profile bench -- $tfplan"
row "terraform plan, vkc-credential exec --serve (stand-in), warm cache" terraform vkc 0 true \
  "cd $tfdir; exec $bin exec --serve --profile bench -- $tfplan"
row "terraform plan, password in OS_PASSWORD" terraform baseline 1 true \
  "source $pw_env; cd $tfdir; exec $tfplan"
row "vkc-credential get, warm" get vkc 0 true \
  "exec $bin get --profile bench --format token"
# Last: each run replaces the cached token.
printf 'rm -f %q/*.json\n' "$cachedir" > "$work/prep-cold.sh"
row "vkc-credential get, cold (cache removed before each run)" get ref 1 "bash $work/prep-cold.sh" \
  "exec $bin get --profile bench --format token"

# Keystone requests of one run of each row, from Keystone's access log;
# this run also proves that each row works (its output is shown if not).
# The cold row goes first (it replaces the cached token); the kubectl row
# with vkc-credential runs once before its counted run, uncounted, so that
# the API server's 2-minute cache holds the cached token, as in the timed
# runs.
calls() { grep -c '" [0-9][0-9][0-9] ' "$klog" || true; }
posts() { grep -c '"POST /v3/auth/tokens ' "$klog" || true; }
counts=$work/counts.tsv
: > "$counts"
last=$(( ${#names[@]} - 1 ))
for i in "$last" $(seq 0 $(( last - 1 ))); do
  if [ "${groups[$i]}" = kubectl ] && [ "${kinds[$i]}" = vkc ]; then bash "${scripts[$i]}" >/dev/null 2>&1 || true; fi
  bash -c "${prepares[$i]}"
  c0=$(calls); p0=$(posts)
  if ! bash "${scripts[$i]}" >"$work/row.out" 2>&1; then
    echo "bench-slow.sh: row failed: ${names[$i]} ($(cat "${scripts[$i]}" | tail -n +4))" >&2
    tail -n 30 "$work/row.out" >&2
    exit 1
  fi
  # Which requests: "METHOD /path STATUS", ids as {id}, for slow.json.
  reqs=$(grep '" [0-9][0-9][0-9] ' "$klog" | tail -n +"$(( c0 + 1 ))" |
    sed -E 's/.*"([A-Z]+) ([^ ?"]*)[^"]*" ([0-9]{3}) .*/\1 \2 \3/; s#/[0-9a-f]{32}#/{id}#g' | sort | uniq -c |
    awk '{ printf "%s%s x %s %s %s", (NR > 1 ? "; " : ""), $1, $2, $3, $4 }')
  printf '%s\t%s\t%s\t%s\t%d\t%d\t%s\n' "${names[$i]}" "${groups[$i]}" "${kinds[$i]}" "${wantposts[$i]}" \
    "$(( $(calls) - c0 ))" "$(( $(posts) - p0 ))" "$reqs" >> "$counts"
done
log "counted; timing $runs run(s) of each row"

args=()
for i in "${!names[@]}"; do
  args+=(--prepare "${prepares[$i]}" -n "${names[$i]}" "bash ${scripts[$i]}")
done
load0=$(cut -d' ' -f1-3 /proc/loadavg)
hyperfine -N --warmup "$warmup" --runs "$runs" --export-json "$work/h.json" "${args[@]}" >&2
load1=$(cut -d' ' -f1-3 /proc/loadavg)
log "timed"


BENCH_N=$n BENCH_WARMUP=$warmup BENCH_SMOKE=$smoke BENCH_LATENCY_MS=$latency BENCH_HASH_ROUNDS=$rounds \
LOADS="$load0 / $load1" TF_BIN=$tf PROBES="$probe_get_direct $probe_get_proxy $probe_post_direct $probe_post_proxy" \
/usr/bin/python3 - "$work/h.json" "$counts" "$out" "$runs" <<'PY'
import json, os, platform, subprocess, sys
results = json.load(open(sys.argv[1]))["results"]
counted = {l.split("\t", 1)[0]: l.rstrip("\n").split("\t") for l in open(sys.argv[2])}
out, runs = sys.argv[3], int(sys.argv[4])
env = os.environ
n, smoke = int(env["BENCH_N"]), env["BENCH_SMOKE"] == "1"
probes = [float(x) * 1000 for x in env["PROBES"].split()]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.machine())
def version(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=60).stdout.strip().splitlines()[0]
    except Exception:
        return "?"
rows, bad = [], []
for r in results:
    name, group, kind, want, c, p, reqs = counted[r["command"]]
    sd = r["stddev"]
    row = {"command": name, "group": group, "kind": kind,
           "mean_ms": r["mean"] * 1000, "stddev_ms": sd * 1000 if sd is not None else 0.0,
           "min_ms": r["min"] * 1000, "max_ms": r["max"] * 1000, "times_ms": [t * 1000 for t in r["times"]],
           "keystone_requests": int(c), "token_posts": int(p), "requests": reqs}
    rows.append(row)
    if want != "-" and int(p) != (n if want == "n" else int(want)):
        bad.append(f"{name}: {p} POST /v3/auth/tokens, want {n if want == 'n' else want}")
machine = f"{os.cpu_count()} cores, {cpu}"
what = (f"Keystone with bcrypt cost {env['BENCH_HASH_ROUNDS']} behind toxiproxy, +{env['BENCH_LATENCY_MS']} ms each way")
data = {"runs": runs, "warmup": int(env["BENCH_WARMUP"]), "calls_per_loop": n, "smoke": smoke,
        "machine": machine, "title": f"{what}: wall time and Keystone requests ({runs} runs each)",
        "loadavg_before_after": env["LOADS"], "latency_ms": int(env["BENCH_LATENCY_MS"]), "hash_rounds": int(env["BENCH_HASH_ROUNDS"]),
        "probe_ms": dict(zip(["get_direct", "get_proxy", "post_direct", "post_proxy"], probes)),
        "versions": {"openstack": version(["openstack", "--version"]), "kubectl": version(["kubectl", "version", "--client"]),
                     "terraform": version([env.get("TF_BIN", "terraform"), "version"])},
        "rows": rows}
json.dump(data, open(os.path.join(out, "slow.json"), "w"), indent=2)
with open(os.path.join(out, "slow.md"), "w") as f:
    if smoke:
        f.write("**SMOKE RUN: proves the script works; not for publishing.**\n\n")
    f.write(f"{what}; {runs} runs each (hyperfine, {data['warmup']} warm-up run(s)); {n} calls per loop row; {machine}.\n")
    f.write(f"One GET /v3: {probes[0]:.1f} ms direct, {probes[1]:.1f} ms through the proxy; "
            f"one password POST /v3/auth/tokens: {probes[2]:.1f} ms direct, {probes[3]:.1f} ms through the proxy (medians of 5).\n")
    f.write(f"Load average (1, 5, 15 min) before / after the timed runs: {env['LOADS']}.\n")
    f.write(f"{data['versions']['openstack']}; kubectl {data['versions']['kubectl']}; {data['versions']['terraform']}.\n\n")
    f.write("| row | wall time, mean ± sd (ms) | Keystone requests | of them POST /v3/auth/tokens |\n|---|---|---|---|\n")
    for r in rows:
        f.write(f"| {r['command']} | {r['mean_ms']:.1f} ± {r['stddev_ms']:.1f} | {r['keystone_requests']} | {r['token_posts']} |\n")
    f.write("\nKeystone requests of one run of each row (access log):\n\n")
    for r in rows:
        f.write(f"- {r['command']}: {r['requests'] or 'none'}\n")
print(open(os.path.join(out, "slow.md")).read())
if bad:
    print("bench-slow.sh: unexpected token POST counts:\n  " + "\n  ".join(bad), file=sys.stderr)
    sys.exit(1)
PY
if /usr/bin/python3 -c 'import matplotlib' 2>/dev/null; then
  /usr/bin/python3 scripts/bench-chart.py "$out/slow.json" "$out/slow.png"
else
  echo "bench-slow.sh: python3-matplotlib is not installed; no chart" >&2
fi
log "done: $out/slow.md, slow.json, slow.png"
