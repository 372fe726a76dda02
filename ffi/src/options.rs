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
//!
//! The structs whose zero value means the defaults (`resonance_open_options`,
//! `resonance_migrate_options`, `resonance_search_filter`, `resonance_list_options`: a 0 or NULL
//! field means "the library's default") follow the same rule, except that `size` 0 reads as their
//! first version, so a zero-initialised struct keeps meaning the defaults.

use std::ffi::c_char;
use std::mem::{offset_of, size_of};

use resonance::{
    BetweennessOptions, CommunityOptions, Direction, Error, LinkCandidateOptions, ListOptions,
    MigrateOptions, OpenOptions, PageRankOptions, PathOptions, PillarOptions, SearchOptions,
    TraverseOptions, VectorMemory,
};

use crate::opt_string;

/// `direction` value: along edges (source to target), the default.
pub const RESONANCE_DIRECTION_OUTGOING: u32 = 0;
/// `direction` value: against edges (target to source).
pub const RESONANCE_DIRECTION_INCOMING: u32 = 1;
/// `direction` value: both ways, as if the graph were undirected.
pub const RESONANCE_DIRECTION_BOTH: u32 = 2;

/// `resonance_open_options.vector_memory` value: the library's default (the f32 matrix).
pub const RESONANCE_VECTOR_MEMORY_DEFAULT: u64 = 0;
/// `resonance_open_options.vector_memory` value: keep the f32 matrix of every vector in memory.
pub const RESONANCE_VECTOR_MEMORY_MATRIX: u64 = 1;
/// `resonance_open_options.vector_memory` value: keep only the int8 codes (about a quarter of the
/// memory) and read the f32 rows a search rescores from the database; the same hits
/// (docs/vectors.md, "Bounded memory").
pub const RESONANCE_VECTOR_MEMORY_CODES: u64 = 2;

fn vector_memory_of(code: u64) -> Result<Option<VectorMemory>, Error> {
    match code {
        RESONANCE_VECTOR_MEMORY_DEFAULT => Ok(None),
        RESONANCE_VECTOR_MEMORY_MATRIX => Ok(Some(VectorMemory::Matrix)),
        RESONANCE_VECTOR_MEMORY_CODES => Ok(Some(VectorMemory::Codes)),
        other => Err(Error::InvalidArgument(format!(
            "vector_memory {other}: expected RESONANCE_VECTOR_MEMORY_DEFAULT (0), _MATRIX (1) or _CODES (2)"
        ))),
    }
}

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
    /// Whether `size` 0 reads as the first version (the structs whose zero value means the
    /// defaults: a zero-initialised one keeps working) instead of `RESONANCE_INVALID_ARGUMENT`.
    const ZERO_IS_FIRST_VERSION: bool = false;
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
    let size = match unsafe { std::ptr::read_unaligned(p.cast::<u32>()) } as usize {
        0 if T::ZERO_IS_FIRST_VERSION => T::FIRST_SIZE,
        size => size,
    };
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

pub(crate) fn size_u32<T>() -> u32 {
    size_of::<T>() as u32
}

/// How to open a database (`resonance_db_open`). A NULL pointer or a zero-initialised struct means
/// the library's defaults: read-write, migrating, no destructive steps, backups on, and the engine's
/// busy timeout, backup retention and open time limit (docs/connections.md).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct resonance_open_options {
    /// `sizeof(resonance_open_options)`, or 0 for the first version (see the size rule in the
    /// header).
    pub size: u32,
    /// Open a read-only handle (an existing WAL database already at the current schema only).
    pub read_only: bool,
    /// Do not migrate on open (the pending steps are reported as warnings).
    pub no_migrate: bool,
    /// Allow migrations marked destructive.
    pub allow_destructive: bool,
    /// Do not back a non-empty database up before changing its schema.
    pub no_backup: bool,
    /// `PRAGMA busy_timeout` in milliseconds; 0 means the engine's default; otherwise from 1000 to
    /// 2147483647 (`INT32_MAX`, SQLite's limit).
    pub busy_timeout_ms: u32,
    /// Backups older than this many days are pruned (the newest is always kept); 0 means the
    /// engine's default.
    pub backup_retention_days: u32,
    /// Time limit of the open itself (waiting for locks, adoption, migration) in milliseconds; 0
    /// means the engine's default. Past it the open fails with `RESONANCE_INTERRUPTED`.
    pub open_timeout_ms: u32,
    /// (Second version.) Let application SQL (`resonance_execute`…) write `nodes`, `edges` and
    /// `history`, for a compatibility layer; the handle's caches are dropped after each such write.
    /// false (the default): those writes are `RESONANCE_INVALID_ARGUMENT` (docs/sql.md).
    pub allow_engine_writes: bool,
    /// (Second version.) How many compiled statements the connection keeps; 0 means the engine's
    /// default.
    pub statement_cache_size: usize,
    /// (Third version.) Another program (Litestream…) replicates the file by reading its WAL:
    /// restart/truncate checkpoints and VACUUM are `RESONANCE_INVALID_ARGUMENT` (docs/scaling.md).
    pub external_replicator: bool,
    /// (Fourth version.) What the handle keeps in memory for vector search:
    /// `RESONANCE_VECTOR_MEMORY_DEFAULT` (0, the library's default), `_MATRIX` or `_CODES`
    /// (docs/vectors.md, "Bounded memory"). 64 bits wide so that it starts at or past the sizeof of
    /// the third version on every ABI.
    pub vector_memory: u64,
}

impl SizedOptions for resonance_open_options {
    const NAME: &'static str = "resonance_open_options";
    // The first version ended after `open_timeout_ms`.
    const FIRST_SIZE: usize = offset_of!(resonance_open_options, allow_engine_writes);
    const ZERO_IS_FIRST_VERSION: bool = true;
    fn defaults() -> Self {
        resonance_open_options {
            size: size_u32::<Self>(),
            ..Self::default()
        }
    }
}

impl resonance_open_options {
    pub(crate) fn to_core(self) -> Result<OpenOptions, Error> {
        let mut o = OpenOptions {
            read_only: self.read_only,
            migrate: !self.no_migrate,
            allow_destructive: self.allow_destructive,
            backup: !self.no_backup,
            ..OpenOptions::default()
        };
        // 0: the core's default. The ranges are checked by the core's `validate`.
        if self.busy_timeout_ms != 0 {
            o.busy_timeout_ms = self.busy_timeout_ms;
        }
        if self.backup_retention_days != 0 {
            o.backup_retention_days = self.backup_retention_days;
        }
        if self.open_timeout_ms != 0 {
            o.open_timeout_ms = self.open_timeout_ms;
        }
        if self.allow_engine_writes {
            o.allow_engine_writes = true;
        }
        if self.statement_cache_size != 0 {
            o.statement_cache_size = self.statement_cache_size;
        }
        if self.external_replicator {
            o.external_replicator = true;
        }
        if let Some(m) = vector_memory_of(self.vector_memory)? {
            o.vector_memory = m;
        }
        o.validate()?;
        Ok(o)
    }
}

/// The defaults of `resonance_open_options` (every field 0: the library's default), with `size` set.
#[no_mangle]
pub extern "C" fn resonance_open_options_default() -> resonance_open_options {
    resonance_open_options::defaults()
}

/// How to migrate explicitly (`resonance_db_migrate`). A NULL pointer or a zero-initialised struct
/// means: apply, no destructive steps, back up first, keep the handle's backup retention.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct resonance_migrate_options {
    /// `sizeof(resonance_migrate_options)`, or 0 for the first version (see the size rule in the
    /// header).
    pub size: u32,
    /// List what would run and change nothing.
    pub dry_run: bool,
    /// Allow steps marked destructive.
    pub allow_destructive: bool,
    /// Do not back a non-empty database up first.
    pub no_backup: bool,
    /// Backup retention in days; 0 means the handle's (`resonance_open_options.backup_retention_days`).
    pub backup_retention_days: u32,
}

impl SizedOptions for resonance_migrate_options {
    const NAME: &'static str = "resonance_migrate_options";
    const FIRST_SIZE: usize = size_of::<resonance_migrate_options>();
    const ZERO_IS_FIRST_VERSION: bool = true;
    fn defaults() -> Self {
        resonance_migrate_options {
            size: size_u32::<Self>(),
            ..Self::default()
        }
    }
}

impl resonance_migrate_options {
    pub(crate) fn to_core(self) -> MigrateOptions {
        MigrateOptions {
            dry_run: self.dry_run,
            allow_destructive: self.allow_destructive,
            backup: !self.no_backup,
            backup_retention_days: (self.backup_retention_days != 0)
                .then_some(self.backup_retention_days),
        }
    }
}

/// The defaults of `resonance_migrate_options` (every field 0), with `size` set.
#[no_mangle]
pub extern "C" fn resonance_migrate_options_default() -> resonance_migrate_options {
    resonance_migrate_options::defaults()
}

/// Filters of a search. A NULL pointer or a zero-initialised struct means: the engine's minimum
/// score, every domain and type, all cores.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct resonance_search_filter {
    /// `sizeof(resonance_search_filter)`, or 0 for the first version (see the size rule in the
    /// header).
    pub size: u32,
    /// Whether `min_score` is given.
    pub has_min_score: bool,
    /// Keep scores ≥ this (when `has_min_score`); otherwise only scores > 0 are kept.
    pub min_score: f32,
    /// Only nodes of this domain (NULL: any).
    pub domain: *const c_char,
    /// Only nodes of this type (NULL: any).
    pub node_type: *const c_char,
    /// Threads to score with; 0 means all cores, 1 the calling thread only.
    pub threads: u32,
}

impl SizedOptions for resonance_search_filter {
    const NAME: &'static str = "resonance_search_filter";
    const FIRST_SIZE: usize = size_of::<resonance_search_filter>();
    const ZERO_IS_FIRST_VERSION: bool = true;
    fn defaults() -> Self {
        resonance_search_filter {
            size: size_u32::<Self>(),
            has_min_score: false,
            min_score: 0.0,
            domain: std::ptr::null(),
            node_type: std::ptr::null(),
            threads: 0,
        }
    }
}

impl resonance_search_filter {
    /// The core's options for a search of `k` hits under this filter (`domain` and `node_type` are
    /// NULL or NUL-terminated strings, as documented on every call that takes a filter).
    pub(crate) fn to_core(self, k: usize) -> Result<SearchOptions, Error> {
        let mut o = SearchOptions {
            k,
            ..SearchOptions::default()
        };
        o.min_score = self.has_min_score.then_some(self.min_score);
        o.domain = opt_string(self.domain, "filter.domain")?;
        o.node_type = opt_string(self.node_type, "filter.node_type")?;
        o.threads = (self.threads != 0).then_some(self.threads as usize);
        Ok(o)
    }
}

/// The defaults of `resonance_search_filter` (every field 0 or NULL), with `size` set.
#[no_mangle]
pub extern "C" fn resonance_search_filter_default() -> resonance_search_filter {
    resonance_search_filter::defaults()
}

/// Options of `resonance_node_list`. A NULL pointer or a zero-initialised struct means every node,
/// without embeddings.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct resonance_list_options {
    /// `sizeof(resonance_list_options)`, or 0 for the first version (see the size rule in the
    /// header).
    pub size: u32,
    /// Only this domain (NULL: any).
    pub domain: *const c_char,
    /// Only this type (NULL: any).
    pub node_type: *const c_char,
    /// Whether `limit` applies.
    pub has_limit: bool,
    /// At most this many nodes (when `has_limit`).
    pub limit: usize,
    /// Skip this many first.
    pub offset: usize,
    /// Include each node's embedding.
    pub with_embeddings: bool,
}

impl SizedOptions for resonance_list_options {
    const NAME: &'static str = "resonance_list_options";
    const FIRST_SIZE: usize = size_of::<resonance_list_options>();
    const ZERO_IS_FIRST_VERSION: bool = true;
    fn defaults() -> Self {
        resonance_list_options {
            size: size_u32::<Self>(),
            domain: std::ptr::null(),
            node_type: std::ptr::null(),
            has_limit: false,
            limit: 0,
            offset: 0,
            with_embeddings: false,
        }
    }
}

impl resonance_list_options {
    /// The core's list options (`domain` and `node_type` are NULL or NUL-terminated strings).
    pub(crate) fn to_core(self) -> Result<ListOptions, Error> {
        Ok(ListOptions {
            domain: opt_string(self.domain, "options.domain")?,
            node_type: opt_string(self.node_type, "options.node_type")?,
            limit: self.has_limit.then_some(self.limit),
            offset: self.offset,
            with_embeddings: self.with_embeddings,
        })
    }
}

/// The defaults of `resonance_list_options` (every field 0 or NULL), with `size` set.
#[no_mangle]
pub extern "C" fn resonance_list_options_default() -> resonance_list_options {
    resonance_list_options::defaults()
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
    fn zero_means_the_first_version_where_zero_means_the_defaults() {
        // A zero-initialised open struct (size 0) is read as the first version: the core's defaults.
        let zero = resonance_open_options::default();
        assert_eq!(zero.size, 0);
        let o = unsafe { read_options(&zero) }.unwrap().to_core().unwrap();
        assert_eq!(o, OpenOptions::default());
        let mut d = resonance_open_options_default();
        assert_eq!(d.size as usize, size_of::<resonance_open_options>());
        d.open_timeout_ms = 1234;
        let o = unsafe { read_options(&d) }.unwrap().to_core().unwrap();
        assert_eq!(o.open_timeout_ms, 1234);
        // Between 0 and the first version: refused, as for every struct.
        d.size = 4;
        assert_eq!(
            unsafe { read_options(&d) }.unwrap_err().code(),
            "invalid_argument"
        );
        // The graph structs hold values: size 0 stays refused there.
        let mut p = resonance_pagerank_options_default();
        p.size = 0;
        assert_eq!(
            unsafe { read_options(&p) }.unwrap_err().code(),
            "invalid_argument"
        );
        assert_eq!(
            resonance_migrate_options_default().to_core(),
            MigrateOptions::default()
        );
        assert_eq!(
            resonance_list_options_default().to_core().unwrap(),
            ListOptions::default()
        );
        assert_eq!(
            resonance_search_filter_default().to_core(3).unwrap(),
            SearchOptions {
                k: 3,
                ..SearchOptions::default()
            }
        );
    }

    #[test]
    fn vector_memory_is_appended_past_the_third_version() {
        // The third version ended with `external_replicator`, padded to the struct's alignment.
        let third = (offset_of!(resonance_open_options, external_replicator) + 1)
            .next_multiple_of(std::mem::align_of::<usize>());
        assert!(offset_of!(resonance_open_options, vector_memory) >= third);
        let mut o = resonance_open_options_default();
        assert_eq!(o.to_core().unwrap().vector_memory, VectorMemory::default());
        o.vector_memory = RESONANCE_VECTOR_MEMORY_CODES;
        assert_eq!(o.to_core().unwrap().vector_memory, VectorMemory::Codes);
        o.vector_memory = RESONANCE_VECTOR_MEMORY_MATRIX;
        assert_eq!(o.to_core().unwrap().vector_memory, VectorMemory::Matrix);
        o.vector_memory = 3;
        assert_eq!(o.to_core().unwrap_err().code(), "invalid_argument");
        // A third-version caller (size 40 on 64-bit) never has it read.
        o.vector_memory = RESONANCE_VECTOR_MEMORY_CODES;
        o.size = third as u32;
        let read = unsafe { read_options(&o) }.unwrap().to_core().unwrap();
        assert_eq!(read.vector_memory, VectorMemory::default());
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
