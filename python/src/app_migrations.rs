//! Application migrations from Python (`db.migrate_app`, `db.app_migration_status`,
//! `resonance.open(..., app_migrations=...)`): the [`AppMigration`] step class, the conversion of a
//! directory path or a sequence of steps to the core's steps, and the two result records
//! (`AppMigrationReport`, `AppMigrationStatus`, in `types.rs`).
//!
//! Arguments are converted while the GIL is held; a directory is read, and the steps planned and run,
//! with the GIL released (a long call: Ctrl-C stops it). What a step may do, and every rule of the
//! ledger, is the core's (`core/src/app_migrate.rs`): nothing here reads SQL text.

use std::path::PathBuf;

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyMapping, PyString};
use resonance::{
    AppMigrateOptions, AppMigration as CoreStep, AppMigrationReport, AppMigrationSet,
    AppMigrationStatus,
};

use crate::args;
use crate::errors::invalid;
use crate::run_long_on;
use crate::types;

/// One application migration step: `AppMigration(version, name, up, down=None, destructive=None)`
/// (`destructive` left out or None: not declared destructive, the core's default).
#[pyclass(frozen, module = "resonance", name = "AppMigration", eq)]
#[derive(Clone, PartialEq)]
pub struct AppMigration {
    /// The version (≥ 1); steps apply in ascending order.
    #[pyo3(get)]
    version: i64,
    /// A name for people.
    #[pyo3(get)]
    name: String,
    /// The SQL that applies the step.
    #[pyo3(get)]
    up: String,
    /// The SQL that undoes it, or None.
    #[pyo3(get)]
    down: Option<String>,
    /// Declared destructive (refused unless `allow_destructive=True`).
    #[pyo3(get)]
    destructive: bool,
}

impl AppMigration {
    fn to_core(&self) -> CoreStep {
        CoreStep {
            version: self.version,
            name: self.name.clone(),
            up: self.up.clone(),
            down: self.down.clone(),
            destructive: self.destructive,
        }
    }
}

#[pymethods]
impl AppMigration {
    /// A step from code.
    #[new]
    #[pyo3(signature = (version, name, up, down=None, destructive=None))]
    fn py_new(
        version: &Bound<'_, PyAny>,
        #[pyo3(from_py_with = args::string)] name: String,
        #[pyo3(from_py_with = args::string)] up: String,
        #[pyo3(from_py_with = args::opt_string)] down: Option<String>,
        #[pyo3(from_py_with = args::opt_boolean)] destructive: Option<bool>,
    ) -> PyResult<AppMigration> {
        let d = CoreStep::default();
        Ok(AppMigration {
            version: int64(version, "version")?,
            name,
            up,
            down: down.or(d.down),
            destructive: destructive.unwrap_or(d.destructive),
        })
    }

    /// The sha256 (hex) the ledger records for this step (its `up` SQL, line endings as LF).
    fn checksum(&self) -> String {
        self.to_core().checksum()
    }

    fn __repr__(&self) -> String {
        format!(
            "AppMigration(version={}, name={:?}, destructive={}, down={})",
            self.version,
            self.name,
            if self.destructive { "True" } else { "False" },
            if self.down.is_some() { "..." } else { "None" }
        )
    }
}

/// An `int` in the `i64` range, or `InvalidArgumentError` naming `what`.
fn int64(o: &Bound<'_, PyAny>, what: &str) -> PyResult<i64> {
    if o.is_none() || o.is_instance_of::<pyo3::types::PyBool>() {
        return Err(invalid(format!(
            "{what}: expected an int, got {}",
            type_of(o)
        )));
    }
    o.extract::<i64>().map_err(|_| {
        invalid(format!(
            "{what}: expected an int in the 64-bit range, got {}",
            type_of(o)
        ))
    })
}

fn type_of(o: &Bound<'_, PyAny>) -> String {
    if o.is_none() {
        return "None".into();
    }
    o.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".into())
}

/// Where the steps come from: a directory of `NNNN_name.sql` files (read when the call runs, with the
/// GIL released) or steps given in code.
pub enum Steps {
    /// `app_migrate::load_dir` of this directory.
    Dir(PathBuf),
    /// Steps given as `AppMigration` objects or dicts.
    Given(Vec<CoreStep>),
}

impl Steps {
    /// The core's steps (reads the directory for [`Steps::Dir`]).
    pub fn resolve(self) -> resonance::Result<Vec<CoreStep>> {
        match self {
            Steps::Dir(dir) => resonance::app_migrate::load_dir(&dir),
            Steps::Given(steps) => Ok(steps),
        }
    }
}

/// One step given as an `AppMigration` or a dict / mapping with `version`, `name`, `up` and
/// optionally `down` and `destructive`.
fn step<'py>(o: &Bound<'py, PyAny>, i: usize) -> PyResult<CoreStep> {
    if let Ok(s) = o.cast::<AppMigration>() {
        return Ok(s.get().to_core());
    }
    let Ok(m) = o.cast::<PyMapping>() else {
        return Err(invalid(format!(
            "steps[{i}]: expected an AppMigration or a dict with version, name, up, down, destructive, got {}",
            type_of(o)
        )));
    };
    let get = |k: &str| -> PyResult<Option<Bound<'py, PyAny>>> {
        if m.contains(k)? {
            let v = m.get_item(k)?;
            Ok((!v.is_none()).then_some(v))
        } else {
            Ok(None)
        }
    };
    let need = |k: &str| -> PyResult<Bound<'py, PyAny>> {
        get(k)?.ok_or_else(|| invalid(format!("steps[{i}]: the key {k:?} is missing")))
    };
    let text = |k: &str, v: &Bound<'py, PyAny>| {
        args::string(v).map_err(|e| invalid(format!("steps[{i}].{k}: {}", e.value(o.py()))))
    };
    let d = CoreStep::default();
    let down = match get("down")? {
        Some(v) => Some(text("down", &v)?),
        None => d.down,
    };
    let destructive = match get("destructive")? {
        Some(v) => args::boolean(&v)
            .map_err(|e| invalid(format!("steps[{i}].destructive: {}", e.value(o.py()))))?,
        None => d.destructive,
    };
    Ok(CoreStep {
        version: int64(&need("version")?, &format!("steps[{i}].version"))?,
        name: text("name", &need("name")?)?,
        up: text("up", &need("up")?)?,
        down,
        destructive,
    })
}

/// `steps_or_dir`: a path (`str` or `os.PathLike`: a directory of `.sql` files) or a sequence of
/// steps (`AppMigration` objects or dicts).
pub fn steps(o: &Bound<'_, PyAny>) -> PyResult<Steps> {
    if o.cast::<PyString>().is_ok() || o.hasattr("__fspath__")? {
        return args::path(o).map(Steps::Dir);
    }
    if o.cast::<PyDict>().is_ok() || o.cast::<pyo3::types::PyBytes>().is_ok() {
        return Err(invalid(format!(
            "steps_or_dir: expected a directory path or a sequence of steps, got {}",
            type_of(o)
        )));
    }
    let iter = o.try_iter().map_err(|_| {
        invalid(format!(
            "steps_or_dir: expected a directory path or a sequence of steps, got {}",
            type_of(o)
        ))
    })?;
    let mut out = Vec::new();
    for (i, item) in iter.enumerate() {
        out.push(step(&item?, i)?);
    }
    Ok(Steps::Given(out))
}

/// `app_migrations` of `resonance.open`: a mapping from namespace to `steps_or_dir`.
pub fn sets(o: &Bound<'_, PyAny>) -> PyResult<Vec<(String, Steps)>> {
    let m = o.cast::<PyMapping>().map_err(|_| {
        invalid(format!(
            "app_migrations: expected a dict from namespace to a directory or a list of steps, got {}",
            type_of(o)
        ))
    })?;
    let mut out = Vec::new();
    for item in m.items()?.iter() {
        let (k, v) = item.extract::<(Bound<'_, PyAny>, Bound<'_, PyAny>)>()?;
        let ns = args::string(&k)
            .map_err(|e| invalid(format!("app_migrations: a namespace: {}", e.value(o.py()))))?;
        out.push((ns, steps(&v)?));
    }
    Ok(out)
}

/// Resolves the sets of `resonance.open` (reading directories): called with the GIL released.
pub fn resolve_sets(sets: Vec<(String, Steps)>) -> resonance::Result<Vec<AppMigrationSet>> {
    sets.into_iter()
        .map(|(namespace, s)| {
            Ok(AppMigrationSet {
                namespace,
                steps: s.resolve()?,
            })
        })
        .collect()
}

/// The options of `db.migrate_app`: an argument left None is the core's default; `backup=False`
/// is `no_backup`.
pub struct Options {
    /// `to`.
    pub to: Option<i64>,
    /// `dry_run`.
    pub dry_run: Option<bool>,
    /// `allow_destructive`.
    pub allow_destructive: Option<bool>,
    /// `backup`.
    pub backup: Option<bool>,
    /// `accept_changed`.
    pub accept_changed: Option<bool>,
}

impl Options {
    fn to_core(&self) -> AppMigrateOptions {
        let d = AppMigrateOptions::default();
        AppMigrateOptions {
            to: self.to.or(d.to),
            dry_run: self.dry_run.unwrap_or(d.dry_run),
            allow_destructive: self.allow_destructive.unwrap_or(d.allow_destructive),
            no_backup: self.backup.map_or(d.no_backup, |b| !b),
            accept_changed: self.accept_changed.unwrap_or(d.accept_changed),
        }
    }
}

/// The `to` argument: an int or None.
pub fn opt_version(o: &Bound<'_, PyAny>) -> PyResult<Option<i64>> {
    if o.is_none() {
        return Ok(None);
    }
    int64(o, "to").map(Some)
}

/// `db.migrate_app`: a long call.
pub fn migrate_app(
    py: Python<'_>,
    db: &resonance::Database,
    namespace: &str,
    steps_or_dir: &Bound<'_, PyAny>,
    opts: &Options,
) -> PyResult<types::AppMigrationReport> {
    let given = steps(steps_or_dir)?;
    let o = opts.to_core();
    let r: AppMigrationReport =
        run_long_on(py, db, || db.migrate_app(namespace, &given.resolve()?, &o))?;
    report(py, &r)
}

/// `db.app_migration_status`: a long call (it may read a directory).
pub fn app_migration_status(
    py: Python<'_>,
    db: &resonance::Database,
    namespace: &str,
    steps_or_dir: &Bound<'_, PyAny>,
) -> PyResult<types::AppMigrationStatus> {
    let given = steps(steps_or_dir)?;
    let st: AppMigrationStatus = run_long_on(py, db, || {
        db.app_migration_status(namespace, &given.resolve()?)
    })?;
    status(py, &st)
}

/// The report record: `namespace`, `dry_run`, `steps` (dicts with `version`, `name`, `direction`
/// `'up'`/`'down'`, `sql`, `destructive`), `backup` (a path str or None), `accepted_changes`.
fn report(py: Python<'_>, r: &AppMigrationReport) -> PyResult<types::AppMigrationReport> {
    Ok(types::AppMigrationReport::from_dict(types::serde_dict(
        py, r,
    )?))
}

/// The status record: `namespace`, `applied` (dicts with `version`, `name`, `checksum`,
/// `applied_at`), `pending` (dicts with `version`, `name`).
fn status(py: Python<'_>, s: &AppMigrationStatus) -> PyResult<types::AppMigrationStatus> {
    let d = PyDict::new(py);
    d.set_item("namespace", &s.namespace)?;
    let applied = PyList::empty(py);
    for a in &s.applied {
        let e = PyDict::new(py);
        e.set_item("version", a.version)?;
        e.set_item("name", &a.name)?;
        e.set_item("checksum", &a.checksum)?;
        e.set_item("applied_at", &a.applied_at)?;
        applied.append(e)?;
    }
    d.set_item("applied", applied)?;
    let pending = PyList::empty(py);
    for (version, name) in &s.pending {
        let e = PyDict::new(py);
        e.set_item("version", version)?;
        e.set_item("name", name)?;
        pending.append(e)?;
    }
    d.set_item("pending", pending)?;
    Ok(types::AppMigrationStatus::from_dict(d))
}
