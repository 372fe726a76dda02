//! Per-row int8 codes of the vector matrix and the bounds that let a first pass over them stay exact
//! (docs/vectors.md, "The quantised first pass").
//!
//! This module owns the quantisation of one vector (a scale, int8 codes and the norms the bound needs),
//! the code store kept beside the f32 matrix, the int8 dot-product kernels (AVX-512 VNNI, AVX2, scalar,
//! chosen once at run time) and the interval `[lower, upper]` that provably contains the f32 score the
//! exact path computes. It must not rank, filter or know about ids: the matrix runs the search.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;
use std::sync::OnceLock;

/// The largest code magnitude: codes lie in `[-127, 127]`, so a product of two codes and the sum of two
/// such products fit in `i16` (the AVX2 kernel relies on it).
const QMAX: f32 = 127.0;
/// The unit roundoff of f32.
const U: f32 = f32::EPSILON / 2.0;
/// Absorbs the rounding of the bound's own arithmetic (a handful of f32 operations, each ≤ `U`).
const SLACK_REL: f32 = 1.0 + 1.0 / 1024.0;
/// Per unit of `‖x‖·‖q‖`, absorbs the rounding of the approximate score and of the interval ends.
const SLACK_APPROX: f32 = 16.0 * U;
/// Absorbs underflow in the exact kernels (each of at most 2^20 products loses at most 2^-150).
const SLACK_ABS: f32 = 1e-30;

/// Rounds a non-negative f64 up to an f32 that is at least as large.
fn up(x: f64) -> f32 {
    let f = x as f32;
    if f64::from(f) < x {
        f.next_up()
    } else {
        f
    }
}

/// One vector quantised: `x ≈ scale · codes`, with `err ≥ ‖x − scale·codes‖` and
/// `norm ≥ max(‖x‖, ‖scale·codes‖)`.
#[derive(Clone, Debug, PartialEq)]
pub struct Quantized {
    /// The step between codes (`max |x_i| / 127`; 0 for a zero vector).
    pub scale: f32,
    /// One code per component, in `[-127, 127]`, then zeros up to the padded length.
    pub codes: Vec<i8>,
    /// An upper bound on the L2 norm of the quantisation error.
    pub err: f32,
    /// An upper bound on the L2 norms of the vector and of its reconstruction.
    pub norm: f32,
    /// The sum of the codes (the AVX-512 VNNI kernel multiplies unsigned by signed bytes and corrects
    /// by it).
    pub sum: i32,
}

/// Quantises `x` into `stride` codes (`stride >= x.len()`, the tail is zero). Every component must be
/// finite.
pub fn quantize(x: &[f32], stride: usize) -> Quantized {
    let mut codes = vec![0i8; stride.max(x.len())];
    let t = quantize_into(x, &mut codes);
    Quantized {
        scale: t.scale,
        codes,
        err: t.err,
        norm: t.norm,
        sum: t.sum,
    }
}

/// The terms of one quantised row besides its codes.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Terms {
    scale: f32,
    err: f32,
    norm: f32,
    sum: i32,
}

/// Writes the codes of `x` into `out[..x.len()]` (the rest of `out` is left as it is: zero) and returns
/// the row's terms. Any codes would keep the bound valid (the error is measured from the codes chosen);
/// rounding `x_i / s` keeps it small.
pub(crate) fn quantize_into(x: &[f32], out: &mut [i8]) -> Terms {
    let max = x.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    if max == 0.0 || !max.is_finite() {
        out[..x.len()].fill(0);
        return Terms {
            scale: 0.0,
            err: 0.0,
            norm: 0.0,
            sum: 0,
        };
    }
    let scale = max / QMAX;
    let inv = QMAX / max;
    // Adding and subtracting 1.5·2^23 rounds to the nearest integer (ties to even) for |y| < 2^22
    // with two vectorisable additions (`round_ties_even` is a library call on baseline x86-64).
    const MAGIC: f32 = 12_582_912.0;
    for (c, &v) in out.iter_mut().zip(x) {
        let y = (v * inv).clamp(-QMAX, QMAX);
        *c = ((y + MAGIC) - MAGIC) as i8;
    }
    // Eight lanes of partial sums (they vectorise; the order of an f64 sum does not matter here).
    // Products of an f32 and a small integer, and their differences, are exact in f64.
    const L: usize = 8;
    let (mut e2, mut x2, mut r2) = ([0.0f64; L], [0.0f64; L], [0.0f64; L]);
    let s64 = f64::from(scale);
    let n = x.len();
    let (head, tail) = (n - n % L, n % L);
    for (cs, xs) in out[..head].chunks_exact(L).zip(x[..head].chunks_exact(L)) {
        for j in 0..L {
            let r = s64 * f64::from(cs[j]);
            let v = f64::from(xs[j]);
            e2[j] += (v - r) * (v - r);
            x2[j] += v * v;
            r2[j] += r * r;
        }
    }
    for j in 0..tail {
        let r = s64 * f64::from(out[head + j]);
        let v = f64::from(x[head + j]);
        e2[j] += (v - r) * (v - r);
        x2[j] += v * v;
        r2[j] += r * r;
    }
    let sum: i32 = out[..n].iter().map(|&c| i32::from(c)).sum();
    let (e2, x2, r2): (f64, f64, f64) = (e2.iter().sum(), x2.iter().sum(), r2.iter().sum());
    // The f64 sums of squares carry a relative error below 2^-40 for any dimension we accept; the
    // factor covers it before rounding up to f32.
    let grow = 1.0 + 1e-9;
    Terms {
        scale,
        err: up(e2.sqrt() * grow),
        norm: up(x2.max(r2).sqrt() * grow),
        sum,
    }
}

/// A query prepared for the int8 pass: its own codes and the terms of the bound that depend on it.
pub struct QueryCodes {
    scale: f32,
    /// The codes plus 128, as unsigned bytes (the VNNI kernel's left operand).
    biased: Vec<u8>,
    /// The codes themselves.
    codes: Vec<i8>,
    /// Their magnitudes (the AVX2 kernel's unsigned operand).
    abs: Vec<i8>,
    /// `‖q‖` (rounded up).
    norm: f32,
    /// `‖q − scale·codes‖` (rounded up).
    err: f32,
    /// `γ_d = d·u / (1 − d·u)`, rounded up: the rounding bound of an f32 dot product of length `d`.
    gamma: f32,
}

impl QueryCodes {
    /// Prepares the query `q` (finite components) for rows of `stride` codes.
    pub fn new(q: &[f32], stride: usize) -> QueryCodes {
        let z = quantize(q, stride);
        let d = q.len() as f64;
        let du = d * f64::from(U);
        QueryCodes {
            scale: z.scale,
            biased: z
                .codes
                .iter()
                .map(|&c| (i16::from(c) + 128) as u8)
                .collect(),
            abs: z.codes.iter().map(|c| c.unsigned_abs() as i8).collect(),
            codes: z.codes,
            norm: z.norm,
            err: z.err,
            gamma: up(du / (1.0 - du)),
        }
    }

    /// The interval `[lower, upper]` that contains the f32 score of the exact path for a row with
    /// these quantisation terms whose code dot product with this query is `dot`.
    #[inline]
    pub fn interval(&self, scale: f32, err: f32, norm: f32, dot: i32) -> (f32, f32) {
        let a = (scale * self.scale) * dot as f32;
        let slack =
            (err * self.norm + norm * self.err + norm * self.norm * (self.gamma + SLACK_APPROX))
                * SLACK_REL
                + SLACK_ABS;
        (a - slack, a + slack)
    }
}

/// The int8 dot-product kernel, chosen once from what the processor reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CodeKernel {
    /// Portable integer loop.
    Scalar,
    /// AVX2: `maddubs` on |q| and the row codes signed by q, then `madd` with ones.
    #[cfg(target_arch = "x86_64")]
    Avx2,
    /// AVX-512 VNNI: `vpdpbusd` on the biased query and the row codes.
    #[cfg(target_arch = "x86_64")]
    Avx512Vnni,
}

static BEST_CODE: OnceLock<CodeKernel> = OnceLock::new();

impl CodeKernel {
    /// Every int8 kernel this processor can run, fastest first; scalar last.
    pub fn available() -> Vec<CodeKernel> {
        #[allow(unused_mut)]
        let mut v = Vec::new();
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f")
                && std::arch::is_x86_feature_detected!("avx512bw")
                && std::arch::is_x86_feature_detected!("avx512vnni")
            {
                v.push(CodeKernel::Avx512Vnni);
            }
            if std::arch::is_x86_feature_detected!("avx2") {
                v.push(CodeKernel::Avx2);
            }
        }
        v.push(CodeKernel::Scalar);
        v
    }

    /// The fastest available kernel, detected once. `RESONANCE_VECTOR_KERNEL=scalar` (the switch of
    /// the f32 kernels) also selects the scalar int8 kernel.
    pub fn best() -> CodeKernel {
        *BEST_CODE.get_or_init(|| {
            let forced_scalar =
                std::env::var("RESONANCE_VECTOR_KERNEL").is_ok_and(|v| v.trim() == "scalar");
            if forced_scalar {
                CodeKernel::Scalar
            } else {
                CodeKernel::available()[0]
            }
        })
    }

    /// The kernel's name.
    pub fn name(self) -> &'static str {
        match self {
            CodeKernel::Scalar => "scalar",
            #[cfg(target_arch = "x86_64")]
            CodeKernel::Avx2 => "avx2",
            #[cfg(target_arch = "x86_64")]
            CodeKernel::Avx512Vnni => "avx512vnni",
        }
    }

    /// `out[r] = Σ q.codes[i] · rows[r*stride + i]` for each row of `rows` (`out.len()` rows of
    /// `stride` codes; `stride` a multiple of 64 and the query's length), with per-row code sums
    /// `sums` (the VNNI kernel's correction).
    pub fn dots(self, q: &QueryCodes, rows: &[i8], sums: &[i32], stride: usize, out: &mut [i32]) {
        let n = out.len().min(rows.len() / stride.max(1)).min(sums.len());
        if stride == 0 || q.codes.len() != stride || !stride.is_multiple_of(64) {
            for (r, o) in out[..n].iter_mut().enumerate() {
                *o = dot_scalar(&q.codes, &rows[r * stride..(r + 1) * stride]);
            }
            return;
        }
        let rows = &rows[..n * stride];
        match self {
            CodeKernel::Scalar => {
                for (o, row) in out[..n].iter_mut().zip(rows.chunks_exact(stride)) {
                    *o = dot_scalar(&q.codes, row);
                }
            }
            #[cfg(target_arch = "x86_64")]
            CodeKernel::Avx2 => {
                for (o, row) in out[..n].iter_mut().zip(rows.chunks_exact(stride)) {
                    // SAFETY: this value exists only when the processor reported AVX2; the three
                    // slices have `stride` bytes, a multiple of 64.
                    *o = unsafe { x86::dot_avx2(&q.abs, &q.codes, row) };
                }
            }
            #[cfg(target_arch = "x86_64")]
            CodeKernel::Avx512Vnni => {
                // SAFETY: this value exists only when the processor reported AVX-512F, BW and VNNI;
                // the query has `stride` biased codes, `rows` holds `n * stride` bytes, `sums` and
                // `out` at least `n` values.
                unsafe { x86::dots_vnni(&q.biased, rows, &sums[..n], stride, &mut out[..n]) };
            }
        }
    }
}

/// Queries per call of [`CodeKernel::dots_group`].
pub const QUERY_GROUP: usize = 4;

impl CodeKernel {
    /// [`CodeKernel::dots`] for up to [`QUERY_GROUP`] queries at once over the first `n` rows of
    /// `rows`: `out[j][r]` for query `j`. The VNNI kernel loads each row once for all of them and
    /// reduces the four accumulators together; the others call `dots` per query.
    pub fn dots_group<const B: usize>(
        self,
        qs: &[QueryCodes],
        rows: &[i8],
        sums: &[i32],
        stride: usize,
        out: &mut [[i32; B]; QUERY_GROUP],
        n: usize,
    ) {
        let n = n.min(B).min(rows.len() / stride.max(1)).min(sums.len());
        #[cfg(target_arch = "x86_64")]
        if self == CodeKernel::Avx512Vnni
            && qs.len() == QUERY_GROUP
            && stride > 0
            && stride.is_multiple_of(64)
            && qs.iter().all(|q| q.biased.len() == stride)
        {
            let [o0, o1, o2, o3] = out;
            // SAFETY: this value exists only when the processor reported AVX-512F, BW and VNNI;
            // every query has `stride` biased codes, `rows` at least `n * stride`, each output `n`.
            unsafe {
                x86::dots4_vnni(
                    [&qs[0].biased, &qs[1].biased, &qs[2].biased, &qs[3].biased],
                    &rows[..n * stride],
                    &sums[..n],
                    stride,
                    [&mut o0[..n], &mut o1[..n], &mut o2[..n], &mut o3[..n]],
                )
            };
            return;
        }
        for (q, o) in qs.iter().zip(out.iter_mut()) {
            self.dots(q, rows, sums, stride, &mut o[..n]);
        }
    }
}

/// The portable int8 dot product.
pub fn dot_scalar(a: &[i8], b: &[i8]) -> i32 {
    a.iter()
        .zip(b)
        .map(|(&x, &y)| i32::from(x) * i32::from(y))
        .sum()
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    /// AVX2: `Σ qabs[i] · (sign(q[i]) · row[i])`; `|q| ≤ 127` and `|row| ≤ 127` keep `maddubs`'s
    /// pairwise i16 sums below 32 767.
    ///
    /// # Safety
    /// AVX2; the three slices have the same length, a multiple of 32.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn dot_avx2(qabs: &[i8], q: &[i8], row: &[i8]) -> i32 {
        let n = row.len();
        let ones = _mm256_set1_epi16(1);
        let mut acc0 = _mm256_setzero_si256();
        let mut acc1 = _mm256_setzero_si256();
        let mut i = 0;
        // SAFETY: every load reads `[i, i+32)` with `i + 32 <= n`, inside all three slices.
        unsafe {
            while i + 64 <= n {
                let a0 = _mm256_loadu_si256(qabs.as_ptr().add(i).cast());
                let s0 = _mm256_loadu_si256(q.as_ptr().add(i).cast());
                let r0 = _mm256_loadu_si256(row.as_ptr().add(i).cast());
                let a1 = _mm256_loadu_si256(qabs.as_ptr().add(i + 32).cast());
                let s1 = _mm256_loadu_si256(q.as_ptr().add(i + 32).cast());
                let r1 = _mm256_loadu_si256(row.as_ptr().add(i + 32).cast());
                let p0 = _mm256_maddubs_epi16(a0, _mm256_sign_epi8(r0, s0));
                let p1 = _mm256_maddubs_epi16(a1, _mm256_sign_epi8(r1, s1));
                acc0 = _mm256_add_epi32(acc0, _mm256_madd_epi16(p0, ones));
                acc1 = _mm256_add_epi32(acc1, _mm256_madd_epi16(p1, ones));
                i += 64;
            }
            while i + 32 <= n {
                let a0 = _mm256_loadu_si256(qabs.as_ptr().add(i).cast());
                let s0 = _mm256_loadu_si256(q.as_ptr().add(i).cast());
                let r0 = _mm256_loadu_si256(row.as_ptr().add(i).cast());
                let p0 = _mm256_maddubs_epi16(a0, _mm256_sign_epi8(r0, s0));
                acc0 = _mm256_add_epi32(acc0, _mm256_madd_epi16(p0, ones));
                i += 32;
            }
        }
        let acc = _mm256_add_epi32(acc0, acc1);
        let lo = _mm256_castsi256_si128(acc);
        let hi = _mm256_extracti128_si256::<1>(acc);
        let s = _mm_add_epi32(lo, hi);
        let s = _mm_add_epi32(s, _mm_shuffle_epi32::<0b01_00_11_10>(s));
        let s = _mm_add_epi32(s, _mm_shuffle_epi32::<0b10_11_00_01>(s));
        _mm_cvtsi128_si32(s)
    }

    /// Adds the four accumulators' lanes: lane `j` of the result is the sum of `a[j]`'s 16 lanes
    /// (two rounds of unpack-and-add inside the 128-bit lanes, then the four 128-bit lanes added).
    #[inline]
    #[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
    fn reduce4(a: [__m512i; 4]) -> __m128i {
        let t01 = _mm512_add_epi32(
            _mm512_unpacklo_epi32(a[0], a[1]),
            _mm512_unpackhi_epi32(a[0], a[1]),
        );
        let t23 = _mm512_add_epi32(
            _mm512_unpacklo_epi32(a[2], a[3]),
            _mm512_unpackhi_epi32(a[2], a[3]),
        );
        let t = _mm512_add_epi32(
            _mm512_unpacklo_epi64(t01, t23),
            _mm512_unpackhi_epi64(t01, t23),
        );
        _mm_add_epi32(
            _mm_add_epi32(
                _mm512_extracti32x4_epi32::<0>(t),
                _mm512_extracti32x4_epi32::<1>(t),
            ),
            _mm_add_epi32(
                _mm512_extracti32x4_epi32::<2>(t),
                _mm512_extracti32x4_epi32::<3>(t),
            ),
        )
    }

    /// Bytes ahead of the row being scored that [`dots_vnni`] asks the cache to fetch.
    const PREFETCH_AHEAD: usize = 1536;

    /// AVX-512 VNNI for one query over many rows: `out[r] = Σ biased[i] · row_r[i] − 128 · sums[r]`.
    /// Four rows at a time (four independent accumulator chains, one reduction for the four), the
    /// query's codes loaded once per 64 bytes for all four; the rows are read in order, so the memory
    /// stream stays sequential.
    ///
    /// # Safety
    /// AVX-512F, BW and VNNI; `biased` has `stride` bytes (a multiple of 64), `rows` holds
    /// `sums.len() * stride` bytes and `out` `sums.len()` values.
    #[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
    pub(super) unsafe fn dots_vnni(
        biased: &[u8],
        rows: &[i8],
        sums: &[i32],
        stride: usize,
        out: &mut [i32],
    ) {
        let n = sums.len();
        let qp = biased.as_ptr();
        let mut r = 0;
        while r + 4 <= n {
            let row = rows.as_ptr().wrapping_add(r * stride);
            let mut a = [_mm512_setzero_si512(); 4];
            let mut i = 0;
            while i < stride {
                // SAFETY: `i + 64 <= stride`: inside the query and inside rows `r..r + 4`; the
                // prefetch is a hint that never faults.
                unsafe {
                    if PREFETCH_AHEAD > 0 {
                        let p = row.wrapping_add(i + PREFETCH_AHEAD);
                        _mm_prefetch::<_MM_HINT_T0>(p.cast());
                        _mm_prefetch::<_MM_HINT_T0>(p.wrapping_add(stride).cast());
                        _mm_prefetch::<_MM_HINT_T0>(p.wrapping_add(2 * stride).cast());
                        _mm_prefetch::<_MM_HINT_T0>(p.wrapping_add(3 * stride).cast());
                    }
                    let x = _mm512_loadu_si512(qp.add(i).cast());
                    a[0] = _mm512_dpbusd_epi32(a[0], x, _mm512_loadu_si512(row.add(i).cast()));
                    a[1] = _mm512_dpbusd_epi32(
                        a[1],
                        x,
                        _mm512_loadu_si512(row.add(stride + i).cast()),
                    );
                    a[2] = _mm512_dpbusd_epi32(
                        a[2],
                        x,
                        _mm512_loadu_si512(row.add(2 * stride + i).cast()),
                    );
                    a[3] = _mm512_dpbusd_epi32(
                        a[3],
                        x,
                        _mm512_loadu_si512(row.add(3 * stride + i).cast()),
                    );
                }
                i += 64;
            }
            // SAFETY: `r + 4 <= n`: four sums to read and four outputs to write.
            unsafe {
                let c = _mm_slli_epi32::<7>(_mm_loadu_si128(sums.as_ptr().add(r).cast()));
                _mm_storeu_si128(out.as_mut_ptr().add(r).cast(), _mm_sub_epi32(reduce4(a), c));
            }
            r += 4;
        }
        while r < n {
            // SAFETY: row `r < n` has `stride` bytes inside `rows`.
            let row = unsafe { std::slice::from_raw_parts(rows.as_ptr().add(r * stride), stride) };
            // SAFETY: the caller's features; both slices have `stride` bytes.
            out[r] = unsafe { dot_vnni(&biased[..stride], row) } - 128 * sums[r];
            r += 1;
        }
    }

    /// AVX-512 VNNI for four queries: `out[j][r] = Σ q[j][i] · row_r[i] − 128 · sums[r]`, each row
    /// loaded once; the four accumulators are reduced together ([`reduce4`]).
    ///
    /// # Safety
    /// AVX-512F, BW and VNNI; every `q[j]` has `stride` bytes (a multiple of 64), `rows` holds
    /// `sums.len() * stride` bytes and every `out[j]` `sums.len()` values.
    #[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
    pub(super) unsafe fn dots4_vnni(
        q: [&[u8]; 4],
        rows: &[i8],
        sums: &[i32],
        stride: usize,
        out: [&mut [i32]; 4],
    ) {
        let [o0, o1, o2, o3] = out;
        for (r, &sum) in sums.iter().enumerate() {
            let row = rows.as_ptr().wrapping_add(r * stride);
            let mut a = [_mm512_setzero_si512(); 4];
            let mut i = 0;
            while i < stride {
                // SAFETY: `i + 64 <= stride`: inside row `r` and inside every query.
                unsafe {
                    let x = _mm512_loadu_si512(row.add(i).cast());
                    for (acc, qj) in a.iter_mut().zip(q) {
                        *acc = _mm512_dpbusd_epi32(
                            *acc,
                            _mm512_loadu_si512(qj.as_ptr().add(i).cast()),
                            x,
                        );
                    }
                }
                i += 64;
            }
            let s = reduce4(a);
            let mut lanes = [0i32; 4];
            // SAFETY: `lanes` holds four i32.
            unsafe { _mm_storeu_si128(lanes.as_mut_ptr().cast(), s) };
            let c = 128 * sum;
            o0[r] = lanes[0] - c;
            o1[r] = lanes[1] - c;
            o2[r] = lanes[2] - c;
            o3[r] = lanes[3] - c;
        }
    }

    /// AVX-512 VNNI: `Σ biased[i] · row[i]` with unsigned `biased` and signed `row`.
    ///
    /// # Safety
    /// AVX-512F, BW and VNNI; both slices have the same length, a multiple of 64.
    #[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
    pub(super) unsafe fn dot_vnni(biased: &[u8], row: &[i8]) -> i32 {
        let n = row.len();
        let mut acc0 = _mm512_setzero_si512();
        let mut acc1 = _mm512_setzero_si512();
        let mut i = 0;
        // SAFETY: every load reads `[i, i+64)` with `i + 64 <= n`, inside both slices.
        unsafe {
            while i + 128 <= n {
                let a0 = _mm512_loadu_si512(biased.as_ptr().add(i).cast());
                let r0 = _mm512_loadu_si512(row.as_ptr().add(i).cast());
                let a1 = _mm512_loadu_si512(biased.as_ptr().add(i + 64).cast());
                let r1 = _mm512_loadu_si512(row.as_ptr().add(i + 64).cast());
                acc0 = _mm512_dpbusd_epi32(acc0, a0, r0);
                acc1 = _mm512_dpbusd_epi32(acc1, a1, r1);
                i += 128;
            }
            while i + 64 <= n {
                let a0 = _mm512_loadu_si512(biased.as_ptr().add(i).cast());
                let r0 = _mm512_loadu_si512(row.as_ptr().add(i).cast());
                acc0 = _mm512_dpbusd_epi32(acc0, a0, r0);
                i += 64;
            }
        }
        _mm512_reduce_add_epi32(_mm512_add_epi32(acc0, acc1))
    }
}

/// One cache line of codes: the storage unit that makes every row of codes start 64-byte aligned
/// (the stride is a multiple of 64), so no 64-byte load of the kernels straddles two lines.
#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct CodeLine([i8; 64]);

/// Aligned code bytes, asking for transparent huge pages when large (the scan streams them: fewer
/// TLB misses, and the hardware prefetcher is not stopped at every 4 KiB page).
#[derive(Clone, Default)]
struct CodeBuf {
    lines: Vec<CodeLine>,
}

impl std::fmt::Debug for CodeBuf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CodeBuf({} bytes)", self.len())
    }
}

impl CodeBuf {
    /// `bytes` zero bytes (a multiple of 64).
    fn zeroed(bytes: usize) -> CodeBuf {
        let mut b = CodeBuf::default();
        b.grow_to(bytes / 64);
        b.lines.resize(bytes / 64, CodeLine([0; 64]));
        b
    }

    /// Makes room for `lines` lines, moving to a fresh (huge-page advised) allocation when needed.
    fn grow_to(&mut self, lines: usize) {
        if lines > self.lines.capacity() {
            let cap = lines.max(self.lines.capacity() * 2);
            let mut fresh: Vec<CodeLine> = Vec::with_capacity(cap);
            super::advise_huge_pages(fresh.as_ptr().cast(), cap * 64);
            fresh.extend_from_slice(&self.lines);
            self.lines = fresh;
        }
    }

    /// Makes room for `bytes` more bytes (a multiple of 64) in one exact allocation (loading a
    /// whole table: no doubling past what the rows need).
    fn reserve(&mut self, bytes: usize) {
        let lines = self.lines.len().saturating_add(bytes / 64);
        if lines > self.lines.capacity() {
            let mut fresh: Vec<CodeLine> = Vec::with_capacity(lines);
            super::advise_huge_pages(fresh.as_ptr().cast(), lines * 64);
            fresh.extend_from_slice(&self.lines);
            self.lines = fresh;
        }
    }

    fn len(&self) -> usize {
        self.lines.len() * 64
    }

    fn as_slice(&self) -> &[i8] {
        // SAFETY: `CodeLine` is `repr(C)` around `[i8; 64]` with no padding, so the lines are
        // `64 * lines.len()` contiguous initialised bytes.
        unsafe { std::slice::from_raw_parts(self.lines.as_ptr().cast::<i8>(), self.len()) }
    }

    fn as_mut_slice(&mut self) -> &mut [i8] {
        // SAFETY: as in `as_slice`, with unique access through `&mut self`.
        unsafe { std::slice::from_raw_parts_mut(self.lines.as_mut_ptr().cast::<i8>(), self.len()) }
    }

    /// Appends `row` (a multiple of 64 bytes).
    fn push_row(&mut self, row: &[i8]) {
        let at = self.lines.len();
        self.grow_to(at + row.len() / 64);
        self.lines.resize(at + row.len() / 64, CodeLine([0; 64]));
        self.as_mut_slice()[at * 64..].copy_from_slice(row);
    }

    /// Keeps the first `bytes` bytes (a multiple of 64).
    fn truncate(&mut self, bytes: usize) {
        self.lines.truncate(bytes / 64);
    }
}

/// The int8 codes of every row of a matrix, row `r` at `codes[r*stride..]` (64-byte aligned), with
/// its bound terms.
#[derive(Clone, Debug, Default)]
pub struct Codes {
    stride: usize,
    codes: CodeBuf,
    scales: Vec<f32>,
    errs: Vec<f32>,
    norms: Vec<f32>,
    sums: Vec<i32>,
}

impl Codes {
    /// Empty codes for vectors of `dim` components.
    pub fn new(dim: usize) -> Codes {
        Codes {
            stride: dim.next_multiple_of(64).max(64),
            ..Codes::default()
        }
    }

    /// Codes for every row of the row-major `data` (`dim` floats each), quantised in parallel.
    pub fn build(data: &[f32], dim: usize) -> Codes {
        use rayon::prelude::*;
        let mut c = Codes::new(dim);
        if dim == 0 {
            return c;
        }
        let n = data.len() / dim;
        let stride = c.stride;
        c.codes = CodeBuf::zeroed(n * stride);
        c.scales = vec![0.0; n];
        c.errs = vec![0.0; n];
        c.norms = vec![0.0; n];
        c.sums = vec![0; n];
        c.codes
            .as_mut_slice()
            .par_chunks_mut(stride)
            .zip(c.scales.par_iter_mut())
            .zip(c.errs.par_iter_mut())
            .zip(c.norms.par_iter_mut())
            .zip(c.sums.par_iter_mut())
            .zip(data.par_chunks_exact(dim))
            .for_each(|(((((out, s), e), nm), sum), row)| {
                let t = quantize_into(row, out);
                (*s, *e, *nm, *sum) = (t.scale, t.err, t.norm, t.sum);
            });
        c
    }

    /// Makes room for `additional` more rows (one allocation when loading a whole table).
    pub fn reserve(&mut self, additional: usize) {
        self.codes.reserve(additional.saturating_mul(self.stride));
        self.scales.reserve(additional);
        self.errs.reserve(additional);
        self.norms.reserve(additional);
        self.sums.reserve(additional);
    }

    /// Whether quantising `x` gives exactly row `r`'s codes and terms (bit for bit). Then the interval
    /// of row `r` is the interval of `x` itself, so it provably holds `x`'s exact score: a codes-only
    /// matrix checks every f32 row it reads back for the rescore this way.
    pub fn is_code_of(&self, r: usize, x: &[f32]) -> bool {
        if r >= self.len() || x.len() > self.stride || x.iter().any(|v| !v.is_finite()) {
            return false;
        }
        let mut out = vec![0i8; self.stride];
        let t = quantize_into(x, &mut out);
        out == self.rows(r, r + 1)
            && t.scale.to_bits() == self.scales[r].to_bits()
            && t.err.to_bits() == self.errs[r].to_bits()
            && t.norm.to_bits() == self.norms[r].to_bits()
            && t.sum == self.sums[r]
    }

    /// The number of bytes per row of codes (the dimension rounded up to 64).
    pub fn stride(&self) -> usize {
        self.stride
    }

    /// The number of rows.
    pub fn len(&self) -> usize {
        self.scales.len()
    }

    /// Whether there is no row.
    pub fn is_empty(&self) -> bool {
        self.scales.is_empty()
    }

    /// Bytes held (for reports).
    pub fn bytes(&self) -> usize {
        self.codes.len() + 16 * self.scales.len()
    }

    /// Sets row `r` (appends when `r == len()`) to the codes of `x`.
    pub fn set(&mut self, r: usize, x: &[f32]) {
        let z = quantize(x, self.stride);
        if r == self.len() {
            self.codes.push_row(&z.codes);
            self.scales.push(z.scale);
            self.errs.push(z.err);
            self.norms.push(z.norm);
            self.sums.push(z.sum);
        } else if r < self.len() {
            self.codes.as_mut_slice()[r * self.stride..(r + 1) * self.stride]
                .copy_from_slice(&z.codes);
            self.scales[r] = z.scale;
            self.errs[r] = z.err;
            self.norms[r] = z.norm;
            self.sums[r] = z.sum;
        }
    }

    /// Sets row `r` (appends when `r == len()`) to `codes` (`stride()` bytes, zero past the
    /// dimension) and `t`, what [`quantize_into`] gave for the row: the same as [`Codes::set`] of it
    /// (the load quantises its rows on the pool and stores them here in row order).
    pub(crate) fn set_quantized(&mut self, r: usize, codes: &[i8], t: Terms) {
        debug_assert_eq!(codes.len(), self.stride);
        if r == self.len() {
            self.codes.push_row(codes);
            self.scales.push(t.scale);
            self.errs.push(t.err);
            self.norms.push(t.norm);
            self.sums.push(t.sum);
        } else if r < self.len() {
            self.codes.as_mut_slice()[r * self.stride..(r + 1) * self.stride]
                .copy_from_slice(codes);
            self.scales[r] = t.scale;
            self.errs[r] = t.err;
            self.norms[r] = t.norm;
            self.sums[r] = t.sum;
        }
    }

    /// Tests only: whether `other` holds the same codes and terms, bit for bit.
    #[cfg(test)]
    pub(crate) fn same_as(&self, other: &Codes) -> bool {
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        self.stride == other.stride
            && self.codes.as_slice() == other.codes.as_slice()
            && bits(&self.scales) == bits(&other.scales)
            && bits(&self.errs) == bits(&other.errs)
            && bits(&self.norms) == bits(&other.norms)
            && self.sums == other.sums
    }

    /// Removes row `r` by moving the last row into its place (as the matrix does).
    pub fn swap_remove(&mut self, r: usize) {
        let last = self.len() - 1;
        let s = self.stride;
        if r != last {
            self.codes
                .as_mut_slice()
                .copy_within(last * s..(last + 1) * s, r * s);
        }
        self.codes.truncate(last * s);
        self.scales.swap_remove(r);
        self.errs.swap_remove(r);
        self.norms.swap_remove(r);
        self.sums.swap_remove(r);
    }

    /// The codes of rows `start..end`.
    pub fn rows(&self, start: usize, end: usize) -> &[i8] {
        &self.codes.as_slice()[start * self.stride..end * self.stride]
    }

    /// The code sums of rows `start..end`.
    pub fn sums(&self, start: usize, end: usize) -> &[i32] {
        &self.sums[start..end]
    }

    /// The upper ends of the score intervals of rows `start..start + dots.len()` into `out`, in one
    /// branch-free loop (it vectorises); the same arithmetic as [`Codes::interval`].
    pub fn uppers(&self, q: &QueryCodes, start: usize, dots: &[i32], out: &mut [f32]) {
        let end = start + dots.len();
        let (s, e, n) = (
            &self.scales[start..end],
            &self.errs[start..end],
            &self.norms[start..end],
        );
        for ((((o, &s), &e), &n), &d) in out.iter_mut().zip(s).zip(e).zip(n).zip(dots) {
            *o = q.interval(s, e, n, d).1;
        }
    }

    /// The score interval of row `r` for `q`, given the code dot product `dot`.
    #[inline]
    pub fn interval(&self, q: &QueryCodes, r: usize, dot: i32) -> (f32, f32) {
        q.interval(self.scales[r], self.errs[r], self.norms[r], dot)
    }
}

/// An f32 ordered by `total_cmp` (for the heap of lower bounds).
#[derive(Clone, Copy, PartialEq)]
struct Ord32(f32);

impl Eq for Ord32 {}

impl PartialOrd for Ord32 {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Ord32 {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.total_cmp(&other.0)
    }
}

/// The k largest lower bounds seen: its [`KthLower::cut`] is the k-th largest, below which no row's
/// exact score can enter the top-k.
#[derive(Clone)]
pub struct KthLower {
    k: usize,
    heap: BinaryHeap<Reverse<Ord32>>,
}

impl KthLower {
    /// Keeps the `k` largest (k ≥ 1).
    pub fn new(k: usize) -> KthLower {
        KthLower {
            k,
            heap: BinaryHeap::with_capacity(k.min(1 << 16) + 1),
        }
    }

    /// The k-th largest lower bound so far, `-inf` until there are k.
    #[inline]
    pub fn cut(&self) -> f32 {
        if self.heap.len() < self.k {
            f32::NEG_INFINITY
        } else {
            self.heap.peek().map_or(f32::NEG_INFINITY, |r| r.0 .0)
        }
    }

    /// Offers a lower bound.
    #[inline]
    pub fn push(&mut self, lower: f32) {
        if self.heap.len() < self.k {
            self.heap.push(Reverse(Ord32(lower)));
        } else if lower > self.cut() {
            self.heap.pop();
            self.heap.push(Reverse(Ord32(lower)));
        }
    }

    /// Adds the bounds of another selection (the merge of per-chunk selections).
    pub fn merge(&mut self, other: KthLower) {
        for Reverse(Ord32(l)) in other.heap {
            self.push(l);
        }
    }
}

/// The score the batch kernels compute for one pair: one fused multiply-add per component, in order,
/// from zero (what each lane of the register-blocked f32 kernels does), so a rescored candidate gets
/// the same bits as the f32 batch path.
pub fn fma_chain(a: &[f32], b: &[f32]) -> f32 {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("fma") {
            // SAFETY: the processor reported FMA.
            return unsafe { fma_chain_fma(a, b) };
        }
    }
    a.iter()
        .zip(b)
        .fold(0.0f32, |acc, (&x, &y)| x.mul_add(y, acc))
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "fma")]
unsafe fn fma_chain_fma(a: &[f32], b: &[f32]) -> f32 {
    a.iter()
        .zip(b)
        .fold(0.0f32, |acc, (&x, &y)| x.mul_add(y, acc))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn vector(seed: u64, len: usize, scale: f32) -> Vec<f32> {
        let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        (0..len)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                ((s >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * scale
            })
            .collect()
    }

    #[test]
    fn every_code_kernel_matches_the_scalar_one() {
        for d in [1usize, 3, 63, 64, 65, 100, 384, 768, 1000] {
            let stride = d.next_multiple_of(64);
            let q = QueryCodes::new(&vector(d as u64, d, 2.0), stride);
            let mut rows = Vec::new();
            let mut sums = Vec::new();
            for r in 0..9u64 {
                let z = quantize(&vector(r + 100, d, 1.0), stride);
                rows.extend_from_slice(&z.codes);
                sums.push(z.sum);
            }
            // Extreme codes: every component at ±127.
            let mut extreme = vec![0i8; stride];
            extreme[..d]
                .iter_mut()
                .enumerate()
                .for_each(|(i, c)| *c = if i % 3 == 0 { -127 } else { 127 });
            sums.push(extreme.iter().map(|&c| i32::from(c)).sum());
            rows.extend_from_slice(&extreme);
            let want: Vec<i32> = rows
                .chunks_exact(stride)
                .map(|r| dot_scalar(&q.codes, r))
                .collect();
            for k in CodeKernel::available() {
                let mut out = vec![7; want.len()];
                k.dots(&q, &rows, &sums, stride, &mut out);
                assert_eq!(out, want, "{} d {d}", k.name());
            }
        }
    }

    #[test]
    fn grouped_code_dots_match_single_ones() {
        for d in [5usize, 64, 384, 700] {
            let stride = d.next_multiple_of(64);
            let qs: Vec<QueryCodes> = (0..QUERY_GROUP as u64)
                .map(|i| QueryCodes::new(&vector(i + 7, d, 1.0), stride))
                .collect();
            let mut rows = Vec::new();
            let mut sums = Vec::new();
            for r in 0..11u64 {
                let z = quantize(&vector(r + 300, d, 1.0), stride);
                rows.extend_from_slice(&z.codes);
                sums.push(z.sum);
            }
            for k in CodeKernel::available() {
                for take in 1..=QUERY_GROUP {
                    let mut out = [[0i32; 16]; QUERY_GROUP];
                    k.dots_group(&qs[..take], &rows, &sums, stride, &mut out, 11);
                    for (j, q) in qs[..take].iter().enumerate() {
                        let want: Vec<i32> = rows
                            .chunks_exact(stride)
                            .map(|r| dot_scalar(&q.codes, r))
                            .collect();
                        assert_eq!(&out[j][..11], &want[..], "{} d {d} query {j}", k.name());
                    }
                }
            }
        }
    }

    #[test]
    fn stored_codes_are_aligned_and_every_kernel_scores_them_alike() {
        for (d, n) in [(384usize, 37usize), (100, 5), (64, 1), (700, 9)] {
            let data: Vec<f32> = (0..n as u64)
                .flat_map(|r| vector(r + 900, d, 1.0))
                .collect();
            let mut c = Codes::build(&data, d);
            // Rows appended one by one, replaced and swap-removed keep the same layout.
            c.set(n, &vector(5, d, 1.0));
            c.set(0, &vector(6, d, 1.0));
            c.swap_remove(1);
            let stride = c.stride();
            let rows = c.rows(0, c.len());
            assert_eq!(rows.as_ptr() as usize % 64, 0);
            let q = QueryCodes::new(&vector(d as u64 + 1, d, 1.0), stride);
            let want: Vec<i32> = rows
                .chunks_exact(stride)
                .map(|r| dot_scalar(&q.codes, r))
                .collect();
            for k in CodeKernel::available() {
                let mut out = vec![0; c.len()];
                k.dots(&q, rows, c.sums(0, c.len()), stride, &mut out);
                assert_eq!(out, want, "{} d {d} n {n}", k.name());
            }
        }
    }

    #[test]
    fn codes_are_the_nearest_integers() {
        let x = [1.0f32, -0.5, 0.25, 0.126, -0.0039, 0.0, 0.9999];
        let z = quantize(&x, 64);
        assert_eq!(z.scale, 1.0 / 127.0);
        let want: Vec<i8> = x
            .iter()
            .map(|v| (v * 127.0).round_ties_even() as i8)
            .collect();
        assert_eq!(&z.codes[..x.len()], &want[..]);
        assert_eq!(z.sum, want.iter().map(|&c| i32::from(c)).sum::<i32>());
    }

    #[test]
    fn zero_vectors_quantise_to_zero_with_no_error() {
        let z = quantize(&[0.0; 5], 64);
        assert_eq!((z.scale, z.err, z.norm, z.sum), (0.0, 0.0, 0.0, 0));
        assert_eq!(z.codes, vec![0; 64]);
    }

    proptest! {
        #[test]
        fn the_interval_holds_the_exact_scores(
            seed in any::<u64>(),
            d in 1usize..800,
            qscale in prop_oneof![Just(1.0f32), Just(1e-20f32), Just(3.0f32)],
            xscale in prop_oneof![Just(1.0f32), Just(1e-30f32), Just(0.0f32)],
        ) {
            let stride = d.next_multiple_of(64);
            let q = vector(seed, d, qscale);
            let x = vector(seed ^ 0x55, d, xscale);
            let qc = QueryCodes::new(&q, stride);
            let z = quantize(&x, stride);
            let dot = dot_scalar(&qc.codes, &z.codes);
            let (lo, hi) = qc.interval(z.scale, z.err, z.norm, dot);
            for exact in [
                crate::vector::kernel::dot_scalar(&q, &x),
                fma_chain(&q, &x),
                crate::vector::kernel::Kernel::best().dot(&q, &x),
            ] {
                prop_assert!(lo <= exact && exact <= hi, "{lo} <= {exact} <= {hi}");
            }
            // And it is narrow: a few hundredths of ‖x‖·‖q‖ at most.
            let nx = crate::vector::fafcas::l2_norm(&x) as f32;
            let nq = crate::vector::fafcas::l2_norm(&q) as f32;
            prop_assert!(hi - lo <= 0.1 * nx * nq + 1e-6, "{lo} {hi} {nx} {nq}");
        }
    }
}
