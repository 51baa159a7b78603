#!/usr/bin/env bash
# The whole test suite, from a fresh machine: static checks (gofmt, go vet,
# staticcheck), cross-OS builds, then every Go test (unit and end to end)
# with the race detector, against a real Keystone and a real Secret Service
# that test-env.sh installs and starts.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/go/bin:$PATH

# stage NAME: print the stage's heading, and the time the previous one
# took; at the end of the script, every stage's time (a table to see where
# CI's minutes go).
started=$SECONDS stage_start=$SECONDS stage_name="" timings=""
stage() {
  if [ -n "$stage_name" ]; then
    timings+="$(printf '%6d s  %s' $((SECONDS - stage_start)) "$stage_name")"$'\n'
  fi
  stage_name=$1 stage_start=$SECONDS
  [ -z "$1" ] || echo "== $1"
}
trap 'stage ""; printf "== time per stage\n%s%6d s  in all\n" "$timings" $((SECONDS - started))' EXIT

stage "gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change: $unformatted" >&2
  exit 1
fi
stage "go vet"
go vet ./...
stage "staticcheck (pinned, built from the Go module proxy once into a cache)"
staticcheck=$(bash scripts/install-staticcheck.sh)
"$staticcheck" ./...
# The other systems' files, without the tests (they run on linux only)
# and without U1000: a helper that only linux's files call is unused there.
GOOS=darwin "$staticcheck" -tests=false -checks inherit,-U1000 ./...
GOOS=windows "$staticcheck" -tests=false -checks inherit,-U1000 ./...
stage "cross builds (linux, darwin, windows × amd64, arm64)"
# `cmd && echo` would hide a failing build from set -e: test it with if.
for target in linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64; do
  if ! GOOS=${target%/*} GOARCH=${target#*/} go build -o /dev/null .; then
    echo "cross build failed: $target" >&2
    exit 1
  fi
  echo "$target: ok"
done
stage "Terraform and the OpenStack provider, built from the Go module proxy (cached after the first run)"
bash scripts/install-terraform.sh
stage "fuzzing (seed corpora in testdata/fuzz, then a number of inputs each)"
# A count of inputs, not a time: with -fuzztime as a duration, go1.26's
# fuzzing coordinator can report a spurious "context deadline exceeded"
# when a worker is busy at the deadline (go.dev/issue/75804, fixed in Go
# 1.27). Each count is a few seconds here; VKC_FUZZ_TIME (a count such as
# 1000000x, or a duration) overrides them all for a longer run.
fuzz() { go test -run '^$' -fuzz "^$1\$" -fuzztime "${VKC_FUZZ_TIME:-$3}" "$2"; }
fuzz FuzzParseRequest ./protocol/ 40000x
fuzz FuzzParseOpenRC ./helper/ 50000x
fuzz FuzzNormalizeAuthURL ./protocol/ 100000x
fuzz FuzzLoadCloud ./helper/clouds/ 2000x
stage "slow-Keystone benchmark, smoke run (proves scripts/bench-slow.sh works; figures in docs/benchmarks.md)"
bench_out=$(mktemp -d)
BENCH_RUNS=1 BENCH_SMOKE=1 bash scripts/test-env.sh bash scripts/bench-slow.sh "$bench_out" >"$bench_out/log" 2>&1 || {
  tail -n 40 "$bench_out/log" >&2; echo "bench-slow.sh smoke run failed" >&2; exit 1; }
tail -n 20 "$bench_out/slow.md"
stage "release: goreleaser snapshot, archives, .deb/.rpm, wheel, completions, man page (scripts/test-release.sh)"
bash scripts/test-release.sh
stage "go test -race (unit and end to end)"
# -p 1: one package at a time, so that the keyring package's tests and the
# e2e suite do not share the Secret Service and the two cores at once.
# 30m: the e2e suite includes runs that outlast three 60 s tokens
# (TestStandinOutlastsTokens, about 5 minutes).
VKC_E2E_REQUIRED=1 bash scripts/test-env.sh go test -race -count=1 -p 1 -timeout 30m ./...
