//! The Python exception classes (`resonance.Error` and one subclass per kind of docs/errors.md) and the one
//! function that maps a [`resonance::Error`] to them.
//!
//! The classes are created once, at module initialisation, with `type(name, bases, namespace)` so that
//! a few of them can also derive from the matching builtin (`ValueError`, `LookupError`): `except
//! ValueError` keeps working for code that does not know Resonance. Each class carries `code`.

use pyo3::exceptions::{PyException, PyLookupError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyTuple, PyType};
use resonance::{Error, ErrorKind};

/// One class per kind, in [`ErrorKind::ALL`] order (the base `Error` lives in the module).
struct Classes {
    kinds: Vec<Py<PyType>>,
}

static CLASSES: PyOnceLock<Classes> = PyOnceLock::new();

/// `invalid_argument` → `InvalidArgumentError`.
pub fn class_name(kind: ErrorKind) -> String {
    let mut name = String::new();
    for part in kind.code().split('_') {
        let mut c = part.chars();
        if let Some(f) = c.next() {
            name.extend(f.to_uppercase());
            name.push_str(c.as_str());
        }
    }
    name.push_str("Error");
    name
}

fn doc(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::InvalidArgument => {
            "An argument was malformed (empty id, invalid JSON meta, wrong array dtype or shape…)."
        }
        ErrorKind::InvalidVector => "A vector was empty, held NaN/Inf or had a norm <= 1e-6.",
        ErrorKind::DimensionMismatch => {
            "A vector's length differs from the database's dimension (`expected`, `got`)."
        }
        ErrorKind::NotFound => "A node, edge or other entity was not found.",
        ErrorKind::Busy => "The database was locked by another connection past the busy timeout.",
        ErrorKind::Readonly => "A write through a read-only handle or to a read-only file.",
        ErrorKind::Corrupt => "The database file is damaged.",
        ErrorKind::NotADatabase => "The file is not a SQLite database.",
        ErrorKind::Constraint => "A constraint was violated.",
        ErrorKind::SchemaUnknown => {
            "The schema matches none of the known shapes (nothing was changed)."
        }
        ErrorKind::SchemaTooNew => {
            "The database was written by a newer program, or its migrations drifted."
        }
        ErrorKind::MigrationFailed => "A migration failed; the database is as it was before.",
        ErrorKind::DestructiveRefused => {
            "A destructive migration was refused (pass allow_destructive=True)."
        }
        ErrorKind::Closed => "The handle was closed (or belongs to the parent of a fork()).",
        ErrorKind::Io => "A file-system error (permissions, disk full, missing directory…).",
        ErrorKind::Sqlite => {
            "Any other SQLite failure (`extended_code` holds SQLite's extended result code)."
        }
        ErrorKind::Internal => "A caught panic inside the engine or a broken invariant.",
        ErrorKind::Interrupted => {
            "A call stopped by db.interrupt() (or by Ctrl-C, which raises KeyboardInterrupt); \
             the handle stays usable."
        }
    }
}

/// Creates the classes and adds them to `m`.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    let type_ = py.get_type::<PyType>();
    let make =
        |name: &str, bases: Bound<'_, PyTuple>, code: &str, doc: &str| -> PyResult<Py<PyType>> {
            let ns = PyDict::new(py);
            ns.set_item("__module__", "resonance")?;
            ns.set_item("__doc__", doc)?;
            ns.set_item("code", code)?;
            let cls = type_.call1((name, bases, ns))?;
            Ok(cls.cast_into::<PyType>()?.unbind())
        };
    let base = make(
        "Error",
        PyTuple::new(py, [py.get_type::<PyException>()])?,
        "error",
        "Base class of every Resonance error; `code` is the stable kind code of the subclass.",
    )?;
    let mut kinds = Vec::new();
    for kind in ErrorKind::ALL {
        let mut bases = vec![base.bind(py).clone()];
        match kind {
            ErrorKind::InvalidArgument
            | ErrorKind::InvalidVector
            | ErrorKind::DimensionMismatch => bases.push(py.get_type::<PyValueError>()),
            ErrorKind::NotFound => bases.push(py.get_type::<PyLookupError>()),
            _ => {}
        }
        let cls = make(
            &class_name(kind),
            PyTuple::new(py, bases)?,
            kind.code(),
            doc(kind),
        )?;
        m.add(class_name(kind).as_str(), cls.bind(py))?;
        kinds.push(cls);
    }
    m.add("Error", base.bind(py))?;
    let _ = CLASSES.set(py, Classes { kinds });
    Ok(())
}

fn class(py: Python<'_>, kind: ErrorKind) -> Bound<'_, PyType> {
    let classes = CLASSES
        .get(py)
        .expect("exception classes are created at import");
    let i = ErrorKind::ALL.iter().position(|k| *k == kind).unwrap_or(0);
    classes.kinds[i].bind(py).clone()
}

/// A Python exception of `kind` with `message`.
pub fn new_err(kind: ErrorKind, message: impl Into<String>) -> PyErr {
    let message = message.into();
    Python::attach(|py| match class(py, kind).call1((message.clone(),)) {
        Ok(v) => PyErr::from_value(v),
        Err(e) => e,
    })
}

/// The one mapping of an engine error to its Python class (with `expected`/`got` on a dimension
/// mismatch and `extended_code` on a SQLite error).
pub fn to_py(err: Error) -> PyErr {
    Python::attach(|py| {
        let inst = match class(py, err.kind()).call1((err.to_string(),)) {
            Ok(v) => v,
            Err(e) => return e,
        };
        let r = match &err {
            Error::DimensionMismatch { expected, got, .. } => inst
                .setattr("expected", *expected)
                .and_then(|()| inst.setattr("got", *got)),
            Error::Sqlite { extended_code, .. } => inst.setattr("extended_code", *extended_code),
            _ => Ok(()),
        };
        match r {
            Ok(()) => PyErr::from_value(inst),
            Err(e) => e,
        }
    })
}

/// `InvalidArgumentError(message)`.
pub fn invalid(message: impl Into<String>) -> PyErr {
    new_err(ErrorKind::InvalidArgument, message)
}
