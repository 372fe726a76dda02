//! Stats history and validation (docs/stats.md): snapshots of a database's counts and sizes kept in
//! `resonance_stats_history` ([`Database::record_stats`], [`Database::stats_history`]) and the verdict
//! on the newest one against the one before ([`Database::validate_stats`]).
//!
//! Owns that table's rows, the finding codes and their default thresholds. It must not write any
//! other table, and it reads the table as a file another program may have written: every value is
//! checked before use (`corrupt` naming the row), a table of another shape is `schema_unknown`.

use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

use crate::db::Database;
use crate::error::{Error, Result, SqlContext};
use crate::schema;

/// The table holding the snapshots.
pub const STATS_HISTORY_TABLE: &str = "resonance_stats_history";
/// How many snapshots [`RecordStatsOptions::keep`] keeps by default.
pub const DEFAULT_STATS_KEEP: u32 = 100;
/// The most snapshots a history may be asked to keep.
pub const MAX_STATS_KEEP: u32 = 1_000_000;
/// The longest label, in bytes of UTF-8.
pub const MAX_LABEL_BYTES: usize = 1024;
/// The longest meta JSON text, in bytes.
pub const MAX_META_BYTES: usize = 64 * 1024;

/// The table's columns, in the order every read selects them.
const COLUMNS: [&str; 12] = [
    "id",
    "recorded_at",
    "nodes",
    "edges",
    "vectors",
    "dangling_edges",
    "dimension",
    "history",
    "db_bytes",
    "wal_bytes",
    "label",
    "meta",
];

/// What [`Database::record_stats`] writes beside the counts, and how much history it keeps.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordStatsOptions {
    /// A label for the snapshot (at most [`MAX_LABEL_BYTES`] bytes), e.g. `"after import"`.
    pub label: Option<String>,
    /// JSON text stored with the snapshot (must parse; at most [`MAX_META_BYTES`] bytes).
    pub meta: Option<String>,
    /// Keep this many newest snapshots, deleting older ones in the same transaction
    /// (1..=[`MAX_STATS_KEEP`], default [`DEFAULT_STATS_KEEP`]).
    pub keep: u32,
}

impl Default for RecordStatsOptions {
    fn default() -> Self {
        RecordStatsOptions {
            label: None,
            meta: None,
            keep: DEFAULT_STATS_KEEP,
        }
    }
}

impl RecordStatsOptions {
    /// Checks the options, naming the bad one.
    pub fn validate(&self) -> Result<()> {
        if let Some(l) = &self.label {
            if l.len() > MAX_LABEL_BYTES {
                return Err(Error::InvalidArgument(format!(
                    "stats label is {} bytes, at most {MAX_LABEL_BYTES} allowed",
                    l.len()
                )));
            }
        }
        if let Some(m) = &self.meta {
            if m.len() > MAX_META_BYTES {
                return Err(Error::InvalidArgument(format!(
                    "stats meta is {} bytes, at most {MAX_META_BYTES} allowed",
                    m.len()
                )));
            }
            serde_json::from_str::<serde_json::Value>(m).map_err(|e| {
                Error::InvalidArgument(format!("stats meta is not valid JSON: {e}"))
            })?;
        }
        if !(1..=MAX_STATS_KEEP).contains(&self.keep) {
            return Err(Error::InvalidArgument(format!(
                "stats keep must be between 1 and {MAX_STATS_KEEP}, got {}",
                self.keep
            )));
        }
        Ok(())
    }
}

/// One snapshot of a database's counts and sizes.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct StatsSnapshot {
    /// The row id, increasing with time; `None` for the live counts [`Database::validate_stats`]
    /// judges when nothing was recorded yet.
    pub id: Option<i64>,
    /// When, UTC, `YYYY-MM-DDTHH:MM:SS.mmmZ`.
    pub recorded_at: String,
    /// Nodes.
    pub nodes: u64,
    /// Edges.
    pub edges: u64,
    /// Nodes with an embedding.
    pub vectors: u64,
    /// Edges with a missing endpoint.
    pub dangling_edges: u64,
    /// The vector dimension, if fixed.
    pub dimension: Option<u64>,
    /// Rows of the audit history.
    pub history: u64,
    /// Bytes of the database file.
    pub db_bytes: u64,
    /// Bytes of the `-wal` file.
    pub wal_bytes: u64,
    /// The label given.
    pub label: Option<String>,
    /// The JSON text given (as stored).
    pub meta: Option<String>,
}

/// Thresholds of [`Database::validate_stats`]; the defaults are documented in docs/stats.md.
#[derive(Debug, Clone, PartialEq)]
pub struct StatsValidationOptions {
    /// Edges per node below which `low_edge_density` warns (default
    /// [`crate::health::MIN_EDGE_DENSITY`], 0.1).
    pub min_edge_density: f64,
    /// Share of nodes with an embedding below which `low_embedding_coverage` warns (default
    /// [`crate::health::MIN_EMBEDDING_COVERAGE`], 0.9).
    pub min_embedding_coverage: f64,
    /// A fall of nodes, edges or vectors since the previous snapshot larger than this share of
    /// the previous count is the error `shrinkage` (default 0.1: more than 10 %).
    pub max_shrink_ratio: f64,
    /// Warn `no_growth` when neither nodes, edges nor vectors grew since the previous snapshot
    /// (default true).
    pub warn_no_growth: bool,
}

impl Default for StatsValidationOptions {
    fn default() -> Self {
        StatsValidationOptions {
            min_edge_density: crate::health::MIN_EDGE_DENSITY,
            min_embedding_coverage: crate::health::MIN_EMBEDDING_COVERAGE,
            max_shrink_ratio: 0.1,
            warn_no_growth: true,
        }
    }
}

impl StatsValidationOptions {
    /// Checks the options, naming the bad one.
    pub fn validate(&self) -> Result<()> {
        let check = |name: &str, v: f64, max: f64| {
            if !v.is_finite() || v < 0.0 || v > max {
                return Err(Error::InvalidArgument(format!(
                    "{name} must be a number between 0 and {max}, got {v}"
                )));
            }
            Ok(())
        };
        check("min_edge_density", self.min_edge_density, 1e9)?;
        check("min_embedding_coverage", self.min_embedding_coverage, 1.0)?;
        check("max_shrink_ratio", self.max_shrink_ratio, 1.0)
    }
}

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Worth a look; `resonance doctor` prints it and still exits 0 for it.
    Warning,
    /// Something went wrong; `resonance doctor` exits 1.
    Error,
}

/// One finding of [`Database::validate_stats`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatsFinding {
    /// Stable code: `empty_database`, `shrinkage`, `stats_unreadable` (errors); `no_growth`,
    /// `low_edge_density`, `low_embedding_coverage`, `dangling_edges_rising` (warnings).
    pub code: String,
    /// For people, with the numbers.
    pub message: String,
}

/// The verdict of [`Database::validate_stats`].
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct StatsValidation {
    /// Findings of severity error.
    pub errors: Vec<StatsFinding>,
    /// Findings of severity warning.
    pub warnings: Vec<StatsFinding>,
    /// The snapshot judged: the newest recorded, or the live counts when none is.
    pub snapshot: Option<StatsSnapshot>,
    /// The snapshot before it, when there is one.
    pub previous: Option<StatsSnapshot>,
}

impl StatsValidation {
    /// No errors (warnings allowed).
    pub fn passed(&self) -> bool {
        self.errors.is_empty()
    }

    fn push(&mut self, severity: Severity, code: &str, message: String) {
        let f = StatsFinding {
            code: code.to_string(),
            message,
        };
        match severity {
            Severity::Warning => self.warnings.push(f),
            Severity::Error => self.errors.push(f),
        }
    }
}

/// Judges `snapshot` against `previous` (pure: the rules of docs/stats.md).
pub fn judge(
    snapshot: StatsSnapshot,
    previous: Option<StatsSnapshot>,
    opts: &StatsValidationOptions,
) -> StatsValidation {
    let mut v = StatsValidation::default();
    let s = &snapshot;
    if s.nodes == 0 {
        v.push(
            Severity::Error,
            "empty_database",
            "the database has no nodes".into(),
        );
    } else {
        let density = s.edges as f64 / s.nodes as f64;
        if density < opts.min_edge_density {
            v.push(
                Severity::Warning,
                "low_edge_density",
                format!(
                    "edge density {density:.3} edges per node is below {}",
                    opts.min_edge_density
                ),
            );
        }
        let coverage = s.vectors as f64 / s.nodes as f64;
        if coverage < opts.min_embedding_coverage {
            v.push(
                Severity::Warning,
                "low_embedding_coverage",
                format!(
                    "embedding coverage {:.1}% is below {:.1}%",
                    coverage * 100.0,
                    opts.min_embedding_coverage * 100.0
                ),
            );
        }
    }
    if let Some(p) = &previous {
        let counts = [
            ("nodes", p.nodes, s.nodes),
            ("edges", p.edges, s.edges),
            ("vectors", p.vectors, s.vectors),
        ];
        let mut shrunk = false;
        for (what, before, now) in counts {
            if now < before {
                let ratio = (before - now) as f64 / before as f64;
                if ratio > opts.max_shrink_ratio {
                    shrunk = true;
                    v.push(
                        Severity::Error,
                        "shrinkage",
                        format!(
                            "{what} fell from {before} to {now} ({:.1}%, more than {:.1}%) since the previous snapshot",
                            ratio * 100.0,
                            opts.max_shrink_ratio * 100.0
                        ),
                    );
                }
            }
        }
        if !shrunk && opts.warn_no_growth && counts.iter().all(|(_, before, now)| now <= before) {
            v.push(
                Severity::Warning,
                "no_growth",
                format!(
                    "no growth since the previous snapshot: nodes {}, edges {}, vectors {}",
                    s.nodes, s.edges, s.vectors
                ),
            );
        }
        if s.dangling_edges > p.dangling_edges {
            v.push(
                Severity::Warning,
                "dangling_edges_rising",
                format!(
                    "dangling edges rose from {} to {}",
                    p.dangling_edges, s.dangling_edges
                ),
            );
        }
    }
    v.snapshot = Some(snapshot);
    v.previous = previous;
    v
}

/// Whether the table exists; `schema_unknown` when it does with other columns than ours.
fn table_ready(conn: &Connection) -> Result<bool> {
    if !schema::object_names(conn, "table")?.contains(STATS_HISTORY_TABLE) {
        return Ok(false);
    }
    let cols: Vec<String> = schema::table_columns(conn, STATS_HISTORY_TABLE)?
        .into_iter()
        .map(|c| c.name)
        .collect();
    if cols.iter().map(String::as_str).ne(COLUMNS) {
        return Err(Error::SchemaUnknown(format!(
            "{STATS_HISTORY_TABLE} has columns {cols:?}, expected {COLUMNS:?}"
        )));
    }
    Ok(true)
}

fn count_of(r: &rusqlite::Row<'_>, i: usize, id: i64) -> Result<u64> {
    match r.get_ref(i).ctx(STATS_HISTORY_TABLE)? {
        rusqlite::types::ValueRef::Integer(n) if n >= 0 => Ok(n as u64),
        other => Err(Error::Corrupt(format!(
            "{STATS_HISTORY_TABLE} row {id}: {} is {other:?}, expected a whole number >= 0",
            COLUMNS[i]
        ))),
    }
}

fn text_of(r: &rusqlite::Row<'_>, i: usize, id: i64) -> Result<Option<String>> {
    match r.get_ref(i).ctx(STATS_HISTORY_TABLE)? {
        rusqlite::types::ValueRef::Null => Ok(None),
        rusqlite::types::ValueRef::Text(t) => match std::str::from_utf8(t) {
            Ok(s) => Ok(Some(s.to_string())),
            Err(_) => Err(Error::Corrupt(format!(
                "{STATS_HISTORY_TABLE} row {id}: {} is not UTF-8 text",
                COLUMNS[i]
            ))),
        },
        _ => Err(Error::Corrupt(format!(
            "{STATS_HISTORY_TABLE} row {id}: {} is not text",
            COLUMNS[i]
        ))),
    }
}

fn snapshot_of(r: &rusqlite::Row<'_>) -> Result<StatsSnapshot> {
    let id = match r.get_ref(0).ctx(STATS_HISTORY_TABLE)? {
        rusqlite::types::ValueRef::Integer(n) => n,
        _ => {
            return Err(Error::Corrupt(format!(
                "{STATS_HISTORY_TABLE}: an id is not an integer"
            )))
        }
    };
    let dimension = match r.get_ref(6).ctx(STATS_HISTORY_TABLE)? {
        rusqlite::types::ValueRef::Null => None,
        _ => Some(count_of(r, 6, id)?),
    };
    Ok(StatsSnapshot {
        id: Some(id),
        recorded_at: text_of(r, 1, id)?.ok_or_else(|| {
            Error::Corrupt(format!(
                "{STATS_HISTORY_TABLE} row {id}: recorded_at is NULL"
            ))
        })?,
        nodes: count_of(r, 2, id)?,
        edges: count_of(r, 3, id)?,
        vectors: count_of(r, 4, id)?,
        dangling_edges: count_of(r, 5, id)?,
        dimension,
        history: count_of(r, 7, id)?,
        db_bytes: count_of(r, 8, id)?,
        wal_bytes: count_of(r, 9, id)?,
        label: text_of(r, 10, id)?,
        meta: text_of(r, 11, id)?,
    })
}

/// The newest `limit` snapshots, newest first (empty when the table does not exist yet: a handle
/// opened without migrating an older file).
pub(crate) fn read(conn: &Connection, limit: usize) -> Result<Vec<StatsSnapshot>> {
    if limit == 0 || !table_ready(conn)? {
        return Ok(Vec::new());
    }
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let mut stmt = conn
        .prepare(
            "SELECT id, recorded_at, nodes, edges, vectors, dangling_edges, dimension, history, \
             db_bytes, wal_bytes, label, meta FROM resonance_stats_history ORDER BY id DESC LIMIT ?1",
        )
        .ctx("reading resonance_stats_history")?;
    let mut rows = stmt.query([limit]).ctx("reading resonance_stats_history")?;
    let mut out = Vec::new();
    while let Some(r) = rows.next().ctx("reading resonance_stats_history")? {
        out.push(snapshot_of(r)?);
    }
    Ok(out)
}

impl Database {
    /// Records a snapshot of [`Database::stats`] with `opts`' label and meta in
    /// `resonance_stats_history`, keeping the newest `opts.keep`; returns it. Bad options are
    /// `invalid_argument` and a read-only handle is `readonly`, with nothing written.
    pub fn record_stats(&self, opts: &RecordStatsOptions) -> Result<StatsSnapshot> {
        opts.validate()?;
        self.check_writable("record_stats")?;
        let s = self.stats()?;
        let as_i64 = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        self.write("record_stats", |conn, _, _| {
            if !table_ready(conn)? {
                return Err(Error::SchemaUnknown(format!(
                    "record_stats: {STATS_HISTORY_TABLE} does not exist; open the database with migrations on"
                )));
            }
            let id: i64 = conn
                .query_row(
                    "INSERT INTO resonance_stats_history (id, recorded_at, nodes, edges, vectors, \
                     dangling_edges, dimension, history, db_bytes, wal_bytes, label, meta) \
                     VALUES ((SELECT coalesce(max(id), 0) + 1 FROM resonance_stats_history), \
                     strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) \
                     RETURNING id",
                    params![
                        as_i64(s.nodes),
                        as_i64(s.edges),
                        as_i64(s.vectors),
                        as_i64(s.dangling_edges),
                        s.dimension.map(|d| d as i64),
                        as_i64(s.history),
                        as_i64(s.db_bytes),
                        as_i64(s.wal_bytes),
                        opts.label,
                        opts.meta,
                    ],
                    |r| r.get(0),
                )
                .ctx("recording stats")?;
            conn.execute(
                "DELETE FROM resonance_stats_history WHERE id <= ?1",
                [id - i64::from(opts.keep)],
            )
            .ctx("pruning resonance_stats_history")?;
            conn.query_row(
                "SELECT id, recorded_at, nodes, edges, vectors, dangling_edges, dimension, history, \
                 db_bytes, wal_bytes, label, meta FROM resonance_stats_history WHERE id = ?1",
                [id],
                |r| Ok(snapshot_of(r)),
            )
            .optional()
            .ctx("reading the recorded stats")?
            .ok_or_else(|| Error::Internal("the recorded stats row vanished".into()))?
        })
    }

    /// The newest `limit` snapshots, newest first. Works on read-only handles.
    pub fn stats_history(&self, limit: usize) -> Result<Vec<StatsSnapshot>> {
        self.with_state(|s| read(&s.conn, limit))
    }

    /// Judges the newest snapshot against the one before it (docs/stats.md); when none was
    /// recorded, the live counts with nothing to compare them to. Reads only.
    pub fn validate_stats(&self, opts: &StatsValidationOptions) -> Result<StatsValidation> {
        opts.validate()?;
        let mut recent = self.stats_history(2)?.into_iter();
        let (snapshot, previous) = match recent.next() {
            Some(newest) => (newest, recent.next()),
            None => (self.live_snapshot()?, None),
        };
        Ok(judge(snapshot, previous, opts))
    }

    fn live_snapshot(&self) -> Result<StatsSnapshot> {
        let s = self.stats()?;
        Ok(StatsSnapshot {
            id: None,
            recorded_at: String::new(),
            nodes: s.nodes,
            edges: s.edges,
            vectors: s.vectors,
            dangling_edges: s.dangling_edges,
            dimension: s.dimension.map(|d| d as u64),
            history: s.history,
            db_bytes: s.db_bytes,
            wal_bytes: s.wal_bytes,
            label: None,
            meta: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snap(nodes: u64, edges: u64, vectors: u64, dangling: u64) -> StatsSnapshot {
        StatsSnapshot {
            nodes,
            edges,
            vectors,
            dangling_edges: dangling,
            ..Default::default()
        }
    }

    fn codes(v: &StatsValidation) -> (Vec<&str>, Vec<&str>) {
        (
            v.errors.iter().map(|f| f.code.as_str()).collect(),
            v.warnings.iter().map(|f| f.code.as_str()).collect(),
        )
    }

    #[test]
    fn the_rules_and_their_default_thresholds() {
        let o = StatsValidationOptions::default();
        assert_eq!(
            codes(&judge(snap(0, 0, 0, 0), None, &o)),
            (vec!["empty_database"], vec![])
        );
        assert_eq!(codes(&judge(snap(10, 1, 9, 0), None, &o)), (vec![], vec![]));
        assert_eq!(
            codes(&judge(snap(10, 0, 8, 0), None, &o)),
            (vec![], vec!["low_edge_density", "low_embedding_coverage"])
        );
        // 10 % down is allowed (only no growth), 11 % is shrinkage.
        let prev = Some(snap(100, 100, 100, 0));
        assert_eq!(
            codes(&judge(snap(90, 100, 100, 0), prev.clone(), &o)),
            (vec![], vec!["no_growth"])
        );
        assert_eq!(
            codes(&judge(snap(89, 100, 100, 1), prev.clone(), &o)),
            (vec!["shrinkage"], vec!["dangling_edges_rising"])
        );
        assert_eq!(
            codes(&judge(snap(101, 100, 100, 0), prev.clone(), &o)),
            (vec![], vec![])
        );
        let quiet = StatsValidationOptions {
            warn_no_growth: false,
            ..o
        };
        assert_eq!(
            codes(&judge(snap(100, 100, 100, 0), prev, &quiet)),
            (vec![], vec![])
        );
    }

    #[test]
    fn bad_options_are_invalid_arguments() {
        for o in [
            StatsValidationOptions {
                max_shrink_ratio: f64::NAN,
                ..Default::default()
            },
            StatsValidationOptions {
                min_embedding_coverage: 1.5,
                ..Default::default()
            },
            StatsValidationOptions {
                min_edge_density: -1.0,
                ..Default::default()
            },
        ] {
            assert_eq!(o.validate().unwrap_err().code(), "invalid_argument");
        }
        for o in [
            RecordStatsOptions {
                keep: 0,
                ..Default::default()
            },
            RecordStatsOptions {
                label: Some("x".repeat(MAX_LABEL_BYTES + 1)),
                ..Default::default()
            },
            RecordStatsOptions {
                meta: Some("{not json".into()),
                ..Default::default()
            },
        ] {
            assert_eq!(o.validate().unwrap_err().code(), "invalid_argument");
        }
    }
}
