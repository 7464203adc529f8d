#!/usr/bin/env bash
# Prepares a machine for kcdev's integration tests, idempotently:
#   1. installs Debian's docker.io, debootstrap and docker-registry if missing;
#   2. starts dockerd if no engine answers;
#   3. builds the Keycloak test image kcdev-test/keycloak:<version> from the distribution zip on
#      Maven Central, on a Debian root filesystem with OpenJDK 17, laid out like the official image
#      (/opt/keycloak, entrypoint kc.sh, uid 1000), unless that tag already exists;
#   4. installs Debian's podman and copies the test image into its store, for the Podman test;
#   5. creates a Python virtual environment with the MCP SDK and FastMCP, and installs mcp-remote
#      (Claude Desktop's bridge), the TypeScript MCP SDK (1.x and 2.x's client) and three real MCP
#      clients (Claude Code, Codex CLI, Gemini CLI) with npm, for the interop tests.
#
# Everything it downloads is kept in KCDEV_TEST_CACHE (default ~/.cache/kcdev-test), Maven's
# repository included, so an empty KCDEV_TEST_CACHE is a cold start. With --distribution-only it
# only fetches and checks the Keycloak distribution into the cache (scripts/test.sh does that in an
# empty cache on every run, so the cold path cannot break unseen).
#
# Its standard output carries exactly one line, `export KCDEV_TEST_IMAGE=... ...`, so that
# `eval "$(scripts/prepare-test-env.sh)"` is safe: everything the tools it calls print (Maven's ANSI
# colours, apt, npm, pip, debootstrap) goes to standard error instead. scripts/test.sh holds it to
# that. No program it starts gets that standard output either: `$(...)` waits until every holder
# of the pipe has closed it, and a dockerd left running with it would make the caller wait forever
# (CI hung exactly so once, on a machine where dockerd was not yet running).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
keycloak_version=${KCDEV_KEYCLOAK_VERSION:-$(tr -d '[:space:]' <"$here/keycloak-version")}
image="kcdev-test/keycloak:$keycloak_version"
cache_dir=${KCDEV_TEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kcdev-test}
python_env="$cache_dir/python"
node_dir="$cache_dir/node"
mcp_remote_version=0.15.1
# The TypeScript MCP SDK, for the step-up test's client: the 1.x package and the 2.x line's client
# package (Node 20 or later).
ts_sdk_version=1.32.2
ts_sdk2_version=2.4.0
# The real MCP clients of tests/clis.rs, installed without their install scripts (Gemini CLI's
# @github/keytar would download a prebuilt module from the internet); Claude Code's own
# install.cjs then puts its bundled native binary in place, which needs nothing from the network.
claude_code_version=2.1.332
codex_version=0.171.0
gemini_cli_version=0.61.0

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    die "this step needs root: $* (run the script as root or install sudo)"
  fi
}

install_packages() {
  local missing=()
  command -v dockerd >/dev/null || missing+=(docker.io)
  command -v debootstrap >/dev/null || missing+=(debootstrap)
  command -v docker-registry >/dev/null || missing+=(docker-registry)
  command -v mvn >/dev/null || missing+=(maven)
  command -v unzip >/dev/null || missing+=(unzip)
  command -v podman >/dev/null || missing+=(podman)
  # The team test signs a Keycloak certificate with a CA of its own.
  command -v openssl >/dev/null || missing+=(openssl)
  # The scale-out test puts two replicas of a generated server behind nginx.
  command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx)
  [ ${#missing[@]} -eq 0 ] && return
  log "installing ${missing[*]}"
  as_root apt-get update -qq
  # No package may start its service (nginx on port 80, say): tests start what they need.
  local policy=/usr/sbin/policy-rc.d placed=
  if [ ! -e "$policy" ]; then
    as_root sh -c "printf '#!/bin/sh\nexit 101\n' >$policy && chmod +x $policy" && placed=1
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  [ -z "$placed" ] || as_root rm -f "$policy"
}

start_engine() {
  if docker info >/dev/null 2>&1; then return; fi
  log "starting dockerd"
  as_root sh -c 'nohup dockerd </dev/null >/var/log/kcdev-dockerd.log 2>&1 &'
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && return
    sleep 1
  done
  die "dockerd did not answer within 60 s; see /var/log/kcdev-dockerd.log"
}

# The distribution zip, from Maven Central through Maven (which knows where that is), into the cache.
fetch_distribution() {
  local zip="$cache_dir/keycloak-quarkus-dist-$keycloak_version.zip"
  if [ ! -s "$zip" ]; then
    log "downloading the Keycloak $keycloak_version distribution into $cache_dir"
    mkdir -p "$cache_dir"
    command -v mvn >/dev/null || die "Maven (mvn) is needed to fetch the Keycloak distribution"
    mvn -q -B -Dstyle.color=never "-Dmaven.repo.local=$cache_dir/maven" dependency:copy \
      "-Dartifact=org.keycloak:keycloak-quarkus-dist:$keycloak_version:zip" \
      "-DoutputDirectory=$cache_dir"
  fi
  unzip -l "$zip" "keycloak-$keycloak_version/bin/kc.sh" >/dev/null \
    || die "$zip is not a Keycloak $keycloak_version distribution; delete it and run again"
  distribution_zip=$zip
}

build_image() {
  if docker image inspect "$image" >/dev/null 2>&1; then
    log "$image already present"
    return
  fi
  log "building $image"
  fetch_distribution
  local zip=$distribution_zip
  local rootfs
  rootfs=$(mktemp -d /tmp/kcdev-rootfs.XXXXXX)
  # A RETURN trap outlives the function that sets it: it removes itself when it fires.
  trap 'as_root rm -rf "$rootfs"; trap - RETURN' RETURN
  as_root debootstrap --variant=minbase --include=openjdk-17-jre-headless bookworm "$rootfs" \
    http://deb.debian.org/debian >/dev/null
  as_root unzip -q "$zip" -d "$rootfs/opt"
  as_root mv "$rootfs/opt/keycloak-$keycloak_version" "$rootfs/opt/keycloak"
  as_root mkdir -p "$rootfs/opt/keycloak/data"
  as_root chown -R 1000:0 "$rootfs/opt/keycloak"
  as_root chmod -R g+rwX "$rootfs/opt/keycloak"
  as_root sh -c "echo 'keycloak:x:1000:0:keycloak user:/opt/keycloak:/sbin/nologin' >>'$rootfs/etc/passwd'"
  as_root rm -rf "$rootfs/var/cache/apt/archives"/*.deb "$rootfs/var/lib/apt/lists"/*
  as_root tar -C "$rootfs" -c . | docker import \
    --change 'ENTRYPOINT ["/opt/keycloak/bin/kc.sh"]' \
    --change 'USER 1000' \
    --change 'WORKDIR /opt/keycloak' \
    --change 'ENV KC_RUN_IN_CONTAINER=true' \
    --change 'ENV LANG=C.UTF-8' \
    --change 'EXPOSE 8080 8443 9000' \
    --change "LABEL org.opencontainers.image.version=$keycloak_version" \
    --change 'LABEL org.opencontainers.image.title=keycloak' \
    - "$image" >/dev/null
  log "built $image"
}

# Podman keeps its own image store; the Podman test runs the same image from there.
prepare_podman() {
  if podman image exists "localhost/$image" 2>/dev/null; then return; fi
  log "copying $image into Podman's store"
  # Not fatal: where Podman cannot work, its test says so and skips.
  docker save "$image" | podman load -q >/dev/null \
    || log "podman could not load the image; the Podman test will be skipped"
}

prepare_python() {
  if [ -x "$python_env/bin/python" ] && "$python_env/bin/python" -c 'import mcp, fastmcp' 2>/dev/null; then
    return
  fi
  log "creating the Python environment for the interop tests in $python_env"
  python3 -m venv "$python_env"
  "$python_env/bin/pip" install -q -r "$here/interop-requirements.txt"
}

# Whether every `name@version` given is installed in the node directory.
node_packages_installed() {
  local package manifest
  for package in "$@"; do
    manifest="$node_dir/node_modules/${package%@*}/package.json"
    [ -f "$manifest" ] && grep -q "\"version\": \"${package##*@}\"" "$manifest" || return 1
  done
}

prepare_node() {
  local sdks=("mcp-remote@$mcp_remote_version" "@modelcontextprotocol/sdk@$ts_sdk_version"
    "@modelcontextprotocol/client@$ts_sdk2_version")
  local clis=("@anthropic-ai/claude-code@$claude_code_version" "@openai/codex@$codex_version"
    "@google/gemini-cli@$gemini_cli_version")
  local claude_binary="$node_dir/node_modules/@anthropic-ai/claude-code/bin/claude.exe"
  if node_packages_installed "${sdks[@]}" "${clis[@]}" && [ -s "$claude_binary" ] \
    && [ "$(stat -c %s "$claude_binary")" -gt 1000000 ]; then
    return
  fi
  command -v npm >/dev/null || die "npm is needed for the Node interop tests (install Node.js 20 or later)"
  mkdir -p "$node_dir"
  if ! node_packages_installed "${sdks[@]}"; then
    log "installing ${sdks[*]} in $node_dir"
    npm install --silent --no-audit --no-fund --prefix "$node_dir" "${sdks[@]}" >/dev/null
  fi
  log "installing ${clis[*]} in $node_dir"
  npm install --silent --no-audit --no-fund --ignore-scripts --prefix "$node_dir" "${clis[@]}" >/dev/null
  (cd "$node_dir/node_modules/@anthropic-ai/claude-code" && node install.cjs) >/dev/null
  [ "$(stat -c %s "$claude_binary")" -gt 1000000 ] \
    || die "Claude Code's install.cjs did not put its native binary in $claude_binary"
}

prepare() {
  install_packages
  start_engine
  build_image
  prepare_podman
  prepare_python
  prepare_node
}

if [ "${1:-}" = --distribution-only ]; then
  { command -v unzip >/dev/null || install_packages; fetch_distribution; } >&2
  exit 0
fi
prepare >&2
echo "export KCDEV_TEST_IMAGE=$image KCDEV_TEST_PYTHON=$python_env/bin/python KCDEV_TEST_MCP_REMOTE_CLIENT=$node_dir/node_modules/.bin/mcp-remote-client KCDEV_TEST_NODE_MODULES=$node_dir/node_modules"
