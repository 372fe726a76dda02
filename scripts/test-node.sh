#!/usr/bin/env bash
# The Node/Bun addon's test command, from a fresh machine: install the pinned npm tools, build the
# addon (debug, with the `test-hooks` feature: the `_testError` hook, which no npm package has) and the
# CLI (for the conformance `raw_sql` op), check the committed index.js/index.d.ts are what the build
# generates (the hook is `skip_typescript`: they are the same with and without it), then run the same test files under Node and under Bun, and tsc.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
cd "$root/node"

echo "== npm ci (node/)"
npm ci --no-fund --no-audit

echo "== npm run build:test (debug addon with the test hooks)"
npm run build:test

echo "== generated index.js / index.d.ts match the committed ones"
if git -C "$root" rev-parse --git-dir >/dev/null 2>&1; then
  if ! git -C "$root" diff --exit-code -- node/index.js node/index.d.ts; then
    echo "index.js / index.d.ts are stale: commit the regenerated files" >&2
    exit 1
  fi
else
  echo "(not a git checkout: skipped)"
fi

echo "== cargo build -p resonance-cli"
cargo build -p resonance-cli --manifest-path "$root/Cargo.toml"
export RESONANCE_CLI="$CARGO_TARGET_DIR/debug/resonance"

bun="$root/node/node_modules/.bin/bun"
smoke="$(mktemp -d)"
trap 'rm -rf "$smoke"' EXIT
echo "== the documented one-liner, under Node and Bun"
(cd "$smoke" && node -e "const r=require('$root/node'); r.open('x.db').then(db=>console.log(db.statsSync()))")
(cd "$smoke" && "$bun" -e "const r=require('$root/node'); r.open('y.db').then(db=>console.log(db.statsSync()))")

echo "== node --test"
node --test --test-concurrency=1 __test__/

echo "== bun test (the same files)"
"$bun" test ./__test__/

echo "== tsc --noEmit over typed usage files against index.d.ts and drizzle.d.ts"
./node_modules/.bin/tsc --noEmit -p __test__/tsconfig.json
./node_modules/.bin/tsc --noEmit -p __test__/tsconfig.drizzle.json
echo "tsc: ok"
