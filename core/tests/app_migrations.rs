//! Application migrations (docs/sql.md): files and code steps, dry runs, the destructive gate (declared
//! and detected), drift, out-of-order steps, a ledger ahead, `down`, foreign keys across a rebuild,
//! a failing step changing nothing, two processes at once and SIGKILL mid-migration.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use resonance::{
    app_migrate, AppDirection, AppMigrateOptions, AppMigration, Database, ErrorKind, Params, Value,
};

fn step(version: i64, name: &str, up: &str, down: Option<&str>) -> AppMigration {
    AppMigration {
        version,
        name: name.into(),
        up: up.into(),
        down: down.map(Into::into),
        destructive: false,
    }
}

fn base() -> Vec<AppMigration> {
    vec![
        step(
            1,
            "users",
            "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE);",
            Some("DROP TABLE users;"),
        ),
        step(
            2,
            "tasks",
            "CREATE TABLE tasks (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE, title TEXT);\n\
             CREATE INDEX tasks_user ON tasks (user_id);",
            Some("DROP TABLE tasks;"),
        ),
    ]
}

fn fresh() -> (tempfile::TempDir, PathBuf, Database) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.db");
    let db = Database::open(&path).unwrap();
    (dir, path, db)
}

fn opts() -> AppMigrateOptions {
    AppMigrateOptions {
        no_backup: true,
        ..Default::default()
    }
}

fn count(db: &Database, sql: &str) -> i64 {
    match db
        .query_row(sql, &Params::default())
        .unwrap()
        .unwrap()
        .values[0]
    {
        Value::Integer(n) => n,
        ref v => panic!("{v:?}"),
    }
}

/// The schema text and every row of the application's tables and both ledgers.
fn everything(db: &Database) -> String {
    let mut out = String::new();
    let tables = db
        .query(
            "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name",
            &Params::default(),
        )
        .unwrap();
    out.push_str(&format!("{:?}\n", tables.rows));
    for r in &tables.rows {
        if let (Value::Text(t), Value::Text(name)) = (&r[0], &r[1]) {
            if t == "table" {
                let rows = db
                    .query(
                        &format!("SELECT * FROM \"{name}\" ORDER BY rowid"),
                        &Params::default(),
                    )
                    .unwrap();
                out.push_str(&format!("{name}: {:?}\n", rows.rows));
            }
        }
    }
    out
}

#[test]
fn steps_from_files_apply_once_with_status_dry_run_and_backup() {
    let (dir, path, db) = fresh();
    let mig = dir.path().join("migrations");
    std::fs::create_dir(&mig).unwrap();
    std::fs::write(
        mig.join("0001_users.sql"),
        "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT);\r\n-- down\r\nDROP TABLE users;\r\n",
    )
    .unwrap();
    std::fs::write(
        mig.join("0002_drop_email.sql"),
        "-- resonance:destructive\nALTER TABLE users DROP COLUMN email;\n",
    )
    .unwrap();
    std::fs::write(mig.join("README.md"), "not a step").unwrap();
    let steps = app_migrate::load_dir(&mig).unwrap();
    assert_eq!(steps.len(), 2);
    assert_eq!(steps[0].name, "users");
    assert_eq!(
        steps[0].down.as_deref().map(str::trim),
        Some("DROP TABLE users;")
    );
    assert!(steps[1].destructive && !steps[0].destructive);
    // CRLF and LF texts have one checksum.
    let mut lf = steps[0].clone();
    lf.up = lf.up.replace("\r\n", "\n");
    assert_eq!(lf.checksum(), steps[0].checksum());

    let dry = db
        .migrate_app(
            "app",
            &steps[..1],
            &AppMigrateOptions {
                dry_run: true,
                ..opts()
            },
        )
        .unwrap();
    assert!(dry.dry_run);
    assert_eq!(dry.steps.len(), 1);
    assert!(dry.steps[0].sql.contains("CREATE TABLE users"));
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM sqlite_master WHERE name = 'users'"
        ),
        0
    );

    // With a backup (the default).
    let r = db
        .migrate_app("app", &steps[..1], &AppMigrateOptions::default())
        .unwrap();
    assert_eq!(r.steps.len(), 1);
    let backup = r.backup.expect("a backup was taken");
    assert!(backup.exists(), "{}", backup.display());
    // Again: nothing to do.
    let again = db.migrate_app("app", &steps[..1], &opts()).unwrap();
    assert!(again.steps.is_empty());
    // Declared destructive: refused, then allowed.
    let e = db.migrate_app("app", &steps, &opts()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::DestructiveRefused, "{e}");
    db.migrate_app(
        "app",
        &steps,
        &AppMigrateOptions {
            allow_destructive: true,
            ..opts()
        },
    )
    .unwrap();
    let st = db.app_migration_status("app", &steps).unwrap();
    assert_eq!(st.applied.len(), 2);
    assert!(st.pending.is_empty());
    assert_eq!(st.applied[0].checksum, steps[0].checksum());
    // Another namespace shares the file.
    let other = vec![step(1, "notes", "CREATE TABLE notes (x);", None)];
    db.migrate_app("notes", &other, &opts()).unwrap();
    assert_eq!(db.app_migrations_applied().unwrap().len(), 3);
    // The file reopens, recognised by its graph shape.
    db.close().unwrap();
    Database::open(&path).unwrap();
}

#[test]
fn a_step_failing_at_its_third_statement_changes_nothing() {
    let (_d, _p, db) = fresh();
    db.migrate_app("app", &base(), &opts()).unwrap();
    db.execute(
        "INSERT INTO users (email) VALUES ('a@x')",
        &Params::default(),
    )
    .unwrap();
    let before = everything(&db);
    let bad = step(
        3,
        "bad",
        "CREATE TABLE t3 (x);\nINSERT INTO users (email) VALUES ('b@x');\nINSERT INTO users (email) VALUES ('a@x');\n",
        None,
    );
    let mut steps = base();
    steps.push(bad);
    let e = db.migrate_app("app", &steps, &opts()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::MigrationFailed, "{e}");
    assert!(e.to_string().contains("statement 3"), "{e}");
    assert_eq!(everything(&db), before);
}

#[test]
fn drift_out_of_order_and_a_ledger_ahead_are_refused() {
    let (_d, _p, db) = fresh();
    db.migrate_app("app", &base(), &opts()).unwrap();
    let before = everything(&db);
    // A changed applied step.
    let mut changed = base();
    changed[0].up.push_str("\n-- a comment added later");
    let e = db.migrate_app("app", &changed, &opts()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::SchemaTooNew, "{e}");
    assert!(e.to_string().contains("step 1"), "{e}");
    assert_eq!(everything(&db), before);
    // Accepted explicitly: recorded.
    let r = db
        .migrate_app(
            "app",
            &changed,
            &AppMigrateOptions {
                accept_changed: true,
                ..opts()
            },
        )
        .unwrap();
    assert_eq!(r.accepted_changes, vec![1]);
    let st = db.app_migration_status("app", &changed).unwrap();
    assert_eq!(st.applied[0].checksum, changed[0].checksum());
    // A step numbered below the newest applied one, never applied.
    let mut gap = changed.clone();
    gap.push(step(3, "three", "CREATE TABLE three (x);", None));
    db.migrate_app("app", &gap, &opts()).unwrap();
    let mut late = gap.clone();
    late.push(step(2, "two_b", "CREATE TABLE late (x);", None));
    late.retain(|s| !(s.version == 2 && s.name == "tasks"));
    // Version 2 is applied under another text: drift first.
    assert!(db.migrate_app("app", &late, &opts()).is_err());
    let mut out_of_order = gap.clone();
    out_of_order.push(step(0, "zero", "CREATE TABLE zero (x);", None));
    assert_eq!(
        db.migrate_app("app", &out_of_order, &opts())
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidArgument
    );
    let mut missing = gap.clone();
    missing.remove(1);
    missing.push(step(4, "four", "CREATE TABLE four (x);", None));
    // Step 2 applied but not given: a newer application migrated this file.
    assert_eq!(
        db.migrate_app("app", &missing, &opts()).unwrap_err().kind(),
        ErrorKind::SchemaTooNew
    );
    // Ledger ahead of the steps supplied.
    let e = db.migrate_app("app", &gap[..2], &opts()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::SchemaTooNew, "{e}");
    // A never-applied step below the newest applied one.
    let other = vec![
        step(1, "a", "CREATE TABLE oa (x);", None),
        step(3, "c", "CREATE TABLE oc (x);", None),
    ];
    db.migrate_app("other", &other, &opts()).unwrap();
    let mut with_two = other.clone();
    with_two.insert(1, step(2, "b", "CREATE TABLE ob (x);", None));
    let before = everything(&db);
    let e = db.migrate_app("other", &with_two, &opts()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::MigrationFailed, "{e}");
    assert!(e.to_string().contains("step 2"), "{e}");
    assert_eq!(everything(&db), before);
}

#[test]
fn destructive_steps_are_detected_and_down_goes_back() {
    let (_d, _p, db) = fresh();
    db.migrate_app("app", &base(), &opts()).unwrap();
    db.execute_batch(
        "INSERT INTO users (id, email) VALUES (1, 'a@x'); INSERT INTO tasks (user_id, title) VALUES (1, 't');",
    )
    .unwrap();
    for (i, sql) in [
        "DROP TABLE tasks;",
        "ALTER TABLE tasks DROP COLUMN title;",
        // A rebuild that loses a column.
        "CREATE TABLE users_new (id INTEGER PRIMARY KEY); INSERT INTO users_new SELECT id FROM users; DROP TABLE users; ALTER TABLE users_new RENAME TO users;",
    ]
    .iter()
    .enumerate()
    {
        let mut steps = base();
        steps.push(step(3, &format!("d{i}"), sql, None));
        let before = everything(&db);
        let e = db.migrate_app("app", &steps, &opts()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::DestructiveRefused, "{sql}: {e}");
        assert_eq!(everything(&db), before, "{sql}");
    }
    // A rebuild of a referenced table that keeps every column, allowed: child rows survive (foreign
    // keys are off during the step, so the DROP does not cascade), and the check passes.
    let mut steps = base();
    steps.push(step(
        3,
        "rebuild_users",
        "CREATE TABLE users_new (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, name TEXT);\n\
         INSERT INTO users_new (id, email) SELECT id, email FROM users;\n\
         DROP TABLE users;\n\
         ALTER TABLE users_new RENAME TO users;",
        Some("ALTER TABLE users DROP COLUMN name;"),
    ));
    db.migrate_app(
        "app",
        &steps,
        &AppMigrateOptions {
            allow_destructive: true,
            ..opts()
        },
    )
    .unwrap();
    assert_eq!(count(&db, "SELECT count(*) FROM tasks"), 1);
    assert_eq!(
        count(&db, "SELECT count(*) FROM pragma_foreign_key_check"),
        0
    );
    let fk = db
        .query_row("PRAGMA foreign_keys", &Params::default())
        .unwrap()
        .unwrap();
    assert_eq!(fk.values[0], Value::Integer(1), "foreign keys back on");
    // A step leaving dangling references is refused.
    let mut dangling = steps.clone();
    dangling.push(step(4, "orphan", "DELETE FROM users;", None));
    let before = everything(&db);
    let e = db.migrate_app("app", &dangling, &opts()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Constraint, "{e}");
    assert_eq!(everything(&db), before);
    // Down to version 1: behind the gate, newest first.
    let to1 = AppMigrateOptions {
        to: Some(1),
        ..opts()
    };
    let e = db.migrate_app("app", &steps, &to1).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::DestructiveRefused);
    let r = db
        .migrate_app(
            "app",
            &steps,
            &AppMigrateOptions {
                allow_destructive: true,
                ..to1
            },
        )
        .unwrap();
    let order: Vec<(i64, AppDirection)> =
        r.steps.iter().map(|s| (s.version, s.direction)).collect();
    assert_eq!(
        order,
        vec![(3, AppDirection::Down), (2, AppDirection::Down)]
    );
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM sqlite_master WHERE name = 'tasks'"
        ),
        0
    );
    assert_eq!(
        db.app_migration_status("app", &steps)
            .unwrap()
            .applied
            .len(),
        1
    );
}

#[test]
fn steps_cannot_reach_the_engines_tables() {
    let (_d, _p, db) = fresh();
    let before = everything(&db);
    for sql in [
        "ALTER TABLE nodes ADD COLUMN x TEXT;",
        "DROP TABLE edges;",
        "CREATE INDEX i ON nodes (title);",
        "INSERT INTO nodes (id) VALUES ('x');",
        "CREATE TABLE resonance_x (y);",
        "PRAGMA foreign_keys = ON;",
        "BEGIN;",
        "ATTACH ':memory:' AS m;",
    ] {
        let e = db
            .migrate_app("app", &[step(1, "x", sql, None)], &opts())
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::MigrationFailed, "{sql}: {e}");
        assert_eq!(everything(&db), before, "{sql}");
    }
    assert!(db.app_migrations_applied().unwrap().is_empty());
}

// ---- processes ----

const START_AT: &str = "RESONANCE_APP_START_AT_MS";

#[test]
fn child_entry() {
    let Ok(role) = std::env::var("RESONANCE_APP_CHILD") else {
        return;
    };
    let path = PathBuf::from(std::env::var("RESONANCE_APP_DB").unwrap());
    if let Ok(at) = std::env::var(START_AT) {
        let at: u128 = at.parse().unwrap();
        while now_ms() < at {
            std::hint::spin_loop();
        }
    }
    let db = Database::open(&path).unwrap();
    let steps = match role.as_str() {
        "migrate" => base(),
        // A slow step: many rows, so a kill lands inside it.
        "slow" => {
            let mut s = base();
            s.push(step(
                3,
                "fill",
                "CREATE TABLE big (x, y);\n\
                 INSERT INTO big WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 400000) SELECT i, randomblob(64) FROM c;",
                None,
            ));
            s
        }
        other => panic!("unknown role {other}"),
    };
    match db.migrate_app("app", &steps, &opts()) {
        Ok(r) => {
            println!("applied {}", r.steps.len());
            std::process::exit(0)
        }
        Err(e) => {
            eprintln!("child error [{}]: {e}", e.code());
            std::process::exit(3)
        }
    }
}

fn now_ms() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis()
}

fn child(role: &str, db: &Path, start_at: Option<u128>) -> Command {
    let mut c = Command::new(std::env::current_exe().unwrap());
    c.args(["child_entry", "--exact", "--nocapture", "--test-threads=1"])
        .env("RESONANCE_APP_CHILD", role)
        .env("RESONANCE_APP_DB", db)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(s) = start_at {
        c.env(START_AT, s.to_string());
    }
    c
}

#[test]
fn two_processes_apply_each_step_once() {
    let dir = tempfile::tempdir().unwrap();
    for round in 0..50 {
        let p = dir.path().join(format!("r{round}.db"));
        Database::open(&p).unwrap().close().unwrap();
        let start = now_ms() + 150;
        let a = child("migrate", &p, Some(start)).spawn().unwrap();
        let b = child("migrate", &p, Some(start)).spawn().unwrap();
        let mut applied = 0;
        for c in [a, b] {
            let out = c.wait_with_output().unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(out.status.success(), "round {round}: {stderr}");
            assert!(!stderr.contains("busy"), "round {round}: {stderr}");
            let stdout = String::from_utf8_lossy(&out.stdout);
            let n: usize = stdout
                .lines()
                .find_map(|l| l.split("applied ").nth(1))
                .unwrap_or_else(|| panic!("round {round}: no count in {stdout:?} / {stderr:?}"))
                .trim()
                .parse()
                .unwrap();
            applied += n;
        }
        assert_eq!(applied, 2, "round {round}: each step exactly once");
        let db = Database::open(&p).unwrap();
        let st = db.app_migration_status("app", &base()).unwrap();
        assert_eq!(st.applied.len(), 2);
    }
}

#[test]
fn a_killed_migration_leaves_the_old_or_the_new_state() {
    let dir = tempfile::tempdir().unwrap();
    let mut seen_old = 0;
    let mut seen_new = 0;
    for round in 0..20 {
        let p = dir.path().join(format!("k{round}.db"));
        {
            let db = Database::open(&p).unwrap();
            db.migrate_app("app", &base(), &opts()).unwrap();
        }
        let mut c = child("slow", &p, None).spawn().unwrap();
        // Kill somewhere between the open and the end of the slow step.
        std::thread::sleep(Duration::from_millis(30 + (round as u64 * 37) % 400));
        let t = Instant::now();
        let _ = c.kill();
        let _ = c.wait();
        assert!(t.elapsed() < Duration::from_secs(5));
        let db = Database::open(&p).unwrap();
        let ok = db
            .query_row("PRAGMA integrity_check", &Params::default())
            .unwrap()
            .unwrap();
        assert_eq!(ok.values[0], Value::from("ok"));
        let applied = db
            .app_migration_status("app", &base())
            .unwrap()
            .applied
            .len();
        let has_big = count(&db, "SELECT count(*) FROM sqlite_master WHERE name = 'big'");
        match (applied, has_big) {
            (2, 0) => seen_old += 1,
            (3, 1) => {
                assert_eq!(count(&db, "SELECT count(*) FROM big"), 400000);
                seen_new += 1
            }
            other => panic!("round {round}: between states {other:?}"),
        }
    }
    println!("killed app migrations: {seen_old} old, {seen_new} new");
}

#[test]
fn an_open_option_runs_the_applications_migrations() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("boot.db");
    let options = || resonance::OpenOptions {
        app_migrations: vec![resonance::AppMigrationSet {
            namespace: "app".into(),
            steps: base(),
        }],
        ..Default::default()
    };
    let db = Database::open_with(&path, options()).unwrap();
    assert_eq!(
        db.app_migration_status("app", &base())
            .unwrap()
            .applied
            .len(),
        2
    );
    db.execute(
        "INSERT INTO users (email) VALUES ('x@y')",
        &Params::default(),
    )
    .unwrap();
    db.close().unwrap();
    // Booting again changes nothing.
    let db = Database::open_with(&path, options()).unwrap();
    assert_eq!(count(&db, "SELECT count(*) FROM users"), 1);
}
