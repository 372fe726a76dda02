//! The `resonance` command end to end: exit codes, JSON output, dry runs that change nothing, backups,
//! import/export round trips and the line of the first bad record.

use std::path::Path;
use std::process::{Command, Output};

fn resonance(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_resonance"))
        .args(args)
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn sql(db: &Path, q: &str) -> String {
    let o = resonance(&["sql", db.to_str().unwrap(), q]);
    assert!(o.status.success(), "{}", text(&o));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn demo_builds_searches_and_reports() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.db");
    let o = resonance(&["demo", "--db", db.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let out = text(&o);
    for needle in ["search:", "pillars", "communities:", "health: journal wal"] {
        assert!(out.contains(needle), "{needle} missing in:\n{out}");
    }
    // doctor: the demo database is healthy.
    let o = resonance(&["doctor", db.to_str().unwrap(), "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["ok"], true);
    assert_eq!(v["health"]["journal_mode"], "wal");
    assert_eq!(v["health"]["schema"]["shape"], "current");
    // search --text and --like, graph commands.
    let o = resonance(&[
        "search",
        db.to_str().unwrap(),
        "--text",
        "busy timeout WAL",
        "-k",
        "3",
        "--json",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let hits: Vec<serde_json::Value> = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(hits.len(), 3);
    let like = hits[0]["id"].as_str().unwrap();
    let o = resonance(&["search", db.to_str().unwrap(), "--like", like, "--json"]);
    assert!(o.status.success(), "{}", text(&o));
    for args in [
        vec!["pillars", "--top", "3"],
        vec!["components"],
        vec!["stats"],
        vec!["communities", "--seed", "7"],
    ] {
        let mut a = vec!["graph", db.to_str().unwrap()];
        a.extend(args.iter());
        a.push("--json");
        let o = resonance(&a);
        assert!(o.status.success(), "{:?}: {}", args, text(&o));
        let _: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    }
    let o = resonance(&["graph", db.to_str().unwrap(), "neighbors", "no-such-node"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("not_found"));
}

#[test]
fn doctor_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.db");
    assert_eq!(
        resonance(&["doctor", missing.to_str().unwrap()])
            .status
            .code(),
        Some(2)
    );
    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, vec![b'x'; 200]).unwrap();
    let o = resonance(&["doctor", junk.to_str().unwrap(), "--json"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("not_a_database"));
    // An empty database has problems (no nodes): exit 1.
    let empty = dir.path().join("empty.db");
    assert!(resonance(&["stats", empty.to_str().unwrap()])
        .status
        .success());
    let o = resonance(&["doctor", empty.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("no nodes"));
}

#[test]
fn migrate_dry_run_changes_nothing_then_migrates_with_a_backup() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("legacy.db");
    let c = rusqlite::Connection::open(&db).unwrap();
    c.execute_batch(
        "CREATE TABLE nodes (id TEXT PRIMARY KEY, type TEXT, title TEXT, content TEXT, domain TEXT, layer TEXT, embedding BLOB, hash TEXT, meta TEXT, date TEXT);
         CREATE TABLE edges (source TEXT, target TEXT, type TEXT, confidence REAL DEFAULT 1, veracity REAL DEFAULT 1, context_source TEXT, PRIMARY KEY (source, target, type));
         INSERT INTO nodes (id, title, content) VALUES ('a', 'A', 'body');
         PRAGMA user_version = 7;",
    )
    .unwrap();
    drop(c);
    let before = std::fs::read(&db).unwrap();
    let o = resonance(&["migrate", db.to_str().unwrap(), "--dry-run", "--json"]);
    assert!(o.status.success(), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["shape_before"], "legacy_v5_v8");
    assert_eq!(v["dry_run"], true);
    assert!(v["steps"][0]["sql"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s.as_str().unwrap().contains("CREATE TABLE")));
    assert_eq!(
        std::fs::read(&db).unwrap(),
        before,
        "the dry run changed nothing"
    );
    assert!(!dir.path().join("backups").exists());
    let o = resonance(&["migrate", db.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("backup:"), "{}", text(&o));
    assert_eq!(
        std::fs::read_dir(dir.path().join("backups"))
            .unwrap()
            .count(),
        1
    );
    let rows = sql(&db, "SELECT id, content FROM nodes");
    assert!(rows.contains("\"content\":\"body\""), "{rows}");
    let o = resonance(&["migrate", db.to_str().unwrap()]);
    assert!(text(&o).contains("nothing to do"), "{}", text(&o));
    // backup to a chosen path, refused when it exists.
    let dest = dir.path().join("copy.db");
    assert!(
        resonance(&["backup", db.to_str().unwrap(), dest.to_str().unwrap()])
            .status
            .success()
    );
    let o = resonance(&["backup", db.to_str().unwrap(), dest.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("invalid_argument"));
}

#[test]
fn import_export_round_trip_and_all_or_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("a.db");
    let good = dir.path().join("good.jsonl");
    std::fs::write(
        &good,
        concat!(
            "{\"kind\":\"node\",\"id\":\"a\",\"title\":\"A\",\"meta\":{\"x\":1},\"embedding\":[3,4]}\n",
            "{\"kind\":\"node\",\"id\":\"b\",\"embedding\":[1,0]}\n",
            "\n",
            "{\"kind\":\"edge\",\"source\":\"a\",\"target\":\"b\",\"type\":\"cites\",\"confidence\":0.5}\n",
        ),
    )
    .unwrap();
    let o = resonance(&["import", db.to_str().unwrap(), good.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("imported 2 nodes and 1 edges"));
    let out = dir.path().join("out.jsonl");
    assert!(
        resonance(&["export", db.to_str().unwrap(), out.to_str().unwrap()])
            .status
            .success()
    );
    let exported = std::fs::read_to_string(&out).unwrap();
    let lines: Vec<serde_json::Value> = exported
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["embedding"], serde_json::json!([0.6f32, 0.8f32]));
    assert_eq!(lines[0]["meta"], serde_json::json!({"x": 1}));
    assert_eq!(lines[2]["confidence"], 0.5);
    // Re-importing the export into a fresh database gives the same export.
    let db2 = dir.path().join("b.db");
    assert!(
        resonance(&["import", db2.to_str().unwrap(), out.to_str().unwrap()])
            .status
            .success()
    );
    let out2 = dir.path().join("out2.jsonl");
    assert!(
        resonance(&["export", db2.to_str().unwrap(), out2.to_str().unwrap()])
            .status
            .success()
    );
    assert_eq!(std::fs::read_to_string(&out2).unwrap(), exported);
    // A bad record on line 3: nothing is imported, the line is named.
    let bad = dir.path().join("bad.jsonl");
    std::fs::write(
        &bad,
        "{\"kind\":\"node\",\"id\":\"c\",\"embedding\":[1,0]}\n{\"kind\":\"node\",\"id\":\"d\"}\n{\"kind\":\"node\",\"id\":\"e\",\"embedding\":[1,0,0]}\n",
    )
    .unwrap();
    let o = resonance(&["import", db.to_str().unwrap(), bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o).contains("line 3") && text(&o).contains("dimension_mismatch"),
        "{}",
        text(&o)
    );
    assert_eq!(
        sql(&db, "SELECT count(*) AS n FROM nodes").trim(),
        "{\"n\":2}"
    );
    let bad = dir.path().join("bad2.jsonl");
    std::fs::write(&bad, "{\"kind\":\"node\",\"id\":\"c\"}\nnot json\n").unwrap();
    let o = resonance(&["import", db.to_str().unwrap(), bad.to_str().unwrap()]);
    assert!(text(&o).contains("line 2"), "{}", text(&o));
    assert_eq!(
        sql(&db, "SELECT count(*) AS n FROM nodes").trim(),
        "{\"n\":2}"
    );
}
