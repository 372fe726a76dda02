//! Criterion benchmarks of the graph layer on a seeded power-law multigraph (20,000 nodes, ~150,000
//! edges): snapshot load from an in-memory SQLite database, PageRank, components, BFS, shortest
//! path, Louvain, sampled betweenness and link candidates.
//!
//! Run with `cargo bench -p resonance --bench graph`; `bench/graph_bench.py` compares the same
//! algorithms at 100,000 nodes / 1,000,000 edges with python-igraph and networkx.

#![allow(missing_docs)] // criterion_group! generates an undocumented `pub fn benches`.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use resonance::graph::{Direction, GraphSnapshot};

const NODES: usize = 20_000;
const EDGES: usize = 150_000;

/// Node ids and `(source, target)` edges: sources drawn by a power law (xorshift), 65% of targets
/// inside a block of 500 nodes, the rest by the same power law.
fn power_law(n: usize, m: usize, seed: u64) -> (Vec<String>, Vec<(String, String)>) {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f64 / (1u64 << 53) as f64
    };
    let ids: Vec<String> = (0..n)
        .map(|i| format!("note-{:06}", (i * 7919) % n))
        .collect();
    // Inverse transform of a density ~ x^-0.65 on [1, n]: a few hubs, a long tail.
    let pick = |u: f64| -> usize {
        let a = 1.0 - 0.65;
        let x = ((n as f64).powf(a) * u + (1.0 - u)).powf(1.0 / a);
        (x as usize).saturating_sub(1).min(n - 1)
    };
    let mut edges = Vec::with_capacity(m);
    for _ in 0..m {
        let a = pick(next());
        let b = if next() < 0.65 {
            ((a / 500) * 500 + (next() * 500.0) as usize).min(n - 1)
        } else {
            pick(next())
        };
        edges.push((ids[a].clone(), ids[b].clone()));
    }
    (ids, edges)
}

fn sqlite_with(ids: &[String], edges: &[(String, String)]) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open_in_memory().expect("sqlite");
    conn.execute_batch(
        "CREATE TABLE nodes(id text PRIMARY KEY NOT NULL, type text);
         CREATE TABLE edges(source text NOT NULL, target text NOT NULL, type text NOT NULL,
                            PRIMARY KEY(source, target, type));",
    )
    .expect("schema");
    let tx = conn.unchecked_transaction().expect("tx");
    {
        let mut n = tx
            .prepare("INSERT INTO nodes(id) VALUES (?1)")
            .expect("insert");
        for id in ids {
            n.execute([id]).expect("node");
        }
        let mut e = tx
            .prepare("INSERT OR IGNORE INTO edges VALUES (?1, ?2, 'related_to')")
            .expect("insert");
        for (s, t) in edges {
            e.execute([s, t]).expect("edge");
        }
    }
    tx.commit().expect("commit");
    conn
}

fn bench_graph(c: &mut Criterion) {
    let (ids, edges) = power_law(NODES, EDGES, 7);
    let conn = sqlite_with(&ids, &edges);
    let g = GraphSnapshot::load(&conn).expect("load");
    let hub = g
        .pillars(1)
        .first()
        .map(|p| p.id.clone())
        .expect("non-empty graph");
    let far = g.node_ids()[g.node_count() / 2].clone();

    let mut group = c.benchmark_group("graph");
    group.sample_size(10);
    group.bench_function("load_sqlite", |b| {
        b.iter(|| GraphSnapshot::load(black_box(&conn)).expect("load"))
    });
    group.bench_function("from_rows", |b| {
        b.iter(|| GraphSnapshot::from_rows(ids.iter().cloned(), edges.iter().cloned()))
    });
    group.bench_function("pagerank", |b| {
        b.iter(|| g.pagerank(0.85, 1e-6, 100).expect("pagerank"))
    });
    group.bench_function("components", |b| b.iter(|| g.components()));
    group.bench_function("bfs_full", |b| {
        b.iter(|| {
            g.traverse(black_box(&hub), usize::MAX, Direction::Outgoing)
                .expect("bfs")
        })
    });
    group.bench_function("shortest_path", |b| {
        b.iter(|| {
            g.shortest_path(black_box(&hub), black_box(&far), Direction::Outgoing)
                .expect("path")
        })
    });
    group.bench_function("louvain", |b| {
        b.iter(|| g.communities(1.0, 42).expect("louvain"))
    });
    group.bench_function("betweenness_k64", |b| {
        b.iter(|| g.betweenness(true, Some((64, 1))).expect("betweenness"))
    });
    group.bench_function("link_candidates_20", |b| b.iter(|| g.link_candidates(20)));
    group.finish();
}

criterion_group!(benches, bench_graph);
criterion_main!(benches);
