#!/usr/bin/env bash
# What the console's browser test needs, installed only when missing (run it again: nothing
# happens): Debian's Chromium (as root, or with sudo) and playwright-core from npm into
# tests/console/node_modules (pinned by package-lock.json; not in the shared .tools).
set -euo pipefail
cd "$(dirname "$0")"
if ! command -v chromium >/dev/null && [ -z "${CHROMIUM:-}" ]; then
  echo "console test: installing Debian's chromium" >&2
  if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium
fi
if [ ! -f node_modules/playwright-core/package.json ] \
   || ! grep -q "\"version\": \"$(node -p "require('./package.json').dependencies['playwright-core']")\"" node_modules/playwright-core/package.json; then
  echo "console test: installing playwright-core" >&2
  npm ci --silent --no-audit --no-fund
fi
