#!/usr/bin/env bash
# Starts the whole platform on this machine and walks the demo money path.
# Extra arguments go to `devstack up` (e.g. --json, --exit, --random-ports, or
# --broker apache-kafka for a real Apache Kafka broker instead of the embedded mock cluster).
set -euo pipefail
cd "$(dirname "$0")/../.."
deploy/local/install-deps.sh
case " $* ${COLLECTIONS_BROKER:-} " in
  *apache-kafka*) deploy/local/install-kafka.sh ;;
esac
echo "Building the services (the first build takes a few minutes)…"
cargo build --workspace --bins
exec "${CARGO_TARGET_DIR:-target}/debug/devstack" up --demo "$@"
