//! The Rust side of `bench/python_bench.py`: the same engine calls the Python bench makes, on the same
//! data, timed from Rust (no Python involved).
//!
//! Usage: `bench_rust DIR N DIM REPS` — `DIR/matrix.f32` holds `N * DIM` little-endian f32 (row `i` is
//! node `r<i>`), `DIR/queries.f32` any number of `DIM`-float queries. Writes `DIR/rust.db` (replaced),
//! then prints one JSON line: `upsert_nodes` rows per second (one call, all rows), the median
//! milliseconds of `Database::search` (top 10, one thread and all threads) and the median nanoseconds of
//! `Database::get_node` on one row.

use std::time::Instant;

use resonance::{Database, NodeInput, SearchOptions};

fn read_f32(path: &std::path::Path) -> Vec<f32> {
    let bytes =
        std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

/// The calling thread's CPU time in milliseconds.
#[cfg(target_os = "linux")]
fn thread_cpu_ms() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid timespec for the call to fill.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 * 1e3 + ts.tv_nsec as f64 / 1e6
}

#[cfg(not(target_os = "linux"))]
fn thread_cpu_ms() -> f64 {
    f64::NAN
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() -> resonance::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 5 {
        eprintln!("usage: bench_rust DIR N DIM REPS");
        std::process::exit(2);
    }
    let dir = std::path::PathBuf::from(&args[1]);
    let n: usize = args[2].parse().expect("N");
    let dim: usize = args[3].parse().expect("DIM");
    let reps: usize = args[4].parse().expect("REPS");
    let data = read_f32(&dir.join("matrix.f32"));
    assert_eq!(data.len(), n * dim, "matrix.f32 size");
    let queries = read_f32(&dir.join("queries.f32"));
    let nq = queries.len() / dim;

    let path = dir.join("rust.db");
    for s in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{s}", path.display()));
    }
    let nodes: Vec<NodeInput> = (0..n)
        .map(|i| NodeInput {
            id: format!("r{i}"),
            node_type: Some("note".into()),
            embedding: Some(data[i * dim..(i + 1) * dim].to_vec()),
            ..Default::default()
        })
        .collect();
    let db = Database::open(&path)?;
    let t = Instant::now();
    let c0 = thread_cpu_ms();
    db.upsert_nodes(&nodes)?;
    let upsert_cpu_s = (thread_cpu_ms() - c0) / 1e3;
    let upsert_s = t.elapsed().as_secs_f64();

    // Median wall-clock and median thread CPU milliseconds of a warm search.
    let search_ms = |threads: Option<usize>| -> resonance::Result<(f64, f64)> {
        let opts = SearchOptions {
            k: 10,
            threads,
            ..Default::default()
        };
        for i in 0..3 {
            db.search(&queries[(i % nq) * dim..(i % nq + 1) * dim], &opts)?;
        }
        let mut t = Vec::with_capacity(reps);
        let mut c = Vec::with_capacity(reps);
        for i in 0..reps {
            let q = &queries[(i % nq) * dim..(i % nq + 1) * dim];
            let s = Instant::now();
            let c0 = thread_cpu_ms();
            std::hint::black_box(db.search(q, &opts)?);
            c.push(thread_cpu_ms() - c0);
            t.push(s.elapsed().as_secs_f64() * 1e3);
        }
        Ok((median(t), median(c)))
    };
    let single = search_ms(Some(1))?;
    let all = search_ms(None)?;

    let id = format!("r{}", n / 2);
    let mut samples = Vec::new();
    let mut cpu = Vec::new();
    for _ in 0..21 {
        let iters = 2000;
        let s = Instant::now();
        let c0 = thread_cpu_ms();
        for _ in 0..iters {
            std::hint::black_box(db.get_node(&id)?);
        }
        cpu.push((thread_cpu_ms() - c0) * 1e6 / iters as f64);
        samples.push(s.elapsed().as_secs_f64() * 1e9 / iters as f64);
    }
    let get_ns = median(samples);
    let get_cpu_ns = median(cpu);
    db.close()?;
    println!(
        "{{\"n\": {n}, \"dim\": {dim}, \"upsert_rows_per_s\": {:.0}, \"upsert_cpu_rows_per_s\": {:.0}, \
         \"search_single_thread_ms\": {:.4}, \"search_single_thread_cpu_ms\": {:.4}, \
         \"search_all_threads_ms\": {:.4}, \"get_node_ns\": {get_ns:.0}, \"get_node_cpu_ns\": {get_cpu_ns:.0}}}",
        n as f64 / upsert_s,
        n as f64 / upsert_cpu_s,
        single.0,
        single.1,
        all.0,
    );
    Ok(())
}
