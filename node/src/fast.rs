//! The synchronous `run` and `get` of a prepared statement called with positional parameters:
//! `NativeStatement::_fast` makes, once per statement, two raw N-API functions whose data is the
//! statement (no class unwrapping, no napi-rs argument conversion) and a buffer the package entry's
//! `Statement` shares with them (see the layout below). The parameters are the call's own
//! arguments, bound straight into SQLite (`resonance::SqlBinder`); the `Statement` writes each
//! one's kind into the buffer, and a number's value too, so a number never crosses N-API. `run`
//! reports `changes`/`lastInsertRowid` in the buffer (the `{ changes, lastInsertRowid }` object is
//! an object literal in JS); `get` puts the row's numbers in the buffer and returns only its other
//! values, made straight from SQLite's buffers. Named parameters, bound parameters given as an
//! object, `all`/`iterate` and the Promise forms keep the general path (`sql.rs`). The values'
//! rules are that module's, with the same messages.

use std::cell::{Cell, RefCell};
use std::ffi::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;
use std::rc::Rc;
use std::sync::Arc;

use napi::bindgen_prelude::{JsError, ToNapiValue, TypeName, ValueType};
use napi::{sys, Status};
use resonance::{SqlBinder, SqlCell};

use crate::args::MAX_SAFE;
use crate::error::{invalid, panic_error, to_js, Code};
use crate::sql::Handle;

/// The most parameters the fast path takes (the package entry sends longer lists the general way).
pub const MAX_PARAMS: usize = 32;

/// JavaScript's safe integer range as an `i64`.
const SAFE: i64 = (1 << 53) - 1;

// The shared buffer, as `f64`s (the package entry's `Statement` has the same layout: keep them
// together). Written by the addon: what `run` did, and the numbers of `get`'s row; written by the
// `Statement` before a call: the safe-integers flag and each parameter's kind (and its value when
// it is a number, so that a number never crosses N-API).
/// `changes` of `run`.
const OUT_CHANGES: usize = 0;
/// `lastInsertRowid` as a number.
const OUT_ROWID: usize = 1;
/// `lastInsertRowid` as an `i64` (read through a `BigInt64Array`).
const OUT_ROWID_I64: usize = 2;
/// 1 when `lastInsertRowid` is to be read as a bigint.
const OUT_ROWID_BIG: usize = 3;
/// Written by the `Statement` (`safeIntegers`): 1 for bigints.
const OUT_SAFE: usize = 4;
/// `get`: 0 no row, 1 a row (its numbers below, its other values returned), 2 a row whose column
/// names changed (all of it returned as `{ columns, values }`).
const OUT_ROW: usize = 5;
/// `get`: how many columns the row has.
const OUT_COLUMNS: usize = 6;
/// `get`: how many of its values are returned besides its text (blobs, bigints): 0, and the row's
/// text (its text columns one after the other, [`C_TEXT`]) is returned as one string (nothing when
/// it has none); more, and `[text, ...values]` is returned.
const OUT_EXTRA: usize = 7;
/// Each parameter's kind ([`P_OTHER`]…), written by the `Statement`.
const OUT_PARAM_KIND: usize = 8;
/// Each parameter that is a number, written by the `Statement`.
const OUT_PARAM_NUM: usize = OUT_PARAM_KIND + MAX_PARAMS;
/// Each column's kind in `get`'s row ([`C_NUMBER`]…).
const OUT_COL_KIND: usize = OUT_PARAM_NUM + MAX_PARAMS;
/// Each column's number in `get`'s row.
const OUT_COL_NUM: usize = OUT_COL_KIND + MAX_COLUMNS;
/// The bun:ffi `get` (`bun.rs`): the byte length of a plain row's text, written to the byte buffer.
const OUT_TEXT: usize = OUT_COL_NUM + MAX_COLUMNS;
const OUT_LEN: usize = OUT_TEXT + 1;

/// The most columns whose kinds fit in the buffer: a longer row is returned whole (as an array,
/// [`OUT_EXTRA`] = its length, every kind [`C_VALUE`]).
const MAX_COLUMNS: usize = 64;

/// A parameter the addon reads itself (a bigint, a Buffer, a boolean, or anything it refuses).
const P_OTHER: u8 = 0;
/// A number, in [`OUT_PARAM_NUM`].
const P_NUMBER: u8 = 1;
/// `null` or `undefined`.
const P_NULL: u8 = 2;
/// A string (checked for lone surrogates by the `Statement`).
const P_STRING: u8 = 3;

/// A column value returned (text, blob, bigint).
const C_VALUE: f64 = 0.0;
/// A number, in [`OUT_COL_NUM`].
const C_NUMBER: f64 = 1.0;
/// `null`.
const C_NULL: f64 = 2.0;
/// Text, in the string returned (its length in UTF-16 units in [`OUT_COL_NUM`]).
const C_TEXT: f64 = 3.0;

/// A statement as its fast functions see it (their data).
pub struct Fast {
    h: Handle,
    sql: Arc<resonance::PreparedSql>,
    /// The shared buffer (owned by its `ArrayBuffer`, which the `Statement` keeps as long as it
    /// keeps the functions).
    out: *mut f64,
    /// `get`'s first row as the last run kept it (only the JS thread calls the functions).
    row: RefCell<Row>,
    /// Why the last bun:ffi call failed (`bun.rs`), thrown by the `err` function.
    failed: RefCell<Option<Fail>>,
    /// Its entry in this thread's table of statements the bun:ffi functions reach, if it has one.
    pub(crate) slot: Cell<Option<u32>>,
}

impl Drop for Fast {
    fn drop(&mut self) {
        if let Some(slot) = self.slot.get() {
            crate::bun::unregister(slot);
        }
    }
}

/// A row's values as one run of `get` kept them: its text columns' UTF-8 one after the other, and
/// its values that are returned as themselves (blobs, bigints; every value of a row too long for the
/// buffer), made into JS values afterwards.
#[derive(Default)]
struct Row {
    /// Whether the run returned a row.
    seen: bool,
    texts: Vec<u8>,
    /// Where each text column ends in `texts`.
    ends: Vec<usize>,
    extra: Vec<Owned>,
    /// The column names, when they changed.
    renamed: Option<Vec<String>>,
    safe: bool,
}

/// A value of a row, owned.
enum Owned {
    Null,
    Integer(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
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
    // SAFETY: one reference of the `Rc` made by `external`, dropped once by one function's
    // finalizer (finalizers run on the JS thread, the only one that touches a `Fast`).
    drop(unsafe { Rc::from_raw(data.cast::<Fast>().cast_const()) });
}

unsafe extern "C" fn finalize_out(_: sys::napi_env, data: *mut c_void, _: *mut c_void) {
    // SAFETY: the buffer made by `external`, freed once by its ArrayBuffer's finalizer.
    drop(unsafe { Box::from_raw(data.cast::<[f64; OUT_LEN]>()) });
}

/// `[run, get, err, rest, ArrayBuffer, slot, generation]` for a statement: its fast functions, the
/// buffer they share with the `Statement`, and (`bun`) the key of its entry for the bun:ffi
/// functions (`bun.rs`).
pub fn external(
    env: sys::napi_env,
    h: Handle,
    sql: Arc<resonance::PreparedSql>,
    bun: bool,
) -> napi::Result<Raw> {
    let mut out = Box::into_raw(Box::new([0f64; OUT_LEN])).cast::<f64>();
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
        drop(unsafe { Box::from_raw(out.cast::<[f64; OUT_LEN]>()) });
        // A runtime that allows no external buffers (Electron's sandbox): an ArrayBuffer of its
        // own, whose memory does not move; the `Statement` keeps it as long as the functions.
        let mut data = ptr::null_mut();
        check(unsafe { sys::napi_create_arraybuffer(env, OUT_LEN * 8, &mut data, &mut ab) })?;
        out = data.cast();
        // SAFETY: fresh memory of OUT_LEN f64s (zeroed: the kinds and flags start at 0).
        unsafe { ptr::write_bytes(out, 0, OUT_LEN) };
    }
    let fast = Rc::new(Fast {
        h,
        sql,
        out,
        row: Default::default(),
        failed: Default::default(),
        slot: Cell::new(None),
    });
    let slot = if bun {
        crate::bun::register(&fast)
    } else {
        None
    };
    let mut arr = ptr::null_mut();
    unsafe { check(sys::napi_create_array_with_length(env, 7, &mut arr))? };
    for (i, (name, cb)) in [
        (c"run", fast_run as unsafe extern "C" fn(_, _) -> _),
        (c"get", fast_get as unsafe extern "C" fn(_, _) -> _),
        (c"err", fast_err as unsafe extern "C" fn(_, _) -> _),
        (c"rest", fast_rest as unsafe extern "C" fn(_, _) -> _),
    ]
    .into_iter()
    .enumerate()
    {
        let data = Rc::into_raw(fast.clone()).cast_mut().cast::<c_void>();
        let mut f = ptr::null_mut();
        // SAFETY: `data` is one reference of the Rc, dropped by the function's finalizer (or
        // here, when the function could not be made).
        unsafe {
            let made = check(sys::napi_create_function(
                env,
                name.as_ptr(),
                name.to_bytes().len() as isize,
                Some(cb),
                data,
                &mut f,
            ))
            .and_then(|()| {
                check(sys::napi_add_finalizer(
                    env,
                    f,
                    data,
                    Some(finalize_fast),
                    ptr::null_mut(),
                    ptr::null_mut(),
                ))
            });
            if let Err(e) = made {
                finalize_fast(env, data, ptr::null_mut());
                return Err(e);
            }
            check(sys::napi_set_element(env, arr, i as u32, f))?;
        }
    }
    unsafe { check(sys::napi_set_element(env, arr, 4, ab))? };
    // The key of its entry for the bun:ffi functions (`bun.rs`).
    if let Some((slot, generation)) = slot {
        for (i, x) in [(5, slot), (6, generation)] {
            let mut v = ptr::null_mut();
            unsafe { check(sys::napi_create_uint32(env, x, &mut v))? };
            unsafe { check(sys::napi_set_element(env, arr, i, v))? };
        }
    }
    Ok(Raw(arr))
}

/// Why a fast call failed: a coded error (the core's, or the binding's own), or an argument-type
/// error in napi-rs's form (`code` a napi status, which the package entry turns into
/// `invalid_argument` and keeps as `napiStatus`, as for the general path).
pub(crate) enum Fail {
    Coded(napi::Error<Code>),
    Napi(napi::Error),
}

impl From<napi::Error> for Fail {
    fn from(e: napi::Error) -> Fail {
        Fail::Napi(e)
    }
}

pub(crate) fn bad(msg: &str) -> Fail {
    Fail::Napi(napi::Error::new(Status::InvalidArg, msg.to_string()))
}

/// The error a fast function throws.
unsafe fn throw(env: sys::napi_env, f: Fail) {
    match f {
        Fail::Coded(e) => unsafe { JsError::from(e).throw_into(env) },
        Fail::Napi(e) => unsafe { JsError::from(e).throw_into(env) },
    }
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

/// Binds the JS string `v` as parameter `i`.
unsafe fn bind_string(
    env: sys::napi_env,
    b: &mut SqlBinder<'_>,
    i: usize,
    v: sys::napi_value,
) -> Result<resonance::Result<()>, Fail> {
    let mut stack = [0u8; STACK_TEXT];
    let mut len = 0usize;
    check(unsafe {
        sys::napi_get_value_string_utf8(env, v, stack.as_mut_ptr().cast(), STACK_TEXT, &mut len)
    })?;
    // V8 writes whole characters only: a string that may not have fit is read again.
    if len + 4 < STACK_TEXT {
        return Ok(b.text(i, text(&stack[..len])?));
    }
    check(unsafe { sys::napi_get_value_string_utf8(env, v, ptr::null_mut(), 0, &mut len) })?;
    let mut heap = vec![0u8; len + 1];
    check(unsafe {
        sys::napi_get_value_string_utf8(env, v, heap.as_mut_ptr().cast(), len + 1, &mut len)
    })?;
    Ok(b.text(i, text(&heap[..len])?))
}

/// Binds the JS value `v` as parameter `i` (the rules of `sql::SqlIn`).
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
        sys::ValueType::napi_string => return unsafe { bind_string(env, b, i, v) },
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

/// A string's UTF-8 (the `Statement` refused lone surrogates before the call; anything else that
/// is not UTF-8 is refused here rather than stored).
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

impl Fast {
    /// Slot `i` of the shared buffer.
    fn at(&self, i: usize) -> f64 {
        assert!(i < OUT_LEN);
        // SAFETY: the buffer lives as long as this statement's functions (see `Fast::out`); only
        // the JS thread touches it, and no JS runs during a call.
        unsafe { self.out.add(i).read() }
    }

    /// Writes slot `i` of the shared buffer.
    fn put(&self, i: usize, v: f64) {
        assert!(i < OUT_LEN);
        // SAFETY: as for `at`.
        unsafe { self.out.add(i).write(v) }
    }

    /// Binds `count` parameters (their number must be the statement's): numbers and nulls from the
    /// buffer, the others through `other` (given the binder, the index from 0 and the kind), keeping
    /// a value's own failure in `fail` (the core then sees a placeholder error that stops the run).
    fn bind_all(
        &self,
        b: &mut SqlBinder<'_>,
        count: usize,
        mut other: impl FnMut(&mut SqlBinder<'_>, usize, u8) -> Result<resonance::Result<()>, Fail>,
        fail: &mut Option<Fail>,
    ) -> resonance::Result<()> {
        let want = b.parameter_count();
        if count != want {
            return Err(resonance::Error::InvalidArgument(format!(
                "the statement has {want} parameter(s), {count} value(s) given"
            )));
        }
        for i in 0..count {
            let r = match self.at(OUT_PARAM_KIND + i) as u8 {
                P_NUMBER => Ok(bind_number(b, i + 1, self.at(OUT_PARAM_NUM + i))),
                P_NULL => Ok(b.null(i + 1)),
                kind => other(b, i, kind),
            };
            match r {
                Ok(r) => r?,
                Err(f) => {
                    *fail = Some(f);
                    return Err(resonance::Error::InvalidArgument(String::new()));
                }
            }
        }
        Ok(())
    }

    fn safe(&self) -> bool {
        self.at(OUT_SAFE) != 0.0
    }

    /// `run`: what it did, in the buffer. The parameters as `bind_all` takes them.
    pub(crate) fn run(
        &self,
        count: usize,
        other: impl FnMut(&mut SqlBinder<'_>, usize, u8) -> Result<resonance::Result<()>, Fail>,
    ) -> Result<(), Fail> {
        let mut fail = None;
        let r = self.h.inner.run_prepared(
            &self.sql,
            |b| self.bind_all(b, count, other, &mut fail),
            |_| Ok(()),
        );
        let r = match (r, fail) {
            (_, Some(f)) => return Err(f),
            (Err(e), None) => return Err(Fail::Coded(to_js(e))),
            (Ok(r), None) => r.result,
        };
        self.put(OUT_CHANGES, r.changes as f64);
        let id = r.last_insert_rowid;
        self.put(OUT_ROWID, id as f64);
        self.put(OUT_ROWID_I64, f64::from_bits(id as u64));
        let big = self.safe() || !(-SAFE..=SAFE).contains(&id);
        self.put(OUT_ROWID_BIG, if big { 1.0 } else { 0.0 });
        Ok(())
    }

    /// `get`'s run: the first row kept (its numbers and kinds in the buffer, the rest in
    /// `self.row`, made into JS values by [`Fast::js_row`]). Returns whether the row is plain: at
    /// most [`MAX_COLUMNS`] columns, none returned as itself, the same column names (then its
    /// text, if any, is all `js_row` makes).
    pub(crate) fn collect(
        &self,
        count: usize,
        other: impl FnMut(&mut SqlBinder<'_>, usize, u8) -> Result<resonance::Result<()>, Fail>,
    ) -> Result<bool, Fail> {
        let safe = self.safe();
        self.put(OUT_ROW, 0.0);
        let mut fail = None;
        let mut row = self.row.borrow_mut();
        let row = &mut *row;
        row.seen = false;
        row.texts.clear();
        row.ends.clear();
        row.extra.clear();
        row.renamed = None;
        row.safe = safe;
        // An integer beyond ±(2^53 − 1) outside safe mode: raised after the run (which still runs
        // to its end, as the general path does), naming its column.
        let mut too_big: Option<napi::Error<Code>> = None;
        let r = self.h.inner.run_prepared(
            &self.sql,
            |b| self.bind_all(b, count, other, &mut fail),
            |r| {
                if row.seen {
                    return Ok(());
                }
                row.seen = true;
                let n = r.column_count();
                let whole = n > MAX_COLUMNS;
                self.put(OUT_COLUMNS, n as f64);
                for i in 0..n {
                    let c = r.get(i)?;
                    let kind = match c {
                        SqlCell::Integer(x) if !safe && !(-SAFE..=SAFE).contains(&x) => {
                            too_big = Some(invalid(format!(
                                "column {:?} holds the integer {x}, beyond ±(2^53 − 1): a JS number would round it; \
                                 call safeIntegers() on the statement to read integers as bigints",
                                r.column_name(i)
                            )));
                            return Ok(());
                        }
                        _ if whole => C_VALUE,
                        SqlCell::Integer(x) if !safe => {
                            self.put(OUT_COL_NUM + i, x as f64);
                            C_NUMBER
                        }
                        SqlCell::Real(f) => {
                            self.put(OUT_COL_NUM + i, f);
                            C_NUMBER
                        }
                        SqlCell::Null => C_NULL,
                        SqlCell::Text(t) => {
                            row.texts.extend_from_slice(t.as_bytes());
                            row.ends.push(row.texts.len());
                            self.put(OUT_COL_NUM + i, utf16_len(t) as f64);
                            C_TEXT
                        }
                        _ => C_VALUE,
                    };
                    if !whole {
                        self.put(OUT_COL_KIND + i, kind);
                    }
                    if kind == C_VALUE {
                        row.extra.push(match c {
                            SqlCell::Null => Owned::Null,
                            SqlCell::Integer(x) => Owned::Integer(x),
                            SqlCell::Real(f) => Owned::Real(f),
                            SqlCell::Text(t) => Owned::Text(t.to_string()),
                            SqlCell::Blob(b) => Owned::Blob(b.to_vec()),
                        });
                    }
                }
                Ok(())
            },
        );
        let run = match (r, fail) {
            (_, Some(f)) => return Err(f),
            (Err(e), None) => return Err(Fail::Coded(to_js(e))),
            (Ok(run), None) => run,
        };
        if let Some(e) = too_big {
            return Err(Fail::Coded(e));
        }
        if !row.seen {
            return Ok(true);
        }
        row.renamed = run.renamed;
        let plain = row.extra.is_empty()
            && row.renamed.is_none()
            && self.at(OUT_COLUMNS) as usize <= MAX_COLUMNS;
        if plain {
            self.put(OUT_ROW, 1.0);
            self.put(OUT_EXTRA, 0.0);
        }
        Ok(plain)
    }

    /// The JS value `get` returns for the row [`Fast::collect`] kept (see [`OUT_ROW`]): its values
    /// that are not in the buffer (one as itself, more as an array); all of it as
    /// `{ columns, values }` when the column names changed (as `NativeStatement::get`).
    unsafe fn js_row(&self, env: sys::napi_env) -> napi::Result<sys::napi_value> {
        let row = self.row.borrow();
        if !row.seen {
            return Ok(ptr::null_mut());
        }
        let safe = row.safe;
        let mut extra = Vec::with_capacity(row.extra.len() + 1);
        for v in &row.extra {
            extra.push(unsafe { js_value(env, v, safe) }?);
        }
        let n = self.at(OUT_COLUMNS) as usize;
        if n > MAX_COLUMNS && row.renamed.is_none() {
            // Every value is in `extra`.
            self.put(OUT_ROW, 1.0);
            return unsafe { js_array(env, &extra) };
        }
        let texts = &row.texts;
        let ends = &row.ends;
        let string = |range: std::ops::Range<usize>| -> napi::Result<sys::napi_value> {
            let t = &texts[range];
            let mut v = ptr::null_mut();
            check(unsafe {
                sys::napi_create_string_utf8(env, t.as_ptr().cast(), t.len() as isize, &mut v)
            })?;
            Ok(v)
        };
        if let Some(columns) = &row.renamed {
            // Rare (a recompiled `SELECT *`): the whole row, as the general path returns it.
            let (mut k, mut t) = (0, 0);
            let mut values = Vec::with_capacity(n);
            for i in 0..n {
                let kind = if n > MAX_COLUMNS {
                    C_VALUE
                } else {
                    self.at(OUT_COL_KIND + i)
                };
                let mut v = ptr::null_mut();
                if kind == C_NUMBER {
                    check(unsafe {
                        sys::napi_create_double(env, self.at(OUT_COL_NUM + i), &mut v)
                    })?;
                } else if kind == C_NULL {
                    check(unsafe { sys::napi_get_null(env, &mut v) })?;
                } else if kind == C_TEXT {
                    let start = if t == 0 { 0 } else { ends[t - 1] };
                    v = string(start..ends[t])?;
                    t += 1;
                } else {
                    v = extra[k];
                    k += 1;
                }
                values.push(v);
            }
            unsafe {
                let values = js_array(env, &values)?;
                let mut obj = ptr::null_mut();
                check(sys::napi_create_object(env, &mut obj))?;
                let cols = Vec::<String>::to_napi_value(env, columns.clone())?;
                check(sys::napi_set_named_property(
                    env,
                    obj,
                    c"columns".as_ptr(),
                    cols,
                ))?;
                check(sys::napi_set_named_property(
                    env,
                    obj,
                    c"values".as_ptr(),
                    values,
                ))?;
                self.put(OUT_ROW, 2.0);
                return Ok(obj);
            }
        }
        self.put(OUT_ROW, 1.0);
        self.put(OUT_EXTRA, extra.len() as f64);
        let text = if ends.is_empty() {
            ptr::null_mut()
        } else {
            string(0..texts.len())?
        };
        if extra.is_empty() {
            return Ok(text);
        }
        // `[text, ...values]` (text `undefined` when the row has none).
        if text.is_null() {
            let mut u = ptr::null_mut();
            check(unsafe { sys::napi_get_undefined(env, &mut u) })?;
            extra.insert(0, u);
        } else {
            extra.insert(0, text);
        }
        unsafe { js_array(env, &extra) }
    }

    /// The row's text (UTF-8, the text columns one after the other), as `collect` kept it.
    pub(crate) fn with_texts<R>(&self, f: impl FnOnce(&[u8]) -> R) -> R {
        f(&self.row.borrow().texts)
    }

    /// Keeps a bun:ffi call's failure for the `err` function.
    pub(crate) fn fail(&self, f: Fail) {
        *self.failed.borrow_mut() = Some(f);
    }

    /// The N-API parameter binder: a string or any other value read from its JS value.
    unsafe fn napi_params<'a>(
        env: sys::napi_env,
        params: &'a [sys::napi_value],
    ) -> impl FnMut(&mut SqlBinder<'_>, usize, u8) -> Result<resonance::Result<()>, Fail> + 'a {
        move |b, i, kind| {
            if kind == P_STRING {
                unsafe { bind_string(env, b, i + 1, params[i]) }
            } else {
                debug_assert_eq!(kind, P_OTHER);
                unsafe { bind_js(env, b, i + 1, params[i]) }
            }
        }
    }
}

/// A parameter's kind, as the `Statement` wrote it (the bun:ffi functions take strings and refuse
/// anything else, which the `Statement` never sends them).
pub(crate) fn is_string(kind: u8) -> bool {
    kind == P_STRING
}

/// The byte length of string parameter `i` (the bun:ffi functions: the `Statement` writes it where a
/// number's value goes).
pub(crate) fn string_len(f: &Fast, i: usize) -> usize {
    f.at(OUT_PARAM_NUM + i) as usize
}

/// Writes the byte length of `get`'s row text for the bun:ffi `get`.
pub(crate) fn put_text_len(f: &Fast, len: usize) {
    f.put(OUT_TEXT, len as f64);
}

/// The length of `t` in UTF-16 code units (JS string length).
fn utf16_len(t: &str) -> usize {
    if t.is_ascii() {
        t.len()
    } else {
        t.chars().map(char::len_utf16).sum()
    }
}

/// Values as a JS array.
unsafe fn js_array(
    env: sys::napi_env,
    values: &[sys::napi_value],
) -> napi::Result<sys::napi_value> {
    let mut arr = ptr::null_mut();
    unsafe {
        check(sys::napi_create_array_with_length(
            env,
            values.len(),
            &mut arr,
        ))?;
        for (i, &v) in values.iter().enumerate() {
            check(sys::napi_set_element(env, arr, i as u32, v))?;
        }
    }
    Ok(arr)
}

/// One value for JS (the rules of `sql::SqlOut`; the range was checked when it was read).
unsafe fn js_value(env: sys::napi_env, c: &Owned, safe: bool) -> napi::Result<sys::napi_value> {
    let mut out = ptr::null_mut();
    unsafe {
        match c {
            Owned::Null => check(sys::napi_get_null(env, &mut out))?,
            Owned::Integer(x) if safe => check(sys::napi_create_bigint_int64(env, *x, &mut out))?,
            Owned::Integer(x) => check(sys::napi_create_double(env, *x as f64, &mut out))?,
            Owned::Real(f) => check(sys::napi_create_double(env, *f, &mut out))?,
            Owned::Text(t) => check(sys::napi_create_string_utf8(
                env,
                t.as_ptr().cast(),
                t.len() as isize,
                &mut out,
            ))?,
            Owned::Blob(b) => check(sys::napi_create_buffer_copy(
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

/// Runs a fast function's body on its statement and parameters: its errors are thrown, a panic
/// becomes `internal`.
unsafe fn body(
    env: sys::napi_env,
    info: sys::napi_callback_info,
    f: impl FnOnce(&Fast, &[sys::napi_value]) -> Result<sys::napi_value, Fail>,
) -> sys::napi_value {
    let mut argv = [ptr::null_mut(); MAX_PARAMS];
    let r = catch_unwind(AssertUnwindSafe(|| {
        let mut argc = argv.len();
        let mut data = ptr::null_mut();
        check(unsafe {
            sys::napi_get_cb_info(
                env,
                info,
                &mut argc,
                argv.as_mut_ptr(),
                ptr::null_mut(),
                &mut data,
            )
        })?;
        if argc > argv.len() {
            return Err(bad("a statement's fast call takes at most 32 parameters"));
        }
        // SAFETY: the function's data is its statement (see `external`), alive while the function is.
        let fast = unsafe { &*data.cast::<Fast>() };
        f(fast, &argv[..argc])
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

unsafe extern "C" fn fast_run(
    env: sys::napi_env,
    info: sys::napi_callback_info,
) -> sys::napi_value {
    // A null result is `undefined` in JS.
    unsafe {
        body(env, info, |f, params| {
            f.run(params.len(), Fast::napi_params(env, params))
                .map(|()| ptr::null_mut())
        })
    }
}

unsafe extern "C" fn fast_get(
    env: sys::napi_env,
    info: sys::napi_callback_info,
) -> sys::napi_value {
    unsafe {
        body(env, info, |f, params| {
            f.collect(params.len(), Fast::napi_params(env, params))?;
            Ok(f.js_row(env)?)
        })
    }
}

/// Throws the error the last bun:ffi call of the statement kept (`bun.rs`).
unsafe extern "C" fn fast_err(
    env: sys::napi_env,
    info: sys::napi_callback_info,
) -> sys::napi_value {
    unsafe {
        body(env, info, |f, _| {
            Err(f.failed.borrow_mut().take().unwrap_or_else(|| {
                Fail::Coded(napi::Error::new(
                    Code("internal"),
                    "a bun:ffi call failed without an error".to_string(),
                ))
            }))
        })
    }
}

/// `get`'s value for the row the last bun:ffi `get` kept, when it was not plain.
unsafe extern "C" fn fast_rest(
    env: sys::napi_env,
    info: sys::napi_callback_info,
) -> sys::napi_value {
    unsafe { body(env, info, |f, _| Ok(f.js_row(env)?)) }
}
