#!/usr/bin/env bash
# release.sh — build the release artifacts with goreleaser (.goreleaser.yaml).
#
#   bash scripts/release.sh            a snapshot into dist/: archives for
#                                      linux, darwin, windows × amd64, arm64,
#                                      .deb and .rpm, the keystoneauth wheel,
#                                      checksums.txt. Publishes nothing; this
#                                      is what CI runs (scripts/test-release.sh).
#   bash scripts/release.sh --publish  on a tag (git tag -a v1.2.0): the same
#                                      build as version 1.2.0, then a draft
#                                      GitHub release of the origin remote with
#                                      every artifact. For a maintainer, with
#                                      GITHUB_TOKEN set; nothing else runs it.
#   bash scripts/release.sh --check    `goreleaser check` of the config.
#   bash scripts/release.sh --wheel VERSION DIR
#                                      the before hook of .goreleaser.yaml: the
#                                      plugin's wheel, version VERSION (made
#                                      PEP 440), into DIR.
#
# goreleaser v2.15.1 is built once from the Go module proxy and cached
# (scripts/install-goreleaser.sh). The build flags are scripts/build.env's,
# and the maintainer and homepage scripts/project.env's, exported here for
# the {{ .Env.VKC_… }} templates of .goreleaser.yaml; the wheel gets the
# same maintainer and homepage.
# Further arguments go to goreleaser (e.g. --parallelism 2).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/go/bin:$PATH

die() { echo "release.sh: error: $*" >&2; exit 1; }
log() { echo "release.sh: $*" >&2; }

# Who maintains the project and where it lives, for the packages and the
# wheel.
# shellcheck source=project.env
. scripts/project.env
export VKC_MAINTAINER_NAME VKC_MAINTAINER_EMAIL VKC_HOMEPAGE
case $VKC_MAINTAINER_NAME$VKC_MAINTAINER_EMAIL$VKC_HOMEPAGE in
  *[\"\\\<\>\|\&]*) die "scripts/project.env: a value holds one of \" \\ < > | &, which the templates below do not escape" ;;
esac
[ -n "$VKC_MAINTAINER_NAME" ] && [ -n "$VKC_MAINTAINER_EMAIL" ] || die "scripts/project.env: the maintainer's name and e-mail are both needed"

# pep440 VERSION: goreleaser's version in Python's spelling. 1.2.0 stays;
# 1.2.0-rc.1 is 1.2.0rc1 (alpha → a, beta → b); any other suffix, such as
# a snapshot's 0.0.1-snapshot.abc1234, is a development release with a
# local label: 0.0.1.dev0+snapshot.abc1234.
pep440() {
  local v=${1#v}
  if [[ $v =~ ^([0-9]+(\.[0-9]+)*)$ ]]; then
    echo "$v"
  elif [[ $v =~ ^([0-9]+(\.[0-9]+)*)-(alpha|a|beta|b|rc)\.?([0-9]+)$ ]]; then
    local pre=${BASH_REMATCH[3]}
    case $pre in alpha) pre=a ;; beta) pre=b ;; esac
    echo "${BASH_REMATCH[1]}$pre${BASH_REMATCH[4]}"
  elif [[ $v =~ ^([0-9]+(\.[0-9]+)*)[-+]([0-9A-Za-z.+-]+)$ ]]; then
    local label=${BASH_REMATCH[3]//[^0-9A-Za-z]/.}
    echo "${BASH_REMATCH[1]}.dev0+$label"
  else
    return 1
  fi
}

# wheel VERSION DIR: build integrations/keystoneauth as a wheel of version
# VERSION into DIR, from a copy (the checkout stays untouched), offline:
# Debian's python3-setuptools and python3-wheel, no index, no isolation.
wheel() {
  local version out py src
  version=$(pep440 "$1") || die "cannot spell version $1 for Python (PEP 440)"
  out=$2
  py=${PYTHON:-/usr/bin/python3}
  "$py" -c 'import setuptools, wheel' 2>/dev/null ||
    die "$py cannot build wheels (Debian: apt-get install python3-setuptools python3-wheel python3-pip)"
  src=$(mktemp -d "${TMPDIR:-/tmp}/vkc-wheel.XXXXXX")
  trap 'rm -rf "$src"' RETURN
  cp -R integrations/keystoneauth/pyproject.toml integrations/keystoneauth/README.md \
    integrations/keystoneauth/vkc_keystoneauth "$src/"
  find "$src" -name __pycache__ -prune -exec rm -rf {} +
  sed -i "s/^version = \".*\"\$/version = \"$version\"/" "$src/pyproject.toml"
  grep -qx "version = \"$version\"" "$src/pyproject.toml" || die "could not set the version in pyproject.toml"
  # The maintainer and homepage of scripts/project.env (checked above to
  # need no TOML escaping): [project] ends where [project.entry-points…]
  # begins, and [project.urls] goes last.
  sed -i "s|^requires-python = .*|&\nmaintainers = [{ name = \"$VKC_MAINTAINER_NAME\", email = \"$VKC_MAINTAINER_EMAIL\" }]|" "$src/pyproject.toml"
  grep -q '^maintainers = ' "$src/pyproject.toml" || die "could not set the maintainer in pyproject.toml"
  if [ -n "$VKC_HOMEPAGE" ]; then
    printf '\n[project.urls]\nHomepage = "%s"\n' "$VKC_HOMEPAGE" >>"$src/pyproject.toml"
  fi
  mkdir -p "$out"
  rm -f "$out"/vkc_keystoneauth-*.whl
  # SOURCE_DATE_EPOCH: the files in the wheel carry the commit's time.
  SOURCE_DATE_EPOCH=$(git log -1 --format=%ct 2>/dev/null || date +%s) PIP_ROOT_USER_ACTION=ignore \
    "$py" -m pip wheel --no-deps --no-build-isolation --no-index --no-cache-dir \
    --disable-pip-version-check --quiet -w "$out" "$src" >&2 || die "pip wheel failed"
  ls "$out"/vkc_keystoneauth-"$version"-py3-none-any.whl >/dev/null 2>&1 ||
    die "no vkc_keystoneauth-$version-py3-none-any.whl in $out"
  log "wheel: $(ls "$out"/vkc_keystoneauth-*.whl)"
}

mode=snapshot
case ${1:-} in
  --wheel)
    [ $# -eq 3 ] || die "usage: release.sh --wheel VERSION DIR"
    wheel "$2" "$3"
    exit 0 ;;
  --publish) mode=publish; shift ;;
  --check) mode=check; shift ;;
  --snapshot) shift ;;
esac

# The build flags, for .goreleaser.yaml's templates.
# shellcheck source=build.env
. scripts/build.env
export VKC_CGO_ENABLED VKC_GOFLAGS VKC_BUILD_TAGS VKC_LDFLAGS VKC_X_VERSION VKC_X_COMMIT VKC_X_DATE
# The GitHub release is on only for --publish (.goreleaser.yaml release.disable).
VKC_PUBLISH=0
[ "$mode" = publish ] && VKC_PUBLISH=1
export VKC_PUBLISH
case $VKC_GOFLAGS in
  *" "*) die "scripts/build.env: VKC_GOFLAGS must be one flag (goreleaser passes it as one argument)" ;;
esac

goreleaser=$(bash scripts/install-goreleaser.sh)

case $mode in
  check)
    exec "$goreleaser" check "$@" ;;
  publish)
    tag=$(git describe --tags --exact-match 2>/dev/null) || die "--publish needs a tagged commit checked out (git tag -a vX.Y.Z)"
    [ -n "${GITHUB_TOKEN:-}" ] || die "--publish needs GITHUB_TOKEN (a token that may create releases in the origin repository)"
    log "releasing $tag"
    rm -rf dist-extra
    "$goreleaser" release --clean "$@" ;;
  snapshot)
    # goreleaser reads the commit only along with the remote's URL; in a
    # checkout without a remote (CI's copy) it would name the commit
    # "none". Give git, through its environment, the checkout itself as
    # origin; nothing is written to .git/config.
    if [ -z "$(git remote 2>/dev/null)" ]; then
      n=${GIT_CONFIG_COUNT:-0}
      export "GIT_CONFIG_KEY_$n=remote.origin.url" "GIT_CONFIG_VALUE_$n=$PWD" GIT_CONFIG_COUNT=$((n + 1))
    fi
    rm -rf dist-extra
    "$goreleaser" release --snapshot --clean --skip=publish,announce "$@" ;;
esac

# The wheel beside the other artifacts, so that dist/ holds everything
# checksums.txt names.
cp dist-extra/*.whl dist/
log "artifacts in dist/:"
(cd dist && ls -1 ./*.tar.gz ./*.zip ./*.deb ./*.rpm ./*.whl checksums.txt) >&2
