//! `resonance stats`: counts and sizes.

use std::path::Path;

use resonance::Database;
use serde_json::Value;

use crate::output::print_json;

/// Prints the counts and sizes of `path`.
pub fn stats(path: &Path, json_out: bool) -> resonance::Result<()> {
    let db = Database::open(path)?;
    let s = db.stats()?;
    if json_out {
        print_json(&serde_json::to_value(&s).unwrap_or(Value::Null));
    } else {
        println!(
            "nodes {} · edges {} ({} dangling) · vectors {} ({}) · history {}",
            s.nodes,
            s.edges,
            s.dangling_edges,
            s.vectors,
            s.dimension
                .map_or("no dimension yet".into(), |d| format!("{d}-d")),
            s.history
        );
        println!(
            "size on disk {} bytes (database {} + WAL {})",
            s.size_bytes, s.db_bytes, s.wal_bytes
        );
    }
    Ok(())
}
