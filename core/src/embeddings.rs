//! FAFCAS vectors on a database (docs/vectors.md): the one-dimension rule, `set_embedding`/`get_embedding`,
//! and exact top-k search from the handle's in-memory matrix.
//!
//! The matrix is loaded once from SQLite and then kept in step with the handle's writes (see `cache`);
//! a search takes the handle's lock only to check `PRAGMA data_version` and clone an `Arc`, and scores
//! outside it. With [`VectorMemory::Codes`] the matrix holds only the int8 codes, and a search takes
//! the lock again to read its candidates' f32 rows by id (docs/vectors.md, "Bounded memory").
//! Encoding, validation and kernels live in `vector`; this module only wires them.

use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use rayon::prelude::*;
use rusqlite::types::ValueRef;
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

use crate::cache::{CacheOp, Caches, Pending, VectorSkips};
use crate::connection::VectorMemory;
use crate::db::Database;
use crate::error::{Error, Result, SqlContext};
use crate::pool;
use crate::schema;
use crate::vector::fafcas;
use crate::vector::matrix::{Hit, RowSource, SearchParams, VectorMatrix};
use crate::vector::quant::{quantize_into, Terms};

/// Options of a search.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchOptions {
    /// How many results at most (0 returns none).
    pub k: usize,
    /// `None`: only scores > 0 (the application's rule); `Some(m)`: scores ≥ m.
    pub min_score: Option<f32>,
    /// Only nodes of this domain.
    pub domain: Option<String>,
    /// Only nodes of this type.
    pub node_type: Option<String>,
    /// Cap the threads used (None: all cores; Some(1): the calling thread only).
    pub threads: Option<usize>,
}

impl Default for SearchOptions {
    fn default() -> Self {
        SearchOptions {
            k: 10,
            min_score: None,
            domain: None,
            node_type: None,
            threads: None,
        }
    }
}

impl SearchOptions {
    fn params(&self, exclude: Option<String>) -> SearchParams {
        SearchParams {
            k: self.k,
            min_score: self.min_score,
            domain: self.domain.clone(),
            node_type: self.node_type.clone(),
            exclude,
            threads: self.threads,
        }
    }

    fn check(&self) -> Result<()> {
        if let Some(m) = self.min_score {
            if m.is_nan() {
                return Err(Error::InvalidArgument("min_score is NaN".into()));
            }
        }
        if self.threads == Some(0) {
            return Err(Error::InvalidArgument("threads must be at least 1".into()));
        }
        Ok(())
    }
}

/// What the in-memory matrix holds and what it skipped.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VectorIndexInfo {
    /// The database's dimension, if fixed.
    pub dimension: Option<usize>,
    /// Rows in the matrix.
    pub rows: usize,
    /// Blobs skipped as malformed.
    pub malformed: u64,
    /// Blobs skipped for another dimension.
    pub wrong_dimension: u64,
    /// Non-unit blobs normalised in memory.
    pub renormalised: u64,
    /// Zero vectors (kept; they score 0).
    pub zero: u64,
    /// The dot-product kernel in use.
    pub kernel: &'static str,
    /// What the handle holds for search: `"matrix"` (the f32 rows) or `"codes"` (only the int8
    /// codes; see [`VectorMemory`]). A `Codes` handle holds the matrix when the dimension is beyond
    /// the int8 kernels, or for a while after a search that could not settle on the codes.
    pub memory: &'static str,
}

/// The largest dimension a database may have: the longest vector whose FAFCAS blob (4 bytes per
/// component) fits SQLite's default length limit of 1,000,000,000 bytes. A write of a longer vector is
/// `invalid_vector`; a `resonance_meta.dimension` outside `1..=MAX_DIMENSION` is `corrupt`.
pub const MAX_DIMENSION: usize = 250_000_000;

/// Reads `resonance_meta.dimension` as written by [`DimensionGuard::accept`]: decimal digits of a
/// number in `1..=MAX_DIMENSION`. Anything else is `corrupt`, naming the table and the value; nothing
/// is ever sized from a value outside that range.
pub(crate) fn parse_recorded_dimension(value: &str) -> Result<usize> {
    let bad = || {
        let shown: String = value.chars().take(64).collect();
        Error::Corrupt(format!(
            "resonance_meta.dimension is {shown:?}, not a whole number between 1 and {MAX_DIMENSION}"
        ))
    };
    if value.is_empty() || value.len() > 12 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    match value.parse::<usize>() {
        Ok(d) if (1..=MAX_DIMENSION).contains(&d) => Ok(d),
        _ => Err(bad()),
    }
}

fn recorded_dimension(conn: &Connection) -> Result<Option<usize>> {
    if !schema::object_names(conn, "table")?.contains("resonance_meta") {
        return Ok(None);
    }
    let v: Option<rusqlite::types::Value> = conn
        .prepare_cached("SELECT value FROM resonance_meta WHERE key = 'dimension'")
        .ctx("reading the dimension")?
        .query_row([], |r| r.get(0))
        .optional()
        .ctx("reading the dimension")?;
    use rusqlite::types::Value;
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Text(t)) => parse_recorded_dimension(&t).map(Some),
        Some(Value::Integer(i)) => parse_recorded_dimension(&i.to_string()).map(Some),
        Some(other) => Err(Error::Corrupt(format!(
            "resonance_meta.dimension holds a {} value, not a whole number between 1 and {MAX_DIMENSION}",
            match other {
                Value::Real(_) => "real",
                _ => "blob",
            }
        ))),
    }
}

/// The most common well-formed blob dimension (files written before a dimension was recorded).
fn inferred_dimension(conn: &Connection) -> Result<Option<usize>> {
    conn.prepare_cached(
        "SELECT length(embedding) AS l FROM nodes WHERE typeof(embedding) = 'blob' AND length(embedding) > 0 \
         AND length(embedding) % 4 = 0 GROUP BY l ORDER BY count(*) DESC, l LIMIT 1",
    )
    .ctx("inferring the dimension")?
    .query_row([], |r| r.get::<_, i64>(0))
    .optional()
    .ctx("inferring the dimension")
    .map(|l| l.map(|l| l as usize / 4))
}

fn database_dimension(conn: &Connection) -> Result<Option<usize>> {
    match recorded_dimension(conn)? {
        Some(d) => Ok(Some(d)),
        None => inferred_dimension(conn),
    }
}

/// Applies the one-dimension rule to the vectors of one write call.
pub(crate) struct DimensionGuard<'a> {
    cache: &'a mut Caches,
    known: Option<Option<usize>>,
}

impl<'a> DimensionGuard<'a> {
    /// A guard for one write (or one read of the dimension).
    pub(crate) fn new(cache: &'a mut Caches) -> DimensionGuard<'a> {
        DimensionGuard { cache, known: None }
    }

    /// The database's dimension, if fixed (cached once committed).
    pub(crate) fn current(&mut self, conn: &Connection) -> Result<Option<usize>> {
        if let Some(k) = self.known {
            return Ok(k);
        }
        let d = if conn.is_autocommit() {
            match self.cache.dimension {
                Some(d) => d,
                None => {
                    let d = database_dimension(conn)?;
                    self.cache.dimension = Some(d);
                    d
                }
            }
        } else {
            // Inside a transaction: read what this transaction sees.
            database_dimension(conn)?
        };
        self.known = Some(d);
        Ok(d)
    }

    /// Validates and normalises `v` for node `id`; the first vector of a database fixes its dimension.
    pub(crate) fn accept(
        &mut self,
        conn: &Connection,
        v: &[f32],
        id: &str,
        pending: &mut Pending,
    ) -> Result<Vec<f32>> {
        if v.len() > MAX_DIMENSION {
            return Err(Error::InvalidVector(format!(
                "node {id:?}: the vector has {} components, more than the {MAX_DIMENSION} a database allows",
                v.len()
            )));
        }
        let unit =
            fafcas::validate_and_normalize(v).map_err(|e| e.context(format!("node {id:?}")))?;
        match self.current(conn)? {
            Some(d) => fafcas::check_dimension(d, unit.len(), &format!("node {id:?}"))?,
            None => {
                if schema::object_names(conn, "table")?.contains("resonance_meta") {
                    conn.prepare_cached("INSERT OR REPLACE INTO resonance_meta (key, value) VALUES ('dimension', ?1)")
                        .ctx("recording the dimension")?
                        .execute([unit.len().to_string()])
                        .ctx("recording the dimension")?;
                }
                self.known = Some(Some(unit.len()));
                pending.ops.push(CacheOp::Dimension(unit.len()));
            }
        }
        Ok(unit)
    }
}

/// What one stored blob gives the matrix (the same rule for the load and for a codes-only rescore).
#[derive(Clone, Copy)]
enum Decoded {
    /// A usable row, now in the buffer: unit length, renormalised in memory, or zero.
    Row { renormalised: bool, zero: bool },
    /// Not a blob, empty, a length not a multiple of 4, or a non-finite component.
    Malformed,
    /// A well-formed vector of another dimension.
    WrongDimension,
}

/// What the shape of `value` (a `nodes.embedding`) says before any decoding: `Ok(blob)` when it is
/// a blob of `dim` components, else how the row is skipped.
fn blob_of(value: ValueRef<'_>, dim: usize) -> std::result::Result<&[u8], Decoded> {
    let ValueRef::Blob(blob) = value else {
        return Err(Decoded::Malformed);
    };
    if blob.is_empty() || blob.len() % 4 != 0 {
        return Err(Decoded::Malformed);
    }
    if blob.len() / 4 != dim {
        return Err(Decoded::WrongDimension);
    }
    Ok(blob)
}

/// Decodes `value` (a `nodes.embedding`) into `buf` (`dim` floats) the way the matrix stores it.
fn decode_row(value: ValueRef<'_>, dim: usize, buf: &mut Vec<f32>) -> Decoded {
    let blob = match blob_of(value, dim) {
        Ok(blob) => blob,
        Err(skip) => return skip,
    };
    if buf.len() != dim {
        *buf = vec![0f32; dim];
    }
    decode_blob(blob, buf)
}

/// Decodes `blob` (`4 * out.len()` bytes, from [`blob_of`]) into `out` the way the matrix stores it:
/// checked, and normalised in memory when its norm is off by more than 1e-4.
fn decode_blob(blob: &[u8], out: &mut [f32]) -> Decoded {
    if !fafcas::decode_into(blob, out) || out.iter().any(|x| !x.is_finite()) {
        return Decoded::Malformed;
    }
    let norm = fafcas::l2_norm(out);
    if norm == 0.0 {
        return Decoded::Row {
            renormalised: false,
            zero: true,
        };
    }
    if (norm - 1.0).abs() > 1e-4 {
        let inv = 1.0 / norm;
        for x in out.iter_mut() {
            *x = (f64::from(*x) * inv) as f32;
        }
        return Decoded::Row {
            renormalised: true,
            zero: false,
        };
    }
    Decoded::Row {
        renormalised: false,
        zero: false,
    }
}

/// Counts what decoding one row gave in `skips` (the one place the load counts): whether the row is
/// usable.
fn count(skips: &mut VectorSkips, decoded: Decoded) -> bool {
    match decoded {
        Decoded::Malformed => skips.malformed += 1,
        Decoded::WrongDimension => skips.wrong_dimension += 1,
        Decoded::Row { renormalised, zero } => {
            skips.renormalised += u64::from(renormalised);
            skips.zero += u64::from(zero);
            return true;
        }
    }
    false
}

/// Rows of `nodes` with a blob of the database's dimension that the load reads before it decodes
/// them (about 1.5 MiB of blobs at 384 dimensions).
const LOAD_BATCH: usize = 1024;

/// Rows of a batch one pool task decodes at least.
const LOAD_TASK_ROWS: usize = 64;

/// A row of a [`LoadBatch`] being decoded: its floats and its blob, and its status.
type DecodeRow<'a> = ((&'a mut [f32], &'a [u8]), &'a mut Decoded);

/// Its codes and terms when the matrix keeps codes (empty and `None` otherwise).
type CodeRow<'a> = (&'a mut [i8], Option<&'a mut Terms>);

/// One row of a [`LoadBatch`]: where its id and labels are in `text`.
struct LoadRow {
    /// `None`: the id is neither text nor an integer (the row is skipped as malformed once decoded).
    id: Option<Range<usize>>,
    domain: Option<Range<usize>>,
    node_type: Option<Range<usize>>,
}

/// Rows read by the load on the calling thread, decoded (and for a codes-only matrix quantised) on
/// the pool, then put into the matrix in the order they were read.
#[derive(Default)]
struct LoadBatch {
    /// The blobs, `4 * dim` bytes each.
    blobs: Vec<u8>,
    /// The ids and labels of the rows, one after the other.
    text: String,
    rows: Vec<LoadRow>,
    /// Decoded rows, `dim` floats each.
    floats: Vec<f32>,
    status: Vec<Decoded>,
    /// A codes-only matrix's codes of the rows (`stride` bytes each) and their terms.
    codes: Vec<i8>,
    terms: Vec<Terms>,
}

impl LoadBatch {
    /// Appends `s` to `text`, returning where it is.
    fn text(&mut self, s: &str) -> Range<usize> {
        let start = self.text.len();
        self.text.push_str(s);
        start..self.text.len()
    }

    /// Reads one row of the load's query whose blob is `blob`.
    fn push(&mut self, row: &rusqlite::Row<'_>, blob: &[u8]) -> Result<()> {
        let id = match row.get_ref(0).ctx("loading vectors")? {
            ValueRef::Text(t) => Some(self.text(&String::from_utf8_lossy(t))),
            ValueRef::Integer(i) => Some(self.text(&i.to_string())),
            _ => None,
        };
        // A label that is not valid UTF-8 text is no label (as reading it as `Option<String>`).
        let mut label = |i: usize| match row.get_ref(i) {
            Ok(ValueRef::Text(t)) => std::str::from_utf8(t).ok().map(|s| self.text(s)),
            _ => None,
        };
        let (domain, node_type) = (label(1), label(2));
        self.rows.push(LoadRow {
            id,
            domain,
            node_type,
        });
        self.blobs.extend_from_slice(blob);
        Ok(())
    }

    /// Decodes (and quantises, with `stride`) the rows, on the pool unless they are few.
    fn decode(&mut self, dim: usize, stride: Option<usize>) -> Result<()> {
        let n = self.rows.len();
        self.floats.resize(n * dim, 0.0);
        self.status.resize(n, Decoded::Malformed);
        let stride = stride.unwrap_or(0);
        self.codes.clear();
        self.codes.resize(n * stride, 0);
        self.terms
            .resize(if stride > 0 { n } else { 0 }, Terms::default());
        // One row: decoded into `out`, and quantised into `code` when the matrix keeps codes
        // (`code` is then `stride` bytes; empty otherwise).
        let one = |(((out, blob), status), (code, terms)): (DecodeRow<'_>, CodeRow<'_>)| {
            *status = decode_blob(blob, out);
            if let (Decoded::Row { .. }, Some(terms)) = (*status, terms) {
                *terms = quantize_into(out, code);
            }
        };
        let (floats, blobs, status) = (&mut self.floats, &self.blobs, &mut self.status);
        let (codes, terms) = (&mut self.codes, &mut self.terms);
        if n <= LOAD_TASK_ROWS {
            let code_rows: Box<dyn Iterator<Item = CodeRow<'_>>> = if stride > 0 {
                Box::new(codes.chunks_mut(stride).zip(terms.iter_mut().map(Some)))
            } else {
                Box::new(std::iter::repeat_with(|| (&mut [][..], None)))
            };
            floats
                .chunks_mut(dim)
                .zip(blobs.chunks_exact(4 * dim))
                .zip(status.iter_mut())
                .zip(code_rows)
                .for_each(one);
            return Ok(());
        }
        let rows = floats
            .par_chunks_mut(dim)
            .zip(blobs.par_chunks_exact(4 * dim))
            .zip(status.par_iter_mut());
        if stride > 0 {
            let code_rows = codes
                .par_chunks_mut(stride)
                .zip(terms.par_iter_mut().map(Some));
            pool::install(None, || {
                rows.zip(code_rows)
                    .with_min_len(LOAD_TASK_ROWS)
                    .for_each(one)
            })
        } else {
            pool::install(None, || {
                rows.map(|r| (r, (&mut [][..], None)))
                    .with_min_len(LOAD_TASK_ROWS)
                    .for_each(one)
            })
        }
    }

    /// Decodes the batch and puts its rows into `m` in order, counting what it skips; then empties
    /// it.
    fn flush(&mut self, m: &mut VectorMatrix, skips: &mut VectorSkips) -> Result<()> {
        let (dim, stride) = (m.dim(), m.loaded_code_stride());
        self.decode(dim, stride)?;
        for (i, row) in self.rows.iter().enumerate() {
            if !count(skips, self.status[i]) {
                continue;
            }
            let Some(id) = row.id.clone() else {
                skips.malformed += 1;
                continue;
            };
            let label = |r: &Option<Range<usize>>| r.clone().map(|r| &self.text[r]);
            let code = stride.map(|s| (&self.codes[i * s..(i + 1) * s], self.terms[i]));
            m.upsert_loaded(
                &self.text[id],
                &self.floats[i * dim..(i + 1) * dim],
                code,
                label(&row.domain),
                label(&row.node_type),
            )?;
        }
        self.blobs.clear();
        self.text.clear();
        self.rows.clear();
        Ok(())
    }
}

/// Loads every usable vector into a matrix, counting what it skips: the f32 matrix, or with
/// `VectorMemory::Codes` (and a dimension the int8 kernels can sum) a codes-only one. The rows are
/// read on the calling thread and decoded in batches on the pool ([`LoadBatch`]); the matrix, the
/// counts and the order of the rows are those of decoding them one by one.
fn load_matrix(
    conn: &Connection,
    dim: usize,
    memory: VectorMemory,
) -> Result<(VectorMatrix, VectorSkips)> {
    // Sized from the blobs that are really there (never from the recorded dimension alone): rows of
    // exactly `dim` components, and the row buffer only once such a blob was read.
    let bytes = i64::try_from(dim.saturating_mul(4)).unwrap_or(i64::MAX);
    let n: i64 = conn
        .query_row(
            "SELECT count(*) FROM nodes WHERE typeof(embedding) = 'blob' AND length(embedding) = ?1",
            [bytes],
            |r| r.get(0),
        )
        .ctx("counting vectors")?;
    let n = usize::try_from(n).unwrap_or(0);
    let mut m = if memory == VectorMemory::Codes && VectorMatrix::codes_fit(dim) {
        let mut m = VectorMatrix::codes_only(dim)?;
        m.reserve(n);
        m
    } else {
        VectorMatrix::with_capacity(dim, n)
    };
    let mut skips = VectorSkips::default();
    let mut stmt = conn
        .prepare("SELECT id, domain, type, embedding FROM nodes WHERE embedding IS NOT NULL")
        .ctx("loading vectors")?;
    let mut rows = stmt.query([]).ctx("loading vectors")?;
    let mut batch = LoadBatch::default();
    while let Some(row) = rows.next().ctx("loading vectors")? {
        match blob_of(row.get_ref(3).ctx("loading vectors")?, dim) {
            Ok(blob) => batch.push(row, blob)?,
            Err(skip) => {
                count(&mut skips, skip);
            }
        }
        if batch.rows.len() == LOAD_BATCH {
            batch.flush(&mut m, &mut skips)?;
        }
    }
    batch.flush(&mut m, &mut skips)?;
    Ok((m, skips))
}

/// How many times a search of a codes-only matrix starts again when the database changed under it
/// (another connection committed, or this handle wrote from another thread) before it loads the f32
/// matrix instead.
const CODES_ATTEMPTS: usize = 3;

/// Reads the f32 rows of a codes-only matrix from `nodes.embedding`, by id, under the handle's lock —
/// only while the handle's caches still describe the matrix the search took (same `vector_generation`,
/// no commit by another connection before or during the reads: `PRAGMA data_version` unchanged).
/// Otherwise it flags itself stale and fails; the search then starts again.
struct DbRows<'a> {
    db: &'a Database,
    generation: u64,
    stale: AtomicBool,
}

impl DbRows<'_> {
    fn stale_error(&self) -> Error {
        self.stale.store(true, Ordering::Relaxed);
        Error::Internal("the vectors changed during the search".into())
    }
}

impl RowSource for DbRows<'_> {
    fn read_rows(&self, m: &VectorMatrix, rows: &[u32], out: &mut Vec<f32>) -> Result<()> {
        let dim = m.dim();
        self.db.with_state(|s| {
            s.cache.refresh(&s.conn)?;
            if s.cache.vector_generation != self.generation {
                return Err(self.stale_error());
            }
            out.clear();
            let mut buf = Vec::new();
            {
                let mut stmt = s
                    .conn
                    .prepare_cached("SELECT embedding FROM nodes WHERE id = ?1")
                    .ctx("reading vectors")?;
                for &r in rows {
                    let id = m
                        .id(r as usize)
                        .ok_or_else(|| Error::Internal(format!("row {r} is not in the matrix")))?;
                    let mut q = stmt.query([id]).ctx("reading vectors")?;
                    let Some(row) = q.next().ctx("reading vectors")? else {
                        return Err(self.stale_error());
                    };
                    match decode_row(row.get_ref(0).ctx("reading vectors")?, dim, &mut buf) {
                        Decoded::Row { .. } => out.extend_from_slice(&buf),
                        _ => return Err(self.stale_error()),
                    }
                }
            }
            let v: i64 = s
                .conn
                .query_row("PRAGMA data_version", [], |r| r.get(0))
                .ctx("reading data_version")?;
            if s.cache.data_version != Some(v) {
                return Err(self.stale_error());
            }
            Ok(())
        })
    }

    fn stale(&self) {
        self.stale.store(true, Ordering::Relaxed);
    }
}

impl Database {
    /// The handle's matrix, loaded if needed; `None` when the database has no dimension yet.
    fn matrix(&self) -> Result<Option<Arc<VectorMatrix>>> {
        Ok(self
            .matrix_as(self.options().vector_memory)?
            .map(|(m, _)| m))
    }

    /// The handle's matrix and the cache generation it belongs to, loaded as `memory` says if none
    /// is cached.
    fn matrix_as(&self, memory: VectorMemory) -> Result<Option<(Arc<VectorMatrix>, u64)>> {
        self.with_state(|s| {
            s.cache.refresh(&s.conn)?;
            if let Some(m) = &s.cache.vectors {
                return Ok(Some((m.clone(), s.cache.vector_generation)));
            }
            let dim = DimensionGuard::new(&mut s.cache).current(&s.conn)?;
            let Some(dim) = dim else { return Ok(None) };
            let (m, skips) = Database::read_consistent(&s.conn, |c| load_matrix(c, dim, memory))?;
            if !m.holds_f32() {
                // The load streamed every page of `nodes` through the connection's page cache; a
                // handle that keeps only the codes gives that memory back (docs/vectors.md,
                // "Bounded memory").
                s.conn
                    .execute_batch("PRAGMA shrink_memory")
                    .ctx("releasing the page cache")?;
            }
            let m = Arc::new(m);
            s.cache.vectors = Some(m.clone());
            s.cache.vector_skips = skips;
            Ok(Some((m, s.cache.vector_generation)))
        })
    }

    /// Exact top-k of each of `queries` (unit, row-major) on the handle's matrix: the f32 search,
    /// or on a codes-only matrix the int8 first pass with the candidates' f32 rows read from the
    /// database. When the database changes under a codes-only search it starts again on the fresh
    /// caches; after [`CODES_ATTEMPTS`] such starts (a writer that never pauses, or a file whose ids
    /// do not find their rows again) it loads the f32 matrix into the caches and answers from it.
    /// `like` is the id whose stored vector is the query (`search_like`): it is read inside the same
    /// attempt.
    fn search_rows(
        &self,
        queries: &[f32],
        like: Option<&str>,
        params: &SearchParams,
        batch: bool,
    ) -> Result<Option<Vec<Vec<Hit>>>> {
        let mut memory = self.options().vector_memory;
        for attempt in 0..=CODES_ATTEMPTS {
            if attempt == CODES_ATTEMPTS {
                memory = VectorMemory::Matrix;
                self.with_state(|s| {
                    s.cache.invalidate();
                    Ok(())
                })?;
            }
            let Some((m, generation)) = self.matrix_as(memory)? else {
                return Ok(None);
            };
            let source = DbRows {
                db: self,
                generation,
                stale: AtomicBool::new(false),
            };
            let liked;
            let queries = match like {
                None => queries,
                Some(id) => match m.row_of(id) {
                    None => return Err(self.no_usable_embedding(id)?),
                    Some(r) if m.holds_f32() => {
                        liked =
                            m.as_slice()[r as usize * m.dim()..(r as usize + 1) * m.dim()].to_vec();
                        &liked[..]
                    }
                    Some(r) => match m.read_row(r, &source) {
                        Ok(v) => {
                            liked = v;
                            &liked[..]
                        }
                        Err(_) if source.stale.load(Ordering::Relaxed) => continue,
                        Err(e) => return Err(e),
                    },
                },
            };
            if !batch {
                fafcas::check_dimension(m.dim(), queries.len(), "query")?;
            }
            if m.holds_f32() {
                return Ok(Some(if batch {
                    m.search_batch(queries, params)?
                } else {
                    vec![m.search(queries, params)?]
                }));
            }
            match m.search_codes_only(queries, params, batch, &source) {
                Ok(hits) => return Ok(Some(hits)),
                Err(_) if source.stale.load(Ordering::Relaxed) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(Error::Internal("the search did not settle".into()))
    }

    /// The `not_found` of `search_like` for an id without a row in the matrix.
    fn no_usable_embedding(&self, id: &str) -> Result<Error> {
        let exists = self.get_node(id)?.is_some();
        Ok(Error::NotFound(if exists {
            format!("node {id:?} has no usable embedding")
        } else {
            format!("node {id:?}")
        }))
    }

    /// What the in-memory matrix holds (loading it if needed) and what it skipped.
    pub fn vector_index_info(&self) -> Result<VectorIndexInfo> {
        let m = self.matrix()?;
        let skips = self.with_state(|s| Ok(s.cache.vector_skips))?;
        Ok(VectorIndexInfo {
            dimension: m.as_ref().map(|m| m.dim()),
            rows: m.as_ref().map_or(0, |m| m.len()),
            malformed: skips.malformed,
            wrong_dimension: skips.wrong_dimension,
            renormalised: skips.renormalised,
            zero: skips.zero,
            kernel: crate::vector::kernel::active_kernel(),
            memory: match &m {
                Some(m) if m.holds_f32() => VectorMemory::Matrix.name(),
                Some(_) => VectorMemory::Codes.name(),
                None => self.options().vector_memory.name(),
            },
        })
    }

    /// Stores `id`'s embedding (validated, normalised; `not_found` when the node is missing).
    pub fn set_embedding(&self, id: &str, vector: &[f32]) -> Result<()> {
        self.write("set_embedding", |conn, pending, cache| {
            let row: Option<(Option<String>, Option<String>, Option<i64>)> = conn
                .prepare_cached("SELECT domain, type, length(embedding) FROM nodes WHERE id = ?1")
                .ctx("reading a node")?
                .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .optional()
                .ctx("reading a node")?;
            let Some((domain, node_type, old_len)) = row else {
                return Err(Error::NotFound(format!("node {id:?}")));
            };
            let unit = DimensionGuard::new(cache).accept(conn, vector, id, pending)?;
            conn.prepare_cached("UPDATE nodes SET embedding = ?2 WHERE id = ?1")
                .ctx("writing an embedding")?
                .execute(params![id, fafcas::as_bytes(&unit)])
                .ctx(format_args!("writing the embedding of {id:?}"))?;
            let old = old_len.map(|l| serde_json::json!({"embedding": {"dimension": l / 4}}).to_string());
            let new = serde_json::json!({"embedding": {"dimension": unit.len()}}).to_string();
            conn.prepare_cached(
                "INSERT INTO history (entity_type, entity_id, action, old_value, new_value) VALUES ('node', ?1, 'set_embedding', ?2, ?3)",
            )
            .ctx("recording history")?
            .execute(params![id, old, new])
            .ctx("recording history")?;
            if pending.track_vectors {
                pending.ops.push(CacheOp::Upsert { id: id.to_string(), unit, domain, node_type });
            }
            Ok(())
        })
    }

    /// `id`'s embedding (`None` when it has none; `not_found` when the node is missing;
    /// `invalid_vector` when the stored blob is malformed).
    pub fn get_embedding(&self, id: &str) -> Result<Option<Vec<f32>>> {
        self.with_state(|s| {
            let blob: Option<Option<Vec<u8>>> = s
                .conn
                .prepare_cached("SELECT embedding FROM nodes WHERE id = ?1")
                .ctx("reading an embedding")?
                .query_row([id], |r| match r.get_ref(0)? {
                    ValueRef::Blob(b) => Ok(Some(b.to_vec())),
                    ValueRef::Null => Ok(None),
                    _ => Ok(Some(Vec::new())),
                })
                .optional()
                .ctx("reading an embedding")?;
            match blob {
                None => Err(Error::NotFound(format!("node {id:?}"))),
                Some(None) => Ok(None),
                Some(Some(b)) => fafcas::decode(&b)
                    .map(Some)
                    .map_err(|e| e.context(format!("stored embedding of {id:?}"))),
            }
        })
    }

    /// Exact top-k by dot product with `query` (normalised first): scores descending, ties by id.
    pub fn search(&self, query: &[f32], opts: &SearchOptions) -> Result<Vec<Hit>> {
        self.check_open()?;
        opts.check()?;
        let q = fafcas::validate_and_normalize(query).map_err(|e| e.context("query"))?;
        Ok(self
            .search_rows(&q, None, &opts.params(None), false)?
            .and_then(|mut h| h.pop())
            .unwrap_or_default())
    }

    /// Top-k of the nodes most like `id`'s stored vector, excluding `id` itself.
    pub fn search_like(&self, id: &str, opts: &SearchOptions) -> Result<Vec<Hit>> {
        opts.check()?;
        match self.search_rows(&[], Some(id), &opts.params(Some(id.to_string())), false)? {
            Some(mut h) => Ok(h.pop().unwrap_or_default()),
            None => Err(self.no_usable_embedding(id)?),
        }
    }

    /// Many queries at once: `queries` holds `n` row-major vectors of the database's dimension.
    /// Stops with `interrupted` (within a few milliseconds of scanning) when the call is cancelled.
    pub fn search_batch(
        &self,
        queries: &[f32],
        n: usize,
        opts: &SearchOptions,
    ) -> Result<Vec<Vec<Hit>>> {
        self.call(|| self.search_batch_in_call(queries, n, opts))
    }

    fn search_batch_in_call(
        &self,
        queries: &[f32],
        n: usize,
        opts: &SearchOptions,
    ) -> Result<Vec<Vec<Hit>>> {
        // A closed handle is `closed` for every call, also one with nothing to do or bad input.
        self.check_open()?;
        opts.check()?;
        if n == 0 {
            return Ok(Vec::new());
        }
        if queries.is_empty() {
            // Queries of length 0: the same kind as `search` of an empty vector.
            return Err(Error::InvalidVector(format!(
                "the {n} queries are empty (0 floats)"
            )));
        }
        if !queries.len().is_multiple_of(n) {
            return Err(Error::InvalidArgument(format!(
                "{} floats do not split into {n} queries of equal length",
                queries.len()
            )));
        }
        let dim = queries.len() / n;
        let mut unit = Vec::with_capacity(queries.len());
        for (i, q) in queries.chunks_exact(dim).enumerate() {
            unit.extend(
                fafcas::validate_and_normalize(q).map_err(|e| e.context(format!("query #{i}")))?,
            );
        }
        let Some(m) = self.matrix()? else {
            return Ok(vec![Vec::new(); n]);
        };
        fafcas::check_dimension(m.dim(), dim, "batch queries")?;
        Ok(self
            .search_rows(&unit, None, &opts.params(None), true)?
            .unwrap_or_else(|| vec![Vec::new(); n]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The load as it was before the batches: each row decoded and upserted in turn.
    fn load_one_by_one(
        conn: &Connection,
        dim: usize,
        memory: VectorMemory,
    ) -> (VectorMatrix, VectorSkips) {
        let mut m = if memory == VectorMemory::Codes && VectorMatrix::codes_fit(dim) {
            VectorMatrix::codes_only(dim).unwrap()
        } else {
            VectorMatrix::new(dim)
        };
        let mut skips = VectorSkips::default();
        let mut stmt = conn
            .prepare("SELECT id, domain, type, embedding FROM nodes WHERE embedding IS NOT NULL")
            .unwrap();
        let mut rows = stmt.query([]).unwrap();
        let mut buf: Vec<f32> = Vec::new();
        while let Some(row) = rows.next().unwrap() {
            match decode_row(row.get_ref(3).unwrap(), dim, &mut buf) {
                Decoded::Malformed => {
                    skips.malformed += 1;
                    continue;
                }
                Decoded::WrongDimension => {
                    skips.wrong_dimension += 1;
                    continue;
                }
                Decoded::Row { renormalised, zero } => {
                    skips.renormalised += u64::from(renormalised);
                    skips.zero += u64::from(zero);
                }
            }
            let id: String = match row.get_ref(0).unwrap() {
                ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
                ValueRef::Integer(i) => i.to_string(),
                _ => {
                    skips.malformed += 1;
                    continue;
                }
            };
            let domain: Option<String> = row.get(1).unwrap_or(None);
            let node_type: Option<String> = row.get(2).unwrap_or(None);
            m.upsert(&id, &buf, domain.as_deref(), node_type.as_deref())
                .unwrap();
        }
        (m, skips)
    }

    /// A `nodes` table of `n` rows of every kind the load meets in files written by others.
    fn hostile_nodes(n: usize, dim: usize) -> Connection {
        use rusqlite::types::Value;
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE nodes (id, domain, type, embedding)")
            .unwrap();
        let mut s = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 40) as f32 / (1u64 << 24) as f32 - 0.5
        };
        let mut insert = conn
            .prepare("INSERT INTO nodes VALUES (?1, ?2, ?3, ?4)")
            .unwrap();
        for i in 0..n {
            let mut v: Vec<f32> = (0..dim).map(|_| next()).collect();
            let unit = fafcas::validate_and_normalize(&v).unwrap();
            v = match i % 9 {
                // Not unit: renormalised in memory.
                0 => v,
                // Within the tolerance: kept as stored.
                1 => unit.iter().map(|x| x * 1.00005).collect(),
                _ => unit,
            };
            let blob = |v: &[f32]| Value::Blob(fafcas::as_bytes(v).to_vec());
            let embedding = match i {
                _ if i % 50 == 0 => Value::Null,
                _ if i % 37 == 1 => Value::Text("abc".into()),
                _ if i % 41 == 2 => Value::Blob(vec![1; 7]),
                _ if i % 43 == 3 => blob(&v[..dim - 1]),
                _ if i % 47 == 4 => blob(&vec![0.0; dim]),
                _ if i % 53 == 5 => {
                    v[dim / 2] = f32::NAN;
                    blob(&v)
                }
                _ if i % 67 == 6 => Value::Blob(Vec::new()),
                _ if i % 71 == 7 => Value::Integer(3),
                _ => blob(&v),
            };
            let id = match i {
                _ if i % 29 == 8 => Value::Integer(i as i64),
                _ if i % 59 == 9 => Value::Blob(vec![b'b'; 3]),
                _ if i % 61 == 10 => Value::Real(1.5),
                // Made non-UTF-8 below: two such ids read as the same string (the later replaces).
                _ if i % 31 == 11 => Value::Text(String::new()),
                // Some ids repeat (a later row replaces an earlier one in place).
                _ => Value::Text(format!("n{}", i % (n - n / 40))),
            };
            let label = |k: usize, names: &[&str]| match k % 7 {
                5 => Value::Null,
                6 => Value::Integer(k as i64),
                _ => Value::Text(names[k % names.len()].into()),
            };
            insert
                .execute(rusqlite::params![
                    id,
                    label(i, &["a", "b"]),
                    label(i / 2, &["x", "y", "z"]),
                    embedding
                ])
                .unwrap();
        }
        drop(insert);
        // Text that is not UTF-8 (ids and labels).
        conn.execute_batch(
            "UPDATE nodes SET id = CAST(X'78ff' AS TEXT) WHERE id = '' AND rowid % 2 = 0;
             UPDATE nodes SET id = CAST(X'78fe' AS TEXT) WHERE id = '';
             UPDATE nodes SET domain = CAST(X'ff61' AS TEXT) WHERE rowid % 13 = 0;
             UPDATE nodes SET type = CAST(X'c3' AS TEXT) WHERE rowid % 17 = 0;",
        )
        .unwrap();
        conn
    }

    #[test]
    fn the_batched_load_equals_decoding_row_by_row() {
        // Fewer rows than a pool task, several batches with a tail, and 16 and 24 dimensions.
        for (n, dim) in [(40, 24), (LOAD_BATCH * 2 + 300, 24), (LOAD_BATCH + 1, 16)] {
            let conn = hostile_nodes(n, dim);
            for memory in [VectorMemory::Matrix, VectorMemory::Codes] {
                let (got, got_skips) = load_matrix(&conn, dim, memory).unwrap();
                let (want, want_skips) = load_one_by_one(&conn, dim, memory);
                let at = format!("{n} rows of {dim}, {memory:?}");
                assert_eq!(got_skips, want_skips, "{at}");
                assert!(
                    want_skips.malformed > 0
                        && want_skips.wrong_dimension > 0
                        && want_skips.zero > 0,
                    "{at}: {want_skips:?}"
                );
                assert!(n < 100 || want_skips.renormalised > 0, "{at}");
                assert_eq!(got.len(), want.len(), "{at}");
                assert_eq!(got.holds_f32(), want.holds_f32(), "{at}");
                assert!(got.ids().eq(want.ids()), "{at}");
                let bits =
                    |m: &VectorMatrix| m.as_slice().iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&got), bits(&want), "{at}");
                for id in want.ids() {
                    assert_eq!(got.labels(id), want.labels(id), "{at}: {id}");
                }
                assert!(got.same_codes(&want), "{at}");
            }
        }
    }

    #[test]
    fn a_recorded_dimension_is_a_number_in_range_or_corrupt() {
        assert_eq!(parse_recorded_dimension("8").unwrap(), 8);
        assert_eq!(
            parse_recorded_dimension("250000000").unwrap(),
            MAX_DIMENSION
        );
        for bad in [
            "0",
            "250000001",
            "1099511627776",
            "18446744073709551615",
            "-1",
            "+8",
            " 8",
            "8.0",
            "",
            "abc",
        ] {
            let e = parse_recorded_dimension(bad).unwrap_err();
            assert_eq!(e.code(), "corrupt", "{bad:?}");
            assert!(e.to_string().contains("resonance_meta.dimension"), "{e}");
        }
    }
}
