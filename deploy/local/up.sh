#!/usr/bin/env bash
# Starts the whole platform on this machine and walks the demo money path.
# Extra arguments go to `devstack up` (e.g. --json, --exit, --random-ports).
set -euo pipefail
cd "$(dirname "$0")/../.."
deploy/local/install-deps.sh
echo "Building the services (the first build takes a few minutes)…"
cargo build --workspace --bins
exec "${CARGO_TARGET_DIR:-target}/debug/devstack" up --demo "$@"
