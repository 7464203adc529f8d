#!/usr/bin/env bash
# What each language costs: the three servers `kcdev new server --lang rust|python|typescript`
# writes, and a FastMCP server configured as FastMCP's Keycloak page shows
# (tests/interop/fastmcp_server.py), side by side in one run against one realm. Each serves
# authenticated `tools/call whoami` (a real token of the realm, inside an MCP session where the
# server keeps sessions: the common denominator); the Rust server also as self-contained
# 2026-07-28 requests (no session, protocol version in the header and `_meta`), the row
# `rust-2026`. The servers share core 0, `wrk` loads them from core 1, one after another.
# At concurrency c, the c connections share ONE session (an agent's parallel tool calls), each
# request with a JSON-RPC id of its own (ids must be unique within a session: rmcp routes an
# answer to the HTTP request by its id). Each measurement runs BENCH_RUNS times (default 3):
# req/s min/median/max, p50 and p99 as the median run's, and the ratios to FastMCP (medians).
# Usage: scripts/bench-servers.sh [SECONDS_PER_RUN]   (default 10; needs wrk: apt-get install wrk)
#        BENCH_RUNS (default 3), KCDEV_BIN (a built kcdev; else a release build here), BENCH_RAW
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo=$PWD
command -v wrk >/dev/null || { echo "error: wrk is needed (apt-get install wrk)" >&2; exit 1; }
eval "$(scripts/prepare-test-env.sh)"
seconds=${1:-10}
runs=${BENCH_RUNS:-3}
# KCDEV_BIN: a kcdev built already (a release build takes minutes on a small machine).
if [ -n "${KCDEV_BIN:-}" ]; then
  kcdev=$(realpath "$KCDEV_BIN")
else
  cargo build --release --quiet
  kcdev="${CARGO_TARGET_DIR:-$PWD/target}/release/kcdev"
fi
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
rust_target=${CARGO_TARGET_DIR:-$repo/target}/tmp/generated-server-target
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
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json, text/event-stream"
wrk.headers["MCP-Protocol-Version"] = "2025-06-18"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
local session = os.getenv("BENCH_SESSION")
if session ~= nil and session ~= "" then wrk.headers["Mcp-Session-Id"] = session end
local id = 0
request = function()
  id = id + 1
  return wrk.format(nil, nil, nil,
    '{"jsonrpc":"2.0","id":' .. id .. ',"method":"tools/call","params":{"name":"whoami","arguments":{}}}')
end
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
# One wrk run: its req/s, p50 and p99 (ms) and socket errors on one line of "$work/$row-$connections.runs".
measure_once() {
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
  printf '%s %s %s %s\n' "$rps" "$p50" "$p99" "${errors:-none}" >>"$work/$row-$connections.runs"
  printf '%s\n' "$out" >>"$raw"
}
# `runs` runs; prints the row: req/s min/median/max, the median run's p50 and p99, socket errors.
measure() {
  local name=$1 connections=$2 row=$5
  : >"$work/$row-$connections.runs"
  for _ in $(seq "$runs"); do measure_once "$@"; done
  sort -n -k1,1 "$work/$row-$connections.runs" | awk -v row="$row" -v c="$connections" '
    {
      rps[NR] = $1; p50[NR] = $2; p99[NR] = $3
      run_errors = $4; for (i = 5; i <= NF; i++) run_errors = run_errors " " $i
      if (run_errors != "none") errors = errors (errors == "" ? "" : "; ") run_errors
    }
    END {
      m = int((NR + 1) / 2)
      printf "| %-13s | %2s | %6s / %6s / %6s | %8s | %8s | %s\n", row, c, rps[1], rps[m], rps[NR],
        p50[m], p99[m], (errors == "" ? "none" : errors)
    }'
  sort -n -k1,1 "$work/$row-$connections.runs" | awk '{v[NR] = $1} END {print v[1], v[int((NR + 1) / 2)], v[NR]}' \
    >"$work/$row-$connections.rps"
}

echo "Authenticated tools/call whoami, ${runs} runs of ${seconds} s each, servers on core 0, wrk on core 1"
echo
raw=${BENCH_RAW:-$work/wrk.txt}
: >"$raw"
echo "| server        |  c | req/s min / median / max | p50 (ms) | p99 (ms) | socket errors"
echo "|---------------|----|--------------------------|----------|----------|--------------"
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
# Median over median; in brackets the worst pairing (this row's slowest run over FastMCP's fastest).
ratio() {
  local row=$1 connections=$2
  read -r row_min row_median _ <"$work/$row-$connections.rps"
  read -r _ seed_median seed_max <"$work/fastmcp-seed-$connections.rps"
  awk -v a="$row_median" -v b="$seed_median" -v lo="$row_min" -v hi="$seed_max" \
    'BEGIN {printf "%.1f (worst pairing %.1f)", a / b, lo / hi}'
}
for connections in 1 8 32; do
  for row in rust rust-2026 python typescript; do
    echo "$row / fastmcp-seed at c=$connections: $(ratio "$row" "$connections")"
  done
done
echo
echo "Session row, 8 parallel calls in one session: rust / fastmcp-seed $(ratio rust 8) (goal >= 25)"
