//! Embeddings and exact top-k search (docs/vectors.md).

use std::ffi::c_char;

use resonance::{Error, SearchOptions};

use crate::options::{read_options, resonance_search_filter};
use crate::types::*;
use crate::{
    arg_floats, arg_str, guard, hand_to_caller, handle, out_ptr, resonance_status,
    take_back_from_caller,
};

fn search_options(
    k: usize,
    filter: *const resonance_search_filter,
) -> Result<SearchOptions, Error> {
    // SAFETY: NULL or a valid struct of at least `size` bytes (documented on every caller).
    unsafe { read_options(filter) }?.to_core(k)
}

/// Stores `id`'s embedding (`len` floats; validated and normalised). `RESONANCE_NOT_FOUND` when the
/// node is missing, `RESONANCE_INVALID_VECTOR` for an empty, NaN/Inf or near-zero vector,
/// `RESONANCE_DIMENSION_MISMATCH` for another length than the database's.
///
/// # Safety
/// `db` is NULL or a handle; `id` is a NUL-terminated string; `vector` holds `len` floats (NULL
/// only with `len` 0); `err_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn resonance_embedding_set(
    db: *mut resonance_db,
    id: *const c_char,
    vector: *const f32,
    len: usize,
    err_out: *mut *mut c_char,
) -> resonance_status {
    guard!(err_out, {
        let id = arg_str(id, "id")?;
        let v = arg_floats(vector, len, "vector")?;
        handle(db)?.set_embedding(id, v)
    })
}

/// Reads `id`'s embedding into `*vector_out` (free with `resonance_vector_free`); `*vector_out` is
/// NULL when the node has none. `RESONANCE_NOT_FOUND` when the node is missing,
/// `RESONANCE_INVALID_VECTOR` when the stored blob is malformed.
///
/// # Safety
/// `db` is NULL or a handle; `id` is a NUL-terminated string; `vector_out` and `err_out` are NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn resonance_embedding_get(
    db: *mut resonance_db,
    id: *const c_char,
    vector_out: *mut *mut resonance_vector,
    err_out: *mut *mut c_char,
) -> resonance_status {
    guard!(err_out, {
        let out = out_ptr(vector_out, "vector_out")?;
        *out = std::ptr::null_mut();
        let id = arg_str(id, "id")?;
        if let Some(v) = handle(db)?.get_embedding(id)? {
            let (data, len) = crate::into_array(v);
            *out = hand_to_caller(resonance_vector { data, len }, "vector");
        }
        Ok(())
    })
}

/// Frees a vector. NULL (or an already freed vector) is a no-op.
#[no_mangle]
pub extern "C" fn resonance_vector_free(vector: *mut resonance_vector) {
    let _ = std::panic::catch_unwind(|| drop(take_back_from_caller(vector, "vector")));
}

/// Exact top-`k` search by dot product with `query` (`len` floats, normalised first), into
/// `*hits_out` (free with `resonance_hits_free`): scores descending, ties by id ascending, only
/// scores > 0 unless `filter->has_min_score`. `k` = 0 returns an empty list; so does a database
/// without vectors. `filter` may be NULL.
///
/// # Safety
/// `db` is NULL or a handle; `query` holds `len` floats; `filter` is NULL or valid; `hits_out` and
/// `err_out` are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn resonance_vector_search(
    db: *mut resonance_db,
    query: *const f32,
    len: usize,
    k: usize,
    filter: *const resonance_search_filter,
    hits_out: *mut *mut resonance_hits,
    err_out: *mut *mut c_char,
) -> resonance_status {
    guard!(err_out, {
        let out = out_ptr(hits_out, "hits_out")?;
        *out = std::ptr::null_mut();
        let q = arg_floats(query, len, "query")?;
        let opts = search_options(k, filter)?;
        let hits = handle(db)?.search(q, &opts)?;
        *out = hand_to_caller(resonance_hits::from_core(hits), "hits");
        Ok(())
    })
}

/// Top-`k` of the nodes most like `id`'s stored vector, excluding `id` itself, into `*hits_out`
/// (free with `resonance_hits_free`). `RESONANCE_NOT_FOUND` when the node is missing or has no
/// usable embedding.
///
/// # Safety
/// `db` is NULL or a handle; `id` is a NUL-terminated string; `filter` is NULL or valid; `hits_out`
/// and `err_out` are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn resonance_vector_search_like(
    db: *mut resonance_db,
    id: *const c_char,
    k: usize,
    filter: *const resonance_search_filter,
    hits_out: *mut *mut resonance_hits,
    err_out: *mut *mut c_char,
) -> resonance_status {
    guard!(err_out, {
        let out = out_ptr(hits_out, "hits_out")?;
        *out = std::ptr::null_mut();
        let id = arg_str(id, "id")?;
        let opts = search_options(k, filter)?;
        let hits = handle(db)?.search_like(id, &opts)?;
        *out = hand_to_caller(resonance_hits::from_core(hits), "hits");
        Ok(())
    })
}

/// Many searches at once: `queries` holds `n_queries` row-major vectors of `dim` floats each. The
/// result `*batch_out` (free with `resonance_hits_batch_free`) has one hit list per query, in order.
/// `n_queries` = 0 gives an empty batch.
///
/// # Safety
/// `db` is NULL or a handle; `queries` holds `n_queries * dim` floats; `filter` is NULL or valid;
/// `batch_out` and `err_out` are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn resonance_vector_search_batch(
    db: *mut resonance_db,
    queries: *const f32,
    n_queries: usize,
    dim: u32,
    k: usize,
    filter: *const resonance_search_filter,
    batch_out: *mut *mut resonance_hits_batch,
    err_out: *mut *mut c_char,
) -> resonance_status {
    guard!(err_out, {
        let out = out_ptr(batch_out, "batch_out")?;
        *out = std::ptr::null_mut();
        let total = n_queries.checked_mul(dim as usize).ok_or_else(|| {
            Error::InvalidArgument(format!("{n_queries} queries of {dim} floats overflow"))
        })?;
        if n_queries > 0 && dim == 0 {
            return Err(Error::InvalidVector("queries of dimension 0".into()));
        }
        let q = arg_floats(queries, total, "queries")?;
        let opts = search_options(k, filter)?;
        let lists = handle(db)?.search_batch(q, n_queries, &opts)?;
        let (items, len) =
            crate::into_array(lists.into_iter().map(resonance_hits::from_core).collect());
        *out = hand_to_caller(resonance_hits_batch { items, len }, "hits_batch");
        Ok(())
    })
}

/// Frees a hit list. NULL (or an already freed list) is a no-op. Never pass an element of a
/// `resonance_hits_batch`: free the batch.
#[no_mangle]
pub extern "C" fn resonance_hits_free(hits: *mut resonance_hits) {
    let _ = std::panic::catch_unwind(|| drop(take_back_from_caller(hits, "hits")));
}

/// Frees a batch of hit lists. NULL (or an already freed batch) is a no-op.
#[no_mangle]
pub extern "C" fn resonance_hits_batch_free(batch: *mut resonance_hits_batch) {
    let _ = std::panic::catch_unwind(|| drop(take_back_from_caller(batch, "hits_batch")));
}
