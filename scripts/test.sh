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
# Seconds since the step began, after each part of the Rust step (where most of the run goes).
part() { echo "   ($1: $((SECONDS - step)) s into the step)"; }

echo "== Rust: format, lints, build, tests (core, cli, ffi header check, conformance)"
cargo fmt --all -- --check
# Every target (tests, benches, examples) of every crate, the lints of Cargo.toml's [workspace.lints].
cargo clippy --workspace --all-targets -- -D warnings
part "clippy"
# The bindings' test hooks too (the `test-hooks` feature the C, Python and Node test builds turn on).
# shellcheck source=lib/test-build.sh
source scripts/lib/test-build.sh
# --all-targets as above: the same targets select the same features of third-party crates (a `--lib`
# run resolved other ones and checked the dependency tree, proc macros included, a second time).
cargo clippy --workspace --all-targets --features "$RESONANCE_TEST_FEATURES" -- -D warnings
part "clippy with the test hooks"
# The one test build (scripts/lib/test-build.sh): every crate with the test hooks, so the C, Python and
# Node steps find their libraries and the CLI built. The ffi symbol test inspects
# target/debug/libresonance.so, which `cargo test` alone leaves in deps/.
test_build
part "the test build"
export RESONANCE_CLI="$CARGO_TARGET_DIR/debug/resonance"
# Most of the Rust tests' time is spent waiting (fsync, child processes killed and reopened, busy
# timeouts), not computing: cargo-nextest runs the tests of every binary side by side, each in its own
# process, four at a time. `cargo test` where nextest is not installed (it runs one binary after another).
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --features "$RESONANCE_TEST_FEATURES" --test-threads 4 --no-fail-fast
  cargo test --workspace --features "$RESONANCE_TEST_FEATURES" --doc
else
  cargo test --workspace --features "$RESONANCE_TEST_FEATURES"
fi
part "the Rust tests"
# The C step's runner need not run `cargo test -p resonance-ffi` again (its tests ran above).
export RESONANCE_FFI_CARGO_TESTS_RAN=1

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
