//! `resonance import` / `resonance export`: nodes (vectors as float arrays) and edges as JSON lines.
//!
//! One record per line: `{"kind": "node", "id": …, "type": …, "title": …, "domain": …, "layer": …,
//! "hash": …, "summary": …, "meta": <any JSON>, "date": …, "embedding": [floats] | null}` or
//! `{"kind": "edge", "source": …, "target": …, "type": …, "confidence": …, "veracity": …,
//! "context_source": …}`. Import is all-or-nothing (one transaction) and names the line of the first bad
//! record.

use std::io::{BufRead, Write};

use resonance::{Database, EdgeInput, Error, ListOptions, NodeInput, Result};
use serde_json::{json, Map, Value};

fn opt_str(o: &Map<String, Value>, key: &str, line: usize) -> Result<Option<String>> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(Error::InvalidArgument(format!(
            "line {line}: `{key}` must be a string, got {other}"
        ))),
    }
}

fn opt_f64(o: &Map<String, Value>, key: &str, line: usize) -> Result<Option<f64>> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => Ok(n.as_f64()),
        Some(other) => Err(Error::InvalidArgument(format!(
            "line {line}: `{key}` must be a number, got {other}"
        ))),
    }
}

/// Parses one JSONL record into a node or an edge.
pub enum Record {
    /// A node.
    Node(NodeInput),
    /// An edge.
    Edge(EdgeInput),
}

/// Parses line `line` (1-based) of an import file.
pub fn parse_record(text: &str, line: usize) -> Result<Record> {
    let v: Value = serde_json::from_str(text)
        .map_err(|e| Error::InvalidArgument(format!("line {line}: not valid JSON: {e}")))?;
    let Value::Object(o) = v else {
        return Err(Error::InvalidArgument(format!(
            "line {line}: a record must be a JSON object"
        )));
    };
    match o.get("kind").and_then(Value::as_str) {
        Some("node") => {
            let id = opt_str(&o, "id", line)?.ok_or_else(|| {
                Error::InvalidArgument(format!("line {line}: a node needs an `id`"))
            })?;
            let embedding = match o.get("embedding") {
                None | Some(Value::Null) => None,
                Some(Value::Array(a)) => Some(
                    a.iter()
                        .enumerate()
                        .map(|(i, x)| {
                            x.as_f64().map(|f| f as f32).ok_or_else(|| {
                                Error::InvalidArgument(format!(
                                    "line {line}: embedding[{i}] is not a number"
                                ))
                            })
                        })
                        .collect::<Result<Vec<f32>>>()?,
                ),
                Some(_) => {
                    return Err(Error::InvalidArgument(format!(
                        "line {line}: `embedding` must be an array"
                    )))
                }
            };
            let meta = match o.get("meta") {
                None | Some(Value::Null) => None,
                Some(m) => Some(m.to_string()),
            };
            Ok(Record::Node(NodeInput {
                id,
                node_type: opt_str(&o, "type", line)?,
                title: opt_str(&o, "title", line)?,
                domain: opt_str(&o, "domain", line)?,
                layer: opt_str(&o, "layer", line)?,
                hash: opt_str(&o, "hash", line)?,
                summary: opt_str(&o, "summary", line)?,
                meta,
                date: opt_str(&o, "date", line)?,
                embedding,
            }))
        }
        Some("edge") => Ok(Record::Edge(EdgeInput {
            source: opt_str(&o, "source", line)?.ok_or_else(|| {
                Error::InvalidArgument(format!("line {line}: an edge needs a `source`"))
            })?,
            target: opt_str(&o, "target", line)?.ok_or_else(|| {
                Error::InvalidArgument(format!("line {line}: an edge needs a `target`"))
            })?,
            edge_type: opt_str(&o, "type", line)?,
            confidence: opt_f64(&o, "confidence", line)?,
            veracity: opt_f64(&o, "veracity", line)?,
            context_source: opt_str(&o, "context_source", line)?,
        })),
        _ => Err(Error::InvalidArgument(format!(
            "line {line}: `kind` must be \"node\" or \"edge\""
        ))),
    }
}

/// Imports `reader` into `db` in one transaction; `progress` is told each line. Returns (nodes, edges).
pub fn import(
    db: &Database,
    reader: impl BufRead,
    mut progress: impl FnMut(u64),
) -> Result<(usize, usize)> {
    db.transaction(|db| {
        let (mut nodes, mut edges) = (0, 0);
        let mut batch: Vec<NodeInput> = Vec::new();
        let mut batch_start = 0usize;
        let flush = |batch: &mut Vec<NodeInput>, start: usize| -> Result<()> {
            if batch.is_empty() {
                return Ok(());
            }
            db.upsert_nodes(batch).map_err(|e| {
                // Name the line: the batch error says "node #i".
                let msg = e.to_string();
                let idx = msg
                    .split("node #")
                    .nth(1)
                    .and_then(|r| r.split(':').next())
                    .and_then(|n| n.parse::<usize>().ok());
                match idx {
                    Some(i) => e.context(format!("line {}", start + i)),
                    None => e,
                }
            })?;
            batch.clear();
            Ok(())
        };
        for (i, line) in reader.lines().enumerate() {
            let n = i + 1;
            let line = line.map_err(|e| Error::Io {
                message: format!("reading line {n}: {e}"),
                source: Some(e),
            })?;
            progress(line.len() as u64 + 1);
            if line.trim().is_empty() {
                continue;
            }
            match parse_record(&line, n)? {
                Record::Node(node) => {
                    if batch.is_empty() {
                        batch_start = n;
                    }
                    batch.push(node);
                    nodes += 1;
                    if batch.len() >= 1000 {
                        flush(&mut batch, batch_start)?;
                    }
                }
                Record::Edge(e) => {
                    flush(&mut batch, batch_start)?;
                    db.add_edge(&e)
                        .map_err(|err| err.context(format!("line {n}")))?;
                    edges += 1;
                }
            }
        }
        flush(&mut batch, batch_start)?;
        Ok((nodes, edges))
    })
}

/// Writes every node (with its vector) and every edge of `db` to `out`. Returns (nodes, edges).
pub fn export(db: &Database, mut out: impl Write) -> Result<(usize, usize)> {
    let io = |e: std::io::Error| Error::Io {
        message: format!("writing the export: {e}"),
        source: Some(e),
    };
    let nodes = db.list_nodes(&ListOptions {
        with_embeddings: true,
        ..Default::default()
    })?;
    let mut edges = 0;
    for n in &nodes {
        let meta: Value = match &n.meta {
            Some(m) => serde_json::from_str(m).unwrap_or(Value::String(m.clone())),
            None => Value::Null,
        };
        let rec = json!({"kind": "node", "id": n.id, "type": n.node_type, "title": n.title, "domain": n.domain,
            "layer": n.layer, "hash": n.hash, "summary": n.summary, "meta": meta, "date": n.date,
            "embedding": n.embedding});
        writeln!(out, "{rec}").map_err(io)?;
    }
    for n in &nodes {
        for e in db.edges_from(&n.id)? {
            writeln!(out, "{}", json!({"kind": "edge", "source": e.source, "target": e.target, "type": e.edge_type,
                "confidence": e.confidence, "veracity": e.veracity, "context_source": e.context_source}))
            .map_err(io)?;
            edges += 1;
        }
    }
    out.flush().map_err(io)?;
    Ok((nodes.len(), edges))
}
