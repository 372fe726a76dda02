//! Reliability suite (the Rust-level part): SIGKILL during writes, checkpoints and adoption;
//! readers and writers in separate processes on one file; a disk that fills during an import; hostile
//! files; and a replay of the committed fuzz corpora.
//!
//! Short mode by default (minutes); `RESONANCE_SOAK=1` selects the long mode. Every test prints its
//! figures (`cargo test -p resonance --test reliability -- --nocapture`, or
//! `scripts/test-reliability.sh`).
//!
//! Child processes: the test binary re-executes itself running only `child_entry`, with
//! `RESONANCE_REL_CHILD` naming the role (helpers in `common/procs.rs`).

mod common;
#[path = "common/procs.rs"]
mod procs;

/// The fuzz targets' bodies (`fuzz/src/targets.rs`), replayed over the committed corpora.
#[path = "../../fuzz/src/targets.rs"]
mod fuzz_targets;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use procs::{ack, acks, child, integrity, run_with_timeout, soak, vector, Rng};
use resonance::{Database, EdgeInput, ListOptions, NodeInput, OpenOptions, SearchOptions};
use rusqlite::Connection;
use serde_json::{json, Value};

/// Vector dimension used throughout (the legacy fixtures use 8 as well).
const DIM: usize = 8;

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("child needs {name}"))
}

fn env_u64(name: &str) -> u64 {
    env(name).parse().unwrap()
}

fn count(c: &Connection, sql: &str) -> i64 {
    c.query_row(sql, [], |r| r.get(0)).unwrap()
}

// =====================================================================================================
// Child roles
// =====================================================================================================

/// The nodes of crash batch `b`: `u{b}-{i}` with `{"batch": b, "i": i}` and a vector each.
fn crash_batch(b: u64, n: usize) -> Vec<NodeInput> {
    (0..n)
        .map(|i| NodeInput {
            meta: Some(json!({"batch": b, "i": i}).to_string()),
            node_type: Some("crash".into()),
            embedding: Some(vector(b * 1000 + i as u64, DIM)),
            ..NodeInput::new(format!("u{b:06}-{i:03}"))
        })
        .collect()
}

/// The edges of crash batch `b`: type `b{b}`, `n` of them.
fn crash_edges(b: u64, n: usize) -> Vec<EdgeInput> {
    (0..n)
        .map(|i| EdgeInput {
            edge_type: Some(format!("b{b:06}")),
            confidence: Some(0.5),
            ..EdgeInput::new(format!("s{i:03}"), format!("t{:03}", (i * 7 + 3) % n))
        })
        .collect()
}

const CRASH_BATCH: usize = 200;

/// A writer that never stops on its own: the parent SIGKILLs it.
fn child_crash_writer(kind: &str) {
    let path = PathBuf::from(env("RESONANCE_REL_DB"));
    let log = PathBuf::from(env("RESONANCE_REL_ACK"));
    let start = env_u64("RESONANCE_REL_START");
    let db = Database::open(&path).unwrap_or_else(|e| panic!("open [{}]: {e}", e.code()));
    // Tell the parent adoption (if any) is over: it only uses this for its figures.
    println!("OPENED {}", procs::now_ms());
    for b in start..start + 1_000_000 {
        match kind {
            "upsert" | "migrate" => {
                db.upsert_nodes(&crash_batch(b, CRASH_BATCH)).unwrap();
            }
            "edges" => {
                db.add_edges(&crash_edges(b, CRASH_BATCH)).unwrap();
            }
            "checkpoint" => {
                db.upsert_nodes(&crash_batch(b, 50)).unwrap();
                ack(&log, b);
                db.checkpoint(resonance::CheckpointMode::Truncate).unwrap();
                continue;
            }
            other => panic!("unknown crash kind {other}"),
        }
        ack(&log, b);
    }
}

const CONC_BATCH: usize = 20;

/// Batch `b` of the concurrency writer, in one transaction: `CONC_BATCH` nodes tagged with the batch,
/// a chain of edges among them, and the counter node's meta set to `b`.
fn conc_batch(db: &Database, b: u64) -> resonance::Result<()> {
    db.transaction(|db| {
        let nodes: Vec<NodeInput> = (0..CONC_BATCH)
            .map(|i| NodeInput {
                meta: Some(json!({"batch": b}).to_string()),
                embedding: Some(vector(b * 100 + i as u64, DIM)),
                ..NodeInput::new(format!("c{b:06}-{i:02}"))
            })
            .collect();
        db.upsert_nodes(&nodes)?;
        let edges: Vec<EdgeInput> = (0..CONC_BATCH - 1)
            .map(|i| EdgeInput::new(format!("c{b:06}-{i:02}"), format!("c{b:06}-{:02}", i + 1)))
            .collect();
        db.add_edges(&edges)?;
        db.update_meta("counter", Some(&json!({"last": b}).to_string()))?;
        Ok(())
    })
}

fn batch_of(id: &str) -> Option<u64> {
    id.strip_prefix('c')
        .and_then(|r| r.split('-').next())
        .and_then(|b| b.parse().ok())
}

#[derive(Default)]
struct Tally {
    ok: u64,
    busy: u64,
    errors: u64,
    errors_seen: Vec<String>,
    checks: u64,
    violations: Vec<String>,
    torn_graph_loads: u64,
}

impl Tally {
    fn err(&mut self, what: &str, e: &resonance::Error) {
        if e.code() == "busy" {
            self.busy += 1;
        } else {
            self.errors += 1;
        }
        if self.errors_seen.len() < 5 {
            self.errors_seen.push(format!("{what}: [{}] {e}", e.code()));
        }
    }

    fn check(&mut self, ok: bool, msg: impl FnOnce() -> String) {
        self.checks += 1;
        if !ok && self.violations.len() < 10 {
            self.violations.push(msg());
        }
    }

    fn line(&self, who: &str) -> String {
        json!({"who": who, "ok": self.ok, "busy": self.busy, "errors": self.errors, "errors_seen": self.errors_seen,
            "checks": self.checks, "violations": self.violations, "torn_graph_loads": self.torn_graph_loads})
        .to_string()
    }
}

fn child_conc_writer() {
    let path = PathBuf::from(env("RESONANCE_REL_DB"));
    let log = PathBuf::from(env("RESONANCE_REL_ACK"));
    let until = procs::now_ms() + u128::from(env_u64("RESONANCE_REL_MS"));
    let db = Database::open(&path).unwrap();
    let mut t = Tally::default();
    let mut b = 1;
    while procs::now_ms() < until {
        match conc_batch(&db, b) {
            Ok(()) => {
                ack(&log, b);
                t.ok += 1;
                b += 1;
            }
            Err(e) => t.err("batch", &e),
        }
        std::thread::sleep(Duration::from_millis(3));
    }
    db.close().unwrap();
    println!("TALLY {}", t.line("writer"));
}

/// Groups ids `c{b}-{i}` by batch and flags every batch that is not whole.
fn whole_batches<'a>(
    t: &mut Tally,
    what: &str,
    ids: impl IntoIterator<Item = &'a str>,
) -> BTreeMap<u64, usize> {
    let mut per: BTreeMap<u64, usize> = BTreeMap::new();
    for id in ids {
        if let Some(b) = batch_of(id) {
            *per.entry(b).or_default() += 1;
        }
    }
    for (b, n) in &per {
        t.check(*n == CONC_BATCH, || {
            format!("{what}: batch {b} half-applied ({n} of {CONC_BATCH} nodes)")
        });
    }
    per
}

/// A reader: `role` 0 = search, 1 = graph, 2 = get/list, 3 = a read-only handle doing all three.
fn child_conc_reader(role: u64) {
    let path = PathBuf::from(env("RESONANCE_REL_DB"));
    let until = procs::now_ms() + u128::from(env_u64("RESONANCE_REL_MS"));
    let db = Database::open_with(
        &path,
        OpenOptions {
            read_only: role == 3,
            ..Default::default()
        },
    )
    .unwrap();
    let mut t = Tally::default();
    let mut last_seen = 0u64;
    let mut iter = 0u64;
    while procs::now_ms() < until {
        iter += 1;
        // One SELECT: every batch whole, the counter equal to the newest batch, no gap before it.
        if role == 2 || role == 3 {
            match db.list_nodes(&ListOptions::default()) {
                Ok(nodes) => {
                    t.ok += 1;
                    let per =
                        whole_batches(&mut t, "list_nodes", nodes.iter().map(|n| n.id.as_str()));
                    let counter = nodes
                        .iter()
                        .find(|n| n.id == "counter")
                        .and_then(|n| n.meta.as_deref())
                        .and_then(|m| serde_json::from_str::<Value>(m).ok())
                        .and_then(|v| v["last"].as_u64());
                    let newest = per.keys().next_back().copied().unwrap_or(0);
                    t.check(counter == Some(newest), || {
                        format!("list_nodes: counter {counter:?} but newest batch {newest}")
                    });
                    t.check(per.len() as u64 == newest, || {
                        format!("list_nodes: {} batches up to {newest} (a gap)", per.len())
                    });
                    t.check(newest >= last_seen, || {
                        format!("list_nodes: went back from batch {last_seen} to {newest}")
                    });
                    last_seen = last_seen.max(newest);
                }
                Err(e) => t.err("list_nodes", &e),
            }
            // Separate calls: once the counter says L, every node of batch L is readable.
            match db.get_node("counter") {
                Ok(Some(n)) => {
                    t.ok += 1;
                    let l = n
                        .meta
                        .as_deref()
                        .and_then(|m| serde_json::from_str::<Value>(m).ok())
                        .and_then(|v| v["last"].as_u64())
                        .unwrap_or(0);
                    if l > 0 {
                        for i in [0, CONC_BATCH / 2, CONC_BATCH - 1] {
                            match db.get_node(&format!("c{l:06}-{i:02}")) {
                                Ok(x) => t.check(x.is_some(), || {
                                    format!(
                                        "get_node: counter says {l} but node {i} of it is missing"
                                    )
                                }),
                                Err(e) => t.err("get_node", &e),
                            }
                        }
                    }
                }
                Ok(None) => t.check(false, || "the counter node is missing".into()),
                Err(e) => t.err("get_node", &e),
            }
        }
        // The cached matrix: every batch whole.
        if role == 0 || role == 3 {
            let opts = SearchOptions {
                k: 1_000_000,
                min_score: Some(-2.0),
                ..Default::default()
            };
            match db.search(&[1.0; DIM], &opts) {
                Ok(h) => {
                    t.ok += 1;
                    whole_batches(&mut t, "search", h.iter().map(|h| h.id.as_str()));
                }
                Err(e) => t.err("search", &e),
            }
            match db.search_like("anchor", &SearchOptions::default()) {
                Ok(h) => {
                    t.ok += 1;
                    t.check(h.len() <= 10, || "search_like returned more than k".into());
                }
                Err(e) => t.err("search_like", &e),
            }
        }
        // The graph snapshot: whole batches, exactly their edges, neighbours of the newest batch.
        if role == 1 || role == 3 {
            match db.graph() {
                Ok(g) => {
                    t.ok += 1;
                    let per =
                        whole_batches(&mut t, "graph", g.node_ids().iter().map(String::as_str));
                    let want = per.len() * (CONC_BATCH - 1);
                    t.check(g.edge_count() == want, || {
                        format!(
                            "graph: {} edges for {} whole batches (want {want})",
                            g.edge_count(),
                            per.len()
                        )
                    });
                    // The file never holds a dangling edge: a skipped one means the snapshot mixed
                    // two database states (see `graph_snapshot_is_one_read_transaction`).
                    if g.skipped_edges() > 0 {
                        t.torn_graph_loads += 1;
                    }
                    t.check(g.skipped_edges() == 0, || {
                        format!(
                            "graph: {} edges skipped as dangling (a torn snapshot)",
                            g.skipped_edges()
                        )
                    });
                    if let Some(b) = per.keys().next_back() {
                        match db.neighbors(&format!("c{b:06}-00")) {
                            Ok(n) => t.check(n == vec![format!("c{b:06}-01")], || {
                                format!("neighbors of batch {b}: {n:?}")
                            }),
                            Err(e) => t.err("neighbors", &e),
                        }
                    }
                }
                Err(e) => t.err("graph", &e),
            }
            if iter % 4 == 1 {
                match db.pagerank(&Default::default()) {
                    Ok(pr) => {
                        t.ok += 1;
                        whole_batches(&mut t, "pagerank", pr.iter().map(|p| p.id.as_str()));
                        let sum: f64 = pr.iter().map(|p| p.score).sum();
                        t.check((sum - 1.0).abs() < 1e-3, || {
                            format!("pagerank sums to {sum}")
                        });
                    }
                    Err(e) => t.err("pagerank", &e),
                }
            }
        }
    }
    let _ = db.close();
    println!("TALLY {}", t.line(&format!("reader{role}")));
}

/// A read-then-write writer: `n` transactions each reading the tally node's count and writing it
/// back incremented, plus one node of its own.
fn child_rmw_writer() {
    let path = PathBuf::from(env("RESONANCE_REL_DB"));
    let me = env_u64("RESONANCE_REL_ME");
    let n = env_u64("RESONANCE_REL_N");
    let start_at: u128 = env("RESONANCE_REL_START_AT").parse().unwrap();
    let db = Database::open(&path).unwrap();
    while procs::now_ms() < start_at {
        std::thread::sleep(Duration::from_millis(1));
    }
    let mut t = Tally::default();
    for k in 0..n {
        let r = db.transaction(|db| {
            let node = db.get_node("tally")?.expect("tally node");
            let meta: Value = serde_json::from_str(node.meta.as_deref().unwrap()).unwrap();
            let c = meta["count"].as_u64().unwrap();
            db.update_meta("tally", Some(&json!({"count": c + 1}).to_string()))?;
            db.upsert_node(&NodeInput {
                meta: Some(json!({"seen": c}).to_string()),
                ..NodeInput::new(format!("w{me}-{k:05}"))
            })?;
            Ok(())
        });
        match r {
            Ok(()) => t.ok += 1,
            Err(e) => t.err("rmw", &e),
        }
    }
    db.close().unwrap();
    println!("TALLY {}", t.line(&format!("rmw{me}")));
}

/// Adds (node, edge) pairs in single transactions as fast as it can until killed.
fn child_pair_writer() {
    let path = PathBuf::from(env("RESONANCE_REL_DB"));
    let db = Database::open(&path).unwrap();
    println!("OPENED");
    for k in 0u64.. {
        db.transaction(|db| {
            db.upsert_node(&NodeInput::new(format!("p{k:07}")))?;
            db.add_edge(&EdgeInput::new(format!("p{k:07}"), format!("p{k:07}")))?;
            Ok(())
        })
        .unwrap();
    }
}

/// Opens a hostile file and tries every kind of call; prints one JSON line of outcomes.
fn child_hostile() {
    let path = PathBuf::from(env("RESONANCE_REL_DB"));
    let mut out = serde_json::Map::new();
    // Errors of a kind outside ALLOWED are also printed with their message (on stderr).
    let code = |r: Result<(), resonance::Error>| match r {
        Ok(()) => "ok".to_string(),
        Err(e) => {
            if !ALLOWED.contains(&e.code()) {
                eprintln!("HOSTILE-ERROR [{}] {e}", e.code());
            }
            e.code().to_string()
        }
    };
    match Database::open(&path) {
        Err(e) => {
            out.insert("open".into(), json!(e.code()));
        }
        Ok(db) => {
            out.insert("open".into(), json!("ok"));
            match db.health() {
                Ok(h) => {
                    out.insert("health".into(), json!("ok"));
                    out.insert("quick_check".into(), json!(h.quick_check));
                    out.insert("problems".into(), json!(h.problems()));
                }
                Err(e) => {
                    out.insert("health".into(), json!(e.code()));
                }
            }
            let opts = SearchOptions {
                k: 5,
                ..Default::default()
            };
            out.insert(
                "search".into(),
                json!(code(db.search(&[1.0; DIM], &opts).map(|_| ()))),
            );
            out.insert(
                "get_node".into(),
                json!(code(db.get_node_with("h-0001", true).map(|_| ()))),
            );
            out.insert(
                "list_nodes".into(),
                json!(code(
                    db.list_nodes(&ListOptions {
                        with_embeddings: true,
                        ..Default::default()
                    })
                    .map(|_| ())
                )),
            );
            out.insert(
                "neighbors".into(),
                json!(code(db.neighbors("h-0001").map(|_| ()))),
            );
            out.insert(
                "pagerank".into(),
                json!(code(db.pagerank(&Default::default()).map(|_| ()))),
            );
            out.insert("stats".into(), json!(code(db.stats().map(|_| ()))));
            out.insert(
                "write".into(),
                json!(code(db.upsert_node(&NodeInput::new("h-new")))),
            );
            out.insert("close".into(), json!(code(db.close())));
        }
    }
    println!("HOSTILE {}", Value::Object(out));
}

/// Child-process entry: does what `RESONANCE_REL_CHILD` says, then exits (a no-op test otherwise).
#[test]
fn child_entry() {
    let Ok(role) = std::env::var("RESONANCE_REL_CHILD") else {
        return;
    };
    match role.as_str() {
        "crash_upsert" => child_crash_writer("upsert"),
        "crash_edges" => child_crash_writer("edges"),
        "crash_checkpoint" => child_crash_writer("checkpoint"),
        "crash_migrate" => child_crash_writer("migrate"),
        "conc_writer" => child_conc_writer(),
        "conc_reader" => child_conc_reader(env_u64("RESONANCE_REL_ROLE")),
        "rmw_writer" => child_rmw_writer(),
        "pair_writer" => child_pair_writer(),
        "hostile" => child_hostile(),
        other => panic!("unknown child role {other}"),
    }
    std::process::exit(0);
}

fn tallies(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .filter_map(|l| l.find("TALLY ").map(|i| &l[i + 6..]))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

// =====================================================================================================
// 1. Crash: SIGKILL inside batch upserts, edge writes, checkpoints and adoption
// =====================================================================================================

/// Node batches present in the file: batch → (nodes, vectors, history rows).
fn node_batches(c: &Connection) -> BTreeMap<u64, (i64, i64, i64)> {
    let mut out = BTreeMap::new();
    let mut st = c
        .prepare(
            "SELECT CAST(json_extract(meta, '$.batch') AS INTEGER), count(*), count(embedding) \
             FROM nodes WHERE id LIKE 'u%' GROUP BY 1",
        )
        .unwrap();
    for r in st
        .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
    {
        let (b, n, v) = r.unwrap();
        out.insert(b as u64, (n, v, 0));
    }
    let mut st = c
        .prepare(
            "SELECT CAST(substr(entity_id, 2, 6) AS INTEGER), count(*) FROM history \
             WHERE entity_type = 'node' AND entity_id LIKE 'u%' GROUP BY 1",
        )
        .unwrap();
    for r in st
        .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))
        .unwrap()
    {
        let (b, h) = r.unwrap();
        out.entry(b as u64).or_insert((0, 0, 0)).2 = h;
    }
    out
}

/// Edge batches present in the file: batch → (edges, history rows).
fn edge_batches(c: &Connection) -> BTreeMap<u64, (i64, i64)> {
    let mut out = BTreeMap::new();
    let mut st = c
        .prepare("SELECT CAST(substr(type, 2) AS INTEGER), count(*) FROM edges WHERE type LIKE 'b%' GROUP BY 1")
        .unwrap();
    for r in st
        .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))
        .unwrap()
    {
        let (b, n) = r.unwrap();
        out.insert(b as u64, (n, 0));
    }
    let mut st = c
        .prepare(
            "SELECT CAST(substr(entity_id, instr(entity_id, '|b') + 2, 6) AS INTEGER), count(*) FROM history \
             WHERE entity_type = 'edge' AND entity_id LIKE 's%|b%' GROUP BY 1",
        )
        .unwrap();
    for r in st
        .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))
        .unwrap()
    {
        let (b, h) = r.unwrap();
        out.entry(b as u64).or_insert((0, 0)).1 = h;
    }
    out
}

fn legacy_template(dir: &Path) -> PathBuf {
    let template = dir.join("legacy-template.db");
    common::build(&template, common::Fixture::LegacyV8, 10);
    let c = Connection::open(&template).unwrap();
    c.execute_batch("BEGIN").unwrap();
    for i in 0..4000 {
        c.execute(
            "INSERT INTO nodes (id, type, title, embedding, meta) VALUES (?1, 'n', 't', ?2, '{}')",
            (format!("big-{i:06}"), common::blob(i, DIM)),
        )
        .unwrap();
        c.execute(
            "INSERT INTO edges (source, target, type) VALUES (?1, 'node-0001', 'x')",
            [format!("big-{i:06}")],
        )
        .unwrap();
    }
    c.execute_batch("COMMIT").unwrap();
    template
}

#[test]
fn crash_sigkill_during_writes_checkpoints_and_adoption() {
    let kills_per_kind = if soak() { 25 } else { 5 };
    let dir = tempfile::tempdir().unwrap();
    let template = legacy_template(dir.path());
    let legacy_nodes = count(
        &Connection::open(&template).unwrap(),
        "SELECT count(*) FROM nodes",
    );
    // How long one adoption takes here, to spread the migration kills over it.
    let adopt_ms = {
        let p = dir.path().join("probe/resonance.db");
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::copy(&template, &p).unwrap();
        let t = Instant::now();
        Database::open(&p).unwrap().close().unwrap();
        t.elapsed().as_millis() as u64
    };
    let mut rng = Rng::new(8);
    let mut kills = 0;
    let mut batches_checked = 0u64;
    let mut unacked_committed = 0;
    let mut adoption = (0, 0); // (left old, left new)
    for kind in ["upsert", "edges", "checkpoint", "migrate"] {
        let db_dir = dir.path().join(kind);
        std::fs::create_dir_all(&db_dir).unwrap();
        let path = db_dir.join("resonance.db");
        let log = db_dir.join("acks.log");
        let mut unacked = BTreeSet::new();
        if kind != "migrate" {
            Database::open(&path).unwrap().close().unwrap();
        }
        for round in 0..kills_per_kind {
            if kind == "migrate" {
                // A fresh legacy file each round: the kill lands in the backup, the rebuild, or the
                // writes right after adoption.
                for f in [
                    "resonance.db",
                    "resonance.db-wal",
                    "resonance.db-shm",
                    "acks.log",
                ] {
                    let _ = std::fs::remove_file(db_dir.join(f));
                }
                let _ = std::fs::remove_dir_all(db_dir.join("backups"));
                std::fs::copy(&template, &path).unwrap();
            }
            let start = (round as u64 + 1) * 10_000;
            let mut ch = procs::spawn_piped(child(
                &format!("crash_{kind}"),
                &[
                    ("RESONANCE_REL_DB", path.display().to_string()),
                    ("RESONANCE_REL_ACK", log.display().to_string()),
                    ("RESONANCE_REL_START", start.to_string()),
                ],
            ));
            let delay = if kind == "migrate" {
                rng.range(5, adopt_ms + adopt_ms / 2 + 50)
            } else {
                rng.range(80, 700)
            };
            std::thread::sleep(Duration::from_millis(delay));
            if let Some(st) = ch.try_wait().unwrap() {
                let err = std::io::read_to_string(ch.stderr.take().unwrap()).unwrap();
                panic!("{kind} round {round}: the writer died before the kill ({st}): {err}");
            }
            ch.kill().unwrap(); // SIGKILL
            ch.wait().unwrap();
            kills += 1;

            let ic = integrity(&path);
            assert_eq!(
                ic, "ok",
                "{kind} round {round}: integrity_check after SIGKILL"
            );
            let acked: BTreeSet<u64> = acks(&log).into_iter().collect();
            let c = Connection::open(&path).unwrap();
            let present: BTreeSet<u64> = if kind == "edges" {
                let eb = edge_batches(&c);
                for (b, (n, h)) in &eb {
                    assert_eq!(
                        (*n, *h),
                        (CRASH_BATCH as i64, CRASH_BATCH as i64),
                        "edges round {round}: batch {b} is partial (edges, history rows)"
                    );
                }
                eb.keys().copied().collect()
            } else {
                let want = if kind == "checkpoint" {
                    50
                } else {
                    CRASH_BATCH as i64
                };
                let nb = node_batches(&c);
                for (b, (n, v, h)) in &nb {
                    assert_eq!(
                        (*n, *v, *h),
                        (want, want, want),
                        "{kind} round {round}: batch {b} is partial (nodes, vectors, history rows)"
                    );
                }
                nb.keys().copied().collect()
            };
            for b in &acked {
                assert!(
                    present.contains(b),
                    "{kind} round {round}: acknowledged batch {b} lost"
                );
            }
            let extra: Vec<u64> = present
                .difference(&acked)
                .filter(|b| !unacked.contains(*b))
                .copied()
                .collect();
            // Only the batch whose commit returned but whose ack was not yet fsynced may be extra.
            assert!(
                extra.len() <= 1 && extra.iter().all(|b| *b >= start),
                "{kind} round {round}: committed but never acknowledged: {extra:?}"
            );
            unacked_committed += extra.len();
            unacked.extend(extra);
            batches_checked += present.len() as u64;
            if kind == "migrate" {
                match resonance::schema::detect_shape(&c).unwrap() {
                    resonance::schema::Shape::Legacy { version: 8, .. } => {
                        adoption.0 += 1;
                        assert!(
                            present.is_empty(),
                            "migrate round {round}: writes before adoption"
                        );
                    }
                    resonance::schema::Shape::Drizzle { steps: 3, .. } => adoption.1 += 1,
                    other => panic!("migrate round {round}: in-between shape {other:?}"),
                }
                let legacy_left = count(&c, "SELECT count(*) FROM nodes WHERE id NOT LIKE 'u%'");
                assert_eq!(
                    legacy_left, legacy_nodes,
                    "migrate round {round}: a legacy row lost"
                );
            }
        }
        // The engine reopens the file after the last kill and finds it healthy.
        let db = Database::open(&path).unwrap();
        let h = db.health().unwrap();
        assert_eq!(h.quick_check, "ok", "{kind}: health after the kills");
        db.close().unwrap();
    }
    println!(
        "crash: {kills} SIGKILLs survived ({kills_per_kind} each in upsert_nodes x{CRASH_BATCH}, add_edges x{CRASH_BATCH}, \
         checkpoint(truncate), adoption+writes); {batches_checked} batch checks all-or-none; {unacked_committed} \
         committed-but-unacknowledged batches (allowed); adoption kills left {} old / {} new (one adoption {adopt_ms} ms)",
        adoption.0, adoption.1
    );
}

// =====================================================================================================
// 2. Concurrency across processes
// =====================================================================================================

#[test]
fn concurrency_four_readers_one_writer() {
    let secs: u64 = if soak() { 60 } else { 10 };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("resonance.db");
    let log = dir.path().join("acks.log");
    {
        let db = Database::open(&path).unwrap();
        db.upsert_node(&NodeInput {
            meta: Some(json!({"last": 0}).to_string()),
            ..NodeInput::new("counter")
        })
        .unwrap();
        db.upsert_node(&NodeInput {
            embedding: Some(vector(7, DIM)),
            ..NodeInput::new("anchor")
        })
        .unwrap();
        db.close().unwrap();
    }
    let ms = (secs * 1000).to_string();
    let common_env = |extra: Vec<(&'static str, String)>| {
        let mut v = vec![
            ("RESONANCE_REL_DB", path.display().to_string()),
            ("RESONANCE_REL_ACK", log.display().to_string()),
            ("RESONANCE_REL_MS", ms.clone()),
        ];
        v.extend(extra);
        v
    };
    let t0 = Instant::now();
    let mut handles = Vec::new();
    for role in 0..4u64 {
        let cmd = child(
            "conc_reader",
            &common_env(vec![("RESONANCE_REL_ROLE", role.to_string())]),
        );
        handles.push(std::thread::spawn(move || {
            run_with_timeout(cmd, Duration::from_secs(secs + 120))
        }));
    }
    let cmd = child("conc_writer", &common_env(vec![]));
    handles.push(std::thread::spawn(move || {
        run_with_timeout(cmd, Duration::from_secs(secs + 120))
    }));
    let mut all = Vec::new();
    for h in handles {
        let o = h.join().unwrap();
        assert!(
            o.status.is_some_and(|s| s.success()),
            "a child failed or hung ({:?}): {}\n{}",
            o.status,
            o.stdout,
            o.stderr
        );
        let t = tallies(&o.stdout);
        assert_eq!(t.len(), 1, "{}", o.stdout);
        all.push(t[0].clone());
    }
    let wall = t0.elapsed().as_secs_f64();
    let mut checks = 0;
    let mut reads = 0;
    let mut torn = 0;
    for t in &all {
        assert_eq!(t["busy"], 0, "busy errors surfaced: {t}");
        assert_eq!(t["errors"], 0, "errors: {t}");
        assert_eq!(
            t["violations"].as_array().unwrap().len(),
            0,
            "violations: {t}"
        );
        checks += t["checks"].as_u64().unwrap();
        if t["who"] != "writer" {
            reads += t["ok"].as_u64().unwrap();
        }
        torn += t["torn_graph_loads"].as_u64().unwrap();
    }
    // Zero lost writes: every acknowledged batch whole, the counter at the last one, nothing else.
    let acked = acks(&log);
    assert!(
        acked.len() > 10,
        "the writer made too little progress: {}",
        acked.len()
    );
    let c = Connection::open(&path).unwrap();
    let last = *acked.last().unwrap();
    assert_eq!(acked, (1..=last).collect::<Vec<_>>());
    let per_batch: BTreeMap<i64, i64> = c
        .prepare("SELECT CAST(substr(id, 2, 6) AS INTEGER), count(*) FROM nodes WHERE id GLOB 'c[0-9]*' GROUP BY 1")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    assert_eq!(per_batch.len() as u64, last, "batches in the file");
    assert!(per_batch.values().all(|n| *n == CONC_BATCH as i64));
    assert_eq!(
        count(&c, "SELECT count(*) FROM edges WHERE source LIKE 'c%'"),
        (last as i64) * (CONC_BATCH as i64 - 1)
    );
    let counter: String = c
        .query_row("SELECT meta FROM nodes WHERE id = 'counter'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&counter).unwrap()["last"],
        last
    );
    assert_eq!(integrity(&path), "ok");
    println!(
        "concurrency: 5 processes (4 readers + 1 writer) x {secs} s (wall {wall:.1} s): {last} batches x {CONC_BATCH} nodes \
         acknowledged and all present, {reads} reads, {checks} consistency checks, 0 busy, 0 half-applied batches \
         ({torn} torn graph snapshots)"
    );
}

#[test]
fn concurrency_read_then_write_writers_exact_counts() {
    let (procs_n, per): (u64, u64) = if soak() { (4, 1000) } else { (3, 150) };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("resonance.db");
    {
        let db = Database::open(&path).unwrap();
        db.upsert_node(&NodeInput {
            meta: Some(json!({"count": 0}).to_string()),
            ..NodeInput::new("tally")
        })
        .unwrap();
        db.close().unwrap();
    }
    let start_at = procs::now_ms() + 400;
    let t0 = Instant::now();
    let handles: Vec<_> = (0..procs_n)
        .map(|me| {
            let cmd = child(
                "rmw_writer",
                &[
                    ("RESONANCE_REL_DB", path.display().to_string()),
                    ("RESONANCE_REL_ME", me.to_string()),
                    ("RESONANCE_REL_N", per.to_string()),
                    ("RESONANCE_REL_START_AT", start_at.to_string()),
                ],
            );
            std::thread::spawn(move || run_with_timeout(cmd, Duration::from_secs(300)))
        })
        .collect();
    for h in handles {
        let o = h.join().unwrap();
        assert!(
            o.status.is_some_and(|s| s.success()),
            "{:?}: {}\n{}",
            o.status,
            o.stdout,
            o.stderr
        );
        let t = &tallies(&o.stdout)[0];
        assert_eq!(t["busy"], 0, "{t}");
        assert_eq!(t["errors"], 0, "{t}");
        assert_eq!(t["ok"], per, "{t}");
    }
    let wall = t0.elapsed().as_secs_f64();
    let c = Connection::open(&path).unwrap();
    let meta: String = c
        .query_row("SELECT meta FROM nodes WHERE id = 'tally'", [], |r| {
            r.get(0)
        })
        .unwrap();
    let total = procs_n * per;
    assert_eq!(
        serde_json::from_str::<Value>(&meta).unwrap()["count"],
        total,
        "lost updates"
    );
    assert_eq!(
        count(&c, "SELECT count(*) FROM nodes WHERE id LIKE 'w%'"),
        total as i64
    );
    // Each transaction saw a distinct count: the increments were serialised.
    assert_eq!(
        count(
            &c,
            "SELECT count(DISTINCT json_extract(meta, '$.seen')) FROM nodes WHERE id LIKE 'w%'"
        ),
        total as i64
    );
    assert_eq!(
        count(
            &c,
            "SELECT count(*) FROM history WHERE entity_id = 'tally' AND action = 'update_meta'"
        ),
        total as i64
    );
    println!(
        "concurrency: {procs_n} writer processes x {per} read-then-write transactions ({wall:.1} s): final count {total} exact, \
         {total} distinct reads, 0 busy"
    );
}

/// A core bug this pins: `GraphSnapshot::load` read `nodes` and `edges`
/// with two autocommit SELECTs, so a commit landing between them gave a snapshot whose edges name
/// nodes it does not hold (counted as dangling/skipped although the file has none). Fixed: the load
/// runs in one read transaction.
#[test]
fn graph_snapshot_is_one_read_transaction() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("resonance.db");
    Database::open(&path).unwrap().close().unwrap();
    {
        // Many nodes so that reading them takes long enough for commits to land meanwhile.
        let c = Connection::open(&path).unwrap();
        c.execute_batch("BEGIN").unwrap();
        for i in 0..100_000 {
            c.execute(
                "INSERT INTO nodes (id, domain, layer) VALUES (?1, 'knowledge', 'experience')",
                [format!("bulk-{i:06}")],
            )
            .unwrap();
        }
        c.execute_batch("COMMIT").unwrap();
    }
    let db = Database::open(&path).unwrap();
    let mut ch = procs::spawn_piped(child(
        "pair_writer",
        &[("RESONANCE_REL_DB", path.display().to_string())],
    ));
    std::thread::sleep(Duration::from_millis(300));
    let t = Instant::now();
    let mut loads = 0;
    let mut torn = 0;
    while t.elapsed() < Duration::from_secs(5) {
        let g = db.graph().unwrap();
        loads += 1;
        if g.skipped_edges() > 0 {
            torn += 1;
        }
    }
    ch.kill().unwrap();
    ch.wait().unwrap();
    let c = Connection::open(&path).unwrap();
    let dangling = count(
        &c,
        "SELECT count(*) FROM edges e WHERE NOT EXISTS (SELECT 1 FROM nodes n WHERE n.id = e.source)",
    );
    assert_eq!(dangling, 0, "the writer never writes a dangling edge");
    println!("graph snapshot: {loads} loads, {torn} saw edges without their nodes");
    assert_eq!(
        torn, 0,
        "{torn} of {loads} graph snapshots mixed two database states (edges committed after the node list was read)"
    );
}

/// Core bug found by the `ops` fuzz target (fixed in 0ef2406): a graph snapshot or a vector matrix loaded inside an
/// explicit transaction (so holding its uncommitted writes) stays cached after `rollback`, because
/// `Database::rollback` does not drop the caches and `PRAGMA data_version` does not move for the
/// handle's own connection. The handle then answers from rows that never existed.
#[test]
fn rollback_drops_caches_built_inside_the_transaction() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path().join("resonance.db")).unwrap();
    db.upsert_nodes(&[
        NodeInput {
            embedding: Some(vec![1.0, 0.0]),
            ..NodeInput::new("a")
        },
        NodeInput {
            embedding: Some(vec![0.0, 1.0]),
            ..NodeInput::new("b")
        },
    ])
    .unwrap();
    db.begin().unwrap();
    db.add_edge(&EdgeInput::new("a", "b")).unwrap();
    db.upsert_node(&NodeInput {
        embedding: Some(vec![1.0, 0.1]),
        ..NodeInput::new("ghost")
    })
    .unwrap();
    // Loaded inside the transaction: they include its writes.
    assert_eq!(db.neighbors("a").unwrap(), vec!["b".to_string()]);
    let inside = db.search(&[1.0, 0.0], &SearchOptions::default()).unwrap();
    assert!(inside.iter().any(|h| h.id == "ghost"), "{inside:?}");
    db.rollback().unwrap();
    assert!(
        db.get_node("ghost").unwrap().is_none(),
        "SQL sees the rollback"
    );
    let after = db.search(&[1.0, 0.0], &SearchOptions::default()).unwrap();
    let neighbors = db.neighbors("a").unwrap();
    let edges = db.graph_stats().unwrap().edges;
    assert!(
        after.iter().all(|h| h.id != "ghost") && neighbors.is_empty() && edges == 0,
        "after rollback the handle still answers from the rolled-back transaction: search {after:?}, \
         neighbors(a) {neighbors:?}, graph edges {edges}"
    );
}

// =====================================================================================================
// 3. Faults: the disk fills during an import
// =====================================================================================================

struct Tmpfs(PathBuf);

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

fn mount_tmpfs(dir: &Path, size: &str) -> Tmpfs {
    std::fs::create_dir_all(dir).unwrap();
    let out = Command::new("mount")
        .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
        .arg(dir)
        .output();
    match out {
        Ok(o) if o.status.success() => Tmpfs(dir.to_path_buf()),
        Ok(o) => panic!(
            "the disk-full test needs to mount a {size} tmpfs at {} (run as root on Linux): {}",
            dir.display(),
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(e) => panic!("the disk-full test needs `mount` (run as root on Linux): {e}"),
    }
}

fn import_batch(b: u64, n: usize, dim: usize) -> Vec<NodeInput> {
    (0..n)
        .map(|i| NodeInput {
            meta: Some(json!({"batch": b, "pad": "x".repeat(200)}).to_string()),
            title: Some(format!("imported node {b}/{i}")),
            embedding: Some(vector(b * 10_000 + i as u64, dim)),
            ..NodeInput::new(format!("i{b:04}-{i:04}"))
        })
        .collect()
}

#[test]
fn disk_full_import_is_io_and_all_or_nothing() {
    let rounds = if soak() { 5 } else { 2 };
    let dir = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    let mut imported_total = 0;
    let mut after_full = (0, 0);
    for round in 0..rounds {
        let mnt = dir.path().join(format!("mnt{round}"));
        let _m = mount_tmpfs(&mnt, "2m");
        let path = mnt.join("resonance.db");
        let db = Database::open(&path).unwrap();
        let dim = 64;
        let per = 300 + round * 100;
        let mut ok_batches = 0u64;
        let err = loop {
            assert!(ok_batches < 200, "the 2 MB disk never filled");
            // The last call is one transaction holding two upsert_nodes and edges: all or nothing.
            let r = if ok_batches % 2 == 1 {
                db.transaction(|db| {
                    db.upsert_nodes(&import_batch(ok_batches, per / 2, dim))?;
                    db.add_edges(&[EdgeInput::new(format!("i{ok_batches:04}-0000"), "anchor")])?;
                    let mut rest = import_batch(ok_batches, per, dim);
                    rest.drain(..per / 2);
                    db.upsert_nodes(&rest)?;
                    Ok(())
                })
            } else {
                db.upsert_nodes(&import_batch(ok_batches, per, dim))
                    .map(|_| ())
            };
            match r {
                Ok(()) => ok_batches += 1,
                Err(e) => break e,
            }
        };
        failures.push(format!("[{}] {err}", err.code()));
        assert_eq!(
            err.code(),
            "io",
            "disk full must be a typed io error (SQLITE_FULL / SQLITE_IOERR), got: {err}"
        );
        assert!(
            !db.in_transaction(),
            "the failed import left a transaction open"
        );
        // The same handle still answers, and sees only whole batches.
        let nodes = db.stats().unwrap().nodes;
        assert_eq!(
            nodes,
            ok_batches * per as u64,
            "round {round}: partial import visible"
        );
        let _ = db.close();
        // Reopen: integrity ok, every committed batch whole, the failed one absent.
        assert_eq!(integrity(&path), "ok", "round {round}");
        let db = Database::open(&path)
            .unwrap_or_else(|e| panic!("round {round}: reopen: [{}] {e}", e.code()));
        assert_eq!(db.stats().unwrap().nodes, ok_batches * per as u64);
        for b in 0..=ok_batches {
            let n = db
                .list_nodes(&ListOptions::default())
                .unwrap()
                .iter()
                .filter(|n| n.id.starts_with(&format!("i{b:04}-")))
                .count();
            let want = if b < ok_batches { per } else { 0 };
            assert_eq!(n, want, "round {round}: batch {b}");
        }
        assert_eq!(db.health().unwrap().quick_check, "ok");
        // A small write on the still-full disk: done, or the same typed io error — never corrupt.
        let _ = db.checkpoint(resonance::CheckpointMode::Truncate);
        match db.upsert_node(&NodeInput::new("after-full")) {
            Ok(()) => after_full.0 += 1,
            Err(e) => {
                assert_eq!(
                    e.code(),
                    "io",
                    "round {round}: a write on the full disk: {e}"
                );
                after_full.1 += 1;
            }
        }
        let _ = db.close();
        assert_eq!(
            integrity(&path),
            "ok",
            "round {round}: after the second write"
        );
        imported_total += ok_batches * per as u64;
    }
    println!(
        "disk full: {rounds} imports into a 2 MB tmpfs until full: {imported_total} nodes committed in whole batches, \
         the failing import rolled back each time ({}); a later small write: {} done, {} io again",
        failures.join(" | "),
        after_full.0,
        after_full.1
    );
}

/// A COMMIT that fails (the disk filled when the WAL frames were written) rolls the transaction back;
/// caches the transaction loaded (holding its uncommitted rows) must go with it, as on `rollback`.
#[test]
fn failed_commit_drops_caches_built_inside_the_transaction() {
    let dir = tempfile::tempdir().unwrap();
    let mnt = dir.path().join("mnt");
    let _m = mount_tmpfs(&mnt, "1m");
    let path = mnt.join("resonance.db");
    {
        let db = Database::open(&path).unwrap();
        db.upsert_node(&NodeInput {
            embedding: Some(vector(1, 64)),
            ..NodeInput::new("seed")
        })
        .unwrap();
        db.close().unwrap();
    }
    // A fresh handle: nothing cached before `begin`.
    let db = Database::open(&path).unwrap();
    let mut b = 0;
    let err = loop {
        assert!(b < 100, "the 1 MB disk never filled");
        db.begin().unwrap();
        db.upsert_nodes(&import_batch(b, 300, 64)).unwrap();
        db.add_edge(&EdgeInput::new(format!("i{b:04}-0000"), "seed"))
            .unwrap();
        // Loaded inside the transaction: they hold its rows.
        let q = vector(1, 64);
        let opts = SearchOptions {
            k: 1_000_000,
            min_score: Some(-2.0),
            ..Default::default()
        };
        assert!(db.search(&q, &opts).unwrap().len() > 1);
        assert!(db.graph_stats().unwrap().edges > 0);
        match db.commit() {
            Ok(()) => b += 1,
            Err(e) => break e,
        }
    };
    assert_eq!(err.code(), "io", "{err}");
    let ghost = format!("i{b:04}-0000");
    assert!(
        db.get_node(&ghost).unwrap().is_none(),
        "SQL: the failed commit left nothing"
    );
    let opts = SearchOptions {
        k: 1_000_000,
        min_score: Some(-2.0),
        ..Default::default()
    };
    let hits = db.search(&vector(1, 64), &opts).unwrap();
    let stale_hits = hits
        .iter()
        .filter(|h| h.id.starts_with(&format!("i{b:04}-")))
        .count();
    let edges = db.graph_stats().unwrap().edges;
    let _ = db.close();
    assert!(
        stale_hits == 0 && edges == b as usize,
        "after the failed commit ({err}) the handle still answers from it: {stale_hits} search hits of \
         the rolled-back batch, {edges} graph edges (want {b})"
    );
}

// =====================================================================================================
// 4. Hostile files
// =====================================================================================================

/// A healthy database to damage: 300 nodes with vectors, 300 edges, closed cleanly.
fn hostile_source(dir: &Path) -> PathBuf {
    let p = dir.join("source/resonance.db");
    let db = Database::open(&p).unwrap();
    let nodes: Vec<NodeInput> = (0..300)
        .map(|i| NodeInput {
            meta: Some(json!({"i": i}).to_string()),
            title: Some(format!("title {i}")),
            embedding: Some(vector(i, DIM)),
            ..NodeInput::new(format!("h-{i:04}"))
        })
        .collect();
    db.upsert_nodes(&nodes).unwrap();
    let edges: Vec<EdgeInput> = (0..300)
        .map(|i| EdgeInput::new(format!("h-{i:04}"), format!("h-{:04}", (i * 7 + 1) % 300)))
        .collect();
    db.add_edges(&edges).unwrap();
    db.close().unwrap();
    p
}

/// The same content, but with the last writes still in the WAL (copied while a connection held it).
fn hostile_source_with_wal(dir: &Path, src: &Path) -> (Vec<u8>, Vec<u8>) {
    let d = dir.join("walsrc");
    std::fs::create_dir_all(&d).unwrap();
    let p = d.join("resonance.db");
    std::fs::copy(src, &p).unwrap();
    let c = Connection::open(&p).unwrap();
    c.execute_batch("PRAGMA wal_autocheckpoint = 0;").unwrap();
    for i in 0..50 {
        c.execute(
            "INSERT INTO nodes (id, domain, layer, embedding) VALUES (?1, 'knowledge', 'experience', ?2)",
            (format!("h-w{i:03}"), resonance::vector::fafcas::encode(&vector(900 + i, DIM))),
        )
        .unwrap();
    }
    let db = std::fs::read(&p).unwrap();
    let wal = std::fs::read(resonance::connection::wal_path(&p)).unwrap();
    assert!(wal.len() > 32, "the WAL holds frames");
    drop(c);
    (db, wal)
}

struct Hostile {
    name: String,
    db: Vec<u8>,
    wal: Option<Vec<u8>>,
    shm: Option<Vec<u8>>,
    /// The damage is certain to be detectable (the file lost pages or is not SQLite).
    must_detect: bool,
}

/// The error kinds a damaged file may legitimately produce (plus not_found: a damaged id).
const ALLOWED: [&str; 7] = [
    "ok",
    "corrupt",
    "not_a_database",
    "not_found",
    "schema_unknown",
    "schema_too_new",
    "dimension_mismatch",
];

#[test]
fn hostile_files_give_typed_errors_never_a_crash_or_hang() {
    let seeds = if soak() { 48 } else { 8 };
    let dir = tempfile::tempdir().unwrap();
    let src = hostile_source(dir.path());
    let good = std::fs::read(&src).unwrap();
    let (wal_db, wal) = hostile_source_with_wal(dir.path(), &src);
    let page = 4096usize;
    let mut cases = Vec::new();
    let h = |name: String, db: Vec<u8>, must_detect: bool| Hostile {
        name,
        db,
        wal: None,
        shm: None,
        must_detect,
    };
    // Truncated files (a 0-byte file is a new database by design and is not listed).
    for len in [
        1,
        10,
        99,
        100,
        512,
        page,
        page + 17,
        2 * page,
        good.len() / 2,
        good.len() - page,
        good.len() - 1,
    ] {
        cases.push(h(
            format!("truncated to {len} of {} bytes", good.len()),
            good[..len].to_vec(),
            len < good.len() - 1,
        ));
    }
    // A random byte flipped in a page (page 1 included).
    let mut rng = Rng::new(0xB17F11);
    for seed in 0..seeds {
        let mut b = good.clone();
        let off = if seed % 4 == 0 {
            rng.range(0, page as u64) as usize
        } else {
            rng.range(page as u64, b.len() as u64) as usize
        };
        let x = 1 + (rng.next_u64() % 255) as u8;
        b[off] ^= x;
        cases.push(h(
            format!("byte {off} xor {x:#04x} (seed {seed})"),
            b,
            false,
        ));
    }
    // Several random bytes in one interior page.
    for seed in 0..seeds / 2 {
        let mut b = good.clone();
        let p = rng.range(1, (b.len() / page) as u64) as usize;
        for _ in 0..16 {
            let off = p * page + rng.range(0, page as u64) as usize;
            b[off] = rng.next_u64() as u8;
        }
        cases.push(h(
            format!("16 random bytes in page {} (seed {seed})", p + 1),
            b,
            false,
        ));
    }
    // WAL damage: garbage in place of the WAL, a valid header with garbage frames, a flipped frame byte.
    let mut garbage = rng.bytes(wal.len());
    cases.push(Hostile {
        wal: Some(garbage.clone()),
        ..h("garbage in place of the WAL".into(), wal_db.clone(), false)
    });
    garbage[..32].copy_from_slice(&wal[..32]);
    cases.push(Hostile {
        wal: Some(garbage),
        ..h(
            "valid WAL header, garbage frames".into(),
            wal_db.clone(),
            false,
        )
    });
    for seed in 0..3 {
        let mut w = wal.clone();
        let off = rng.range(32, w.len() as u64) as usize;
        w[off] ^= 0x5a;
        cases.push(Hostile {
            wal: Some(w),
            ..h(
                format!("WAL byte {off} flipped (seed {seed})"),
                wal_db.clone(),
                false,
            )
        });
    }
    cases.push(Hostile {
        wal: Some(wal[..wal.len() / 2].to_vec()),
        ..h("WAL truncated mid-frame".into(), wal_db.clone(), false)
    });
    // The -shm: zero-length, garbage.
    cases.push(Hostile {
        wal: Some(wal.clone()),
        shm: Some(Vec::new()),
        ..h("zero-length -shm".into(), wal_db.clone(), false)
    });
    cases.push(Hostile {
        wal: Some(wal.clone()),
        shm: Some(rng.bytes(32768)),
        ..h("garbage -shm".into(), wal_db.clone(), false)
    });
    // Not SQLite at all.
    cases.push(h(
        "a text file".into(),
        b"# notes\nthis is not a database\n".repeat(200),
        true,
    ));
    cases.push(h("random bytes".into(), rng.bytes(3 * page), true));
    let mut magic = b"SQLite format 3\0".to_vec();
    magic.resize(page, 0);
    cases.push(h("SQLite magic then zeros".into(), magic.clone(), true));
    magic[16..].copy_from_slice(&rng.bytes(page - 16));
    cases.push(h("SQLite magic then random bytes".into(), magic, true));
    cases.push(h(
        "a PNG".into(),
        [b"\x89PNG\r\n\x1a\n".to_vec(), rng.bytes(2000)].concat(),
        true,
    ));

    let mut detected = 0;
    let mut harmless = 0;
    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    let mut bad = Vec::new();
    let t0 = Instant::now();
    for (i, case) in cases.iter().enumerate() {
        let d = dir.path().join(format!("case{i}"));
        std::fs::create_dir_all(&d).unwrap();
        let p = d.join("resonance.db");
        std::fs::write(&p, &case.db).unwrap();
        if let Some(w) = &case.wal {
            std::fs::write(resonance::connection::wal_path(&p), w).unwrap();
        }
        if let Some(s) = &case.shm {
            std::fs::write(resonance::connection::shm_path(&p), s).unwrap();
        }
        let o = run_with_timeout(
            child("hostile", &[("RESONANCE_REL_DB", p.display().to_string())]),
            Duration::from_secs(30),
        );
        let Some(status) = o.status else {
            bad.push(format!("{}: HUNG (killed after 30 s)", case.name));
            continue;
        };
        if !status.success() {
            bad.push(format!(
                "{}: the process died ({status}): {}",
                case.name,
                o.stderr
                    .lines()
                    .rev()
                    .take(5)
                    .collect::<Vec<_>>()
                    .join(" / ")
            ));
            continue;
        }
        let Some(line) = o
            .stdout
            .lines()
            .find_map(|l| l.find("HOSTILE ").map(|i| &l[i + 8..]))
        else {
            bad.push(format!("{}: no report: {}", case.name, o.stdout));
            continue;
        };
        let r: Value = serde_json::from_str(line).unwrap();
        let mut found = false;
        for (op, v) in r.as_object().unwrap() {
            if matches!(op.as_str(), "quick_check" | "problems") {
                continue;
            }
            let k = v.as_str().unwrap().to_string();
            if !ALLOWED.contains(&k.as_str()) {
                bad.push(format!(
                    "{}: {op} returned {k} (want corrupt / not_a_database): {line} {}",
                    case.name,
                    o.stderr
                        .lines()
                        .filter(|l| l.contains("HOSTILE-ERROR"))
                        .collect::<Vec<_>>()
                        .join(" / ")
                ));
            }
            if matches!(k.as_str(), "corrupt" | "not_a_database") {
                found = true;
            }
            *kinds.entry(k).or_default() += 1;
        }
        let qc = r["quick_check"].as_str().unwrap_or("ok");
        let problems = r["problems"].as_array().map_or(0, Vec::len);
        if qc != "ok" || r.get("open").is_some_and(|o| o != "ok") {
            found = true;
        }
        if found {
            detected += 1;
        } else {
            harmless += 1;
            if case.must_detect {
                bad.push(format!(
                    "{}: damage not reported (health problems: {problems}): {line}",
                    case.name
                ));
            }
        }
    }
    println!(
        "hostile files: {} tried in child processes ({:.1} s), 0 crashes, 0 hangs; {detected} reported as corrupt / \
         not_a_database / failed quick_check, {harmless} opened without a detectable problem (damage in free space, \
         a value, or a WAL SQLite ignores); outcomes per call: {kinds:?}",
        cases.len(),
        t0.elapsed().as_secs_f64()
    );
    assert!(
        bad.is_empty(),
        "{} hostile-file failures:\n{}",
        bad.len(),
        bad.join("\n")
    );
}

/// Found by the hostile-file test in long mode: a text column holding invalid UTF-8 (a damaged page, or
/// a file written by another program) made `list_nodes` / `get_node` fail with the generic `sqlite`
/// kind. Fixed: values that cannot be read as the schema says are `corrupt`.
#[test]
fn invalid_utf8_text_is_a_typed_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("resonance.db");
    {
        let db = Database::open(&path).unwrap();
        db.upsert_nodes(&[
            NodeInput {
                title: Some("fine".into()),
                embedding: Some(vec![1.0, 0.0]),
                ..NodeInput::new("a")
            },
            NodeInput {
                title: Some("fine".into()),
                embedding: Some(vec![0.0, 1.0]),
                ..NodeInput::new("b")
            },
        ])
        .unwrap();
        db.close().unwrap();
    }
    // What a damaged page or another program can leave: bytes that are not UTF-8 in a text column.
    Connection::open(&path)
        .unwrap()
        .execute_batch("UPDATE nodes SET title = CAST(x'41ff42' AS TEXT), meta = CAST(x'7bff7d' AS TEXT) WHERE id = 'a'")
        .unwrap();
    let db = Database::open(&path).unwrap();
    let mut wrong = Vec::new();
    let mut check = |what: &str, r: resonance::Result<()>| {
        if let Err(e) = r {
            if e.code() != "corrupt" {
                wrong.push(format!("{what}: [{}] {e}", e.code()));
            }
        }
    };
    check("get_node", db.get_node("a").map(|_| ()));
    check(
        "list_nodes",
        db.list_nodes(&ListOptions::default()).map(|_| ()),
    );
    check(
        "search",
        db.search(&[1.0, 0.0], &SearchOptions::default())
            .map(|_| ()),
    );
    check("neighbors", db.neighbors("b").map(|_| ()));
    check("history", db.history("a").map(|_| ()));
    assert!(
        wrong.is_empty(),
        "want a value read lossily or `corrupt`, got: {wrong:?}"
    );
}

// =====================================================================================================
// 5. Fuzz corpora replay (stable Rust, no cargo-fuzz)
// =====================================================================================================

/// A fuzz target's body: one input, a panic on a finding.
type Target = fn(&[u8]);

#[test]
fn fuzz_corpora_replay() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus");
    let targets: [(&str, Target); 3] = [
        ("fafcas", fuzz_targets::fafcas),
        ("jsonl", fuzz_targets::jsonl),
        ("ops", fuzz_targets::ops),
    ];
    let mut figures = Vec::new();
    for (name, f) in targets {
        let d = root.join(name);
        let mut files: Vec<PathBuf> = std::fs::read_dir(&d)
            .unwrap_or_else(|e| panic!("{}: {e}", d.display()))
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        assert!(!files.is_empty(), "no corpus for {name}");
        let t = Instant::now();
        for p in &files {
            // (A fuzzer running on the corpus may remove a file meanwhile.)
            let Ok(data) = std::fs::read(p) else { continue };
            if let Err(panic) = std::panic::catch_unwind(|| f(&data)) {
                panic!(
                    "fuzz target {name} fails on {}: {:?}",
                    p.display(),
                    panic.downcast_ref::<String>()
                );
            }
        }
        figures.push(format!(
            "{name} {} inputs ({:.1} s)",
            files.len(),
            t.elapsed().as_secs_f64()
        ));
    }
    println!("fuzz corpora replayed: {}", figures.join(", "));
}

/// The other side of `rollback_drops_caches_built_inside_the_transaction`: inside an explicit
/// transaction, `search` and the graph see the transaction's own writes, like `get_node`, even when
/// their caches were loaded before `begin` (they used to answer from those stale caches).
#[test]
fn transaction_reads_its_own_writes_in_search_and_graph() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path().join("resonance.db")).unwrap();
    db.upsert_nodes(&[
        NodeInput {
            embedding: Some(vec![1.0, 0.0]),
            ..NodeInput::new("a")
        },
        NodeInput {
            embedding: Some(vec![0.0, 1.0]),
            ..NodeInput::new("b")
        },
    ])
    .unwrap();
    // Caches loaded before the transaction.
    assert!(db.neighbors("a").unwrap().is_empty());
    assert_eq!(
        db.search(&[1.0, 0.0], &SearchOptions::default())
            .unwrap()
            .len(),
        1
    );
    let (n, s, got) = db
        .transaction(|db| {
            db.add_edge(&EdgeInput::new("a", "b"))?;
            db.upsert_node(&NodeInput {
                embedding: Some(vec![1.0, 0.1]),
                ..NodeInput::new("c")
            })?;
            Ok((
                db.neighbors("a")?,
                db.search(&[1.0, 0.0], &SearchOptions::default())?,
                db.get_node("c")?.is_some(),
            ))
        })
        .unwrap();
    assert!(got, "get_node sees the transaction's write");
    assert!(
        n == vec!["b".to_string()] && s.iter().any(|h| h.id == "c"),
        "inside the transaction: neighbors(a) {n:?}, search {s:?} (its own edge and vector are missing)"
    );
}
