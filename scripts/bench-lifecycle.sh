#!/usr/bin/env bash
# Measures kcdev's container lifecycle on this machine, with the Keycloak test image:
#   - cold `kcdev up` (image present, no container or volume) beside the bare container's own
#     boot to ready (`docker run` of the same image and settings, polling /health/ready), run
#     alternately RUNS times;
#   - provisioning time (Keycloak ready to realm converged) and a no-op `up`;
#   - warm `kcdev up` (instance already up), `kcdev down`;
#   - the Keycloak container's memory, idle after provisioning.
# Usage: scripts/bench-lifecycle.sh [RUNS]   (default 3)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
runs=${1:-3}
eval "$(scripts/prepare-test-env.sh)"
cargo build --release --quiet
kcdev="$PWD/target/release/kcdev"
export XDG_STATE_HOME=$(mktemp -d)
instance=bench-$$
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
up=("$kcdev" up --instance "$instance" --image "$KCDEV_TEST_IMAGE" --port "$port" --management-port "$mport" --json)
trap '"$kcdev" down --instance "$instance" --volumes >/dev/null 2>&1 || true; docker rm -f "bare-$instance" >/dev/null 2>&1 || true; rm -rf "$XDG_STATE_HOME"' EXIT

now() { date +%s.%N; }
elapsed() { python3 -c "print(f'{$(now) - $1:.2f}')"; }

bare_boot() {
  local start
  start=$(now)
  docker run -d --name "bare-$instance" -m 1g -p "127.0.0.1:$port:8080" -p "127.0.0.1:$mport:9000" \
    -e KC_BOOTSTRAP_ADMIN_USERNAME=admin -e KC_BOOTSTRAP_ADMIN_PASSWORD=bench -e KC_HEALTH_ENABLED=true \
    -e "KC_HOSTNAME=http://localhost:$port" "$KCDEV_TEST_IMAGE" start-dev --http-host=0.0.0.0 >/dev/null
  until curl -fs -o /dev/null "http://127.0.0.1:$mport/health/ready"; do sleep 0.2; done
  elapsed "$start"
  docker rm -f "bare-$instance" >/dev/null
}

echo "Keycloak $(tr -d '[:space:]' < scripts/keycloak-version), image $KCDEV_TEST_IMAGE, $(nproc) cores"
printf '%-5s %-22s %-22s %-18s\n' run "bare boot to ready (s)" "cold kcdev up (s)" "of which provisioning (s)"
for i in $(seq 1 "$runs"); do
  bare=$(bare_boot)
  start=$(now)
  report=$("${up[@]}" 2>/dev/null)
  cold=$(elapsed "$start")
  provisioning=$(python3 -c 'import json,sys; print("%.2f" % json.load(sys.stdin)["timings"]["provisioning_seconds"])' <<<"$report")
  printf '%-5s %-22s %-22s %-18s\n' "$i" "$bare" "$cold" "$provisioning"
  if [ "$i" -lt "$runs" ]; then "$kcdev" down --instance "$instance" --volumes >/dev/null; fi
done

warm_times=()
for _ in $(seq 1 10); do
  start=$(now)
  "${up[@]}" >/dev/null 2>&1
  warm_times+=("$(elapsed "$start")")
done
echo "warm kcdev up (no-op, realm up to date), 10 runs (s): ${warm_times[*]}"
sleep 5
echo "memory of the Keycloak container, idle: $(docker stats --no-stream --format '{{.MemUsage}}' "kcdev-$instance-keycloak")"
start=$(now)
"$kcdev" down --instance "$instance" >/dev/null
echo "kcdev down (stop + remove, data kept) (s): $(elapsed "$start")"
start=$(now)
"${up[@]}" >/dev/null 2>&1
echo "kcdev up after down (new container, data from the volume) (s): $(elapsed "$start")"
