//! Application SQL on the engine's connection (docs/sql.md): values, parameters, transactions,
//! the authorizer's refusals (each leaving the file byte-identical), engine-table writes on a
//! compatibility handle keeping the caches right, interrupt and the statement cache.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use resonance::{
    Database, EdgeInput, ErrorKind, NodeInput, OpenOptions, Params, SearchOptions, Value,
};

fn fresh() -> (tempfile::TempDir, PathBuf, Database) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.db");
    let db = Database::open(&path).unwrap();
    (dir, path, db)
}

fn none() -> Params {
    Params::default()
}

fn pos(v: Vec<Value>) -> Params {
    Params::Positional(v)
}

fn node(id: &str, v: Vec<f32>) -> NodeInput {
    NodeInput {
        embedding: Some(v),
        ..NodeInput::new(id)
    }
}

/// Every byte of the database and its `-wal`.
fn file_bytes(path: &Path) -> (Vec<u8>, Vec<u8>) {
    let wal = resonance::connection::wal_path(path);
    (
        std::fs::read(path).unwrap(),
        std::fs::read(wal).unwrap_or_default(),
    )
}

#[test]
fn every_value_type_round_trips_unchanged() {
    let (_d, _p, db) = fresh();
    // No declared type: no affinity, every value stays as given.
    db.execute_batch("CREATE TABLE t (v)").unwrap();
    let values = vec![
        Value::Null,
        Value::Integer(0),
        Value::Integer(i64::MIN),
        Value::Integer(i64::MAX),
        Value::Real(-0.0),
        Value::Real(1.5e300),
        Value::Real(f64::INFINITY),
        Value::Real(f64::MIN_POSITIVE),
        Value::Text(String::new()),
        Value::Text("ünïcödé \u{1F600} with a \0 NUL".into()),
        Value::Blob(Vec::new()),
        Value::Blob(vec![0, 255, 1, 254]),
    ];
    for v in &values {
        let r = db
            .execute("INSERT INTO t (v) VALUES (?)", &pos(vec![v.clone()]))
            .unwrap();
        assert_eq!(r.changes, 1);
    }
    let rows = db.query("SELECT v FROM t ORDER BY rowid", &none()).unwrap();
    assert_eq!(rows.columns, vec!["v".to_string()]);
    let got: Vec<Value> = rows.rows.into_iter().map(|mut r| r.remove(0)).collect();
    assert_eq!(got.len(), values.len());
    for (g, v) in got.iter().zip(&values) {
        match (g, v) {
            (Value::Real(a), Value::Real(b)) => assert_eq!(a.to_bits(), b.to_bits()),
            _ => assert_eq!(g, v),
        }
    }
    // Integers beyond 2^53 are not rounded through a float.
    let r = db
        .query_row("SELECT ? + 1", &pos(vec![Value::Integer((1 << 53) + 1)]))
        .unwrap()
        .unwrap();
    assert_eq!(r.values[0], Value::Integer((1 << 53) + 2));
}

#[test]
fn positional_and_named_parameters() {
    let (_d, _p, db) = fresh();
    let r = db
        .query_row(
            "SELECT ?2, ?1, ?2",
            &pos(vec![Value::from("a"), Value::from("b")]),
        )
        .unwrap()
        .unwrap();
    assert_eq!(
        r.values,
        vec![Value::from("b"), Value::from("a"), Value::from("b")]
    );
    for (sql, key) in [
        ("SELECT :x, :x", "x"),
        ("SELECT @x, @x", "@x"),
        ("SELECT $x, $x", "$x"),
        ("SELECT :x, :x", ":x"),
    ] {
        let r = db
            .query_row(sql, &Params::Named(vec![(key.into(), Value::Integer(7))]))
            .unwrap()
            .unwrap();
        assert_eq!(
            r.values,
            vec![Value::Integer(7), Value::Integer(7)],
            "{sql}"
        );
    }
    let e = db
        .query("SELECT ?, ?", &pos(vec![Value::Null]))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
    let e = db
        .query(
            "SELECT :a, :b",
            &Params::Named(vec![("a".into(), Value::Null)]),
        )
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    assert!(e.to_string().contains(":b"), "{e}");
    let e = db
        .query("SELECT ?", &Params::Named(vec![("a".into(), Value::Null)]))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    // Column names as SQLite gives them; query_row of no row is None.
    let r = db
        .query_row("SELECT 1 AS one, 'x' AS \"two words\"", &none())
        .unwrap()
        .unwrap();
    assert_eq!(r.columns, vec!["one", "two words"]);
    assert_eq!(r.get("two words"), Some(&Value::from("x")));
    assert!(db.query_row("SELECT 1 WHERE 0", &none()).unwrap().is_none());
    for bad in ["", "   ", "-- only a comment"] {
        let e = db.execute(bad, &none()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{bad:?}: {e}");
    }
    let e = db.execute("SELECT 1; SELECT 2", &none()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
    let e = db.execute("SELEC 1", &none()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Sqlite, "{e}");
}

#[test]
fn execute_reports_changes_and_rowid_and_execute_many_is_all_or_nothing() {
    let (_d, _p, db) = fresh();
    db.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE)")
        .unwrap();
    let r = db
        .execute("INSERT INTO t (name) VALUES (?)", &pos(vec!["a".into()]))
        .unwrap();
    assert_eq!((r.changes, r.last_insert_rowid), (1, 1));
    let sets: Vec<Params> = (0..100)
        .map(|i| pos(vec![Value::Text(format!("n{i}"))]))
        .collect();
    let r = db
        .execute_many("INSERT INTO t (name) VALUES (?)", &sets)
        .unwrap();
    assert_eq!((r.changes, r.last_insert_rowid), (100, 101));
    // The 3rd set collides: nothing of this call stays.
    let bad = vec![
        pos(vec!["x1".into()]),
        pos(vec!["x2".into()]),
        pos(vec!["a".into()]),
    ];
    let e = db
        .execute_many("INSERT INTO t (name) VALUES (?)", &bad)
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Constraint, "{e}");
    let n = db
        .query_row("SELECT count(*) FROM t", &none())
        .unwrap()
        .unwrap();
    assert_eq!(n.values[0], Value::Integer(101));
    let r = db
        .execute("UPDATE t SET name = name || '!'", &none())
        .unwrap();
    assert_eq!(r.changes, 101);
    let r = db.execute("SELECT * FROM t", &none()).unwrap();
    assert_eq!(r.changes, 0);
}

#[test]
fn a_transaction_holds_engine_and_application_writes_together() {
    let (_d, _p, db) = fresh();
    db.execute_batch("CREATE TABLE notes (id TEXT PRIMARY KEY, node TEXT)")
        .unwrap();
    // Commit: both.
    db.transaction(|db| {
        db.upsert_node(&NodeInput::new("n1"))?;
        db.execute(
            "INSERT INTO notes VALUES (?, ?)",
            &pos(vec!["a".into(), "n1".into()]),
        )?;
        Ok(())
    })
    .unwrap();
    assert!(db.get_node("n1").unwrap().is_some());
    // Failing half-way: neither.
    let e = db
        .transaction(|db| {
            db.upsert_node(&NodeInput::new("n2"))?;
            db.execute(
                "INSERT INTO notes VALUES (?, ?)",
                &pos(vec!["b".into(), "n2".into()]),
            )?;
            db.execute(
                "INSERT INTO notes VALUES (?, ?)",
                &pos(vec!["a".into(), "dup".into()]),
            )?;
            Ok(())
        })
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Constraint);
    assert!(db.get_node("n2").unwrap().is_none());
    let n = db
        .query_row("SELECT count(*) FROM notes", &none())
        .unwrap()
        .unwrap();
    assert_eq!(n.values[0], Value::Integer(1));
    // A failing statement inside an explicit transaction leaves the transaction as it was.
    db.begin().unwrap();
    db.execute("INSERT INTO notes VALUES ('c', NULL)", &none())
        .unwrap();
    assert!(db
        .execute("INSERT INTO notes VALUES ('c', NULL)", &none())
        .is_err());
    assert!(db.in_transaction());
    db.commit().unwrap();
    let n = db
        .query_row("SELECT count(*) FROM notes", &none())
        .unwrap()
        .unwrap();
    assert_eq!(n.values[0], Value::Integer(2));
    // A conflict clause that rolls the transaction back ends the handle's transaction too.
    db.begin().unwrap();
    db.upsert_node(&NodeInput::new("gone")).unwrap();
    assert!(db
        .execute("INSERT OR ROLLBACK INTO notes VALUES ('c', NULL)", &none())
        .is_err());
    assert!(!db.in_transaction());
    assert!(db.get_node("gone").unwrap().is_none());
    assert!(db.commit().is_err());
}

#[test]
fn execute_batch_is_one_unit() {
    let (_d, _p, db) = fresh();
    db.execute_batch(
        "CREATE TABLE a (x); INSERT INTO a VALUES (1); -- a comment\n INSERT INTO a VALUES (2);",
    )
    .unwrap();
    let e = db
        .execute_batch("INSERT INTO a VALUES (3); INSERT INTO nope VALUES (4);")
        .unwrap_err();
    assert!(e.to_string().contains("statement 2"), "{e}");
    let n = db
        .query_row("SELECT count(*) FROM a", &none())
        .unwrap()
        .unwrap();
    assert_eq!(n.values[0], Value::Integer(2));
    db.begin().unwrap();
    db.execute_batch("INSERT INTO a VALUES (5)").unwrap();
    assert!(db
        .execute_batch("INSERT INTO a VALUES (6); DROP TABLE nodes")
        .is_err());
    db.commit().unwrap();
    let r = db.query("SELECT x FROM a ORDER BY x", &none()).unwrap();
    assert_eq!(
        r.rows,
        vec![
            vec![Value::Integer(1)],
            vec![Value::Integer(2)],
            vec![Value::Integer(5)]
        ]
    );
}

/// Each protected operation: refused with its kind, the file byte-identical.
#[test]
fn protected_operations_are_refused_and_change_nothing() {
    let (dir, path, db) = fresh();
    db.upsert_node(&node("n1", vec![1.0, 0.0])).unwrap();
    db.add_edge(&EdgeInput::new("n1", "n1")).unwrap();
    db.execute_batch("CREATE TABLE app (x)").unwrap();
    db.checkpoint(Default::default()).unwrap();
    let other = dir.path().join("other.db");
    let cases: Vec<(&str, ErrorKind)> = vec![
        ("DROP TABLE nodes", ErrorKind::InvalidArgument),
        (
            "ALTER TABLE nodes ADD COLUMN x TEXT",
            ErrorKind::InvalidArgument,
        ),
        (
            "CREATE INDEX i ON nodes (title)",
            ErrorKind::InvalidArgument,
        ),
        (
            "CREATE TRIGGER t AFTER INSERT ON edges BEGIN SELECT 1; END",
            ErrorKind::InvalidArgument,
        ),
        (
            "CREATE TEMP TRIGGER t AFTER INSERT ON nodes BEGIN SELECT 1; END",
            ErrorKind::InvalidArgument,
        ),
        ("CREATE TEMP TABLE nodes (id)", ErrorKind::InvalidArgument),
        (
            "CREATE TABLE resonance_mine (x)",
            ErrorKind::InvalidArgument,
        ),
        (
            "DROP TABLE __drizzle_migrations",
            ErrorKind::InvalidArgument,
        ),
        (
            "INSERT INTO nodes (id) VALUES ('x')",
            ErrorKind::InvalidArgument,
        ),
        ("UPDATE nodes SET title = 'x'", ErrorKind::InvalidArgument),
        ("DELETE FROM nodes", ErrorKind::InvalidArgument),
        ("DELETE FROM edges", ErrorKind::InvalidArgument),
        ("DELETE FROM history", ErrorKind::InvalidArgument),
        (
            "UPDATE resonance_meta SET value = 'x'",
            ErrorKind::InvalidArgument,
        ),
        (
            "INSERT INTO app SELECT id FROM nodes; DELETE FROM nodes",
            ErrorKind::InvalidArgument,
        ),
        ("PRAGMA journal_mode = DELETE", ErrorKind::InvalidArgument),
        ("PRAGMA synchronous = OFF", ErrorKind::InvalidArgument),
        ("PRAGMA foreign_keys = OFF", ErrorKind::InvalidArgument),
        ("PRAGMA mmap_size = 1000000", ErrorKind::InvalidArgument),
        ("PRAGMA trusted_schema = ON", ErrorKind::InvalidArgument),
        ("PRAGMA query_only = ON", ErrorKind::InvalidArgument),
        ("PRAGMA writable_schema = ON", ErrorKind::InvalidArgument),
        ("PRAGMA busy_timeout = 0", ErrorKind::InvalidArgument),
        ("PRAGMA user_version = 5", ErrorKind::InvalidArgument),
        (
            "PRAGMA wal_checkpoint(TRUNCATE)",
            ErrorKind::InvalidArgument,
        ),
        ("PRAGMA incremental_vacuum", ErrorKind::InvalidArgument),
        (
            "SELECT load_extension('libnope')",
            ErrorKind::InvalidArgument,
        ),
        ("BEGIN", ErrorKind::InvalidArgument),
        ("COMMIT", ErrorKind::InvalidArgument),
        ("SAVEPOINT s", ErrorKind::InvalidArgument),
    ];
    let attach = format!("ATTACH DATABASE '{}' AS o", other.display());
    let vacuum_into = format!("VACUUM INTO '{}'", other.display());
    let mut cases: Vec<(String, ErrorKind)> =
        cases.into_iter().map(|(s, k)| (s.to_string(), k)).collect();
    cases.push((attach, ErrorKind::InvalidArgument));
    // VACUUM writes but cannot run inside a transaction, and application SQL that writes always
    // runs in one: SQLite refuses it (use the handle's vacuum()).
    cases.push(("VACUUM".into(), ErrorKind::Sqlite));
    cases.push((vacuum_into, ErrorKind::Sqlite));
    let before = file_bytes(&path);
    for (sql, kind) in &cases {
        let e = if sql.contains(';') {
            db.execute_batch(sql).unwrap_err()
        } else {
            db.execute(sql, &none()).unwrap_err()
        };
        assert_eq!(e.kind(), *kind, "{sql}: {e}");
        assert_eq!(file_bytes(&path), before, "{sql} changed the file");
        assert!(!other.exists(), "{sql} created a file");
    }
    // The refusals name the table and the call to use.
    let e = db
        .execute("INSERT INTO nodes (id) VALUES ('x')", &none())
        .unwrap_err();
    assert!(
        e.to_string().contains("\"nodes\"") && e.to_string().contains("upsert_node"),
        "{e}"
    );
    // Reading is allowed: engine tables, reading PRAGMAs, PRAGMAs with a table argument.
    for sql in [
        "SELECT id, title FROM nodes",
        "SELECT count(*) FROM edges JOIN nodes ON nodes.id = edges.source",
        "SELECT * FROM history",
        "PRAGMA journal_mode",
        "PRAGMA foreign_keys",
        "PRAGMA user_version",
        "PRAGMA table_info(nodes)",
        "SELECT name FROM pragma_table_info('edges')",
        "PRAGMA integrity_check",
    ] {
        db.query(sql, &none())
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    let r = db
        .query_row("PRAGMA journal_mode", &none())
        .unwrap()
        .unwrap();
    assert_eq!(r.values[0], Value::from("wal"));
    // The engine's own calls still work after the refusals.
    db.upsert_node(&node("n2", vec![0.0, 1.0])).unwrap();
    assert_eq!(db.stats().unwrap().nodes, 2);
}

#[test]
fn a_read_only_handle_refuses_every_write() {
    let (_d, path, db) = fresh();
    db.execute_batch("CREATE TABLE app (x); INSERT INTO app VALUES (1)")
        .unwrap();
    db.close().unwrap();
    let ro = Database::open_with(
        &path,
        OpenOptions {
            read_only: true,
            ..Default::default()
        },
    )
    .unwrap();
    let before = file_bytes(&path);
    for sql in [
        "INSERT INTO app VALUES (2)",
        "CREATE TABLE b (y)",
        "UPDATE app SET x = 3",
    ] {
        let e = ro.execute(sql, &none()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Readonly, "{sql}: {e}");
        let e = ro.execute_batch(sql).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Readonly, "{sql}: {e}");
    }
    assert_eq!(file_bytes(&path), before);
    let r = ro.query_row("SELECT x FROM app", &none()).unwrap().unwrap();
    assert_eq!(r.values[0], Value::Integer(1));
}

#[test]
fn compatibility_handles_write_engine_tables_and_every_handle_sees_it() {
    let (_d, path, db) = fresh();
    db.upsert_node(&node("a", vec![1.0, 0.0])).unwrap();
    db.upsert_node(&node("b", vec![0.0, 1.0])).unwrap();
    db.add_edge(&EdgeInput::new("a", "b")).unwrap();
    let q = [1.0f32, 0.0];
    let opts = SearchOptions::default();
    // Warm both handles' caches.
    assert_eq!(db.search(&q, &opts).unwrap()[0].id, "a");
    let compat = Database::open_with(
        &path,
        OpenOptions {
            allow_engine_writes: true,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(compat.search(&q, &opts).unwrap()[0].id, "a");
    assert_eq!(compat.neighbors("a").unwrap(), vec!["b".to_string()]);
    // A raw embedding update: b now points along the query (bytes of [1, 0] as FAFCAS).
    let blob: Vec<u8> = [0.0f32, 1.0].iter().flat_map(|f| f.to_le_bytes()).collect();
    let blob_b: Vec<u8> = [1.0f32, 0.0].iter().flat_map(|f| f.to_le_bytes()).collect();
    compat
        .execute(
            "UPDATE nodes SET embedding = ? WHERE id = 'a'",
            &pos(vec![Value::Blob(blob)]),
        )
        .unwrap();
    compat
        .execute(
            "UPDATE nodes SET embedding = :e WHERE id = 'b'",
            &Params::Named(vec![("e".into(), Value::Blob(blob_b))]),
        )
        .unwrap();
    for h in [&compat, &db] {
        let hits = h.search(&q, &opts).unwrap();
        assert_eq!(hits[0].id, "b", "{hits:?}");
    }
    // A raw delete removes the hit; a raw edge insert is in the next graph snapshot.
    compat
        .execute("DELETE FROM nodes WHERE id = 'b'", &none())
        .unwrap();
    compat
        .execute(
            "INSERT INTO edges (source, target, type) VALUES ('a', 'c', 'related_to')",
            &none(),
        )
        .unwrap();
    compat
        .execute("INSERT INTO nodes (id) VALUES ('c')", &none())
        .unwrap();
    for h in [&compat, &db] {
        let hits = h
            .search(
                &q,
                &SearchOptions {
                    min_score: Some(-1.0),
                    ..Default::default()
                },
            )
            .unwrap();
        assert!(hits.iter().all(|x| x.id != "b"), "{hits:?}");
        let mut n = h.neighbors("a").unwrap();
        n.sort();
        assert_eq!(n, vec!["c".to_string()]);
    }
    // The same statement again comes from the cache and still drops the caches.
    for i in 0..3 {
        compat
            .execute(
                "INSERT INTO edges (source, target, type) VALUES ('a', 'c', ?)",
                &pos(vec![Value::Text(format!("t{i}"))]),
            )
            .unwrap();
        assert_eq!(compat.graph_stats().unwrap().edges, 2 + i);
    }
    // resonance_* stays closed even here.
    let e = compat
        .execute("DELETE FROM resonance_meta", &none())
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
}

#[test]
fn interrupt_stops_a_long_query_and_the_handle_goes_on() {
    let (_d, _p, db) = fresh();
    let db = std::sync::Arc::new(db);
    let worker = {
        let db = db.clone();
        std::thread::spawn(move || {
            let t = Instant::now();
            let r = db.query(
                "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c",
                &Params::default(),
            );
            (r, t.elapsed())
        })
    };
    std::thread::sleep(Duration::from_millis(200));
    let asked = Instant::now();
    db.interrupt();
    let (r, _) = worker.join().unwrap();
    let waited = asked.elapsed();
    let e = r.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Interrupted, "{e}");
    assert!(waited < Duration::from_millis(100), "took {waited:?}");
    let r = db.query_row("SELECT 41 + 1", &none()).unwrap().unwrap();
    assert_eq!(r.values[0], Value::Integer(42));
}

#[test]
fn the_statement_cache_is_used() {
    let (_d, _p, db) = fresh();
    db.execute_batch("CREATE TABLE t (x)").unwrap();
    let s0 = db.sql_stats().unwrap();
    for i in 0..50 {
        db.execute("INSERT INTO t VALUES (?)", &pos(vec![Value::Integer(i)]))
            .unwrap();
        db.query_row(
            "SELECT count(*) FROM t WHERE x <= ?",
            &pos(vec![Value::Integer(i)]),
        )
        .unwrap();
    }
    let s = db.sql_stats().unwrap();
    assert_eq!(s.prepared - s0.prepared, 2, "{s:?}");
    assert_eq!(s.reused - s0.reused, 98, "{s:?}");
}

#[test]
fn non_utf8_text_is_refused_not_altered() {
    let (_d, _p, db) = fresh();
    let e = db
        .query("SELECT CAST(x'ff00fe' AS TEXT) AS t", &none())
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Corrupt, "{e}");
    let r = db
        .query_row("SELECT CAST(CAST(x'ff00fe' AS TEXT) AS BLOB)", &none())
        .unwrap()
        .unwrap();
    assert_eq!(r.values[0], Value::Blob(vec![0xff, 0, 0xfe]));
}

#[test]
fn closed_handles_say_closed() {
    let (_d, _p, db) = fresh();
    db.close().unwrap();
    assert_eq!(
        db.execute("SELECT 1", &none()).unwrap_err().kind(),
        ErrorKind::Closed
    );
    assert_eq!(
        db.query("SELECT 1", &none()).unwrap_err().kind(),
        ErrorKind::Closed
    );
    assert_eq!(
        db.execute_batch("SELECT 1").unwrap_err().kind(),
        ErrorKind::Closed
    );
    assert_eq!(
        db.execute_many("SELECT 1", &[]).unwrap_err().kind(),
        ErrorKind::Closed
    );
}

#[test]
fn a_cached_select_star_sees_a_new_column() {
    let (_d, _p, db) = fresh();
    db.execute_batch("CREATE TABLE t (a); INSERT INTO t VALUES (1)")
        .unwrap();
    let r = db.query("SELECT * FROM t", &none()).unwrap();
    assert_eq!((r.columns.len(), r.rows[0].len()), (1, 1));
    db.execute_batch("ALTER TABLE t ADD COLUMN b DEFAULT 2")
        .unwrap();
    let r = db.query("SELECT * FROM t", &none()).unwrap();
    assert_eq!(r.columns, vec!["a", "b"]);
    assert_eq!(r.rows, vec![vec![Value::Integer(1), Value::Integer(2)]]);
}

#[test]
fn describe_compiles_without_running() {
    let (_d, _p, db) = fresh();
    db.execute_batch("CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL)")
        .unwrap();
    let i = db
        .describe("SELECT id, email AS mail, 1 + 1 AS two FROM users WHERE id = :id")
        .unwrap();
    assert!(i.readonly && i.returns_rows);
    assert_eq!(i.parameter_count, 1);
    assert_eq!(i.parameter_names, vec![Some(":id".to_string())]);
    let names: Vec<_> = i.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, vec!["id", "mail", "two"]);
    assert_eq!(i.columns[1].column.as_deref(), Some("email"));
    assert_eq!(i.columns[1].table.as_deref(), Some("users"));
    assert_eq!(i.columns[1].database.as_deref(), Some("main"));
    assert_eq!(i.columns[1].decl_type.as_deref(), Some("TEXT"));
    assert_eq!(i.columns[2].table, None);
    let w = db.describe("INSERT INTO users (email) VALUES (?)").unwrap();
    assert!(!w.readonly && !w.returns_rows);
    assert_eq!(w.parameter_names, vec![None]);
    // Nothing ran; refusals and syntax errors come at once.
    assert_eq!(
        db.query_row("SELECT count(*) FROM users", &none())
            .unwrap()
            .unwrap()
            .values[0],
        Value::Integer(0)
    );
    assert_eq!(
        db.describe("DROP TABLE nodes").unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
    assert_eq!(db.describe("SELEC").unwrap_err().kind(), ErrorKind::Sqlite);
}

#[test]
fn application_triggers_fire_and_a_late_trigger_on_an_engine_table_never_does() {
    let (_d, path, db) = fresh();
    // The application's own trigger, on its own table: it fires for its statements, also inside an
    // explicit transaction and through execute_many.
    db.execute_batch(
        "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL, updated INTEGER DEFAULT 0);
         CREATE TABLE audit (user_id INTEGER, what TEXT);
         CREATE TRIGGER users_ai AFTER INSERT ON users BEGIN
           INSERT INTO audit (user_id, what) VALUES (new.id, 'insert');
         END;
         CREATE TRIGGER users_au AFTER UPDATE OF email ON users BEGIN
           UPDATE users SET updated = updated + 1 WHERE id = new.id;
         END;",
    )
    .unwrap();
    db.execute(
        "INSERT INTO users (email) VALUES (?)",
        &pos(vec!["a@x".into()]),
    )
    .unwrap();
    db.transaction(|db| {
        db.upsert_node(&NodeInput::new("n1"))?;
        db.execute_many(
            "INSERT INTO users (email) VALUES (?)",
            &[pos(vec!["b@x".into()]), pos(vec!["c@x".into()])],
        )?;
        Ok(())
    })
    .unwrap();
    db.execute("UPDATE users SET email = 'a2@x' WHERE id = 1", &none())
        .unwrap();
    let count = |sql: &str| match db.query_row(sql, &none()).unwrap().unwrap().values[0] {
        Value::Integer(n) => n,
        ref v => panic!("{v:?}"),
    };
    assert_eq!(count("SELECT count(*) FROM audit WHERE what = 'insert'"), 3);
    assert_eq!(count("SELECT updated FROM users WHERE id = 1"), 1);

    // A trigger planted on an engine table by another program while the handle is open: the
    // handle's writes (engine calls and application SQL alike) never run it.
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch(
            "CREATE TABLE planted_marks (x); \
             CREATE TRIGGER planted AFTER INSERT ON nodes BEGIN INSERT INTO planted_marks VALUES (new.id); END; \
             CREATE TRIGGER planted_users AFTER INSERT ON users BEGIN INSERT INTO planted_marks VALUES ('users'); END;",
        )
        .unwrap();
    db.upsert_node(&NodeInput::new("n2")).unwrap();
    db.transaction(|db| db.upsert_node(&NodeInput::new("n3")).map(|_| ()))
        .unwrap();
    assert_eq!(count("SELECT count(*) FROM planted_marks"), 0);
    // While it sits there, no trigger runs on this handle (SQLite's trigger switch is off): the
    // health report names it.
    db.execute("INSERT INTO users (email) VALUES ('d@x')", &none())
        .unwrap();
    assert_eq!(count("SELECT count(*) FROM planted_marks"), 0);
    let health = db.health().unwrap();
    assert!(
        format!("{health:?}").contains("planted"),
        "health does not name the planted trigger: {health:?}"
    );
    // Once it is gone, the application's triggers fire again.
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch("DROP TRIGGER planted")
        .unwrap();
    db.execute("INSERT INTO users (email) VALUES ('e@x')", &none())
        .unwrap();
    assert_eq!(count("SELECT count(*) FROM audit WHERE what = 'insert'"), 4);
    assert_eq!(count("SELECT count(*) FROM planted_marks"), 1);
    // A trigger on an engine table is refused to application SQL, as before.
    let e = db
        .execute_batch("CREATE TRIGGER mine AFTER INSERT ON nodes BEGIN SELECT 1; END")
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
}

#[test]
fn a_trigger_fired_by_an_engine_write_runs_under_the_application_rules() {
    let (_d, path, db) = fresh();
    db.upsert_node(&NodeInput::new("n1")).unwrap();
    db.upsert_node(&NodeInput::new("n2")).unwrap();
    // Application rows that follow a node (a foreign key into the engine's table) and triggers on
    // them: the engine's delete_node cascades into them, and their triggers fire.
    db.execute_batch(
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, node_id TEXT REFERENCES nodes(id) ON DELETE CASCADE);
         CREATE TABLE gone (node_id TEXT);
         CREATE TRIGGER notes_ad AFTER DELETE ON notes BEGIN INSERT INTO gone VALUES (old.node_id); END;
         INSERT INTO notes (node_id) VALUES ('n1'), ('n2');",
    )
    .unwrap();
    db.delete_node("n1").unwrap();
    let gone = db.query("SELECT node_id FROM gone", &none()).unwrap().rows;
    assert_eq!(gone, vec![vec![Value::Text("n1".into())]]);
    // A trigger body that writes what application SQL may not write is refused even when the
    // engine's own statement fires it: the delete fails and changes nothing.
    db.execute_batch(
        "CREATE TRIGGER notes_ad_history AFTER DELETE ON notes BEGIN \
         DELETE FROM history; END;",
    )
    .unwrap();
    let before = file_bytes(&path);
    let e = db.delete_node("n2").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
    assert_eq!(file_bytes(&path), before);
    assert!(db.get_node("n2").unwrap().is_some());
}

#[test]
fn a_prepared_statement_runs_many_times_and_reports_new_column_names() {
    let (_d, _p, db) = fresh();
    db.execute_batch("CREATE TABLE t (a INTEGER, b TEXT)")
        .unwrap();
    let (ins, info) = db
        .prepare_sql("INSERT INTO t (a, b) VALUES (?, ?)")
        .unwrap();
    assert_eq!(info.parameter_count, 2);
    assert_eq!(ins.sql(), "INSERT INTO t (a, b) VALUES (?, ?)");
    for i in 0..3 {
        let r = db
            .execute_prepared(&ins, &pos(vec![Value::Integer(i), "x".into()]))
            .unwrap();
        assert_eq!((r.changes, r.last_insert_rowid), (1, i + 1));
    }
    let (all, _) = db.prepare_sql("SELECT * FROM t ORDER BY a").unwrap();
    let r = db.query_prepared(&all, &none(), usize::MAX).unwrap();
    assert_eq!(r.rows.len(), 3);
    assert_eq!(r.renamed, None);
    assert_eq!(db.query_prepared(&all, &none(), 1).unwrap().rows.len(), 1);
    // The table changes: SQLite recompiles the cached statement, and the new names come back once.
    db.execute_batch("ALTER TABLE t ADD COLUMN c REAL").unwrap();
    let r = db.query_prepared(&all, &none(), 1).unwrap();
    assert_eq!(r.renamed, Some(vec!["a".into(), "b".into(), "c".into()]));
    assert_eq!(r.rows[0], vec![Value::Integer(0), "x".into(), Value::Null]);
    assert_eq!(db.query_prepared(&all, &none(), 1).unwrap().renamed, None);
    assert_eq!(all.columns(), vec!["a", "b", "c"]);
    // The authorizer still decides, and a closed handle says closed.
    let e = db.prepare_sql("DELETE FROM nodes").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    db.close().unwrap();
    let e = db
        .execute_prepared(&ins, &pos(vec![Value::Integer(9), "y".into()]))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Closed);
}

/// A `PreparedSql` owns its compiled statement: it follows schema changes (new column names come
/// back once), is refused on another handle, stops on `interrupt` and runs again after, and
/// outlives the handle's close (finalized by the close; dropped later without harm).
#[test]
fn prepared_statements_own_their_compiled_statement() {
    let (_d, _p, db) = fresh();
    db.execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1)")
        .unwrap();
    let (star, info) = db.prepare_sql("SELECT * FROM t").unwrap();
    assert_eq!(info.columns.len(), 1);
    let r = db.query_prepared(&star, &none(), usize::MAX).unwrap();
    assert_eq!(
        (r.rows.clone(), r.renamed),
        (vec![vec![Value::Integer(1)]], None)
    );
    db.execute_batch("ALTER TABLE t ADD COLUMN y DEFAULT 7")
        .unwrap();
    let r = db.query_prepared(&star, &none(), 1).unwrap();
    assert_eq!(r.rows, vec![vec![Value::Integer(1), Value::Integer(7)]]);
    assert_eq!(r.renamed, Some(vec!["x".to_string(), "y".to_string()]));
    assert_eq!(star.columns(), vec!["x".to_string(), "y".to_string()]);
    assert_eq!(db.query_prepared(&star, &none(), 1).unwrap().renamed, None);

    // Rows and parameters through the callbacks.
    let (ins, _) = db.prepare_sql("INSERT INTO t (x) VALUES (?)").unwrap();
    let run = db
        .run_prepared(&ins, |b| b.text(1, "two"), |_| Ok(()))
        .unwrap();
    assert_eq!((run.result.changes, run.result.last_insert_rowid), (1, 2));
    let e = db
        .run_prepared(&ins, |b| b.text(2, "no such parameter"), |_| Ok(()))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Sqlite, "{e}");
    let e = db.execute_prepared(&ins, &none()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
    let mut seen = Vec::new();
    db.run_prepared(
        &star,
        |_| Ok(()),
        |r| {
            seen.push(format!("{:?}", r.get(0)?));
            Ok(())
        },
    )
    .unwrap();
    assert_eq!(seen, ["Integer(1)", "Text(\"two\")"]);

    // Another handle's statement is refused.
    let (_d2, _p2, other) = fresh();
    let e = other
        .execute_prepared(&ins, &pos(vec![Value::Integer(3)]))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");

    // Interrupt from another thread stops a long prepared query; the statement runs again.
    let db = std::sync::Arc::new(db);
    let (long, _) = db
        .prepare_sql("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < ?) SELECT count(*) FROM c")
        .unwrap();
    let long = std::sync::Arc::new(long);
    let worker = {
        let (db, long) = (db.clone(), long.clone());
        std::thread::spawn(move || db.query_prepared(&long, &pos(vec![Value::Integer(1 << 60)]), 1))
    };
    std::thread::sleep(Duration::from_millis(150));
    db.interrupt();
    let e = worker.join().unwrap().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Interrupted, "{e}");
    let r = db
        .query_prepared(&long, &pos(vec![Value::Integer(10)]), 1)
        .unwrap();
    assert_eq!(r.rows, vec![vec![Value::Integer(10)]]);

    // Dropped statements are finalized at the next call; live ones by close.
    for i in 0..100 {
        let (p, _) = db.prepare_sql(&format!("SELECT {i}")).unwrap();
        db.query_prepared(&p, &none(), 1).unwrap();
    }
    db.close().unwrap();
    let e = db
        .execute_prepared(&ins, &pos(vec![Value::Integer(3)]))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Closed, "{e}");
    drop((star, ins, long));
}
