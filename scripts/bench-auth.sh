#!/usr/bin/env bash
# What the generated server's auth layer costs: provisions a realm, generates a server with
# `kcdev new server`, and runs its `auth_overhead` benchmark (authenticated tools/call whoami
# with and without token verification, side by side, at concurrency 1, 8 and 32) with a real
# token of the realm. Also reports key-set downloads during the runs (must be 0: no network call
# to Keycloak per request).
# Usage: scripts/bench-auth.sh [SECONDS_PER_RUN]   (default 5)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
eval "$(scripts/prepare-test-env.sh)"
cargo build --release --quiet
kcdev="$PWD/target/release/kcdev"
export XDG_STATE_HOME=$(mktemp -d)
instance=bench-auth-$$
work=$(mktemp -d)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
server_url="http://localhost:$(free_port)"
trap '"$kcdev" down --instance "$instance" --volumes >/dev/null 2>&1 || true; rm -rf "$work" "$XDG_STATE_HOME"' EXIT

"$kcdev" up --instance "$instance" --image "$KCDEV_TEST_IMAGE" --port "$(free_port)" \
  --management-port "$(free_port)" --server-url "$server_url" -q >/dev/null
"$kcdev" new server bench-server --instance "$instance" --dir "$work/bench-server" -q >/dev/null
realm_url=$("$kcdev" status --instance "$instance" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["realm"]["issuer"])')
export KEYCLOAK_REALM_URL=$realm_url MCP_SERVER_URL=$server_url
export MCP_BENCH_TOKEN=$("$kcdev" token --instance "$instance")
export MCP_BENCH_SECONDS=${1:-5}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target/tmp/generated-server-target}
(cd "$work/bench-server" && cargo bench --quiet --bench auth_overhead)
