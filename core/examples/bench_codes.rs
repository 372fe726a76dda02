//! Times the int8 first pass of `VectorMatrix::search` alone against the f32 scan, one thread, for
//! profiling the kernels (`perf record` on a `--profile profiling` build).
//!
//! Usage: `bench_codes MATRIX N DIM QUERIES [REPS]`: prints the median thread CPU milliseconds of a
//! one-thread top-10 search through the codes and over the f32 rows, and whether they agree.

use std::time::Instant;

use resonance::vector::fafcas;
use resonance::vector::matrix::{SearchParams, VectorMatrix};

fn thread_cpu_ms() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid timespec for the call to fill.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 * 1e3 + ts.tv_nsec as f64 / 1e6
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 5 {
        eprintln!("usage: bench_codes MATRIX N DIM QUERIES [REPS]");
        std::process::exit(2);
    }
    let n: usize = args[2].parse().expect("N");
    let dim: usize = args[3].parse().expect("DIM");
    let reps: usize = args.get(5).map_or(30, |s| s.parse().expect("REPS"));
    let data = fafcas::decode(&std::fs::read(&args[1]).expect("matrix")).expect("matrix");
    let queries = fafcas::decode(&std::fs::read(&args[4]).expect("queries")).expect("queries");
    let nq = queries.len() / dim;
    let mut m = VectorMatrix::with_capacity(dim, n);
    for (i, row) in data.chunks_exact(dim).take(n).enumerate() {
        m.upsert(&format!("r{i:09}"), row, None, None)
            .expect("upsert");
    }
    drop(data);
    let q = |i: usize| &queries[(i % nq) * dim..(i % nq + 1) * dim];
    let one = SearchParams {
        k: 10,
        threads: Some(1),
        ..Default::default()
    };
    let mut med = Vec::new();
    let mut results = Vec::new();
    for quantised in [true, false] {
        m.set_quantised(quantised);
        m.search(q(0), &one).expect("search");
        m.search(q(0), &one).expect("search");
        let mut t = Vec::new();
        let mut w = Vec::new();
        let mut got = Vec::new();
        for i in 0..reps {
            let c0 = thread_cpu_ms();
            let s = Instant::now();
            let h = m.search(q(i), &one).expect("search");
            t.push(thread_cpu_ms() - c0);
            w.push(s.elapsed().as_secs_f64() * 1e3);
            got.push(h);
        }
        results.push(got);
        t.sort_by(f64::total_cmp);
        w.sort_by(f64::total_cmp);
        med.push((t[t.len() / 2], w[w.len() / 2]));
    }
    let same = results[0] == results[1];
    println!(
        "int8 {:.3} ms cpu ({:.3} wall)  f32 {:.3} ms cpu ({:.3} wall)  ratio {:.3}  same {same}",
        med[0].0,
        med[0].1,
        med[1].0,
        med[1].1,
        med[0].0 / med[1].0
    );
}
