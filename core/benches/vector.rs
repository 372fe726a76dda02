//! Criterion benchmarks of the vector layer: every available dot kernel against the scalar one at
//! common embedding sizes, and exact top-10 search over a 100,000 × 384 matrix on one thread, on all
//! threads, and for a batch of 100 queries.
//!
//! Run with `cargo bench -p resonance --bench vector`; `bench/vector_bench.py` compares the same
//! searches with numpy, faiss and sqlite-vec.

#![allow(missing_docs)] // criterion_group! generates an undocumented `pub fn benches`.

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use resonance::vector::fafcas::validate_and_normalize;
use resonance::vector::kernel::{dot_scalar, Kernel};
use resonance::vector::matrix::{SearchParams, VectorMatrix};

/// Deterministic pseudo-random unit vectors (xorshift), `n` of `dim` floats, row-major.
fn units(n: usize, dim: usize, seed: u64) -> Vec<f32> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(n * dim);
    let mut row = vec![0.0f32; dim];
    for _ in 0..n {
        for x in row.iter_mut() {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            *x = (s >> 40) as f32 / (1u64 << 24) as f32 - 0.5;
        }
        match validate_and_normalize(&row) {
            Ok(u) => out.extend_from_slice(&u),
            Err(_) => out.extend(std::iter::repeat_n(0.0, dim)),
        }
    }
    out
}

fn dot_kernels(c: &mut Criterion) {
    for dim in [384usize, 768, 1536] {
        let v = units(2, dim, dim as u64);
        let (a, b) = v.split_at(dim);
        let mut g = c.benchmark_group(format!("dot/{dim}"));
        g.throughput(Throughput::Bytes((2 * dim * 4) as u64));
        g.bench_function("dot_scalar", |bench| {
            bench.iter(|| dot_scalar(black_box(a), black_box(b)))
        });
        for k in Kernel::available() {
            g.bench_with_input(BenchmarkId::from_parameter(k.name()), &k, |bench, k| {
                bench.iter(|| k.dot(black_box(a), black_box(b)))
            });
        }
        g.finish();
    }
}

fn matrix_search(c: &mut Criterion) {
    let (n, dim) = (100_000usize, 384usize);
    let data = units(n, dim, 1);
    let mut m = VectorMatrix::with_capacity(dim, n);
    for (i, row) in data.chunks_exact(dim).enumerate() {
        if m.upsert(&format!("n{i:06}"), row, None, None).is_err() {
            return;
        }
    }
    drop(data);
    let queries = units(100, dim, 2);
    let one = SearchParams {
        k: 10,
        threads: Some(1),
        ..Default::default()
    };
    let all = SearchParams {
        k: 10,
        ..Default::default()
    };
    let mut g = c.benchmark_group("search/100000x384/top10");
    g.sample_size(20);
    g.throughput(Throughput::Bytes((n * dim * 4) as u64));
    let mut i = 0;
    g.bench_function("one_thread", |bench| {
        bench.iter(|| {
            i = (i + 1) % 100;
            m.search(black_box(&queries[i * dim..(i + 1) * dim]), &one)
        })
    });
    g.bench_function("all_threads", |bench| {
        bench.iter(|| {
            i = (i + 1) % 100;
            m.search(black_box(&queries[i * dim..(i + 1) * dim]), &all)
        })
    });
    g.sample_size(10);
    g.bench_function("batch100_all_threads", |bench| {
        bench.iter(|| m.search_batch(black_box(&queries), &all))
    });
    g.bench_function("batch100_one_thread", |bench| {
        bench.iter(|| m.search_batch(black_box(&queries), &one))
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default();
    targets = dot_kernels, matrix_search
}
criterion_main!(benches);
