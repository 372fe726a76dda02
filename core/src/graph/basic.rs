//! Neighbourhoods, breadth-first traversal, shortest paths, weakly connected components and stats.

#[cfg(test)]
use std::collections::VecDeque;

use super::{distinct, merge_distinct, Direction, GraphSnapshot};
use crate::error::Result;

/// Per-thread scratch arrays of the shortest-path search, kept between calls so a short path in a
/// big graph costs only the nodes it touches: no O(N) allocation or reset per call. Each entry is
/// stamped with the epoch of the search that wrote it; a new search starts a new epoch, which makes
/// every older entry (also those of a search that panicked) read as unset.
#[derive(Default)]
struct PathScratch {
    /// `epoch << 32 | distance from s`.
    df: Vec<u64>,
    /// `epoch << 32 | distance to t`.
    db: Vec<u64>,
    /// The epoch when the node is on a shortest path (forward side).
    on_path: Vec<u32>,
    epoch: u32,
}

impl PathScratch {
    fn begin(&mut self, n: usize) -> u32 {
        if self.df.len() < n {
            self.df.resize(n, 0);
            self.db.resize(n, 0);
            self.on_path.resize(n, 0);
        }
        self.epoch = self.epoch.wrapping_add(1);
        if self.epoch == 0 {
            self.df.iter_mut().for_each(|c| *c = 0);
            self.db.iter_mut().for_each(|c| *c = 0);
            self.on_path.iter_mut().for_each(|c| *c = 0);
            self.epoch = 1;
        }
        self.epoch
    }
}

/// The distance stored for `v` in this epoch, or −1.
#[inline]
fn dist(cells: &[u64], epoch: u32, v: u32) -> i32 {
    let c = cells[v as usize];
    if (c >> 32) as u32 == epoch {
        c as u32 as i32
    } else {
        -1
    }
}

#[inline]
fn set_dist(cells: &mut [u64], epoch: u32, v: u32, d: i32) {
    cells[v as usize] = (u64::from(epoch) << 32) | u64::from(d as u32);
}

thread_local! {
    static PATH_SCRATCH: std::cell::RefCell<PathScratch> = std::cell::RefCell::default();
}

/// Size figures of a snapshot.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GraphStats {
    /// Number of nodes.
    pub nodes: usize,
    /// Number of edges kept (parallel edges and self-loops each count).
    pub edges: usize,
    /// `edges / (nodes · (nodes − 1))`, 0 when there are fewer than two nodes (can exceed 1 in a
    /// multigraph).
    pub density: f64,
    /// Edges skipped because an endpoint node is missing.
    pub skipped_edges: usize,
}

impl GraphSnapshot {
    /// The union of in- and out-neighbours of `id`, distinct, ascending. The node itself is included
    /// only when it has a self-loop (as networkx's `set(successors) | set(predecessors)`).
    pub fn neighbors(&self, id: &str) -> Result<Vec<String>> {
        let u = self.idx(id)?;
        let mut v = Vec::new();
        merge_distinct(self.out_row(u), self.in_row(u), &mut v);
        Ok(self.names(v))
    }

    /// Targets of the out-edges of `id`, distinct, ascending (itself if it has a self-loop).
    pub fn successors(&self, id: &str) -> Result<Vec<String>> {
        let u = self.idx(id)?;
        Ok(self.names(distinct(self.out_row(u))))
    }

    /// Sources of the in-edges of `id`, distinct, ascending (itself if it has a self-loop).
    pub fn predecessors(&self, id: &str) -> Result<Vec<String>> {
        let u = self.idx(id)?;
        Ok(self.names(distinct(self.in_row(u))))
    }

    /// In-edge count plus out-edge count: parallel edges each count, a self-loop counts 2.
    pub fn degree(&self, id: &str) -> Result<usize> {
        let u = self.idx(id)?;
        Ok(self.out_row(u).len() + self.in_row(u).len())
    }

    /// The neighbours of `u` one step along `dir` (against it when `back`), ascending: a CSR row,
    /// or for [`Direction::Both`] the distinct union of both rows, merged into `buf`.
    #[inline]
    fn step<'a>(&'a self, u: u32, dir: Direction, back: bool, buf: &'a mut Vec<u32>) -> &'a [u32] {
        match (dir, back) {
            (Direction::Outgoing, false) | (Direction::Incoming, true) => self.out_row(u),
            (Direction::Incoming, false) | (Direction::Outgoing, true) => self.in_row(u),
            (Direction::Both, _) => {
                merge_distinct(self.out_row(u), self.in_row(u), buf);
                buf
            }
        }
    }

    /// An upper bound of the length of [`GraphSnapshot::step`]'s row (its cost), without merging.
    #[inline]
    fn step_len(&self, u: u32, dir: Direction, back: bool) -> usize {
        match (dir, back) {
            (Direction::Outgoing, false) | (Direction::Incoming, true) => self.out_row(u).len(),
            (Direction::Incoming, false) | (Direction::Outgoing, true) => self.in_row(u).len(),
            (Direction::Both, _) => self.out_row(u).len() + self.in_row(u).len(),
        }
    }

    /// Breadth-first search from `start` along `direction` (out-edges, in-edges or both), at most
    /// `max_depth` hops, visiting neighbours in ascending id order. Returns the nodes in visiting
    /// order, `start` first; `max_depth = 0` gives `[start]`.
    pub fn traverse(
        &self,
        start: &str,
        max_depth: usize,
        direction: Direction,
    ) -> Result<Vec<String>> {
        let s = self.idx(start)?;
        Ok(self.names(self.bfs_order(s, max_depth, direction)))
    }

    /// BFS visiting order from `s` (indices).
    pub(crate) fn bfs_order(&self, s: u32, max_depth: usize, dir: Direction) -> Vec<u32> {
        let mut seen = vec![false; self.node_count()];
        seen[s as usize] = true;
        let mut order = vec![s];
        let mut level_start = 0;
        let mut depth = 0;
        let mut buf = Vec::new();
        while depth < max_depth && level_start < order.len() {
            let level_end = order.len();
            for i in level_start..level_end {
                let u = order[i];
                for &v in self.step(u, dir, false, &mut buf) {
                    if !seen[v as usize] {
                        seen[v as usize] = true;
                        order.push(v);
                    }
                }
            }
            level_start = level_end;
            depth += 1;
        }
        order
    }

    /// A shortest path from `source` to `target` (unweighted) along `direction` (out-edges: a
    /// directed path; in-edges: a path against the edges; both: as if undirected), both ends
    /// included; `[s]` when `source == target`, `None` when `target` is unreachable.
    ///
    /// Among several shortest paths it returns the one a BFS from `source` would give when it visits
    /// neighbours in ascending id order and keeps, for each node, the first parent that reached it —
    /// which is the lexicographically smallest shortest path (compared id by id from `source`). It is
    /// found by a bidirectional BFS (expanding the cheaper side) followed by a greedy walk through the
    /// nodes that lie on shortest paths, so short paths in big graphs touch few nodes.
    pub fn shortest_path(
        &self,
        source: &str,
        target: &str,
        direction: Direction,
    ) -> Result<Option<Vec<String>>> {
        let s = self.idx(source)?;
        let t = self.idx(target)?;
        Ok(self
            .shortest_path_idx(s, t, direction)
            .map(|p| self.names(p)))
    }

    pub(crate) fn shortest_path_idx(&self, s: u32, t: u32, dir: Direction) -> Option<Vec<u32>> {
        if s == t {
            return Some(vec![s]);
        }
        PATH_SCRATCH.with(|cell| {
            let mut sc = cell.borrow_mut();
            let epoch = sc.begin(self.node_count());
            self.bidirectional(s, t, dir, &mut sc, epoch)
        })
    }

    /// The search of [`GraphSnapshot::shortest_path_idx`] on scratch arrays of a fresh epoch:
    /// "forward" steps go along `dir`, "backward" steps against it.
    fn bidirectional(
        &self,
        s: u32,
        t: u32,
        dir: Direction,
        sc: &mut PathScratch,
        e: u32,
    ) -> Option<Vec<u32>> {
        let PathScratch {
            df, db, on_path, ..
        } = sc;
        set_dist(df, e, s, 0);
        set_dist(db, e, t, 0);
        let (mut ff, mut fb) = (vec![s], vec![t]);
        let (mut a, mut b) = (0i32, 0i32);
        let mut meet: Vec<u32> = Vec::new();
        let mut buf = Vec::new();
        while meet.is_empty() {
            if ff.is_empty() || fb.is_empty() {
                return None;
            }
            let cost_f: usize = ff.iter().map(|&u| self.step_len(u, dir, false)).sum();
            let cost_b: usize = fb.iter().map(|&u| self.step_len(u, dir, true)).sum();
            let forward = cost_f <= cost_b;
            let (frontier, mine, other, level) = if forward {
                (&mut ff, &mut *df, &*db, &mut a)
            } else {
                (&mut fb, &mut *db, &*df, &mut b)
            };
            let mut next = Vec::new();
            for &u in frontier.iter() {
                for &v in self.step(u, dir, !forward, &mut buf) {
                    if dist(mine, e, v) < 0 {
                        set_dist(mine, e, v, *level + 1);
                        next.push(v);
                        if dist(other, e, v) >= 0 {
                            meet.push(v);
                        }
                    }
                }
            }
            *level += 1;
            *frontier = next;
        }
        // Every meeting node has df = a and db = b. On the backward side db is the exact distance
        // to t, so a successor v continues a shortest path at step k > a iff db(v) = d − k. On the
        // forward side, mark the nodes of the layers 1..=a that lead to a meeting node.
        let d = a + b;
        for &x in &meet {
            on_path[x as usize] = e;
        }
        let mut layer = meet;
        for i in (2..=a).rev() {
            let mut prev = Vec::new();
            for &x in &layer {
                for &u in self.step(x, dir, true, &mut buf) {
                    if dist(df, e, u) == i - 1 && on_path[u as usize] != e {
                        on_path[u as usize] = e;
                        prev.push(u);
                    }
                }
            }
            layer = prev;
        }
        // Greedy: the smallest-id successor that continues a shortest path, step by step.
        let mut path = Vec::with_capacity(d as usize + 1);
        path.push(s);
        let mut cur = s;
        for step in 1..=d {
            let next = self
                .step(cur, dir, false, &mut buf)
                .iter()
                .copied()
                .find(|&v| {
                    if step <= a {
                        dist(df, e, v) == step && on_path[v as usize] == e
                    } else {
                        dist(db, e, v) == d - step
                    }
                })?;
            path.push(next);
            cur = next;
        }
        Some(path)
    }

    /// The reference: a plain BFS from `s` keeping first parents (tests compare against it).
    #[cfg(test)]
    pub(crate) fn shortest_path_bfs(&self, s: u32, t: u32, dir: Direction) -> Option<Vec<u32>> {
        if s == t {
            return Some(vec![s]);
        }
        const NONE: u32 = u32::MAX;
        let mut parent = vec![NONE; self.node_count()];
        parent[s as usize] = s;
        let mut queue = VecDeque::from([s]);
        let mut buf = Vec::new();
        while let Some(u) = queue.pop_front() {
            for &v in self.step(u, dir, false, &mut buf) {
                if parent[v as usize] == NONE {
                    parent[v as usize] = u;
                    queue.push_back(v);
                }
            }
        }
        if parent[t as usize] == NONE {
            return None;
        }
        let mut path = vec![t];
        let mut cur = t;
        while cur != s {
            cur = parent[cur as usize];
            path.push(cur);
        }
        path.reverse();
        Some(path)
    }

    /// Weakly connected components (isolated nodes are singletons), each sorted ascending, ordered by
    /// size descending, then by first id.
    pub fn components(&self) -> Vec<Vec<String>> {
        self.component_indices()
            .into_iter()
            .map(|c| self.names(c))
            .collect()
    }

    pub(crate) fn component_indices(&self) -> Vec<Vec<u32>> {
        let n = self.node_count();
        // Union-find with path halving; the root is the smallest index of its set.
        let mut parent: Vec<u32> = (0..n as u32).collect();
        fn find(p: &mut [u32], mut x: u32) -> u32 {
            while p[x as usize] != x {
                let g = p[p[x as usize] as usize];
                p[x as usize] = g;
                x = g;
            }
            x
        }
        for u in 0..n as u32 {
            for &v in self.out_row(u) {
                let (a, b) = (find(&mut parent, u), find(&mut parent, v));
                if a != b {
                    let (lo, hi) = if a < b { (a, b) } else { (b, a) };
                    parent[hi as usize] = lo;
                }
            }
        }
        // Label components by root, in ascending order of their smallest member.
        let mut label = vec![u32::MAX; n];
        let mut sizes: Vec<usize> = Vec::new();
        let mut comp_of = vec![0u32; n];
        for u in 0..n as u32 {
            let r = find(&mut parent, u) as usize;
            if label[r] == u32::MAX {
                label[r] = sizes.len() as u32;
                sizes.push(0);
            }
            comp_of[u as usize] = label[r];
            sizes[label[r] as usize] += 1;
        }
        let mut comps: Vec<Vec<u32>> = sizes.iter().map(|&s| Vec::with_capacity(s)).collect();
        for u in 0..n as u32 {
            comps[comp_of[u as usize] as usize].push(u);
        }
        // Labels are already in first-id order; a stable sort by size keeps it for ties.
        comps.sort_by_key(|c| std::cmp::Reverse(c.len()));
        comps
    }

    /// Node and edge counts, density and the number of skipped (dangling) edges.
    pub fn stats(&self) -> GraphStats {
        let n = self.node_count();
        let e = self.edge_count();
        GraphStats {
            nodes: n,
            edges: e,
            density: if n < 2 {
                0.0
            } else {
                e as f64 / (n as f64 * (n as f64 - 1.0))
            },
            skipped_edges: self.skipped_edges(),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::graph::tests::g;
    use crate::graph::{Direction, GraphSnapshot};

    const OUT: Direction = Direction::Outgoing;

    fn sample() -> GraphSnapshot {
        g(
            &["a", "b", "c", "d", "e", "f", "z"],
            &[
                ("a", "c"),
                ("a", "b"),
                ("b", "d"),
                ("c", "d"),
                ("d", "e"),
                ("a", "b"),
                ("e", "e"),
                ("f", "a"),
                ("q", "a"),
            ],
        )
    }

    #[test]
    fn neighbourhoods() {
        let s = sample();
        assert_eq!(s.neighbors("a").unwrap(), ["b", "c", "f"]);
        assert_eq!(s.neighbors("e").unwrap(), ["d", "e"]);
        assert_eq!(s.neighbors("z").unwrap(), [] as [&str; 0]);
        assert_eq!(s.successors("a").unwrap(), ["b", "c"]);
        assert_eq!(s.predecessors("b").unwrap(), ["a"]);
        assert_eq!(s.predecessors("e").unwrap(), ["d", "e"]);
        assert_eq!(s.degree("a").unwrap(), 4);
        assert_eq!(s.degree("b").unwrap(), 3);
        assert_eq!(s.degree("e").unwrap(), 3);
        assert_eq!(s.degree("z").unwrap(), 0);
        for e in [
            s.neighbors("q").unwrap_err(),
            s.successors("q").unwrap_err(),
            s.predecessors("q").unwrap_err(),
            s.degree("q").unwrap_err(),
        ] {
            assert_eq!(e.code(), "not_found");
            assert!(e.to_string().contains("\"q\""));
        }
    }

    #[test]
    fn traverse_is_bfs_in_id_order() {
        let s = sample();
        assert_eq!(s.traverse("a", 0, OUT).unwrap(), ["a"]);
        assert_eq!(s.traverse("a", 1, OUT).unwrap(), ["a", "b", "c"]);
        assert_eq!(s.traverse("a", 2, OUT).unwrap(), ["a", "b", "c", "d"]);
        assert_eq!(s.traverse("a", 99, OUT).unwrap(), ["a", "b", "c", "d", "e"]);
        assert_eq!(s.traverse("e", 5, OUT).unwrap(), ["e"]);
        assert_eq!(s.traverse("nope", 1, OUT).unwrap_err().code(), "not_found");
    }

    #[test]
    fn shortest_paths() {
        let s = sample();
        assert_eq!(s.shortest_path("a", "a", OUT).unwrap().unwrap(), ["a"]);
        // Two shortest paths a-b-d and a-c-d: BFS in id order takes b.
        assert_eq!(
            s.shortest_path("a", "d", OUT).unwrap().unwrap(),
            ["a", "b", "d"]
        );
        assert_eq!(
            s.shortest_path("f", "e", OUT).unwrap().unwrap(),
            ["f", "a", "b", "d", "e"]
        );
        assert_eq!(s.shortest_path("e", "a", OUT).unwrap(), None);
        assert_eq!(s.shortest_path("a", "z", OUT).unwrap(), None);
        assert_eq!(
            s.shortest_path("a", "q", OUT).unwrap_err().code(),
            "not_found"
        );
        assert_eq!(
            s.shortest_path("q", "a", OUT).unwrap_err().code(),
            "not_found"
        );
    }

    #[test]
    fn traverse_follows_the_direction() {
        let s = sample();
        // In-edges of d: b, c; of b: a; of c: a; of a: f (q is dangling, skipped).
        assert_eq!(
            s.traverse("d", 99, Direction::Incoming).unwrap(),
            ["d", "b", "c", "a", "f"]
        );
        assert_eq!(
            s.traverse("d", 1, Direction::Incoming).unwrap(),
            ["d", "b", "c"]
        );
        assert_eq!(s.traverse("a", 0, Direction::Both).unwrap(), ["a"]);
        assert_eq!(
            s.traverse("a", 1, Direction::Both).unwrap(),
            ["a", "b", "c", "f"]
        );
        assert_eq!(
            s.traverse("e", 99, Direction::Both).unwrap(),
            ["e", "d", "b", "c", "a", "f"]
        );
        assert_eq!(s.traverse("z", 99, Direction::Both).unwrap(), ["z"]);
    }

    #[test]
    fn shortest_paths_follow_the_direction() {
        let s = sample();
        // e is a sink: unreachable from it along out-edges, reachable against them or both ways.
        assert_eq!(s.shortest_path("e", "a", OUT).unwrap(), None);
        assert_eq!(
            s.shortest_path("e", "a", Direction::Incoming)
                .unwrap()
                .unwrap(),
            ["e", "d", "b", "a"]
        );
        assert_eq!(
            s.shortest_path("a", "e", Direction::Incoming).unwrap(),
            None
        );
        assert_eq!(
            s.shortest_path("e", "f", Direction::Both).unwrap().unwrap(),
            ["e", "d", "b", "a", "f"]
        );
        // b and c share only neighbours through a or d: both ways, b-a-c comes first by id.
        assert_eq!(
            s.shortest_path("b", "c", Direction::Both).unwrap().unwrap(),
            ["b", "a", "c"]
        );
        assert_eq!(s.shortest_path("a", "z", Direction::Both).unwrap(), None);
        assert_eq!(
            s.shortest_path("a", "q", Direction::Both)
                .unwrap_err()
                .code(),
            "not_found"
        );
    }

    #[test]
    fn scratch_epoch_wraps_around() {
        let s = sample();
        super::PATH_SCRATCH.with(|c| c.borrow_mut().epoch = u32::MAX - 1);
        for _ in 0..4 {
            assert_eq!(
                s.shortest_path("a", "d", OUT).unwrap().unwrap(),
                ["a", "b", "d"]
            );
            assert_eq!(s.shortest_path("e", "a", OUT).unwrap(), None);
        }
        assert!(super::PATH_SCRATCH.with(|c| c.borrow().epoch) < 10);
    }

    #[test]
    fn bidirectional_matches_plain_bfs() {
        // Random multigraphs with many equal shortest paths: both searches must pick the same one.
        let mut r = crate::graph::rng::SplitMix64::new(99);
        for round in 0..40 {
            let n = 5 + r.below(60);
            let m = r.below(4 * n);
            let nodes: Vec<String> = (0..n).map(|i| format!("v{i:02}")).collect();
            let edges: Vec<(String, String)> = (0..m)
                .map(|_| (nodes[r.below(n)].clone(), nodes[r.below(n)].clone()))
                .collect();
            let s = GraphSnapshot::from_rows(nodes, edges);
            for dir in [Direction::Outgoing, Direction::Incoming, Direction::Both] {
                for a in 0..n as u32 {
                    for b in 0..n as u32 {
                        assert_eq!(
                            s.shortest_path_idx(a, b, dir),
                            s.shortest_path_bfs(a, b, dir),
                            "round {round}: {a} -> {b} ({dir})"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn components_weak_sorted() {
        let s = sample();
        assert_eq!(
            s.components(),
            vec![vec!["a", "b", "c", "d", "e", "f"], vec!["z"]]
        );
        let s = g(&["x", "y", "b", "a", "c"], &[("y", "x"), ("c", "b")]);
        assert_eq!(
            s.components(),
            vec![vec!["b", "c"], vec!["x", "y"], vec!["a"]]
        );
        assert!(GraphSnapshot::default().components().is_empty());
    }

    #[test]
    fn stats_count_multiedges() {
        let st = sample().stats();
        assert_eq!((st.nodes, st.edges, st.skipped_edges), (7, 8, 1));
        assert!((st.density - 8.0 / 42.0).abs() < 1e-12);
        let st = g(&["a"], &[("a", "a")]).stats();
        assert_eq!((st.nodes, st.edges, st.density), (1, 1, 0.0));
        let st = GraphSnapshot::default().stats();
        assert_eq!(
            (st.nodes, st.edges, st.density, st.skipped_edges),
            (0, 0, 0.0, 0)
        );
    }
}
