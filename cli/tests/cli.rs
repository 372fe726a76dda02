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
    let o = resonance(&["sql", "--raw", "--json", db.to_str().unwrap(), q]);
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
    // --vector-memory codes: the same hits, byte for byte; an unknown value is a usage error.
    for args in [
        vec!["--text", "busy timeout WAL", "-k", "7"],
        vec!["--like", like],
    ] {
        let run = |extra: &[&str]| {
            let mut a = vec!["search", db.to_str().unwrap(), "--json"];
            a.extend(args.iter());
            a.extend(extra);
            let o = resonance(&a);
            assert!(o.status.success(), "{a:?}: {}", text(&o));
            o.stdout
        };
        let plain = run(&[]);
        assert_eq!(run(&["--vector-memory", "codes"]), plain, "{args:?}");
        assert_eq!(run(&["--vector-memory", "matrix"]), plain, "{args:?}");
    }
    let o = resonance(&[
        "search",
        db.to_str().unwrap(),
        "--like",
        like,
        "--vector-memory",
        "f16",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
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
    assert_eq!(lines.len(), 4, "{exported}");
    assert_eq!(lines[0]["kind"], "resonance-export");
    assert_eq!(lines[0]["dimension"], "2");
    assert_eq!(lines[1]["embedding"], serde_json::json!([0.6, 0.8]));
    // meta as its stored text.
    assert_eq!(lines[1]["meta"], "{\"x\":1}");
    assert_eq!(lines[3]["confidence"], 0.5);
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

#[test]
fn sql_on_a_missing_file_fails_and_creates_nothing_unless_create() {
    let dir = tempfile::tempdir().unwrap();
    let typo = dir.path().join("tpyo.db");
    let o = resonance(&["sql", typo.to_str().unwrap(), "SELECT 1 AS x"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(!typo.exists(), "a mistyped path created a file");
    let o = resonance(&["sql", "--raw", typo.to_str().unwrap(), "SELECT 1 AS x"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("error [io]") && text(&o).contains("does not exist"),
        "{}",
        text(&o)
    );
    assert!(!typo.exists(), "a mistyped path created a file");
    let o = resonance(&[
        "sql",
        "--raw",
        "--write",
        "--create",
        typo.to_str().unwrap(),
        "CREATE TABLE t(x)",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(typo.exists());
}

#[test]
fn sql_runs_one_statement_unless_script() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("a.db");
    let o = resonance(&[
        "sql",
        "--raw",
        "--write",
        "--json",
        "--create",
        "--script",
        db.to_str().unwrap(),
        "CREATE TABLE t(x); INSERT INTO t VALUES (1), (2); SELECT count(*) AS n FROM t;",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), "{\"n\":2}");
    for two in [
        "SELECT count(*) FROM t; DELETE FROM t",
        "SELECT 1; SELECT * FROM missing_table",
        "DELETE FROM t; -- a comment\nSELECT 1",
    ] {
        let o = resonance(&["sql", "--raw", "--write", db.to_str().unwrap(), two]);
        assert_eq!(o.status.code(), Some(1), "{two}: {}", text(&o));
        assert!(
            text(&o).contains("invalid_argument") && text(&o).contains("--script"),
            "{two}: {}",
            text(&o)
        );
        assert!(o.stdout.is_empty(), "{two}: ran something: {}", text(&o));
    }
    assert_eq!(sql(&db, "SELECT count(*) AS n FROM t").trim(), "{\"n\":2}");
    // One statement with a trailing semicolon and comment is one statement.
    assert_eq!(
        sql(&db, "SELECT count(*) AS n FROM t; -- done\n").trim(),
        "{\"n\":2}"
    );
    let o = resonance(&["sql", "--raw", db.to_str().unwrap(), "  -- nothing\n"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("invalid_argument"), "{}", text(&o));
}

#[test]
fn sql_connection_is_hardened() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("a.db");
    let o = resonance(&[
        "sql",
        "--raw",
        "--write",
        "--create",
        db.to_str().unwrap(),
        "CREATE TABLE t(x)",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        sql(&db, "PRAGMA trusted_schema").trim(),
        "{\"trusted_schema\":0}"
    );
    // SQLITE_DBCONFIG_DEFENSIVE: the schema cannot be rewritten through writable_schema.
    let o = resonance(&[
        "sql",
        "--raw",
        "--write",
        "--script",
        db.to_str().unwrap(),
        "PRAGMA writable_schema = ON; UPDATE sqlite_master SET sql = 'CREATE TABLE t(y)' WHERE name = 't'",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        sql(&db, "SELECT sql FROM sqlite_master WHERE name = 't'").contains("t(x)"),
        "the schema was rewritten"
    );
}

/// Every column of every row of nodes and edges, as SQLite quotes it, with its type and hex bytes.
fn dump(db: &Path) -> Vec<Vec<u8>> {
    let c = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .unwrap();
    let mut out = Vec::new();
    for (table, cols, order) in [
        (
            "nodes",
            &[
                "id",
                "type",
                "title",
                "domain",
                "layer",
                "embedding",
                "hash",
                "meta",
                "date",
                "summary",
            ][..],
            "id",
        ),
        (
            "edges",
            &[
                "source",
                "target",
                "type",
                "confidence",
                "veracity",
                "context_source",
            ][..],
            "source, target, type",
        ),
    ] {
        let expr = cols
            .iter()
            .map(|c| format!("typeof({c}) || ':' || quote({c}) || ':' || hex({c})"))
            .collect::<Vec<_>>()
            .join(" || '|' || ");
        let q = format!("SELECT CAST({expr} AS BLOB) FROM {table} ORDER BY {order}");
        let mut stmt = c.prepare(&q).unwrap();
        let rows = stmt.query_map([], |r| r.get::<_, Vec<u8>>(0)).unwrap();
        for r in rows {
            let mut line = table.as_bytes().to_vec();
            line.push(b'|');
            line.extend(r.unwrap());
            out.push(line);
        }
    }
    out
}

#[test]
fn export_then_import_round_trips_every_row_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("odd.db");
    let o = resonance(&["stats", db.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let deep = format!("{}1{}", "[".repeat(300), "]".repeat(300));
    // Written by another program through a plain connection.
    let c = rusqlite::Connection::open(&db).unwrap();
    c.execute_batch(
        "INSERT INTO nodes (id, type, title, domain, layer, embedding, hash, meta, date, summary) VALUES
           ('plain', 'note', 'T', 'd', 'l', x'0000803f00000000', 'h', 'hello', '2026-01-01', 's'),
           ('bigint', NULL, NULL, NULL, NULL, NULL, NULL, '{\"n\": 123456789012345678901234567890}', NULL, NULL),
           ('order', NULL, NULL, NULL, NULL, x'000000800000c07f', NULL, '{\"b\":1,\"a\":2,  \"c\" : [ ] }', NULL, NULL),
           ('inf', NULL, NULL, NULL, NULL, x'0000807f01000000', NULL, '{\"x\": 1e400}', NULL, NULL),
           ('dup', NULL, NULL, NULL, NULL, x'0000803f0000', NULL, '{\"k\":1,\"k\":2}', NULL, NULL),
           ('blobs', NULL, NULL, NULL, NULL, 'not a blob', NULL, x'00ff', NULL, x''),
           ('utf8', 'é', CAST(x'ff41fe' AS TEXT), '', '😀', x'', 'x', '\"\\u0000\"', '  ', 'line\nbreak');
         INSERT INTO edges (source, target, type, confidence, veracity, context_source) VALUES
           ('plain', 'ghost', 'cites', 0.1, 0.30000000000000004, NULL),
           ('ghost1', 'ghost2', 't', -0.0, 1e308, ''),
           ('plain', 'order', 'odd', 'high', x'01', 'ctx'),
           ('plain', 'inf', 'big', 1e400, -1e400, NULL),
           ('plain', 'dup', 'int', 5, 123456789012345678, NULL),
           ('order', 'plain', 'tiny', 4.9406564584124654e-324, 2.2250738585072014e-308, NULL);",
    )
    .unwrap();
    c.execute("UPDATE nodes SET meta = ?1 WHERE id = 'bigint'", [&deep])
        .unwrap();
    drop(c);
    let before = dump(&db);
    assert_eq!(before.len(), 13);
    let out = dir.path().join("out.jsonl");
    let o = resonance(&["export", db.to_str().unwrap(), out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("exported 7 nodes and 6 edges"),
        "{}",
        text(&o)
    );
    let db2 = dir.path().join("fresh.db");
    let o = resonance(&["import", db2.to_str().unwrap(), out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(dump(&db2), before, "the import differs from the source");
    // Exporting the copy gives the same file.
    let out2 = dir.path().join("out2.jsonl");
    let o = resonance(&["export", db2.to_str().unwrap(), out2.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(std::fs::read(&out2).unwrap(), std::fs::read(&out).unwrap());
}

#[cfg(unix)]
#[test]
fn export_never_writes_through_a_planted_name_and_is_no_wider_than_the_database() {
    use std::os::unix::fs::{symlink, PermissionsExt};
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("a.db");
    assert!(resonance(&["stats", db.to_str().unwrap()]).status.success());
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o600)).unwrap();
    let victim = dir.path().join("victim.txt");
    std::fs::write(&victim, b"precious").unwrap();
    let nowhere = dir.path().join("nowhere");
    let folder = dir.path().join("folder");
    std::fs::create_dir(&folder).unwrap();
    for (name, target) in [
        ("to-file", &victim),
        ("dangling", &nowhere),
        ("to-dir", &folder),
    ] {
        let link = dir.path().join(name);
        symlink(target, &link).unwrap();
        let o = resonance(&["export", db.to_str().unwrap(), link.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(1), "{name}: {}", text(&o));
        assert!(
            text(&o).contains("invalid_argument"),
            "{name}: {}",
            text(&o)
        );
    }
    assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
    assert!(!nowhere.exists());
    assert_eq!(std::fs::read_dir(&folder).unwrap().count(), 0);
    // An existing plain file is not replaced either.
    let o = resonance(&["export", db.to_str().unwrap(), victim.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
    let out = dir.path().join("out.jsonl");
    let o = resonance(&["export", db.to_str().unwrap(), out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let mode = std::fs::metadata(&out).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode & 0o077, 0, "export mode {mode:o}");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("resonance-tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn an_exact_import_is_all_or_nothing_and_names_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("a.db");
    let file = dir.path().join("in.jsonl");
    std::fs::write(
        &file,
        concat!(
            "{\"kind\":\"resonance-export\",\"format\":2,\"dimension\":null}\n",
            "{\"kind\":\"node\",\"id\":\"a\",\"meta\":\"not json\"}\n",
            "{\"kind\":\"edge\",\"source\":\"a\",\"target\":\"ghost\",\"type\":\"t\"}\n",
            "{\"kind\":\"node\",\"id\":\"b\",\"embedding\":{\"blob\":\"zz\"}}\n",
        ),
    )
    .unwrap();
    let o = resonance(&["import", db.to_str().unwrap(), file.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("line 4") && text(&o).contains("invalid_argument"),
        "{}",
        text(&o)
    );
    assert_eq!(
        sql(
            &db,
            "SELECT (SELECT count(*) FROM nodes) + (SELECT count(*) FROM edges) AS n"
        )
        .trim(),
        "{\"n\":0}"
    );
    // An edge without its type (NOT NULL) is refused with its line too.
    std::fs::write(
        &file,
        concat!(
            "{\"kind\":\"resonance-export\",\"format\":2,\"dimension\":null}\n",
            "{\"kind\":\"node\",\"id\":\"a\"}\n",
            "{\"kind\":\"edge\",\"source\":\"a\",\"target\":\"b\"}\n",
        ),
    )
    .unwrap();
    let o = resonance(&["import", db.to_str().unwrap(), file.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("line 3"), "{}", text(&o));
    assert_eq!(
        sql(&db, "SELECT count(*) AS n FROM nodes").trim(),
        "{\"n\":0}"
    );
    // A dimension other than the database's is refused on line 1.
    let good = dir.path().join("good.jsonl");
    std::fs::write(
        &good,
        "{\"kind\":\"node\",\"id\":\"v\",\"embedding\":[1,0]}\n",
    )
    .unwrap();
    assert!(
        resonance(&["import", db.to_str().unwrap(), good.to_str().unwrap()])
            .status
            .success()
    );
    std::fs::write(
        &file,
        "{\"kind\":\"resonance-export\",\"format\":2,\"dimension\":\"3\"}\n",
    )
    .unwrap();
    let o = resonance(&["import", db.to_str().unwrap(), file.to_str().unwrap()]);
    assert!(
        text(&o).contains("dimension_mismatch") && text(&o).contains("line 1"),
        "{}",
        text(&o)
    );
}

#[test]
fn migrate_app_applies_a_directory_with_its_gates_and_migrations_lists_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("app.db");
    let m = dir.path().join("migrations");
    std::fs::create_dir(&m).unwrap();
    std::fs::write(
        m.join("0001_users.sql"),
        "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT);\n-- down\nDROP TABLE users;\n",
    )
    .unwrap();
    std::fs::write(
        m.join("0002_drop_email.sql"),
        "-- resonance:destructive\nALTER TABLE users DROP COLUMN email;\n",
    )
    .unwrap();
    let (d, ms) = (db.to_str().unwrap(), m.to_str().unwrap());
    let app = ["--app", ms, "--namespace", "app"];
    // Dry run: the plan with its SQL, nothing created.
    let o = resonance(&[&["migrate", d][..], &app, &["--dry-run"]].concat());
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("would run up 0001 users"), "{}", text(&o));
    assert!(text(&o).contains("CREATE TABLE users"), "{}", text(&o));
    assert!(!db.exists() || !sql(&db, "SELECT name FROM sqlite_master").contains("users"));
    // The destructive step stops the run before anything happens.
    let o = resonance(&[&["migrate", d][..], &app].concat());
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("destructive_refused"), "{}", text(&o));
    let o = resonance(
        &[
            &["migrate", d][..],
            &app,
            &["--allow-destructive", "--json"],
        ]
        .concat(),
    );
    assert!(o.status.success(), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["steps"].as_array().unwrap().len(), 2);
    assert!(v["backup"].is_string(), "{v}");
    // Listed with the engine's steps.
    let o = resonance(&["migrations", d, "--json"]);
    assert!(o.status.success(), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["app_applied"].as_array().unwrap().len(), 2, "{v}");
    assert_eq!(v["application_ledger"].as_array().unwrap().len(), 3, "{v}");
    std::fs::write(m.join("0003_notes.sql"), "CREATE TABLE notes (x);\n").unwrap();
    let o = resonance(&[&["migrations", d][..], &app].concat());
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("pending  app app      0003 notes"),
        "{}",
        text(&o)
    );
    // Going back needs every down section: 0002 has none.
    let o = resonance(
        &[
            &["migrate", d][..],
            &app,
            &["--to", "1", "--allow-destructive"],
        ]
        .concat(),
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("migration_failed"), "{}", text(&o));
}

/// Runs `resonance sql ARGS…` and returns (exit code, stdout, stderr).
fn sql_cmd(args: &[&str]) -> (Option<i32>, String, String) {
    let mut all = vec!["sql"];
    all.extend_from_slice(args);
    let o = resonance(&all);
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn sql_runs_through_the_engine_with_typed_params() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("e.db");
    let p = db.to_str().unwrap();
    // --create through the engine makes a Resonance database.
    let (code, _, err) = sql_cmd(&[
        "--create",
        "--script",
        p,
        "CREATE TABLE notes(id INTEGER PRIMARY KEY, name TEXT, score REAL, data BLOB, extra)",
    ]);
    assert_eq!(code, Some(0), "{err}");
    assert!(sql(&db, "SELECT count(*) AS n FROM nodes").contains("\"n\":0"));
    let (code, _, err) = sql_cmd(&[
        p,
        "INSERT INTO notes(id, name, score, data, extra) VALUES (?, ?, ?, ?, ?)",
        "--param",
        "int:7",
        "--param",
        "plain text",
        "--param",
        "real:-1.5",
        "--param",
        "blob:00ff",
        "--param",
        "null",
    ]);
    assert_eq!(code, Some(0), "{err}");
    let (code, out, err) = sql_cmd(&[
        p,
        "SELECT id, name, score, data, extra FROM notes WHERE id = :id AND name = $n",
        "--param",
        ":id=int:7",
        "--param",
        "$n=text:plain text",
        "--json",
    ]);
    assert_eq!(code, Some(0), "{err}");
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(
        v,
        serde_json::json!({"id": 7, "name": "plain text", "score": -1.5, "data": "00ff", "extra": null})
    );
    let (code, out, err) = sql_cmd(&[p, "SELECT id, name, data, extra FROM notes"]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out, "id\tname\tdata\textra\n7\tplain text\tx'00ff'\tNULL\n");
    // Bad --param values and mixing the two kinds are invalid_argument.
    for bad in [
        vec!["--param", "int:x"],
        vec!["--param", "blob:abc"],
        vec!["--param", ":id=int:1", "--param", "int:2"],
        vec!["--param", ":=1"],
    ] {
        let mut args = vec![p, "SELECT ?1, ?2"];
        args.extend(bad.iter().copied());
        let (code, _, err) = sql_cmd(&args);
        assert_eq!(code, Some(1), "{bad:?}");
        assert!(err.contains("invalid_argument"), "{bad:?}: {err}");
    }
}

#[test]
fn sql_through_the_engine_keeps_its_rules_and_the_file_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("e.db");
    let p = db.to_str().unwrap();
    let (code, _, err) = sql_cmd(&["--create", "--script", p, "CREATE TABLE a(x)"]);
    assert_eq!(code, Some(0), "{err}");
    let before = std::fs::read(&db).unwrap();
    for refused in [
        "DROP TABLE nodes",
        "INSERT INTO nodes(id) VALUES ('x')",
        "ATTACH DATABASE ':memory:' AS m",
        "PRAGMA journal_mode=DELETE",
        "BEGIN",
    ] {
        let (code, _, err) = sql_cmd(&[p, refused]);
        assert_eq!(code, Some(1), "{refused}");
        assert!(err.contains("error [invalid_argument]"), "{refused}: {err}");
    }
    // A script runs as one unit: a failing statement undoes the earlier ones.
    let (code, _, err) = sql_cmd(&[
        "--script",
        p,
        "INSERT INTO a VALUES (1); INSERT INTO nodes(id) VALUES ('x')",
    ]);
    assert_eq!(code, Some(1), "{err}");
    assert_eq!(sql(&db, "SELECT count(*) AS n FROM a").trim(), "{\"n\":0}");
    assert_eq!(std::fs::read(&db).unwrap(), before);
    // Several statements without --script, and --param with --script or --raw, are refused.
    let (code, _, err) = sql_cmd(&[p, "SELECT 1; SELECT 2"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("invalid_argument"), "{err}");
    let (code, _, _) = sql_cmd(&["--script", p, "SELECT ?", "--param", "int:1"]);
    assert_eq!(code, Some(1));
    let (code, _, _) = sql_cmd(&["--raw", p, "SELECT ?", "--param", "int:1"]);
    assert_eq!(code, Some(1));
}

#[test]
fn sql_raw_is_read_only_unless_write() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("r.db");
    let p = db.to_str().unwrap();
    let (code, _, err) = sql_cmd(&["--raw", "--create", p, "CREATE TABLE t(x)"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("--write"), "{err}");
    assert!(!db.exists());
    let (code, _, err) = sql_cmd(&["--raw", "--write", "--create", p, "CREATE TABLE t(x)"]);
    assert_eq!(code, Some(0), "{err}");
    let (code, _, err) = sql_cmd(&["--raw", p, "INSERT INTO t VALUES (1)"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("readonly") || err.contains("read"), "{err}");
    assert_eq!(sql(&db, "SELECT count(*) AS n FROM t").trim(), "{\"n\":0}");
    // --write needs --raw.
    let (code, _, _) = sql_cmd(&["--write", p, "SELECT 1"]);
    assert_eq!(code, Some(2));
}

#[test]
fn stats_records_prints_judges_and_plots_the_history() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.db");
    let d = db.to_str().unwrap();
    assert!(resonance(&["demo", "--db", d]).status.success());
    let o = resonance(&["stats", d, "--record", "--label", "first"]);
    assert!(o.status.success(), "{}", text(&o));
    let o = resonance(&["stats", d, "--record", "--meta", "{bad"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("error [invalid_argument]"),
        "{}",
        text(&o)
    );
    let o = resonance(&[
        "stats",
        d,
        "--record",
        "--label",
        "second",
        "--meta",
        "{\"n\":2}",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let o = resonance(&["stats", d, "--history", "--json"]);
    assert!(o.status.success(), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let labels: Vec<_> = v["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["label"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(labels, ["second", "first"]);
    assert_eq!(v["history"][0]["meta"], "{\"n\":2}");
    // Same counts twice: a warning, exit 0.
    let o = resonance(&["stats", d, "--validate", "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["validation"]["warnings"][0]["code"], "no_growth");
    let o = resonance(&["doctor", d, "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["health"]["stats"]["warnings"][0]["code"], "no_growth");
    assert_eq!(v["health"]["external_replicator"], false);
    let svg = dir.path().join("growth.svg");
    let o = resonance(&["stats", d, "--plot", svg.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let picture = std::fs::read_to_string(&svg).unwrap();
    assert!(picture.starts_with("<svg"), "{picture:.200}");
    for needle in ["nodes", "edges", "vectors", "<polyline"] {
        assert!(picture.contains(needle), "{needle} missing from the SVG");
    }
}

/// Bytes a progress bar or spinner writes: carriage returns and terminal escape sequences.
fn has_progress_bytes(b: &[u8]) -> bool {
    b.iter().any(|&c| c == b'\r' || c == 0x1b)
}

#[test]
fn long_commands_draw_no_progress_when_piped() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.db");
    let d = db.to_str().unwrap();
    assert!(resonance(&["demo", "--db", d]).status.success());
    let out = dir.path().join("out.jsonl");
    let o2 = dir.path().join("two.db");
    let runs: Vec<Vec<&str>> = vec![
        vec!["export", d, out.to_str().unwrap()],
        vec!["import", o2.to_str().unwrap(), out.to_str().unwrap()],
        vec!["migrate", d],
        vec!["backup", d],
        vec!["search", d, "--text", "graph"],
        vec!["graph", d, "pagerank"],
        vec!["stats", d, "--record"],
    ];
    for args in runs {
        let o = resonance(&args);
        assert!(o.status.success(), "{args:?}: {}", text(&o));
        assert!(
            !has_progress_bytes(&o.stdout) && !has_progress_bytes(&o.stderr),
            "{args:?} wrote progress into a pipe: {:?}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
}

/// On a terminal (a pseudo-terminal made by util-linux `script`) the import draws its bar, and a
/// `--json` command stays quiet there too.
#[test]
fn a_terminal_gets_progress_unless_json() {
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("util-linux script is not installed: the terminal half is not checked here");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.db");
    let d = db.to_str().unwrap();
    assert!(resonance(&["demo", "--db", d]).status.success());
    let out = dir.path().join("out.jsonl");
    assert!(resonance(&["export", d, out.to_str().unwrap()])
        .status
        .success());
    let bin = env!("CARGO_BIN_EXE_resonance");
    let tty = |cmd: String| {
        Command::new("script")
            .args(["-qec", &cmd, "/dev/null"])
            .output()
            .unwrap()
    };
    let o2 = dir.path().join("two.db");
    let o = tty(format!("{bin} import {} {}", o2.display(), out.display()));
    assert!(o.status.success(), "{}", text(&o));
    // The bar's block characters and the escape sequences that clear it (a terminal turns "\n"
    // into "\r\n", so a carriage return alone proves nothing here).
    assert!(
        o.stdout.contains(&0x1b) && String::from_utf8_lossy(&o.stdout).contains('\u{2591}'),
        "no progress on a terminal: {}",
        text(&o)
    );
    let o = tty(format!("{bin} search {d} --text graph --json"));
    assert!(o.status.success(), "{}", text(&o));
    // A terminal turns "\n" into "\r\n": only escape sequences count here.
    assert!(
        !o.stdout.contains(&0x1b),
        "--json drew progress: {}",
        text(&o)
    );
}
