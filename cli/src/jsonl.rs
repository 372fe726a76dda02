//! `resonance import` / `resonance export`: nodes and edges as JSON lines.
//!
//! `export` writes the exact format of [`resonance::backup::export_jsonl`]: a header line
//! `{"kind":"resonance-export","format":2,"dimension":…}`, then every column of every node and edge
//! (dangling edges included) as stored, byte for byte: meta as its stored text (JSON or not),
//! embeddings as float arrays or `{"blob":"<hex>"}`, odd values tagged. `import` of such a file writes
//! the rows back exactly ([`resonance::backup::import_jsonl`]).
//!
//! A file without that header is a hand-written (or older) import: one record per line,
//! `{"kind": "node", "id": …, "type": …, "title": …, "domain": …, "layer": …, "hash": …, "summary": …,
//! "meta": <any JSON>, "date": …, "embedding": [floats] | null}` or `{"kind": "edge", "source": …,
//! "target": …, "type": …, "confidence": …, "veracity": …, "context_source": …}`, written through the
//! engine's API (validated, normalised vectors, history recorded). Either import is all-or-nothing (one
//! transaction) and names the line of the first bad record.

use std::io::{BufRead, Read, Write};

use resonance::backup::RowCounts;
use resonance::{Database, EdgeInput, Error, NodeInput, Result};
use serde_json::{Map, Value};

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

/// Imports `reader` into `db` in one transaction: an exact export (its header on line 1) row for row,
/// anything else record by record through the API. `progress` is told each line. Returns (nodes, edges).
pub fn import(
    db: &Database,
    mut reader: impl BufRead,
    progress: impl FnMut(u64),
) -> Result<RowCounts> {
    let mut first = String::new();
    reader.read_line(&mut first).map_err(|e| Error::Io {
        message: format!("reading line 1: {e}"),
        source: Some(e),
    })?;
    let exact = serde_json::from_str::<Value>(first.trim())
        .ok()
        .is_some_and(|v| {
            v.get("kind").and_then(Value::as_str) == Some(resonance::backup::EXPORT_KIND)
        });
    let reader = std::io::Cursor::new(first.into_bytes()).chain(reader);
    if exact {
        resonance::backup::import_jsonl(db, reader, progress)
    } else {
        import_records(db, reader, progress)
    }
}

/// Imports hand-written records through the API (validation, history), in one transaction.
fn import_records(
    db: &Database,
    reader: impl BufRead,
    mut progress: impl FnMut(u64),
) -> Result<RowCounts> {
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
        Ok(RowCounts { nodes, edges })
    })
}

/// Writes the exact export of `db` to `out`. Returns the nodes and edges written.
pub fn export(db: &Database, out: impl Write) -> Result<RowCounts> {
    resonance::backup::export_jsonl(db, out)
}
