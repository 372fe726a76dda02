//! The statement functions Bun calls through `bun:ffi` (the package entry binds them with `dlopen`
//! on this very addon when it runs under Bun, unless `RESONANCE_BUN_FFI=0`): `run` and `get` of a
//! prepared statement called with positional numbers, strings and nulls, as `fast.rs`'s functions
//! are, through the same code (`Fast::run`, `Fast::collect`, hence `Database::run_prepared`), with
//! the parameters passed differently: the numbers and kinds in the shared buffer, the strings as UTF-8
//! one after the other in a byte buffer (each one's length where a number's value goes). A bun:ffi
//! call costs a few nanoseconds where an N-API call costs hundreds under Bun.
//!
//! A statement is reached by a key, `(slot, generation)`, of this thread's table of the statements
//! made with one (never by a pointer from JS): a statement dropped (its N-API functions collected)
//! leaves the table and bumps its slot's generation, so an old key finds nothing and the call fails
//! (`internal`) instead of touching freed memory. The functions return a status; a failure is kept
//! in the statement, and the package entry throws it through the N-API function `err`, as the N-API
//! path would have thrown it. They catch panics (nothing unwinds into Bun) and only run on the JS
//! thread that made the statement (the table is that thread's). These functions and their keys are
//! internals, not API.

use std::cell::RefCell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;

use crate::error::panic_error;
use crate::fast::{bad, is_string, put_text_len, string_len, Fail, Fast};

/// One entry: its generation and statement (null when free).
struct Entry {
    generation: u32,
    fast: *const Fast,
}

thread_local! {
    static TABLE: RefCell<(Vec<Entry>, Vec<u32>)> = const { RefCell::new((Vec::new(), Vec::new())) };
}

/// Puts a statement in this thread's table: its key.
pub fn register(fast: &Rc<Fast>) -> Option<(u32, u32)> {
    TABLE
        .try_with(|t| {
            let (entries, free) = &mut *t.borrow_mut();
            let slot = match free.pop() {
                Some(s) => s,
                None => {
                    let s = u32::try_from(entries.len()).ok()?;
                    entries.push(Entry {
                        generation: 0,
                        fast: std::ptr::null(),
                    });
                    s
                }
            };
            let e = &mut entries[slot as usize];
            e.fast = Rc::as_ptr(fast);
            fast.slot.set(Some(slot));
            Some((slot, e.generation))
        })
        .ok()
        .flatten()
}

/// Takes a dropped statement out of the table (from its `Drop`, on the thread that made it).
pub fn unregister(slot: u32) {
    let _ = TABLE.try_with(|t| {
        if let Ok(mut t) = t.try_borrow_mut() {
            let (entries, free) = &mut *t;
            if let Some(e) = entries.get_mut(slot as usize) {
                e.fast = std::ptr::null();
                e.generation = e.generation.wrapping_add(1);
                free.push(slot);
            }
        }
    });
}

/// The statement of a key, kept alive for the call, or none.
fn lookup(slot: u32, generation: u32) -> Option<Rc<Fast>> {
    TABLE
        .try_with(|t| {
            let t = t.borrow();
            let e = t.0.get(slot as usize)?;
            if e.generation != generation || e.fast.is_null() {
                return None;
            }
            // SAFETY: an entry's pointer is its statement's while the statement lives (its `Drop`
            // clears it first); one more strong reference keeps it for the call.
            unsafe {
                Rc::increment_strong_count(e.fast);
                Some(Rc::from_raw(e.fast))
            }
        })
        .ok()
        .flatten()
}

/// Failed: the error is kept in the statement (fetched with its `err` function).
const FAILED: i32 = 0;
/// Done: the results are in the shared buffer (and the row's text in the byte buffer).
const DONE: i32 = 1;
/// `get`: the row is not plain (or its text does not fit): its value is made by `rest`.
const REST: i32 = 2;
/// The key names no statement (dropped): nothing to fetch.
const GONE: i32 = 3;

/// The binder of the strings: `count` parameters' UTF-8 one after the other at `bytes`, `len` bytes.
fn strings<'a>(
    f: &'a Fast,
    bytes: &'a [u8],
) -> impl FnMut(&mut resonance::SqlBinder<'_>, usize, u8) -> Result<resonance::Result<()>, Fail> + 'a
{
    let mut at = 0usize;
    move |b, i, kind| {
        if !is_string(kind) {
            return Err(bad(
                "a bun:ffi statement call takes numbers, strings and nulls only",
            ));
        }
        let n = string_len(f, i);
        let t = bytes
            .get(at..at + n)
            .ok_or_else(|| bad("a bun:ffi statement call's strings overrun their buffer"))?;
        at += n;
        let t =
            std::str::from_utf8(t).map_err(|_| bad("an SQL parameter string has no UTF-8 form"))?;
        Ok(b.text(i + 1, t))
    }
}

/// Runs `f` on the statement of the key, its failure or panic kept for `err`.
fn call(slot: u32, generation: u32, f: impl FnOnce(&Fast) -> Result<i32, Fail>) -> i32 {
    let r = catch_unwind(AssertUnwindSafe(|| {
        let Some(fast) = lookup(slot, generation) else {
            return GONE;
        };
        let r = catch_unwind(AssertUnwindSafe(|| f(&fast)));
        match r {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => {
                fast.fail(e);
                FAILED
            }
            Err(p) => {
                fast.fail(Fail::Coded(panic_error(p)));
                FAILED
            }
        }
    }));
    r.unwrap_or(GONE)
}

/// The byte buffer of a call (`len` bytes at `bytes`).
///
/// # Safety
/// `bytes` is valid for `len` bytes (or `len` is 0).
unsafe fn buffer<'a>(bytes: *mut u8, len: u32) -> &'a mut [u8] {
    if len == 0 || bytes.is_null() {
        &mut []
    } else {
        // SAFETY: the caller's.
        unsafe { std::slice::from_raw_parts_mut(bytes, len as usize) }
    }
}

/// `run` of the statement of `(slot, generation)` with `count` parameters (kinds and numbers in the
/// shared buffer, strings in the `len` bytes at `bytes`): a status ([`DONE`], [`FAILED`], [`GONE`]).
///
/// # Safety
/// Called by the package entry on the JS thread only, `bytes` valid for `len` bytes. Internal.
#[no_mangle]
pub unsafe extern "C" fn resonance_bun_run(
    slot: u32,
    generation: u32,
    count: u32,
    bytes: *mut u8,
    len: u32,
) -> i32 {
    call(slot, generation, |f| {
        // SAFETY: the caller's.
        let bytes = unsafe { buffer(bytes, len) };
        f.run(count as usize, strings(f, bytes))?;
        Ok(DONE)
    })
}

/// `get` of the statement of `(slot, generation)`, its parameters as [`resonance_bun_run`]'s: for
/// a plain row (see `Fast::collect`) or none, [`DONE`] with the row's numbers in the shared buffer
/// and its text (its length in the shared buffer) written over the `len` bytes at `bytes`;
/// [`REST`] when the package entry gets the value through the N-API function `rest`.
///
/// # Safety
/// As [`resonance_bun_run`]'s.
#[no_mangle]
pub unsafe extern "C" fn resonance_bun_get(
    slot: u32,
    generation: u32,
    count: u32,
    bytes: *mut u8,
    len: u32,
) -> i32 {
    call(slot, generation, |f| {
        // SAFETY: the caller's.
        let bytes = unsafe { buffer(bytes, len) };
        if !f.collect(count as usize, strings(f, bytes))? {
            return Ok(REST);
        }
        Ok(f.with_texts(|t| {
            if t.len() > bytes.len() {
                return REST;
            }
            bytes[..t.len()].copy_from_slice(t);
            put_text_len(f, t.len());
            DONE
        }))
    })
}
