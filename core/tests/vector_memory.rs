//! `OpenOptions::vector_memory` (docs/vectors.md, "Bounded memory"): a handle that keeps only the int8
//! codes answers every search exactly as one that keeps the f32 matrix — through writes by another
//! program (a plain SQLite connection, as the original application writes), its own writes, explicit
//! transactions and their rollback, read-only handles, and another handle writing while it searches.

use std::path::Path;

use resonance::{Database, Hit, NodeInput, OpenOptions, SearchOptions, VectorMemory};
use rusqlite::{params, Connection};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn f(&mut self) -> f32 {
        (self.next() >> 40) as f32 / (1u64 << 24) as f32 - 0.5
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn vector(&mut self, dim: usize) -> Vec<f32> {
        (0..dim).map(|_| self.f()).collect()
    }
}

const DIM: usize = 24;

fn open(path: &Path, memory: VectorMemory) -> Database {
    Database::open_with(
        path,
        OpenOptions {
            vector_memory: memory,
            ..OpenOptions::default()
        },
    )
    .unwrap()
}

fn blob(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// A file of `n` nodes with vectors: every fifth repeats one of 30 (exact ties), labels cycling.
fn seed(path: &Path, n: usize, rng: &mut Rng) -> Vec<Vec<f32>> {
    let base: Vec<Vec<f32>> = (0..30).map(|_| rng.vector(DIM)).collect();
    let nodes: Vec<NodeInput> = (0..n)
        .map(|i| NodeInput {
            domain: Some(["a", "b", "c"][i % 3].into()),
            node_type: (i % 4 != 0).then(|| ["x", "y"][i % 2].into()),
            embedding: Some(if i % 5 == 0 {
                base[i % 30].clone()
            } else {
                rng.vector(DIM)
            }),
            ..NodeInput::new(format!("n{:05}", (i * 7919) % 10007))
        })
        .collect();
    let db = Database::open(path).unwrap();
    db.upsert_nodes(&nodes).unwrap();
    db.close().unwrap();
    base
}

fn options() -> Vec<SearchOptions> {
    vec![
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
        SearchOptions {
            k: 100_000,
            min_score: Some(-2.0),
            ..Default::default()
        },
    ]
}

/// Every search of `got` equals `want`'s: single, batch and like.
fn assert_same(got: &Database, want: &Database, queries: &[Vec<f32>], like: &[&str], what: &str) {
    for opts in options() {
        for q in queries {
            let w = want.search(q, &opts).unwrap();
            assert_eq!(got.search(q, &opts).unwrap(), w, "{what}: search {opts:?}");
        }
        let flat: Vec<f32> = queries.concat();
        let w = want.search_batch(&flat, queries.len(), &opts).unwrap();
        let g = got.search_batch(&flat, queries.len(), &opts).unwrap();
        assert_eq!(g, w, "{what}: batch {opts:?}");
        for id in like {
            let w = want.search_like(id, &opts).map_err(|e| e.code());
            let g = got.search_like(id, &opts).map_err(|e| e.code());
            assert_eq!(g, w, "{what}: like {id} {opts:?}");
        }
    }
}

#[test]
fn codes_answer_like_the_matrix_through_foreign_and_own_writes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.db");
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    let base = seed(&path, 6000, &mut rng);
    // Kept open across every round: their caches must follow.
    let kept_codes = open(&path, VectorMemory::Codes);
    let kept_matrix = open(&path, VectorMemory::Matrix);
    let ids = |rng: &mut Rng| format!("n{:05}", (rng.below(6000) * 7919) % 10007);
    for round in 0..12 {
        let foreign = Connection::open(&path).unwrap();
        for _ in 0..rng.below(6) + 1 {
            let id = ids(&mut rng);
            match rng.below(7) {
                // The original application's writes: raw SQL on `nodes`, not always unit length.
                0 => {
                    let v: Vec<f32> = rng.vector(DIM).iter().map(|x| x * 3.0).collect();
                    foreign
                        .execute(
                            "UPDATE nodes SET embedding = ?1 WHERE id = ?2",
                            params![blob(&v), id],
                        )
                        .unwrap();
                }
                1 => {
                    foreign
                        .execute(
                            "INSERT OR REPLACE INTO nodes (id, domain, type, embedding) VALUES (?1, 'b', 'y', ?2)",
                            params![format!("f{round}-{}", rng.below(1000)), blob(&base[rng.below(30)])],
                        )
                        .unwrap();
                }
                2 => {
                    foreign
                        .execute("DELETE FROM nodes WHERE id = ?1", [&id])
                        .unwrap();
                }
                3 => {
                    foreign
                        .execute("UPDATE nodes SET domain = 'c' WHERE id = ?1", [&id])
                        .unwrap();
                }
                4 => {
                    // A zero vector, a torn blob, another dimension.
                    let b = match rng.below(3) {
                        0 => vec![0u8; DIM * 4],
                        1 => vec![1, 2, 3],
                        _ => blob(&rng.vector(DIM + 1)),
                    };
                    foreign
                        .execute(
                            "UPDATE nodes SET embedding = ?1 WHERE id = ?2",
                            params![b, id],
                        )
                        .unwrap();
                }
                // The engine's own writes, through the codes handle.
                5 => kept_codes
                    .set_embedding(&id, &rng.vector(DIM))
                    .map_or_else(|e| assert_eq!(e.code(), "not_found"), |()| {}),
                _ => {
                    kept_codes
                        .upsert_node(&NodeInput {
                            embedding: Some(base[rng.below(30)].clone()),
                            domain: Some("a".into()),
                            ..NodeInput::new(format!("e{round}"))
                        })
                        .unwrap();
                }
            }
        }
        drop(foreign);
        let queries = vec![base[round % 30].clone(), rng.vector(DIM), rng.vector(DIM)];
        let like = [ids(&mut rng), format!("e{round}"), "missing".to_string()];
        let like: Vec<&str> = like.iter().map(String::as_str).collect();
        let fresh_matrix = open(&path, VectorMemory::Matrix);
        let fresh_codes = open(&path, VectorMemory::Codes);
        assert_same(&fresh_codes, &fresh_matrix, &queries, &like, "fresh");
        assert_same(&kept_codes, &fresh_matrix, &queries, &like, "kept codes");
        assert_same(&kept_matrix, &fresh_matrix, &queries, &like, "kept matrix");
        let (ci, mi) = (
            fresh_codes.vector_index_info().unwrap(),
            fresh_matrix.vector_index_info().unwrap(),
        );
        assert_eq!((ci.memory, mi.memory), ("codes", "matrix"));
        assert_eq!(
            resonance::VectorIndexInfo {
                memory: "matrix",
                ..ci
            },
            mi
        );
    }
}

#[test]
fn codes_follow_a_transaction_and_its_rollback() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let mut rng = Rng(7);
    let base = seed(&path, 5000, &mut rng);
    let codes = open(&path, VectorMemory::Codes);
    let q = vec![base[4].clone(), rng.vector(DIM)];
    let before = open(&path, VectorMemory::Matrix);
    assert_same(&codes, &before, &q, &["n00000"], "before");
    // Inside the transaction the handle sees its own writes.
    codes.begin().unwrap();
    codes.set_embedding("n00000", &base[4]).unwrap();
    codes.delete_node("n07919").unwrap();
    let inside: Vec<Vec<Hit>> = q
        .iter()
        .map(|q| codes.search(q, &SearchOptions::default()).unwrap())
        .collect();
    assert!(inside[0].iter().any(|h| h.id == "n00000"));
    codes.rollback().unwrap();
    assert_same(&codes, &before, &q, &["n00000"], "after rollback");
    // The same writes committed: the inside results were those of the committed state.
    codes.begin().unwrap();
    codes.set_embedding("n00000", &base[4]).unwrap();
    codes.delete_node("n07919").unwrap();
    codes.commit().unwrap();
    let after = open(&path, VectorMemory::Matrix);
    for (q, inside) in q.iter().zip(&inside) {
        assert_eq!(&after.search(q, &SearchOptions::default()).unwrap(), inside);
    }
    assert_same(&codes, &after, &q, &["n00000", "n07919"], "after commit");
}

#[test]
fn a_read_only_codes_handle_answers_after_foreign_writes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.db");
    let mut rng = Rng(99);
    let base = seed(&path, 5000, &mut rng);
    let ro = Database::open_with(
        &path,
        OpenOptions {
            read_only: true,
            vector_memory: VectorMemory::Codes,
            ..OpenOptions::default()
        },
    )
    .unwrap();
    let q = vec![base[1].clone(), rng.vector(DIM)];
    let m = open(&path, VectorMemory::Matrix);
    assert_same(&ro, &m, &q, &["n00000"], "read-only");
    let foreign = Connection::open(&path).unwrap();
    foreign
        .execute(
            "UPDATE nodes SET embedding = ?1 WHERE id = 'n00000'",
            [blob(&rng.vector(DIM))],
        )
        .unwrap();
    drop(foreign);
    assert_same(&ro, &m, &q, &["n00000"], "read-only after a foreign write");
}

#[test]
fn codes_searches_stay_exact_while_another_handle_writes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.db");
    let mut rng = Rng(5);
    let base = seed(&path, 5000, &mut rng);
    let q = base[2].clone();
    let want = open(&path, VectorMemory::Matrix)
        .search(&q, &SearchOptions::default())
        .unwrap();
    let codes = open(&path, VectorMemory::Codes);
    let stop = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|s| {
        s.spawn(|| {
            // Commits that change no vector and no label a search reads, as fast as it can.
            let w = Database::open(&path).unwrap();
            let mut i = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                w.update_meta("n00000", Some(&format!("{{\"i\":{i}}}")))
                    .unwrap();
                i += 1;
            }
        });
        for _ in 0..200 {
            assert_eq!(codes.search(&q, &SearchOptions::default()).unwrap(), want);
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
    });
}

#[test]
fn vector_memory_names() {
    assert_eq!(VectorMemory::default(), VectorMemory::Matrix);
    for m in VectorMemory::ALL {
        assert_eq!(VectorMemory::parse(m.name()).unwrap(), m);
    }
    assert_eq!(
        VectorMemory::parse("f32").unwrap_err().code(),
        "invalid_argument"
    );
}

#[test]
fn ids_that_do_not_find_their_row_again_fall_back_to_the_matrix() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("u.db");
    let mut rng = Rng(11);
    let base = seed(&path, 5000, &mut rng);
    // Another program wrote an id that is not UTF-8: the matrix knows it by its lossy form, which
    // finds no row by id. It is the best hit of the query.
    let foreign = Connection::open(&path).unwrap();
    foreign
        .execute(
            "INSERT INTO nodes (id, domain, embedding) VALUES (CAST(x'6e80ff' AS TEXT), 'a', ?1)",
            [blob(&base[6])],
        )
        .unwrap();
    drop(foreign);
    let codes = open(&path, VectorMemory::Codes);
    let matrix = open(&path, VectorMemory::Matrix);
    let q = vec![base[6].clone(), rng.vector(DIM)];
    assert_same(&codes, &matrix, &q, &[], "lossy id");
    assert!(codes
        .search(&base[6], &SearchOptions::default())
        .unwrap()
        .iter()
        .any(|h| h.id == "n\u{FFFD}\u{FFFD}"));
    // It answered from the f32 matrix, loaded after the codes could not be checked.
    assert_eq!(codes.vector_index_info().unwrap().memory, "matrix");
}

#[test]
fn a_dimension_beyond_the_int8_kernels_keeps_the_matrix() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wide.db");
    let dim = 40_000;
    let mut rng = Rng(3);
    let db = open(&path, VectorMemory::Codes);
    for i in 0..5 {
        db.upsert_node(&NodeInput {
            embedding: Some(rng.vector(dim)),
            ..NodeInput::new(format!("w{i}"))
        })
        .unwrap();
    }
    let q = rng.vector(dim);
    let m = open(&path, VectorMemory::Matrix);
    assert_same(&db, &m, &[q], &["w1"], "wide");
    assert_eq!(db.vector_index_info().unwrap().memory, "matrix");
}
