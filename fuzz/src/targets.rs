//! Fuzz target bodies: FAFCAS blob decoding + search, the JSONL importer, and an interpreter
//! of the conformance ops over `resonance::Database`.
//!
//! This file is compiled twice: by the cargo-fuzz crate in `fuzz/` (the `fuzz_target!`s call these
//! functions) and by `core/tests/reliability.rs` (`#[path]`-included), which replays every committed
//! corpus file through the same functions on stable Rust. It may therefore use only crates that both
//! have: `resonance`, `resonance-testkit` (the conformance-op interpreter, shared with the conformance
//! runner), `serde_json`, `tempfile` and std.
//!
//! Each function panics (a fuzz finding) when an invariant breaks: a panic inside the engine, an
//! `internal` error, an error of the wrong kind, a non-atomic import, a search result that is not the
//! exact top-k, or a handle whose caches disagree with a fresh handle on the same file.

use std::sync::Mutex;

use resonance::vector::fafcas;
use resonance::vector::matrix::{SearchParams, VectorMatrix};
use resonance::{Database, Error, ListOptions, OpenOptions, SearchOptions};
use resonance_testkit::{Interpreter, Mode};
use serde_json::{json, Map, Value};

/// The JSONL importer of the `resonance` command, compiled from its source (it is a private module
/// of the CLI binary, so it cannot be reached as a library). Its export half is not fuzzed: unused here.
#[path = "../../cli/src/jsonl.rs"]
#[allow(dead_code)]
mod jsonl_importer;

fn no_internal(e: &Error, what: &str) {
    assert_ne!(e.code(), "internal", "{what}: internal error: {e}");
}

// ---------------------------------------------------------------------------------------------------
// FAFCAS
// ---------------------------------------------------------------------------------------------------

/// `data[0]` picks the dimension (1..=16), `data[1]` k (0..=19) and a min_score, the rest is a FAFCAS
/// blob: decoded, round-tripped, split into rows, normalised into a matrix and searched; the hits are
/// checked against a brute-force scan.
pub fn fafcas(data: &[u8]) {
    if data.len() < 2 {
        return;
    }
    let dim = 1 + (data[0] % 16) as usize;
    let k = (data[1] % 20) as usize;
    let min_score = match data[1] / 20 {
        0..=5 => None,
        6..=8 => Some(-1.0f32),
        _ => Some(0.25f32),
    };
    let body = &data[2..];
    let v = match fafcas::decode(body) {
        Err(e) => {
            assert_eq!(e.code(), "invalid_vector", "{e}");
            assert!(
                !body.len().is_multiple_of(4),
                "a whole number of floats was refused"
            );
            let mut out = vec![0f32; body.len() / 4];
            assert!(!fafcas::decode_into(body, &mut out));
            return;
        }
        Ok(v) => v,
    };
    assert_eq!(v.len() * 4, body.len());
    assert_eq!(fafcas::encode(&v), body, "encode(decode(b)) != b");
    let mut again = vec![0f32; v.len()];
    assert!(fafcas::decode_into(body, &mut again));
    assert!(v
        .iter()
        .zip(&again)
        .all(|(a, b)| a.to_bits() == b.to_bits()));

    let mut m = VectorMatrix::new(dim);
    let mut rows: Vec<(String, Vec<f32>)> = Vec::new();
    for (i, row) in v.chunks_exact(dim).enumerate().take(512) {
        let id = format!("n{:03}", i % 300); // some ids repeat: upsert replaces in place
        match fafcas::validate_and_normalize(row) {
            Ok(unit) => {
                assert_eq!(unit.len(), dim);
                let n = fafcas::l2_norm(&unit);
                assert!((n - 1.0).abs() < 1e-3, "normalised norm {n}");
                let domain = if i.is_multiple_of(3) {
                    Some("d0")
                } else {
                    None
                };
                m.upsert(&id, &unit, domain, None).unwrap();
                rows.retain(|(r, _)| *r != id);
                rows.push((id, unit));
            }
            Err(e) => {
                assert_eq!(e.code(), "invalid_vector", "{e}");
                let bad = row.iter().any(|x| !x.is_finite()) || fafcas::l2_norm(row) <= 1e-6;
                assert!(bad, "a valid vector was refused: {row:?}");
                // The matrix refuses non-finite components too (a zero vector is accepted).
                if row.iter().any(|x| !x.is_finite()) {
                    assert_eq!(
                        m.upsert(&id, row, None, None).unwrap_err().code(),
                        "invalid_vector"
                    );
                }
            }
        }
    }
    assert_eq!(m.len(), rows.len());
    // A wrong-length query is a dimension mismatch, never a panic.
    let wrong = vec![1.0f32; dim + 1];
    assert_eq!(
        m.search(&wrong, &SearchParams::default())
            .unwrap_err()
            .code(),
        "dimension_mismatch"
    );
    let Some((first_id, query)) = rows.first().cloned() else {
        return;
    };
    let params = SearchParams {
        k,
        min_score,
        ..Default::default()
    };
    let hits = m.search(&query, &params).unwrap();
    check_topk(&rows, &query, &params, &hits, None);
    for threads in [Some(1), Some(2)] {
        let p = SearchParams {
            threads,
            ..params.clone()
        };
        let h = m.search(&query, &p).unwrap();
        assert_eq!(h.len(), hits.len());
        for (a, b) in h.iter().zip(&hits) {
            assert!((a.score - b.score).abs() <= 1e-4);
        }
    }
    let like = m.search_like(&first_id, &params).unwrap();
    check_topk(&rows, &query, &params, &like, Some(&first_id));
    // The batch path agrees with single searches.
    let second = rows
        .last()
        .map(|r| r.1.clone())
        .unwrap_or_else(|| query.clone());
    let mut qs = query.clone();
    qs.extend_from_slice(&second);
    let batch = m.search_batch(&qs, &params).unwrap();
    assert_eq!(batch.len(), 2);
    // Scores within rounding of the floor may fall either side of it in one kernel or the other:
    // compare the hits clearly above it.
    let floor = min_score.unwrap_or(0.0) + 1e-4;
    for (q, b) in [&query, &second].iter().zip(&batch) {
        let single = m.search(q, &params).unwrap();
        let strong = |h: &Vec<resonance::Hit>| -> Vec<f32> {
            h.iter().map(|x| x.score).filter(|s| *s >= floor).collect()
        };
        let (s1, s2) = (strong(&single), strong(b));
        assert_eq!(
            s1.len(),
            s2.len(),
            "batch and single search disagree: {single:?} vs {b:?}"
        );
        for (x, y) in s1.iter().zip(&s2) {
            assert!((x - y).abs() <= 1e-4, "{x} vs {y}");
        }
    }
    // A filter on a domain nobody has returns nothing.
    let none = m
        .search(
            &query,
            &SearchParams {
                domain: Some("nope".into()),
                ..params.clone()
            },
        )
        .unwrap();
    assert!(none.is_empty());
}

fn dot(a: &[f32], b: &[f32]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| f64::from(*x) * f64::from(*y))
        .sum()
}

/// `hits` is the exact top-k of `rows` for `q`: sorted, scores right, nothing better left out.
fn check_topk(
    rows: &[(String, Vec<f32>)],
    q: &[f32],
    p: &SearchParams,
    hits: &[resonance::Hit],
    exclude: Option<&str>,
) {
    const TOL: f64 = 1e-4;
    assert!(hits.len() <= p.k);
    for w in hits.windows(2) {
        assert!(
            w[0].score > w[1].score || (w[0].score == w[1].score && w[0].id < w[1].id),
            "hits not sorted: {w:?}"
        );
    }
    let passes = |s: f64| match p.min_score {
        None => s > TOL,
        Some(m) => s >= f64::from(m) + TOL,
    };
    let mut seen = std::collections::HashSet::new();
    for h in hits {
        assert!(seen.insert(h.id.clone()), "duplicate hit {}", h.id);
        assert_ne!(Some(h.id.as_str()), exclude, "excluded id returned");
        let row = rows
            .iter()
            .find(|r| r.0 == h.id)
            .unwrap_or_else(|| panic!("unknown id {}", h.id));
        let s = dot(&row.1, q);
        assert!(
            (f64::from(h.score) - s).abs() <= TOL,
            "score of {}: {} vs {s}",
            h.id,
            h.score
        );
        match p.min_score {
            None => assert!(h.score > 0.0),
            Some(m) => assert!(h.score >= m),
        }
    }
    let floor = if hits.len() == p.k {
        hits.last().map_or(f64::INFINITY, |h| f64::from(h.score))
    } else {
        f64::NEG_INFINITY
    };
    for (id, v) in rows {
        if Some(id.as_str()) == exclude || seen.contains(id) {
            continue;
        }
        let s = dot(v, q);
        assert!(
            !(passes(s) && s > floor + TOL),
            "{id} (score {s}) is missing from {hits:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------------------
// JSONL importer
// ---------------------------------------------------------------------------------------------------

struct ImportDb {
    _dir: tempfile::TempDir,
    db: Database,
    runs: usize,
}

static IMPORT_DB: Mutex<Option<ImportDb>> = Mutex::new(None);

type Fingerprint = (u64, u64, u64, u64, Option<usize>);

fn fingerprint(db: &Database) -> Fingerprint {
    let s = db.stats().expect("stats");
    (s.nodes, s.edges, s.vectors, s.history, s.dimension)
}

/// Every line through `parse_record`, then the whole input through `import` into a database that
/// persists across runs (recreated every 64 runs): an error leaves the database exactly as it was
/// (all-or-nothing), a success makes every imported node readable.
pub fn jsonl(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        for (i, line) in text.lines().enumerate() {
            if let Err(e) = jsonl_importer::parse_record(line, i + 1) {
                assert_eq!(e.code(), "invalid_argument", "{e}");
            }
        }
    }
    let mut guard = IMPORT_DB.lock().unwrap_or_else(|p| p.into_inner());
    if guard.as_ref().is_none_or(|d| d.runs >= 64) {
        *guard = None;
        let dir = tempfile::tempdir().expect("tempdir");
        let db = Database::open(dir.path().join("import.db")).expect("open");
        *guard = Some(ImportDb {
            _dir: dir,
            db,
            runs: 0,
        });
    }
    let state = guard.as_mut().unwrap();
    state.runs += 1;
    let db = &state.db;
    let before = fingerprint(db);
    let mut lines_seen = 0u64;
    match jsonl_importer::import(db, data, |_| lines_seen += 1) {
        Ok(written) => {
            let after = fingerprint(db);
            assert!(after.3 >= before.3, "history shrank");
            if written.nodes + written.edges > 0 {
                assert!(after.0 >= before.0);
            }
            if let Ok(text) = std::str::from_utf8(data) {
                for line in text.lines() {
                    if let Ok(jsonl_importer::Record::Node(n)) =
                        jsonl_importer::parse_record(line, 1)
                    {
                        assert!(
                            db.get_node(&n.id).expect("get_node").is_some(),
                            "imported node {:?} missing",
                            n.id
                        );
                    }
                }
            }
        }
        Err(e) => {
            no_internal(&e, "import");
            assert!(
                !db.in_transaction(),
                "a failed import left a transaction open"
            );
            assert_eq!(
                fingerprint(db),
                before,
                "a failed import ({e}) changed the database"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------------
// Conformance-op interpreter
// ---------------------------------------------------------------------------------------------------

const IDS: [&str; 8] = [
    "a",
    "b",
    "c",
    "d",
    "",
    "x'); DROP TABLE nodes;--",
    "Über/ñ",
    "e\u{0}f",
];
const TYPES: [&str; 4] = ["related_to", "links_to", "LINKS_TO", ""];
const FLOATS: [f64; 8] = [1.0, -1.0, 0.5, 0.0, 1e-9, 3.0, -0.25, 2.0];

struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn byte(&mut self) -> u8 {
        let b = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        b
    }
}

/// Turns fuzz bytes into conformance steps (`{"op", "args"}`). Input that is itself JSON (an array
/// of steps, or a case object with `steps`) is used as is, so conformance cases seed the corpus.
pub fn steps_from_bytes(data: &[u8]) -> Vec<Value> {
    if let Ok(v) = serde_json::from_slice::<Value>(data) {
        match v {
            Value::Array(a) => return a,
            Value::Object(mut o) => {
                if let Some(Value::Array(a)) = o.remove("steps") {
                    return a;
                }
            }
            _ => {}
        }
    }
    let mut cur = Cursor { data, pos: 0 };
    let mut steps = vec![json!({"op": "open"})];
    let vector = |c: u8, d: u8| -> Value {
        let dim = 2 + (d % 2) as usize;
        Value::Array(
            (0..dim)
                .map(|i| {
                    let x = c.rotate_left(3 * i as u32);
                    if x == 0xFF {
                        Value::Null // NaN once through the runner's float conversion
                    } else {
                        json!(FLOATS[(x % 8) as usize])
                    }
                })
                .collect(),
        )
    };
    let n_ids = IDS.len() as u8;
    while steps.len() <= 64 && cur.pos < data.len() {
        let b = cur.byte();
        let id1 = IDS[(cur.byte() % n_ids) as usize];
        let id2 = IDS[(cur.byte() % n_ids) as usize];
        let c = cur.byte();
        let d = cur.byte();
        let v = vector(c, d);
        let t = TYPES[(c % 4) as usize];
        let step = match b % 40 {
            0 => {
                json!({"op": "open", "args": {"read_only": c.is_multiple_of(7), "migrate": !c.is_multiple_of(5)}})
            }
            1 => json!({"op": "close"}),
            2 | 3 => {
                json!({"op": "upsert_node", "args": {"id": id1, "type": t, "domain": if c.is_multiple_of(2) {"knowledge"} else {"other"},
                "meta": if d.is_multiple_of(3) { json!({"k": c}) } else { Value::Null }, "embedding": if d.is_multiple_of(4) { Value::Null } else { v }}})
            }
            4 => {
                json!({"op": "upsert_nodes", "args": {"nodes": [{"id": id1, "embedding": v}, {"id": id2, "embedding": vector(d, c)}]}})
            }
            5 => {
                json!({"op": "get_node", "args": {"id": id1, "with_embedding": c.is_multiple_of(2)}})
            }
            6 => {
                json!({"op": "list_nodes", "args": {"limit": (c % 5) as u64, "offset": (d % 3) as u64}})
            }
            7 => json!({"op": "delete_node", "args": {"id": id1}}),
            8 | 9 => json!({"op": "add_edge", "args": {"source": id1, "target": id2, "type": t}}),
            10 => {
                json!({"op": "add_edges", "args": {"edges": [{"source": id1, "target": id2}, {"source": id2, "target": id1, "type": t}]}})
            }
            11 => {
                json!({"op": "upsert_edge", "args": {"source": id1, "target": id2, "type": t, "confidence": FLOATS[(c % 8) as usize]}})
            }
            12 => json!({"op": "delete_edge", "args": {"source": id1, "target": id2, "type": t}}),
            13 => {
                json!({"op": if c.is_multiple_of(2) {"edges_from"} else {"edges_to"}, "args": {"id": id1}})
            }
            14 => {
                json!({"op": "update_meta", "args": {"id": id1, "meta": if c.is_multiple_of(3) { json!("not json") } else { json!({"m": d}) }}})
            }
            15 => json!({"op": "history", "args": {"id": id1}}),
            16 => json!({"op": "stats"}),
            17 => json!({"op": "begin"}),
            18 => json!({"op": "commit"}),
            19 => json!({"op": "rollback"}),
            20 | 21 => json!({"op": "set_embedding", "args": {"id": id1, "vector": v}}),
            22 => json!({"op": "get_embedding", "args": {"id": id1}}),
            23 | 24 => json!({"op": "search", "args": {"vector": v, "k": (d % 6) as u64,
                "min_score": if c.is_multiple_of(3) { json!(-1.0) } else { Value::Null }, "domain": if c.is_multiple_of(5) { json!("knowledge") } else { Value::Null }}}),
            25 => json!({"op": "search_like", "args": {"id": id1, "k": (d % 6) as u64}}),
            26 => json!({"op": "search_batch", "args": {"vectors": [v, vector(d, c)], "k": 3}}),
            27 => json!({"op": "health"}),
            28 => {
                json!({"op": "checkpoint", "args": {"mode": (["passive", "full", "restart", "truncate", "bogus"][(c % 5) as usize])}})
            }
            29 => {
                json!({"op": (["neighbors", "successors", "predecessors", "degree"][(c % 4) as usize]), "args": {"id": id1}})
            }
            30 => json!({"op": "traverse", "args": {"start": id1, "max_depth": (c % 4) as u64}}),
            31 => json!({"op": "shortest_path", "args": {"source": id1, "target": id2}}),
            32 => json!({"op": "pagerank"}),
            33 => json!({"op": "betweenness", "args": {"normalized": c.is_multiple_of(2)}}),
            34 => json!({"op": "communities", "args": {"seed": c as u64}}),
            35 => json!({"op": "components"}),
            36 => json!({"op": "adamic_adar", "args": {"a": id1, "b": id2}}),
            37 => json!({"op": "link_candidates", "args": {"limit": (c % 5) as u64}}),
            38 => json!({"op": "pillars", "args": {"limit": (c % 5) as u64}}),
            _ => {
                json!({"op": if c.is_multiple_of(2) { "graph_stats" } else { "migrate" }, "args": {"dry_run": true}})
            }
        };
        steps.push(step);
    }
    steps
}

/// Invariants of one op's value that hold for any input.
fn check_value(op: &str, v: &Value) {
    match op {
        "health" => assert_eq!(
            v["quick_check"], "ok",
            "quick_check failed on a database only the engine wrote"
        ),
        "pagerank" => {
            if let Some(r) = v.as_object().filter(|r| !r.is_empty()) {
                let sum: f64 = r.values().filter_map(Value::as_f64).sum();
                assert!((sum - 1.0).abs() < 1e-3, "pagerank sums to {sum}");
            }
        }
        _ => {}
    }
}

/// What a handle answers about the whole database: compared between the fuzzed handle (with its
/// caches) and a fresh handle on the same file.
fn view(db: &Database) -> Option<Value> {
    let nodes = db.list_nodes(&ListOptions::default()).ok()?;
    let ids: Vec<&str> = nodes.iter().map(|n| n.id.as_str()).collect();
    let st = db.stats().ok()?;
    let g = db.graph_stats().ok()?;
    let mut searches = Vec::new();
    if let Some(dim) = st.dimension {
        for axis in 0..dim.min(3) {
            let mut q = vec![0.1f32; dim];
            q[axis] = 1.0;
            let opts = SearchOptions {
                k: 50,
                min_score: Some(-2.0),
                ..Default::default()
            };
            match db.search(&q, &opts) {
                Ok(h) => searches.push(
                    h.iter()
                        .map(|h| json!([h.id, (h.score * 1e4).round() / 1e4]))
                        .collect::<Vec<_>>(),
                ),
                Err(e) => searches.push(vec![json!(e.code())]),
            }
        }
    }
    Some(
        json!({"ids": ids, "nodes": st.nodes, "edges": st.edges, "vectors": st.vectors,
        "dimension": st.dimension, "graph": [g.nodes, g.edges, g.skipped_edges], "search": searches}),
    )
}

/// The bytes of a database just created by `Database::open` (made once per process).
fn fresh_database() -> &'static [u8] {
    static TEMPLATE: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("template.sqlite");
        Database::open(&p).expect("open").close().expect("close");
        std::fs::read(&p).expect("read template")
    })
}

/// Interprets the steps; no step may panic or fail with `internal`. At the end the handle's view of
/// the database (node ids, counts, graph, searches) must equal a fresh handle's, the file must pass
/// `integrity_check`, and reopening must work.
pub fn ops(data: &[u8]) {
    let steps = steps_from_bytes(data);
    let dir = tempfile::tempdir().expect("tempdir");
    let mut it = Interpreter::new(dir.path(), Mode::Fuzz);
    // Start from a copy of a freshly created database (creating one per input is most of the cost).
    std::fs::write(dir.path().join("db.sqlite"), fresh_database()).expect("template copy");
    let empty = Map::new();
    let trace = std::env::var_os("RESONANCE_FUZZ_TRACE").is_some();
    for step in steps.iter().take(200) {
        let Some(op) = step.get("op").and_then(Value::as_str) else {
            continue;
        };
        let args = step
            .get("args")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let r = it.run(op, args);
        if trace {
            eprintln!(
                "{step} -> {}",
                match &r {
                    Ok(v) => v.to_string(),
                    Err(e) => format!("[{}] {e}", e.code()),
                }
            );
        }
        match r {
            Err(e) => no_internal(&e, op),
            Ok(v) => check_value(op, &v),
        }
    }
    let Some(db) = it.take_db() else {
        return;
    };
    if db.is_closed() {
        return;
    }
    if db.in_transaction() {
        let _ = db.rollback();
    }
    let path = db.path().to_path_buf();
    let read_only = db.is_read_only();
    let mine = view(&db);
    let fresh = Database::open_with(
        &path,
        OpenOptions {
            read_only,
            ..Default::default()
        },
    )
    .expect("a second handle opens");
    let theirs = view(&fresh);
    assert_eq!(
        mine, theirs,
        "the fuzzed handle and a fresh handle disagree about the database"
    );
    let h = fresh.health().expect("health");
    assert_eq!(h.quick_check, "ok");
    fresh.close().expect("close");
    db.close().expect("close");
    if !read_only {
        Database::open(&path)
            .expect("reopen")
            .close()
            .expect("close");
    }
}
