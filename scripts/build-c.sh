#!/usr/bin/env bash
# Builds libresonance (.so and .a) and writes a pkg-config file for it, so a C program compiles with
#   cc example.c $(PKG_CONFIG_PATH=target/debug/pkgconfig pkg-config --cflags --libs resonance)
# Usage: scripts/build-c.sh [--release] [--test-hooks]   (default: the debug profile, no test hooks)
#   --test-hooks: with the `test-hooks` feature, the hooks the C suites call (declared in
#   tests/c/resonance_test_hooks.h, not in include/resonance.h); scripts/test-c.sh builds so. A library
#   meant for programs is built without it.
# The .pc file points into this checkout (include/ and target/<profile>/) and adds an rpath, so the
# program runs without LD_LIBRARY_PATH. For a static link use `pkg-config --static` and
# target/<profile>/libresonance.a.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
profile=debug
cargo_flags=()
test_hooks=0
for arg in "$@"; do
  case "$arg" in
    --release)
      profile=release
      cargo_flags+=(--release)
      ;;
    --test-hooks) test_hooks=1 ;;
    *)
      echo "usage: scripts/build-c.sh [--release] [--test-hooks]" >&2
      exit 2
      ;;
  esac
done
cd "$root"
if ((test_hooks)); then
  # The one test build of every test step (scripts/lib/test-build.sh), the ffi's hooks included.
  # shellcheck source=lib/test-build.sh
  source "$root/scripts/lib/test-build.sh"
  test_build ${cargo_flags[@]+"${cargo_flags[@]}"}
else
  cargo build -p resonance-ffi ${cargo_flags[@]+"${cargo_flags[@]}"}
fi
target_dir="${CARGO_TARGET_DIR:-$root/target}"
case "$target_dir" in /*) ;; *) target_dir="$root/$target_dir" ;; esac
libdir="$target_dir/$profile"
version="$(sed -n 's/^version = "\(.*\)"/\1/p' "$root/Cargo.toml" | head -n1)"
mkdir -p "$libdir/pkgconfig"
# The library's soname is libresonance.so.<major> (ffi/build.rs): programs linked against it load that
# name at run time, so it sits beside the build output too.
ln -sfn libresonance.so "$libdir/libresonance.so.${version%%.*}"
cat >"$libdir/pkgconfig/resonance.pc" <<PC
prefix=$root
includedir=\${prefix}/include
libdir=$libdir

Name: resonance
Description: Embedded storage engine for local-first knowledge graphs with embeddings (C ABI)
Version: $version
Cflags: -I\${includedir}
Libs: -L\${libdir} -Wl,-rpath,\${libdir} -lresonance
Libs.private: -lpthread -ldl -lm
PC
echo "wrote $libdir/pkgconfig/resonance.pc"
