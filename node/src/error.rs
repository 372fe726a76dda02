//! The one mapping from `resonance::Error` to a JS `Error` whose `code` is the kind of docs/errors.md, and the
//! panic guard every export runs its body in (a panic becomes code `internal`; the process lives).

use std::panic::{catch_unwind, AssertUnwindSafe};

use napi::bindgen_prelude::{Env, JsError};

/// A docs/errors.md kind code, used as the `code` of the JS error (napi-rs sets `err.code` to it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Code(pub &'static str);

impl AsRef<str> for Code {
    fn as_ref(&self) -> &str {
        self.0
    }
}

/// The result of every synchronous export: errors carry their kind code.
pub type Result<T> = std::result::Result<T, napi::Error<Code>>;

/// Maps a core error to a JS error (kind code + the core's message with its context).
pub fn to_js(e: resonance::Error) -> napi::Error<Code> {
    napi::Error::new(Code(e.code()), e.to_string())
}

/// An `invalid_argument` error raised by the binding itself (a malformed JS argument).
pub fn invalid(msg: impl Into<String>) -> napi::Error<Code> {
    napi::Error::new(Code("invalid_argument"), msg.into())
}

/// The `internal` error for a caught panic.
pub fn panic_error(payload: Box<dyn std::any::Any + Send>) -> napi::Error<Code> {
    let msg = if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else {
        "unknown panic payload".to_string()
    };
    // Dropping a payload whose Drop panics again would abort: forget it.
    std::mem::forget(payload);
    napi::Error::new(
        Code("internal"),
        format!("internal error: a panic was caught in the Resonance addon: {msg}"),
    )
}

/// Runs `f`, mapping its core error once and turning a panic into `internal`.
pub fn guard<T>(f: impl FnOnce() -> resonance::Result<T>) -> Result<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(to_js(e)),
        Err(p) => Err(panic_error(p)),
    }
}

/// Like [`guard`] for binding code that already produces coded errors.
pub fn guard_js<T>(f: impl FnOnce() -> Result<T>) -> Result<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(p) => Err(panic_error(p)),
    }
}

/// Turns a coded error into a plain `napi::Error` that references the JS error object built from it,
/// so a promise rejection (whose error type napi-rs fixes to `Status`) keeps `code`. Must run on the
/// JS thread (`Task::reject` does).
pub fn into_status_error(env: &Env, e: napi::Error<Code>) -> napi::Error {
    let value = JsError::from(e).into_unknown(*env);
    napi::Error::from(value)
}
