//! The options of the graph calls and their named results: one struct per call with parameters,
//! each with the engine's defaults in its `Default` (the only place they are written; every binding
//! and the CLI start from it and change only what the caller gave).
//!
//! The structs are `#[non_exhaustive]` so that fields can be added without breaking callers: build
//! one with `Default::default()` and set the fields you need (`let mut o = PageRankOptions::default();
//! o.alpha = 0.9;`). Must not: validate (the algorithms do, with `InvalidArgument`) or know about a
//! binding.

use std::fmt;
use std::str::FromStr;

use crate::error::Error;

/// Default PageRank damping factor (docs/graph.md).
pub const DEFAULT_ALPHA: f64 = 0.85;
/// Default PageRank tolerance; convergence is `L1 change < N · tolerance`.
pub const DEFAULT_TOLERANCE: f64 = 1e-6;
/// Default PageRank iteration cap (networkx's default).
pub const DEFAULT_MAX_ITERATIONS: usize = 100;
/// Default number of results of `link_candidates` and `pillars`, and of the top of a ranking a front
/// end shows (the CLI's `--top`).
pub const DEFAULT_LIMIT: usize = 10;

/// Which edges a walk follows from a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Direction {
    /// Along edges, source to target (the default).
    #[default]
    Outgoing,
    /// Against edges, target to source.
    Incoming,
    /// Both ways, as if the graph were undirected.
    Both,
}

impl Direction {
    /// The name used by every binding: `"outgoing"`, `"incoming"` or `"both"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Outgoing => "outgoing",
            Direction::Incoming => "incoming",
            Direction::Both => "both",
        }
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Direction {
    type Err = Error;

    /// `"outgoing"`, `"incoming"` or `"both"` (ASCII case-insensitive); anything else is
    /// `InvalidArgument`.
    fn from_str(s: &str) -> Result<Direction, Error> {
        match s.to_ascii_lowercase().as_str() {
            "outgoing" => Ok(Direction::Outgoing),
            "incoming" => Ok(Direction::Incoming),
            "both" => Ok(Direction::Both),
            _ => Err(Error::InvalidArgument(format!(
                "direction {s:?}: expected outgoing, incoming or both"
            ))),
        }
    }
}

/// Options of `traverse` (a breadth-first search).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TraverseOptions {
    /// At most this many hops from the start (default: no limit; 0 gives only the start).
    pub max_depth: usize,
    /// Which edges to follow (default [`Direction::Outgoing`]).
    pub direction: Direction,
}

impl Default for TraverseOptions {
    fn default() -> Self {
        TraverseOptions {
            max_depth: usize::MAX,
            direction: Direction::default(),
        }
    }
}

/// Options of `shortest_path`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct PathOptions {
    /// Which edges a path may use (default [`Direction::Outgoing`]: a directed path).
    pub direction: Direction,
}

/// Options of `pagerank`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct PageRankOptions {
    /// Damping factor in [0, 1] (default [`DEFAULT_ALPHA`]).
    pub alpha: f64,
    /// Convergence tolerance, > 0 (default [`DEFAULT_TOLERANCE`]).
    pub tolerance: f64,
    /// Iteration cap, ≥ 1 (default [`DEFAULT_MAX_ITERATIONS`]).
    pub max_iterations: usize,
}

impl Default for PageRankOptions {
    fn default() -> Self {
        PageRankOptions {
            alpha: DEFAULT_ALPHA,
            tolerance: DEFAULT_TOLERANCE,
            max_iterations: DEFAULT_MAX_ITERATIONS,
        }
    }
}

/// Options of `betweenness`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BetweennessOptions {
    /// Divide by `(N−1)(N−2)` (default true).
    pub normalized: bool,
    /// Estimate from this many pivots instead of the exact computation (default `None`: exact;
    /// `Some(0)` is `InvalidArgument`).
    pub sample: Option<usize>,
    /// Seed of the pivot draw when sampling (default 0).
    pub seed: u64,
}

impl Default for BetweennessOptions {
    fn default() -> Self {
        BetweennessOptions {
            normalized: true,
            sample: None,
            seed: 0,
        }
    }
}

/// Options of `communities` (Louvain).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct CommunityOptions {
    /// Modularity resolution, finite and ≥ 0 (default 1).
    pub resolution: f64,
    /// Seed of the node shuffle; a seed always gives the same partition (default 0).
    pub seed: u64,
}

impl Default for CommunityOptions {
    fn default() -> Self {
        CommunityOptions {
            resolution: 1.0,
            seed: 0,
        }
    }
}

/// Options of `link_candidates`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LinkCandidateOptions {
    /// At most this many pairs (default [`DEFAULT_LIMIT`]; 0 gives none).
    pub limit: usize,
}

impl Default for LinkCandidateOptions {
    fn default() -> Self {
        LinkCandidateOptions {
            limit: DEFAULT_LIMIT,
        }
    }
}

/// Options of `pillars`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PillarOptions {
    /// At most this many nodes (default [`DEFAULT_LIMIT`]; 0 gives none).
    pub limit: usize,
}

impl Default for PillarOptions {
    fn default() -> Self {
        PillarOptions {
            limit: DEFAULT_LIMIT,
        }
    }
}

/// A suggested edge: two nodes two hops apart and not adjacent, with their Adamic-Adar index.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LinkCandidate {
    /// The smaller id of the pair.
    pub source: String,
    /// The larger id of the pair.
    pub target: String,
    /// The Adamic-Adar index.
    pub score: f64,
}

/// One node's score in a ranking (`pagerank`, `betweenness`), which lists every node in id order.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Ranking {
    /// The node id.
    pub id: String,
    /// Its score.
    pub score: f64,
}

/// A pillar: one of the nodes of highest PageRank, with its degree.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Pillar {
    /// The node id.
    pub id: String,
    /// Its PageRank (default options).
    pub pagerank: f64,
    /// Its in- plus out-degree (parallel edges each; a self-loop counts 2).
    pub degree: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_documented_ones() {
        let p = PageRankOptions::default();
        assert_eq!((p.alpha, p.tolerance, p.max_iterations), (0.85, 1e-6, 100));
        let b = BetweennessOptions::default();
        assert_eq!((b.normalized, b.sample, b.seed), (true, None, 0));
        let c = CommunityOptions::default();
        assert_eq!((c.resolution, c.seed), (1.0, 0));
        assert_eq!(LinkCandidateOptions::default().limit, 10);
        assert_eq!(PillarOptions::default().limit, 10);
        let t = TraverseOptions::default();
        assert_eq!(
            (t.max_depth, t.direction),
            (usize::MAX, Direction::Outgoing)
        );
        assert_eq!(PathOptions::default().direction, Direction::Outgoing);
    }

    #[test]
    fn direction_names_round_trip() {
        for d in [Direction::Outgoing, Direction::Incoming, Direction::Both] {
            assert_eq!(d.as_str().parse::<Direction>().unwrap(), d);
            assert_eq!(
                d.to_string().to_uppercase().parse::<Direction>().unwrap(),
                d
            );
        }
        let e = "sideways".parse::<Direction>().unwrap_err();
        assert_eq!(e.code(), "invalid_argument");
        assert!(e.to_string().contains("sideways"));
    }
}
