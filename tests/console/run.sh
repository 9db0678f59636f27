#!/usr/bin/env bash
# The web console end to end (issue 17 item 3): starts a local stack with the demo data and
# the console on free ports (its own auth directory, so a stack someone else runs is not
# touched), drives Debian's headless Chromium through it (console.test.mjs) and keeps a
# screenshot of every page in tests/console/artifacts/. With CONSOLE_UPDATE_SCREENSHOTS=1 the
# screenshots are copied to docs/screenshots/ (shown in the README).
# Needs the binaries built (cargo build --workspace --bins); deploy/local/test.sh runs this.
set -euo pipefail
cd "$(dirname "$0")/../.."
tests/console/install.sh
target="${CARGO_TARGET_DIR:-target}"
for bin in devstack console contracts payments scoring dunning legal reporting; do
  [ -x "$target/debug/$bin" ] || { echo "console test: $target/debug/$bin is not built; run cargo build --workspace --bins" >&2; exit 1; }
done
work=$(mktemp -d -t console-e2e-XXXXXX)
artifacts=tests/console/artifacts
rm -rf "$artifacts"
mkdir -p "$artifacts"
# The demo moves business time from 2026-01-11 on: it needs a fresh database and broker of its
# own, whatever DATABASE_URL / KAFKA_BOOTSTRAP_SERVERS the rest of the tests use.
env -u DATABASE_URL -u KAFKA_BOOTSTRAP_SERVERS \
  COLLECTIONS_AUTH_DIR="$work/auth" "$target/debug/devstack" --json up --demo --random-ports \
  --work-dir "$work/stack" >"$work/devstack.out" 2>"$work/devstack.err" &
stack=$!
stop() {
  kill -TERM "$stack" 2>/dev/null || true
  wait "$stack" 2>/dev/null || true
  cp "$work/devstack.out" "$work/devstack.err" "$artifacts/" 2>/dev/null || true
  cp "$work"/stack/*.log "$artifacts/" 2>/dev/null || true
}
trap stop EXIT
for _ in $(seq 1 600); do
  grep -q '"demo":"done"' "$work/devstack.out" && break
  if ! kill -0 "$stack" 2>/dev/null; then
    echo "console test: the stack stopped before the demo finished:" >&2
    tail -n 40 "$work/devstack.out" "$work/devstack.err" >&2
    exit 1
  fi
  sleep 1
done
grep -q '"demo":"done"' "$work/devstack.out" || { echo "console test: the demo did not finish in 10 minutes" >&2; exit 1; }
url=$(grep -o '"console":"http://[^"]*"' "$work/devstack.out" | head -n 1 | sed 's/^"console":"//; s/"$//')
[ -n "$url" ] || { echo "console test: the stack printed no console URL" >&2; exit 1; }
echo "console test: $url"
CONSOLE_URL="$url" ARTIFACTS="$artifacts" node tests/console/console.test.mjs
if [ "${CONSOLE_UPDATE_SCREENSHOTS:-}" = 1 ]; then
  # One screenshot of every page (the artefacts also hold the states in between).
  mkdir -p docs/screenshots
  rm -f docs/screenshots/console-*.png
  for name in signin collector-queue collector-debtor-after collector-debtor-english \
              collector-refused cashier-exceptions cashier-payments legal-cases legal-case dashboards; do
    cp "$artifacts"/[0-9][0-9]-"$name".png "docs/screenshots/console-$name.png"
  done
  echo "console test: screenshots copied to docs/screenshots/"
fi
