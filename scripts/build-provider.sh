#!/usr/bin/env bash
# Builds kcdev's Keycloak provider (realm/provider, Maven) into the committed jar
# realm/provider/kcdev-keycloak-provider.jar, which the kcdev binary embeds.
#
#   scripts/build-provider.sh           build it and replace the committed jar
#   scripts/build-provider.sh --check   build it and fail unless the bytes equal the committed jar
#
# The build is reproducible (see realm/provider/pom.xml), so CI (.ci/run) can hold the committed
# jar to its source. It runs in a copy of the project in a temporary directory, leaving no target/
# behind, with Maven's own repository (~/.m2, or what the user's settings say): after the first
# build everything is there, and Maven works offline.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

project=realm/provider
jar_name=kcdev-keycloak-provider.jar
committed=$project/$jar_name
# The JDK the committed jar is built with: javac of another release may emit other bytes even for
# --release 17.
expected_java=17

die() { printf 'error: %s\n' "$*" >&2; exit 1; }

check=false
case "${1:-}" in
  "") ;;
  --check) check=true ;;
  -h | --help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) die "unknown argument ${1} (usage: scripts/build-provider.sh [--check])" ;;
esac

command -v mvn >/dev/null || die "Maven (mvn) is needed to build the Keycloak provider (Debian: apt-get install maven)"
command -v javac >/dev/null || die "a JDK (javac) is needed to build the Keycloak provider (Debian: apt-get install openjdk-17-jdk-headless)"

# The provider is compiled against one Keycloak release; a kcdev moved to another minor release
# should move the provider with it.
keycloak_version=$(tr -d '[:space:]' <scripts/keycloak-version)
provider_version=$(sed -n 's:.*<keycloak.version>\(.*\)</keycloak.version>.*:\1:p' "$project/pom.xml")
[ "${keycloak_version%.*}" = "${provider_version%.*}" ] \
  || die "$project/pom.xml builds against Keycloak $provider_version, but kcdev runs $keycloak_version (scripts/keycloak-version): set keycloak.version in the pom to the newest $keycloak_version-compatible release on Maven Central"

java_release=$(javac -version 2>&1 | sed -n 's/^javac \([0-9]*\).*/\1/p')

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -R "$project/pom.xml" "$project/src" "$work/"
# The jar records each entry's permissions, which the files get from the umask.
umask 022
# Maven's output is shown only when it fails (even -q prints colour codes).
if ! mvn -q -B -Dstyle.color=never -f "$work/pom.xml" package >"$work/maven.log" 2>&1; then
  cat "$work/maven.log" >&2
  die "the Maven build of $project failed (see above)"
fi
built=$work/target/$jar_name
[ -s "$built" ] || die "the Maven build of $project wrote no $jar_name"

if ! $check; then
  cp "$built" "$committed"
  echo "==> built $committed ($(wc -c <"$committed") bytes, sha256 $(sha256sum "$committed" | cut -c1-12))" >&2
  exit 0
fi

[ -f "$committed" ] || die "$committed is missing: run scripts/build-provider.sh and commit the jar"
if ! cmp -s "$built" "$committed"; then
  printf 'error: %s is not what %s builds (committed sha256 %s, built %s)\n' \
    "$committed" "$project" \
    "$(sha256sum "$committed" | cut -c1-12)" "$(sha256sum "$built" | cut -c1-12)" >&2
  if [ "$java_release" != "$expected_java" ]; then
    printf '  note: this build used javac %s; the committed jar is built with JDK %s\n' \
      "${java_release:-unknown}" "$expected_java" >&2
  fi
  printf 'help: run scripts/build-provider.sh and commit %s\n' "$committed" >&2
  exit 1
fi
echo "==> $committed is what $project builds" >&2
