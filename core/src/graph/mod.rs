//! Graph analytics on a compact in-memory snapshot of `nodes` and `edges` (docs/graph.md).
//!
//! This module owns [`GraphSnapshot`]: node ids interned to dense `u32` indices and CSR out- and
//! in-adjacency, plus every graph algorithm of the engine as a method on it. It reads the two tables
//! once ([`GraphSnapshot::load`]) and never writes; deciding *when* a snapshot is stale (and
//! rebuilding it) belongs to the caller (`Database`), not here.
//!
//! # Semantics (the oracle is networkx, see `tests/conformance/oracle/graph_oracle.py`)
//! * A directed multigraph with self-loops: parallel edges are kept (one per `(source, target,
//!   type)` row) and self-loops count. Edges whose endpoint node is missing are skipped and counted
//!   ([`GraphSnapshot::skipped_edges`]).
//! * Node indices are assigned in ascending id order (byte order of the UTF-8 string, which is
//!   code-point order, like Python's `sorted`), so "ascending index" is "ascending id" everywhere:
//!   each adjacency list is sorted that way and every result is deterministic (also across thread
//!   counts).
//! * An empty graph gives empty results, never an error; an unknown id is [`Error::NotFound`];
//!   a bad argument (alpha outside [0, 1], a zero sample…) is [`Error::InvalidArgument`].
//! * Choices networkx leaves open or where we differ, each documented on its method: `neighbors`
//!   includes the node itself only through a self-loop; `shortest_path` returns the
//!   lexicographically smallest shortest path (what a BFS in id order finds); PageRank returns the
//!   last iterate when it does not converge; sampled betweenness draws its own pivots; Louvain uses
//!   its own seeded shuffle, keeps the best of a few runs on small graphs and ends with a
//!   refinement round (its modularity is checked to be at least networkx's − 0.01).
//!
//! Layout: `options` (the options of every call, with their defaults, and the named results),
//! `basic` (neighbourhoods, BFS, shortest path, components, stats), `pagerank`,
//! `betweenness` (Brandes), `louvain` (communities, modularity), `linkpred` (Adamic-Adar, link
//! candidates, pillars), `rng` (SplitMix64). Must not: write to the database, hold a connection,
//! or know about any binding.

use std::borrow::Cow;

use rusqlite::types::ValueRef;

use crate::error::{Error, Result};

mod basic;
mod betweenness;
mod linkpred;
mod louvain;
mod options;
mod pagerank;
mod rng;

pub use basic::GraphStats;
pub use louvain::Communities;
pub use options::{
    BetweennessOptions, CommunityOptions, Direction, LinkCandidate, LinkCandidateOptions,
    PageRankOptions, PathOptions, Pillar, PillarOptions, Ranking, TraverseOptions, DEFAULT_ALPHA,
    DEFAULT_LIMIT, DEFAULT_MAX_ITERATIONS, DEFAULT_TOLERANCE,
};

/// Hash of an id's bytes: FxHash-style word mixing plus a final avalanche. Not keyed: ids are not
/// an attack surface worth more than a slower load.
#[inline]
fn hash_bytes(bytes: &[u8]) -> u64 {
    const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;
    let mut h = bytes.len() as u64;
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_le_bytes(c.try_into().unwrap_or([0; 8]));
        h = (h.rotate_left(5) ^ w).wrapping_mul(K);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut b = [0u8; 8];
        b[..rest.len()].copy_from_slice(rest);
        h = (h.rotate_left(5) ^ u64::from_le_bytes(b)).wrapping_mul(K);
    }
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h
}

/// Id → index: an open-addressing table of `(hash fragment, index)` slots over the ids packed in
/// one buffer (two cache misses per lookup instead of the three of a `HashMap<String, _>`).
#[derive(Clone, Default)]
struct IdIndex {
    arena: Vec<u8>,
    ends: Vec<usize>,
    /// `hash >> 32 << 32 | (index + 1)`; 0 is an empty slot.
    slots: Vec<u64>,
}

impl IdIndex {
    /// `ids` must be distinct.
    fn new(ids: &[String]) -> IdIndex {
        let mut arena = Vec::with_capacity(ids.iter().map(String::len).sum());
        let mut ends = Vec::with_capacity(ids.len());
        for id in ids {
            arena.extend_from_slice(id.as_bytes());
            ends.push(arena.len());
        }
        let cap = (ids.len() * 2).next_power_of_two().max(16);
        let mut slots = vec![0u64; cap];
        let mask = cap - 1;
        for (i, id) in ids.iter().enumerate() {
            let h = hash_bytes(id.as_bytes());
            let mut at = h as usize & mask;
            while slots[at] != 0 {
                at = (at + 1) & mask;
            }
            slots[at] = (h >> 32 << 32) | (i as u64 + 1);
        }
        IdIndex { arena, ends, slots }
    }

    /// The bytes of id `i`.
    #[inline]
    fn bytes(&self, i: u32) -> &[u8] {
        let i = i as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.arena[start..self.ends[i]]
    }

    #[inline]
    fn get(&self, key: &[u8]) -> Option<u32> {
        if self.ends.is_empty() {
            return None;
        }
        let h = hash_bytes(key);
        let mask = self.slots.len() - 1;
        let mut at = h as usize & mask;
        loop {
            let e = self.slots[at];
            if e == 0 {
                return None;
            }
            if e >> 32 == h >> 32 {
                let i = (e & 0xffff_ffff) as u32 - 1;
                if self.bytes(i) == key {
                    return Some(i);
                }
            }
            at = (at + 1) & mask;
        }
    }
}

/// Compressed sparse rows: the neighbours of `u` are `targets[offsets[u]..offsets[u + 1]]`.
#[derive(Clone, Default)]
pub(crate) struct Csr {
    pub(crate) offsets: Vec<usize>,
    pub(crate) targets: Vec<u32>,
}

impl Csr {
    #[inline]
    pub(crate) fn row(&self, u: u32) -> &[u32] {
        let u = u as usize;
        &self.targets[self.offsets[u]..self.offsets[u + 1]]
    }
}

/// A read-only, compact snapshot of the graph: ids interned to `u32` in ascending id order, CSR out-
/// and in-adjacency (each list sorted ascending, parallel edges repeated).
///
/// Cheap to share between threads (`Send + Sync`, no interior mutability). Build it with
/// [`GraphSnapshot::from_rows`] or [`GraphSnapshot::load`].
#[derive(Clone)]
pub struct GraphSnapshot {
    /// Node ids, ascending; the index of an id is its interned number.
    ids: Vec<String>,
    index: IdIndex,
    out: Csr,
    inc: Csr,
    skipped: usize,
}

impl std::fmt::Debug for GraphSnapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GraphSnapshot")
            .field("nodes", &self.ids.len())
            .field("edges", &self.out.targets.len())
            .field("skipped_edges", &self.skipped)
            .finish()
    }
}

impl Default for GraphSnapshot {
    fn default() -> Self {
        GraphSnapshot::from_rows(Vec::<String>::new(), Vec::<(String, String)>::new())
    }
}

/// Collects interned edges, then lays out the CSR arrays.
struct Builder {
    ids: Vec<String>,
    index: IdIndex,
    edges: Vec<(u32, u32)>,
    skipped: usize,
}

impl Builder {
    fn new(mut ids: Vec<String>) -> Builder {
        ids.sort_unstable();
        ids.dedup();
        let index = IdIndex::new(&ids);
        Builder {
            ids,
            index,
            edges: Vec::new(),
            skipped: 0,
        }
    }

    #[inline]
    fn add(&mut self, source: &str, target: &str) {
        match (
            self.index.get(source.as_bytes()),
            self.index.get(target.as_bytes()),
        ) {
            (Some(s), Some(t)) => self.edges.push((s, t)),
            _ => self.skipped += 1,
        }
    }

    fn finish(self) -> GraphSnapshot {
        let n = self.ids.len();
        // Bucket by source (insertion order inside a bucket) ...
        let mut first = counting_rows(n, self.edges.iter().map(|e| e.0));
        {
            let mut pos = first.offsets.clone();
            for &(s, t) in &self.edges {
                first.targets[pos[s as usize]] = t;
                pos[s as usize] += 1;
            }
        }
        drop(self.edges);
        // ... transpose twice: a transpose walks rows in ascending order, so it emits sorted rows.
        let inc = transpose(n, &first);
        let out = transpose(n, &inc);
        GraphSnapshot {
            ids: self.ids,
            index: self.index,
            out,
            inc,
            skipped: self.skipped,
        }
    }
}

/// Offsets from the row of each entry, with a zeroed target array of the right length.
fn counting_rows(n: usize, rows: impl Iterator<Item = u32>) -> Csr {
    let mut offsets = vec![0usize; n + 1];
    let mut m = 0usize;
    for r in rows {
        offsets[r as usize + 1] += 1;
        m += 1;
    }
    for i in 0..n {
        offsets[i + 1] += offsets[i];
    }
    Csr {
        offsets,
        targets: vec![0; m],
    }
}

/// The transpose of `csr`; every row of the result is sorted ascending.
fn transpose(n: usize, csr: &Csr) -> Csr {
    let mut t = counting_rows(n, csr.targets.iter().copied());
    let mut pos = t.offsets.clone();
    for u in 0..n as u32 {
        for &v in csr.row(u) {
            t.targets[pos[v as usize]] = u;
            pos[v as usize] += 1;
        }
    }
    t
}

/// The text of an id column: TEXT as is, INTEGER/REAL printed, NULL and BLOB as none.
fn id_text(v: ValueRef<'_>) -> Option<Cow<'_, str>> {
    match v {
        ValueRef::Text(t) => Some(String::from_utf8_lossy(t)),
        ValueRef::Integer(i) => Some(Cow::Owned(i.to_string())),
        ValueRef::Real(r) => Some(Cow::Owned(r.to_string())),
        ValueRef::Null | ValueRef::Blob(_) => None,
    }
}

/// Edge rows per batch handed from the SQLite thread to the interning thread.
const ROW_BATCH: usize = 8192;

/// Raw edge rows: endpoint texts packed into one buffer, two ends per row; rows with a NULL or
/// BLOB endpoint are only counted.
#[derive(Default)]
struct RowBatch {
    bytes: Vec<u8>,
    ends: Vec<usize>,
    unusable: usize,
}

impl RowBatch {
    fn push(&mut self, s: ValueRef<'_>, t: ValueRef<'_>) {
        if matches!(s, ValueRef::Null | ValueRef::Blob(_))
            || matches!(t, ValueRef::Null | ValueRef::Blob(_))
        {
            self.unusable += 1;
            return;
        }
        for v in [s, t] {
            match v {
                ValueRef::Text(x) => self.bytes.extend_from_slice(x),
                ValueRef::Integer(i) => self.bytes.extend_from_slice(i.to_string().as_bytes()),
                ValueRef::Real(r) => self.bytes.extend_from_slice(r.to_string().as_bytes()),
                ValueRef::Null | ValueRef::Blob(_) => {}
            }
            self.ends.push(self.bytes.len());
        }
    }

    /// Interns the rows; consecutive rows with the same source (the usual order of the primary-key
    /// index SQLite scans) look the source up once.
    fn resolve(&self, index: &IdIndex, edges: &mut Vec<(u32, u32)>, skipped: &mut usize) {
        *skipped += self.unusable;
        // Node ids went through a lossy UTF-8 decoding; endpoint bytes must match that.
        let get = |b: &[u8]| -> Option<u32> {
            match std::str::from_utf8(b) {
                Ok(_) => index.get(b),
                Err(_) => index.get(String::from_utf8_lossy(b).as_bytes()),
            }
        };
        let mut prev: (&[u8], Option<u32>) = (&[], None);
        let mut start = 0;
        for pair in self.ends.chunks_exact(2) {
            let s = &self.bytes[start..pair[0]];
            let t = &self.bytes[pair[0]..pair[1]];
            start = pair[1];
            if prev.0 != s || prev.0.is_empty() {
                prev = (s, get(s));
            }
            match (prev.1, get(t)) {
                (Some(a), Some(b)) => edges.push((a, b)),
                _ => *skipped += 1,
            }
        }
    }
}

impl GraphSnapshot {
    /// Builds a snapshot from node ids and `(source, target)` edges. Duplicate node ids are merged;
    /// edges naming a node that is not in `nodes` are skipped and counted.
    pub fn from_rows(
        nodes: impl IntoIterator<Item = String>,
        edges: impl IntoIterator<Item = (String, String)>,
    ) -> GraphSnapshot {
        let mut b = Builder::new(nodes.into_iter().collect());
        for (s, t) in edges {
            b.add(&s, &t);
        }
        b.finish()
    }

    /// Loads `SELECT id FROM nodes` and `SELECT source, target FROM edges` from `conn`.
    ///
    /// Non-text ids are read as their printed value; a NULL (or BLOB) node id is ignored and an edge
    /// with a NULL (or BLOB) endpoint is skipped like a dangling one.
    pub fn load(conn: &rusqlite::Connection) -> Result<GraphSnapshot> {
        let sql = |e| Error::sqlite(e, "loading graph");
        let mut ids = Vec::new();
        {
            let mut stmt = conn.prepare("SELECT id FROM nodes").map_err(sql)?;
            let mut rows = stmt.query([]).map_err(sql)?;
            while let Some(row) = rows.next().map_err(sql)? {
                if let Some(id) = id_text(row.get_ref(0).map_err(sql)?) {
                    ids.push(id.into_owned());
                }
            }
        }
        let mut b = Builder::new(ids);
        // SQLite steps on this thread while a second thread interns the ids of the rows read so far.
        let index = &b.index;
        let (edges, skipped) = std::thread::scope(|scope| -> Result<(Vec<(u32, u32)>, usize)> {
            let (tx, rx) = std::sync::mpsc::sync_channel::<RowBatch>(8);
            let worker = scope.spawn(move || {
                let mut edges = Vec::new();
                let mut skipped = 0usize;
                for batch in rx {
                    batch.resolve(index, &mut edges, &mut skipped);
                }
                (edges, skipped)
            });
            let mut stmt = conn
                .prepare("SELECT source, target FROM edges")
                .map_err(sql)?;
            let mut rows = stmt.query([]).map_err(sql)?;
            let mut batch = RowBatch::default();
            while let Some(row) = rows.next().map_err(sql)? {
                let s = row.get_ref(0).map_err(sql)?;
                let t = row.get_ref(1).map_err(sql)?;
                batch.push(s, t);
                if batch.ends.len() >= 2 * ROW_BATCH {
                    // A send fails only if the worker died; its join below reports that.
                    let _ = tx.send(std::mem::take(&mut batch));
                }
            }
            let _ = tx.send(batch);
            drop(tx);
            worker
                .join()
                .map_err(|_| Error::Internal("graph loader thread panicked".into()))
        })?;
        b.edges = edges;
        b.skipped += skipped;
        Ok(b.finish())
    }

    /// Number of nodes.
    pub fn node_count(&self) -> usize {
        self.ids.len()
    }

    /// Number of edges kept (parallel edges and self-loops each count).
    pub fn edge_count(&self) -> usize {
        self.out.targets.len()
    }

    /// Number of edges skipped because an endpoint node is missing.
    pub fn skipped_edges(&self) -> usize {
        self.skipped
    }

    /// Whether the snapshot has a node `id`.
    pub fn contains(&self, id: &str) -> bool {
        self.index.get(id.as_bytes()).is_some()
    }

    /// Every node id, ascending.
    pub fn node_ids(&self) -> &[String] {
        &self.ids
    }

    /// The interned index of `id`, or `NotFound`.
    pub(crate) fn idx(&self, id: &str) -> Result<u32> {
        self.index
            .get(id.as_bytes())
            .ok_or_else(|| Error::NotFound(format!("node {id:?}")))
    }

    /// The id of index `i`.
    #[inline]
    pub(crate) fn name(&self, i: u32) -> &str {
        &self.ids[i as usize]
    }

    /// Scores by node index as a ranking: every node, in ascending id order.
    pub(crate) fn ranking(&self, scores: Vec<f64>) -> Vec<Ranking> {
        scores
            .into_iter()
            .enumerate()
            .map(|(i, score)| Ranking {
                id: self.name(i as u32).to_owned(),
                score,
            })
            .collect()
    }

    /// Owned ids of `idx`, copied from the packed id buffer (one compact array instead of a heap
    /// allocation per id: far fewer cache misses when `idx` jumps around a big graph).
    pub(crate) fn names(&self, idx: impl IntoIterator<Item = u32>) -> Vec<String> {
        idx.into_iter()
            .map(|i| match std::str::from_utf8(self.index.bytes(i)) {
                Ok(s) => s.to_owned(),
                Err(_) => self.name(i).to_owned(),
            })
            .collect()
    }

    #[inline]
    pub(crate) fn out_row(&self, u: u32) -> &[u32] {
        self.out.row(u)
    }

    #[inline]
    pub(crate) fn in_row(&self, u: u32) -> &[u32] {
        self.inc.row(u)
    }
}

/// Merges two ascending slices into their ascending union without duplicates.
pub(crate) fn merge_distinct(a: &[u32], b: &[u32], out: &mut Vec<u32>) {
    out.clear();
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        let v = if j >= b.len() || (i < a.len() && a[i] <= b[j]) {
            let v = a[i];
            i += 1;
            v
        } else {
            let v = b[j];
            j += 1;
            v
        };
        if out.last() != Some(&v) {
            out.push(v);
        }
    }
}

/// Ascending, duplicate-free copy of an ascending slice.
pub(crate) fn distinct(a: &[u32]) -> impl Iterator<Item = u32> + '_ {
    a.iter()
        .enumerate()
        .filter(move |(i, v)| *i == 0 || a[*i - 1] != **v)
        .map(|(_, v)| *v)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A snapshot from `&str` literals.
    pub(crate) fn g(nodes: &[&str], edges: &[(&str, &str)]) -> GraphSnapshot {
        GraphSnapshot::from_rows(
            nodes.iter().map(|s| s.to_string()),
            edges.iter().map(|(a, b)| (a.to_string(), b.to_string())),
        )
    }

    #[test]
    fn rows_are_sorted_and_parallel_edges_kept() {
        let s = g(
            &["c", "a", "b", "a"],
            &[("a", "c"), ("a", "b"), ("a", "c"), ("c", "c"), ("x", "a")],
        );
        assert_eq!(s.node_ids(), ["a", "b", "c"]);
        assert_eq!(s.edge_count(), 4);
        assert_eq!(s.skipped_edges(), 1);
        assert_eq!(s.out_row(0), [1, 2, 2]);
        assert_eq!(s.in_row(2), [0, 0, 2]);
        assert_eq!(s.out_row(1), [] as [u32; 0]);
        assert!(s.contains("b") && !s.contains("x"));
        assert_eq!(s.idx("x").unwrap_err().code(), "not_found");
    }

    #[test]
    fn load_reads_sqlite_and_skips_dangling() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE nodes(id text primary key, type text);
             CREATE TABLE edges(source text, target text, type text, primary key(source, target, type));
             INSERT INTO nodes(id) VALUES ('b'), ('a'), ('c');
             INSERT INTO edges VALUES ('a','b','x'), ('a','b','y'), ('b','b','x'), ('c','zz','x'),
                                      ('zz','a','x'), (NULL,'a','q');",
        )
        .unwrap();
        let s = GraphSnapshot::load(&conn).unwrap();
        assert_eq!(s.node_ids(), ["a", "b", "c"]);
        assert_eq!(s.edge_count(), 3);
        assert_eq!(s.skipped_edges(), 3);
        assert_eq!(s.out_row(0), [1, 1]);
        assert_eq!(s.in_row(1), [0, 0, 1]);
    }

    #[test]
    fn load_without_tables_is_a_sqlite_error() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        let e = GraphSnapshot::load(&conn).unwrap_err();
        assert_eq!(e.code(), "sqlite");
        assert!(e.to_string().contains("loading graph"), "{e}");
    }

    #[test]
    fn merge_helpers() {
        let mut v = Vec::new();
        merge_distinct(&[1, 1, 3, 5], &[0, 3, 3, 6], &mut v);
        assert_eq!(v, [0, 1, 3, 5, 6]);
        assert_eq!(distinct(&[1, 1, 2, 4, 4]).collect::<Vec<_>>(), [1, 2, 4]);
    }

    #[test]
    fn empty_snapshot_gives_empty_results() {
        let s = GraphSnapshot::default();
        assert_eq!(s.node_count(), 0);
        assert_eq!(s.edge_count(), 0);
        assert!(format!("{s:?}").contains("nodes: 0"));
        assert!(s.pagerank(0.85, 1e-6, 100).unwrap().is_empty());
        assert!(s.betweenness(true, None).unwrap().is_empty());
        assert!(s.betweenness(false, Some((5, 1))).unwrap().is_empty());
        let c = s.communities(1.0, 1).unwrap();
        assert!(c.partition.is_empty() && c.modularity == 0.0);
        assert_eq!(s.modularity(&[], 1.0).unwrap(), 0.0);
        assert!(s.components().is_empty());
        assert!(s.link_candidates(10).is_empty());
        assert!(s.pillars(10).is_empty());
        assert_eq!(s.stats().nodes, 0);
        // Ids are still checked: an unknown id is NotFound, even here.
        assert_eq!(s.neighbors("a").unwrap_err().code(), "not_found");
        assert_eq!(
            s.traverse("a", 1, Direction::Outgoing).unwrap_err().code(),
            "not_found"
        );
        assert_eq!(
            s.shortest_path("a", "a", Direction::Outgoing)
                .unwrap_err()
                .code(),
            "not_found"
        );
        assert_eq!(s.adamic_adar("a", "b").unwrap_err().code(), "not_found");
        assert!(!s.contains(""));
    }

    #[test]
    fn odd_ids_intern_and_resolve() {
        // Empty, long (several hash words), non-ASCII and near-duplicate ids.
        let long = "x".repeat(100);
        let ids = ["", "é", "e\u{301}", long.as_str(), "a", "a ", "A"];
        let edges: Vec<(&str, &str)> = ids.iter().map(|&i| (i, "a")).collect();
        let s = g(&ids, &edges);
        assert_eq!(s.node_count(), ids.len());
        assert_eq!(s.edge_count(), ids.len());
        for id in ids {
            assert!(s.contains(id), "{id:?}");
            assert_eq!(s.successors(id).unwrap(), ["a"]);
        }
        assert_eq!(s.predecessors("a").unwrap().len(), ids.len());
        // Ascending by UTF-8 bytes.
        let mut sorted: Vec<&str> = ids.to_vec();
        sorted.sort_unstable();
        assert_eq!(s.node_ids(), sorted.as_slice());
    }

    #[test]
    fn many_ids_resolve_through_the_index() {
        let ids: Vec<String> = (0..5000)
            .map(|i| format!("node/{}", i * 7919 % 5000))
            .collect();
        let idx = IdIndex::new(&ids);
        for (i, id) in ids.iter().enumerate() {
            assert_eq!(idx.get(id.as_bytes()), Some(i as u32));
            assert_eq!(idx.bytes(i as u32), id.as_bytes());
        }
        assert_eq!(idx.get(b"node/5000"), None);
        assert_eq!(IdIndex::new(&[]).get(b""), None);
    }
}
