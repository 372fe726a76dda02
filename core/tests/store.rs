//! Store and vector behaviour that the conformance cases cannot show: bad input leaves the database
//! byte-for-byte unchanged, 1 MB strings round-trip, the vector cache follows another connection and
//! another process, transactions roll back on error and panic, and threads search in parallel.

use std::path::Path;
use std::process::Command;

use resonance::{CheckpointMode, Database, EdgeInput, NodeInput, OpenOptions, SearchOptions};
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
    db.checkpoint(CheckpointMode::Truncate).unwrap();
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
    db.checkpoint(CheckpointMode::Truncate).unwrap();
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

/// A partial update changes only the fields given: a rename keeps the embedding, the type and the
/// meta; `Some(None)` clears a field (domain and layer go back to their defaults); the history row
/// holds the whole row before and after.
#[test]
fn update_node_changes_only_the_fields_given() {
    use resonance::NodeUpdate;
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path().join("a.db")).unwrap();
    db.upsert_node(&NodeInput {
        node_type: Some("note".into()),
        title: Some("old".into()),
        domain: Some("work".into()),
        meta: Some(r#"{"k":1}"#.into()),
        embedding: Some(vec![3.0, 4.0]),
        ..NodeInput::new("a")
    })
    .unwrap();
    db.update_node(
        "a",
        &NodeUpdate {
            title: Some(Some("new".into())),
            ..Default::default()
        },
    )
    .unwrap();
    let n = db.get_node_with("a", true).unwrap().unwrap();
    assert_eq!(n.title.as_deref(), Some("new"));
    assert_eq!(n.node_type.as_deref(), Some("note"));
    assert_eq!(n.domain.as_deref(), Some("work"));
    assert_eq!(n.meta.as_deref(), Some(r#"{"k":1}"#));
    assert_eq!(n.embedding, Some(vec![0.6, 0.8]), "the embedding was kept");
    let h = db.history("a").unwrap();
    assert_eq!(h.len(), 2);
    assert_eq!(h[1].action, "update");
    let old: serde_json::Value = serde_json::from_str(h[1].old_value.as_deref().unwrap()).unwrap();
    let new: serde_json::Value = serde_json::from_str(h[1].new_value.as_deref().unwrap()).unwrap();
    assert_eq!(old["title"], "old");
    assert_eq!(new["title"], "new");
    assert_eq!(new["type"], "note");
    assert_eq!(new["embedding"], serde_json::json!({"dimension": 2}));

    // Clearing: a field given as None.
    db.update_node(
        "a",
        &NodeUpdate {
            node_type: Some(None),
            domain: Some(None),
            embedding: Some(None),
            ..Default::default()
        },
    )
    .unwrap();
    let n = db.get_node_with("a", true).unwrap().unwrap();
    assert_eq!(n.node_type, None);
    assert_eq!(
        n.domain.as_deref(),
        Some("knowledge"),
        "cleared to the default"
    );
    assert_eq!(n.title.as_deref(), Some("new"));
    assert_eq!(n.embedding, None);
    assert!(db
        .search(&[1.0, 0.0], &SearchOptions::default())
        .unwrap()
        .is_empty());

    // A new embedding follows the dimension rule and reaches the search cache.
    db.update_node(
        "a",
        &NodeUpdate {
            embedding: Some(Some(vec![0.0, 2.0])),
            ..Default::default()
        },
    )
    .unwrap();
    let hits = db.search(&[0.0, 1.0], &SearchOptions::default()).unwrap();
    assert_eq!(hits.len(), 1);
    let wrong_dim = NodeUpdate {
        embedding: Some(Some(vec![1.0, 0.0, 0.0])),
        ..Default::default()
    };
    assert_eq!(
        db.update_node("a", &wrong_dim).unwrap_err().code(),
        "dimension_mismatch"
    );
}

/// A node's domain or type changed by `update_node` (embedding kept) moves it in the search filters
/// of a handle whose vector cache is loaded; bad input and a missing node change nothing.
#[test]
fn update_node_keeps_the_search_filters_and_refuses_bad_input() {
    use resonance::NodeUpdate;
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.db");
    let db = Database::open(&p).unwrap();
    db.upsert_node(&node("a", Some(vec![1.0, 0.0]))).unwrap();
    let in_domain = |d: &str| SearchOptions {
        domain: Some(d.into()),
        ..Default::default()
    };
    assert!(db
        .search(&[1.0, 0.0], &in_domain("work"))
        .unwrap()
        .is_empty());
    db.update_node(
        "a",
        &NodeUpdate {
            domain: Some(Some("work".into())),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(db.search(&[1.0, 0.0], &in_domain("work")).unwrap().len(), 1);
    assert!(db
        .search(&[1.0, 0.0], &in_domain("knowledge"))
        .unwrap()
        .is_empty());

    let before = content_hash(&p);
    let bad_meta = NodeUpdate {
        meta: Some(Some("{not json".into())),
        ..Default::default()
    };
    assert_eq!(
        db.update_node("a", &bad_meta).unwrap_err().code(),
        "invalid_argument"
    );
    let title = NodeUpdate {
        title: Some(Some("t".into())),
        ..Default::default()
    };
    assert_eq!(
        db.update_node("missing", &title).unwrap_err().code(),
        "not_found"
    );
    assert_eq!(
        db.update_node("", &title).unwrap_err().code(),
        "invalid_argument"
    );
    let nan = NodeUpdate {
        embedding: Some(Some(vec![f32::NAN, 0.0])),
        ..Default::default()
    };
    assert_eq!(
        db.update_node("a", &nan).unwrap_err().code(),
        "invalid_vector"
    );
    assert_eq!(content_hash(&p), before);
}

/// `merge_meta` applies a JSON merge patch (RFC 7386) and records the old and new meta.
#[test]
fn merge_meta_applies_a_json_merge_patch() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.db");
    let db = Database::open(&p).unwrap();
    db.upsert_node(&NodeInput {
        meta: Some(r#"{"a":1,"b":{"c":2,"x":0},"keep":[1,2]}"#.into()),
        embedding: Some(vec![1.0, 0.0]),
        ..NodeInput::new("n")
    })
    .unwrap();
    db.merge_meta("n", r#"{"b":{"c":null,"d":3},"e":"new","a":null}"#)
        .unwrap();
    let meta: serde_json::Value =
        serde_json::from_str(&db.get_node("n").unwrap().unwrap().meta.unwrap()).unwrap();
    assert_eq!(
        meta,
        serde_json::json!({"b": {"x": 0, "d": 3}, "keep": [1, 2], "e": "new"})
    );
    assert!(db
        .get_node_with("n", true)
        .unwrap()
        .unwrap()
        .embedding
        .is_some());
    let h = db.history("n").unwrap();
    let last = h.last().unwrap();
    assert_eq!(last.action, "update_meta");
    assert_eq!(
        last.old_value.as_deref(),
        Some(r#"{"a":1,"b":{"c":2,"x":0},"keep":[1,2]}"#)
    );
    let new: serde_json::Value = serde_json::from_str(last.new_value.as_deref().unwrap()).unwrap();
    assert_eq!(new, meta);

    // No meta yet: the patch applies to nothing; a patch that is not an object replaces the meta.
    db.upsert_node(&NodeInput::new("m")).unwrap();
    db.merge_meta("m", r#"{"k":{"z":null,"y":1}}"#).unwrap();
    assert_eq!(
        db.get_node("m").unwrap().unwrap().meta.as_deref(),
        Some(r#"{"k":{"y":1}}"#)
    );
    db.merge_meta("m", "[1]").unwrap();
    assert_eq!(
        db.get_node("m").unwrap().unwrap().meta.as_deref(),
        Some("[1]")
    );
    db.merge_meta("m", "null").unwrap();
    assert_eq!(db.get_node("m").unwrap().unwrap().meta, None);

    let before = content_hash(&p);
    assert_eq!(
        db.merge_meta("n", "{oops").unwrap_err().code(),
        "invalid_argument"
    );
    assert_eq!(db.merge_meta("nope", "{}").unwrap_err().code(), "not_found");
    assert_eq!(content_hash(&p), before);
}

/// `checkpoint` on a read-only handle says `readonly`, like `optimize` and `vacuum`.
#[test]
fn checkpoint_on_a_read_only_handle_is_readonly() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.db");
    let rw = Database::open(&p).unwrap();
    rw.upsert_node(&NodeInput::new("a")).unwrap();
    let ro = Database::open_with(
        &p,
        OpenOptions {
            read_only: true,
            ..Default::default()
        },
    )
    .unwrap();
    for mode in ["passive", "full", "restart", "truncate"] {
        assert_eq!(
            ro.checkpoint(mode.parse().unwrap()).unwrap_err().code(),
            "readonly",
            "{mode}"
        );
    }
    assert_eq!(ro.optimize().unwrap_err().code(), "readonly");
    rw.checkpoint(resonance::CheckpointMode::Passive).unwrap();
}

/// The last handle to close leaves the `-wal` file in place but empty, and a read-only handle can
/// open the database afterwards.
#[test]
fn the_wal_is_empty_after_the_last_handle_closes() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.db");
    let wal = dir.path().join("a.db-wal");
    let db = Database::open(&p).unwrap();
    let nodes: Vec<NodeInput> = (0..2000)
        .map(|i| NodeInput {
            summary: Some("x".repeat(200)),
            ..NodeInput::new(format!("n{i}"))
        })
        .collect();
    db.upsert_nodes(&nodes).unwrap();
    assert!(std::fs::metadata(&wal).unwrap().len() > 0);
    let second = Database::open(&p).unwrap();
    db.close().unwrap();
    assert!(
        std::fs::metadata(&wal).unwrap().len() > 0,
        "another handle is open"
    );
    second.close().unwrap();
    assert_eq!(
        std::fs::metadata(&wal).unwrap().len(),
        0,
        "the WAL is kept, empty"
    );
    let ro = Database::open_with(
        &p,
        OpenOptions {
            read_only: true,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(ro.stats().unwrap().nodes, 2000);
}

/// A backup is a file the read-only rules accept: opened read-only at once, with every row.
#[test]
fn a_fresh_backup_opens_read_only() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path().join("a.db")).unwrap();
    db.upsert_node(&node("a", Some(vec![1.0, 0.0]))).unwrap();
    let dest = dir.path().join("copy.db");
    db.backup(Some(&dest)).unwrap();
    assert!(
        !dir.path().join("copy.db-wal").exists(),
        "one self-contained file"
    );
    let ro = Database::open_with(
        &dest,
        OpenOptions {
            read_only: true,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(ro.stats().unwrap().nodes, 1);
    assert_eq!(
        ro.search(&[1.0, 0.0], &SearchOptions::default())
            .unwrap()
            .len(),
        1
    );
}

/// A search above the size where the int8 first pass runs (docs/vectors.md, "The quantised first
/// pass") returns what the f32 scan returns, on a file another program wrote into: zero vectors,
/// blobs of another dimension and of a length no dimension explains, duplicates, filters. A fresh
/// handle's first search scans the f32 rows; its second takes the codes.
#[test]
fn the_int8_first_pass_answers_like_the_f32_scan_on_a_file_others_wrote() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("codes.db");
    let dim = 24;
    let mut s = 0x2545_F491_4F6C_DD1Du64;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 40) as f32 / (1u64 << 24) as f32 - 0.5
    };
    let base: Vec<Vec<f32>> = (0..50)
        .map(|_| (0..dim).map(|_| next()).collect())
        .collect();
    let nodes: Vec<NodeInput> = (0..6000)
        .map(|i| NodeInput {
            domain: Some(["a", "b", "c"][i % 3].into()),
            node_type: (i % 4 != 0).then(|| ["x", "y"][i % 2].into()),
            // Every fifth row repeats one of 50 vectors: exact ties.
            ..node(
                &format!("n{:05}", (i * 7919) % 6007),
                Some(if i % 5 == 0 {
                    base[i % 50].clone()
                } else {
                    (0..dim).map(|_| next()).collect()
                }),
            )
        })
        .collect();
    let db = Database::open(&path).unwrap();
    db.upsert_nodes(&nodes).unwrap();
    db.close().unwrap();
    // Another program writes: zero vectors, another dimension, a torn blob.
    let c = Connection::open(&path).unwrap();
    let zero = vec![0u8; dim * 4];
    let other: Vec<u8> = (0..(dim + 3) as u32)
        .flat_map(|i| (i as f32).to_le_bytes())
        .collect();
    for (i, blob) in [zero.clone(), other, vec![1, 2, 3], zero]
        .into_iter()
        .enumerate()
    {
        c.execute(
            "UPDATE nodes SET embedding = ?1 WHERE id = ?2",
            rusqlite::params![blob, format!("n{:05}", (i * 97 * 7919) % 6007)],
        )
        .unwrap();
    }
    drop(c);
    let options = [
        SearchOptions::default(),
        SearchOptions {
            k: 1,
            threads: Some(1),
            ..Default::default()
        },
        SearchOptions {
            k: 40,
            min_score: Some(-1.0),
            domain: Some("b".into()),
            ..Default::default()
        },
        SearchOptions {
            k: 25,
            min_score: Some(0.0),
            node_type: Some("y".into()),
            ..Default::default()
        },
    ];
    let queries: Vec<Vec<f32>> = vec![base[3].clone(), (0..dim).map(|_| next()).collect()];
    for opts in &options {
        for q in &queries {
            let db = Database::open(&path).unwrap();
            let f32_scan = db.search(q, opts).unwrap();
            let with_codes = db.search(q, opts).unwrap();
            assert_eq!(with_codes, f32_scan, "{opts:?}");
            assert!(!f32_scan.is_empty());
            db.close().unwrap();
        }
        let flat: Vec<f32> = queries.concat();
        let db = Database::open(&path).unwrap();
        let f32_batch = db.search_batch(&flat, 2, opts).unwrap();
        let codes_batch = db.search_batch(&flat, 2, opts).unwrap();
        assert_eq!(codes_batch, f32_batch, "{opts:?}");
        db.close().unwrap();
    }
}
