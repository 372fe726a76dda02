#!/usr/bin/env bash
# Builds the Python package into a venv and runs its tests (tests/python), conformance runner included.
# Works on a fresh machine: creates .venv at the repo root with the python3 on PATH when missing.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="${RESONANCE_PY_VENV:-$ROOT/.venv}"  # override for a throwaway venv
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"

if [ ! -x "$VENV/bin/python" ]; then
    echo "test-python: creating $VENV"
    python3 -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r python/requirements-dev.txt

# With the `test-hooks` feature: the private hooks the tests call (python/src/test_hooks.rs), which no
# wheel has (tests/python/test_stubs.py checks the release configuration leaves them out).
echo "test-python: maturin develop (debug build, test hooks)"
(cd python && VIRTUAL_ENV="$VENV" "$VENV/bin/maturin" develop --quiet --features test-hooks)

# The conformance runner's raw_sql op plays "another program wrote this file" through the CLI.
echo "test-python: the test build (scripts/lib/test-build.sh), for the CLI"
root="$ROOT"
# shellcheck source=lib/test-build.sh
source "$ROOT/scripts/lib/test-build.sh"
test_build --quiet
export RESONANCE_CLI="$CARGO_TARGET_DIR/debug/resonance"

# Panics are caught and turned into InternalError; keep their backtraces out of the test output.
export RUST_BACKTRACE=0
"$VENV/bin/python" -m pytest tests/python -p no:cacheprovider -q -rfE --durations=5 "$@"
