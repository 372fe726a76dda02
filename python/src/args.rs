//! Extractors of the scalar arguments (`#[pyo3(from_py_with = args::…)]`): a wrong type, `None` where a
//! value is required, a negative or too large integer, or a `str` that cannot be UTF-8 (a lone
//! surrogate such as `"\ud800"`) raises `InvalidArgumentError`, like every other bad argument, instead
//! of pyo3's `TypeError`/`OverflowError`/`UnicodeEncodeError`. pyo3 adds the note "while processing
//! '<argument>'" to the exception (Python ≥ 3.11), which names the argument.
//!
//! The accepted values are pyo3's own (an `int` is anything with `__index__`, a float anything with
//! `__float__`, a path a `str` or `os.PathLike`): only the exception changes.

use std::path::PathBuf;

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::PyString;

use crate::errors::invalid;

/// `NoneType`, `int`, … (and a short repr of the value for numbers, where the value is the problem).
fn describe(o: &Bound<'_, PyAny>) -> String {
    let ty = o
        .get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".into());
    if o.is_none() {
        return "None".into();
    }
    match o.repr() {
        Ok(r) if ty == "int" || ty == "float" || ty == "bool" => {
            let r = r.to_string();
            if r.len() <= 40 {
                format!("{ty} {r}")
            } else {
                format!("{ty} {}…", &r[..40])
            }
        }
        _ => ty,
    }
}

/// Extracts `T`, turning any failure into `InvalidArgumentError("expected {expected}, got …")` (with
/// pyo3's own message when it says more than "wrong type": an overflow, an unencodable path). pyo3's
/// exception is kept as `__cause__`.
fn extract<'py, T: FromPyObjectOwned<'py>>(o: &Bound<'py, PyAny>, expected: &str) -> PyResult<T> {
    let py = o.py();
    o.extract::<T>().map_err(|e| {
        let e: PyErr = e.into();
        let mut msg = format!("expected {expected}, got {}", describe(o));
        if !e.is_instance_of::<PyTypeError>(py) {
            msg.push_str(&format!(" ({})", e.value(py)));
        }
        let err = invalid(msg);
        err.set_cause(py, Some(e));
        err
    })
}

/// A `str` (valid UTF-8).
pub fn string(o: &Bound<'_, PyAny>) -> PyResult<String> {
    let Ok(s) = o.cast::<PyString>() else {
        return Err(invalid(format!("expected a str, got {}", describe(o))));
    };
    s.extract::<String>().map_err(|e| {
        let py = o.py();
        let why = e.value(py).to_string();
        let err = invalid(format!(
            "the str cannot be encoded as UTF-8 (a lone surrogate such as '\\ud800'?): {why}"
        ));
        err.set_cause(py, Some(e));
        err
    })
}

/// A `str` or `None`.
pub fn opt_string(o: &Bound<'_, PyAny>) -> PyResult<Option<String>> {
    if o.is_none() {
        return Ok(None);
    }
    string(o).map(Some)
}

/// `True` or `False` (or a numpy bool).
pub fn boolean(o: &Bound<'_, PyAny>) -> PyResult<bool> {
    extract(o, "a bool (True or False)")
}

/// `True`, `False` or `None`.
pub fn opt_boolean(o: &Bound<'_, PyAny>) -> PyResult<Option<bool>> {
    if o.is_none() {
        return Ok(None);
    }
    boolean(o).map(Some)
}

/// A non-negative integer that fits a `usize`.
pub fn count(o: &Bound<'_, PyAny>) -> PyResult<usize> {
    extract(o, "a non-negative int")
}

/// A non-negative integer or `None`.
pub fn opt_count(o: &Bound<'_, PyAny>) -> PyResult<Option<usize>> {
    if o.is_none() {
        return Ok(None);
    }
    count(o).map(Some)
}

/// A non-negative integer below 2^32.
pub fn u32_(o: &Bound<'_, PyAny>) -> PyResult<u32> {
    extract(o, "a non-negative int below 2**32")
}

/// A non-negative integer below 2^32, or `None`.
pub fn opt_u32(o: &Bound<'_, PyAny>) -> PyResult<Option<u32>> {
    if o.is_none() {
        return Ok(None);
    }
    u32_(o).map(Some)
}

/// A non-negative integer below 2^64.
pub fn u64_(o: &Bound<'_, PyAny>) -> PyResult<u64> {
    extract(o, "a non-negative int below 2**64")
}

/// A non-negative integer below 2^64, or `None`.
pub fn opt_u64(o: &Bound<'_, PyAny>) -> PyResult<Option<u64>> {
    if o.is_none() {
        return Ok(None);
    }
    u64_(o).map(Some)
}

/// A number (`float`, `int`, anything with `__float__`).
pub fn float(o: &Bound<'_, PyAny>) -> PyResult<f64> {
    extract(o, "a number")
}

/// A number or `None`.
pub fn opt_float(o: &Bound<'_, PyAny>) -> PyResult<Option<f64>> {
    if o.is_none() {
        return Ok(None);
    }
    float(o).map(Some)
}

/// A number, as `f32`.
pub fn float32(o: &Bound<'_, PyAny>) -> PyResult<f32> {
    extract(o, "a number")
}

/// A number as `f32`, or `None`.
pub fn opt_float32(o: &Bound<'_, PyAny>) -> PyResult<Option<f32>> {
    if o.is_none() {
        return Ok(None);
    }
    float32(o).map(Some)
}

/// A file path: a `str` or an `os.PathLike` (`pathlib.Path`), or `bytes`.
pub fn path(o: &Bound<'_, PyAny>) -> PyResult<PathBuf> {
    extract(o, "a path (str or os.PathLike) the file system can encode")
}

/// A file path or `None`.
pub fn opt_path(o: &Bound<'_, PyAny>) -> PyResult<Option<PathBuf>> {
    if o.is_none() {
        return Ok(None);
    }
    path(o).map(Some)
}
