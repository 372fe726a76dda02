//! Graph analytics on a database: the handle's cached [`GraphSnapshot`] (built once, rebuilt after the
//! handle's own node/edge writes or another connection's commit) and the algorithms of design §8.
//!
//! The snapshot is taken under the handle's lock; every algorithm runs outside it. The algorithms
//! themselves live in `graph`.

use std::sync::Arc;

use crate::db::Database;
use crate::error::Result;
use crate::graph::{Communities, GraphSnapshot, GraphStats};

impl Database {
    /// The graph snapshot (built if the data changed since the last one).
    pub fn graph(&self) -> Result<Arc<GraphSnapshot>> {
        self.with_state(|s| {
            s.cache.refresh(&s.conn)?;
            if let Some(g) = &s.cache.graph {
                return Ok(g.clone());
            }
            let g = Arc::new(Database::read_consistent(&s.conn, GraphSnapshot::load)?);
            s.cache.graph = Some(g.clone());
            Ok(g)
        })
    }

    /// Union of in- and out-neighbours, ascending (`not_found` for an unknown id).
    pub fn neighbors(&self, id: &str) -> Result<Vec<String>> {
        self.graph()?.neighbors(id)
    }

    /// Out-neighbours, ascending.
    pub fn successors(&self, id: &str) -> Result<Vec<String>> {
        self.graph()?.successors(id)
    }

    /// In-neighbours, ascending.
    pub fn predecessors(&self, id: &str) -> Result<Vec<String>> {
        self.graph()?.predecessors(id)
    }

    /// In- plus out-degree (parallel edges each; a self-loop counts 2).
    pub fn degree(&self, id: &str) -> Result<usize> {
        self.graph()?.degree(id)
    }

    /// BFS along out-edges from `start` (included), up to `max_depth` hops.
    pub fn traverse(&self, start: &str, max_depth: usize) -> Result<Vec<String>> {
        self.graph()?.traverse(start, max_depth)
    }

    /// Directed unweighted shortest path (`None` when unreachable).
    pub fn shortest_path(&self, source: &str, target: &str) -> Result<Option<Vec<String>>> {
        self.graph()?.shortest_path(source, target)
    }

    /// PageRank, `(id, score)` in id order.
    pub fn pagerank(
        &self,
        alpha: f64,
        tolerance: f64,
        max_iterations: usize,
    ) -> Result<Vec<(String, f64)>> {
        self.graph()?.pagerank(alpha, tolerance, max_iterations)
    }

    /// Betweenness centrality (exact, or sampled from `k` pivots with a seed).
    pub fn betweenness(
        &self,
        normalized: bool,
        sample: Option<(usize, u64)>,
    ) -> Result<Vec<(String, f64)>> {
        self.graph()?.betweenness(normalized, sample)
    }

    /// Louvain communities (deterministic per seed) and their modularity.
    pub fn communities(&self, resolution: f64, seed: u64) -> Result<Communities> {
        self.graph()?.communities(resolution, seed)
    }

    /// Weakly connected components, largest first.
    pub fn components(&self) -> Result<Vec<Vec<String>>> {
        Ok(self.graph()?.components())
    }

    /// Adamic-Adar index of two nodes.
    pub fn adamic_adar(&self, a: &str, b: &str) -> Result<f64> {
        self.graph()?.adamic_adar(a, b)
    }

    /// Two-hop non-adjacent pairs ranked by Adamic-Adar.
    pub fn link_candidates(&self, limit: usize) -> Result<Vec<(String, String, f64)>> {
        Ok(self.graph()?.link_candidates(limit))
    }

    /// The top PageRank nodes with their degree.
    pub fn pillars(&self, limit: usize) -> Result<Vec<(String, f64, usize)>> {
        Ok(self.graph()?.pillars(limit))
    }

    /// Nodes, edges, density and skipped (dangling) edges.
    pub fn graph_stats(&self) -> Result<GraphStats> {
        Ok(self.graph()?.stats())
    }
}
