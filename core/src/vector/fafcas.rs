//! The FAFCAS wire format of one vector (docs/vectors.md): a BLOB of little-endian `f32`, four bytes per
//! component, no header, L2 norm 1.
//!
//! This module owns encoding, decoding, validation and normalisation of single vectors and the
//! dimension check. It must not touch SQLite, keep any state, or score vectors (that is
//! [`super::kernel`] and [`super::matrix`]).

use crate::error::{Error, Result};

/// The smallest L2 norm a vector may have to be normalised; at or below it the vector is rejected.
pub const MIN_NORM: f64 = 1e-6;

/// Encodes `v` as FAFCAS bytes: little-endian `f32`, four bytes per component, no header.
pub fn encode(v: &[f32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(v.len() * 4);
    for x in v {
        out.extend_from_slice(&x.to_le_bytes());
    }
    out
}

/// The FAFCAS bytes of `v` without a copy where the machine is little-endian (the stored layout is the
/// in-memory one), else [`encode`]'s copy.
pub fn as_bytes(v: &[f32]) -> std::borrow::Cow<'_, [u8]> {
    #[cfg(target_endian = "little")]
    {
        // SAFETY: `f32` has no padding and every byte pattern is a valid `u8`; the length is exact and
        // `u8` needs no alignment. The slice borrows `v`.
        std::borrow::Cow::Borrowed(unsafe {
            std::slice::from_raw_parts(v.as_ptr().cast::<u8>(), std::mem::size_of_val(v))
        })
    }
    #[cfg(not(target_endian = "little"))]
    {
        std::borrow::Cow::Owned(encode(v))
    }
}

/// Decodes FAFCAS bytes into components.
///
/// Fails with `invalid_vector` when the length is not a multiple of 4 (the message gives the length).
/// An empty blob decodes to an empty vector; whether that is acceptable is the caller's rule.
pub fn decode(bytes: &[u8]) -> Result<Vec<f32>> {
    if !bytes.len().is_multiple_of(4) {
        return Err(Error::InvalidVector(format!(
            "a FAFCAS blob of {} bytes is not a whole number of 4-byte float32 components",
            bytes.len()
        )));
    }
    let mut out = vec![0.0f32; bytes.len() / 4];
    decode_le(bytes, &mut out);
    Ok(out)
}

/// Decodes FAFCAS bytes into `out` without allocating (the hot path of loading a matrix).
///
/// Returns `false`, leaving `out` untouched, when `bytes` is not exactly `4 * out.len()` long.
pub fn decode_into(bytes: &[u8], out: &mut [f32]) -> bool {
    if bytes.len() != out.len() * 4 {
        return false;
    }
    decode_le(bytes, out);
    true
}

fn decode_le(bytes: &[u8], out: &mut [f32]) {
    for (dst, src) in out.iter_mut().zip(bytes.chunks_exact(4)) {
        *dst = f32::from_le_bytes([src[0], src[1], src[2], src[3]]);
    }
}

/// The L2 norm of `v`, accumulated in `f64`.
pub fn l2_norm(v: &[f32]) -> f64 {
    v.iter()
        .map(|&x| {
            let x = f64::from(x);
            x * x
        })
        .sum::<f64>()
        .sqrt()
}

/// Whether `v`'s L2 norm is within `tol` of 1.
pub fn is_unit(v: &[f32], tol: f64) -> bool {
    (l2_norm(v) - 1.0).abs() <= tol
}

/// Checks a vector for writing and returns it scaled to unit length.
///
/// Rejects with `invalid_vector` an empty vector, a NaN or infinite component (the message names the
/// first such index) and a norm ≤ [`MIN_NORM`]. The norm is computed in `f64` and each component is
/// divided in `f64` before rounding back to `f32`.
pub fn validate_and_normalize(v: &[f32]) -> Result<Vec<f32>> {
    if v.is_empty() {
        return Err(Error::InvalidVector("the vector is empty".into()));
    }
    if let Some(i) = v.iter().position(|x| !x.is_finite()) {
        return Err(Error::InvalidVector(format!(
            "component {i} of {} is {} (NaN and infinite values are not allowed)",
            v.len(),
            v[i]
        )));
    }
    let norm = l2_norm(v);
    // A norm that overflowed f64 is impossible for finite f32 inputs, but keep the guard honest.
    if norm <= MIN_NORM || !norm.is_finite() {
        return Err(Error::InvalidVector(format!(
            "the vector of {} components has norm {norm:e}, at or below {MIN_NORM:e}",
            v.len()
        )));
    }
    Ok(v.iter().map(|&x| (f64::from(x) / norm) as f32).collect())
}

/// Checks that a vector of length `got` fits a database of dimension `expected`.
///
/// `context` names where the vector came from (an id, `"query"`) and ends up in the error.
pub fn check_dimension(expected: usize, got: usize, context: &str) -> Result<()> {
    if expected == got {
        Ok(())
    } else {
        Err(Error::DimensionMismatch {
            expected,
            got,
            context: context.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn as_bytes_equals_encode() {
        let v = [1.0f32, -0.5, 3.25e-7, f32::MIN_POSITIVE];
        assert_eq!(&*as_bytes(&v), encode(&v).as_slice());
    }

    use super::*;
    use proptest::prelude::*;

    #[test]
    fn encode_is_little_endian_without_header() {
        let b = encode(&[1.0, -2.5]);
        assert_eq!(b.len(), 8);
        assert_eq!(&b[..4], &1.0f32.to_le_bytes());
        assert_eq!(&b[4..], &(-2.5f32).to_le_bytes());
        assert_eq!(decode(&b).ok(), Some(vec![1.0, -2.5]));
    }

    #[test]
    fn decode_rejects_ragged_length_naming_it() {
        let e = decode(&[0u8; 7]).err().map(|e| (e.code(), e.to_string()));
        let (code, msg) = e.unwrap_or_default();
        assert_eq!(code, "invalid_vector");
        assert!(msg.contains('7'), "{msg}");
        assert_eq!(decode(&[]).ok(), Some(vec![]));
    }

    #[test]
    fn decode_into_checks_length() {
        let mut out = [9.0f32; 2];
        assert!(!decode_into(&[0u8; 4], &mut out));
        assert_eq!(out, [9.0, 9.0]);
        assert!(decode_into(&encode(&[0.5, 0.25]), &mut out));
        assert_eq!(out, [0.5, 0.25]);
    }

    #[test]
    fn validation_rejects_empty_nan_inf_and_tiny() {
        let code = |v: &[f32]| validate_and_normalize(v).err().map(|e| e.code());
        assert_eq!(code(&[]), Some("invalid_vector"));
        assert_eq!(code(&[0.0, 0.0]), Some("invalid_vector"));
        assert_eq!(code(&[1e-7, 0.0]), Some("invalid_vector"));
        assert_eq!(code(&[f32::INFINITY, 1.0]), Some("invalid_vector"));
        let msg = validate_and_normalize(&[1.0, 2.0, f32::NAN])
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(msg.contains("component 2"), "{msg}");
        assert_eq!(
            validate_and_normalize(&[3.0, 4.0]).ok(),
            Some(vec![0.6, 0.8])
        );
        // Tiny but above the floor: f64 accumulation keeps it exact.
        let v = validate_and_normalize(&[1e-5, 0.0]).unwrap_or_default();
        assert_eq!(v, vec![1.0, 0.0]);
        // Huge components do not overflow in f64.
        let v = validate_and_normalize(&[f32::MAX, f32::MAX]).unwrap_or_default();
        assert!(is_unit(&v, 1e-6));
    }

    #[test]
    fn dimension_check_names_context() {
        assert!(check_dimension(3, 3, "x").is_ok());
        let e = check_dimension(384, 3, "node a").err();
        assert!(matches!(
            e,
            Some(Error::DimensionMismatch { expected: 384, got: 3, ref context }) if context == "node a"
        ));
    }

    proptest! {
        #[test]
        fn round_trip_is_bit_exact(bits in proptest::collection::vec(any::<u32>(), 0..300)) {
            let v: Vec<f32> = bits.iter().map(|&b| f32::from_bits(b)).collect();
            let back = decode(&encode(&v)).unwrap_or_default();
            let back_bits: Vec<u32> = back.iter().map(|x| x.to_bits()).collect();
            prop_assert_eq!(back_bits, bits);
        }

        #[test]
        fn any_bytes_decode_or_fail_cleanly(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            match decode(&bytes) {
                Ok(v) => prop_assert_eq!(v.len() * 4, bytes.len()),
                Err(e) => {
                    prop_assert_eq!(e.code(), "invalid_vector");
                    prop_assert!(bytes.len() % 4 != 0);
                }
            }
            let mut out = vec![0.0f32; bytes.len() / 4];
            prop_assert_eq!(decode_into(&bytes, &mut out), bytes.len() % 4 == 0);
        }

        #[test]
        fn normalised_norm_is_one(v in proptest::collection::vec(-1e30f32..1e30f32, 1..600)) {
            match validate_and_normalize(&v) {
                Ok(u) => {
                    prop_assert_eq!(u.len(), v.len());
                    prop_assert!((l2_norm(&u) - 1.0).abs() <= 1e-6, "norm {}", l2_norm(&u));
                }
                Err(e) => {
                    prop_assert_eq!(e.code(), "invalid_vector");
                    prop_assert!(l2_norm(&v) <= MIN_NORM);
                }
            }
        }
    }
}
