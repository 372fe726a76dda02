//! `resonance graph`: traversals and analytics on the graph of a database.

use std::path::Path;

use clap::Subcommand;
use resonance::{
    BetweennessOptions, CommunityOptions, Database, Direction, Error, LinkCandidateOptions,
    PageRankOptions, PathOptions, PillarOptions, Ranking, TraverseOptions,
};
use serde_json::{json, Value};

use crate::output::{print_json, spinner};

/// The graph queries.
#[derive(Subcommand)]
pub enum GraphQuery {
    /// In- and out-neighbours of a node.
    Neighbors {
        /// Node id.
        id: String,
    },
    /// Breadth-first traversal (along out-edges unless --direction says otherwise).
    Traverse {
        /// Start node.
        id: String,
        /// Maximum depth (default: no limit).
        #[arg(long)]
        depth: Option<usize>,
        /// outgoing (the default), incoming or both.
        #[arg(long, value_parser = direction)]
        direction: Option<Direction>,
    },
    /// Shortest path (directed unless --direction says otherwise).
    Path {
        /// From.
        a: String,
        /// To.
        b: String,
        /// outgoing (the default), incoming or both.
        #[arg(long, value_parser = direction)]
        direction: Option<Direction>,
    },
    /// PageRank.
    Pagerank {
        /// How many to show (default: the library's).
        #[arg(long)]
        top: Option<usize>,
        /// Damping factor (default: the library's).
        #[arg(long)]
        alpha: Option<f64>,
        /// Convergence tolerance (default: the library's).
        #[arg(long)]
        tolerance: Option<f64>,
        /// Iteration cap (default: the library's).
        #[arg(long)]
        max_iterations: Option<usize>,
    },
    /// Betweenness centrality (exact, or sampled from K pivots).
    Betweenness {
        /// How many to show (default: the library's).
        #[arg(long)]
        top: Option<usize>,
        /// Sample K pivots (seeded) instead of the exact computation.
        #[arg(long)]
        sample: Option<usize>,
        /// Seed of the sample (default: the library's).
        #[arg(long)]
        seed: Option<u64>,
        /// Do not normalise the scores.
        #[arg(long)]
        unnormalized: bool,
    },
    /// Louvain communities.
    Communities {
        /// Seed (the result is deterministic for a seed; default: the library's).
        #[arg(long)]
        seed: Option<u64>,
        /// Modularity resolution (default: the library's).
        #[arg(long)]
        resolution: Option<f64>,
    },
    /// Weakly connected components.
    Components,
    /// Suggested links (two-hop pairs ranked by Adamic-Adar).
    Candidates {
        /// How many to show (default: the library's).
        #[arg(long)]
        top: Option<usize>,
    },
    /// Top PageRank nodes with their degree.
    Pillars {
        /// How many to show (default: the library's).
        #[arg(long)]
        top: Option<usize>,
    },
    /// Nodes, edges, density, skipped edges.
    Stats,
}

/// The `top` highest scores (ties by id; left out: the library's default limit) as JSON and as lines of `score  id`.
fn ranking(list: Vec<Ranking>, top: Option<usize>) -> (Value, String) {
    let mut l = list;
    l.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.id.cmp(&b.id)));
    l.truncate(top.unwrap_or(resonance::graph::DEFAULT_LIMIT));
    let human = l
        .iter()
        .map(|r| format!("{:.6}  {}", r.score, r.id))
        .collect::<Vec<_>>()
        .join("\n");
    (json!(l), human)
}

/// A `--direction` value, parsed by the core.
fn direction(s: &str) -> Result<Direction, String> {
    s.parse().map_err(|e: Error| e.to_string())
}

/// Runs one graph query on `path` and prints its result.
pub fn graph(path: &Path, q: GraphQuery, json_out: bool) -> resonance::Result<()> {
    let db = Database::open(path)?;
    let sp = spinner("loading the graph");
    let g = db.graph()?;
    sp.set_message("computing");
    // The calls below go through the handle, which reuses the snapshot just loaded.
    let (value, human): (Value, String) = match q {
        GraphQuery::Neighbors { id } => {
            let n = g.neighbors(&id)?;
            (json!(n), n.join("\n"))
        }
        GraphQuery::Traverse {
            id,
            depth,
            direction,
        } => {
            let mut o = TraverseOptions::default();
            o.max_depth = depth.unwrap_or(o.max_depth);
            o.direction = direction.unwrap_or(o.direction);
            let n = db.traverse(&id, &o)?;
            (json!(n), n.join("\n"))
        }
        GraphQuery::Path { a, b, direction } => {
            let mut o = PathOptions::default();
            o.direction = direction.unwrap_or(o.direction);
            let p = db.shortest_path(&a, &b, &o)?;
            let h = p.as_ref().map_or("no path".to_string(), |p| p.join(" -> "));
            (json!(p), h)
        }
        GraphQuery::Pagerank {
            top,
            alpha,
            tolerance,
            max_iterations,
        } => {
            let mut o = PageRankOptions::default();
            o.alpha = alpha.unwrap_or(o.alpha);
            o.tolerance = tolerance.unwrap_or(o.tolerance);
            o.max_iterations = max_iterations.unwrap_or(o.max_iterations);
            ranking(db.pagerank(&o)?, top)
        }
        GraphQuery::Betweenness {
            top,
            sample,
            seed,
            unnormalized,
        } => {
            let mut o = BetweennessOptions::default();
            o.sample = sample;
            o.seed = seed.unwrap_or(o.seed);
            o.normalized = o.normalized && !unnormalized;
            ranking(db.betweenness(&o)?, top)
        }
        GraphQuery::Communities { seed, resolution } => {
            let mut o = CommunityOptions::default();
            o.seed = seed.unwrap_or(o.seed);
            o.resolution = resolution.unwrap_or(o.resolution);
            let c = db.communities(&o)?;
            let mut groups: std::collections::BTreeMap<usize, Vec<String>> = Default::default();
            for (id, k) in &c.partition {
                groups.entry(*k).or_default().push(id.clone());
            }
            let h = format!(
                "{} communities, modularity {:.4}\n{}",
                groups.len(),
                c.modularity,
                groups
                    .iter()
                    .map(|(k, ids)| format!(
                        "{k}: {} nodes: {}",
                        ids.len(),
                        ids.iter().take(8).cloned().collect::<Vec<_>>().join(", ")
                    ))
                    .collect::<Vec<_>>()
                    .join("\n")
            );
            (
                json!({"modularity": c.modularity, "partition": c.partition.iter().map(|(id, k)| (id.clone(), json!(k))).collect::<serde_json::Map<_, _>>()}),
                h,
            )
        }
        GraphQuery::Components => {
            let c = g.components();
            let h = c
                .iter()
                .map(|ids| {
                    format!(
                        "{} nodes: {}",
                        ids.len(),
                        ids.iter().take(8).cloned().collect::<Vec<_>>().join(", ")
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            (json!(c), h)
        }
        GraphQuery::Candidates { top } => {
            let mut o = LinkCandidateOptions::default();
            o.limit = top.unwrap_or(o.limit);
            let c = db.link_candidates(&o)?;
            let h = c
                .iter()
                .map(|c| format!("{:.4}  {} — {}", c.score, c.source, c.target))
                .collect::<Vec<_>>()
                .join("\n");
            (json!(c), h)
        }
        GraphQuery::Pillars { top } => {
            let mut o = PillarOptions::default();
            o.limit = top.unwrap_or(o.limit);
            let p = db.pillars(&o)?;
            let h = p
                .iter()
                .map(|p| format!("{:.6}  degree {:>4}  {}", p.pagerank, p.degree, p.id))
                .collect::<Vec<_>>()
                .join("\n");
            (json!(p), h)
        }
        GraphQuery::Stats => {
            let s = g.stats();
            (
                json!({"nodes": s.nodes, "edges": s.edges, "density": s.density, "skipped_edges": s.skipped_edges}),
                format!(
                    "nodes {} · edges {} · density {:.6} · skipped (dangling) edges {}",
                    s.nodes, s.edges, s.density, s.skipped_edges
                ),
            )
        }
    };
    sp.finish_and_clear();
    if json_out {
        print_json(&value);
    } else {
        println!("{human}");
    }
    Ok(())
}
