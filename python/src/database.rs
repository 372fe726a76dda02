//! `resonance.Database`: a frozen class over `Arc<resonance::Database>` (which is `Send + Sync` with
//! its own lock), so no Rust borrow is ever held across a GIL release and `close()` is safe while
//! another thread is inside a call (that call finishes, or fails with `ClosedError`).
//!
//! After `fork()` the child's copy of a handle refuses every call (`ClosedError`, the core's rule) and
//! never touches the inherited SQLite connection, not even when it is dropped.

use std::path::PathBuf;
use std::sync::Arc;

use numpy::{IntoPyArray, PyArray1, PyArray2};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple, PyType};
use resonance::{
    BetweennessOptions, CheckpointMode, CommunityOptions, EdgeInput, ErrorKind,
    LinkCandidateOptions, ListOptions, MigrateOptions, NodeInput, NodeUpdate, PageRankOptions,
    PathOptions, PillarOptions, TraverseOptions,
};

use crate::args;
use crate::convert::{matrix, meta_arg, vector};
use crate::errors::{invalid, new_err};
use crate::inputs::{
    edge_from_obj, node_from_dict, parse_direction, search_options, str_value, NODE_KEYS,
};
use crate::types::{self, Edge, HistoryEntry, Node};
use crate::{run, run_long_on};

/// An open Resonance database (see `resonance.open`). Thread-safe: share one handle between threads.
#[pyclass(frozen, module = "resonance", name = "Database")]
pub struct Database {
    db: Arc<resonance::Database>,
}

impl Database {
    /// Wraps an opened engine handle.
    pub fn new(db: resonance::Database) -> Database {
        Database { db: Arc::new(db) }
    }
}

#[pymethods]
impl Database {
    /// The database path.
    #[getter]
    fn path(&self) -> PathBuf {
        self.db.path().to_path_buf()
    }

    /// Whether this is a read-only handle.
    #[getter]
    fn read_only(&self) -> bool {
        self.db.is_read_only()
    }

    /// Whether `close()` was called.
    #[getter]
    fn closed(&self) -> bool {
        self.db.is_closed()
    }

    /// Whether an explicit transaction is open.
    #[getter]
    fn in_transaction(&self) -> bool {
        self.db.in_transaction()
    }

    /// Warnings from opening (a newer application, pending steps, a stray table…).
    #[getter]
    fn warnings(&self) -> Vec<String> {
        self.db.warnings().to_vec()
    }

    fn __repr__(&self) -> String {
        format!(
            "<resonance.Database {:?}{}{}>",
            self.db.path().display().to_string(),
            if self.db.is_read_only() {
                " read-only"
            } else {
                ""
            },
            if self.db.is_closed() { " closed" } else { "" }
        )
    }

    // ---- life cycle -------------------------------------------------------------------------

    /// Closes the handle (idempotent). A call running on another thread finishes first; later calls
    /// raise `ClosedError`.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        let db = &*self.db;
        run(py, || db.close())
    }

    /// Stops whatever runs on this handle now, from any thread (it does not wait for the call it
    /// stops, nor for the GIL to be given up by it): the stopped call raises `InterruptedError` and a
    /// write it was making is rolled back. The handle stays usable: a call that begins after
    /// `interrupt()` returns runs normally. A no-op when nothing runs or once closed.
    fn interrupt(&self) -> PyResult<()> {
        self.db.interrupt();
        Ok(())
    }

    /// `with db:` — raises `ClosedError` on a closed handle (the block would fail at its first call).
    fn __enter__(slf: Py<Self>) -> PyResult<Py<Self>> {
        if slf.get().db.is_closed() {
            return Err(crate::errors::to_py(
                resonance::Error::Closed(String::new()),
            ));
        }
        Ok(slf)
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&self, py: Python<'_>, _args: &Bound<'_, PyTuple>) -> PyResult<bool> {
        self.close(py)?;
        Ok(false)
    }

    /// Begins an explicit `BEGIN IMMEDIATE` transaction (prefer `with db.transaction():`).
    fn begin(&self, py: Python<'_>) -> PyResult<()> {
        let db = &*self.db;
        run(py, || db.begin())
    }

    /// Commits the explicit transaction.
    fn commit(&self, py: Python<'_>) -> PyResult<()> {
        let db = &*self.db;
        run(py, || db.commit())
    }

    /// Rolls the explicit transaction back.
    fn rollback(&self, py: Python<'_>) -> PyResult<()> {
        let db = &*self.db;
        run(py, || db.rollback())
    }

    /// A context manager: `with db.transaction():` begins, then commits, or rolls back on an
    /// exception. Writes from this thread join it; other threads wait.
    fn transaction(slf: Py<Self>) -> Transaction {
        Transaction { db: slf }
    }

    // ---- application SQL (python/src/sql.rs) --------------------------------------------------

    /// Runs one statement with `params` (a tuple/list by position, a dict by name) and returns an
    /// `ExecuteResult` (`rowcount`, `lastrowid`). What the engine refuses raises
    /// `InvalidArgumentError`; a write on a read-only handle `ReadonlyError`.
    #[pyo3(signature = (sql, params=None))]
    fn execute(
        &self,
        py: Python<'_>,
        #[pyo3(from_py_with = args::string)] sql: String,
        params: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<crate::sql::ExecuteResult> {
        crate::sql::execute(py, &self.db, &sql, params)
    }

    /// Runs one statement once per parameter set of `seq_of_params`, in one transaction.
    fn executemany(
        &self,
        py: Python<'_>,
        #[pyo3(from_py_with = args::string)] sql: String,
        seq_of_params: &Bound<'_, PyAny>,
    ) -> PyResult<crate::sql::ExecuteResult> {
        crate::sql::executemany(py, &self.db, &sql, seq_of_params)
    }

    /// Runs a script of statements (no parameters) as one unit.
    fn executescript(
        &self,
        py: Python<'_>,
        #[pyo3(from_py_with = args::string)] script: String,
    ) -> PyResult<()> {
        crate::sql::executescript(py, &self.db, &script)
    }

    /// Runs one statement and returns its rows (a list of `Row`).
    #[pyo3(signature = (sql, params=None))]
    fn query(
        &self,
        py: Python<'_>,
        #[pyo3(from_py_with = args::string)] sql: String,
        params: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Vec<crate::sql::Row>> {
        crate::sql::query(py, &self.db, &sql, params)
    }

    /// Runs one statement and returns its first row (a `Row`), or `None`.
    #[pyo3(signature = (sql, params=None))]
    fn query_one(
        &self,
        py: Python<'_>,
        #[pyo3(from_py_with = args::string)] sql: String,
        params: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Option<crate::sql::Row>> {
        crate::sql::query_one(py, &self.db, &sql, params)
    }

    // ---- nodes ------------------------------------------------------------------------------

    /// Writes a node (the whole row: arguments not given become NULL; `domain`/`layer` default).
    #[pyo3(signature = (id, *, r#type=None, title=None, domain=None, layer=None, hash=None, summary=None, meta=None, date=None, embedding=None))]
    fn upsert_node(
        &self,
        py: Python<'_>,
        #[pyo3(from_py_with = args::string)] id: String,
        #[pyo3(from_py_with = args::opt_string)] r#type: Option<String>,
        #[pyo3(from_py_with = args::opt_string)] title: Option<String>,
        #[pyo3(from_py_with = args::opt_string)] domain: Option<String>,
        #[pyo3(from_py_with = args::opt_string)] layer: Option<String>,
        #[pyo3(from_py_with = args::opt_string)] hash: Option<String>,
        #[pyo3(from_py_with = args::opt_string)] summary: Option<String>,
        meta: Option<&Bound<'_, PyAny>>,
        #[pyo3(from_py_with = args::opt_string)] date: Option<String>,
        embedding: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        let db = &*self.db;
        let embedding = match embedding {
            Some(e) if !e.is_none() => Some(vector(e, "embedding")?.as_slice().to_vec()),
            _ => None,
        };
        let node = NodeInput {
            id,
            node_type: r#type,
            title,
            domain,
            layer,
            hash,
            summary,
            meta: meta_arg(meta)?,
            date,
            embedding,
        };
        run(py, || db.upsert_node(&node))
    }

    /// Writes many nodes in one transaction (all or nothing); returns how many. `nodes` is a list of
    /// dicts with the keys of `upsert_node`; `embeddings`, when given, is a 2-D float32 array (or a
    /// list of lists) whose row `i` is node `i`'s embedding.
    #[pyo3(signature = (nodes, embeddings=None))]
    fn upsert_nodes(
        &self,
        py: Python<'_>,
        nodes: &Bound<'_, PyAny>,
        embeddings: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<usize> {
        let db = &*self.db;
        let items: Vec<Bound<'_, PyAny>> = nodes
            .extract()
            .map_err(|_| invalid("nodes must be a list of dicts"))?;
        let mut inputs = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let d = item
                .cast::<PyDict>()
                .map_err(|_| invalid(format!("nodes[{i}] must be a dict")))?;
            inputs.push(node_from_dict(d, &format!("nodes[{i}]"))?);
        }
        if let Some(e) = embeddings.filter(|e| !e.is_none()) {
            let m = matrix(e, "embeddings")?;
            if m.rows != inputs.len() {
                return Err(invalid(format!(
                    "embeddings has {} rows for {} nodes",
                    m.rows,
                    inputs.len()
                )));
            }
            let data = m.data.as_slice();
            for (i, node) in inputs.iter_mut().enumerate() {
                if node.embedding.is_some() {
                    return Err(invalid(format!(
                        "nodes[{i}] has an embedding and embeddings was given too"
                    )));
                }
                node.embedding = Some(data[i * m.cols..(i + 1) * m.cols].to_vec());
            }
        }
        run_long_on(py, db, || db.upsert_nodes(&inputs))
    }

    /// Reads a node (`None` when there is none), with its embedding when `with_embedding` (left out:
    /// the core's `get_node`, without).
    #[pyo3(signature = (id, *, with_embedding=None))]
    fn get_node(
        &self,
        py: Python<'_>,
        #[pyo3(from_py_with = args::string)] id: String,
        #[pyo3(from_py_with = args::opt_boolean)] with_embedding: Option<bool>,
    ) -> PyResult<Option<Node>> {
        let db = &*self.db;
        let n = run(py, || match with_embedding {
            Some(with) => db.get_node_with(&id, with),
            None => db.get_node(&id),
        })?;
        Ok(n.map(|n| Node::new(py, n)))
    }

    /// Lists nodes in id order, filtered by domain and type, paged by `limit`/`offset`.
    /// An option left out (or `None`) is the core's default (`ListOptions::default()`).
    #[pyo3(signature = (*, domain=None, r#type=None, limit=None, offset=None, with_embeddings=None))]
    fn list_nodes(
        &self,
        py: Python<'_>,
        #[pyo3(from_py_with = args::opt_string)] domain: Option<String>,
        #[pyo3(from_py_with = args::opt_string)] r#type: Option<String>,
        #[pyo3(from_py_with = args::opt_count)] limit: Option<usize>,
        #[pyo3(from_py_with = args::opt_count)] offset: Option<usize>,
        #[pyo3(from_py_with = args::opt_boolean)] with_embeddings: Option<bool>,
    ) -> PyResult<Vec<Node>> {
        let db = &*self.db;
        let d = ListOptions::default();
        let opts = ListOptions {
            domain,
            node_type: r#type,
            limit,
            offset: offset.unwrap_or(d.offset),
            with_embeddings: with_embeddings.unwrap_or(d.with_embeddings),
        };
        let v = run(py, || db.list_nodes(&opts))?;
        Ok(v.into_iter().map(|n| Node::new(py, n)).collect())
    }

    /// Deletes a node with its edges and vector (`NotFoundError` when missing).
    fn delete_node(
        &self,
        py: Python<'_>,
        #[pyo3(from_py_with = args::string)] id: String,
    ) -> PyResult<()> {
        let db = &*self.db;
        run(py, || db.delete_node(&id))
    }

    /// Updates only the fields given as keyword arguments (`type`, `title`, `domain`, `layer`,
    /// `hash`, `summary`, `meta`, `date`, `embedding`), keeping the others and the embedding; `None`
    /// clears a field (`domain`/`layer` back to their defaults, `embedding=None` removes the vector).
    /// `NotFoundError` when the node is missing.
    #[pyo3(signature = (id, **fields))]
    fn update_node(
        &self,
        py: Python<'_>,
        #[pyo3(from_py_with = args::string)] id: String,
        fields: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<()> {
        let db = &*self.db;
        let mut update = NodeUpdate::default();
        for (k, v) in fields.into_iter().flat_map(|d| d.iter()) {
            let key: String = k.extract()?;
            let text = |v: &Bound<'_, PyAny>| str_value(v, &key, "update_node");
            match key.as_str() {
                "type" => update.node_type = Some(text(&v)?),
                "title" => update.title = Some(text(&v)?),
                "domain" => update.domain = Some(text(&v)?),
                "layer" => update.layer = Some(text(&v)?),
                "hash" => update.hash = Some(text(&v)?),
                "summary" => update.summary = Some(text(&v)?),
                "date" => update.date = Some(text(&v)?),
                "meta" => update.meta = Some(meta_arg(Some(&v))?),
                "embedding" => {
                    update.embedding = Some(if v.is_none() {
                        None
                    } else {
                        Some(vector(&v, "embedding")?.as_slice().to_vec())
                    })
                }
                _ => {
                    return Err(invalid(format!(
                        "update_node: unknown field {key:?} (allowed: {})",
                        NODE_KEYS[1..].join(", ")
                    )))
                }
            }
        }
        run(py, || db.update_node(&id, &update))
    }

    /// Merges a JSON merge patch (RFC 7386: a dict, any JSON value, or JSON text) into a node's
    /// `meta`: keys set, a `None` value removes its key, nested dicts merge; a patch that is not a
    /// dict replaces the meta. `NotFoundError` when the node is missing.
    fn merge_meta(
        &self,
        py: Python<'_>,
        #[pyo3(from_py_with = args::string)] id: String,
        patch: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let db = &*self.db;
        let patch = meta_arg(Some(patch))?.unwrap_or_else(|| "null".to_string());
        run(py, || db.merge_meta(&id, &patch))
    }

    /// Replaces a node's `meta` (a dict, any JSON value, JSON text, or None).
    fn update_meta(
        &self,
        py: Python<'_>,
        #[pyo3(from_py_with = args::string)] id: String,
        meta: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        let db = &*self.db;
        let meta = meta_arg(meta)?;
        run(py, || db.update_meta(&id, meta.as_deref()))
    }

    /// The history of an entity (a node id, or `source|type|target` for an edge), oldest first.
    fn history(
        &self,
        py: Python<'_>,
        #[pyo3(from_py_with = args::string)] entity_id: String,
    ) -> PyResult<Vec<HistoryEntry>> {
        let db = &*self.db;
        let v = run(py, || db.history(&entity_id))?;
        v.into_iter().map(|h| HistoryEntry::new(py, h)).collect()
    }

    /// Deletes history rows older than `older_than_days` days or beyond the newest `keep_last`;
    /// returns how many.
    #[pyo3(signature = (*, older_than_days=None, keep_last=None))]
    fn prune_history(
        &self,
        py: Python<'_>,
        #[pyo3(from_py_with = args::opt_u32)] older_than_days: Option<u32>,
        #[pyo3(from_py_with = args::opt_u64)] keep_last: Option<u64>,
    ) -> PyResult<usize> {
        let db = &*self.db;
        run(py, || db.prune_history(older_than_days, keep_last))
    }

    /// Counts and sizes.
    fn stats(&self, py: Python<'_>) -> PyResult<types::Stats> {
        let db = &*self.db;
        let s = run(py, || db.stats())?;
        types::stats(py, &s)
    }

    /// Records a snapshot of `stats()` in the stats history with an optional label and JSON meta
    /// (a str of JSON, or anything `json.dumps` takes), keeping the newest `keep` (None: the
    /// engine's default); returns it (docs/stats.md).
    #[pyo3(signature = (label=None, meta=None, *, keep=None))]
    fn record_stats(
        &self,
        py: Python<'_>,
        #[pyo3(from_py_with = args::opt_string)] label: Option<String>,
        meta: Option<&Bound<'_, PyAny>>,
        #[pyo3(from_py_with = args::opt_u32)] keep: Option<u32>,
    ) -> PyResult<types::StatsSnapshot> {
        let db = &*self.db;
        let d = resonance::RecordStatsOptions::default();
        let opts = resonance::RecordStatsOptions {
            label,
            meta: crate::convert::meta_arg(meta)?,
            keep: keep.unwrap_or(d.keep),
        };
        let s = run(py, || db.record_stats(&opts))?;
        types::stats_snapshot(py, &s)
    }

    /// The newest `limit` snapshots of the stats history, newest first (None: as many as the
    /// engine keeps by default).
    #[pyo3(signature = (limit=None))]
    fn stats_history(
        &self,
        py: Python<'_>,
        #[pyo3(from_py_with = args::opt_count)] limit: Option<usize>,
    ) -> PyResult<Vec<types::StatsSnapshot>> {
        let db = &*self.db;
        let limit = limit.unwrap_or(resonance::stats_history::DEFAULT_STATS_KEEP as usize);
        let h = run(py, || db.stats_history(limit))?;
        h.iter().map(|s| types::stats_snapshot(py, s)).collect()
    }

    /// Judges the newest snapshot against the one before (docs/stats.md); a threshold left None
    /// is the engine's default.
    #[pyo3(signature = (*, min_edge_density=None, min_embedding_coverage=None, max_shrink_ratio=None, warn_no_growth=None))]
    fn validate_stats(
        &self,
        py: Python<'_>,
        #[pyo3(from_py_with = args::opt_float)] min_edge_density: Option<f64>,
        #[pyo3(from_py_with = args::opt_float)] min_embedding_coverage: Option<f64>,
        #[pyo3(from_py_with = args::opt_float)] max_shrink_ratio: Option<f64>,
        #[pyo3(from_py_with = args::opt_boolean)] warn_no_growth: Option<bool>,
    ) -> PyResult<types::StatsValidation> {
        let db = &*self.db;
        let d = resonance::StatsValidationOptions::default();
        let opts = resonance::StatsValidationOptions {
            min_edge_density: min_edge_density.unwrap_or(d.min_edge_density),
            min_embedding_coverage: min_embedding_coverage.unwrap_or(d.min_embedding_coverage),
            max_shrink_ratio: max_shrink_ratio.unwrap_or(d.max_shrink_ratio),
            warn_no_growth: warn_no_growth.unwrap_or(d.warn_no_growth),
        };
        let v = run(py, || db.validate_stats(&opts))?;
        types::stats_validation(py, &v)
    }

    // ---- edges ------------------------------------------------------------------------------

    /// Adds an edge, or ignores it when `(source, target, type)` exists; returns whether it was added.
    #[pyo3(signature = (source, target, r#type=None, *, confidence=None, veracity=None, context_source=None))]
    fn add_edge(
        &self,
        py: Python<'_>,
        #[pyo3(from_py_with = args::string)] source: String,
        #[pyo3(from_py_with = args::string)] target: String,
        #[pyo3(from_py_with = args::opt_string)] r#type: Option<String>,
        #[pyo3(from_py_with = args::opt_float)] confidence: Option<f64>,
        #[pyo3(from_py_with = args::opt_float)] veracity: Option<f64>,
        #[pyo3(from_py_with = args::opt_string)] context_source: Option<String>,
    ) -> PyResult<bool> {
        let db = &*self.db;
        let e = EdgeInput {
            source,
            target,
            edge_type: r#type,
            confidence,
            veracity,
            context_source,
        };
        run(py, || db.add_edge(&e))
    }

    /// Adds many edges (dicts, or `(source, target[, type])` tuples) in one transaction; returns how
    /// many were new.
    fn add_edges(&self, py: Python<'_>, edges: &Bound<'_, PyAny>) -> PyResult<usize> {
        let db = &*self.db;
        let items: Vec<Bound<'_, PyAny>> = edges
            .extract()
            .map_err(|_| invalid("edges must be a list of dicts or tuples"))?;
        let inputs = items
            .iter()
            .enumerate()
            .map(|(i, o)| edge_from_obj(o, &format!("edges[{i}]")))
            .collect::<PyResult<Vec<_>>>()?;
        run_long_on(py, db, || db.add_edges(&inputs))
    }

    /// Adds an edge or, when it exists, sets its confidence, veracity and context source.
    #[pyo3(signature = (source, target, r#type=None, *, confidence=None, veracity=None, context_source=None))]
    fn upsert_edge(
        &self,
        py: Python<'_>,
        #[pyo3(from_py_with = args::string)] source: String,
        #[pyo3(from_py_with = args::string)] target: String,
        #[pyo3(from_py_with = args::opt_string)] r#type: Option<String>,
        #[pyo3(from_py_with = args::opt_float)] confidence: Option<f64>,
        #[pyo3(from_py_with = args::opt_float)] veracity: Option<f64>,
        #[pyo3(from_py_with = args::opt_string)] context_source: Option<String>,
    ) -> PyResult<()> {
        let db = &*self.db;
        let e = EdgeInput {
            source,
            target,
            edge_type: r#type,
            confidence,
            veracity,
            context_source,
        };
        run(py, || db.upsert_edge(&e))
    }

    /// Deletes an edge (`NotFoundError` when missing).
    #[pyo3(signature = (source, target, r#type=None))]
    fn delete_edge(
        &self,
        py: Python<'_>,
        #[pyo3(from_py_with = args::string)] source: String,
        #[pyo3(from_py_with = args::string)] target: String,
        #[pyo3(from_py_with = args::opt_string)] r#type: Option<String>,
    ) -> PyResult<()> {
        let db = &*self.db;
        run(py, || db.delete_edge(&source, &target, r#type.as_deref()))
    }

    /// Edges out of `id`, ordered by target then type.
    fn edges_from(
        &self,
        py: Python<'_>,
        #[pyo3(from_py_with = args::string)] id: String,
    ) -> PyResult<Vec<Edge>> {
        let db = &*self.db;
        Ok(run(py, || db.edges_from(&id))?
            .into_iter()
            .map(Edge::from)
            .collect())
    }

    /// Edges into `id`, ordered by source then type.
    fn edges_to(
        &self,
        py: Python<'_>,
        #[pyo3(from_py_with = args::string)] id: String,
    ) -> PyResult<Vec<Edge>> {
        let db = &*self.db;
        Ok(run(py, || db.edges_to(&id))?
            .into_iter()
            .map(Edge::from)
            .collect())
    }

    // ---- vectors ----------------------------------------------------------------------------

    /// Stores `id`'s embedding (a float32 array read in place; `NotFoundError` when the node is
    /// missing).
    fn set_embedding(
        &self,
        py: Python<'_>,
        #[pyo3(from_py_with = args::string)] id: String,
        vector: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let db = &*self.db;
        let v = crate::convert::vector(vector, "vector")?;
        let s = v.as_slice();
        run(py, || db.set_embedding(&id, s))
    }

    /// `id`'s embedding as a float32 array (`None` when it has none).
    fn get_embedding<'py>(
        &self,
        py: Python<'py>,
        #[pyo3(from_py_with = args::string)] id: String,
    ) -> PyResult<Option<Bound<'py, PyArray1<f32>>>> {
        let db = &*self.db;
        let v = run(py, || db.get_embedding(&id))?;
        Ok(v.map(|v| v.into_pyarray(py)))
    }

    /// Exact top-k by cosine: hits sorted by score descending, ties by id. By default only scores
    /// > 0; `min_score` changes that. `threads` caps the threads used (None: all cores).
    #[pyo3(signature = (vector, k=None, *, min_score=None, domain=None, r#type=None, threads=None))]
    fn search<'py>(
        &self,
        py: Python<'py>,
        vector: &Bound<'_, PyAny>,
        #[pyo3(from_py_with = args::opt_count)] k: Option<usize>,
        #[pyo3(from_py_with = args::opt_float32)] min_score: Option<f32>,
        #[pyo3(from_py_with = args::opt_string)] domain: Option<String>,
        #[pyo3(from_py_with = args::opt_string)] r#type: Option<String>,
        #[pyo3(from_py_with = args::opt_count)] threads: Option<usize>,
    ) -> PyResult<Vec<Bound<'py, PyAny>>> {
        let db = &*self.db;
        let v = crate::convert::vector(vector, "vector")?;
        let q = v.as_slice();
        let opts = search_options(k, min_score, domain, r#type, threads);
        let found = run(py, || db.search(q, &opts))?;
        types::hits(py, found)
    }

    /// Top-k of the nodes most like `id`'s stored vector, excluding `id`.
    #[pyo3(signature = (id, k=None, *, min_score=None, domain=None, r#type=None, threads=None))]
    fn search_like<'py>(
        &self,
        py: Python<'py>,
        #[pyo3(from_py_with = args::string)] id: String,
        #[pyo3(from_py_with = args::opt_count)] k: Option<usize>,
        #[pyo3(from_py_with = args::opt_float32)] min_score: Option<f32>,
        #[pyo3(from_py_with = args::opt_string)] domain: Option<String>,
        #[pyo3(from_py_with = args::opt_string)] r#type: Option<String>,
        #[pyo3(from_py_with = args::opt_count)] threads: Option<usize>,
    ) -> PyResult<Vec<Bound<'py, PyAny>>> {
        let db = &*self.db;
        let opts = search_options(k, min_score, domain, r#type, threads);
        let found = run(py, || db.search_like(&id, &opts))?;
        types::hits(py, found)
    }

    /// Many queries at once: `vectors` is a 2-D float32 array `(n, dim)`. Returns `(ids, scores)`:
    /// `ids` an object array `(n, m)` of str (None where a row has fewer hits), `scores` a float32
    /// array `(n, m)` (NaN there), `m` the largest number of hits of any row (at most `k`).
    #[pyo3(signature = (vectors, k=None, *, min_score=None, domain=None, r#type=None, threads=None))]
    fn search_batch<'py>(
        &self,
        py: Python<'py>,
        vectors: &Bound<'py, PyAny>,
        #[pyo3(from_py_with = args::opt_count)] k: Option<usize>,
        #[pyo3(from_py_with = args::opt_float32)] min_score: Option<f32>,
        #[pyo3(from_py_with = args::opt_string)] domain: Option<String>,
        #[pyo3(from_py_with = args::opt_string)] r#type: Option<String>,
        #[pyo3(from_py_with = args::opt_count)] threads: Option<usize>,
    ) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyArray2<f32>>)> {
        let db = &*self.db;
        let m = matrix(vectors, "vectors")?;
        let q = m.data.as_slice();
        let rows = m.rows;
        // Rows of length 0: the core's `invalid_vector`, as for `search` of an empty vector.
        let opts = search_options(k, min_score, domain, r#type, threads);
        let res = run_long_on(py, db, || db.search_batch(q, rows, &opts))?;
        let width = res.iter().map(Vec::len).max().unwrap_or(0);
        let mut scores = vec![f32::NAN; rows * width];
        let ids = PyList::empty(py);
        for (i, row) in res.iter().enumerate() {
            let r = PyList::empty(py);
            for (j, h) in row.iter().enumerate() {
                scores[i * width + j] = h.score;
                r.append(&h.id)?;
            }
            for _ in row.len()..width {
                r.append(py.None())?;
            }
            ids.append(r)?;
        }
        let np = py.import("numpy")?;
        let kwargs = PyDict::new(py);
        kwargs.set_item("dtype", "object")?;
        let id_arr = np.getattr("empty")?.call(((rows, width),), Some(&kwargs))?;
        if rows > 0 && width > 0 {
            id_arr.set_item(pyo3::types::PySlice::full(py), ids)?;
        }
        let scores = numpy::ndarray::Array2::from_shape_vec((rows, width), scores)
            .map_err(|e| new_err(ErrorKind::Internal, e.to_string()))?
            .into_pyarray(py);
        Ok((id_arr, scores))
    }

    /// What the in-memory vector matrix holds and skipped: a dict.
    fn vector_index_info<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let db = &*self.db;
        let i = run(py, || db.vector_index_info())?;
        types::serde_dict(py, &i)
    }

    // ---- graph ------------------------------------------------------------------------------

    /// Union of in- and out-neighbours, ascending.
    fn neighbors(
        &self,
        py: Python<'_>,
        #[pyo3(from_py_with = args::string)] id: String,
    ) -> PyResult<Vec<String>> {
        let db = &*self.db;
        run(py, || db.neighbors(&id))
    }

    /// Out-neighbours, ascending.
    fn successors(
        &self,
        py: Python<'_>,
        #[pyo3(from_py_with = args::string)] id: String,
    ) -> PyResult<Vec<String>> {
        let db = &*self.db;
        run(py, || db.successors(&id))
    }

    /// In-neighbours, ascending.
    fn predecessors(
        &self,
        py: Python<'_>,
        #[pyo3(from_py_with = args::string)] id: String,
    ) -> PyResult<Vec<String>> {
        let db = &*self.db;
        run(py, || db.predecessors(&id))
    }

    /// In- plus out-degree.
    fn degree(
        &self,
        py: Python<'_>,
        #[pyo3(from_py_with = args::string)] id: String,
    ) -> PyResult<usize> {
        let db = &*self.db;
        run(py, || db.degree(&id))
    }

    /// BFS from `start` (included), up to `max_depth` hops (None: no limit), along `direction`
    /// (`"outgoing"`, `"incoming"` or `"both"`; None: outgoing).
    #[pyo3(signature = (start, max_depth=None, *, direction=None))]
    fn traverse(
        &self,
        py: Python<'_>,
        #[pyo3(from_py_with = args::string)] start: String,
        #[pyo3(from_py_with = args::opt_count)] max_depth: Option<usize>,
        #[pyo3(from_py_with = args::opt_string)] direction: Option<String>,
    ) -> PyResult<Vec<String>> {
        let db = &*self.db;
        let mut o = TraverseOptions::default();
        o.max_depth = max_depth.unwrap_or(o.max_depth);
        o.direction = parse_direction(direction, o.direction)?;
        run_long_on(py, db, || db.traverse(&start, &o))
    }

    /// Unweighted shortest path along `direction` (None: outgoing, a directed path); `None` when
    /// unreachable.
    #[pyo3(signature = (source, target, *, direction=None))]
    fn shortest_path(
        &self,
        py: Python<'_>,
        #[pyo3(from_py_with = args::string)] source: String,
        #[pyo3(from_py_with = args::string)] target: String,
        #[pyo3(from_py_with = args::opt_string)] direction: Option<String>,
    ) -> PyResult<Option<Vec<String>>> {
        let db = &*self.db;
        let mut o = PathOptions::default();
        o.direction = parse_direction(direction, o.direction)?;
        run_long_on(py, db, || db.shortest_path(&source, &target, &o))
    }

    /// PageRank: dict id → score. An argument left None is the engine's default.
    #[pyo3(signature = (alpha=None, tolerance=None, max_iterations=None))]
    fn pagerank<'py>(
        &self,
        py: Python<'py>,
        #[pyo3(from_py_with = args::opt_float)] alpha: Option<f64>,
        #[pyo3(from_py_with = args::opt_float)] tolerance: Option<f64>,
        #[pyo3(from_py_with = args::opt_count)] max_iterations: Option<usize>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let db = &*self.db;
        let mut o = PageRankOptions::default();
        o.alpha = alpha.unwrap_or(o.alpha);
        o.tolerance = tolerance.unwrap_or(o.tolerance);
        o.max_iterations = max_iterations.unwrap_or(o.max_iterations);
        let v = run_long_on(py, db, || db.pagerank(&o))?;
        types::ranking(py, v)
    }

    /// Betweenness centrality: dict id → score (exact, or sampled from `sample` pivots with `seed`).
    /// An argument left None is the engine's default.
    #[pyo3(signature = (normalized=None, sample=None, seed=None))]
    fn betweenness<'py>(
        &self,
        py: Python<'py>,
        #[pyo3(from_py_with = args::opt_boolean)] normalized: Option<bool>,
        #[pyo3(from_py_with = args::opt_count)] sample: Option<usize>,
        #[pyo3(from_py_with = args::opt_u64)] seed: Option<u64>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let db = &*self.db;
        let mut o = BetweennessOptions::default();
        o.normalized = normalized.unwrap_or(o.normalized);
        o.sample = sample;
        o.seed = seed.unwrap_or(o.seed);
        let v = run_long_on(py, db, || db.betweenness(&o))?;
        types::ranking(py, v)
    }

    /// Louvain communities (deterministic per seed) and their modularity. An argument left None is
    /// the engine's default.
    #[pyo3(signature = (resolution=None, seed=None))]
    fn communities(
        &self,
        py: Python<'_>,
        #[pyo3(from_py_with = args::opt_float)] resolution: Option<f64>,
        #[pyo3(from_py_with = args::opt_u64)] seed: Option<u64>,
    ) -> PyResult<types::Communities> {
        let db = &*self.db;
        let mut o = CommunityOptions::default();
        o.resolution = resolution.unwrap_or(o.resolution);
        o.seed = seed.unwrap_or(o.seed);
        let c = run_long_on(py, db, || db.communities(&o))?;
        types::communities(py, &c)
    }

    /// Weakly connected components, largest first.
    fn components(&self, py: Python<'_>) -> PyResult<Vec<Vec<String>>> {
        let db = &*self.db;
        run_long_on(py, db, || db.components())
    }

    /// Adamic-Adar index of two nodes.
    fn adamic_adar(
        &self,
        py: Python<'_>,
        #[pyo3(from_py_with = args::string)] a: String,
        #[pyo3(from_py_with = args::string)] b: String,
    ) -> PyResult<f64> {
        let db = &*self.db;
        run(py, || db.adamic_adar(&a, &b))
    }

    /// Two-hop non-adjacent pairs ranked by Adamic-Adar, at most `limit` (None: the engine's
    /// default): `LinkCandidate` objects.
    #[pyo3(signature = (limit=None))]
    fn link_candidates(
        &self,
        py: Python<'_>,
        #[pyo3(from_py_with = args::opt_count)] limit: Option<usize>,
    ) -> PyResult<Vec<types::LinkCandidate>> {
        let db = &*self.db;
        let mut o = LinkCandidateOptions::default();
        o.limit = limit.unwrap_or(o.limit);
        let v = run_long_on(py, db, || db.link_candidates(&o))?;
        Ok(v.into_iter().map(types::LinkCandidate::from).collect())
    }

    /// The top PageRank nodes, at most `limit` (None: the engine's default): `Pillar` objects.
    #[pyo3(signature = (limit=None))]
    fn pillars(
        &self,
        py: Python<'_>,
        #[pyo3(from_py_with = args::opt_count)] limit: Option<usize>,
    ) -> PyResult<Vec<types::Pillar>> {
        let db = &*self.db;
        let mut o = PillarOptions::default();
        o.limit = limit.unwrap_or(o.limit);
        let v = run_long_on(py, db, || db.pillars(&o))?;
        Ok(v.into_iter().map(types::Pillar::from).collect())
    }

    /// Nodes, edges, density and skipped (dangling) edges.
    fn graph_stats(&self, py: Python<'_>) -> PyResult<types::GraphStats> {
        let db = &*self.db;
        let g = run_long_on(py, db, || db.graph_stats())?;
        types::graph_stats(py, &g)
    }

    // ---- maintenance ------------------------------------------------------------------------

    /// The health report of docs/connections.md.
    fn health(&self, py: Python<'_>) -> PyResult<types::HealthReport> {
        let db = &*self.db;
        let h = run_long_on(py, db, || db.health())?;
        types::health(py, &h)
    }

    /// Plans (`dry_run=True`: changes nothing) or applies migrations. An argument left None is the
    /// engine's default (`backup_retention_days`: the handle's).
    #[pyo3(signature = (*, dry_run=None, allow_destructive=None, backup=None, backup_retention_days=None))]
    fn migrate(
        &self,
        py: Python<'_>,
        #[pyo3(from_py_with = args::opt_boolean)] dry_run: Option<bool>,
        #[pyo3(from_py_with = args::opt_boolean)] allow_destructive: Option<bool>,
        #[pyo3(from_py_with = args::opt_boolean)] backup: Option<bool>,
        #[pyo3(from_py_with = args::opt_u32)] backup_retention_days: Option<u32>,
    ) -> PyResult<types::MigrationReport> {
        let db = &*self.db;
        let d = MigrateOptions::default();
        let opts = MigrateOptions {
            dry_run: dry_run.unwrap_or(d.dry_run),
            allow_destructive: allow_destructive.unwrap_or(d.allow_destructive),
            backup: backup.unwrap_or(d.backup),
            backup_retention_days: backup_retention_days.or(d.backup_retention_days),
        };
        let r = run_long_on(py, db, || db.migrate(&opts))?;
        types::migration(py, &r)
    }

    /// Applies (or, `dry_run=True`, plans) the application migrations `steps_or_dir` (a directory
    /// of `NNNN_name.sql` files, or a sequence of `AppMigration`/dicts) of `namespace`; see
    /// python/src/app_migrations.rs. An argument left None is the core's default.
    #[pyo3(signature = (namespace, steps_or_dir, *, to=None, dry_run=None, allow_destructive=None, backup=None, accept_changed=None))]
    #[allow(clippy::too_many_arguments)]
    fn migrate_app(
        &self,
        py: Python<'_>,
        #[pyo3(from_py_with = args::string)] namespace: String,
        steps_or_dir: &Bound<'_, PyAny>,
        #[pyo3(from_py_with = crate::app_migrations::opt_version)] to: Option<i64>,
        #[pyo3(from_py_with = args::opt_boolean)] dry_run: Option<bool>,
        #[pyo3(from_py_with = args::opt_boolean)] allow_destructive: Option<bool>,
        #[pyo3(from_py_with = args::opt_boolean)] backup: Option<bool>,
        #[pyo3(from_py_with = args::opt_boolean)] accept_changed: Option<bool>,
    ) -> PyResult<types::AppMigrationReport> {
        let opts = crate::app_migrations::Options {
            to,
            dry_run,
            allow_destructive,
            backup,
            accept_changed,
        };
        crate::app_migrations::migrate_app(py, &self.db, &namespace, steps_or_dir, &opts)
    }

    /// Applied (from the ledger) and pending steps of `namespace` among `steps_or_dir`.
    fn app_migration_status(
        &self,
        py: Python<'_>,
        #[pyo3(from_py_with = args::string)] namespace: String,
        steps_or_dir: &Bound<'_, PyAny>,
    ) -> PyResult<types::AppMigrationStatus> {
        crate::app_migrations::app_migration_status(py, &self.db, &namespace, steps_or_dir)
    }

    /// Backs the database up to `dest` (which must not exist), or into `backups/` beside it; returns
    /// the backup's path.
    #[pyo3(signature = (dest=None))]
    fn backup(
        &self,
        py: Python<'_>,
        #[pyo3(from_py_with = args::opt_path)] dest: Option<PathBuf>,
    ) -> PyResult<PathBuf> {
        let db = &*self.db;
        run_long_on(py, db, || db.backup(dest.as_deref()))
    }

    /// `PRAGMA wal_checkpoint(mode)`: `passive`, `full`, `restart` or `truncate` (None: the
    /// engine's default, passive).
    #[pyo3(signature = (mode=None))]
    fn checkpoint(
        &self,
        py: Python<'_>,
        #[pyo3(from_py_with = args::opt_string)] mode: Option<String>,
    ) -> PyResult<types::Checkpoint> {
        let db = &*self.db;
        let mode = match mode {
            Some(m) => m.parse::<CheckpointMode>().map_err(crate::errors::to_py)?,
            None => CheckpointMode::default(),
        };
        let c = run_long_on(py, db, || db.checkpoint(mode))?;
        types::checkpoint(py, &c)
    }

    /// `PRAGMA optimize`.
    fn optimize(&self, py: Python<'_>) -> PyResult<()> {
        let db = &*self.db;
        run_long_on(py, db, || db.optimize())
    }

    /// `VACUUM` (not inside a transaction).
    fn vacuum(&self, py: Python<'_>) -> PyResult<()> {
        let db = &*self.db;
        run_long_on(py, db, || db.vacuum())
    }
}

/// `with db.transaction():` — begins on enter; commits on a clean exit, rolls back on an exception.
#[pyclass(frozen, module = "resonance", name = "Transaction")]
pub struct Transaction {
    db: Py<Database>,
}

#[pymethods]
impl Transaction {
    fn __enter__(&self, py: Python<'_>) -> PyResult<Py<Database>> {
        self.db.get().begin(py)?;
        Ok(self.db.clone_ref(py))
    }

    #[pyo3(signature = (exc_type=None, _exc=None, _tb=None))]
    fn __exit__(
        &self,
        py: Python<'_>,
        exc_type: Option<&Bound<'_, PyType>>,
        _exc: Option<&Bound<'_, PyAny>>,
        _tb: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<bool> {
        let db = self.db.get();
        if exc_type.is_some() {
            // Keep the original exception; a failed rollback only adds to it.
            let _ = db.rollback(py);
        } else {
            db.commit(py)?;
        }
        Ok(false)
    }
}
