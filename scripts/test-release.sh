#!/usr/bin/env bash
# test-release.sh — build a snapshot release (scripts/release.sh) and prove
# every artifact works where it will be used. Run by scripts/test.sh; on
# Debian/Ubuntu as root (it installs what it needs with apt, and installs
# then removes the .deb). Prints how long each step took.
#
# What each step proves is in its `step` line. Nothing is left behind: the
# .deb is removed, the profile stored for the completion test is erased,
# temporary directories are deleted. dist/ keeps the snapshot.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/go/bin:$PATH

die() { echo "test-release.sh: FAIL: $*" >&2; exit 1; }
# The maintainer and homepage every package must carry: the one definition.
# shellcheck source=project.env
. scripts/project.env
maintainer="$VKC_MAINTAINER_NAME <$VKC_MAINTAINER_EMAIL>"
T0=$(date +%s)
t=$T0
step() { local now; now=$(date +%s); echo "   ($(( now - t )) s)"; t=$now; echo "== release: $*"; }
ok() { echo "   ok: $*"; }

work=$(mktemp -d "${TMPDIR:-/tmp}/vkc-test-release.XXXXXX")
deb_installed=""
profile_home=""
cleanup() {
  if [ -n "$profile_home" ]; then
    HOME=$profile_home XDG_CONFIG_HOME=$profile_home/.config XDG_CACHE_HOME=$profile_home/.cache \
      "$work/prefix/vkc-credential" erase --profile relprobe --no-stdin --keyring-timeout 5s >/dev/null 2>&1 || true
  fi
  if [ -n "$deb_installed" ]; then
    dpkg_locked -r vkc-credential >/dev/null 2>&1 || echo "test-release.sh: could not remove the vkc-credential .deb; run dpkg -r vkc-credential" >&2
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# dpkg_locked ARGS: dpkg ARGS, waiting (up to 2 min) while another process
# holds dpkg's lock.
dpkg_locked() {
  local i err
  for i in $(seq 60); do
    if err=$(dpkg "$@" 2>&1); then echo "$err"; return 0; fi
    case $err in *lock*) sleep 2 ;; *) echo "$err" >&2; return 1 ;; esac
  done
  echo "$err" >&2
  return 1
}

echo "== release: tools (apt: dpkg, rpm, man-db, bash-completion, file, python3-wheel, python3-pip, python3-openstackclient)"
need=()
for p in dpkg rpm man-db bash-completion file python3-setuptools python3-wheel python3-pip python3-keystoneauth1 python3-openstackclient; do
  dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "   installing: ${need[*]}"
  apt-get -o DPkg::Lock::Timeout=120 update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=120 install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
if dpkg-query -W -f='${Status}\n' vkc-credential 2>/dev/null | grep -q 'ok installed'; then
  die "a vkc-credential package is installed on this machine; this test installs and removes its own, so remove that one first (dpkg -r vkc-credential)"
fi

step "goreleaser check (the config is valid for the pinned goreleaser)"
bash scripts/release.sh --check >"$work/check.log" 2>&1 || { cat "$work/check.log" >&2; die "goreleaser check"; }
ok "goreleaser check"

step "snapshot build (goreleaser release --snapshot; first run builds goreleaser)"
bash scripts/release.sh >"$work/release.log" 2>&1 || { tail -n 40 "$work/release.log" >&2; die "scripts/release.sh"; }
grep -E 'building snapshot|release succeeded' "$work/release.log" | sed 's/^ */   /'
# The version and commit goreleaser built (others may commit meanwhile).
meta() { /usr/bin/python3 -c 'import json, sys; print(json.load(open("dist/metadata.json"))[sys.argv[1]])' "$1"; }
version=$(meta version) commit=$(meta commit)
git cat-file -e "$commit^{commit}" 2>/dev/null || die "goreleaser built commit '$commit', which git does not know"
case $version in *"${commit:0:7}"*) ;; *) die "snapshot version $version does not name the commit $commit" ;; esac

step "every artifact is there, and checksums.txt covers them all (sha256sum -c)"
cd dist
expected=()
for target in linux_amd64 linux_arm64 darwin_amd64 darwin_arm64; do expected+=("vkc-credential_${version}_$target.tar.gz"); done
for target in windows_amd64 windows_arm64; do expected+=("vkc-credential_${version}_$target.zip"); done
for arch in amd64 arm64; do
  expected+=("$(ls vkc-credential_*_linux_$arch.deb)" "$(ls vkc-credential_*_linux_$arch.rpm)")
done
wheel=$(ls vkc_keystoneauth-*-py3-none-any.whl)
expected+=("$wheel")
for f in "${expected[@]}"; do
  [ -s "$f" ] || die "dist/$f is missing"
  grep -q "  $f\$" checksums.txt || die "checksums.txt does not list $f"
done
[ "$(wc -l < checksums.txt)" -eq ${#expected[@]} ] || die "checksums.txt lists $(wc -l < checksums.txt) files, expected ${#expected[@]}"
sha256sum -c --strict checksums.txt >/dev/null || die "sha256sum -c checksums.txt"
cd ..
ok "${#expected[@]} artifacts (6 archives, 2 .deb, 2 .rpm, the wheel), all in checksums.txt, all sums match"

step "each archive holds its OS's and architecture's binary, README.md, LICENSE, completions and the man page"
for target in linux_amd64 linux_arm64 darwin_amd64 darwin_arm64 windows_amd64 windows_arm64; do
  os=${target%_*} arch=${target#*_} dir=$work/arch-$target exe=vkc-credential
  mkdir -p "$dir"
  if [ "$os" = windows ]; then
    exe=vkc-credential.exe
    /usr/bin/python3 -m zipfile -e "dist/vkc-credential_${version}_$target.zip" "$dir"
  else
    tar -xzf "dist/vkc-credential_${version}_$target.tar.gz" -C "$dir"
  fi
  for f in "$exe" README.md LICENSE completions/vkc-credential.bash completions/_vkc-credential \
      completions/vkc-credential.fish manpages/vkc-credential.1.gz; do
    [ -s "$dir/$f" ] || die "$target archive lacks $f"
  done
  info=$(go version -m "$dir/$exe")
  grep -qP "^\tbuild\tGOOS=$os\$" <<<"$info" && grep -qP "^\tbuild\tGOARCH=$arch\$" <<<"$info" ||
    die "$target archive: the binary is not $os/$arch: $(grep -P 'GOOS|GOARCH' <<<"$info" | tr '\n\t' '  ')"
  kind=$(file -b "$dir/$exe")
  case $target in
    linux_amd64) want='ELF 64-bit LSB executable, x86-64' ;;
    linux_arm64) want='ELF 64-bit LSB executable, ARM aarch64' ;;
    darwin_amd64) want='Mach-O 64-bit x86_64 executable' ;;
    darwin_arm64) want='Mach-O 64-bit arm64 executable' ;;
    windows_amd64) want='PE32+ executable (console) x86-64' ;;
    windows_arm64) want='PE32+ executable (console) Aarch64' ;;
  esac
  case $kind in "$want"*) ;; *) die "$target: file(1) says: $kind" ;; esac
  echo "   $target: $want"
done

step "the release binary is built as install.sh builds it (scripts/build.env), without the docs generator"
PREFIX=$work/src VKC_SKIP_PLUGIN=1 bash install.sh >/dev/null
rel=$work/arch-linux_amd64/vkc-credential src=$work/src/bin/vkc-credential
settings() { go version -m "$1" | grep -P '^\tbuild\t(-tags|-trimpath|CGO_ENABLED|-ldflags)=' | sort; }
[ -n "$(settings "$rel")" ] || die "no build settings recorded in $rel"
diff <(settings "$rel") <(settings "$src") || die "goreleaser's and install.sh's build settings differ (above)"
echo "$(settings "$rel" | tr '\t\n' '  ')" | sed 's/^/   same: /'
for b in "$rel" "$src"; do
  file -b "$b" | grep -q ', stripped' || die "$b is not stripped (-s -w)"
  # Go keeps function names in stripped binaries: urfave/cli's man-page
  # writer is there only when built without urfave_cli_no_docs.
  if grep -q 'ToManWithSection' "$b"; then die "$b contains urfave/cli's docs generator"; fi
done
src_json=$("$src" version --no-stdin)
src_commit=$(sed -n 's/.*"commit":"\([0-9a-f]\{40\}\)\(-dirty\)\{0,1\}".*/\1/p' <<<"$src_json")
[ -n "$src_commit" ] && git cat-file -e "$src_commit^{commit}" 2>/dev/null || die "install.sh's binary names no commit of this repository: $src_json"
grep -qE '"build_date":"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z"' <<<"$src_json" || die "install.sh's binary has no build date: $src_json"
ok "install.sh's binary: $src_json"

step "the linux/amd64 archive unpacked into a temp PREFIX runs and names the snapshot version, the commit and the build date"
mkdir -p "$work/prefix"
tar -xzf "dist/vkc-credential_${version}_linux_amd64.tar.gz" -C "$work/prefix"
out=$("$work/prefix/vkc-credential" version --no-stdin)
grep -q "\"program_version\":\"$version\"" <<<"$out" || die "version answers $out, expected program_version $version"
grep -q "\"commit\":\"$commit\"" <<<"$out" || die "version answers $out, expected commit $commit"
grep -qE '"build_date":"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z"' <<<"$out" || die "version answers $out without a build date"
[ "$("$work/prefix/vkc-credential" --version)" = "vkc-credential $version" ] || die "--version does not say $version"
ok "$out"

step "the README's archive steps, run as written from /, in an empty HOME: binary, man page, three completions"
# The block after "**From the archive**" in README.md, with the snapshot's
# version for V; ~/Downloads holds the archive and checksums.txt.
block=$(awk '/^\*\*From the archive\*\*/ { on = 1 } on && /^```sh$/ { inside = 1; next } inside && /^```$/ { exit } inside' README.md)
grep -q '^V=' <<<"$block" || die "README.md has no archive steps after **From the archive** (or no V= line in them)"
rhome=$work/readme-home
mkdir -p "$rhome/Downloads" "$work/readme-tmp"
cp "dist/vkc-credential_${version}_linux_amd64.tar.gz" dist/checksums.txt "$rhome/Downloads/"
out=$(cd / && env -i HOME="$rhome" PATH=/usr/bin:/bin TMPDIR="$work/readme-tmp" \
  bash -euo pipefail -c "$(sed "s/^V=[^ ]*/V=$version/" <<<"$block")" 2>&1 </dev/null) || { echo "$out" >&2; die "the README's archive steps failed (above)"; }
grep -q "\"program_version\":\"$version\"" <<<"$out" || die "the README's archive steps end without the version: $out"
for f in .local/bin/vkc-credential .local/share/man/man1/vkc-credential.1.gz \
    .local/share/bash-completion/completions/vkc-credential .zfunc/_vkc-credential \
    .config/fish/completions/vkc-credential.fish; do
  [ -s "$rhome/$f" ] || die "the README's archive steps did not install ~/$f"
done
[ -z "$(ls -A "$work/readme-tmp")" ] || die "the README's archive steps left files in TMPDIR: $(ls -A "$work/readme-tmp")"
ok "binary, man page and completions in ~/.local, ~/.zfunc and ~/.config/fish; the temp directory removed"

deb=$(ls dist/vkc-credential_*_linux_amd64.deb)
step "the .deb: its fields, then dpkg -i, the binary, man -w, bash completion of commands and stored profiles, dpkg -r"
suggests=$(dpkg-deb -f "$deb" Suggests)
for p in gnome-keyring pass python3-keystoneauth1; do
  grep -qw "$p" <<<"$suggests" || die ".deb Suggests: $suggests (lacks $p)"
done
[ -n "$(dpkg-deb -f "$deb" Description)" ] || die ".deb has no Description"
# Maintainer and Homepage are scripts/project.env's (no Homepage field
# while it names none).
[ "$(dpkg-deb -f "$deb" Maintainer)" = "$maintainer" ] || die ".deb Maintainer: '$(dpkg-deb -f "$deb" Maintainer)', want scripts/project.env's '$maintainer'"
[ "$(dpkg-deb -f "$deb" Homepage)" = "$VKC_HOMEPAGE" ] || die ".deb Homepage: '$(dpkg-deb -f "$deb" Homepage)', want scripts/project.env's '$VKC_HOMEPAGE'"
echo "   .deb Maintainer: $maintainer; Homepage: ${VKC_HOMEPAGE:-(none)}"
dpkg_locked -i "$deb" >/dev/null || die "dpkg -i $deb"
deb_installed=1
debfiles=(/usr/bin/vkc-credential /usr/share/bash-completion/completions/vkc-credential
  /usr/share/zsh/vendor-completions/_vkc-credential /usr/share/fish/vendor_completions.d/vkc-credential.fish
  /usr/share/man/man1/vkc-credential.1.gz /usr/share/doc/vkc-credential/copyright)
for f in "${debfiles[@]}"; do
  [ -s "$f" ] || die "$f not installed by the .deb (a dpkg path-exclude in /etc/dpkg/dpkg.cfg.d?)"
done
/usr/bin/vkc-credential version --no-stdin | grep -q "\"program_version\":\"$version\"" || die "/usr/bin/vkc-credential version"
[ "$(man -w vkc-credential)" = /usr/share/man/man1/vkc-credential.1.gz ] || die "man -w vkc-credential: $(man -w vkc-credential 2>&1)"
MANWIDTH=80 MANPAGER=cat man vkc-credential 2>/dev/null | grep -q 'EXIT STATUS' || die "man vkc-credential does not render"
ok "installed; man -w vkc-credential = /usr/share/man/man1/vkc-credential.1.gz"

# A profile in a temp HOME, for --profile to offer. keyctl: no D-Bus
# needed; --no-verify: no Keystone (the loopback URL is never called).
profile_home=$work/home
mkdir -p "$profile_home"
export_home() { env HOME="$profile_home" XDG_CONFIG_HOME="$profile_home/.config" XDG_CACHE_HOME="$profile_home/.cache" "$@"; }
printf 'not-a-real-password' | export_home /usr/bin/vkc-credential store --profile relprobe \
  --auth-url http://127.0.0.1:1/v3 --project-id p1 --username probe --no-verify --keyring keyctl \
  --password-stdin >/dev/null 2>&1 || die "could not store a profile for the completion test"
# bash-completion finds the script by the command's name in its standard
# directory (_completion_loader), as an interactive shell would.
complete_test=$(cat <<'EOS'
. /usr/share/bash-completion/bash_completion
_completion_loader vkc-credential
spec=$(complete -p vkc-credential) || { echo "no completion loaded"; exit 1; }
fn=$(sed -n 's/.* -F \([^ ]*\) .*/\1/p' <<<"$spec")
comp() {
  COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}; COMPREPLY=()
  "$fn" vkc-credential "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
  echo "${COMPREPLY[*]}"
}
echo "g: $(comp vkc-credential g)"
echo "profile: $(comp vkc-credential get --profile '')"
echo "format: $(comp vkc-credential get --format '')"
echo "flags: $(comp vkc-credential get --m)"
EOS
)
got=$(export_home env PATH=/usr/bin:/bin bash --norc --noprofile -c "$complete_test") || die "bash completion: $got"
echo "$got" | sed 's/^/   /'
grep -qx 'g: get' <<<"$got" || die "completing 'vkc-credential g' does not offer get"
grep -qE '^profile: (.* )?relprobe( |$)' <<<"$got" || die "completing 'get --profile ' does not offer the stored profile"
grep -qE '^format: .*exec-credential' <<<"$got" || die "completing 'get --format ' does not offer the formats"
grep -qx 'flags: --min-ttl' <<<"$got" || die "completing 'get --m' does not offer --min-ttl"
if command -v fish >/dev/null; then
  # fish loads it from its vendor directory by itself (the temp HOME has
  # no fish configuration).
  fgot=$(export_home env PATH=/usr/bin:/bin fish -c 'complete -C"vkc-credential get --profile "' | cut -f1)
  grep -qx relprobe <<<"$fgot" || die "fish: completing 'get --profile ' offers: $fgot"
  ok "fish completion offers the stored profile"
fi
export_home /usr/bin/vkc-credential erase --profile relprobe --no-stdin >/dev/null || die "erase of the probe profile"
profile_home=""
dpkg_locked -r vkc-credential >/dev/null || die "dpkg -r vkc-credential"
deb_installed=""
for f in "${debfiles[@]}"; do [ ! -e "$f" ] || die "$f is still there after dpkg -r"; done
ok "removed; none of its files remain"

step "the .rpm's file list (rpm -qlp)"
for rpm in dist/vkc-credential_*_linux_amd64.rpm dist/vkc-credential_*_linux_arm64.rpm; do
  list=$(rpm -qlp "$rpm" 2>/dev/null)
  for f in "${debfiles[@]}"; do grep -qx "$f" <<<"$list" || die "$rpm lacks $f"; done
  [ "$(rpm -qp --qf '%{LICENSE}' "$rpm" 2>/dev/null)" = MIT ] || die "$rpm: license is not MIT"
  # The packager is scripts/project.env's maintainer; the URL its homepage
  # (rpm says "(none)" for a tag that is absent).
  packager=$(rpm -qp --qf '%{PACKAGER}' "$rpm" 2>/dev/null)
  url=$(rpm -qp --qf '%{URL}' "$rpm" 2>/dev/null); [ "$url" = "(none)" ] && url=""
  [ "$packager" = "$maintainer" ] || die "$rpm: Packager '$packager', want scripts/project.env's '$maintainer'"
  [ "$url" = "$VKC_HOMEPAGE" ] || die "$rpm: URL '$url', want scripts/project.env's '$VKC_HOMEPAGE'"
done
ok "both .rpm hold the binary, three completions, the man page and the licence; Packager $maintainer, URL ${VKC_HOMEPAGE:-(none)}"

step "the wheel: pip install --target, then the openstack CLI's Python loads the auth type vkc from it"
pep=${wheel#vkc_keystoneauth-}; pep=${pep%-py3-none-any.whl}
PIP_ROOT_USER_ACTION=ignore /usr/bin/python3 -m pip install --quiet --no-index --no-deps --disable-pip-version-check --target "$work/py" "dist/$wheel" ||
  die "pip install dist/$wheel"
# keystoneauth1 may already find another vkc plugin (install.sh puts one
# in the system Python): prove the one loaded is this wheel's.
PYTHONPATH=$work/py /usr/bin/python3 - "$work/py" "$pep" "$maintainer" "$VKC_HOMEPAGE" <<'PY' || die "the wheel's auth type does not load, or its metadata is not scripts/project.env's"
import sys, importlib.metadata as md
from keystoneauth1 import loading
target, version, maintainer, homepage = sys.argv[1:5]
loader = loading.get_plugin_loader("vkc")
module = sys.modules[type(loader).__module__]
assert module.__file__.startswith(target + "/"), module.__file__
meta = md.metadata("vkc-keystoneauth")
assert meta["Version"] == version, meta["Version"]
# The maintainer and homepage of scripts/project.env.
assert meta["Maintainer-email"] == maintainer, meta["Maintainer-email"]
urls = meta.get_all("Project-URL") or []
assert urls == (["Homepage, " + homepage] if homepage else []), urls
print("   ok: keystoneauth1 loads vkc from", module.__file__, "version", version,
      "maintainer", maintainer, "homepage", homepage or "(none)")
PY
PYTHONPATH=$work/py openstack --os-auth-type vkc --help 2>/dev/null | grep -q -- '--os-vkc-profile' ||
  die "openstack --os-auth-type vkc --help does not show --os-vkc-profile"
ok "openstack --os-auth-type vkc --help shows the plugin's options"

step "done"
echo "   release checks passed in $(( $(date +%s) - T0 )) s"
