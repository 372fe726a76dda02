//! The stats history (docs/stats.md): `resonance_db_record_stats`, `resonance_db_stats_history`,
//! `resonance_db_validate_stats`, their option structs and their results.

use std::ffi::c_char;
use std::mem::size_of;

use resonance::{RecordStatsOptions, StatsValidationOptions};

use crate::options::{read_options, size_u32, SizedOptions};
use crate::{
    c_opt_string, c_string, free_array, free_c_string, guard, hand_to_caller, handle, into_array,
    opt_string, out_ptr, resonance_status, take_back_from_caller,
};

/// Options of `resonance_db_record_stats`. Fill with `resonance_record_stats_options_default()`; a
/// NULL pointer means every default.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct resonance_record_stats_options {
    /// `sizeof(resonance_record_stats_options)` (see the size rule in the header).
    pub size: u32,
    /// A label (at most 1024 bytes), or NULL.
    pub label: *const c_char,
    /// JSON text stored with the snapshot (must parse; at most 64 KiB), or NULL.
    pub meta_json: *const c_char,
    /// Keep this many newest snapshots (1 to 1000000; the default is the library's, 100).
    pub keep: u32,
}

impl SizedOptions for resonance_record_stats_options {
    const NAME: &'static str = "resonance_record_stats_options";
    const FIRST_SIZE: usize = size_of::<resonance_record_stats_options>();
    fn defaults() -> Self {
        let d = RecordStatsOptions::default();
        resonance_record_stats_options {
            size: size_u32::<Self>(),
            label: std::ptr::null(),
            meta_json: std::ptr::null(),
            keep: d.keep,
        }
    }
}

/// The defaults of `resonance_record_stats_options`, with `size` set.
#[no_mangle]
pub extern "C" fn resonance_record_stats_options_default() -> resonance_record_stats_options {
    resonance_record_stats_options::defaults()
}

/// Thresholds of `resonance_db_validate_stats`. Fill with
/// `resonance_validate_stats_options_default()`; a NULL pointer means every default.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct resonance_validate_stats_options {
    /// `sizeof(resonance_validate_stats_options)` (see the size rule in the header).
    pub size: u32,
    /// Edges per node below which `low_edge_density` warns.
    pub min_edge_density: f64,
    /// Share of nodes with an embedding below which `low_embedding_coverage` warns.
    pub min_embedding_coverage: f64,
    /// A fall beyond this share of the previous count is the error `shrinkage`.
    pub max_shrink_ratio: f64,
    /// Warn `no_growth` when nothing grew.
    pub warn_no_growth: bool,
}

impl SizedOptions for resonance_validate_stats_options {
    const NAME: &'static str = "resonance_validate_stats_options";
    const FIRST_SIZE: usize = size_of::<resonance_validate_stats_options>();
    fn defaults() -> Self {
        let d = StatsValidationOptions::default();
        resonance_validate_stats_options {
            size: size_u32::<Self>(),
            min_edge_density: d.min_edge_density,
            min_embedding_coverage: d.min_embedding_coverage,
            max_shrink_ratio: d.max_shrink_ratio,
            warn_no_growth: d.warn_no_growth,
        }
    }
}

/// The defaults of `resonance_validate_stats_options`, with `size` set.
#[no_mangle]
pub extern "C" fn resonance_validate_stats_options_default() -> resonance_validate_stats_options {
    resonance_validate_stats_options::defaults()
}

/// One snapshot of the stats history. Its strings are owned by the list or verdict holding it.
#[repr(C)]
#[derive(Debug)]
pub struct resonance_stats_snapshot {
    /// Row id; 0 for the live counts a verdict judges when nothing was recorded.
    pub id: i64,
    /// When, UTC (`YYYY-MM-DDTHH:MM:SS.mmmZ`; empty for the live counts). Never NULL.
    pub recorded_at: *mut c_char,
    /// Nodes.
    pub nodes: u64,
    /// Edges.
    pub edges: u64,
    /// Nodes with an embedding.
    pub vectors: u64,
    /// Edges with a missing endpoint.
    pub dangling_edges: u64,
    /// The vector dimension; 0 when none was fixed.
    pub dimension: u64,
    /// Audit history rows.
    pub history: u64,
    /// Bytes of the database file.
    pub db_bytes: u64,
    /// Bytes of the `-wal` file.
    pub wal_bytes: u64,
    /// The label, or NULL.
    pub label: *mut c_char,
    /// The stored meta text, or NULL.
    pub meta: *mut c_char,
}

impl resonance_stats_snapshot {
    fn from_core(s: &resonance::StatsSnapshot) -> resonance_stats_snapshot {
        resonance_stats_snapshot {
            id: s.id.unwrap_or(0),
            recorded_at: c_string(&s.recorded_at),
            nodes: s.nodes,
            edges: s.edges,
            vectors: s.vectors,
            dangling_edges: s.dangling_edges,
            dimension: s.dimension.unwrap_or(0),
            history: s.history,
            db_bytes: s.db_bytes,
            wal_bytes: s.wal_bytes,
            label: c_opt_string(s.label.as_deref()),
            meta: c_opt_string(s.meta.as_deref()),
        }
    }

    fn free_strings(&mut self) {
        for p in [self.recorded_at, self.label, self.meta] {
            free_c_string(p);
        }
    }
}

/// Snapshots, newest first; freed by `resonance_stats_history_free`.
#[repr(C)]
#[derive(Debug)]
pub struct resonance_stats_history {
    /// The snapshots (NULL when `len` is 0).
    pub items: *mut resonance_stats_snapshot,
    /// How many.
    pub len: usize,
}

impl Drop for resonance_stats_history {
    fn drop(&mut self) {
        if !self.items.is_null() {
            for i in 0..self.len {
                // SAFETY: `items` holds `len` snapshots made by `from_core`.
                unsafe { (*self.items.add(i)).free_strings() };
            }
        }
        free_array(self.items, self.len);
    }
}

/// One finding of a verdict: a stable code and a message, both non-NULL.
#[repr(C)]
#[derive(Debug)]
pub struct resonance_stats_finding {
    /// `empty_database`, `shrinkage`, `stats_unreadable`, `no_growth`, `low_edge_density`,
    /// `low_embedding_coverage` or `dangling_edges_rising`.
    pub code: *mut c_char,
    /// For people, with the numbers.
    pub message: *mut c_char,
}

fn findings(v: &[resonance::StatsFinding]) -> (*mut resonance_stats_finding, usize) {
    into_array(
        v.iter()
            .map(|f| resonance_stats_finding {
                code: c_string(&f.code),
                message: c_string(&f.message),
            })
            .collect(),
    )
}

fn free_findings(p: *mut resonance_stats_finding, len: usize) {
    if !p.is_null() {
        for i in 0..len {
            // SAFETY: `p` holds `len` findings made by `findings`.
            let f = unsafe { &*p.add(i) };
            free_c_string(f.code);
            free_c_string(f.message);
        }
    }
    free_array(p, len);
}

/// The verdict of `resonance_db_validate_stats`; freed by `resonance_stats_validation_free`.
#[repr(C)]
#[derive(Debug)]
pub struct resonance_stats_validation {
    /// No error findings.
    pub passed: bool,
    /// Error findings (NULL when `errors_len` is 0).
    pub errors: *mut resonance_stats_finding,
    /// How many errors.
    pub errors_len: usize,
    /// Warning findings (NULL when `warnings_len` is 0).
    pub warnings: *mut resonance_stats_finding,
    /// How many warnings.
    pub warnings_len: usize,
    /// Whether `snapshot` is set.
    pub has_snapshot: bool,
    /// The snapshot judged (when `has_snapshot`).
    pub snapshot: resonance_stats_snapshot,
    /// Whether `previous` is set.
    pub has_previous: bool,
    /// The snapshot before it (when `has_previous`).
    pub previous: resonance_stats_snapshot,
}

fn empty_snapshot() -> resonance_stats_snapshot {
    resonance_stats_snapshot::from_core(&resonance::StatsSnapshot::default())
}

impl Drop for resonance_stats_validation {
    fn drop(&mut self) {
        free_findings(self.errors, self.errors_len);
        free_findings(self.warnings, self.warnings_len);
        self.snapshot.free_strings();
        self.previous.free_strings();
    }
}

/// Records a snapshot of the counts and sizes in the stats history (docs/stats.md); `options` may
/// be NULL. When `snapshot_out` is not NULL it receives the row written (a one-item list; free it
/// with `resonance_stats_history_free`). Bad options are `RESONANCE_INVALID_ARGUMENT`, a read-only
/// handle `RESONANCE_READONLY`; nothing is written then.
///
/// # Safety
/// `db` is NULL or a handle; `options` is NULL or points to `options->size` readable bytes whose
/// strings are NULL or NUL-terminated; `snapshot_out` and `err_out` are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn resonance_db_record_stats(
    db: *mut crate::resonance_db,
    options: *const resonance_record_stats_options,
    snapshot_out: *mut *mut resonance_stats_history,
    err_out: *mut *mut c_char,
) -> resonance_status {
    guard!(err_out, {
        if !snapshot_out.is_null() {
            // SAFETY: non-NULL, and writable as the caller promised.
            unsafe { *snapshot_out = std::ptr::null_mut() };
        }
        // SAFETY: as the caller promised.
        let o = unsafe { read_options(options) }?;
        let opts = RecordStatsOptions {
            label: opt_string(o.label, "options.label")?,
            meta: opt_string(o.meta_json, "options.meta_json")?,
            keep: o.keep,
        };
        let s = handle(db)?.record_stats(&opts)?;
        if !snapshot_out.is_null() {
            let (items, len) = into_array(vec![resonance_stats_snapshot::from_core(&s)]);
            let list = hand_to_caller(resonance_stats_history { items, len }, "stats_history");
            // SAFETY: non-NULL, and writable as the caller promised.
            unsafe { *snapshot_out = list };
        }
        Ok(())
    })
}

/// The newest `limit` snapshots, newest first, into `*history_out` (free it with
/// `resonance_stats_history_free`). Works on read-only handles.
///
/// # Safety
/// `db` is NULL or a handle; `history_out` and `err_out` are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn resonance_db_stats_history(
    db: *mut crate::resonance_db,
    limit: usize,
    history_out: *mut *mut resonance_stats_history,
    err_out: *mut *mut c_char,
) -> resonance_status {
    guard!(err_out, {
        let out = out_ptr(history_out, "history_out")?;
        *out = std::ptr::null_mut();
        let h = handle(db)?.stats_history(limit)?;
        let (items, len) = into_array(h.iter().map(resonance_stats_snapshot::from_core).collect());
        *out = hand_to_caller(resonance_stats_history { items, len }, "stats_history");
        Ok(())
    })
}

/// Frees a stats history. NULL (or an already freed one) is a no-op.
#[no_mangle]
pub extern "C" fn resonance_stats_history_free(history: *mut resonance_stats_history) {
    let _ = std::panic::catch_unwind(|| drop(take_back_from_caller(history, "stats_history")));
}

/// Judges the newest snapshot against the one before (docs/stats.md) into `*validation_out` (free
/// it with `resonance_stats_validation_free`); `options` may be NULL.
///
/// # Safety
/// `db` is NULL or a handle; `options` is NULL or points to `options->size` readable bytes;
/// `validation_out` and `err_out` are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn resonance_db_validate_stats(
    db: *mut crate::resonance_db,
    options: *const resonance_validate_stats_options,
    validation_out: *mut *mut resonance_stats_validation,
    err_out: *mut *mut c_char,
) -> resonance_status {
    guard!(err_out, {
        let out = out_ptr(validation_out, "validation_out")?;
        *out = std::ptr::null_mut();
        // SAFETY: as the caller promised.
        let o = unsafe { read_options(options) }?;
        let opts = StatsValidationOptions {
            min_edge_density: o.min_edge_density,
            min_embedding_coverage: o.min_embedding_coverage,
            max_shrink_ratio: o.max_shrink_ratio,
            warn_no_growth: o.warn_no_growth,
        };
        let v = handle(db)?.validate_stats(&opts)?;
        let (errors, errors_len) = findings(&v.errors);
        let (warnings, warnings_len) = findings(&v.warnings);
        let snap = |s: &Option<resonance::StatsSnapshot>| {
            s.as_ref()
                .map_or_else(empty_snapshot, resonance_stats_snapshot::from_core)
        };
        *out = hand_to_caller(
            resonance_stats_validation {
                passed: v.passed(),
                errors,
                errors_len,
                warnings,
                warnings_len,
                has_snapshot: v.snapshot.is_some(),
                snapshot: snap(&v.snapshot),
                has_previous: v.previous.is_some(),
                previous: snap(&v.previous),
            },
            "stats_validation",
        );
        Ok(())
    })
}

/// Frees a verdict. NULL (or an already freed one) is a no-op.
#[no_mangle]
pub extern "C" fn resonance_stats_validation_free(validation: *mut resonance_stats_validation) {
    let _ =
        std::panic::catch_unwind(|| drop(take_back_from_caller(validation, "stats_validation")));
}
