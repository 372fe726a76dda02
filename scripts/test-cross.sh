#!/usr/bin/env bash
# One Python and one Node process write the same fresh database file at once: both start
# together (a start file releases them once both have loaded their binding), both open the file that
# does not exist yet, and each writes RESONANCE_CROSS_BATCHES (default 1000) batches of nodes, vectors
# and edges in transactions, under contention. Then tests/cross/check.mjs checks that both sets of
# writes are all there with exact counts, that no error (busy included) surfaced, that the writes
# interleaved, and that integrity_check is ok, and prints a one-line figure.
#
# Needs what scripts/test-python.sh and scripts/test-node.sh build: the venv with the `resonance`
# package (${RESONANCE_PY_VENV:-<repo>/.venv}), the Node addon (node/*.node) and the CLI.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
venv="${RESONANCE_PY_VENV:-$root/.venv}"
cli="${RESONANCE_CLI:-$CARGO_TARGET_DIR/debug/resonance}"
batches="${RESONANCE_CROSS_BATCHES:-1000}"

[ -x "$venv/bin/python" ] || { echo "no Python venv at $venv: run scripts/test-python.sh first" >&2; exit 1; }
ls "$root"/node/*.node >/dev/null 2>&1 || { echo "no Node addon in node/: run scripts/test-node.sh first" >&2; exit 1; }
if [ ! -x "$cli" ]; then
  # shellcheck source=lib/test-build.sh
  source "$root/scripts/lib/test-build.sh"
  test_build
fi

work="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
db="$work/shared.sqlite"

echo "== cross-process writers: Python and Node on one fresh file, $batches batches each"
"$venv/bin/python" "$root/tests/cross/writer.py" "$db" "$work" "$batches" >"$work/py.out" 2>"$work/py.err" &
pids+=($!)
node "$root/tests/cross/writer.mjs" "$db" "$work" "$batches" >"$work/js.out" 2>"$work/js.err" &
pids+=($!)

# The barrier: both writers have loaded their binding, then both are released at once.
for _ in $(seq 600); do
  [ -e "$work/ready.py" ] && [ -e "$work/ready.js" ] && break
  sleep 0.1
done
if ! [ -e "$work/ready.py" ] || ! [ -e "$work/ready.js" ]; then
  echo "a writer did not get ready within 60 s" >&2
  cat "$work"/*.err >&2
  exit 1
fi
touch "$work/go"

status=0
wait "${pids[0]}" || status=1
wait "${pids[1]}" || status=1
pids=()
for w in py js; do
  if [ -s "$work/$w.err" ]; then
    echo "-- $w writer stderr:"
    cat "$work/$w.err"
  fi
done

node "$root/tests/cross/check.mjs" "$db" "$work/py.out" "$work/js.out" "$batches" "$cli" || status=1
exit "$status"
