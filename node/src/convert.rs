//! The JS-facing objects (camelCase, `null` for absent values) and their conversions to and from the
//! core's types. Nothing here touches the database.

use std::borrow::Cow;
use std::collections::BTreeMap;

use napi::bindgen_prelude::{
    Either, Either3, Env, Float32Array, FromNapiValue, Function, JsObjectValue, Null, Object,
    ToNapiValue, TypeName, Unknown, ValidateNapiValue, ValueType,
};
use napi::{sys, JsValue};
use napi_derive::napi;
use serde_json::Value;

use crate::error::{invalid, to_js, Result};

/// JavaScript's largest exact integer, 2^53 − 1: the cap of a count, limit or seed.
pub const MAX_SAFE: f64 = 9_007_199_254_740_991.0;

/// A whole-number argument (a count, a limit, a seed, milliseconds…) as JS gives it: a finite
/// integer from 0 to `max`, else `invalid_argument`. Such arguments are declared `f64` and checked
/// here because napi-rs' own `u32` conversion wraps `-1` to 4294967295, turns NaN, ±Infinity and
/// 2^32 into 0 and truncates 1.5 to 1, all without a word.
pub fn whole(v: f64, what: &str, max: f64) -> Result<u64> {
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
pub fn given<T: Clone>(v: &Option<Either<T, Null>>) -> Option<T> {
    match v {
        Some(Either::A(x)) => Some(x.clone()),
        _ => None,
    }
}

/// [`whole`] of an optional argument.
pub fn opt_whole(v: Option<f64>, what: &str, max: f64) -> Result<Option<u64>> {
    v.map(|v| whole(v, what, max)).transpose()
}

/// [`opt_whole`] capped at `u32::MAX` (a core field of type `u32`).
fn opt_u32(v: Option<f64>, what: &str) -> Result<Option<u32>> {
    Ok(opt_whole(v, what, f64::from(u32::MAX))?.map(|v| v as u32))
}

/// How to open a database (every field optional; defaults: read-write, migrating, with backups,
/// busy timeout 5000 ms).
#[napi(object)]
#[derive(Default)]
pub struct OpenOptions {
    /// Open a read-only handle (an existing WAL database at the current schema only).
    pub read_only: Option<Either<bool, Null>>,
    /// Bring the database to the current schema on open (default true).
    pub migrate: Option<Either<bool, Null>>,
    /// Allow migrations marked destructive (default false).
    pub allow_destructive: Option<Either<bool, Null>>,
    /// Back up a non-empty database before changing its schema (default true).
    pub backup: Option<Either<bool, Null>>,
    /// `PRAGMA busy_timeout` in ms (default 5000, never below 1000).
    pub busy_timeout_ms: Option<Either<f64, Null>>,
    /// Backups older than this many days are pruned (default 7; the newest is always kept).
    pub backup_retention_days: Option<Either<f64, Null>>,
    /// A time limit for opening in ms (default 60000; 0: none): past it, open rejects with
    /// `interrupted` and leaves the file as it was.
    pub open_timeout_ms: Option<Either<f64, Null>>,
}

impl OpenOptions {
    /// The core's options (`invalid_argument` for a number that is not a whole `u32`).
    pub fn to_core(&self) -> Result<resonance::OpenOptions> {
        let d = resonance::OpenOptions::default();
        Ok(resonance::OpenOptions {
            read_only: given(&self.read_only).unwrap_or(d.read_only),
            migrate: given(&self.migrate).unwrap_or(d.migrate),
            allow_destructive: given(&self.allow_destructive).unwrap_or(d.allow_destructive),
            backup: given(&self.backup).unwrap_or(d.backup),
            busy_timeout_ms: opt_u32(given(&self.busy_timeout_ms), "busyTimeoutMs")?
                .unwrap_or(d.busy_timeout_ms),
            backup_retention_days: opt_u32(
                given(&self.backup_retention_days),
                "backupRetentionDays",
            )?
            .unwrap_or(d.backup_retention_days),
            open_timeout_ms: opt_u32(given(&self.open_timeout_ms), "openTimeoutMs")?
                .unwrap_or(d.open_timeout_ms),
        })
    }
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

/// A node to write. Fields not given become NULL (`domain` defaults to `"knowledge"`, `layer` to
/// `"experience"`).
#[napi(object)]
pub struct NodeInput {
    /// The node id (non-empty).
    pub id: String,
    /// The node type.
    #[napi(js_name = "type")]
    pub node_type: Option<Either<String, Null>>,
    /// Title.
    pub title: Option<Either<String, Null>>,
    /// Domain (default `"knowledge"`).
    pub domain: Option<Either<String, Null>>,
    /// Layer (default `"experience"`).
    pub layer: Option<Either<String, Null>>,
    /// Content hash.
    pub hash: Option<Either<String, Null>>,
    /// Summary.
    pub summary: Option<Either<String, Null>>,
    /// Metadata: a JSON value, stored as the text `JSON.stringify` writes (a `Date` as its ISO
    /// string, `toJSON` honoured). A value it would drop or rewrite silently is `invalid_argument`:
    /// Map, Set, WeakMap, WeakSet, BigInt, functions, Symbols, NaN, ±Infinity, undefined in an array,
    /// circular structures.
    #[napi(ts_type = "unknown")]
    pub meta: Option<Value>,
    /// Metadata as raw JSON text (validated); wins over `meta` when both are given.
    pub meta_json: Option<Either<String, Null>>,
    /// Date text.
    pub date: Option<Either<String, Null>>,
    /// The embedding (normalised before storing; the database's dimension).
    pub embedding: Option<Either3<Float32Array, Vec<f64>, Null>>,
}

/// A partial update of a node (`updateNode`): a field left out (or `undefined`) keeps its stored
/// value; `null` clears it (`domain`/`layer` back to their defaults, `embedding: null` removes the
/// vector). Through the package entry `meta` is a JSON value (`null` clears it); natively, clear it
/// with `metaJson: null`.
#[napi(object)]
pub struct NodeUpdate {
    /// The node type.
    #[napi(js_name = "type")]
    pub node_type: Option<Either<String, Null>>,
    /// Title.
    pub title: Option<Either<String, Null>>,
    /// Domain (`null`: `"knowledge"`).
    pub domain: Option<Either<String, Null>>,
    /// Layer (`null`: `"experience"`).
    pub layer: Option<Either<String, Null>>,
    /// Content hash.
    pub hash: Option<Either<String, Null>>,
    /// Summary.
    pub summary: Option<Either<String, Null>>,
    /// Metadata: a JSON value, replaced whole (refused like `NodeInput.meta`; see `mergeMeta` to
    /// merge).
    #[napi(ts_type = "unknown")]
    pub meta: Option<Value>,
    /// Metadata as raw JSON text (validated; `null` clears it); wins over `meta`.
    pub meta_json: Option<Either<String, Null>>,
    /// Date text.
    pub date: Option<Either<String, Null>>,
    /// The new embedding (normalised before storing; the database's dimension); `null` removes it.
    pub embedding: Option<Either3<Float32Array, Vec<f64>, Null>>,
}

/// A field of a partial update: absent is `None`, `null` is `Some(None)`.
fn change<T: Clone>(v: &Option<Either<T, Null>>) -> Option<Option<T>> {
    v.as_ref().map(|e| match e {
        Either::A(x) => Some(x.clone()),
        Either::B(Null) => None,
    })
}

impl NodeUpdate {
    /// The core's update (the embedding copied).
    pub fn to_core(&self) -> resonance::NodeUpdate {
        resonance::NodeUpdate {
            node_type: change(&self.node_type),
            title: change(&self.title),
            domain: change(&self.domain),
            layer: change(&self.layer),
            hash: change(&self.hash),
            summary: change(&self.summary),
            meta: match (&self.meta_json, &self.meta) {
                (Some(_), _) => change(&self.meta_json),
                (None, Some(v)) => Some(meta_text(&Some(v.clone()), &None)),
                (None, None) => None,
            },
            date: change(&self.date),
            embedding: self.embedding.as_ref().map(|e| match e {
                Either3::A(a) => Some(a.to_vec()),
                Either3::B(b) => Some(b.iter().map(|x| *x as f32).collect()),
                Either3::C(Null) => None,
            }),
        }
    }
}

/// Serialises a `meta` argument: raw JSON text wins, else the value as JSON (`null`: none).
pub fn meta_text(meta: &Option<Value>, meta_json: &Option<String>) -> Option<String> {
    match (meta_json, meta) {
        (Some(t), _) => Some(t.clone()),
        (None, Some(Value::Null)) | (None, None) => None,
        (None, Some(v)) => Some(v.to_string()),
    }
}

impl NodeInput {
    /// The core's input (the embedding copied).
    pub fn to_core(&self) -> resonance::NodeInput {
        resonance::NodeInput {
            id: self.id.clone(),
            node_type: given(&self.node_type),
            title: given(&self.title),
            domain: given(&self.domain),
            layer: given(&self.layer),
            hash: given(&self.hash),
            summary: given(&self.summary),
            meta: meta_text(&self.meta, &given(&self.meta_json)),
            date: given(&self.date),
            embedding: match &self.embedding {
                Some(Either3::A(a)) => Some(a.to_vec()),
                Some(Either3::B(b)) => Some(b.iter().map(|x| *x as f32).collect()),
                Some(Either3::C(Null)) | None => None,
            },
        }
    }
}

/// The `signal` option of a long Promise call: an `AbortSignal`. The package entry
/// (`resonance.js`) reads it and connects it to the call's cancel token; here the value is only
/// accepted, never read.
pub struct SignalOption;

impl TypeName for SignalOption {
    fn type_name() -> &'static str {
        "AbortSignal"
    }

    fn value_type() -> ValueType {
        ValueType::Object
    }
}

impl FromNapiValue for SignalOption {
    unsafe fn from_napi_value(_env: sys::napi_env, _value: sys::napi_value) -> napi::Result<Self> {
        Ok(SignalOption)
    }
}

impl ValidateNapiValue for SignalOption {}

/// Options of a long Promise call that has no other options.
#[napi(object, object_to_js = false)]
#[derive(Default)]
pub struct CallOptions {
    /// Aborting it stops the call: the Promise rejects with `interrupted` (at once when the signal
    /// is already aborted, without running); the handle stays usable.
    #[napi(ts_type = "AbortSignal")]
    pub signal: Option<SignalOption>,
}

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

/// An edge to write (`type` defaults to `"related_to"`, confidence and veracity to 1).
#[napi(object)]
pub struct EdgeInput {
    /// Source node id.
    pub source: String,
    /// Target node id.
    pub target: String,
    /// Edge type (case-sensitive).
    #[napi(js_name = "type")]
    pub edge_type: Option<Either<String, Null>>,
    /// Confidence.
    pub confidence: Option<Either<f64, Null>>,
    /// Veracity.
    pub veracity: Option<Either<f64, Null>>,
    /// Where the edge came from.
    pub context_source: Option<Either<String, Null>>,
}

impl EdgeInput {
    /// The core's input.
    pub fn to_core(&self) -> resonance::EdgeInput {
        resonance::EdgeInput {
            source: self.source.clone(),
            target: self.target.clone(),
            edge_type: given(&self.edge_type),
            confidence: given(&self.confidence),
            veracity: given(&self.veracity),
            context_source: given(&self.context_source),
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

/// Options of `listNodes`.
#[napi(object)]
#[derive(Default)]
pub struct ListOptions {
    /// Only this domain.
    pub domain: Option<Either<String, Null>>,
    /// Only this type.
    #[napi(js_name = "type")]
    pub node_type: Option<Either<String, Null>>,
    /// At most this many.
    pub limit: Option<Either<f64, Null>>,
    /// Skip this many (id order).
    pub offset: Option<Either<f64, Null>>,
    /// Include embeddings.
    pub with_embeddings: Option<Either<bool, Null>>,
}

impl ListOptions {
    /// The core's options.
    pub fn to_core(&self) -> Result<resonance::ListOptions> {
        let d = resonance::ListOptions::default();
        Ok(resonance::ListOptions {
            domain: given(&self.domain),
            node_type: given(&self.node_type),
            limit: opt_whole(given(&self.limit), "limit", MAX_SAFE)?.map(|l| l as usize),
            offset: opt_whole(given(&self.offset), "offset", MAX_SAFE)?
                .map_or(d.offset, |o| o as usize),
            with_embeddings: given(&self.with_embeddings).unwrap_or(d.with_embeddings),
        })
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

/// Options of a search.
#[napi(object, object_to_js = false)]
#[derive(Default)]
pub struct SearchOptions {
    /// Aborting it stops the Promise form of the call (rejects with `interrupted`); see `CallOptions`.
    #[napi(ts_type = "AbortSignal")]
    pub signal: Option<SignalOption>,
    /// How many results at most (default 10; 0 returns none).
    pub k: Option<Either<f64, Null>>,
    /// Only scores ≥ this (default: only scores > 0).
    pub min_score: Option<Either<f64, Null>>,
    /// Only nodes of this domain.
    pub domain: Option<Either<String, Null>>,
    /// Only nodes of this type.
    #[napi(js_name = "type")]
    pub node_type: Option<Either<String, Null>>,
    /// Cap the threads used (default: all cores).
    pub threads: Option<Either<f64, Null>>,
}

impl SearchOptions {
    /// The core's options.
    pub fn to_core(o: Option<&SearchOptions>) -> Result<resonance::SearchOptions> {
        let d = resonance::SearchOptions::default();
        Ok(match o {
            None => d,
            Some(o) => resonance::SearchOptions {
                k: opt_whole(given(&o.k), "k", MAX_SAFE)?.map_or(d.k, |k| k as usize),
                min_score: given(&o.min_score).map(|m| m as f32),
                domain: given(&o.domain),
                node_type: given(&o.node_type),
                threads: opt_whole(given(&o.threads), "threads", MAX_SAFE)?.map(|t| t as usize),
            },
        })
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

/// Flattens `n` query vectors of one length into one row-major buffer.
pub fn flatten(queries: &[JsVector]) -> Result<Vec<f32>> {
    let rows: Vec<Cow<'_, [f32]>> = queries
        .iter()
        .map(|q| match q {
            Either::A(a) => Cow::Borrowed(&a[..]),
            Either::B(b) => Cow::Owned(b.iter().map(|x| *x as f32).collect()),
        })
        .collect();
    resonance::vector::flatten_rows(&rows, "queries")
        .map(|(flat, _)| flat)
        .map_err(to_js)
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
}

/// Options of `migrate`.
#[napi(object, object_to_js = false)]
#[derive(Default)]
pub struct MigrateOptions {
    /// Aborting it stops the Promise form of the call (rejects with `interrupted`); see `CallOptions`.
    #[napi(ts_type = "AbortSignal")]
    pub signal: Option<SignalOption>,
    /// List what would run (with its SQL) and change nothing.
    pub dry_run: Option<Either<bool, Null>>,
    /// Allow steps marked destructive.
    pub allow_destructive: Option<Either<bool, Null>>,
    /// Back up a non-empty database first (default true).
    pub backup: Option<Either<bool, Null>>,
    /// Backup retention in days (default: the handle's).
    pub backup_retention_days: Option<Either<f64, Null>>,
}

impl MigrateOptions {
    /// The core's options.
    pub fn to_core(&self) -> Result<resonance::MigrateOptions> {
        let d = resonance::MigrateOptions::default();
        Ok(resonance::MigrateOptions {
            dry_run: given(&self.dry_run).unwrap_or(d.dry_run),
            allow_destructive: given(&self.allow_destructive).unwrap_or(d.allow_destructive),
            backup: given(&self.backup).unwrap_or(d.backup),
            backup_retention_days: opt_u32(
                given(&self.backup_retention_days),
                "backupRetentionDays",
            )?
            .or(d.backup_retention_days),
        })
    }
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

/// Options of `betweenness`.
#[napi(object, object_to_js = false)]
#[derive(Default)]
pub struct BetweennessOptions {
    /// Aborting it stops the Promise form of the call (rejects with `interrupted`); see `CallOptions`.
    #[napi(ts_type = "AbortSignal")]
    pub signal: Option<SignalOption>,
    /// Normalise by (N−1)(N−2) (default true).
    pub normalized: Option<Either<bool, Null>>,
    /// Sample this many pivots instead of all nodes.
    pub sample: Option<Either<f64, Null>>,
    /// Seed of the sampling (default 0).
    pub seed: Option<Either<f64, Null>>,
}

/// Options of `pagerank`.
#[napi(object, object_to_js = false)]
#[derive(Default)]
pub struct PagerankOptions {
    /// Aborting it stops the Promise form of the call (rejects with `interrupted`); see `CallOptions`.
    #[napi(ts_type = "AbortSignal")]
    pub signal: Option<SignalOption>,
    /// Damping factor (default 0.85).
    pub alpha: Option<Either<f64, Null>>,
    /// Convergence tolerance (default 1e-6).
    pub tolerance: Option<Either<f64, Null>>,
    /// Iteration cap (default 100).
    pub max_iterations: Option<Either<f64, Null>>,
}

/// Options of `communities`.
#[napi(object, object_to_js = false)]
#[derive(Default)]
pub struct CommunityOptions {
    /// Aborting it stops the Promise form of the call (rejects with `interrupted`); see `CallOptions`.
    #[napi(ts_type = "AbortSignal")]
    pub signal: Option<SignalOption>,
    /// Resolution (default 1).
    pub resolution: Option<Either<f64, Null>>,
    /// Seed (default 0); a given seed gives the same partition.
    pub seed: Option<Either<f64, Null>>,
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

/// Options of `pruneHistory`.
#[napi(object)]
#[derive(Default)]
pub struct PruneOptions {
    /// Delete rows older than this many days.
    pub older_than_days: Option<Either<f64, Null>>,
    /// Keep only the newest this many rows.
    pub keep_last: Option<Either<f64, Null>>,
}

impl PruneOptions {
    /// `(older_than_days, keep_last)` for the core.
    pub fn to_core(&self) -> Result<(Option<u32>, Option<u64>)> {
        Ok((
            opt_u32(given(&self.older_than_days), "olderThanDays")?,
            opt_whole(given(&self.keep_last), "keepLast", MAX_SAFE)?,
        ))
    }
}
