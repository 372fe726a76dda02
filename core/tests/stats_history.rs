//! Stats history and validation from outside (docs/stats.md): what a crafted file, a read-only
//! handle and bad input do to `record_stats`, `stats_history` and `validate_stats`.

use std::path::Path;

use resonance::{
    CheckpointMode, Database, NodeInput, OpenOptions, RecordStatsOptions, StatsValidationOptions,
};
use rusqlite::Connection;

fn node(id: &str, embedding: Option<Vec<f32>>) -> NodeInput {
    NodeInput {
        id: id.into(),
        embedding,
        ..Default::default()
    }
}

/// Every row of `sql` (two columns) read through a plain connection.
fn query<A: rusqlite::types::FromSql, B: rusqlite::types::FromSql>(
    p: &Path,
    sql: &str,
) -> Vec<(A, B)> {
    let c = Connection::open(p).unwrap();
    let mut s = c.prepare(sql).unwrap();
    let out = s
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    out
}

fn rows(p: &Path) -> Vec<(i64, Option<String>)> {
    query(
        p,
        "SELECT id, label FROM resonance_stats_history ORDER BY id",
    )
}

fn rows_raw(p: &Path) -> Vec<(i64, String)> {
    query(
        p,
        "SELECT id, evil FROM resonance_stats_history ORDER BY id",
    )
}

#[test]
fn record_read_back_keep_and_judge() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.db");
    let db = Database::open(&p).unwrap();
    // Nothing recorded: the live counts are judged.
    let v = db.validate_stats(&Default::default()).unwrap();
    assert_eq!(v.errors[0].code, "empty_database");
    assert!(v.snapshot.unwrap().id.is_none());
    db.upsert_node(&node("a", Some(vec![1.0, 0.0]))).unwrap();
    db.upsert_node(&node("b", Some(vec![0.0, 1.0]))).unwrap();
    db.add_edge(&resonance::EdgeInput::new("a", "b")).unwrap();
    let first = db
        .record_stats(&RecordStatsOptions {
            label: Some("first".into()),
            meta: Some(r#"{"run": 1}"#.into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!((first.nodes, first.edges, first.vectors), (2, 1, 2));
    assert_eq!(first.dimension, Some(2));
    assert_eq!(first.label.as_deref(), Some("first"));
    assert_eq!(first.meta.as_deref(), Some(r#"{"run": 1}"#));
    assert!(first.recorded_at.ends_with('Z'), "{}", first.recorded_at);
    let v = db.validate_stats(&Default::default()).unwrap();
    assert!(v.errors.is_empty() && v.warnings.is_empty(), "{v:?}");
    // The same counts again: no growth.
    db.record_stats(&Default::default()).unwrap();
    let v = db.validate_stats(&Default::default()).unwrap();
    assert_eq!(v.warnings[0].code, "no_growth", "{v:?}");
    assert!(db.health().unwrap().stats.warnings[0].code == "no_growth");
    // A node deleted (half of them): shrinkage, an error doctor fails on.
    db.delete_node("b").unwrap();
    db.record_stats(&Default::default()).unwrap();
    let v = db.validate_stats(&Default::default()).unwrap();
    let codes: Vec<_> = v.errors.iter().map(|f| f.code.as_str()).collect();
    assert_eq!(codes, ["shrinkage", "shrinkage", "shrinkage"], "{v:?}");
    assert!(db
        .health()
        .unwrap()
        .findings()
        .iter()
        .any(|f| f.starts_with("stats shrinkage")));
    // keep: only the newest stay.
    for i in 0..5 {
        db.record_stats(&RecordStatsOptions {
            label: Some(format!("k{i}")),
            keep: 3,
            ..Default::default()
        })
        .unwrap();
    }
    let h = db.stats_history(10).unwrap();
    let labels: Vec<_> = h.iter().map(|s| s.label.clone().unwrap()).collect();
    assert_eq!(labels, ["k4", "k3", "k2"]);
    assert_eq!(db.stats_history(1).unwrap().len(), 1);
    assert!(db.stats_history(0).unwrap().is_empty());
}

#[test]
fn bad_input_is_a_typed_error_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.db");
    let db = Database::open(&p).unwrap();
    db.record_stats(&Default::default()).unwrap();
    for bad in [
        RecordStatsOptions {
            label: Some("x".repeat(10 * 1024 * 1024)),
            ..Default::default()
        },
        RecordStatsOptions {
            meta: Some("{\"a\": ".into()),
            ..Default::default()
        },
        RecordStatsOptions {
            meta: Some(format!("\"{}\"", "y".repeat(1 << 20))),
            ..Default::default()
        },
        RecordStatsOptions {
            keep: 0,
            ..Default::default()
        },
    ] {
        let e = db.record_stats(&bad).unwrap_err();
        assert_eq!(e.code(), "invalid_argument", "{e}");
    }
    let bad = StatsValidationOptions {
        max_shrink_ratio: 2.0,
        ..Default::default()
    };
    assert_eq!(
        db.validate_stats(&bad).unwrap_err().code(),
        "invalid_argument"
    );
    assert_eq!(rows(&p).len(), 1);
}

#[test]
fn a_read_only_handle_reads_history_and_refuses_to_record() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.db");
    let db = Database::open(&p).unwrap();
    db.record_stats(&RecordStatsOptions {
        label: Some("rw".into()),
        ..Default::default()
    })
    .unwrap();
    let ro = Database::open_with(
        &p,
        OpenOptions {
            read_only: true,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(
        ro.record_stats(&Default::default()).unwrap_err().code(),
        "readonly"
    );
    let h = ro.stats_history(10).unwrap();
    assert_eq!(h.len(), 1);
    assert_eq!(h[0].label.as_deref(), Some("rw"));
    assert!(ro.validate_stats(&Default::default()).is_ok());
    assert_eq!(ro.health().unwrap().stats.errors[0].code, "empty_database");
    assert_eq!(rows(&p).len(), 1);
}

#[test]
fn a_planted_table_fails_the_migration_and_leaves_the_file_alone() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.db");
    // A database at V1 only (as written before the stats history existed), with a table of the
    // new name planted by someone else.
    Database::open(&p).unwrap().close().unwrap();
    {
        let c = Connection::open(&p).unwrap();
        c.execute_batch(
            "DROP TABLE resonance_stats_history; \
             DELETE FROM resonance_schema_history WHERE version = 2; \
             CREATE TABLE resonance_stats_history (id integer PRIMARY KEY, evil text); \
             INSERT INTO resonance_stats_history VALUES (1, 'planted');",
        )
        .unwrap();
    }
    let before = rows_raw(&p);
    let e = Database::open(&p).unwrap_err();
    assert_eq!(e.code(), "migration_failed", "{e}");
    assert!(e.to_string().contains("resonance_stats_history"), "{e}");
    assert_eq!(rows_raw(&p), before);
    // Opened without migrating, the table of another shape is `schema_unknown`, and health says so.
    let db = Database::open_with(
        &p,
        OpenOptions {
            migrate: false,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(db.stats_history(5).unwrap_err().code(), "schema_unknown");
    assert_eq!(
        db.record_stats(&Default::default()).unwrap_err().code(),
        "schema_unknown"
    );
    let h = db.health().unwrap();
    assert_eq!(h.stats.errors[0].code, "stats_unreadable", "{:?}", h.stats);
    assert_eq!(rows_raw(&p), before);
}

#[test]
fn crafted_rows_are_corrupt_naming_the_row() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.db");
    let db = Database::open(&p).unwrap();
    db.record_stats(&Default::default()).unwrap();
    {
        let c = Connection::open(&p).unwrap();
        c.execute_batch(
            "INSERT INTO resonance_stats_history VALUES \
             (7, 'now', -5, 0, 0, 0, NULL, 0, 0, 0, NULL, NULL)",
        )
        .unwrap();
    }
    let e = db.stats_history(10).unwrap_err();
    assert_eq!(e.code(), "corrupt", "{e}");
    assert!(e.to_string().contains("row 7"), "{e}");
    assert_eq!(
        db.health().unwrap().stats.errors[0].code,
        "stats_unreadable"
    );
    {
        let c = Connection::open(&p).unwrap();
        c.execute_batch(
            "UPDATE resonance_stats_history SET nodes = 3, label = x'ff00' WHERE id = 7",
        )
        .unwrap();
    }
    assert_eq!(db.stats_history(10).unwrap_err().code(), "corrupt");
    // Invalid JSON meta written by another program is read back as the text it is.
    {
        let c = Connection::open(&p).unwrap();
        c.execute_batch(
            "UPDATE resonance_stats_history SET label = 'l', meta = '{oops' WHERE id = 7",
        )
        .unwrap();
    }
    let h = db.stats_history(10).unwrap();
    assert_eq!(h[0].meta.as_deref(), Some("{oops"));
}

#[test]
fn an_external_replicator_handle_refuses_what_resets_the_wal() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.db");
    let db = Database::open_with(
        &p,
        OpenOptions {
            external_replicator: true,
            ..Default::default()
        },
    )
    .unwrap();
    db.upsert_node(&node("a", None)).unwrap();
    for mode in [CheckpointMode::Truncate, CheckpointMode::Restart] {
        let e = db.checkpoint(mode).unwrap_err();
        assert_eq!(e.code(), "invalid_argument");
        assert!(e.to_string().contains("external_replicator"), "{e}");
    }
    assert!(db.checkpoint(CheckpointMode::Passive).is_ok());
    assert_eq!(db.vacuum().unwrap_err().code(), "invalid_argument");
    assert!(db.health().unwrap().external_replicator);
    // Without the option, both work as before.
    let plain = Database::open(dir.path().join("b.db")).unwrap();
    assert!(plain.checkpoint(CheckpointMode::Truncate).is_ok());
    assert!(plain.vacuum().is_ok());
    assert!(!plain.health().unwrap().external_replicator);
}
