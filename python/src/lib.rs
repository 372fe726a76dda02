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
mod sql;
#[cfg(feature = "test-hooks")]
mod test_hooks;
mod types;

use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use pyo3::prelude::*;
use resonance::ErrorKind;

/// The process that imported the module (a forked child has another pid).
static MAIN_PID: OnceLock<u32> = OnceLock::new();

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

/// Rayon's pools (the global one and the core's cached per-size search pools) do not survive `fork()`:
/// their threads stay in the parent, and a child that used them would wait forever. In a forked child,
/// calls that may go parallel run in pools made in that child, cached per pid and size.
type ChildPools = Option<(u32, HashMap<usize, Arc<rayon::ThreadPool>>)>;
static CHILD_POOLS: Mutex<ChildPools> = Mutex::new(None);

/// Runs `f` (an engine call that may use rayon) with threads that belong to this process. `threads` is
/// the caller's cap; `f` gets the cap to pass on to the engine (`None` inside a child's own pool, which
/// is already that size).
pub(crate) fn in_own_pool<T: Send>(
    threads: Option<usize>,
    f: impl FnOnce(Option<usize>) -> T + Send,
) -> T {
    let pid = std::process::id();
    if MAIN_PID.get().is_none_or(|p| *p == pid) || threads == Some(1) {
        return f(threads);
    }
    let size = threads
        .filter(|n| *n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let pool = {
        let mut slot = CHILD_POOLS.lock().unwrap_or_else(|p| p.into_inner());
        if slot.as_ref().is_none_or(|(p, _)| *p != pid) {
            // Pools inherited from a parent have no threads here: never drop them (that would join
            // threads that do not exist).
            if let Some(old) = slot.replace((pid, HashMap::new())) {
                std::mem::forget(old);
            }
        }
        let pools = &mut slot.as_mut().expect("set above").1;
        match pools.get(&size) {
            Some(p) => Some(Arc::clone(p)),
            None => match rayon::ThreadPoolBuilder::new().num_threads(size).build() {
                Ok(p) => {
                    let p = Arc::new(p);
                    pools.insert(size, Arc::clone(&p));
                    Some(p)
                }
                Err(_) => None,
            },
        }
    };
    // The caller's cancellation sources follow the work onto the pool's thread.
    let cancel = resonance::cancel::Context::current();
    match pool {
        Some(pool) => pool.install(|| cancel.scope(|| f(None))),
        // No pool could be started: run on this thread only.
        None => f(Some(1)),
    }
}

/// Opens (creating if needed) the database at `path`; see `resonance.open`.
#[pyfunction]
#[pyo3(signature = (path, *, read_only=false, migrate=true, allow_destructive=false, backup=true, busy_timeout_ms=5000, backup_retention_days=7, open_timeout_ms=60000, allow_engine_writes=None, statement_cache_size=None, app_migrations=None))]
fn open(
    py: Python<'_>,
    #[pyo3(from_py_with = args::path)] path: PathBuf,
    #[pyo3(from_py_with = args::boolean)] read_only: bool,
    #[pyo3(from_py_with = args::boolean)] migrate: bool,
    #[pyo3(from_py_with = args::boolean)] allow_destructive: bool,
    #[pyo3(from_py_with = args::boolean)] backup: bool,
    #[pyo3(from_py_with = args::u32_)] busy_timeout_ms: u32,
    #[pyo3(from_py_with = args::u32_)] backup_retention_days: u32,
    #[pyo3(from_py_with = args::u32_)] open_timeout_ms: u32,
    #[pyo3(from_py_with = args::opt_boolean)] allow_engine_writes: Option<bool>,
    #[pyo3(from_py_with = args::opt_count)] statement_cache_size: Option<usize>,
    app_migrations: Option<&Bound<'_, PyAny>>,
) -> PyResult<database::Database> {
    let sets = match app_migrations {
        Some(o) if !o.is_none() => app_migrations::sets(o)?,
        _ => Vec::new(),
    };
    let mut options = resonance::OpenOptions {
        read_only,
        migrate,
        allow_destructive,
        backup,
        busy_timeout_ms,
        backup_retention_days,
        open_timeout_ms,
        ..Default::default()
    };
    if let Some(v) = allow_engine_writes {
        options.allow_engine_writes = v;
    }
    if let Some(v) = statement_cache_size {
        options.statement_cache_size = v;
    }
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
    let _ = MAIN_PID.set(std::process::id());
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
