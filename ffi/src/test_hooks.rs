//! Test hooks of the C ABI, compiled only with the `test-hooks` feature: `scripts/test-c.sh` builds
//! libresonance with it, no release artifact does. Their declarations are in
//! `tests/c/resonance_test_hooks.h`, never in `include/resonance.h` (`ffi/cbindgen.toml` excludes
//! them from it; `ffi/tests/header.rs` generates and checks both headers).

use std::ffi::c_char;

use crate::{guard, resonance_status};

/// Panics inside the library's guard, on purpose: always returns `RESONANCE_INTERNAL` (with the panic
/// message in `*err_out`). It lets the C suites check that a panic never crosses the C boundary; it
/// has no other use.
///
/// # Safety
/// `err_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn resonance_debug_panic(err_out: *mut *mut c_char) -> resonance_status {
    guard!(err_out, {
        if std::hint::black_box(true) {
            panic!("resonance_debug_panic was called");
        }
        Ok(())
    })
}
