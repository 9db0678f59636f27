#!/usr/bin/env bash
# Installs the Apache Kafka broker the tests and `devstack up --broker apache-kafka` run:
# the jars of deploy/local/kafka/pom.xml (one pinned version) from Maven Central into
# .tools/kafka/lib, no tarball. Idempotent: when the jars match deploy/local/kafka/kafka.lock
# (SHA-256 of every jar) it only checks them (well under a second).
#
# Checksums: Maven downloads with --strict-checksums (a jar whose SHA-1/MD5 does not match
# the repository's fails the download), and every resolved jar is compared with the SHA-256
# committed in kafka.lock; any difference (changed, missing or extra jar) fails.
# `install-kafka.sh --update-lock` rewrites kafka.lock after a deliberate version change.
# Java 17 and Maven are installed with apt-get when missing.
set -euo pipefail
cd "$(dirname "$0")/../.."
pom=deploy/local/kafka/pom.xml
lock=deploy/local/kafka/kafka.lock
dest=.tools/kafka/lib

matches_lock() {
  [ -f "$lock" ] && [ -d "$dest" ] || return 1
  diff <(grep -v '^#' "$lock") <(cd "$dest" && sha256sum -- *.jar | sort -k2) >/dev/null
}

if [ "${1:-}" != "--update-lock" ] && matches_lock; then
  exit 0
fi

need=()
command -v java >/dev/null || need+=(openjdk-17-jre-headless)
command -v mvn >/dev/null || need+=(maven)
if [ ${#need[@]} -gt 0 ]; then
  echo "install-kafka: installing ${need[*]}" >&2
  if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
  if ! command -v apt-get >/dev/null; then
    echo "install-kafka: apt-get not found; install these yourself: ${need[*]}" >&2
    exit 1
  fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

echo "install-kafka: resolving $(grep -o '<kafka.version>[^<]*' "$pom" | cut -d'>' -f2) from Maven Central into $dest" >&2
rm -rf "$dest"
mkdir -p "$dest"
mvn -q -B -Dstyle.color=never --strict-checksums -f "$pom" dependency:copy-dependencies \
  -DincludeScope=runtime -DoutputDirectory="$PWD/$dest"

if [ "${1:-}" = "--update-lock" ] || [ ! -f "$lock" ]; then
  { echo "# SHA-256 of every jar deploy/local/install-kafka.sh resolves from pom.xml (sha256sum format)."
    (cd "$dest" && sha256sum -- *.jar | sort -k2); } > "$lock"
  echo "install-kafka: wrote $lock" >&2
elif ! matches_lock; then
  echo "install-kafka: the resolved jars differ from $lock:" >&2
  diff <(grep -v '^#' "$lock") <(cd "$dest" && sha256sum -- *.jar | sort -k2) >&2 || true
  rm -rf "$dest"
  exit 1
fi
echo "install-kafka: $(ls "$dest" | wc -l) jars in $dest, checksums match $lock" >&2
