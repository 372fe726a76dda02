//! What JS gets back: the core's results as JS objects (camelCase, `null` for absent values).
//! Nothing here touches the database.

use std::collections::BTreeMap;

use napi::bindgen_prelude::{
    Env, Float32Array, Function, JsObjectValue, Null, Object, ToNapiValue, TypeName, Unknown,
    ValueType,
};
use napi::{sys, JsValue};
use napi_derive::napi;
use serde_json::Value;

/// A stored node (`meta` parsed from its JSON text; absent values are `null`).
#[napi(object, object_from_js = false, use_nullable = true)]
pub struct Node {
    /// Id.
    pub id: String,
    /// Type.
    #[napi(js_name = "type")]
    pub node_type: Option<String>,
    /// Title.
    pub title: Option<String>,
    /// Domain.
    pub domain: Option<String>,
    /// Layer.
    pub layer: Option<String>,
    /// Hash.
    pub hash: Option<String>,
    /// Summary.
    pub summary: Option<String>,
    /// Metadata as `JSON.parse` reads its stored text, at any nesting depth (the raw text when it is
    /// not valid JSON), `null` when absent; the same value from every call that returns a node.
    #[napi(ts_type = "any")]
    pub meta: Meta,
    /// Date.
    pub date: Option<String>,
    /// The embedding, when asked for and present.
    pub embedding: Option<Float32Array>,
}

/// A node's stored meta text, handed to JS as `JSON.parse` reads it (text that is not JSON stays a
/// string; none is `null`). Every read of a node builds its `meta` this way, as the package entry's
/// `getNodeSync` does, so one stored text gives one value whatever the call and the nesting depth
/// (serde_json stops at 128 levels; V8's and JavaScriptCore's `JSON.parse` do not). The rule is the
/// core's `resonance::parse_stored_json`; only the parser differs, for that depth parity with JS.
pub struct Meta(pub Option<String>);

impl TypeName for Meta {
    fn type_name() -> &'static str {
        "any"
    }

    fn value_type() -> ValueType {
        ValueType::Unknown
    }
}

impl ToNapiValue for Meta {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> napi::Result<sys::napi_value> {
        let Some(text) = val.0 else {
            // SAFETY: `env` is the live environment napi-rs hands this conversion.
            return unsafe { Null::to_napi_value(env, Null) };
        };
        // SAFETY: as above.
        let js_text = unsafe { String::to_napi_value(env, text)? };
        let parse = || -> napi::Result<sys::napi_value> {
            let e = Env::from_raw(env);
            let json: Object = e.get_global()?.get_named_property("JSON")?;
            let parse: Function<Unknown, Unknown> = json.get_named_property("parse")?;
            // SAFETY: `js_text` is a string value just created in `env`.
            let arg = unsafe { Unknown::from_raw_unchecked(env, js_text) };
            Ok(parse.call(arg)?.raw())
        };
        // A parse failure (text that is not JSON) is caught and cleared by `call`: keep the text.
        Ok(parse().unwrap_or(js_text))
    }
}

/// Stored JSON text as a JSON value, by the core's rule (`resonance::parse_stored_json`).
pub fn parse_json(text: Option<String>) -> Value {
    resonance::parse_stored_json(text.as_deref())
}

impl From<resonance::Node> for Node {
    fn from(n: resonance::Node) -> Node {
        Node {
            id: n.id,
            node_type: n.node_type,
            title: n.title,
            domain: n.domain,
            layer: n.layer,
            hash: n.hash,
            summary: n.summary,
            meta: Meta(n.meta),
            date: n.date,
            embedding: n.embedding.map(Float32Array::new),
        }
    }
}

/// A stored edge.
#[napi(object, use_nullable = true)]
pub struct Edge {
    /// Source node id.
    pub source: String,
    /// Target node id.
    pub target: String,
    /// Edge type.
    #[napi(js_name = "type")]
    pub edge_type: String,
    /// Confidence.
    pub confidence: Option<f64>,
    /// Veracity.
    pub veracity: Option<f64>,
    /// Where the edge came from.
    pub context_source: Option<String>,
}

impl From<resonance::Edge> for Edge {
    fn from(e: resonance::Edge) -> Edge {
        Edge {
            source: e.source,
            target: e.target,
            edge_type: e.edge_type,
            confidence: e.confidence,
            veracity: e.veracity,
            context_source: e.context_source,
        }
    }
}

/// One history row (`oldValue`/`newValue` parsed from their JSON).
#[napi(object, use_nullable = true)]
pub struct HistoryEntry {
    /// Row id.
    pub id: i64,
    /// `node` or `edge`.
    pub entity_type: String,
    /// A node id, or `source|type|target` for an edge.
    pub entity_id: String,
    /// What happened (`insert`, `update`, `delete`, `update_meta`, `set_embedding`).
    pub action: String,
    /// The value before.
    #[napi(ts_type = "any")]
    pub old_value: Value,
    /// The value after.
    #[napi(ts_type = "any")]
    pub new_value: Value,
    /// When (SQLite `CURRENT_TIMESTAMP`, UTC).
    pub timestamp: Option<String>,
}

impl From<resonance::HistoryEntry> for HistoryEntry {
    fn from(h: resonance::HistoryEntry) -> HistoryEntry {
        HistoryEntry {
            id: h.id,
            entity_type: h.entity_type,
            entity_id: h.entity_id,
            action: h.action,
            old_value: parse_json(h.old_value),
            new_value: parse_json(h.new_value),
            timestamp: h.timestamp,
        }
    }
}

/// Counts and sizes.
#[napi(object, use_nullable = true)]
pub struct Stats {
    /// Nodes.
    pub nodes: i64,
    /// Edges.
    pub edges: i64,
    /// Nodes with an embedding.
    pub vectors: i64,
    /// Edges whose source or target node is missing.
    pub dangling_edges: i64,
    /// The database's vector dimension, `null` before the first vector.
    pub dimension: Option<u32>,
    /// History rows.
    pub history: i64,
    /// Size of the database file.
    pub db_bytes: i64,
    /// Size of the WAL file.
    pub wal_bytes: i64,
    /// Both.
    pub size_bytes: i64,
}

impl From<resonance::Stats> for Stats {
    fn from(s: resonance::Stats) -> Stats {
        Stats {
            nodes: s.nodes as i64,
            edges: s.edges as i64,
            vectors: s.vectors as i64,
            dangling_edges: s.dangling_edges as i64,
            dimension: s.dimension.map(|d| d as u32),
            history: s.history as i64,
            db_bytes: s.db_bytes as i64,
            wal_bytes: s.wal_bytes as i64,
            size_bytes: s.size_bytes as i64,
        }
    }
}

/// One search result.
#[napi(object)]
pub struct Hit {
    /// Node id.
    pub id: String,
    /// Dot product with the (normalised) query.
    pub score: f64,
}

/// Converts core hits.
pub fn hits(h: Vec<resonance::Hit>) -> Vec<Hit> {
    h.into_iter()
        .map(|h| Hit {
            id: h.id,
            score: f64::from(h.score),
        })
        .collect()
}

/// Results of `searchBatch`: per query, the ids and a `Float32Array` of their scores.
#[napi(object)]
pub struct BatchResult {
    /// `ids[i]`: the hits of query `i`, best first.
    pub ids: Vec<Vec<String>>,
    /// `scores[i][j]`: the score of `ids[i][j]`.
    pub scores: Vec<Float32Array>,
}

impl BatchResult {
    /// Converts core batch hits.
    pub fn from_core(b: Vec<Vec<resonance::Hit>>) -> BatchResult {
        let mut ids = Vec::with_capacity(b.len());
        let mut scores = Vec::with_capacity(b.len());
        for q in b {
            scores.push(Float32Array::new(q.iter().map(|h| h.score).collect()));
            ids.push(q.into_iter().map(|h| h.id).collect());
        }
        BatchResult { ids, scores }
    }
}

/// What the in-memory vector matrix holds.
#[napi(object, use_nullable = true)]
pub struct VectorIndexInfo {
    /// The database's dimension.
    pub dimension: Option<u32>,
    /// Rows in the matrix.
    pub rows: u32,
    /// Blobs skipped as malformed.
    pub malformed: i64,
    /// Blobs skipped for another dimension.
    pub wrong_dimension: i64,
    /// Non-unit blobs normalised in memory.
    pub renormalised: i64,
    /// Zero vectors (kept; they score 0).
    pub zero: i64,
    /// The dot-product kernel in use.
    pub kernel: String,
    /// What the handle holds for search: `"matrix"` (the f32 rows) or `"codes"` (only the int8
    /// codes; the `vectorMemory` open option).
    pub memory: String,
}

/// One migration step.
#[napi(object)]
pub struct MigrationStep {
    /// Stable id (`adopt_legacy_v3`, `drizzle_0002_summary`, `V1__resonance_meta`).
    pub id: String,
    /// `adoption`, `drizzle` or `resonance`.
    pub kind: String,
    /// What it does.
    pub description: String,
    /// Its SQL, statement by statement.
    pub sql: Vec<String>,
    /// Drops or rewrites data.
    pub destructive: bool,
}

/// What a migration did (or would do, for a dry run).
#[napi(object, use_nullable = true)]
pub struct MigrationReport {
    /// The shape before.
    pub shape_before: String,
    /// The steps applied (or planned).
    pub steps: Vec<MigrationStep>,
    /// Nothing changed.
    pub dry_run: bool,
    /// The backup taken, if any.
    pub backup: Option<String>,
    /// Warnings.
    pub warnings: Vec<String>,
}

impl From<resonance::MigrationReport> for MigrationReport {
    fn from(r: resonance::MigrationReport) -> MigrationReport {
        MigrationReport {
            shape_before: r.shape_before,
            steps: r
                .steps
                .into_iter()
                .map(|s| MigrationStep {
                    id: s.id,
                    kind: serde_json::to_value(s.kind)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_string))
                        .unwrap_or_default(),
                    description: s.description,
                    sql: s.sql,
                    destructive: s.destructive,
                })
                .collect(),
            dry_run: r.dry_run,
            backup: r.backup.map(|p| p.display().to_string()),
            warnings: r.warnings,
        }
    }
}

/// A row of the application's Drizzle ledger.
#[napi(object, use_nullable = true)]
pub struct LedgerRow {
    /// `id` (NULL in rows Drizzle writes).
    pub id: Option<i64>,
    /// The migration's sha256 (or tag name in hand-made ledgers).
    pub hash: String,
    /// `created_at`, ms.
    pub created_at: Option<i64>,
}

/// An applied Resonance migration.
#[napi(object)]
pub struct AppliedMigration {
    /// Version.
    pub version: i64,
    /// Name.
    pub name: String,
    /// When (RFC 3339).
    pub applied_on: String,
    /// Checksum.
    pub checksum: String,
}

/// Where the schema stands.
#[napi(object, use_nullable = true)]
pub struct SchemaState {
    /// The shape's name.
    pub shape: String,
    /// The application's ledger rows.
    pub drizzle_ledger: Vec<LedgerRow>,
    /// Resonance's applied migrations.
    pub resonance_applied: Vec<AppliedMigration>,
    /// Ids of the steps that would run.
    pub pending: Vec<String>,
    /// A problem with the schema, if any.
    pub problem: Option<String>,
    /// Warnings.
    pub warnings: Vec<String>,
}

/// Vector facts from a scan of every stored embedding.
#[napi(object, use_nullable = true)]
pub struct VectorSummary {
    /// Nodes with an embedding.
    pub count: i64,
    /// Dimension → how many well-formed blobs have it.
    pub dimensions: BTreeMap<String, i64>,
    /// The recorded dimension.
    pub recorded_dimension: Option<u32>,
    /// All-zero vectors.
    pub zero: i64,
    /// Vectors whose norm is not 1.
    pub non_normalised: i64,
    /// Malformed blobs.
    pub malformed: i64,
}

/// The health report of docs/connections.md.
#[napi(object)]
pub struct HealthReport {
    /// Database path.
    pub path: String,
    /// Read-only handle.
    pub read_only: bool,
    /// `journal_mode`.
    pub journal_mode: String,
    /// `busy_timeout`, ms.
    pub busy_timeout_ms: i64,
    /// `synchronous`.
    pub synchronous: String,
    /// `mmap_size`.
    pub mmap_size: i64,
    /// `foreign_keys`.
    pub foreign_keys: bool,
    /// `temp_store`.
    pub temp_store: String,
    /// `cache_size`.
    pub cache_size: i64,
    /// `query_only`.
    pub query_only: bool,
    /// SQLite version.
    pub sqlite_version: String,
    /// `quick_check`: `ok` or the problems.
    pub quick_check: String,
    /// Schema state.
    pub schema: SchemaState,
    /// Vector summary.
    pub vectors: VectorSummary,
    /// Nodes.
    pub nodes: i64,
    /// Edges.
    pub edges: i64,
    /// Dangling edges.
    pub dangling_edges: i64,
    /// `ok`, `skipped (read-only handle)` or the failure.
    pub write_probe: String,
    /// Problems worth attention (empty when healthy).
    pub problems: Vec<String>,
    /// Content checks: no nodes, embedding coverage or edge density below the core's thresholds.
    pub content: Vec<String>,
    /// The stats verdict with the default thresholds (docs/stats.md).
    pub stats: StatsValidation,
    /// The handle was opened with `externalReplicator`.
    pub external_replicator: bool,
    /// The file holds Litestream's bookkeeping tables.
    pub litestream_seen: bool,
}

/// One snapshot of the stats history (docs/stats.md).
#[napi(object)]
pub struct StatsSnapshot {
    /// Row id (`null` for the live counts judged when nothing was recorded).
    pub id: Option<i64>,
    /// When, UTC (`YYYY-MM-DDTHH:MM:SS.mmmZ`; empty for the live counts).
    pub recorded_at: String,
    /// Nodes.
    pub nodes: i64,
    /// Edges.
    pub edges: i64,
    /// Nodes with an embedding.
    pub vectors: i64,
    /// Edges with a missing endpoint.
    pub dangling_edges: i64,
    /// The vector dimension, if fixed.
    pub dimension: Option<i64>,
    /// Audit history rows.
    pub history: i64,
    /// Bytes of the database file.
    pub db_bytes: i64,
    /// Bytes of the `-wal` file.
    pub wal_bytes: i64,
    /// The label given.
    pub label: Option<String>,
    /// The JSON text given.
    pub meta: Option<String>,
}

impl From<resonance::StatsSnapshot> for StatsSnapshot {
    fn from(s: resonance::StatsSnapshot) -> StatsSnapshot {
        StatsSnapshot {
            id: s.id,
            recorded_at: s.recorded_at,
            nodes: s.nodes as i64,
            edges: s.edges as i64,
            vectors: s.vectors as i64,
            dangling_edges: s.dangling_edges as i64,
            dimension: s.dimension.map(|d| d as i64),
            history: s.history as i64,
            db_bytes: s.db_bytes as i64,
            wal_bytes: s.wal_bytes as i64,
            label: s.label,
            meta: s.meta,
        }
    }
}

/// A finding of the stats verdict: a stable `code` and a message.
#[napi(object)]
pub struct StatsFinding {
    /// `empty_database`, `shrinkage`, `stats_unreadable`, `no_growth`, `low_edge_density`,
    /// `low_embedding_coverage` or `dangling_edges_rising`.
    pub code: String,
    /// For people.
    pub message: String,
}

/// The stats verdict (docs/stats.md).
#[napi(object)]
pub struct StatsValidation {
    /// No errors.
    pub passed: bool,
    /// Error findings.
    pub errors: Vec<StatsFinding>,
    /// Warning findings.
    pub warnings: Vec<StatsFinding>,
    /// The snapshot judged.
    pub snapshot: Option<StatsSnapshot>,
    /// The one before it.
    pub previous: Option<StatsSnapshot>,
}

impl From<resonance::StatsValidation> for StatsValidation {
    fn from(v: resonance::StatsValidation) -> StatsValidation {
        let findings = |f: Vec<resonance::StatsFinding>| {
            f.into_iter()
                .map(|f| StatsFinding {
                    code: f.code,
                    message: f.message,
                })
                .collect()
        };
        StatsValidation {
            passed: v.passed(),
            errors: findings(v.errors),
            warnings: findings(v.warnings),
            snapshot: v.snapshot.map(StatsSnapshot::from),
            previous: v.previous.map(StatsSnapshot::from),
        }
    }
}

impl From<resonance::HealthReport> for HealthReport {
    fn from(h: resonance::HealthReport) -> HealthReport {
        let problems = h.problems();
        HealthReport {
            path: h.path,
            read_only: h.read_only,
            journal_mode: h.journal_mode,
            busy_timeout_ms: h.busy_timeout_ms,
            synchronous: h.synchronous,
            mmap_size: h.mmap_size,
            foreign_keys: h.foreign_keys,
            temp_store: h.temp_store,
            cache_size: h.cache_size,
            query_only: h.query_only,
            sqlite_version: h.sqlite_version,
            quick_check: h.quick_check,
            schema: SchemaState {
                shape: h.schema.shape,
                drizzle_ledger: h
                    .schema
                    .drizzle_ledger
                    .into_iter()
                    .map(|r| LedgerRow {
                        id: r.id,
                        hash: r.hash,
                        created_at: r.created_at,
                    })
                    .collect(),
                resonance_applied: h
                    .schema
                    .resonance_applied
                    .into_iter()
                    .map(|a| AppliedMigration {
                        version: a.version,
                        name: a.name,
                        applied_on: a.applied_on,
                        checksum: a.checksum,
                    })
                    .collect(),
                pending: h.schema.pending,
                problem: h.schema.problem,
                warnings: h.schema.warnings,
            },
            vectors: VectorSummary {
                count: h.vectors.count as i64,
                dimensions: h
                    .vectors
                    .dimensions
                    .into_iter()
                    .map(|(d, n)| (d.to_string(), n as i64))
                    .collect(),
                recorded_dimension: h.vectors.recorded_dimension.map(|d| d as u32),
                zero: h.vectors.zero as i64,
                non_normalised: h.vectors.non_normalised as i64,
                malformed: h.vectors.malformed as i64,
            },
            nodes: h.nodes as i64,
            edges: h.edges as i64,
            dangling_edges: h.dangling_edges as i64,
            write_probe: h.write_probe,
            problems,
            content: h.content,
            stats: StatsValidation::from(h.stats),
            external_replicator: h.external_replicator,
            litestream_seen: h.litestream_seen,
        }
    }
}

/// A WAL checkpoint's outcome.
#[napi(object)]
pub struct Checkpoint {
    /// 1 when a checkpoint could not complete for a lock.
    pub busy: i64,
    /// Frames in the WAL.
    pub log: i64,
    /// Frames checkpointed.
    pub checkpointed: i64,
}

/// Louvain communities.
#[napi(object)]
pub struct Communities {
    /// Node id → community number.
    pub partition: BTreeMap<String, u32>,
    /// Directed modularity of the partition.
    pub modularity: f64,
}

/// A predicted link.
#[napi(object)]
pub struct LinkCandidate {
    /// Source id.
    pub source: String,
    /// Target id.
    pub target: String,
    /// Adamic-Adar score.
    pub score: f64,
}

/// A pillar node.
#[napi(object)]
pub struct Pillar {
    /// Node id.
    pub id: String,
    /// Its PageRank.
    pub pagerank: f64,
    /// Its degree.
    pub degree: u32,
}

/// Graph statistics.
#[napi(object)]
pub struct GraphStats {
    /// Nodes.
    pub nodes: u32,
    /// Edges kept.
    pub edges: u32,
    /// edges / (nodes · (nodes − 1)).
    pub density: f64,
    /// Edges skipped because an endpoint node is missing.
    pub skipped_edges: u32,
}
