//! Fuzz target bodies (issue 8): FAFCAS blob decoding + search, the JSONL importer, and an interpreter
//! of the conformance ops over `resonance::Database`.
//!
//! This file is compiled twice: by the cargo-fuzz crate in `fuzz/` (the `fuzz_target!`s call these
//! functions) and by `core/tests/reliability.rs` (`#[path]`-included), which replays every committed
//! corpus file through the same functions on stable Rust. It may therefore use only crates that both
//! have: `resonance`, `serde_json`, `tempfile` and std.
//!
//! Each function panics (a fuzz finding) when an invariant breaks: a panic inside the engine, an
//! `internal` error, an error of the wrong kind, a non-atomic import, a search result that is not the
//! exact top-k, or a handle whose caches disagree with a fresh handle on the same file.

#![allow(dead_code)]

use std::sync::Mutex;

use resonance::vector::fafcas;
use resonance::vector::matrix::{SearchParams, VectorMatrix};
use resonance::{
    Database, EdgeInput, Error, ListOptions, MigrateOptions, NodeInput, OpenOptions, SearchOptions,
};
use serde_json::{json, Map, Value};

/// The JSONL importer of the `resonance` command, compiled from its source (it is a private module
/// of the CLI binary, so it cannot be reached as a library).
#[path = "../../cli/src/jsonl.rs"]
#[allow(dead_code, missing_docs)]
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
            assert!(body.len() % 4 != 0, "a whole number of floats was refused");
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
                let domain = if i % 3 == 0 { Some("d0") } else { None };
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
        Ok((nodes, edges)) => {
            let after = fingerprint(db);
            assert!(after.3 >= before.3, "history shrank");
            if nodes + edges > 0 {
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
            0 => json!({"op": "open", "args": {"read_only": c % 7 == 0, "migrate": c % 5 != 0}}),
            1 => json!({"op": "close"}),
            2 | 3 => {
                json!({"op": "upsert_node", "args": {"id": id1, "type": t, "domain": if c % 2 == 0 {"knowledge"} else {"other"},
                "meta": if d % 3 == 0 { json!({"k": c}) } else { Value::Null }, "embedding": if d % 4 == 0 { Value::Null } else { v }}})
            }
            4 => {
                json!({"op": "upsert_nodes", "args": {"nodes": [{"id": id1, "embedding": v}, {"id": id2, "embedding": vector(d, c)}]}})
            }
            5 => json!({"op": "get_node", "args": {"id": id1, "with_embedding": c % 2 == 0}}),
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
                json!({"op": if c % 2 == 0 {"edges_from"} else {"edges_to"}, "args": {"id": id1}})
            }
            14 => {
                json!({"op": "update_meta", "args": {"id": id1, "meta": if c % 3 == 0 { json!("not json") } else { json!({"m": d}) }}})
            }
            15 => json!({"op": "history", "args": {"id": id1}}),
            16 => json!({"op": "stats"}),
            17 => json!({"op": "begin"}),
            18 => json!({"op": "commit"}),
            19 => json!({"op": "rollback"}),
            20 | 21 => json!({"op": "set_embedding", "args": {"id": id1, "vector": v}}),
            22 => json!({"op": "get_embedding", "args": {"id": id1}}),
            23 | 24 => json!({"op": "search", "args": {"vector": v, "k": (d % 6) as u64,
                "min_score": if c % 3 == 0 { json!(-1.0) } else { Value::Null }, "domain": if c % 5 == 0 { json!("knowledge") } else { Value::Null }}}),
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
            33 => json!({"op": "betweenness", "args": {"normalized": c % 2 == 0}}),
            34 => json!({"op": "communities", "args": {"seed": c as u64}}),
            35 => json!({"op": "components"}),
            36 => json!({"op": "adamic_adar", "args": {"a": id1, "b": id2}}),
            37 => json!({"op": "link_candidates", "args": {"limit": (c % 5) as u64}}),
            38 => json!({"op": "pillars", "args": {"limit": (c % 5) as u64}}),
            _ => {
                json!({"op": if c % 2 == 0 { "graph_stats" } else { "migrate" }, "args": {"dry_run": true}})
            }
        };
        steps.push(step);
    }
    steps
}

fn s(a: &Map<String, Value>, k: &str) -> Option<String> {
    a.get(k).and_then(Value::as_str).map(str::to_string)
}

fn req(a: &Map<String, Value>, k: &str) -> Result<String, Error> {
    s(a, k).ok_or_else(|| Error::InvalidArgument(format!("argument `{k}` missing")))
}

fn f64_of(a: &Map<String, Value>, k: &str) -> Option<f64> {
    a.get(k).and_then(Value::as_f64)
}

fn usize_of(a: &Map<String, Value>, k: &str) -> Option<usize> {
    a.get(k).and_then(Value::as_u64).map(|v| v as usize)
}

fn floats(v: &Value) -> Vec<f32> {
    v.as_array()
        .map(|a| {
            a.iter()
                .take(4096)
                .map(|x| x.as_f64().unwrap_or(f64::NAN) as f32)
                .collect()
        })
        .unwrap_or_default()
}

fn meta_text(v: Option<&Value>) -> Option<String> {
    match v {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => Some(other.to_string()),
    }
}

fn node_input(a: &Map<String, Value>) -> Result<NodeInput, Error> {
    Ok(NodeInput {
        id: req(a, "id")?,
        node_type: s(a, "type"),
        title: s(a, "title"),
        domain: s(a, "domain"),
        layer: s(a, "layer"),
        hash: s(a, "hash"),
        summary: s(a, "summary"),
        meta: meta_text(a.get("meta")),
        date: s(a, "date"),
        embedding: a.get("embedding").filter(|v| !v.is_null()).map(floats),
    })
}

fn edge_input(a: &Map<String, Value>) -> Result<EdgeInput, Error> {
    Ok(EdgeInput {
        source: req(a, "source")?,
        target: req(a, "target")?,
        edge_type: s(a, "type"),
        confidence: f64_of(a, "confidence"),
        veracity: f64_of(a, "veracity"),
        context_source: s(a, "context_source"),
    })
}

fn search_opts(a: &Map<String, Value>) -> SearchOptions {
    SearchOptions {
        k: usize_of(a, "k").unwrap_or(10).min(1000),
        min_score: f64_of(a, "min_score").map(|x| x as f32),
        domain: s(a, "domain"),
        node_type: s(a, "type"),
        threads: None,
    }
}

fn hits(h: &[resonance::Hit]) -> Value {
    Value::Array(
        h.iter()
            .map(|h| json!({"id": h.id, "score": h.score}))
            .collect(),
    )
}

struct Interp {
    dir: tempfile::TempDir,
    db: Option<Database>,
}

/// Paths a case may name: only these two, inside the run's own folder.
fn case_path(a: &Map<String, Value>) -> &'static str {
    match s(a, "path").as_deref() {
        Some("other.sqlite") => "other.sqlite",
        _ => "db.sqlite",
    }
}

impl Interp {
    fn db(&self) -> Result<&Database, Error> {
        self.db
            .as_ref()
            .ok_or_else(|| Error::InvalidArgument("no database is open".into()))
    }

    fn run(&mut self, op: &str, a: &Map<String, Value>) -> Result<Value, Error> {
        Ok(match op {
            "open" => {
                if let Some(old) = self.db.take() {
                    old.close()?;
                }
                let d = OpenOptions::default();
                let opts = OpenOptions {
                    read_only: a.get("read_only").and_then(Value::as_bool).unwrap_or(false),
                    migrate: a.get("migrate").and_then(Value::as_bool).unwrap_or(true),
                    allow_destructive: a
                        .get("allow_destructive")
                        .and_then(Value::as_bool)
                        .unwrap_or(false),
                    backup: a.get("backup").and_then(Value::as_bool).unwrap_or(true),
                    busy_timeout_ms: a
                        .get("busy_timeout_ms")
                        .and_then(Value::as_u64)
                        .map_or(d.busy_timeout_ms, |v| v.min(10_000) as u32),
                    ..d
                };
                self.db = Some(Database::open_with(
                    self.dir.path().join(case_path(a)),
                    opts,
                )?);
                Value::Null
            }
            "close" => {
                self.db()?.close()?;
                Value::Null
            }
            "generate_id" => json!(resonance::generate_id(&req(a, "path")?)),
            "upsert_node" => {
                self.db()?.upsert_node(&node_input(a)?)?;
                Value::Null
            }
            "upsert_nodes" => {
                let nodes = a
                    .get("nodes")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                let inputs = nodes
                    .iter()
                    .take(256)
                    .map(|n| node_input(n.as_object().unwrap_or(&Map::new())))
                    .collect::<Result<Vec<_>, _>>()?;
                json!(self.db()?.upsert_nodes(&inputs)?)
            }
            "get_node" => {
                let with = a
                    .get("with_embedding")
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
                self.db()?
                    .get_node_with(&req(a, "id")?, with)?
                    .map_or(Value::Null, |n| json!(n.id))
            }
            "list_nodes" => {
                let o = ListOptions {
                    domain: s(a, "domain"),
                    node_type: s(a, "type"),
                    limit: usize_of(a, "limit"),
                    offset: usize_of(a, "offset").unwrap_or(0),
                    with_embeddings: a
                        .get("with_embeddings")
                        .and_then(Value::as_bool)
                        .unwrap_or(false),
                };
                json!(self.db()?.list_nodes(&o)?.len())
            }
            "delete_node" => {
                self.db()?.delete_node(&req(a, "id")?)?;
                Value::Null
            }
            "add_edge" => json!(self.db()?.add_edge(&edge_input(a)?)?),
            "add_edges" => {
                let edges = a
                    .get("edges")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                let inputs = edges
                    .iter()
                    .take(256)
                    .map(|e| edge_input(e.as_object().unwrap_or(&Map::new())))
                    .collect::<Result<Vec<_>, _>>()?;
                json!(self.db()?.add_edges(&inputs)?)
            }
            "upsert_edge" => {
                self.db()?.upsert_edge(&edge_input(a)?)?;
                Value::Null
            }
            "delete_edge" => {
                let t = s(a, "type").unwrap_or_else(|| "related_to".into());
                self.db()?
                    .delete_edge(&req(a, "source")?, &req(a, "target")?, &t)?;
                Value::Null
            }
            "edges_from" => json!(self.db()?.edges_from(&req(a, "id")?)?.len()),
            "edges_to" => json!(self.db()?.edges_to(&req(a, "id")?)?.len()),
            "update_meta" => {
                self.db()?
                    .update_meta(&req(a, "id")?, meta_text(a.get("meta")).as_deref())?;
                Value::Null
            }
            "history" => json!(self.db()?.history(&req(a, "id")?)?.len()),
            "stats" => {
                let st = self.db()?.stats()?;
                json!([st.nodes, st.edges, st.vectors, st.dimension])
            }
            "begin" => {
                self.db()?.begin()?;
                Value::Null
            }
            "commit" => {
                self.db()?.commit()?;
                Value::Null
            }
            "rollback" => {
                self.db()?.rollback()?;
                Value::Null
            }
            "set_embedding" => {
                self.db()?.set_embedding(
                    &req(a, "id")?,
                    &floats(a.get("vector").unwrap_or(&Value::Null)),
                )?;
                Value::Null
            }
            "get_embedding" => json!(self.db()?.get_embedding(&req(a, "id")?)?),
            "search" => hits(&self.db()?.search(
                &floats(a.get("vector").unwrap_or(&Value::Null)),
                &search_opts(a),
            )?),
            "search_like" => hits(&self.db()?.search_like(&req(a, "id")?, &search_opts(a))?),
            "search_batch" => {
                let qs: Vec<Vec<f32>> = a
                    .get("vectors")
                    .and_then(Value::as_array)
                    .map(|v| v.iter().take(64).map(floats).collect())
                    .unwrap_or_default();
                let dim = qs.first().map_or(0, Vec::len);
                if qs.iter().any(|q| q.len() != dim) {
                    return Err(Error::InvalidArgument(
                        "queries of different lengths".into(),
                    ));
                }
                let flat: Vec<f32> = qs.concat();
                Value::Array(
                    self.db()?
                        .search_batch(&flat, qs.len(), &search_opts(a))?
                        .iter()
                        .map(|h| hits(h))
                        .collect(),
                )
            }
            "health" => {
                let h = self.db()?.health()?;
                assert_eq!(
                    h.quick_check, "ok",
                    "quick_check failed on a database only the engine wrote"
                );
                json!({"journal_mode": h.journal_mode, "quick_check": h.quick_check})
            }
            "migrate" => {
                let o = MigrateOptions {
                    dry_run: a.get("dry_run").and_then(Value::as_bool).unwrap_or(true),
                    allow_destructive: false,
                    backup: a.get("backup").and_then(Value::as_bool).unwrap_or(true),
                    backup_retention_days: 7,
                };
                json!(self.db()?.migrate(&o)?.steps.len())
            }
            "checkpoint" => {
                let c = self
                    .db()?
                    .checkpoint(&s(a, "mode").unwrap_or_else(|| "passive".into()))?;
                json!([c.busy, c.log, c.checkpointed])
            }
            "neighbors" => json!(self.db()?.neighbors(&req(a, "id")?)?),
            "successors" => json!(self.db()?.successors(&req(a, "id")?)?),
            "predecessors" => json!(self.db()?.predecessors(&req(a, "id")?)?),
            "degree" => json!(self.db()?.degree(&req(a, "id")?)?),
            "traverse" => json!(self.db()?.traverse(
                &req(a, "start")?,
                usize_of(a, "max_depth").unwrap_or(1).min(16)
            )?),
            "shortest_path" => {
                json!(self
                    .db()?
                    .shortest_path(&req(a, "source")?, &req(a, "target")?)?)
            }
            "pagerank" => {
                let r = self.db()?.pagerank(
                    f64_of(a, "alpha").unwrap_or(0.85),
                    f64_of(a, "tolerance").unwrap_or(1e-6),
                    usize_of(a, "max_iterations").unwrap_or(100).min(1000),
                )?;
                if !r.is_empty() {
                    let sum: f64 = r.iter().map(|x| x.1).sum();
                    assert!((sum - 1.0).abs() < 1e-3, "pagerank sums to {sum}");
                }
                json!(r.len())
            }
            "betweenness" => {
                let sample = usize_of(a, "sample")
                    .map(|k| (k, a.get("seed").and_then(Value::as_u64).unwrap_or(0)));
                json!(self
                    .db()?
                    .betweenness(
                        a.get("normalized").and_then(Value::as_bool).unwrap_or(true),
                        sample
                    )?
                    .len())
            }
            "communities" => {
                let c = self.db()?.communities(
                    f64_of(a, "resolution").unwrap_or(1.0),
                    a.get("seed").and_then(Value::as_u64).unwrap_or(0),
                )?;
                json!(c.partition.len())
            }
            "components" => json!(self.db()?.components()?),
            "adamic_adar" => json!(self.db()?.adamic_adar(&req(a, "a")?, &req(a, "b")?)?),
            "link_candidates" => {
                json!(self
                    .db()?
                    .link_candidates(usize_of(a, "limit").unwrap_or(10).min(1000))?
                    .len())
            }
            "pillars" => {
                json!(self
                    .db()?
                    .pillars(usize_of(a, "limit").unwrap_or(10).min(1000))?
                    .len())
            }
            "graph_stats" => {
                let g = self.db()?.graph_stats()?;
                json!([g.nodes, g.edges, g.skipped_edges])
            }
            // raw_sql (a second connection writing arbitrary SQL) and unknown ops are skipped.
            _ => Value::Null,
        })
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
    let mut it = Interp {
        dir: tempfile::tempdir().expect("tempdir"),
        db: None,
    };
    // Start from a copy of a freshly created database (creating one per input is most of the cost).
    std::fs::write(it.dir.path().join("db.sqlite"), fresh_database()).expect("template copy");
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
        if let Err(e) = r {
            no_internal(&e, op);
        }
    }
    let Some(db) = it.db.take() else {
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
