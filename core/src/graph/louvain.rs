//! Louvain community detection with directed modularity, move for move as
//! `networkx.community.louvain_communities` on a directed graph (Dugué & Perez's directed gain),
//! except that the node order is shuffled by our own seeded generator and that a final round of
//! single-node moves on the original graph refines the last partition.

use rayon::prelude::*;

use super::rng::SplitMix64;
use super::GraphSnapshot;
use crate::cancel::Context;
use crate::error::{Error, Result};
use crate::pool;

/// A partition of the nodes into communities and its directed modularity.
#[derive(Debug, Clone, PartialEq)]
pub struct Communities {
    /// `(id, community)` for every node in ascending id order; communities are numbered `0..` in
    /// order of first appearance along that order.
    pub partition: Vec<(String, usize)>,
    /// Directed modularity of the partition at the resolution used (0 when there is no edge).
    pub modularity: f64,
}

/// networkx's `threshold`: a level must raise modularity by more than this to continue.
const THRESHOLD: f64 = 1e-7;
/// Graphs with `nodes + edges` below this get more than one Louvain run (best modularity kept).
const RESTART_BUDGET: usize = 100_000;
/// At most this many runs.
const MAX_RUNS: usize = 8;
/// A guard against endless move cycles caused by rounding (networkx has none).
const MAX_PASSES: usize = 10_000;

/// One level of the aggregated graph: weighted, symmetric "combined" neighbour lists (out-weight
/// plus in-weight to each other node, self-loops excluded), weighted degrees and self-loop weights.
struct Level {
    off: Vec<usize>,
    nbr: Vec<u32>,
    w: Vec<f64>,
    in_w: Vec<f64>,
    out_w: Vec<f64>,
    loop_w: Vec<f64>,
}

impl Level {
    fn n(&self) -> usize {
        self.in_w.len()
    }

    /// `None` when `ctx` stopped the build (checked every 1024 nodes).
    fn from_snapshot(g: &GraphSnapshot, ctx: &Context) -> Option<Level> {
        let n = g.node_count();
        let mut lv = Level {
            off: Vec::with_capacity(n + 1),
            nbr: Vec::with_capacity(2 * g.edge_count()),
            w: Vec::with_capacity(2 * g.edge_count()),
            in_w: Vec::with_capacity(n),
            out_w: Vec::with_capacity(n),
            loop_w: Vec::with_capacity(n),
        };
        lv.off.push(0);
        for u in 0..n as u32 {
            if u % 1024 == 0 && ctx.stopped() {
                return None;
            }
            let (a, b) = (g.out_row(u), g.in_row(u));
            lv.out_w.push(a.len() as f64);
            lv.in_w.push(b.len() as f64);
            lv.loop_w.push(a.iter().filter(|&&v| v == u).count() as f64);
            let (mut i, mut j) = (0, 0);
            while i < a.len() || j < b.len() {
                let v = if j >= b.len() || (i < a.len() && a[i] <= b[j]) {
                    i += 1;
                    a[i - 1]
                } else {
                    j += 1;
                    b[j - 1]
                };
                if v == u {
                    continue;
                }
                if lv.nbr.len() > lv.off[u as usize] && lv.nbr.last() == Some(&v) {
                    *lv.w.last_mut().unwrap_or(&mut 0.0) += 1.0;
                } else {
                    lv.nbr.push(v);
                    lv.w.push(1.0);
                }
            }
            lv.off.push(lv.nbr.len());
        }
        Some(lv)
    }

    /// Directed modularity of `com` (a community per node of this level).
    fn modularity(&self, com: &[u32], k: usize, m: f64, gamma: f64) -> f64 {
        let mut inner = vec![0.0; k];
        let mut outs = vec![0.0; k];
        let mut ins = vec![0.0; k];
        for u in 0..self.n() {
            let c = com[u] as usize;
            inner[c] += self.loop_w[u];
            outs[c] += self.out_w[u];
            ins[c] += self.in_w[u];
            for e in self.off[u]..self.off[u + 1] {
                if com[self.nbr[e] as usize] as usize == c {
                    inner[c] += self.w[e] / 2.0;
                }
            }
        }
        (0..k)
            .map(|c| inner[c] / m - gamma * outs[c] * ins[c] / (m * m))
            .sum()
    }

    /// One Louvain phase: local moves until none improves modularity. Returns the community of each
    /// node (renumbered `0..k`), `k`, and whether any node moved.
    /// `init` starts from a given partition (community numbers `< n`) instead of singletons.
    fn one_level(
        &self,
        m: f64,
        gamma: f64,
        rng: &mut SplitMix64,
        init: Option<&[u32]>,
        ctx: &Context,
    ) -> (Vec<u32>, usize, bool) {
        let n = self.n();
        let (mut com, mut tot_in, mut tot_out) = match init {
            None => (
                (0..n as u32).collect(),
                self.in_w.clone(),
                self.out_w.clone(),
            ),
            Some(init) => {
                let (mut tin, mut tout) = (vec![0.0; n], vec![0.0; n]);
                for (u, &c) in init.iter().enumerate() {
                    tin[c as usize] += self.in_w[u];
                    tout[c as usize] += self.out_w[u];
                }
                (init.to_vec(), tin, tout)
            }
        };
        let mut order: Vec<u32> = (0..n as u32).collect();
        rng.shuffle(&mut order);
        let mut w2c = vec![0.0f64; n];
        let mut seen = vec![false; n];
        let mut touched: Vec<u32> = Vec::new();
        let m2 = m * m;
        let mut improved = false;
        'passes: for _ in 0..MAX_PASSES {
            let mut moves = 0usize;
            for (i, &u) in order.iter().enumerate() {
                // Stopped: end the phase as if no move improved (the caller reports `interrupted`).
                if i % 1024 == 0 && ctx.stopped() {
                    break 'passes;
                }
                let u = u as usize;
                let cur = com[u] as usize;
                for e in self.off[u]..self.off[u + 1] {
                    let c = com[self.nbr[e] as usize];
                    if !seen[c as usize] {
                        seen[c as usize] = true;
                        touched.push(c);
                    }
                    w2c[c as usize] += self.w[e];
                }
                let (din, dout) = (self.in_w[u], self.out_w[u]);
                tot_in[cur] -= din;
                tot_out[cur] -= dout;
                let remove_cost =
                    -w2c[cur] / m + gamma * (dout * tot_in[cur] + din * tot_out[cur]) / m2;
                let mut best = cur;
                let mut best_gain = 0.0;
                for &c in &touched {
                    let c = c as usize;
                    let gain = remove_cost + w2c[c] / m
                        - gamma * (dout * tot_in[c] + din * tot_out[c]) / m2;
                    if gain > best_gain {
                        best_gain = gain;
                        best = c;
                    }
                }
                tot_in[best] += din;
                tot_out[best] += dout;
                if best != cur {
                    com[u] = best as u32;
                    moves += 1;
                    improved = true;
                }
                for &c in &touched {
                    w2c[c as usize] = 0.0;
                    seen[c as usize] = false;
                }
                touched.clear();
            }
            if moves == 0 {
                break;
            }
        }
        // Renumber the non-empty communities 0..k in ascending order of their old number.
        let mut renum = vec![u32::MAX; n];
        for &c in &com {
            renum[c as usize] = 0;
        }
        let mut k = 0u32;
        for r in renum.iter_mut() {
            if *r == 0 {
                *r = k;
                k += 1;
            }
        }
        for c in com.iter_mut() {
            *c = renum[*c as usize];
        }
        (com, k as usize, improved)
    }

    /// The graph of communities: one node per community, internal weight as a self-loop.
    fn aggregate(&self, com: &[u32], k: usize) -> Level {
        let n = self.n();
        let mut start = vec![0usize; k + 1];
        for &c in com {
            start[c as usize + 1] += 1;
        }
        for c in 0..k {
            start[c + 1] += start[c];
        }
        let mut members = vec![0u32; n];
        let mut pos = start.clone();
        for (u, &c) in com.iter().enumerate() {
            members[pos[c as usize]] = u as u32;
            pos[c as usize] += 1;
        }
        let mut lv = Level {
            off: Vec::with_capacity(k + 1),
            nbr: Vec::new(),
            w: Vec::new(),
            in_w: vec![0.0; k],
            out_w: vec![0.0; k],
            loop_w: vec![0.0; k],
        };
        lv.off.push(0);
        let mut acc = vec![0.0f64; k];
        let mut seen = vec![false; k];
        let mut touched: Vec<u32> = Vec::new();
        for c in 0..k {
            for &u in &members[start[c]..start[c + 1]] {
                let u = u as usize;
                lv.in_w[c] += self.in_w[u];
                lv.out_w[c] += self.out_w[u];
                lv.loop_w[c] += self.loop_w[u];
                for e in self.off[u]..self.off[u + 1] {
                    let d = com[self.nbr[e] as usize];
                    if d as usize == c {
                        lv.loop_w[c] += self.w[e] / 2.0;
                    } else {
                        if !seen[d as usize] {
                            seen[d as usize] = true;
                            touched.push(d);
                        }
                        acc[d as usize] += self.w[e];
                    }
                }
            }
            touched.sort_unstable();
            for &d in &touched {
                lv.nbr.push(d);
                lv.w.push(acc[d as usize]);
                acc[d as usize] = 0.0;
                seen[d as usize] = false;
            }
            touched.clear();
            lv.off.push(lv.nbr.len());
        }
        lv
    }
}

impl GraphSnapshot {
    /// Louvain communities maximising directed modularity at `resolution` (networkx's
    /// `louvain_communities(G, resolution=resolution, seed=seed)` on the directed multigraph, with
    /// parallel edges as weights). Deterministic for a given `seed`: the node order of every level is
    /// a shuffle by a seeded SplitMix64. Small graphs get several runs — `100,000 / (nodes + edges)`,
    /// between 1 and 8, seeds derived from `seed`, run in parallel — and the partition of highest
    /// modularity is kept (ties to the earliest run); graphs above 50,000 nodes + edges get one run. A graph without edges gives
    /// singletons and modularity 0.
    /// `resolution` must be finite and ≥ 0 (else `InvalidArgument`).
    pub fn communities(&self, resolution: f64, seed: u64) -> Result<Communities> {
        if !(resolution.is_finite() && resolution >= 0.0) {
            return Err(Error::InvalidArgument(format!(
                "resolution must be a finite number ≥ 0, got {resolution}"
            )));
        }
        // Louvain's result depends on the node order; on small graphs a few orders are cheap, so the
        // best of several seeded runs is kept (deterministic: the run seeds derive from `seed`).
        let work = self.node_count() + self.edge_count();
        let runs = (RESTART_BUDGET / work.max(1)).clamp(1, MAX_RUNS);
        let mut seeds = SplitMix64::new(seed);
        let run_seeds: Vec<u64> = (0..runs).map(|_| seeds.next_u64()).collect();
        let ctx = Context::current();
        let runs: Vec<(Vec<u32>, f64)> = pool::install(None, || {
            run_seeds
                .par_iter()
                .map(|&s| {
                    let m = self.louvain_membership(resolution, s, &ctx);
                    let q = self.modularity_of(&m, resolution);
                    (m, q)
                })
                .collect()
        })?;
        let (membership, modularity) = runs
            .into_iter()
            .reduce(|best, next| if next.1 > best.1 { next } else { best })
            .unwrap_or_default();
        ctx.check()?;
        // Number communities by first appearance in ascending id order.
        let mut renum = vec![usize::MAX; membership.len()];
        let mut next = 0usize;
        let partition = membership
            .iter()
            .enumerate()
            .map(|(i, &c)| {
                let r = &mut renum[c as usize];
                if *r == usize::MAX {
                    *r = next;
                    next += 1;
                }
                (self.name(i as u32).to_owned(), *r)
            })
            .collect();
        Ok(Communities {
            partition,
            modularity,
        })
    }

    /// The community of each node (by index; numbers `< node_count`).
    /// A stop seen in `ctx` ends the phases early (the partition is then not final).
    pub(crate) fn louvain_membership(&self, gamma: f64, seed: u64, ctx: &Context) -> Vec<u32> {
        let n = self.node_count();
        let mut membership: Vec<u32> = (0..n as u32).collect();
        let m = self.edge_count() as f64;
        if n == 0 || m == 0.0 {
            return membership;
        }
        let mut rng = SplitMix64::new(seed);
        let Some(base) = Level::from_snapshot(self, ctx) else {
            return membership;
        };
        let mut aggregated: Option<Level> = None;
        let singles: Vec<u32> = (0..n as u32).collect();
        let mut modularity = base.modularity(&singles, n, m, gamma);
        let mut first = true;
        loop {
            let level = aggregated.as_ref().unwrap_or(&base);
            let (com, k, improved) = level.one_level(m, gamma, &mut rng, None, ctx);
            if ctx.stopped() {
                return membership;
            }
            if !improved && !first {
                break;
            }
            first = false;
            for c in membership.iter_mut() {
                *c = com[*c as usize];
            }
            let new_mod = level.modularity(&com, k, m, gamma);
            if new_mod - modularity <= THRESHOLD {
                break;
            }
            modularity = new_mod;
            aggregated = Some(level.aggregate(&com, k));
        }
        // Refinement (not in networkx): one more round of single-node moves on the original graph,
        // starting from the final partition; only moves that raise modularity are made.
        if aggregated.is_some() {
            let (com, _, improved) = base.one_level(m, gamma, &mut rng, Some(&membership), ctx);
            if improved {
                membership = com;
            }
        }
        membership
    }

    /// Directed modularity `Σ_c [L_c/m − γ·out_c·in_c/m²]` of a membership by node index (every
    /// edge weight 1, parallel edges each, self-loops inside their node's community).
    pub(crate) fn modularity_of(&self, membership: &[u32], gamma: f64) -> f64 {
        let m = self.edge_count() as f64;
        if m == 0.0 {
            return 0.0;
        }
        let k = membership
            .iter()
            .map(|&c| c as usize + 1)
            .max()
            .unwrap_or(0);
        let mut inner = vec![0.0; k];
        let mut outs = vec![0.0; k];
        let mut ins = vec![0.0; k];
        for u in 0..self.node_count() as u32 {
            let c = membership[u as usize] as usize;
            outs[c] += self.out_row(u).len() as f64;
            ins[c] += self.in_row(u).len() as f64;
            inner[c] += self
                .out_row(u)
                .iter()
                .filter(|&&v| membership[v as usize] as usize == c)
                .count() as f64;
        }
        (0..k)
            .map(|c| inner[c] / m - gamma * outs[c] * ins[c] / (m * m))
            .sum()
    }

    /// Directed modularity of a partition given as `(id, community)` pairs covering every node
    /// (the same definition as [`Communities::modularity`]). An unknown id is `NotFound`; a node
    /// missing or listed twice is `InvalidArgument`.
    pub fn modularity(&self, partition: &[(String, usize)], resolution: f64) -> Result<f64> {
        let n = self.node_count();
        let mut membership = vec![u32::MAX; n];
        let mut labels = std::collections::HashMap::new();
        for (id, c) in partition {
            let u = self.idx(id)? as usize;
            if membership[u] != u32::MAX {
                return Err(Error::InvalidArgument(format!(
                    "node {id:?} appears twice in the partition"
                )));
            }
            let next = labels.len() as u32;
            membership[u] = *labels.entry(*c).or_insert(next);
        }
        if let Some(u) = membership.iter().position(|&c| c == u32::MAX) {
            return Err(Error::InvalidArgument(format!(
                "node {:?} is missing from the partition",
                self.name(u as u32)
            )));
        }
        Ok(self.modularity_of(&membership, resolution))
    }
}

#[cfg(test)]
mod tests {
    use crate::graph::tests::g;
    use crate::graph::GraphSnapshot;

    fn two_triangles() -> GraphSnapshot {
        g(
            &["a", "b", "c", "x", "y", "z"],
            &[
                ("a", "b"),
                ("b", "c"),
                ("c", "a"),
                ("x", "y"),
                ("y", "z"),
                ("z", "x"),
                ("c", "x"),
            ],
        )
    }

    #[test]
    fn finds_two_triangles() {
        let s = two_triangles();
        let c = s.communities(1.0, 7).unwrap();
        let p: Vec<usize> = c.partition.iter().map(|x| x.1).collect();
        assert_eq!(p, [0, 0, 0, 1, 1, 1]);
        // L = 3+3 of 7; out·in per community: a,b,c out 4 in 3; x,y,z out 3 in 4.
        let expected = 6.0 / 7.0 - (4.0 * 3.0 + 3.0 * 4.0) / 49.0;
        assert!((c.modularity - expected).abs() < 1e-12);
        assert!((s.modularity(&c.partition, 1.0).unwrap() - expected).abs() < 1e-12);
    }

    #[test]
    fn deterministic_per_seed() {
        let nodes: Vec<String> = (0..200).map(|i| format!("n{i:03}")).collect();
        let mut edges = Vec::new();
        let mut r = crate::graph::rng::SplitMix64::new(5);
        for i in 0..200usize {
            for _ in 0..4 {
                // Mostly inside blocks of 20.
                let j = if r.below(10) < 8 {
                    (i / 20) * 20 + r.below(20)
                } else {
                    r.below(200)
                };
                edges.push((nodes[i].clone(), nodes[j].clone()));
            }
        }
        let s = GraphSnapshot::from_rows(nodes, edges);
        let a = s.communities(1.0, 11).unwrap();
        assert_eq!(a, s.communities(1.0, 11).unwrap());
        assert!(a.modularity > 0.5, "{}", a.modularity);
        assert!((s.modularity(&a.partition, 1.0).unwrap() - a.modularity).abs() < 1e-12);
        let b = s.communities(1.0, 12).unwrap();
        assert!((a.modularity - b.modularity).abs() < 0.05);
        // Higher resolution, more communities.
        let hi = s.communities(5.0, 11).unwrap();
        let count =
            |c: &crate::graph::Communities| c.partition.iter().map(|x| x.1).max().unwrap() + 1;
        assert!(count(&hi) >= count(&a));
    }

    #[test]
    fn edge_cases() {
        let e = GraphSnapshot::default().communities(1.0, 1).unwrap();
        assert!(e.partition.is_empty());
        assert_eq!(e.modularity, 0.0);
        let iso = g(&["b", "a"], &[]).communities(1.0, 1).unwrap();
        assert_eq!(
            iso.partition,
            vec![("a".to_string(), 0), ("b".to_string(), 1)]
        );
        assert_eq!(iso.modularity, 0.0);
        // Self-loops and parallel edges only.
        let s = g(
            &["a", "b"],
            &[("a", "a"), ("b", "b"), ("a", "b"), ("a", "b")],
        );
        let c = s.communities(1.0, 3).unwrap();
        assert_eq!(c.partition.len(), 2);
        assert!(
            c.modularity
                >= s.modularity(&[("a".into(), 0), ("b".into(), 1)], 1.0)
                    .unwrap()
                    - 1e-12
        );
        assert_eq!(
            s.communities(f64::NAN, 1).unwrap_err().code(),
            "invalid_argument"
        );
        assert_eq!(
            s.modularity(&[("a".into(), 0)], 1.0).unwrap_err().code(),
            "invalid_argument"
        );
        assert_eq!(
            s.modularity(&[("q".into(), 0)], 1.0).unwrap_err().code(),
            "not_found"
        );
    }
}
