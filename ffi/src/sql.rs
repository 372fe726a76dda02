//! Application SQL in C: `resonance_execute`, `resonance_execute_batch` and `resonance_query` with its
//! cursor (`resonance_rows_*`). Parameters cross as an array of [`resonance_value`]; what a statement
//! may do is the core's authorizer's to decide (docs/sql.md): nothing here reads SQL text.

use std::ffi::{c_char, CString};
use std::ptr;

use resonance::{Error, Params, Value};

use crate::types::resonance_db;
use crate::{
    arg_slice, arg_str, guard, hand_to_caller, handle, is_live, resonance_status,
    take_back_from_caller,
};

/// `resonance_value.kind` and `resonance_rows_column_type`: SQL `NULL`.
pub const RESONANCE_VALUE_NULL: u32 = 0;
/// A 64-bit integer (`int64`).
pub const RESONANCE_VALUE_INTEGER: u32 = 1;
/// A 64-bit float (`real`).
pub const RESONANCE_VALUE_REAL: u32 = 2;
/// UTF-8 text (`text`, `len` bytes; it may hold NUL bytes).
pub const RESONANCE_VALUE_TEXT: u32 = 3;
/// Bytes (`blob`, `len` bytes).
pub const RESONANCE_VALUE_BLOB: u32 = 4;

/// One parameter of a statement. Set `kind` and the field it names; the others are ignored.
/// `name` is NULL for a positional parameter (`?`, `?NNN`: the array's first value is `?1`), or the
/// NUL-terminated name of a named one (`:a`, `@a`, `$a`, given with or without its prefix); give
/// every value of one call a name, or none.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct resonance_value {
    /// `RESONANCE_VALUE_NULL`, `_INTEGER`, `_REAL`, `_TEXT` or `_BLOB`.
    pub kind: u32,
    /// The value of an `_INTEGER`.
    pub int64: i64,
    /// The value of a `_REAL`.
    pub real: f64,
    /// The bytes of a `_TEXT` (UTF-8, `len` bytes, no terminator needed; NULL only with `len` 0).
    pub text: *const c_char,
    /// The bytes of a `_BLOB` (`len` bytes; NULL only with `len` 0).
    pub blob: *const u8,
    /// The length in bytes of `text` or `blob`.
    pub len: usize,
    /// NULL (positional) or the parameter's NUL-terminated UTF-8 name.
    pub name: *const c_char,
}

/// What `resonance_execute` did.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct resonance_execute_result {
    /// Rows inserted, updated or deleted by the statement (0 for one that only reads).
    pub changes: u64,
    /// The connection's last inserted rowid after the statement (`sqlite3_last_insert_rowid`).
    pub last_insert_rowid: i64,
}

/// The rows of a query and a cursor over them (opaque; from `resonance_query`, freed with
/// `resonance_rows_free`). Not to be shared between threads while one of them moves the cursor.
pub struct resonance_rows {
    columns: Vec<CString>,
    /// Each row's values; a text value carries a NUL after its bytes (not counted in its length).
    rows: Vec<Vec<Value>>,
    /// The current row plus one (0: before the first `resonance_rows_next`).
    at: usize,
}

/// The core's parameters from the caller's array.
fn params(p: *const resonance_value, n: usize) -> Result<Params, Error> {
    let values = arg_slice(p, n, "params")?;
    let mut positional = Vec::with_capacity(values.len());
    let mut named = Vec::new();
    for (i, v) in values.iter().enumerate() {
        let what = format!("params[{i}]");
        let value = match v.kind {
            RESONANCE_VALUE_NULL => Value::Null,
            RESONANCE_VALUE_INTEGER => Value::Integer(v.int64),
            RESONANCE_VALUE_REAL => Value::Real(v.real),
            RESONANCE_VALUE_TEXT => {
                let bytes = arg_slice(v.text.cast::<u8>(), v.len, &format!("{what}.text"))?;
                Value::Text(
                    std::str::from_utf8(bytes)
                        .map_err(|e| {
                            Error::InvalidArgument(format!("{what}.text is not valid UTF-8: {e}"))
                        })?
                        .to_owned(),
                )
            }
            RESONANCE_VALUE_BLOB => {
                Value::Blob(arg_slice(v.blob, v.len, &format!("{what}.blob"))?.to_vec())
            }
            other => {
                return Err(Error::InvalidArgument(format!(
                    "{what}.kind is {other}: expected RESONANCE_VALUE_NULL (0), _INTEGER (1), _REAL (2), _TEXT (3) or _BLOB (4)"
                )))
            }
        };
        if v.name.is_null() {
            positional.push(value);
        } else {
            named.push((arg_str(v.name, &format!("{what}.name"))?.to_owned(), value));
        }
    }
    match (positional.is_empty(), named.is_empty()) {
        (_, true) => Ok(Params::Positional(positional)),
        (true, false) => Ok(Params::Named(named)),
        (false, false) => Err(Error::InvalidArgument(
            "params: give every value a name or none (a mix of named and positional values)".into(),
        )),
    }
}

/// Runs one statement of application SQL with `n_params` parameters from `params` (NULL with 0: none)
/// and, when `result_out` is not NULL, stores what it changed there. A statement that returns rows
/// runs to its end (its rows are dropped). Inside the handle's explicit transaction
/// (`resonance_tx_begin`) the statement joins it; otherwise a writing statement runs in its own.
///
/// What the engine refuses (docs/sql.md: DDL on the engine's tables, writes to `nodes`/`edges`/
/// `history` unless `allow_engine_writes`, `ATTACH`, transaction statements, PRAGMAs that change the
/// connection) is `RESONANCE_INVALID_ARGUMENT`, and so is SQL holding more than one statement (use
/// `resonance_execute_batch`); a write on a read-only handle is `RESONANCE_READONLY`; a statement
/// stopped by `resonance_interrupt` is `RESONANCE_INTERRUPTED`.
///
/// # Safety
/// `db` is NULL or a handle; `sql` is a NUL-terminated string; `params` is NULL or points to
/// `n_params` values whose pointers are valid for their lengths; `result_out` and `err_out` are NULL
/// or writable.
#[no_mangle]
pub unsafe extern "C" fn resonance_execute(
    db: *mut resonance_db,
    sql: *const c_char,
    params: *const resonance_value,
    n_params: usize,
    result_out: *mut resonance_execute_result,
    err_out: *mut *mut c_char,
) -> resonance_status {
    guard!(err_out, {
        let db = handle(db)?;
        let sql = arg_str(sql, "sql")?;
        let p = self::params(params, n_params)?;
        let r = db.execute(sql, &p)?;
        crate::write_opt(
            result_out,
            resonance_execute_result {
                changes: r.changes,
                last_insert_rowid: r.last_insert_rowid,
            },
        );
        Ok(())
    })
}

/// Runs a script of several statements without parameters as one unit: in its own transaction, or
/// inside the explicit one as a savepoint (a failing statement undoes the script's earlier ones).
/// Each statement is checked as in `resonance_execute`.
///
/// # Safety
/// `db` is NULL or a handle; `script` is a NUL-terminated string; `err_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn resonance_execute_batch(
    db: *mut resonance_db,
    script: *const c_char,
    err_out: *mut *mut c_char,
) -> resonance_status {
    guard!(err_out, {
        let db = handle(db)?;
        db.execute_batch(arg_str(script, "script")?)
    })
}

/// Runs one statement (as `resonance_execute`) and stores all its rows in a new cursor in
/// `*rows_out` (set to NULL on failure; free it with `resonance_rows_free`). The cursor starts
/// before the first row: call `resonance_rows_next` to move to each row.
///
/// # Safety
/// As `resonance_execute`; `rows_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn resonance_query(
    db: *mut resonance_db,
    sql: *const c_char,
    params: *const resonance_value,
    n_params: usize,
    rows_out: *mut *mut resonance_rows,
    err_out: *mut *mut c_char,
) -> resonance_status {
    guard!(err_out, {
        let out = crate::out_ptr(rows_out, "rows_out")?;
        *out = ptr::null_mut();
        let db = handle(db)?;
        let sql = arg_str(sql, "sql")?;
        let p = self::params(params, n_params)?;
        let r = db.query(sql, &p)?;
        let columns = r.columns.iter().map(|c| cstring(c)).collect();
        let mut rows = r.rows;
        for row in &mut rows {
            for v in row.iter_mut() {
                if let Value::Text(t) = v {
                    t.push('\0');
                }
            }
        }
        *out = hand_to_caller(
            resonance_rows {
                columns,
                rows,
                at: 0,
            },
            "rows",
        );
        Ok(())
    })
}

fn cstring(s: &str) -> CString {
    CString::new(s.replace('\0', "\u{FFFD}")).unwrap_or_default()
}

/// The cursor behind `p` when it is a live `resonance_rows` (never dereferences a freed one).
fn live<'a>(p: *const resonance_rows) -> Option<&'a resonance_rows> {
    if p.is_null() {
        return None;
    }
    let live = is_live(p as usize, "rows");
    // SAFETY: registered by `publish` as a `resonance_rows` and not freed since.
    live.then(|| unsafe { &*p })
}

/// The value of column `i` of the current row.
fn cell<'a>(rows: *const resonance_rows, i: usize) -> Option<&'a Value> {
    let r = live(rows)?;
    r.rows.get(r.at.checked_sub(1)?)?.get(i)
}

/// Moves the cursor to the next row: true when it is on a row, false past the last one (and for a
/// NULL or freed cursor). Pointers read from the cursor stay valid until `resonance_rows_free`.
///
/// # Safety
/// `rows` is NULL or a cursor from `resonance_query`, not moved by another thread at the same time.
#[no_mangle]
pub unsafe extern "C" fn resonance_rows_next(rows: *mut resonance_rows) -> bool {
    std::panic::catch_unwind(|| {
        if live(rows).is_none() {
            return false;
        }
        // SAFETY: live (checked above); the caller does not move one cursor from two threads.
        let r = unsafe { &mut *rows };
        if r.at <= r.rows.len() {
            r.at += 1;
        }
        r.at <= r.rows.len()
    })
    .unwrap_or(false)
}

/// The number of columns (0 for a NULL or freed cursor).
#[no_mangle]
pub extern "C" fn resonance_rows_column_count(rows: *const resonance_rows) -> usize {
    live(rows).map_or(0, |r| r.columns.len())
}

/// The name of column `i` (NUL-terminated UTF-8, valid until `resonance_rows_free`), or NULL when
/// `i` is out of range or the cursor NULL or freed.
#[no_mangle]
pub extern "C" fn resonance_rows_column_name(
    rows: *const resonance_rows,
    i: usize,
) -> *const c_char {
    live(rows)
        .and_then(|r| r.columns.get(i))
        .map_or(ptr::null(), |c| c.as_ptr())
}

/// The type (`RESONANCE_VALUE_*`) of column `i` in the current row, as stored:
/// `RESONANCE_VALUE_NULL` also when there is no current row or `i` is out of range.
#[no_mangle]
pub extern "C" fn resonance_rows_column_type(rows: *const resonance_rows, i: usize) -> u32 {
    match cell(rows, i) {
        None | Some(Value::Null) => RESONANCE_VALUE_NULL,
        Some(Value::Integer(_)) => RESONANCE_VALUE_INTEGER,
        Some(Value::Real(_)) => RESONANCE_VALUE_REAL,
        Some(Value::Text(_)) => RESONANCE_VALUE_TEXT,
        Some(Value::Blob(_)) => RESONANCE_VALUE_BLOB,
    }
}

/// Column `i` of the current row as an integer: an `_INTEGER` as stored, a `_REAL` truncated toward
/// zero (saturating), 0 for any other type (nothing is parsed from text).
#[no_mangle]
pub extern "C" fn resonance_rows_int64(rows: *const resonance_rows, i: usize) -> i64 {
    match cell(rows, i) {
        Some(Value::Integer(v)) => *v,
        Some(Value::Real(f)) => *f as i64,
        _ => 0,
    }
}

/// Column `i` of the current row as a double: a `_REAL` as stored, an `_INTEGER` converted, 0.0 for
/// any other type.
#[no_mangle]
pub extern "C" fn resonance_rows_double(rows: *const resonance_rows, i: usize) -> f64 {
    match cell(rows, i) {
        Some(Value::Real(f)) => *f,
        Some(Value::Integer(v)) => *v as f64,
        _ => 0.0,
    }
}

/// Column `i` of the current row when it is `_TEXT`: its UTF-8 bytes, followed by a NUL that
/// `*len_out` (when not NULL) does not count (the text itself may hold NUL bytes: use the length).
/// NULL (and length 0) for any other type. Valid until `resonance_rows_free`.
///
/// # Safety
/// `len_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn resonance_rows_text(
    rows: *const resonance_rows,
    i: usize,
    len_out: *mut usize,
) -> *const c_char {
    let (p, len) = match cell(rows, i) {
        Some(Value::Text(t)) => (t.as_ptr().cast::<c_char>(), t.len() - 1),
        _ => (ptr::null(), 0),
    };
    crate::write_opt(len_out, len);
    p
}

/// Column `i` of the current row when it is `_BLOB`: its bytes and, in `*len_out` (when not NULL),
/// their number. NULL (and length 0) for any other type and for an empty blob. Valid until
/// `resonance_rows_free`.
///
/// # Safety
/// `len_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn resonance_rows_blob(
    rows: *const resonance_rows,
    i: usize,
    len_out: *mut usize,
) -> *const u8 {
    let (p, len) = match cell(rows, i) {
        Some(Value::Blob(b)) if !b.is_empty() => (b.as_ptr(), b.len()),
        _ => (ptr::null(), 0),
    };
    crate::write_opt(len_out, len);
    p
}

/// Frees a cursor from `resonance_query` and every value read from it. NULL (or an already freed
/// cursor) is a no-op.
#[no_mangle]
pub extern "C" fn resonance_rows_free(rows: *mut resonance_rows) {
    let _ = std::panic::catch_unwind(|| drop(take_back_from_caller(rows, "rows")));
}
