//! Link prediction (Adamic-Adar over the undirected simple projection) and PageRank pillars.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

use rayon::prelude::*;

use super::{
    merge_distinct, Csr, GraphSnapshot, DEFAULT_ALPHA, DEFAULT_MAX_ITERATIONS, DEFAULT_TOLERANCE,
};
use crate::error::{Error, Result};

/// A candidate pair; `Ord` puts better candidates last (higher score, then lower ids).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Cand {
    score: f64,
    a: u32,
    b: u32,
}

impl Eq for Cand {}

impl Ord for Cand {
    fn cmp(&self, o: &Self) -> Ordering {
        self.score
            .total_cmp(&o.score)
            .then(o.a.cmp(&self.a))
            .then(o.b.cmp(&self.b))
    }
}

impl PartialOrd for Cand {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

impl GraphSnapshot {
    /// Distinct neighbours of `u` in the undirected simple projection (self excluded), ascending.
    fn und_neighbors(&self, u: u32, buf: &mut Vec<u32>) {
        merge_distinct(self.out_row(u), self.in_row(u), buf);
        buf.retain(|&v| v != u);
    }

    /// The whole undirected simple projection as CSR.
    fn undirected(&self) -> Csr {
        let n = self.node_count();
        let mut offsets = Vec::with_capacity(n + 1);
        offsets.push(0);
        let mut targets = Vec::with_capacity(2 * self.edge_count());
        let mut buf = Vec::new();
        for u in 0..n as u32 {
            self.und_neighbors(u, &mut buf);
            targets.extend_from_slice(&buf);
            offsets.push(targets.len());
        }
        Csr { offsets, targets }
    }

    /// Adamic-Adar index of `a` and `b` on the undirected simple projection without self-loops:
    /// `Σ 1/ln(deg w)` over their common neighbours `w`, where `deg w` counts distinct neighbours
    /// (as `networkx.adamic_adar_index` on that graph). Summed in ascending id order of `w`.
    /// `a == b` is `InvalidArgument`; unknown ids are `NotFound`.
    pub fn adamic_adar(&self, a: &str, b: &str) -> Result<f64> {
        let (ia, ib) = (self.idx(a)?, self.idx(b)?);
        if ia == ib {
            return Err(Error::InvalidArgument(format!(
                "adamic_adar needs two distinct nodes, got {a:?} twice"
            )));
        }
        let (mut na, mut nb, mut nw) = (Vec::new(), Vec::new(), Vec::new());
        self.und_neighbors(ia, &mut na);
        self.und_neighbors(ib, &mut nb);
        let (mut i, mut j, mut score) = (0, 0, 0.0);
        while i < na.len() && j < nb.len() {
            match na[i].cmp(&nb[j]) {
                Ordering::Less => i += 1,
                Ordering::Greater => j += 1,
                Ordering::Equal => {
                    self.und_neighbors(na[i], &mut nw);
                    score += 1.0 / (nw.len() as f64).ln();
                    i += 1;
                    j += 1;
                }
            }
        }
        Ok(score)
    }

    /// Up to `limit` unordered pairs `(a, b)`, `a < b`, at distance exactly two in the undirected
    /// projection (a common neighbour, not adjacent), ranked by Adamic-Adar descending, then `a`,
    /// then `b`.
    pub fn link_candidates(&self, limit: usize) -> Vec<(String, String, f64)> {
        let n = self.node_count();
        if limit == 0 || n < 3 {
            return Vec::new();
        }
        let und = self.undirected();
        let inv_log: Vec<f64> = (0..n as u32)
            .map(|w| {
                let d = und.row(w).len();
                if d >= 2 {
                    1.0 / (d as f64).ln()
                } else {
                    0.0
                }
            })
            .collect();
        struct Acc {
            heap: BinaryHeap<Reverse<Cand>>,
            score: Vec<f64>,
            adjacent: Vec<bool>,
            touched: Vec<u32>,
        }
        let best = (0..n as u32)
            .into_par_iter()
            .with_min_len(64)
            .fold(
                || Acc {
                    heap: BinaryHeap::new(),
                    score: vec![0.0; n],
                    adjacent: vec![false; n],
                    touched: Vec::new(),
                },
                |mut acc, a| {
                    let na = und.row(a);
                    for &w in na {
                        acc.adjacent[w as usize] = true;
                    }
                    for &w in na {
                        let iw = inv_log[w as usize];
                        for &b in und.row(w) {
                            if b > a {
                                let s = &mut acc.score[b as usize];
                                if *s == 0.0 {
                                    acc.touched.push(b);
                                }
                                *s += iw;
                            }
                        }
                    }
                    for &b in &acc.touched {
                        let score = acc.score[b as usize];
                        acc.score[b as usize] = 0.0;
                        if acc.adjacent[b as usize] {
                            continue;
                        }
                        let c = Cand { score, a, b };
                        if acc.heap.len() < limit {
                            acc.heap.push(Reverse(c));
                        } else if acc.heap.peek().is_some_and(|w| c > w.0) {
                            acc.heap.pop();
                            acc.heap.push(Reverse(c));
                        }
                    }
                    acc.touched.clear();
                    for &w in na {
                        acc.adjacent[w as usize] = false;
                    }
                    acc
                },
            )
            .map(|acc| acc.heap.into_vec())
            .reduce(Vec::new, |mut x, y| {
                x.extend(y);
                x
            });
        let mut all: Vec<Cand> = best.into_iter().map(|r| r.0).collect();
        all.sort_unstable_by(|x, y| y.cmp(x));
        all.truncate(limit);
        all.into_iter()
            .map(|c| {
                (
                    self.name(c.a).to_owned(),
                    self.name(c.b).to_owned(),
                    c.score,
                )
            })
            .collect()
    }

    /// The `limit` nodes of highest PageRank (default α, tolerance and cap), with their score and
    /// degree (in + out edges). Scores equal after rounding to 1e-12 tie and are ordered by id.
    pub fn pillars(&self, limit: usize) -> Vec<(String, f64, usize)> {
        let Ok(run) = self.pagerank_run(DEFAULT_ALPHA, DEFAULT_TOLERANCE, DEFAULT_MAX_ITERATIONS)
        else {
            return Vec::new();
        };
        let mut order: Vec<u32> = (0..self.node_count() as u32).collect();
        // Scores equal to 1e-12 are ties (mathematically equal ranks differ in the last bits between
        // implementations), broken by id.
        let key = |u: u32| (run.scores[u as usize] * 1e12).round() as i64;
        order.sort_unstable_by(|&x, &y| key(y).cmp(&key(x)).then(x.cmp(&y)));
        order.truncate(limit);
        order
            .into_iter()
            .map(|u| {
                (
                    self.name(u).to_owned(),
                    run.scores[u as usize],
                    self.out_row(u).len() + self.in_row(u).len(),
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use crate::graph::tests::g;
    use crate::graph::GraphSnapshot;

    fn sample() -> GraphSnapshot {
        // Undirected projection: a-b, a-c, b-c, b-d, c-d, d-e, plus a self-loop on b, a parallel
        // and a reversed duplicate edge, and a dangling one.
        g(
            &["a", "b", "c", "d", "e", "f"],
            &[
                ("a", "b"),
                ("b", "a"),
                ("a", "c"),
                ("a", "c"),
                ("b", "c"),
                ("b", "d"),
                ("d", "c"),
                ("d", "e"),
                ("b", "b"),
                ("e", "zz"),
            ],
        )
    }

    #[test]
    fn adamic_adar_values() {
        let s = sample();
        // a and d share b (deg 3: a, c, d) and c (deg 3: a, b, d).
        let ad = s.adamic_adar("a", "d").unwrap();
        assert!((ad - 2.0 / 3f64.ln()).abs() < 1e-12);
        // b and e share d (deg 3).
        assert!((s.adamic_adar("b", "e").unwrap() - 1.0 / 3f64.ln()).abs() < 1e-12);
        assert_eq!(s.adamic_adar("a", "f").unwrap(), 0.0);
        assert_eq!(
            s.adamic_adar("a", "a").unwrap_err().code(),
            "invalid_argument"
        );
        assert_eq!(s.adamic_adar("a", "q").unwrap_err().code(), "not_found");
    }

    #[test]
    fn link_candidates_ranked() {
        let s = sample();
        let c = s.link_candidates(10);
        let l3 = 1.0 / 3f64.ln();
        let expect = [("a", "d", 2.0 * l3), ("b", "e", l3), ("c", "e", l3)];
        assert_eq!(c.len(), expect.len());
        for (got, want) in c.iter().zip(expect) {
            assert_eq!((got.0.as_str(), got.1.as_str()), (want.0, want.1));
            assert!((got.2 - want.2).abs() < 1e-12);
        }
        assert_eq!(s.link_candidates(1).len(), 1);
        assert_eq!(s.link_candidates(1)[0].0, "a");
        assert!(s.link_candidates(0).is_empty());
        assert!(GraphSnapshot::default().link_candidates(5).is_empty());
    }

    #[test]
    fn pillars_top_pagerank() {
        let s = sample();
        let p = s.pillars(3);
        assert_eq!(p.len(), 3);
        let pr: std::collections::BTreeMap<_, _> =
            s.pagerank(0.85, 1e-6, 100).unwrap().into_iter().collect();
        assert!(p.windows(2).all(|w| w[0].1 >= w[1].1));
        for (id, score, degree) in &p {
            assert_eq!(*score, pr[id]);
            assert_eq!(*degree, s.degree(id).unwrap());
        }
        assert_eq!(s.pillars(100).len(), 6);
        assert!(GraphSnapshot::default().pillars(3).is_empty());
        // Ties broken by id.
        let t = g(&["b", "a", "c"], &[]).pillars(2);
        assert_eq!(
            t.iter().map(|x| x.0.as_str()).collect::<Vec<_>>(),
            ["a", "b"]
        );
    }
}
