#!/usr/bin/env bash
# CI's release check: builds the release artifacts (scripts/build-release.sh) into a temporary
# directory, then installs each the way users do and runs the installed `kcdev --version` and
# `kcdev up --help`:
#   the wheel      into a fresh virtualenv (pip), with `uv tool install`, and through uvx
#   npm            the launcher and this platform's binary package, offline, with
#                  --ignore-scripts, into an empty directory (and globally under a prefix);
#                  KCDEV_BINARY overrides the binary; exit codes pass through the launcher
#   the crate      the wheels' binaries are built from the unpacked .crate, so a crate missing a
#                  file fails the build above; its contents are listed against what the build reads
# Builds in target/release-check (CARGO_TARGET_DIR overrides), apart from the test build.
#
# Last, the compile checks for macOS (aarch64) and Windows (scripts/check-platforms.sh; about
# 5 minutes from cold; x86_64-apple-darwin, which adds little, is left to that script).
#
# Usage: scripts/check-release.sh [--full] [--no-platforms]
# The binaries come from a quick build (KCDEV_RELEASE_QUICK=1: no LTO, -O1), which packages and
# installs exactly as the release build does in a fraction of its time; --full builds them with
# the dist profile itself.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target/release-check}

export KCDEV_RELEASE_QUICK=${KCDEV_RELEASE_QUICK:-1}
platforms=true
for arg in "$@"; do
  case $arg in
    --full) KCDEV_RELEASE_QUICK=0 ;;
    --no-platforms) platforms=false ;;
    *) echo "usage: $0 [--full] [--no-platforms]" >&2; exit 2 ;;
  esac
done

started=$SECONDS
step() { printf '==> [%3d s] check-release: %s\n' "$((SECONDS - started))" "$*" >&2; }
fail() {
  printf 'error: check-release: %s\n' "$*" >&2
  exit 1
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
dist=$work/dist

step "building the release artifacts"
scripts/build-release.sh "$dist"
tools=$(scripts/build-release.sh --tools)
version=$(cargo metadata --no-deps --format-version 1 --locked |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["packages"][0]["version"])')
commit=$(git rev-parse HEAD | cut -c1-12)

# The installed kcdev answers --version with this version and commit, and shows up's help.
check_kcdev() {
  local how=$1
  shift
  local said help
  said=$("$@" --version) || fail "$how: \`kcdev --version\` failed"
  [ "$said" = "kcdev $version (commit $commit)" ] ||
    fail "$how: \`kcdev --version\` said '$said', not 'kcdev $version (commit $commit)'"
  help=$("$@" up --help) || fail "$how: \`kcdev up --help\` failed"
  grep -q -- "--image" <<<"$help" || fail "$how: \`kcdev up --help\` shows no --image"
  printf '    %-44s %s\n' "$how" "$said" >&2
}

step "the crate holds what the build reads"
crate=$dist/kcdev-$version.crate
listing=$(tar -tzf "$crate")
for file in build.rs Cargo.lock pyproject.toml README.md scripts/keycloak-version \
  realm/realm.toml realm/keycloak-defaults.json realm/kcdev.starter.toml \
  realm/provider/kcdev-keycloak-provider.jar templates/server/rust/Cargo.toml.tmpl \
  .cargo_vcs_info.json; do
  grep -qx "kcdev-$version/$file" <<<"$listing" || fail "the crate lacks $file"
done
! grep -q "^kcdev-$version/tests/" <<<"$listing" || fail "the crate carries tests/"
sdist=$dist/kcdev-$version.tar.gz
# Listed first, not piped: grep -q stops reading early, and pipefail takes tar's SIGPIPE.
sdist_listing=$(tar -tzf "$sdist")
grep -qx "kcdev-$version/.cargo_vcs_info.json" <<<"$sdist_listing" ||
  fail "the sdist lacks .cargo_vcs_info.json (its builds would not know their commit)"

step "wheel: pip into a fresh virtualenv"
wheel=$(ls "$dist"/kcdev-"$version"-*manylinux*x86_64*.whl)
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet --disable-pip-version-check --no-index "$wheel"
check_kcdev "pip install (virtualenv)" "$work/venv/bin/kcdev"

step "wheel: uv tool install, uvx"
export UV_CACHE_DIR=$work/uv-cache UV_TOOL_DIR=$work/uv-tools UV_TOOL_BIN_DIR=$work/uv-bin
"$tools/uv" tool install --quiet --offline "$wheel"
check_kcdev "uv tool install" "$work/uv-bin/kcdev"
check_kcdev "uvx" "$tools/uv" tool run --quiet --offline --from "$wheel" kcdev

step "npm: offline, --ignore-scripts, into an empty directory"
launcher=$dist/kcdev-$version.tgz
binary_package=$dist/kcdev-linux-x64-gnu-$version.tgz
npm_flags=(--offline --ignore-scripts --no-audit --no-fund --loglevel=error)
mkdir "$work/npm-app"
(cd "$work/npm-app" && npm install "${npm_flags[@]}" --cache "$work/npm-cache" \
  "$binary_package" "$launcher" >/dev/null)
check_kcdev "npm install (local)" "$work/npm-app/node_modules/.bin/kcdev"
npm install --global --prefix "$work/npm-global" "${npm_flags[@]}" --cache "$work/npm-cache" \
  "$binary_package" "$launcher" >/dev/null
check_kcdev "npm install --global" "$work/npm-global/bin/kcdev"
# After `--`: npx takes a --version before the command for its own.
check_kcdev "npx" env -C "$work/npm-app" npx --offline --no -- kcdev
KCDEV_BINARY=$work/venv/bin/kcdev check_kcdev "npm launcher, KCDEV_BINARY" \
  "$work/npm-app/node_modules/.bin/kcdev"
status=0
"$work/npm-app/node_modules/.bin/kcdev" no-such-command 2>/dev/null || status=$?
[ "$status" -eq 2 ] || fail "the npm launcher turned kcdev's exit code 2 into $status"
status=0
KCDEV_BINARY=$work/none "$work/npm-app/node_modules/.bin/kcdev" --version 2>"$work/missing" ||
  status=$?
[ "$status" -eq 1 ] && grep -q KCDEV_BINARY "$work/missing" ||
  fail "the npm launcher did not name KCDEV_BINARY when its binary is missing ($status)"
# A platform without a binary package: the launcher alone installs, and says what to do.
mkdir "$work/npm-bare"
(cd "$work/npm-bare" && npm install "${npm_flags[@]}" --cache "$work/npm-cache-bare" "$launcher" \
  >/dev/null)
status=0
"$work/npm-bare/node_modules/.bin/kcdev" --version 2>"$work/bare" || status=$?
[ "$status" -eq 1 ] && grep -q "no kcdev binary for this platform" "$work/bare" ||
  fail "the npm launcher without its binary package did not say so ($status)"

if $platforms; then
  step "compile checks for macOS and Windows"
  scripts/check-platforms.sh aarch64-apple-darwin x86_64-pc-windows-gnu
fi

step "passed"
