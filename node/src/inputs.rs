//! What JS passes in: nodes, edges and updates to write, and the options of every call, each with
//! its conversion to the core's type (a field left out is the core's default). Nothing here touches
//! the database.

use std::borrow::Cow;

use napi::bindgen_prelude::{
    Either, Either3, Float32Array, FromNapiValue, Null, TypeName, ValidateNapiValue, ValueType,
};
use napi::sys;
use napi_derive::napi;
use serde_json::Value;

use crate::args::*;
use crate::error::{to_js, Result};
use crate::sql::StepsOrDir;
use std::collections::HashMap;

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
    /// Let application SQL write `nodes`, `edges`, `history` and `__drizzle_migrations` (a
    /// compatibility layer over raw SQL); the handle's caches are dropped after each such write.
    pub allow_engine_writes: Option<Either<bool, Null>>,
    /// How many compiled statements the connection keeps (the engine's and the application's).
    pub statement_cache_size: Option<Either<f64, Null>>,
    /// Application migrations applied when a read-write handle opens: namespace → its steps (a
    /// list, or a directory of `NNNN_name.sql` files), in namespace order, with this handle's
    /// `allowDestructive` and `backup`.
    #[napi(ts_type = "Record<string, string | AppMigrationInput[]> | null")]
    pub app_migrations: Option<Either<HashMap<String, StepsOrDir>, Null>>,
    /// Another program (Litestream…) replicates the file by reading its WAL: restart/truncate
    /// checkpoints and VACUUM are refused with `invalid_argument` (default false; docs/scaling.md).
    pub external_replicator: Option<Either<bool, Null>>,
    /// What the handle keeps in memory for vector search: `"matrix"` (the f32 rows) or `"codes"`
    /// (only the int8 codes, about a quarter of the memory; the f32 rows a search rescores are read
    /// from the file; the same results; docs/vectors.md, "Bounded memory").
    #[napi(ts_type = "'matrix' | 'codes' | null")]
    pub vector_memory: Option<Either<String, Null>>,
}

impl OpenOptions {
    /// The core's options (`invalid_argument` for a number that is not a whole `u32`).
    pub fn to_core(&self) -> Result<resonance::OpenOptions> {
        let d = resonance::OpenOptions::default();
        Ok(resonance::OpenOptions {
            read_only: unless_nullish(&self.read_only).unwrap_or(d.read_only),
            migrate: unless_nullish(&self.migrate).unwrap_or(d.migrate),
            allow_destructive: unless_nullish(&self.allow_destructive)
                .unwrap_or(d.allow_destructive),
            backup: unless_nullish(&self.backup).unwrap_or(d.backup),
            external_replicator: unless_nullish(&self.external_replicator)
                .unwrap_or(d.external_replicator),
            vector_memory: match unless_nullish(&self.vector_memory) {
                Some(m) => m.parse().map_err(to_js)?,
                None => d.vector_memory,
            },
            busy_timeout_ms: opt_u32(unless_nullish(&self.busy_timeout_ms), "busyTimeoutMs")?
                .unwrap_or(d.busy_timeout_ms),
            backup_retention_days: opt_u32(
                unless_nullish(&self.backup_retention_days),
                "backupRetentionDays",
            )?
            .unwrap_or(d.backup_retention_days),
            open_timeout_ms: opt_u32(unless_nullish(&self.open_timeout_ms), "openTimeoutMs")?
                .unwrap_or(d.open_timeout_ms),
            allow_engine_writes: unless_nullish(&self.allow_engine_writes)
                .unwrap_or(d.allow_engine_writes),
            statement_cache_size: opt_whole_number(
                unless_nullish(&self.statement_cache_size),
                "statementCacheSize",
                MAX_SAFE,
            )?
            .map_or(d.statement_cache_size, |n| n as usize),
            app_migrations: match &self.app_migrations {
                Some(Either::A(sets)) => {
                    let mut names: Vec<&String> = sets.keys().collect();
                    names.sort();
                    names
                        .into_iter()
                        .map(|ns| {
                            Ok(resonance::AppMigrationSet {
                                namespace: ns.clone(),
                                steps: crate::sql::steps(&sets[ns])?,
                            })
                        })
                        .collect::<Result<Vec<_>>>()?
                }
                _ => d.app_migrations,
            },
        })
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
            node_type: unless_nullish(&self.node_type),
            title: unless_nullish(&self.title),
            domain: unless_nullish(&self.domain),
            layer: unless_nullish(&self.layer),
            hash: unless_nullish(&self.hash),
            summary: unless_nullish(&self.summary),
            meta: meta_text(&self.meta, &unless_nullish(&self.meta_json)),
            date: unless_nullish(&self.date),
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
            edge_type: unless_nullish(&self.edge_type),
            confidence: unless_nullish(&self.confidence),
            veracity: unless_nullish(&self.veracity),
            context_source: unless_nullish(&self.context_source),
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
            domain: unless_nullish(&self.domain),
            node_type: unless_nullish(&self.node_type),
            limit: opt_whole_number(unless_nullish(&self.limit), "limit", MAX_SAFE)?
                .map(|l| l as usize),
            offset: opt_whole_number(unless_nullish(&self.offset), "offset", MAX_SAFE)?
                .map_or(d.offset, |o| o as usize),
            with_embeddings: unless_nullish(&self.with_embeddings).unwrap_or(d.with_embeddings),
        })
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
                k: opt_whole_number(unless_nullish(&o.k), "k", MAX_SAFE)?
                    .map_or(d.k, |k| k as usize),
                min_score: unless_nullish(&o.min_score).map(|m| m as f32),
                domain: unless_nullish(&o.domain),
                node_type: unless_nullish(&o.node_type),
                threads: opt_whole_number(unless_nullish(&o.threads), "threads", MAX_SAFE)?
                    .map(|t| t as usize),
            },
        })
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
            dry_run: unless_nullish(&self.dry_run).unwrap_or(d.dry_run),
            allow_destructive: unless_nullish(&self.allow_destructive)
                .unwrap_or(d.allow_destructive),
            backup: unless_nullish(&self.backup).unwrap_or(d.backup),
            backup_retention_days: opt_u32(
                unless_nullish(&self.backup_retention_days),
                "backupRetentionDays",
            )?
            .or(d.backup_retention_days),
        })
    }
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

impl BetweennessOptions {
    /// The core's options (a field left out keeps the core's default).
    pub fn to_core(&self) -> Result<resonance::BetweennessOptions> {
        let mut b = resonance::BetweennessOptions::default();
        b.normalized = unless_nullish(&self.normalized).unwrap_or(b.normalized);
        b.seed = opt_whole_number(unless_nullish(&self.seed), "seed", MAX_SAFE)?.unwrap_or(b.seed);
        b.sample =
            opt_whole_number(unless_nullish(&self.sample), "sample", MAX_SAFE)?.map(|k| k as usize);
        Ok(b)
    }
}

impl PagerankOptions {
    /// The core's options (a field left out keeps the core's default).
    pub fn to_core(&self) -> Result<resonance::PageRankOptions> {
        let mut p = resonance::PageRankOptions::default();
        p.alpha = unless_nullish(&self.alpha).unwrap_or(p.alpha);
        p.tolerance = unless_nullish(&self.tolerance).unwrap_or(p.tolerance);
        if let Some(i) = opt_whole_number(
            unless_nullish(&self.max_iterations),
            "maxIterations",
            MAX_SAFE,
        )? {
            p.max_iterations = i as usize;
        }
        Ok(p)
    }
}

impl CommunityOptions {
    /// The core's options (a field left out keeps the core's default).
    pub fn to_core(&self) -> Result<resonance::CommunityOptions> {
        let mut c = resonance::CommunityOptions::default();
        c.resolution = unless_nullish(&self.resolution).unwrap_or(c.resolution);
        c.seed = opt_whole_number(unless_nullish(&self.seed), "seed", MAX_SAFE)?.unwrap_or(c.seed);
        Ok(c)
    }
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
            opt_u32(unless_nullish(&self.older_than_days), "olderThanDays")?,
            opt_whole_number(unless_nullish(&self.keep_last), "keepLast", MAX_SAFE)?,
        ))
    }
}

/// Options of `recordStats` (docs/stats.md); a field left out is the engine's default.
#[napi(object)]
#[derive(Default)]
pub struct RecordStatsOptions {
    /// A label for the snapshot.
    pub label: Option<Either<String, Null>>,
    /// A JSON value stored with the snapshot, as the text `JSON.stringify` writes (the rules of
    /// `NodeInput.meta`).
    #[napi(ts_type = "unknown")]
    pub meta: Option<Value>,
    /// JSON text stored with the snapshot (validated); wins over `meta` when both are given.
    pub meta_json: Option<Either<String, Null>>,
    /// Keep this many newest snapshots (default 100).
    pub keep: Option<Either<f64, Null>>,
}

impl RecordStatsOptions {
    /// The core's options.
    pub fn to_core(&self) -> Result<resonance::RecordStatsOptions> {
        let d = resonance::RecordStatsOptions::default();
        Ok(resonance::RecordStatsOptions {
            label: unless_nullish(&self.label),
            meta: meta_text(&self.meta, &unless_nullish(&self.meta_json)),
            keep: opt_u32(unless_nullish(&self.keep), "keep")?.unwrap_or(d.keep),
        })
    }
}

/// Thresholds of `validateStats` (docs/stats.md); a field left out is the engine's default.
#[napi(object)]
#[derive(Default)]
pub struct ValidateStatsOptions {
    /// Edges per node below which `low_edge_density` warns.
    pub min_edge_density: Option<Either<f64, Null>>,
    /// Share of nodes with an embedding below which `low_embedding_coverage` warns.
    pub min_embedding_coverage: Option<Either<f64, Null>>,
    /// A fall beyond this share of the previous count is the error `shrinkage`.
    pub max_shrink_ratio: Option<Either<f64, Null>>,
    /// Warn `no_growth` when nothing grew.
    pub warn_no_growth: Option<Either<bool, Null>>,
}

impl ValidateStatsOptions {
    /// The core's options.
    pub fn to_core(&self) -> resonance::StatsValidationOptions {
        let d = resonance::StatsValidationOptions::default();
        resonance::StatsValidationOptions {
            min_edge_density: unless_nullish(&self.min_edge_density).unwrap_or(d.min_edge_density),
            min_embedding_coverage: unless_nullish(&self.min_embedding_coverage)
                .unwrap_or(d.min_embedding_coverage),
            max_shrink_ratio: unless_nullish(&self.max_shrink_ratio).unwrap_or(d.max_shrink_ratio),
            warn_no_growth: unless_nullish(&self.warn_no_growth).unwrap_or(d.warn_no_growth),
        }
    }
}
