//! The synchronous `run` and `get` of a prepared statement called with positional parameters: the
//! package entry's `Statement` calls these two raw N-API functions (`_sqlFast()` returns them) with
//! the statement's handle (an external made once by `NativeStatement::_fast`) and the parameters as
//! the call's own arguments. Nothing goes through napi-rs's argument conversion, class unwrapping or
//! an intermediate `Vec` of values: each argument is bound straight into SQLite
//! (`resonance::SqlBinder`), a row's values are made straight from SQLite's buffers, and `run`
//! reports `changes`/`lastInsertRowid` in a small buffer the `Statement` shares with the addon (the
//! `{ changes, lastInsertRowid }` object is an object literal in JS). Named parameters, bound
//! parameters given as an object, `all`/`iterate` and the Promise forms keep the general path
//! (`sql.rs`). The values' rules are that module's, with the same messages.

use std::ffi::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;
use std::sync::Arc;

use napi::bindgen_prelude::{JsError, ToNapiValue, TypeName, ValueType};
use napi::{sys, Env, Status};
use napi_derive::napi;
use resonance::{SqlBinder, SqlCell};

use crate::args::MAX_SAFE;
use crate::error::{invalid, panic_error, to_js, Code};
use crate::sql::Handle;

/// The most parameters the fast path takes (the package entry sends longer lists the general way).
pub const MAX_PARAMS: usize = 32;

/// JavaScript's safe integer range as an `i64`.
const SAFE: i64 = (1 << 53) - 1;

/// What the shared buffer holds (as `f64`s; slot [`OUT_ROWID_I64`] as an `i64`).
const OUT_CHANGES: usize = 0;
const OUT_ROWID: usize = 1;
const OUT_ROWID_I64: usize = 2;
const OUT_ROWID_BIG: usize = 3;
/// Written by the `Statement` (`safeIntegers`): 1 for bigints.
const OUT_SAFE: usize = 4;
const OUT_LEN: usize = 6;

/// A statement as the fast functions see it (the external's data).
pub struct Fast {
    pub(crate) h: Handle,
    pub(crate) sql: Arc<resonance::PreparedSql>,
    /// The shared buffer (owned by its `ArrayBuffer`, which the `Statement` keeps as long as it
    /// keeps the external).
    out: *mut u64,
}

/// A raw JS value returned as is.
pub struct Raw(pub sys::napi_value);

impl TypeName for Raw {
    fn type_name() -> &'static str {
        "unknown"
    }
    fn value_type() -> ValueType {
        ValueType::Unknown
    }
}

impl ToNapiValue for Raw {
    unsafe fn to_napi_value(_: sys::napi_env, v: Self) -> napi::Result<sys::napi_value> {
        Ok(v.0)
    }
}

fn check(s: sys::napi_status) -> napi::Result<()> {
    if s == sys::Status::napi_ok {
        Ok(())
    } else {
        Err(napi::Error::new(
            Status::from(s),
            "an N-API call of the statement's fast path failed",
        ))
    }
}

unsafe extern "C" fn finalize_fast(_: sys::napi_env, data: *mut c_void, _: *mut c_void) {
    // SAFETY: the box made by `external`, dropped once by its external's finalizer.
    drop(unsafe { Box::from_raw(data.cast::<Fast>()) });
}

unsafe extern "C" fn finalize_out(_: sys::napi_env, data: *mut c_void, _: *mut c_void) {
    // SAFETY: the buffer made by `external`, freed once by its ArrayBuffer's finalizer.
    drop(unsafe { Box::from_raw(data.cast::<[u64; OUT_LEN]>()) });
}

/// `[external, ArrayBuffer]` for a statement: the handle the fast functions take, and the buffer
/// they report into.
pub fn external(env: sys::napi_env, h: Handle, sql: Arc<resonance::PreparedSql>) -> napi::Result<Raw> {
    let out = Box::into_raw(Box::new([0u64; OUT_LEN]));
    let mut ab = ptr::null_mut();
    // SAFETY: `out` lives until the ArrayBuffer's finalizer frees it.
    let s = unsafe {
        sys::napi_create_external_arraybuffer(
            env,
            out.cast(),
            OUT_LEN * 8,
            Some(finalize_out),
            ptr::null_mut(),
            &mut ab,
        )
    };
    if s != sys::Status::napi_ok {
        drop(unsafe { Box::from_raw(out) });
        check(s)?;
    }
    let fast = Box::into_raw(Box::new(Fast {
        h,
        sql,
        out: out.cast(),
    }));
    let mut ext = ptr::null_mut();
    let s = unsafe {
        sys::napi_create_external(env, fast.cast(), Some(finalize_fast), ptr::null_mut(), &mut ext)
    };
    if s != sys::Status::napi_ok {
        drop(unsafe { Box::from_raw(fast) });
        check(s)?;
    }
    let mut arr = ptr::null_mut();
    unsafe {
        check(sys::napi_create_array_with_length(env, 2, &mut arr))?;
        check(sys::napi_set_element(env, arr, 0, ext))?;
        check(sys::napi_set_element(env, arr, 1, ab))?;
    }
    Ok(Raw(arr))
}

/// Why a fast call failed: a coded error (the core's, or the binding's own), or an argument-type
/// error in napi-rs's form (`code` a napi status, which the package entry turns into
/// `invalid_argument` and keeps as `napiStatus`, as for the general path).
enum Fail {
    Coded(napi::Error<Code>),
    Napi(napi::Error),
}

impl From<napi::Error> for Fail {
    fn from(e: napi::Error) -> Fail {
        Fail::Napi(e)
    }
}

fn bad(msg: &str) -> Fail {
    Fail::Napi(napi::Error::new(Status::InvalidArg, msg.to_string()))
}

/// The error a fast function throws.
unsafe fn throw(env: sys::napi_env, f: Fail) {
    match f {
        Fail::Coded(e) => unsafe { JsError::from(e).throw_into(env) },
        Fail::Napi(e) => unsafe { JsError::from(e).throw_into(env) },
    }
}

/// The arguments of a fast call: `[external, ...params]`.
unsafe fn args<'a>(
    env: sys::napi_env,
    info: sys::napi_callback_info,
    argv: &'a mut [sys::napi_value; MAX_PARAMS + 1],
) -> napi::Result<(&'a Fast, &'a [sys::napi_value])> {
    let mut argc = argv.len();
    check(unsafe {
        sys::napi_get_cb_info(env, info, &mut argc, argv.as_mut_ptr(), ptr::null_mut(), ptr::null_mut())
    })?;
    if argc == 0 || argc > argv.len() {
        return Err(napi::Error::new(Status::InvalidArg, "a statement's fast call takes its handle and at most 32 parameters"));
    }
    let mut data = ptr::null_mut();
    check(unsafe { sys::napi_get_value_external(env, argv[0], &mut data) })?;
    // SAFETY: the externals given here are made by `external` (the package entry keeps them
    // private) and live while the call runs (the argument keeps the external alive).
    Ok((unsafe { &*data.cast::<Fast>() }, &argv[1..argc]))
}

/// A JS number as an SQL value, as `sql::number` decides it.
fn bind_number(b: &mut SqlBinder<'_>, i: usize, f: f64) -> resonance::Result<()> {
    if f.fract() == 0.0 && f.abs() <= MAX_SAFE && !(f == 0.0 && f.is_sign_negative()) {
        b.integer(i, f as i64)
    } else {
        b.real(i, f)
    }
}

/// Bytes of a string read on the stack when they fit (else on the heap).
const STACK_TEXT: usize = 512;

/// Binds the JS value `v` as parameter `i` (the rules of `sql::SqlIn`). A failure of the value
/// itself is kept in `fail`; the core then sees a placeholder error that stops the run.
unsafe fn bind_js(
    env: sys::napi_env,
    b: &mut SqlBinder<'_>,
    i: usize,
    v: sys::napi_value,
) -> Result<resonance::Result<()>, Fail> {
    let mut t = 0;
    check(unsafe { sys::napi_typeof(env, v, &mut t) })?;
    Ok(match t {
        sys::ValueType::napi_number => {
            let mut f = 0.0;
            check(unsafe { sys::napi_get_value_double(env, v, &mut f) })?;
            bind_number(b, i, f)
        }
        sys::ValueType::napi_string => {
            let mut stack = [0u8; STACK_TEXT];
            let mut len = 0usize;
            check(unsafe {
                sys::napi_get_value_string_utf8(env, v, stack.as_mut_ptr().cast(), STACK_TEXT, &mut len)
            })?;
            // V8 writes whole characters only: a string that may not have fit is read again.
            if len + 4 < STACK_TEXT {
                b.text(i, text(&stack[..len])?)
            } else {
                check(unsafe { sys::napi_get_value_string_utf8(env, v, ptr::null_mut(), 0, &mut len) })?;
                let mut heap = vec![0u8; len + 1];
                check(unsafe {
                    sys::napi_get_value_string_utf8(env, v, heap.as_mut_ptr().cast(), len + 1, &mut len)
                })?;
                b.text(i, text(&heap[..len])?)
            }
        }
        sys::ValueType::napi_null | sys::ValueType::napi_undefined => b.null(i),
        sys::ValueType::napi_boolean => {
            let mut x = false;
            check(unsafe { sys::napi_get_value_bool(env, v, &mut x) })?;
            b.integer(i, i64::from(x))
        }
        sys::ValueType::napi_bigint => {
            let (mut x, mut lossless) = (0i64, false);
            check(unsafe { sys::napi_get_value_bigint_int64(env, v, &mut x, &mut lossless) })?;
            if !lossless {
                return Err(bad(
                    "an SQL parameter: a bigint beyond the 64-bit range (−2^63 … 2^63 − 1)",
                ));
            }
            b.integer(i, x)
        }
        sys::ValueType::napi_object => {
            let bytes = unsafe { blob(env, v) }?;
            b.blob(i, bytes)
        }
        _ => {
            return Err(bad(
                "an SQL parameter must be a number, bigint, string, Buffer/Uint8Array, boolean, null or undefined",
            ))
        }
    })
}

/// A string's UTF-8 (the package entry refused lone surrogates before the call; anything else
/// that is not UTF-8 is refused here rather than stored).
fn text(b: &[u8]) -> Result<&str, Fail> {
    std::str::from_utf8(b).map_err(|_| bad("an SQL parameter string has no UTF-8 form"))
}

/// The bytes of a `Buffer` or `Uint8Array` (borrowed: bound with a copy), else `invalid_argument`.
unsafe fn blob<'a>(env: sys::napi_env, v: sys::napi_value) -> Result<&'a [u8], Fail> {
    let mut is = false;
    check(unsafe { sys::napi_is_typedarray(env, v, &mut is) })?;
    let (data, len) = if is {
        let (mut ty, mut len, mut data, mut ab, mut off) =
            (0, 0usize, ptr::null_mut(), ptr::null_mut(), 0usize);
        check(unsafe {
            sys::napi_get_typedarray_info(env, v, &mut ty, &mut len, &mut data, &mut ab, &mut off)
        })?;
        if ty != sys::TypedarrayType::uint8_array {
            return Err(not_bytes());
        }
        (data, len)
    } else {
        check(unsafe { sys::napi_is_buffer(env, v, &mut is) })?;
        if !is {
            return Err(not_bytes());
        }
        let (mut data, mut len) = (ptr::null_mut(), 0usize);
        check(unsafe { sys::napi_get_buffer_info(env, v, &mut data, &mut len) })?;
        (data, len)
    };
    Ok(if len == 0 || data.is_null() {
        &[]
    } else {
        // SAFETY: N-API gives the view's data and its length in bytes; the value outlives the call.
        unsafe { std::slice::from_raw_parts(data as *const u8, len) }
    })
}

fn not_bytes() -> Fail {
    bad("an SQL parameter object must be a Buffer or Uint8Array (a BLOB); give arrays and plain objects as the parameter list")
}

/// Binds every parameter (their number must be the statement's), keeping a value's own failure in
/// `fail`.
unsafe fn bind_all(
    env: sys::napi_env,
    b: &mut SqlBinder<'_>,
    params: &[sys::napi_value],
    fail: &mut Option<Fail>,
) -> resonance::Result<()> {
    let count = b.parameter_count();
    if params.len() != count {
        return Err(resonance::Error::InvalidArgument(format!(
            "the statement has {count} parameter(s), {} value(s) given",
            params.len()
        )));
    }
    for (i, &v) in params.iter().enumerate() {
        match unsafe { bind_js(env, b, i + 1, v) } {
            Ok(r) => r?,
            Err(f) => {
                *fail = Some(f);
                return Err(resonance::Error::InvalidArgument(String::new()));
            }
        }
    }
    Ok(())
}

impl Fast {
    fn out(&self) -> &mut [u64; OUT_LEN] {
        // SAFETY: the buffer lives as long as this statement's `Statement` (see `Fast::out`); only
        // the JS thread touches it, and not during this call.
        unsafe { &mut *self.out.cast::<[u64; OUT_LEN]>() }
    }

    fn safe(&self) -> bool {
        f64::from_bits(self.out()[OUT_SAFE]) != 0.0
    }

    unsafe fn run(&self, env: sys::napi_env, params: &[sys::napi_value]) -> Result<(), Fail> {
        let mut fail = None;
        let r = self
            .h
            .inner
            .run_prepared(&self.sql, |b| unsafe { bind_all(env, b, params, &mut fail) }, |_| Ok(()));
        let r = match (r, fail) {
            (_, Some(f)) => return Err(f),
            (Err(e), None) => return Err(Fail::Coded(to_js(e))),
            (Ok(r), None) => r.result,
        };
        let out = self.out();
        out[OUT_CHANGES] = (r.changes as f64).to_bits();
        let id = r.last_insert_rowid;
        out[OUT_ROWID] = (id as f64).to_bits();
        out[OUT_ROWID_I64] = id as u64;
        let big = self.safe() || !(-SAFE..=SAFE).contains(&id);
        out[OUT_ROWID_BIG] = (if big { 1.0f64 } else { 0.0 }).to_bits();
        Ok(())
    }

    /// The first row's values as an array (`null`: none), or `{ columns, values }` when the column
    /// names changed (as `NativeStatement::get`).
    unsafe fn get(
        &self,
        env: sys::napi_env,
        params: &[sys::napi_value],
    ) -> Result<sys::napi_value, Fail> {
        let safe = self.safe();
        let mut fail = None;
        let mut row: Option<sys::napi_value> = None;
        // An integer beyond ±(2^53 − 1) outside safe mode: raised after the run (which still runs to
        // its end, as the general path does), naming its column.
        let mut too_big: Option<napi::Error<Code>> = None;
        let mut made: Option<napi::Error> = None;
        let r = self.h.inner.run_prepared(
            &self.sql,
            |b| unsafe { bind_all(env, b, params, &mut fail) },
            |r| {
                if row.is_some() || too_big.is_some() || made.is_some() {
                    return Ok(());
                }
                let n = r.column_count();
                let mut cells = Vec::with_capacity(n);
                for i in 0..n {
                    let c = r.get(i)?;
                    if let SqlCell::Integer(x) = c {
                        if !safe && !(-SAFE..=SAFE).contains(&x) {
                            too_big = Some(invalid(format!(
                                "column {:?} holds the integer {x}, beyond ±(2^53 − 1): a JS number would round it; \
                                 call safeIntegers() on the statement to read integers as bigints",
                                r.column_name(i)
                            )));
                            return Ok(());
                        }
                    }
                    cells.push(c);
                }
                match unsafe { js_array(env, &cells, safe) } {
                    Ok(a) => row = Some(a),
                    Err(e) => made = Some(e),
                }
                Ok(())
            },
        );
        match (r, fail) {
            (_, Some(f)) => return Err(f),
            (Err(e), None) => return Err(Fail::Coded(to_js(e))),
            (Ok(run), None) => {
                if let Some(e) = too_big {
                    return Err(Fail::Coded(e));
                }
                if let Some(e) = made {
                    return Err(Fail::Napi(e));
                }
                let Some(values) = row else {
                    let mut null = ptr::null_mut();
                    check(unsafe { sys::napi_get_null(env, &mut null) })?;
                    return Ok(null);
                };
                match run.renamed {
                    None => Ok(values),
                    Some(columns) => {
                        let mut obj = ptr::null_mut();
                        check(unsafe { sys::napi_create_object(env, &mut obj) })?;
                        let cols = unsafe { Vec::<String>::to_napi_value(env, columns) }?;
                        check(unsafe {
                            sys::napi_set_named_property(env, obj, c"columns".as_ptr(), cols)
                        })?;
                        check(unsafe {
                            sys::napi_set_named_property(env, obj, c"values".as_ptr(), values)
                        })?;
                        Ok(obj)
                    }
                }
            }
        }
    }
}

/// A row's values as a JS array.
unsafe fn js_array(
    env: sys::napi_env,
    cells: &[SqlCell<'_>],
    safe: bool,
) -> napi::Result<sys::napi_value> {
    let mut arr = ptr::null_mut();
    check(unsafe { sys::napi_create_array_with_length(env, cells.len(), &mut arr) })?;
    for (i, c) in cells.iter().enumerate() {
        let v = unsafe { js_value(env, c, safe) }?;
        check(unsafe { sys::napi_set_element(env, arr, i as u32, v) })?;
    }
    Ok(arr)
}

/// One value for JS (the rules of `sql::SqlOut`; the range was checked by the caller).
unsafe fn js_value(env: sys::napi_env, c: &SqlCell<'_>, safe: bool) -> napi::Result<sys::napi_value> {
    let mut out = ptr::null_mut();
    unsafe {
        match *c {
            SqlCell::Null => check(sys::napi_get_null(env, &mut out))?,
            SqlCell::Integer(x) if safe => check(sys::napi_create_bigint_int64(env, x, &mut out))?,
            SqlCell::Integer(x) => check(sys::napi_create_double(env, x as f64, &mut out))?,
            SqlCell::Real(f) => check(sys::napi_create_double(env, f, &mut out))?,
            SqlCell::Text(t) => check(sys::napi_create_string_utf8(
                env,
                t.as_ptr().cast(),
                t.len() as isize,
                &mut out,
            ))?,
            SqlCell::Blob(b) => check(sys::napi_create_buffer_copy(
                env,
                b.len(),
                b.as_ptr().cast(),
                ptr::null_mut(),
                &mut out,
            ))?,
        }
    }
    Ok(out)
}

/// Runs a fast function's body: its errors are thrown, a panic becomes `internal`.
unsafe fn body(
    env: sys::napi_env,
    info: sys::napi_callback_info,
    f: impl FnOnce(&Fast, &[sys::napi_value]) -> Result<sys::napi_value, Fail>,
) -> sys::napi_value {
    let mut argv = [ptr::null_mut(); MAX_PARAMS + 1];
    let r = catch_unwind(AssertUnwindSafe(|| {
        let (fast, params) = unsafe { args(env, info, &mut argv) }?;
        f(fast, params)
    }));
    match r {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => {
            unsafe { throw(env, e) };
            ptr::null_mut()
        }
        Err(p) => {
            unsafe { throw(env, Fail::Coded(panic_error(p))) };
            ptr::null_mut()
        }
    }
}

unsafe extern "C" fn fast_run(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    unsafe {
        body(env, info, |f, params| {
            f.run(env, params)?;
            let mut u = ptr::null_mut();
            check(sys::napi_get_undefined(env, &mut u))?;
            Ok(u)
        })
    }
}

unsafe extern "C" fn fast_get(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    unsafe { body(env, info, |f, params| f.get(env, params)) }
}

/// `{ run, get }`: the fast functions (see the module comment). Internal.
#[napi(catch_unwind, js_name = "_sqlFast", skip_typescript)]
pub fn sql_fast(env: Env) -> napi::Result<Raw> {
    let env = env.raw();
    let mut obj = ptr::null_mut();
    unsafe {
        check(sys::napi_create_object(env, &mut obj))?;
        for (name, cb) in [
            (c"run", fast_run as unsafe extern "C" fn(_, _) -> _),
            (c"get", fast_get as unsafe extern "C" fn(_, _) -> _),
        ] {
            let mut f = ptr::null_mut();
            check(sys::napi_create_function(
                env,
                name.as_ptr(),
                name.to_bytes().len() as isize,
                Some(cb),
                ptr::null_mut(),
                &mut f,
            ))?;
            check(sys::napi_set_named_property(env, obj, name.as_ptr(), f))?;
        }
    }
    Ok(Raw(obj))
}
