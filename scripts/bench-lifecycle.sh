#!/usr/bin/env bash
# Measures kcdev's container lifecycle on this machine, with the Keycloak test image, against the
# bare container's own `start-dev` boot to ready (`docker run` of the same image and settings,
# polling /health/ready), in one run, alternating, RUNS times:
#   - first `up` ever: no derived image (pruned), so the optimized image is derived first;
#   - cold `up`: new container, new volume, derived and seeded images cached;
#   - `up` after `down`: new container, volume kept;
#   - provisioning (Keycloak ready to realm converged, new realm) and a no-op `up`;
#   - the Keycloak container's memory, idle, under the default limit;
#   - where a cold up's time goes: Keycloak's own log, from JVM start to ready.
# Each figure is reported as min / median / max, and divided by the bare boot of the same run.
# Usage: scripts/bench-lifecycle.sh [RUNS]   (default 3)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
runs=${1:-3}
eval "$(scripts/prepare-test-env.sh)"
cargo build --release --quiet
kcdev="$PWD/target/release/kcdev"
export XDG_STATE_HOME=$(mktemp -d)
instance=bench-$$
results=$(mktemp)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port)
mport=$(free_port)
up=("$kcdev" up --instance "$instance" --image "$KCDEV_TEST_IMAGE" --pull never --port "$port" --management-port "$mport" --json)
cleanup() {
  "$kcdev" down --instance "$instance" --volumes >/dev/null 2>&1 || true
  "$kcdev" down --instance "$instance-seed" --volumes >/dev/null 2>&1 || true
  docker rm -f "bare-$instance" >/dev/null 2>&1 || true
  rm -rf "$XDG_STATE_HOME" "$results"
}
trap cleanup EXIT

now() { date +%s.%N; }
elapsed() { python3 -c "print(f'{$(now) - $1:.2f}')"; }
record() { echo "$1 $2" >>"$results"; }

bare_boot() {
  local start
  start=$(now)
  docker run -d --name "bare-$instance" -m 1g -p "127.0.0.1:$port:8080" -p "127.0.0.1:$mport:9000" \
    -e KC_BOOTSTRAP_ADMIN_USERNAME=admin -e KC_BOOTSTRAP_ADMIN_PASSWORD=bench -e KC_HEALTH_ENABLED=true \
    -e "KC_HOSTNAME=http://localhost:$port" "$KCDEV_TEST_IMAGE" start-dev --http-host=0.0.0.0 >/dev/null
  until curl -fs -o /dev/null "http://127.0.0.1:$mport/health/ready"; do sleep 0.1; done
  elapsed "$start"
  docker rm -f "bare-$instance" >/dev/null
}

# Times one `up`, recording its total under $1 and, with $2, its provisioning time too.
timed_up() {
  local start report
  start=$(now)
  report=$("${up[@]}" 2>/dev/null)
  record "$1" "$(elapsed "$start")"
  if [ -n "${2:-}" ]; then
    record "$2" "$(python3 -c 'import json,sys; print("%.2f" % json.load(sys.stdin)["timings"]["provisioning_seconds"])' <<<"$report")"
  fi
  python3 -c 'import json,sys; print(json.load(sys.stdin)["boot"])' <<<"$report"
}

# Waits for the background seeding, then lets a throwaway instance commit its image, so that the
# measured cold up finds the seeded image ready, as every cold up after the first does.
wait_for_seeded_image() {
  while docker ps --filter "name=kcdev-seed-" --filter status=running -q | grep -q .; do sleep 1; done
  "$kcdev" up --instance "$instance-seed" --image "$KCDEV_TEST_IMAGE" --pull never --port auto --management-port auto -q
  "$kcdev" down --instance "$instance-seed" --volumes -q
}

echo "Keycloak $(tr -d '[:space:]' <scripts/keycloak-version), image $KCDEV_TEST_IMAGE, $(nproc) cores, $runs runs"
for i in $(seq 1 "$runs"); do
  record bare "$(bare_boot)"
  "$kcdev" prune -q
  boot=$(timed_up first-up)
  "$kcdev" down --instance "$instance" --volumes -q
  [ "$boot" = built ] || echo "warning: first up booted $boot" >&2
  wait_for_seeded_image
  boot=$(timed_up cold-up provisioning)
  [ "$boot" = seeded ] || echo "warning: cold up booted $boot" >&2
  for _ in 1 2 3; do
    start=$(now)
    "${up[@]}" >/dev/null 2>&1
    record noop-up "$(elapsed "$start")"
  done
  if [ "$i" -eq "$runs" ]; then
    sleep 5
    memory=$(docker stats --no-stream --format '{{.MemUsage}}' "kcdev-$instance-keycloak")
    timeline=$(docker logs "kcdev-$instance-keycloak" 2>&1 | grep -E 'started in|Bootstrap completed|Listening on|Initializing|Keycloak [0-9.]+ on JVM' | cut -c12-23,40-200 || true)
  fi
  "$kcdev" down --instance "$instance" -q
  timed_up up-after-down >/dev/null
  "$kcdev" down --instance "$instance" --volumes -q
  echo "run $i done" >&2
done

python3 - "$results" <<'EOF'
import statistics, sys
values = {}
for line in open(sys.argv[1]):
    name, value = line.split()
    values.setdefault(name, []).append(float(value))
bare = values["bare"]
def stats(xs):
    return f"{min(xs):6.2f} {statistics.median(xs):6.2f} {max(xs):6.2f}"
print(f"{'figure':52} {'min':>6} {'median':>6} {'max':>6}   goal")
print(f"{'bare start-dev boot to ready (s)':52} {stats(bare)}")
for name, label, goal in [
    ("cold-up", "cold up: new container, new volume (s)", ""),
    ("up-after-down", "up after down: new container, volume kept (s)", ""),
    ("first-up", "first up ever, derivation included (s)", ""),
]:
    print(f"{label:52} {stats(values[name])}")
for name, label, goal in [
    ("cold-up", "cold up / bare boot", "<= 0.40"),
    ("up-after-down", "up after down / bare boot", "<= 0.35"),
    ("first-up", "first up ever / bare boot", "<= 1.5"),
]:
    ratios = [a / b for a, b in zip(values[name], bare)]
    print(f"{label:52} {stats(ratios)}   {goal}")
print(f"{'provisioning, ready to realm converged, new realm (s)':52} {stats(values['provisioning'])}   <= 1.0")
print(f"{'no-op up (s)':52} {stats(values['noop-up'])}   <= 0.3")
EOF
echo "idle memory of the Keycloak container (1 GiB limit): $memory"
echo "Keycloak's own log of the last cold up (time, message):"
echo "$timeline" | sed 's/^/  /'
