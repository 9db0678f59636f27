#!/usr/bin/env bash
# Fuzz every parser for a while: services/feeds/fuzz/run.sh [SECONDS_PER_TARGET] [TARGET…]
# Installs cargo-fuzz if missing. Works on the stable toolchain through RUSTC_BOOTSTRAP=1
# (libFuzzer needs -Z flags). Seeds each target's corpus with the real samples.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
data="$(cd "$here/../../../../shared/data/bankfeeds" && pwd)"
own="$here/../tests/data/settlement"   # settlement samples the project wrote itself
seconds="${1:-60}"
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(mt940 camt bai2 csv detect)

export RUSTC_BOOTSTRAP=1
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$here/target}"
export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-1}"
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked

seed() {
  local target="$1" dir="$here/corpus/$1"
  mkdir -p "$dir"
  case "$target" in
    mt940) find "$data" -name '*.sta' -o -path '*mt940*' -name '*.txt' ;;
    camt) find "$data" -name '*.xml' ;;
    bai2) find "$data" -path '*bai2*' \( -name '*.bai2' -o -name '*.txt' \) ;;
    csv) find "$data" "$own" -name '*.csv' ;;
    detect) find "$data" "$own" -type f \( -name '*.sta' -o -name '*.xml' -o -name '*.csv' -o -name '*.bai2' -o -name '*.txt' -o -name '*.xls' \) ;;
  esac | grep -v LICEN | while read -r f; do cp "$f" "$dir/$(echo "$f" | md5sum | cut -c1-16)"; done
}

cd "$here"
for t in "${targets[@]}"; do
  seed "$t"
  echo "== fuzzing $t for ${seconds}s"
  # -timeout: any single input taking over 5 s counts as a hang; memory is capped too.
  cargo fuzz run --sanitizer "${SANITIZER:-address}" "$t" "corpus/$t" -- \
    -max_total_time="$seconds" -timeout=5 -rss_limit_mb=2048 -max_len=262144 -print_final_stats=1
done
