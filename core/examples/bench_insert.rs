//! Bulk insert benchmark: `N` nodes with `DIM`-dimensional vectors written by one `upsert_nodes` call
//! (one transaction, history rows included) into a fresh database. Prints one JSON line.
//!
//! `cargo run --release --example bench_insert -p resonance -- [N] [DIM] [DIR]`

use resonance::{Database, NodeInput};

fn main() -> resonance::Result<()> {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let dim: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(384);
    let dir = args
        .next()
        .map(std::path::PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let path = dir.join(format!("bench-insert-{}.db", std::process::id()));
    let mut x: u32 = 12345;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        (x as f32 / u32::MAX as f32) - 0.5
    };
    let nodes: Vec<NodeInput> = (0..n)
        .map(|i| NodeInput {
            id: format!("node-{i:07}"),
            node_type: Some("note".into()),
            title: Some(format!("Title {i}")),
            meta: Some(format!("{{\"i\":{i}}}")),
            embedding: Some((0..dim).map(|_| next()).collect()),
            ..Default::default()
        })
        .collect();
    let db = Database::open(&path)?;
    let t = std::time::Instant::now();
    db.upsert_nodes(&nodes)?;
    let secs = t.elapsed().as_secs_f64();
    db.close()?;
    for s in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{s}", path.display()));
    }
    println!(
        "{{\"rows\": {n}, \"dim\": {dim}, \"seconds\": {secs:.4}, \"rows_per_s\": {:.0}}}",
        n as f64 / secs
    );
    Ok(())
}
