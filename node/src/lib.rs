//! Node and Bun addon of Resonance (napi-rs): the core API in camelCase, an adapter of a few lines per
//! function over `resonance::Database`.
//!
//! Heavy calls (open, migrate, backup, search, bulk writes, graph analytics, health) return Promises
//! computed on the libuv thread pool (`AsyncTask`); cheap ones are synchronous (`…Sync` twins where
//! both exist). Vectors go in and out as `Float32Array`, copied when the call is made. Every export is
//! `#[napi(catch_unwind)]` and runs its body in a panic guard, so a panic becomes an `Error` with
//! `code === "internal"`; every core error becomes an `Error` whose `code` is its docs/errors.md kind.
//! Exports that take objects are also `strict` (an options argument that is not an object is refused,
//! not read as `{}`); whole-number arguments are taken as `f64` and checked by `args::whole_number` (napi's
//! `u32` would wrap −1 and zero NaN); input fields accept `null` as "not given" (`args::unless_nullish`).
//! This crate must not re-implement a rule of the core.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use napi::bindgen_prelude::{AsyncTask, Either, Env, External, Float32Array, Function, Unknown};
use napi::JsValue;
use napi_derive::napi;

mod args;
mod bun;
mod error;
mod fast;
mod inputs;
mod outputs;
mod sql;
mod tasks;

use args::*;
use error::{guard, guard_js, invalid, to_js, Code, Result};
use inputs::*;
use outputs::*;
use tasks::*;

type Core = resonance::Database;

/// Opens (creating if needed) the database at `path` off the event loop: hardened connection,
/// recognition of its shape, WAL, then adoption and migrations (`options.migrate`, default true).
#[napi(catch_unwind, strict)]
pub fn open(path: String, options: Option<OpenOptions>) -> Result<AsyncTask<OpenTask>> {
    let opts = options.unwrap_or_default().to_core()?;
    Ok(AsyncTask::new(OpenTask(Work::mapping_core_errors(
        move || open_core(&path, opts),
    ))))
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

/// The package's version (`"0.1.0"`), the workspace version this addon was built from: the same as
/// the npm package's `version`, the CLI's `--version`, Python's `__version__` and C's
/// `resonance_version()`.
#[napi(catch_unwind)]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}

/// The kind codes an error's `code` can take (docs/errors.md), in C status order.
#[napi(catch_unwind)]
pub fn error_codes() -> Vec<String> {
    resonance::ErrorKind::ALL
        .iter()
        .map(|k| k.code().to_string())
        .collect()
}

/// Test support, only in a build with the `test-hooks` feature (`scripts/test-node.sh` builds so, no
/// npm package has it): throws (or, with `inPromise`, rejects with) the error of kind `code` as the
/// binding maps it, or — with `code === "panic"` — panics inside the addon to show the panic guard.
/// Left out of index.d.ts and index.js (`skip_typescript`), which are therefore the same whether
/// the hook is built or not; the package entry passes every export of the addon on, so the tests
/// reach it as `resonance._testError`.
#[cfg(feature = "test-hooks")]
#[napi(catch_unwind, js_name = "_testError", skip_typescript)]
pub fn test_error(code: String, in_promise: Option<bool>) -> Result<AsyncTask<UnitTask>> {
    let make = move || -> resonance::Result<()> {
        if code == "panic" {
            panic!("deliberate test panic");
        }
        Err(match resonance::ErrorKind::from_code(&code) {
            Some(kind) => resonance::Error::sample(kind, format!("test error of kind {code}")),
            None => resonance::Error::InvalidArgument(format!("no error kind {code:?}")),
        })
    };
    if in_promise.unwrap_or(false) {
        Ok(AsyncTask::new(UnitTask(Work::mapping_core_errors(make))))
    } else {
        guard(make).map(|()| AsyncTask::new(UnitTask(Work::mapping_core_errors(|| Ok(())))))
    }
}

/// An open Resonance database. Share one per file per process; calls from Promises and from the
/// event loop are serialised by the core's internal lock. A Promise call made while a transaction is
/// open on the handle (inside `transaction(fn)`, or between `begin()` and `commit()`/`rollback()`)
/// rejects with `invalid_argument` naming the synchronous form to use: its work would run on a
/// worker thread outside the transaction. `close()` waits for every Promise call started before it,
/// then closes; it is idempotent, and any later call fails with `code === "closed"`. Do not open
/// the same file with another SQLite library (node:sqlite, bun:sqlite, better-sqlite3) in the same
/// process. Supports `using db = openSync(...)` through `Symbol.dispose`.
#[napi]
pub struct Database {
    inner: Arc<Core>,
    /// The Promise calls started on this handle and not finished yet (`close()` waits for them).
    pending: Arc<InFlight>,
    /// Whether an explicit transaction is open, kept by `begin_tx` / `end_tx` (the only way this
    /// binding opens or ends one). Read without the core's lock, which a running Promise call holds:
    /// starting a Promise call must not wait for another one to finish.
    tx_open: Arc<AtomicBool>,
    /// The cancel token the package entry armed for the next Promise call (its `signal` option);
    /// taken by `task`.
    armed: std::sync::Mutex<Option<resonance::CancelToken>>,
}

impl Database {
    fn wrap(inner: Arc<Core>) -> Database {
        Database {
            inner,
            pending: Arc::default(),
            tx_open: Arc::default(),
            armed: std::sync::Mutex::new(None),
        }
    }

    fn tx_open(&self) -> bool {
        self.tx_open.load(Ordering::SeqCst)
    }

    fn begin_tx(&self) -> resonance::Result<()> {
        self.inner.begin()?;
        self.tx_open.store(true, Ordering::SeqCst);
        Ok(())
    }

    /// Commits or rolls back; either way no transaction is open afterwards (the core ends it even
    /// when COMMIT fails).
    fn end_tx(&self, commit: bool) -> resonance::Result<()> {
        let r = if commit {
            self.inner.commit()
        } else {
            self.inner.rollback()
        };
        self.tx_open.store(false, Ordering::SeqCst);
        r
    }

    /// The pool work of the Promise call `name`: `f` over the shared handle, counted as pending
    /// until it returns. Every Promise call of a handle is made here (the handle is reachable from
    /// pool work only through this function and `pool_task_js`, which a statement's Promise calls use). While a transaction is open on the handle the call is
    /// refused instead: its work would run on a worker thread, which the core makes wait for the
    /// transaction's end, and would then commit outside it. `sync` names the form to use inside
    /// the transaction.
    fn task<O>(
        &self,
        name: &'static str,
        sync: Option<&'static str>,
        f: impl FnOnce(&Core) -> resonance::Result<O> + Send + 'static,
    ) -> Work<O> {
        pool_task(
            &self.inner,
            &self.pending,
            &self.tx_open,
            self.disarm(),
            name,
            sync,
            f,
        )
    }

    /// Takes the armed cancel token, if any.
    fn disarm(&self) -> Option<resonance::CancelToken> {
        self.armed.lock().unwrap_or_else(|p| p.into_inner()).take()
    }

    /// Closes the handle once every Promise call started before now has finished: an open
    /// transaction is rolled back first (a pending call may be waiting for it to end), then this
    /// waits for the pending calls, then the core closes the connection.
    fn close_after_pending(&self) -> Result<()> {
        if self.tx_open() {
            let _ = self.end_tx(false);
        }
        self.pending.wait_idle();
        guard(|| self.inner.close())
    }
}

/// A count of pending pool work with a condition variable signalled when it drops to zero.
#[derive(Default)]
pub(crate) struct InFlight {
    count: std::sync::Mutex<usize>,
    idle: std::sync::Condvar,
}

/// One pending call of an [`InFlight`] count; dropping it (when the work returns, or is dropped
/// without running) ends the call.
struct Ticket(Arc<InFlight>);

impl InFlight {
    fn enter(self: &Arc<Self>) -> Ticket {
        *self.count.lock().unwrap_or_else(|p| p.into_inner()) += 1;
        Ticket(self.clone())
    }

    fn wait_idle(&self) {
        let mut n = self.count.lock().unwrap_or_else(|p| p.into_inner());
        while *n > 0 {
            n = self.idle.wait(n).unwrap_or_else(|p| p.into_inner());
        }
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let mut n = self.0.count.lock().unwrap_or_else(|p| p.into_inner());
        *n -= 1;
        if *n == 0 {
            self.0.idle.notify_all();
        }
    }
}

/// The pool work of the Promise call `name` over `db` (see `Database::task`, and `sql::Statement`'s
/// Promise calls, which share their handle's pending count and transaction flag): refused while a
/// transaction is open on the handle, else counted as pending until it returns, under `token` if
/// one was armed.
pub(crate) fn pool_task<O>(
    db: &Arc<Core>,
    pending: &Arc<InFlight>,
    tx_open: &AtomicBool,
    token: Option<resonance::CancelToken>,
    name: &'static str,
    sync: Option<&'static str>,
    f: impl FnOnce(&Core) -> resonance::Result<O> + Send + 'static,
) -> Work<O> {
    pool_task_js(db, pending, tx_open, token, name, sync, move |db| {
        guard(|| f(db))
    })
}

/// [`pool_task`] for work that produces the binding's coded errors itself.
pub(crate) fn pool_task_js<O>(
    db: &Arc<Core>,
    pending: &Arc<InFlight>,
    tx_open: &AtomicBool,
    token: Option<resonance::CancelToken>,
    name: &'static str,
    sync: Option<&'static str>,
    f: impl FnOnce(&Core) -> Result<O> + Send + 'static,
) -> Work<O> {
    if tx_open.load(Ordering::SeqCst) {
        let instead = match sync {
            Some(s) => format!("use {s}() inside the transaction"),
            None => {
                "it has no synchronous form: call it before begin() or after commit() / rollback()"
                    .to_string()
            }
        };
        return Work::failed(invalid(format!(
            "{name}() was called while a transaction is open on this handle ({}): a Promise call \
             runs on a worker thread and cannot join the transaction; {instead}",
            db.path().display()
        )));
    }
    let ticket = pending.enter();
    let db = db.clone();
    Work::keeping_coded_errors(move || {
        let _ticket = ticket;
        match token {
            Some(t) => t.scope(|| f(&db)),
            None => f(&db),
        }
    })
}

/// Cancels a token made by `Database._arm` (the package entry calls it from the `abort` event of
/// a call's `signal`): the call running under it rejects with `interrupted`. Internal.
#[napi(catch_unwind, js_name = "_cancel", skip_typescript)]
pub fn cancel_token(token: &External<resonance::CancelToken>) {
    token.cancel();
}

#[napi]
impl Database {
    // ---- life cycle -------------------------------------------------------------------------

    /// Stops whatever runs on this handle now (Promise calls included): each stopped call rejects
    /// (or throws) with `code === "interrupted"`, and a write it was making is rolled back. The
    /// handle stays usable; a call made after `interrupt()` runs normally. A no-op when nothing
    /// runs. To stop one call, pass it `{ signal }` (an `AbortSignal`) instead.
    #[napi(catch_unwind)]
    pub fn interrupt(&self) {
        self.inner.interrupt();
    }

    /// Arms a new cancel token for the next Promise call made on this handle and returns it (the
    /// package entry does this for a call's `signal` option; `_cancel` cancels it). Internal.
    #[napi(catch_unwind, js_name = "_arm", skip_typescript)]
    pub fn arm(&self) -> External<resonance::CancelToken> {
        let token = resonance::CancelToken::new();
        *self.armed.lock().unwrap_or_else(|p| p.into_inner()) = Some(token.clone());
        External::new(token)
    }

    /// Drops an armed token the call did not take (it failed before starting). Internal.
    #[napi(catch_unwind, js_name = "_disarm", skip_typescript)]
    pub fn disarm_js(&self) {
        self.disarm();
    }

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
        self.tx_open()
    }

    /// Warnings from opening (a newer application, pending steps, a stray table…).
    #[napi(getter, catch_unwind)]
    pub fn warnings(&self) -> Vec<String> {
        self.inner.warnings().to_vec()
    }

    /// Closes the handle (runs `PRAGMA optimize`). Idempotent. Every Promise call started on this
    /// handle before `close()` finishes first, as if `close()` came after it (it resolves or rejects
    /// with its own result, never with `closed`): `close()` blocks until their work is done. An open
    /// transaction is rolled back. Calls made after `close()` fail with `closed`.
    #[napi(catch_unwind)]
    pub fn close(&self) -> Result<()> {
        self.close_after_pending()
    }

    /// `close()`, for `using`.
    #[napi(catch_unwind, well_known_symbol = "dispose")]
    pub fn dispose(&self) -> Result<()> {
        self.close_after_pending()
    }

    // ---- transactions -----------------------------------------------------------------------

    /// Runs `fn` (synchronous) in one `BEGIN IMMEDIATE` transaction: commits when it returns,
    /// rolls back and rethrows when it throws. Returns what `fn` returns. `fn` must not be async
    /// (a returned Promise rolls back and throws `invalid_argument`). The synchronous calls made
    /// from `fn` join the transaction (`upsertNodesSync`, `addEdgesSync`, `searchSync`, …); a
    /// Promise call made from `fn` rejects with `invalid_argument` and does nothing. A Promise
    /// call started before the transaction waits for it to end and then runs on its own.
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
        guard(|| self.begin_tx()).map_err(coded)?;
        match f.call(()) {
            Ok(v) => {
                if v.is_promise().unwrap_or(false) {
                    let _ = self.end_tx(false);
                    return Err(coded(invalid(
                        "transaction(fn): fn returned a Promise; it must be synchronous (rolled back)",
                    )));
                }
                guard(|| self.end_tx(true)).map_err(coded)?;
                Ok(v)
            }
            Err(e) => {
                let _ = self.end_tx(false);
                Err(e)
            }
        }
    }

    /// Begins an explicit `BEGIN IMMEDIATE` transaction (prefer `transaction(fn)`).
    #[napi(catch_unwind)]
    pub fn begin(&self) -> Result<()> {
        guard(|| self.begin_tx())
    }

    /// Commits the explicit transaction.
    #[napi(catch_unwind)]
    pub fn commit(&self) -> Result<()> {
        guard(|| self.end_tx(true))
    }

    /// Rolls the explicit transaction back.
    #[napi(catch_unwind)]
    pub fn rollback(&self) -> Result<()> {
        guard(|| self.end_tx(false))
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
    pub fn upsert_nodes(
        &self,
        nodes: Vec<NodeInput>,
        _options: Option<CallOptions>,
    ) -> AsyncTask<CountTask> {
        let nodes: Vec<_> = nodes.iter().map(NodeInput::to_core).collect();
        AsyncTask::new(CountTask(self.task(
            "upsertNodes",
            Some("upsertNodesSync"),
            move |db| db.upsert_nodes(&nodes),
        )))
    }

    /// `upsertNodes` on the calling thread (the form to use inside a transaction, which it joins).
    #[napi(catch_unwind, strict)]
    pub fn upsert_nodes_sync(&self, nodes: Vec<NodeInput>) -> Result<u32> {
        let nodes: Vec<_> = nodes.iter().map(NodeInput::to_core).collect();
        guard(|| self.inner.upsert_nodes(&nodes)).map(|n| n as u32)
    }

    /// Reads a node (`null` when there is none), off the event loop; with its embedding when
    /// `withEmbedding` (left out: the core's `get_node`, without).
    #[napi(catch_unwind)]
    pub fn get_node(&self, id: String, with_embedding: Option<bool>) -> AsyncTask<NodeTask> {
        AsyncTask::new(NodeTask(self.task(
            "getNode",
            Some("getNodeSync"),
            move |db| read_node(db, &id, with_embedding),
        )))
    }

    /// Reads a node (`null` when there is none); with its embedding when `withEmbedding` (left out:
    /// the core's `get_node`, without).
    #[napi(catch_unwind)]
    pub fn get_node_sync(&self, id: String, with_embedding: Option<bool>) -> Result<Option<Node>> {
        guard(|| read_node(&self.inner, &id, with_embedding)).map(|n| n.map(Node::from))
    }

    /// A node's text columns packed into one string (`null` when there is none). Internal: the
    /// package entry's `getNodeSync` unpacks it (one string crosses N-API instead of an object of ten
    /// properties, or nine strings). The layout is in `pack_fields`.
    #[napi(catch_unwind, skip_typescript)]
    pub fn get_node_packed_sync(&self, id: String) -> Result<Option<String>> {
        guard(|| self.inner.get_node(&id))
            .map(|n| n.map(|n| pack_fields(PACKED_NODE_FIELDS.map(|(_, read)| read(&n)))))
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
    pub fn add_edges(
        &self,
        edges: Vec<EdgeInput>,
        _options: Option<CallOptions>,
    ) -> AsyncTask<CountTask> {
        let edges: Vec<_> = edges.iter().map(EdgeInput::to_core).collect();
        AsyncTask::new(CountTask(self.task(
            "addEdges",
            Some("addEdgesSync"),
            move |db| db.add_edges(&edges),
        )))
    }

    /// `addEdges` on the calling thread (the form to use inside a transaction, which it joins).
    #[napi(catch_unwind, strict)]
    pub fn add_edges_sync(&self, edges: Vec<EdgeInput>) -> Result<u32> {
        let edges: Vec<_> = edges.iter().map(EdgeInput::to_core).collect();
        guard(|| self.inner.add_edges(&edges)).map(|n| n as u32)
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
        guard(|| {
            self.inner
                .delete_edge(&source, &target, edge_type.as_deref())
        })
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

    /// Replaces a node's metadata (a JSON value, written as `JSON.stringify` writes it and refused
    /// like `NodeInput.meta`; `null` clears it; `not_found` when missing).
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

    /// Updates only the fields given in `fields` (see `NodeUpdate`), keeping the others and the
    /// embedding, with its history row (the whole row before and after); `not_found` when missing.
    #[napi(catch_unwind, strict)]
    pub fn update_node(&self, id: String, fields: NodeUpdate) -> Result<()> {
        let update = fields.to_core();
        guard(|| self.inner.update_node(&id, &update))
    }

    /// Merges a JSON merge patch (RFC 7386) into a node's metadata: an object's keys are set (a
    /// `null` value removes its key, nested objects merge); any other value replaces the metadata,
    /// `null` clears it. The patch is written as `JSON.stringify` writes it and refused like
    /// `NodeInput.meta`; `not_found` when the node is missing.
    #[napi(catch_unwind)]
    pub fn merge_meta(
        &self,
        id: String,
        #[napi(ts_arg_type = "unknown")] patch: serde_json::Value,
    ) -> Result<()> {
        let text = patch.to_string();
        guard(|| self.inner.merge_meta(&id, &text))
    }

    /// `mergeMeta` with the patch as raw JSON text (validated).
    #[napi(catch_unwind)]
    pub fn merge_meta_json(&self, id: String, patch_json: String) -> Result<()> {
        guard(|| self.inner.merge_meta(&id, &patch_json))
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

    /// Counts and sizes, off the event loop. Counting reads every table (about a second for 100k
    /// nodes and 1M edges): prefer this form to `statsSync()` on a database of any size.
    #[napi(catch_unwind)]
    pub fn stats(&self) -> AsyncTask<StatsTask> {
        AsyncTask::new(StatsTask(self.task(
            "stats",
            Some("statsSync"),
            move |db| db.stats(),
        )))
    }

    /// Counts and sizes, on the calling thread: it blocks the event loop while it reads every
    /// table (about a second for 100k nodes and 1M edges), so use it on small databases, inside a
    /// transaction, or in scripts; use `await stats()` elsewhere.
    #[napi(catch_unwind)]
    pub fn stats_sync(&self) -> Result<Stats> {
        guard(|| self.inner.stats()).map(Stats::from)
    }

    /// Records a snapshot of `stats()` in the stats history, off the event loop (docs/stats.md).
    #[napi(catch_unwind, strict)]
    pub fn record_stats(
        &self,
        options: Option<RecordStatsOptions>,
    ) -> Result<AsyncTask<StatsSnapshotTask>> {
        let o = options.unwrap_or_default().to_core()?;
        Ok(AsyncTask::new(StatsSnapshotTask(self.task(
            "recordStats",
            Some("recordStatsSync"),
            move |db| db.record_stats(&o),
        ))))
    }

    /// Records a snapshot on the calling thread (it counts every table, like `statsSync()`).
    #[napi(catch_unwind, strict)]
    pub fn record_stats_sync(&self, options: Option<RecordStatsOptions>) -> Result<StatsSnapshot> {
        let o = options.unwrap_or_default().to_core()?;
        guard(|| self.inner.record_stats(&o)).map(StatsSnapshot::from)
    }

    /// The newest `limit` snapshots, newest first (default: as many as the engine keeps).
    #[napi(catch_unwind)]
    pub fn stats_history(&self, limit: Option<f64>) -> Result<Vec<StatsSnapshot>> {
        let limit = args::opt_u32(limit, "limit")?
            .map_or(resonance::stats_history::DEFAULT_STATS_KEEP as usize, |l| {
                l as usize
            });
        guard(|| self.inner.stats_history(limit))
            .map(|v| v.into_iter().map(StatsSnapshot::from).collect())
    }

    /// Judges the newest snapshot against the one before, off the event loop (docs/stats.md).
    #[napi(catch_unwind, strict)]
    pub fn validate_stats(
        &self,
        options: Option<ValidateStatsOptions>,
    ) -> AsyncTask<StatsValidationTask> {
        let o = options.unwrap_or_default().to_core();
        AsyncTask::new(StatsValidationTask(self.task(
            "validateStats",
            Some("validateStatsSync"),
            move |db| db.validate_stats(&o),
        )))
    }

    /// Judges the newest snapshot on the calling thread.
    #[napi(catch_unwind, strict)]
    pub fn validate_stats_sync(
        &self,
        options: Option<ValidateStatsOptions>,
    ) -> Result<StatsValidation> {
        let o = options.unwrap_or_default().to_core();
        guard(|| self.inner.validate_stats(&o)).map(StatsValidation::from)
    }

    // ---- vectors ----------------------------------------------------------------------------

    /// Stores a node's embedding (validated, normalised; `not_found` when the node is missing).
    #[napi(catch_unwind, strict)]
    pub fn set_embedding(&self, id: String, vector: Either<Float32Array, Vec<f64>>) -> Result<()> {
        let v = args::vector(&vector);
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
        let q = args::vector(&vector);
        let o = SearchOptions::to_core(options.as_ref())?;
        Ok(AsyncTask::new(SearchTask(self.task(
            "search",
            Some("searchSync"),
            move |db| db.search(&q, &o),
        ))))
    }

    /// Exact top-k by dot product, on the calling thread.
    #[napi(catch_unwind, strict)]
    pub fn search_sync(
        &self,
        vector: Either<Float32Array, Vec<f64>>,
        options: Option<SearchOptions>,
    ) -> Result<Vec<Hit>> {
        let q = args::vector(&vector);
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
        Ok(AsyncTask::new(SearchTask(self.task(
            "searchLike",
            None,
            move |db| db.search_like(&id, &o),
        ))))
    }

    /// Many queries at once, off the event loop; per query the ids and a `Float32Array` of scores.
    #[napi(catch_unwind, strict)]
    pub fn search_batch(
        &self,
        queries: Vec<Either<Float32Array, Vec<f64>>>,
        options: Option<SearchOptions>,
    ) -> Result<AsyncTask<SearchBatchTask>> {
        let n = queries.len();
        let flat = guard_js(|| inputs::flatten(&queries))?;
        let o = SearchOptions::to_core(options.as_ref())?;
        Ok(AsyncTask::new(SearchBatchTask(self.task(
            "searchBatch",
            None,
            move |db| db.search_batch(&flat, n, &o),
        ))))
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
            memory: i.memory.to_string(),
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

    /// BFS from `start` (included), up to `maxDepth` hops (left out: no limit), along out-edges
    /// unless `direction` (`"outgoing"`, the default; `"incoming"`; `"both"`) says otherwise.
    #[napi(catch_unwind, strict)]
    pub fn traverse(
        &self,
        start: String,
        max_depth: Option<f64>,
        direction: Option<String>,
    ) -> Result<Vec<String>> {
        let mut o = resonance::TraverseOptions::default();
        if let Some(d) = opt_whole_number(max_depth, "maxDepth", MAX_SAFE)? {
            o.max_depth = d as usize;
        }
        if let Some(d) = direction {
            o.direction = d.parse().map_err(to_js)?;
        }
        guard(|| self.inner.traverse(&start, &o))
    }

    /// Unweighted shortest path (`null` when unreachable), along edge direction unless `direction`
    /// (`"outgoing"`, the default; `"incoming"`; `"both"`) says otherwise.
    #[napi(catch_unwind)]
    pub fn shortest_path(
        &self,
        source: String,
        target: String,
        direction: Option<String>,
    ) -> Result<Option<Vec<String>>> {
        let mut o = resonance::PathOptions::default();
        if let Some(d) = direction {
            o.direction = d.parse().map_err(to_js)?;
        }
        guard(|| self.inner.shortest_path(&source, &target, &o))
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
        let p = options.unwrap_or_default().to_core()?;
        Ok(AsyncTask::new(ScoresTask(self.task(
            "pagerank",
            None,
            move |db| db.pagerank(&p),
        ))))
    }

    /// Betweenness centrality (node id → score; exact, or sampled with `sample` pivots), off the
    /// event loop.
    #[napi(catch_unwind, strict)]
    pub fn betweenness(
        &self,
        options: Option<BetweennessOptions>,
    ) -> Result<AsyncTask<ScoresTask>> {
        let b = options.unwrap_or_default().to_core()?;
        Ok(AsyncTask::new(ScoresTask(self.task(
            "betweenness",
            None,
            move |db| db.betweenness(&b),
        ))))
    }

    /// Louvain communities (deterministic per seed) and their modularity, off the event loop.
    #[napi(catch_unwind, strict)]
    pub fn communities(
        &self,
        options: Option<CommunityOptions>,
    ) -> Result<AsyncTask<CommunitiesTask>> {
        let c = options.unwrap_or_default().to_core()?;
        Ok(AsyncTask::new(CommunitiesTask(self.task(
            "communities",
            None,
            move |db| db.communities(&c),
        ))))
    }

    /// Weakly connected components, largest first, off the event loop.
    #[napi(catch_unwind)]
    pub fn components(&self, _options: Option<CallOptions>) -> AsyncTask<ComponentsTask> {
        AsyncTask::new(ComponentsTask(
            self.task("components", None, move |db| db.components()),
        ))
    }

    /// Two-hop non-adjacent pairs ranked by Adamic-Adar, off the event loop.
    #[napi(catch_unwind, strict)]
    pub fn link_candidates(
        &self,
        limit: Option<f64>,
        _options: Option<CallOptions>,
    ) -> Result<AsyncTask<LinkCandidatesTask>> {
        let mut o = resonance::LinkCandidateOptions::default();
        if let Some(l) = opt_whole_number(limit, "limit", MAX_SAFE)? {
            o.limit = l as usize;
        }
        Ok(AsyncTask::new(LinkCandidatesTask(self.task(
            "linkCandidates",
            None,
            move |db| db.link_candidates(&o),
        ))))
    }

    /// The top PageRank nodes with their degree, off the event loop.
    #[napi(catch_unwind, strict)]
    pub fn pillars(
        &self,
        limit: Option<f64>,
        _options: Option<CallOptions>,
    ) -> Result<AsyncTask<PillarsTask>> {
        let mut o = resonance::PillarOptions::default();
        if let Some(l) = opt_whole_number(limit, "limit", MAX_SAFE)? {
            o.limit = l as usize;
        }
        Ok(AsyncTask::new(PillarsTask(self.task(
            "pillars",
            None,
            move |db| db.pillars(&o),
        ))))
    }

    // ---- application SQL (docs/sql.md) ------------------------------------------------------

    /// Compiles `sql` (one statement) under the authorizer, so an error is thrown now, and returns
    /// the addon's half of a statement; the package entry's `prepare` wraps it as a `Statement`.
    /// Internal.
    #[napi(catch_unwind, js_name = "_prepare", skip_typescript)]
    pub fn prepare(&self, sql: String) -> Result<sql::NativeStatement> {
        sql::NativeStatement::prepare(
            sql::Handle {
                inner: self.inner.clone(),
                pending: self.pending.clone(),
                tx_open: self.tx_open.clone(),
            },
            sql,
        )
    }

    /// Runs a script of several statements (no parameters) as one unit: in its own transaction,
    /// or, inside the handle's transaction, as a savepoint (a failing statement undoes the script).
    /// Returns the handle (the package entry returns `this`).
    #[napi(catch_unwind, ts_return_type = "this")]
    pub fn exec(&self, script: String) -> Result<()> {
        guard(|| self.inner.execute_batch(&script))
    }

    /// Applies (or, with `dryRun`, plans) the application migrations of `namespace`, given as a
    /// list of steps or a directory of `NNNN_name.sql` files, off the event loop (docs/sql.md).
    #[napi(catch_unwind, strict)]
    pub fn migrate_app(
        &self,
        namespace: String,
        #[napi(ts_arg_type = "string | AppMigrationInput[]")] steps: sql::StepsOrDir,
        options: Option<sql::AppMigrateOptions>,
    ) -> Result<AsyncTask<AppMigrateTask>> {
        let o = options.unwrap_or_default().to_core()?;
        let dir = match &steps {
            Either::A(dir) => Some(dir.clone()),
            Either::B(_) => None,
        };
        let list = match dir {
            Some(_) => Vec::new(),
            None => sql::steps(&steps)?,
        };
        Ok(AsyncTask::new(AppMigrateTask(self.task(
            "migrateApp",
            None,
            move |db| {
                let steps = match dir {
                    Some(d) => resonance::app_migrate::load_dir(std::path::Path::new(&d))?,
                    None => list,
                };
                db.migrate_app(&namespace, &steps, &o)
            },
        ))))
    }

    /// `migrateApp` on the calling thread (what a synchronous migrator needs: the Drizzle
    /// driver's `migrate`); it blocks the event loop while the steps run.
    #[napi(catch_unwind, strict)]
    pub fn migrate_app_sync(
        &self,
        namespace: String,
        #[napi(ts_arg_type = "string | AppMigrationInput[]")] steps: sql::StepsOrDir,
        options: Option<sql::AppMigrateOptions>,
    ) -> Result<sql::AppMigrationReport> {
        let o = options.unwrap_or_default().to_core()?;
        let steps = sql::steps(&steps)?;
        guard(|| self.inner.migrate_app(&namespace, &steps, &o)).map(Into::into)
    }

    /// The applied steps of `namespace` (from the ledger) and which of `steps` (a list, or a
    /// directory) are pending.
    #[napi(catch_unwind, strict)]
    pub fn app_migration_status(
        &self,
        namespace: String,
        #[napi(ts_arg_type = "string | AppMigrationInput[]")] steps: sql::StepsOrDir,
    ) -> Result<sql::AppMigrationStatus> {
        let steps = sql::steps(&steps)?;
        guard(|| self.inner.app_migration_status(&namespace, &steps)).map(Into::into)
    }

    // ---- maintenance ------------------------------------------------------------------------

    /// The health report (docs/connections.md), off the event loop.
    #[napi(catch_unwind)]
    pub fn health(&self) -> AsyncTask<HealthTask> {
        AsyncTask::new(HealthTask(self.task("health", None, move |db| db.health())))
    }

    /// Plans (`dryRun`) or applies migrations explicitly, off the event loop.
    #[napi(catch_unwind, strict)]
    pub fn migrate(&self, options: Option<MigrateOptions>) -> Result<AsyncTask<MigrateTask>> {
        let o = options.unwrap_or_default().to_core()?;
        Ok(AsyncTask::new(MigrateTask(self.task(
            "migrate",
            None,
            move |db| db.migrate(&o),
        ))))
    }

    /// Online backup to `dest`, or into `backups/` beside the database; resolves to the path.
    #[napi(catch_unwind)]
    pub fn backup(
        &self,
        dest: Option<String>,
        _options: Option<CallOptions>,
    ) -> AsyncTask<StringTask> {
        AsyncTask::new(StringTask(self.task("backup", None, move |db| {
            db.backup(dest.as_deref().map(std::path::Path::new))
                .map(|p| p.display().to_string())
        })))
    }

    /// `PRAGMA wal_checkpoint(mode)`: `passive` (default), `full`, `restart` or `truncate`.
    #[napi(catch_unwind)]
    pub fn checkpoint(&self, mode: Option<String>) -> Result<Checkpoint> {
        let mode = match mode {
            Some(m) => m.parse().map_err(to_js)?,
            None => resonance::CheckpointMode::default(),
        };
        guard(|| self.inner.checkpoint(mode)).map(|c| Checkpoint {
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
        AsyncTask::new(UnitTask(self.task("vacuum", None, move |db| db.vacuum())))
    }
}

/// The core handle is shared between the event loop and the libuv pool's threads.
const _: fn() = || {
    fn is<T: Send + Sync>() {}
    is::<Core>();
};

/// A node read with its embedding when asked (`with_embedding` left out: the core's `get_node`).
fn read_node(
    db: &Core,
    id: &str,
    with_embedding: Option<bool>,
) -> resonance::Result<Option<resonance::Node>> {
    match with_embedding {
        Some(with) => db.get_node_with(id, with),
        None => db.get_node(id),
    }
}

/// How to read one text field of a node.
type ReadField = fn(&resonance::Node) -> Option<&str>;

/// The text fields of a node as `getNodePackedSync` packs them, in order: the JS property name and
/// how to read the field. `resonance.js` reads the names (and the header layout) once at load from
/// `_packedNodeLayout`, so the two sides cannot disagree on the fields or their order.
static PACKED_NODE_FIELDS: [(&str, ReadField); 9] = [
    ("id", |n| Some(n.id.as_str())),
    ("type", |n| n.node_type.as_deref()),
    ("title", |n| n.title.as_deref()),
    ("domain", |n| n.domain.as_deref()),
    ("layer", |n| n.layer.as_deref()),
    ("hash", |n| n.hash.as_deref()),
    ("summary", |n| n.summary.as_deref()),
    ("meta", |n| n.meta.as_deref()),
    ("date", |n| n.date.as_deref()),
];
/// Characters of a packed field's length in the header.
const PACKED_HEADER_WIDTH: u32 = 5;
/// Bits of the length each header character holds (as `'0'` plus the bits).
const PACKED_BITS_PER_CHAR: u32 = 6;

/// The layout `pack_fields` writes, read once by the package entry at load (its `unpackNode` reads
/// packed nodes by it): `{ fields, headerWidth, bitsPerChar }`, the field names in packing order.
/// Internal.
#[napi(catch_unwind, js_name = "_packedNodeLayout", skip_typescript)]
pub fn packed_node_layout() -> serde_json::Value {
    let fields: Vec<&str> = PACKED_NODE_FIELDS.iter().map(|(name, _)| *name).collect();
    serde_json::json!({
        "fields": fields,
        "headerWidth": PACKED_HEADER_WIDTH,
        "bitsPerChar": PACKED_BITS_PER_CHAR,
    })
}

/// Packs optional strings into one: a header of [`PACKED_HEADER_WIDTH`] ASCII characters per field
/// (`'0'` plus [`PACKED_BITS_PER_CHAR`] bits each, most significant first) holding the field's length
/// in UTF-16 code units plus one (0: absent), then the present fields back to back. `unpackNode` in
/// `resonance.js` reads it. SQLite's longest string (10^9 bytes) fits the 30 bits.
fn pack_fields<const N: usize>(fields: [Option<&str>; N]) -> String {
    let width = PACKED_HEADER_WIDTH as usize;
    let text: usize = fields.iter().flatten().map(|f| f.len()).sum();
    let mut out = String::with_capacity(N * width + text);
    let mask = (1u32 << PACKED_BITS_PER_CHAR) - 1;
    for f in &fields {
        let v = f.map_or(0, |t| t.encode_utf16().count() as u32 + 1);
        for i in (0..PACKED_HEADER_WIDTH).rev() {
            out.push(char::from(
                b'0' + ((v >> (i * PACKED_BITS_PER_CHAR)) & mask) as u8,
            ));
        }
    }
    for f in fields.iter().flatten() {
        out.push_str(f);
    }
    out
}
