//! FAFCAS vectors: encoding, validation, the SIMD dot-product kernel, bounded top-k and the in-memory
//! matrix that answers exact search without touching SQLite on a warm handle.

pub mod fafcas;
mod ids;
pub mod kernel;
pub mod matrix;
pub mod quant;
pub mod topk;

use crate::error::{Error, Result};

/// Rows of floats as one row-major matrix: the floats and the row length. Every row must have the
/// length of the first; otherwise `invalid_argument` names the row (`{what}[i]`). No rows give an
/// empty matrix of row length 0.
pub fn flatten_rows<R: AsRef<[f32]>>(rows: &[R], what: &str) -> Result<(Vec<f32>, usize)> {
    let cols = rows.first().map_or(0, |r| r.as_ref().len());
    let mut out = Vec::with_capacity(cols * rows.len());
    for (i, r) in rows.iter().enumerate() {
        let r = r.as_ref();
        if r.len() != cols {
            return Err(Error::InvalidArgument(format!(
                "{what}[{i}] has {} floats, {what}[0] has {cols}: every row must have the same length",
                r.len()
            )));
        }
        out.extend_from_slice(r);
    }
    Ok((out, cols))
}

/// Asks the kernel to back a large, still untouched allocation of `bytes` bytes at `start` with
/// transparent huge pages (fewer TLB misses while the matrix or its codes are streamed; the first touch
/// of fresh huge pages costs more, docs/vectors.md "Fresh handles"). Advisory only: failures are
/// ignored; allocations under two huge pages are left alone.
#[cfg(target_os = "linux")]
fn advise_huge_pages(start: *const u8, bytes: usize) {
    const HUGE: usize = 2 << 20;
    if bytes < 2 * HUGE {
        return;
    }
    let start = start as usize;
    let aligned = start.next_multiple_of(HUGE);
    let end = (start + bytes) / HUGE * HUGE;
    if end > aligned {
        // SAFETY: the range lies inside the allocation; MADV_HUGEPAGE changes no contents.
        unsafe {
            libc::madvise(
                aligned as *mut libc::c_void,
                end - aligned,
                libc::MADV_HUGEPAGE,
            );
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn advise_huge_pages(_start: *const u8, _bytes: usize) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flatten_rows_names_the_row_of_another_length() {
        let (flat, cols) = flatten_rows(&[vec![1.0, 2.0], vec![3.0, 4.0]], "queries").unwrap();
        assert_eq!((flat, cols), (vec![1.0, 2.0, 3.0, 4.0], 2));
        let none: [Vec<f32>; 0] = [];
        assert_eq!(flatten_rows(&none, "queries").unwrap(), (vec![], 0));
        let err = flatten_rows(&[vec![1.0, 2.0], vec![3.0]], "queries").unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid argument: queries[1] has 1 floats, queries[0] has 2: every row must have the \
             same length"
        );
    }
}
