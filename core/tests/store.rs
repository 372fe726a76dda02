//! Store and vector behaviour that the conformance cases cannot show: bad input leaves the database
//! byte-for-byte unchanged, 1 MB strings round-trip, the vector cache follows another connection and
//! another process, transactions roll back on error and panic, and threads search in parallel.

use std::path::Path;
use std::process::Command;

use resonance::{Database, EdgeInput, NodeInput, OpenOptions, SearchOptions};
use rusqlite::Connection;

/// A digest of every row of every table (the database's content, independent of page layout).
fn content_hash(path: &Path) -> String {
    use sha2::Digest;
    let c = Connection::open(path).unwrap();
    let mut h = sha2::Sha256::new();
    let tables: Vec<String> = c
        .prepare("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    for t in tables {
        h.update(t.as_bytes());
        let mut st = c
            .prepare(&format!(
                "SELECT quote(rowid), * FROM \"{t}\" ORDER BY rowid"
            ))
            .unwrap();
        let n = st.column_count();
        let mut rows = st.query([]).unwrap();
        while let Some(r) = rows.next().unwrap() {
            for i in 0..n {
                h.update(
                    format!("{:?}|", r.get::<_, rusqlite::types::Value>(i).unwrap()).as_bytes(),
                );
            }
        }
    }
    format!("{:x}", h.finalize())
}

fn node(id: &str, v: Option<Vec<f32>>) -> NodeInput {
    NodeInput {
        embedding: v,
        ..NodeInput::new(id)
    }
}

#[test]
fn bad_input_leaves_the_database_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.db");
    let db = Database::open(&p).unwrap();
    db.upsert_nodes(&[
        node("a", Some(vec![1.0, 0.0, 0.0])),
        node("b", Some(vec![0.0, 1.0, 0.0])),
    ])
    .unwrap();
    db.add_edge(&EdgeInput::new("a", "b")).unwrap();
    db.checkpoint("truncate").unwrap();
    let before = content_hash(&p);
    let nan = f32::NAN;
    let attempts: Vec<(&str, resonance::Error)> = vec![
        (
            "empty vector",
            db.upsert_node(&node("c", Some(vec![]))).unwrap_err(),
        ),
        (
            "NaN",
            db.upsert_node(&node("c", Some(vec![nan, 0.0, 0.0])))
                .unwrap_err(),
        ),
        (
            "inf",
            db.upsert_node(&node("c", Some(vec![f32::INFINITY, 0.0, 0.0])))
                .unwrap_err(),
        ),
        (
            "zero",
            db.upsert_node(&node("c", Some(vec![0.0; 3]))).unwrap_err(),
        ),
        (
            "tiny",
            db.upsert_node(&node("c", Some(vec![1e-7, 0.0, 0.0])))
                .unwrap_err(),
        ),
        (
            "dimension",
            db.upsert_node(&node("c", Some(vec![1.0; 4]))).unwrap_err(),
        ),
        (
            "overwrite with bad dim",
            db.upsert_node(&node("a", Some(vec![1.0; 2]))).unwrap_err(),
        ),
        (
            "batch",
            db.upsert_nodes(&[node("c", None), node("d", Some(vec![nan; 3]))])
                .unwrap_err(),
        ),
        (
            "set_embedding NaN",
            db.set_embedding("a", &[nan, 1.0, 0.0]).unwrap_err(),
        ),
        (
            "set_embedding missing",
            db.set_embedding("zz", &[1.0, 1.0, 0.0]).unwrap_err(),
        ),
        (
            "meta",
            db.upsert_node(&NodeInput {
                meta: Some("{".into()),
                ..NodeInput::new("a")
            })
            .unwrap_err(),
        ),
        (
            "edge NaN",
            db.add_edge(&EdgeInput {
                confidence: Some(f64::NAN),
                ..EdgeInput::new("a", "b")
            })
            .unwrap_err(),
        ),
        ("empty id", db.upsert_node(&NodeInput::new("")).unwrap_err()),
        ("delete missing", db.delete_node("zz").unwrap_err()),
        (
            "search NaN",
            db.search(&[nan, 0.0, 0.0], &SearchOptions::default())
                .unwrap_err(),
        ),
        (
            "search dim",
            db.search(&[1.0, 0.0], &SearchOptions::default())
                .unwrap_err(),
        ),
        (
            "threads 0",
            db.search(
                &[1.0, 0.0, 0.0],
                &SearchOptions {
                    threads: Some(0),
                    ..Default::default()
                },
            )
            .unwrap_err(),
        ),
    ];
    let kinds: Vec<(&str, &str)> = attempts.iter().map(|(w, e)| (*w, e.code())).collect();
    assert_eq!(
        kinds,
        vec![
            ("empty vector", "invalid_vector"),
            ("NaN", "invalid_vector"),
            ("inf", "invalid_vector"),
            ("zero", "invalid_vector"),
            ("tiny", "invalid_vector"),
            ("dimension", "dimension_mismatch"),
            ("overwrite with bad dim", "dimension_mismatch"),
            ("batch", "invalid_vector"),
            ("set_embedding NaN", "invalid_vector"),
            ("set_embedding missing", "not_found"),
            ("meta", "invalid_argument"),
            ("edge NaN", "invalid_argument"),
            ("empty id", "invalid_argument"),
            ("delete missing", "not_found"),
            ("search NaN", "invalid_vector"),
            ("search dim", "dimension_mismatch"),
            ("threads 0", "invalid_argument"),
        ]
    );
    let dm = attempts[5].1.to_string();
    assert!(
        dm.contains('3') && dm.contains('4') && dm.contains("\"c\""),
        "names sizes and id: {dm}"
    );
    db.checkpoint("truncate").unwrap();
    assert_eq!(
        content_hash(&p),
        before,
        "the database is unchanged by every bad input"
    );
    // The handle still works and the cache still answers.
    let hits = db
        .search(&[1.0, 0.0, 0.0], &SearchOptions::default())
        .unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].id, "a");
}

#[test]
fn odd_and_huge_strings_round_trip_byte_exact() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path().join("a.db")).unwrap();
    let mega: String = "ab'c;--%é🙂".repeat(1024 * 1024 / 14);
    assert!(mega.len() > 1_000_000);
    let ids = ["x'); DROP TABLE nodes; --", "%_\\", "名前🙂", mega.as_str()];
    for id in ids {
        let meta = serde_json::json!({"v": id}).to_string();
        db.upsert_node(&NodeInput {
            title: Some(id.to_string()),
            summary: Some(mega.clone()),
            meta: Some(meta.clone()),
            ..NodeInput::new(id)
        })
        .unwrap();
        let n = db.get_node(id).unwrap().unwrap();
        assert_eq!(n.id.as_bytes(), id.as_bytes());
        assert_eq!(n.title.as_deref(), Some(id));
        assert_eq!(n.summary.as_deref(), Some(mega.as_str()));
        assert_eq!(n.meta.as_deref(), Some(meta.as_str()));
        db.add_edge(&EdgeInput {
            edge_type: Some(id.to_string()),
            ..EdgeInput::new(id, ids[0])
        })
        .unwrap();
        assert_eq!(db.edges_from(id).unwrap()[0].edge_type, id);
    }
    assert_eq!(db.stats().unwrap().nodes, 4);
}

#[test]
fn the_cache_sees_another_connections_writes() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.db");
    let db = Database::open(&p).unwrap();
    db.upsert_nodes(&[
        node("a", Some(vec![1.0, 0.0])),
        node("b", Some(vec![0.0, 1.0])),
    ])
    .unwrap();
    assert_eq!(
        db.search(&[1.0, 0.0], &SearchOptions::default()).unwrap()[0].id,
        "a"
    );
    let other = Database::open(&p).unwrap();
    other.set_embedding("b", &[1.0, 0.01]).unwrap();
    other
        .upsert_node(&node("c", Some(vec![1.0, 0.02])))
        .unwrap();
    let hits: Vec<String> = db
        .search(&[1.0, 0.0], &SearchOptions::default())
        .unwrap()
        .into_iter()
        .map(|h| h.id)
        .collect();
    assert_eq!(hits, ["a", "b", "c"]);
    assert_eq!(db.neighbors("a").unwrap(), Vec::<String>::new());
    other.add_edge(&EdgeInput::new("a", "c")).unwrap();
    assert_eq!(
        db.neighbors("a").unwrap(),
        ["c"],
        "the graph snapshot follows too"
    );
}

#[test]
fn child_writer() {
    let Ok(path) = std::env::var("RESONANCE_STORE_CHILD_DB") else {
        return;
    };
    let db = Database::open(&path).unwrap();
    db.upsert_node(&node("from-child", Some(vec![0.6, 0.8])))
        .unwrap();
    db.close().unwrap();
}

#[test]
fn the_cache_sees_another_process_writes() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.db");
    let db = Database::open(&p).unwrap();
    db.upsert_node(&node("a", Some(vec![1.0, 0.0]))).unwrap();
    assert_eq!(
        db.search(&[0.0, 1.0], &SearchOptions::default())
            .unwrap()
            .len(),
        0
    );
    let st = Command::new(std::env::current_exe().unwrap())
        .args(["child_writer", "--exact", "--nocapture"])
        .env("RESONANCE_STORE_CHILD_DB", &p)
        .status()
        .unwrap();
    assert!(st.success());
    let hits = db.search(&[0.0, 1.0], &SearchOptions::default()).unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].id, "from-child");
    assert!((hits[0].score - 0.8).abs() < 1e-6);
}

#[test]
fn transactions_roll_back_on_error_and_panic() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path().join("a.db")).unwrap();
    let r: resonance::Result<()> = db.transaction(|db| {
        db.upsert_node(&node("a", Some(vec![1.0, 0.0])))?;
        db.upsert_node(&NodeInput::new(""))?;
        Ok(())
    });
    assert_eq!(r.unwrap_err().code(), "invalid_argument");
    assert!(db.get_node("a").unwrap().is_none());
    assert!(
        db.search(&[1.0, 0.0], &SearchOptions::default())
            .unwrap()
            .is_empty(),
        "the cache did not keep it"
    );
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _ = db.transaction(|db| -> resonance::Result<()> {
            db.upsert_node(&node("p", None))?;
            panic!("boom");
        });
    }));
    assert!(caught.is_err());
    assert!(!db.in_transaction());
    assert!(db.get_node("p").unwrap().is_none());
    db.transaction(|db| db.upsert_node(&node("ok", None)))
        .unwrap();
    assert!(db.get_node("ok").unwrap().is_some());
}

#[test]
fn another_thread_waits_for_an_explicit_transaction() {
    let dir = tempfile::tempdir().unwrap();
    let db = std::sync::Arc::new(
        Database::open_with(
            dir.path().join("a.db"),
            OpenOptions {
                busy_timeout_ms: 1000,
                ..Default::default()
            },
        )
        .unwrap(),
    );
    db.begin().unwrap();
    db.upsert_node(&node("mine", None)).unwrap();
    let d2 = db.clone();
    let t = std::thread::spawn(move || d2.upsert_node(&node("theirs", None)).map_err(|e| e.code()));
    assert_eq!(
        t.join().unwrap(),
        Err("busy"),
        "it waited the busy timeout, then gave up"
    );
    let d3 = db.clone();
    let t = std::thread::spawn(move || {
        d3.get_node("mine")
            .map(|n| n.is_some())
            .map_err(|e| e.code())
    });
    std::thread::sleep(std::time::Duration::from_millis(100));
    db.commit().unwrap();
    assert_eq!(
        t.join().unwrap(),
        Ok(true),
        "it waited for the commit and saw it"
    );
}
