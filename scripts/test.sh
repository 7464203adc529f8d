#!/usr/bin/env bash
# The whole test suite on this machine, from nothing: prepares Docker, the Keycloak test image and
# the Python interop environment (idempotently, see prepare-test-env.sh), then runs every test.
# Extra arguments go to `cargo test` (e.g. `scripts/test.sh --test realm`).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
eval "$(scripts/prepare-test-env.sh)"
export KCDEV_TEST_IMAGE KCDEV_TEST_PYTHON KCDEV_TEST_MCP_REMOTE_CLIENT
cargo test --all-targets "$@"
