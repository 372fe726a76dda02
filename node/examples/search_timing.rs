//! Times one search in Rust, for `bench/node_bench.mjs`: the same database, query and options as the
//! JS side, without the binding. Prints one JSON line.
//!
//! `search_timing DB QUERY_F32LE K ITERATIONS [THREADS]` (threads: 0 or absent = all cores)

use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 5 && args.len() != 6 {
        return Err("usage: search_timing DB QUERY_F32LE K ITERATIONS [THREADS]".into());
    }
    let threads: usize = args.get(5).map_or(Ok(0), |t| t.parse())?;
    let db = resonance::Database::open(&args[1])?;
    let bytes = std::fs::read(&args[2])?;
    let query: Vec<f32> = bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    let opts = resonance::SearchOptions {
        k: args[3].parse()?,
        threads: (threads > 0).then_some(threads),
        ..Default::default()
    };
    let iterations: usize = args[4].parse()?;
    // Warm up: loads the matrix once, like the JS side's warm-up.
    let hits = db.search(&query, &opts)?;
    let mut times = Vec::with_capacity(iterations);
    for _ in 0..iterations {
        let t = Instant::now();
        let h = db.search(&query, &opts)?;
        times.push(t.elapsed().as_secs_f64() * 1e6);
        std::hint::black_box(h);
    }
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    let ids: Vec<&str> = hits.iter().map(|h| h.id.as_str()).collect();
    // With GET_ID set: also the core's get_node on that id (ns per call, best of 15 rounds of 20,000),
    // to split getNodeSync's time between the core and the binding.
    let get_ns = match std::env::var("GET_ID") {
        Ok(id) => {
            let mut best = f64::INFINITY;
            for _ in 0..15 {
                let t = Instant::now();
                for _ in 0..20_000 {
                    std::hint::black_box(db.get_node(&id)?);
                }
                best = best.min(t.elapsed().as_secs_f64() * 1e9 / 20_000.0);
            }
            Some(best)
        }
        Err(_) => None,
    };
    println!(
        "{}",
        serde_json::json!({"median_us": median, "min_us": times[0], "ids": ids, "get_node_ns": get_ns})
    );
    db.close()?;
    Ok(())
}
