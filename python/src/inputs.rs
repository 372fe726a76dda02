//! What Python passes in: node dicts and edge objects checked key by key (an unknown key is an
//! `InvalidArgumentError` naming it), and the options of a search. A value left out (or `None`) is
//! the core's default. Nothing here runs an engine call.

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};
use resonance::{Direction, EdgeInput, NodeInput, SearchOptions};

use crate::args;
use crate::convert::{meta_arg, vector};
use crate::errors::invalid;

/// A string-or-None entry of a dict (`None` when absent).
pub fn opt_str(d: &Bound<'_, PyDict>, key: &str) -> PyResult<Option<String>> {
    match d.get_item(key)? {
        Some(v) if !v.is_none() => {
            Ok(Some(v.extract().map_err(|_| {
                invalid(format!("{key} must be a string or None"))
            })?))
        }
        _ => Ok(None),
    }
}

/// A number-or-None entry of a dict (`None` when absent).
pub fn opt_f64(d: &Bound<'_, PyDict>, key: &str) -> PyResult<Option<f64>> {
    match d.get_item(key)? {
        Some(v) if !v.is_none() => {
            Ok(Some(v.extract().map_err(|_| {
                invalid(format!("{key} must be a number or None"))
            })?))
        }
        _ => Ok(None),
    }
}

/// The keys of a node dict.
pub const NODE_KEYS: [&str; 10] = [
    "id",
    "type",
    "title",
    "domain",
    "layer",
    "hash",
    "summary",
    "meta",
    "date",
    "embedding",
];
/// The keys of an edge dict.
const EDGE_KEYS: [&str; 6] = [
    "source",
    "target",
    "type",
    "confidence",
    "veracity",
    "context_source",
];

/// Refuses a dict key not in `allowed`, naming it.
pub fn check_keys(d: &Bound<'_, PyDict>, allowed: &[&str], what: &str) -> PyResult<()> {
    for k in d.keys() {
        let k: String = k
            .extract()
            .map_err(|_| invalid(format!("{what}: keys must be strings")))?;
        if !allowed.contains(&k.as_str()) {
            return Err(invalid(format!(
                "{what}: unknown key {k:?} (allowed: {})",
                allowed.join(", ")
            )));
        }
    }
    Ok(())
}

/// A string-or-None value of a dict entry.
pub fn str_value(v: &Bound<'_, PyAny>, key: &str, what: &str) -> PyResult<Option<String>> {
    if v.is_none() {
        return Ok(None);
    }
    v.extract()
        .map(Some)
        .map_err(|_| invalid(format!("{what}: {key} must be a string or None")))
}

/// A `NodeInput` from a dict (the keys of `upsert_node`'s arguments), read in one pass over its items.
pub fn node_from_dict(d: &Bound<'_, PyDict>, what: &str) -> PyResult<NodeInput> {
    let mut node = NodeInput::default();
    let mut has_id = false;
    for (k, v) in d.iter() {
        let key: String = k
            .extract()
            .map_err(|_| invalid(format!("{what}: keys must be strings")))?;
        match key.as_str() {
            "id" => {
                node.id = v
                    .extract()
                    .map_err(|_| invalid(format!("{what}: id must be a string")))?;
                has_id = true;
            }
            "type" => node.node_type = str_value(&v, &key, what)?,
            "title" => node.title = str_value(&v, &key, what)?,
            "domain" => node.domain = str_value(&v, &key, what)?,
            "layer" => node.layer = str_value(&v, &key, what)?,
            "hash" => node.hash = str_value(&v, &key, what)?,
            "summary" => node.summary = str_value(&v, &key, what)?,
            "date" => node.date = str_value(&v, &key, what)?,
            "meta" => node.meta = meta_arg(Some(&v))?,
            "embedding" => {
                if !v.is_none() {
                    node.embedding = Some(
                        vector(&v, &format!("{what}.embedding"))?
                            .as_slice()
                            .to_vec(),
                    );
                }
            }
            _ => {
                return Err(invalid(format!(
                    "{what}: unknown key {key:?} (allowed: {})",
                    NODE_KEYS.join(", ")
                )))
            }
        }
    }
    if !has_id {
        return Err(invalid(format!("{what}: missing id")));
    }
    Ok(node)
}

/// An `EdgeInput` from a dict or a `(source, target[, type])` tuple.
pub fn edge_from_obj(o: &Bound<'_, PyAny>, what: &str) -> PyResult<EdgeInput> {
    if let Ok(d) = o.cast::<PyDict>() {
        check_keys(d, &EDGE_KEYS, what)?;
        let source =
            opt_str(d, "source")?.ok_or_else(|| invalid(format!("{what}: missing source")))?;
        let target =
            opt_str(d, "target")?.ok_or_else(|| invalid(format!("{what}: missing target")))?;
        return Ok(EdgeInput {
            source,
            target,
            edge_type: opt_str(d, "type")?,
            confidence: opt_f64(d, "confidence")?,
            veracity: opt_f64(d, "veracity")?,
            context_source: opt_str(d, "context_source")?,
        });
    }
    if let Ok(t) = o.cast::<PyTuple>() {
        let text = |i: usize, name: &str| -> PyResult<String> {
            args::string(&t.get_item(i)?)
                .map_err(|e| invalid(format!("{what}: {name}: {}", e.value(o.py()))))
        };
        let (source, target, edge_type) = match t.len() {
            2 => (text(0, "source")?, text(1, "target")?, None),
            3 => (
                text(0, "source")?,
                text(1, "target")?,
                args::opt_string(&t.get_item(2)?)
                    .map_err(|e| invalid(format!("{what}: type: {}", e.value(o.py()))))?,
            ),
            n => {
                return Err(invalid(format!(
                    "{what}: a tuple edge is (source, target[, type]), got {n} items"
                )))
            }
        };
        return Ok(EdgeInput {
            source,
            target,
            edge_type,
            confidence: None,
            veracity: None,
            context_source: None,
        });
    }
    Err(invalid(format!(
        "{what} must be a dict or a (source, target[, type]) tuple"
    )))
}

/// Search options from the keyword arguments; `k` None is the engine's default.
pub fn search_options(
    k: Option<usize>,
    min_score: Option<f32>,
    domain: Option<String>,
    node_type: Option<String>,
    threads: Option<usize>,
) -> SearchOptions {
    let d = SearchOptions::default();
    SearchOptions {
        k: k.unwrap_or(d.k),
        min_score,
        domain,
        node_type,
        threads,
    }
}

/// A `direction` argument parsed by the engine (`None`: `default`).
pub fn parse_direction(d: Option<String>, default: Direction) -> PyResult<Direction> {
    match d {
        Some(d) => d.parse().map_err(crate::errors::to_py),
        None => Ok(default),
    }
}
