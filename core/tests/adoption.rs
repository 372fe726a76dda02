//! Adoption of every database shape of docs/schema.md, read-only handles, the hardening canon read back,
//! concurrent adoption by two processes, and SIGKILL during adoption.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::{build, file_hash, snapshot, Fixture};
use resonance::schema::{self, Shape};
use resonance::{Database, OpenOptions};
use rusqlite::Connection;

const TABLES: [&str; 6] = [
    "nodes",
    "edges",
    "ember_state",
    "history",
    "_health",
    "__drizzle_migrations",
];

fn fresh_structure(dir: &Path) -> BTreeMap<String, Vec<schema::ColumnInfo>> {
    let p = dir.join("fresh.db");
    Database::open(&p).unwrap().close().unwrap();
    let c = Connection::open(&p).unwrap();
    normalise(schema::structure(&c).unwrap())
}

/// Drops what may legitimately differ: the documented leftovers (`content`, a stray `_health`).
fn normalise(
    mut s: BTreeMap<String, Vec<schema::ColumnInfo>>,
) -> BTreeMap<String, Vec<schema::ColumnInfo>> {
    s.remove("table _health");
    if let Some(cols) = s.get_mut("table nodes") {
        cols.retain(|c| c.name != "content");
    }
    s
}

fn ledger(conn: &Connection) -> Vec<(Option<i64>, String, i64)> {
    let mut st = conn.prepare("SELECT id, hash, CAST(created_at AS INTEGER) FROM \"__drizzle_migrations\" ORDER BY created_at").unwrap();
    st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(|r| r.unwrap())
        .collect()
}

fn backups(db: &Path) -> Vec<PathBuf> {
    let dir = db.parent().unwrap().join("backups");
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn every_shape_is_adopted_without_losing_a_byte() {
    let dir = tempfile::tempdir().unwrap();
    let fresh = fresh_structure(dir.path());
    for fixture in Fixture::ALL {
        let sub = dir.path().join(format!("{fixture:?}"));
        std::fs::create_dir_all(&sub).unwrap();
        let path = sub.join("resonance.db");
        build(&path, fixture, 40);
        let before = snapshot(&Connection::open(&path).unwrap(), &TABLES);
        let hash_before = file_hash(&path);

        let opened = Database::open(&path);
        if fixture == Fixture::Unknown {
            let err = opened.unwrap_err();
            assert_eq!(err.code(), "schema_unknown", "{err}");
            assert!(
                err.to_string().contains("documents"),
                "the error names what was found: {err}"
            );
            assert_eq!(
                file_hash(&path),
                hash_before,
                "unknown schema: file bytes unchanged"
            );
            assert!(backups(&path).is_empty());
            continue;
        }
        let db = opened.unwrap_or_else(|e| panic!("{fixture:?}: {e}"));
        if fixture == Fixture::NewerApp {
            assert!(
                db.warnings().iter().any(|w| w.contains("newer")),
                "{:?}",
                db.warnings()
            );
        }
        db.close().unwrap();

        let conn = Connection::open(&path).unwrap();
        let after = snapshot(&conn, &TABLES);
        // Every row, column value and blob that existed is identical (rowids included).
        for (table, rows) in &before {
            if table == "__drizzle_migrations" {
                continue;
            }
            let after_rows = after
                .get(table)
                .unwrap_or_else(|| panic!("{fixture:?}: table {table} lost"));
            assert_eq!(
                rows.len(),
                after_rows.len(),
                "{fixture:?}: row count of {table}"
            );
            for (rowid, cols) in rows {
                let a = after_rows
                    .get(rowid)
                    .unwrap_or_else(|| panic!("{fixture:?}: {table} rowid {rowid} lost"));
                for (col, v) in cols {
                    assert_eq!(
                        a.get(col),
                        Some(v),
                        "{fixture:?}: {table} rowid {rowid} column {col}"
                    );
                }
            }
        }
        // The application's ledger: the old rows kept, all three steps present.
        let l = ledger(&conn);
        let created: Vec<i64> = l.iter().map(|r| r.2).collect();
        if fixture == Fixture::NewerApp {
            assert_eq!(created.len(), 4);
        } else {
            assert_eq!(
                created,
                common::STEPS.iter().map(|s| s.0).collect::<Vec<_>>(),
                "{fixture:?}: ledger"
            );
        }
        if let Some(old) = before.get("__drizzle_migrations") {
            for row in old.values() {
                let hash = match row.get("hash") {
                    Some(rusqlite::types::Value::Text(h)) => h.clone(),
                    other => panic!("{other:?}"),
                };
                assert!(
                    l.iter().any(|r| r.1 == hash),
                    "{fixture:?}: old ledger row {hash} kept"
                );
            }
        }
        if fixture == Fixture::HandLedger {
            assert_eq!(l[2].0, Some(3), "hand ledger: integer ids continue");
        } else if fixture != Fixture::NewerApp {
            assert!(l
                .iter()
                .skip(before.get("__drizzle_migrations").map_or(0, |r| r.len()))
                .all(|r| r.0.is_none()));
        }
        // The schema equals a fresh database's (apart from the documented leftovers).
        let mut got = normalise(schema::structure(&conn).unwrap());
        if fixture == Fixture::NewerApp {
            // Opened without DDL: the application's own newer column stays, no Resonance tables.
            assert!(got
                .get("table nodes")
                .unwrap()
                .iter()
                .any(|c| c.name == "future_col"));
            assert!(!got.contains_key("table resonance_meta"));
            continue;
        }
        let mut want = fresh.clone();
        got.remove("table sqlite_sequence");
        want.remove("table sqlite_sequence");
        assert_eq!(
            got, want,
            "{fixture:?}: structure differs from a fresh database"
        );
        if fixture.is_legacy() {
            let cols = schema::table_columns(&conn, "nodes").unwrap();
            assert!(
                cols.iter().any(|c| c.name == "content"),
                "legacy content column kept"
            );
            let fts = schema::object_names(&conn, "table").unwrap();
            assert!(!fts.contains("nodes_fts"));
            assert!(schema::object_names(&conn, "trigger").unwrap().is_empty());
        }
        assert_eq!(
            schema::detect_shape(&conn).unwrap(),
            Shape::Drizzle {
                steps: 3,
                hand: fixture == Fixture::HandLedger
            }
        );
        // The backup holds the pre-adoption data and passes integrity_check.
        if fixture != Fixture::Current {
            let b = backups(&path);
            assert_eq!(b.len(), 1, "{fixture:?}: one backup: {b:?}");
            let bc = Connection::open(&b[0]).unwrap();
            let ok: String = bc
                .query_row("PRAGMA integrity_check", [], |r| r.get(0))
                .unwrap();
            assert_eq!(ok, "ok");
            assert_eq!(
                snapshot(&bc, &TABLES),
                before,
                "{fixture:?}: backup holds the pre-adoption data"
            );
        }
        // Opening again changes nothing (and takes no backup).
        drop(conn);
        let n_backups = backups(&path).len();
        let again = snapshot(&Connection::open(&path).unwrap(), &TABLES);
        Database::open(&path).unwrap().close().unwrap();
        assert_eq!(backups(&path).len(), n_backups);
        assert_eq!(snapshot(&Connection::open(&path).unwrap(), &TABLES), again);
    }
}

#[test]
fn fresh_database_gets_the_applications_ledger() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("deep/er/resonance.db");
    let db = Database::open(&p).unwrap();
    db.close().unwrap();
    let c = Connection::open(&p).unwrap();
    let l = ledger(&c);
    assert_eq!(l.len(), 3);
    for (row, step) in l.iter().zip(common::STEPS.iter()) {
        assert_eq!(
            row.0, None,
            "Drizzle writes NULL ids (SERIAL is no rowid alias)"
        );
        assert_eq!(row.1, step.1);
        assert_eq!(row.2, step.0);
    }
    // The DDL is what the application's migrations write.
    let sql: String = c
        .query_row(
            "SELECT sql FROM sqlite_master WHERE name='nodes'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(
        sql.contains("`id` text PRIMARY KEY NOT NULL") && sql.contains("`summary` text"),
        "{sql}"
    );
    // No backup for a new, empty database.
    assert!(backups(&p).is_empty());
    // A 0-byte file counts as new.
    let z = dir.path().join("zero.db");
    std::fs::write(&z, b"").unwrap();
    Database::open(&z).unwrap().close().unwrap();
    assert_eq!(ledger(&Connection::open(&z).unwrap()).len(), 3);
}

#[test]
fn pragmas_read_back_after_open() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.db");
    let db = Database::open(&p).unwrap();
    let h = db.health().unwrap();
    assert_eq!(h.journal_mode, "wal");
    assert_eq!(h.busy_timeout_ms, 5000);
    assert_eq!(h.synchronous, "NORMAL");
    assert_eq!(h.mmap_size, 0);
    assert!(h.foreign_keys);
    assert_eq!(h.temp_store, "MEMORY");
    assert_eq!(h.cache_size, -64000);
    assert_eq!(h.quick_check, "ok");
    assert_eq!(h.write_probe, "ok");
    assert_eq!(h.schema.shape, "current");
    assert!(h.schema.pending.is_empty());
    assert_eq!(
        h.schema.resonance_applied.len(),
        resonance::migrate::RESONANCE_MIGRATIONS.len()
    );
    assert!(h.problems().is_empty(), "{:?}", h.problems());
    // The write probe leaves no trace.
    db.close().unwrap();
    let c = Connection::open(&p).unwrap();
    assert!(!schema::object_names(&c, "table")
        .unwrap()
        .contains("resonance_write_probe"));
    // A custom busy timeout, and the floor.
    let db = Database::open_with(
        &p,
        OpenOptions {
            busy_timeout_ms: 1234 + 1000,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(db.health().unwrap().busy_timeout_ms, 2234);
    let err = Database::open_with(
        &p,
        OpenOptions {
            busy_timeout_ms: 999,
            ..Default::default()
        },
    )
    .unwrap_err();
    assert_eq!(err.code(), "invalid_argument");
}

#[test]
fn open_does_not_switch_wal_when_already_wal() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.db");
    Database::open(&p).unwrap().close().unwrap();
    // Another connection holds a read transaction.
    let reader = Connection::open(&p).unwrap();
    reader
        .execute_batch("BEGIN; SELECT count(*) FROM nodes;")
        .unwrap();
    let t = Instant::now();
    let db = Database::open_with(
        &p,
        OpenOptions {
            busy_timeout_ms: 1000,
            ..Default::default()
        },
    )
    .unwrap();
    assert!(
        t.elapsed() < Duration::from_millis(900),
        "no wait for a lock"
    );
    assert_eq!(db.health().unwrap().journal_mode, "wal");
    reader.execute_batch("COMMIT").unwrap();
}

#[test]
fn not_a_database_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("notes.txt");
    std::fs::write(&p, vec![b'x'; 4096]).unwrap();
    let h = file_hash(&p);
    assert_eq!(Database::open(&p).unwrap_err().code(), "not_a_database");
    assert_eq!(file_hash(&p), h);
    assert!(!dir.path().join("notes.txt-wal").exists());
}

struct RoMount(PathBuf);
impl Drop for RoMount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

/// A read-only view of `src` at `dst` (a read-only bind mount: permission bits do not stop root).
fn read_only_view(src: &Path, dst: &Path) -> RoMount {
    std::fs::create_dir_all(dst).unwrap();
    let ok = Command::new("mount")
        .arg("--bind")
        .arg(src)
        .arg(dst)
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
        && Command::new("mount")
            .args(["-o", "remount,ro,bind"])
            .arg(dst)
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
    assert!(
        ok,
        "this test needs a read-only bind mount (run as root on Linux)"
    );
    let m = RoMount(dst.to_path_buf());
    assert!(
        std::fs::write(dst.join("probe"), b"x").is_err(),
        "the view must be read-only"
    );
    m
}

#[test]
fn read_only_handles() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    std::fs::create_dir_all(&src).unwrap();
    // A current WAL database (Resonance keeps its -wal/-shm files).
    let p = src.join("a.db");
    {
        let db = Database::open(&p).unwrap();
        db.close().unwrap();
    }
    assert!(src.join("a.db-shm").exists() && src.join("a.db-wal").exists());
    // Not WAL: a legacy rollback-journal file.
    let legacy = src.join("legacy.db");
    build(&legacy, Fixture::LegacyV8, 5);
    // WAL but out of date: a two-step file switched to WAL by hand.
    let old = src.join("old.db");
    build(&old, Fixture::TwoSteps, 5);
    // Held open so its -wal/-shm files exist (a plain SQLite connection deletes them on close).
    let old_conn = Connection::open(&old).unwrap();
    old_conn
        .execute_batch("PRAGMA journal_mode=WAL; SELECT count(*) FROM nodes;")
        .unwrap();
    assert!(src.join("old.db-shm").exists());

    let view = dir.path().join("ro");
    let _m = read_only_view(&src, &view);
    let ro = OpenOptions {
        read_only: true,
        ..Default::default()
    };
    let db = Database::open_with(view.join("a.db"), ro.clone()).unwrap();
    let h = db.health().unwrap();
    assert!(h.query_only);
    assert_eq!(h.write_probe, "skipped (read-only handle)");
    assert_eq!(h.nodes, 0);
    let e = db
        .migrate(&resonance::MigrateOptions::default())
        .unwrap_err();
    assert_eq!(e.code(), "readonly");
    db.close().unwrap();

    let e = Database::open_with(view.join("legacy.db"), ro.clone()).unwrap_err();
    assert_eq!(e.code(), "readonly");
    assert!(e.to_string().contains("not in WAL"), "{e}");
    let e = Database::open_with(view.join("old.db"), ro.clone()).unwrap_err();
    assert_eq!(e.code(), "readonly");
    assert!(e.to_string().contains("needs migration"), "{e}");
    let e = Database::open_with(view.join("missing.db"), ro.clone()).unwrap_err();
    assert_eq!(e.code(), "io");
    drop(old_conn);
    // A WAL database whose -shm is missing in a read-only directory: the clear reason.
    drop(_m);
    std::fs::remove_file(src.join("a.db-shm")).unwrap();
    let _m = read_only_view(&src, &view);
    let e = Database::open_with(view.join("a.db"), ro).unwrap_err();
    assert_eq!(e.code(), "readonly");
    assert!(e.to_string().contains("not writable"), "{e}");
}

/// Child-process entry: does what RESONANCE_TEST_CHILD says, then exits.
#[test]
fn child_entry() {
    let Ok(what) = std::env::var("RESONANCE_TEST_CHILD") else {
        return;
    };
    let path = PathBuf::from(std::env::var("RESONANCE_TEST_DB").unwrap());
    if let Ok(start) = std::env::var("RESONANCE_TEST_START_AT_MS") {
        // Spin until the agreed instant so both children open at once.
        let start: u128 = start.parse().unwrap();
        while std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis()
            < start
        {
            std::hint::spin_loop();
        }
    }
    match what.as_str() {
        "open" => match Database::open(&path) {
            Ok(db) => {
                db.close().unwrap();
                std::process::exit(0)
            }
            Err(e) => {
                eprintln!("child error [{}]: {e}", e.code());
                std::process::exit(3)
            }
        },
        other => panic!("unknown child action {other}"),
    }
}

fn child(action: &str, db: &Path, start_at: Option<u128>) -> Command {
    let mut c = Command::new(std::env::current_exe().unwrap());
    c.args(["child_entry", "--exact", "--nocapture", "--test-threads=1"])
        .env("RESONANCE_TEST_CHILD", action)
        .env("RESONANCE_TEST_DB", db);
    if let Some(s) = start_at {
        c.env("RESONANCE_TEST_START_AT_MS", s.to_string());
    }
    c
}

#[test]
fn two_processes_adopt_the_same_file_once() {
    let dir = tempfile::tempdir().unwrap();
    let template = dir.path().join("template.db");
    build(&template, Fixture::LegacyV5, 30);
    for round in 0..50 {
        let p = dir.path().join(format!("r{round}/resonance.db"));
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::copy(&template, &p).unwrap();
        let start = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis()
            + 150;
        let mut ca = child("open", &p, Some(start))
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut cb = child("open", &p, Some(start))
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let oa = ca.wait().unwrap();
        let ob = cb.wait().unwrap();
        let ea = std::io::read_to_string(ca.stderr.take().unwrap()).unwrap();
        let eb = std::io::read_to_string(cb.stderr.take().unwrap()).unwrap();
        assert!(oa.success() && ob.success(), "round {round}: {ea} {eb}");
        let c = Connection::open(&p).unwrap();
        assert_eq!(
            ledger(&c).len(),
            3,
            "round {round}: each Drizzle step recorded once"
        );
        let r: i64 = c
            .query_row("SELECT count(*) FROM resonance_schema_history", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(
            r as usize,
            resonance::migrate::RESONANCE_MIGRATIONS.len(),
            "round {round}: each Resonance step recorded once"
        );
        let n: i64 = c
            .query_row("SELECT count(*) FROM nodes", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 30);
    }
}

#[test]
fn sigkill_during_adoption_leaves_old_or_new_state() {
    let dir = tempfile::tempdir().unwrap();
    let template = dir.path().join("template.db");
    // Large enough that adoption (backup + table rebuilds) takes a while.
    {
        build(&template, Fixture::LegacyV8, 10);
        let c = Connection::open(&template).unwrap();
        c.execute_batch("BEGIN").unwrap();
        let blob = common::blob(7, 384);
        for i in 0..25_000 {
            c.execute(
                "INSERT INTO nodes (id, type, title, embedding, meta) VALUES (?1, 'n', 't', ?2, '{}')",
                (format!("big-{i:06}"), &blob),
            )
            .unwrap();
            c.execute(
                "INSERT INTO edges (source, target, type) VALUES (?1, 'node-0001', 'x')",
                [format!("big-{i:06}")],
            )
            .unwrap();
        }
        c.execute_batch("COMMIT").unwrap();
    }
    let n_before: i64 = Connection::open(&template)
        .unwrap()
        .query_row("SELECT count(*) FROM nodes", [], |r| r.get(0))
        .unwrap();
    // Time one full adoption to spread the kills over it.
    let probe = dir.path().join("probe/resonance.db");
    std::fs::create_dir_all(probe.parent().unwrap()).unwrap();
    std::fs::copy(&template, &probe).unwrap();
    let t = Instant::now();
    assert!(child("open", &probe, None).status().unwrap().success());
    let full = t.elapsed().as_millis() as u64;
    let mut seen_old = 0;
    let mut seen_new = 0;
    let mut rng = 0x9e3779b97f4a7c15u64;
    for round in 0..20 {
        let p = dir.path().join(format!("k{round}/resonance.db"));
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::copy(&template, &p).unwrap();
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let delay = rng % (full.max(20) + 20);
        let mut ch = child("open", &p, None).spawn().unwrap();
        std::thread::sleep(Duration::from_millis(delay));
        let _ = ch.kill(); // SIGKILL
        let _ = ch.wait();
        let c = Connection::open(&p).unwrap();
        let ok: String = c
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(ok, "ok", "round {round}");
        let n: i64 = c
            .query_row("SELECT count(*) FROM nodes", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, n_before, "round {round}: no row lost");
        match schema::detect_shape(&c).unwrap() {
            Shape::Legacy {
                version: 8,
                failed_upgrade: false,
            } => {
                seen_old += 1;
                assert!(!schema::table_columns(&c, "nodes")
                    .unwrap()
                    .iter()
                    .any(|c| c.name == "summary"));
            }
            Shape::Drizzle {
                steps: 3,
                hand: false,
            } => {
                seen_new += 1;
                assert!(schema::table_columns(&c, "nodes")
                    .unwrap()
                    .iter()
                    .any(|c| c.name == "summary"));
                let r: i64 = c
                    .query_row("SELECT count(*) FROM resonance_schema_history", [], |r| {
                        r.get(0)
                    })
                    .unwrap();
                assert_eq!(r as usize, resonance::migrate::RESONANCE_MIGRATIONS.len());
            }
            other => panic!("round {round}: in-between state {other:?}"),
        }
        // And it can be adopted afterwards.
        drop(c);
        Database::open(&p).unwrap().close().unwrap();
    }
    eprintln!("sigkill: {seen_old} rounds left the old state, {seen_new} the new (full adoption {full} ms)");
}

/// Every row of `before` is in `after` with the same values (rowids included).
fn assert_rows_kept(before: &common::Snapshot, after: &common::Snapshot, what: &str) {
    for (table, rows) in before {
        if table == "__drizzle_migrations" {
            continue;
        }
        let a = after
            .get(table)
            .unwrap_or_else(|| panic!("{what}: {table} lost"));
        assert_eq!(rows.len(), a.len(), "{what}: row count of {table}");
        for (rowid, cols) in rows {
            let got = a
                .get(rowid)
                .unwrap_or_else(|| panic!("{what}: {table} rowid {rowid} lost"));
            for (col, v) in cols {
                assert_eq!(got.get(col), Some(v), "{what}: {table} {rowid} {col}");
            }
        }
    }
}

fn table_names(path: &Path) -> Vec<String> {
    let c = Connection::open(path).unwrap();
    let mut st = c
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .unwrap();
    st.query_map([], |r| r.get(0))
        .unwrap()
        .map(|r| r.unwrap())
        .collect()
}

#[test]
fn adoption_never_runs_sql_carried_by_a_declared_type() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("resonance.db");
    let marker = dir.path().join("marker.db");
    // A quoted type name is dequoted by SQLite: `pragma_table_info` reports the payload verbatim.
    let payload = format!(
        "a); attach database '{}' as pw; create table pw.owned(x); create table main.owned_here(y); --",
        marker.display()
    );
    common::build_legacy_v8_nodes(
        &path,
        &format!(", x \"{}\"", payload.replace('"', "\"\"")),
        5,
    );
    let hash = file_hash(&path);
    let err = Database::open(&path).unwrap_err();
    assert_eq!(err.code(), "schema_unknown", "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("nodes") && msg.contains("\"x\""),
        "names table and column: {msg}"
    );
    assert!(!marker.exists(), "the payload attached {marker:?}");
    assert_eq!(file_hash(&path), hash, "refused before any change");
    assert!(!table_names(&path).iter().any(|t| t.starts_with("owned")));
    assert!(backups(&path).is_empty());
}

#[test]
fn plain_declared_types_of_extra_columns_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("resonance.db");
    common::build_legacy_v8_nodes(
        &path,
        ", score NUMERIC(10, 2), label VARCHAR(20), flag unsigned big int, \"odd \"\"name\"\"\" text",
        6,
    );
    let before = snapshot(&Connection::open(&path).unwrap(), &TABLES);
    Database::open(&path).unwrap().close().unwrap();
    let c = Connection::open(&path).unwrap();
    assert_rows_kept(&before, &snapshot(&c, &TABLES), "plain types");
    let cols = schema::table_columns(&c, "nodes").unwrap();
    let ty = |n: &str| cols.iter().find(|c| c.name == n).unwrap().decl_type.clone();
    assert_eq!(ty("score"), "numeric(10, 2)");
    assert_eq!(ty("label"), "varchar(20)");
    assert_eq!(ty("flag"), "unsigned big int");
    assert_eq!(ty("odd \"name\""), "text");
}

#[test]
fn an_extra_columns_default_expression_is_kept_and_still_works() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("resonance.db");
    common::build_legacy_v8_nodes(
        &path,
        ", created text DEFAULT (datetime('now')), n2 integer DEFAULT (1 + 2), label text DEFAULT 'it''s', neg real DEFAULT -1.5",
        8,
    );
    let before = snapshot(&Connection::open(&path).unwrap(), &TABLES);
    Database::open(&path)
        .unwrap_or_else(|e| panic!("adoption refused: {e}"))
        .close()
        .unwrap();
    assert_rows_kept(
        &before,
        &snapshot(&Connection::open(&path).unwrap(), &TABLES),
        "defaults",
    );
    let db = Database::open(&path).unwrap();
    db.upsert_node(&resonance::NodeInput::new("new-node"))
        .unwrap();
    db.close().unwrap();
    let c = Connection::open(&path).unwrap();
    let (created, n2, label, neg): (Option<String>, i64, String, f64) = c
        .query_row(
            "SELECT created, n2, label, neg FROM nodes WHERE id = 'new-node'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    assert!(
        created.is_some_and(|s| s.len() == 19),
        "datetime('now') default applied"
    );
    assert_eq!((n2, label.as_str(), neg), (3, "it's", -1.5));
}

#[test]
fn generated_check_and_unique_extra_columns_are_refused_untouched() {
    let cases = [
        (
            ", g text GENERATED ALWAYS AS (upper(title)) VIRTUAL",
            "\"g\"",
        ),
        (", g2 text AS (title || 'x') STORED", "\"g2\""),
        (", c integer CHECK (c IS NULL OR c > 0)", "\"c\""),
        (", u text UNIQUE", "\"u\""),
        (", CONSTRAINT k CHECK (length(id) > 0)", "table constraint"),
        (", t2 text, CHECK (t2 <> 'x')", "table constraint"),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (i, (extra, named)) in cases.iter().enumerate() {
        let path = dir.path().join(format!("{i}.db"));
        common::build_legacy_v8_nodes(&path, extra, 4);
        let hash = file_hash(&path);
        let err = Database::open(&path).unwrap_err();
        assert_eq!(err.code(), "schema_unknown", "{extra}: {err}");
        assert!(
            err.to_string().contains(named) && err.to_string().contains("nodes"),
            "{extra}: the error names {named}: {err}"
        );
        assert_eq!(file_hash(&path), hash, "{extra}: file untouched");
    }
}

#[test]
fn references_and_collations_of_extra_columns_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("resonance.db");
    common::build_legacy_v8_nodes(
        &path,
        ", parent text REFERENCES nodes(id) ON DELETE SET NULL, tag text COLLATE NOCASE",
        5,
    );
    {
        let c = Connection::open(&path).unwrap();
        c.execute_batch(
            "UPDATE nodes SET tag = 'Alpha', parent = 'node-0000' WHERE id = 'node-0001'",
        )
        .unwrap();
    }
    let before = snapshot(&Connection::open(&path).unwrap(), &TABLES);
    Database::open(&path)
        .unwrap_or_else(|e| panic!("adoption refused: {e}"))
        .close()
        .unwrap();
    let c = Connection::open(&path).unwrap();
    assert_rows_kept(&before, &snapshot(&c, &TABLES), "references/collate");
    let fk: (String, String, String, String) = c
        .query_row(
            "SELECT \"table\", \"from\", \"to\", on_delete FROM pragma_foreign_key_list('nodes')",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    assert_eq!(
        fk,
        (
            "nodes".into(),
            "parent".into(),
            "id".into(),
            "SET NULL".into()
        )
    );
    let n: i64 = c
        .query_row("SELECT count(*) FROM nodes WHERE tag = 'ALPHA'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(n, 1, "COLLATE NOCASE kept");
}

#[test]
fn planted_triggers_on_engine_tables_are_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(Fixture, &str, &str); 5] = [
        (
            Fixture::FailedUpgrade,
            "ledger_hook",
            "CREATE TRIGGER ledger_hook AFTER INSERT ON \"__drizzle_migrations\" BEGIN \
             DELETE FROM nodes WHERE id = 'node-0001'; INSERT INTO nodes (id) VALUES ('planted'); END",
        ),
        (
            Fixture::Current,
            "nodes_spy",
            "CREATE TRIGGER nodes_spy AFTER INSERT ON nodes BEGIN INSERT INTO nodes (id) VALUES ('planted'); END",
        ),
        (
            Fixture::TwoSteps,
            "edges_spy",
            "CREATE TRIGGER edges_spy BEFORE DELETE ON edges BEGIN SELECT 1; END",
        ),
        (
            Fixture::LegacyV8,
            "history_spy",
            "CREATE TRIGGER history_spy AFTER INSERT ON history BEGIN DELETE FROM nodes; END",
        ),
        (
            Fixture::Current,
            "meta_spy",
            "CREATE TABLE resonance_meta (key text PRIMARY KEY NOT NULL, value text NOT NULL); \
             CREATE TRIGGER meta_spy AFTER INSERT ON resonance_meta BEGIN DELETE FROM nodes; END",
        ),
    ];
    for (i, (fixture, name, sql)) in cases.iter().enumerate() {
        let path = dir.path().join(format!("{i}.db"));
        build(&path, *fixture, 10);
        Connection::open(&path).unwrap().execute_batch(sql).unwrap();
        let hash = file_hash(&path);
        let err = Database::open(&path).unwrap_err();
        assert_eq!(err.code(), "schema_unknown", "{name}: {err}");
        assert!(err.to_string().contains(name), "{name}: {err}");
        assert_eq!(file_hash(&path), hash, "{name}: file untouched");
        assert!(backups(&path).is_empty(), "{name}: no backup either");
    }
}

#[test]
fn a_trigger_created_after_open_never_fires_for_engine_writes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("resonance.db");
    build(&path, Fixture::Current, 10);
    let db = Database::open(&path).unwrap();
    let q = [1.0f32, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0];
    // Warm the cache, then let another program plant triggers.
    db.search(&q, &resonance::SearchOptions::default()).unwrap();
    Connection::open(&path)
        .unwrap()
        .execute_batch(
            "CREATE TRIGGER late_insert AFTER INSERT ON nodes BEGIN INSERT INTO nodes (id) VALUES ('planted'); END;
             CREATE TRIGGER late_vector AFTER UPDATE ON nodes BEGIN
               UPDATE nodes SET embedding = zeroblob(32) WHERE id = new.id; END;",
        )
        .unwrap();
    let mut n = resonance::NodeInput::new("x");
    n.embedding = Some(q.to_vec());
    db.upsert_node(&n).unwrap();
    db.upsert_node(&n).unwrap();
    assert!(
        db.get_node("planted").unwrap().is_none(),
        "late_insert fired"
    );
    let stored = db.get_embedding("x").unwrap().unwrap();
    assert_eq!(stored, q.to_vec(), "late_vector fired");
    let hits = db.search(&q, &resonance::SearchOptions::default()).unwrap();
    assert_eq!(hits[0].id, "x");
    assert!((hits[0].score - 1.0).abs() < 1e-5);
    let problems = db.health().unwrap().problems().join("; ");
    assert!(
        problems.contains("late_insert") && problems.contains("late_vector"),
        "health names the unknown triggers: {problems}"
    );
    db.close().unwrap();
}

#[test]
fn a_rebuild_keeps_plain_indexes_and_views_and_refuses_expression_indexes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kept.db");
    common::build_legacy_v8_nodes(&path, ", tag text", 6);
    Connection::open(&path)
        .unwrap()
        .execute_batch(
            "CREATE INDEX ix_title ON nodes(title COLLATE NOCASE DESC, tag);
             CREATE UNIQUE INDEX ix_hash ON nodes(hash);
             CREATE VIEW titles AS SELECT id, title, tag FROM nodes;",
        )
        .unwrap();
    let before = snapshot(&Connection::open(&path).unwrap(), &TABLES);
    Database::open(&path)
        .unwrap_or_else(|e| panic!("adoption refused: {e}"))
        .close()
        .unwrap();
    let c = Connection::open(&path).unwrap();
    assert_rows_kept(&before, &snapshot(&c, &TABLES), "indexes/views");
    let idx: Vec<(String, i64, String)> = c
        .prepare(
            "SELECT il.name, il.\"unique\", group_concat(ix.name || ':' || ix.\"desc\" || ':' || ix.coll, ',') \
             FROM pragma_index_list('nodes') il, pragma_index_xinfo(il.name) ix \
             WHERE il.origin = 'c' AND ix.key = 1 GROUP BY il.name ORDER BY il.name",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    assert_eq!(
        idx,
        [
            ("ix_hash".to_string(), 1, "hash:0:BINARY".to_string()),
            (
                "ix_title".to_string(),
                0,
                "title:1:NOCASE,tag:0:BINARY".to_string()
            ),
        ]
    );
    let n: i64 = c
        .query_row("SELECT count(*) FROM titles", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 6, "the view still reads the rebuilt table");

    for (i, sql) in [
        "CREATE INDEX ix_expr ON nodes(lower(title))",
        "CREATE INDEX ix_part ON nodes(title) WHERE title IS NOT NULL",
    ]
    .iter()
    .enumerate()
    {
        let path = dir.path().join(format!("refused-{i}.db"));
        common::build_legacy_v8_nodes(&path, "", 4);
        Connection::open(&path).unwrap().execute_batch(sql).unwrap();
        let hash = file_hash(&path);
        let err = Database::open(&path).unwrap_err();
        assert_eq!(err.code(), "schema_unknown", "{sql}: {err}");
        assert!(
            err.to_string().contains("\"ix_"),
            "{sql}: names the index: {err}"
        );
        assert_eq!(file_hash(&path), hash, "{sql}: file untouched");
    }
}
