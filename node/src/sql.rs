//! Application SQL for JS (docs/sql.md): SQL values in ([`SqlIn`]) and out ([`SqlOut`]), parameters
//! ([`SqlParams`]), application migrations' inputs and outputs, and [`NativeStatement`], the addon's
//! half of a prepared statement (the package entry's `Statement` wraps it with better-sqlite3's API:
//! `run`, `get`, `all`, `iterate`, `pluck`, `raw`, `bind`, `safeIntegers`, `columns`).
//!
//! Values: a JS number that is a whole number within ±(2^53 − 1) (and not −0) binds as an INTEGER,
//! any other number as a REAL; a bigint as an INTEGER (refused beyond 64 bits); a string as TEXT; a
//! `Buffer`/`Uint8Array` as a BLOB; `null`/`undefined` as NULL; `true`/`false` as 1/0. Anything
//! else is `invalid_argument`. Out, an INTEGER is a number, or a bigint in safe-integers mode; an
//! INTEGER beyond ±(2^53 − 1) read outside that mode is `invalid_argument` (never rounded); a BLOB is
//! a `Buffer`. Nothing here decides what SQL may do (the core's authorizer does).

use std::ptr;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use napi::bindgen_prelude::{
    AsyncTask, Either, FromNapiValue, Null, Object, ToNapiValue, TypeName, ValidateNapiValue,
    ValueType,
};
use napi::{check_status, sys, Status};
use napi_derive::napi;
use resonance::Value;

use crate::args::{unless_nullish, whole_number, MAX_SAFE};
use crate::error::{guard, invalid, Result};
use crate::tasks::{SqlAllTask, SqlGetTask, SqlRunTask, Work};
use crate::{pool_task_js, Core, InFlight};

/// A JS value given as an SQL parameter (see the module comment for the mapping).
pub struct SqlIn(pub Value);

/// A JS number as an SQL value: whole numbers within the safe range (except −0, whose sign only a
/// REAL keeps) are INTEGERs, every other number a REAL.
fn number(f: f64) -> Value {
    if f.fract() == 0.0 && f.abs() <= MAX_SAFE && !(f == 0.0 && f.is_sign_negative()) {
        Value::Integer(f as i64)
    } else {
        Value::Real(f)
    }
}

fn bad(msg: impl Into<String>) -> napi::Error {
    napi::Error::new(Status::InvalidArg, msg.into())
}

impl FromNapiValue for SqlIn {
    unsafe fn from_napi_value(env: sys::napi_env, v: sys::napi_value) -> napi::Result<Self> {
        let mut t = 0;
        check_status!(unsafe { sys::napi_typeof(env, v, &mut t) })?;
        Ok(SqlIn(match t {
            sys::ValueType::napi_null | sys::ValueType::napi_undefined => Value::Null,
            sys::ValueType::napi_boolean => {
                Value::Integer(i64::from(unsafe { bool::from_napi_value(env, v) }?))
            }
            sys::ValueType::napi_number => number(unsafe { f64::from_napi_value(env, v) }?),
            sys::ValueType::napi_bigint => {
                let (mut i, mut lossless) = (0i64, false);
                check_status!(unsafe {
                    sys::napi_get_value_bigint_int64(env, v, &mut i, &mut lossless)
                })?;
                if !lossless {
                    return Err(bad(
                        "an SQL parameter: a bigint beyond the 64-bit range (−2^63 … 2^63 − 1)",
                    ));
                }
                Value::Integer(i)
            }
            sys::ValueType::napi_string => Value::Text(unsafe { String::from_napi_value(env, v) }?),
            sys::ValueType::napi_object => Value::Blob(unsafe { bytes(env, v) }?),
            _ => {
                return Err(bad(
                    "an SQL parameter must be a number, bigint, string, Buffer/Uint8Array, boolean, null or undefined",
                ))
            }
        }))
    }
}

/// The bytes of a `Buffer` or `Uint8Array` (copied), else `invalid_argument`.
unsafe fn bytes(env: sys::napi_env, v: sys::napi_value) -> napi::Result<Vec<u8>> {
    let mut is = false;
    check_status!(unsafe { sys::napi_is_typedarray(env, v, &mut is) })?;
    if is {
        let (mut ty, mut len, mut data, mut ab, mut off) =
            (0, 0usize, ptr::null_mut(), ptr::null_mut(), 0usize);
        check_status!(unsafe {
            sys::napi_get_typedarray_info(env, v, &mut ty, &mut len, &mut data, &mut ab, &mut off)
        })?;
        if ty == sys::TypedarrayType::uint8_array {
            return Ok(copy(data, len));
        }
    } else {
        check_status!(unsafe { sys::napi_is_buffer(env, v, &mut is) })?;
        if is {
            let (mut data, mut len) = (ptr::null_mut(), 0usize);
            check_status!(unsafe { sys::napi_get_buffer_info(env, v, &mut data, &mut len) })?;
            return Ok(copy(data, len));
        }
    }
    Err(bad(
        "an SQL parameter object must be a Buffer or Uint8Array (a BLOB); give arrays and plain objects as the parameter list",
    ))
}

fn copy(data: *mut std::ffi::c_void, len: usize) -> Vec<u8> {
    if len == 0 || data.is_null() {
        Vec::new()
    } else {
        // SAFETY: N-API gives the view's data pointer and its length in bytes.
        unsafe { std::slice::from_raw_parts(data as *const u8, len) }.to_vec()
    }
}

/// The parameters of one run as the package entry passes them: an array (positional) or a plain
/// object (named, keys with or without their `:`/`@`/`$` prefix); `undefined` is none.
pub struct SqlParams(pub resonance::Params);

impl FromNapiValue for SqlParams {
    unsafe fn from_napi_value(env: sys::napi_env, v: sys::napi_value) -> napi::Result<Self> {
        let mut t = 0;
        check_status!(unsafe { sys::napi_typeof(env, v, &mut t) })?;
        if t == sys::ValueType::napi_undefined || t == sys::ValueType::napi_null {
            return Ok(SqlParams(resonance::Params::default()));
        }
        let mut is_array = false;
        check_status!(unsafe { sys::napi_is_array(env, v, &mut is_array) })?;
        if is_array {
            let values = unsafe { Vec::<SqlIn>::from_napi_value(env, v) }?;
            return Ok(SqlParams(resonance::Params::Positional(
                values.into_iter().map(|s| s.0).collect(),
            )));
        }
        if t != sys::ValueType::napi_object {
            return Err(bad("SQL parameters must be an array or an object"));
        }
        let obj = unsafe { Object::from_napi_value(env, v) }?;
        let mut named = Vec::new();
        for key in Object::keys(&obj)? {
            let value: Option<SqlIn> = obj.get(&key)?;
            named.push((key, value.map_or(Value::Null, |s| s.0)));
        }
        Ok(SqlParams(resonance::Params::Named(named)))
    }
}

impl TypeName for SqlParams {
    fn type_name() -> &'static str {
        "SqlParams"
    }
    fn value_type() -> ValueType {
        ValueType::Object
    }
}
impl ValidateNapiValue for SqlParams {}

/// A value read from the database, ready for JS.
pub enum SqlOut {
    Null,
    Number(f64),
    BigInt(i64),
    Text(String),
    Blob(Vec<u8>),
}

/// JavaScript's safe integer range as an `i64`.
const SAFE: i64 = (1 << 53) - 1;

impl SqlOut {
    /// `v` for JS: integers as numbers, or as bigints when `safe`; an integer beyond ±(2^53 − 1)
    /// outside safe mode is `invalid_argument` (better-sqlite3's RangeError), never rounded.
    fn from_value(v: Value, safe: bool, column: &str) -> Result<SqlOut> {
        Ok(match v {
            Value::Null => SqlOut::Null,
            Value::Integer(i) if safe => SqlOut::BigInt(i),
            Value::Integer(i) if (-SAFE..=SAFE).contains(&i) => SqlOut::Number(i as f64),
            Value::Integer(i) => {
                return Err(invalid(format!(
                    "column {column:?} holds the integer {i}, beyond ±(2^53 − 1): a JS number would round it; \
                     call safeIntegers() on the statement to read integers as bigints"
                )))
            }
            Value::Real(f) => SqlOut::Number(f),
            Value::Text(s) => SqlOut::Text(s),
            Value::Blob(b) => SqlOut::Blob(b),
        })
    }
}

impl TypeName for SqlOut {
    fn type_name() -> &'static str {
        "SqlValue"
    }
    fn value_type() -> ValueType {
        ValueType::Unknown
    }
}

impl ToNapiValue for SqlOut {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> napi::Result<sys::napi_value> {
        let mut out = ptr::null_mut();
        match val {
            SqlOut::Null => check_status!(unsafe { sys::napi_get_null(env, &mut out) })?,
            SqlOut::Number(f) => {
                check_status!(unsafe { sys::napi_create_double(env, f, &mut out) })?
            }
            SqlOut::BigInt(i) => {
                check_status!(unsafe { sys::napi_create_bigint_int64(env, i, &mut out) })?
            }
            SqlOut::Text(s) => return unsafe { String::to_napi_value(env, s) },
            SqlOut::Blob(b) => check_status!(unsafe {
                sys::napi_create_buffer_copy(
                    env,
                    b.len(),
                    b.as_ptr().cast(),
                    ptr::null_mut(),
                    &mut out,
                )
            })?,
        }
        Ok(out)
    }
}

/// One row: its values, or — when the statement's column names changed since the last row this
/// handle returned (a `SELECT *` recompiled after the table changed) — `{ columns, values }`.
pub struct RowOut {
    columns: Option<Vec<String>>,
    values: Vec<SqlOut>,
}

/// Rows: an array of value arrays, or `{ columns, rows }` when the column names changed (as for
/// [`RowOut`]).
pub struct RowsOut {
    columns: Option<Vec<String>>,
    rows: Vec<Vec<SqlOut>>,
}

unsafe fn object_of<A: ToNapiValue, B: ToNapiValue>(
    env: sys::napi_env,
    (ka, a): (&str, A),
    (kb, b): (&str, B),
) -> napi::Result<sys::napi_value> {
    let mut obj = ptr::null_mut();
    check_status!(unsafe { sys::napi_create_object(env, &mut obj) })?;
    for (k, v) in [
        (ka, unsafe { A::to_napi_value(env, a) }?),
        (kb, unsafe { B::to_napi_value(env, b) }?),
    ] {
        let key = std::ffi::CString::new(k).map_err(|e| bad(e.to_string()))?;
        check_status!(unsafe { sys::napi_set_named_property(env, obj, key.as_ptr(), v) })?;
    }
    Ok(obj)
}

impl TypeName for RowOut {
    fn type_name() -> &'static str {
        "SqlValue[]"
    }
    fn value_type() -> ValueType {
        ValueType::Object
    }
}

impl ToNapiValue for RowOut {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> napi::Result<sys::napi_value> {
        match val.columns {
            None => unsafe { Vec::to_napi_value(env, val.values) },
            Some(c) => unsafe { object_of(env, ("columns", c), ("values", val.values)) },
        }
    }
}

impl TypeName for RowsOut {
    fn type_name() -> &'static str {
        "SqlValue[][]"
    }
    fn value_type() -> ValueType {
        ValueType::Object
    }
}

impl ToNapiValue for RowsOut {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> napi::Result<sys::napi_value> {
        match val.columns {
            None => unsafe { Vec::to_napi_value(env, val.rows) },
            Some(c) => unsafe { object_of(env, ("columns", c), ("rows", val.rows)) },
        }
    }
}

/// What `run` did (better-sqlite3's `RunResult`).
#[napi(object, object_from_js = false)]
pub struct RunResult {
    /// Rows inserted, updated or deleted (0 for a statement that only reads).
    pub changes: f64,
    /// The connection's last inserted rowid: a bigint in safe-integers mode, or when it is beyond
    /// ±(2^53 − 1) (the write has happened: it is reported, not refused).
    #[napi(ts_type = "number | bigint")]
    pub last_insert_rowid: SqlOut,
}

impl RunResult {
    fn from_core(r: resonance::ExecuteResult, safe: bool) -> RunResult {
        let id = r.last_insert_rowid;
        RunResult {
            changes: r.changes as f64,
            last_insert_rowid: if safe || !(-SAFE..=SAFE).contains(&id) {
                SqlOut::BigInt(id)
            } else {
                SqlOut::Number(id as f64)
            },
        }
    }
}

/// What the synchronous `run` did, as the array `[changes, lastInsertRowid]` (the package entry makes
/// the `{ changes, lastInsertRowid }` object: an object literal in JS costs far less than one built
/// through N-API, property by property).
pub struct RunPair(RunResult);

impl TypeName for RunPair {
    fn type_name() -> &'static str {
        "[number, number | bigint]"
    }
    fn value_type() -> ValueType {
        ValueType::Object
    }
}

impl ToNapiValue for RunPair {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> napi::Result<sys::napi_value> {
        let mut arr = ptr::null_mut();
        check_status!(unsafe { sys::napi_create_array_with_length(env, 2, &mut arr) })?;
        let changes = unsafe { f64::to_napi_value(env, val.0.changes) }?;
        let id = unsafe { SqlOut::to_napi_value(env, val.0.last_insert_rowid) }?;
        check_status!(unsafe { sys::napi_set_element(env, arr, 0, changes) })?;
        check_status!(unsafe { sys::napi_set_element(env, arr, 1, id) })?;
        Ok(arr)
    }
}

/// A result column as better-sqlite3's `columns()` describes it.
#[napi(object, object_from_js = false, use_nullable = true)]
pub struct ColumnDescription {
    /// The column's name in the result.
    pub name: String,
    /// The table column it comes from (`null` for an expression).
    pub column: Option<String>,
    /// That column's table.
    pub table: Option<String>,
    /// That table's database (`main`, `temp`).
    pub database: Option<String>,
    /// That column's declared type.
    #[napi(js_name = "type")]
    pub decl_type: Option<String>,
}

/// What a statement is, found when it was prepared (compiled, not run).
#[napi(object, object_from_js = false)]
pub struct StatementInfo {
    /// Its result columns.
    pub columns: Vec<ColumnDescription>,
    /// How many parameters it takes.
    pub parameter_count: u32,
    /// Whether it only reads.
    pub readonly: bool,
    /// Whether it returns rows.
    pub reader: bool,
}

/// The handle a statement runs on: the core handle with its Database's pending count and
/// transaction flag (so a statement's Promise calls follow the handle's rules).
#[derive(Clone)]
pub(crate) struct Handle {
    pub(crate) inner: Arc<Core>,
    pub(crate) pending: Arc<InFlight>,
    pub(crate) tx_open: Arc<AtomicBool>,
}

/// The addon's half of a prepared statement (`db.prepare(sql)` returns the package entry's
/// `Statement` over it): it holds the SQL text, compiled once by `prepare` to report errors at once
/// (the compiled statement lives in the connection's cache), and the column names last returned.
/// Not meant to be used directly.
#[napi]
pub struct NativeStatement {
    h: Handle,
    sql: Arc<resonance::PreparedSql>,
    info: resonance::StatementInfo,
}

impl NativeStatement {
    pub(crate) fn prepare(h: Handle, sql: String) -> Result<NativeStatement> {
        let (prepared, info) = guard(|| h.inner.prepare_sql(&sql))?;
        Ok(NativeStatement {
            h,
            sql: Arc::new(prepared),
            info,
        })
    }

    /// The pool work of the Promise call `name` (`sync`: its synchronous form).
    fn work<O: Send + 'static>(
        &self,
        name: &'static str,
        sync: &'static str,
        f: impl FnOnce(&Core, &resonance::PreparedSql) -> Result<O> + Send + 'static,
    ) -> Work<O> {
        let sql = self.sql.clone();
        pool_task_js(
            &self.h.inner,
            &self.h.pending,
            &self.h.tx_open,
            None,
            name,
            Some(sync),
            move |db| f(db, &sql),
        )
    }
}

/// A row's values for JS. Only an integer beyond ±(2^53 − 1) outside safe mode fails: its error
/// names the column (the names returned now, else the statement's last ones).
fn values(
    values: Vec<Value>,
    renamed: &Option<Vec<String>>,
    p: &resonance::PreparedSql,
    safe: bool,
) -> Result<Vec<SqlOut>> {
    let mut out = Vec::with_capacity(values.len());
    for (i, v) in values.into_iter().enumerate() {
        let v = match v {
            Value::Integer(n) if !safe && !(-SAFE..=SAFE).contains(&n) => {
                let names = renamed.clone().unwrap_or_else(|| p.columns());
                let column = names.get(i).map_or("?", String::as_str);
                return SqlOut::from_value(Value::Integer(n), false, column).map(|_| out);
            }
            v => v,
        };
        out.push(SqlOut::from_value(v, safe, "")?);
    }
    Ok(out)
}

fn run(
    db: &Core,
    p: &resonance::PreparedSql,
    params: &resonance::Params,
    safe: bool,
) -> Result<RunResult> {
    guard(|| db.execute_prepared(p, params)).map(|r| RunResult::from_core(r, safe))
}

fn get(
    db: &Core,
    p: &resonance::PreparedSql,
    params: &resonance::Params,
    safe: bool,
) -> Result<Option<RowOut>> {
    let r = guard(|| db.query_prepared(p, params, 1))?;
    let Some(row) = r.rows.into_iter().next() else {
        return Ok(None);
    };
    let values = values(row, &r.renamed, p, safe)?;
    Ok(Some(RowOut {
        columns: r.renamed,
        values,
    }))
}

fn all(
    db: &Core,
    p: &resonance::PreparedSql,
    params: &resonance::Params,
    safe: bool,
) -> Result<RowsOut> {
    let r = guard(|| db.query_prepared(p, params, usize::MAX))?;
    let rows = r
        .rows
        .into_iter()
        .map(|row| values(row, &r.renamed, p, safe))
        .collect::<Result<Vec<_>>>()?;
    Ok(RowsOut {
        columns: r.renamed,
        rows,
    })
}

#[napi]
impl NativeStatement {
    /// The functions and buffer of the fast `run`/`get` (`fast.rs`), made once per statement, with
    /// a key for the bun:ffi functions (`bun.rs`) when `bun`. Internal.
    #[napi(catch_unwind, js_name = "_fast", skip_typescript)]
    pub fn fast(&self, env: napi::Env, bun: Option<bool>) -> napi::Result<crate::fast::Raw> {
        crate::fast::external(
            env.raw(),
            self.h.clone(),
            self.sql.clone(),
            bun.unwrap_or(false),
        )
    }

    /// What the statement is (read once by the package entry).
    #[napi(catch_unwind)]
    pub fn info(&self) -> StatementInfo {
        StatementInfo {
            columns: self
                .info
                .columns
                .iter()
                .map(|c| ColumnDescription {
                    name: c.name.clone(),
                    column: c.column.clone(),
                    table: c.table.clone(),
                    database: c.database.clone(),
                    decl_type: c.decl_type.clone(),
                })
                .collect(),
            parameter_count: self.info.parameter_count as u32,
            readonly: self.info.readonly,
            reader: self.info.returns_rows,
        }
    }

    /// Runs the statement; what it changed, as `[changes, lastInsertRowid]`.
    #[napi(
        catch_unwind,
        ts_args_type = "params: unknown[] | Record<string, unknown> | undefined, safe: boolean",
        ts_return_type = "[number, number | bigint]"
    )]
    pub fn run(&self, params: SqlParams, safe: bool) -> Result<RunPair> {
        run(&self.h.inner, &self.sql, &params.0, safe).map(RunPair)
    }

    /// The first row's values (`null`: none), or `{ columns, values }` when the names changed.
    #[napi(
        catch_unwind,
        ts_args_type = "params: unknown[] | Record<string, unknown> | undefined, safe: boolean",
        ts_return_type = "unknown[] | { columns: string[], values: unknown[] } | null"
    )]
    pub fn get(&self, params: SqlParams, safe: bool) -> Result<Option<RowOut>> {
        get(&self.h.inner, &self.sql, &params.0, safe)
    }

    /// Every row's values, or `{ columns, rows }` when the names changed.
    #[napi(
        catch_unwind,
        ts_args_type = "params: unknown[] | Record<string, unknown> | undefined, safe: boolean",
        ts_return_type = "unknown[][] | { columns: string[], rows: unknown[][] }"
    )]
    pub fn all(&self, params: SqlParams, safe: bool) -> Result<RowsOut> {
        all(&self.h.inner, &self.sql, &params.0, safe)
    }

    /// `run` off the event loop.
    #[napi(
        catch_unwind,
        ts_args_type = "params: unknown[] | Record<string, unknown> | undefined, safe: boolean",
        ts_return_type = "Promise<RunResult>"
    )]
    pub fn run_async(&self, params: SqlParams, safe: bool) -> AsyncTask<SqlRunTask> {
        AsyncTask::new(SqlRunTask(self.work("runAsync", "run", move |db, sql| {
            run(db, sql, &params.0, safe)
        })))
    }

    /// `get` off the event loop.
    #[napi(
        catch_unwind,
        ts_args_type = "params: unknown[] | Record<string, unknown> | undefined, safe: boolean",
        ts_return_type = "Promise<unknown[] | { columns: string[], values: unknown[] } | null>"
    )]
    pub fn get_async(&self, params: SqlParams, safe: bool) -> AsyncTask<SqlGetTask> {
        AsyncTask::new(SqlGetTask(self.work("getAsync", "get", move |db, sql| {
            get(db, sql, &params.0, safe)
        })))
    }

    /// `all` off the event loop.
    #[napi(
        catch_unwind,
        ts_args_type = "params: unknown[] | Record<string, unknown> | undefined, safe: boolean",
        ts_return_type = "Promise<unknown[][] | { columns: string[], rows: unknown[][] }>"
    )]
    pub fn all_async(&self, params: SqlParams, safe: bool) -> AsyncTask<SqlAllTask> {
        AsyncTask::new(SqlAllTask(self.work("allAsync", "all", move |db, sql| {
            all(db, sql, &params.0, safe)
        })))
    }
}

/// One application migration step (`migrateApp`, `appMigrationStatus`, open's `appMigrations`).
#[napi(object)]
pub struct AppMigrationInput {
    /// The version (steps run in version order).
    pub version: f64,
    /// The name.
    pub name: String,
    /// The SQL that applies it.
    pub up: String,
    /// The SQL that undoes it (without it, the step cannot be undone).
    pub down: Option<Either<String, Null>>,
    /// Declared destructive (drops or rewrites data): refused unless allowed.
    pub destructive: Option<Either<bool, Null>>,
}

/// Steps given as a list, or as a directory of `NNNN_name.sql` files (docs/sql.md).
pub type StepsOrDir = Either<String, Vec<AppMigrationInput>>;

/// The core's steps: the list converted, or the directory read.
pub fn steps(s: &StepsOrDir) -> Result<Vec<resonance::AppMigration>> {
    match s {
        Either::A(dir) => guard(|| resonance::app_migrate::load_dir(std::path::Path::new(dir))),
        Either::B(list) => list
            .iter()
            .map(|m| {
                let d = resonance::AppMigration::default();
                Ok(resonance::AppMigration {
                    version: whole_or_negative(m.version)?,
                    name: m.name.clone(),
                    up: m.up.clone(),
                    down: unless_nullish(&m.down),
                    destructive: unless_nullish(&m.destructive).unwrap_or(d.destructive),
                })
            })
            .collect(),
    }
}

/// A step version: a whole number within ±(2^53 − 1).
fn whole_or_negative(v: f64) -> Result<i64> {
    let m = whole_number(v.abs(), "version", MAX_SAFE)? as i64;
    Ok(if v < 0.0 { -m } else { m })
}

/// How `migrateApp` runs (every field optional; left out: the core's default).
#[napi(object, object_to_js = false)]
#[derive(Default)]
pub struct AppMigrateOptions {
    /// The target version (left out: the newest step); below the newest applied step, the applied
    /// steps above it are undone by their `down` sections, newest first.
    pub to: Option<Either<f64, Null>>,
    /// Return the plan (with its SQL) and change nothing.
    pub dry_run: Option<Either<bool, Null>>,
    /// Allow destructive steps (declared, detected, or any `down`).
    pub allow_destructive: Option<Either<bool, Null>>,
    /// Back up a non-empty database before the first step (default true).
    pub backup: Option<Either<bool, Null>>,
    /// Accept a changed text of an applied step and record its new checksum.
    pub accept_changed: Option<Either<bool, Null>>,
}

impl AppMigrateOptions {
    pub fn to_core(&self) -> Result<resonance::AppMigrateOptions> {
        let d = resonance::AppMigrateOptions::default();
        Ok(resonance::AppMigrateOptions {
            to: match unless_nullish(&self.to) {
                Some(v) => Some(whole_or_negative(v)?),
                None => d.to,
            },
            dry_run: unless_nullish(&self.dry_run).unwrap_or(d.dry_run),
            allow_destructive: unless_nullish(&self.allow_destructive)
                .unwrap_or(d.allow_destructive),
            no_backup: unless_nullish(&self.backup).map_or(d.no_backup, |b| !b),
            accept_changed: unless_nullish(&self.accept_changed).unwrap_or(d.accept_changed),
        })
    }
}

/// One step of a migration plan.
#[napi(object, object_from_js = false)]
pub struct AppPlannedStep {
    /// The step's version.
    pub version: i64,
    /// The step's name.
    pub name: String,
    /// `"up"` or `"down"`.
    pub direction: String,
    /// The SQL that runs.
    pub sql: String,
    /// Whether it is destructive (declared, or a `down`).
    pub destructive: bool,
}

/// What `migrateApp` did (or, for a dry run, would do).
#[napi(object, object_from_js = false, use_nullable = true)]
pub struct AppMigrationReport {
    /// The namespace.
    pub namespace: String,
    /// Whether this was a dry run.
    pub dry_run: bool,
    /// The steps run (or planned), in order.
    pub steps: Vec<AppPlannedStep>,
    /// The backup taken first, if any.
    pub backup: Option<String>,
    /// Applied steps whose changed text was accepted.
    pub accepted_changes: Vec<i64>,
}

impl From<resonance::AppMigrationReport> for AppMigrationReport {
    fn from(r: resonance::AppMigrationReport) -> Self {
        AppMigrationReport {
            namespace: r.namespace,
            dry_run: r.dry_run,
            steps: r
                .steps
                .into_iter()
                .map(|s| AppPlannedStep {
                    version: s.version,
                    name: s.name,
                    direction: match s.direction {
                        resonance::AppDirection::Up => "up",
                        resonance::AppDirection::Down => "down",
                    }
                    .to_string(),
                    sql: s.sql,
                    destructive: s.destructive,
                })
                .collect(),
            backup: r.backup.map(|p| p.display().to_string()),
            accepted_changes: r.accepted_changes,
        }
    }
}

/// An applied step, from the ledger.
#[napi(object, object_from_js = false)]
pub struct AppliedStep {
    /// The version.
    pub version: i64,
    /// The name recorded when it was applied.
    pub name: String,
    /// The checksum recorded (sha256 of its `up` SQL).
    pub checksum: String,
    /// When it was applied (UTC, ISO 8601).
    pub applied_at: String,
}

/// A step given but not applied yet.
#[napi(object, object_from_js = false)]
pub struct PendingStep {
    /// The version.
    pub version: i64,
    /// The name.
    pub name: String,
}

/// Applied and pending steps of one namespace.
#[napi(object, object_from_js = false)]
pub struct AppMigrationStatus {
    /// The namespace.
    pub namespace: String,
    /// Steps in the ledger, by version.
    pub applied: Vec<AppliedStep>,
    /// Steps given and not applied yet.
    pub pending: Vec<PendingStep>,
}

impl From<resonance::AppMigrationStatus> for AppMigrationStatus {
    fn from(s: resonance::AppMigrationStatus) -> Self {
        AppMigrationStatus {
            namespace: s.namespace,
            applied: s
                .applied
                .into_iter()
                .map(|a| AppliedStep {
                    version: a.version,
                    name: a.name,
                    checksum: a.checksum,
                    applied_at: a.applied_at,
                })
                .collect(),
            pending: s
                .pending
                .into_iter()
                .map(|(version, name)| PendingStep { version, name })
                .collect(),
        }
    }
}
