//! Bounded exact top-k selection of `(score, row)` pairs, ordered by score descending then by the
//! rows' ids ascending.
//!
//! This module owns the selection and its tie rule. It must not score vectors or know how ids are
//! stored: the caller passes a comparison of two rows by id, which is consulted only when two scores
//! are equal (rare), so the common case is one float compare against [`TopK::threshold`].

use std::cmp::Ordering;

/// One selected candidate: its score and the caller's row number.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Scored {
    /// The dot product.
    pub score: f32,
    /// The caller's row number (the tie-break compares rows through the caller's id comparison).
    pub row: u32,
}

/// The `k` best candidates seen so far: a min-heap whose root is the worst kept candidate.
#[derive(Clone, Debug)]
pub struct TopK {
    k: usize,
    heap: Vec<Scored>,
}

/// Whether `a` ranks below `b`: lower score, or an equal score and a greater id.
#[inline]
fn worse(a: Scored, b: Scored, by_id: &impl Fn(u32, u32) -> Ordering) -> bool {
    a.score < b.score || (a.score == b.score && by_id(a.row, b.row) == Ordering::Greater)
}

impl TopK {
    /// An empty selection keeping at most `k` candidates.
    pub fn new(k: usize) -> TopK {
        TopK {
            k,
            heap: Vec::with_capacity(k.min(1 << 16)),
        }
    }

    /// The bound `k`.
    pub fn k(&self) -> usize {
        self.k
    }

    /// How many candidates are kept.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// Whether nothing is kept.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    /// The score a candidate must reach to possibly enter: `-inf` while fewer than `k` are kept,
    /// `+inf` when `k` is 0, else the worst kept score. A score strictly below it never enters; an equal
    /// score enters only by winning the id tie-break (see [`TopK::push`]).
    #[inline]
    pub fn threshold(&self) -> f32 {
        if self.heap.len() < self.k {
            f32::NEG_INFINITY
        } else if let Some(root) = self.heap.first() {
            root.score
        } else {
            f32::INFINITY
        }
    }

    /// Offers a candidate; `by_id(a, b)` compares rows `a` and `b` by id and is called only for equal
    /// scores. Returns whether the candidate was kept. NaN scores are never kept.
    #[inline]
    pub fn push(&mut self, score: f32, row: u32, by_id: impl Fn(u32, u32) -> Ordering) -> bool {
        if score.is_nan() || self.k == 0 {
            return false;
        }
        let c = Scored { score, row };
        if self.heap.len() < self.k {
            self.heap.push(c);
            self.sift_up(self.heap.len() - 1, &by_id);
            return true;
        }
        match self.heap.first() {
            Some(&root) if worse(root, c, &by_id) => {
                self.heap[0] = c;
                self.sift_down(0, &by_id);
                true
            }
            _ => false,
        }
    }

    /// Adds every candidate of `other` (the merge of per-chunk selections).
    pub fn merge(&mut self, other: TopK, by_id: impl Fn(u32, u32) -> Ordering) {
        for c in other.heap {
            if c.score >= self.threshold() {
                self.push(c.score, c.row, &by_id);
            }
        }
    }

    /// The kept candidates, best first (score descending, then id ascending).
    pub fn into_sorted(self, by_id: impl Fn(u32, u32) -> Ordering) -> Vec<Scored> {
        let mut v = self.heap;
        v.sort_unstable_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then_with(|| by_id(a.row, b.row))
        });
        v
    }

    fn sift_up(&mut self, mut i: usize, by_id: &impl Fn(u32, u32) -> Ordering) {
        while i > 0 {
            let p = (i - 1) / 2;
            if worse(self.heap[i], self.heap[p], by_id) {
                self.heap.swap(i, p);
                i = p;
            } else {
                break;
            }
        }
    }

    fn sift_down(&mut self, mut i: usize, by_id: &impl Fn(u32, u32) -> Ordering) {
        let n = self.heap.len();
        loop {
            let l = 2 * i + 1;
            if l >= n {
                break;
            }
            let r = l + 1;
            let m = if r < n && worse(self.heap[r], self.heap[l], by_id) {
                r
            } else {
                l
            };
            if worse(self.heap[m], self.heap[i], by_id) {
                self.heap.swap(i, m);
                i = m;
            } else {
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn reference(items: &[(f32, u32)], ids: &[String], k: usize) -> Vec<(f32, u32)> {
        let mut v: Vec<(f32, u32)> = items.to_vec();
        v.sort_by(|a, b| {
            b.0.total_cmp(&a.0)
                .then_with(|| ids[a.1 as usize].cmp(&ids[b.1 as usize]))
        });
        v.truncate(k);
        v
    }

    fn select(items: &[(f32, u32)], ids: &[String], k: usize) -> Vec<(f32, u32)> {
        let by_id = |a: u32, b: u32| ids[a as usize].cmp(&ids[b as usize]);
        let mut t = TopK::new(k);
        for &(s, r) in items {
            if s >= t.threshold() {
                t.push(s, r, by_id);
            }
        }
        t.into_sorted(by_id)
            .into_iter()
            .map(|c| (c.score, c.row))
            .collect()
    }

    #[test]
    fn k_zero_keeps_nothing_and_threshold_is_infinite() {
        let mut t = TopK::new(0);
        assert_eq!(t.threshold(), f32::INFINITY);
        assert!(!t.push(1.0, 0, |a, b| a.cmp(&b)));
        assert!(t.is_empty());
    }

    #[test]
    fn ties_prefer_smaller_id() {
        let ids: Vec<String> = ["b", "a", "c"].iter().map(|s| s.to_string()).collect();
        let got = select(&[(0.5, 0), (0.5, 1), (0.5, 2)], &ids, 2);
        assert_eq!(got, vec![(0.5, 1), (0.5, 0)]);
    }

    #[test]
    fn nan_is_never_kept() {
        let mut t = TopK::new(3);
        assert!(!t.push(f32::NAN, 0, |a, b| a.cmp(&b)));
        assert_eq!(t.len(), 0);
        assert_eq!(t.k(), 3);
    }

    #[test]
    fn merge_equals_single_selection() {
        let ids: Vec<String> = (0..50).map(|i| format!("id{:03}", 49 - i)).collect();
        let by_id = |a: u32, b: u32| ids[a as usize].cmp(&ids[b as usize]);
        let items: Vec<(f32, u32)> = (0..50).map(|i| (((i * 7) % 5) as f32, i)).collect();
        let mut a = TopK::new(6);
        let mut b = TopK::new(6);
        for &(s, r) in &items[..20] {
            a.push(s, r, by_id);
        }
        for &(s, r) in &items[20..] {
            b.push(s, r, by_id);
        }
        a.merge(b, by_id);
        let got: Vec<(f32, u32)> = a
            .into_sorted(by_id)
            .into_iter()
            .map(|c| (c.score, c.row))
            .collect();
        assert_eq!(got, reference(&items, &ids, 6));
    }

    proptest! {
        #[test]
        fn equals_full_sort_truncated(
            scores in proptest::collection::vec(-4i32..4, 0..200),
            k in 0usize..30,
            salt in any::<u64>(),
        ) {
            // Few distinct scores so ties are common; ids in an order unrelated to row numbers.
            let ids: Vec<String> = (0..scores.len())
                .map(|i| format!("{:016x}", (i as u64 + 1).wrapping_mul(salt | 1).rotate_left(17)))
                .collect();
            let items: Vec<(f32, u32)> =
                scores.iter().enumerate().map(|(i, &s)| (s as f32 * 0.25, i as u32)).collect();
            prop_assert_eq!(select(&items, &ids, k), reference(&items, &ids, k));
        }
    }
}
