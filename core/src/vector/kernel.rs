//! The dot-product kernels: one portable scalar version and SIMD versions (AVX-512F, AVX2+FMA, SSE2 on
//! x86-64; NEON on aarch64) chosen once at run time from what the processor reports.
//!
//! This module owns the arithmetic of scoring (one pair, or one query against a block of rows) and the
//! choice of kernel. It must not validate vectors, allocate on the hot path, or know about ids, top-k or
//! SQLite. Every SIMD path keeps several independent accumulators so a scan runs at memory bandwidth.

use std::sync::OnceLock;

/// The instruction sets a kernel can use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Isa {
    Scalar,
    #[cfg(target_arch = "x86_64")]
    Sse2,
    #[cfg(target_arch = "x86_64")]
    Avx2Fma,
    #[cfg(target_arch = "x86_64")]
    Avx512,
    #[cfg(target_arch = "aarch64")]
    Neon,
}

/// A dot-product kernel that this processor can run.
///
/// Values exist only for kernels whose instructions the processor supports (see [`Kernel::available`]),
/// so calling any of its methods is always safe.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Kernel(Isa);

static BEST: OnceLock<Kernel> = OnceLock::new();

impl Kernel {
    /// The portable scalar kernel (always available).
    pub const SCALAR: Kernel = Kernel(Isa::Scalar);

    /// The fastest kernel for this processor, detected once and cached.
    ///
    /// The environment variable `RESONANCE_VECTOR_KERNEL` (read once) may name another available
    /// kernel (`"avx2+fma"`, `"scalar"`…) to compare kernels or rule one out; an unknown or
    /// unavailable name is ignored.
    #[inline]
    pub fn best() -> Kernel {
        *BEST.get_or_init(|| {
            let available = Kernel::available();
            let wanted = std::env::var("RESONANCE_VECTOR_KERNEL").ok();
            wanted
                .and_then(|w| available.iter().copied().find(|k| k.name() == w.trim()))
                .or_else(|| available.first().copied())
                .unwrap_or(Kernel::SCALAR)
        })
    }

    /// Every kernel this processor can run, fastest first; the scalar kernel is always last.
    pub fn available() -> Vec<Kernel> {
        #[allow(unused_mut)]
        let mut v = Vec::new();
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f") {
                v.push(Kernel(Isa::Avx512));
            }
            if std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma")
            {
                v.push(Kernel(Isa::Avx2Fma));
            }
            if std::arch::is_x86_feature_detected!("sse2") {
                v.push(Kernel(Isa::Sse2));
            }
        }
        #[cfg(target_arch = "aarch64")]
        {
            if std::arch::is_aarch64_feature_detected!("neon") {
                v.push(Kernel(Isa::Neon));
            }
        }
        v.push(Kernel::SCALAR);
        v
    }

    /// The kernel's name: `"avx512f"`, `"avx2+fma"`, `"sse2"`, `"neon"` or `"scalar"`.
    pub fn name(self) -> &'static str {
        match self.0 {
            Isa::Scalar => "scalar",
            #[cfg(target_arch = "x86_64")]
            Isa::Sse2 => "sse2",
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2Fma => "avx2+fma",
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => "avx512f",
            #[cfg(target_arch = "aarch64")]
            Isa::Neon => "neon",
        }
    }

    /// The dot product of `a` and `b` over their common length (components past the shorter one are
    /// ignored; callers check dimensions before scoring).
    #[inline]
    pub fn dot(self, a: &[f32], b: &[f32]) -> f32 {
        let n = a.len().min(b.len());
        let (a, b) = (&a[..n], &b[..n]);
        match self.0 {
            Isa::Scalar => dot_scalar(a, b),
            // SAFETY (all arms below): a `Kernel` holding this ISA is only built by `available()` after
            // the processor reported the features; slices have equal length `n`.
            #[cfg(target_arch = "x86_64")]
            Isa::Sse2 => unsafe { x86::dot_sse2(a, b) },
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2Fma => unsafe { x86::dot_avx2(a, b) },
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => unsafe { x86::dot_avx512(a, b) },
            #[cfg(target_arch = "aarch64")]
            Isa::Neon => unsafe { arm::dot_neon(a, b) },
        }
    }

    /// Scores one query against a block of rows: `out[r] = dot(query, rows[r*d..(r+1)*d])` with
    /// `d = query.len()`.
    ///
    /// Only `min(out.len(), rows.len() / d)` scores are written; nothing is written when `d` is 0.
    #[inline]
    pub fn dots(self, query: &[f32], rows: &[f32], out: &mut [f32]) {
        let d = query.len();
        if d == 0 {
            return;
        }
        let n = out.len().min(rows.len() / d);
        let (rows, out) = (&rows[..n * d], &mut out[..n]);
        match self.0 {
            Isa::Scalar => {
                for (o, row) in out.iter_mut().zip(rows.chunks_exact(d)) {
                    *o = dot_scalar(query, row);
                }
            }
            // SAFETY (all arms below): as in `dot`; `rows.len() == out.len() * query.len()`.
            #[cfg(target_arch = "x86_64")]
            Isa::Sse2 => {
                for (o, row) in out.iter_mut().zip(rows.chunks_exact(d)) {
                    *o = unsafe { x86::dot_sse2(query, row) };
                }
            }
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2Fma => unsafe { x86::dots_avx2(query, rows, out) },
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => unsafe { x86::dots_avx512(query, rows, out) },
            #[cfg(target_arch = "aarch64")]
            Isa::Neon => {
                for (o, row) in out.iter_mut().zip(rows.chunks_exact(d)) {
                    *o = unsafe { arm::dot_neon(query, row) };
                }
            }
        }
    }

    /// Whether this kernel has a register-blocked batch kernel ([`Kernel::scan_block`]); without one,
    /// callers use a general matrix product instead.
    pub fn has_block_kernel(self) -> bool {
        #[cfg(target_arch = "x86_64")]
        {
            matches!(self.0, Isa::Avx512 | Isa::Avx2Fma)
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            false
        }
    }

    /// The fused batch scan: scores every row of `rows` (row-major, `queries.dim()` floats each)
    /// against every packed query and calls `hit(row, query, score, &mut cuts[query])` for each score
    /// `>= cuts[query]` (NaN never passes). `hit` may raise the cut; later rows see the new value.
    ///
    /// `cuts` must hold [`PackedQueries::padded`] values, `+inf` in the padding lanes. Returns `false`
    /// without doing anything when the kernel has no block kernel or `cuts` is too short.
    ///
    /// The matrix product is register-blocked (AVX-512F: 6 rows × 64 queries of accumulators; AVX2:
    /// 5 rows × 16 queries): each row component is broadcast once against the vectors of transposed
    /// queries, so the rows are read once per batch and no horizontal reduction is needed; the
    /// threshold compare runs on the accumulators before anything is stored.
    pub fn scan_block(
        self,
        rows: &[f32],
        queries: &PackedQueries,
        cuts: &mut [f32],
        hit: impl FnMut(usize, usize, f32, &mut f32),
    ) -> bool {
        if cuts.len() < queries.padded || queries.dim == 0 {
            return false;
        }
        let n = rows.len() / queries.dim;
        #[cfg(target_arch = "x86_64")]
        match self.0 {
            Isa::Avx512 => {
                // SAFETY: the processor has AVX-512F (see `dot`); `rows` holds `n * dim` floats, the
                // packed queries `dim * padded`, `cuts` at least `padded`.
                unsafe { x86::scan_block_avx512(&rows[..n * queries.dim], queries, cuts, hit) };
                return true;
            }
            Isa::Avx2Fma => {
                // SAFETY: the processor has AVX2 and FMA (see `dot`); sizes as above.
                unsafe { x86::scan_block_avx2(&rows[..n * queries.dim], queries, cuts, hit) };
                return true;
            }
            _ => {}
        }
        let _ = (n, hit);
        false
    }
}

/// Queries transposed for [`Kernel::scan_block`]: `dim` rows of `padded` floats (the query count
/// rounded up to 16, zero padding), 64-byte aligned.
#[derive(Clone, Debug)]
pub struct PackedQueries {
    data: Vec<Lane16>,
    dim: usize,
    count: usize,
    padded: usize,
}

/// Sixteen floats on a 64-byte boundary.
#[derive(Clone, Copy, Debug)]
#[repr(C, align(64))]
struct Lane16([f32; 16]);

impl PackedQueries {
    /// Packs `queries` (row-major, `dim` floats each; a ragged tail is ignored).
    pub fn new(queries: &[f32], dim: usize) -> PackedQueries {
        let count = queries.len().checked_div(dim).unwrap_or(0);
        let padded = count.div_ceil(16) * 16;
        let lanes = padded / 16;
        let mut data = vec![Lane16([0.0; 16]); dim * lanes];
        for (q, query) in queries.chunks_exact(dim.max(1)).take(count).enumerate() {
            for (k, &x) in query.iter().enumerate() {
                data[k * lanes + q / 16].0[q % 16] = x;
            }
        }
        PackedQueries {
            data,
            dim,
            count,
            padded,
        }
    }

    /// The number of queries.
    pub fn count(&self) -> usize {
        self.count
    }

    /// The query count rounded up to a multiple of 16 (the length `cuts` must have).
    pub fn padded(&self) -> usize {
        self.padded
    }

    /// The dimension.
    pub fn dim(&self) -> usize {
        self.dim
    }

    #[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
    fn as_ptr(&self) -> *const f32 {
        self.data.as_ptr().cast::<f32>()
    }
}

/// The dot product of `a` and `b` with the best kernel of this processor (see [`Kernel::dot`]).
#[inline]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    Kernel::best().dot(a, b)
}

/// One query against a block of rows with the best kernel (see [`Kernel::dots`]).
#[inline]
pub fn dots(query: &[f32], rows: &[f32], out: &mut [f32]) {
    Kernel::best().dots(query, rows, out)
}

/// The name of the kernel [`dot`] uses on this processor.
pub fn active_kernel() -> &'static str {
    Kernel::best().name()
}

/// The portable reference dot product over the common length of `a` and `b`.
///
/// Eight independent `f32` lanes, summed pairwise at the end: the same shape as the SIMD kernels, so
/// results agree to rounding.
pub fn dot_scalar(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0.0f32; 8];
    let mut ca = a.chunks_exact(8);
    let mut cb = b.chunks_exact(8);
    for (x, y) in (&mut ca).zip(&mut cb) {
        for l in 0..8 {
            acc[l] += x[l] * y[l];
        }
    }
    let mut tail = 0.0f32;
    for (x, y) in ca.remainder().iter().zip(cb.remainder()) {
        tail += x * y;
    }
    let s4 = [
        acc[0] + acc[4],
        acc[1] + acc[5],
        acc[2] + acc[6],
        acc[3] + acc[7],
    ];
    (s4[0] + s4[2]) + (s4[1] + s4[3]) + tail
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    //! x86-64 kernels. Every function requires the features named in its `target_feature` and slices
    //! of equal length (`rows.len() == out.len() * query.len()` for the block versions).
    use std::arch::x86_64::*;

    /// SSE2: four accumulators of four lanes, multiply then add (no FMA in SSE2).
    #[target_feature(enable = "sse2")]
    pub(super) unsafe fn dot_sse2(a: &[f32], b: &[f32]) -> f32 {
        let n = a.len();
        let (pa, pb) = (a.as_ptr(), b.as_ptr());
        let mut acc = [_mm_setzero_ps(); 4];
        let mut i = 0;
        // SAFETY: every load reads `[i, i+4)` with `i + 4 <= n`, inside both slices.
        unsafe {
            while i + 16 <= n {
                for (j, s) in acc.iter_mut().enumerate() {
                    let o = i + 4 * j;
                    *s = _mm_add_ps(
                        *s,
                        _mm_mul_ps(_mm_loadu_ps(pa.add(o)), _mm_loadu_ps(pb.add(o))),
                    );
                }
                i += 16;
            }
            while i + 4 <= n {
                acc[0] = _mm_add_ps(
                    acc[0],
                    _mm_mul_ps(_mm_loadu_ps(pa.add(i)), _mm_loadu_ps(pb.add(i))),
                );
                i += 4;
            }
        }
        let s = _mm_add_ps(_mm_add_ps(acc[0], acc[1]), _mm_add_ps(acc[2], acc[3]));
        let mut lanes = [0.0f32; 4];
        // SAFETY: `lanes` holds four f32.
        unsafe { _mm_storeu_ps(lanes.as_mut_ptr(), s) };
        let mut tail = 0.0f32;
        while i < n {
            tail += a[i] * b[i];
            i += 1;
        }
        (lanes[0] + lanes[2]) + (lanes[1] + lanes[3]) + tail
    }

    #[inline]
    #[target_feature(enable = "avx2,fma")]
    fn hsum256(v: __m256) -> f32 {
        let lo = _mm256_castps256_ps128(v);
        let hi = _mm256_extractf128_ps::<1>(v);
        let s = _mm_add_ps(lo, hi);
        let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
        let s = _mm_add_ss(s, _mm_shuffle_ps::<0b01>(s, s));
        _mm_cvtss_f32(s)
    }

    /// AVX2+FMA: four accumulators of eight lanes.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn dot_avx2(a: &[f32], b: &[f32]) -> f32 {
        let n = a.len();
        let (pa, pb) = (a.as_ptr(), b.as_ptr());
        let mut acc = [_mm256_setzero_ps(); 4];
        let mut i = 0;
        // SAFETY: every load reads `[i, i+8)` with `i + 8 <= n`, inside both slices.
        unsafe {
            while i + 32 <= n {
                for (j, s) in acc.iter_mut().enumerate() {
                    let o = i + 8 * j;
                    *s =
                        _mm256_fmadd_ps(_mm256_loadu_ps(pa.add(o)), _mm256_loadu_ps(pb.add(o)), *s);
                }
                i += 32;
            }
            while i + 8 <= n {
                acc[0] = _mm256_fmadd_ps(
                    _mm256_loadu_ps(pa.add(i)),
                    _mm256_loadu_ps(pb.add(i)),
                    acc[0],
                );
                i += 8;
            }
        }
        let s = _mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3]));
        let mut tail = 0.0f32;
        while i < n {
            tail += a[i] * b[i];
            i += 1;
        }
        hsum256(s) + tail
    }

    /// AVX2+FMA, one query against consecutive rows, one row at a time: a single sequential stream is
    /// what the hardware prefetcher follows best (interleaving rows halves the bandwidth).
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn dots_avx2(q: &[f32], rows: &[f32], out: &mut [f32]) {
        let d = q.len();
        for (o, row) in out.iter_mut().zip(rows.chunks_exact(d)) {
            // SAFETY: same features; equal lengths.
            *o = unsafe { dot_avx2(q, row) };
        }
    }

    /// AVX-512F: four accumulators of sixteen lanes, a masked load for the tail.
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn dot_avx512(a: &[f32], b: &[f32]) -> f32 {
        let n = a.len();
        let (pa, pb) = (a.as_ptr(), b.as_ptr());
        let mut acc = [_mm512_setzero_ps(); 4];
        let mut i = 0;
        // SAFETY: unmasked loads read `[i, i+16)` with `i + 16 <= n`; the masked load touches only the
        // `n - i < 16` lanes inside the slices.
        unsafe {
            while i + 64 <= n {
                for (j, s) in acc.iter_mut().enumerate() {
                    let o = i + 16 * j;
                    *s =
                        _mm512_fmadd_ps(_mm512_loadu_ps(pa.add(o)), _mm512_loadu_ps(pb.add(o)), *s);
                }
                i += 64;
            }
            while i + 16 <= n {
                acc[1] = _mm512_fmadd_ps(
                    _mm512_loadu_ps(pa.add(i)),
                    _mm512_loadu_ps(pb.add(i)),
                    acc[1],
                );
                i += 16;
            }
            if i < n {
                let m: __mmask16 = (1u16 << (n - i)) - 1;
                acc[2] = _mm512_fmadd_ps(
                    _mm512_maskz_loadu_ps(m, pa.add(i)),
                    _mm512_maskz_loadu_ps(m, pb.add(i)),
                    acc[2],
                );
            }
        }
        let s = _mm512_add_ps(_mm512_add_ps(acc[0], acc[1]), _mm512_add_ps(acc[2], acc[3]));
        _mm512_reduce_add_ps(s)
    }

    /// What the block kernel needs from packed queries: base pointer, dimension, padded count.
    pub(super) trait Packed {
        fn parts(&self) -> (*const f32, usize, usize);
    }

    /// Rows per register tile of the block kernel.
    const TILE_ROWS: usize = 6;
    /// 16-query vectors per register tile of the block kernel.
    const TILE_VECS: usize = 4;

    /// The AVX-512F batch scan (see `Kernel::scan_block`): for each group of `R` rows, each group of
    /// `S` 16-query vectors gets an `R × S` tile of accumulators.
    ///
    /// Requires `rows.len()` a multiple of the packed dimension and `cuts.len() >= padded`.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn scan_block_avx512(
        rows: &[f32],
        queries: &impl Packed,
        cuts: &mut [f32],
        mut hit: impl FnMut(usize, usize, f32, &mut f32),
    ) {
        let (qt, d, padded) = queries.parts();
        let n = rows.len() / d;
        let vecs = padded / 16;
        let mut r = 0;
        while r < n {
            let nr = (n - r).min(TILE_ROWS);
            let base = rows[r * d..(r + nr) * d].as_ptr();
            let mut v = 0;
            while v < vecs {
                let nv = (vecs - v).min(TILE_VECS);
                // SAFETY: `base` holds `nr` rows of `d` floats; the packed queries hold `d` rows of
                // `padded` floats, of which vectors `v..v + nv` are read; `cuts` has `padded` floats.
                unsafe {
                    macro_rules! tile {
                        ($r:literal, $s:literal) => {
                            tile_avx512::<$r, $s>(base, d, qt, padded, v, r, cuts, &mut hit)
                        };
                    }
                    match (nr, nv) {
                        (6, 4) => tile!(6, 4),
                        (6, 3) => tile!(6, 3),
                        (6, 2) => tile!(6, 2),
                        (6, 1) => tile!(6, 1),
                        (5, 4) => tile!(5, 4),
                        (5, 3) => tile!(5, 3),
                        (5, 2) => tile!(5, 2),
                        (5, 1) => tile!(5, 1),
                        (4, 4) => tile!(4, 4),
                        (4, 3) => tile!(4, 3),
                        (4, 2) => tile!(4, 2),
                        (4, 1) => tile!(4, 1),
                        (3, 4) => tile!(3, 4),
                        (3, 3) => tile!(3, 3),
                        (3, 2) => tile!(3, 2),
                        (3, 1) => tile!(3, 1),
                        (2, 4) => tile!(2, 4),
                        (2, 3) => tile!(2, 3),
                        (2, 2) => tile!(2, 2),
                        (2, 1) => tile!(2, 1),
                        (1, 4) => tile!(1, 4),
                        (1, 3) => tile!(1, 3),
                        (1, 2) => tile!(1, 2),
                        _ => tile!(1, 1),
                    }
                }
                v += nv;
            }
            r += nr;
        }
    }

    /// One `R × S` register tile: rows `row0..row0 + R` (at `base`) against query vectors
    /// `v0..v0 + S`, then the threshold compare on the accumulators.
    ///
    /// # Safety
    /// AVX-512F; `base` points at `R * d` floats, `qt` at `d * padded`, `v0 + S <= padded / 16`,
    /// `cuts.len() >= padded`.
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn tile_avx512<const R: usize, const S: usize>(
        base: *const f32,
        d: usize,
        qt: *const f32,
        padded: usize,
        v0: usize,
        row0: usize,
        cuts: &mut [f32],
        hit: &mut impl FnMut(usize, usize, f32, &mut f32),
    ) {
        let mut acc = [[_mm512_setzero_ps(); S]; R];
        let qcol = v0 * 16;
        for k in 0..d {
            // SAFETY: `k < d`, `qcol + 16 * S <= padded`, row `i < R` of `base` has `d` floats.
            unsafe {
                let qrow = qt.add(k * padded + qcol);
                let mut qv = [_mm512_setzero_ps(); S];
                for (s, q) in qv.iter_mut().enumerate() {
                    *q = _mm512_loadu_ps(qrow.add(16 * s));
                }
                for (i, a) in acc.iter_mut().enumerate() {
                    let b = _mm512_set1_ps(*base.add(i * d + k));
                    for s in 0..S {
                        a[s] = _mm512_fmadd_ps(b, qv[s], a[s]);
                    }
                }
            }
        }
        for s in 0..S {
            let c0 = qcol + 16 * s;
            for (i, a) in acc.iter().enumerate() {
                // SAFETY: `c0 + 16 <= padded <= cuts.len()`.
                let cut = unsafe { _mm512_loadu_ps(cuts.as_ptr().add(c0)) };
                let mut mask = _mm512_cmp_ps_mask::<_CMP_GE_OQ>(a[s], cut);
                if mask != 0 {
                    let mut lanes = [0.0f32; 16];
                    // SAFETY: `lanes` holds 16 floats.
                    unsafe { _mm512_storeu_ps(lanes.as_mut_ptr(), a[s]) };
                    while mask != 0 {
                        let l = mask.trailing_zeros() as usize;
                        mask &= mask - 1;
                        let q = c0 + l;
                        let score = lanes[l];
                        if score >= cuts[q] {
                            hit(row0 + i, q, score, &mut cuts[q]);
                        }
                    }
                }
            }
        }
    }

    /// Rows per register tile of the AVX2 block kernel (16 ymm registers: 10 accumulators, 2 query
    /// vectors, 2 broadcasts in flight; a 4 × 3 tile spilled one accumulator every step).
    const TILE_ROWS_AVX2: usize = 5;
    /// 8-query vectors per register tile of the AVX2 block kernel.
    const TILE_VECS_AVX2: usize = 2;

    /// The AVX2+FMA batch scan: `scan_block_avx512` with 8-lane vectors and 5 × 2 tiles.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn scan_block_avx2(
        rows: &[f32],
        queries: &impl Packed,
        cuts: &mut [f32],
        mut hit: impl FnMut(usize, usize, f32, &mut f32),
    ) {
        let (qt, d, padded) = queries.parts();
        let n = rows.len() / d;
        let vecs = padded / 8;
        let mut r = 0;
        while r < n {
            let nr = (n - r).min(TILE_ROWS_AVX2);
            let base = rows[r * d..(r + nr) * d].as_ptr();
            let mut v = 0;
            while v < vecs {
                let nv = (vecs - v).min(TILE_VECS_AVX2);
                // SAFETY: as in `scan_block_avx512`, with 8-float vectors.
                unsafe {
                    macro_rules! tile {
                        ($r:literal, $s:literal) => {
                            tile_avx2::<$r, $s>(base, d, qt, padded, v, r, cuts, &mut hit)
                        };
                    }
                    match (nr, nv) {
                        (5, 2) => tile!(5, 2),
                        (5, 1) => tile!(5, 1),
                        (4, 2) => tile!(4, 2),
                        (4, 1) => tile!(4, 1),
                        (3, 2) => tile!(3, 2),
                        (3, 1) => tile!(3, 1),
                        (2, 2) => tile!(2, 2),
                        (2, 1) => tile!(2, 1),
                        (1, 2) => tile!(1, 2),
                        _ => tile!(1, 1),
                    }
                }
                v += nv;
            }
            r += nr;
        }
    }

    /// One `R × S` AVX2 register tile (see `tile_avx512`; vectors of 8 queries).
    ///
    /// # Safety
    /// AVX2 and FMA; `base` points at `R * d` floats, `qt` at `d * padded`, `v0 + S <= padded / 8`,
    /// `cuts.len() >= padded`.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn tile_avx2<const R: usize, const S: usize>(
        base: *const f32,
        d: usize,
        qt: *const f32,
        padded: usize,
        v0: usize,
        row0: usize,
        cuts: &mut [f32],
        hit: &mut impl FnMut(usize, usize, f32, &mut f32),
    ) {
        let mut acc = [[_mm256_setzero_ps(); S]; R];
        let qcol = v0 * 8;
        for k in 0..d {
            // SAFETY: `k < d`, `qcol + 8 * S <= padded`, row `i < R` of `base` has `d` floats.
            unsafe {
                let qrow = qt.add(k * padded + qcol);
                let mut qv = [_mm256_setzero_ps(); S];
                for (s, q) in qv.iter_mut().enumerate() {
                    *q = _mm256_loadu_ps(qrow.add(8 * s));
                }
                for (i, a) in acc.iter_mut().enumerate() {
                    let b = _mm256_broadcast_ss(&*base.add(i * d + k));
                    for s in 0..S {
                        a[s] = _mm256_fmadd_ps(b, qv[s], a[s]);
                    }
                }
            }
        }
        for s in 0..S {
            let c0 = qcol + 8 * s;
            for (i, a) in acc.iter().enumerate() {
                // SAFETY: `c0 + 8 <= padded <= cuts.len()`.
                let cut = unsafe { _mm256_loadu_ps(cuts.as_ptr().add(c0)) };
                let mut mask = _mm256_movemask_ps(_mm256_cmp_ps::<_CMP_GE_OQ>(a[s], cut)) as u32;
                if mask != 0 {
                    let mut lanes = [0.0f32; 8];
                    // SAFETY: `lanes` holds 8 floats.
                    unsafe { _mm256_storeu_ps(lanes.as_mut_ptr(), a[s]) };
                    while mask != 0 {
                        let l = mask.trailing_zeros() as usize;
                        mask &= mask - 1;
                        let q = c0 + l;
                        let score = lanes[l];
                        if score >= cuts[q] {
                            hit(row0 + i, q, score, &mut cuts[q]);
                        }
                    }
                }
            }
        }
    }

    /// AVX-512F, one query against consecutive rows, one row at a time (one sequential stream for the
    /// prefetcher; see `dots_avx2`).
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn dots_avx512(q: &[f32], rows: &[f32], out: &mut [f32]) {
        let d = q.len();
        for (o, row) in out.iter_mut().zip(rows.chunks_exact(d)) {
            // SAFETY: same features; equal lengths.
            *o = unsafe { dot_avx512(q, row) };
        }
    }
}

#[cfg(target_arch = "x86_64")]
impl x86::Packed for PackedQueries {
    fn parts(&self) -> (*const f32, usize, usize) {
        (self.as_ptr(), self.dim, self.padded)
    }
}

#[cfg(target_arch = "aarch64")]
mod arm {
    //! aarch64 kernels (NEON is part of the baseline, detection is kept for uniformity).
    use std::arch::aarch64::*;

    /// NEON: four accumulators of four lanes with fused multiply-add.
    #[target_feature(enable = "neon")]
    pub(super) unsafe fn dot_neon(a: &[f32], b: &[f32]) -> f32 {
        let n = a.len();
        let (pa, pb) = (a.as_ptr(), b.as_ptr());
        let mut i = 0;
        // SAFETY: every load reads `[i, i+4)` with `i + 4 <= n`, inside both slices.
        let s = unsafe {
            let mut a0 = vdupq_n_f32(0.0);
            let mut a1 = vdupq_n_f32(0.0);
            let mut a2 = vdupq_n_f32(0.0);
            let mut a3 = vdupq_n_f32(0.0);
            while i + 16 <= n {
                a0 = vfmaq_f32(a0, vld1q_f32(pa.add(i)), vld1q_f32(pb.add(i)));
                a1 = vfmaq_f32(a1, vld1q_f32(pa.add(i + 4)), vld1q_f32(pb.add(i + 4)));
                a2 = vfmaq_f32(a2, vld1q_f32(pa.add(i + 8)), vld1q_f32(pb.add(i + 8)));
                a3 = vfmaq_f32(a3, vld1q_f32(pa.add(i + 12)), vld1q_f32(pb.add(i + 12)));
                i += 16;
            }
            while i + 4 <= n {
                a0 = vfmaq_f32(a0, vld1q_f32(pa.add(i)), vld1q_f32(pb.add(i)));
                i += 4;
            }
            vaddvq_f32(vaddq_f32(vaddq_f32(a0, a1), vaddq_f32(a2, a3)))
        };
        let mut tail = 0.0f32;
        while i < n {
            tail += a[i] * b[i];
            i += 1;
        }
        s + tail
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A deterministic pseudo-random unit vector (xorshift), no external RNG needed.
    fn unit(len: usize, seed: u64) -> Vec<f32> {
        let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let mut v: Vec<f32> = (0..len)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                (s >> 40) as f32 / (1u64 << 24) as f32 - 0.5
            })
            .collect();
        let n = crate::vector::fafcas::l2_norm(&v) as f32;
        if n > 0.0 {
            v.iter_mut().for_each(|x| *x /= n);
        }
        v
    }

    #[test]
    fn best_is_cached_and_named() {
        assert_eq!(Kernel::best(), Kernel::best());
        assert_eq!(active_kernel(), Kernel::best().name());
        let avail = Kernel::available();
        assert!(avail.contains(&Kernel::best()));
        if std::env::var_os("RESONANCE_VECTOR_KERNEL").is_none() {
            assert_eq!(avail.first().copied(), Some(Kernel::best()));
        }
        assert_eq!(avail.last().copied(), Some(Kernel::SCALAR));
    }

    #[test]
    fn every_kernel_matches_scalar_on_all_lengths() {
        for len in 1..1100usize {
            let a = unit(len, len as u64);
            let b = unit(len, 7 * len as u64 + 3);
            let want = dot_scalar(&a, &b);
            for k in Kernel::available() {
                let got = k.dot(&a, &b);
                assert!(
                    (got - want).abs() <= 1e-6,
                    "{} len {len}: {got} vs {want}",
                    k.name()
                );
            }
        }
    }

    #[test]
    fn every_block_kernel_matches_scalar() {
        for d in [1usize, 3, 15, 16, 17, 31, 33, 100, 384, 385, 768, 1100] {
            for nrows in [0usize, 1, 3, 4, 5, 9] {
                let q = unit(d, d as u64);
                let rows: Vec<f32> = (0..nrows).flat_map(|r| unit(d, 1000 + r as u64)).collect();
                for k in Kernel::available() {
                    let mut out = vec![f32::NAN; nrows];
                    k.dots(&q, &rows, &mut out);
                    for (r, o) in out.iter().enumerate() {
                        let want = dot_scalar(&q, &rows[r * d..(r + 1) * d]);
                        assert!(
                            (o - want).abs() <= 1e-6,
                            "{} d {d} row {r}: {o} vs {want}",
                            k.name()
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn block_kernel_matches_scalar_and_honours_cuts() {
        for d in [1usize, 3, 16, 17, 384] {
            for nq in [1usize, 15, 16, 17, 70, 100] {
                for nrows in [0usize, 1, 5, 6, 7, 13] {
                    let qs: Vec<f32> = (0..nq).flat_map(|i| unit(d, 50 + i as u64)).collect();
                    let rows: Vec<f32> = (0..nrows).flat_map(|r| unit(d, 900 + r as u64)).collect();
                    let packed = PackedQueries::new(&qs, d);
                    assert_eq!((packed.count(), packed.dim()), (nq, d));
                    assert_eq!(packed.padded() % 16, 0);
                    for k in Kernel::available() {
                        // A cut of -inf: every (row, query) pair comes back exactly once.
                        let mut cuts = vec![f32::INFINITY; packed.padded()];
                        cuts[..nq].fill(f32::NEG_INFINITY);
                        let mut seen = vec![None; nrows * nq];
                        let ran = k.scan_block(&rows, &packed, &mut cuts, |r, q, s, _| {
                            assert!(seen[r * nq + q].replace(s).is_none(), "pair seen twice");
                        });
                        assert_eq!(ran, k.has_block_kernel());
                        if !ran {
                            continue;
                        }
                        for r in 0..nrows {
                            for q in 0..nq {
                                let want =
                                    dot_scalar(&rows[r * d..(r + 1) * d], &qs[q * d..(q + 1) * d]);
                                let got = seen[r * nq + q].unwrap_or(f32::NAN);
                                assert!(
                                    (got - want).abs() <= 1e-5,
                                    "{} d {d} nq {nq} r {r} q {q}: {got} vs {want}",
                                    k.name()
                                );
                            }
                        }
                        // Cuts raised by the callback hold for later rows: each call beats the last.
                        let mut cuts = vec![f32::INFINITY; packed.padded()];
                        cuts[..nq].fill(f32::NEG_INFINITY);
                        let mut calls = 0;
                        k.scan_block(&rows, &packed, &mut cuts, |_, _, s, cut| {
                            calls += 1;
                            assert!(s >= *cut);
                            *cut = s;
                        });
                        assert!(calls <= nrows * nq);
                    }
                }
            }
        }
        // Too few cuts: nothing runs.
        let packed = PackedQueries::new(&[1.0; 4], 2);
        assert!(!Kernel::best().scan_block(&[1.0, 1.0], &packed, &mut [0.0; 2], |_, _, _, _| {}));
    }

    #[test]
    fn dot_of_unit_with_itself_is_one_and_uneven_lengths_are_truncated() {
        let a = unit(384, 1);
        assert!((dot(&a, &a) - 1.0).abs() < 1e-5);
        assert_eq!(dot(&[1.0, 2.0, 3.0], &[1.0, 1.0]), 3.0);
        assert_eq!(dot(&[], &[]), 0.0);
        let mut out = [7.0f32; 2];
        dots(&[], &[1.0], &mut out);
        assert_eq!(out, [7.0, 7.0]);
    }

    proptest! {
        #[test]
        fn kernels_agree_on_random_vectors(len in 1usize..1100, seed in any::<u64>()) {
            let a = unit(len, seed);
            let b = unit(len, seed ^ 0xABCD);
            let want = dot_scalar(&a, &b);
            for k in Kernel::available() {
                prop_assert!((k.dot(&a, &b) - want).abs() <= 1e-6, "{}", k.name());
            }
        }
    }
}
