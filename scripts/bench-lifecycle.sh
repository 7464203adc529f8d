#!/usr/bin/env bash
# Measures kcdev's container lifecycle on this machine, with the Keycloak test image, against the
# bare container's own `start-dev` boot to ready (`docker run` of the same image and settings,
# polling /health/ready), in one run, alternating, RUNS times:
#   - first `up` ever: no derived image (pruned), so the optimized image is derived first;
#   - cold `up`: new container, new volume, derived and seeded images cached;
#   - `up` after `down`: new container, volume kept;
#   - provisioning (Keycloak ready to realm converged, new realm) and a no-op `up`;
#   - the Keycloak container's memory, idle, under the default limit;
#   - where each boot's time goes: container start (the command's start to the engine's
#     StartedAt), JVM (to Quarkus's boot start: the "started in" line's time less its seconds; a
#     bare start-dev's re-augmenting JVM included), Quarkus (to "started in"), Keycloak (to ready:
#     kcdev's, or the bare boot's poll), admin login and provisioning (kcdev's report);
#   - whether the cold up's JVM mapped the class archive its seeded image carries.
# Each figure is reported as min / median / max, and divided by the bare boot of the same run.
# The machine's load (uptime) is printed before and after: the ratios are fair only side by side.
#
# kcdev's ups run on a copy of the test image under a tag of their own (the same content, another
# id), so that pruning its derived images leaves those of tests running beside it alone.
# Usage: scripts/bench-lifecycle.sh [RUNS]   (default 3)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
runs=${1:-${RUNS:-3}}
eval "$(scripts/prepare-test-env.sh)"
cargo build --release --quiet
kcdev="$PWD/target/release/kcdev"
export XDG_STATE_HOME=$(mktemp -d)
instance=bench-$$
container="kcdev-$instance-keycloak"
base_image="kcdev-bench/keycloak:$$"
results=$(mktemp)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port)
mport=$(free_port)
up=("$kcdev" up --instance "$instance" --image "$base_image" --pull never --port "$port" --management-port "$mport" --json)
cleanup() {
  "$kcdev" down --instance "$instance" --volumes >/dev/null 2>&1 || true
  "$kcdev" down --instance "$instance-seed" --volumes >/dev/null 2>&1 || true
  docker rm -f "bare-$instance" >/dev/null 2>&1 || true
  "$kcdev" prune --image "$base_image" -q >/dev/null 2>&1 || true
  docker rmi "$base_image" >/dev/null 2>&1 || true
  rm -rf "$XDG_STATE_HOME" "$results"
}
trap cleanup EXIT
printf 'FROM %s\nLABEL dev.kcdev.bench=%s\n' "$KCDEV_TEST_IMAGE" "$$" | docker build -q -t "$base_image" - >/dev/null

now() { date +%s.%N; }
elapsed() { python3 -c "print(f'{$(now) - $1:.2f}')"; }
record() { echo "$1 $2" >>"$results"; }

# Records where the boot of container $2 went, as "$1-<phase> seconds" lines: started at $3 (epoch
# seconds), ready at $4; with $5 and $6 (an up's admin and provisioning seconds), ready that much
# before $4.
record_split() {
  local started_at started_line
  started_at=$(docker inspect -f '{{.State.StartedAt}}' "$2")
  started_line=$(docker logs -t "$2" 2>&1 | grep -m1 -E 'started in [0-9.]+s' || true)
  python3 - "$1" "$3" "$4" "$started_at" "$started_line" "${5:-0}" "${6:-}" >>"$results" <<'PY'
import datetime, re, sys
label, t0, end, started_at, line, admin, provisioning = sys.argv[1:]
def epoch(stamp):  # the engine's RFC 3339, in nanoseconds
    stamp = re.sub(r"(\.\d{6})\d*", r"\1", stamp.replace("Z", "+00:00"))
    return datetime.datetime.fromisoformat(stamp).timestamp()
found = re.match(r"(\S+) .*started in ([0-9.]+)s", line)
if not found:
    sys.exit(0)
t0, end, quarkus = float(t0), float(end), float(found.group(2))
container_started, quarkus_started = epoch(started_at), epoch(found.group(1))
ready = end - float(admin) - float(provisioning or 0)
phases = [
    ("container", container_started - t0),
    ("jvm", quarkus_started - quarkus - container_started),
    ("quarkus", quarkus),
    ("keycloak", ready - quarkus_started),
]
if provisioning:
    phases += [("admin", float(admin)), ("provisioning", float(provisioning))]
for phase, seconds in phases:
    print(f"{label}-{phase} {seconds:.2f}")
PY
}

bare_boot() {
  local start end
  start=$(now)
  docker run -d --name "bare-$instance" -m 1g -p "127.0.0.1:$port:8080" -p "127.0.0.1:$mport:9000" \
    -e KC_BOOTSTRAP_ADMIN_USERNAME=admin -e KC_BOOTSTRAP_ADMIN_PASSWORD=bench -e KC_HEALTH_ENABLED=true \
    -e "KC_HOSTNAME=http://localhost:$port" "$KCDEV_TEST_IMAGE" start-dev --http-host=0.0.0.0 >/dev/null
  until curl -fs -o /dev/null "http://127.0.0.1:$mport/health/ready"; do sleep 0.1; done
  end=$(now)
  record bare "$(python3 -c "print(f'{$end - $start:.2f}')")"
  record_split bare "bare-$instance" "$start" "$end"
  docker rm -f "bare-$instance" >/dev/null
}

# Times one `up`, recording its total and its split under $1 and, with $2, its provisioning time
# under that name too. Prints how it booted.
timed_up() {
  local start end report timings
  start=$(now)
  report=$("${up[@]}" 2>/dev/null)
  end=$(now)
  record "$1" "$(python3 -c "print(f'{$end - $start:.2f}')")"
  timings=$(python3 -c 'import json,sys; t=json.load(sys.stdin)["timings"]; print("%.3f %.3f" % (t["admin_seconds"], t["provisioning_seconds"]))' <<<"$report")
  # shellcheck disable=SC2086 # two numbers
  record_split "$1" "$container" "$start" "$end" $timings
  if [ -n "${2:-}" ]; then
    record "$2" "${timings#* }"
  fi
  python3 -c 'import json,sys; print(json.load(sys.stdin)["boot"])' <<<"$report"
}

# Waits for the background seeding, then lets a throwaway instance commit its image, so that the
# measured cold up finds the seeded image ready, as every cold up after the first does.
wait_for_seeded_image() {
  while docker ps --filter "label=dev.kcdev.base-image=$base_image" --filter "name=kcdev-seed-" --filter status=running -q | grep -q .; do sleep 1; done
  "$kcdev" up --instance "$instance-seed" --image "$base_image" --pull never --port auto --management-port auto -q
  "$kcdev" down --instance "$instance-seed" --volumes -q
}

echo "Keycloak $(tr -d '[:space:]' <scripts/keycloak-version), image $KCDEV_TEST_IMAGE, $(nproc) cores, $runs runs"
echo "load before: $(uptime)"
for i in $(seq 1 "$runs"); do
  bare_boot
  "$kcdev" prune --image "$base_image" -q
  boot=$(timed_up first-up)
  "$kcdev" down --instance "$instance" --volumes -q
  [ "$boot" = built ] || echo "warning: first up booted $boot" >&2
  wait_for_seeded_image
  boot=$(timed_up cold-up provisioning)
  [ "$boot" = seeded ] || echo "warning: cold up booted $boot" >&2
  # The archive shows in the JVM's memory map when the JVM uses it. (Read whole: grep -q at the
  # end of the pipe would cut the writer short, and pipefail would count that as no match.)
  maps=$(docker exec "$container" bash -c 'cat /proc/[0-9]*/maps 2>/dev/null' || true)
  if grep -q 'kcdev-classes\.jsa' <<<"$maps"; then
    record archive-mapped 1
  else
    record archive-mapped 0
  fi
  for _ in 1 2 3; do
    start=$(now)
    "${up[@]}" >/dev/null 2>&1
    record noop-up "$(elapsed "$start")"
  done
  if [ "$i" -eq "$runs" ]; then
    sleep 5
    memory=$(docker stats --no-stream --format '{{.MemUsage}}' "$container")
  fi
  "$kcdev" down --instance "$instance" -q
  timed_up up-after-down >/dev/null
  "$kcdev" down --instance "$instance" --volumes -q
  echo "run $i done" >&2
done
echo "load after: $(uptime)"

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
for name, label in [
    ("cold-up", "cold up: new container, new volume (s)"),
    ("up-after-down", "up after down: new container, volume kept (s)"),
    ("first-up", "first up ever, derivation included (s)"),
]:
    print(f"{label:52} {stats(values[name])}")
for name, label, goal in [
    ("cold-up", "cold up / bare boot", "<= 0.20"),
    ("up-after-down", "up after down / bare boot", "<= 0.15"),
    ("first-up", "first up ever / bare boot", "<= 1.5"),
]:
    ratios = [a / b for a, b in zip(values[name], bare)]
    print(f"{label:52} {stats(ratios)}   {goal}")
print(f"{'provisioning, ready to realm converged, new realm (s)':52} {stats(values['provisioning'])}   <= 1.0")
print(f"{'no-op up (s)':52} {stats(values['noop-up'])}   <= 0.3")
print()
print("where the time goes (s)")
for name, label in [("bare", "bare start-dev"), ("cold-up", "cold up"), ("up-after-down", "up after down")]:
    for phase, what in [
        ("container", "container start"),
        ("jvm", "JVM, to Quarkus's start"),
        ("quarkus", "Quarkus, to started"),
        ("keycloak", "Keycloak, started to ready"),
        ("admin", "admin login"),
        ("provisioning", "provisioning"),
    ]:
        if f"{name}-{phase}" in values:
            print(f"  {label + ': ' + what:50} {stats(values[f'{name}-{phase}'])}")
mapped = values.get("archive-mapped", [])
print(f"cold ups whose JVM mapped the class archive: {int(sum(mapped))} of {len(mapped)}")
EOF
echo "idle memory of the Keycloak container (1 GiB limit): $memory"
