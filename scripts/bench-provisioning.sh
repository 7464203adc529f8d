#!/usr/bin/env bash
# Measures provisioning a new realm (Keycloak ready to realm converged: `up --json`'s
# timings.provisioning_seconds) on new instances booted from the seeded image, with the Keycloak
# test image, RUNS times, alternating:
#   - default settings: the realm comes with the seeded database and gets keys of its own
#     (`provisioning.from_seed`); `plan` right after must be clean;
#   - another realm name (--realm): the seeded realm renamed, the plan's changes on top;
#   - another server URL (--server-url): the seeded realm, with the plan's changes on top;
#   - with KCDEV_BASELINE_BINARY (another kcdev build, say the commit before a change): its
#     default up, on its own seeded image.
# Each figure as min / median / max; beside the default up's provisioning, its admin login (the
# step before), so that work moved from one to the other shows.
# Usage: scripts/bench-provisioning.sh [RUNS]   (default 3; KCDEV_BINARY to use a built kcdev)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
runs=${1:-3}
eval "$(scripts/prepare-test-env.sh)"
if [ -z "${KCDEV_BINARY:-}" ]; then
  cargo build --release --quiet
  KCDEV_BINARY="$PWD/target/release/kcdev"
fi
kcdev=$KCDEV_BINARY
export XDG_STATE_HOME=$(mktemp -d)
prefix=benchprov-$$
results=$(mktemp)
instances=()
cleanup() {
  for instance in "${instances[@]}"; do
    "$kcdev" down --instance "$instance" --volumes >/dev/null 2>&1 || true
  done
  rm -rf "$XDG_STATE_HOME" "$results"
}
trap cleanup EXIT

up() { # instance, extra flags...
  local instance=$1
  shift
  instances+=("$instance")
  "${binary:-$kcdev}" up --instance "$instance" --image "$KCDEV_TEST_IMAGE" --pull never --port auto \
    --management-port auto --json "$@" 2>/dev/null
}
down() { "$kcdev" down --instance "$1" --volumes -q; }
field() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

# The seeded image: derived and seeded by a first up if missing, committed by the next one.
echo "Keycloak $(tr -d '[:space:]' <scripts/keycloak-version), image $KCDEV_TEST_IMAGE, $(nproc) cores, $runs runs"
warm() {
  local attempt boot
  for attempt in 1 2 3 4 5 6; do
    boot=$(up "$prefix-warm$attempt" | field 'd["boot"]')
    "${binary:-$kcdev}" down --instance "$prefix-warm$attempt" --volumes -q
    [ "$boot" = seeded ] && return
    while docker ps --filter "name=kcdev-seed-" --filter status=running -q | grep -q .; do sleep 2; done
  done
  echo "error: no seeded image for ${binary:-$kcdev} after $attempt ups" >&2
  exit 1
}
warm
if [ -n "${KCDEV_BASELINE_BINARY:-}" ]; then
  binary=$KCDEV_BASELINE_BINARY warm
fi

for i in $(seq 1 "$runs"); do
  report=$(up "$prefix-default$i")
  [ "$(field 'd["boot"]' <<<"$report")" = seeded ] || echo "warning: run $i booted $(field 'd["boot"]' <<<"$report")" >&2
  [ "$(field 'd["provisioning"].get("from_seed", False)' <<<"$report")" = True ] ||
    echo "warning: run $i: the default realm did not come from the seed" >&2
  echo "default $(field '"%.3f" % d["timings"]["provisioning_seconds"]' <<<"$report")" >>"$results"
  echo "default-admin $(field '"%.3f" % d["timings"]["admin_seconds"]' <<<"$report")" >>"$results"
  plan=$("$kcdev" plan --instance "$prefix-default$i" --json 2>/dev/null)
  [ "$(field 'len(d["changes"])' <<<"$plan")" = 0 ] || echo "warning: run $i: plan after up is not clean: $plan" >&2
  down "$prefix-default$i"

  report=$(up "$prefix-realm$i" --realm benchrealm)
  echo "other-realm $(field '"%.3f" % d["timings"]["provisioning_seconds"]' <<<"$report")" >>"$results"
  down "$prefix-realm$i"

  report=$(up "$prefix-server$i" --server-url http://localhost:9100)
  echo "other-server-url $(field '"%.3f" % d["timings"]["provisioning_seconds"]' <<<"$report")" >>"$results"
  plan=$("$kcdev" plan --instance "$prefix-server$i" --json 2>/dev/null)
  [ "$(field 'len(d["changes"])' <<<"$plan")" = 0 ] || echo "warning: run $i: plan after up --server-url is not clean: $plan" >&2
  down "$prefix-server$i"

  if [ -n "${KCDEV_BASELINE_BINARY:-}" ]; then
    report=$(binary=$KCDEV_BASELINE_BINARY up "$prefix-baseline$i")
    echo "baseline $(field '"%.3f" % d["timings"]["provisioning_seconds"]' <<<"$report")" >>"$results"
    echo "baseline-admin $(field '"%.3f" % d["timings"]["admin_seconds"]' <<<"$report")" >>"$results"
    "$KCDEV_BASELINE_BINARY" down --instance "$prefix-baseline$i" --volumes -q
  fi
done

python3 - "$results" <<'EOF'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    name, value = line.split()
    rows.setdefault(name, []).append(float(value))
labels = {
    "baseline": "new realm, default settings, baseline binary",
    "default": "new realm, default settings (seeded realm)",
    "baseline-admin": "  admin login before it, baseline binary",
    "default-admin": "  admin login before it, this build",
    "other-realm": "new realm, another name (seeded, renamed + plan)",
    "other-server-url": "new realm, another server URL (seeded + plan)",
}
print(f"{'provisioning, Keycloak ready -> converged':48} {'min':>7} {'median':>7} {'max':>7}  (s)")
for name, label in labels.items():
    values = rows.get(name, [])
    if values:
        print(f"{label:48} {min(values):7.3f} {statistics.median(values):7.3f} {max(values):7.3f}")
EOF
