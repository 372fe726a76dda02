#!/usr/bin/env bash
# Installs the C library of Resonance under a prefix:
#   PREFIX/lib/libresonance.so.X.Y.Z          the shared library, soname libresonance.so.X
#   PREFIX/lib/libresonance.so.X -> .so.X.Y.Z  (what programs load at run time)
#   PREFIX/lib/libresonance.so   -> .so.X      (what `-lresonance` finds at link time)
#   PREFIX/lib/libresonance.a                  the static library
#   PREFIX/include/resonance.h                 the header (C and C++)
#   PREFIX/lib/pkgconfig/resonance.pc          so `pkg-config --cflags --libs resonance` is all a build needs
#
# Usage: scripts/install-c.sh PREFIX [--lib-dir DIR] [--no-rpath]
#   From a checkout it builds the release library first (`cargo build --release -p resonance-ffi`).
#   From an unpacked C bundle made by scripts/test-dist.sh (resonance-c-*.tar.gz, this script is its
#   install.sh, with lib/ and include/ beside it) it installs the prebuilt files: no Rust needed.
#   --lib-dir DIR takes libresonance.so/.a from DIR instead (for example a cross build's output).
#   Outside /usr and /usr/local the .pc file adds `-Wl,-rpath,PREFIX/lib`, so programs built with it run
#   without LD_LIBRARY_PATH; --no-rpath leaves it out (then run `ldconfig` or set LD_LIBRARY_PATH).
set -euo pipefail

usage() { sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
prefix=""
lib_dir=""
rpath=auto
while (($#)); do
  case "$1" in
    --lib-dir) lib_dir="${2:?--lib-dir needs a directory}"; shift 2 ;;
    --no-rpath) rpath=no; shift ;;
    -h | --help) usage ;;
    -*) echo "install-c.sh: unknown option $1" >&2; usage ;;
    *) [[ -z $prefix ]] || usage; prefix="$1"; shift ;;
  esac
done
[[ -n $prefix ]] || usage
mkdir -p "$prefix"
prefix="$(cd "$prefix" && pwd)"

here="$(cd "$(dirname "$0")" && pwd)"
if [[ -f $here/lib/libresonance.a && -f $here/include/resonance.h && -f $here/VERSION ]]; then
  # An unpacked bundle.
  header="$here/include/resonance.h"
  version="$(cat "$here/VERSION")"
  lib_dir="${lib_dir:-$here/lib}"
  shared="$(ls "$lib_dir"/libresonance.so.*.*.* 2>/dev/null | head -n1 || true)"
  [[ -n $shared ]] || shared="$lib_dir/libresonance.so"
else
  root="$(cd "$here/.." && pwd)"
  header="$root/include/resonance.h"
  version="$(sed -n 's/^version = "\(.*\)"/\1/p' "$root/Cargo.toml" | head -n1)"
  if [[ -z $lib_dir ]]; then
    (cd "$root" && cargo build --release -p resonance-ffi)
    target_dir="${CARGO_TARGET_DIR:-$root/target}"
    case "$target_dir" in /*) ;; *) target_dir="$root/$target_dir" ;; esac
    lib_dir="$target_dir/release"
  fi
  shared="$lib_dir/libresonance.so"
fi
[[ -n $version ]] || { echo "install-c.sh: could not read the version" >&2; exit 1; }
for f in "$shared" "$lib_dir/libresonance.a" "$header"; do
  [[ -f $f ]] || { echo "install-c.sh: $f is missing" >&2; exit 1; }
done
major="${version%%.*}"
soname="libresonance.so.$major"
if command -v readelf >/dev/null; then
  actual="$(readelf -d "$shared" | sed -n 's/.*(SONAME).*\[\(.*\)\].*/\1/p')"
  if [[ $actual != "$soname" ]]; then
    echo "install-c.sh: $shared has soname '${actual:-none}', expected $soname" >&2
    exit 1
  fi
fi

libdir="$prefix/lib"
includedir="$prefix/include"
mkdir -p "$libdir/pkgconfig" "$includedir"
install -m 0755 "$shared" "$libdir/libresonance.so.$version"
ln -sfn "libresonance.so.$version" "$libdir/$soname"
ln -sfn "$soname" "$libdir/libresonance.so"
install -m 0644 "$lib_dir/libresonance.a" "$libdir/libresonance.a"
install -m 0644 "$header" "$includedir/resonance.h"

libs='-L${libdir} -lresonance'
if [[ $rpath == auto && $prefix != /usr && $prefix != /usr/local ]]; then
  libs='-L${libdir} -Wl,-rpath,${libdir} -lresonance'
fi
cat >"$libdir/pkgconfig/resonance.pc" <<PC
prefix=$prefix
libdir=\${prefix}/lib
includedir=\${prefix}/include

Name: resonance
Description: Embedded storage engine for local-first knowledge graphs with embeddings (C ABI)
Version: $version
Cflags: -I\${includedir}
Libs: $libs
Libs.private: -lpthread -ldl -lm
PC
echo "installed resonance $version under $prefix"
echo "  build with: PKG_CONFIG_PATH=$libdir/pkgconfig cc prog.c \$(pkg-config --cflags --libs resonance)"
