//! Test hooks of the native module, compiled only with the `test-hooks` feature:
//! `scripts/test-python.sh` builds the module with it, no wheel does. They are private names (`_…`),
//! set on the module without entering its `__all__`, and absent from `resonance/_native.pyi`.

use pyo3::prelude::*;
use resonance::ErrorKind;

use crate::{convert, errors, run};

/// Test hook: raises the exception an engine error of kind `code` maps to, through the same mapping
/// as every call.
#[pyfunction]
fn _raise_engine_error(py: Python<'_>, code: &str) -> PyResult<()> {
    let kind = ErrorKind::from_code(code)
        .ok_or_else(|| errors::invalid(format!("unknown error code {code:?}")))?;
    let err = resonance::Error::sample(kind, format!("test error of kind {code}"));
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

/// Sets the hooks on `m` (as attributes: `add_function` would list them in `__all__`).
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.setattr(
        "_raise_engine_error",
        wrap_pyfunction!(_raise_engine_error, m)?,
    )?;
    m.setattr("_panic_in_engine", wrap_pyfunction!(_panic_in_engine, m)?)?;
    m.setattr("_vector_address", wrap_pyfunction!(_vector_address, m)?)?;
    m.setattr("_matrix_address", wrap_pyfunction!(_matrix_address, m)?)?;
    Ok(())
}
