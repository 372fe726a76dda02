//! The `#[repr(C)]` structs of the ABI: option structs the caller fills (here zero-initialised means
//! "defaults" for every one of them; the structs that grow, with a `size` first, are in `options`),
//! result structs the library allocates (each freed by exactly one
//! `resonance_*_free` function that accepts NULL), and plain value structs the caller provides storage
//! for (`resonance_stats`, `resonance_graph_stats`, `resonance_checkpoint`: nothing to free).
//!
//! Result structs are owned by the caller once returned: they do not point into the database handle,
//! stay valid after `resonance_db_close`/`resonance_db_free`, and may be read from any thread. Every
//! pointer inside one (strings, arrays) belongs to it and is freed with it.

use std::ffi::c_char;

use crate::{c_opt_string, c_string, free_array, free_c_string, into_array};

/// An open database (opaque). Create it with `resonance_db_open`, close it with `resonance_db_close`,
/// release it with `resonance_db_free`.
///
/// Thread-safety: a `resonance_db*` may be shared between threads and used from several at once;
/// calls are serialised inside the library except the pure computation of search and graph analytics.
/// An explicit transaction (`resonance_tx_begin`) belongs to the thread that began it: other threads'
/// calls wait for it to end (up to the busy timeout, then `RESONANCE_BUSY`).
pub struct resonance_db {
    pub(crate) _token: u8,
}

/// A node to write. Every `const char*` may be NULL (stored as NULL; `domain` defaults to
/// `"knowledge"`, `layer` to `"experience"`) except `id`. The strings are read during the call only.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct resonance_node_input {
    /// The id (required, non-empty).
    pub id: *const c_char,
    /// `type`.
    pub node_type: *const c_char,
    /// `title`.
    pub title: *const c_char,
    /// `domain` (NULL: `"knowledge"`).
    pub domain: *const c_char,
    /// `layer` (NULL: `"experience"`).
    pub layer: *const c_char,
    /// `hash` of the document.
    pub hash: *const c_char,
    /// `summary`.
    pub summary: *const c_char,
    /// `meta`: JSON text (must parse).
    pub meta: *const c_char,
    /// `date`.
    pub date: *const c_char,
    /// The embedding (`embedding_len` floats), or NULL for none. Validated and normalised before it
    /// is stored; the first vector of a database fixes its dimension.
    pub embedding: *const f32,
    /// Number of floats at `embedding`.
    pub embedding_len: usize,
}

/// The fields of a partial node update (`resonance_node_update`): a field changes only when its
/// `has_` flag is set, to its value (NULL clears it: `domain`/`layer` go back to their defaults,
/// `embedding` NULL removes the vector); a zero-initialised struct changes nothing. The strings and
/// the embedding are read during the call only.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct resonance_node_fields {
    /// Whether `node_type` is given.
    pub has_node_type: bool,
    /// `type`.
    pub node_type: *const c_char,
    /// Whether `title` is given.
    pub has_title: bool,
    /// `title`.
    pub title: *const c_char,
    /// Whether `domain` is given.
    pub has_domain: bool,
    /// `domain` (NULL: `"knowledge"`).
    pub domain: *const c_char,
    /// Whether `layer` is given.
    pub has_layer: bool,
    /// `layer` (NULL: `"experience"`).
    pub layer: *const c_char,
    /// Whether `hash` is given.
    pub has_hash: bool,
    /// `hash` of the document.
    pub hash: *const c_char,
    /// Whether `summary` is given.
    pub has_summary: bool,
    /// `summary`.
    pub summary: *const c_char,
    /// Whether `meta` is given.
    pub has_meta: bool,
    /// `meta`: JSON text (must parse), replaced whole (see `resonance_node_merge_meta`).
    pub meta: *const c_char,
    /// Whether `date` is given.
    pub has_date: bool,
    /// `date`.
    pub date: *const c_char,
    /// Whether `embedding` is given.
    pub has_embedding: bool,
    /// The new embedding (`embedding_len` floats), or NULL to remove it. Validated and normalised
    /// like `resonance_node_upsert`'s.
    pub embedding: *const f32,
    /// Number of floats at `embedding`.
    pub embedding_len: usize,
}

/// An edge to write. `edge_type` NULL means `"related_to"`; confidence and veracity default to 1
/// unless their `has_` flag is set; `context_source` may be NULL.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct resonance_edge_input {
    /// Source node id (required; the node need not exist).
    pub source: *const c_char,
    /// Target node id (required).
    pub target: *const c_char,
    /// Edge type (case-sensitive); NULL means `"related_to"`.
    pub edge_type: *const c_char,
    /// Whether `confidence` is given.
    pub has_confidence: bool,
    /// Confidence (finite).
    pub confidence: f64,
    /// Whether `veracity` is given.
    pub has_veracity: bool,
    /// Veracity (finite).
    pub veracity: f64,
    /// Where the edge came from, or NULL.
    pub context_source: *const c_char,
}

/// A stored node. Each string is NULL when the column is NULL. `embedding` is NULL (and
/// `embedding_len` 0) unless the embedding was asked for and is well-formed.
#[repr(C)]
#[derive(Debug)]
pub struct resonance_node {
    /// `id`.
    pub id: *mut c_char,
    /// `type`.
    pub node_type: *mut c_char,
    /// `title`.
    pub title: *mut c_char,
    /// `domain`.
    pub domain: *mut c_char,
    /// `layer`.
    pub layer: *mut c_char,
    /// `hash`.
    pub hash: *mut c_char,
    /// `summary`.
    pub summary: *mut c_char,
    /// `meta` as stored (JSON text).
    pub meta: *mut c_char,
    /// `date`.
    pub date: *mut c_char,
    /// The embedding (unit length), or NULL.
    pub embedding: *mut f32,
    /// Floats at `embedding`.
    pub embedding_len: usize,
}

impl resonance_node {
    pub(crate) fn from_core(n: resonance::Node) -> resonance_node {
        let (embedding, embedding_len) = into_array(n.embedding.unwrap_or_default());
        resonance_node {
            id: c_string(&n.id),
            node_type: c_opt_string(n.node_type.as_deref()),
            title: c_opt_string(n.title.as_deref()),
            domain: c_opt_string(n.domain.as_deref()),
            layer: c_opt_string(n.layer.as_deref()),
            hash: c_opt_string(n.hash.as_deref()),
            summary: c_opt_string(n.summary.as_deref()),
            meta: c_opt_string(n.meta.as_deref()),
            date: c_opt_string(n.date.as_deref()),
            embedding,
            embedding_len,
        }
    }
}

impl Drop for resonance_node {
    fn drop(&mut self) {
        for s in [
            self.id,
            self.node_type,
            self.title,
            self.domain,
            self.layer,
            self.hash,
            self.summary,
            self.meta,
            self.date,
        ] {
            free_c_string(s);
        }
        free_array(self.embedding, self.embedding_len);
    }
}

/// A list of nodes. Free it with `resonance_nodes_free` (which frees every node in it; never free an
/// element on its own).
#[repr(C)]
#[derive(Debug)]
pub struct resonance_nodes {
    /// The nodes (NULL when `len` is 0).
    pub items: *mut resonance_node,
    /// How many.
    pub len: usize,
}

impl Drop for resonance_nodes {
    fn drop(&mut self) {
        free_array(self.items, self.len);
    }
}

/// An edge. `has_confidence`/`has_veracity` are false when the column is NULL (files written by
/// others); `context_source` may be NULL.
#[repr(C)]
#[derive(Debug)]
pub struct resonance_edge {
    /// Source node id.
    pub source: *mut c_char,
    /// Target node id.
    pub target: *mut c_char,
    /// Edge type.
    pub edge_type: *mut c_char,
    /// Whether `confidence` holds a value.
    pub has_confidence: bool,
    /// Confidence.
    pub confidence: f64,
    /// Whether `veracity` holds a value.
    pub has_veracity: bool,
    /// Veracity.
    pub veracity: f64,
    /// Where the edge came from, or NULL.
    pub context_source: *mut c_char,
}

impl resonance_edge {
    pub(crate) fn from_core(e: resonance::Edge) -> resonance_edge {
        resonance_edge {
            source: c_string(&e.source),
            target: c_string(&e.target),
            edge_type: c_string(&e.edge_type),
            has_confidence: e.confidence.is_some(),
            confidence: e.confidence.unwrap_or(0.0),
            has_veracity: e.veracity.is_some(),
            veracity: e.veracity.unwrap_or(0.0),
            context_source: c_opt_string(e.context_source.as_deref()),
        }
    }
}

impl Drop for resonance_edge {
    fn drop(&mut self) {
        for s in [
            self.source,
            self.target,
            self.edge_type,
            self.context_source,
        ] {
            free_c_string(s);
        }
    }
}

/// A list of edges, freed by `resonance_edges_free`.
#[repr(C)]
#[derive(Debug)]
pub struct resonance_edges {
    /// The edges (NULL when `len` is 0).
    pub items: *mut resonance_edge,
    /// How many.
    pub len: usize,
}

impl Drop for resonance_edges {
    fn drop(&mut self) {
        free_array(self.items, self.len);
    }
}

/// One history row. `old_value`/`new_value` are compact JSON text or NULL.
#[repr(C)]
#[derive(Debug)]
pub struct resonance_history_entry {
    /// Row id (increasing).
    pub id: i64,
    /// `"node"` or `"edge"`.
    pub entity_type: *mut c_char,
    /// The node id, or `"source|type|target"` for an edge.
    pub entity_id: *mut c_char,
    /// `"insert"`, `"update"` (also `resonance_node_update`), `"delete"`, `"update_meta"` (also
    /// `resonance_node_merge_meta`) or `"set_embedding"`.
    pub action: *mut c_char,
    /// JSON of the row before, or NULL.
    pub old_value: *mut c_char,
    /// JSON of the row after, or NULL.
    pub new_value: *mut c_char,
    /// When (UTC, `YYYY-MM-DD HH:MM:SS`), or NULL.
    pub timestamp: *mut c_char,
}

impl Drop for resonance_history_entry {
    fn drop(&mut self) {
        for s in [
            self.entity_type,
            self.entity_id,
            self.action,
            self.old_value,
            self.new_value,
            self.timestamp,
        ] {
            free_c_string(s);
        }
    }
}

/// An entity's history, oldest first; freed by `resonance_history_free`.
#[repr(C)]
#[derive(Debug)]
pub struct resonance_history {
    /// The rows (NULL when `len` is 0).
    pub items: *mut resonance_history_entry,
    /// How many.
    pub len: usize,
}

impl Drop for resonance_history {
    fn drop(&mut self) {
        free_array(self.items, self.len);
    }
}

/// A list of strings (ids, step ids, warnings), freed by `resonance_strings_free`.
#[repr(C)]
#[derive(Debug)]
pub struct resonance_strings {
    /// The strings (NULL when `len` is 0).
    pub items: *mut *mut c_char,
    /// How many.
    pub len: usize,
}

impl resonance_strings {
    pub(crate) fn from_vec<S: AsRef<str>>(v: &[S]) -> resonance_strings {
        let (items, len) = into_array(v.iter().map(|s| c_string(s.as_ref())).collect());
        resonance_strings { items, len }
    }
}

impl Drop for resonance_strings {
    fn drop(&mut self) {
        if !self.items.is_null() {
            // SAFETY: `items` holds `len` strings made by `c_string`.
            for i in 0..self.len {
                free_c_string(unsafe { *self.items.add(i) });
            }
        }
        free_array(self.items, self.len);
    }
}

/// A search hit: a node id and its score (the cosine with the query).
#[repr(C)]
#[derive(Debug)]
pub struct resonance_hit {
    /// The node id.
    pub id: *mut c_char,
    /// The score.
    pub score: f32,
}

impl Drop for resonance_hit {
    fn drop(&mut self) {
        free_c_string(self.id);
    }
}

/// Search hits, scores descending (ties by id ascending); freed by `resonance_hits_free`.
#[repr(C)]
#[derive(Debug)]
pub struct resonance_hits {
    /// The hits (NULL when `len` is 0).
    pub items: *mut resonance_hit,
    /// How many.
    pub len: usize,
}

impl resonance_hits {
    pub(crate) fn from_core(hits: Vec<resonance::Hit>) -> resonance_hits {
        let (items, len) = into_array(
            hits.into_iter()
                .map(|h| resonance_hit {
                    id: c_string(&h.id),
                    score: h.score,
                })
                .collect(),
        );
        resonance_hits { items, len }
    }
}

impl Drop for resonance_hits {
    fn drop(&mut self) {
        free_array(self.items, self.len);
    }
}

/// The hits of each query of a batch, in query order; freed by `resonance_hits_batch_free`.
#[repr(C)]
#[derive(Debug)]
pub struct resonance_hits_batch {
    /// One hit list per query (NULL when `len` is 0).
    pub items: *mut resonance_hits,
    /// How many queries.
    pub len: usize,
}

impl Drop for resonance_hits_batch {
    fn drop(&mut self) {
        free_array(self.items, self.len);
    }
}

/// A vector of floats (an embedding), freed by `resonance_vector_free`.
#[repr(C)]
#[derive(Debug)]
pub struct resonance_vector {
    /// The floats (NULL when `len` is 0).
    pub data: *mut f32,
    /// How many.
    pub len: usize,
}

impl Drop for resonance_vector {
    fn drop(&mut self) {
        free_array(self.data, self.len);
    }
}

/// A node id and a score.
#[repr(C)]
#[derive(Debug)]
pub struct resonance_ranking {
    /// The node id.
    pub id: *mut c_char,
    /// Its score.
    pub score: f64,
}

impl Drop for resonance_ranking {
    fn drop(&mut self) {
        free_c_string(self.id);
    }
}

/// Scores per node (PageRank, betweenness), in id order; freed by `resonance_rankings_free`.
#[repr(C)]
#[derive(Debug)]
pub struct resonance_rankings {
    /// The scores (NULL when `len` is 0).
    pub items: *mut resonance_ranking,
    /// How many.
    pub len: usize,
}

impl resonance_rankings {
    pub(crate) fn from_core(v: Vec<resonance::Ranking>) -> resonance_rankings {
        let (items, len) = into_array(
            v.into_iter()
                .map(|r| resonance_ranking {
                    id: c_string(&r.id),
                    score: r.score,
                })
                .collect(),
        );
        resonance_rankings { items, len }
    }
}

impl Drop for resonance_rankings {
    fn drop(&mut self) {
        free_array(self.items, self.len);
    }
}

/// A node and the community it belongs to.
#[repr(C)]
#[derive(Debug)]
pub struct resonance_community_member {
    /// The node id.
    pub id: *mut c_char,
    /// Its community number (0-based).
    pub community: usize,
}

impl Drop for resonance_community_member {
    fn drop(&mut self) {
        free_c_string(self.id);
    }
}

/// A Louvain partition and its modularity; freed by `resonance_communities_free`.
#[repr(C)]
#[derive(Debug)]
pub struct resonance_communities {
    /// Every node with its community, in id order (NULL when `len` is 0).
    pub items: *mut resonance_community_member,
    /// How many nodes.
    pub len: usize,
    /// The partition's directed modularity.
    pub modularity: f64,
}

impl Drop for resonance_communities {
    fn drop(&mut self) {
        free_array(self.items, self.len);
    }
}

/// Weakly connected components, largest first, each a list of ids; freed by
/// `resonance_components_free`.
#[repr(C)]
#[derive(Debug)]
pub struct resonance_components {
    /// The components (NULL when `len` is 0).
    pub items: *mut resonance_strings,
    /// How many.
    pub len: usize,
}

impl Drop for resonance_components {
    fn drop(&mut self) {
        free_array(self.items, self.len);
    }
}

/// A suggested edge and its Adamic-Adar score.
#[repr(C)]
#[derive(Debug)]
pub struct resonance_link_candidate {
    /// One end.
    pub source: *mut c_char,
    /// The other end.
    pub target: *mut c_char,
    /// The Adamic-Adar index.
    pub score: f64,
}

impl Drop for resonance_link_candidate {
    fn drop(&mut self) {
        free_c_string(self.source);
        free_c_string(self.target);
    }
}

/// Link candidates, best first; freed by `resonance_link_candidates_free`.
#[repr(C)]
#[derive(Debug)]
pub struct resonance_link_candidates {
    /// The candidates (NULL when `len` is 0).
    pub items: *mut resonance_link_candidate,
    /// How many.
    pub len: usize,
}

impl Drop for resonance_link_candidates {
    fn drop(&mut self) {
        free_array(self.items, self.len);
    }
}

/// A pillar: a top PageRank node with its degree.
#[repr(C)]
#[derive(Debug)]
pub struct resonance_pillar {
    /// The node id.
    pub id: *mut c_char,
    /// Its PageRank.
    pub pagerank: f64,
    /// Its in- plus out-degree.
    pub degree: usize,
}

impl Drop for resonance_pillar {
    fn drop(&mut self) {
        free_c_string(self.id);
    }
}

/// Pillars, best first; freed by `resonance_pillars_free`.
#[repr(C)]
#[derive(Debug)]
pub struct resonance_pillars {
    /// The pillars (NULL when `len` is 0).
    pub items: *mut resonance_pillar,
    /// How many.
    pub len: usize,
}

impl Drop for resonance_pillars {
    fn drop(&mut self) {
        free_array(self.items, self.len);
    }
}

/// Counts and sizes (caller-provided storage; nothing to free).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct resonance_stats {
    /// Nodes.
    pub nodes: u64,
    /// Edges.
    pub edges: u64,
    /// Nodes with an embedding.
    pub vectors: u64,
    /// Edges with a missing endpoint.
    pub dangling_edges: u64,
    /// The database's vector dimension; 0 while no vector has fixed it.
    pub dimension: u32,
    /// History rows.
    pub history: u64,
    /// Bytes of the database file.
    pub db_bytes: u64,
    /// Bytes of the `-wal` file.
    pub wal_bytes: u64,
    /// Both.
    pub size_bytes: u64,
}

/// Graph counts (caller-provided storage; nothing to free).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct resonance_graph_stats {
    /// Nodes.
    pub nodes: u64,
    /// Edges between existing nodes.
    pub edges: u64,
    /// edges / (nodes · (nodes − 1)), 0 below two nodes.
    pub density: f64,
    /// Edges skipped because an endpoint node is missing.
    pub skipped_edges: u64,
}

/// SQLite's answer to a WAL checkpoint (caller-provided storage; nothing to free).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct resonance_checkpoint {
    /// 1 when the checkpoint could not complete because of a lock.
    pub busy: i64,
    /// Frames in the WAL.
    pub log: i64,
    /// Frames checkpointed.
    pub checkpointed: i64,
}

/// How many well-formed stored vectors have a dimension.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct resonance_dimension_count {
    /// The dimension.
    pub dimension: u32,
    /// How many vectors have it.
    pub count: u64,
}

/// The health report of docs/connections.md; freed by `resonance_health_free`. Every string is non-NULL except
/// `schema_problem`.
#[repr(C)]
#[derive(Debug)]
pub struct resonance_health {
    /// The database path.
    pub path: *mut c_char,
    /// Whether the handle is read-only.
    pub read_only: bool,
    /// `PRAGMA journal_mode` (`"wal"`).
    pub journal_mode: *mut c_char,
    /// `PRAGMA busy_timeout`, ms.
    pub busy_timeout_ms: i64,
    /// `PRAGMA synchronous`.
    pub synchronous: *mut c_char,
    /// `PRAGMA mmap_size`.
    pub mmap_size: i64,
    /// `PRAGMA foreign_keys`.
    pub foreign_keys: bool,
    /// `PRAGMA temp_store`.
    pub temp_store: *mut c_char,
    /// `PRAGMA cache_size`.
    pub cache_size: i64,
    /// `PRAGMA query_only`.
    pub query_only: bool,
    /// The SQLite library version.
    pub sqlite_version: *mut c_char,
    /// `PRAGMA quick_check`: `"ok"` or the problems found.
    pub quick_check: *mut c_char,
    /// The schema shape (`"current"`, `"legacy_v5_v8"`, …).
    pub schema_shape: *mut c_char,
    /// Ids of the migration steps that would run.
    pub pending: resonance_strings,
    /// A problem with the schema itself (unknown shape, too new), or NULL.
    pub schema_problem: *mut c_char,
    /// Warnings from the migration plan.
    pub schema_warnings: resonance_strings,
    /// Nodes with a non-NULL embedding.
    pub vector_count: u64,
    /// The recorded vector dimension; 0 when none is recorded.
    pub recorded_dimension: u32,
    /// Dimensions seen among well-formed blobs (NULL when `dimensions_len` is 0).
    pub dimensions: *mut resonance_dimension_count,
    /// How many entries `dimensions` has.
    pub dimensions_len: usize,
    /// All-zero vectors.
    pub zero_vectors: u64,
    /// Vectors whose L2 norm is not 1 (±1e-3).
    pub non_normalised_vectors: u64,
    /// Blobs whose length is not a multiple of 4, or holding NaN/Inf.
    pub malformed_vectors: u64,
    /// Nodes.
    pub nodes: u64,
    /// Edges.
    pub edges: u64,
    /// Edges whose source or target node is missing.
    pub dangling_edges: u64,
    /// `"ok"`, `"skipped (read-only handle)"` or the failure.
    pub write_probe: *mut c_char,
    /// Problems worth attention, for people (empty when healthy).
    pub problems: resonance_strings,
    /// Content checks (no nodes, embedding coverage or edge density below the library's
    /// thresholds), for people; not problems of the file.
    pub content: resonance_strings,
    /// The codes of the stats verdict's errors (docs/stats.md; `resonance_db_validate_stats` has
    /// the messages and the snapshots).
    pub stats_errors: resonance_strings,
    /// The codes of the stats verdict's warnings.
    pub stats_warnings: resonance_strings,
    /// The handle was opened with `external_replicator`.
    pub external_replicator: bool,
    /// The file holds Litestream's bookkeeping tables.
    pub litestream_seen: bool,
}

impl resonance_health {
    pub(crate) fn from_core(h: resonance::HealthReport) -> resonance_health {
        let problems = h.problems();
        let (dimensions, dimensions_len) = into_array(
            h.vectors
                .dimensions
                .iter()
                .map(|(d, c)| resonance_dimension_count {
                    dimension: u32::try_from(*d).unwrap_or(u32::MAX),
                    count: *c,
                })
                .collect(),
        );
        resonance_health {
            path: c_string(&h.path),
            read_only: h.read_only,
            journal_mode: c_string(&h.journal_mode),
            busy_timeout_ms: h.busy_timeout_ms,
            synchronous: c_string(&h.synchronous),
            mmap_size: h.mmap_size,
            foreign_keys: h.foreign_keys,
            temp_store: c_string(&h.temp_store),
            cache_size: h.cache_size,
            query_only: h.query_only,
            sqlite_version: c_string(&h.sqlite_version),
            quick_check: c_string(&h.quick_check),
            schema_shape: c_string(&h.schema.shape),
            pending: resonance_strings::from_vec(&h.schema.pending),
            schema_problem: c_opt_string(h.schema.problem.as_deref()),
            schema_warnings: resonance_strings::from_vec(&h.schema.warnings),
            vector_count: h.vectors.count,
            recorded_dimension: h
                .vectors
                .recorded_dimension
                .map_or(0, |d| u32::try_from(d).unwrap_or(u32::MAX)),
            dimensions,
            dimensions_len,
            zero_vectors: h.vectors.zero,
            non_normalised_vectors: h.vectors.non_normalised,
            malformed_vectors: h.vectors.malformed,
            nodes: h.nodes,
            edges: h.edges,
            dangling_edges: h.dangling_edges,
            write_probe: c_string(&h.write_probe),
            problems: resonance_strings::from_vec(&problems),
            content: resonance_strings::from_vec(&h.content),
            stats_errors: resonance_strings::from_vec(
                &h.stats
                    .errors
                    .iter()
                    .map(|f| f.code.as_str())
                    .collect::<Vec<_>>(),
            ),
            stats_warnings: resonance_strings::from_vec(
                &h.stats
                    .warnings
                    .iter()
                    .map(|f| f.code.as_str())
                    .collect::<Vec<_>>(),
            ),
            external_replicator: h.external_replicator,
            litestream_seen: h.litestream_seen,
        }
    }
}

impl Drop for resonance_health {
    fn drop(&mut self) {
        for s in [
            self.path,
            self.journal_mode,
            self.synchronous,
            self.temp_store,
            self.sqlite_version,
            self.quick_check,
            self.schema_shape,
            self.schema_problem,
            self.write_probe,
        ] {
            free_c_string(s);
        }
        free_array(self.dimensions, self.dimensions_len);
    }
}
