#!/usr/bin/env bash
# The whole test suite, from a fresh machine: static checks (gofmt, go vet,
# staticcheck), cross-OS builds, then every Go test (unit and end to end)
# with the race detector, against a real Keystone and a real Secret Service
# that test-env.sh installs and starts.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/go/bin:$PATH

echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change: $unformatted" >&2
  exit 1
fi
echo "== go vet"
go vet ./...
echo "== staticcheck (pinned, built from the Go module proxy once into a cache)"
staticcheck=$(bash scripts/install-staticcheck.sh)
"$staticcheck" ./...
# The other systems' files, without the tests (they run on linux only)
# and without U1000: a helper that only linux's files call is unused there.
GOOS=darwin "$staticcheck" -tests=false -checks inherit,-U1000 ./...
GOOS=windows "$staticcheck" -tests=false -checks inherit,-U1000 ./...
echo "== cross builds (linux, darwin, windows × amd64, arm64)"
# `cmd && echo` would hide a failing build from set -e: test it with if.
for target in linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64; do
  if ! GOOS=${target%/*} GOARCH=${target#*/} go build -o /dev/null .; then
    echo "cross build failed: $target" >&2
    exit 1
  fi
  echo "$target: ok"
done
echo "== Terraform and the OpenStack provider, built from the Go module proxy (cached after the first run)"
bash scripts/install-terraform.sh
echo "== fuzzing (seed corpora in testdata/fuzz, then ${VKC_FUZZ_TIME:-30s} each)"
go test -run '^$' -fuzz '^FuzzParseRequest$' -fuzztime "${VKC_FUZZ_TIME:-30s}" ./protocol/
go test -run '^$' -fuzz '^FuzzParseOpenRC$' -fuzztime "${VKC_FUZZ_TIME:-30s}" ./helper/
go test -run '^$' -fuzz '^FuzzNormalizeAuthURL$' -fuzztime "${VKC_FUZZ_TIME:-30s}" ./protocol/
echo "== slow-Keystone benchmark, smoke run (proves scripts/bench-slow.sh works; figures in docs/benchmarks.md)"
bench_out=$(mktemp -d)
BENCH_RUNS=1 BENCH_SMOKE=1 bash scripts/test-env.sh bash scripts/bench-slow.sh "$bench_out" >"$bench_out/log" 2>&1 || {
  tail -n 40 "$bench_out/log" >&2; echo "bench-slow.sh smoke run failed" >&2; exit 1; }
tail -n 20 "$bench_out/slow.md"
echo "== release: goreleaser snapshot, archives, .deb/.rpm, wheel, completions, man page (scripts/test-release.sh)"
bash scripts/test-release.sh
echo "== go test -race (unit and end to end)"
# -p 1: one package at a time, so that the keyring package's tests and the
# e2e suite do not share the Secret Service and the two cores at once.
# 30m: the e2e suite includes runs that outlast three 60 s tokens
# (TestStandinOutlastsTokens, about 5 minutes).
VKC_E2E_REQUIRED=1 bash scripts/test-env.sh go test -race -count=1 -p 1 -timeout 30m ./...
