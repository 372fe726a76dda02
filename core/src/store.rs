//! Nodes, edges and the audit history (docs/schema.md), stats and maintenance.
//!
//! Every write goes through `Database::write` (one `BEGIN IMMEDIATE` transaction, or a savepoint inside
//! an explicit one) and records its history row in the same transaction. Vector validation and the
//! dimension rule belong to `embeddings`; this module calls them and never scores vectors.

use rusqlite::types::ValueRef;
use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::Serialize;

use crate::cache::{CacheOp, Pending};
use crate::db::Database;
use crate::embeddings;
use crate::error::{show, Error, Result, SqlContext};
use crate::vector::fafcas;

/// The default domain of a node.
pub const DEFAULT_DOMAIN: &str = "knowledge";
/// The default layer of a node.
pub const DEFAULT_LAYER: &str = "experience";
/// The default edge type.
pub const DEFAULT_EDGE_TYPE: &str = "related_to";

/// A node to write. Fields left `None` are stored as NULL (`domain` and `layer` get their defaults).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NodeInput {
    /// The id (non-empty).
    pub id: String,
    /// `type`.
    pub node_type: Option<String>,
    /// `title`.
    pub title: Option<String>,
    /// `domain` (default `knowledge`).
    pub domain: Option<String>,
    /// `layer` (default `experience`).
    pub layer: Option<String>,
    /// `hash` of the document.
    pub hash: Option<String>,
    /// `summary`.
    pub summary: Option<String>,
    /// `meta`, JSON text (must parse).
    pub meta: Option<String>,
    /// `date`.
    pub date: Option<String>,
    /// The embedding (validated and normalised before it is stored).
    pub embedding: Option<Vec<f32>>,
}

impl NodeInput {
    /// A node with only an id.
    pub fn new(id: impl Into<String>) -> NodeInput {
        NodeInput {
            id: id.into(),
            ..Default::default()
        }
    }
}

/// A partial update of a stored node ([`Database::update_node`]). A field left `None` keeps its stored
/// value; `Some(None)` clears it (`domain` and `layer` go back to their defaults, as for a node written
/// without them); `Some(Some(v))` sets it. The embedding is kept unless given.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NodeUpdate {
    /// `type`.
    pub node_type: Option<Option<String>>,
    /// `title`.
    pub title: Option<Option<String>>,
    /// `domain` (cleared: `knowledge`).
    pub domain: Option<Option<String>>,
    /// `layer` (cleared: `experience`).
    pub layer: Option<Option<String>>,
    /// `hash` of the document.
    pub hash: Option<Option<String>>,
    /// `summary`.
    pub summary: Option<Option<String>>,
    /// `meta`, JSON text (must parse); replaced whole (see [`Database::merge_meta`] to merge).
    pub meta: Option<Option<String>>,
    /// `date`.
    pub date: Option<Option<String>>,
    /// The embedding (validated and normalised before it is stored); `Some(None)` removes it.
    pub embedding: Option<Option<Vec<f32>>>,
}

impl NodeUpdate {
    /// Whether no field is given (the update changes nothing).
    pub fn is_empty(&self) -> bool {
        *self == NodeUpdate::default()
    }
}

/// Stored JSON text (a node's `meta`, a history row's old and new values) as the value every binding
/// returns: the parsed JSON, the text itself as a string when it does not parse (only files written
/// by other programs hold such text), `null` for no text.
pub fn parse_stored_json(text: Option<&str>) -> serde_json::Value {
    match text {
        None => serde_json::Value::Null,
        Some(t) => {
            serde_json::from_str(t).unwrap_or_else(|_| serde_json::Value::String(t.to_owned()))
        }
    }
}

/// Applies a JSON merge patch (RFC 7386) to `target`: an object patch merges key by key (a `null`
/// value removes the key, a non-object target counts as `{}`); any other patch replaces the target.
pub fn json_merge_patch(target: &mut serde_json::Value, patch: &serde_json::Value) {
    use serde_json::Value;
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(serde_json::Map::new());
    }
    let Value::Object(map) = target else {
        return;
    };
    for (k, v) in patch {
        if v.is_null() {
            map.remove(k);
        } else {
            json_merge_patch(map.entry(k.clone()).or_insert(Value::Null), v);
        }
    }
}

/// A stored node.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Node {
    /// `id`.
    pub id: String,
    /// `type`.
    #[serde(rename = "type")]
    pub node_type: Option<String>,
    /// `title`.
    pub title: Option<String>,
    /// `domain`.
    pub domain: Option<String>,
    /// `layer`.
    pub layer: Option<String>,
    /// `hash`.
    pub hash: Option<String>,
    /// `summary`.
    pub summary: Option<String>,
    /// `meta` as stored (JSON text).
    pub meta: Option<String>,
    /// `date`.
    pub date: Option<String>,
    /// The embedding, when asked for (and well-formed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub embedding: Option<Vec<f32>>,
}

/// An edge.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Edge {
    /// Source node id.
    pub source: String,
    /// Target node id.
    pub target: String,
    /// Edge type (case-sensitive).
    #[serde(rename = "type")]
    pub edge_type: String,
    /// Confidence.
    pub confidence: Option<f64>,
    /// Veracity.
    pub veracity: Option<f64>,
    /// Where the edge came from.
    pub context_source: Option<String>,
}

/// An edge to write.
#[derive(Debug, Clone, PartialEq)]
pub struct EdgeInput {
    /// Source node id (non-empty; the node need not exist).
    pub source: String,
    /// Target node id (non-empty).
    pub target: String,
    /// Edge type, default `related_to`.
    pub edge_type: Option<String>,
    /// Confidence, default 1.
    pub confidence: Option<f64>,
    /// Veracity, default 1.
    pub veracity: Option<f64>,
    /// Where the edge came from.
    pub context_source: Option<String>,
}

impl EdgeInput {
    /// An edge of the default type.
    pub fn new(source: impl Into<String>, target: impl Into<String>) -> EdgeInput {
        EdgeInput {
            source: source.into(),
            target: target.into(),
            edge_type: None,
            confidence: None,
            veracity: None,
            context_source: None,
        }
    }
}

/// A history row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoryEntry {
    /// Row id (increasing).
    pub id: i64,
    /// `node` or `edge`.
    pub entity_type: String,
    /// The node id, or `source|type|target` for an edge.
    pub entity_id: String,
    /// `insert`, `update` (also a partial `update_node`), `delete`, or `update_meta` (also
    /// `merge_meta`).
    pub action: String,
    /// Compact JSON of the row before (embeddings by dimension only).
    pub old_value: Option<String>,
    /// Compact JSON of the row after.
    pub new_value: Option<String>,
    /// When (UTC, SQLite's `CURRENT_TIMESTAMP`).
    pub timestamp: Option<String>,
}

/// Options of [`Database::list_nodes`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListOptions {
    /// Only this domain.
    pub domain: Option<String>,
    /// Only this type.
    pub node_type: Option<String>,
    /// At most this many (None: all).
    pub limit: Option<usize>,
    /// Skip this many first.
    pub offset: usize,
    /// Include the embeddings.
    pub with_embeddings: bool,
}

/// Counts and sizes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stats {
    /// Nodes.
    pub nodes: u64,
    /// Edges.
    pub edges: u64,
    /// Nodes with an embedding.
    pub vectors: u64,
    /// Edges with a missing endpoint.
    pub dangling_edges: u64,
    /// The database's vector dimension, if fixed.
    pub dimension: Option<usize>,
    /// History rows.
    pub history: u64,
    /// Bytes of the database file.
    pub db_bytes: u64,
    /// Bytes of the `-wal` file.
    pub wal_bytes: u64,
    /// Both.
    pub size_bytes: u64,
}

/// How much a WAL checkpoint may wait for and do (SQLite's `wal_checkpoint` modes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum CheckpointMode {
    /// Copy what it can without waiting for readers or writers (the default).
    #[default]
    Passive,
    /// Wait for writers, then copy everything.
    Full,
    /// As `Full`, then wait until readers are done with the WAL so it restarts from the beginning.
    Restart,
    /// As `Restart`, then truncate the WAL file to zero bytes.
    Truncate,
}

impl CheckpointMode {
    /// The name used by every binding: `"passive"`, `"full"`, `"restart"` or `"truncate"`.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckpointMode::Passive => "passive",
            CheckpointMode::Full => "full",
            CheckpointMode::Restart => "restart",
            CheckpointMode::Truncate => "truncate",
        }
    }

    fn sql(self) -> &'static str {
        match self {
            CheckpointMode::Passive => "PASSIVE",
            CheckpointMode::Full => "FULL",
            CheckpointMode::Restart => "RESTART",
            CheckpointMode::Truncate => "TRUNCATE",
        }
    }
}

impl std::fmt::Display for CheckpointMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for CheckpointMode {
    type Err = Error;

    /// A mode's name, ASCII case-insensitive; anything else is `InvalidArgument`.
    fn from_str(s: &str) -> Result<CheckpointMode> {
        match s.to_ascii_lowercase().as_str() {
            "passive" => Ok(CheckpointMode::Passive),
            "full" => Ok(CheckpointMode::Full),
            "restart" => Ok(CheckpointMode::Restart),
            "truncate" => Ok(CheckpointMode::Truncate),
            _ => Err(Error::InvalidArgument(format!(
                "checkpoint mode {s:?}: expected passive, full, restart or truncate"
            ))),
        }
    }
}

/// SQLite's answer to a checkpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Checkpoint {
    /// 1 when the checkpoint could not complete because of a lock.
    pub busy: i64,
    /// Frames in the WAL.
    pub log: i64,
    /// Frames checkpointed.
    pub checkpointed: i64,
}

fn require_id(id: &str, what: &str) -> Result<()> {
    if id.is_empty() {
        return Err(Error::InvalidArgument(format!("{what} must not be empty")));
    }
    Ok(())
}

fn validate_meta(meta: &Option<String>, id: &str) -> Result<()> {
    if let Some(m) = meta {
        serde_json::from_str::<serde_json::Value>(m).map_err(|e| {
            Error::InvalidArgument(format!("meta of node {id:?} is not valid JSON: {e}"))
        })?;
    }
    Ok(())
}

/// The node columns every read selects, in `node_from_row`'s order (column 9 follows: the embedding,
/// its length, or NULL). A macro so the SQL texts are constants (no `format!` per call).
macro_rules! node_cols {
    () => {
        "id, type, title, domain, layer, hash, summary, meta, date"
    };
}

/// `get_node` SQL: without and with the embedding.
const GET_NODE_SQL: [&str; 2] = [
    concat!("SELECT ", node_cols!(), ", NULL FROM nodes WHERE id = ?1"),
    concat!(
        "SELECT ",
        node_cols!(),
        ", embedding FROM nodes WHERE id = ?1"
    ),
];

/// `list_nodes` SQL: without and with the embeddings.
const LIST_NODES_SQL: [&str; 2] = [
    concat!(
        "SELECT ",
        node_cols!(),
        ", NULL FROM nodes WHERE (?1 IS NULL OR domain = ?1) ",
        "AND (?2 IS NULL OR type = ?2) ORDER BY id LIMIT ?3 OFFSET ?4"
    ),
    concat!(
        "SELECT ",
        node_cols!(),
        ", embedding FROM nodes WHERE (?1 IS NULL OR domain = ?1) ",
        "AND (?2 IS NULL OR type = ?2) ORDER BY id LIMIT ?3 OFFSET ?4"
    ),
];

fn node_from_row(r: &Row<'_>, with_embedding: bool) -> rusqlite::Result<Node> {
    let embedding = if with_embedding {
        match r.get_ref(9)? {
            ValueRef::Blob(b) => fafcas::decode(b).ok(),
            _ => None,
        }
    } else {
        None
    };
    Ok(Node {
        id: r.get(0)?,
        node_type: r.get(1)?,
        title: r.get(2)?,
        domain: r.get(3)?,
        layer: r.get(4)?,
        hash: r.get(5)?,
        summary: r.get(6)?,
        meta: r.get(7)?,
        date: r.get(8)?,
        embedding,
    })
}

/// A node as the history records it: keys in sorted order (what serialising through
/// `serde_json::Value`'s sorted map gave, so rows written before and after read alike), the embedding
/// by its dimension only. Borrowed, so recording a write copies no field.
#[derive(Serialize)]
struct HistoryNode<'a> {
    date: Option<&'a str>,
    domain: Option<&'a str>,
    embedding: Option<HistoryDimension>,
    hash: Option<&'a str>,
    id: &'a str,
    layer: Option<&'a str>,
    meta: Option<&'a str>,
    summary: Option<&'a str>,
    title: Option<&'a str>,
    #[serde(rename = "type")]
    node_type: Option<&'a str>,
}

#[derive(Serialize)]
struct HistoryDimension {
    dimension: usize,
}

impl HistoryNode<'_> {
    fn json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "null".into())
    }
}

/// Compact JSON of a node for the history (the embedding by its dimension only).
fn history_json(n: &Node, dimension: Option<usize>) -> String {
    HistoryNode {
        date: n.date.as_deref(),
        domain: n.domain.as_deref(),
        embedding: dimension.map(|dimension| HistoryDimension { dimension }),
        hash: n.hash.as_deref(),
        id: &n.id,
        layer: n.layer.as_deref(),
        meta: n.meta.as_deref(),
        summary: n.summary.as_deref(),
        title: n.title.as_deref(),
        node_type: n.node_type.as_deref(),
    }
    .json()
}

/// The history JSON of the stored node `id`, if any.
fn node_json(conn: &Connection, id: &str) -> Result<Option<String>> {
    conn.prepare_cached(concat!(
        "SELECT ",
        node_cols!(),
        ", length(embedding) FROM nodes WHERE id = ?1"
    ))
    .ctx("reading a node")?
    .query_row([id], |r| {
        let n = node_from_row(r, false)?;
        let len: Option<i64> = r.get(9)?;
        Ok(history_json(&n, len.map(|l| l as usize / 4)))
    })
    .optional()
    .ctx(format_args!("reading node {id:?}"))
}

fn record(
    conn: &Connection,
    entity_type: &str,
    entity_id: &str,
    action: &str,
    old: Option<&str>,
    new: Option<&str>,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO history (entity_type, entity_id, action, old_value, new_value) VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .ctx("recording history")?
    .execute(params![entity_type, entity_id, action, old, new])
    .ctx(format_args!("recording history for {entity_type} {entity_id:?}"))?;
    Ok(())
}

/// Node history rows of a batch write, inserted [`HISTORY_CHUNK`] per statement: one multi-row
/// `INSERT` instead of one per node (each `INSERT` into the `AUTOINCREMENT` table also rewrites its
/// `sqlite_sequence` row). Rows keep their order, so their ids follow the nodes' order as before.
#[derive(Default)]
struct NodeHistory {
    /// (node id, action, old JSON, new JSON).
    rows: Vec<(String, &'static str, Option<String>, String)>,
}

/// History rows per multi-row `INSERT`.
const HISTORY_CHUNK: usize = 64;

impl NodeHistory {
    /// Queues a row; inserts a full chunk.
    fn push(
        &mut self,
        conn: &Connection,
        id: &str,
        action: &'static str,
        old: Option<String>,
        new: String,
    ) -> Result<()> {
        self.rows.push((id.to_owned(), action, old, new));
        if self.rows.len() == HISTORY_CHUNK {
            self.flush(conn)?;
        }
        Ok(())
    }

    /// Inserts every queued row.
    fn flush(&mut self, conn: &Connection) -> Result<()> {
        if self.rows.len() == HISTORY_CHUNK {
            static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
            let sql = SQL.get_or_init(|| {
                let values = vec!["('node', ?, ?, ?, ?)"; HISTORY_CHUNK].join(", ");
                format!(
                    "INSERT INTO history (entity_type, entity_id, action, old_value, new_value) VALUES {values}"
                )
            });
            let params: Vec<&dyn rusqlite::ToSql> = self
                .rows
                .iter()
                .flat_map(|(id, action, old, new)| {
                    [
                        id as &dyn rusqlite::ToSql,
                        action as &dyn rusqlite::ToSql,
                        old as &dyn rusqlite::ToSql,
                        new as &dyn rusqlite::ToSql,
                    ]
                })
                .collect();
            conn.prepare_cached(sql)
                .ctx("recording history")?
                .execute(params.as_slice())
                .ctx(format_args!(
                    "recording the history of {HISTORY_CHUNK} nodes"
                ))?;
        } else {
            for (id, action, old, new) in &self.rows {
                record(conn, "node", id, action, old.as_deref(), Some(new))?;
            }
        }
        self.rows.clear();
        Ok(())
    }
}

fn edge_key(source: &str, edge_type: &str, target: &str) -> String {
    format!("{source}|{edge_type}|{target}")
}

/// Writes one node inside the caller's transaction.
fn upsert_node_in(
    conn: &Connection,
    pending: &mut Pending,
    dims: &mut embeddings::DimensionGuard,
    history: &mut NodeHistory,
    node: &NodeInput,
) -> Result<()> {
    require_id(&node.id, "node id")?;
    validate_meta(&node.meta, &node.id)?;
    let unit = match &node.embedding {
        Some(v) => Some(dims.accept(conn, v, &node.id, pending)?),
        None => None,
    };
    let domain: &str = node.domain.as_deref().unwrap_or(DEFAULT_DOMAIN);
    let layer: &str = node.layer.as_deref().unwrap_or(DEFAULT_LAYER);
    let blob = unit.as_deref().map(fafcas::as_bytes);
    let values: [&dyn rusqlite::ToSql; 10] = [
        &node.id,
        &node.node_type,
        &node.title,
        &domain,
        &layer,
        &blob,
        &node.hash,
        &node.meta,
        &node.date,
        &node.summary,
    ];
    // A new node costs one statement; an existing one is read first (its history's old value), then
    // rewritten whole, keeping its rowid.
    let inserted = conn
        .prepare_cached(
            "INSERT INTO nodes (id, type, title, domain, layer, embedding, hash, meta, date, summary) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) ON CONFLICT(id) DO NOTHING",
        )
        .ctx("writing a node")?
        .execute(&values[..])
        .ctx(format_args!("writing node {:?}", node.id))?
        == 1;
    let old = if inserted {
        None
    } else {
        let old = node_json(conn, &node.id)?;
        conn.prepare_cached(
            "UPDATE nodes SET type = ?2, title = ?3, domain = ?4, layer = ?5, embedding = ?6, hash = ?7, \
             meta = ?8, date = ?9, summary = ?10 WHERE id = ?1",
        )
        .ctx("writing a node")?
        .execute(&values[..])
        .ctx(format_args!("writing node {:?}", node.id))?;
        old
    };
    let new = HistoryNode {
        date: node.date.as_deref(),
        domain: Some(domain),
        embedding: unit
            .as_ref()
            .map(|u| HistoryDimension { dimension: u.len() }),
        hash: node.hash.as_deref(),
        id: &node.id,
        layer: Some(layer),
        meta: node.meta.as_deref(),
        summary: node.summary.as_deref(),
        title: node.title.as_deref(),
        node_type: node.node_type.as_deref(),
    }
    .json();
    history.push(
        conn,
        &node.id,
        if inserted { "insert" } else { "update" },
        old,
        new,
    )?;
    match unit {
        // The vector cache follows only when it is loaded (a rollback drops it; see `Database::rollback`).
        Some(unit) if pending.track_vectors => pending.ops.push(CacheOp::Upsert {
            id: node.id.clone(),
            unit,
            domain: Some(domain.to_owned()),
            node_type: node.node_type.clone(),
        }),
        Some(_) => {}
        None => pending.ops.push(CacheOp::Remove(node.id.clone())),
    }
    pending.graph_dirty |= inserted;
    Ok(())
}

/// The stored `meta` of node `id` (`None`: no such node).
fn read_meta(conn: &Connection, id: &str) -> Result<Option<Option<String>>> {
    conn.prepare_cached("SELECT meta FROM nodes WHERE id = ?1")
        .ctx("reading meta")?
        .query_row([id], |r| r.get(0))
        .optional()
        .ctx(format_args!("reading the meta of {id:?}"))
}

/// Stores a node's new `meta` and its `update_meta` history row.
fn write_meta(conn: &Connection, id: &str, old: Option<&str>, new: Option<&str>) -> Result<()> {
    conn.prepare_cached("UPDATE nodes SET meta = ?2 WHERE id = ?1")
        .ctx("updating meta")?
        .execute(params![id, new])
        .ctx(format_args!("updating the meta of {id:?}"))?;
    record(conn, "node", id, "update_meta", old, new)
}

fn edge_params(e: &EdgeInput) -> Result<(String, f64, f64)> {
    require_id(&e.source, "edge source")?;
    require_id(&e.target, "edge target")?;
    let t = e
        .edge_type
        .clone()
        .unwrap_or_else(|| DEFAULT_EDGE_TYPE.to_string());
    require_id(&t, "edge type")?;
    let c = e.confidence.unwrap_or(1.0);
    let v = e.veracity.unwrap_or(1.0);
    if !c.is_finite() || !v.is_finite() {
        return Err(Error::InvalidArgument(format!(
            "edge {} -> {}: confidence and veracity must be finite (got {c}, {v})",
            e.source, e.target
        )));
    }
    Ok((t, c, v))
}

fn edge_json(e: &EdgeInput, t: &str, c: f64, v: f64) -> String {
    serde_json::json!({"source": e.source, "target": e.target, "type": t, "confidence": c, "veracity": v,
        "context_source": e.context_source})
    .to_string()
}

fn add_edge_in(conn: &Connection, pending: &mut Pending, e: &EdgeInput) -> Result<bool> {
    let (t, c, v) = edge_params(e)?;
    let n = conn
        .prepare_cached(
            "INSERT OR IGNORE INTO edges (source, target, type, confidence, veracity, context_source) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )
        .ctx("adding an edge")?
        .execute(params![e.source, e.target, t, c, v, e.context_source])
        .ctx(format_args!("adding edge {} -> {}", e.source, e.target))?;
    if n > 0 {
        record(
            conn,
            "edge",
            &edge_key(&e.source, &t, &e.target),
            "insert",
            None,
            Some(&edge_json(e, &t, c, v)),
        )?;
        pending.graph_dirty = true;
    }
    Ok(n > 0)
}

fn read_edge(conn: &Connection, source: &str, target: &str, t: &str) -> Result<Option<Edge>> {
    conn.prepare_cached(
        "SELECT source, target, type, confidence, veracity, context_source FROM edges \
         WHERE source = ?1 AND target = ?2 AND type = ?3",
    )
    .ctx("reading an edge")?
    .query_row([source, target, t], edge_from_row)
    .optional()
    .ctx("reading an edge")
}

fn edge_from_row(r: &Row<'_>) -> rusqlite::Result<Edge> {
    Ok(Edge {
        source: r.get(0)?,
        target: r.get(1)?,
        edge_type: r.get(2)?,
        confidence: r.get(3)?,
        veracity: r.get(4)?,
        context_source: r.get(5)?,
    })
}

/// Applies a partial update inside the caller's transaction.
fn update_node_in(
    conn: &Connection,
    pending: &mut Pending,
    dims: &mut embeddings::DimensionGuard,
    id: &str,
    upd: &NodeUpdate,
) -> Result<()> {
    let stored: Option<(Node, Option<i64>)> = conn
        .prepare_cached(concat!(
            "SELECT ",
            node_cols!(),
            ", length(embedding) FROM nodes WHERE id = ?1"
        ))
        .ctx("reading a node")?
        .query_row([id], |r| Ok((node_from_row(r, false)?, r.get(9)?)))
        .optional()
        .ctx(format_args!("reading node {id:?}"))?;
    let Some((old, old_len)) = stored else {
        return Err(Error::NotFound(format!("node {id:?}")));
    };
    let old_dim = old_len.map(|l| l as usize / 4);
    let old_json = history_json(&old, old_dim);
    let mut new = old.clone();
    let set = |field: &mut Option<String>, given: &Option<Option<String>>| {
        if let Some(v) = given {
            field.clone_from(v);
        }
    };
    set(&mut new.node_type, &upd.node_type);
    set(&mut new.title, &upd.title);
    set(&mut new.hash, &upd.hash);
    set(&mut new.summary, &upd.summary);
    set(&mut new.meta, &upd.meta);
    set(&mut new.date, &upd.date);
    if let Some(d) = &upd.domain {
        new.domain = Some(d.clone().unwrap_or_else(|| DEFAULT_DOMAIN.to_string()));
    }
    if let Some(l) = &upd.layer {
        new.layer = Some(l.clone().unwrap_or_else(|| DEFAULT_LAYER.to_string()));
    }
    let fields: [&dyn rusqlite::ToSql; 9] = [
        &new.id,
        &new.node_type,
        &new.title,
        &new.domain,
        &new.layer,
        &new.hash,
        &new.meta,
        &new.date,
        &new.summary,
    ];
    let new_dim = match &upd.embedding {
        None => {
            conn.prepare_cached(
                "UPDATE nodes SET type = ?2, title = ?3, domain = ?4, layer = ?5, hash = ?6, \
                 meta = ?7, date = ?8, summary = ?9 WHERE id = ?1",
            )
            .ctx("updating a node")?
            .execute(&fields[..])
            .ctx(format_args!("updating node {id:?}"))?;
            let relabelled = new.domain != old.domain || new.node_type != old.node_type;
            if relabelled && old_len.is_some() && pending.track_vectors {
                pending.ops.push(CacheOp::Labels {
                    id: id.to_string(),
                    domain: new.domain.clone(),
                    node_type: new.node_type.clone(),
                });
            }
            old_dim
        }
        Some(embedding) => {
            let unit = match embedding {
                Some(v) => Some(dims.accept(conn, v, id, pending)?),
                None => None,
            };
            let blob = unit.as_deref().map(fafcas::as_bytes);
            let mut with_blob: Vec<&dyn rusqlite::ToSql> = fields.to_vec();
            with_blob.push(&blob);
            conn.prepare_cached(
                "UPDATE nodes SET type = ?2, title = ?3, domain = ?4, layer = ?5, hash = ?6, \
                 meta = ?7, date = ?8, summary = ?9, embedding = ?10 WHERE id = ?1",
            )
            .ctx("updating a node")?
            .execute(with_blob.as_slice())
            .ctx(format_args!("updating node {id:?}"))?;
            let dim = unit.as_ref().map(Vec::len);
            match unit {
                Some(unit) if pending.track_vectors => pending.ops.push(CacheOp::Upsert {
                    id: id.to_string(),
                    unit,
                    domain: new.domain.clone(),
                    node_type: new.node_type.clone(),
                }),
                Some(_) => {}
                None => pending.ops.push(CacheOp::Remove(id.to_string())),
            }
            dim
        }
    };
    record(
        conn,
        "node",
        id,
        "update",
        Some(&old_json),
        Some(&history_json(&new, new_dim)),
    )
}

impl Database {
    /// Updates the fields of an existing node that `update` gives, keeping the others (and the
    /// embedding, unless given) — unlike [`Database::upsert_node`], which rewrites the whole row.
    /// Validates `meta` and the embedding like `upsert_node`; `not_found` when the node is missing.
    /// The history row (`update`) holds the whole row before and after.
    pub fn update_node(&self, id: &str, update: &NodeUpdate) -> Result<()> {
        require_id(id, "node id")?;
        if let Some(meta) = &update.meta {
            validate_meta(meta, id)?;
        }
        self.write("update_node", |conn, pending, cache| {
            let mut dims = embeddings::DimensionGuard::new(cache);
            update_node_in(conn, pending, &mut dims, id, update)
        })
    }

    /// Merges a JSON merge patch (RFC 7386, JSON text) into a node's `meta`: keys of an object patch
    /// are set, a `null` removes its key, nested objects merge; a patch that is not an object replaces
    /// the meta, and a result of `null` clears it. `invalid_argument` when the patch (or the stored
    /// meta, when the patch must merge into it) is not JSON; `not_found` when the node is missing. The
    /// history row (`update_meta`) holds the meta before and after.
    pub fn merge_meta(&self, id: &str, patch: &str) -> Result<()> {
        let patch: serde_json::Value = serde_json::from_str(patch).map_err(|e| {
            Error::InvalidArgument(format!("meta patch for node {id:?} is not valid JSON: {e}"))
        })?;
        self.write("merge_meta", |conn, _, _| {
            let Some(old) = read_meta(conn, id)? else {
                return Err(Error::NotFound(format!("node {id:?}")));
            };
            let mut merged = match (&old, patch.is_object()) {
                (Some(text), true) => serde_json::from_str(text).map_err(|e| {
                    Error::InvalidArgument(format!(
                        "the stored meta of node {id:?} is not valid JSON ({e}), so a patch cannot \
                         merge into it; replace it with update_meta"
                    ))
                })?,
                _ => serde_json::Value::Null,
            };
            json_merge_patch(&mut merged, &patch);
            let new = (!merged.is_null()).then(|| merged.to_string());
            write_meta(conn, id, old.as_deref(), new.as_deref())
        })
    }

    /// Writes a node: the whole row (fields not given become NULL; `domain`/`layer` default), keeping
    /// its rowid; validates `meta` (JSON) and the embedding (FAFCAS, the database's dimension); records
    /// the history row in the same transaction.
    pub fn upsert_node(&self, node: &NodeInput) -> Result<()> {
        self.write("upsert_node", |conn, pending, cache| {
            let mut dims = embeddings::DimensionGuard::new(cache);
            let mut history = NodeHistory::default();
            upsert_node_in(conn, pending, &mut dims, &mut history, node)?;
            history.flush(conn)
        })
    }

    /// Writes many nodes in one transaction (all or nothing; the error names the failing index).
    pub fn upsert_nodes(&self, nodes: &[NodeInput]) -> Result<usize> {
        self.write("upsert_nodes", |conn, pending, cache| {
            let mut dims = embeddings::DimensionGuard::new(cache);
            let mut history = NodeHistory::default();
            for (i, n) in nodes.iter().enumerate() {
                upsert_node_in(conn, pending, &mut dims, &mut history, n)
                    .map_err(|e| e.context(format!("node #{i}")))?;
            }
            history.flush(conn)?;
            Ok(nodes.len())
        })
    }

    /// Reads a node (`None` when there is none).
    pub fn get_node(&self, id: &str) -> Result<Option<Node>> {
        self.get_node_with(id, false)
    }

    /// Reads a node, with its embedding when `with_embedding`.
    pub fn get_node_with(&self, id: &str, with_embedding: bool) -> Result<Option<Node>> {
        self.with_state(|s| {
            s.conn
                .prepare_cached(GET_NODE_SQL[usize::from(with_embedding)])
                .ctx("reading a node")?
                .query_row([id], |r| node_from_row(r, with_embedding))
                .optional()
                .ctx(format_args!("reading node {id:?}"))
        })
    }

    /// Lists nodes in id order, filtered by domain and type, paged by `limit`/`offset`.
    pub fn list_nodes(&self, opts: &ListOptions) -> Result<Vec<Node>> {
        let limit = match opts.limit {
            Some(l) => i64::try_from(l)
                .map_err(|_| Error::InvalidArgument(format!("limit {l} is too large")))?,
            None => -1,
        };
        let offset = i64::try_from(opts.offset)
            .map_err(|_| Error::InvalidArgument(format!("offset {} is too large", opts.offset)))?;
        self.with_state(|s| {
            let mut stmt = s
                .conn
                .prepare_cached(LIST_NODES_SQL[usize::from(opts.with_embeddings)])
                .ctx("listing nodes")?;
            let rows = stmt
                .query_map(params![opts.domain, opts.node_type, limit, offset], |r| {
                    node_from_row(r, opts.with_embeddings)
                })
                .ctx("listing nodes")?;
            rows.collect::<std::result::Result<Vec<_>, _>>()
                .ctx("listing nodes")
        })
    }

    /// Deletes a node with its edges and its vector, in one transaction (`not_found` when missing).
    pub fn delete_node(&self, id: &str) -> Result<()> {
        self.write("delete_node", |conn, pending, _| {
            let Some(old) = node_json(conn, id)? else {
                return Err(Error::NotFound(format!("node {id:?}")));
            };
            conn.prepare_cached("DELETE FROM edges WHERE source = ?1 OR target = ?1")
                .ctx("deleting edges")?
                .execute([id])
                .ctx(format_args!("deleting the edges of {id:?}"))?;
            conn.prepare_cached("DELETE FROM nodes WHERE id = ?1")
                .ctx("deleting a node")?
                .execute([id])
                .ctx(format_args!("deleting node {id:?}"))?;
            record(conn, "node", id, "delete", Some(&old), None)?;
            pending.ops.push(CacheOp::Remove(id.to_string()));
            pending.graph_dirty = true;
            Ok(())
        })
    }

    /// Adds an edge, or ignores it when `(source, target, type)` exists. Returns whether it was added.
    pub fn add_edge(&self, edge: &EdgeInput) -> Result<bool> {
        self.write("add_edge", |conn, pending, _| {
            add_edge_in(conn, pending, edge)
        })
    }

    /// Adds many edges in one transaction; returns how many were new.
    pub fn add_edges(&self, edges: &[EdgeInput]) -> Result<usize> {
        self.write("add_edges", |conn, pending, _| {
            let mut n = 0;
            for (i, e) in edges.iter().enumerate() {
                n += usize::from(
                    add_edge_in(conn, pending, e)
                        .map_err(|err| err.context(format!("edge #{i}")))?,
                );
            }
            Ok(n)
        })
    }

    /// Adds an edge or, when it exists, sets its confidence, veracity and context source.
    pub fn upsert_edge(&self, edge: &EdgeInput) -> Result<()> {
        self.write("upsert_edge", |conn, pending, _| {
            let (t, c, v) = edge_params(edge)?;
            let old = read_edge(conn, &edge.source, &edge.target, &t)?;
            conn.prepare_cached(
                "INSERT INTO edges (source, target, type, confidence, veracity, context_source) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(source, target, type) DO UPDATE SET \
                 confidence = excluded.confidence, veracity = excluded.veracity, \
                 context_source = excluded.context_source",
            )
            .ctx("upserting an edge")?
            .execute(params![
                edge.source,
                edge.target,
                t,
                c,
                v,
                edge.context_source
            ])
            .ctx(format_args!(
                "upserting edge {} -> {}",
                edge.source, edge.target
            ))?;
            let old_json = old.map(|o| serde_json::to_string(&o).unwrap_or_default());
            record(
                conn,
                "edge",
                &edge_key(&edge.source, &t, &edge.target),
                if old_json.is_some() {
                    "update"
                } else {
                    "insert"
                },
                old_json.as_deref(),
                Some(&edge_json(edge, &t, c, v)),
            )?;
            pending.graph_dirty = true;
            Ok(())
        })
    }

    /// Deletes an edge (`not_found` when missing); `edge_type` `None` means the default type
    /// ([`DEFAULT_EDGE_TYPE`], as for [`EdgeInput::edge_type`]).
    pub fn delete_edge(&self, source: &str, target: &str, edge_type: Option<&str>) -> Result<()> {
        let edge_type = edge_type.unwrap_or(DEFAULT_EDGE_TYPE);
        self.write("delete_edge", |conn, pending, _| {
            let Some(old) = read_edge(conn, source, target, edge_type)? else {
                return Err(Error::NotFound(format!(
                    "edge {source} -[{edge_type}]-> {target}"
                )));
            };
            conn.prepare_cached(
                "DELETE FROM edges WHERE source = ?1 AND target = ?2 AND type = ?3",
            )
            .ctx("deleting an edge")?
            .execute([source, target, edge_type])
            .ctx("deleting an edge")?;
            let old = serde_json::to_string(&old).unwrap_or_default();
            record(
                conn,
                "edge",
                &edge_key(source, edge_type, target),
                "delete",
                Some(&old),
                None,
            )?;
            pending.graph_dirty = true;
            Ok(())
        })
    }

    /// Edges out of `id`, ordered by target then type.
    pub fn edges_from(&self, id: &str) -> Result<Vec<Edge>> {
        self.edges_where("source", id)
    }

    /// Edges into `id`, ordered by source then type.
    pub fn edges_to(&self, id: &str) -> Result<Vec<Edge>> {
        self.edges_where("target", id)
    }

    fn edges_where(&self, col: &str, id: &str) -> Result<Vec<Edge>> {
        let other = if col == "source" { "target" } else { "source" };
        self.with_state(|s| {
            let mut stmt = s
                .conn
                .prepare_cached(&format!(
                    "SELECT source, target, type, confidence, veracity, context_source FROM edges \
                     WHERE {col} = ?1 ORDER BY {other}, type"
                ))
                .ctx("reading edges")?;
            let rows = stmt.query_map([id], edge_from_row).ctx("reading edges")?;
            rows.collect::<std::result::Result<Vec<_>, _>>()
                .ctx(format_args!("reading the edges of {id:?}"))
        })
    }

    /// Replaces a node's `meta` (JSON text; `not_found` when the node is missing). See
    /// [`Database::merge_meta`] to change some keys only.
    pub fn update_meta(&self, id: &str, meta: Option<&str>) -> Result<()> {
        let owned = meta.map(str::to_string);
        validate_meta(&owned, id)?;
        self.write("update_meta", |conn, _, _| {
            let Some(old) = read_meta(conn, id)? else {
                return Err(Error::NotFound(format!("node {id:?}")));
            };
            write_meta(conn, id, old.as_deref(), meta)
        })
    }

    /// The history of an entity (a node id, or `source|type|target` for an edge), oldest first.
    pub fn history(&self, entity_id: &str) -> Result<Vec<HistoryEntry>> {
        self.with_state(|s| {
            let mut stmt = s
                .conn
                .prepare_cached(
                    "SELECT id, entity_type, entity_id, action, old_value, new_value, timestamp FROM history \
                     WHERE entity_id = ?1 ORDER BY id",
                )
                .ctx("reading history")?;
            let rows = stmt
                .query_map([entity_id], |r| {
                    Ok(HistoryEntry {
                        id: r.get(0)?,
                        entity_type: r.get(1)?,
                        entity_id: r.get(2)?,
                        action: r.get(3)?,
                        old_value: r.get(4)?,
                        new_value: r.get(5)?,
                        timestamp: r.get(6)?,
                    })
                })
                .ctx("reading history")?;
            rows.collect::<std::result::Result<Vec<_>, _>>().ctx("reading history")
        })
    }

    /// Retention: deletes history rows older than `days` days, or beyond the newest `keep_last` rows.
    /// Returns how many were deleted.
    pub fn prune_history(
        &self,
        older_than_days: Option<u32>,
        keep_last: Option<u64>,
    ) -> Result<usize> {
        self.write("prune_history", |conn, _, _| {
            let mut n = 0;
            if let Some(d) = older_than_days {
                n += conn
                    .execute("DELETE FROM history WHERE timestamp < datetime('now', ?1)", [format!("-{d} days")])
                    .ctx("pruning history")?;
            }
            if let Some(k) = keep_last {
                let k = i64::try_from(k).unwrap_or(i64::MAX);
                n += conn
                    .execute("DELETE FROM history WHERE id NOT IN (SELECT id FROM history ORDER BY id DESC LIMIT ?1)", [k])
                    .ctx("pruning history")?;
            }
            Ok(n)
        })
    }

    /// Counts and sizes on disk (including the WAL).
    pub fn stats(&self) -> Result<Stats> {
        let path = self.path().to_path_buf();
        self.with_state(|s| {
            let c = &s.conn;
            let count = |sql: &str| -> Result<u64> { c.query_row(sql, [], |r| r.get::<_, i64>(0)).map(|n| n as u64).ctx(sql) };
            let nodes = count("SELECT count(*) FROM nodes")?;
            let edges = count("SELECT count(*) FROM edges")?;
            let vectors = count("SELECT count(*) FROM nodes WHERE embedding IS NOT NULL")?;
            let dangling = count(
                "SELECT count(*) FROM edges e WHERE NOT EXISTS (SELECT 1 FROM nodes n WHERE n.id = e.source) \
                 OR NOT EXISTS (SELECT 1 FROM nodes n WHERE n.id = e.target)",
            )?;
            let history = count("SELECT count(*) FROM history")?;
            s.cache.refresh(c)?;
            let dimension = embeddings::DimensionGuard::new(&mut s.cache).current(c)?;
            let size = |p: &std::path::Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
            let db_bytes = size(&path);
            let wal_bytes = size(&crate::connection::wal_path(&path));
            Ok(Stats {
                nodes,
                edges,
                vectors,
                dangling_edges: dangling,
                dimension,
                history,
                db_bytes,
                wal_bytes,
                size_bytes: db_bytes + wal_bytes,
            })
        })
    }

    /// `PRAGMA wal_checkpoint(mode)` (see [`CheckpointMode`]; the default is passive).
    pub fn checkpoint(&self, mode: CheckpointMode) -> Result<Checkpoint> {
        let m = mode.sql();
        self.check_writable("checkpoint")?;
        if self.options().external_replicator
            && matches!(mode, CheckpointMode::Restart | CheckpointMode::Truncate)
        {
            return Err(Error::InvalidArgument(format!(
                "checkpoint({mode}) of {}: the handle was opened with external_replicator, and a \
                 {mode} checkpoint resets the WAL the replicator reads; use passive or full (docs/scaling.md)",
                show(self.path())
            )));
        }
        self.with_state(|s| {
            s.conn
                .query_row(&format!("PRAGMA wal_checkpoint({m})"), [], |r| {
                    Ok(Checkpoint {
                        busy: r.get(0)?,
                        log: r.get(1)?,
                        checkpointed: r.get(2)?,
                    })
                })
                .ctx(format_args!("checkpointing {}", show(self.path())))
        })
    }

    /// `PRAGMA optimize` (also run on close).
    pub fn optimize(&self) -> Result<()> {
        self.check_writable("optimize")?;
        self.with_state(|s| {
            s.conn
                .execute_batch("PRAGMA optimize")
                .ctx("PRAGMA optimize")
        })
    }

    /// `VACUUM` (not inside a transaction).
    pub fn vacuum(&self) -> Result<()> {
        self.check_writable("vacuum")?;
        if self.options().external_replicator {
            return Err(Error::InvalidArgument(format!(
                "vacuum of {}: the handle was opened with external_replicator; VACUUM rewrites every \
                 page through the WAL and the replica must take it all in; stop the replicator (or \
                 open without the option) to vacuum (docs/scaling.md)",
                show(self.path())
            )));
        }
        self.with_state(|s| {
            if s.tx.is_some() {
                return Err(Error::InvalidArgument(
                    "vacuum cannot run inside a transaction".into(),
                ));
            }
            s.conn
                .execute_batch("VACUUM")
                .ctx(format_args!("vacuuming {}", show(self.path())))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Stored JSON text parses; text that does not stays a string; no text is null.
    #[test]
    fn stored_json_keeps_text_that_does_not_parse() {
        use serde_json::json;
        assert_eq!(
            parse_stored_json(Some(r#"{"a":[1,2]}"#)),
            json!({"a": [1, 2]})
        );
        assert_eq!(parse_stored_json(Some("not json")), json!("not json"));
        assert_eq!(parse_stored_json(Some("")), json!(""));
        assert_eq!(parse_stored_json(None), serde_json::Value::Null);
    }

    /// The history JSON is what serialising through `serde_json::Value` (sorted keys) gave before.
    #[test]
    fn history_json_keeps_the_sorted_value_layout() {
        let n = Node {
            id: "a\"b".into(),
            node_type: Some("note".into()),
            title: None,
            domain: Some("knowledge".into()),
            layer: Some("experience".into()),
            hash: Some("h".into()),
            summary: Some("s — ü".into()),
            meta: Some("{\"k\":1}".into()),
            date: None,
            embedding: None,
        };
        for dim in [None, Some(384)] {
            let mut v = serde_json::to_value(&n).unwrap();
            v.as_object_mut().unwrap().insert(
                "embedding".into(),
                dim.map_or(
                    serde_json::Value::Null,
                    |d| serde_json::json!({ "dimension": d }),
                ),
            );
            assert_eq!(history_json(&n, dim), v.to_string());
        }
    }

    /// A batch's history rows are inserted in chunks and keep the nodes' order, a node written twice in
    /// one batch gets "insert" then "update" with the first write as its old value.
    #[test]
    fn batch_history_keeps_order_and_actions() {
        let dir = tempfile::tempdir().unwrap();
        let db = Database::open(dir.path().join("h.db")).unwrap();
        let mut nodes: Vec<NodeInput> = (0..150)
            .map(|i| NodeInput {
                title: Some(format!("t{i}")),
                ..NodeInput::new(format!("n{i:03}"))
            })
            .collect();
        nodes.insert(
            100,
            NodeInput {
                title: Some("again".into()),
                ..NodeInput::new("n007")
            },
        );
        assert_eq!(db.upsert_nodes(&nodes).unwrap(), 151);
        let all: Vec<(i64, String, String)> = db
            .with_state(|s| {
                let mut st = s
                    .conn
                    .prepare("SELECT id, entity_id, action FROM history ORDER BY id")
                    .unwrap();
                let rows = st
                    .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                    .unwrap();
                Ok(rows.map(|r| r.unwrap()).collect())
            })
            .unwrap();
        assert_eq!(all.len(), 151);
        let ids: Vec<&str> = all.iter().map(|r| r.1.as_str()).collect();
        let want: Vec<&str> = nodes.iter().map(|n| n.id.as_str()).collect();
        assert_eq!(ids, want);
        assert!(all.windows(2).all(|w| w[0].0 < w[1].0));
        let h = db.history("n007").unwrap();
        assert_eq!(
            h.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(),
            ["insert", "update"]
        );
        assert!(h[1].old_value.as_deref().unwrap().contains("\"t7\""));
        assert!(h[1].new_value.as_deref().unwrap().contains("\"again\""));
    }
}
