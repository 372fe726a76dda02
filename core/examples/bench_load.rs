//! Times what a fresh handle pays at its first search: open + the load of every embedding + one top-10
//! search, for both `vector_memory` modes, in fresh handles of one process (docs/vectors.md, "Fresh
//! handles").
//!
//! Usage: `bench_load DB N DIM [REPS]`
//!
//! Builds `DB` first when it does not exist (through the engine: `N` random vectors of `DIM`
//! components, fixed seed, ids `n<row>`, two domains and three types). Then, `REPS` (default 5) times,
//! alternating the modes, opens a handle, runs one top-10 search and closes it, and prints one JSON
//! object: per mode the median wall, process CPU and calling-thread CPU milliseconds of open + first
//! search, the rows the handle reports, and the first hits' ids (the same in every run and mode).

use std::time::Instant;

use resonance::{Database, OpenOptions, SearchOptions, VectorMemory};

mod common;
use common::*;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 4 {
        return Err("usage: bench_load DB N DIM [REPS]".into());
    }
    let (path, n, dim): (&str, usize, usize) = (&args[1], args[2].parse()?, args[3].parse()?);
    let reps: usize = args.get(4).map_or(Ok(5), |r| r.parse())?;
    ensure_random_db(path, n, dim, true)?;
    let q = Rng(42).vector(dim);
    let opts = SearchOptions::default();
    let modes = [VectorMemory::Matrix, VectorMemory::Codes];
    let mut out = Vec::new();
    let mut samples: Vec<[Vec<f64>; 3]> = vec![Default::default(), Default::default()];
    let mut seen: Vec<(usize, String)> = vec![Default::default(), Default::default()];
    for _ in 0..reps {
        for (mi, &memory) in modes.iter().enumerate() {
            let (t, p, th) = (Instant::now(), process_cpu_ms(), thread_cpu_ms());
            let db = Database::open_with(
                path,
                OpenOptions {
                    vector_memory: memory,
                    ..OpenOptions::default()
                },
            )?;
            let hits = db.search(&q, &opts)?;
            samples[mi][0].push(t.elapsed().as_secs_f64() * 1e3);
            samples[mi][1].push(process_cpu_ms() - p);
            samples[mi][2].push(thread_cpu_ms() - th);
            let ids: Vec<String> = hits.iter().map(|h| format!("\"{}\"", h.id)).collect();
            seen[mi] = (db.vector_index_info()?.rows, ids.join(", "));
            db.close()?;
        }
    }
    for (mi, memory) in modes.iter().enumerate() {
        let [wall, proc_cpu, thread_cpu] = std::mem::take(&mut samples[mi]);
        out.push(format!(
            "\"{}\": {{\"open_first_ms\": {:.1}, \"process_cpu_ms\": {:.1}, \"thread_cpu_ms\": {:.1}, \"min_ms\": {:.1}, \"rows\": {}, \"first_hits\": [{}]}}",
            memory.name(),
            median(wall.clone()),
            median(proc_cpu),
            median(thread_cpu),
            wall.iter().copied().fold(f64::INFINITY, f64::min),
            seen[mi].0,
            seen[mi].1
        ));
    }
    println!(
        "{{\"n\": {n}, \"dim\": {dim}, \"reps\": {reps}, {}}}",
        out.join(", ")
    );
    Ok(())
}
