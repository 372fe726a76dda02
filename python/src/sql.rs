//! Application SQL from Python (`db.execute`, `db.query`, `db.query_one`, `db.executemany`,
//! `db.executescript`): the conversion of parameters to the core's [`Params`], of the core's [`Value`]s
//! to Python objects, and the two result classes [`Row`] and [`ExecuteResult`].
//!
//! Parameters are converted while the GIL is held; the statement then runs with the GIL released (the
//! `#[pymethods]` entries in `database.rs` call the functions here). What a statement may do is the
//! core's authorizer's to decide: nothing here reads SQL text.

use std::sync::Arc;

use pyo3::exceptions::PyIndexError;
use pyo3::prelude::*;
use pyo3::pyclass::CompareOp;
use pyo3::types::{
    PyBool, PyByteArray, PyBytes, PyDict, PyFloat, PyInt, PyList, PyMapping, PyMemoryView, PySlice,
    PyString, PyTuple,
};
use pyo3::IntoPyObjectExt;
use resonance::{Params, Value};

use crate::args;
use crate::errors::invalid;
use crate::{run, run_long_on};

/// What `db.execute` / `db.executemany` did, named after the attributes of `sqlite3.Cursor`.
#[pyclass(frozen, module = "resonance", name = "ExecuteResult", eq)]
#[derive(PartialEq)]
pub struct ExecuteResult {
    /// Rows inserted, updated or deleted (0 for a statement that only reads; summed over every
    /// parameter set for `executemany`).
    #[pyo3(get)]
    rowcount: u64,
    /// The connection's last inserted rowid after the statement (`sqlite3_last_insert_rowid`: 0
    /// before any insert on this handle).
    #[pyo3(get)]
    lastrowid: i64,
}

#[pymethods]
impl ExecuteResult {
    fn __repr__(&self) -> String {
        format!(
            "ExecuteResult(rowcount={}, lastrowid={})",
            self.rowcount, self.lastrowid
        )
    }
}

impl From<resonance::ExecuteResult> for ExecuteResult {
    fn from(r: resonance::ExecuteResult) -> ExecuteResult {
        ExecuteResult {
            rowcount: r.changes,
            lastrowid: r.last_insert_rowid,
        }
    }
}

/// One row of a query: a tuple of values that can also be read by column name, like `sqlite3.Row`.
/// `row[0]`, `row[-1]`, `row[1:]`, `row["name"]` (exact name first, then ignoring ASCII case),
/// `len(row)`, iteration and unpacking, `row.keys()`; a row equals a tuple of the same values and a
/// row of the same columns and values. The rows of one result share one tuple of column names.
#[pyclass(frozen, module = "resonance", name = "Row", sequence)]
pub struct Row {
    columns: Py<PyTuple>,
    /// The same names, for lookups by name without the GIL's string API (`str.to_str` needs 3.10).
    names: Arc<[String]>,
    values: Py<PyTuple>,
}

impl Row {
    /// The index of the column named `name`: the first exact match, else the first match ignoring
    /// ASCII case (as `sqlite3.Row` does).
    fn position(&self, name: &str) -> Option<usize> {
        self.names
            .iter()
            .position(|c| c == name)
            .or_else(|| self.names.iter().position(|c| c.eq_ignore_ascii_case(name)))
    }
}

#[pymethods]
impl Row {
    fn __len__(&self, py: Python<'_>) -> usize {
        self.values.bind(py).len()
    }

    /// `row[i]` (negative from the end), `row[a:b]` (a tuple) or `row["column"]`; an index out of
    /// range or an unknown name raises `IndexError` (as `sqlite3.Row` does).
    fn __getitem__<'py>(
        &self,
        py: Python<'py>,
        key: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let values = self.values.bind(py);
        if let Ok(name) = key.cast::<PyString>() {
            let name = name.to_cow()?;
            return match self.position(&name) {
                Some(i) => values.get_item(i),
                None => Err(PyIndexError::new_err(format!("no column named {name:?}"))),
            };
        }
        if key.cast::<PySlice>().is_ok() {
            return values.as_any().get_item(key);
        }
        let i: isize = key.extract().map_err(|_| {
            PyIndexError::new_err("a row is indexed by an int, a slice or a column name (str)")
        })?;
        let n = values.len() as isize;
        let j = if i < 0 { i + n } else { i };
        if !(0..n).contains(&j) {
            return Err(PyIndexError::new_err(format!(
                "row index {i} out of range for {n} column(s)"
            )));
        }
        values.get_item(j as usize)
    }

    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.values
            .bind(py)
            .as_any()
            .try_iter()
            .map(Bound::into_any)
    }

    fn __contains__(&self, py: Python<'_>, value: &Bound<'_, PyAny>) -> PyResult<bool> {
        self.values.bind(py).contains(value)
    }

    /// The column names, in order (a list, as `sqlite3.Row.keys()`).
    fn keys<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        PyList::new(py, self.columns.bind(py).iter())
    }

    /// The values as a tuple.
    fn as_tuple<'py>(&self, py: Python<'py>) -> Bound<'py, PyTuple> {
        self.values.bind(py).clone()
    }

    /// The row as a dict from column name to value (a later column of the same name wins).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        for (k, v) in self
            .columns
            .bind(py)
            .iter()
            .zip(self.values.bind(py).iter())
        {
            d.set_item(k, v)?;
        }
        Ok(d)
    }

    fn __richcmp__<'py>(
        &self,
        py: Python<'py>,
        other: &Bound<'py, PyAny>,
        op: CompareOp,
    ) -> PyResult<Py<PyAny>> {
        let values = self.values.bind(py);
        let equal = if let Ok(row) = other.cast::<Row>() {
            let row = row.get();
            values.eq(row.values.bind(py))? && self.columns.bind(py).eq(row.columns.bind(py))?
        } else if other.cast::<PyTuple>().is_ok() {
            values.eq(other)?
        } else {
            return Ok(py.NotImplemented());
        };
        match op {
            CompareOp::Eq => equal.into_py_any(py),
            CompareOp::Ne => (!equal).into_py_any(py),
            _ => Ok(py.NotImplemented()),
        }
    }

    fn __hash__(&self, py: Python<'_>) -> PyResult<isize> {
        self.values.bind(py).hash()
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let mut s = String::from("Row(");
        for (i, (k, v)) in self
            .columns
            .bind(py)
            .iter()
            .zip(self.values.bind(py).iter())
            .enumerate()
        {
            if i > 0 {
                s.push_str(", ");
            }
            s.push_str(&k.str()?.to_string());
            s.push('=');
            s.push_str(&v.repr()?.to_string());
        }
        s.push(')');
        Ok(s)
    }
}

/// `type name` of a Python object, for messages.
fn type_name(o: &Bound<'_, PyAny>) -> String {
    o.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".into())
}

/// One parameter value: `None`, `bool` (as 0/1), `int` (in the `i64` range), `float`, `str`,
/// `bytes`/`bytearray`/`memoryview` (a blob). `what` names the parameter in an error.
fn value(o: &Bound<'_, PyAny>, what: &dyn Fn() -> String) -> PyResult<Value> {
    if o.is_none() {
        return Ok(Value::Null);
    }
    if let Ok(b) = o.cast::<PyBool>() {
        return Ok(Value::Integer(i64::from(b.is_true())));
    }
    if let Ok(i) = o.cast::<PyInt>() {
        return i.extract::<i64>().map(Value::Integer).map_err(|_| {
            invalid(format!(
                "{}: the int {} does not fit SQLite's 64-bit integer (-2**63 ..= 2**63-1): bind it as str or bytes",
                what(),
                i.repr().map(|r| r.to_string()).unwrap_or_default()
            ))
        });
    }
    if let Ok(f) = o.cast::<PyFloat>() {
        return Ok(Value::Real(f.value()));
    }
    if o.cast::<PyString>().is_ok() {
        return args::string(o)
            .map(Value::Text)
            .map_err(|e| invalid(format!("{}: {}", what(), e.value(o.py()))));
    }
    if let Ok(b) = o.cast::<PyBytes>() {
        return Ok(Value::Blob(b.as_bytes().to_vec()));
    }
    if let Ok(b) = o.cast::<PyByteArray>() {
        return Ok(Value::Blob(b.to_vec()));
    }
    if o.cast::<PyMemoryView>().is_ok() {
        let b = o.call_method0("tobytes")?;
        let b = b.cast::<PyBytes>()?;
        return Ok(Value::Blob(b.as_bytes().to_vec()));
    }
    Err(invalid(format!(
        "{}: expected None, bool, int, float, str, bytes, bytearray or memoryview, got {}",
        what(),
        type_name(o)
    )))
}

/// The parameters of one statement: a tuple or list (by position) or a dict / any mapping (by name,
/// with or without the `:`/`@`/`$` prefix). `set` is the parameter set's index in `executemany`.
pub fn params(o: &Bound<'_, PyAny>, set: Option<usize>) -> PyResult<Params> {
    let prefix = || match set {
        Some(i) => format!("parameter set {i}: "),
        None => String::new(),
    };
    let positional = |items: &mut dyn Iterator<Item = Bound<'_, PyAny>>, n: usize| {
        let mut values = Vec::with_capacity(n);
        for (i, item) in items.enumerate() {
            values.push(value(&item, &|| {
                format!("{}parameter {} (index {i})", prefix(), i + 1)
            })?);
        }
        Ok::<_, PyErr>(Params::Positional(values))
    };
    if let Ok(t) = o.cast::<PyTuple>() {
        return positional(&mut t.iter(), t.len());
    }
    if let Ok(l) = o.cast::<PyList>() {
        return positional(&mut l.iter(), l.len());
    }
    let named = |pairs: &mut dyn Iterator<Item = (Bound<'_, PyAny>, Bound<'_, PyAny>)>| {
        let mut out = Vec::new();
        for (k, v) in pairs {
            let key = k.cast::<PyString>().map_err(|_| {
                invalid(format!(
                    "{}the parameter names (the mapping's keys) must be str, got {}",
                    prefix(),
                    type_name(&k)
                ))
            })?;
            let key = key.to_cow()?.into_owned();
            let v = value(&v, &|| format!("{}parameter {key:?}", prefix()))?;
            out.push((key, v));
        }
        Ok::<_, PyErr>(Params::Named(out))
    };
    if let Ok(d) = o.cast::<PyDict>() {
        return named(&mut d.iter());
    }
    if let Ok(m) = o.cast::<PyMapping>() {
        let mut pairs = Vec::new();
        for item in m.items()?.iter() {
            pairs.push(item.extract::<(Bound<'_, PyAny>, Bound<'_, PyAny>)>()?);
        }
        return named(&mut pairs.into_iter());
    }
    Err(invalid(format!(
        "{}params must be a tuple or list (by position) or a dict (by name), got {}",
        prefix(),
        type_name(o)
    )))
}

/// The `params` argument: omitted or `None` is no parameters.
fn opt_params(o: Option<&Bound<'_, PyAny>>) -> PyResult<Params> {
    match o {
        Some(o) if !o.is_none() => params(o, None),
        _ => Ok(Params::default()),
    }
}

/// A stored value as a Python object: `None`, `int`, `float`, `str` or `bytes`.
fn to_py(py: Python<'_>, v: Value) -> Bound<'_, PyAny> {
    match v {
        Value::Null => py.None().into_bound(py),
        Value::Integer(i) => PyInt::new(py, i).into_any(),
        Value::Real(f) => PyFloat::new(py, f).into_any(),
        Value::Text(s) => PyString::new(py, &s).into_any(),
        Value::Blob(b) => PyBytes::new(py, &b).into_any(),
    }
}

/// The column names of a result, as a tuple and as Rust strings, shared by its rows.
struct Columns {
    tuple: Py<PyTuple>,
    names: Arc<[String]>,
}

impl Columns {
    fn new(py: Python<'_>, names: Vec<String>) -> PyResult<Columns> {
        Ok(Columns {
            tuple: PyTuple::new(py, names.iter().map(|c| PyString::new(py, c)))?.unbind(),
            names: names.into(),
        })
    }
}

/// A [`Row`] over a shared column tuple.
fn row(py: Python<'_>, columns: &Columns, values: Vec<Value>) -> PyResult<Row> {
    Ok(Row {
        columns: columns.tuple.clone_ref(py),
        names: Arc::clone(&columns.names),
        values: PyTuple::new(py, values.into_iter().map(|v| to_py(py, v)))?.unbind(),
    })
}

/// `db.execute`: one statement. A short call (like `upsert_node`): `db.interrupt()` stops it.
pub fn execute(
    py: Python<'_>,
    db: &resonance::Database,
    sql: &str,
    params_obj: Option<&Bound<'_, PyAny>>,
) -> PyResult<ExecuteResult> {
    let p = opt_params(params_obj)?;
    run(py, || db.execute(sql, &p)).map(ExecuteResult::from)
}

/// `db.executemany`: one statement per parameter set, in one transaction; a long call (Ctrl-C and
/// `db.interrupt()` stop it and roll it back).
pub fn executemany(
    py: Python<'_>,
    db: &resonance::Database,
    sql: &str,
    seq: &Bound<'_, PyAny>,
) -> PyResult<ExecuteResult> {
    if seq.cast::<PyString>().is_ok()
        || seq.cast::<PyBytes>().is_ok()
        || seq.cast::<PyDict>().is_ok()
    {
        return Err(invalid(format!(
            "seq_of_params must be a sequence or iterable of parameter sets (tuples, lists or dicts), got {}",
            type_name(seq)
        )));
    }
    let mut sets = Vec::with_capacity(seq.len().unwrap_or(0));
    let iter = seq.try_iter().map_err(|_| {
        invalid(format!(
            "seq_of_params must be an iterable of parameter sets, got {}",
            type_name(seq)
        ))
    })?;
    for (i, item) in iter.enumerate() {
        sets.push(params(&item?, Some(i))?);
    }
    run_long_on(py, db, || db.execute_many(sql, &sets)).map(ExecuteResult::from)
}

/// `db.executescript`: several statements without parameters, as one unit; a long call.
pub fn executescript(py: Python<'_>, db: &resonance::Database, script: &str) -> PyResult<()> {
    run_long_on(py, db, || db.execute_batch(script))
}

/// `db.query`: every row, as [`Row`]s sharing one column tuple; a long call.
pub fn query(
    py: Python<'_>,
    db: &resonance::Database,
    sql: &str,
    params_obj: Option<&Bound<'_, PyAny>>,
) -> PyResult<Vec<Row>> {
    let p = opt_params(params_obj)?;
    let rows = run_long_on(py, db, || db.query(sql, &p))?;
    let columns = Columns::new(py, rows.columns)?;
    rows.rows
        .into_iter()
        .map(|values| row(py, &columns, values))
        .collect()
}

/// `db.query_one`: the first row or `None`. A short call (a point query): `db.interrupt()` stops it.
pub fn query_one(
    py: Python<'_>,
    db: &resonance::Database,
    sql: &str,
    params_obj: Option<&Bound<'_, PyAny>>,
) -> PyResult<Option<Row>> {
    let p = opt_params(params_obj)?;
    let Some(r) = run(py, || db.query_row(sql, &p))? else {
        return Ok(None);
    };
    let columns = Columns::new(py, r.columns)?;
    row(py, &columns, r.values).map(Some)
}
