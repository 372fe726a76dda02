//! Test support for Resonance, not shipped: the one interpreter of the conformance ops
//! (`tests/conformance/README.md` gives the format).
//!
//! Two programs use it: the Rust conformance runner (`core/tests/conformance.rs`, every case of
//! `tests/conformance/cases/`) and the `ops` fuzz target (`fuzz/src/targets.rs`), which feeds it steps
//! made from fuzz bytes in [`Mode::Fuzz`]. The C, Python and Node runners are the same program in their
//! languages; keep their op tables in step with [`Interpreter::run`].

mod compare;
mod interp;

pub use compare::matches;
pub use interp::{Interpreter, Mode};

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

/// The folder of the shared cases (`tests/conformance/cases`).
pub fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/conformance/cases")
}

/// Every case file (`*.json`) of [`cases_dir`], sorted by name.
pub fn case_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(cases_dir())
        .expect("tests/conformance/cases")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
}

/// Runs one step of a case and checks it against its `expect`, `expect_error`,
/// `expect_min_modularity` and `expect_same_as` (the earlier steps' values are `results`). Returns the
/// step's value, or what went wrong.
pub fn check_step(
    interp: &mut Interpreter,
    step: &Value,
    results: &[Value],
) -> Result<Value, String> {
    let op = step["op"].as_str().ok_or("step without op")?;
    let empty = Map::new();
    let args = step
        .get("args")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let outcome = interp.run(op, args);
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
        let nodes = interp
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

/// Runs a whole case (`{"name", "steps"}`) in a fresh temporary folder; `Err` names the failing step.
pub fn run_case(case: &Value) -> Result<(), String> {
    let name = case["name"].as_str().unwrap_or("?");
    let dir = tempfile::tempdir().map_err(|e| format!("{name}: tempdir: {e}"))?;
    let mut interp = Interpreter::new(dir.path(), Mode::Conformance);
    let steps = case["steps"]
        .as_array()
        .ok_or_else(|| format!("{name}: no steps"))?;
    let mut results = Vec::new();
    for (i, step) in steps.iter().enumerate() {
        let v =
            check_step(&mut interp, step, &results).map_err(|e| format!("{name} step {i}: {e}"))?;
        results.push(v);
    }
    Ok(())
}
