//! The option structs that can grow: each starts with `uint32_t size`, has a
//! `resonance_<x>_options_default()` that fills it with the core's defaults (and `size =
//! sizeof(struct)`), and is read by [`read_options`] under the rule the header states:
//!
//! * `size` is the size of the struct the caller was compiled with: `sizeof(resonance_x_options)`
//!   of its header, as `resonance_<x>_options_default()` sets it.
//! * The library reads only the bytes within `size`; every field past it (one added by a newer
//!   header) keeps the core's default. New fields are only ever appended, each at or past the
//!   `sizeof` of every earlier version, so an older struct never ends inside one.
//! * `size` below the first version's size (0 included) is `RESONANCE_INVALID_ARGUMENT`; so is a
//!   `size` above this library's struct with a nonzero byte past it (a field this library does not
//!   know was set: the Linux `copy_struct_from_user` rule). A NULL pointer means every default.
//!
//! The defaults are never written here: each `*_default()` copies the core's `Default`.

use std::mem::{offset_of, size_of};

use resonance::{
    BetweennessOptions, CommunityOptions, Direction, Error, LinkCandidateOptions, PageRankOptions,
    PathOptions, PillarOptions, TraverseOptions,
};

/// `direction` value: along edges (source to target), the default.
pub const RESONANCE_DIRECTION_OUTGOING: u32 = 0;
/// `direction` value: against edges (target to source).
pub const RESONANCE_DIRECTION_INCOMING: u32 = 1;
/// `direction` value: both ways, as if the graph were undirected.
pub const RESONANCE_DIRECTION_BOTH: u32 = 2;

fn direction_of(d: u32) -> Result<Direction, Error> {
    match d {
        RESONANCE_DIRECTION_OUTGOING => Ok(Direction::Outgoing),
        RESONANCE_DIRECTION_INCOMING => Ok(Direction::Incoming),
        RESONANCE_DIRECTION_BOTH => Ok(Direction::Both),
        other => Err(Error::InvalidArgument(format!(
            "direction {other}: expected RESONANCE_DIRECTION_OUTGOING (0), _INCOMING (1) or _BOTH (2)"
        ))),
    }
}

fn direction_code(d: Direction) -> u32 {
    match d {
        Direction::Outgoing => RESONANCE_DIRECTION_OUTGOING,
        Direction::Incoming => RESONANCE_DIRECTION_INCOMING,
        Direction::Both => RESONANCE_DIRECTION_BOTH,
    }
}

/// A struct of the size rule: its name, the size of its first version and its defaults.
pub(crate) trait SizedOptions: Copy {
    /// The C name, for messages.
    const NAME: &'static str;
    /// `sizeof` of the first version of the struct.
    const FIRST_SIZE: usize;
    /// The core's defaults, `size` set to this library's `sizeof`.
    fn defaults() -> Self;
}

/// Reads the caller's `*p` under the size rule (NULL: the defaults).
///
/// # Safety
/// `p` is NULL or points to at least `p->size` readable bytes that start with a `uint32_t`.
pub(crate) unsafe fn read_options<T: SizedOptions>(p: *const T) -> Result<T, Error> {
    let mut out = T::defaults();
    if p.is_null() {
        return Ok(out);
    }
    // SAFETY: every struct of the rule starts with `uint32_t size` (documented).
    let size = unsafe { std::ptr::read_unaligned(p.cast::<u32>()) } as usize;
    if size < T::FIRST_SIZE {
        return Err(Error::InvalidArgument(format!(
            "{}.size is {size}, below the struct's first version ({} bytes): set it with {}_default() \
             or to sizeof({})",
            T::NAME,
            T::FIRST_SIZE,
            T::NAME,
            T::NAME
        )));
    }
    let mine = size_of::<T>();
    if size > mine {
        // SAFETY: the caller's struct has `size` readable bytes.
        let extra = unsafe { std::slice::from_raw_parts(p.cast::<u8>().add(mine), size - mine) };
        if extra.iter().any(|&b| b != 0) {
            return Err(Error::InvalidArgument(format!(
                "{}.size is {size}, larger than this library's struct ({mine} bytes), and a field past \
                 it is set: the program was built against a newer resonance.h than the library",
                T::NAME
            )));
        }
    }
    // SAFETY: `min(size, mine)` bytes are readable at `p` and writable in `out`; the caller's fields
    // hold valid values of their C types (bools 0 or 1), so `out` stays a valid `T`.
    unsafe {
        std::ptr::copy_nonoverlapping(
            p.cast::<u8>(),
            (&mut out as *mut T).cast::<u8>(),
            size.min(mine),
        );
    }
    Ok(out)
}

fn size_u32<T>() -> u32 {
    size_of::<T>() as u32
}

/// Options of `resonance_graph_traverse`. Fill with `resonance_traverse_options_default()`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct resonance_traverse_options {
    /// `sizeof(resonance_traverse_options)` (see the size rule in the header).
    pub size: u32,
    /// At most this many hops (default `SIZE_MAX`: no limit; 0 gives only the start).
    pub max_depth: usize,
    /// `RESONANCE_DIRECTION_*` (default outgoing). Added in the second version of the struct.
    pub direction: u32,
}

impl SizedOptions for resonance_traverse_options {
    const NAME: &'static str = "resonance_traverse_options";
    const FIRST_SIZE: usize = offset_of!(resonance_traverse_options, direction);
    fn defaults() -> Self {
        let d = TraverseOptions::default();
        resonance_traverse_options {
            size: size_u32::<Self>(),
            max_depth: d.max_depth,
            direction: direction_code(d.direction),
        }
    }
}

impl resonance_traverse_options {
    pub(crate) fn to_core(self) -> Result<TraverseOptions, Error> {
        let mut o = TraverseOptions::default();
        o.max_depth = self.max_depth;
        o.direction = direction_of(self.direction)?;
        Ok(o)
    }
}

/// The defaults of `resonance_traverse_options`, with `size` set.
#[no_mangle]
pub extern "C" fn resonance_traverse_options_default() -> resonance_traverse_options {
    resonance_traverse_options::defaults()
}

/// Options of `resonance_graph_shortest_path`. Fill with `resonance_path_options_default()`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct resonance_path_options {
    /// `sizeof(resonance_path_options)` (see the size rule in the header).
    pub size: u32,
    /// `RESONANCE_DIRECTION_*` (default outgoing: a directed path).
    pub direction: u32,
}

impl SizedOptions for resonance_path_options {
    const NAME: &'static str = "resonance_path_options";
    const FIRST_SIZE: usize = size_of::<resonance_path_options>();
    fn defaults() -> Self {
        resonance_path_options {
            size: size_u32::<Self>(),
            direction: direction_code(PathOptions::default().direction),
        }
    }
}

impl resonance_path_options {
    pub(crate) fn to_core(self) -> Result<PathOptions, Error> {
        let mut o = PathOptions::default();
        o.direction = direction_of(self.direction)?;
        Ok(o)
    }
}

/// The defaults of `resonance_path_options`, with `size` set.
#[no_mangle]
pub extern "C" fn resonance_path_options_default() -> resonance_path_options {
    resonance_path_options::defaults()
}

/// Options of `resonance_graph_pagerank`. Fill with `resonance_pagerank_options_default()`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct resonance_pagerank_options {
    /// `sizeof(resonance_pagerank_options)` (see the size rule in the header).
    pub size: u32,
    /// Damping factor in [0, 1] (default 0.85).
    pub alpha: f64,
    /// Convergence tolerance, > 0 (default 1e-6).
    pub tolerance: f64,
    /// Iteration cap, ≥ 1 (default 100).
    pub max_iterations: usize,
}

impl SizedOptions for resonance_pagerank_options {
    const NAME: &'static str = "resonance_pagerank_options";
    const FIRST_SIZE: usize = size_of::<resonance_pagerank_options>();
    fn defaults() -> Self {
        let d = PageRankOptions::default();
        resonance_pagerank_options {
            size: size_u32::<Self>(),
            alpha: d.alpha,
            tolerance: d.tolerance,
            max_iterations: d.max_iterations,
        }
    }
}

impl resonance_pagerank_options {
    pub(crate) fn to_core(self) -> PageRankOptions {
        let mut o = PageRankOptions::default();
        o.alpha = self.alpha;
        o.tolerance = self.tolerance;
        o.max_iterations = self.max_iterations;
        o
    }
}

/// The defaults of `resonance_pagerank_options`, with `size` set.
#[no_mangle]
pub extern "C" fn resonance_pagerank_options_default() -> resonance_pagerank_options {
    resonance_pagerank_options::defaults()
}

/// Options of `resonance_graph_betweenness`. Fill with `resonance_betweenness_options_default()`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct resonance_betweenness_options {
    /// `sizeof(resonance_betweenness_options)` (see the size rule in the header).
    pub size: u32,
    /// Divide by (N−1)(N−2) (default true).
    pub normalized: bool,
    /// 0 (the default): exact; otherwise estimate from this many pivots drawn with `seed`.
    pub sample: usize,
    /// Seed of the pivot draw (default 0).
    pub seed: u64,
}

impl SizedOptions for resonance_betweenness_options {
    const NAME: &'static str = "resonance_betweenness_options";
    const FIRST_SIZE: usize = size_of::<resonance_betweenness_options>();
    fn defaults() -> Self {
        let d = BetweennessOptions::default();
        resonance_betweenness_options {
            size: size_u32::<Self>(),
            normalized: d.normalized,
            sample: d.sample.unwrap_or(0),
            seed: d.seed,
        }
    }
}

impl resonance_betweenness_options {
    pub(crate) fn to_core(self) -> BetweennessOptions {
        let mut o = BetweennessOptions::default();
        o.normalized = self.normalized;
        o.sample = (self.sample != 0).then_some(self.sample);
        o.seed = self.seed;
        o
    }
}

/// The defaults of `resonance_betweenness_options`, with `size` set.
#[no_mangle]
pub extern "C" fn resonance_betweenness_options_default() -> resonance_betweenness_options {
    resonance_betweenness_options::defaults()
}

/// Options of `resonance_graph_communities`. Fill with `resonance_community_options_default()`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct resonance_community_options {
    /// `sizeof(resonance_community_options)` (see the size rule in the header).
    pub size: u32,
    /// Modularity resolution, finite and ≥ 0 (default 1).
    pub resolution: f64,
    /// Seed; a seed always gives the same partition (default 0).
    pub seed: u64,
}

impl SizedOptions for resonance_community_options {
    const NAME: &'static str = "resonance_community_options";
    const FIRST_SIZE: usize = size_of::<resonance_community_options>();
    fn defaults() -> Self {
        let d = CommunityOptions::default();
        resonance_community_options {
            size: size_u32::<Self>(),
            resolution: d.resolution,
            seed: d.seed,
        }
    }
}

impl resonance_community_options {
    pub(crate) fn to_core(self) -> CommunityOptions {
        let mut o = CommunityOptions::default();
        o.resolution = self.resolution;
        o.seed = self.seed;
        o
    }
}

/// The defaults of `resonance_community_options`, with `size` set.
#[no_mangle]
pub extern "C" fn resonance_community_options_default() -> resonance_community_options {
    resonance_community_options::defaults()
}

/// Options of `resonance_graph_link_candidates`. Fill with
/// `resonance_link_candidate_options_default()`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct resonance_link_candidate_options {
    /// `sizeof(resonance_link_candidate_options)` (see the size rule in the header).
    pub size: u32,
    /// At most this many pairs (default 10; 0 gives none).
    pub limit: usize,
}

impl SizedOptions for resonance_link_candidate_options {
    const NAME: &'static str = "resonance_link_candidate_options";
    const FIRST_SIZE: usize = size_of::<resonance_link_candidate_options>();
    fn defaults() -> Self {
        resonance_link_candidate_options {
            size: size_u32::<Self>(),
            limit: LinkCandidateOptions::default().limit,
        }
    }
}

impl resonance_link_candidate_options {
    pub(crate) fn to_core(self) -> LinkCandidateOptions {
        let mut o = LinkCandidateOptions::default();
        o.limit = self.limit;
        o
    }
}

/// The defaults of `resonance_link_candidate_options`, with `size` set.
#[no_mangle]
pub extern "C" fn resonance_link_candidate_options_default() -> resonance_link_candidate_options {
    resonance_link_candidate_options::defaults()
}

/// Options of `resonance_graph_pillars`. Fill with `resonance_pillar_options_default()`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct resonance_pillar_options {
    /// `sizeof(resonance_pillar_options)` (see the size rule in the header).
    pub size: u32,
    /// At most this many nodes (default 10; 0 gives none).
    pub limit: usize,
}

impl SizedOptions for resonance_pillar_options {
    const NAME: &'static str = "resonance_pillar_options";
    const FIRST_SIZE: usize = size_of::<resonance_pillar_options>();
    fn defaults() -> Self {
        resonance_pillar_options {
            size: size_u32::<Self>(),
            limit: PillarOptions::default().limit,
        }
    }
}

impl resonance_pillar_options {
    pub(crate) fn to_core(self) -> PillarOptions {
        let mut o = PillarOptions::default();
        o.limit = self.limit;
        o
    }
}

/// The defaults of `resonance_pillar_options`, with `size` set.
#[no_mangle]
pub extern "C" fn resonance_pillar_options_default() -> resonance_pillar_options {
    resonance_pillar_options::defaults()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_come_from_the_core() {
        let p = resonance_pagerank_options_default();
        assert_eq!(p.size as usize, size_of::<resonance_pagerank_options>());
        assert_eq!(p.to_core(), PageRankOptions::default());
        let t = resonance_traverse_options_default();
        assert_eq!(t.to_core().unwrap(), TraverseOptions::default());
        assert_eq!(
            resonance_betweenness_options_default().to_core(),
            BetweennessOptions::default()
        );
    }

    #[test]
    fn the_size_rule() {
        // NULL: defaults.
        let o = unsafe { read_options::<resonance_traverse_options>(std::ptr::null()) }.unwrap();
        assert_eq!(o.to_core().unwrap(), TraverseOptions::default());
        // Too small (0 included).
        let mut t = resonance_traverse_options_default();
        for size in [0, 4, resonance_traverse_options::FIRST_SIZE as u32 - 1] {
            t.size = size;
            let e = unsafe { read_options(&t) }.unwrap_err();
            assert_eq!(e.code(), "invalid_argument", "{size}");
        }
        // The first version: `direction` is not read (it keeps the default).
        t.size = resonance_traverse_options::FIRST_SIZE as u32;
        t.max_depth = 3;
        t.direction = RESONANCE_DIRECTION_BOTH;
        let o = unsafe { read_options(&t) }.unwrap().to_core().unwrap();
        assert_eq!((o.max_depth, o.direction), (3, Direction::Outgoing));
        // A newer, bigger struct: fine while its unknown tail is zero.
        #[repr(C)]
        #[derive(Clone, Copy)]
        struct Newer {
            base: resonance_pagerank_options,
            extra: u64,
        }
        let mut n = Newer {
            base: resonance_pagerank_options_default(),
            extra: 0,
        };
        n.base.size = size_of::<Newer>() as u32;
        n.base.alpha = 0.5;
        let p = (&n as *const Newer).cast::<resonance_pagerank_options>();
        assert_eq!(unsafe { read_options(p) }.unwrap().alpha, 0.5);
        n.extra = 1;
        let p = (&n as *const Newer).cast::<resonance_pagerank_options>();
        assert_eq!(
            unsafe { read_options(p) }.unwrap_err().code(),
            "invalid_argument"
        );
        // A bad direction.
        let mut t = resonance_traverse_options_default();
        t.direction = 7;
        assert_eq!(t.to_core().unwrap_err().code(), "invalid_argument");
    }
}
