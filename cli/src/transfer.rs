//! `resonance import` and `resonance export`: JSON lines in and out.

use std::path::Path;

use resonance::{Database, Error};

use crate::jsonl;
use crate::output::{bar, spinner};

/// Imports the JSON lines file `file` into `path`.
pub fn import(path: &Path, file: &Path) -> resonance::Result<()> {
    let f = std::fs::File::open(file).map_err(|e| Error::io("cannot open", file, e))?;
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    let db = Database::open(path)?;
    let pb = bar(len, "importing");
    let r = jsonl::import(&db, std::io::BufReader::new(f), |n| pb.inc(n));
    pb.finish_and_clear();
    let written = r.map_err(|e| {
        e.context(format!(
            "import of {} (nothing was imported)",
            file.display()
        ))
    })?;
    println!(
        "imported {} nodes and {} edges from {}",
        written.nodes,
        written.edges,
        file.display()
    );
    Ok(())
}

/// Exports `path` to the JSON lines file `file`.
pub fn export(path: &Path, file: &Path) -> resonance::Result<()> {
    let sp = spinner("exporting");
    let db = Database::open(path)?;
    // A new file only (no symbolic link followed, nothing replaced), no more readable than the database.
    let mode = resonance::backup::file_mode(db.path());
    let written = resonance::backup::write_new_file(file, mode, |f| {
        jsonl::export(&db, std::io::BufWriter::new(f))
    });
    sp.finish_and_clear();
    let written = written?;
    println!(
        "exported {} nodes and {} edges to {}",
        written.nodes,
        written.edges,
        file.display()
    );
    Ok(())
}
