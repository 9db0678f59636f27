#!/usr/bin/env bash
# Compare the feeds MT940 parser with the Python mt-940 package on the same sample files:
# parsed values (second opinion) and throughput. Run from anywhere:
#   services/feeds/bench/compare_mt940.sh [SECONDS]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
seconds="${1:-3}"
venv="$root/.venv-mt940"   # git-ignored; separate because PyPI `mt940` is another package

if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
if ! "$venv/bin/python" -c "import mt940" 2>/dev/null; then
  "$venv/bin/pip" install --quiet mt-940
fi

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target-feeds}"
export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-1}"
(cd "$root" && cargo build --quiet --release -p feeds --example throughput)

"$venv/bin/python" "$here/compare_mt940.py" --rust-bin "$CARGO_TARGET_DIR/release/examples/throughput" --seconds "$seconds"
