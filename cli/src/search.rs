//! `resonance search`: nearest nodes to a vector, a stored node or a text.

use std::path::{Path, PathBuf};

use resonance::{Database, Error, OpenOptions, SearchOptions};
use serde_json::{json, Value};

use crate::embed;
use crate::output::print_json;

fn read_f32_file(p: &Path) -> resonance::Result<Vec<f32>> {
    let bytes = std::fs::read(p).map_err(|e| Error::io("cannot read", p, e))?;
    resonance::vector::fafcas::decode(&bytes)
}

/// Where the query comes from (at most one is given).
pub struct Query {
    /// A JSON array of numbers.
    pub vector_json: Option<String>,
    /// A FAFCAS file.
    pub vector_file: Option<PathBuf>,
    /// A stored node's vector.
    pub like: Option<String>,
    /// A text embedded with the demo's procedure.
    pub text: Option<String>,
}

/// Runs one search on `path` and prints the hits; `vector_memory` is the open option's name
/// (`None`: the library's default).
pub fn search(
    path: &Path,
    query: Query,
    vector_memory: Option<&str>,
    opts: &SearchOptions,
    json_out: bool,
) -> resonance::Result<()> {
    let Query {
        vector_json,
        vector_file,
        like,
        text,
    } = query;
    let mut open = OpenOptions::default();
    if let Some(m) = vector_memory {
        open.vector_memory = m.parse()?;
    }
    // The first search of a handle loads the vector matrix: long on a large file.
    let sp = crate::output::spinner("opening and searching");
    let db = Database::open_with(path, open)?;
    let hits = (|| -> resonance::Result<_> {
        Ok(if let Some(id) = like {
            db.search_like(&id, opts)?
        } else {
            let q: Vec<f32> = if let Some(j) = vector_json {
                serde_json::from_str(&j)
                    .map_err(|e| Error::InvalidArgument(format!("--vector-json: {e}")))?
            } else if let Some(f) = vector_file {
                read_f32_file(&f)?
            } else if let Some(t) = text {
                embed::embed(&t)
            } else {
                return Err(Error::InvalidArgument(
                    "give --vector-json, --vector-file, --like or --text".into(),
                ));
            };
            db.search(&q, opts)?
        })
    })();
    sp.finish_and_clear();
    let hits = hits?;
    if json_out {
        print_json(&Value::Array(
            hits.iter()
                .map(|h| json!({"id": h.id, "score": h.score}))
                .collect(),
        ));
    } else {
        for h in &hits {
            let title = db
                .get_node(&h.id)?
                .and_then(|n| n.title)
                .unwrap_or_default();
            println!("{:.4}  {}  {}", h.score, h.id, title);
        }
        if hits.is_empty() {
            println!("no results");
        }
    }
    Ok(())
}
