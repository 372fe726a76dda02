//! The C ABI of Resonance: `libresonance.so` / `libresonance.a` and `include/resonance.h`.
//!
//! This crate is an adapter of a few lines per function over the `resonance` core; it owns no rule of
//! the engine. It owns the ABI conventions:
//!
//! * Every function returns a [`resonance_status`] (`RESONANCE_OK` = 0, then one status per error kind
//!   of docs/errors.md, numbered as `resonance::ErrorKind::status()`), and takes an optional
//!   `char **err_out`: when it is not NULL it is set to NULL on success and to a message on failure,
//!   which the caller frees with `resonance_string_free`.
//! * Every body runs inside [`guard!`] (a `catch_unwind`): a panic becomes `RESONANCE_INTERNAL`, never
//!   an abort of the host (the workspace keeps `panic = "unwind"` for this).
//! * NULL handles and NULL required pointers are `RESONANCE_INVALID_ARGUMENT`, and so is a `const char*`
//!   that is not UTF-8.
//! * Every allocation handed to C is registered in a process-wide registry and has exactly one free
//!   function, which accepts NULL and ignores a pointer that is not live (a second free of the same
//!   pointer is a no-op, as long as the address was not reused by a newer allocation).
//! * A `resonance_db*` is a token looked up in the registry: calls never dereference it, so a freed
//!   handle gives `RESONANCE_INVALID_ARGUMENT` instead of a crash.

#![allow(non_camel_case_types)]

use std::collections::BTreeMap;
use std::ffi::{c_char, c_int, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;
use std::sync::{Arc, LazyLock, Mutex};

use resonance::{Database, Error, ErrorKind};

mod app_migrate;
mod db;
mod graph;
mod options;
mod sql;
mod stats;
mod store;
#[cfg(feature = "test-hooks")]
mod test_hooks;
mod types;
mod vector;

pub use app_migrate::*;
pub use db::*;
pub use graph::*;
pub use options::*;
pub use sql::*;
pub use stats::*;
pub use store::*;
#[cfg(feature = "test-hooks")]
pub use test_hooks::*;
pub use types::*;
pub use vector::*;

/// The status every function returns: `RESONANCE_OK` (0) or the error kind, numbered in the order of
/// the kinds of docs/errors.md (the same numbers as `resonance::ErrorKind::status()` in Rust).
/// `resonance_status_name` gives the stable snake_case code of each (`"not_found"`, …).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum resonance_status {
    /// Success.
    RESONANCE_OK = 0,
    /// An argument was malformed: a NULL handle or required pointer, a `const char*` that is not
    /// UTF-8, an empty id, invalid JSON meta, a bad option value.
    RESONANCE_INVALID_ARGUMENT = 1,
    /// A vector was empty, held NaN/Inf or had a norm ≤ 1e-6.
    RESONANCE_INVALID_VECTOR = 2,
    /// A vector's length differs from the database's dimension.
    RESONANCE_DIMENSION_MISMATCH = 3,
    /// A node, edge or other entity was not found.
    RESONANCE_NOT_FOUND = 4,
    /// The database was locked by another connection (or another thread's transaction) past the
    /// busy timeout.
    RESONANCE_BUSY = 5,
    /// A write through a read-only handle or to a read-only file.
    RESONANCE_READONLY = 6,
    /// The database file is damaged.
    RESONANCE_CORRUPT = 7,
    /// The file is not a SQLite database.
    RESONANCE_NOT_A_DATABASE = 8,
    /// A constraint was violated.
    RESONANCE_CONSTRAINT = 9,
    /// The schema matches none of the known shapes; nothing was touched.
    RESONANCE_SCHEMA_UNKNOWN = 10,
    /// The database was written by a newer program (or its applied migrations drifted).
    RESONANCE_SCHEMA_TOO_NEW = 11,
    /// A migration failed; the database is as it was before.
    RESONANCE_MIGRATION_FAILED = 12,
    /// A destructive migration was refused because it was not explicitly allowed.
    RESONANCE_DESTRUCTIVE_REFUSED = 13,
    /// The handle was closed with `resonance_db_close`.
    RESONANCE_CLOSED = 14,
    /// A file-system error (permissions, disk full, missing directory…).
    RESONANCE_IO = 15,
    /// Any other SQLite failure (the message carries its extended code).
    RESONANCE_SQLITE = 16,
    /// A caught panic or a broken invariant inside the library.
    RESONANCE_INTERNAL = 17,
    /// A call stopped by `resonance_interrupt` (from another thread); the handle stays usable and
    /// a write the call was making is rolled back.
    RESONANCE_INTERRUPTED = 18,
}

use resonance_status::*;

/// The status of an error kind (exhaustive: a new kind in the core fails to compile here).
pub(crate) fn status_of(kind: ErrorKind) -> resonance_status {
    match kind {
        ErrorKind::InvalidArgument => RESONANCE_INVALID_ARGUMENT,
        ErrorKind::InvalidVector => RESONANCE_INVALID_VECTOR,
        ErrorKind::DimensionMismatch => RESONANCE_DIMENSION_MISMATCH,
        ErrorKind::NotFound => RESONANCE_NOT_FOUND,
        ErrorKind::Busy => RESONANCE_BUSY,
        ErrorKind::Readonly => RESONANCE_READONLY,
        ErrorKind::Corrupt => RESONANCE_CORRUPT,
        ErrorKind::NotADatabase => RESONANCE_NOT_A_DATABASE,
        ErrorKind::Constraint => RESONANCE_CONSTRAINT,
        ErrorKind::SchemaUnknown => RESONANCE_SCHEMA_UNKNOWN,
        ErrorKind::SchemaTooNew => RESONANCE_SCHEMA_TOO_NEW,
        ErrorKind::MigrationFailed => RESONANCE_MIGRATION_FAILED,
        ErrorKind::DestructiveRefused => RESONANCE_DESTRUCTIVE_REFUSED,
        ErrorKind::Closed => RESONANCE_CLOSED,
        ErrorKind::Io => RESONANCE_IO,
        ErrorKind::Sqlite => RESONANCE_SQLITE,
        ErrorKind::Internal => RESONANCE_INTERNAL,
        ErrorKind::Interrupted => RESONANCE_INTERRUPTED,
    }
}

/// NUL-terminated names, indexed by status.
const STATUS_NAMES: [&CStr; 19] = [
    c"ok",
    c"invalid_argument",
    c"invalid_vector",
    c"dimension_mismatch",
    c"not_found",
    c"busy",
    c"readonly",
    c"corrupt",
    c"not_a_database",
    c"constraint",
    c"schema_unknown",
    c"schema_too_new",
    c"migration_failed",
    c"destructive_refused",
    c"closed",
    c"io",
    c"sqlite",
    c"internal",
    c"interrupted",
];

/// Wraps an exported body: clears `*err_out`, runs the body (a `Result<(), resonance::Error>` block)
/// inside `catch_unwind`, and turns an error or a panic into a status and an `err_out` message.
macro_rules! guard {
    ($err_out:expr, $body:block) => {
        $crate::run_guarded(
            $err_out,
            move || -> ::std::result::Result<(), ::resonance::Error> { $body },
        )
    };
}
pub(crate) use guard;

/// The body of [`guard!`].
pub(crate) fn run_guarded(
    err_out: *mut *mut c_char,
    f: impl FnOnce() -> Result<(), Error>,
) -> resonance_status {
    if !err_out.is_null() {
        // SAFETY: the caller passes NULL or a writable `char **` (documented on every function).
        unsafe { *err_out = ptr::null_mut() };
    }
    let err = match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => return RESONANCE_OK,
        Ok(Err(e)) => e,
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic payload".to_string());
            Error::Internal(format!("a panic was caught at the C boundary: {what}"))
        }
    };
    let status = status_of(err.kind());
    if !err_out.is_null() {
        let msg = new_string(err.to_string());
        // SAFETY: as above.
        unsafe { *err_out = msg };
    }
    status
}

// ---------------------------------------------------------------------------------------------
// The registry of live handles and allocations.

enum Entry {
    Db(Arc<Database>),
    Alloc(&'static str),
}

static REGISTRY: LazyLock<Mutex<BTreeMap<usize, Entry>>> =
    LazyLock::new(|| Mutex::new(BTreeMap::new()));

fn registry() -> std::sync::MutexGuard<'static, BTreeMap<usize, Entry>> {
    REGISTRY.lock().unwrap_or_else(|p| p.into_inner())
}

/// Hands `value` to C as a registered allocation of kind `tag`.
pub(crate) fn hand_to_caller<T>(value: T, tag: &'static str) -> *mut T {
    let p = Box::into_raw(Box::new(value));
    registry().insert(p as usize, Entry::Alloc(tag));
    p
}

/// Takes back an allocation made by [`hand_to_caller`] with the same tag; `None` for NULL, a pointer that is
/// not live (already freed) or one of another kind.
pub(crate) fn take_back_from_caller<T>(p: *mut T, tag: &'static str) -> Option<Box<T>> {
    if p.is_null() {
        return None;
    }
    let mut reg = registry();
    match reg.get(&(p as usize)) {
        Some(Entry::Alloc(t)) if *t == tag => {
            reg.remove(&(p as usize));
            drop(reg);
            // SAFETY: the registry says `p` came from `Box::into_raw` in `hand_to_caller::<T>` with this tag
            // and was not freed since.
            Some(unsafe { Box::from_raw(p) })
        }
        _ => None,
    }
}

/// Whether `p` is a live allocation registered by [`hand_to_caller`] with `tag`.
pub(crate) fn is_live(p: usize, tag: &'static str) -> bool {
    matches!(registry().get(&p), Some(Entry::Alloc(t)) if *t == tag)
}

/// Registers a new database handle.
pub(crate) fn hand_db_to_caller(db: Database) -> *mut resonance_db {
    let p = Box::into_raw(Box::new(resonance_db { _token: 0 }));
    registry().insert(p as usize, Entry::Db(Arc::new(db)));
    p
}

/// The database behind a handle (never dereferences the pointer).
pub(crate) fn handle(p: *const resonance_db) -> Result<Arc<Database>, Error> {
    if p.is_null() {
        return Err(Error::InvalidArgument(
            "the resonance_db handle is NULL".into(),
        ));
    }
    match registry().get(&(p as usize)) {
        Some(Entry::Db(db)) => Ok(db.clone()),
        _ => Err(Error::InvalidArgument(
            "the resonance_db handle is not live (already freed, or not a handle)".into(),
        )),
    }
}

/// Unregisters a handle; returns its database (other threads may still hold a clone).
pub(crate) fn take_db_back_from_caller(p: *mut resonance_db) -> Option<Arc<Database>> {
    if p.is_null() {
        return None;
    }
    let mut reg = registry();
    match reg.get(&(p as usize)) {
        Some(Entry::Db(_)) => {
            let Some(Entry::Db(db)) = reg.remove(&(p as usize)) else {
                return None;
            };
            drop(reg);
            // SAFETY: registered by `hand_db_to_caller` from `Box::into_raw`, not freed since.
            drop(unsafe { Box::from_raw(p) });
            Some(db)
        }
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// Argument and result helpers.

/// A required `const char*` argument as UTF-8.
pub(crate) fn arg_str<'a>(p: *const c_char, what: &str) -> Result<&'a str, Error> {
    if p.is_null() {
        return Err(Error::InvalidArgument(format!("{what} is NULL")));
    }
    // SAFETY: the caller passes a NUL-terminated string that lives for the call.
    let s = unsafe { CStr::from_ptr(p) };
    s.to_str()
        .map_err(|e| Error::InvalidArgument(format!("{what} is not valid UTF-8: {e}")))
}

/// An optional `const char*` argument (NULL = not given).
pub(crate) fn opt_str<'a>(p: *const c_char, what: &str) -> Result<Option<&'a str>, Error> {
    if p.is_null() {
        Ok(None)
    } else {
        arg_str(p, what).map(Some)
    }
}

/// An optional owned string argument.
pub(crate) fn opt_string(p: *const c_char, what: &str) -> Result<Option<String>, Error> {
    opt_str(p, what).map(|s| s.map(str::to_string))
}

/// A `const float *` + length argument (NULL is allowed only with length 0).
pub(crate) fn arg_floats<'a>(p: *const f32, len: usize, what: &str) -> Result<&'a [f32], Error> {
    arg_slice(p, len, what)
}

/// A required array of `len` elements (NULL only with length 0). A length no allocation can have
/// (more than `isize::MAX` bytes: a negative `ssize_t` cast to `size_t`, an overflowed product) is
/// `InvalidArgument`; building the slice from it would be undefined behaviour (an abort of the host
/// process in debug builds).
pub(crate) fn arg_slice<'a, T>(p: *const T, len: usize, what: &str) -> Result<&'a [T], Error> {
    if p.is_null() {
        if len == 0 {
            return Ok(&[]);
        }
        return Err(Error::InvalidArgument(format!(
            "{what} is NULL with length {len}"
        )));
    }
    let max = isize::MAX as usize / std::mem::size_of::<T>().max(1);
    if len > max {
        return Err(Error::InvalidArgument(format!(
            "{what} has an impossible length {len} (negative, or more than {max} elements)"
        )));
    }
    // SAFETY: the caller passes `len` readable elements; `len * size_of::<T>()` fits in `isize`.
    Ok(unsafe { std::slice::from_raw_parts(p, len) })
}

/// A required output pointer.
pub(crate) fn out_ptr<'a, T>(p: *mut T, what: &str) -> Result<&'a mut T, Error> {
    if p.is_null() {
        return Err(Error::InvalidArgument(format!("{what} is NULL")));
    }
    // SAFETY: the caller passes a writable pointer to a `T`.
    Ok(unsafe { &mut *p })
}

/// Writes `value` through an optional output pointer.
pub(crate) fn write_opt<T>(p: *mut T, value: T) {
    if !p.is_null() {
        // SAFETY: the caller passes NULL or a writable pointer to a `T`.
        unsafe { p.write(value) };
    }
}

/// A NUL-terminated copy of `s` owned by the library (interior NULs become U+FFFD).
pub(crate) fn c_string(s: &str) -> *mut c_char {
    match CString::new(s) {
        Ok(c) => c.into_raw(),
        Err(_) => CString::new(s.replace('\0', "\u{FFFD}"))
            .unwrap_or_default()
            .into_raw(),
    }
}

/// An optional string (NULL for `None`).
pub(crate) fn c_opt_string(s: Option<&str>) -> *mut c_char {
    s.map_or(ptr::null_mut(), c_string)
}

/// Frees a string made by [`c_string`].
pub(crate) fn free_c_string(p: *mut c_char) {
    if !p.is_null() {
        // SAFETY: made by `CString::into_raw` in `c_string` and owned by the struct freeing it.
        drop(unsafe { CString::from_raw(p) });
    }
}

/// A registered string for `char **` outputs, freed by `resonance_string_free`.
pub(crate) fn new_string(s: String) -> *mut c_char {
    let p = c_string(&s);
    registry().insert(p as usize, Entry::Alloc("string"));
    p
}

/// A vector as a C array (`NULL` when empty).
pub(crate) fn into_array<T>(v: Vec<T>) -> (*mut T, usize) {
    if v.is_empty() {
        return (ptr::null_mut(), 0);
    }
    let len = v.len();
    (Box::into_raw(v.into_boxed_slice()) as *mut T, len)
}

/// Frees (and drops the elements of) an array made by [`into_array`].
pub(crate) fn free_array<T>(p: *mut T, len: usize) {
    if !p.is_null() {
        // SAFETY: made by `into_array` with this length, owned by the struct freeing it.
        drop(unsafe { Box::from_raw(ptr::slice_from_raw_parts_mut(p, len)) });
    }
}

// ---------------------------------------------------------------------------------------------
// Library-wide functions.

/// The stable snake_case name of a status: `"ok"` for 0, then the error kind codes of docs/errors.md
/// (`"invalid_argument"`, `"not_found"`, `"closed"`, …), `"unknown"` for any other number.
///
/// Thread-safe. The returned string is static: never free it.
#[no_mangle]
pub extern "C" fn resonance_status_name(status: c_int) -> *const c_char {
    usize::try_from(status)
        .ok()
        .and_then(|i| STATUS_NAMES.get(i))
        .map_or(c"unknown".as_ptr(), |s| s.as_ptr())
}

/// The library's version (`"0.1.0"`). Thread-safe; the string is static: never free it.
#[no_mangle]
pub extern "C" fn resonance_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// Frees a string returned by this library through a `char **` (an `err_out` message,
/// `resonance_id_generate`, `resonance_db_backup`). NULL is a no-op, and so is a pointer that is not
/// a live string of this library (a second free of the same pointer does nothing).
///
/// Strings inside result structs (a node's id, a list's items) belong to their struct: free the struct
/// with its own function instead.
#[no_mangle]
pub extern "C" fn resonance_string_free(s: *mut c_char) {
    let _ = catch_unwind(|| {
        if s.is_null() {
            return;
        }
        let mut reg = registry();
        if matches!(reg.get(&(s as usize)), Some(Entry::Alloc("string"))) {
            reg.remove(&(s as usize));
            drop(reg);
            free_c_string(s);
        }
    });
}

/// Turns `path` (a document path) into a node id with the application's rule (docs/schema.md):
/// `"./docs/README.md"` → `"docs-readme"`. On success `*id_out` is a new string the caller frees with
/// `resonance_string_free`.
///
/// Thread-safe; needs no handle.
///
/// # Safety
/// `path` is NULL or a NUL-terminated string; `id_out` is NULL or writable; `err_out` is NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn resonance_id_generate(
    path: *const c_char,
    id_out: *mut *mut c_char,
    err_out: *mut *mut c_char,
) -> resonance_status {
    guard!(err_out, {
        let path = arg_str(path, "path")?;
        let out = out_ptr(id_out, "id_out")?;
        *out = new_string(resonance::generate_id(path));
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_follow_error_kind_order() {
        for kind in ErrorKind::ALL {
            let s = status_of(kind);
            assert_eq!(s as i32, kind.status(), "{kind}");
            let name = STATUS_NAMES[s as usize].to_str().unwrap();
            assert_eq!(name, kind.code());
        }
        assert_eq!(STATUS_NAMES.len(), ErrorKind::ALL.len() + 1);
    }

    #[test]
    fn impossible_lengths_are_invalid_argument() {
        let v = [1.0f32, 0.0, 0.0];
        for len in [usize::MAX, usize::MAX / 4 + 1, isize::MAX as usize] {
            let e = arg_floats(v.as_ptr(), len, "vector").unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{len}");
        }
        assert_eq!(arg_floats(v.as_ptr(), 3, "vector").unwrap().len(), 3);
        assert!(arg_floats(ptr::null(), 0, "vector").unwrap().is_empty());
    }

    #[test]
    fn a_panic_becomes_internal() {
        let mut err: *mut c_char = ptr::null_mut();
        let s = guard!(&mut err, {
            if std::hint::black_box(true) {
                panic!("a deliberate test panic");
            }
            Ok(())
        });
        assert_eq!(s, RESONANCE_INTERNAL);
        let msg = unsafe { CStr::from_ptr(err) }.to_str().unwrap().to_string();
        assert!(msg.contains("a deliberate test panic"), "{msg}");
        resonance_string_free(err);
        resonance_string_free(err);
    }
}

/// Arbitrary bytes through every kind of `const char*` input: a status, never a panic; UTF-8 ids
/// round-trip exactly (the C ABI's string inputs are its parser of untrusted bytes).
#[cfg(test)]
mod string_inputs {
    use super::*;
    use proptest::prelude::*;

    struct Db {
        _dir: tempfile::TempDir,
        db: *mut resonance_db,
    }

    fn open() -> Db {
        let dir = tempfile::tempdir().unwrap();
        let path = CString::new(dir.path().join("p.db").to_str().unwrap()).unwrap();
        let mut db = ptr::null_mut();
        let s = unsafe { resonance_db_open(path.as_ptr(), ptr::null(), &mut db, ptr::null_mut()) };
        assert_eq!(s, RESONANCE_OK);
        Db { _dir: dir, db }
    }

    impl Drop for Db {
        fn drop(&mut self) {
            resonance_db_free(self.db);
        }
    }

    fn no_nul(bytes: Vec<u8>) -> CString {
        CString::new(bytes.into_iter().filter(|b| *b != 0).collect::<Vec<_>>()).unwrap()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn any_bytes_give_a_status(raw in proptest::collection::vec(any::<u8>(), 0..40)) {
            let db = open();
            let s = no_nul(raw);
            let valid = s.to_str().is_ok();
            let mut err: *mut c_char = ptr::null_mut();
            let mut id: *mut c_char = ptr::null_mut();
            let st = unsafe { resonance_id_generate(s.as_ptr(), &mut id, &mut err) };
            prop_assert_eq!(st, if valid { RESONANCE_OK } else { RESONANCE_INVALID_ARGUMENT });
            resonance_string_free(id);
            resonance_string_free(err);

            let node = resonance_node_input {
                id: s.as_ptr(),
                node_type: s.as_ptr(),
                title: s.as_ptr(),
                domain: ptr::null(),
                layer: ptr::null(),
                hash: ptr::null(),
                summary: s.as_ptr(),
                meta: s.as_ptr(),
                date: ptr::null(),
                embedding: ptr::null(),
                embedding_len: 0,
            };
            let st = unsafe { resonance_node_upsert(db.db, &node, &mut err) };
            prop_assert!(st == RESONANCE_OK || st == RESONANCE_INVALID_ARGUMENT, "{:?}", st);
            if st == RESONANCE_OK {
                prop_assert!(valid && !s.as_bytes().is_empty());
            }
            resonance_string_free(err);

            let plain = resonance_node_input { meta: ptr::null(), ..node };
            let st = unsafe { resonance_node_upsert(db.db, &plain, &mut err) };
            resonance_string_free(err);
            if valid && !s.as_bytes().is_empty() {
                prop_assert_eq!(st, RESONANCE_OK);
                let mut got: *mut resonance_node = ptr::null_mut();
                let st = unsafe {
                    resonance_node_get(db.db, s.as_ptr(), false, &mut got, ptr::null_mut())
                };
                prop_assert_eq!(st, RESONANCE_OK);
                prop_assert!(!got.is_null());
                let back = unsafe { CStr::from_ptr((*got).id) };
                prop_assert_eq!(back, s.as_c_str());
                resonance_node_free(got);
            } else {
                prop_assert_eq!(st, RESONANCE_INVALID_ARGUMENT);
            }

            let mut hits: *mut resonance_hits = ptr::null_mut();
            let filter = resonance_search_filter {
                domain: s.as_ptr(),
                node_type: s.as_ptr(),
                threads: 1,
                ..resonance_search_filter_default()
            };
            let st = unsafe {
                resonance_vector_search_like(db.db, s.as_ptr(), 3, &filter, &mut hits, ptr::null_mut())
            };
            prop_assert!(st == RESONANCE_NOT_FOUND || st == RESONANCE_INVALID_ARGUMENT, "{:?}", st);
            prop_assert!(hits.is_null());
            let mut path: *mut resonance_strings = ptr::null_mut();
            let st = unsafe {
                resonance_graph_shortest_path(db.db, s.as_ptr(), s.as_ptr(), ptr::null(), &mut path, ptr::null_mut())
            };
            prop_assert!(matches!(
                st,
                RESONANCE_OK | RESONANCE_INVALID_ARGUMENT | RESONANCE_NOT_FOUND
            ));
            resonance_strings_free(path);
        }
    }
}
