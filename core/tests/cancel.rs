//! Cancellation: a `CancelToken` or `Database::interrupt()` from another thread stops long calls
//! (graph analytics, loads, writes) soon after, the handle keeps working, a stopped write changes
//! nothing; and link candidates on a hub are bounded.
//!
//! Latencies are printed and asserted loosely (≤ 1 s) because the machine running the tests may be
//! loaded; the calls stopped are sized to run for many seconds in a debug build.

mod common;

use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use resonance::{
    BetweennessOptions, CancelToken, CommunityOptions, Database, EdgeInput, ErrorKind,
    GraphSnapshot, LinkCandidateOptions, NodeInput, PageRankOptions,
};

/// The latency bound asserted (the target is 100 ms; this leaves room for a loaded machine).
const LATENCY: Duration = Duration::from_secs(1);

/// Fills the database at `path` with `n` nodes `n00000..` and `per_node` pseudo-random out-edges
/// each, written with plain SQL (much faster than the engine's checked writes in a debug build).
fn big_graph(path: &Path, n: u64, per_node: u64) -> Database {
    let db = Database::open(path).unwrap();
    db.upsert_node(&NodeInput::new("seed")).unwrap();
    db.delete_node("seed").unwrap();
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch(&format!(
        "BEGIN;
         WITH RECURSIVE i(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM i WHERE x + 1 < {n})
         INSERT INTO nodes(id, domain, layer) SELECT printf('n%06d', x), 'knowledge', 'experience' FROM i;
         WITH RECURSIVE i(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM i WHERE x + 1 < {n}),
              k(y) AS (SELECT 1 UNION ALL SELECT y + 1 FROM k WHERE y + 1 <= {per_node})
         INSERT OR IGNORE INTO edges(source, target, type)
           SELECT printf('n%06d', x), printf('n%06d', (x * 7919 + y * y * 104729 + y * 31) % {n}), 'related_to'
           FROM i, k WHERE (x * 7919 + y * y * 104729 + y * 31) % {n} != x;
         COMMIT;"
    ))
    .unwrap();
    drop(conn);
    db
}

/// Runs `call` on another thread, waits `after`, fires `stop`, and returns the call's result with
/// the time from `stop` to the call's return.
fn stop_after<T: Send + 'static>(
    after: Duration,
    call: impl FnOnce() -> resonance::Result<T> + Send + 'static,
    stop: impl FnOnce(),
) -> (resonance::Result<T>, Duration) {
    let (tx, rx) = mpsc::channel();
    let worker = std::thread::spawn(move || {
        let r = call();
        let _ = tx.send(Instant::now());
        r
    });
    std::thread::sleep(after);
    let fired = Instant::now();
    stop();
    let done = rx
        .recv_timeout(Duration::from_secs(120))
        .expect("the call did not return within 120 s of the stop");
    let r = worker.join().unwrap();
    (r, done.saturating_duration_since(fired))
}

fn assert_interrupted<T: std::fmt::Debug>(what: &str, r: resonance::Result<T>, latency: Duration) {
    println!("{what}: stopped {latency:?} after the cancel");
    match r {
        Err(e) => assert_eq!(e.kind(), ErrorKind::Interrupted, "{what}: {e}"),
        Ok(v) => panic!("{what} finished before the cancel: {v:?} (make the work bigger)"),
    }
    assert!(latency <= LATENCY, "{what} took {latency:?} to stop");
}

#[test]
fn hub_link_candidates_are_bounded() {
    let spokes = 30_000u32;
    let ids: Vec<String> = std::iter::once("hub".to_string())
        .chain((0..spokes).map(|i| format!("s{i:05}")))
        .collect();
    let edges: Vec<(String, String)> = (0..spokes)
        .map(|i| ("hub".to_string(), format!("s{i:05}")))
        .collect();
    let g = GraphSnapshot::from_rows(ids, edges);
    let t = Instant::now();
    let top = g.link_candidates(5);
    let took = t.elapsed();
    println!("link_candidates(5) on a hub of {spokes} spokes: {took:?}");
    let f = 1.0 / f64::from(spokes).ln();
    let want = [
        ("s00000", "s00001"),
        ("s00000", "s00002"),
        ("s00000", "s00003"),
        ("s00000", "s00004"),
        ("s00000", "s00005"),
    ];
    assert_eq!(top.len(), 5);
    for (got, want) in top.iter().zip(want) {
        assert_eq!((got.source.as_str(), got.target.as_str()), want);
        assert_eq!(got.score, f);
    }
    assert!(took < Duration::from_secs(10), "{took:?}");
    // A huge limit allocates only what exists: 3 nodes in a path have one pair.
    let small = GraphSnapshot::from_rows(
        ["a", "b", "c"].map(String::from),
        [("a", "b"), ("b", "c")].map(|(x, y)| (x.to_string(), y.to_string())),
    );
    assert_eq!(small.link_candidates(usize::MAX).len(), 1);
}

#[test]
fn hub_link_candidates_cancel_through_the_handle() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path().join("hub.db")).unwrap();
    let spokes = 30_000;
    let edges: Vec<EdgeInput> = (0..spokes)
        .map(|i| EdgeInput::new("hub", format!("s{i:05}")))
        .collect();
    let nodes: Vec<NodeInput> = std::iter::once(NodeInput::new("hub"))
        .chain((0..spokes).map(|i| NodeInput::new(format!("s{i:05}"))))
        .collect();
    db.upsert_nodes(&nodes).unwrap();
    db.add_edges(&edges).unwrap();
    let t = Instant::now();
    let top = db.link_candidates(&top3()).unwrap();
    println!(
        "Database::link_candidates(3), hub of {spokes}: {:?}",
        t.elapsed()
    );
    assert_eq!(top[0].source, "s00000");
    // A cancelled token stops it before any work.
    let token = CancelToken::new();
    token.cancel();
    let e = token.scope(|| db.link_candidates(&top3())).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Interrupted);
    // The handle still works.
    assert_eq!(db.link_candidates(&top3()).unwrap(), top);
}

#[test]
fn a_token_stops_graph_analytics_on_a_big_graph() {
    let dir = tempfile::tempdir().unwrap();
    let db = std::sync::Arc::new(big_graph(&dir.path().join("big.db"), 20_000, 50));
    let stats = db.graph_stats().unwrap();
    assert!(stats.edges > 900_000, "{stats:?}");

    let wait = Duration::from_millis(300);
    let token = CancelToken::new();
    let (d, t) = (db.clone(), token.clone());
    let (r, lat) = stop_after(
        wait,
        move || t.scope(|| d.link_candidates(&Default::default())),
        || token.cancel(),
    );
    assert_interrupted("link_candidates", r, lat);

    let token = CancelToken::new();
    let (d, t) = (db.clone(), token.clone());
    let (r, lat) = stop_after(
        wait,
        move || {
            t.scope(|| {
                d.pagerank(&{
                    let mut o = PageRankOptions::default();
                    o.tolerance = f64::MIN_POSITIVE;
                    o.max_iterations = 1_000_000;
                    o
                })
            })
        },
        || token.cancel(),
    );
    assert_interrupted("pagerank", r.map(|v| v.len()), lat);

    let token = CancelToken::new();
    let (d, t) = (db.clone(), token.clone());
    let (r, lat) = stop_after(
        wait,
        move || t.scope(|| d.betweenness(&Default::default())),
        || token.cancel(),
    );
    assert_interrupted("betweenness", r.map(|v| v.len()), lat);

    let token = CancelToken::new();
    let (d, t) = (db.clone(), token.clone());
    let (r, lat) = stop_after(
        Duration::from_millis(50),
        move || {
            t.scope(|| {
                d.communities(&{
                    let mut o = CommunityOptions::default();
                    o.seed = 7;
                    o
                })
            })
        },
        || token.cancel(),
    );
    assert_interrupted("communities", r.map(|c| c.modularity), lat);

    // The handle works afterwards, and a token that was never cancelled does not stop anything.
    assert_eq!(db.graph_stats().unwrap().edges, stats.edges);
    let ok = CancelToken::new();
    let comps = ok.scope(|| db.components()).unwrap();
    assert_eq!(comps.iter().map(Vec::len).sum::<usize>(), 20_000);
}

#[test]
fn interrupt_from_another_thread_stops_the_running_call_only() {
    let dir = tempfile::tempdir().unwrap();
    let db = std::sync::Arc::new(big_graph(&dir.path().join("big.db"), 20_000, 50));
    db.graph_stats().unwrap();
    let d = db.clone();
    let (r, lat) = stop_after(
        Duration::from_millis(300),
        move || {
            d.betweenness(&{
                let mut o = BetweennessOptions::default();
                o.normalized = false;
                o
            })
        },
        || db.interrupt(),
    );
    assert_interrupted("betweenness (interrupt)", r.map(|v| v.len()), lat);
    // The next call runs normally.
    let pr = db.pagerank(&Default::default()).unwrap();
    assert_eq!(pr.len(), 20_000);
    db.upsert_node(&NodeInput::new("after")).unwrap();
    assert!(db.get_node("after").unwrap().is_some());
    // An interrupt while nothing runs changes nothing.
    db.interrupt();
    assert!(db.get_node("after").unwrap().is_some());
}

#[test]
fn a_cancelled_write_leaves_the_database_as_before() {
    let dir = tempfile::tempdir().unwrap();
    let db = std::sync::Arc::new(Database::open(dir.path().join("w.db")).unwrap());
    db.upsert_node(&NodeInput::new("kept")).unwrap();
    let before = db.stats().unwrap();
    let nodes: Vec<NodeInput> = (0..400_000)
        .map(|i| NodeInput::new(format!("bulk{i:06}")))
        .collect();
    let token = CancelToken::new();
    let (d, t) = (db.clone(), token.clone());
    let (r, lat) = stop_after(
        Duration::from_millis(300),
        move || t.scope(|| d.upsert_nodes(&nodes)),
        || token.cancel(),
    );
    assert_interrupted("upsert_nodes", r, lat);
    let after = db.stats().unwrap();
    assert_eq!(format!("{before:?}"), format!("{after:?}"));
    assert!(db.get_node("bulk000000").unwrap().is_none());
    db.upsert_node(&NodeInput::new("next")).unwrap();
}

#[test]
fn open_is_bounded_in_time() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("legacy.db");
    common::build(&path, common::Fixture::LegacyV5, 300);
    let before = common::snapshot(
        &rusqlite::Connection::open(&path).unwrap(),
        &["nodes", "edges"],
    );
    let opts = resonance::OpenOptions {
        open_timeout_ms: 1,
        ..Default::default()
    };
    let t = Instant::now();
    let e = Database::open_with(&path, opts).unwrap_err();
    println!("open with a 1 ms limit failed after {:?}: {e}", t.elapsed());
    assert_eq!(e.kind(), ErrorKind::Interrupted, "{e}");
    assert!(e.to_string().contains("open_timeout_ms"), "{e}");
    let after = common::snapshot(
        &rusqlite::Connection::open(&path).unwrap(),
        &["nodes", "edges"],
    );
    assert!(before == after, "the stopped open changed the rows");
    // The default limit (60 s) lets it open and migrate.
    assert_eq!(
        resonance::OpenOptions::default().open_timeout_ms,
        resonance::connection::DEFAULT_OPEN_TIMEOUT_MS
    );
    let db = Database::open(&path).unwrap();
    assert_eq!(db.stats().unwrap().nodes, 300);
}

/// `link_candidates` options with a limit of 3.
fn top3() -> LinkCandidateOptions {
    let mut o = LinkCandidateOptions::default();
    o.limit = 3;
    o
}
