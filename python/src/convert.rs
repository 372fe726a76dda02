//! Argument conversion: vectors (numpy float32 arrays borrowed without a copy, other float32 buffers
//! through a numpy view, lists copied) and JSON values to Python objects.
//!
//! A wrong dtype, shape or layout is an `InvalidArgumentError` that names the fix
//! (`.astype(np.float32)`, `np.ascontiguousarray`); nothing is converted silently.

use numpy::{
    dtype, PyArrayDescrMethods, PyArrayDyn, PyArrayMethods, PyReadonlyArrayDyn, PyUntypedArray,
    PyUntypedArrayMethods,
};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyList, PyString, PyTuple};

use crate::errors::{invalid, to_py};

/// A vector or a row-major matrix of float32: borrowed from a numpy array, or owned (from a list).
pub enum Floats<'py> {
    /// A C-contiguous float32 numpy array (or a view of a float32 buffer), read in place.
    Borrowed(PyReadonlyArrayDyn<'py, f32>),
    /// Copied from a Python list.
    Owned(Vec<f32>),
}

impl Floats<'_> {
    /// The floats, row-major.
    pub fn as_slice(&self) -> &[f32] {
        match self {
            // Checked C-contiguous when borrowed.
            Floats::Borrowed(a) => a.as_slice().unwrap_or(&[]),
            Floats::Owned(v) => v,
        }
    }
}

/// A float32 matrix argument: its floats and shape.
pub struct Matrix<'py> {
    /// Row-major floats.
    pub data: Floats<'py>,
    /// Rows.
    pub rows: usize,
    /// Columns.
    pub cols: usize,
}

fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".into())
}

/// Borrows a numpy array of `ndim` dimensions (1 or 2), checking dtype, shape and layout.
fn borrow_array<'py>(
    arr: &Bound<'py, PyUntypedArray>,
    ndim: usize,
    what: &str,
) -> PyResult<(PyReadonlyArrayDyn<'py, f32>, Vec<usize>)> {
    let py = arr.py();
    let dt = arr.dtype();
    if !dt.is_equiv_to(&dtype::<f32>(py)) {
        return Err(invalid(format!(
            "{what} must be a float32 array, got dtype {}: convert it once with `arr.astype(np.float32)`",
            dt.str().map(|s| s.to_string()).unwrap_or_else(|_| "?".into())
        )));
    }
    if arr.ndim() != ndim {
        let want = if ndim == 1 {
            "a 1-D array of shape (dim,)"
        } else {
            "a 2-D array of shape (n, dim)"
        };
        return Err(invalid(format!(
            "{what} must be {want}, got shape {:?}",
            arr.shape()
        )));
    }
    if !arr.is_c_contiguous() {
        return Err(invalid(format!(
            "{what} is not C-contiguous (a slice or a transposed view?): pass `np.ascontiguousarray(arr, dtype=np.float32)`"
        )));
    }
    let typed = arr.cast::<PyArrayDyn<f32>>().map_err(|_| {
        invalid(format!(
            "{what} must be a float32 array: use `arr.astype(np.float32)`"
        ))
    })?;
    let ro = typed
        .try_readonly()
        .map_err(|e| invalid(format!("{what} cannot be read: {e}")))?;
    Ok((ro, arr.shape().to_vec()))
}

/// A numpy view of a buffer-protocol object (`array.array('f')`, `memoryview`, …) without a copy.
fn buffer_view<'py>(obj: &Bound<'py, PyAny>) -> Option<Bound<'py, PyUntypedArray>> {
    let py = obj.py();
    let mv = py
        .import("builtins")
        .and_then(|b| b.getattr("memoryview"))
        .and_then(|m| m.call1((obj,)))
        .ok()?;
    let np = py.import("numpy").ok()?;
    let arr = np.getattr("asarray").ok()?.call1((mv,)).ok()?;
    arr.cast_into::<PyUntypedArray>().ok()
}

fn list_floats(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Vec<f32>> {
    let seq: Vec<Bound<'_, PyAny>> = obj.extract().map_err(|_| {
        invalid(format!(
            "{what} must be a list of numbers, got {}",
            type_name(obj)
        ))
    })?;
    let mut out = Vec::with_capacity(seq.len());
    for (i, x) in seq.iter().enumerate() {
        if x.is_instance_of::<PyBool>()
            || !(x.is_instance_of::<PyFloat>()
                || x.hasattr("__index__")?
                || x.hasattr("__float__")?)
        {
            return Err(invalid(format!(
                "{what}[{i}] must be a number, got {}",
                type_name(x)
            )));
        }
        let f: f64 = x.extract().map_err(|e: PyErr| {
            invalid(format!("{what}[{i}] is not a float: {}", e.value(obj.py())))
        })?;
        out.push(f as f32);
    }
    Ok(out)
}

/// A 1-D vector argument.
pub fn vector<'py>(obj: &Bound<'py, PyAny>, what: &str) -> PyResult<Floats<'py>> {
    if let Ok(arr) = obj.cast::<PyUntypedArray>() {
        return Ok(Floats::Borrowed(borrow_array(arr, 1, what)?.0));
    }
    if obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() {
        return Ok(Floats::Owned(list_floats(obj, what)?));
    }
    if !obj.is_instance_of::<PyString>() {
        if let Some(arr) = buffer_view(obj) {
            return Ok(Floats::Borrowed(borrow_array(&arr, 1, what)?.0));
        }
    }
    Err(invalid(format!(
        "{what} must be a float32 numpy array (or a float32 buffer, or a list of numbers), got {}",
        type_name(obj)
    )))
}

/// A 2-D matrix argument (`n` rows of `dim` floats).
pub fn matrix<'py>(obj: &Bound<'py, PyAny>, what: &str) -> PyResult<Matrix<'py>> {
    let from_array = |arr: &Bound<'py, PyUntypedArray>| -> PyResult<Matrix<'py>> {
        let (ro, shape) = borrow_array(arr, 2, what)?;
        Ok(Matrix {
            data: Floats::Borrowed(ro),
            rows: shape[0],
            cols: shape[1],
        })
    };
    if let Ok(arr) = obj.cast::<PyUntypedArray>() {
        return from_array(arr);
    }
    if obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() {
        let rows: Vec<Bound<'py, PyAny>> = obj
            .extract()
            .map_err(|_| invalid(format!("{what} must be a list of lists of numbers")))?;
        let lists = rows
            .iter()
            .enumerate()
            .map(|(i, r)| list_floats(r, &format!("{what}[{i}]")))
            .collect::<PyResult<Vec<_>>>()?;
        let (data, cols) = resonance::vector::flatten_rows(&lists, what).map_err(to_py)?;
        return Ok(Matrix {
            data: Floats::Owned(data),
            rows: rows.len(),
            cols,
        });
    }
    if let Some(arr) = buffer_view(obj) {
        return from_array(&arr);
    }
    Err(invalid(format!(
        "{what} must be a 2-D float32 numpy array (or a list of lists of numbers), got {}",
        type_name(obj)
    )))
}

/// A JSON value as Python objects (dict, list, str, int, float, bool, None).
pub fn json_to_py<'py>(py: Python<'py>, v: &serde_json::Value) -> PyResult<Bound<'py, PyAny>> {
    use serde_json::Value;
    Ok(match v {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.into_pyobject(py)?.into_any()
            } else if let Some(u) = n.as_u64() {
                u.into_pyobject(py)?.into_any()
            } else {
                n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any()
            }
        }
        Value::String(s) => PyString::new(py, s).into_any(),
        Value::Array(a) => {
            let l = PyList::empty(py);
            for x in a {
                l.append(json_to_py(py, x)?)?;
            }
            l.into_any()
        }
        Value::Object(o) => {
            let d = PyDict::new(py);
            for (k, x) in o {
                d.set_item(k, json_to_py(py, x)?)?;
            }
            d.into_any()
        }
    })
}

/// Stored JSON text as Python objects, by the core's rule (`resonance::parse_stored_json`: `None` for
/// no text, text that does not parse stays a string).
pub fn json_text_to_py<'py>(py: Python<'py>, text: Option<&str>) -> PyResult<Bound<'py, PyAny>> {
    json_to_py(py, &resonance::parse_stored_json(text))
}

/// A `meta` argument: `None`, JSON text (passed as is, so the engine validates it), or any
/// JSON-serialisable value (serialised with `json.dumps`).
pub fn meta_arg(obj: Option<&Bound<'_, PyAny>>) -> PyResult<Option<String>> {
    let Some(obj) = obj else { return Ok(None) };
    if obj.is_none() {
        return Ok(None);
    }
    let utf8 = |e: PyErr| {
        invalid(format!(
            "meta cannot be encoded as UTF-8 (a lone surrogate such as '\\ud800'?): {}",
            e.value(obj.py())
        ))
    };
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(Some(s.extract::<String>().map_err(utf8)?));
    }
    let json = obj.py().import("json")?;
    let kwargs = PyDict::new(obj.py());
    kwargs.set_item("separators", (",", ":"))?;
    kwargs.set_item("ensure_ascii", false)?;
    let s = json
        .getattr("dumps")?
        .call((obj,), Some(&kwargs))
        .map_err(|e| invalid(format!("meta is not JSON-serialisable: {e}")))?;
    Ok(Some(s.extract().map_err(utf8)?))
}
