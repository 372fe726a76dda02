//! Python bindings of Resonance: the native module `resonance._native`, wrapped by the pure-Python
//! package `resonance` (see `python/resonance/`).
//!
//! Every function here is an adapter of a few lines: convert the arguments while holding the GIL,
//! run the engine call with the GIL released (and panics caught), convert the result. No rule of the
//! engine is re-implemented here.

mod app_migrations;
mod args;
mod convert;
mod database;
mod errors;
mod inputs;
mod sql;
#[cfg(feature = "test-hooks")]
mod test_hooks;
mod types;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::Mutex;

use pyo3::prelude::*;
use resonance::ErrorKind;

/// The text of a caught panic.
fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".into()
    }
}

/// Runs an engine call with the GIL released and panics caught: the one place where engine work
/// happens. A panic becomes `InternalError`, an engine error its class.
pub(crate) fn run<T: Send>(
    py: Python<'_>,
    f: impl FnOnce() -> resonance::Result<T> + Send,
) -> PyResult<T> {
    match py.detach(|| catch_unwind(AssertUnwindSafe(f))) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(errors::to_py(e)),
        Err(p) => Err(errors::new_err(
            ErrorKind::Internal,
            format!("panic inside the engine: {}", panic_message(&*p)),
        )),
    }
}

/// How often a long call waiting for its worker looks at Python's signals.
const SIGNAL_POLL: std::time::Duration = std::time::Duration::from_millis(20);

/// [`run_long`] for a call on `db`, except while this thread holds `db`'s explicit transaction: the
/// call must join it, and a worker thread would wait for the transaction instead, so it runs here (as
/// [`run`]; `db.interrupt()` still stops it, Ctrl-C is seen when it returns).
pub(crate) fn run_long_on<T: Send>(
    py: Python<'_>,
    db: &resonance::Database,
    f: impl FnOnce() -> resonance::Result<T> + Send,
) -> PyResult<T> {
    if db.owns_transaction() {
        run(py, f)
    } else {
        run_long(py, f)
    }
}

/// Runs a long engine call (graph analytics, batch search, bulk writes, migrate, backup) so that Ctrl-C
/// stops it: the work runs on a scoped worker thread under a `CancelToken` while this thread waits with
/// the GIL released, taking it back every 20 ms to run `py.check_signals()`. When a signal handler
/// raises (`KeyboardInterrupt` for SIGINT), the token is cancelled, the worker is waited for (the
/// engine stops within milliseconds and rolls back a write) and the handler's exception is raised; the
/// handle stays usable. Panics and engine errors are mapped as in [`run`].
pub(crate) fn run_long<T: Send>(
    py: Python<'_>,
    f: impl FnOnce() -> resonance::Result<T> + Send,
) -> PyResult<T> {
    let token = resonance::CancelToken::new();
    // Set by the worker when it is done; a Mutex + Condvar (not a channel) so the waiting closure
    // given to `py.detach` is `Send`.
    let done = (Mutex::new(false), std::sync::Condvar::new());
    let (result, signal) = std::thread::scope(|s| {
        let t = token.clone();
        let done = &done;
        let worker = s.spawn(move || {
            let r = catch_unwind(AssertUnwindSafe(|| t.scope(f)));
            *done.0.lock().unwrap_or_else(|p| p.into_inner()) = true;
            done.1.notify_all();
            r
        });
        let mut signal: Option<PyErr> = None;
        loop {
            let finished = py.detach(|| {
                let guard = done.0.lock().unwrap_or_else(|p| p.into_inner());
                let (guard, _) = done
                    .1
                    .wait_timeout_while(guard, SIGNAL_POLL, |d| !*d)
                    .unwrap_or_else(|p| p.into_inner());
                *guard
            });
            if finished {
                break;
            }
            if signal.is_none() {
                if let Err(e) = py.check_signals() {
                    token.cancel();
                    signal = Some(e);
                }
            }
        }
        let result = py.detach(move || worker.join());
        (result, signal)
    });
    if let Some(e) = signal {
        return Err(e);
    }
    match result {
        Ok(Ok(Ok(v))) => Ok(v),
        Ok(Ok(Err(e))) => Err(errors::to_py(e)),
        Ok(Err(p)) | Err(p) => Err(errors::new_err(
            ErrorKind::Internal,
            format!("panic inside the engine: {}", panic_message(&*p)),
        )),
    }
}

/// Opens (creating if needed) the database at `path`; see `resonance.open`. An option left out (or
/// `None`) is the core's default (`OpenOptions::default()`).
#[pyfunction]
#[pyo3(signature = (path, *, read_only=None, migrate=None, allow_destructive=None, backup=None, busy_timeout_ms=None, backup_retention_days=None, open_timeout_ms=None, allow_engine_writes=None, statement_cache_size=None, app_migrations=None, external_replicator=None, vector_memory=None))]
fn open(
    py: Python<'_>,
    #[pyo3(from_py_with = args::path)] path: PathBuf,
    #[pyo3(from_py_with = args::opt_boolean)] read_only: Option<bool>,
    #[pyo3(from_py_with = args::opt_boolean)] migrate: Option<bool>,
    #[pyo3(from_py_with = args::opt_boolean)] allow_destructive: Option<bool>,
    #[pyo3(from_py_with = args::opt_boolean)] backup: Option<bool>,
    #[pyo3(from_py_with = args::opt_u32)] busy_timeout_ms: Option<u32>,
    #[pyo3(from_py_with = args::opt_u32)] backup_retention_days: Option<u32>,
    #[pyo3(from_py_with = args::opt_u32)] open_timeout_ms: Option<u32>,
    #[pyo3(from_py_with = args::opt_boolean)] allow_engine_writes: Option<bool>,
    #[pyo3(from_py_with = args::opt_count)] statement_cache_size: Option<usize>,
    app_migrations: Option<&Bound<'_, PyAny>>,
    #[pyo3(from_py_with = args::opt_boolean)] external_replicator: Option<bool>,
    #[pyo3(from_py_with = args::opt_string)] vector_memory: Option<String>,
) -> PyResult<database::Database> {
    let sets = match app_migrations {
        Some(o) if !o.is_none() => app_migrations::sets(o)?,
        _ => Vec::new(),
    };
    let d = resonance::OpenOptions::default();
    let mut options = resonance::OpenOptions {
        read_only: read_only.unwrap_or(d.read_only),
        migrate: migrate.unwrap_or(d.migrate),
        allow_destructive: allow_destructive.unwrap_or(d.allow_destructive),
        backup: backup.unwrap_or(d.backup),
        busy_timeout_ms: busy_timeout_ms.unwrap_or(d.busy_timeout_ms),
        backup_retention_days: backup_retention_days.unwrap_or(d.backup_retention_days),
        open_timeout_ms: open_timeout_ms.unwrap_or(d.open_timeout_ms),
        allow_engine_writes: allow_engine_writes.unwrap_or(d.allow_engine_writes),
        statement_cache_size: statement_cache_size.unwrap_or(d.statement_cache_size),
        external_replicator: external_replicator.unwrap_or(d.external_replicator),
        vector_memory: match vector_memory {
            Some(m) => m
                .parse::<resonance::VectorMemory>()
                .map_err(errors::to_py)?,
            None => d.vector_memory,
        },
        ..d
    };
    let db = run_long(py, || {
        options.app_migrations = app_migrations::resolve_sets(sets)?;
        options.validate()?;
        resonance::Database::open_with(&path, options.clone())
    })?;
    Ok(database::Database::new(db))
}

/// The application's id for a file path (`./docs/README.md` → `docs-readme`).
#[pyfunction]
fn generate_id(#[pyo3(from_py_with = args::string)] path: String) -> String {
    resonance::generate_id(&path)
}

/// The stable kind codes, in C status order.
#[pyfunction]
fn error_codes() -> Vec<&'static str> {
    ErrorKind::ALL.iter().map(|k| k.code()).collect()
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    errors::register(m)?;
    m.add_class::<database::Database>()?;
    m.add_class::<database::Transaction>()?;
    m.add_class::<types::Node>()?;
    m.add_class::<types::Edge>()?;
    m.add("Hit", types::hit_type(m.py())?)?;
    m.add_class::<types::HistoryEntry>()?;
    m.add_class::<types::Stats>()?;
    m.add_class::<types::Checkpoint>()?;
    m.add_class::<types::GraphStats>()?;
    m.add_class::<types::Communities>()?;
    m.add_class::<types::LinkCandidate>()?;
    m.add_class::<types::Pillar>()?;
    m.add_class::<types::HealthReport>()?;
    m.add_class::<types::StatsSnapshot>()?;
    m.add_class::<types::StatsValidation>()?;
    m.add_class::<types::MigrationReport>()?;
    m.add_class::<types::AppMigrationReport>()?;
    m.add_class::<types::AppMigrationStatus>()?;
    m.add_class::<app_migrations::AppMigration>()?;
    m.add_class::<sql::Row>()?;
    m.add_class::<sql::ExecuteResult>()?;
    m.add_function(wrap_pyfunction!(open, m)?)?;
    m.add_function(wrap_pyfunction!(generate_id, m)?)?;
    m.add_function(wrap_pyfunction!(error_codes, m)?)?;
    #[cfg(feature = "test-hooks")]
    test_hooks::register(m)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
