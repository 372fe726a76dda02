#!/usr/bin/env bash
# Builds libresonance (.so and .a) and writes a pkg-config file for it, so a C program compiles with
#   cc example.c $(PKG_CONFIG_PATH=target/debug/pkgconfig pkg-config --cflags --libs resonance)
# Usage: scripts/build-c.sh [--release]     (default: the debug profile)
# The .pc file points into this checkout (include/ and target/<profile>/) and adds an rpath, so the
# program runs without LD_LIBRARY_PATH. For a static link use `pkg-config --static` and
# target/<profile>/libresonance.a.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
profile=debug
cargo_flags=()
if [[ "${1:-}" == "--release" ]]; then
  profile=release
  cargo_flags+=(--release)
fi
cd "$root"
cargo build -p resonance-ffi "${cargo_flags[@]}"
target_dir="${CARGO_TARGET_DIR:-$root/target}"
case "$target_dir" in /*) ;; *) target_dir="$root/$target_dir" ;; esac
libdir="$target_dir/$profile"
version="$(sed -n 's/^version = "\(.*\)"/\1/p' "$root/Cargo.toml" | head -n1)"
mkdir -p "$libdir/pkgconfig"
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
