//! The in-memory vector matrix that answers exact top-k search on a warm handle (docs/vectors.md).
//!
//! This module owns a contiguous, 64-byte aligned, row-major block of unit vectors of one dimension,
//! the id → row map, the interned domain and node-type labels, and the search itself: a fused scan
//! (score and threshold in one pass, parallel over row chunks when the matrix is large) for one query,
//! and for a batch the kernel's register-blocked matrix product with the threshold fused in (or
//! `matrixmultiply`'s sgemm on row blocks for kernels without one). It must not touch SQLite, decode
//! BLOBs or normalise vectors: the store feeds it vectors that `fafcas` already validated.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering as AtomicOrdering};
use std::sync::{Arc, OnceLock};

use rayon::prelude::*;

use super::fafcas::check_dimension;
use super::ids::Ids;
use super::kernel::{Kernel, PackedQueries};
use super::quant::{fma_chain, CodeKernel, Codes, KthLower, QueryCodes, Terms};
use super::topk::TopK;
use crate::error::{Error, Result};
use crate::pool;

/// No label (domain or node type) for a row.
const NO_LABEL: u32 = u32::MAX;
/// Rows scored per kernel call in the one-query scan (the scores stay in L1).
const SCAN_BLOCK: usize = 256;
/// Below this many stored floats a search runs on the calling thread only.
const PARALLEL_MIN_FLOATS: usize = 1 << 19;
/// Rows of the matrix per sgemm call in the general batch search.
const BATCH_ROW_BLOCK: usize = 256;
/// Queries per sgemm call in the general batch search (bounds the scratch to `BATCH_QUERY_BLOCK * BATCH_ROW_BLOCK`).
const BATCH_QUERY_BLOCK: usize = 256;
/// Below this many rows a search scans the f32 rows only (the codes would not pay for themselves).
const QUANT_MIN_ROWS: usize = 4096;
/// The quantised pass runs only when `k` is at most this fraction of the rows (`n / QUANT_MAX_K_PART`):
/// with a larger k most rows are rescored anyway.
const QUANT_MAX_K_PART: usize = 32;
/// The widest rows that take the quantised pass: the int8 kernels sum in i32, and the biased VNNI sum
/// `Σ (p + 128)·c` stays below 2^31 only while `255 · 127 · dim` does.
const QUANT_MAX_DIM: usize = 1 << 15;
/// Rows of codes per int8 kernel call (96 KiB of codes at 384 dimensions: they stay in L2 while every
/// query of a batch passes over them).
const CODE_BLOCK: usize = 256;
/// Queries whose code dot products one kernel call computes together (each row is loaded once for
/// all of them).
const QUERY_GROUP: usize = super::quant::QUERY_GROUP;

/// One cache line of floats: the storage unit that makes every row start 64-byte aligned when the
/// dimension is a multiple of 16.
#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct Line([f32; 16]);

const ZERO_LINE: Line = Line([0.0; 16]);

/// Aligned float storage: `len` floats inside `lines`.
#[derive(Clone, Default)]
struct Store {
    lines: Vec<Line>,
    len: usize,
}

impl Store {
    fn as_slice(&self) -> &[f32] {
        // SAFETY: `Line` is `repr(C)` around `[f32; 16]` with no padding (size 64 = 16 * 4), so the
        // lines are `16 * lines.len()` contiguous initialised floats, and `len <= 16 * lines.len()`.
        unsafe { std::slice::from_raw_parts(self.lines.as_ptr().cast::<f32>(), self.len) }
    }

    fn as_mut_slice(&mut self) -> &mut [f32] {
        // SAFETY: as in `as_slice`, with unique access through `&mut self`.
        unsafe { std::slice::from_raw_parts_mut(self.lines.as_mut_ptr().cast::<f32>(), self.len) }
    }

    fn reserve_floats(&mut self, extra: usize) {
        let need = self.len.saturating_add(extra).div_ceil(16);
        if need > self.lines.capacity() {
            let cap = need.max(self.lines.capacity() * 2);
            let mut fresh: Vec<Line> = Vec::with_capacity(cap);
            super::advise_huge_pages(
                fresh.as_ptr().cast(),
                fresh.capacity() * std::mem::size_of::<Line>(),
            );
            fresh.extend_from_slice(&self.lines);
            self.lines = fresh;
        }
    }

    fn resize(&mut self, len: usize) {
        if len > self.len {
            self.reserve_floats(len - self.len);
        }
        self.lines.resize(len.div_ceil(16), ZERO_LINE);
        self.len = len;
    }

    fn clear(&mut self) {
        self.lines = Vec::new();
        self.len = 0;
    }
}

/// Interned label strings (domains and node types share one table).
#[derive(Clone, Default)]
struct Labels {
    names: Vec<String>,
    codes: HashMap<String, u32>,
}

impl Labels {
    fn intern(&mut self, name: Option<&str>) -> u32 {
        let Some(name) = name else { return NO_LABEL };
        if let Some(&c) = self.codes.get(name) {
            return c;
        }
        let c = self.names.len() as u32;
        self.names.push(name.to_string());
        self.codes.insert(name.to_string(), c);
        c
    }

    fn name(&self, code: u32) -> Option<&str> {
        self.names.get(code as usize).map(String::as_str)
    }
}

/// How a search narrows and bounds its results.
#[derive(Clone, Debug, PartialEq)]
pub struct SearchParams {
    /// How many hits at most; 0 returns nothing; more than the rows returns all that pass.
    pub k: usize,
    /// `None`: only scores > 0 are returned (the application's rule); `Some(m)`: scores ≥ m.
    pub min_score: Option<f32>,
    /// Only rows whose domain is exactly this.
    pub domain: Option<String>,
    /// Only rows whose node type is exactly this.
    pub node_type: Option<String>,
    /// Drop this id from the results (`search_like` excludes the node itself).
    pub exclude: Option<String>,
    /// At most this many threads; `None` uses rayon's global pool (all cores), `Some(1)` the caller's
    /// thread only. `Some(0)` is an `invalid_argument`.
    pub threads: Option<usize>,
}

impl Default for SearchParams {
    /// `k = 10`, no score floor beyond "> 0", no filters, all cores.
    fn default() -> Self {
        SearchParams {
            k: 10,
            min_score: None,
            domain: None,
            node_type: None,
            exclude: None,
            threads: None,
        }
    }
}

/// One search result.
#[derive(Clone, Debug, PartialEq)]
pub struct Hit {
    /// The node id.
    pub id: String,
    /// The dot product with the query (the cosine, for unit vectors).
    pub score: f32,
}

/// A contiguous row-major matrix of unit vectors of one dimension, with an id, a domain and a node
/// type per row.
///
/// Row order is arbitrary and changes on [`VectorMatrix::remove`] (swap-remove); results never depend
/// on it.
#[derive(Clone)]
pub struct VectorMatrix {
    dim: usize,
    data: Store,
    /// The ids in row order and the id → row map (compact: docs/vectors.md, "Bounded memory").
    ids: Ids,
    domains: Vec<u32>,
    types: Vec<u32>,
    labels: Labels,
    /// The int8 codes of the rows, built by the first search that uses them and then kept in step.
    codes: OnceLock<Codes>,
    /// Whether large searches may take the int8 first pass (on by default; results are the same).
    quantised: bool,
    /// Set by the first search that could have used codes not built yet: the next one builds them
    /// (a handle that searches once, like a CLI command, never pays for the codes).
    codes_wanted: Arc<AtomicBool>,
    /// Whether the f32 rows are kept; false for a codes-only matrix ([`VectorMatrix::codes_only`]),
    /// whose `data` stays empty and whose codes always exist.
    f32_rows: bool,
}

/// Where a codes-only matrix ([`VectorMatrix::codes_only`]) reads the f32 rows its rescore needs
/// (docs/vectors.md, "Bounded memory").
pub trait RowSource {
    /// Writes the f32 rows of `m` at the row indices `rows`, `m.dim()` floats each and exactly as
    /// they were given to [`VectorMatrix::upsert`], into `out` (cleared first).
    fn read_rows(&self, m: &VectorMatrix, rows: &[u32], out: &mut Vec<f32>) -> Result<()>;

    /// Called (before the search fails) when a row read back does not quantise to the codes the
    /// matrix holds for it: the matrix no longer matches what the source reads.
    fn stale(&self);
}

/// One query's result of the int8 first pass: the k largest lower ends, and the candidate rows with
/// their upper ends.
type FirstPass = (KthLower, Vec<(u32, f32)>);

/// Candidate rows read from a [`RowSource`] per call during a codes-only rescore.
const FETCH_ROWS: usize = 64;

impl std::fmt::Debug for VectorMatrix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VectorMatrix")
            .field("dim", &self.dim)
            .field("len", &self.len())
            .finish_non_exhaustive()
    }
}

/// The filters of one search, resolved against the matrix.
struct Filter {
    domain: u32,
    node_type: u32,
    exclude: Option<u32>,
    /// Scores must be ≥ this (then also > 0 when `strict_positive`).
    floor: f32,
    strict_positive: bool,
}

impl Filter {
    #[inline]
    fn labels_pass(&self, m: &VectorMatrix, row: usize) -> bool {
        (self.domain == NO_LABEL || m.domains[row] == self.domain)
            && (self.node_type == NO_LABEL || m.types[row] == self.node_type)
    }

    fn has_labels(&self) -> bool {
        self.domain != NO_LABEL || self.node_type != NO_LABEL
    }

    /// Everything but the threshold, for a row whose score already reached the cut.
    #[inline]
    fn passes(&self, m: &VectorMatrix, row: usize, score: f32) -> bool {
        (!self.strict_positive || score > 0.0)
            && self.exclude != Some(row as u32)
            && self.labels_pass(m, row)
    }
}

impl VectorMatrix {
    /// An empty matrix for vectors of `dim` components.
    pub fn new(dim: usize) -> VectorMatrix {
        VectorMatrix {
            dim,
            data: Store::default(),
            ids: Ids::default(),
            domains: Vec::new(),
            types: Vec::new(),
            labels: Labels::default(),
            codes: OnceLock::new(),
            quantised: true,
            codes_wanted: Arc::new(AtomicBool::new(false)),
            f32_rows: true,
        }
    }

    /// Whether a codes-only matrix can hold vectors of `dim` components: the int8 kernels sum in
    /// i32, which bounds the dimension (see [`QUANT_MAX_DIM`]).
    pub fn codes_fit(dim: usize) -> bool {
        (1..=QUANT_MAX_DIM).contains(&dim)
    }

    /// An empty matrix that keeps only the int8 codes of its rows (with their ids and labels), not
    /// the f32 rows: about a quarter of the memory. It is searched with
    /// [`VectorMatrix::search_codes_only`], which rescores the candidates of the exact int8 first pass
    /// from f32 rows read through a [`RowSource`]; the hits are those of the f32 matrix. A dimension
    /// for which [`VectorMatrix::codes_fit`] is false is `invalid_argument`.
    pub fn codes_only(dim: usize) -> Result<VectorMatrix> {
        if !VectorMatrix::codes_fit(dim) {
            return Err(Error::InvalidArgument(format!(
                "a codes-only matrix holds 1 to {QUANT_MAX_DIM} dimensions, not {dim}"
            )));
        }
        let mut m = VectorMatrix::new(dim);
        m.f32_rows = false;
        m.codes = OnceLock::from(Codes::new(dim));
        Ok(m)
    }

    /// Whether the f32 rows are held (false for a codes-only matrix).
    pub fn holds_f32(&self) -> bool {
        self.f32_rows
    }

    /// An empty matrix with room for `rows` rows (one allocation when loading a whole table).
    pub fn with_capacity(dim: usize, rows: usize) -> VectorMatrix {
        let mut m = VectorMatrix::new(dim);
        m.reserve(rows);
        m
    }

    /// Makes room for `additional` more rows.
    pub fn reserve(&mut self, additional: usize) {
        if self.f32_rows {
            self.data
                .reserve_floats(additional.saturating_mul(self.dim));
        } else if let Some(c) = self.codes.get_mut() {
            c.reserve(additional);
        }
        self.ids.reserve(additional);
        self.domains.reserve(additional);
        self.types.reserve(additional);
    }

    /// The dimension of every row.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// The number of rows.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether the matrix holds no row.
    pub fn is_empty(&self) -> bool {
        self.ids.len() == 0
    }

    /// Whether a row has this id.
    pub fn contains(&self, id: &str) -> bool {
        self.ids.find(id).is_some()
    }

    /// The vector stored for `id` (`None` in a codes-only matrix, which holds no f32 row).
    pub fn get(&self, id: &str) -> Option<&[f32]> {
        let r = self.ids.find(id)? as usize;
        self.data.as_slice().get(r * self.dim..(r + 1) * self.dim)
    }

    /// The domain and node type stored for `id`.
    pub fn labels(&self, id: &str) -> Option<(Option<&str>, Option<&str>)> {
        let r = self.ids.find(id)? as usize;
        Some((
            self.labels.name(self.domains[r]),
            self.labels.name(self.types[r]),
        ))
    }

    /// The ids, in row order (arbitrary; it changes when rows are removed).
    pub fn ids(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        (0..self.ids.len()).map(|r| self.ids.get(r))
    }

    /// The id of row `r`.
    pub fn id(&self, r: usize) -> Option<&str> {
        (r < self.ids.len()).then(|| self.ids.get(r))
    }

    /// The row index of `id`.
    pub fn row_of(&self, id: &str) -> Option<u32> {
        self.ids.find(id)
    }

    /// The whole matrix, row-major, `len() * dim()` floats (empty for a codes-only matrix).
    pub fn as_slice(&self) -> &[f32] {
        self.data.as_slice()
    }

    /// Inserts a row, or replaces the vector and labels of an existing one in place.
    ///
    /// `unit` should be unit length (the store normalises with `fafcas` first); a vector of another
    /// length is `dimension_mismatch` naming the id, an empty vector or a non-finite component is
    /// `invalid_vector`. A zero vector is accepted and scores 0 against everything.
    pub fn upsert(
        &mut self,
        id: &str,
        unit: &[f32],
        domain: Option<&str>,
        node_type: Option<&str>,
    ) -> Result<()> {
        if unit.len() != self.dim {
            check_dimension(self.dim, unit.len(), &format!("node {id}"))?;
        }
        if unit.is_empty() {
            return Err(Error::InvalidVector(format!(
                "node {id}: the vector is empty"
            )));
        }
        if let Some(i) = unit.iter().position(|x| !x.is_finite()) {
            return Err(Error::InvalidVector(format!(
                "node {id}: component {i} is {}",
                unit[i]
            )));
        }
        self.place(id, unit, None, domain, node_type)
    }

    /// The stride of a codes-only matrix's codes (`None` when the matrix holds the f32 rows): the
    /// length of the codes [`VectorMatrix::upsert_loaded`] takes per row.
    pub(crate) fn loaded_code_stride(&self) -> Option<usize> {
        if self.f32_rows {
            None
        } else {
            self.codes.get().map(Codes::stride)
        }
    }

    /// [`VectorMatrix::upsert`] of a row the load already decoded and checked (`dim` finite
    /// components, unit or zero), with, for a codes-only matrix, its codes and terms as
    /// `quant::quantize_into` gave them (`loaded_code_stride()` bytes): the same matrix as `upsert`
    /// of the row, without checking or quantising it again on the calling thread.
    pub(crate) fn upsert_loaded(
        &mut self,
        id: &str,
        unit: &[f32],
        code: Option<(&[i8], Terms)>,
        domain: Option<&str>,
        node_type: Option<&str>,
    ) -> Result<()> {
        debug_assert_eq!(unit.len(), self.dim);
        debug_assert!(unit.iter().all(|x| x.is_finite()));
        debug_assert_eq!(code.is_some(), !self.f32_rows);
        self.place(id, unit, code, domain, node_type)
    }

    /// Tests only: whether `other` holds the same codes (or neither holds any).
    #[cfg(test)]
    pub(crate) fn same_codes(&self, other: &VectorMatrix) -> bool {
        match (self.codes.get(), other.codes.get()) {
            (Some(a), Some(b)) => a.same_as(b),
            (None, None) => true,
            _ => false,
        }
    }

    /// Inserts or replaces a checked row (`code`: its precomputed codes, else quantised here when
    /// the matrix keeps codes).
    fn place(
        &mut self,
        id: &str,
        unit: &[f32],
        code: Option<(&[i8], Terms)>,
        domain: Option<&str>,
        node_type: Option<&str>,
    ) -> Result<()> {
        let d = self.dim;
        let dom = self.labels.intern(domain);
        let typ = self.labels.intern(node_type);
        let h = self.ids.hash_of(id);
        let set_codes = |c: &mut Codes, r: usize| match code {
            Some((codes, t)) => c.set_quantized(r, codes, t),
            None => c.set(r, unit),
        };
        if let Some(r) = self.ids.find_hashed(id, h) {
            let r = r as usize;
            if self.f32_rows {
                self.data.as_mut_slice()[r * d..(r + 1) * d].copy_from_slice(unit);
            }
            self.domains[r] = dom;
            self.types[r] = typ;
            if let Some(c) = self.codes.get_mut() {
                set_codes(c, r);
            }
            return Ok(());
        }
        let r = self.ids.len();
        if r >= NO_LABEL as usize {
            return Err(Error::InvalidArgument(format!(
                "the vector matrix is full ({r} rows); cannot add node {id}"
            )));
        }
        if self.f32_rows {
            self.data.resize((r + 1) * d);
            self.data.as_mut_slice()[r * d..].copy_from_slice(unit);
        }
        self.ids.push_hashed(id, h);
        self.domains.push(dom);
        self.types.push(typ);
        if let Some(c) = self.codes.get_mut() {
            set_codes(c, r);
        }
        Ok(())
    }

    /// Changes the domain and node type of `id` (the node's metadata changed, its vector did not).
    /// Returns whether the id was present.
    pub fn set_labels(&mut self, id: &str, domain: Option<&str>, node_type: Option<&str>) -> bool {
        let Some(r) = self.ids.find(id) else {
            return false;
        };
        self.domains[r as usize] = self.labels.intern(domain);
        self.types[r as usize] = self.labels.intern(node_type);
        true
    }

    /// Removes the row of `id` in O(1) by moving the last row into its place. Returns whether it was
    /// present.
    pub fn remove(&mut self, id: &str) -> bool {
        let Some(r) = self.ids.find(id) else {
            return false;
        };
        let r = r as usize;
        let last = self.ids.len() - 1;
        let d = self.dim;
        if r != last && self.f32_rows {
            self.data
                .as_mut_slice()
                .copy_within(last * d..(last + 1) * d, r * d);
        }
        self.ids.swap_remove(r);
        self.domains.swap_remove(r);
        self.types.swap_remove(r);
        if self.f32_rows {
            self.data.resize(last * d);
        }
        if let Some(c) = self.codes.get_mut() {
            c.swap_remove(r);
        }
        true
    }

    /// Turns the int8 first pass (docs/vectors.md, "The quantised first pass") on or off. It is on by
    /// default and never changes a result, only the time a large search takes and the memory of the
    /// codes (one byte per component, built by the first search that uses them); off, every search
    /// scans the f32 rows and the codes are dropped. A codes-only matrix keeps its codes (they are all
    /// it holds).
    pub fn set_quantised(&mut self, on: bool) {
        if !self.f32_rows {
            return;
        }
        self.quantised = on;
        if !on {
            self.codes = OnceLock::new();
        }
    }

    /// Bytes held by the int8 codes (0 until a search built them).
    pub fn code_bytes(&self) -> usize {
        self.codes.get().map_or(0, Codes::bytes)
    }

    /// Removes every row (the dimension stays).
    pub fn clear(&mut self) {
        self.data.clear();
        self.ids.clear();
        self.domains.clear();
        self.types.clear();
        self.labels = Labels::default();
        self.codes = if self.f32_rows {
            OnceLock::new()
        } else {
            OnceLock::from(Codes::new(self.dim))
        };
    }

    #[inline]
    fn by_id(&self) -> impl Fn(u32, u32) -> Ordering + Copy + '_ {
        move |a, b| {
            self.ids
                .bytes_of(a as usize)
                .cmp(self.ids.bytes_of(b as usize))
        }
    }

    /// Resolves the filters; `None` when no row can pass (an unknown domain or type, k = 0).
    fn filter(&self, params: &SearchParams) -> Result<Option<Filter>> {
        if let Some(m) = params.min_score {
            if m.is_nan() {
                return Err(Error::InvalidArgument("min_score is NaN".into()));
            }
        }
        if params.threads == Some(0) {
            return Err(Error::InvalidArgument(
                "threads must be at least 1 (or unset for all cores)".into(),
            ));
        }
        if params.k == 0 || self.is_empty() {
            return Ok(None);
        }
        let code = |name: &Option<String>| match name {
            None => Some(NO_LABEL),
            Some(n) => self.labels.codes.get(n.as_str()).copied(),
        };
        let (Some(domain), Some(node_type)) = (code(&params.domain), code(&params.node_type))
        else {
            return Ok(None);
        };
        Ok(Some(Filter {
            domain,
            node_type,
            exclude: params.exclude.as_deref().and_then(|id| self.ids.find(id)),
            floor: params.min_score.unwrap_or(0.0),
            strict_positive: params.min_score.is_none(),
        }))
    }

    fn hits(&self, top: TopK) -> Vec<Hit> {
        top.into_sorted(self.by_id())
            .into_iter()
            .map(|c| Hit {
                id: self.ids.get(c.row as usize).to_string(),
                score: c.score,
            })
            .collect()
    }

    /// Exact top-k by dot product with `query_unit` (see [`SearchParams`] for the rules): hits sorted
    /// by score descending, ties by id ascending.
    ///
    /// A query of another length is `dimension_mismatch` with context `"query"`.
    pub fn search(&self, query_unit: &[f32], params: &SearchParams) -> Result<Vec<Hit>> {
        self.search_with(Kernel::best(), query_unit, params)
    }

    /// [`VectorMatrix::search`] with a given kernel (the tests run every available one).
    fn search_with(
        &self,
        kernel: Kernel,
        query_unit: &[f32],
        params: &SearchParams,
    ) -> Result<Vec<Hit>> {
        let codes = self.quantised_pays(params.k).then(CodeKernel::best);
        self.search_on(kernel, codes, query_unit, params)
    }

    /// One search with a given f32 kernel, through the int8 codes with `codes`' kernel or over the
    /// f32 rows only (`None`); both give the same hits.
    fn search_on(
        &self,
        kernel: Kernel,
        codes: Option<CodeKernel>,
        query_unit: &[f32],
        params: &SearchParams,
    ) -> Result<Vec<Hit>> {
        check_dimension(self.dim, query_unit.len(), "query")?;
        self.check_f32_rows()?;
        let Some(f) = self.filter(params)? else {
            return Ok(Vec::new());
        };
        let n = self.len();
        if let Some(ck) = codes {
            let exact = |r: usize, _q: usize| kernel.dot(query_unit, self.row(r));
            let mut tops = self.search_codes(ck, query_unit, params, &f, exact)?;
            return Ok(self.hits(tops.pop().unwrap_or_else(|| TopK::new(0))));
        }
        let threads = self.threads_for(params.threads);
        if threads <= 1 {
            return Ok(self.hits(self.scan(kernel, query_unit, 0..n, &f, params.k)));
        }
        let chunks = row_chunks(n, threads * 4, 4096);
        let by_id = self.by_id();
        let top = pool::install(params.threads, || {
            chunks
                .into_par_iter()
                .map(|r| self.scan(kernel, query_unit, r, &f, params.k))
                .reduce(
                    || TopK::new(params.k),
                    |mut a, b| {
                        a.merge(b, by_id);
                        a
                    },
                )
        })?;
        Ok(self.hits(top))
    }

    /// The nodes most similar to `id`: [`VectorMatrix::search`] with its stored vector as the query
    /// and `id` itself excluded (whatever `params.exclude` says). An id without a row is `not_found`.
    pub fn search_like(&self, id: &str, params: &SearchParams) -> Result<Vec<Hit>> {
        let Some(v) = self.get(id) else {
            return Err(Error::NotFound(format!("node {id} has no vector")));
        };
        let params = SearchParams {
            exclude: Some(id.to_string()),
            ..params.clone()
        };
        self.search(v, &params)
    }

    /// How many threads a search over this matrix should use.
    fn threads_for(&self, cap: Option<usize>) -> usize {
        if self.len() * self.dim < PARALLEL_MIN_FLOATS {
            return 1;
        }
        let all = pool::current_num_threads();
        cap.map_or(all, |c| c.min(all))
    }

    /// The fused scan of one query over `rows`: scores a block of rows into an L1 buffer, then rejects
    /// whole groups of 16 scores with one vector compare against the current cut.
    fn scan(&self, kernel: Kernel, q: &[f32], rows: Range<usize>, f: &Filter, k: usize) -> TopK {
        let d = self.dim;
        let data = self.data.as_slice();
        let by_id = self.by_id();
        let mut top = TopK::new(k);
        let mut cut = f.floor;
        if f.has_labels() {
            // Rows failing the labels are never read.
            for r in rows {
                if f.labels_pass(self, r) {
                    let s = kernel.dot(q, &data[r * d..(r + 1) * d]);
                    if s >= cut && f.passes(self, r, s) && top.push(s, r as u32, by_id) {
                        cut = top.threshold().max(f.floor);
                    }
                }
            }
            return top;
        }
        let mut buf = [0.0f32; SCAN_BLOCK];
        let mut start = rows.start;
        while start < rows.end {
            let end = (start + SCAN_BLOCK).min(rows.end);
            let scores = &mut buf[..end - start];
            kernel.dots(q, &data[start * d..end * d], scores);
            for (g, group) in scores.chunks(16).enumerate() {
                if !group.iter().fold(false, |any, &s| any | (s >= cut)) {
                    continue;
                }
                for (j, &s) in group.iter().enumerate() {
                    let r = start + g * 16 + j;
                    if s >= cut && f.passes(self, r, s) && top.push(s, r as u32, by_id) {
                        cut = top.threshold().max(f.floor);
                    }
                }
            }
            start = end;
        }
        top
    }

    /// Exact top-k for each of `queries.len() / dim` queries given row-major (`n * dim` floats, each
    /// already unit length); one result list per query, in order.
    ///
    /// The matrix is read once for all queries: blocks of rows are multiplied with the queries by a
    /// blocked matrix-matrix product (parallel over row chunks), then each query keeps its top-k.
    pub fn search_batch(&self, queries: &[f32], params: &SearchParams) -> Result<Vec<Vec<Hit>>> {
        self.search_batch_with(Kernel::best(), queries, params)
    }

    /// [`VectorMatrix::search_batch`] with a given kernel (the tests run every available one; kernels
    /// without a block kernel use the general product).
    fn search_batch_with(
        &self,
        kernel: Kernel,
        queries: &[f32],
        params: &SearchParams,
    ) -> Result<Vec<Vec<Hit>>> {
        let codes =
            (kernel.has_block_kernel() && self.quantised_pays(params.k)).then(CodeKernel::best);
        self.search_batch_on(kernel, codes, queries, params)
    }

    /// One batch search with a given f32 kernel, through the int8 codes with `codes`' kernel or over
    /// the f32 rows only (`None`); both give the same hits. The codes need a register-blocked f32
    /// kernel (its per-pair arithmetic is what the rescore reproduces); without one they are not used.
    fn search_batch_on(
        &self,
        kernel: Kernel,
        codes: Option<CodeKernel>,
        queries: &[f32],
        params: &SearchParams,
    ) -> Result<Vec<Vec<Hit>>> {
        let d = self.dim;
        if d == 0 || !queries.len().is_multiple_of(d) {
            return Err(Error::DimensionMismatch {
                expected: d,
                got: queries.len(),
                context: format!(
                    "query batch of {} floats is not a whole number of {d}-dimensional queries",
                    queries.len()
                ),
            });
        }
        let nq = queries.len() / d;
        self.check_f32_rows()?;
        let Some(f) = self.filter(params)? else {
            return Ok(vec![Vec::new(); nq]);
        };
        if nq == 0 {
            return Ok(Vec::new());
        }
        let n = self.len();
        if let Some(ck) = codes.filter(|_| kernel.has_block_kernel()) {
            let exact = |r: usize, q: usize| fma_chain(self.row(r), &queries[q * d..(q + 1) * d]);
            let tops = self.search_codes(ck, queries, params, &f, exact)?;
            return Ok(tops.into_iter().map(|t| self.hits(t)).collect());
        }
        let threads = self.threads_for(params.threads);
        // With a register-blocked kernel, the queries are packed once, in blocks whose transposed
        // form stays in L2; otherwise the general product below repacks per block itself.
        let packed: Vec<PackedQueries> = if kernel.has_block_kernel() {
            let per = packed_block_queries(d);
            queries
                .chunks(per * d)
                .map(|qs| PackedQueries::new(qs, d))
                .collect()
        } else {
            Vec::new()
        };
        // The caller's stop sources, checked by the scans on the workers between row blocks.
        let ctx = crate::cancel::Context::current();
        let scan = |r: Range<usize>| {
            if packed.is_empty() {
                self.batch_scan(queries, nq, r, &f, params.k, &ctx)
            } else {
                self.block_scan(kernel, &packed, nq, r, &f, params.k, &ctx)
            }
        };
        let tops = if threads <= 1 {
            scan(0..n)
        } else {
            let chunks = row_chunks(n, threads * 4, 1024);
            let by_id = self.by_id();
            pool::install(params.threads, || {
                chunks.into_par_iter().map(scan).reduce(
                    || (0..nq).map(|_| TopK::new(params.k)).collect(),
                    |mut a, b| {
                        for (x, y) in a.iter_mut().zip(b) {
                            x.merge(y, by_id);
                        }
                        a
                    },
                )
            })?
        };
        ctx.check()?;
        Ok(tops.into_iter().map(|t| self.hits(t)).collect())
    }

    /// The batch scan of `rows` with the register-blocked kernel: one fused pass per block of packed
    /// queries, scores compared with each query's cut inside the kernel. The rows go in slices of
    /// [`CHECK_ROWS`], each checked against `ctx` first (a stopped scan returns what it has).
    fn block_scan(
        &self,
        kernel: Kernel,
        packed: &[PackedQueries],
        nq: usize,
        rows: Range<usize>,
        f: &Filter,
        k: usize,
        ctx: &crate::cancel::Context,
    ) -> Vec<TopK> {
        let d = self.dim;
        let by_id = self.by_id();
        let mut tops: Vec<TopK> = (0..nq).map(|_| TopK::new(k)).collect();
        let mut cuts: Vec<Vec<f32>> = packed
            .iter()
            .map(|p| {
                let mut c = vec![f32::INFINITY; p.padded()];
                c[..p.count()].fill(f.floor);
                c
            })
            .collect();
        let mut start = rows.start;
        while start < rows.end {
            if ctx.stopped() {
                break;
            }
            let end = (start + CHECK_ROWS).min(rows.end);
            let block = &self.data.as_slice()[start * d..end * d];
            let mut q0 = 0;
            for (p, cuts) in packed.iter().zip(cuts.iter_mut()) {
                // Also between blocks of queries: a slice against many thousand queries is long.
                if ctx.stopped() {
                    return tops;
                }
                let tops = &mut tops[q0..q0 + p.count()];
                kernel.scan_block(block, p, cuts, |r, q, score, cut| {
                    let row = start + r;
                    if f.passes(self, row, score) && tops[q].push(score, row as u32, by_id) {
                        *cut = tops[q].threshold().max(f.floor);
                    }
                });
                q0 += p.count();
            }
            start = end;
        }
        tops
    }

    /// The batch scan of `rows` for all queries: per block of rows and of queries one product
    /// `scores = Q · Bᵀ`, then a threshold pass over each query's scores.
    fn batch_scan(
        &self,
        queries: &[f32],
        nq: usize,
        rows: Range<usize>,
        f: &Filter,
        k: usize,
        ctx: &crate::cancel::Context,
    ) -> Vec<TopK> {
        let d = self.dim;
        let data = self.data.as_slice();
        let by_id = self.by_id();
        let mut tops: Vec<TopK> = (0..nq).map(|_| TopK::new(k)).collect();
        let mut cuts: Vec<f32> = vec![f.floor; nq];
        let qb = nq.min(BATCH_QUERY_BLOCK);
        let mut scratch = vec![0.0f32; qb * BATCH_ROW_BLOCK];
        let mut start = rows.start;
        while start < rows.end {
            if ctx.stopped() {
                break;
            }
            let end = (start + BATCH_ROW_BLOCK).min(rows.end);
            let nr = end - start;
            let block = &data[start * d..end * d];
            let mut q0 = 0;
            while q0 < nq {
                // Also between blocks of queries: a row block against many queries is long.
                if ctx.stopped() {
                    return tops;
                }
                let q1 = (q0 + qb).min(nq);
                let m = q1 - q0;
                let qs = &queries[q0 * d..q1 * d];
                let c = &mut scratch[..m * nr];
                // SAFETY: A = qs is m×d row-major (strides d, 1), B = blockᵀ is d×nr (strides 1, d)
                // over `block` of nr×d floats, C = c is m×nr row-major (strides nr, 1); all three
                // slices have exactly those sizes, and C does not alias A or B.
                unsafe {
                    matrixmultiply::sgemm(
                        m,
                        d,
                        nr,
                        1.0,
                        qs.as_ptr(),
                        d as isize,
                        1,
                        block.as_ptr(),
                        1,
                        d as isize,
                        0.0,
                        c.as_mut_ptr(),
                        nr as isize,
                        1,
                    );
                }
                for (qi, scores) in c.chunks_exact(nr).enumerate() {
                    let top = &mut tops[q0 + qi];
                    let cut = &mut cuts[q0 + qi];
                    for (g, group) in scores.chunks(16).enumerate() {
                        let c0 = *cut;
                        if !group.iter().fold(false, |any, &s| any | (s >= c0)) {
                            continue;
                        }
                        for (j, &s) in group.iter().enumerate() {
                            let r = start + g * 16 + j;
                            if s >= *cut && f.passes(self, r, s) && top.push(s, r as u32, by_id) {
                                *cut = top.threshold().max(f.floor);
                            }
                        }
                    }
                }
                q0 = q1;
            }
            start = end;
        }
        tops
    }
}

impl VectorMatrix {
    /// Row `r` of the f32 matrix.
    #[inline]
    fn row(&self, r: usize) -> &[f32] {
        &self.data.as_slice()[r * self.dim..(r + 1) * self.dim]
    }

    /// Whether a search for the top `k` should take the quantised first pass: the codes would pay, and
    /// they are built, or a search before this one wanted them (the first search of a matrix scans the
    /// f32 rows: building the codes costs more than one scan).
    fn quantised_pays(&self, k: usize) -> bool {
        let pays = self.quantised
            && self.dim <= QUANT_MAX_DIM
            && self.len() >= QUANT_MIN_ROWS
            && k.saturating_mul(QUANT_MAX_K_PART) <= self.len();
        pays && (self.codes.get().is_some()
            || self.codes_wanted.swap(true, AtomicOrdering::Relaxed))
    }

    /// The int8 codes of the rows, built (with rayon's parallel iterators: call it inside
    /// `pool::install`) on first use.
    fn codes(&self) -> &Codes {
        self.codes
            .get_or_init(|| Codes::build(self.data.as_slice(), self.dim))
    }

    /// Exact top-k for each of the queries in `queries` (row-major, `dim` floats each) through the
    /// int8 codes (docs/vectors.md, "The quantised first pass"): the codes give each row an interval
    /// that holds the score the exact path computes; rows whose upper end cannot reach the k-th
    /// largest lower end are dropped, and the rest are rescored by `exact(row, query)`, which must
    /// return the exact path's score bit for bit. The result equals the exact path's, ties included.
    fn search_codes(
        &self,
        ck: CodeKernel,
        queries: &[f32],
        params: &SearchParams,
        f: &Filter,
        exact: impl Fn(usize, usize) -> f32 + Sync,
    ) -> Result<Vec<TopK>> {
        // Built in parallel on first use: inside a pool of this process (never an inherited one in a
        // forked child) with the caller's thread cap.
        let codes = pool::install(params.threads, || self.codes())?;
        let firsts = self.first_pass(ck, codes, queries, params, f)?;
        let nq = firsts.len();
        let k = params.k;
        let threads = self.threads_for(params.threads);
        let by_id = self.by_id();
        let rescore = |(q, (kth, mut cands)): (usize, (KthLower, Vec<(u32, f32)>))| {
            let cut = kth.cut().max(f.floor);
            cands.retain(|&(_, hi)| hi >= cut);
            // Highest upper ends first: once one falls below the k-th exact score, no later row
            // can enter.
            cands.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            let mut top = TopK::new(k);
            for (r, hi) in cands {
                if hi < top.threshold() {
                    break;
                }
                let s = exact(r as usize, q);
                if s >= f.floor && f.passes(self, r as usize, s) {
                    top.push(s, r, by_id);
                }
            }
            top
        };
        if nq > 1 && threads > 1 {
            Ok(pool::install(params.threads, || {
                firsts.into_par_iter().enumerate().map(rescore).collect()
            })?)
        } else {
            Ok(firsts.into_iter().enumerate().map(rescore).collect())
        }
    }

    /// The int8 first pass of every query of `queries` over all rows: per query, the k largest lower
    /// ends and the candidate rows with their upper ends (see [`VectorMatrix::code_scan`]).
    fn first_pass(
        &self,
        ck: CodeKernel,
        codes: &Codes,
        queries: &[f32],
        params: &SearchParams,
        f: &Filter,
    ) -> Result<Vec<FirstPass>> {
        let d = self.dim;
        let qcs: Vec<QueryCodes> = queries
            .chunks_exact(d)
            .map(|q| QueryCodes::new(q, codes.stride()))
            .collect();
        let nq = qcs.len();
        let n = self.len();
        let k = params.k;
        let ctx = crate::cancel::Context::current();
        let scan = |r: Range<usize>| self.code_scan(ck, codes, &qcs, r, f, k, &ctx);
        let threads = self.threads_for(params.threads);
        let firsts = if threads <= 1 {
            scan(0..n)
        } else {
            let chunks = row_chunks(n, threads * 4, 4096);
            pool::install(params.threads, || {
                chunks.into_par_iter().map(scan).reduce(
                    || (0..nq).map(|_| (KthLower::new(k), Vec::new())).collect(),
                    |mut a, b| {
                        for ((ka, ca), (kb, cb)) in a.iter_mut().zip(b) {
                            ka.merge(kb);
                            ca.extend(cb);
                        }
                        a
                    },
                )
            })?
        };
        ctx.check()?;
        Ok(firsts)
    }

    /// Row `r`'s f32 vector: from the matrix, or for a codes-only matrix read through `source` and
    /// checked against its codes (as [`VectorMatrix::search_codes_only`] checks every row it reads).
    pub fn read_row(&self, r: u32, source: &dyn RowSource) -> Result<Vec<f32>> {
        let d = self.dim;
        let r = r as usize;
        if r >= self.len() {
            return Err(Error::Internal(format!("row {r} is not in the matrix")));
        }
        if self.f32_rows {
            return Ok(self.row(r).to_vec());
        }
        let mut buf = Vec::new();
        source.read_rows(self, &[r as u32], &mut buf)?;
        if buf.len() != d || !self.codes().is_code_of(r, &buf) {
            source.stale();
            return Err(Error::Internal(format!(
                "the f32 row of {:?} read back does not match its codes",
                self.ids.get(r)
            )));
        }
        Ok(buf)
    }

    /// `invalid_argument` for a codes-only matrix, which [`VectorMatrix::search_codes_only`] searches.
    fn check_f32_rows(&self) -> Result<()> {
        if self.f32_rows {
            return Ok(());
        }
        Err(Error::InvalidArgument(
            "this matrix holds only int8 codes: search it with search_codes_only".into(),
        ))
    }

    /// Exact top-k of a codes-only matrix ([`VectorMatrix::codes_only`]; on a matrix with f32 rows
    /// it searches those) for each of the queries in `queries` (row-major, each already unit
    /// length): the int8 first pass over the codes, then the candidates rescored from f32 rows read
    /// through `source`, highest upper end first, [`FETCH_ROWS`] at a time. Every row read back must
    /// quantise to exactly its codes ([`Codes::is_code_of`]): otherwise `source.stale()` is called
    /// and the search fails with `internal`, never answering from rows the codes do not describe.
    ///
    /// The hits equal [`VectorMatrix::search`] of each query on the f32 matrix of the same rows
    /// (`batch = false`: the single-query kernel's scores), or [`VectorMatrix::search_batch`]
    /// (`batch = true`: with a register-blocked kernel its per-pair arithmetic; without one, whose
    /// batch scores come from a general matrix product, the single-query kernel's).
    pub fn search_codes_only(
        &self,
        queries: &[f32],
        params: &SearchParams,
        batch: bool,
        source: &dyn RowSource,
    ) -> Result<Vec<Vec<Hit>>> {
        let d = self.dim;
        if d == 0 || queries.is_empty() || !queries.len().is_multiple_of(d) {
            return Err(Error::DimensionMismatch {
                expected: d,
                got: queries.len(),
                context: "query batch".into(),
            });
        }
        if self.f32_rows {
            return if batch {
                self.search_batch(queries, params)
            } else {
                queries
                    .chunks_exact(d)
                    .map(|q| self.search(q, params))
                    .collect()
            };
        }
        let nq = queries.len() / d;
        let Some(f) = self.filter(params)? else {
            return Ok(vec![Vec::new(); nq]);
        };
        let kernel = Kernel::best();
        let chain = batch && kernel.has_block_kernel();
        let exact = |x: &[f32], q: &[f32]| {
            if chain {
                fma_chain(x, q)
            } else {
                kernel.dot(q, x)
            }
        };
        let codes = self.codes();
        let firsts = self.first_pass(CodeKernel::best(), codes, queries, params, &f)?;
        let by_id = self.by_id();
        let k = params.k;
        let mut buf = Vec::new();
        let mut out = Vec::with_capacity(nq);
        for (q, (kth, mut cands)) in firsts.into_iter().enumerate() {
            let qv = &queries[q * d..(q + 1) * d];
            let cut = kth.cut().max(f.floor);
            cands.retain(|&(_, hi)| hi >= cut);
            cands.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            let mut top = TopK::new(k);
            let mut i = 0;
            'rows: while i < cands.len() && cands[i].1 >= top.threshold() {
                let end = (i + FETCH_ROWS).min(cands.len());
                let rows: Vec<u32> = cands[i..end].iter().map(|c| c.0).collect();
                source.read_rows(self, &rows, &mut buf)?;
                if buf.len() != rows.len() * d {
                    source.stale();
                    return Err(Error::Internal(format!(
                        "a row source gave {} floats for {} rows of {d}",
                        buf.len(),
                        rows.len()
                    )));
                }
                for (&(r, hi), x) in cands[i..end].iter().zip(buf.chunks_exact(d)) {
                    if hi < top.threshold() {
                        break 'rows;
                    }
                    if !codes.is_code_of(r as usize, x) {
                        source.stale();
                        return Err(Error::Internal(format!(
                            "the f32 row of {:?} read back does not match its codes",
                            self.ids.get(r as usize)
                        )));
                    }
                    let s = exact(x, qv);
                    if s >= f.floor && f.passes(self, r as usize, s) {
                        top.push(s, r, by_id);
                    }
                }
                i = end;
            }
            out.push(self.hits(top));
        }
        Ok(out)
    }

    /// The int8 pass over `rows` for every query: per query, the k largest lower ends of rows that
    /// pass every filter and the rows whose upper end reached the running cut, with that upper end.
    /// Blocks of rows are checked against `ctx` first (a stopped scan returns what it has).
    #[allow(clippy::too_many_arguments)]
    fn code_scan(
        &self,
        ck: CodeKernel,
        codes: &Codes,
        qcs: &[QueryCodes],
        rows: Range<usize>,
        f: &Filter,
        k: usize,
        ctx: &crate::cancel::Context,
    ) -> Vec<(KthLower, Vec<(u32, f32)>)> {
        let mut out: Vec<(KthLower, Vec<(u32, f32)>)> =
            qcs.iter().map(|_| (KthLower::new(k), Vec::new())).collect();
        let mut cuts = vec![f.floor; qcs.len()];
        let stride = codes.stride();
        let mut dots = [[0i32; CODE_BLOCK]; QUERY_GROUP];
        let mut uppers = [0.0f32; CODE_BLOCK];
        let mut pass = [true; CODE_BLOCK];
        let filtered = f.has_labels() || f.exclude.is_some();
        let mut start = rows.start;
        while start < rows.end {
            if ctx.stopped() {
                break;
            }
            let end = (start + CODE_BLOCK).min(rows.end);
            let pass = &mut pass[..end - start];
            if filtered {
                for (j, p) in pass.iter_mut().enumerate() {
                    let r = start + j;
                    *p = f.exclude != Some(r as u32) && f.labels_pass(self, r);
                }
                if !pass.iter().any(|&p| p) {
                    start = end;
                    continue;
                }
            }
            let block = codes.rows(start, end);
            let sums = codes.sums(start, end);
            for (q0, group) in qcs.chunks(QUERY_GROUP).enumerate() {
                let q0 = q0 * QUERY_GROUP;
                ck.dots_group(group, block, sums, stride, &mut dots, end - start);
                for (gi, qc) in group.iter().enumerate() {
                    let (kth, cands) = &mut out[q0 + gi];
                    let cut = &mut cuts[q0 + gi];
                    let dots = &dots[gi][..end - start];
                    let uppers = &mut uppers[..end - start];
                    codes.uppers(qc, start, dots, uppers);
                    for (g, group) in uppers.chunks(16).enumerate() {
                        let c0 = *cut;
                        if !group.iter().fold(false, |any, &hi| any | (hi >= c0)) {
                            continue;
                        }
                        for (i, &hi) in group.iter().enumerate() {
                            let j = g * 16 + i;
                            if hi < *cut || !pass[j] || (f.strict_positive && hi <= 0.0) {
                                continue;
                            }
                            let r = start + j;
                            cands.push((r as u32, hi));
                            let (lo, _) = codes.interval(qc, r, dots[j]);
                            if lo >= f.floor && (!f.strict_positive || lo > 0.0) {
                                kth.push(lo);
                                *cut = kth.cut().max(f.floor);
                            }
                        }
                    }
                }
            }
            start = end;
        }
        out
    }
}

/// Rows a batch scan handles between two cancellation checks: 4096 rows of 384 floats against up to
/// 512 queries is about a millisecond of work.
const CHECK_ROWS: usize = 4096;

/// Queries per packed block of the register-blocked batch kernel: their transposed form (`dim` rows of
/// the padded count) fits in about 512 KiB, so it stays in L2 while the rows stream past.
fn packed_block_queries(dim: usize) -> usize {
    ((512 * 1024 / 4 / dim.max(1)) / 16 * 16).clamp(16, 512)
}

/// Splits `0..n` into about `parts` contiguous ranges of at least `min_rows` rows.
fn row_chunks(n: usize, parts: usize, min_rows: usize) -> Vec<Range<usize>> {
    let size = n.div_ceil(parts.max(1)).max(min_rows).max(1);
    (0..n.div_ceil(size))
        .map(|i| i * size..((i + 1) * size).min(n))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vector::fafcas::validate_and_normalize;
    use crate::vector::kernel::dot_scalar;
    use proptest::prelude::*;

    fn rng(seed: u64) -> impl FnMut() -> f32 {
        let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        move || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 40) as f32 / (1u64 << 24) as f32 - 0.5
        }
    }

    fn unit(dim: usize, r: &mut impl FnMut() -> f32) -> Vec<f32> {
        let v: Vec<f32> = (0..dim).map(|_| r()).collect();
        validate_and_normalize(&v).expect("random vectors are not zero")
    }

    /// The brute-force reference: score everything with the scalar kernel, filter, full sort.
    fn brute(m: &VectorMatrix, q: &[f32], p: &SearchParams) -> Vec<Hit> {
        let mut all: Vec<Hit> = Vec::new();
        for id in m.ids() {
            let v = m.get(id).expect("listed id");
            let s = dot_scalar(q, v);
            let (dom, typ) = m.labels(id).expect("listed id");
            let ok = match p.min_score {
                None => s > 0.0,
                Some(x) => s >= x,
            } && p.domain.as_deref().is_none_or(|d| dom == Some(d))
                && p.node_type.as_deref().is_none_or(|t| typ == Some(t))
                && p.exclude.as_deref() != Some(id);
            if ok {
                all.push(Hit {
                    id: id.to_string(),
                    score: s,
                });
            }
        }
        all.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.id.cmp(&b.id)));
        all.truncate(p.k);
        all
    }

    /// Compares ids and scores; scores may differ by rounding between kernels, so equal-within-1e-6
    /// neighbours may swap only when their scores are that close.
    fn assert_same(got: &[Hit], want: &[Hit]) {
        assert_eq!(got.len(), want.len(), "got {got:?}\nwant {want:?}");
        for (g, w) in got.iter().zip(want) {
            assert!(
                (g.score - w.score).abs() <= 1e-5,
                "got {got:?}\nwant {want:?}"
            );
            if g.id != w.id {
                let wg = want.iter().find(|h| h.id == g.id).map(|h| h.score);
                assert!(
                    wg.is_some_and(|s| (s - w.score).abs() <= 1e-5),
                    "got {got:?}\nwant {want:?}"
                );
            }
        }
    }

    /// A matrix with exact duplicates (ties) and a few labels.
    fn sample(n: usize, dim: usize, seed: u64) -> VectorMatrix {
        let mut r = rng(seed);
        let mut m = VectorMatrix::new(dim);
        let mut prev = unit(dim, &mut r);
        for i in 0..n {
            let v = if i % 7 == 3 {
                prev.clone()
            } else {
                unit(dim, &mut r)
            };
            let dom = ["a", "b", "c"][i % 3];
            let typ = if i % 5 == 0 {
                None
            } else {
                Some(["x", "y"][i % 2])
            };
            m.upsert(&format!("n{:05}", (i * 7919) % 100_000), &v, Some(dom), typ)
                .expect("valid row");
            prev = v;
        }
        m
    }

    #[test]
    fn search_matches_brute_force_with_ties_and_filters() {
        for (n, dim) in [(1usize, 3usize), (50, 17), (700, 32), (3000, 384)] {
            let m = sample(n, dim, n as u64);
            let mut r = rng(99);
            let q = unit(dim, &mut r);
            // A query equal to a stored row makes ties among duplicates exact.
            let q2 = m.get(m.id(n / 2).unwrap()).expect("row").to_vec();
            for query in [&q, &q2] {
                for p in [
                    SearchParams::default(),
                    SearchParams {
                        k: 1,
                        ..Default::default()
                    },
                    SearchParams {
                        k: 25,
                        min_score: Some(-1.0),
                        ..Default::default()
                    },
                    SearchParams {
                        k: n + 5,
                        min_score: Some(-2.0),
                        ..Default::default()
                    },
                    SearchParams {
                        k: 40,
                        domain: Some("b".into()),
                        ..Default::default()
                    },
                    SearchParams {
                        k: 40,
                        node_type: Some("y".into()),
                        min_score: Some(0.05),
                        ..Default::default()
                    },
                    SearchParams {
                        k: 8,
                        domain: Some("a".into()),
                        node_type: Some("x".into()),
                        min_score: Some(-1.0),
                        ..Default::default()
                    },
                    SearchParams {
                        k: 10,
                        exclude: Some(m.id(n / 2).unwrap().to_string()),
                        threads: Some(1),
                        ..Default::default()
                    },
                ] {
                    let want = brute(&m, query, &p);
                    for kernel in Kernel::available() {
                        let got = m.search_with(kernel, query, &p).expect("search");
                        assert_same(&got, &want);
                        let batch = m.search_batch_with(kernel, query, &p).expect("batch");
                        assert_eq!(batch.len(), 1);
                        assert_same(&batch[0], &want);
                    }
                }
            }
        }
    }

    #[test]
    fn parallel_and_capped_searches_equal_serial() {
        let m = sample(6000, 128, 5);
        assert!(m.len() * m.dim() >= PARALLEL_MIN_FLOATS);
        let mut r = rng(3);
        let qs: Vec<f32> = (0..7).flat_map(|_| unit(128, &mut r)).collect();
        let batch_all = m
            .search_batch(
                &qs,
                &SearchParams {
                    k: 30,
                    ..Default::default()
                },
            )
            .expect("batch");
        let batch_general = m
            .search_batch_with(
                Kernel::SCALAR,
                &qs,
                &SearchParams {
                    k: 30,
                    ..Default::default()
                },
            )
            .expect("batch");
        let batch_one = m
            .search_batch(
                &qs,
                &SearchParams {
                    k: 30,
                    threads: Some(1),
                    ..Default::default()
                },
            )
            .expect("batch");
        for (i, q) in qs.chunks_exact(128).enumerate() {
            let serial = m
                .search(
                    q,
                    &SearchParams {
                        k: 30,
                        threads: Some(1),
                        ..Default::default()
                    },
                )
                .expect("serial");
            for threads in [None, Some(2), Some(64)] {
                let p = SearchParams {
                    k: 30,
                    threads,
                    ..Default::default()
                };
                assert_eq!(m.search(q, &p).expect("parallel"), serial);
            }
            assert_same(&batch_all[i], &serial);
            assert_same(&batch_general[i], &serial);
            assert_same(&batch_one[i], &serial);
            assert_same(
                &serial,
                &brute(
                    &m,
                    q,
                    &SearchParams {
                        k: 30,
                        ..Default::default()
                    },
                ),
            );
        }
    }

    #[test]
    fn exact_ties_are_ordered_by_id_everywhere() {
        // 5000 rows of 128 dims (large enough to go parallel): every third row equals e0, so its score
        // against e0 is exactly 1 whatever the kernel; ids are in an order unrelated to rows.
        let dim = 128;
        let mut m = VectorMatrix::new(dim);
        let mut r = rng(11);
        let mut e0 = vec![0.0f32; dim];
        e0[0] = 1.0;
        let mut tied = Vec::new();
        for i in 0..5000u64 {
            let id = format!("{:x}", i.wrapping_mul(0x9E37_79B9_7F4A_7C15));
            if i % 3 == 0 {
                m.upsert(&id, &e0, None, None).expect("row");
                tied.push(id);
            } else {
                let mut v = unit(dim, &mut r);
                v[0] = 0.0;
                m.upsert(&id, &v, None, None).expect("row");
            }
        }
        tied.sort();
        tied.truncate(50);
        for threads in [None, Some(1)] {
            let p = SearchParams {
                k: 50,
                threads,
                ..Default::default()
            };
            let got: Vec<String> = m
                .search(&e0, &p)
                .expect("search")
                .into_iter()
                .map(|h| h.id)
                .collect();
            assert_eq!(got, tied);
            let qs = [e0.clone(), e0.clone()].concat();
            let b = m.search_batch(&qs, &p).expect("batch");
            let g = m.search_batch_with(Kernel::SCALAR, &qs, &p).expect("batch");
            for hits in b.into_iter().chain(g) {
                let got: Vec<String> = hits.into_iter().map(|h| h.id).collect();
                assert_eq!(got, tied);
            }
        }
    }

    #[test]
    fn min_score_k_and_unknown_filters() {
        let mut m = VectorMatrix::new(2);
        m.upsert("pos", &[1.0, 0.0], None, None).expect("row");
        m.upsert("zero", &[0.0, 0.0], None, None)
            .expect("zero vectors are kept");
        m.upsert("neg", &[-1.0, 0.0], None, None).expect("row");
        let q = [1.0, 0.0];
        let ids = |p: SearchParams| -> Vec<String> {
            m.search(&q, &p)
                .expect("search")
                .into_iter()
                .map(|h| h.id)
                .collect()
        };
        assert_eq!(ids(SearchParams::default()), vec!["pos"]);
        assert_eq!(
            ids(SearchParams {
                min_score: Some(0.0),
                ..Default::default()
            }),
            vec!["pos", "zero"]
        );
        assert_eq!(
            ids(SearchParams {
                min_score: Some(-1.0),
                ..Default::default()
            }),
            vec!["pos", "zero", "neg"]
        );
        assert!(ids(SearchParams {
            k: 0,
            min_score: Some(-1.0),
            ..Default::default()
        })
        .is_empty());
        assert_eq!(
            ids(SearchParams {
                k: 100,
                min_score: Some(-5.0),
                ..Default::default()
            })
            .len(),
            3
        );
        assert!(ids(SearchParams {
            domain: Some("nope".into()),
            ..Default::default()
        })
        .is_empty());
        let bad = |p: SearchParams| m.search(&q, &p).err().map(|e| e.code());
        assert_eq!(
            bad(SearchParams {
                threads: Some(0),
                ..Default::default()
            }),
            Some("invalid_argument")
        );
        assert_eq!(
            bad(SearchParams {
                min_score: Some(f32::NAN),
                ..Default::default()
            }),
            Some("invalid_argument")
        );
        let e = m.search(&[1.0], &SearchParams::default()).err();
        assert!(
            matches!(e, Some(Error::DimensionMismatch { expected: 2, got: 1, ref context }) if context == "query")
        );
        assert_eq!(
            m.search_batch(&[1.0, 0.0, 1.0], &SearchParams::default())
                .err()
                .map(|e| e.code()),
            Some("dimension_mismatch")
        );
        assert_eq!(
            m.search_batch(&[], &SearchParams::default()).ok(),
            Some(vec![])
        );
        assert!(VectorMatrix::new(2)
            .search(&q, &SearchParams::default())
            .expect("empty")
            .is_empty());
    }

    #[test]
    fn search_like_excludes_the_node_itself() {
        let m = sample(300, 24, 8);
        let id = m.id(17).unwrap().to_string();
        let p = SearchParams {
            k: 5,
            min_score: Some(-1.0),
            ..Default::default()
        };
        let got = m.search_like(&id, &p).expect("search_like");
        assert_eq!(got.len(), 5);
        assert!(got.iter().all(|h| h.id != id));
        let q = m.get(&id).expect("row").to_vec();
        let want = m
            .search(
                &q,
                &SearchParams {
                    exclude: Some(id.clone()),
                    ..p.clone()
                },
            )
            .expect("search");
        assert_eq!(got, want);
        assert_eq!(
            m.search_like("nope", &p).err().map(|e| e.code()),
            Some("not_found")
        );
    }

    #[test]
    fn upsert_checks_and_replaces_in_place() {
        let mut m = VectorMatrix::new(3);
        let e = m.upsert("a", &[1.0, 0.0], None, None).err();
        assert!(
            matches!(e, Some(Error::DimensionMismatch { expected: 3, got: 2, ref context }) if context.contains('a'))
        );
        assert_eq!(
            m.upsert("a", &[f32::NAN, 0.0, 0.0], None, None)
                .err()
                .map(|e| e.code()),
            Some("invalid_vector")
        );
        assert_eq!(
            VectorMatrix::new(0)
                .upsert("a", &[], None, None)
                .err()
                .map(|e| e.code()),
            Some("invalid_vector")
        );
        m.upsert("a", &[1.0, 0.0, 0.0], Some("d"), Some("t"))
            .expect("row");
        m.upsert("b", &[0.0, 1.0, 0.0], None, None).expect("row");
        m.upsert("a", &[0.0, 0.0, 1.0], None, Some("u"))
            .expect("replace");
        assert_eq!(m.len(), 2);
        assert_eq!(m.get("a"), Some(&[0.0, 0.0, 1.0][..]));
        assert_eq!(m.labels("a"), Some((None, Some("u"))));
        assert!(m.set_labels("b", Some("d"), None));
        assert!(!m.set_labels("zz", Some("d"), None));
        assert_eq!(m.labels("b"), Some((Some("d"), None)));
        assert!(m.remove("a"));
        assert!(!m.remove("a"));
        assert_eq!(m.get("b"), Some(&[0.0, 1.0, 0.0][..]));
        m.clear();
        assert!(m.is_empty() && !m.contains("b") && m.dim() == 3);
        assert_eq!(format!("{m:?}"), "VectorMatrix { dim: 3, len: 0, .. }");
    }

    #[test]
    fn rows_are_aligned_and_storage_grows_past_huge_page_size() {
        let mut m = VectorMatrix::with_capacity(16, 10);
        let mut r = rng(1);
        for i in 0..70_000 {
            m.upsert(&i.to_string(), &unit(16, &mut r), None, None)
                .expect("row");
        }
        assert_eq!(m.as_slice().as_ptr() as usize % 64, 0);
        assert_eq!(m.as_slice().len(), 70_000 * 16);
        assert_eq!(m.get("69999").map(|v| v.len()), Some(16));
    }

    #[derive(Debug, Clone)]
    enum Op {
        Upsert(u8, u8, Option<u8>),
        Label(u8, Option<u8>),
        Remove(u8),
        Clear,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            6 => (any::<u8>(), any::<u8>(), proptest::option::of(0u8..3)).prop_map(|(i, v, d)| Op::Upsert(i % 40, v, d)),
            2 => (any::<u8>(), proptest::option::of(0u8..3)).prop_map(|(i, d)| Op::Label(i % 40, d)),
            4 => any::<u8>().prop_map(|i| Op::Remove(i % 40)),
            1 => Just(Op::Clear),
        ]
    }

    fn small_matrix() -> impl Strategy<Value = (usize, Vec<(Vec<i8>, u8, u8)>)> {
        (1usize..12).prop_flat_map(|dim| {
            (
                Just(dim),
                proptest::collection::vec(
                    (proptest::collection::vec(-2i8..3, dim), 0u8..3, 0u8..3),
                    0..60,
                ),
            )
        })
    }

    /// Every search and batch search through the codes (every int8 kernel) equals the f32 path of the
    /// same f32 kernel bit for bit: ids, order and scores.
    fn assert_codes_equal_f32(m: &VectorMatrix, queries: &[Vec<f32>], params: &[SearchParams]) {
        let flat: Vec<f32> = queries.iter().flatten().copied().collect();
        for p in params {
            for kernel in Kernel::available() {
                for ck in CodeKernel::available() {
                    for q in queries {
                        let want = m.search_on(kernel, None, q, p).expect("f32 search");
                        let got = m.search_on(kernel, Some(ck), q, p).expect("code search");
                        assert_eq!(got, want, "{} {} {p:?}", kernel.name(), ck.name());
                    }
                    if kernel.has_block_kernel() {
                        let want = m
                            .search_batch_on(kernel, None, &flat, p)
                            .expect("f32 batch");
                        let got = m
                            .search_batch_on(kernel, Some(ck), &flat, p)
                            .expect("code batch");
                        assert_eq!(got, want, "batch {} {} {p:?}", kernel.name(), ck.name());
                    }
                }
            }
        }
        assert_codes_only_equal_f32(m, queries, params);
    }

    /// Reads the f32 rows of a codes-only copy from the full matrix, by id.
    struct FromMatrix<'a> {
        full: &'a VectorMatrix,
        reads: std::sync::atomic::AtomicUsize,
        stale: AtomicBool,
    }

    impl RowSource for FromMatrix<'_> {
        fn read_rows(&self, m: &VectorMatrix, rows: &[u32], out: &mut Vec<f32>) -> Result<()> {
            out.clear();
            for &r in rows {
                out.extend_from_slice(
                    self.full
                        .get(m.id(r as usize).expect("a row"))
                        .expect("a row"),
                );
            }
            self.reads.fetch_add(rows.len(), AtomicOrdering::Relaxed);
            Ok(())
        }
        fn stale(&self) {
            self.stale.store(true, AtomicOrdering::Relaxed);
        }
    }

    /// A codes-only copy of `m` (same rows, same order).
    fn codes_only_copy(m: &VectorMatrix) -> VectorMatrix {
        let mut c = VectorMatrix::codes_only(m.dim()).expect("fits");
        for id in m.ids() {
            let (dom, typ) = m.labels(id).expect("labels");
            c.upsert(id, m.get(id).expect("row"), dom, typ)
                .expect("valid");
        }
        c
    }

    /// The codes-only search of a copy of `m` equals the f32 search of `m` (single and batch).
    fn assert_codes_only_equal_f32(
        m: &VectorMatrix,
        queries: &[Vec<f32>],
        params: &[SearchParams],
    ) {
        if !VectorMatrix::codes_fit(m.dim()) {
            return;
        }
        let c = codes_only_copy(m);
        assert!(c.as_slice().is_empty() && !c.holds_f32());
        let flat: Vec<f32> = queries.iter().flatten().copied().collect();
        let src = FromMatrix {
            full: m,
            reads: Default::default(),
            stale: AtomicBool::new(false),
        };
        let kernel = Kernel::best();
        for p in params {
            let want: Vec<Vec<Hit>> = queries
                .iter()
                .map(|q| m.search_on(kernel, None, q, p).expect("f32 search"))
                .collect();
            let got = c
                .search_codes_only(&flat, p, false, &src)
                .expect("codes-only");
            assert_eq!(got, want, "codes-only {p:?}");
            let want_batch = if kernel.has_block_kernel() {
                m.search_batch_on(kernel, None, &flat, p)
                    .expect("f32 batch")
            } else {
                want
            };
            let got = c
                .search_codes_only(&flat, p, true, &src)
                .expect("codes-only batch");
            assert_eq!(got, want_batch, "codes-only batch {p:?}");
        }
        assert!(!src.stale.load(AtomicOrdering::Relaxed));
    }

    /// The parameter sets of the code tests: k from 1 past the row count, score floors, each filter.
    fn code_params(m: &VectorMatrix) -> Vec<SearchParams> {
        let n = m.len();
        let mut v = vec![
            SearchParams::default(),
            SearchParams {
                k: 1,
                threads: Some(1),
                ..Default::default()
            },
            SearchParams {
                k: 37,
                min_score: Some(-1.0),
                ..Default::default()
            },
            SearchParams {
                k: n + 3,
                min_score: Some(-2.0),
                ..Default::default()
            },
            SearchParams {
                k: 20,
                min_score: Some(0.3),
                ..Default::default()
            },
            SearchParams {
                k: 15,
                domain: Some("b".into()),
                ..Default::default()
            },
            SearchParams {
                k: 15,
                domain: Some("a".into()),
                node_type: Some("x".into()),
                min_score: Some(-1.0),
                threads: Some(2),
                ..Default::default()
            },
        ];
        if n > 0 {
            v.push(SearchParams {
                k: 12,
                exclude: Some(m.id(n / 2).unwrap().to_string()),
                ..Default::default()
            });
        }
        v
    }

    /// A matrix of the given rows, with domains and types cycling.
    fn matrix_of(dim: usize, rows: &[Vec<f32>]) -> VectorMatrix {
        let mut m = VectorMatrix::new(dim);
        for (i, v) in rows.iter().enumerate() {
            let typ = if i % 5 == 0 {
                None
            } else {
                Some(["x", "y"][i % 2])
            };
            m.upsert(
                &format!("r{:05}", (i * 7919) % 100_000),
                v,
                Some(["a", "b", "c"][i % 3]),
                typ,
            )
            .expect("valid row");
        }
        m
    }

    #[test]
    fn codes_equal_f32_on_random_rows_and_queries() {
        for (n, dim) in [
            (1usize, 3usize),
            (300, 17),
            (2000, 64),
            (1500, 384),
            (700, 100),
        ] {
            let mut r = rng(n as u64 + 11);
            let rows: Vec<Vec<f32>> = (0..n).map(|_| unit(dim, &mut r)).collect();
            let m = matrix_of(dim, &rows);
            let queries = vec![unit(dim, &mut r), rows[n / 2].clone(), unit(dim, &mut r)];
            assert_codes_equal_f32(&m, &queries, &code_params(&m));
        }
    }

    #[test]
    fn a_codes_only_matrix_refuses_rows_its_codes_do_not_describe() {
        let (n, dim) = (500, 32);
        let mut r = rng(77);
        let rows: Vec<Vec<f32>> = (0..n).map(|_| unit(dim, &mut r)).collect();
        let m = matrix_of(dim, &rows);
        let c = codes_only_copy(&m);
        // The plain searches need f32 rows.
        let q = unit(dim, &mut r);
        assert_eq!(
            c.search(&q, &SearchParams::default()).unwrap_err().code(),
            "invalid_argument"
        );
        assert_eq!(
            c.search_batch(&q, &SearchParams::default())
                .unwrap_err()
                .code(),
            "invalid_argument"
        );
        // The source reads other rows than the codes were built from (another program changed
        // them): the search fails and says so, it never answers.
        let mut changed = m.clone();
        for id in m.ids().map(str::to_string).collect::<Vec<_>>() {
            let v = unit(dim, &mut r);
            changed.upsert(&id, &v, None, None).unwrap();
        }
        let src = FromMatrix {
            full: &changed,
            reads: Default::default(),
            stale: AtomicBool::new(false),
        };
        let e = c
            .search_codes_only(&q, &SearchParams::default(), false, &src)
            .unwrap_err();
        assert_eq!(e.code(), "internal");
        assert!(src.stale.load(AtomicOrdering::Relaxed));
        // A dimension the int8 kernels cannot sum is refused.
        assert!(VectorMatrix::codes_only(QUANT_MAX_DIM + 1).is_err());
        assert!(VectorMatrix::codes_only(0).is_err());
    }

    #[test]
    fn a_codes_only_matrix_reads_few_rows_and_follows_writes() {
        let (n, dim) = (20_000, 64);
        let mut r = rng(91);
        let rows: Vec<Vec<f32>> = (0..n).map(|_| unit(dim, &mut r)).collect();
        let mut m = matrix_of(dim, &rows);
        let mut c = codes_only_copy(&m);
        // Writes replayed on both: an update, a removal (swap-remove) and an insert.
        let v = unit(dim, &mut r);
        let first = m.id(0).unwrap().to_string();
        let third = m.id(3).unwrap().to_string();
        m.upsert(&first, &v, Some("z"), None).unwrap();
        c.upsert(&first, &v, Some("z"), None).unwrap();
        assert!(m.remove(&third) && c.remove(&third));
        let w = unit(dim, &mut r);
        m.upsert("new", &w, None, Some("x")).unwrap();
        c.upsert("new", &w, None, Some("x")).unwrap();
        assert_eq!(c.len(), m.len());
        assert_eq!(c.row_of("new"), m.row_of("new"));
        let queries = vec![v.clone(), w.clone(), unit(dim, &mut r)];
        let flat: Vec<f32> = queries.iter().flatten().copied().collect();
        let src = FromMatrix {
            full: &m,
            reads: Default::default(),
            stale: AtomicBool::new(false),
        };
        let p = SearchParams::default();
        let got = c.search_codes_only(&flat, &p, false, &src).unwrap();
        for (g, q) in got.iter().zip(&queries) {
            assert_eq!(g, &m.search(q, &p).unwrap());
        }
        // A top-10 of random rows rescores a small part of them.
        let reads = src.reads.load(AtomicOrdering::Relaxed);
        assert!(reads > 0 && reads < n / 10, "{reads} rows read");
        c.clear();
        assert!(c.is_empty() && c.code_bytes() == 0);
        c.upsert("a", &v, None, None).unwrap();
        assert_eq!(c.len(), 1);
    }

    #[test]
    fn codes_equal_f32_on_clustered_rows() {
        // 8 tight clusters: most scores against a query near a centre lie within the bound's width.
        let (n, dim) = (3000, 96);
        let mut r = rng(5);
        let centres: Vec<Vec<f32>> = (0..8).map(|_| unit(dim, &mut r)).collect();
        let rows: Vec<Vec<f32>> = (0..n)
            .map(|i| {
                let c = &centres[i % 8];
                let v: Vec<f32> = c.iter().map(|x| x + 0.02 * r()).collect();
                validate_and_normalize(&v).expect("not zero")
            })
            .collect();
        let m = matrix_of(dim, &rows);
        let queries = vec![centres[0].clone(), centres[3].clone(), unit(dim, &mut r)];
        assert_codes_equal_f32(&m, &queries, &code_params(&m));
    }

    #[test]
    fn codes_equal_f32_on_duplicates_near_ties_and_zero_rows() {
        let dim = 48;
        let mut r = rng(9);
        let base: Vec<Vec<f32>> = (0..5).map(|_| unit(dim, &mut r)).collect();
        let mut rows = Vec::new();
        for i in 0..2500 {
            let b = &base[i % 5];
            let v = match i % 4 {
                // Exact duplicates: exact ties, ordered by id.
                0 | 1 => b.clone(),
                // Near-ties: one component moved by one ulp.
                2 => {
                    let mut v = b.clone();
                    let j = i % dim;
                    v[j] = f32::from_bits(v[j].to_bits() + 1);
                    v
                }
                // Zero rows (a file written by another program may hold them): they score 0.
                _ if i % 40 == 3 => vec![0.0; dim],
                _ => unit(dim, &mut r),
            };
            rows.push(v);
        }
        let m = matrix_of(dim, &rows);
        let zero = vec![0.0; dim];
        let queries = vec![base[0].clone(), base[2].clone(), zero, unit(dim, &mut r)];
        let mut params = code_params(&m);
        // Floors at exactly the tie scores and at 0 (zero rows sit on it).
        params.push(SearchParams {
            k: 9,
            min_score: Some(0.0),
            ..Default::default()
        });
        params.push(SearchParams {
            k: 7,
            min_score: Some(m.search(&base[0], &SearchParams::default()).unwrap()[0].score),
            ..Default::default()
        });
        assert_codes_equal_f32(&m, &queries, &params);
    }

    #[test]
    fn codes_equal_f32_on_adversarial_rows() {
        // One large component and many tiny ones: the codes round the tiny ones to zero, so the
        // whole score difference lives in the bound; and rows that differ only below a code step.
        let dim = 64;
        let mut r = rng(21);
        let mut rows = Vec::new();
        for i in 0..1200 {
            let mut v: Vec<f32> = (0..dim).map(|_| 1e-3 * r()).collect();
            v[i % dim] = 1.0;
            rows.push(validate_and_normalize(&v).expect("not zero"));
            let mut w = rows[rows.len() - 1].clone();
            w[(i + 1) % dim] += 1e-6;
            rows.push(w);
        }
        let m = matrix_of(dim, &rows);
        let queries = vec![rows[10].clone(), rows[11].clone(), unit(dim, &mut r)];
        assert_codes_equal_f32(&m, &queries, &code_params(&m));
    }

    #[test]
    fn codes_follow_upserts_removes_and_clear() {
        let dim = 32;
        let mut r = rng(33);
        let rows: Vec<Vec<f32>> = (0..5000).map(|_| unit(dim, &mut r)).collect();
        let mut m = matrix_of(dim, &rows);
        // The first search that could use codes scans the f32 rows and asks for them; the next builds.
        assert!(!m.quantised_pays(10));
        assert!(m.quantised_pays(10));
        let q = unit(dim, &mut r);
        let p = SearchParams::default();
        // Builds the codes.
        let before = m.search(&q, &p).expect("search");
        assert_eq!(
            before,
            m.search_on(Kernel::best(), None, &q, &p).expect("f32")
        );
        assert!(m.codes.get().is_some());
        // The best hit becomes the query's opposite, a new row equals the query, one row goes.
        let best = before[0].id.clone();
        let opposite: Vec<f32> = q.iter().map(|x| -x).collect();
        m.upsert(&best, &opposite, Some("a"), None)
            .expect("replace");
        m.upsert("new", &q, Some("b"), None).expect("insert");
        assert!(m.remove(&before[1].id));
        let after = m.search(&q, &p).expect("search");
        assert_eq!(
            after,
            m.search_on(Kernel::best(), None, &q, &p).expect("f32")
        );
        assert_eq!(after[0].id, "new");
        assert!(after.iter().all(|h| h.id != best && h.id != before[1].id));
        assert_eq!(m.codes.get().map(Codes::len), Some(m.len()));
        m.clear();
        assert!(m.codes.get().is_none());
        assert_eq!(m.search(&q, &p).expect("empty"), vec![]);
    }

    proptest! {
        #[test]
        fn codes_equal_f32_on_small_integer_rows(
            (dim, rows) in small_matrix(),
            k in 1usize..70,
            min in proptest::option::of(-4i8..4),
            dom in proptest::option::of(0u8..4),
            q in proptest::collection::vec(-2i8..3, 12),
            scale in prop_oneof![Just(0.25f32), Just(1e-3f32), Just(0.1f32)],
        ) {
            let mut m = VectorMatrix::new(dim);
            for (i, (v, d, t)) in rows.iter().enumerate() {
                let v: Vec<f32> = v.iter().map(|&x| f32::from(x) * scale).collect();
                m.upsert(&format!("id{:03}", (i * 37) % 61), &v, Some(format!("d{d}").as_str()), Some(format!("t{t}").as_str()))
                    .expect("valid row");
            }
            let q: Vec<f32> = q[..dim].iter().map(|&x| f32::from(x) * scale).collect();
            let p = SearchParams {
                k,
                min_score: min.map(|x| f32::from(x) * 0.125 * scale),
                domain: dom.map(|d| format!("d{d}")),
                ..Default::default()
            };
            for kernel in Kernel::available() {
                for ck in CodeKernel::available() {
                    prop_assert_eq!(
                        m.search_on(kernel, Some(ck), &q, &p).expect("codes"),
                        m.search_on(kernel, None, &q, &p).expect("f32")
                    );
                    if kernel.has_block_kernel() {
                        prop_assert_eq!(
                            m.search_batch_on(kernel, Some(ck), &q, &p).expect("codes"),
                            m.search_batch_on(kernel, None, &q, &p).expect("f32")
                        );
                    }
                }
            }
        }

        #[test]
        fn codes_equal_f32_on_random_unit_rows(
            seed in any::<u64>(),
            n in 1usize..400,
            dim in 1usize..200,
            k in 1usize..30,
            dup in 1usize..6,
        ) {
            let mut r = rng(seed);
            let distinct: Vec<Vec<f32>> = (0..n.div_ceil(dup)).map(|_| unit(dim, &mut r)).collect();
            let rows: Vec<Vec<f32>> = (0..n).map(|i| distinct[i / dup].clone()).collect();
            let m = matrix_of(dim, &rows);
            let queries = [unit(dim, &mut r), rows[n - 1].clone()];
            for q in &queries {
                let p = SearchParams { k, min_score: Some(-1.0), ..Default::default() };
                for ck in CodeKernel::available() {
                    prop_assert_eq!(
                        m.search_on(Kernel::best(), Some(ck), q, &p).expect("codes"),
                        m.search_on(Kernel::best(), None, q, &p).expect("f32")
                    );
                }
            }
            let flat: Vec<f32> = queries.concat();
            let p = SearchParams { k, ..Default::default() };
            if Kernel::best().has_block_kernel() {
                prop_assert_eq!(
                    m.search_batch_on(Kernel::best(), Some(CodeKernel::best()), &flat, &p).expect("codes"),
                    m.search_batch_on(Kernel::best(), None, &flat, &p).expect("f32")
                );
            }
        }
    }

    proptest! {
        #[test]
        fn search_equals_brute_force(
            (dim, rows) in small_matrix(),
            k in 0usize..70,
            min in proptest::option::of(-4i8..4),
            dom in proptest::option::of(0u8..4),
            typ in proptest::option::of(0u8..4),
            q in proptest::collection::vec(-2i8..3, 12),
            exclude in proptest::option::of(0usize..60),
        ) {
            // Small integer components: many exact duplicates, so many exact ties.
            let mut m = VectorMatrix::new(dim);
            for (i, (v, d, t)) in rows.iter().enumerate() {
                let v: Vec<f32> = v.iter().map(|&x| f32::from(x) * 0.25).collect();
                let d = format!("d{d}");
                let t = format!("t{t}");
                m.upsert(&format!("id{:03}", (i * 37) % 61), &v, Some(d.as_str()), Some(t.as_str()))
                    .expect("valid row");
            }
            let q: Vec<f32> = q[..dim].iter().map(|&x| f32::from(x) * 0.25).collect();
            let p = SearchParams {
                k,
                min_score: min.map(|x| f32::from(x) * 0.125),
                domain: dom.map(|d| format!("d{d}")),
                node_type: typ.map(|t| format!("t{t}")),
                exclude: exclude.map(|e| format!("id{:03}", (e * 37) % 61)),
                threads: None,
            };
            let want = brute(&m, &q, &p);
            for kernel in Kernel::available() {
                // Quarter-integer components make every dot product exact in f32: compare exactly.
                prop_assert_eq!(&m.search_with(kernel, &q, &p).expect("search"), &want);
                let batch = m.search_batch_with(kernel, &q, &p).expect("batch");
                prop_assert_eq!(&batch[0], &want);
            }
        }

        #[test]
        fn ops_keep_the_id_map_right(ops in proptest::collection::vec(op(), 0..120)) {
            let dim = 5;
            let mut m = VectorMatrix::new(dim);
            let mut model: HashMap<String, (Vec<f32>, Option<String>)> = HashMap::new();
            for o in ops {
                match o {
                    Op::Upsert(i, v, d) => {
                        let id = format!("id{i}");
                        let vec: Vec<f32> = (0..dim).map(|j| (v as f32 + j as f32) / 300.0).collect();
                        let dom = d.map(|d| format!("dom{d}"));
                        m.upsert(&id, &vec, dom.as_deref(), None).expect("valid");
                        model.insert(id, (vec, dom));
                    }
                    Op::Label(i, d) => {
                        let id = format!("id{i}");
                        let dom = d.map(|d| format!("dom{d}"));
                        let present = m.set_labels(&id, dom.as_deref(), None);
                        prop_assert_eq!(present, model.contains_key(&id));
                        if let Some(e) = model.get_mut(&id) {
                            e.1 = dom;
                        }
                    }
                    Op::Remove(i) => {
                        let id = format!("id{i}");
                        prop_assert_eq!(m.remove(&id), model.remove(&id).is_some());
                    }
                    Op::Clear => {
                        m.clear();
                        model.clear();
                    }
                }
                prop_assert_eq!(m.len(), model.len());
                prop_assert_eq!(m.as_slice().len(), model.len() * dim);
                for (id, (v, dom)) in &model {
                    prop_assert_eq!(m.get(id), Some(v.as_slice()));
                    prop_assert_eq!(m.labels(id), Some((dom.as_deref(), None)));
                }
                let mut ids: Vec<&str> = m.ids().collect();
                ids.sort();
                let mut want: Vec<&str> = model.keys().map(String::as_str).collect();
                want.sort();
                prop_assert_eq!(ids, want);
            }
            // Search over what is left equals the brute force.
            let q = [0.3f32, -0.1, 0.5, 0.2, -0.4];
            let p = SearchParams { k: 7, min_score: Some(-10.0), domain: Some("dom1".into()), ..Default::default() };
            let got = m.search(&q, &p).expect("search");
            assert_same(&got, &brute(&m, &q, &p));
        }
    }
}
