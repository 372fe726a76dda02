//! The Rust conformance runner: every case of `tests/conformance/cases/` through the `Database` API
//! (format: `tests/conformance/README.md`).

use std::path::{Path, PathBuf};

use resonance::{
    Database, EdgeInput, Error, ListOptions, MigrateOptions, NodeInput, OpenOptions, SearchOptions,
};
use serde_json::{json, Map, Value};

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/conformance/cases")
}

struct Runner {
    dir: tempfile::TempDir,
    db: Option<Database>,
}

fn s(args: &Map<String, Value>, k: &str) -> Option<String> {
    args.get(k).and_then(Value::as_str).map(str::to_string)
}

fn req(args: &Map<String, Value>, k: &str) -> Result<String, Error> {
    s(args, k).ok_or_else(|| Error::InvalidArgument(format!("case argument `{k}` missing")))
}

fn f64_of(args: &Map<String, Value>, k: &str) -> Option<f64> {
    args.get(k).and_then(Value::as_f64)
}

fn usize_of(args: &Map<String, Value>, k: &str) -> Option<usize> {
    args.get(k).and_then(Value::as_u64).map(|v| v as usize)
}

fn floats(v: &Value) -> Vec<f32> {
    v.as_array()
        .map(|a| {
            a.iter()
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

fn node_value(n: &resonance::Node) -> Value {
    let meta = n
        .meta
        .as_ref()
        .map(|m| serde_json::from_str(m).unwrap_or(Value::String(m.clone())));
    let mut v = json!({"id": n.id, "type": n.node_type, "title": n.title, "domain": n.domain, "layer": n.layer,
        "hash": n.hash, "summary": n.summary, "meta": meta, "date": n.date});
    if let Some(e) = &n.embedding {
        v["embedding"] = json!(e);
    }
    v
}

fn search_opts(a: &Map<String, Value>) -> SearchOptions {
    SearchOptions {
        k: usize_of(a, "k").unwrap_or(10),
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

fn parsed(text: &Option<String>) -> Value {
    text.as_ref()
        .map(|t| serde_json::from_str(t).unwrap_or(Value::String(t.clone())))
        .unwrap_or(Value::Null)
}

impl Runner {
    fn db(&self) -> Result<&Database, Error> {
        self.db
            .as_ref()
            .ok_or_else(|| Error::InvalidArgument("no database is open in this case".into()))
    }

    fn run(&mut self, op: &str, a: &Map<String, Value>) -> Result<Value, Error> {
        Ok(match op {
            "open" => {
                if let Some(old) = self.db.take() {
                    old.close()?;
                }
                let path = self.dir.path().join(s(a, "path").unwrap_or_else(|| "db.sqlite".into()));
                let d = OpenOptions::default();
                let opts = OpenOptions {
                    read_only: a.get("read_only").and_then(Value::as_bool).unwrap_or(d.read_only),
                    migrate: a.get("migrate").and_then(Value::as_bool).unwrap_or(d.migrate),
                    allow_destructive: a.get("allow_destructive").and_then(Value::as_bool).unwrap_or(false),
                    backup: a.get("backup").and_then(Value::as_bool).unwrap_or(true),
                    busy_timeout_ms: a.get("busy_timeout_ms").and_then(Value::as_u64).map_or(d.busy_timeout_ms, |v| v as u32),
                    ..d
                };
                self.db = Some(Database::open_with(path, opts)?);
                Value::Null
            }
            "close" => {
                self.db()?.close()?;
                Value::Null
            }
            "raw_sql" => {
                let path = self.dir.path().join(s(a, "path").unwrap_or_else(|| "db.sqlite".into()));
                let c = rusqlite::Connection::open(path).map_err(|e| Error::sqlite(e, "raw_sql"))?;
                c.execute_batch(&req(a, "sql")?).map_err(|e| Error::sqlite(e, "raw_sql"))?;
                Value::Null
            }
            "generate_id" => json!(resonance::generate_id(&req(a, "path")?)),
            "upsert_node" => {
                self.db()?.upsert_node(&node_input(a)?)?;
                Value::Null
            }
            "upsert_nodes" => {
                let nodes = a.get("nodes").and_then(Value::as_array).cloned().unwrap_or_default();
                let inputs = nodes
                    .iter()
                    .map(|n| node_input(n.as_object().unwrap_or(&Map::new())))
                    .collect::<Result<Vec<_>, _>>()?;
                json!(self.db()?.upsert_nodes(&inputs)?)
            }
            "get_node" => {
                let with = a.get("with_embedding").and_then(Value::as_bool).unwrap_or(false);
                self.db()?.get_node_with(&req(a, "id")?, with)?.map_or(Value::Null, |n| node_value(&n))
            }
            "list_nodes" => {
                let o = ListOptions {
                    domain: s(a, "domain"),
                    node_type: s(a, "type"),
                    limit: usize_of(a, "limit"),
                    offset: usize_of(a, "offset").unwrap_or(0),
                    with_embeddings: a.get("with_embeddings").and_then(Value::as_bool).unwrap_or(false),
                };
                Value::Array(self.db()?.list_nodes(&o)?.iter().map(node_value).collect())
            }
            "delete_node" => {
                self.db()?.delete_node(&req(a, "id")?)?;
                Value::Null
            }
            "add_edge" => json!(self.db()?.add_edge(&edge_input(a)?)?),
            "add_edges" => {
                let edges = a.get("edges").and_then(Value::as_array).cloned().unwrap_or_default();
                let inputs = edges
                    .iter()
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
                self.db()?.delete_edge(&req(a, "source")?, &req(a, "target")?, &t)?;
                Value::Null
            }
            "edges_from" | "edges_to" => {
                let id = req(a, "id")?;
                let edges = if op == "edges_from" { self.db()?.edges_from(&id)? } else { self.db()?.edges_to(&id)? };
                serde_json::to_value(edges).unwrap_or(Value::Null)
            }
            "update_meta" => {
                self.db()?.update_meta(&req(a, "id")?, meta_text(a.get("meta")).as_deref())?;
                Value::Null
            }
            "history" => Value::Array(
                self.db()?
                    .history(&req(a, "id")?)?
                    .iter()
                    .map(|h| {
                        json!({"entity_type": h.entity_type, "entity_id": h.entity_id, "action": h.action,
                            "old_value": parsed(&h.old_value), "new_value": parsed(&h.new_value)})
                    })
                    .collect(),
            ),
            "stats" => {
                let st = self.db()?.stats()?;
                json!({"nodes": st.nodes, "edges": st.edges, "vectors": st.vectors, "dangling_edges": st.dangling_edges,
                    "dimension": st.dimension, "history": st.history})
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
                self.db()?.set_embedding(&req(a, "id")?, &floats(a.get("vector").unwrap_or(&Value::Null)))?;
                Value::Null
            }
            "get_embedding" => json!(self.db()?.get_embedding(&req(a, "id")?)?),
            "search" => hits(&self.db()?.search(&floats(a.get("vector").unwrap_or(&Value::Null)), &search_opts(a))?),
            "search_like" => hits(&self.db()?.search_like(&req(a, "id")?, &search_opts(a))?),
            "search_batch" => {
                let qs: Vec<Vec<f32>> = a.get("vectors").and_then(Value::as_array).map(|v| v.iter().map(floats).collect()).unwrap_or_default();
                let dim = qs.first().map_or(0, Vec::len);
                if qs.iter().any(|q| q.len() != dim) {
                    return Err(Error::InvalidArgument("queries of different lengths".into()));
                }
                let flat: Vec<f32> = qs.concat();
                Value::Array(self.db()?.search_batch(&flat, qs.len(), &search_opts(a))?.iter().map(|h| hits(h)).collect())
            }
            "health" => {
                let h = self.db()?.health()?;
                json!({"journal_mode": h.journal_mode, "busy_timeout_ms": h.busy_timeout_ms, "foreign_keys": h.foreign_keys,
                    "quick_check": h.quick_check, "schema_shape": h.schema.shape, "pending": h.schema.pending,
                    "dangling_edges": h.dangling_edges, "vector_count": h.vectors.count, "write_probe": h.write_probe})
            }
            "migrate" => {
                let o = MigrateOptions {
                    dry_run: a.get("dry_run").and_then(Value::as_bool).unwrap_or(false),
                    allow_destructive: a.get("allow_destructive").and_then(Value::as_bool).unwrap_or(false),
                    backup: a.get("backup").and_then(Value::as_bool).unwrap_or(true),
                    backup_retention_days: 7,
                };
                let r = self.db()?.migrate(&o)?;
                json!({"steps": r.steps.iter().map(|s| s.id.clone()).collect::<Vec<_>>()})
            }
            "checkpoint" => {
                let c = self.db()?.checkpoint(&s(a, "mode").unwrap_or_else(|| "passive".into()))?;
                json!({"busy": c.busy, "log": c.log, "checkpointed": c.checkpointed})
            }
            "neighbors" => json!(self.db()?.neighbors(&req(a, "id")?)?),
            "successors" => json!(self.db()?.successors(&req(a, "id")?)?),
            "predecessors" => json!(self.db()?.predecessors(&req(a, "id")?)?),
            "degree" => json!(self.db()?.degree(&req(a, "id")?)?),
            "traverse" => json!(self.db()?.traverse(&req(a, "start")?, usize_of(a, "max_depth").unwrap_or(1))?),
            "shortest_path" => json!(self.db()?.shortest_path(&req(a, "source")?, &req(a, "target")?)?),
            "pagerank" => {
                let r = self.db()?.pagerank(
                    f64_of(a, "alpha").unwrap_or(0.85),
                    f64_of(a, "tolerance").unwrap_or(1e-6),
                    usize_of(a, "max_iterations").unwrap_or(100),
                )?;
                Value::Object(r.into_iter().map(|(k, v)| (k, json!(v))).collect())
            }
            "betweenness" => {
                let sample = usize_of(a, "sample").map(|k| (k, a.get("seed").and_then(Value::as_u64).unwrap_or(0)));
                let r = self.db()?.betweenness(a.get("normalized").and_then(Value::as_bool).unwrap_or(true), sample)?;
                Value::Object(r.into_iter().map(|(k, v)| (k, json!(v))).collect())
            }
            "communities" => {
                let c = self.db()?.communities(
                    f64_of(a, "resolution").unwrap_or(1.0),
                    a.get("seed").and_then(Value::as_u64).unwrap_or(0),
                )?;
                json!({"partition": c.partition.into_iter().map(|(k, v)| (k, json!(v))).collect::<Map<_, _>>(),
                    "modularity": c.modularity})
            }
            "components" => json!(self.db()?.components()?),
            "adamic_adar" => json!(self.db()?.adamic_adar(&req(a, "a")?, &req(a, "b")?)?),
            "link_candidates" => json!(self
                .db()?
                .link_candidates(usize_of(a, "limit").unwrap_or(10))?
                .into_iter()
                .map(|(s, t, x)| json!({"source": s, "target": t, "score": x}))
                .collect::<Vec<_>>()),
            "pillars" => json!(self
                .db()?
                .pillars(usize_of(a, "limit").unwrap_or(10))?
                .into_iter()
                .map(|(id, pr, d)| json!({"id": id, "pagerank": pr, "degree": d}))
                .collect::<Vec<_>>()),
            "graph_stats" => {
                let g = self.db()?.graph_stats()?;
                json!({"nodes": g.nodes, "edges": g.edges, "density": g.density, "skipped_edges": g.skipped_edges})
            }
            other => return Err(Error::Internal(format!("the Rust runner does not know op {other:?}"))),
        })
    }
}

/// Does `actual` match `expected` (numbers ±1e-5, objects by the expected keys, lists in order)?
fn matches(expected: &Value, actual: &Value, unordered: bool) -> bool {
    match (expected, actual) {
        (Value::Number(e), Value::Number(a)) => {
            (e.as_f64().unwrap_or(f64::NAN) - a.as_f64().unwrap_or(f64::NAN)).abs() <= 1e-5
        }
        (Value::Object(e), Value::Object(a)) => e
            .iter()
            .all(|(k, v)| a.get(k).is_some_and(|av| matches(v, av, false))),
        (Value::Array(e), Value::Array(a)) => {
            if e.len() != a.len() {
                return false;
            }
            if unordered {
                let mut used = vec![false; a.len()];
                e.iter().all(|ev| {
                    (0..a.len()).any(|i| {
                        if !used[i] && matches(ev, &a[i], false) {
                            used[i] = true;
                            true
                        } else {
                            false
                        }
                    })
                })
            } else {
                e.iter().zip(a).all(|(ev, av)| matches(ev, av, false))
            }
        }
        (e, a) => e == a,
    }
}

fn check_step(runner: &mut Runner, step: &Value, results: &[Value]) -> Result<Value, String> {
    let op = step["op"].as_str().ok_or("step without op")?;
    let empty = Map::new();
    let args = step
        .get("args")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let outcome = runner.run(op, args);
    if let Some(kind) = step.get("expect_error").and_then(Value::as_str) {
        return match outcome {
            Err(e) if e.code() == kind => Ok(Value::Null),
            Err(e) => Err(format!(
                "{op}: expected error {kind}, got {} ({e})",
                e.code()
            )),
            Ok(v) => Err(format!("{op}: expected error {kind}, got value {v}")),
        };
    }
    let value = outcome.map_err(|e| format!("{op}: unexpected error {} ({e})", e.code()))?;
    if let Some(expected) = step.get("expect") {
        let unordered = step
            .get("unordered")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        if !matches(expected, &value, unordered) {
            return Err(format!("{op}: expected {expected}, got {value}"));
        }
    }
    if let Some(min) = step.get("expect_min_modularity").and_then(Value::as_f64) {
        let nodes = runner
            .db()
            .map_err(|e| e.to_string())?
            .graph()
            .map_err(|e| e.to_string())?
            .node_ids()
            .to_vec();
        let part = value["partition"]
            .as_object()
            .ok_or("communities: no partition")?;
        if nodes.iter().any(|n| !part.contains_key(n)) || part.len() != nodes.len() {
            return Err(format!(
                "communities: the partition does not cover the {} nodes exactly",
                nodes.len()
            ));
        }
        let q = value["modularity"]
            .as_f64()
            .ok_or("communities: no modularity")?;
        if q < min - 0.01 {
            return Err(format!("communities: modularity {q} < oracle {min} - 0.01"));
        }
    }
    if let Some(i) = step.get("expect_same_as").and_then(Value::as_u64) {
        if results.get(i as usize) != Some(&value) {
            return Err(format!("{op}: differs from step {i}"));
        }
    }
    Ok(value)
}

#[test]
fn every_conformance_case_passes() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(cases_dir())
        .expect("tests/conformance/cases")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty());
    let (mut passed, mut failed) = (0, Vec::new());
    for f in &files {
        let case: Value = serde_json::from_str(&std::fs::read_to_string(f).unwrap()).unwrap();
        let name = case["name"].as_str().unwrap_or("?").to_string();
        let mut runner = Runner {
            dir: tempfile::tempdir().unwrap(),
            db: None,
        };
        let mut results = Vec::new();
        let mut error = None;
        for (i, step) in case["steps"].as_array().unwrap().iter().enumerate() {
            match check_step(&mut runner, step, &results) {
                Ok(v) => results.push(v),
                Err(e) => {
                    error = Some(format!("{name} step {i}: {e}"));
                    break;
                }
            }
        }
        match error {
            None => passed += 1,
            Some(e) => failed.push(e),
        }
    }
    for f in &failed {
        eprintln!("FAILED {}", &f[..f.len().min(2000)]);
    }
    println!(
        "conformance (rust): {passed} passed, {} failed",
        failed.len()
    );
    assert!(
        failed.is_empty(),
        "{} of {} conformance cases failed",
        failed.len(),
        files.len()
    );
}
