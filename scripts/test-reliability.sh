#!/usr/bin/env bash
# Reliability suite (the Rust level): SIGKILL during writes, checkpoints and adoption; reader and
# writer processes on one file; a disk that fills during an import (a 2 MB tmpfs: needs root); hostile
# files; a replay of the committed fuzz corpora (fuzz/corpus/, on stable Rust, no cargo-fuzz).
#
#   scripts/test-reliability.sh                   short mode (debug build, about a minute on 2 cores)
#   RESONANCE_SOAK=1 scripts/test-reliability.sh  long mode (100 kills, 60 s of concurrency, 4 writers...)
#
# Prints each test's figures. `cargo test --workspace` (scripts/test.sh) runs the same tests.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
export CARGO_TERM_COLOR=never
mode=short
[[ "${RESONANCE_SOAK:-}" == "1" ]] && mode=long
start=$SECONDS
log="$(mktemp)"
trap 'rm -f "$log"' EXIT

echo "== reliability suite, $mode mode"
cargo test -p resonance --test reliability --no-run
if ! cargo test -p resonance --test reliability -- --nocapture >"$log" 2>&1; then
  cat "$log"
  echo "== reliability suite FAILED after $((SECONDS - start)) s"
  exit 1
fi
echo "-- figures"
grep -E '^(crash|concurrency|disk full|hostile files|fuzz corpora replayed):' "$log" | sed 's/^/   /'
grep -E '^test result:' "$log" | sed 's/^/   /'
echo "== reliability suite passed ($mode mode) in $((SECONDS - start)) s"

