//! Graph analytics on a database: the handle's cached [`GraphSnapshot`] (built once, rebuilt after the
//! handle's own node/edge writes or another connection's commit) and the algorithms of docs/graph.md.
//!
//! The snapshot is taken under the handle's lock; every algorithm runs outside it. The algorithms
//! themselves live in `graph`. Each method runs as one call of the handle (`Database::interrupt`
//! stops it) and under the caller's `CancelToken`, if any: the algorithms check both.

use std::sync::Arc;

use crate::cancel::{self, Context};
use crate::db::Database;
use crate::error::Result;
use crate::graph::{
    BetweennessOptions, Communities, CommunityOptions, GraphSnapshot, GraphStats, LinkCandidate,
    LinkCandidateOptions, PageRankOptions, PathOptions, Pillar, PillarOptions, Ranking,
    TraverseOptions,
};

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

    /// BFS from `start` (included) along `opts.direction`, up to `opts.max_depth` hops, in visiting
    /// order (see [`GraphSnapshot::traverse`]).
    pub fn traverse(&self, start: &str, opts: &TraverseOptions) -> Result<Vec<String>> {
        self.call(|| {
            let out = self
                .graph()?
                .traverse(start, opts.max_depth, opts.direction)?;
            cancel::check()?;
            Ok(out)
        })
    }

    /// Unweighted shortest path along `opts.direction` (`None` when unreachable; see
    /// [`GraphSnapshot::shortest_path`]).
    pub fn shortest_path(
        &self,
        source: &str,
        target: &str,
        opts: &PathOptions,
    ) -> Result<Option<Vec<String>>> {
        self.call(|| {
            let out = self
                .graph()?
                .shortest_path(source, target, opts.direction)?;
            cancel::check()?;
            Ok(out)
        })
    }

    /// PageRank: every node's score, in id order.
    pub fn pagerank(&self, opts: &PageRankOptions) -> Result<Vec<Ranking>> {
        self.call(|| {
            self.graph()?
                .pagerank(opts.alpha, opts.tolerance, opts.max_iterations)
        })
    }

    /// Betweenness centrality: every node's score, in id order (exact, or sampled from `opts.sample`
    /// pivots drawn with `opts.seed`).
    pub fn betweenness(&self, opts: &BetweennessOptions) -> Result<Vec<Ranking>> {
        let sample = opts.sample.map(|k| (k, opts.seed));
        self.call(|| self.graph()?.betweenness(opts.normalized, sample))
    }

    /// Louvain communities (deterministic per seed) and their modularity.
    pub fn communities(&self, opts: &CommunityOptions) -> Result<Communities> {
        self.call(|| self.graph()?.communities(opts.resolution, opts.seed))
    }

    /// Weakly connected components, largest first.
    pub fn components(&self) -> Result<Vec<Vec<String>>> {
        self.call(|| {
            let out = self.graph()?.components();
            cancel::check()?;
            Ok(out)
        })
    }

    /// Adamic-Adar index of two nodes.
    pub fn adamic_adar(&self, a: &str, b: &str) -> Result<f64> {
        self.graph()?.adamic_adar(a, b)
    }

    /// Two-hop non-adjacent pairs ranked by Adamic-Adar (see [`GraphSnapshot::link_candidates`] for
    /// the cost); stops with `interrupted` when the call is cancelled.
    pub fn link_candidates(&self, opts: &LinkCandidateOptions) -> Result<Vec<LinkCandidate>> {
        self.call(|| {
            let g = self.graph()?;
            g.link_candidates_in(opts.limit, &Context::current())
        })
    }

    /// The top `opts.limit` PageRank nodes (default PageRank options) with their degree.
    pub fn pillars(&self, opts: &PillarOptions) -> Result<Vec<Pillar>> {
        self.call(|| {
            let out = self.graph()?.pillars(opts.limit);
            // PageRank inside stops early (and gives nothing) when the call is stopped.
            cancel::check()?;
            Ok(out)
        })
    }

    /// Nodes, edges, density and skipped (dangling) edges.
    pub fn graph_stats(&self) -> Result<GraphStats> {
        Ok(self.graph()?.stats())
    }
}
