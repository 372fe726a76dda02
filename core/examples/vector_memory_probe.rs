//! Times a fresh handle's open + first search, then warm searches, for one `vector_memory` mode, and
//! prints the process's resident memory: a probe of docs/vectors.md, "Bounded memory" (the benchmarks
//! of `bench/` are the reference).
//!
//! Usage: `vector_memory_probe DB N DIM matrix|codes [QUERIES]`
//!
//! Builds `DB` first when it does not exist: `N` random unit vectors of `DIM` components (fixed seed),
//! ids `n<row>`. Then, in this process, opens one handle with the given mode and prints one JSON line:
//! `open_first_ms` (open + first top-10 search), `warm_ms` (median of `QUERIES` (default 20) further
//! searches, all threads), `rss_mb`/`hwm_mb` (VmRSS and VmHWM after the searches), the `memory` the
//! handle reports, and the ids of the first query's hits (compare them across modes). Run each mode in
//! its own process: resident memory is per process.

use std::time::Instant;

use resonance::{Database, OpenOptions, SearchOptions, VectorMemory};

mod common;
use common::*;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 5 {
        return Err("usage: vector_memory_probe DB N DIM matrix|codes [QUERIES]".into());
    }
    let (path, n, dim): (&str, usize, usize) = (&args[1], args[2].parse()?, args[3].parse()?);
    let memory: VectorMemory = args[4].parse()?;
    let queries: usize = args.get(5).map_or(Ok(20), |q| q.parse())?;
    ensure_random_db(path, n, dim, false)?;
    let mut rng = Rng(42);
    let qs: Vec<Vec<f32>> = (0..=queries).map(|_| rng.vector(dim)).collect();
    let opts = SearchOptions::default();
    let t = Instant::now();
    let db = Database::open_with(
        path,
        OpenOptions {
            vector_memory: memory,
            ..OpenOptions::default()
        },
    )?;
    let first = db.search(&qs[0], &opts)?;
    let open_first_ms = t.elapsed().as_secs_f64() * 1e3;
    let mut warm: Vec<f64> = qs[1..]
        .iter()
        .map(|q| {
            let t = Instant::now();
            db.search(q, &opts).map(|_| t.elapsed().as_secs_f64() * 1e3)
        })
        .collect::<Result<_, _>>()?;
    warm.sort_by(f64::total_cmp);
    let (rss, hwm) = rss_mb();
    let info = db.vector_index_info()?;
    let ids: Vec<String> = first.iter().map(|h| format!("\"{}\"", h.id)).collect();
    println!(
        "{{\"mode\": \"{}\", \"n\": {n}, \"dim\": {dim}, \"open_first_ms\": {open_first_ms:.1}, \"warm_ms\": {:.2}, \"rss_mb\": {rss:.0}, \"hwm_mb\": {hwm:.0}, \"memory\": \"{}\", \"first_hits\": [{}]}}",
        memory.name(),
        warm.get(warm.len() / 2).copied().unwrap_or(f64::NAN),
        info.memory,
        ids.join(", ")
    );
    Ok(())
}
