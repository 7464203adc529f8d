#!/usr/bin/env bash
# The whole test suite on this machine, from nothing: prepares Docker, the Keycloak test image and
# the Python interop environment (idempotently, see prepare-test-env.sh), then runs every test.
# Extra arguments go to `cargo test` (e.g. `scripts/test.sh --test realm`).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# The preparation script's stdout is eval'ed (here and in the README): it must be its one export
# line and nothing else, whatever the tools it runs print.
# Bounded, so that a step that hangs fails with its name instead of running into CI's own limit.
bounded() {
  local limit=$1 what=$2
  shift 2
  local status=0
  timeout --kill-after=30s "$limit" "$@" || status=$?
  if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
    printf 'error: %s did not finish within %s\n' "$what" "$limit" >&2
  fi
  return "$status"
}

exports=$(bounded 30m "scripts/prepare-test-env.sh" scripts/prepare-test-env.sh)
line='^export KCDEV_TEST_IMAGE=[^[:space:]]+ KCDEV_TEST_PYTHON=[^[:space:]]+ KCDEV_TEST_MCP_REMOTE_CLIENT=[^[:space:]]+ KCDEV_TEST_NODE_MODULES=[^[:space:]]+$'
if [ "$(printf '%s\n' "$exports" | wc -l)" -ne 1 ] || ! [[ $exports =~ $line ]]; then
  printf 'error: scripts/prepare-test-env.sh printed more than its export line on stdout:\n' >&2
  printf '%s\n' "$exports" | cat -v >&2
  exit 1
fi
eval "$exports"
export KCDEV_TEST_IMAGE KCDEV_TEST_PYTHON KCDEV_TEST_MCP_REMOTE_CLIENT KCDEV_TEST_NODE_MODULES

# The cold path, every run: the distribution downloads into an empty cache. A warm cache on the
# machine would otherwise hide a broken download step.
cold_cache=$(mktemp -d)
trap 'rm -rf "$cold_cache"' EXIT
cold=$(KCDEV_TEST_CACHE=$cold_cache bounded 10m "the cold distribution download" \
  scripts/prepare-test-env.sh --distribution-only)
[ -z "$cold" ] || { printf 'error: --distribution-only printed on stdout: %s\n' "$cold" >&2; exit 1; }
[ -s "$cold_cache/keycloak-quarkus-dist-$(tr -d '[:space:]' <scripts/keycloak-version).zip" ] || {
  echo "error: the distribution did not download into an empty cache" >&2
  exit 1
}
echo "==> cold path: the Keycloak distribution downloads into an empty cache" >&2
# `--all-targets` would run every target beside a `--test NAME` given here: only without arguments.
[ "$#" -gt 0 ] || set -- --all-targets
bounded 45m "the test suite" cargo test "$@"
