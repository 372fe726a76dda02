//! Fixtures shared by the integration tests: every database shape of docs/schema.md, built from DDL written
//! here (no binary fixtures), and helpers to snapshot a database's content.

// Compiled into several integration-test binaries, each of which uses only some of these helpers.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;

use rusqlite::types::Value;
use rusqlite::Connection;

/// The Drizzle steps' SQL, as the application ran them (the tests do not reuse the engine's copy).
pub const DDL_0000: &str = "
CREATE TABLE `edges` (
	`source` text NOT NULL,
	`target` text NOT NULL,
	`type` text NOT NULL,
	`confidence` real DEFAULT 1,
	`veracity` real DEFAULT 1,
	`context_source` text,
	PRIMARY KEY(`source`, `target`, `type`)
);
CREATE INDEX `idx_edges_source` ON `edges` (`source`);
CREATE INDEX `idx_edges_target` ON `edges` (`target`);
CREATE TABLE `ember_state` (
	`file_path` text PRIMARY KEY NOT NULL,
	`last_analyzed` text,
	`sidecar_created` integer,
	`confidence` real
);
CREATE TABLE `nodes` (
	`id` text PRIMARY KEY NOT NULL,
	`type` text,
	`title` text,
	`domain` text,
	`layer` text,
	`embedding` blob,
	`hash` text,
	`meta` text,
	`date` text
);";
pub const DDL_0001: &str = "
CREATE TABLE `history` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`entity_type` text NOT NULL,
	`entity_id` text NOT NULL,
	`action` text NOT NULL,
	`old_value` text,
	`new_value` text,
	`timestamp` text DEFAULT (CURRENT_TIMESTAMP)
);";
pub const DDL_0002: &str = "ALTER TABLE `nodes` ADD `summary` text;";
pub const LEDGER: &str =
    "CREATE TABLE IF NOT EXISTS \"__drizzle_migrations\" (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at numeric);";
pub const STEPS: [(i64, &str, &str); 3] = [
    (
        1767981411501,
        "b548e4cd9d946d39dbb888e94692783cde7099691bf666af54e1b5af60b389fb",
        "0000_happy_thaddeus_ross",
    ),
    (
        1768308220948,
        "7b30e2bf86221fedb429141261731220b2b2616a8bb09d3f5fbadccb55f41b16",
        "0001_happy_serpent_society",
    ),
    (
        1769588665479,
        "b6400314b4a5187a3a058a5d35c3cb6031eadd86fff72403accdc73495d69e78",
        "0002",
    ),
];

/// A deterministic little-endian float32 blob (not normalised on purpose: adoption must not touch it).
pub fn blob(seed: u32, dim: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2654435761).wrapping_add(1);
    let mut out = Vec::with_capacity(dim * 4);
    for _ in 0..dim {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        let f = (x % 2000) as f32 / 1000.0 - 1.0;
        out.extend_from_slice(&f.to_le_bytes());
    }
    out
}

/// Every shape the tests build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fixture {
    Current,
    TwoSteps,
    HandLedger,
    LegacyV5,
    LegacyV8,
    LegacyV3,
    FailedUpgrade,
    NewerApp,
    Unknown,
}

impl Fixture {
    pub const ALL: [Fixture; 9] = [
        Fixture::Current,
        Fixture::TwoSteps,
        Fixture::HandLedger,
        Fixture::LegacyV5,
        Fixture::LegacyV8,
        Fixture::LegacyV3,
        Fixture::FailedUpgrade,
        Fixture::NewerApp,
        Fixture::Unknown,
    ];

    pub fn is_legacy(self) -> bool {
        matches!(
            self,
            Fixture::LegacyV5 | Fixture::LegacyV8 | Fixture::LegacyV3 | Fixture::FailedUpgrade
        )
    }
}

fn drizzle_rows(conn: &Connection, n: usize) {
    conn.execute_batch(LEDGER).unwrap();
    for (created, hash, _) in &STEPS[..n] {
        conn.execute(
            "INSERT INTO \"__drizzle_migrations\" (hash, created_at) VALUES (?1, ?2)",
            (hash, created),
        )
        .unwrap();
    }
}

fn insert_nodes(conn: &Connection, n: usize, with_summary: bool, dim: usize) {
    for i in 0..n {
        let id = format!("node-{i:04}");
        let emb: Option<Vec<u8>> = if i % 5 == 4 {
            None
        } else {
            Some(blob(i as u32, dim))
        };
        let meta = format!("{{\"i\":{i},\"q\":\"it's; -- %\"}}");
        if with_summary {
            conn.execute(
                "INSERT INTO nodes (id, type, title, domain, layer, embedding, hash, meta, date, summary) \
                 VALUES (?1, 'note', ?2, 'knowledge', 'experience', ?3, ?4, ?5, '2026-01-02', ?6)",
                (&id, format!("Title {i}"), emb, format!("h{i}"), meta, format!("sum {i}")),
            )
            .unwrap();
        } else {
            conn.execute(
                "INSERT INTO nodes (id, type, title, domain, layer, embedding, hash, meta, date) \
                 VALUES (?1, 'note', ?2, 'knowledge', 'experience', ?3, ?4, ?5, '2026-01-02')",
                (&id, format!("Title {i}"), emb, format!("h{i}"), meta),
            )
            .unwrap();
        }
    }
}

fn insert_edges(conn: &Connection, n: usize, full: bool) {
    for i in 0..n {
        let (s, t) = (
            format!("node-{:04}", i),
            format!("node-{:04}", (i * 7 + 1) % n),
        );
        if full {
            conn.execute(
                "INSERT INTO edges (source, target, type, confidence, veracity, context_source) VALUES (?1, ?2, 'links_to', 0.5, 0.75, 'ctx')",
                (&s, &t),
            )
            .unwrap();
        } else {
            conn.execute(
                "INSERT INTO edges (source, target, type) VALUES (?1, ?2, 'links_to')",
                (&s, &t),
            )
            .unwrap();
        }
    }
    // A dangling edge: no node `ghost`.
    conn.execute(
        "INSERT INTO edges (source, target, type) VALUES ('node-0000', 'ghost', 'mentions')",
        [],
    )
    .unwrap();
}

/// Builds `fixture` at `path` with `n` nodes (rollback-journal mode, as the old application left them).
pub fn build(path: &Path, fixture: Fixture, n: usize) {
    let conn = Connection::open(path).unwrap();
    let dim = 8;
    match fixture {
        Fixture::Current | Fixture::NewerApp => {
            conn.execute_batch(DDL_0000).unwrap();
            conn.execute_batch(DDL_0001).unwrap();
            conn.execute_batch(DDL_0002).unwrap();
            drizzle_rows(&conn, 3);
            if fixture == Fixture::NewerApp {
                conn.execute_batch(
                    "ALTER TABLE nodes ADD future_col text; INSERT INTO \"__drizzle_migrations\" (hash, created_at) VALUES ('ffff', 1790000000000);",
                )
                .unwrap();
            }
            insert_nodes(&conn, n, true, dim);
            insert_edges(&conn, n, true);
            conn.execute_batch("CREATE TABLE _health (id integer primary key, ts text); INSERT INTO _health (ts) VALUES ('x');").unwrap();
        }
        Fixture::TwoSteps => {
            conn.execute_batch(DDL_0000).unwrap();
            conn.execute_batch(DDL_0001).unwrap();
            drizzle_rows(&conn, 2);
            insert_nodes(&conn, n, false, dim);
            insert_edges(&conn, n, true);
            conn.execute(
                "INSERT INTO history (entity_type, entity_id, action, new_value) VALUES ('node', 'node-0000', 'create', '{}')",
                [],
            )
            .unwrap();
        }
        Fixture::HandLedger => {
            conn.execute_batch(DDL_0000).unwrap();
            conn.execute_batch(DDL_0001).unwrap();
            conn.execute_batch(LEDGER).unwrap();
            conn.execute_batch(
                "INSERT INTO \"__drizzle_migrations\" (id, hash, created_at) VALUES (1, '0000_happy_thaddeus_ross', 1767981411501);
                 INSERT INTO \"__drizzle_migrations\" (id, hash, created_at) VALUES (2, '0001_happy_serpent_society', 1768308220948);
                 PRAGMA user_version = 9;",
            )
            .unwrap();
            insert_nodes(&conn, n, false, dim);
            insert_edges(&conn, n, true);
        }
        Fixture::LegacyV5 => {
            conn.execute_batch(
                "CREATE TABLE nodes (id TEXT PRIMARY KEY, type TEXT, title TEXT, content TEXT, domain TEXT, layer TEXT, embedding BLOB, hash TEXT, meta TEXT);
                 CREATE TABLE edges (source TEXT, target TEXT, type TEXT, confidence REAL DEFAULT 1, veracity REAL DEFAULT 1, context_source TEXT, PRIMARY KEY (source, target, type));
                 CREATE INDEX idx_edges_source ON edges(source);
                 PRAGMA user_version = 5;",
            )
            .unwrap();
            for i in 0..n {
                conn.execute(
                    "INSERT INTO nodes (id, type, title, content, domain, layer, embedding, hash, meta) VALUES (?1, 'note', ?2, ?3, 'knowledge', 'experience', ?4, ?5, '{}')",
                    (format!("node-{i:04}"), format!("T{i}"), format!("body {i}"), blob(i as u32, dim), format!("h{i}")),
                )
                .unwrap();
            }
            insert_edges(&conn, n, true);
            conn.execute_batch("CREATE TABLE _health (id, ts);")
                .unwrap();
        }
        Fixture::LegacyV8 | Fixture::FailedUpgrade => {
            conn.execute_batch(
                "CREATE TABLE nodes (id TEXT PRIMARY KEY, type TEXT, title TEXT, content TEXT, domain TEXT, layer TEXT, embedding BLOB, hash TEXT, meta TEXT, date TEXT);
                 CREATE TABLE edges (source TEXT, target TEXT, type TEXT, confidence REAL DEFAULT 1, veracity REAL DEFAULT 1, context_source TEXT, PRIMARY KEY (source, target, type));
                 CREATE INDEX idx_edges_source ON edges(source);
                 CREATE INDEX idx_edges_target ON edges(target);
                 CREATE TABLE ember_state (file_path text PRIMARY KEY NOT NULL, last_analyzed text, sidecar_created integer, confidence real);
                 CREATE TABLE history (id integer PRIMARY KEY AUTOINCREMENT NOT NULL, entity_type text NOT NULL, entity_id text NOT NULL, action text NOT NULL, old_value text, new_value text, timestamp text DEFAULT (CURRENT_TIMESTAMP));
                 PRAGMA user_version = 8;",
            )
            .unwrap();
            if fixture == Fixture::FailedUpgrade {
                conn.execute_batch(LEDGER).unwrap();
            }
            for i in 0..n {
                conn.execute(
                    "INSERT INTO nodes (id, type, title, content, domain, layer, embedding, hash, meta, date) VALUES (?1, 'note', ?2, NULL, 'knowledge', 'experience', ?3, ?4, '{\"a\":1}', '2025-12-01')",
                    (format!("node-{i:04}"), format!("T{i}"), blob(i as u32, dim), format!("h{i}")),
                )
                .unwrap();
            }
            insert_edges(&conn, n, true);
            conn.execute_batch(
                "INSERT INTO ember_state VALUES ('docs/a.md', '2025-12-01', 1, 0.9);
                 INSERT INTO history (entity_type, entity_id, action) VALUES ('node', 'node-0001', 'update');",
            )
            .unwrap();
        }
        Fixture::LegacyV3 => {
            conn.execute_batch(
                "CREATE TABLE nodes (id TEXT PRIMARY KEY, type TEXT, title TEXT, content TEXT, domain TEXT, layer TEXT, embedding BLOB);
                 CREATE VIRTUAL TABLE nodes_fts USING fts5(title, content, content='nodes', content_rowid='rowid');
                 CREATE TRIGGER nodes_ai AFTER INSERT ON nodes BEGIN
                   INSERT INTO nodes_fts(rowid, title, content) VALUES (new.rowid, new.title, new.content);
                 END;
                 CREATE TRIGGER nodes_ad AFTER DELETE ON nodes BEGIN
                   INSERT INTO nodes_fts(nodes_fts, rowid, title, content) VALUES('delete', old.rowid, old.title, old.content);
                 END;
                 CREATE TRIGGER nodes_au AFTER UPDATE ON nodes BEGIN
                   INSERT INTO nodes_fts(nodes_fts, rowid, title, content) VALUES('delete', old.rowid, old.title, old.content);
                   INSERT INTO nodes_fts(rowid, title, content) VALUES (new.rowid, new.title, new.content);
                 END;
                 CREATE TABLE edges (source TEXT, target TEXT, type TEXT);
                 PRAGMA user_version = 3;",
            )
            .unwrap();
            for i in 0..n {
                conn.execute(
                    "INSERT INTO nodes (id, type, title, content, domain, layer, embedding) VALUES (?1, 'note', ?2, ?3, 'knowledge', 'experience', ?4)",
                    (format!("node-{i:04}"), format!("T{i}"), format!("full text {i}"), blob(i as u32, dim)),
                )
                .unwrap();
            }
            // Delete one so rowids have a gap (they must survive adoption).
            conn.execute("DELETE FROM nodes WHERE id = 'node-0002'", [])
                .unwrap();
            insert_edges(&conn, n, false);
        }
        Fixture::Unknown => {
            conn.execute_batch(
                "CREATE TABLE documents (id INTEGER PRIMARY KEY, body TEXT); INSERT INTO documents (body) VALUES ('x');",
            )
            .unwrap();
        }
    }
}

/// Every row of every table (keyed by table and rowid, then column name), embedding blobs as bytes.
pub type Snapshot = BTreeMap<String, BTreeMap<i64, BTreeMap<String, Value>>>;

/// Reads every row of `tables` (missing tables are skipped).
pub fn snapshot(conn: &Connection, tables: &[&str]) -> Snapshot {
    let mut out = Snapshot::new();
    for t in tables {
        let exists: bool = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type='table' AND name=?1",
                [t],
                |r| r.get::<_, i64>(0),
            )
            .unwrap()
            > 0;
        if !exists {
            continue;
        }
        let mut stmt = conn
            .prepare(&format!("SELECT rowid AS __rowid, * FROM \"{t}\""))
            .unwrap();
        let names: Vec<String> = stmt.column_names().iter().map(|s| s.to_string()).collect();
        let rows = stmt
            .query_map([], |r| {
                let rowid: i64 = r.get(0)?;
                let mut m = BTreeMap::new();
                for (i, n) in names.iter().enumerate().skip(1) {
                    m.insert(n.clone(), r.get::<_, Value>(i)?);
                }
                Ok((rowid, m))
            })
            .unwrap();
        out.insert(t.to_string(), rows.map(|r| r.unwrap()).collect());
    }
    out
}

/// sha256 of a file's bytes.
pub fn file_hash(path: &Path) -> String {
    use sha2::Digest;
    let bytes = std::fs::read(path).unwrap();
    format!("{:x}", sha2::Sha256::digest(bytes))
}

/// A legacy v8 file (as [`Fixture::LegacyV8`]) whose `nodes` table carries `extra` after its last
/// canonical column (`extra` starts with a comma: `, created text DEFAULT (datetime('now'))`), with `n`
/// nodes written through the canonical columns only (extra columns take their defaults).
pub fn build_legacy_v8_nodes(path: &Path, extra: &str, n: usize) {
    try_build_legacy_v8_nodes(path, extra, n).unwrap();
}

/// [`build_legacy_v8_nodes`], returning SQLite's refusal (of `extra`, or of the rows under it).
pub fn try_build_legacy_v8_nodes(path: &Path, extra: &str, n: usize) -> rusqlite::Result<()> {
    let conn = Connection::open(path)?;
    conn.execute_batch(&format!(
        "CREATE TABLE nodes (id TEXT PRIMARY KEY, type TEXT, title TEXT, content TEXT, domain TEXT, layer TEXT, embedding BLOB, hash TEXT, meta TEXT, date TEXT{extra});
         CREATE TABLE edges (source TEXT, target TEXT, type TEXT, confidence REAL DEFAULT 1, veracity REAL DEFAULT 1, context_source TEXT, PRIMARY KEY (source, target, type));
         CREATE INDEX idx_edges_source ON edges(source);
         CREATE INDEX idx_edges_target ON edges(target);
         CREATE TABLE ember_state (file_path text PRIMARY KEY NOT NULL, last_analyzed text, sidecar_created integer, confidence real);
         CREATE TABLE history (id integer PRIMARY KEY AUTOINCREMENT NOT NULL, entity_type text NOT NULL, entity_id text NOT NULL, action text NOT NULL, old_value text, new_value text, timestamp text DEFAULT (CURRENT_TIMESTAMP));
         PRAGMA user_version = 8;"
    ))?;
    for i in 0..n {
        conn.execute(
            "INSERT INTO nodes (id, type, title, content, domain, layer, embedding, hash, meta, date) VALUES (?1, 'note', ?2, NULL, 'knowledge', 'experience', ?3, ?4, '{\"a\":1}', '2025-12-01')",
            (format!("node-{i:04}"), format!("T{i}"), blob(i as u32, 8), format!("h{i}")),
        )?;
    }
    if n > 0 {
        insert_edges(&conn, n, true);
    }
    Ok(())
}
