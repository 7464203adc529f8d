#!/usr/bin/env bash
# What each language costs: the three servers `kcdev new server --lang rust|python|typescript`
# writes, and a FastMCP server configured as FastMCP's Keycloak page shows
# (tests/interop/fastmcp_server.py), side by side in one run against one realm. Each serves
# authenticated `tools/call whoami` (a real token of the realm, inside an MCP session where the
# server keeps sessions: the common denominator); the Rust server also as self-contained
# 2026-07-28 requests (no session, protocol version in the header and `_meta`), the row
# `rust-2026`. The servers share core 0, `wrk` loads them from core 1, one after another.
# Reports req/s, p50 and p99 at concurrency 1, 8 and 32, and the ratios to FastMCP.
# Usage: scripts/bench-servers.sh [SECONDS_PER_RUN]   (default 10; needs wrk: apt-get install wrk)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo=$PWD
command -v wrk >/dev/null || { echo "error: wrk is needed (apt-get install wrk)" >&2; exit 1; }
eval "$(scripts/prepare-test-env.sh)"
seconds=${1:-10}
cargo build --release --quiet
kcdev="$PWD/target/release/kcdev"
export XDG_STATE_HOME=$(mktemp -d)
instance=bench-servers-$$
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -- "-$pid" 2>/dev/null || true; done
  "$kcdev" down --instance "$instance" --volumes >/dev/null 2>&1 || true
  rm -rf "$work" "$XDG_STATE_HOME"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

names=(rust python typescript fastmcp-seed)
declare -A url
up_args=()
for name in "${names[@]}"; do
  url[$name]="http://localhost:$(free_port)"
  up_args+=(--server-url "${url[$name]}")
done
"$kcdev" up --instance "$instance" --image "$KCDEV_TEST_IMAGE" --port "$(free_port)" \
  --management-port "$(free_port)" "${up_args[@]}" -q >/dev/null
realm_url=$("$kcdev" status --instance "$instance" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["realm"]["issuer"])')
token=$("$kcdev" token --instance "$instance")

# Each server is built (Rust in release mode) before it starts, then started pinned to core 0
# in a process group of its own, with the realm's values for its URL.
for lang in rust python typescript; do
  "$kcdev" new server "bench-$lang" --lang "$lang" --instance "$instance" --dir "$work/$lang" -q >/dev/null
done
rust_target=${CARGO_TARGET_DIR:-$repo/target/tmp/generated-server-target}
(cd "$work/rust" && CARGO_TARGET_DIR=$rust_target cargo build --release --quiet)
rust_bin=$rust_target/release/bench-rust
(cd "$work/python" && python3 -m venv .venv && .venv/bin/pip install --quiet -e . >&2)
(cd "$work/typescript" && npm install --silent --no-audit --no-fund >&2 && npm run --silent build >&2)

start() {
  local name=$1 dir=$2
  shift 2
  (
    eval "$("$kcdev" env --instance "$instance" --server-url "${url[$name]}" --export)"
    cd "$dir"
    exec setsid taskset -c 0 "$@" >"$work/$name.log" 2>&1
  ) &
  pids+=($!)
}
start rust "$work/rust" "$rust_bin"
start python "$work/python" .venv/bin/bench-python
start typescript "$work/typescript" node dist/src/index.js
(
  cd tests/interop
  KEYCLOAK_REALM_URL=$realm_url FASTMCP_BASE_URL=${url[fastmcp-seed]} exec setsid taskset -c 0 \
    "$(dirname "$KCDEV_TEST_PYTHON")/fastmcp" run fastmcp_server.py --transport http \
    --port "${url[fastmcp-seed]##*:}" >"$work/fastmcp-seed.log" 2>&1
) &
pids+=($!)

for name in "${names[@]}"; do
  for _ in $(seq 120); do
    curl -sf -o /dev/null "${url[$name]}/.well-known/oauth-protected-resource/mcp" && break
    sleep 0.5
  done
  curl -sf -o /dev/null "${url[$name]}/.well-known/oauth-protected-resource/mcp" ||
    { echo "error: the $name server did not start; its log:" >&2; cat "$work/$name.log" >&2; exit 1; }
done

# A session where the server keeps them (the TypeScript server is stateless and opens none).
session_of() {
  local endpoint=$1/mcp headers
  headers=$(curl -s -D - -o /dev/null "$endpoint" -H "authorization: Bearer $token" \
    -H 'content-type: application/json' -H 'accept: application/json, text/event-stream' \
    -d '{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"bench","version":"0"}}}')
  local session
  session=$(printf '%s' "$headers" | tr -d '\r' | sed -n 's/^[Mm]cp-[Ss]ession-[Ii]d: //p')
  curl -s -o /dev/null "$endpoint" -H "authorization: Bearer $token" \
    -H 'content-type: application/json' -H 'accept: application/json, text/event-stream' \
    ${session:+-H "mcp-session-id: $session"} -d '{"jsonrpc":"2.0","method":"notifications/initialized"}'
  printf '%s' "$session"
}

cat >"$work/whoami.lua" <<'EOF'
wrk.method = "POST"
wrk.body = '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami","arguments":{}}}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json, text/event-stream"
wrk.headers["MCP-Protocol-Version"] = "2025-06-18"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
local session = os.getenv("BENCH_SESSION")
if session ~= nil and session ~= "" then wrk.headers["Mcp-Session-Id"] = session end
EOF
cat >"$work/whoami-2026.lua" <<'EOF'
wrk.method = "POST"
wrk.body = '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami","arguments":{},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json, text/event-stream"
wrk.headers["MCP-Protocol-Version"] = "2026-07-28"
wrk.headers["Mcp-Method"] = "tools/call"
wrk.headers["Mcp-Name"] = "whoami"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
EOF

# wrk's latency in ms; "Requests/sec" as is; any non-2xx answer fails the run.
to_ms() { awk '{v=$1; if (v ~ /us$/) {sub(/us$/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms$/,"",v)} else if (v ~ /s$/) {sub(/s$/,"",v); v*=1000}; printf "%.3f", v}'; }
measure() {
  local name=$1 connections=$2 session=$3 script=$4 row=$5 out
  out=$(BENCH_TOKEN=$token BENCH_SESSION=$session taskset -c 1 wrk -t1 -c"$connections" -d"${seconds}s" \
    --latency -s "$script" "${url[$name]}/mcp")
  if grep -q "Non-2xx" <<<"$out"; then
    echo "error: $name answered non-2xx under load:" >&2
    echo "$out" >&2
    exit 1
  fi
  local rps p50 p99 errors
  errors=$(sed -n 's/^ *Socket errors: //p' <<<"$out")
  rps=$(awk '/Requests\/sec/ {printf "%.0f", $2}' <<<"$out")
  p50=$(awk '$1 == "50%" {print $2}' <<<"$out" | to_ms)
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out" | to_ms)
  printf '| %-13s | %2s | %8s | %8s | %8s | %s\n' "$row" "$connections" "$rps" "$p50" "$p99" "${errors:-none}"
  printf '%s\n' "$out" >>"$raw"
  echo "$rps" >"$work/$row-$connections.rps"
}

echo "Authenticated tools/call whoami, ${seconds} s per run, servers on core 0, wrk on core 1"
echo
raw=${BENCH_RAW:-$work/wrk.txt}
: >"$raw"
echo "| server        |  c |    req/s | p50 (ms) | p99 (ms) | socket errors"
echo "|---------------|----|----------|----------|----------|--------------"
warm_up() {
  BENCH_TOKEN=$token BENCH_SESSION=$2 taskset -c 1 wrk -t1 -c8 -d2s -s "$3" "${url[$1]}/mcp" >/dev/null
}
for name in "${names[@]}"; do
  session=$(session_of "${url[$name]}")
  # Warm up (JIT, caches, the key set) before measuring.
  warm_up "$name" "$session" "$work/whoami.lua"
  for connections in 1 8 32; do
    measure "$name" "$connections" "$session" "$work/whoami.lua" "$name"
  done
  if [ "$name" = rust ]; then
    warm_up rust "" "$work/whoami-2026.lua"
    for connections in 1 8 32; do
      measure rust "$connections" "" "$work/whoami-2026.lua" rust-2026
    done
  fi
done
echo
for connections in 1 8 32; do
  seed=$(cat "$work/fastmcp-seed-$connections.rps")
  for row in rust rust-2026 python typescript; do
    awk -v n="$row" -v c="$connections" -v a="$(cat "$work/$row-$connections.rps")" -v b="$seed" \
      'BEGIN {printf "%s / fastmcp-seed at c=%s: %.1f\n", n, c, a / b}'
  done
done
