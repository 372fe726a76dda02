#!/usr/bin/env bash
# The C ABI's test command: builds libresonance (debug, with the `test-hooks` feature: the hooks of
# tests/c/resonance_test_hooks.h, which no release build has) and the CLI, checks the header and the exported
# symbols, compiles the C and C++ examples and the C suites against include/resonance.h through
# pkg-config, and runs them under valgrind (--leak-check=full --error-exitcode=1):
#   tests/c/test_api.c      every function and every reachable error kind
#   tests/c/test_misuse.c   NULL everywhere, invalid UTF-8, double frees, use after close/free
#   tests/c/test_badinput.c the bad-input matrix: every pointer position NULL, invalid UTF-8 in every
#                           string, bad vectors, lengths, k, 1 MB ids, SQL metacharacters; exact statuses
#                           and an unchanged database (writes target/reliability-counts/c.txt)
#   tests/c/conformance.c   every case of tests/conformance/cases/
# Works on a fresh Debian/Ubuntu machine (installs valgrind, pkg-config, a C/C++ compiler and binutils
# with apt-get when missing). The last line is "N passed, M failed" over every check.
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

# shellcheck source=lib/checks.sh
source "$root/scripts/lib/checks.sh"

# ---- tools ----
missing=()
command -v valgrind >/dev/null || missing+=(valgrind)
command -v pkg-config >/dev/null || missing+=(pkg-config)
command -v cc >/dev/null || missing+=(gcc)
command -v c++ >/dev/null || missing+=(g++)
command -v nm >/dev/null || missing+=(binutils)
apt_install ${missing[@]+"${missing[@]}"}

# Adds the "N passed, M failed" of a suite's last line to the totals.
record_suite() { # record_suite NAME STATUS OUTPUT_FILE
  local line n m
  line="$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$3" | tail -n1)"
  if [[ -z $line ]]; then
    record "$1 (no summary line)" 1
    return
  fi
  n="${line%% passed*}"
  m="${line#*passed, }"
  m="${m%% failed*}"
  passed=$((passed + n))
  failed=$((failed + m))
  if [[ $2 -ne 0 ]]; then
    # a non-zero exit with no failed test: valgrind found an error (or a crash)
    if [[ $m -eq 0 ]]; then
      failed=$((failed + 1))
    fi
    failures+=("$1")
  fi
  echo "== $1: $line (exit $2)"
}

# ---- build ----
echo "== building libresonance (debug, with the test hooks of tests/c/resonance_test_hooks.h) and the pkg-config file"
if ! scripts/build-c.sh --test-hooks; then
  echo "FAIL the build"
  echo "0 passed, 1 failed"
  exit 1
fi
target_dir="${CARGO_TARGET_DIR:-$root/target}"
case "$target_dir" in /*) ;; *) target_dir="$root/$target_dir" ;; esac
libdir="$target_dir/debug"
export PKG_CONFIG_PATH="$libdir/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
# The CLI (raw_sql steps and fixtures run `resonance sql`) came with that build.
export RESONANCE_CLI="${RESONANCE_CLI:-$libdir/resonance}"
export RUST_BACKTRACE=0

# ---- Rust-side checks: unit tests, the committed header is current, no sqlite3_* export ----
if [[ -z ${RESONANCE_FFI_CARGO_TESTS_RAN:-} ]]; then
  echo "== cargo test -p resonance-ffi"
  cargo test -p resonance-ffi
  record "cargo test -p resonance-ffi (status table, header staleness, exported symbols)" $?
else
  echo "== cargo test -p resonance-ffi: ran in scripts/test.sh's Rust step (RESONANCE_FFI_CARGO_TESTS_RAN)"
fi

echo "== exported symbols of libresonance.so"
sqlite_syms="$(nm -D --defined-only "$libdir/libresonance.so" | grep -c 'sqlite3_')"
[[ $sqlite_syms -eq 0 ]]
record "no sqlite3_* symbol exported by libresonance.so ($sqlite_syms found)" $?

# Every function of the header is exercised by the C suites.
uncovered=()
while read -r fn; do
  grep -q "\b$fn\b" tests/c/test_api.c tests/c/test_misuse.c || uncovered+=("$fn")
done < <(grep -oE '\bresonance_[a-z_]+\(' include/resonance.h | tr -d '(' | sort -u)
[[ ${#uncovered[@]} -eq 0 ]] || echo "not called by the C suites: ${uncovered[*]}"
record "every function of resonance.h is called by the C suites" ${#uncovered[@]}

# ---- compile against the header through pkg-config ----
out="$target_dir/c"
mkdir -p "$out"
cflags="$(pkg-config --cflags resonance)"
libs="$(pkg-config --libs resonance)"
compile() { # compile NAME COMPILER SOURCE EXTRA...
  local name=$1 compiler=$2 src=$3
  shift 3
  # shellcheck disable=SC2086
  $compiler -g -Wall -Wextra "$src" -o "$out/$name" $cflags $libs "$@"
  record "compile $src ($compiler)" $?
}
echo "== compiling"
compile example cc examples/c/example.c -std=c11
compile example_cpp c++ examples/c/example.cpp -std=c++17
compile test_api cc tests/c/test_api.c -std=c11 -lm -lpthread
compile test_misuse cc tests/c/test_misuse.c -std=c11 -lm
compile test_badinput cc tests/c/test_badinput.c -std=c11 -lm
compile conformance cc tests/c/conformance.c -std=c11 -lm
# the static library links too
cc -g examples/c/example.c -o "$out/example_static" $cflags "$libdir/libresonance.a" -lpthread -ldl -lm
record "compile examples/c/example.c against libresonance.a" $?

# ---- run under valgrind ----
vg=(valgrind --leak-check=full --error-exitcode=1 --suppressions="$root/tests/c/valgrind.supp" -q)
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

run_example() { # run_example NAME BINARY
  echo "== $1 under valgrind"
  (cd "$work" && rm -f ./*.db* && "${vg[@]}" "$2")
  record "$1 runs under valgrind" $?
}
run_example "examples/c/example.c" "$out/example"
run_example "examples/c/example.cpp (-std=c++17)" "$out/example_cpp"
(cd "$work" && rm -f ./*.db* && "$out/example_static" >/dev/null)
record "examples/c/example.c linked statically runs" $?

# The four suites are single-threaded under valgrind and take most of this step: two lanes side by
# side (this machine has 2 cores at least), each suite into its own output file, printed in order.
mkdir -p "$target_dir/reliability-counts"
suite() { # suite NAME ARGS...: runs $out/NAME under valgrind into $work/NAME.out, its status in .rc
  local name=$1
  shift
  "${vg[@]}" "$out/$name" "$@" >"$work/$name.out" 2>&1
  echo $? >"$work/$name.rc"
}
echo "== tests/c/test_api.c, test_misuse.c, test_badinput.c (the bad-input matrix) and conformance.c under valgrind, in two lanes"
(cd "$work" && suite test_api; suite test_misuse) &
lane_a=$!
(cd "$work" && suite test_badinput "$target_dir/reliability-counts/c.txt"; suite conformance "$root/tests/conformance/cases") &
lane_b=$!
wait "$lane_a" "$lane_b"
for suite in test_api test_misuse test_badinput conformance; do
  echo "== tests/c/$suite.c under valgrind"
  cat "$work/$suite.out"
  record_suite "tests/c/$suite.c" "$(cat "$work/$suite.rc" 2>/dev/null || echo 1)" "$work/$suite.out"
done

summary
