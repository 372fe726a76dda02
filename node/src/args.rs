//! Argument checks shared by every export: whole numbers as JS gives them (`f64`, checked here
//! because napi-rs' own integer conversions wrap or truncate without a word), input fields where
//! `null` means "not given", and vectors. Nothing here touches the database.

use napi::bindgen_prelude::{Either, Float32Array, Null};

use crate::error::{invalid, Result};

/// JavaScript's largest exact integer, 2^53 − 1: the cap of a count, limit or seed.
pub const MAX_SAFE: f64 = 9_007_199_254_740_991.0;

/// A whole-number argument (a count, a limit, a seed, milliseconds…) as JS gives it: a finite
/// integer from 0 to `max`, else `invalid_argument`. Such arguments are declared `f64` and checked
/// here because napi-rs' own `u32` conversion wraps `-1` to 4294967295, turns NaN, ±Infinity and
/// 2^32 into 0 and truncates 1.5 to 1, all without a word.
pub fn whole_number(v: f64, what: &str, max: f64) -> Result<u64> {
    if v.is_finite() && v.fract() == 0.0 && (0.0..=max).contains(&v) {
        Ok(v as u64)
    } else {
        let got = if v.is_infinite() {
            if v > 0.0 { "Infinity" } else { "-Infinity" }.to_string()
        } else {
            v.to_string() // NaN prints as in JS
        };
        Err(invalid(format!(
            "{what} must be a whole number from 0 to {max}, got {got}"
        )))
    }
}

/// The value of an input field that may be absent, `undefined` or `null`: all three mean "not
/// given". (A plain `Option` field of a napi-rs object refuses `null`, so a node or edge read back,
/// whose absent fields are `null`, could not be written back.)
pub fn unless_nullish<T: Clone>(v: &Option<Either<T, Null>>) -> Option<T> {
    match v {
        Some(Either::A(x)) => Some(x.clone()),
        _ => None,
    }
}

/// [`whole_number`] of an optional argument.
pub fn opt_whole_number(v: Option<f64>, what: &str, max: f64) -> Result<Option<u64>> {
    v.map(|v| whole_number(v, what, max)).transpose()
}

/// [`opt_whole_number`] capped at `u32::MAX` (a core field of type `u32`).
pub fn opt_u32(v: Option<f64>, what: &str) -> Result<Option<u32>> {
    Ok(opt_whole_number(v, what, f64::from(u32::MAX))?.map(|v| v as u32))
}

/// A vector as given by JS: a `Float32Array` (copied) or an array of numbers.
pub type JsVector = Either<Float32Array, Vec<f64>>;

/// Copies a JS vector into an owned `Vec<f32>` (so the caller may reuse its array at once).
pub fn vector(v: &JsVector) -> Vec<f32> {
    match v {
        Either::A(a) => a.to_vec(),
        Either::B(b) => b.iter().map(|x| *x as f32).collect(),
    }
}
