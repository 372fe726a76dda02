//! `resonance backup`: an online backup checked with `integrity_check`.

use std::path::Path;

use resonance::Database;

/// Backs `path` up to `dest`, or into `backups/` beside the database when `dest` is left out.
pub fn backup(path: &Path, dest: Option<&Path>) -> resonance::Result<()> {
    let sp = crate::output::spinner("backing up");
    let db = Database::open(path)?;
    let p = db.backup(dest);
    sp.finish_and_clear();
    let p = p?;
    println!("backup written to {} (integrity_check ok)", p.display());
    Ok(())
}
