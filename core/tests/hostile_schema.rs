//! Hostile schemas: files whose engine tables carry odd columns, triggers, views, expression indexes and
//! crafted `resonance_meta` values, on every legacy and Drizzle base shape. Each file is opened in a
//! child process with a time limit (open, health, a write, a search, close): the outcome must be a
//! typed error or a correct adoption (every row kept), never attacker SQL run (payloads try to attach a
//! marker database, create a marker table, write a marker file), a hang or an abort.
//!
//! Default: 60 generated files (well under 30 s in a debug build); `RESONANCE_SOAK=1`: 400.
//! Child processes re-run this binary's `child_entry` with `RESONANCE_REL_CHILD` naming the role
//! (helpers in `common/procs.rs`).

mod common;
#[path = "common/procs.rs"]
mod procs;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{build, file_hash, snapshot, Fixture};
use procs::{child, run_with_timeout, soak, Rng};
use resonance::{Database, NodeInput, SearchOptions};
use rusqlite::Connection;
use serde_json::{json, Value};

const DIM: usize = 8;

/// How long one child may take before it counts as a hang.
const CHILD_LIMIT: Duration = Duration::from_secs(60);

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("child needs {name}"))
}

fn code(r: Result<(), resonance::Error>) -> String {
    match r {
        Ok(()) => "ok".into(),
        Err(e) => {
            eprintln!("CHILD-ERROR [{}] {e}", e.code());
            e.code().to_string()
        }
    }
}

/// Opens the file, then health, a write with a vector, a search, stats and close; prints one JSON line.
fn child_open_all() {
    let path = PathBuf::from(env("RESONANCE_REL_DB"));
    let mut out = serde_json::Map::new();
    match Database::open(&path) {
        Err(e) => {
            out.insert("open".into(), json!(e.code()));
            out.insert("message".into(), json!(e.to_string()));
        }
        Ok(db) => {
            out.insert("open".into(), json!("ok"));
            match db.health() {
                Ok(h) => {
                    out.insert("health".into(), json!("ok"));
                    out.insert("problems".into(), json!(h.problems()));
                }
                Err(e) => {
                    out.insert("health".into(), json!(e.code()));
                }
            }
            let mut n = NodeInput::new("hostile-new");
            n.title = Some("written".into());
            n.embedding = Some(procs::vector(7, DIM));
            out.insert("write".into(), json!(code(db.upsert_node(&n))));
            let q = procs::vector(7, DIM);
            let hits = db.search(&q, &SearchOptions::default());
            out.insert(
                "search_top".into(),
                json!(hits
                    .as_ref()
                    .ok()
                    .and_then(|h| h.first())
                    .map(|h| h.id.clone())),
            );
            out.insert("search".into(), json!(code(hits.map(|_| ()))));
            out.insert("stats".into(), json!(code(db.stats().map(|_| ()))));
            out.insert("close".into(), json!(code(db.close())));
        }
    }
    println!("OUTCOME {}", Value::Object(out));
}

/// Opens the file, lets a plain connection plant an endless trigger, then writes through the handle.
fn child_late_trigger() {
    let path = PathBuf::from(env("RESONANCE_REL_DB"));
    let db = Database::open(&path).unwrap();
    Connection::open(&path)
        .unwrap()
        .execute_batch(ENDLESS_TRIGGER_ON_NODES)
        .unwrap();
    let mut n = NodeInput::new("late");
    n.embedding = Some(procs::vector(3, DIM));
    let w = code(db.upsert_node(&n));
    println!("OUTCOME {}", json!({"open": "ok", "write": w}));
    db.close().unwrap();
}

/// A trigger whose body never ends (an unbounded recursive CTE).
const ENDLESS_TRIGGER_ON_NODES: &str = "CREATE TRIGGER endless AFTER INSERT ON nodes BEGIN \
     SELECT count(*) FROM (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT x FROM c); END;";

/// Child-process entry: does what `RESONANCE_REL_CHILD` says, then exits (a no-op test otherwise).
#[test]
fn child_entry() {
    let Ok(role) = std::env::var("RESONANCE_REL_CHILD") else {
        return;
    };
    match role.as_str() {
        "open_all" => child_open_all(),
        "late_trigger" => child_late_trigger(),
        other => panic!("unknown child role {other}"),
    }
    std::process::exit(0);
}

/// Runs `role` on `db` in a child; the parsed OUTCOME line, or a panic describing a hang, an abort or a
/// crash.
fn run_child(role: &str, db: &Path, what: &str) -> serde_json::Map<String, Value> {
    let out = run_with_timeout(
        child(role, &[("RESONANCE_REL_DB", db.display().to_string())]),
        CHILD_LIMIT,
    );
    let status = out
        .status
        .unwrap_or_else(|| panic!("{what}: the child hung (killed after {CHILD_LIMIT:?})"));
    assert!(
        status.success(),
        "{what}: the child died ({status:?}; an abort or panic)\nstdout: {}\nstderr: {}",
        out.stdout,
        out.stderr.chars().take(4000).collect::<String>()
    );
    let line = out
        .stdout
        .lines()
        .find_map(|l| l.find("OUTCOME ").map(|at| &l[at + "OUTCOME ".len()..]))
        .unwrap_or_else(|| panic!("{what}: no outcome\n{}\n{}", out.stdout, out.stderr));
    match serde_json::from_str(line).unwrap() {
        Value::Object(m) => m,
        other => panic!("{other}"),
    }
}

/// A current database (made by Resonance) whose `resonance_meta.dimension` is then set to `value`.
fn with_dimension(path: &Path, value: &str) {
    build(path, Fixture::Current, 10);
    Database::open(path).unwrap().close().unwrap();
    Connection::open(path)
        .unwrap()
        .execute(
            &format!(
                "INSERT OR REPLACE INTO resonance_meta (key, value) VALUES ('dimension', {value})"
            ),
            [],
        )
        .unwrap();
}

#[test]
fn crafted_dimensions_are_corrupt_never_an_abort() {
    let dir = tempfile::tempdir().unwrap();
    let crafted = [
        "'1099511627776'",
        "'18446744073709551615'",
        "'250000001'",
        "'0'",
        "'-1'",
        "'abc'",
        "' 8'",
        "'8.0'",
        "1099511627776",
        "x'00'",
    ];
    for (i, v) in crafted.iter().enumerate() {
        let p = dir.path().join(format!("{i}.db"));
        with_dimension(&p, v);
        let o = run_child("open_all", &p, &format!("dimension {v}"));
        assert_eq!(o["open"], "ok", "dimension {v}: {o:?}");
        assert_eq!(o["search"], "corrupt", "dimension {v}: {o:?}");
        assert_eq!(o["write"], "corrupt", "dimension {v}: {o:?}");
        assert_eq!(o["close"], "ok", "dimension {v}: {o:?}");
    }
    // The largest allowed dimension with no blob of that size: nothing is allocated for it.
    let p = dir.path().join("max.db");
    // 250,000,000: the documented largest dimension (a blob of 1e9 bytes, SQLite's length limit).
    with_dimension(&p, "'250000000'");
    let o = run_child("open_all", &p, "dimension MAX_DIMENSION");
    assert_eq!(o["search"], "dimension_mismatch", "{o:?}");
    assert_eq!(o["write"], "dimension_mismatch", "{o:?}");
    // The control: a sound value works.
    let p = dir.path().join("ok.db");
    with_dimension(&p, "'8'");
    let o = run_child("open_all", &p, "dimension 8");
    assert_eq!(
        (&o["write"], &o["search"]),
        (&json!("ok"), &json!("ok")),
        "{o:?}"
    );
    assert_eq!(o["search_top"], "hostile-new");
}

#[test]
fn endless_triggers_hang_neither_open_nor_writes() {
    let dir = tempfile::tempdir().unwrap();
    // Planted in the file: refused at open, byte-identical.
    for (fixture, sql) in [
        (
            Fixture::FailedUpgrade,
            "CREATE TRIGGER endless_ledger AFTER INSERT ON \"__drizzle_migrations\" BEGIN \
             SELECT count(*) FROM (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT x FROM c); END;"
                .to_string(),
        ),
        (Fixture::Current, ENDLESS_TRIGGER_ON_NODES.to_string()),
    ] {
        let p = dir.path().join(format!("{fixture:?}.db"));
        build(&p, fixture, 10);
        Connection::open(&p).unwrap().execute_batch(&sql).unwrap();
        let hash = file_hash(&p);
        let o = run_child("open_all", &p, &format!("{fixture:?} endless trigger"));
        assert_eq!(o["open"], "schema_unknown", "{o:?}");
        assert_eq!(file_hash(&p), hash);
    }
    // Planted by another program after open: never fired by the engine's write.
    let p = dir.path().join("late.db");
    build(&p, Fixture::Current, 10);
    let o = run_child("late_trigger", &p, "late endless trigger");
    assert_eq!(o["write"], "ok", "{o:?}");
}

// ---------------------------------------------------------------------------------------------
// The generator.

/// What a generated file is made of, for the failure message.
#[derive(Debug, Clone)]
struct Recipe {
    base: String,
    statements: Vec<String>,
}

fn pick<'a, T>(r: &mut Rng, xs: &'a [T]) -> &'a T {
    &xs[r.range(0, xs.len() as u64) as usize]
}

/// SQL payloads that would leave a marker if they ever ran: an attached database file, a table in the
/// file, a file written by VACUUM INTO.
fn payloads(dir: &Path, i: usize) -> Vec<String> {
    let m = dir.join(format!("marker-{i}"));
    let m = m.display().to_string().replace('\'', "''");
    vec![
        format!("a); attach database '{m}-attach.db' as pw; create table pw.owned(x); --"),
        format!("text); create table pwned_marker(x); --"),
        format!("int); vacuum into '{m}-vacuum.db'; --"),
        format!("x) default (1)); attach '{m}-a2.db' as q; create table q.t(y); create table z (x"),
    ]
}

fn sql_str(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn sql_ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// One extra column definition (leading comma).
fn extra_column(r: &mut Rng, k: usize, pay: &[String]) -> String {
    let names = [
        format!("x{k}"),
        format!("odd \"q\" {k}"),
        format!("semi;colon{k}"),
        format!("Tab\tcol{k}"),
        format!("[br]{k}"),
    ];
    let name = sql_ident(pick::<String>(r, &names));
    let types = [
        "text".to_string(),
        "INTEGER".to_string(),
        "varchar(20)".to_string(),
        "NUMERIC(10, 2)".to_string(),
        "unsigned big int".to_string(),
        String::new(),
        sql_ident(pick::<String>(r, pay)),
        sql_str(pick::<String>(r, pay)),
    ];
    let ty = pick(r, &types).clone();
    let defaults = [
        String::new(),
        " DEFAULT 0".to_string(),
        " DEFAULT 'it''s'".to_string(),
        " DEFAULT (datetime('now'))".to_string(),
        " DEFAULT (1 + 2 * 3)".to_string(),
        " DEFAULT -1.5".to_string(),
        " DEFAULT CURRENT_TIMESTAMP".to_string(),
        " DEFAULT (lower('A'))".to_string(),
        format!(" DEFAULT {}", sql_str(pick::<String>(r, pay))),
    ];
    let dflt = pick(r, &defaults).clone();
    let extras = [
        "",
        "",
        " COLLATE NOCASE",
        " COLLATE rtrim",
        " COLLATE evil",
        " CHECK (length(id) > 0)",
        " REFERENCES nodes(id) ON DELETE SET NULL",
        " UNIQUE",
        " NOT NULL DEFAULT 0",
        " GENERATED ALWAYS AS (upper(title)) VIRTUAL",
        " AS (title || 'x') STORED",
        " NOT NULL ON CONFLICT REPLACE DEFAULT 1",
    ];
    let extra = *pick(r, &extras);
    let dflt = if extra.contains("DEFAULT") || extra.contains(" AS ") {
        String::new()
    } else {
        dflt
    };
    format!(", {name} {ty}{dflt}{extra}")
}

/// A trigger on one of the engine's tables whose body would leave a marker.
fn trigger(r: &mut Rng, k: usize) -> String {
    let tables = ["nodes", "edges", "history", "\"__drizzle_migrations\""];
    let events = [
        "AFTER INSERT",
        "BEFORE INSERT",
        "AFTER UPDATE",
        "AFTER DELETE",
    ];
    let bodies = [
        "INSERT INTO nodes (id) VALUES ('planted-' || random());",
        "DELETE FROM nodes WHERE id = 'node-0001';",
        "UPDATE nodes SET embedding = zeroblob(32);",
        "SELECT count(*) FROM (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT x FROM c);",
    ];
    format!(
        "CREATE TRIGGER planted_{k} {} ON {} BEGIN {} END",
        pick(r, &events),
        pick(r, &tables),
        pick(r, &bodies)
    )
}

fn recipe(r: &mut Rng, i: usize, dir: &Path) -> (Recipe, Option<String>) {
    let pay = payloads(dir, i);
    let bases = [
        "Current",
        "TwoSteps",
        "HandLedger",
        "LegacyV5",
        "LegacyV8",
        "LegacyV3",
        "FailedUpgrade",
        "LegacyV8Custom",
        "LegacyV8Custom",
        "LegacyV8Custom",
    ];
    let base = pick(r, &bases).to_string();
    let custom = if base == "LegacyV8Custom" {
        let n = r.range(1, 4) as usize;
        Some((0..n).map(|k| extra_column(r, k, &pay)).collect::<String>())
    } else {
        None
    };
    let mut st = Vec::new();
    for k in 0..r.range(0, 4) as usize {
        match r.range(0, 8) {
            0 | 1 => {
                let table = pick(r, &["nodes", "edges"]);
                st.push(format!(
                    "ALTER TABLE {table} ADD COLUMN {}",
                    extra_column(r, 10 + k, &pay).trim_start_matches(", ")
                ));
            }
            2 => st.push(trigger(r, k)),
            3 => st.push(format!(
                "CREATE VIEW v_{k} AS SELECT id, title FROM nodes WHERE title <> {}",
                sql_str(pick::<String>(r, &pay))
            )),
            4 => st.push(format!("CREATE INDEX ix_expr_{k} ON nodes(lower(title))")),
            5 => st.push(format!(
                "CREATE INDEX ix_part_{k} ON edges(type) WHERE confidence > 0.5"
            )),
            6 => {
                st.push(
                    "CREATE TABLE IF NOT EXISTS resonance_meta (key text PRIMARY KEY NOT NULL, value text NOT NULL)"
                        .into(),
                );
                let vals = [
                    "'1099511627776'",
                    "'18446744073709551615'",
                    "'8'",
                    "'-3'",
                    "x'ff'",
                    "'9e9'",
                ];
                st.push(format!(
                    "INSERT OR REPLACE INTO resonance_meta (key, value) VALUES ({}, {})",
                    pick(r, &["'dimension'", "'fafcas_version'", "'zz'"]),
                    pick(r, &vals)
                ));
            }
            _ => st.push(format!(
                "CREATE TABLE resonance_x{k} (a {})",
                sql_ident(pick::<String>(r, &pay))
            )),
        }
    }
    (
        Recipe {
            base: match &custom {
                Some(c) => format!("LegacyV8Custom({c})"),
                None => base.clone(),
            },
            statements: st,
        },
        custom
            .or(Some(String::new()))
            .filter(|_| base == "LegacyV8Custom"),
    )
}

fn fixture_named(name: &str) -> Fixture {
    Fixture::ALL
        .into_iter()
        .find(|f| format!("{f:?}") == name)
        .unwrap_or_else(|| panic!("{name}"))
}

/// Every file in `dir` whose name starts with `marker`, and any marker table in `db`.
fn markers(dir: &Path, db: &Path) -> Vec<String> {
    let mut found: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("marker"))
        .collect();
    if let Ok(c) = Connection::open(db) {
        let mut st = c
            .prepare("SELECT name FROM sqlite_master WHERE name LIKE '%pwned%' OR name LIKE 'owned%' OR name = 'z'")
            .unwrap();
        found.extend(
            st.query_map([], |r| r.get::<_, String>(0))
                .unwrap()
                .map(|r| r.unwrap()),
        );
    }
    found
}

#[test]
fn generated_hostile_schemas_give_typed_errors_or_full_adoptions() {
    let files = if soak() { 400 } else { 60 };
    let dir = tempfile::tempdir().unwrap();
    let mut r = Rng::new(0x5eed_0005);
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    let mut examples: BTreeMap<String, String> = BTreeMap::new();
    let tables = ["nodes", "edges", "history", "ember_state"];
    for i in 0..files {
        let (recipe, custom) = recipe(&mut r, i, dir.path());
        let sub = dir.path().join(format!("f{i}"));
        std::fs::create_dir_all(&sub).unwrap();
        let path = sub.join("resonance.db");
        match &custom {
            Some(extra) => {
                if common::try_build_legacy_v8_nodes(&path, extra, 12).is_err() {
                    // SQLite refused the columns (or the rows under them): a plain v8 file instead.
                    std::fs::remove_file(&path).unwrap();
                    build(&path, Fixture::LegacyV8, 12);
                }
            }
            None => build(&path, fixture_named(&recipe.base), 12),
        }
        let applied: Vec<&String> = {
            let c = Connection::open(&path).unwrap();
            // A statement SQLite itself refuses is simply not part of this file.
            recipe
                .statements
                .iter()
                .filter(|s| c.execute_batch(s).is_ok())
                .collect()
        };
        let what = format!("file {i}: {recipe:?} (applied: {applied:?})");
        let before = snapshot(&Connection::open(&path).unwrap(), &tables);
        let hash = file_hash(&path);
        let o = run_child("open_all", &path, &what);
        let m = markers(dir.path(), &path);
        assert!(m.is_empty(), "{what}: attacker SQL ran: {m:?}");
        let open = o["open"].as_str().unwrap().to_string();
        if open == "ok" {
            let after = snapshot(&Connection::open(&path).unwrap(), &tables);
            for (table, rows) in &before {
                let a = &after[table];
                for (rowid, cols) in rows {
                    let got = a
                        .get(rowid)
                        .unwrap_or_else(|| panic!("{what}: {table} rowid {rowid} lost"));
                    for (col, v) in cols {
                        assert_eq!(got.get(col), Some(v), "{what}: {table} {rowid} {col}");
                    }
                }
            }
            for step in ["write", "search", "stats", "close"] {
                let c = o[step].as_str().unwrap();
                assert!(
                    ["ok", "corrupt", "dimension_mismatch"].contains(&c),
                    "{what}: {step} gave {c}: {o:?}"
                );
            }
            let planted: i64 = Connection::open(&path)
                .unwrap()
                .query_row(
                    "SELECT count(*) FROM nodes WHERE id LIKE 'planted%'",
                    [],
                    |r| r.get(0),
                )
                .unwrap();
            assert_eq!(planted, 0, "{what}: a planted trigger fired");
            *counts.entry("adopted".into()).or_default() += 1;
        } else {
            assert!(
                [
                    "schema_unknown",
                    "migration_failed",
                    "corrupt",
                    "schema_too_new"
                ]
                .contains(&open.as_str()),
                "{what}: open gave {open}: {o:?}"
            );
            if open == "schema_unknown" {
                assert_eq!(file_hash(&path), hash, "{what}: refused but changed");
            }
            examples
                .entry(open.clone())
                .or_insert_with(|| o["message"].as_str().unwrap_or_default().to_string());
            *counts.entry(open).or_default() += 1;
        }
    }
    println!("hostile schemas: {files} files, outcomes {counts:?}");
    for (kind, msg) in &examples {
        println!(
            "  e.g. {kind}: {}",
            msg.chars().take(300).collect::<String>()
        );
    }
    assert!(
        counts.get("adopted").copied().unwrap_or(0) > 0 && counts.len() > 1,
        "the generator exercises both outcomes: {counts:?}"
    );
}
