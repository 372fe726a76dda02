//! `resonance migrate`: plan or apply the pending migration steps.

use std::path::Path;

use resonance::{Database, MigrateOptions, OpenOptions};
use serde_json::Value;

use crate::output::print_json;

/// Plans (dry run) or applies the migrations of `path`.
pub fn migrate(
    path: &Path,
    dry_run: bool,
    allow_destructive: bool,
    backup: bool,
    json_out: bool,
) -> resonance::Result<()> {
    let report = if dry_run {
        resonance::migrate::dry_run_file(path, &OpenOptions::default())?
    } else {
        let db = Database::open_with(
            path,
            OpenOptions {
                migrate: false,
                ..Default::default()
            },
        )?;
        db.migrate(&MigrateOptions {
            dry_run: false,
            allow_destructive,
            backup,
            ..MigrateOptions::default()
        })?
    };
    if json_out {
        print_json(&serde_json::to_value(&report).unwrap_or(Value::Null));
        return Ok(());
    }
    println!("shape before: {}", report.shape_before);
    if report.steps.is_empty() {
        println!("nothing to do: the schema is current");
    }
    for s in &report.steps {
        println!(
            "{} {} — {}{}",
            if report.dry_run { "would run" } else { "ran" },
            s.id,
            s.description,
            if s.destructive { " [destructive]" } else { "" }
        );
        if report.dry_run {
            for q in &s.sql {
                println!("    {}", q.replace('\n', "\n    "));
            }
        }
    }
    if let Some(b) = &report.backup {
        println!("backup: {}", b.display());
    }
    for w in &report.warnings {
        println!("warning: {w}");
    }
    Ok(())
}
