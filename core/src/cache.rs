//! Per-handle caches (the vector matrix, the graph snapshot, the vector dimension) and when they are
//! stale.
//!
//! A cache is kept in step with the handle's own writes by replaying the [`CacheOp`]s a committed write
//! recorded, and dropped when `PRAGMA data_version` shows another connection committed. It must not run
//! SQL other than that pragma.

use std::sync::Arc;

use rusqlite::Connection;

use crate::error::{Result, SqlContext};
use crate::graph::GraphSnapshot;
use crate::vector::matrix::VectorMatrix;

/// One change a write made that the caches must follow once it commits.
#[derive(Debug, Clone)]
pub(crate) enum CacheOp {
    /// A node's vector was stored (already unit length).
    Upsert {
        id: String,
        unit: Vec<f32>,
        domain: Option<String>,
        node_type: Option<String>,
    },
    /// A node with a stored vector got a new domain or type (its vector unchanged).
    Labels {
        id: String,
        domain: Option<String>,
        node_type: Option<String>,
    },
    /// A node's vector is gone (the node was deleted or re-written without one).
    Remove(String),
    /// The database's dimension was fixed.
    Dimension(usize),
}

/// What a write transaction changed, replayed on the caches after commit and dropped on rollback.
#[derive(Debug, Default)]
pub(crate) struct Pending {
    /// Vector and dimension changes, in order.
    pub ops: Vec<CacheOp>,
    /// Nodes or edges changed: the graph snapshot is stale.
    pub graph_dirty: bool,
    /// The vector matrix is loaded, so vector writes must be recorded for it (a bulk write into a
    /// handle that has not searched yet records nothing).
    pub track_vectors: bool,
}

/// Blobs the vector cache skipped while loading (files written by other programs).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VectorSkips {
    /// Length not a multiple of 4, or non-finite components.
    pub malformed: u64,
    /// Well-formed but of another dimension than the database's.
    pub wrong_dimension: u64,
    /// Not unit length: normalised in memory for scoring.
    pub renormalised: u64,
    /// All-zero vectors (kept: they score 0).
    pub zero: u64,
}

/// The caches of one handle.
#[derive(Default)]
pub(crate) struct Caches {
    /// `PRAGMA data_version` when the caches were last known fresh.
    pub data_version: Option<i64>,
    /// The in-memory matrix of every well-formed vector of the database's dimension.
    pub vectors: Option<Arc<VectorMatrix>>,
    /// What loading the matrix skipped.
    pub vector_skips: VectorSkips,
    /// The graph snapshot.
    pub graph: Option<Arc<GraphSnapshot>>,
    /// The database's vector dimension, once read (`Some(None)`: no vector yet).
    pub dimension: Option<Option<usize>>,
    /// Bumped whenever `vectors` changes (a replayed write, a drop): a search of a codes-only matrix
    /// reads f32 rows from the database only while this still has the value it had when the search
    /// took the matrix (see `embeddings`).
    pub vector_generation: u64,
}

impl Caches {
    /// Drops everything cached.
    pub fn invalidate(&mut self) {
        self.vector_generation = self.vector_generation.wrapping_add(1);
        self.vectors = None;
        self.graph = None;
        self.dimension = None;
        self.vector_skips = VectorSkips::default();
    }

    /// Drops the caches if another connection committed since they were filled.
    pub fn refresh(&mut self, conn: &Connection) -> Result<()> {
        let v: i64 = conn
            .query_row("PRAGMA data_version", [], |r| r.get(0))
            .ctx("reading data_version")?;
        if self.data_version != Some(v) {
            self.invalidate();
            self.data_version = Some(v);
        }
        Ok(())
    }

    /// Replays a committed write's changes.
    pub fn apply(&mut self, pending: Pending) {
        if pending.graph_dirty {
            self.graph = None;
        }
        if pending
            .ops
            .iter()
            .any(|op| !matches!(op, CacheOp::Dimension(_)))
        {
            self.vector_generation = self.vector_generation.wrapping_add(1);
        }
        for op in pending.ops {
            if let CacheOp::Dimension(d) = op {
                self.dimension = Some(Some(d));
                continue;
            }
            let Some(m) = self.vectors.as_mut() else {
                continue;
            };
            let m = Arc::make_mut(m);
            match op {
                CacheOp::Upsert {
                    id,
                    unit,
                    domain,
                    node_type,
                } => {
                    if m.upsert(&id, &unit, domain.as_deref(), node_type.as_deref())
                        .is_err()
                    {
                        // Cannot happen (validated before the write); stay correct anyway.
                        self.vectors = None;
                        return;
                    }
                }
                CacheOp::Labels {
                    id,
                    domain,
                    node_type,
                } => {
                    m.set_labels(&id, domain.as_deref(), node_type.as_deref());
                }
                CacheOp::Remove(id) => {
                    m.remove(&id);
                }
                CacheOp::Dimension(_) => {}
            }
        }
    }
}
