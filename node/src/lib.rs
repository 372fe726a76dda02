//! Node and Bun addon of Resonance (napi-rs): the core API in camelCase, an adapter of a few lines per
//! function over `resonance::Database`.
//!
//! Heavy calls (open, migrate, backup, search, bulk writes, graph analytics, health) return Promises
//! computed on the libuv thread pool (`AsyncTask`); cheap ones are synchronous (`…Sync` twins where
//! both exist). Vectors go in and out as `Float32Array`, copied when the call is made. Every export is
//! `#[napi(catch_unwind)]` and runs its body in a panic guard, so a panic becomes an `Error` with
//! `code === "internal"`; every core error becomes an `Error` whose `code` is its design §9 kind.
//! Exports that take objects are also `strict` (an options argument that is not an object is refused,
//! not read as `{}`); whole-number arguments are taken as `f64` and checked by `convert::whole` (napi's
//! `u32` would wrap −1 and zero NaN); input fields accept `null` as "not given" (`convert::given`).
//! This crate must not re-implement a rule of the core.

use std::sync::Arc;

use napi::bindgen_prelude::{AsyncTask, Either, Env, Float32Array, Function, Unknown};
use napi::JsValue;
use napi_derive::napi;

mod convert;
mod error;
mod tasks;

use convert::*;
use error::{guard, guard_js, invalid, to_js, Code, Result};
use tasks::*;

type Core = resonance::Database;

/// Opens (creating if needed) the database at `path` off the event loop: hardened connection,
/// recognition of its shape, WAL, then adoption and migrations (`options.migrate`, default true).
#[napi(catch_unwind, strict)]
pub fn open(path: String, options: Option<OpenOptions>) -> Result<AsyncTask<OpenTask>> {
    let opts = options.unwrap_or_default().to_core()?;
    Ok(AsyncTask::new(OpenTask(Work::core(move || {
        open_core(&path, opts)
    }))))
}

/// `open`, on the calling thread (blocks while a migration runs).
#[napi(catch_unwind, strict)]
pub fn open_sync(path: String, options: Option<OpenOptions>) -> Result<Database> {
    let opts = options.unwrap_or_default().to_core()?;
    guard(|| open_core(&path, opts)).map(Database::wrap)
}

fn open_core(path: &str, opts: resonance::OpenOptions) -> resonance::Result<Arc<Core>> {
    opts.validate()?;
    Core::open_with(path, opts).map(Arc::new)
}

/// The application's id for a document path (`./docs/README.md` → `docs-readme`).
#[napi(catch_unwind)]
pub fn generate_id(path: String) -> Result<String> {
    guard(|| Ok(resonance::generate_id(&path)))
}

/// The kind codes an error's `code` can take (design §9), in C status order.
#[napi(catch_unwind)]
pub fn error_codes() -> Vec<String> {
    resonance::ErrorKind::ALL
        .iter()
        .map(|k| k.code().to_string())
        .collect()
}

/// Test support: throws (or, with `inPromise`, rejects with) the error of kind `code` as the binding
/// maps it, or — with `code === "panic"` — panics inside the addon to show the panic guard.
#[napi(catch_unwind, js_name = "_testError")]
pub fn test_error(code: String, in_promise: Option<bool>) -> Result<AsyncTask<UnitTask>> {
    let make = move || -> resonance::Result<()> {
        use resonance::Error as E;
        let m = || format!("test error of kind {code}");
        Err(match code.as_str() {
            "panic" => panic!("deliberate test panic"),
            "invalid_argument" => E::InvalidArgument(m()),
            "invalid_vector" => E::InvalidVector(m()),
            "dimension_mismatch" => E::DimensionMismatch {
                expected: 3,
                got: 2,
                context: m(),
            },
            "not_found" => E::NotFound(m()),
            "busy" => E::Busy(m()),
            "readonly" => E::Readonly(m()),
            "corrupt" => E::Corrupt(m()),
            "not_a_database" => E::NotADatabase(m()),
            "constraint" => E::Constraint(m()),
            "schema_unknown" => E::SchemaUnknown(m()),
            "schema_too_new" => E::SchemaTooNew(m()),
            "migration_failed" => E::MigrationFailed(m()),
            "destructive_refused" => E::DestructiveRefused(m()),
            "closed" => E::Closed,
            "io" => E::Io {
                message: m(),
                source: None,
            },
            "sqlite" => E::Sqlite {
                extended_code: 1,
                message: m(),
            },
            "internal" => E::Internal(m()),
            other => E::InvalidArgument(format!("no error kind {other:?}")),
        })
    };
    if in_promise.unwrap_or(false) {
        Ok(AsyncTask::new(UnitTask(Work::core(make))))
    } else {
        guard(make).map(|()| AsyncTask::new(UnitTask(Work::core(|| Ok(())))))
    }
}

/// An open Resonance database. Share one per file per process; calls from Promises and from the
/// event loop are serialised by the core's internal lock. `close()` is idempotent; any later call
/// throws `code === "closed"`. Supports `using db = openSync(...)` through `Symbol.dispose`.
#[napi]
pub struct Database {
    inner: Arc<Core>,
}

impl Database {
    fn wrap(inner: Arc<Core>) -> Database {
        Database { inner }
    }

    /// A clone of the shared handle for a pool task.
    fn shared(&self) -> Arc<Core> {
        self.inner.clone()
    }
}

#[napi]
impl Database {
    // ---- life cycle -------------------------------------------------------------------------

    /// The database path.
    #[napi(getter, catch_unwind)]
    pub fn path(&self) -> String {
        self.inner.path().display().to_string()
    }

    /// Whether this handle is read-only.
    #[napi(getter, catch_unwind)]
    pub fn read_only(&self) -> bool {
        self.inner.is_read_only()
    }

    /// Whether `close()` was called.
    #[napi(getter, catch_unwind)]
    pub fn closed(&self) -> bool {
        self.inner.is_closed()
    }

    /// Whether an explicit transaction is open.
    #[napi(getter, catch_unwind)]
    pub fn in_transaction(&self) -> bool {
        self.inner.in_transaction()
    }

    /// Warnings from opening (a newer application, pending steps, a stray table…).
    #[napi(getter, catch_unwind)]
    pub fn warnings(&self) -> Vec<String> {
        self.inner.warnings().to_vec()
    }

    /// Closes the handle (runs `PRAGMA optimize`). Idempotent; a running Promise finishes first.
    #[napi(catch_unwind)]
    pub fn close(&self) -> Result<()> {
        guard(|| self.inner.close())
    }

    /// `close()`, for `using`.
    #[napi(catch_unwind, well_known_symbol = "dispose")]
    pub fn dispose(&self) -> Result<()> {
        guard(|| self.inner.close())
    }

    // ---- transactions -----------------------------------------------------------------------

    /// Runs `fn` (synchronous) in one `BEGIN IMMEDIATE` transaction: commits when it returns,
    /// rolls back and rethrows when it throws. Returns what `fn` returns. `fn` must not be async
    /// (a returned Promise rolls back and throws `invalid_argument`). Calls made from `fn` join the
    /// transaction; Promises started meanwhile wait for it to end.
    #[napi(
        catch_unwind,
        ts_generic_types = "T",
        ts_args_type = "fn: () => T",
        ts_return_type = "T"
    )]
    pub fn transaction<'e>(
        &self,
        env: &'e Env,
        f: Function<'e, (), Unknown<'e>>,
    ) -> napi::Result<Unknown<'e>> {
        let coded = |e: napi::Error<Code>| error::into_status_error(env, e);
        guard(|| self.inner.begin()).map_err(coded)?;
        match f.call(()) {
            Ok(v) => {
                if v.is_promise().unwrap_or(false) {
                    let _ = self.inner.rollback();
                    return Err(coded(invalid(
                        "transaction(fn): fn returned a Promise; it must be synchronous (rolled back)",
                    )));
                }
                guard(|| self.inner.commit()).map_err(coded)?;
                Ok(v)
            }
            Err(e) => {
                let _ = self.inner.rollback();
                Err(e)
            }
        }
    }

    /// Begins an explicit `BEGIN IMMEDIATE` transaction (prefer `transaction(fn)`).
    #[napi(catch_unwind)]
    pub fn begin(&self) -> Result<()> {
        guard(|| self.inner.begin())
    }

    /// Commits the explicit transaction.
    #[napi(catch_unwind)]
    pub fn commit(&self) -> Result<()> {
        guard(|| self.inner.commit())
    }

    /// Rolls the explicit transaction back.
    #[napi(catch_unwind)]
    pub fn rollback(&self) -> Result<()> {
        guard(|| self.inner.rollback())
    }

    // ---- nodes, edges, history --------------------------------------------------------------

    /// Writes a node: the whole row (fields not given become NULL), with its history row.
    #[napi(catch_unwind, strict)]
    pub fn upsert_node(&self, node: NodeInput) -> Result<()> {
        let n = node.to_core();
        guard(|| self.inner.upsert_node(&n))
    }

    /// Writes many nodes in one transaction (all or nothing) off the event loop; resolves to the count.
    #[napi(catch_unwind, strict)]
    pub fn upsert_nodes(&self, nodes: Vec<NodeInput>) -> AsyncTask<CountTask> {
        let nodes: Vec<_> = nodes.iter().map(NodeInput::to_core).collect();
        let db = self.shared();
        AsyncTask::new(CountTask(Work::core(move || db.upsert_nodes(&nodes))))
    }

    /// Reads a node (`null` when there is none), off the event loop.
    #[napi(catch_unwind)]
    pub fn get_node(&self, id: String, with_embedding: Option<bool>) -> AsyncTask<NodeTask> {
        let db = self.shared();
        let w = with_embedding.unwrap_or(false);
        AsyncTask::new(NodeTask(Work::core(move || db.get_node_with(&id, w))))
    }

    /// Reads a node (`null` when there is none).
    #[napi(catch_unwind)]
    pub fn get_node_sync(&self, id: String, with_embedding: Option<bool>) -> Result<Option<Node>> {
        guard(|| {
            self.inner
                .get_node_with(&id, with_embedding.unwrap_or(false))
        })
        .map(|n| n.map(Node::from))
    }

    /// A node's text columns packed into one string (`null` when there is none). Internal: the
    /// package entry's `getNodeSync` unpacks it (one string crosses N-API instead of an object of ten
    /// properties, or nine strings). The layout is in `pack_fields`.
    #[napi(catch_unwind, skip_typescript)]
    pub fn get_node_packed_sync(&self, id: String) -> Result<Option<String>> {
        guard(|| self.inner.get_node(&id)).map(|n| {
            n.map(|n| {
                pack_fields([
                    Some(n.id.as_str()),
                    n.node_type.as_deref(),
                    n.title.as_deref(),
                    n.domain.as_deref(),
                    n.layer.as_deref(),
                    n.hash.as_deref(),
                    n.summary.as_deref(),
                    n.meta.as_deref(),
                    n.date.as_deref(),
                ])
            })
        })
    }

    /// Lists nodes in id order, filtered and paged.
    #[napi(catch_unwind, strict)]
    pub fn list_nodes(&self, options: Option<ListOptions>) -> Result<Vec<Node>> {
        let o = options.unwrap_or_default().to_core()?;
        guard(|| self.inner.list_nodes(&o)).map(|v| v.into_iter().map(Node::from).collect())
    }

    /// Deletes a node with its edges and vector (`not_found` when missing).
    #[napi(catch_unwind)]
    pub fn delete_node(&self, id: String) -> Result<()> {
        guard(|| self.inner.delete_node(&id))
    }

    /// Adds an edge unless `(source, target, type)` exists; returns whether it was added.
    #[napi(catch_unwind, strict)]
    pub fn add_edge(&self, edge: EdgeInput) -> Result<bool> {
        let e = edge.to_core();
        guard(|| self.inner.add_edge(&e))
    }

    /// Adds many edges in one transaction off the event loop; resolves to how many were new.
    #[napi(catch_unwind, strict)]
    pub fn add_edges(&self, edges: Vec<EdgeInput>) -> AsyncTask<CountTask> {
        let edges: Vec<_> = edges.iter().map(EdgeInput::to_core).collect();
        let db = self.shared();
        AsyncTask::new(CountTask(Work::core(move || db.add_edges(&edges))))
    }

    /// Adds an edge or updates its confidence, veracity and context source.
    #[napi(catch_unwind, strict)]
    pub fn upsert_edge(&self, edge: EdgeInput) -> Result<()> {
        let e = edge.to_core();
        guard(|| self.inner.upsert_edge(&e))
    }

    /// Deletes an edge (`type` defaults to `related_to`; `not_found` when missing).
    #[napi(catch_unwind)]
    pub fn delete_edge(
        &self,
        source: String,
        target: String,
        edge_type: Option<String>,
    ) -> Result<()> {
        let t = edge_type.unwrap_or_else(|| "related_to".to_string());
        guard(|| self.inner.delete_edge(&source, &target, &t))
    }

    /// Edges out of `id`, ordered by target then type.
    #[napi(catch_unwind)]
    pub fn edges_from(&self, id: String) -> Result<Vec<Edge>> {
        guard(|| self.inner.edges_from(&id)).map(|v| v.into_iter().map(Edge::from).collect())
    }

    /// Edges into `id`, ordered by source then type.
    #[napi(catch_unwind)]
    pub fn edges_to(&self, id: String) -> Result<Vec<Edge>> {
        guard(|| self.inner.edges_to(&id)).map(|v| v.into_iter().map(Edge::from).collect())
    }

    /// Replaces a node's metadata (any JSON value; `null` clears it; `not_found` when missing).
    #[napi(catch_unwind)]
    pub fn update_meta(
        &self,
        id: String,
        #[napi(ts_arg_type = "unknown")] meta: serde_json::Value,
    ) -> Result<()> {
        let text = meta_text(&Some(meta), &None);
        guard(|| self.inner.update_meta(&id, text.as_deref()))
    }

    /// Replaces a node's metadata with raw JSON text (validated; `null` clears it).
    #[napi(catch_unwind)]
    pub fn update_meta_json(&self, id: String, meta_json: Option<String>) -> Result<()> {
        guard(|| self.inner.update_meta(&id, meta_json.as_deref()))
    }

    /// The history of a node id (or `source|type|target` for an edge), oldest first.
    #[napi(catch_unwind)]
    pub fn history(&self, id: String) -> Result<Vec<HistoryEntry>> {
        guard(|| self.inner.history(&id)).map(|v| v.into_iter().map(HistoryEntry::from).collect())
    }

    /// Retention: deletes history older than `olderThanDays` or beyond the newest `keepLast` rows.
    #[napi(catch_unwind, strict)]
    pub fn prune_history(&self, options: PruneOptions) -> Result<u32> {
        let (days, keep) = options.to_core()?;
        guard(|| self.inner.prune_history(days, keep)).map(|n| n as u32)
    }

    /// Counts and sizes, off the event loop.
    #[napi(catch_unwind)]
    pub fn stats(&self) -> AsyncTask<StatsTask> {
        let db = self.shared();
        AsyncTask::new(StatsTask(Work::core(move || db.stats())))
    }

    /// Counts and sizes.
    #[napi(catch_unwind)]
    pub fn stats_sync(&self) -> Result<Stats> {
        guard(|| self.inner.stats()).map(Stats::from)
    }

    // ---- vectors ----------------------------------------------------------------------------

    /// Stores a node's embedding (validated, normalised; `not_found` when the node is missing).
    #[napi(catch_unwind, strict)]
    pub fn set_embedding(&self, id: String, vector: Either<Float32Array, Vec<f64>>) -> Result<()> {
        let v = convert::vector(&vector);
        guard(|| self.inner.set_embedding(&id, &v))
    }

    /// A node's embedding (`null` when it has none; `not_found` when the node is missing).
    #[napi(catch_unwind)]
    pub fn get_embedding(&self, id: String) -> Result<Option<Float32Array>> {
        guard(|| self.inner.get_embedding(&id)).map(|v| v.map(Float32Array::new))
    }

    /// Exact top-k by dot product, off the event loop (the query is copied at once).
    #[napi(catch_unwind, strict)]
    pub fn search(
        &self,
        vector: Either<Float32Array, Vec<f64>>,
        options: Option<SearchOptions>,
    ) -> Result<AsyncTask<SearchTask>> {
        let q = convert::vector(&vector);
        let o = SearchOptions::to_core(options.as_ref())?;
        let db = self.shared();
        Ok(AsyncTask::new(SearchTask(Work::core(move || {
            db.search(&q, &o)
        }))))
    }

    /// Exact top-k by dot product, on the calling thread.
    #[napi(catch_unwind, strict)]
    pub fn search_sync(
        &self,
        vector: Either<Float32Array, Vec<f64>>,
        options: Option<SearchOptions>,
    ) -> Result<Vec<Hit>> {
        let q = convert::vector(&vector);
        let o = SearchOptions::to_core(options.as_ref())?;
        guard(|| self.inner.search(&q, &o)).map(hits)
    }

    /// The nodes most like `id`'s stored vector (excluding `id`), off the event loop.
    #[napi(catch_unwind, strict)]
    pub fn search_like(
        &self,
        id: String,
        options: Option<SearchOptions>,
    ) -> Result<AsyncTask<SearchTask>> {
        let o = SearchOptions::to_core(options.as_ref())?;
        let db = self.shared();
        Ok(AsyncTask::new(SearchTask(Work::core(move || {
            db.search_like(&id, &o)
        }))))
    }

    /// Many queries at once, off the event loop; per query the ids and a `Float32Array` of scores.
    #[napi(catch_unwind, strict)]
    pub fn search_batch(
        &self,
        queries: Vec<Either<Float32Array, Vec<f64>>>,
        options: Option<SearchOptions>,
    ) -> Result<AsyncTask<SearchBatchTask>> {
        let n = queries.len();
        let flat = guard_js(|| convert::flatten(&queries))?;
        let o = SearchOptions::to_core(options.as_ref())?;
        let db = self.shared();
        Ok(AsyncTask::new(SearchBatchTask(Work::core(move || {
            db.search_batch(&flat, n, &o)
        }))))
    }

    /// What the in-memory vector matrix holds (loading it if needed) and what it skipped.
    #[napi(catch_unwind)]
    pub fn vector_index_info(&self) -> Result<VectorIndexInfo> {
        guard(|| self.inner.vector_index_info()).map(|i| VectorIndexInfo {
            dimension: i.dimension.map(|d| d as u32),
            rows: i.rows as u32,
            malformed: i.malformed as i64,
            wrong_dimension: i.wrong_dimension as i64,
            renormalised: i.renormalised as i64,
            zero: i.zero as i64,
            kernel: i.kernel.to_string(),
        })
    }

    // ---- graph ------------------------------------------------------------------------------

    /// Union of in- and out-neighbours, ascending (`not_found` for an unknown id).
    #[napi(catch_unwind)]
    pub fn neighbors(&self, id: String) -> Result<Vec<String>> {
        guard(|| self.inner.neighbors(&id))
    }

    /// Out-neighbours, ascending.
    #[napi(catch_unwind)]
    pub fn successors(&self, id: String) -> Result<Vec<String>> {
        guard(|| self.inner.successors(&id))
    }

    /// In-neighbours, ascending.
    #[napi(catch_unwind)]
    pub fn predecessors(&self, id: String) -> Result<Vec<String>> {
        guard(|| self.inner.predecessors(&id))
    }

    /// In- plus out-degree.
    #[napi(catch_unwind)]
    pub fn degree(&self, id: String) -> Result<u32> {
        guard(|| self.inner.degree(&id)).map(|d| d as u32)
    }

    /// BFS along out-edges from `start` (included), up to `maxDepth` hops.
    #[napi(catch_unwind, strict)]
    pub fn traverse(&self, start: String, max_depth: f64) -> Result<Vec<String>> {
        let depth = convert::whole(max_depth, "maxDepth", MAX_SAFE)? as usize;
        guard(|| self.inner.traverse(&start, depth))
    }

    /// Directed unweighted shortest path (`null` when unreachable).
    #[napi(catch_unwind)]
    pub fn shortest_path(&self, source: String, target: String) -> Result<Option<Vec<String>>> {
        guard(|| self.inner.shortest_path(&source, &target))
    }

    /// Adamic-Adar index of two nodes.
    #[napi(catch_unwind)]
    pub fn adamic_adar(&self, a: String, b: String) -> Result<f64> {
        guard(|| self.inner.adamic_adar(&a, &b))
    }

    /// Nodes, edges, density and skipped (dangling) edges.
    #[napi(catch_unwind)]
    pub fn graph_stats(&self) -> Result<GraphStats> {
        guard(|| self.inner.graph_stats()).map(|s| GraphStats {
            nodes: s.nodes as u32,
            edges: s.edges as u32,
            density: s.density,
            skipped_edges: s.skipped_edges as u32,
        })
    }

    /// PageRank (node id → score), off the event loop.
    #[napi(catch_unwind, strict)]
    pub fn pagerank(&self, options: Option<PagerankOptions>) -> Result<AsyncTask<ScoresTask>> {
        let o = options.unwrap_or_default();
        let alpha = given(&o.alpha).unwrap_or(resonance::graph::DEFAULT_ALPHA);
        let tol = given(&o.tolerance).unwrap_or(resonance::graph::DEFAULT_TOLERANCE);
        let iters = opt_whole(given(&o.max_iterations), "maxIterations", MAX_SAFE)?
            .map_or(resonance::graph::DEFAULT_MAX_ITERATIONS, |i| i as usize);
        let db = self.shared();
        Ok(AsyncTask::new(ScoresTask(Work::core(move || {
            db.pagerank(alpha, tol, iters)
        }))))
    }

    /// Betweenness centrality (node id → score; exact, or sampled with `sample` pivots), off the
    /// event loop.
    #[napi(catch_unwind, strict)]
    pub fn betweenness(
        &self,
        options: Option<BetweennessOptions>,
    ) -> Result<AsyncTask<ScoresTask>> {
        let o = options.unwrap_or_default();
        let normalized = given(&o.normalized).unwrap_or(true);
        let seed = opt_whole(given(&o.seed), "seed", MAX_SAFE)?.unwrap_or(0);
        let sample = opt_whole(given(&o.sample), "sample", MAX_SAFE)?.map(|k| (k as usize, seed));
        let db = self.shared();
        Ok(AsyncTask::new(ScoresTask(Work::core(move || {
            db.betweenness(normalized, sample)
        }))))
    }

    /// Louvain communities (deterministic per seed) and their modularity, off the event loop.
    #[napi(catch_unwind, strict)]
    pub fn communities(
        &self,
        options: Option<CommunityOptions>,
    ) -> Result<AsyncTask<CommunitiesTask>> {
        let o = options.unwrap_or_default();
        let resolution = given(&o.resolution).unwrap_or(1.0);
        let seed = opt_whole(given(&o.seed), "seed", MAX_SAFE)?.unwrap_or(0);
        let db = self.shared();
        Ok(AsyncTask::new(CommunitiesTask(Work::core(move || {
            db.communities(resolution, seed)
        }))))
    }

    /// Weakly connected components, largest first, off the event loop.
    #[napi(catch_unwind)]
    pub fn components(&self) -> AsyncTask<ComponentsTask> {
        let db = self.shared();
        AsyncTask::new(ComponentsTask(Work::core(move || db.components())))
    }

    /// Two-hop non-adjacent pairs ranked by Adamic-Adar, off the event loop.
    #[napi(catch_unwind, strict)]
    pub fn link_candidates(&self, limit: Option<f64>) -> Result<AsyncTask<LinkCandidatesTask>> {
        let limit = opt_whole(limit, "limit", MAX_SAFE)?.unwrap_or(10) as usize;
        let db = self.shared();
        Ok(AsyncTask::new(LinkCandidatesTask(Work::core(move || {
            db.link_candidates(limit)
        }))))
    }

    /// The top PageRank nodes with their degree, off the event loop.
    #[napi(catch_unwind, strict)]
    pub fn pillars(&self, limit: Option<f64>) -> Result<AsyncTask<PillarsTask>> {
        let limit = opt_whole(limit, "limit", MAX_SAFE)?.unwrap_or(10) as usize;
        let db = self.shared();
        Ok(AsyncTask::new(PillarsTask(Work::core(move || {
            db.pillars(limit)
        }))))
    }

    // ---- maintenance ------------------------------------------------------------------------

    /// The health report (design §3), off the event loop.
    #[napi(catch_unwind)]
    pub fn health(&self) -> AsyncTask<HealthTask> {
        let db = self.shared();
        AsyncTask::new(HealthTask(Work::core(move || db.health())))
    }

    /// Plans (`dryRun`) or applies migrations explicitly, off the event loop.
    #[napi(catch_unwind, strict)]
    pub fn migrate(&self, options: Option<MigrateOptions>) -> Result<AsyncTask<MigrateTask>> {
        let o = options.unwrap_or_default().to_core()?;
        let db = self.shared();
        Ok(AsyncTask::new(MigrateTask(Work::core(move || {
            db.migrate(&o)
        }))))
    }

    /// Online backup to `dest`, or into `backups/` beside the database; resolves to the path.
    #[napi(catch_unwind)]
    pub fn backup(&self, dest: Option<String>) -> AsyncTask<StringTask> {
        let db = self.shared();
        AsyncTask::new(StringTask(Work::core(move || {
            db.backup(dest.as_deref().map(std::path::Path::new))
                .map(|p| p.display().to_string())
        })))
    }

    /// `PRAGMA wal_checkpoint(mode)`: `passive` (default), `full`, `restart` or `truncate`.
    #[napi(catch_unwind)]
    pub fn checkpoint(&self, mode: Option<String>) -> Result<Checkpoint> {
        let mode = mode.unwrap_or_else(|| "passive".to_string());
        guard(|| self.inner.checkpoint(&mode)).map(|c| Checkpoint {
            busy: c.busy,
            log: c.log,
            checkpointed: c.checkpointed,
        })
    }

    /// `PRAGMA optimize` (also run on close).
    #[napi(catch_unwind)]
    pub fn optimize(&self) -> Result<()> {
        guard(|| self.inner.optimize())
    }

    /// `VACUUM`, off the event loop (not inside a transaction).
    #[napi(catch_unwind)]
    pub fn vacuum(&self) -> AsyncTask<UnitTask> {
        let db = self.shared();
        AsyncTask::new(UnitTask(Work::core(move || db.vacuum())))
    }
}

#[allow(dead_code)]
fn _assert_send_sync() {
    fn is<T: Send + Sync>() {}
    is::<Core>();
    let _ = to_js;
}

/// Packs up to nine optional strings into one: a header of five ASCII characters per field (`'0'`
/// plus six bits each, most significant first) holding the field's length in UTF-16 code units plus
/// one (0: absent), then the present fields back to back. `unpackFields` in `resonance.js` reads it.
/// SQLite's longest string (10^9 bytes) fits the 30 bits.
fn pack_fields(fields: [Option<&str>; 9]) -> String {
    let text: usize = fields.iter().flatten().map(|f| f.len()).sum();
    let mut out = String::with_capacity(fields.len() * 5 + text);
    for f in &fields {
        let v = f.map_or(0, |t| t.encode_utf16().count() as u32 + 1);
        for shift in [24, 18, 12, 6, 0] {
            out.push(char::from(b'0' + ((v >> shift) & 0x3F) as u8));
        }
    }
    for f in fields.iter().flatten() {
        out.push_str(f);
    }
    out
}
