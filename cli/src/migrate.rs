//! `resonance migrate`: plan or apply the pending migration steps.

use std::path::Path;

use resonance::{
    app_migrate, AppDirection, AppMigrateOptions, Database, MigrateOptions, OpenOptions,
};
use serde_json::{json, Value};

use crate::output::print_json;

/// Plans (dry run) or applies the migrations of `path`.
pub fn migrate(
    path: &Path,
    dry_run: bool,
    allow_destructive: bool,
    backup: bool,
    json_out: bool,
) -> resonance::Result<()> {
    let sp = crate::output::spinner(if dry_run { "planning" } else { "migrating" });
    let report = (|| {
        if dry_run {
            resonance::migrate::dry_run_file(path, &OpenOptions::default())
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
            })
        }
    })();
    sp.finish_and_clear();
    let report = report?;
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

/// Applies (or plans) the application migrations in `dir` under `namespace`.
pub fn migrate_app(
    path: &Path,
    dir: &Path,
    namespace: &str,
    opts: &AppMigrateOptions,
    json_out: bool,
) -> resonance::Result<()> {
    let steps = app_migrate::load_dir(dir)?;
    let db = Database::open(path)?;
    let report = db.migrate_app(namespace, &steps, opts)?;
    if json_out {
        print_json(&serde_json::to_value(&report).unwrap_or(Value::Null));
        return Ok(());
    }
    for v in &report.accepted_changes {
        println!("accepted the changed text of step {v}");
    }
    if report.steps.is_empty() {
        println!("nothing to do: namespace {namespace:?} is at the target version");
    }
    for s in &report.steps {
        println!(
            "{} {} {:04} {}{}",
            if report.dry_run { "would run" } else { "ran" },
            match s.direction {
                AppDirection::Up => "up",
                AppDirection::Down => "down",
            },
            s.version,
            s.name,
            if s.destructive { " [destructive]" } else { "" }
        );
        if report.dry_run {
            println!("    {}", s.sql.trim_end().replace('\n', "\n    "));
        }
    }
    if let Some(b) = &report.backup {
        println!("backup: {}", b.display());
    }
    Ok(())
}

/// Lists the engine's and the applications' steps, applied and pending.
pub fn migrations(
    path: &Path,
    app: Option<(&Path, &str)>,
    json_out: bool,
) -> resonance::Result<()> {
    let db = Database::open_with(
        path,
        OpenOptions {
            migrate: false,
            ..Default::default()
        },
    )?;
    let schema = db.health()?.schema;
    let pending_app = match app {
        Some((dir, ns)) => Some(db.app_migration_status(ns, &app_migrate::load_dir(dir)?)?),
        None => None,
    };
    if json_out {
        print_json(&json!({
            "shape": schema.shape,
            "application_ledger": schema.drizzle_ledger,
            "engine_applied": schema.resonance_applied,
            "engine_pending": schema.pending,
            "app_applied": schema.app_applied,
            "app_pending": pending_app.as_ref().map(|p| &p.pending),
        }));
        return Ok(());
    }
    println!("shape: {}", schema.shape);
    for r in &schema.drizzle_ledger {
        println!(
            "applied  drizzle     {} (created_at {})",
            r.hash,
            r.created_at.map_or("?".into(), |c| c.to_string())
        );
    }
    for m in &schema.resonance_applied {
        println!(
            "applied  resonance   V{} {} at {} (checksum {})",
            m.version, m.name, m.applied_on, m.checksum
        );
    }
    for p in &schema.pending {
        println!("pending  engine      {p}");
    }
    for a in &schema.app_applied {
        println!(
            "applied  app {:<8} {:04} {} at {} (checksum {})",
            a.namespace, a.version, a.name, a.applied_at, a.checksum
        );
    }
    if let Some(st) = &pending_app {
        for (v, n) in &st.pending {
            println!("pending  app {:<8} {v:04} {n}", st.namespace);
        }
    }
    Ok(())
}
