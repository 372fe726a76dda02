//! Application SQL on the engine's one hardened connection (docs/sql.md): [`Database::execute`],
//! [`Database::query`], [`Database::query_row`], [`Database::execute_many`] and
//! [`Database::execute_batch`], with positional (`?`, `?NNN`) and named (`:a`, `@a`, `$a`) parameters
//! and values that cross without loss ([`Value`]).
//!
//! Statements compile under the authorizer's application mode (`authorizer`), are cached by SQL text
//! (an LRU the size of [`OpenOptions::statement_cache_size`](crate::OpenOptions)), join the handle's
//! explicit transaction when one is open, and otherwise run a writing statement in its own
//! `BEGIN IMMEDIATE` transaction. This module must not decide what is allowed (that is the
//! authorizer's) nor touch the caches except to drop them after a permitted write to `nodes`/`edges`.
//!
//! ```no_run
//! use resonance::{AppMigrateOptions, Database, Params, Value};
//!
//! let db = Database::open("memory.db")?;
//! let steps = resonance::app_migrate::load_dir(std::path::Path::new("migrations"))?;
//! db.migrate_app("myapp", &steps, &AppMigrateOptions::default())?;
//! db.transaction(|db| {
//!     db.upsert_node(&resonance::NodeInput::new("docs-readme"))?;
//!     db.execute(
//!         "INSERT INTO users (email) VALUES (?)",
//!         &Params::Positional(vec!["a@b.c".into()]),
//!     )?;
//!     Ok(())
//! })?;
//! let row = db
//!     .query_row("SELECT count(*) AS n FROM users", &Params::default())?
//!     .unwrap();
//! assert_eq!(row.get("n"), Some(&Value::Integer(1)));
//! # Ok::<(), resonance::Error>(())
//! ```

use std::collections::HashMap;
use std::ffi::c_int;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicUsize, Ordering};

use rusqlite::fallible_iterator::FallibleIterator as _;
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{ffi, Connection, Statement, StatementStatus};

use crate::authorizer::{Mode, Policy, TOUCH_EDGES, TOUCH_NODES};
use crate::db::{State, TxGuard};
use crate::error::{Error, Result};
use crate::Database;

/// A SQLite value, as stored: nothing is converted on the way in or out.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Value {
    /// SQL `NULL`.
    #[default]
    Null,
    /// A 64-bit integer.
    Integer(i64),
    /// A 64-bit float.
    Real(f64),
    /// UTF-8 text.
    Text(String),
    /// Bytes.
    Blob(Vec<u8>),
}

impl From<i64> for Value {
    fn from(v: i64) -> Value {
        Value::Integer(v)
    }
}
impl From<f64> for Value {
    fn from(v: f64) -> Value {
        Value::Real(v)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Value {
        Value::Text(v.to_owned())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Value {
        Value::Text(v)
    }
}
impl From<Vec<u8>> for Value {
    fn from(v: Vec<u8>) -> Value {
        Value::Blob(v)
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Value {
        v.map_or(Value::Null, Into::into)
    }
}

impl Value {
    fn as_sql(&self) -> ToSqlOutput<'_> {
        ToSqlOutput::Borrowed(match self {
            Value::Null => ValueRef::Null,
            Value::Integer(i) => ValueRef::Integer(*i),
            Value::Real(f) => ValueRef::Real(*f),
            Value::Text(s) => ValueRef::Text(s.as_bytes()),
            Value::Blob(b) => ValueRef::Blob(b),
        })
    }
}

/// The parameters of one statement: by position (`?`, `?NNN`: the first value is `?1`) or by name
/// (`:a`, `@a`, `$a`; a name may be given with or without its prefix character).
#[derive(Debug, Clone, PartialEq)]
pub enum Params {
    /// Values for `?1`, `?2`, …; their number must be the statement's parameter count.
    Positional(Vec<Value>),
    /// Values by name; every named parameter of the statement must be given (others are ignored).
    Named(Vec<(String, Value)>),
}

impl Default for Params {
    fn default() -> Params {
        Params::Positional(Vec::new())
    }
}

impl From<Vec<Value>> for Params {
    fn from(v: Vec<Value>) -> Params {
        Params::Positional(v)
    }
}

/// What a writing statement did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ExecuteResult {
    /// Rows inserted, updated or deleted by the statement (0 for a statement that only reads;
    /// summed over every run for [`Database::execute_many`]).
    pub changes: u64,
    /// The connection's last inserted rowid (`sqlite3_last_insert_rowid`) after the statement.
    pub last_insert_rowid: i64,
}

/// The rows of a query and the names of its columns.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Rows {
    /// Column names, in order.
    pub columns: Vec<String>,
    /// Each row's values, in column order.
    pub rows: Vec<Vec<Value>>,
}

/// One row of a query with the names of its columns.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Row {
    /// Column names, in order.
    pub columns: Vec<String>,
    /// The values, in column order.
    pub values: Vec<Value>,
}

impl Row {
    /// The value of the first column named `name` (as SQLite names it), if any.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.columns
            .iter()
            .position(|c| c == name)
            .map(|i| &self.values[i])
    }
}

/// One result column of a statement, as SQLite describes it (better-sqlite3's `columns()`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ColumnInfo {
    /// The column's name in the result.
    pub name: String,
    /// The table column it comes from, when it is one (not an expression).
    pub column: Option<String>,
    /// That column's table.
    pub table: Option<String>,
    /// That table's database (`main`, `temp`).
    pub database: Option<String>,
    /// That column's declared type.
    pub decl_type: Option<String>,
}

/// What a statement is, found by compiling it without running it ([`Database::describe`]).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StatementInfo {
    /// Its result columns (empty for a statement that returns no rows).
    pub columns: Vec<ColumnInfo>,
    /// How many parameters it takes (the largest `?NNN`).
    pub parameter_count: usize,
    /// Each parameter's name with its prefix (`:a`), or `None` for a positional `?`.
    pub parameter_names: Vec<Option<String>>,
    /// Whether it only reads (`sqlite3_stmt_readonly`).
    pub readonly: bool,
    /// Whether it returns rows (has result columns).
    pub returns_rows: bool,
}

/// An application statement a binding keeps (its `prepare`, [`Database::prepare_sql`]): the SQL, the
/// column names its last run returned, and its own compiled statement, kept by the handle (no cache
/// lookup per run; finalized when the `PreparedSql` is dropped, at the next call on the handle, or
/// when the handle closes). Runs through [`Database::run_prepared`] (and
/// [`Database::execute_prepared`], [`Database::query_prepared`]) under the same rules as
/// [`Database::execute`] and [`Database::query`]: it was compiled under the authorizer's application
/// mode, every run (and so every recompilation SQLite makes after a schema change) happens in that
/// mode, and the transaction rule is decided per run.
#[derive(Debug)]
pub struct PreparedSql {
    key: String,
    columns: std::sync::Mutex<Vec<String>>,
    /// Its compiled statement in the handle's [`Owned`] slots.
    slot: usize,
    /// The handle's queue of dropped statements (also what identifies the handle).
    released: std::sync::Arc<Released>,
}

impl Drop for PreparedSql {
    fn drop(&mut self) {
        // Finalized under the handle's lock by its next call (a drop may happen on any thread,
        // while another holds the lock).
        self.released
            .slots
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(self.slot);
        self.released.count.fetch_add(1, Ordering::Release);
    }
}

/// Slots of dropped [`PreparedSql`]s, waiting for the handle's lock to be finalized.
#[derive(Debug, Default)]
pub(crate) struct Released {
    count: AtomicUsize,
    slots: std::sync::Mutex<Vec<usize>>,
}

/// One compiled statement a [`PreparedSql`] owns.
struct OwnedStmt {
    stmt: NonNull<ffi::sqlite3_stmt>,
    /// Which engine tables it writes (seen by the authorizer when it compiled; 0 on a handle that
    /// does not allow engine writes).
    touches: u8,
    /// SQLite's count of its automatic recompilations when its column names were last compared.
    reprepares: i32,
}

/// The compiled statements of a handle's [`PreparedSql`]s. Used only by the thread holding the
/// handle's lock (the connection is in SQLite's multi-thread mode); finalized before the connection
/// closes (`Database::close`, and this field's place first in `State` for any other drop).
#[derive(Default)]
pub(crate) struct Owned {
    slots: Vec<Option<OwnedStmt>>,
    free: Vec<usize>,
}

// SAFETY: the statements are only touched under the handle's lock (see `Owned`).
unsafe impl Send for Owned {}

impl Owned {
    fn insert(&mut self, s: OwnedStmt) -> usize {
        match self.free.pop() {
            Some(i) => {
                self.slots[i] = Some(s);
                i
            }
            None => {
                self.slots.push(Some(s));
                self.slots.len() - 1
            }
        }
    }

    fn finalize(&mut self, slot: usize) {
        if let Some(s) = self.slots.get_mut(slot).and_then(Option::take) {
            // SAFETY: a statement of this connection, finalized once (its slot is now empty).
            unsafe { ffi::sqlite3_finalize(s.stmt.as_ptr()) };
            self.free.push(slot);
        }
    }

    /// Finalizes every statement (before the connection closes).
    pub(crate) fn finalize_all(&mut self) {
        for i in 0..self.slots.len() {
            self.finalize(i);
        }
        self.slots.clear();
        self.free.clear();
    }

    /// Finalizes the statements of dropped [`PreparedSql`]s.
    fn drain(&mut self, released: &Released) {
        if released.count.load(Ordering::Acquire) == 0 {
            return;
        }
        let slots = std::mem::take(&mut *released.slots.lock().unwrap_or_else(|e| e.into_inner()));
        released.count.fetch_sub(slots.len(), Ordering::AcqRel);
        for slot in slots {
            self.finalize(slot);
        }
    }
}

impl Drop for Owned {
    fn drop(&mut self) {
        self.finalize_all();
    }
}

impl std::fmt::Debug for Owned {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Owned")
            .field("live", &self.slots.iter().filter(|s| s.is_some()).count())
            .finish()
    }
}

impl PreparedSql {
    /// The SQL text.
    pub fn sql(&self) -> &str {
        &self.key[APP_KEY_PREFIX.len()..]
    }

    /// The column names its last run (or its description) returned.
    pub fn columns(&self) -> Vec<String> {
        self.columns
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// What one [`Database::run_prepared`] did.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PreparedRun {
    /// Rows changed and the last inserted rowid (as [`Database::execute`] reports them).
    pub result: ExecuteResult,
    /// The column names, when they differ from the ones the previous run (or the description)
    /// returned: a `SELECT *` recompiled after its table changed.
    pub renamed: Option<Vec<String>>,
}

/// A value of a row, borrowed from SQLite ([`SqlRow::get`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SqlCell<'a> {
    /// `NULL`.
    Null,
    /// An INTEGER.
    Integer(i64),
    /// A REAL.
    Real(f64),
    /// TEXT (checked to be UTF-8).
    Text(&'a str),
    /// A BLOB.
    Blob(&'a [u8]),
}

/// The parameters of a [`Database::run_prepared`] run, bound one by one (1-based, as in SQLite).
pub struct SqlBinder<'s> {
    stmt: *mut ffi::sqlite3_stmt,
    count: usize,
    _run: std::marker::PhantomData<&'s ()>,
}

impl SqlBinder<'_> {
    /// How many parameters the statement takes (the largest `?NNN`).
    pub fn parameter_count(&self) -> usize {
        self.count
    }

    /// Parameter `i`'s name with its prefix (`:a`), `None` for a positional `?`.
    pub fn parameter_name(&self, i: usize) -> Option<&str> {
        let i = c_int::try_from(i).ok()?;
        // SAFETY: a live statement; SQLite's name lives as long as the statement.
        let p = unsafe { ffi::sqlite3_bind_parameter_name(self.stmt, i) };
        if p.is_null() {
            return None;
        }
        unsafe { std::ffi::CStr::from_ptr(p) }.to_str().ok()
    }

    /// `NULL` for parameter `i`.
    pub fn null(&mut self, i: usize) -> Result<()> {
        self.check(i, |s, i| unsafe { ffi::sqlite3_bind_null(s, i) })
    }

    /// An INTEGER for parameter `i`.
    pub fn integer(&mut self, i: usize, v: i64) -> Result<()> {
        self.check(i, |s, i| unsafe { ffi::sqlite3_bind_int64(s, i, v) })
    }

    /// A REAL for parameter `i`.
    pub fn real(&mut self, i: usize, v: f64) -> Result<()> {
        self.check(i, |s, i| unsafe { ffi::sqlite3_bind_double(s, i, v) })
    }

    /// TEXT for parameter `i` (copied by SQLite).
    pub fn text(&mut self, i: usize, v: &str) -> Result<()> {
        let p = if v.is_empty() {
            c"".as_ptr()
        } else {
            v.as_ptr().cast()
        };
        self.check(i, |s, i| unsafe {
            ffi::sqlite3_bind_text64(
                s,
                i,
                p,
                v.len() as u64,
                ffi::SQLITE_TRANSIENT(),
                ffi::SQLITE_UTF8 as u8,
            )
        })
    }

    /// A BLOB for parameter `i` (copied by SQLite; an empty one is an empty BLOB, not `NULL`).
    pub fn blob(&mut self, i: usize, v: &[u8]) -> Result<()> {
        if v.is_empty() {
            return self.check(i, |s, i| unsafe { ffi::sqlite3_bind_zeroblob(s, i, 0) });
        }
        self.check(i, |s, i| unsafe {
            ffi::sqlite3_bind_blob64(
                s,
                i,
                v.as_ptr().cast(),
                v.len() as u64,
                ffi::SQLITE_TRANSIENT(),
            )
        })
    }

    /// A [`Value`] for parameter `i`.
    pub fn value(&mut self, i: usize, v: &Value) -> Result<()> {
        match v {
            Value::Null => self.null(i),
            Value::Integer(n) => self.integer(i, *n),
            Value::Real(f) => self.real(i, *f),
            Value::Text(s) => self.text(i, s),
            Value::Blob(b) => self.blob(i, b),
        }
    }

    fn check(
        &mut self,
        i: usize,
        f: impl FnOnce(*mut ffi::sqlite3_stmt, c_int) -> c_int,
    ) -> Result<()> {
        let rc = match c_int::try_from(i) {
            Ok(n) if (1..=self.count).contains(&i) => f(self.stmt, n),
            _ => ffi::SQLITE_RANGE,
        };
        if rc == ffi::SQLITE_OK {
            return Ok(());
        }
        // SAFETY: the statement's connection.
        let e = unsafe { sqlite_error(ffi::sqlite3_db_handle(self.stmt), rc) };
        Err(Error::sqlite(e, format_args!("binding parameter {i}")))
    }
}

/// The current row of a [`Database::run_prepared`] run.
pub struct SqlRow<'s> {
    stmt: *mut ffi::sqlite3_stmt,
    _run: std::marker::PhantomData<&'s ()>,
}

impl SqlRow<'_> {
    /// How many columns the row has (a statement SQLite recompiled after a schema change has its
    /// new columns).
    pub fn column_count(&self) -> usize {
        // SAFETY: a live statement on a row.
        unsafe { ffi::sqlite3_column_count(self.stmt) }.max(0) as usize
    }

    /// Column `i`'s name (`"?"` when SQLite has none).
    pub fn column_name(&self, i: usize) -> &str {
        let p = unsafe { ffi::sqlite3_column_name(self.stmt, i as c_int) };
        if p.is_null() {
            return "?";
        }
        unsafe { std::ffi::CStr::from_ptr(p) }
            .to_str()
            .unwrap_or("?")
    }

    /// Column `i`'s value (`i` below [`SqlRow::column_count`]); text that is not UTF-8 is refused
    /// (`corrupt`) rather than altered.
    pub fn get(&self, i: usize) -> Result<SqlCell<'_>> {
        let (s, c) = (self.stmt, i as c_int);
        // SAFETY: a live statement on a row; the pointers SQLite returns live until the next step
        // or reset, which this borrow outlives.
        Ok(unsafe {
            match ffi::sqlite3_column_type(s, c) {
                ffi::SQLITE_NULL => SqlCell::Null,
                ffi::SQLITE_INTEGER => SqlCell::Integer(ffi::sqlite3_column_int64(s, c)),
                ffi::SQLITE_FLOAT => SqlCell::Real(ffi::sqlite3_column_double(s, c)),
                ffi::SQLITE_TEXT => {
                    let p = ffi::sqlite3_column_text(s, c);
                    let n = ffi::sqlite3_column_bytes(s, c).max(0) as usize;
                    let b = if p.is_null() || n == 0 {
                        &[][..]
                    } else {
                        std::slice::from_raw_parts(p, n)
                    };
                    match std::str::from_utf8(b) {
                        Ok(t) => SqlCell::Text(t),
                        Err(_) => return Err(not_utf8(self.column_name(i))),
                    }
                }
                _ => {
                    let p = ffi::sqlite3_column_blob(s, c);
                    let n = ffi::sqlite3_column_bytes(s, c).max(0) as usize;
                    SqlCell::Blob(if p.is_null() || n == 0 {
                        &[][..]
                    } else {
                        std::slice::from_raw_parts(p.cast(), n)
                    })
                }
            }
        })
    }
}

/// SQLite's error `rc` on `db`, with its message.
unsafe fn sqlite_error(db: *mut ffi::sqlite3, rc: c_int) -> rusqlite::Error {
    let msg = if db.is_null() {
        None
    } else {
        let p = unsafe { ffi::sqlite3_errmsg(db) };
        (!p.is_null()).then(|| {
            unsafe { std::ffi::CStr::from_ptr(p) }
                .to_string_lossy()
                .into_owned()
        })
    };
    rusqlite::Error::SqliteFailure(ffi::Error::new(rc), msg)
}

/// Resets a statement when a run ends, however it ends (so no run leaves a read transaction open).
struct ResetOnDrop(*mut ffi::sqlite3_stmt);

impl Drop for ResetOnDrop {
    fn drop(&mut self) {
        // SAFETY: a live statement (finalized only under the lock this run holds).
        unsafe { ffi::sqlite3_reset(self.0) };
    }
}

/// The rows of a [`Database::query_prepared`] run.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PreparedRows {
    /// Each row's values, in column order.
    pub rows: Vec<Vec<Value>>,
    /// The column names, when they differ from the ones the previous run (or the description)
    /// returned: a `SELECT *` recompiled after its table changed.
    pub renamed: Option<Vec<String>>,
}

/// Counters of the application statement cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SqlStats {
    /// Application statements compiled (`sqlite3_prepare`): a cache miss.
    pub prepared: u64,
    /// Application statements taken from the cache already compiled.
    pub reused: u64,
}

/// What the handle keeps for application SQL.
#[derive(Debug, Default)]
pub(crate) struct SqlState {
    /// Which engine tables each cached statement writes (seen by the authorizer when it compiled),
    /// so a statement taken from the cache still drops the caches it must.
    touches: HashMap<String, u8>,
    stats: SqlStats,
}

/// At most this many statements' touch bits are remembered; past it the statement cache is
/// flushed with them, so every statement is compiled (and its bits seen) again.
const MAX_REMEMBERED: usize = 4096;

/// Application statements are cached under their text behind this comment, so they never share a
/// compiled statement with the engine's own SQL (which compiles with every permission).
const APP_KEY_PREFIX: &str = "/* resonance: application */ ";

fn app_key(sql: &str) -> String {
    let mut key = String::with_capacity(APP_KEY_PREFIX.len() + sql.len());
    key.push_str(APP_KEY_PREFIX);
    key.push_str(sql);
    key
}

/// The error for a statement that failed to compile: the authorizer's refusal, or SQLite's message.
fn compile_error(policy: &Policy, e: rusqlite::Error) -> Error {
    crate::authorizer::take_thread_refusal();
    match policy.take_refusal() {
        Some(why) => Error::InvalidArgument(why),
        None => match e {
            rusqlite::Error::MultipleStatement => Error::InvalidArgument(
                "the SQL holds more than one statement: run a script with execute_batch".into(),
            ),
            e => Error::sqlite(e, "compiling SQL"),
        },
    }
}

/// Binds `params` to `stmt` (its previous bindings are cleared).
fn bind(stmt: &mut Statement<'_>, params: &Params) -> Result<()> {
    stmt.clear_bindings();
    bind_with(stmt, params)
}

/// What binding needs of a statement: the one rule of [`bind_with`] binds through a rusqlite
/// [`Statement`] (the general path) and a [`SqlBinder`] ([`Database::run_prepared`]).
trait ParamSink {
    /// How many parameters the statement takes.
    fn count(&self) -> usize;
    /// Parameter `i`'s name with its prefix, `None` for a positional `?`.
    fn name(&self, i: usize) -> Option<String>;
    /// Binds `v` to parameter `i` (1-based); `name` is the parameter's name when bound by name.
    fn put(&mut self, i: usize, v: &Value, name: Option<&str>) -> Result<()>;
}

impl ParamSink for Statement<'_> {
    fn count(&self) -> usize {
        self.parameter_count()
    }

    fn name(&self, i: usize) -> Option<String> {
        self.parameter_name(i).map(str::to_owned)
    }

    fn put(&mut self, i: usize, v: &Value, name: Option<&str>) -> Result<()> {
        self.raw_bind_parameter(i, v.as_sql())
            .map_err(|e| match name {
                Some(name) => Error::sqlite(e, format_args!("binding {name}")),
                None => Error::sqlite(e, format_args!("binding parameter {i}")),
            })
    }
}

impl ParamSink for SqlBinder<'_> {
    fn count(&self) -> usize {
        self.parameter_count()
    }

    fn name(&self, i: usize) -> Option<String> {
        self.parameter_name(i).map(str::to_owned)
    }

    fn put(&mut self, i: usize, v: &Value, name: Option<&str>) -> Result<()> {
        let r = self.value(i, v);
        match name {
            Some(name) => r.map_err(|e| e.context(format_args!("binding {name}"))),
            None => r,
        }
    }
}

/// Binds `params` through `sink`: positional values must match the parameter count; named values
/// (their `:`, `@` or `$` prefix optional) must name every parameter of a statement whose
/// parameters all have names.
fn bind_with(sink: &mut impl ParamSink, params: &Params) -> Result<()> {
    let count = sink.count();
    match params {
        Params::Positional(values) => {
            if values.len() != count {
                return Err(Error::InvalidArgument(format!(
                    "the statement has {count} parameter(s), {} value(s) given",
                    values.len()
                )));
            }
            for (i, v) in values.iter().enumerate() {
                sink.put(i + 1, v, None)?;
            }
        }
        Params::Named(pairs) => {
            let strip =
                |n: &str| -> String { n.strip_prefix([':', '@', '$']).unwrap_or(n).to_owned() };
            let given: HashMap<String, &Value> = pairs.iter().map(|(k, v)| (strip(k), v)).collect();
            for i in 1..=count {
                let Some(name) = sink.name(i) else {
                    return Err(Error::InvalidArgument(format!(
                        "parameter {i} of the statement is positional (?): give the values by position"
                    )));
                };
                let Some(v) = given.get(&strip(&name)) else {
                    return Err(Error::InvalidArgument(format!(
                        "no value given for the named parameter {name}"
                    )));
                };
                sink.put(i, v, Some(&name))?;
            }
        }
    }
    Ok(())
}

/// A stored value as a [`Value`]; text that is not UTF-8 is refused rather than altered (`column`
/// names it: asked for only then).
fn value<'c>(v: ValueRef<'_>, column: impl FnOnce() -> &'c str) -> Result<Value> {
    Ok(match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::Integer(i),
        ValueRef::Real(f) => Value::Real(f),
        ValueRef::Text(t) => Value::Text(match std::str::from_utf8(t) {
            Ok(s) => s.to_owned(),
            Err(_) => return Err(not_utf8(column())),
        }),
        ValueRef::Blob(b) => Value::Blob(b.to_vec()),
    })
}

/// The error for a column holding text that is not UTF-8.
fn not_utf8(column: &str) -> Error {
    Error::Corrupt(format!(
        "column {column:?} holds text that is not UTF-8: select CAST({column} AS BLOB) to read its bytes"
    ))
}

/// Runs a bound statement to its end, collecting up to `limit` rows when `rows` is given. The
/// column count is read from each row: a statement SQLite re-compiled after a schema change (a
/// `SELECT *` over an altered table) has its new columns.
fn run(
    stmt: &mut Statement<'_>,
    mut rows: Option<&mut Vec<Vec<Value>>>,
    limit: usize,
) -> Result<()> {
    let mut q = stmt.raw_query();
    while let Some(r) = q.next().map_err(|e| Error::sqlite(e, "running SQL"))? {
        if let Some(out) = rows.as_deref_mut() {
            if out.len() < limit {
                let n = r.as_ref().column_count();
                let mut values = Vec::with_capacity(n);
                for i in 0..n {
                    let v = r
                        .get_ref(i)
                        .map_err(|e| Error::sqlite(e, "reading a column"))?;
                    values.push(value(v, || r.as_ref().column_name(i).unwrap_or("?"))?);
                }
                out.push(values);
            }
        }
    }
    Ok(())
}

/// Runs every statement of `script` in order, each compiled under the authorizer's `mode`; an error
/// names the statement's number (1-based).
pub(crate) fn run_script(
    conn: &Connection,
    policy: &Policy,
    mode: Mode,
    script: &str,
) -> Result<()> {
    let mut batch = rusqlite::Batch::new(conn, script);
    let mut n = 0usize;
    loop {
        let next = {
            let _m = policy.enter(mode);
            batch.next()
        };
        match next {
            Ok(Some(mut stmt)) => {
                n += 1;
                let _m = policy.enter(mode);
                run(&mut stmt, None, 0).map_err(|e| e.context(format_args!("statement {n}")))?;
            }
            Ok(None) => return Ok(()),
            Err(e) => {
                return Err(compile_error(policy, e).context(format_args!("statement {}", n + 1)))
            }
        }
    }
}

/// The statement's column names (read after it ran: see [`run`]).
fn column_names(stmt: &Statement<'_>) -> Vec<String> {
    stmt.column_names().into_iter().map(String::from).collect()
}

/// The statement's column names when they differ from the ones `p` last returned (which become
/// them).
fn renamed_columns(stmt: *mut ffi::sqlite3_stmt, p: &PreparedSql) -> Option<Vec<String>> {
    // SAFETY: a live statement, under the handle's lock.
    let n = unsafe { ffi::sqlite3_column_count(stmt) }.max(0) as usize;
    let name = |i: usize| {
        let c = unsafe { ffi::sqlite3_column_name(stmt, i as c_int) };
        if c.is_null() {
            String::new()
        } else {
            unsafe { std::ffi::CStr::from_ptr(c) }
                .to_string_lossy()
                .into_owned()
        }
    };
    let names: Vec<String> = (0..n).map(name).collect();
    let mut last = p.columns.lock().unwrap_or_else(|e| e.into_inner());
    if *last == names {
        return None;
    }
    *last = names.clone();
    Some(names)
}

impl Database {
    /// Runs one statement with `params` and reports the rows it changed. A statement that returns
    /// rows runs to its end and its rows are dropped. See [`Database::query`] for the rules.
    pub fn execute(&self, sql: &str, params: &Params) -> Result<ExecuteResult> {
        self.app_statement(sql, |conn, stmt, writes| {
            bind(stmt, params)?;
            run(stmt, None, 0)?;
            Ok(ExecuteResult {
                changes: if writes { conn.changes() } else { 0 },
                last_insert_rowid: conn.last_insert_rowid(),
            })
        })
    }

    /// Runs one statement with each set of parameters in turn, compiled once, all in one
    /// transaction (the handle's explicit one, or its own `BEGIN IMMEDIATE`): every run or none.
    pub fn execute_many(&self, sql: &str, params: &[Params]) -> Result<ExecuteResult> {
        self.app_statement(sql, |conn, stmt, writes| {
            let mut changes = 0;
            for (i, p) in params.iter().enumerate() {
                bind(stmt, p).map_err(|e| e.context(format_args!("parameter set {i}")))?;
                run(stmt, None, 0).map_err(|e| e.context(format_args!("parameter set {i}")))?;
                if writes {
                    changes += conn.changes();
                }
            }
            Ok(ExecuteResult {
                changes,
                last_insert_rowid: conn.last_insert_rowid(),
            })
        })
    }

    /// Runs one statement and returns its rows with their column names.
    ///
    /// The statement compiles under the authorizer (docs/sql.md): DDL on the engine's tables, writes
    /// to `nodes`/`edges`/`history` (unless the handle allows them), `ATTACH`, extension loading,
    /// transaction statements and PRAGMAs that would change the connection canon are refused with
    /// `invalid_argument`; a write on a read-only handle is `readonly`. Inside the handle's explicit
    /// transaction the statement joins it; otherwise a writing statement runs in its own
    /// `BEGIN IMMEDIATE` transaction.
    pub fn query(&self, sql: &str, params: &Params) -> Result<Rows> {
        self.app_statement(sql, |_, stmt, _| {
            bind(stmt, params)?;
            let mut rows = Vec::new();
            run(stmt, Some(&mut rows), usize::MAX)?;
            Ok(Rows {
                columns: column_names(stmt),
                rows,
            })
        })
    }

    /// The first row of a query, or `None` when it returns no row (the statement still runs to its
    /// end, so a writing statement with `RETURNING` changes every row it matches).
    pub fn query_row(&self, sql: &str, params: &Params) -> Result<Option<Row>> {
        self.app_statement(sql, |_, stmt, _| {
            bind(stmt, params)?;
            let mut rows = Vec::new();
            run(stmt, Some(&mut rows), 1)?;
            Ok(rows.pop().map(|values| Row {
                columns: column_names(stmt),
                values,
            }))
        })
    }

    /// Runs a script of several statements (no parameters) as one unit: inside the handle's
    /// explicit transaction (as a savepoint: a failing statement undoes the script's earlier ones),
    /// or in its own `BEGIN IMMEDIATE` transaction. Each statement compiles under the authorizer.
    pub fn execute_batch(&self, script: &str) -> Result<()> {
        self.check_open()?;
        if !self.is_read_only() {
            self.check_writable("execute_batch")?;
        }
        let read_only = self.is_read_only();
        self.with_state(|s| {
            let policy = s.policy.clone();
            policy.take_touched();
            let in_tx = s.tx.is_some();
            let r = {
                let conn = &s.conn;
                let guard = if read_only {
                    None
                } else if in_tx {
                    Some(
                        TxGuard::begin(
                            conn,
                            "SAVEPOINT resonance_sql",
                            "ROLLBACK TO resonance_sql; RELEASE resonance_sql",
                        )
                        .map_err(|e| Error::sqlite(e, "beginning a savepoint"))?,
                    )
                } else {
                    let tx = TxGuard::begin(conn, "BEGIN IMMEDIATE", "ROLLBACK")
                        .map_err(|e| Error::sqlite(e, "beginning a write transaction"))?;
                    s.triggers.sync(conn, &policy)?;
                    Some(tx)
                };
                let out = run_script(conn, &policy, Mode::App, script)
                    .map_err(|e| e.context("the script"));
                match (out, guard) {
                    (Ok(()), Some(g)) => g
                        .finish(if in_tx {
                            "RELEASE resonance_sql"
                        } else {
                            "COMMIT"
                        })
                        .map_err(|e| Error::sqlite(e, "committing the script")),
                    (r, _) => r,
                }
            };
            after_app_write(s, &policy, 0);
            r
        })
    }

    /// Compiles `sql` (under the same rules as [`Database::query`], and into the same cache) without
    /// running it, and describes it: a binding's `prepare` reports errors at once this way.
    pub fn describe(&self, sql: &str) -> Result<StatementInfo> {
        self.check_open()?;
        if sql.trim().is_empty() {
            return Err(Error::InvalidArgument("the SQL is empty".into()));
        }
        let key = app_key(sql);
        self.with_state(|s| {
            let policy = s.policy.clone();
            let stmt = {
                let _app = policy.enter(Mode::App);
                s.conn
                    .prepare_cached(&key)
                    .map_err(|e| compile_error(&policy, e))?
            };
            if stmt.parameter_count() == 0
                && stmt.column_count() == 0
                && stmt.expanded_sql().is_none()
            {
                return Err(Error::InvalidArgument("the SQL holds no statement".into()));
            }
            // What the authorizer saw is kept for the runs (see `app_statement`).
            let fresh = policy.take_touched();
            if fresh != 0 && policy.allows_engine_writes() {
                s.sql.touches.insert(key.clone(), fresh);
            }
            let decl: Vec<Option<String>> = stmt
                .columns()
                .iter()
                .map(|c| c.decl_type().map(str::to_owned))
                .collect();
            let columns = stmt
                .columns_with_metadata()
                .iter()
                .zip(decl)
                .map(|(c, decl_type)| ColumnInfo {
                    name: c.name().to_owned(),
                    column: c.origin_name().map(str::to_owned),
                    table: c.table_name().map(str::to_owned),
                    database: c.database_name().map(str::to_owned),
                    decl_type,
                })
                .collect::<Vec<_>>();
            let n = stmt.parameter_count();
            Ok(StatementInfo {
                returns_rows: !columns.is_empty(),
                columns,
                parameter_count: n,
                parameter_names: (1..=n)
                    .map(|i| stmt.parameter_name(i).map(str::to_owned))
                    .collect(),
                readonly: stmt.readonly(),
            })
        })
    }

    /// Compiles `sql` as [`Database::describe`] does and returns it as a statement to run many
    /// times ([`Database::run_prepared`], [`Database::execute_prepared`],
    /// [`Database::query_prepared`]) with its description. The statement is compiled a second time
    /// for the `PreparedSql` alone (under the authorizer's application mode, as every compilation
    /// of application SQL).
    pub fn prepare_sql(&self, sql: &str) -> Result<(PreparedSql, StatementInfo)> {
        let info = self.describe(sql)?;
        let columns = info.columns.iter().map(|c| c.name.clone()).collect();
        let slot = self.with_state(|s| {
            s.owned.drain(&self.released);
            let policy = s.policy.clone();
            policy.take_touched();
            let mut stmt = std::ptr::null_mut();
            let rc = {
                let _app = policy.enter(Mode::App);
                let len = c_int::try_from(sql.len())
                    .map_err(|_| Error::InvalidArgument("the SQL is too long".into()))?;
                // SAFETY: the handle's open connection, under its lock; `sql` outlives the call.
                unsafe {
                    ffi::sqlite3_prepare_v3(
                        s.conn.handle(),
                        sql.as_ptr().cast(),
                        len,
                        ffi::SQLITE_PREPARE_PERSISTENT,
                        &mut stmt,
                        std::ptr::null_mut(),
                    )
                }
            };
            if rc != ffi::SQLITE_OK {
                // SAFETY: a failed prepare leaves no statement; the error is the connection's.
                let e = unsafe { sqlite_error(s.conn.handle(), rc) };
                return Err(compile_error(&policy, e));
            }
            let Some(stmt) = NonNull::new(stmt) else {
                return Err(Error::InvalidArgument("the SQL holds no statement".into()));
            };
            let fresh = policy.take_touched();
            Ok(s.owned.insert(OwnedStmt {
                stmt,
                touches: if policy.allows_engine_writes() {
                    fresh
                } else {
                    0
                },
                // Compared with the description's names at the first run.
                reprepares: -1,
            }))
        })?;
        Ok((
            PreparedSql {
                key: app_key(sql),
                columns: std::sync::Mutex::new(columns),
                slot,
                released: self.released.clone(),
            },
            info,
        ))
    }

    /// Runs a prepared statement: `bind` gives its parameters (every one: the previous run's are
    /// not kept), `row` sees each row it returns (it runs to its end). The rules are
    /// [`Database::query`]'s: inside the handle's explicit transaction it joins it; otherwise a
    /// writing statement runs in its own `BEGIN IMMEDIATE` transaction; every run is in the
    /// authorizer's application mode (SQLite recompiles a statement whose schema changed inside
    /// `sqlite3_step`, and the authorizer sees that compilation too).
    pub fn run_prepared(
        &self,
        p: &PreparedSql,
        bind: impl FnOnce(&mut SqlBinder<'_>) -> Result<()>,
        mut row: impl FnMut(&SqlRow<'_>) -> Result<()>,
    ) -> Result<PreparedRun> {
        if !std::sync::Arc::ptr_eq(&p.released, &self.released) {
            return Err(Error::InvalidArgument(
                "the statement was prepared on another handle".into(),
            ));
        }
        self.with_state(|s| {
            // The state's fields borrowed apart (no reference count taken on the policy).
            let State {
                owned,
                conn,
                cache,
                tx,
                policy,
                triggers,
                ..
            } = s;
            owned.drain(&self.released);
            let Some(o) = owned.slots.get(p.slot).and_then(Option::as_ref) else {
                return Err(Error::Internal(
                    "the prepared statement was finalized".into(),
                ));
            };
            let (stmt, touches) = (o.stmt.as_ptr(), o.touches);
            policy.take_touched();
            let in_tx = tx.is_some();
            // SAFETY: a live statement of this connection, used under the handle's lock.
            let writes = unsafe { ffi::sqlite3_stmt_readonly(stmt) } == 0;
            if writes {
                if self.is_read_only() {
                    return Err(Error::Readonly(format!(
                        "a writing statement on a read-only handle of {}",
                        crate::error::show(self.path())
                    )));
                }
                if !in_tx {
                    self.check_writable("a writing SQL statement")?;
                }
            }
            let conn = &*conn;
            let exec = || {
                let _app = policy.enter(Mode::App);
                let _reset = ResetOnDrop(stmt);
                // SAFETY: as above.
                let count = unsafe { ffi::sqlite3_bind_parameter_count(stmt) }.max(0) as usize;
                bind(&mut SqlBinder {
                    stmt,
                    count,
                    _run: std::marker::PhantomData,
                })?;
                loop {
                    // SAFETY: as above.
                    match unsafe { ffi::sqlite3_step(stmt) } {
                        ffi::SQLITE_ROW => row(&SqlRow {
                            stmt,
                            _run: std::marker::PhantomData,
                        })?,
                        ffi::SQLITE_DONE => break,
                        rc => {
                            let e = unsafe { sqlite_error(conn.handle(), rc) };
                            return Err(Error::sqlite(e, "running SQL"));
                        }
                    }
                }
                Ok(ExecuteResult {
                    changes: if writes { conn.changes() } else { 0 },
                    last_insert_rowid: conn.last_insert_rowid(),
                })
            };
            let r = if !writes || in_tx {
                exec()
            } else {
                match TxGuard::begin(conn, "BEGIN IMMEDIATE", "ROLLBACK") {
                    Err(e) => Err(Error::sqlite(e, "beginning a write transaction")),
                    Ok(guard) => match triggers.sync(conn, policy).and_then(|()| exec()) {
                        Ok(v) => guard
                            .finish("COMMIT")
                            .map(|()| v)
                            .map_err(|e| Error::sqlite(e, "committing")),
                        Err(e) => Err(e),
                    },
                }
            };
            // A recompilation inside the run (a schema change) was seen by the authorizer: its
            // bits are this statement's from now on.
            let again = policy.take_touched();
            let mut renamed = None;
            if let Some(o) = owned.slots.get_mut(p.slot).and_then(Option::as_mut) {
                if policy.allows_engine_writes() {
                    o.touches |= again;
                }
                // SAFETY: as above.
                let n =
                    unsafe { ffi::sqlite3_stmt_status(stmt, ffi::SQLITE_STMTSTATUS_REPREPARE, 0) };
                if r.is_ok() && n != o.reprepares {
                    o.reprepares = n;
                    renamed = renamed_columns(stmt, p);
                }
            }
            after_app_write_parts(cache, tx, conn, policy, touches | again);
            r.map(|result| PreparedRun { result, renamed })
        })
    }

    /// [`Database::execute`] of a prepared statement.
    pub fn execute_prepared(&self, p: &PreparedSql, params: &Params) -> Result<ExecuteResult> {
        self.run_prepared(p, |b| bind_with(b, params), |_| Ok(()))
            .map(|r| r.result)
    }

    /// [`Database::query`] of a prepared statement, keeping at most `limit` rows (the statement
    /// still runs to its end); the column names come back only when they changed.
    pub fn query_prepared(
        &self,
        p: &PreparedSql,
        params: &Params,
        limit: usize,
    ) -> Result<PreparedRows> {
        let mut rows = Vec::new();
        let r = self.run_prepared(
            p,
            |b| bind_with(b, params),
            |r| {
                if rows.len() < limit {
                    let n = r.column_count();
                    let mut values = Vec::with_capacity(n);
                    for i in 0..n {
                        values.push(match r.get(i)? {
                            SqlCell::Null => Value::Null,
                            SqlCell::Integer(v) => Value::Integer(v),
                            SqlCell::Real(v) => Value::Real(v),
                            SqlCell::Text(t) => Value::Text(t.to_owned()),
                            SqlCell::Blob(b) => Value::Blob(b.to_vec()),
                        });
                    }
                    rows.push(values);
                }
                Ok(())
            },
        )?;
        Ok(PreparedRows {
            rows,
            renamed: r.renamed,
        })
    }

    /// The application statement cache's counters.
    pub fn sql_stats(&self) -> Result<SqlStats> {
        self.with_state(|s| Ok(s.sql.stats))
    }

    /// Compiles (or takes from the cache) one application statement and runs `f` on it: directly
    /// for a statement that only reads, inside the explicit transaction when one is open, else in its
    /// own `BEGIN IMMEDIATE` transaction. `f` gets whether the statement writes.
    fn app_statement<T>(
        &self,
        sql: &str,
        f: impl FnOnce(&Connection, &mut Statement<'_>, bool) -> Result<T>,
    ) -> Result<T> {
        self.app_statement_keyed(&app_key(sql), f)
    }

    /// [`Database::app_statement`] with the statement's cache key made already.
    fn app_statement_keyed<T>(
        &self,
        key: &str,
        f: impl FnOnce(&Connection, &mut Statement<'_>, bool) -> Result<T>,
    ) -> Result<T> {
        let sql = &key[APP_KEY_PREFIX.len()..];
        // One lock for the whole call: a closed handle is `closed` before anything else.
        self.with_state(|s| {
            if sql.trim().is_empty() {
                return Err(Error::InvalidArgument("the SQL is empty".into()));
            }
            let policy = s.policy.clone();
            policy.take_touched();
            let in_tx = s.tx.is_some();
            let (r, touched) = {
                let conn = &s.conn;
                let mut stmt = {
                    let _app = policy.enter(Mode::App);
                    conn.prepare_cached(key)
                        .map_err(|e| compile_error(&policy, e))?
                };
                // A text of only whitespace and comments compiles to no statement (never cached).
                if stmt.parameter_count() == 0
                    && stmt.column_count() == 0
                    && stmt.expanded_sql().is_none()
                {
                    return Err(Error::InvalidArgument("the SQL holds no statement".into()));
                }
                let compiled = stmt.get_status(StatementStatus::Run) == 0
                    && stmt.get_status(StatementStatus::VmStep) == 0;
                if compiled {
                    s.sql.stats.prepared += 1;
                } else {
                    s.sql.stats.reused += 1;
                }
                let fresh = policy.take_touched();
                let touched = if !policy.allows_engine_writes() {
                    0
                } else if fresh != 0 {
                    if s.sql.touches.len() >= MAX_REMEMBERED {
                        s.sql.touches.clear();
                        // Forgotten bits must be seen again: every statement compiles anew.
                        drop(stmt);
                        conn.flush_prepared_statement_cache();
                        stmt = {
                            let _app = policy.enter(Mode::App);
                            conn.prepare_cached(key)
                                .map_err(|e| compile_error(&policy, e))?
                        };
                        policy.take_touched();
                    }
                    s.sql.touches.insert(key.to_owned(), fresh);
                    fresh
                } else {
                    s.sql.touches.get(key).copied().unwrap_or(0)
                };
                let writes = !stmt.readonly();
                if writes {
                    if self.is_read_only() {
                        return Err(Error::Readonly(format!(
                            "a writing statement on a read-only handle of {}",
                            crate::error::show(self.path())
                        )));
                    }
                    // Inside the explicit transaction its `begin` checked the files already; a
                    // statement of its own checks them once, as every write transaction does.
                    if !in_tx {
                        self.check_writable("a writing SQL statement")?;
                    }
                }
                let r = if !writes || in_tx {
                    let _app = policy.enter(Mode::App);
                    f(conn, &mut stmt, writes)
                } else {
                    match TxGuard::begin(conn, "BEGIN IMMEDIATE", "ROLLBACK") {
                        Err(e) => Err(Error::sqlite(e, "beginning a write transaction")),
                        Ok(tx) => {
                            let out = s.triggers.sync(conn, &policy).and_then(|()| {
                                let _app = policy.enter(Mode::App);
                                f(conn, &mut stmt, writes)
                            });
                            match out {
                                Ok(v) => tx
                                    .finish("COMMIT")
                                    .map(|()| v)
                                    .map_err(|e| Error::sqlite(e, "committing")),
                                Err(e) => Err(e),
                            }
                        }
                    }
                };
                (r, touched)
            };
            after_app_write(s, &policy, touched);
            r
        })
    }
}

/// After application SQL: drop the caches when it wrote `nodes` or `edges` (a handle that allows
/// it), and notice a transaction the statement ended (`INSERT OR ROLLBACK`).
fn after_app_write(s: &mut State, policy: &Policy, touched: u8) {
    after_app_write_parts(&mut s.cache, &mut s.tx, &s.conn, policy, touched);
}

/// [`after_app_write`] on the state's fields (for a caller that has them borrowed apart).
fn after_app_write_parts(
    cache: &mut crate::cache::Caches,
    tx: &mut Option<crate::db::TxState>,
    conn: &Connection,
    policy: &Policy,
    touched: u8,
) {
    let touched = touched | policy.take_touched();
    if touched & (TOUCH_NODES | TOUCH_EDGES) != 0 {
        cache.invalidate();
    }
    if tx.is_some() && conn.is_autocommit() {
        // The statement rolled the explicit transaction back (a conflict clause of ROLLBACK).
        *tx = None;
        cache.invalidate();
    }
}
