//! Betweenness centrality (Brandes 2001) over directed edges, as `networkx.betweenness_centrality`
//! on a `MultiDiGraph` (networkx ≥ 3.5 scaling).

use rayon::prelude::*;

use super::rng::SplitMix64;
use super::{distinct, Csr, GraphSnapshot, Ranking};
use crate::cancel::Context;
use crate::error::{Error, Result};
use crate::pool;

/// Sources are split into this many contiguous parts, each run by one task.
const CHUNKS: usize = 32;

/// Per-thread scratch space of one Brandes pass.
struct Scratch {
    dist: Vec<i32>,
    sigma: Vec<f64>,
    delta: Vec<f64>,
    stack: Vec<u32>,
    acc: Vec<f64>,
}

impl Scratch {
    fn new(n: usize) -> Scratch {
        Scratch {
            dist: vec![-1; n],
            sigma: vec![0.0; n],
            delta: vec![0.0; n],
            stack: Vec::new(),
            acc: vec![0.0; n],
        }
    }
}

impl GraphSnapshot {
    /// Betweenness centrality by node, every node's score in ascending id order.
    ///
    /// Shortest paths follow directed edges; parallel edges are collapsed (a path is a sequence of
    /// nodes, as networkx counts them on a multigraph) and self-loops play no part. With `normalized`
    /// scores are divided by `(N−1)(N−2)` (no scaling when `N ≤ 2`).
    ///
    /// `sample = Some((k, seed))` estimates from `k` source pivots drawn without replacement by a
    /// seeded generator (`k` is clamped to `N`; `k = 0` is `InvalidArgument`), scaled like networkx's
    /// `k` option: pivot nodes by `1/((k−1)(N−2))` and the others by `1/(k(N−2))` when normalised,
    /// `(N−1)/(k−1)` and `(N−1)/k` when not; with `k = N` this equals the exact result. With `k = 1`
    /// the pivot's own score is 0 (networkx gives NaN). The pivots differ from networkx's (another
    /// generator), so sampled values match networkx only in expectation.
    pub fn betweenness(
        &self,
        normalized: bool,
        sample: Option<(usize, u64)>,
    ) -> Result<Vec<Ranking>> {
        let scores = self.betweenness_scores(normalized, sample)?;
        Ok(self.ranking(scores))
    }

    pub(crate) fn betweenness_scores(
        &self,
        normalized: bool,
        sample: Option<(usize, u64)>,
    ) -> Result<Vec<f64>> {
        let n = self.node_count();
        let pivots: Option<Vec<u32>> = match sample {
            None => None,
            Some((0, _)) => {
                return Err(Error::InvalidArgument(
                    "betweenness sample size must be at least 1".into(),
                ))
            }
            Some((k, seed)) => Some(SplitMix64::new(seed).sample(n, k.min(n))),
        };
        if n == 0 {
            return Ok(Vec::new());
        }
        let sources: Vec<u32> = match &pivots {
            Some(p) => p.clone(),
            None => (0..n as u32).collect(),
        };
        // Parallel edges collapse and self-loops never lie on a shortest path: drop both once.
        let mut simple = Csr {
            offsets: Vec::with_capacity(n + 1),
            targets: Vec::with_capacity(self.edge_count()),
        };
        simple.offsets.push(0);
        for u in 0..n as u32 {
            simple
                .targets
                .extend(distinct(self.out_row(u)).filter(|&v| v != u));
            simple.offsets.push(simple.targets.len());
        }
        let simple = &simple;
        // A fixed split of the sources (not rayon's adaptive one) and an in-order sum keep the
        // result bit-for-bit the same whatever the thread count.
        let chunk = sources.len().div_ceil(CHUNKS).max(1);
        // One pass is one traversal of the edges; the workers check the caller's sources between.
        let ctx = Context::current();
        let parts: Vec<Vec<f64>> = pool::install(None, || {
            sources
                .par_chunks(chunk)
                .map(|part| {
                    let mut sc = Scratch::new(n);
                    for &s in part {
                        if ctx.stopped() {
                            break;
                        }
                        Self::brandes_from(simple, s, &mut sc);
                    }
                    sc.acc
                })
                .collect()
        })?;
        ctx.check()?;
        let mut bc = vec![0.0; n];
        for part in &parts {
            bc.iter_mut().zip(part).for_each(|(x, y)| *x += y);
        }
        // Scaling (networkx's `_rescale` with endpoints=False, directed=True).
        let big_n = n as f64 - 1.0;
        if big_n < 2.0 {
            return Ok(bc);
        }
        match pivots {
            None => {
                if normalized {
                    let scale = 1.0 / (big_n * (big_n - 1.0));
                    bc.iter_mut().for_each(|x| *x *= scale);
                }
            }
            Some(p) => {
                let k = p.len() as f64;
                let (source, other) = if normalized {
                    (1.0 / ((k - 1.0) * (big_n - 1.0)), 1.0 / (k * (big_n - 1.0)))
                } else {
                    (big_n / (k - 1.0), big_n / k)
                };
                let source = if p.len() > 1 { source } else { 0.0 };
                let mut is_pivot = vec![false; n];
                p.iter().for_each(|&s| is_pivot[s as usize] = true);
                for (i, x) in bc.iter_mut().enumerate() {
                    *x *= if is_pivot[i] { source } else { other };
                }
            }
        }
        Ok(bc)
    }

    /// One Brandes pass from `s` over the simple out-adjacency `simple`: BFS counting shortest
    /// paths, then dependencies pulled from successors in reverse BFS order
    /// (`δ(v) = σ(v) · Σ_{w: d(w)=d(v)+1} (1 + δ(w)) / σ(w)`).
    fn brandes_from(simple: &Csr, s: u32, sc: &mut Scratch) {
        let Scratch {
            dist,
            sigma,
            delta: coef,
            stack,
            acc,
        } = sc;
        stack.clear();
        dist[s as usize] = 0;
        sigma[s as usize] = 1.0;
        stack.push(s);
        let mut head = 0;
        while head < stack.len() {
            let v = stack[head];
            head += 1;
            let dv = dist[v as usize];
            let sv = sigma[v as usize];
            for &w in simple.row(v) {
                let wi = w as usize;
                if dist[wi] < 0 {
                    dist[wi] = dv + 1;
                    stack.push(w);
                }
                if dist[wi] == dv + 1 {
                    sigma[wi] += sv;
                }
            }
        }
        // coef[w] = (1 + δ(w)) / σ(w), filled in reverse BFS order.
        for &v in stack.iter().rev() {
            let vi = v as usize;
            let next = dist[vi] + 1;
            let mut sum = 0.0;
            for &w in simple.row(v) {
                if dist[w as usize] == next {
                    sum += coef[w as usize];
                }
            }
            let delta = sigma[vi] * sum;
            if v != s {
                acc[vi] += delta;
            }
            coef[vi] = (1.0 + delta) / sigma[vi];
        }
        for &w in stack.iter() {
            let wi = w as usize;
            dist[wi] = -1;
            sigma[wi] = 0.0;
            coef[wi] = 0.0;
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::graph::tests::g;
    use crate::graph::{GraphSnapshot, Ranking};

    fn map(v: Vec<Ranking>) -> std::collections::BTreeMap<String, f64> {
        v.into_iter().map(|r| (r.id, r.score)).collect()
    }

    #[test]
    fn directed_path() {
        // a→b→c→d: b lies on a→c, a→d; c on a→d, b→d.
        let s = g(&["a", "b", "c", "d"], &[("a", "b"), ("b", "c"), ("c", "d")]);
        let raw = map(s.betweenness(false, None).unwrap());
        assert_eq!(raw["a"], 0.0);
        assert_eq!(raw["b"], 2.0);
        assert_eq!(raw["c"], 2.0);
        let norm = map(s.betweenness(true, None).unwrap());
        assert!((norm["b"] - 2.0 / 6.0).abs() < 1e-12);
    }

    #[test]
    fn parallel_edges_collapse_and_loops_ignored() {
        // Diamond a→{b,c}→d with a doubled a→b and a self-loop: b and c each carry half of a→d.
        let s = g(
            &["a", "b", "c", "d"],
            &[
                ("a", "b"),
                ("a", "b"),
                ("a", "c"),
                ("b", "d"),
                ("c", "d"),
                ("b", "b"),
            ],
        );
        let raw = map(s.betweenness(false, None).unwrap());
        assert!((raw["b"] - 0.5).abs() < 1e-12, "{raw:?}");
        assert!((raw["c"] - 0.5).abs() < 1e-12);
        assert_eq!(raw["a"], 0.0);
    }

    #[test]
    fn sample_of_all_nodes_is_exact() {
        let s = g(
            &["a", "b", "c", "d", "e"],
            &[
                ("a", "b"),
                ("b", "c"),
                ("c", "d"),
                ("d", "e"),
                ("e", "a"),
                ("b", "e"),
            ],
        );
        let exact = s.betweenness(true, None).unwrap();
        let sampled = s.betweenness(true, Some((5, 42))).unwrap();
        let over = s.betweenness(true, Some((50, 42))).unwrap();
        for ((e, x), o) in exact.iter().zip(&sampled).zip(&over) {
            assert!((e.score - x.score).abs() < 1e-12 && (e.score - o.score).abs() < 1e-12);
        }
        let raw = s.betweenness(false, None).unwrap();
        let raw_s = s.betweenness(false, Some((5, 1))).unwrap();
        for (a, b) in raw.iter().zip(&raw_s) {
            assert!((a.score - b.score).abs() < 1e-12);
        }
        // Deterministic for a seed.
        assert_eq!(
            s.betweenness(true, Some((2, 9))).unwrap(),
            s.betweenness(true, Some((2, 9))).unwrap()
        );
        assert_eq!(
            s.betweenness(true, Some((0, 9))).unwrap_err().code(),
            "invalid_argument"
        );
    }

    #[test]
    fn same_bits_whatever_the_thread_count() {
        let nodes: Vec<String> = (0..300).map(|i| format!("v{i:03}")).collect();
        let mut r = crate::graph::rng::SplitMix64::new(4);
        let edges: Vec<(String, String)> = (0..1500)
            .map(|_| (nodes[r.below(300)].clone(), nodes[r.below(300)].clone()))
            .collect();
        let s = GraphSnapshot::from_rows(nodes, edges);
        let many = s.betweenness(true, None).unwrap();
        for threads in [1, 3] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            assert_eq!(pool.install(|| s.betweenness(true, None).unwrap()), many);
        }
    }

    #[test]
    fn tiny_and_empty() {
        assert!(GraphSnapshot::default()
            .betweenness(true, None)
            .unwrap()
            .is_empty());
        assert!(GraphSnapshot::default()
            .betweenness(true, Some((3, 1)))
            .unwrap()
            .is_empty());
        let s = g(&["a", "b"], &[("a", "b")]);
        assert!(s
            .betweenness(true, None)
            .unwrap()
            .iter()
            .all(|x| x.score == 0.0));
    }
}
