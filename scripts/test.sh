#!/usr/bin/env bash
# Every test of the project, on a fresh machine: Rust (unit, integration, conformance), the C ABI (C and C++
# under valgrind), Python (pytest in .venv) and Node + Bun. Each step installs what it needs itself.
# Debug builds into one target/ directory; benchmarks are not run here (see bench/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
export CARGO_TERM_COLOR=never
start=$SECONDS
step=$SECONDS
# Seconds since the previous step, printed with each step heading (CI keeps the whole run under 25 min).
lap() { echo "   (previous step: $((SECONDS - step)) s)"; step=$SECONDS; }

echo "== Rust: format, lints, build, tests (core, cli, ffi header check, conformance)"
cargo fmt --all -- --check
# Every target (tests, benches, examples) of every crate, the lints of Cargo.toml's [workspace.lints].
cargo clippy --workspace --all-targets -- -D warnings
# The bindings' test hooks too (the `test-hooks` feature the C, Python and Node test builds turn on).
cargo clippy -p resonance-ffi -p resonance-python -p resonance-node \
  --features resonance-ffi/test-hooks,resonance-python/test-hooks,resonance-node/test-hooks -- -D warnings
# The libraries too (in the same invocation, so every crate is built once with the features
# `cargo test --workspace` unifies; a separate `-p resonance-ffi` build resolved other features and
# rebuilt the dependency tree): the ffi symbol test inspects target/debug/libresonance.so, which
# `cargo test` alone leaves in deps/ (cargo copies a cdylib up only when it is a top-level target).
cargo build --workspace --lib --bins --examples
export RESONANCE_CLI="$CARGO_TARGET_DIR/debug/resonance"
cargo test --workspace

lap
echo "== C ABI: C and C++ suites, conformance runner in C, under valgrind"
scripts/test-c.sh

lap
echo "== Python: pytest in .venv (API, errors, numpy zero-copy, threads, conformance, stubs)"
scripts/test-python.sh

lap
echo "== Node and Bun: node --test, bun, tsc"
scripts/test-node.sh

lap
echo "== Python and Node processes writing one file at once"
scripts/test-cross.sh

lap
echo "== all tests passed in $((SECONDS - start)) s"
