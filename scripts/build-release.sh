#!/usr/bin/env bash
# Builds kcdev's release artifacts into OUTDIR (default dist/):
#   kcdev-VERSION.crate                       the crate, as `cargo publish` would upload it
#   kcdev-VERSION.tar.gz                      the PyPI sdist (builds from source where no wheel fits)
#   kcdev-VERSION-py3-none-PLATFORM.whl       one wheel per target: `kcdev` on PATH for pip, pipx, uv
#   kcdev-VERSION.tgz, kcdev-PLATFORM-VERSION.tgz   the npm launcher and one binary package per target
#
# Every binary is built from the packaged crate, unpacked: what crates.io, the sdist and the wheels
# ship is what was compiled, and `kcdev --version` names the commit from the crate's
# .cargo_vcs_info.json. Run it from a clean checkout (cargo refuses to package uncommitted changes;
# KCDEV_RELEASE_ALLOW_DIRTY=1 packages them anyway).
#
# Usage: scripts/build-release.sh [OUTDIR]
#        scripts/build-release.sh --tools   # install the build tools only; print their bin dir
# Environment:
#   CARGO_TARGET_DIR        where cargo builds (default target/)
#   KCDEV_RELEASE_TARGETS   Rust targets to build (default: x86_64-unknown-linux-gnu). Linux
#                           targets get manylinux2014 (glibc) or musllinux_1_2 wheels; Windows
#                           (x86_64-pc-windows-gnu) cross-links with zig; macOS needs its SDK, so
#                           build those on a Mac.
#   KCDEV_RELEASE_QUICK=1   the same artifacts from a quicker build (no LTO, parallel codegen,
#                           -O1), for checking the packaging; never for publishing
#   KCDEV_TEST_CACHE        cache root (default ~/.cache/kcdev-test, as for the tests); the tools live in
#                           release-tools/ there, a virtualenv with maturin, ziglang, uv and
#                           cargo-zigbuild from PyPI, installed once per pinned set.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# Pinned: a new maturin or zig changes the wheels; bump deliberately.
tool_requirements=(maturin==1.16.0 ziglang==0.17.1 uv==0.13.9 cargo-zigbuild==0.24.1)

ensure_tools() {
  local dir=${KCDEV_TEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kcdev-test}/release-tools
  local stamp=$dir/.installed
  if [ ! -x "$dir/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "${tool_requirements[*]}" ]; then
    echo "==> installing release tools into $dir: ${tool_requirements[*]}" >&2
    rm -rf "$dir"
    python3 -m venv "$dir" >&2
    "$dir/bin/pip" install --quiet --disable-pip-version-check "${tool_requirements[@]}" >&2
    printf '%s' "${tool_requirements[*]}" >"$stamp"
  fi
  printf '%s\n' "$dir/bin"
}

if [ "${1:-}" = "--tools" ]; then
  ensure_tools
  exit 0
fi

out=${1:-dist}
mkdir -p "$out"
out=$(cd "$out" && pwd)
# Absolute: the builds run in the unpacked crate, elsewhere.
export CARGO_TARGET_DIR
CARGO_TARGET_DIR=$(realpath -m "${CARGO_TARGET_DIR:-target}")
read -r -a targets <<<"${KCDEV_RELEASE_TARGETS:-x86_64-unknown-linux-gnu}"

# The binaries are built with Cargo.toml's dist profile (release, trimmed further).
profile=dist
if [ "${KCDEV_RELEASE_QUICK:-}" = 1 ]; then
  export CARGO_PROFILE_DIST_LTO=false CARGO_PROFILE_DIST_CODEGEN_UNITS=16 \
    CARGO_PROFILE_DIST_OPT_LEVEL=1
fi

tools=$(ensure_tools)
# maturin finds zig as `python -m ziglang`: the tools' python must come first.
export PATH="$tools:$PATH"

version=$(cargo metadata --no-deps --format-version 1 --locked |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["packages"][0]["version"])')
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
started=$SECONDS
step() { printf '==> [%3d s] %s\n' "$((SECONDS - started))" "$*" >&2; }

step "cargo package (kcdev $version)"
dirty=()
[ "${KCDEV_RELEASE_ALLOW_DIRTY:-}" = 1 ] && dirty=(--allow-dirty)
# Not verified here: the builds below compile the unpacked crate, which is the verification.
# The integration tests stay out of the crate (they drive Docker); cargo names each, once a run.
cargo package --locked --no-verify "${dirty[@]}" 2>&1 | { grep -v '^warning: ignoring test' || true; } >&2
crate=$CARGO_TARGET_DIR/package/kcdev-$version.crate
cp "$crate" "$out/"
tar -xzf "$crate" -C "$work"
src=$work/kcdev-$version

step "sdist"
(cd "$src" && maturin sdist --out "$out") >&2

binaries=()
for target in "${targets[@]}"; do
  compatibility=()
  case $target in
    *-linux-gnu) compatibility=(--compatibility manylinux2014) ;;
    *-linux-musl) compatibility=(--compatibility musllinux_1_2) ;;
  esac
  # Listed first, not piped: grep -q stops reading early, and pipefail takes the SIGPIPE.
  installed=$(rustup target list --installed)
  grep -qx "$target" <<<"$installed" || rustup target add "$target" >&2
  step "wheel for $target ($profile profile, zig linker)"
  (cd "$src" && maturin build --profile "$profile" --locked --zig --target "$target" \
    "${compatibility[@]}" --out "$out") >&2
  exe=kcdev
  [[ $target == *windows* ]] && exe=kcdev.exe
  binaries+=(--binary "$target=$CARGO_TARGET_DIR/$target/$profile/$exe")
done

step "npm packages"
staged=$(node npm/stage.mjs --version "$version" --out "$work/npm" "${binaries[@]}")
mapfile -t packages <<<"$staged"
for package in "${packages[@]}"; do
  (cd "$package" && npm pack --silent --pack-destination "$out") >/dev/null
done

step "done"
{
  printf '\nkcdev %s release artifacts in %s:\n' "$version" "$out"
  for target in "${targets[@]}"; do
    exe=kcdev
    [[ $target == *windows* ]] && exe=kcdev.exe
    printf '  %-40s %8s KiB  (binary, %s)\n' "$exe" \
      "$(($(stat -c %s "$CARGO_TARGET_DIR/$target/$profile/$exe") / 1024))" "$target"
  done
  for file in "$out"/kcdev*"$version"*; do
    printf '  %-40s %8s KiB\n' "$(basename "$file")" "$(($(stat -c %s "$file") / 1024))"
  done
} >&2
