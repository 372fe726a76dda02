//! The ids of the matrix's rows and the id → row map, compact (docs/vectors.md, "Bounded memory"): the
//! ids' bytes in one buffer with a start and a length per row, and a map from a 64-bit hash of the id to
//! its row (ids whose hash another id already holds go to a small map of their own). About 12 bytes per
//! row plus the id's bytes and ~36 bytes of map, against ~150 for a `Vec<String>` and a
//! `HashMap<String, u32>` at a million short ids. It must not know about vectors.

use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher, RandomState};

/// Hashes a `u64` key that is already a hash: as it is.
#[derive(Default)]
struct Identity(u64);

impl Hasher for Identity {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        // Only `write_u64` is used; stay correct for anything else.
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, i: u64) {
        self.0 = i;
    }
}

/// The ids of the rows, in row order, and the map from id to row.
#[derive(Clone, Default)]
pub(crate) struct Ids {
    /// Every row's id, UTF-8, one after the other (with the bytes of removed ids until compacted).
    bytes: Vec<u8>,
    /// Where row `r`'s id starts in `bytes`.
    starts: Vec<u64>,
    /// How long row `r`'s id is.
    lens: Vec<u32>,
    /// Bytes of `bytes` no row refers to.
    garbage: usize,
    /// The keys of the id hashes (random per matrix: crafted ids do not pile up on one hash).
    keys: RandomState,
    /// Hash of an id → its row, for the first id seen with that hash.
    index: HashMap<u64, u32, BuildHasherDefault<Identity>>,
    /// Ids whose hash another id holds in `index` → their row.
    collide: HashMap<String, u32>,
    /// Tests only: hash every id to 0 or 1, so that nearly every id collides.
    #[cfg(test)]
    weak: bool,
}

impl Ids {
    fn hash(&self, id: &str) -> u64 {
        let h = self.keys.hash_one(id);
        #[cfg(test)]
        if self.weak {
            return h & 1;
        }
        h
    }

    /// The number of rows.
    pub fn len(&self) -> usize {
        self.starts.len()
    }

    /// Row `r`'s id.
    pub fn get(&self, r: usize) -> &str {
        let start = self.starts[r] as usize;
        let bytes = &self.bytes[start..start + self.lens[r] as usize];
        // SAFETY: `bytes` is exactly the bytes of a `&str` that `push` appended (compaction copies
        // whole ids), so it is valid UTF-8.
        unsafe { std::str::from_utf8_unchecked(bytes) }
    }

    /// Row `r`'s id as bytes (their order is the order of the strings).
    #[inline]
    pub fn bytes_of(&self, r: usize) -> &[u8] {
        let start = self.starts[r] as usize;
        &self.bytes[start..start + self.lens[r] as usize]
    }

    /// The row of `id`.
    pub fn find(&self, id: &str) -> Option<u32> {
        self.find_hashed(id, self.hash(id))
    }

    /// The hash [`Ids::find_hashed`] and [`Ids::push_hashed`] take for `id` (one hash for both
    /// when adding a row that may be present).
    pub fn hash_of(&self, id: &str) -> u64 {
        self.hash(id)
    }

    /// The row of `id`, whose hash is `h` (from [`Ids::hash_of`]).
    pub fn find_hashed(&self, id: &str, h: u64) -> Option<u32> {
        match self.index.get(&h) {
            Some(&r) if self.get(r as usize) == id => Some(r),
            Some(_) => self.collide.get(id).copied(),
            None => None,
        }
    }

    /// Makes room for `additional` more rows.
    pub fn reserve(&mut self, additional: usize) {
        self.starts.reserve(additional);
        self.lens.reserve(additional);
        self.index.reserve(additional);
    }

    /// Appends `id` (not present) as the next row; returns its row.
    #[cfg(test)]
    pub fn push(&mut self, id: &str) -> u32 {
        self.push_hashed(id, self.hash(id))
    }

    /// [`Ids::push`] of `id`, whose hash is `h` (from [`Ids::hash_of`]).
    pub fn push_hashed(&mut self, id: &str, h: u64) -> u32 {
        debug_assert_eq!(h, self.hash(id));
        let r = self.len() as u32;
        self.starts.push(self.bytes.len() as u64);
        self.lens.push(id.len() as u32);
        self.bytes.extend_from_slice(id.as_bytes());
        self.set_row_hashed(id, h, r);
        r
    }

    /// Points `id`'s map entry at row `r` (adding it if it has none).
    fn set_row_hashed(&mut self, id: &str, h: u64, r: u32) {
        match self.index.get(&h).copied() {
            None => {
                self.index.insert(h, r);
            }
            Some(old) if self.get(old as usize) == id => {
                self.index.insert(h, r);
            }
            Some(_) => {
                self.collide.insert(id.to_string(), r);
            }
        }
    }

    /// Removes row `r` by moving the last row into its place (as the matrix does with its rows).
    pub fn swap_remove(&mut self, r: usize) {
        let last = self.len() - 1;
        let id = self.get(r).to_string();
        self.garbage += id.len();
        let h = self.hash(&id);
        if self.index.get(&h) == Some(&(r as u32)) {
            self.index.remove(&h);
            // An id of the same hash waiting in `collide` takes its place in `index`.
            let heir = self
                .collide
                .iter()
                .find(|(other, _)| self.hash(other) == h)
                .map(|(other, &row)| (other.clone(), row));
            if let Some((other, row)) = heir {
                self.collide.remove(&other);
                self.index.insert(h, row);
            }
        } else {
            self.collide.remove(&id);
        }
        if r != last {
            let moved = self.get(last).to_string();
            self.starts[r] = self.starts[last];
            self.lens[r] = self.lens[last];
            self.starts.pop();
            self.lens.pop();
            self.repoint(&moved, r as u32);
        } else {
            self.starts.pop();
            self.lens.pop();
        }
        if self.garbage > 4096 && self.garbage > self.bytes.len() / 2 {
            self.compact();
        }
    }

    /// Points the existing map entry of `id` at row `r`.
    fn repoint(&mut self, id: &str, r: u32) {
        let h = self.hash(id);
        if let Some(slot) = self.collide.get_mut(id) {
            *slot = r;
        } else if let Some(slot) = self.index.get_mut(&h) {
            *slot = r;
        }
    }

    /// Copies the live ids into a fresh buffer (the rows keep their order).
    fn compact(&mut self) {
        let live: usize = self.lens.iter().map(|&l| l as usize).sum();
        let mut bytes = Vec::with_capacity(live);
        for r in 0..self.len() {
            let start = bytes.len() as u64;
            bytes.extend_from_slice(self.bytes_of(r));
            self.starts[r] = start;
        }
        self.bytes = bytes;
        self.garbage = 0;
    }

    /// Removes every row.
    pub fn clear(&mut self) {
        self.bytes = Vec::new();
        self.starts = Vec::new();
        self.lens = Vec::new();
        self.garbage = 0;
        self.index = HashMap::default();
        self.collide = HashMap::new();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(ids: &Ids, alive: &[String]) {
        assert_eq!(ids.len(), alive.len());
        for (i, n) in alive.iter().enumerate() {
            assert_eq!(ids.get(i), n);
            assert_eq!(ids.find(n), Some(i as u32), "{n}");
        }
    }

    #[test]
    fn ids_stay_findable_through_removals_collisions_and_compaction() {
        for weak in [false, true] {
            let mut ids = Ids {
                weak,
                ..Ids::default()
            };
            let mut alive: Vec<String> = Vec::new();
            let mut s = 0x2545_F491_4F6C_DD1Du64;
            let mut next = move |n: usize| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                (s % n as u64) as usize
            };
            for round in 0..3000 {
                if alive.is_empty() || next(3) > 0 {
                    let id = format!("{}-{round}", "x".repeat(next(40)));
                    assert_eq!(ids.find(&id), None);
                    ids.push(&id);
                    alive.push(id);
                } else {
                    let r = next(alive.len());
                    let id = alive.swap_remove(r);
                    ids.swap_remove(r);
                    assert_eq!(ids.find(&id), None);
                }
                if round % 97 == 0 {
                    check(&ids, &alive);
                }
            }
            check(&ids, &alive);
            if weak {
                // Every id hashes to 0 or 1: all but two live in `collide`.
                assert!(ids.collide.len() + 2 >= alive.len());
            }
            ids.clear();
            assert_eq!((ids.len(), ids.find("x-0")), (0, None));
        }
    }
}
