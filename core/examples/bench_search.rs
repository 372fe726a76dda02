//! Times `VectorMatrix` search on a matrix read from a raw file, for `bench/vector_bench.py`.
//!
//! Usage: `bench_search MATRIX N DIM QUERIES [REPS]`
//!
//! `MATRIX` holds `N * DIM` little-endian f32 (unit rows), `QUERIES` any number of unit queries of
//! `DIM` floats. Runs warm top-10 searches on one thread, on all threads, and batches of (up to) 100
//! queries, and prints one JSON object with the median milliseconds of each (and, for the single-thread
//! runs, the median thread CPU time, steadier on a shared machine), the kernel name and the
//! top-10 row numbers of the first query (rows are named `r<row>`), so the caller can check them.
//! Each search runs twice: over the f32 rows only (`quantised_*` off: the path before the int8 first
//! pass) and with the int8 first pass (`quantised_*` keys; `quantised_first_ms` and
//! `quantised_first_cpu_ms`, CPU time of all threads, are the first two searches: the first scans
//! the f32 rows, the second builds the codes); `quantised_same_results` says whether both gave the same hits for 20 queries and the batch.

use std::time::Instant;

mod common;
use common::{median, process_cpu_ms, rss_mb, thread_cpu_ms};

use resonance::vector::fafcas;
use resonance::vector::kernel;
use resonance::vector::matrix::{SearchParams, VectorMatrix};

fn read_f32(path: &str, floats: Option<usize>) -> Result<Vec<f32>, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {path}: {e}"))?;
    let v = fafcas::decode(&bytes).map_err(|e| format!("{path}: {e}"))?;
    match floats {
        Some(n) if v.len() != n => Err(format!("{path} holds {} floats, expected {n}", v.len())),
        _ => Ok(v),
    }
}

/// Runs `f` `warm` times untimed, then `reps` times, and returns the median wall-clock and the median
/// calling-thread CPU time, in milliseconds.
fn time_ms(warm: usize, reps: usize, mut f: impl FnMut(usize)) -> (f64, f64) {
    for i in 0..warm {
        f(i);
    }
    let mut t = Vec::with_capacity(reps);
    let mut c = Vec::with_capacity(reps);
    for i in 0..reps {
        let s = Instant::now();
        let c0 = thread_cpu_ms();
        f(i);
        c.push(thread_cpu_ms() - c0);
        t.push(s.elapsed().as_secs_f64() * 1e3);
    }
    (median(t), median(c))
}

fn run() -> Result<(), String> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 5 {
        return Err("usage: bench_search MATRIX N DIM QUERIES [REPS]".into());
    }
    let parse = |s: &str, what: &str| s.parse::<usize>().map_err(|e| format!("{what} {s:?}: {e}"));
    let n = parse(&args[2], "N")?;
    let dim = parse(&args[3], "DIM")?;
    let reps = match args.get(5) {
        Some(s) => parse(s, "REPS")?,
        None => 50,
    };
    if dim == 0 {
        return Err("DIM must be positive".into());
    }
    let data = read_f32(&args[1], Some(n * dim))?;
    let queries = read_f32(&args[4], None)?;
    let nq = queries.len() / dim;
    if nq == 0 {
        return Err("the query file holds no query".into());
    }

    let load = Instant::now();
    let mut m = VectorMatrix::with_capacity(dim, n);
    for (i, row) in data.chunks_exact(dim).enumerate() {
        m.upsert(&format!("r{i:09}"), row, None, None)
            .map_err(|e| e.to_string())?;
    }
    drop(data);
    let load_ms = load.elapsed().as_secs_f64() * 1e3;

    let q = |i: usize| &queries[(i % nq) * dim..(i % nq + 1) * dim];
    let one = SearchParams {
        k: 10,
        threads: Some(1),
        ..Default::default()
    };
    let all = SearchParams {
        k: 10,
        ..Default::default()
    };
    let nb = nq.min(100);
    let batch = &queries[..nb * dim];
    let mut sink = 0usize;
    // The f32 path first (the int8 first pass off), then the default path with the codes; every
    // query's top-10 must be the same on both.
    let mut timings = Vec::new();
    let mut tops = Vec::new();
    let mut checks = Vec::new();
    for quantised in [false, true] {
        m.set_quantised(quantised);
        let build = Instant::now();
        let cpu0 = process_cpu_ms();
        m.search(q(1), &all).map_err(|e| e.to_string())?;
        let first = m.search(q(0), &all).map_err(|e| e.to_string())?;
        let first_ms = build.elapsed().as_secs_f64() * 1e3;
        let first_cpu_ms = process_cpu_ms() - cpu0;
        tops.push(first);
        let (single, single_cpu) = time_ms(3, reps, |i| {
            sink += m.search(q(i), &one).map(|h| h.len()).unwrap_or(0);
        });
        let (multi, _) = time_ms(3, reps, |i| {
            sink += m.search(q(i), &all).map(|h| h.len()).unwrap_or(0);
        });
        let (batch_ms, _) = time_ms(2, reps.div_ceil(4).max(3), |_| {
            sink += m.search_batch(batch, &all).map(|h| h.len()).unwrap_or(0);
        });
        let (batch_one_ms, batch_one_cpu) = time_ms(1, reps.div_ceil(10).max(3), |_| {
            sink += m.search_batch(batch, &one).map(|h| h.len()).unwrap_or(0);
        });
        let mut check = Vec::new();
        for i in 0..nq.min(20) {
            check.push(m.search(q(i), &one).map_err(|e| e.to_string())?);
        }
        check.extend(m.search_batch(batch, &all).map_err(|e| e.to_string())?);
        checks.push(check);
        timings.push((
            (first_ms, first_cpu_ms),
            single,
            single_cpu,
            multi,
            batch_ms,
            batch_one_ms,
            batch_one_cpu,
        ));
    }
    let code_mb = m.code_bytes() as f64 / 1e6;
    let (rss, peak_rss) = rss_mb();
    let first = tops.pop().unwrap_or_default();
    let same = checks.first() == checks.last();
    let (_, single, single_cpu, multi, batch_ms, batch_one_ms, batch_one_cpu) = timings[0];
    let (
        (q_first, q_first_cpu),
        q_single,
        q_single_cpu,
        q_multi,
        q_batch,
        q_batch_one,
        q_batch_one_cpu,
    ) = timings[1];

    let rows: Vec<String> = first
        .iter()
        .map(|h| h.id.trim_start_matches('r').trim_start_matches('0'))
        .map(|s| {
            if s.is_empty() {
                "0".to_string()
            } else {
                s.to_string()
            }
        })
        .collect();
    let scores: Vec<String> = first.iter().map(|h| format!("{:.6}", h.score)).collect();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "{{\"kernel\": \"{}\", \"n\": {n}, \"dim\": {dim}, \"k\": 10, \"reps\": {reps}, \"threads\": {threads}, \
         \"load_ms\": {load_ms:.1}, \"single_thread_ms\": {single:.4}, \"all_threads_ms\": {multi:.4}, \
         \"batch_queries\": {nb}, \"batch_ms\": {batch_ms:.4}, \"batch_single_thread_ms\": {batch_one_ms:.4}, \
         \"single_thread_cpu_ms\": {single_cpu:.4}, \"batch_single_thread_cpu_ms\": {batch_one_cpu:.4}, \
         \"quantised_first_ms\": {q_first:.3}, \"quantised_first_cpu_ms\": {q_first_cpu:.3}, \"quantised_single_thread_ms\": {q_single:.4}, \
         \"quantised_single_thread_cpu_ms\": {q_single_cpu:.4}, \"quantised_all_threads_ms\": {q_multi:.4}, \
         \"quantised_batch_ms\": {q_batch:.4}, \"quantised_batch_single_thread_ms\": {q_batch_one:.4}, \
         \"quantised_batch_single_thread_cpu_ms\": {q_batch_one_cpu:.4}, \"quantised_same_results\": {same}, \
         \"code_mb\": {code_mb:.1}, \"rss_mb\": {rss:.1}, \"peak_rss_mb\": {peak_rss:.1}, \"first_query_rows\": [{}], \"first_query_scores\": [{}], \"checksum\": {sink}}}",
        kernel::active_kernel(),
        rows.join(", "),
        scores.join(", "),
    );
    Ok(())
}

fn main() {
    if let Err(e) = run() {
        eprintln!("bench_search: {e}");
        std::process::exit(2);
    }
}
