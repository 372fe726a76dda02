//! The health report of docs/connections.md: connection settings read back, `quick_check`, schema state, a
//! vector summary, dangling edges and a write probe that leaves no trace.
//!
//! Reads only (the probe is a rolled-back transaction). It must not repair anything.

use std::collections::BTreeMap;

use rusqlite::{Connection, TransactionBehavior};
use serde::Serialize;

use crate::connection::{pragma_i64, pragma_name, pragma_text};
use crate::error::{Error, Result, SqlContext};
use crate::migrate::{self, AppliedMigration};
use crate::schema::{self, LedgerRow};

/// Vector facts from a scan of every stored embedding.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct VectorSummary {
    /// Nodes with a non-NULL embedding.
    pub count: u64,
    /// Dimension → how many well-formed blobs have it.
    pub dimensions: BTreeMap<usize, u64>,
    /// The dimension recorded for the database (`resonance_meta`), if any.
    pub recorded_dimension: Option<usize>,
    /// All-zero vectors.
    pub zero: u64,
    /// Vectors whose L2 norm is not 1 (±1e-3).
    pub non_normalised: u64,
    /// Blobs whose length is not a multiple of 4, or holding NaN/Inf.
    pub malformed: u64,
    /// Why the recorded dimension cannot be used (not a whole number in range), when it cannot.
    pub recorded_dimension_problem: Option<String>,
}

/// Where the schema stands.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SchemaState {
    /// The shape's name (`current`, `legacy_v5_v8`, …).
    pub shape: String,
    /// The application's ledger rows.
    pub drizzle_ledger: Vec<LedgerRow>,
    /// Resonance's applied migrations.
    pub resonance_applied: Vec<AppliedMigration>,
    /// Ids of the steps that would run.
    pub pending: Vec<String>,
    /// Applied application migration steps, every namespace (docs/sql.md).
    pub app_applied: Vec<crate::app_migrate::AppliedStep>,
    /// A problem with the schema itself (unknown shape, too new), if any.
    pub problem: Option<String>,
    /// Warnings from the plan.
    pub warnings: Vec<String>,
}

/// The health report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HealthReport {
    /// The database path.
    pub path: String,
    /// Whether the handle is read-only.
    pub read_only: bool,
    /// `PRAGMA journal_mode`.
    pub journal_mode: String,
    /// `PRAGMA busy_timeout`, ms.
    pub busy_timeout_ms: i64,
    /// `PRAGMA synchronous` by name: `OFF`, `NORMAL`, `FULL` or `EXTRA`.
    pub synchronous: String,
    /// `PRAGMA mmap_size`.
    pub mmap_size: i64,
    /// `PRAGMA foreign_keys`.
    pub foreign_keys: bool,
    /// `PRAGMA temp_store` by name: `DEFAULT`, `FILE` or `MEMORY`.
    pub temp_store: String,
    /// `PRAGMA cache_size`.
    pub cache_size: i64,
    /// `PRAGMA query_only`.
    pub query_only: bool,
    /// The SQLite library version.
    pub sqlite_version: String,
    /// `PRAGMA quick_check`: `ok` or the problems found.
    pub quick_check: String,
    /// Schema state.
    pub schema: SchemaState,
    /// Vector summary.
    pub vectors: VectorSummary,
    /// Nodes.
    pub nodes: u64,
    /// Edges.
    pub edges: u64,
    /// Edges whose source or target node is missing.
    pub dangling_edges: u64,
    /// `ok`, `skipped (read-only handle)` or the failure.
    pub write_probe: String,
    /// What the content checks found (see [`content_findings`]): a graph with no nodes, too few
    /// embeddings, too few edges. Not [`HealthReport::problems`]: the file is sound; `resonance
    /// doctor` reports both and fails on either.
    pub content: Vec<String>,
    /// The stats verdict with the default thresholds ([`crate::Database::validate_stats`],
    /// docs/stats.md); a history that cannot be read is its error `stats_unreadable`.
    pub stats: crate::stats_history::StatsValidation,
    /// Whether the handle was opened declaring an external replicator
    /// ([`crate::OpenOptions::external_replicator`], docs/scaling.md).
    pub external_replicator: bool,
    /// Whether the file holds Litestream's bookkeeping tables (`_litestream_seq`,
    /// `_litestream_lock`): Litestream has replicated it.
    pub litestream_seen: bool,
}

/// The share of nodes with an embedding below which the content checks report.
pub const MIN_EMBEDDING_COVERAGE: f64 = 0.9;
/// Edges per node below which the content checks report.
pub const MIN_EDGE_DENSITY: f64 = 0.1;

/// The content checks of a knowledge graph (the original application's validator): no nodes;
/// fewer than [`MIN_EMBEDDING_COVERAGE`] of the nodes with an embedding; fewer than
/// [`MIN_EDGE_DENSITY`] edges per node. One sentence per finding, empty when none applies.
pub fn content_findings(nodes: u64, edges: u64, vectors: u64) -> Vec<String> {
    let mut found = Vec::new();
    if nodes == 0 {
        found.push("the database has no nodes".to_string());
        return found;
    }
    let coverage = vectors as f64 / nodes as f64;
    if coverage < MIN_EMBEDDING_COVERAGE {
        found.push(format!(
            "embedding coverage {:.0}% is below {:.0}%",
            coverage * 100.0,
            MIN_EMBEDDING_COVERAGE * 100.0
        ));
    }
    let density = edges as f64 / nodes as f64;
    if density < MIN_EDGE_DENSITY {
        found.push(format!(
            "edge density {density:.3} edges per node is below {MIN_EDGE_DENSITY}"
        ));
    }
    found
}

impl HealthReport {
    /// Problems worth a non-zero exit: failed checks, schema problems, pending steps, bad vectors,
    /// dangling edges, a failed write probe.
    pub fn problems(&self) -> Vec<String> {
        let mut p = Vec::new();
        if self.quick_check != "ok" {
            p.push(format!("quick_check: {}", self.quick_check));
        }
        if !self.journal_mode.eq_ignore_ascii_case("wal") {
            p.push(format!("journal mode is {}, not WAL", self.journal_mode));
        }
        if let Some(problem) = &self.schema.problem {
            p.push(format!("schema: {problem}"));
        }
        if !self.schema.pending.is_empty() {
            p.push(format!(
                "pending migrations: {}",
                self.schema.pending.join(", ")
            ));
        }
        if self.vectors.malformed > 0 {
            p.push(format!(
                "{} malformed embedding blobs",
                self.vectors.malformed
            ));
        }
        if self.vectors.zero > 0 {
            p.push(format!("{} zero vectors", self.vectors.zero));
        }
        if self.vectors.non_normalised > 0 {
            p.push(format!(
                "{} vectors are not unit length",
                self.vectors.non_normalised
            ));
        }
        if let Some(problem) = &self.vectors.recorded_dimension_problem {
            p.push(problem.clone());
        }
        if self.vectors.dimensions.len() > 1 {
            p.push(format!(
                "vectors of several dimensions: {:?}",
                self.vectors.dimensions
            ));
        }
        if self.dangling_edges > 0 {
            p.push(format!("{} dangling edges", self.dangling_edges));
        }
        if self.write_probe != "ok" && !self.write_probe.starts_with("skipped") {
            p.push(format!("write probe: {}", self.write_probe));
        }
        p
    }

    /// Everything `resonance doctor` fails on: the file's [`HealthReport::problems`], then the
    /// content findings ([`HealthReport::content`]), then the errors of the stats verdict
    /// ([`HealthReport::stats`]) other than `empty_database`.
    pub fn findings(&self) -> Vec<String> {
        let mut all = self.problems();
        all.extend(self.content.iter().cloned());
        // The history's own errors; `empty_database` is already the content finding above.
        all.extend(
            self.stats
                .errors
                .iter()
                .filter(|f| f.code != "empty_database")
                .map(|f| format!("stats {}: {}", f.code, f.message)),
        );
        all
    }

    /// Whether the report has no [`HealthReport::findings`]: the file is sound and the content
    /// checks pass.
    pub fn healthy(&self) -> bool {
        self.findings().is_empty()
    }
}

/// Scans every embedding blob.
pub fn vector_summary(conn: &Connection) -> Result<VectorSummary> {
    let mut s = VectorSummary::default();
    let tables = schema::object_names(conn, "table")?;
    if !tables.contains("nodes")
        || !schema::table_columns(conn, "nodes")?
            .iter()
            .any(|c| c.name == "embedding")
    {
        return Ok(s);
    }
    if tables.contains("resonance_meta") {
        let recorded = conn
            .query_row(
                "SELECT CAST(value AS TEXT) FROM resonance_meta WHERE key = 'dimension'",
                [],
                |r| r.get::<_, Option<String>>(0),
            )
            .ok()
            .flatten();
        if let Some(v) = recorded {
            // The same rule the engine applies before sizing anything from it.
            match crate::embeddings::parse_recorded_dimension(&v) {
                Ok(d) => s.recorded_dimension = Some(d),
                Err(e) => s.recorded_dimension_problem = Some(e.to_string()),
            }
        }
    }
    let mut stmt = conn
        .prepare("SELECT embedding FROM nodes WHERE embedding IS NOT NULL")
        .ctx("scanning embeddings")?;
    let mut rows = stmt.query([]).ctx("scanning embeddings")?;
    while let Some(row) = rows.next().ctx("scanning embeddings")? {
        s.count += 1;
        let blob = match row.get_ref(0).ctx("scanning embeddings")? {
            rusqlite::types::ValueRef::Blob(b) => b,
            _ => {
                s.malformed += 1;
                continue;
            }
        };
        if blob.is_empty() || blob.len() % 4 != 0 {
            s.malformed += 1;
            continue;
        }
        let mut norm = 0f64;
        let mut finite = true;
        for c in blob.chunks_exact(4) {
            let v = f32::from_le_bytes([c[0], c[1], c[2], c[3]]);
            finite &= v.is_finite();
            norm += f64::from(v) * f64::from(v);
        }
        if !finite {
            s.malformed += 1;
            continue;
        }
        *s.dimensions.entry(blob.len() / 4).or_default() += 1;
        let norm = norm.sqrt();
        if norm == 0.0 {
            s.zero += 1;
        } else if (norm - 1.0).abs() > 1e-3 {
            s.non_normalised += 1;
        }
    }
    Ok(s)
}

fn count(conn: &Connection, sql: &str) -> Result<u64> {
    conn.query_row(sql, [], |r| r.get::<_, i64>(0))
        .map(|n| n as u64)
        .ctx(sql)
}

/// Builds the report for `conn` (the database at `path`).
pub fn report(conn: &mut Connection, path: &str, read_only: bool) -> Result<HealthReport> {
    let quick_check = {
        let mut stmt = conn.prepare("PRAGMA quick_check").ctx("quick_check")?;
        let lines = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .ctx("quick_check")?
            .collect::<std::result::Result<Vec<_>, _>>()
            .ctx("quick_check")?;
        lines.join("; ")
    };
    let (shape, problem, pending, warnings) = match migrate::plan(conn) {
        Ok(plan) => (
            plan.shape.name().to_string(),
            None,
            plan.steps.iter().map(|s| s.id.clone()).collect(),
            plan.warnings,
        ),
        Err(e) => {
            let shape = schema::detect_shape(conn)
                .map(|s| s.name().to_string())
                .unwrap_or_else(|_| "unknown".into());
            (shape, Some(e.to_string()), Vec::new(), Vec::new())
        }
    };
    let tables = schema::object_names(conn, "table")?;
    let (nodes, edges, dangling_edges) = if tables.contains("nodes") && tables.contains("edges") {
        (
            count(conn, "SELECT count(*) FROM nodes")?,
            count(conn, "SELECT count(*) FROM edges")?,
            count(
                conn,
                "SELECT count(*) FROM edges e WHERE NOT EXISTS (SELECT 1 FROM nodes n WHERE n.id = e.source) \
                 OR NOT EXISTS (SELECT 1 FROM nodes n WHERE n.id = e.target)",
            )?,
        )
    } else {
        (0, 0, 0)
    };
    let vectors = vector_summary(conn)?;
    let write_probe = if read_only {
        "skipped (read-only handle)".to_string()
    } else {
        match write_probe(conn) {
            Ok(()) => "ok".to_string(),
            Err(e) => e.to_string(),
        }
    };
    Ok(HealthReport {
        path: path.to_string(),
        read_only,
        journal_mode: pragma_text(conn, "journal_mode")?,
        busy_timeout_ms: pragma_i64(conn, "busy_timeout")?,
        synchronous: pragma_name(conn, "synchronous", &["OFF", "NORMAL", "FULL", "EXTRA"])?,
        mmap_size: pragma_i64(conn, "mmap_size")?,
        foreign_keys: pragma_i64(conn, "foreign_keys")? != 0,
        temp_store: pragma_name(conn, "temp_store", &["DEFAULT", "FILE", "MEMORY"])?,
        cache_size: pragma_i64(conn, "cache_size")?,
        query_only: pragma_i64(conn, "query_only")? != 0,
        sqlite_version: rusqlite::version().to_string(),
        quick_check,
        schema: SchemaState {
            shape,
            drizzle_ledger: schema::drizzle_ledger(conn)?.unwrap_or_default(),
            resonance_applied: migrate::applied_resonance(conn)?,
            pending,
            app_applied: crate::app_migrate::applied_all(conn)?,
            problem,
            warnings,
        },
        content: content_findings(nodes, edges, vectors.count),
        stats: Default::default(),
        external_replicator: false,
        litestream_seen: tables.contains("_litestream_seq") || tables.contains("_litestream_lock"),
        vectors,
        nodes,
        edges,
        dangling_edges,
        write_probe,
    })
}

/// Takes the write lock, writes a probe row into a scratch table and rolls it all back.
fn write_probe(conn: &mut Connection) -> Result<()> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .ctx("write probe")?;
    tx.execute_batch(
        "CREATE TABLE resonance_write_probe (id integer PRIMARY KEY, ts text); \
         INSERT INTO resonance_write_probe (ts) VALUES (CURRENT_TIMESTAMP);",
    )
    .ctx("write probe")?;
    let n: i64 = tx
        .query_row("SELECT count(*) FROM resonance_write_probe", [], |r| {
            r.get(0)
        })
        .ctx("write probe")?;
    if n != 1 {
        return Err(Error::Internal(
            "write probe read back the wrong row count".into(),
        ));
    }
    tx.rollback().ctx("write probe rollback")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_findings_follow_the_thresholds() {
        assert_eq!(content_findings(0, 0, 0), ["the database has no nodes"]);
        assert!(content_findings(10, 1, 9).is_empty());
        let low = content_findings(10, 0, 8);
        assert_eq!(low.len(), 2, "{low:?}");
        assert!(
            low[0].starts_with("embedding coverage 80% is below 90%"),
            "{low:?}"
        );
        assert!(
            low[1].starts_with("edge density 0.000 edges per node is below 0.1"),
            "{low:?}"
        );
    }

    #[test]
    fn findings_are_the_problems_then_the_content_findings() {
        let dir = tempfile::tempdir().unwrap();
        let db = crate::Database::open(dir.path().join("a.db")).unwrap();
        let mut h = db.health().unwrap();
        assert!(h.problems().is_empty(), "{:?}", h.problems());
        assert_eq!(h.findings(), ["the database has no nodes"]);
        assert!(!h.healthy());
        h.content.clear();
        h.dangling_edges = 2;
        assert_eq!(h.findings(), ["2 dangling edges"]);
        h.dangling_edges = 0;
        assert!(h.healthy());
    }

    #[test]
    fn a_crafted_recorded_dimension_is_a_problem_not_a_number() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.db");
        crate::Database::open(&p).unwrap().close().unwrap();
        let conn = Connection::open(&p).unwrap();
        for (value, bad) in [
            ("384", false),
            ("1099511627776", true),
            ("18446744073709551615", true),
            ("-3", true),
        ] {
            conn.execute(
                "INSERT OR REPLACE INTO resonance_meta(key, value) VALUES ('dimension', ?1)",
                [value],
            )
            .unwrap();
            let s = vector_summary(&conn).unwrap();
            assert_eq!(s.recorded_dimension_problem.is_some(), bad, "{value}");
            assert_eq!(s.recorded_dimension.is_none(), bad, "{value}");
        }
    }
}
