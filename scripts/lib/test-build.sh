# Sourced by the test scripts: the one debug build every test step uses.
#
# Cargo resolves the features of third-party crates from the packages an invocation selects: `-p
# resonance-ffi`, `-p resonance-cli` and `--workspace` each get other features for crates deep in the
# tree (bitflags, memchr, syn, serde_json...), so each rebuilt much of it, and the core with it. Every
# test step therefore builds the whole workspace with the same features — the bindings' test hooks
# (`test-hooks`: private functions the C, Python and Node suites call, in no shipped artifact) — and the
# steps after the first find everything built. Release builds (scripts/test-dist.sh, bench/) are apart.
#
# Needs: CARGO_TARGET_DIR set, and the repository root as the working directory or in $root.

# The features of the test build, written once.
RESONANCE_TEST_FEATURES="resonance-ffi/test-hooks,resonance-python/test-hooks,resonance-node/test-hooks"

# test_build [CARGO ARGS...]: every target (libraries, the CLI, examples, tests, benches) of every
# crate, with the test hooks. Every target, as clippy and the test runner select them: a narrower
# selection (`--lib`, `--examples`) activates fewer dev-dependencies, so other features of shared crates
# (syn, serde...), and compiled the tree again. Extra arguments are passed to cargo.
test_build() {
  cargo build --manifest-path "${root:-.}/Cargo.toml" --workspace --all-targets \
    --features "$RESONANCE_TEST_FEATURES" "$@"
}
