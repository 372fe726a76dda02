//! Point-read overhead: `Database::get_node` by id against a bare rusqlite prepared statement reading
//! the same row's columns (what `sqlite3`, `better-sqlite3` or `bun:sqlite` do), on the same file.
//! Calls alternate in rounds; prints the best round's µs per call and the ratio as one JSON line.
//!
//! `cargo run --release --example bench_get -p resonance -- [NODES] [CALLS_PER_ROUND] [DIR]`

use std::time::Instant;

use resonance::{Database, NodeInput};

fn main() -> resonance::Result<()> {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(20_000);
    let calls: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let dir = args
        .next()
        .map(std::path::PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let path = dir.join(format!("bench-get-{}.db", std::process::id()));
    let nodes: Vec<NodeInput> = (0..n)
        .map(|i| NodeInput {
            id: format!("node-{i:07}"),
            node_type: Some("note".into()),
            title: Some(format!("Title {i}")),
            summary: Some(format!("A summary of node {i}")),
            meta: Some(format!("{{\"i\":{i},\"tags\":[\"a\",\"b\"]}}")),
            embedding: Some((0..384).map(|j| ((i * 7 + j) % 13) as f32 - 6.0).collect()),
            ..Default::default()
        })
        .collect();
    let db = Database::open(&path)?;
    db.upsert_nodes(&nodes)?;
    let ids: Vec<String> = (0..calls)
        .map(|i| format!("node-{:07}", (i * 7919) % n))
        .collect();

    let raw = rusqlite::Connection::open(&path).expect("open");
    let mut stmt = raw
        .prepare(
            "SELECT id, type, title, domain, layer, hash, summary, meta, date FROM nodes WHERE id = ?1",
        )
        .expect("prepare");
    type Row = (
        String,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
    );
    let (mut best_core, mut best_raw) = (f64::MAX, f64::MAX);
    for _ in 0..5 {
        let t = Instant::now();
        for id in &ids {
            let node = db.get_node(id)?.expect("node");
            std::hint::black_box(node);
        }
        best_core = best_core.min(t.elapsed().as_secs_f64() * 1e6 / calls as f64);
        let t = Instant::now();
        for id in &ids {
            let row: Row = stmt
                .query_row([id], |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                        r.get(6)?,
                        r.get(7)?,
                        r.get(8)?,
                    ))
                })
                .expect("row");
            std::hint::black_box(row);
        }
        best_raw = best_raw.min(t.elapsed().as_secs_f64() * 1e6 / calls as f64);
    }
    drop(stmt);
    drop(raw);
    db.close()?;
    for s in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{s}", path.display()));
    }
    println!(
        "{{\"nodes\": {n}, \"calls\": {calls}, \"get_node_us\": {best_core:.3}, \"raw_stmt_us\": {best_raw:.3}, \"ratio\": {:.2}}}",
        best_core / best_raw
    );
    Ok(())
}
