#!/usr/bin/env bash
# The Node/Bun addon's test command, from a fresh machine: install the pinned npm tools, build the
# addon (debug, with the `test-hooks` feature: the `_testError` hook, which no npm package has) and the
# CLI (for the conformance `raw_sql` op), check the committed index.js/index.d.ts are what the build
# generates (the hook is `skip_typescript`: they are the same with and without it), then run the same
# test files under Node and under Bun, and tsc.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
cd "$root/node"

echo "== npm ci (node/)"
npm ci --no-fund --no-audit

# The addon is built by cargo into the shared target directory (debug, with the `test-hooks` feature:
# the `_testError` hook, which no npm package has). `napi build` would pass `--target <host triple>`,
# which gives the addon a second copy of the whole dependency tree under target/<triple>/; the loader
# and raw typings are rendered instead by @napi-rs/cli's own functions (scripts/gen-bindings.mjs) from
# the type definitions napi-derive writes while the crate compiles.
echo "== the test build (scripts/lib/test-build.sh): the addon with the test hooks, and the CLI"
# shellcheck source=lib/test-build.sh
source "$root/scripts/lib/test-build.sh"
typedefs="$CARGO_TARGET_DIR/napi-typedefs"
rm -rf "$typedefs"
mkdir -p "$typedefs"
# NAPI_FORCE_BUILD_RESONANCE_NODE makes the addon compile again (its macros write the type definitions).
NAPI_TYPE_DEF_TMP_FOLDER="$typedefs" NAPI_FORCE_BUILD_RESONANCE_NODE="$(date +%s%N)" test_build
cp "$CARGO_TARGET_DIR/debug/libresonance_node.so" "$root/node/resonance.linux-x64-gnu.node"

echo "== index.js / index.d.ts are what napi-rs generates from this build"
generated="$(mktemp -d)"
node scripts/gen-bindings.mjs "$typedefs" "$generated"
for f in index.js index.d.ts; do
  if ! diff -u "$root/node/$f" "$generated/$f"; then
    echo "node/$f is stale: run \`npm run build\` in node/ and commit it" >&2
    exit 1
  fi
done
rm -rf "$generated"

export RESONANCE_CLI="$CARGO_TARGET_DIR/debug/resonance"

bun="$root/node/node_modules/.bin/bun"
smoke="$(mktemp -d)"
trap 'rm -rf "$smoke"' EXIT
echo "== the documented one-liner, under Node and Bun"
(cd "$smoke" && node -e "const r=require('$root/node'); r.open('x.db').then(db=>console.log(db.statsSync()))")
(cd "$smoke" && "$bun" -e "const r=require('$root/node'); r.open('y.db').then(db=>console.log(db.statsSync()))")

# Node and Bun run side by side (each mostly on one core; their files are apart: every test makes its
# own temporary directory), each into its own log, printed whole when both have ended; then tsc.
logs="$(mktemp -d)"
trap 'rm -rf "$smoke" "$logs"' EXIT
echo "== node --test and bun test (the same files), side by side"
node --test --test-concurrency=1 __test__/ >"$logs/node.log" 2>&1 &
node_pid=$!
# bun's per-test limit is 5 s by default; the tests that start python3 and the sqlite3 shell take
# about that on a busy machine (node --test has no limit).
"$bun" test --timeout 60000 ./__test__/ >"$logs/bun.log" 2>&1 &
bun_pid=$!
node_rc=0
bun_rc=0
wait "$node_pid" || node_rc=$?
wait "$bun_pid" || bun_rc=$?
echo "== node --test (exit $node_rc)"
cat "$logs/node.log"
echo "== bun test (exit $bun_rc)"
cat "$logs/bun.log"

# Under Bun, run/get take the bun:ffi path (node/src/bun.rs) above; the SQL tests once more without it.
ffi_off_rc=0
echo "== bun test of the SQL files with RESONANCE_BUN_FFI=0 (the N-API path under Bun)"
RESONANCE_BUN_FFI=0 "$bun" test --timeout 60000 ./__test__/sql.test.mjs ./__test__/drizzle.test.mjs ./__test__/drizzle_original.test.mjs || ffi_off_rc=$?

echo "== tsc --noEmit over typed usage files against index.d.ts, amalfa.d.ts and drizzle.d.ts"
./node_modules/.bin/tsc --noEmit -p __test__/tsconfig.json
./node_modules/.bin/tsc --noEmit -p __test__/tsconfig.drizzle.json
echo "tsc: ok"
if ((node_rc || bun_rc || ffi_off_rc)); then
  echo "node --test exited $node_rc, bun test exited $bun_rc, bun test without bun:ffi exited $ffi_off_rc" >&2
  exit 1
fi
