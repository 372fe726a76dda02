//! Runs the graph conformance cases (`tests/conformance/cases/graph_*.json`, expectations computed by
//! networkx in `tests/conformance/oracle/graph_oracle.py`) directly against [`GraphSnapshot`], built
//! with `from_rows` from the case's nodes and edges — no database involved.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use resonance::graph::{Direction, GraphSnapshot, TraverseOptions};
use serde_json::{json, Value};

const TOL: f64 = 1e-5;

fn cases_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/conformance/cases")
}

/// Structural equality with an absolute tolerance on numbers.
fn compare(want: &Value, got: &Value, at: &str) -> Result<(), String> {
    match (want, got) {
        (Value::Number(a), Value::Number(b)) => {
            let (a, b) = (
                a.as_f64().unwrap_or(f64::NAN),
                b.as_f64().unwrap_or(f64::NAN),
            );
            if (a - b).abs() <= TOL {
                Ok(())
            } else {
                Err(format!("{at}: want {a}, got {b}"))
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            if a.len() != b.len() {
                return Err(format!(
                    "{at}: want {} items, got {}: want {want}, got {got}",
                    a.len(),
                    b.len()
                ));
            }
            a.iter()
                .zip(b)
                .enumerate()
                .try_for_each(|(i, (x, y))| compare(x, y, &format!("{at}[{i}]")))
        }
        (Value::Object(a), Value::Object(b)) => {
            let ka: BTreeSet<_> = a.keys().collect();
            let kb: BTreeSet<_> = b.keys().collect();
            if ka != kb {
                return Err(format!("{at}: keys differ: want {ka:?}, got {kb:?}"));
            }
            a.iter()
                .try_for_each(|(k, x)| compare(x, &b[k], &format!("{at}.{k}")))
        }
        _ if want == got => Ok(()),
        _ => Err(format!("{at}: want {want}, got {got}")),
    }
}

/// The nodes and edges written so far by a case, as the database would hold them.
#[derive(Default)]
struct State {
    nodes: BTreeSet<String>,
    edges: Vec<(String, String)>,
    edge_keys: BTreeSet<(String, String, String)>,
    snapshot: Option<GraphSnapshot>,
}

impl State {
    fn add_edge(&mut self, e: &Value) {
        let s = e["source"].as_str().expect("source").to_owned();
        let t = e["target"].as_str().expect("target").to_owned();
        let ty = e["type"].as_str().unwrap_or("related_to").to_owned();
        // add_edge is insert-or-ignore on (source, target, type).
        if self.edge_keys.insert((s.clone(), t.clone(), ty)) {
            self.edges.push((s, t));
        }
        self.snapshot = None;
    }

    fn graph(&mut self) -> &GraphSnapshot {
        if self.snapshot.is_none() {
            self.snapshot = Some(GraphSnapshot::from_rows(
                self.nodes.iter().cloned(),
                self.edges.iter().cloned(),
            ));
        }
        self.snapshot.as_ref().expect("snapshot")
    }
}

fn scores(v: Vec<resonance::Ranking>) -> Value {
    Value::Object(v.into_iter().map(|r| (r.id, json!(r.score))).collect())
}

/// Runs one query op; `Err` carries the error code.
fn run(g: &GraphSnapshot, op: &str, a: &Value) -> Result<Value, String> {
    let s = |k: &str| a[k].as_str().unwrap_or_else(|| panic!("arg {k}"));
    let u = |k: &str| a[k].as_u64().unwrap_or_else(|| panic!("arg {k}")) as usize;
    let f = |k: &str| a[k].as_f64().unwrap_or_else(|| panic!("arg {k}"));
    let code = |e: resonance::Error| e.code().to_owned();
    // `direction` left out: the core's default (the same default the options structs hold).
    let direction = match a["direction"].as_str() {
        Some(d) => d.parse::<Direction>().map_err(code)?,
        None => TraverseOptions::default().direction,
    };
    Ok(match op {
        "neighbors" => json!(g.neighbors(s("id")).map_err(code)?),
        "successors" => json!(g.successors(s("id")).map_err(code)?),
        "predecessors" => json!(g.predecessors(s("id")).map_err(code)?),
        "degree" => json!(g.degree(s("id")).map_err(code)?),
        "traverse" => json!(g
            .traverse(
                s("start"),
                a["max_depth"]
                    .as_u64()
                    .map_or(TraverseOptions::default().max_depth, |d| d as usize),
                direction
            )
            .map_err(code)?),
        "shortest_path" => json!(g
            .shortest_path(s("source"), s("target"), direction)
            .map_err(code)?),
        "pagerank" => scores(
            g.pagerank(f("alpha"), f("tolerance"), u("max_iterations"))
                .map_err(code)?,
        ),
        "betweenness" => {
            let sample = a["sample"]
                .as_u64()
                .map(|k| (k as usize, a["seed"].as_u64().unwrap_or(0)));
            scores(
                g.betweenness(a["normalized"].as_bool().unwrap_or(true), sample)
                    .map_err(code)?,
            )
        }
        "communities" => {
            let c = g
                .communities(f("resolution"), u("seed") as u64)
                .map_err(code)?;
            let check = g.modularity(&c.partition, f("resolution")).map_err(code)?;
            assert!((check - c.modularity).abs() < 1e-9);
            let partition: serde_json::Map<String, Value> = c
                .partition
                .into_iter()
                .map(|(k, n)| (k, json!(n)))
                .collect();
            json!({"partition": partition, "modularity": c.modularity})
        }
        "components" => json!(g.components()),
        "adamic_adar" => json!(g.adamic_adar(s("a"), s("b")).map_err(code)?),
        "link_candidates" => Value::Array(
            g.link_candidates(u("limit"))
                .into_iter()
                .map(|c| json!({"source": c.source, "target": c.target, "score": c.score}))
                .collect(),
        ),
        "pillars" => Value::Array(
            g.pillars(u("limit"))
                .into_iter()
                .map(|p| json!({"id": p.id, "pagerank": p.pagerank, "degree": p.degree}))
                .collect(),
        ),
        "graph_stats" => {
            let st = g.stats();
            json!({"nodes": st.nodes, "edges": st.edges, "density": st.density,
                   "skipped_edges": st.skipped_edges})
        }
        other => panic!("unknown op {other}"),
    })
}

/// Directed modularity of a JSON partition, computed from the edge rows (not by the engine).
fn independent_modularity(st: &State, partition: &Value, args: &Value) -> f64 {
    let gamma = args["resolution"].as_f64().expect("resolution");
    let com = |id: &str| partition[id].as_u64();
    let kept: Vec<(u64, u64)> = st
        .edges
        .iter()
        .filter_map(|(s, t)| Some((com(s)?, com(t)?)))
        .collect();
    let m = kept.len() as f64;
    if m == 0.0 {
        return 0.0;
    }
    let mut inner: BTreeMap<u64, f64> = BTreeMap::new();
    let mut outs: BTreeMap<u64, f64> = BTreeMap::new();
    let mut ins: BTreeMap<u64, f64> = BTreeMap::new();
    for &(a, b) in &kept {
        *outs.entry(a).or_default() += 1.0;
        *ins.entry(b).or_default() += 1.0;
        if a == b {
            *inner.entry(a).or_default() += 1.0;
        }
    }
    inner.values().sum::<f64>() / m
        - gamma
            * outs
                .iter()
                .map(|(c, o)| o * ins.get(c).copied().unwrap_or(0.0))
                .sum::<f64>()
            / (m * m)
}

/// Runs one case; returns the failures.
fn run_case(case: &Value) -> Vec<String> {
    let name = case["name"].as_str().unwrap_or("?");
    let mut st = State::default();
    let mut results: BTreeMap<usize, Value> = BTreeMap::new();
    let mut failures = Vec::new();
    for (i, step) in case["steps"].as_array().expect("steps").iter().enumerate() {
        let op = step["op"].as_str().expect("op");
        let args = &step["args"];
        let at = format!("{name} step {i} ({op} {args})");
        match op {
            "open" => st = State::default(),
            "upsert_node" => {
                st.nodes.insert(args["id"].as_str().expect("id").to_owned());
                st.snapshot = None;
            }
            "upsert_nodes" => {
                for n in args["nodes"].as_array().expect("nodes") {
                    st.nodes.insert(n["id"].as_str().expect("id").to_owned());
                }
                st.snapshot = None;
            }
            "add_edge" => st.add_edge(args),
            "add_edges" => {
                for e in args["edges"].as_array().expect("edges") {
                    st.add_edge(e);
                }
            }
            _ => {
                let got = run(st.graph(), op, args);
                match (&got, step.get("expect_error")) {
                    (Err(code), Some(want)) if want == code => {}
                    (Err(code), _) => failures.push(format!("{at}: error {code}")),
                    (Ok(v), Some(want)) => {
                        failures.push(format!("{at}: want error {want}, got {v}"))
                    }
                    (Ok(v), None) => {
                        if let Some(min) = step.get("expect_min_modularity") {
                            let min = min.as_f64().expect("number");
                            let q = v["modularity"].as_f64().unwrap_or(f64::NAN);
                            let covered: BTreeSet<&String> = v["partition"]
                                .as_object()
                                .map(|p| p.keys().collect())
                                .unwrap_or_default();
                            if covered != st.nodes.iter().collect() {
                                failures.push(format!("{at}: partition does not cover the nodes"));
                            }
                            let own = independent_modularity(&st, &v["partition"], args);
                            if (own - q).abs() > 1e-9 {
                                failures.push(format!("{at}: modularity {q}, recomputed {own}"));
                            }
                            if q.is_nan() || q < min - 0.01 {
                                failures
                                    .push(format!("{at}: modularity {q} < oracle {min} - 0.01"));
                            }
                            // Not just for the case's seed: for every seed.
                            let res = args["resolution"].as_f64().expect("resolution");
                            for seed in 0..16 {
                                let q = st
                                    .graph()
                                    .communities(res, seed)
                                    .expect("louvain")
                                    .modularity;
                                if q.is_nan() || q < min - 0.01 {
                                    failures.push(format!(
                                        "{at}: seed {seed}: modularity {q} < oracle {min} - 0.01"
                                    ));
                                }
                            }
                        }
                        if let Some(j) = step.get("expect_same_as") {
                            let j = j.as_u64().expect("index") as usize;
                            if results.get(&j) != Some(v) {
                                failures.push(format!("{at}: differs from step {j}"));
                            }
                        }
                        if let Some(want) = step.get("expect") {
                            if let Err(e) = compare(want, v, &at) {
                                failures.push(e);
                            }
                        }
                    }
                }
                if let Ok(v) = got {
                    results.insert(i, v);
                }
            }
        }
    }
    failures
}

#[test]
fn graph_cases_match_the_networkx_oracle() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(cases_dir())
        .expect("cases directory")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("graph_") && n.ends_with(".json"))
        })
        .collect();
    files.sort();
    assert!(files.len() >= 6, "graph cases missing: {files:?}");
    let (mut passed, mut failed) = (0, 0);
    let mut report = Vec::new();
    for f in &files {
        let case: Value =
            serde_json::from_str(&std::fs::read_to_string(f).expect("read case")).expect("json");
        let fails = run_case(&case);
        if fails.is_empty() {
            passed += 1;
        } else {
            failed += 1;
            report.extend(fails.into_iter().take(10));
        }
    }
    println!("graph cases: {passed} passed, {failed} failed");
    assert!(report.is_empty(), "{}", report.join("\n"));
}
