//! Python bindings of Resonance: the native module `resonance._native`, wrapped by the pure-Python
//! package `resonance` (see `python/resonance/`).
//!
//! Every function here is an adapter of a few lines: convert the arguments while holding the GIL,
//! run the engine call with the GIL released (and panics caught), convert the result. No rule of the
//! engine is re-implemented here.

mod args;
mod convert;
mod database;
mod errors;
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
    match pool {
        Some(pool) => pool.install(|| f(None)),
        // No pool could be started: run on this thread only.
        None => f(Some(1)),
    }
}

/// Opens (creating if needed) the database at `path`; see `resonance.open`.
#[pyfunction]
#[pyo3(signature = (path, *, read_only=false, migrate=true, allow_destructive=false, backup=true, busy_timeout_ms=5000, backup_retention_days=7))]
#[allow(clippy::too_many_arguments)]
fn open(
    py: Python<'_>,
    #[pyo3(from_py_with = args::path)] path: PathBuf,
    #[pyo3(from_py_with = args::boolean)] read_only: bool,
    #[pyo3(from_py_with = args::boolean)] migrate: bool,
    #[pyo3(from_py_with = args::boolean)] allow_destructive: bool,
    #[pyo3(from_py_with = args::boolean)] backup: bool,
    #[pyo3(from_py_with = args::u32_)] busy_timeout_ms: u32,
    #[pyo3(from_py_with = args::u32_)] backup_retention_days: u32,
) -> PyResult<database::Database> {
    let options = resonance::OpenOptions {
        read_only,
        migrate,
        allow_destructive,
        backup,
        busy_timeout_ms,
        backup_retention_days,
    };
    let db = run(py, || {
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

/// Test hook: raises the exception an engine error of kind `code` maps to, through the same mapping
/// as every call.
#[pyfunction]
fn _raise_engine_error(py: Python<'_>, code: &str) -> PyResult<()> {
    let kind = ErrorKind::from_code(code)
        .ok_or_else(|| errors::invalid(format!("unknown error code {code:?}")))?;
    let msg = format!("test error of kind {code}");
    let err = match kind {
        ErrorKind::InvalidArgument => resonance::Error::InvalidArgument(msg),
        ErrorKind::InvalidVector => resonance::Error::InvalidVector(msg),
        ErrorKind::DimensionMismatch => resonance::Error::DimensionMismatch {
            expected: 4,
            got: 3,
            context: msg,
        },
        ErrorKind::NotFound => resonance::Error::NotFound(msg),
        ErrorKind::Busy => resonance::Error::Busy(msg),
        ErrorKind::Readonly => resonance::Error::Readonly(msg),
        ErrorKind::Corrupt => resonance::Error::Corrupt(msg),
        ErrorKind::NotADatabase => resonance::Error::NotADatabase(msg),
        ErrorKind::Constraint => resonance::Error::Constraint(msg),
        ErrorKind::SchemaUnknown => resonance::Error::SchemaUnknown(msg),
        ErrorKind::SchemaTooNew => resonance::Error::SchemaTooNew(msg),
        ErrorKind::MigrationFailed => resonance::Error::MigrationFailed(msg),
        ErrorKind::DestructiveRefused => resonance::Error::DestructiveRefused(msg),
        ErrorKind::Closed => resonance::Error::Closed,
        ErrorKind::Io => resonance::Error::Io {
            message: msg,
            source: None,
        },
        ErrorKind::Sqlite => resonance::Error::Sqlite {
            extended_code: 1,
            message: msg,
        },
        ErrorKind::Internal => resonance::Error::Internal(msg),
    };
    run(py, move || Err::<(), _>(err))
}

/// Test hook: panics inside the same guarded call path as every engine call.
#[pyfunction]
fn _panic_in_engine(py: Python<'_>) -> PyResult<()> {
    run(py, || -> resonance::Result<()> {
        panic!("deliberate test panic")
    })
}

/// Test hook: the address of the floats a vector argument is read from (the numpy buffer itself for
/// a float32 array: no copy).
#[pyfunction]
fn _vector_address(v: &Bound<'_, PyAny>) -> PyResult<usize> {
    let f = convert::vector(v, "vector")?;
    Ok(f.as_slice().as_ptr() as usize)
}

/// Test hook: the address of the floats a matrix argument is read from.
#[pyfunction]
fn _matrix_address(v: &Bound<'_, PyAny>) -> PyResult<usize> {
    let m = convert::matrix(v, "vectors")?;
    Ok(m.data.as_slice().as_ptr() as usize)
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let _ = MAIN_PID.set(std::process::id());
    errors::register(m)?;
    m.add_class::<database::Database>()?;
    m.add_class::<database::Transaction>()?;
    m.add_class::<types::Node>()?;
    m.add_class::<types::Edge>()?;
    m.add_class::<types::Hit>()?;
    m.add_class::<types::HistoryEntry>()?;
    m.add_class::<types::Stats>()?;
    m.add_class::<types::Checkpoint>()?;
    m.add_class::<types::GraphStats>()?;
    m.add_class::<types::Communities>()?;
    m.add_class::<types::HealthReport>()?;
    m.add_class::<types::MigrationReport>()?;
    m.add_function(wrap_pyfunction!(open, m)?)?;
    m.add_function(wrap_pyfunction!(generate_id, m)?)?;
    m.add_function(wrap_pyfunction!(error_codes, m)?)?;
    m.add_function(wrap_pyfunction!(_raise_engine_error, m)?)?;
    m.add_function(wrap_pyfunction!(_panic_in_engine, m)?)?;
    m.add_function(wrap_pyfunction!(_vector_address, m)?)?;
    m.add_function(wrap_pyfunction!(_matrix_address, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
