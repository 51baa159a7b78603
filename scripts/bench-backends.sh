#!/usr/bin/env bash
# What each keychain backend costs: store (no verify) and a cold
# get --refresh in os, keyctl and pass, beside a cached get.
#   bash scripts/test-env.sh bash scripts/bench-backends.sh
# Needs gpg, pass and hyperfine (test-env.sh installs them). The three
# profiles are of one identity, so each store writes every copy.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${VKC_E2E_AUTH_URL:?run this through scripts/test-env.sh}"
work=$(mktemp -d)
export HOME=$work/home XDG_CONFIG_HOME= XDG_CACHE_HOME=
mkdir -p "$HOME/.gnupg" && chmod 700 "$HOME/.gnupg"
cleanup() {
  for b in os keyctl pass; do "$bin" erase --profile "bench-$b" </dev/null >/dev/null 2>&1 || true; done
  gpgconf --kill gpg-agent 2>/dev/null || true
  rm -rf "$work"
}
bin=$work/prefix/bin/vkc-credential
trap cleanup EXIT
PREFIX=$work/prefix VKC_SKIP_PLUGIN=1 bash install.sh >/dev/null
gpg --batch --pinentry-mode loopback --passphrase '' --quick-gen-key 'bench <bench@example.com>' default default never >/dev/null 2>&1
fpr=$(gpg --list-secret-keys --with-colons | awk -F: '/^fpr/ {print $10; exit}')
pass init "$fpr" >/dev/null
cp "$VKC_E2E_PASSWORD_FILE" "$work/pw"
for b in os keyctl pass; do
  "$bin" store --profile "bench-$b" --auth-url "$VKC_E2E_AUTH_URL" --project-id "$VKC_E2E_PROJECT_ID" \
    --username "$VKC_E2E_USERNAME" --password-stdin --keyring "$b" <"$work/pw" >/dev/null 2>&1
done
runs=${BENCH_RUNS:-20}
args=()
for b in os keyctl pass; do
  args+=(-n "store $b (no verify)" "sh -c '$bin store --profile bench-$b --no-verify --password-stdin < $work/pw'")
done
for b in os keyctl pass; do
  args+=(-n "get --refresh $b" "$bin get --no-stdin --profile bench-$b --refresh --format token")
done
args+=(-n "get cached" "$bin get --no-stdin --profile bench-pass --format token")
hyperfine -N --warmup 3 --runs "$runs" --export-markdown "$work/backends.md" "${args[@]}" >/dev/null 2>&1
cat "$work/backends.md"
