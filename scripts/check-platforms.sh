#!/usr/bin/env bash
# Compile checks for the platforms kcdev ships to that this Linux machine cannot run: macOS
# (aarch64-apple-darwin, x86_64-apple-darwin) and Windows (x86_64-pc-windows-gnu). Clippy with
# -D warnings on the library and the binary, as built and as unit tests, so cfg-gated code is
# compiled and linted for each. The C inside the TLS stack (aws-lc-sys) is compiled with zig as
# the cross C compiler (cargo-zigbuild); nothing is linked, so no macOS SDK or Windows import
# libraries are needed. The integration tests (tests/) are Linux-only: they drive Docker here.
#
# Usage: scripts/check-platforms.sh [TARGET...]
#        scripts/check-platforms.sh --link   # also links a release kcdev.exe for
#                                            # x86_64-pc-windows-gnu (zig as the linker)
# The targets' standard libraries come from `rustup target add`; where rustup cannot reach its
# server, from the rust-src component through -Zbuild-std (RUSTC_BOOTSTRAP=1;
# KCDEV_PLATFORMS_BUILD_STD=1 takes that way always). A target with neither is reported as
# skipped, not failed: that says nothing about kcdev. Tools (zig, cargo-zigbuild) come from PyPI,
# see scripts/build-release.sh --tools. Builds in target/platforms (CARGO_TARGET_DIR overrides).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target/platforms}

link=false
targets=()
for arg in "$@"; do
  case $arg in
    --link) link=true ;;
    -*) echo "usage: $0 [--link] [TARGET...]" >&2; exit 2 ;;
    *) targets+=("$arg") ;;
  esac
done
[ "${#targets[@]}" -gt 0 ] || targets=(aarch64-apple-darwin x86_64-apple-darwin x86_64-pc-windows-gnu)

tools=$(scripts/build-release.sh --tools)
# cargo-zigbuild finds zig as `python -m ziglang`: the tools' python must come first.
export PATH="$tools:$PATH"

started=$SECONDS
failed=()
report=()
for target in "${targets[@]}"; do
  build_std=()
  if [ "${KCDEV_PLATFORMS_BUILD_STD:-}" = 1 ] ||
    { ! grep -qx "$target" <<<"$(rustup target list --installed)" &&
      ! rustup target add "$target" >&2; }; then
    sysroot=$(rustc --print sysroot)
    if [ ! -d "$sysroot/lib/rustlib/src/rust/library" ]; then
      rustup component add rust-src >&2 || true
    fi
    if [ ! -d "$sysroot/lib/rustlib/src/rust/library" ]; then
      report+=("$target: SKIPPED, no standard library (rustup target add failed, no rust-src)")
      continue
    fi
    echo "==> $target: building its std from rust-src (-Zbuild-std)" >&2
    build_std=(-Zbuild-std)
    export RUSTC_BOOTSTRAP=1
  fi
  began=$SECONDS
  echo "==> $target: clippy (library, binary, unit tests)" >&2
  if nice -n 10 cargo-zigbuild clippy --locked --target "$target" "${build_std[@]}" \
    --lib --bins -- -D warnings &&
    nice -n 10 cargo-zigbuild clippy --locked --target "$target" "${build_std[@]}" \
      --lib --bins --profile test -- -D warnings; then
    report+=("$target: compiles, clippy clean ($((SECONDS - began)) s)")
  else
    failed+=("$target")
    report+=("$target: FAILED ($((SECONDS - began)) s)")
  fi
done

if $link; then
  target=x86_64-pc-windows-gnu
  began=$SECONDS
  echo "==> $target: linking a release binary" >&2
  if nice -n 10 cargo-zigbuild zigbuild --locked --release --target "$target" --bin kcdev; then
    exe=$CARGO_TARGET_DIR/$target/release/kcdev.exe
    report+=("$target: links, $(($(stat -c %s "$exe") / 1024)) KiB ($((SECONDS - began)) s): $exe")
  else
    failed+=("$target (link)")
    report+=("$target: link FAILED ($((SECONDS - began)) s)")
  fi
fi

printf '\nplatform checks (%d s):\n' "$((SECONDS - started))" >&2
printf '  %s\n' "${report[@]}" >&2
[ "${#failed[@]}" -eq 0 ]
