//! `resonance doctor`: the health report and the content checks, exit 0 / 1 / 2.

use std::path::Path;
use std::process::ExitCode;

use resonance::{Database, Error, OpenOptions};
use serde_json::{json, Value};

use crate::output::{fail, print_json};

/// Runs the doctor on `path`: 0 healthy, 1 problems, 2 could not open. `external_replicator`
/// opens the handle as an application replicated by Litestream would (docs/scaling.md).
pub fn doctor(path: &Path, external_replicator: bool, json_out: bool) -> ExitCode {
    if !path.exists() {
        let e = Error::Io {
            message: format!("{} does not exist", path.display()),
            source: None,
        };
        if json_out {
            print_json(
                &json!({"ok": false, "could_not_open": true, "error": {"code": e.code(), "message": e.to_string()}}),
            );
        }
        eprintln!("error [{}]: {e}", e.code());
        return ExitCode::from(2);
    }
    let db = match Database::open_with(
        path,
        OpenOptions {
            migrate: false,
            external_replicator,
            ..Default::default()
        },
    ) {
        Ok(db) => db,
        Err(e) => {
            if json_out {
                print_json(
                    &json!({"ok": false, "could_not_open": true, "error": {"code": e.code(), "message": e.to_string()}}),
                );
            }
            eprintln!("error [{}]: {e}", e.code());
            return ExitCode::from(2);
        }
    };
    let report = match db.health() {
        Ok(h) => h,
        Err(e) => return fail(&e),
    };
    // The file's problems and the content checks: the core's verdict.
    let problems = report.findings();
    let index = db.vector_index_info().ok();
    if json_out {
        print_json(&json!({
            "ok": problems.is_empty(),
            "problems": problems,
            "health": serde_json::to_value(&report).unwrap_or(Value::Null),
            "vector_index": index.map(|i| serde_json::to_value(i).unwrap_or(Value::Null)),
            "warnings": db.warnings(),
        }));
    } else {
        println!("Resonance doctor — {}", report.path);
        println!("  SQLite {} · journal {} · busy_timeout {} ms · synchronous {} · mmap {} · foreign_keys {} · temp_store {}",
            report.sqlite_version, report.journal_mode, report.busy_timeout_ms, report.synchronous, report.mmap_size,
            report.foreign_keys, report.temp_store);
        println!(
            "  quick_check: {} · write probe: {}",
            report.quick_check, report.write_probe
        );
        println!("  schema: {}", report.schema.shape);
        for row in &report.schema.drizzle_ledger {
            println!(
                "    application step {} (created_at {})",
                row.hash,
                row.created_at.unwrap_or(0)
            );
        }
        for m in &report.schema.resonance_applied {
            println!(
                "    Resonance V{} {} applied {}",
                m.version, m.name, m.applied_on
            );
        }
        if report.schema.pending.is_empty() {
            println!("    pending: none");
        } else {
            println!("    pending: {}", report.schema.pending.join(", "));
        }
        println!(
            "  nodes {} · edges {} · dangling edges {}",
            report.nodes, report.edges, report.dangling_edges
        );
        println!(
            "  vectors {} · dimensions {:?} · zero {} · not unit {} · malformed {}",
            report.vectors.count,
            report.vectors.dimensions,
            report.vectors.zero,
            report.vectors.non_normalised,
            report.vectors.malformed
        );
        let verdict = if report.stats.errors.is_empty() && report.stats.warnings.is_empty() {
            "no findings".to_string()
        } else {
            format!(
                "{} errors, {} warnings",
                report.stats.errors.len(),
                report.stats.warnings.len()
            )
        };
        let judged = match report.stats.snapshot.as_ref().and_then(|s| s.id) {
            Some(id) => format!("snapshot {id}"),
            None => "the live counts (no snapshot recorded)".to_string(),
        };
        println!("  stats: {judged} · {verdict}");
        for f in &report.stats.errors {
            println!("    error [{}]: {}", f.code, f.message);
        }
        for f in &report.stats.warnings {
            println!("    warning [{}]: {}", f.code, f.message);
        }
        println!(
            "  replication: external replicator {} · Litestream tables {}",
            if report.external_replicator {
                "declared (restart/truncate checkpoints and VACUUM refused)"
            } else {
                "not declared"
            },
            if report.litestream_seen {
                "present (Litestream has replicated this file)"
            } else {
                "absent"
            }
        );
        if report.litestream_seen && !report.external_replicator {
            println!("  warning: Litestream replicates this file: open it with external_replicator (docs/scaling.md)");
        }
        for w in db.warnings() {
            println!("  warning: {w}");
        }
        if problems.is_empty() {
            println!("  healthy");
        } else {
            for p in &problems {
                println!("  problem: {p}");
            }
        }
    }
    if problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
