//! Link prediction (Adamic-Adar over the undirected simple projection) and PageRank pillars.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

use rayon::prelude::*;

use super::{merge_distinct, Csr, GraphSnapshot, LinkCandidate, PageRankOptions, Pillar};
use crate::cancel::Context;
use crate::error::{Error, Result};
use crate::pool;

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

    /// The whole undirected simple projection as CSR (`interrupted` when `ctx` stops, checked every
    /// 1024 nodes).
    fn undirected(&self, ctx: &Context) -> Result<Csr> {
        let n = self.node_count();
        let mut offsets = Vec::with_capacity(n + 1);
        offsets.push(0);
        let mut targets = Vec::with_capacity(2 * self.edge_count());
        let mut buf = Vec::new();
        for u in 0..n as u32 {
            if u % 1024 == 0 {
                ctx.check()?;
            }
            self.und_neighbors(u, &mut buf);
            targets.extend_from_slice(&buf);
            offsets.push(targets.len());
        }
        Ok(Csr { offsets, targets })
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
    /// then `b`. Runs to completion (see [`Database::link_candidates`] for a cancellable call).
    ///
    /// # Cost
    /// A pair's score is a sum over its shared neighbours `w` of `1/ln(deg w)`: the busier the
    /// middle, the less it adds. So for each source `a` the middles are visited lowest degree first,
    /// and the neighbours of a middle are listed only while a pair found through it could still
    /// enter the top `limit` (the summed weight of the middles not yet visited bounds the score of
    /// any pair not yet seen; it is compared with the current `limit`-th best). Pairs that survive
    /// that bound get their exact score, summed in ascending id order of `w` as
    /// [`GraphSnapshot::adamic_adar`] does, so results do not depend on the visiting order.
    ///
    /// For a hub of degree `D` whose spokes have no better pairs, the hub's list is read by a few
    /// sources (one per parallel task) instead of by each spoke: `O(D · tasks)` instead of `O(D²)`.
    /// The worst case (a `limit` near the number of pairs, or hubs whose pairs outrank all others)
    /// stays `O(Σ_w deg(w)²)` like plain enumeration, plus `O(min(deg a, deg b) · log)` per
    /// surviving pair for the exact score. Memory is `O(N)` per task plus the pairs kept, which
    /// never exceed the pairs that exist (`limit` is clamped; nothing is allocated from it).
    ///
    /// [`Database::link_candidates`]: crate::Database::link_candidates
    pub fn link_candidates(&self, limit: usize) -> Vec<LinkCandidate> {
        // An empty context never stops, so this cannot fail.
        self.link_candidates_in(limit, &Context::default())
            .unwrap_or_default()
    }

    /// [`GraphSnapshot::link_candidates`], checking `ctx` between sources (`interrupted`).
    pub(crate) fn link_candidates_in(
        &self,
        limit: usize,
        ctx: &Context,
    ) -> Result<Vec<LinkCandidate>> {
        let n = self.node_count();
        if limit == 0 || n < 3 {
            return Ok(Vec::new());
        }
        // There are at most n(n-1)/2 pairs.
        let limit = limit.min(n.saturating_mul(n - 1) / 2);
        let und = self.undirected(ctx)?;
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
        let best = pool::install(None, || {
            (0..n as u32)
                .into_par_iter()
                .with_min_len(64)
                .fold(
                    || Pairs::new(n, limit),
                    |mut acc, a| {
                        if !ctx.stopped() {
                            acc.source(&und, &inv_log, a);
                        }
                        acc
                    },
                )
                .map(|acc| acc.heap.into_vec())
                .reduce(Vec::new, |mut x, y| {
                    x.extend(y);
                    x
                })
        })?;
        ctx.check()?;
        let mut all: Vec<Cand> = best.into_iter().map(|r| r.0).collect();
        all.sort_unstable_by(|x, y| y.cmp(x));
        all.truncate(limit);
        Ok(all
            .into_iter()
            .map(|c| LinkCandidate {
                source: self.name(c.a).to_owned(),
                target: self.name(c.b).to_owned(),
                score: c.score,
            })
            .collect())
    }

    /// The `limit` nodes of highest PageRank (default α, tolerance and cap), with their score and
    /// degree (in + out edges). Scores equal after rounding to 1e-12 tie and are ordered by id.
    pub fn pillars(&self, limit: usize) -> Vec<Pillar> {
        let d = PageRankOptions::default();
        let Ok(run) = self.pagerank_run(d.alpha, d.tolerance, d.max_iterations) else {
            return Vec::new();
        };
        let mut order: Vec<u32> = (0..self.node_count() as u32).collect();
        // Scores equal to 1e-12 are ties (mathematically equal ranks differ in the last bits between
        // implementations), broken by id.
        let key = |u: u32| (run[u as usize] * 1e12).round() as i64;
        order.sort_unstable_by(|&x, &y| key(y).cmp(&key(x)).then(x.cmp(&y)));
        order.truncate(limit);
        order
            .into_iter()
            .map(|u| Pillar {
                id: self.name(u).to_owned(),
                pagerank: run[u as usize],
                degree: self.out_row(u).len() + self.in_row(u).len(),
            })
            .collect()
    }
}

/// An upper bound of the exact sum of `terms` non-negative numbers whose floating-point sum, in
/// some order, is `x` (each addition rounds by at most one half ulp; 4·terms·ε covers any order).
#[inline]
fn upper(x: f64, terms: usize) -> f64 {
    if terms <= 1 {
        x
    } else {
        x * (1.0 + 4.0 * terms as f64 * f64::EPSILON)
    }
}

/// The best pairs of one parallel task, with its scratch space.
struct Pairs {
    limit: usize,
    /// The best pairs seen, worst on top.
    heap: BinaryHeap<Reverse<Cand>>,
    /// Partial score of each `b` touched from the current source (0 when untouched).
    partial: Vec<f64>,
    adjacent: Vec<bool>,
    touched: Vec<u32>,
    /// The current source's middles, lowest degree first, and the weight of each suffix.
    middles: Vec<u32>,
    suffix: Vec<f64>,
}

impl Pairs {
    fn new(n: usize, limit: usize) -> Pairs {
        Pairs {
            limit,
            heap: BinaryHeap::new(),
            partial: vec![0.0; n],
            adjacent: vec![false; n],
            touched: Vec::new(),
            middles: Vec::new(),
            suffix: Vec::new(),
        }
    }

    /// Whether a pair `(a, b)` scoring up to `bound` could enter the kept pairs.
    #[inline]
    fn could_enter(&self, bound: f64, a: u32, b: u32) -> bool {
        self.heap.len() < self.limit
            || self
                .heap
                .peek()
                .is_some_and(|w| Cand { score: bound, a, b } > w.0)
    }

    fn offer(&mut self, c: Cand) {
        if self.heap.len() < self.limit {
            self.heap.push(Reverse(c));
        } else if self.heap.peek().is_some_and(|w| c > w.0) {
            self.heap.pop();
            self.heap.push(Reverse(c));
        }
    }

    /// Offers every pair `(a, b)`, `b > a`, that could enter the kept pairs.
    fn source(&mut self, und: &Csr, inv_log: &[f64], a: u32) {
        let na = und.row(a);
        // A middle of degree 1 has no neighbour but `a`.
        self.middles.clear();
        self.middles
            .extend(na.iter().copied().filter(|&w| und.row(w).len() >= 2));
        let m = self.middles.len();
        if m == 0 {
            return;
        }
        self.middles
            .sort_unstable_by_key(|&w| (und.row(w).len(), w));
        self.suffix.clear();
        self.suffix.resize(m + 1, 0.0);
        for i in (0..m).rev() {
            self.suffix[i] = self.suffix[i + 1] + inv_log[self.middles[i] as usize];
        }
        // The best pair of `a` cannot beat the kept ones: skip it whole. `b = a + 1` is the best
        // tie-break any pair of `a` can have.
        if !self.could_enter(upper(self.suffix[0], m), a, a + 1) {
            return;
        }
        for &w in na {
            self.adjacent[w as usize] = true;
        }
        // Discover pairs through the middles while a pair not yet seen could still enter.
        let mut stop = m;
        for i in 0..m {
            if !self.could_enter(upper(self.suffix[i], m - i), a, a + 1) {
                stop = i;
                break;
            }
            let w = self.middles[i];
            let f = inv_log[w as usize];
            let row = und.row(w);
            let from = row.partition_point(|&b| b <= a);
            for &b in &row[from..] {
                if self.adjacent[b as usize] {
                    continue;
                }
                let s = &mut self.partial[b as usize];
                if *s == 0.0 {
                    self.touched.push(b);
                }
                *s += f;
            }
        }
        let rest = self.suffix[stop];
        let touched = std::mem::take(&mut self.touched);
        for &b in &touched {
            let partial = std::mem::replace(&mut self.partial[b as usize], 0.0);
            // The middles not visited may add at most `rest`.
            if self.could_enter(upper(partial + rest, m), a, b) {
                let score = exact_score(na, und.row(b), inv_log);
                self.offer(Cand { score, a, b });
            }
        }
        self.touched = touched;
        self.touched.clear();
        for &w in na {
            self.adjacent[w as usize] = false;
        }
    }
}

/// `Σ inv_log[w]` over the common entries `w` of two ascending lists, in ascending `w` (the order of
/// [`GraphSnapshot::adamic_adar`]): the shorter list is walked and each entry searched in the longer.
fn exact_score(x: &[u32], y: &[u32], inv_log: &[f64]) -> f64 {
    let (short, long) = if x.len() <= y.len() { (x, y) } else { (y, x) };
    let mut rest = long;
    let mut score = 0.0;
    for &w in short {
        match rest.binary_search(&w) {
            Ok(i) => {
                score += inv_log[w as usize];
                rest = &rest[i + 1..];
            }
            Err(i) => rest = &rest[i..],
        }
        if rest.is_empty() {
            break;
        }
    }
    score
}

#[cfg(test)]
mod tests {
    use crate::graph::tests::g;
    use crate::graph::{GraphSnapshot, LinkCandidate};

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
            assert_eq!((got.source.as_str(), got.target.as_str()), (want.0, want.1));
            assert!((got.score - want.2).abs() < 1e-12);
        }
        assert_eq!(s.link_candidates(1).len(), 1);
        assert_eq!(s.link_candidates(1)[0].source, "a");
        assert!(s.link_candidates(0).is_empty());
        assert!(GraphSnapshot::default().link_candidates(5).is_empty());
    }

    /// The plain enumeration: every two-hop non-adjacent pair, scored by `adamic_adar`.
    fn oracle(s: &GraphSnapshot, limit: usize) -> Vec<LinkCandidate> {
        let ids = s.node_ids().to_vec();
        let mut all = Vec::new();
        for (i, a) in ids.iter().enumerate() {
            let na = s.neighbors(a).unwrap();
            for b in &ids[i + 1..] {
                if na.contains(b) {
                    continue;
                }
                let nb = s.neighbors(b).unwrap();
                if na.iter().any(|w| w != a && w != b && nb.contains(w)) {
                    all.push((a.clone(), b.clone(), s.adamic_adar(a, b).unwrap()));
                }
            }
        }
        all.sort_by(|x, y| {
            y.2.total_cmp(&x.2)
                .then_with(|| x.0.cmp(&y.0))
                .then_with(|| x.1.cmp(&y.1))
        });
        all.truncate(limit);
        all.into_iter()
            .map(|(source, target, score)| LinkCandidate {
                source,
                target,
                score,
            })
            .collect()
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(200))]
        /// The pruned top-k equals the plain enumeration bit for bit, on random small multigraphs
        /// with self-loops and hubs, for limits from 1 to more than the pairs that exist.
        #[test]
        fn link_candidates_match_brute_force(
            n in 3usize..24,
            edges in proptest::collection::vec((0usize..24, 0usize..24), 0..90),
            hub in proptest::option::of(0usize..24),
            limit in 1usize..40,
        ) {
            let ids: Vec<String> = (0..n).map(|i| format!("v{i:02}")).collect();
            let mut es: Vec<(String, String)> = edges
                .iter()
                .map(|&(x, y)| (ids[x % n].clone(), ids[y % n].clone()))
                .collect();
            if let Some(h) = hub {
                for v in (0..n).step_by(2) {
                    es.push((ids[h % n].clone(), ids[v].clone()));
                }
            }
            let s = GraphSnapshot::from_rows(ids, es);
            let want = oracle(&s, limit);
            let got = s.link_candidates(limit);
            proptest::prop_assert_eq!(got.len(), want.len());
            for (g, w) in got.iter().zip(&want) {
                proptest::prop_assert_eq!((&g.source, &g.target), (&w.source, &w.target));
                proptest::prop_assert_eq!(g.score.to_bits(), w.score.to_bits());
            }
            proptest::prop_assert_eq!(s.link_candidates(usize::MAX), oracle(&s, usize::MAX));
        }
    }

    #[test]
    fn pillars_top_pagerank() {
        let s = sample();
        let p = s.pillars(3);
        assert_eq!(p.len(), 3);
        let pr: std::collections::BTreeMap<_, _> = s
            .pagerank(0.85, 1e-6, 100)
            .unwrap()
            .into_iter()
            .map(|r| (r.id, r.score))
            .collect();
        assert!(p.windows(2).all(|w| w[0].pagerank >= w[1].pagerank));
        for x in &p {
            assert_eq!(x.pagerank, pr[&x.id]);
            assert_eq!(x.degree, s.degree(&x.id).unwrap());
        }
        assert_eq!(s.pillars(100).len(), 6);
        assert!(GraphSnapshot::default().pillars(3).is_empty());
        // Ties broken by id.
        let t = g(&["b", "a", "c"], &[]).pillars(2);
        assert_eq!(
            t.iter().map(|x| x.id.as_str()).collect::<Vec<_>>(),
            ["a", "b"]
        );
    }
}
