//! The schema facts of docs/schema.md: the current DDL (as Drizzle writes it), the Drizzle ledger steps, and
//! the recognition of every database shape found in the wild.
//!
//! This module only reads. It must not change a database: `migrate` turns a [`Shape`] into a plan.

use std::collections::{BTreeMap, BTreeSet};

use rusqlite::Connection;
use serde::Serialize;

use crate::error::{Result, SqlContext};

/// One of the TypeScript application's Drizzle migrations.
#[derive(Debug, Clone, Copy)]
pub struct DrizzleStep {
    /// Its tag, as the application names it.
    pub tag: &'static str,
    /// The `created_at` Drizzle records (milliseconds); Drizzle decides what is pending by the newest.
    pub created_at: i64,
    /// The sha256 of the migration file, which Drizzle stores as `hash`.
    pub hash: &'static str,
    /// The SQL of the step, statement by statement.
    pub sql: &'static [&'static str],
}

/// The `nodes` table as step 0000 creates it (no `summary`).
pub const CREATE_NODES: &str = "CREATE TABLE `nodes` (\n\t`id` text PRIMARY KEY NOT NULL,\n\t`type` text,\n\t`title` text,\n\t`domain` text,\n\t`layer` text,\n\t`embedding` blob,\n\t`hash` text,\n\t`meta` text,\n\t`date` text\n)";
/// The `edges` table.
pub const CREATE_EDGES: &str = "CREATE TABLE `edges` (\n\t`source` text NOT NULL,\n\t`target` text NOT NULL,\n\t`type` text NOT NULL,\n\t`confidence` real DEFAULT 1,\n\t`veracity` real DEFAULT 1,\n\t`context_source` text,\n\tPRIMARY KEY(`source`, `target`, `type`)\n)";
/// The index on `edges(source)`.
pub const CREATE_IDX_EDGES_SOURCE: &str = "CREATE INDEX `idx_edges_source` ON `edges` (`source`)";
/// The index on `edges(target)`.
pub const CREATE_IDX_EDGES_TARGET: &str = "CREATE INDEX `idx_edges_target` ON `edges` (`target`)";
/// The `ember_state` table.
pub const CREATE_EMBER_STATE: &str = "CREATE TABLE `ember_state` (\n\t`file_path` text PRIMARY KEY NOT NULL,\n\t`last_analyzed` text,\n\t`sidecar_created` integer,\n\t`confidence` real\n)";
/// The `history` table.
pub const CREATE_HISTORY: &str = "CREATE TABLE `history` (\n\t`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,\n\t`entity_type` text NOT NULL,\n\t`entity_id` text NOT NULL,\n\t`action` text NOT NULL,\n\t`old_value` text,\n\t`new_value` text,\n\t`timestamp` text DEFAULT (CURRENT_TIMESTAMP)\n)";
/// Step 0002's statement.
pub const ADD_SUMMARY: &str = "ALTER TABLE `nodes` ADD `summary` text";
/// Drizzle's ledger table, as Drizzle creates it on SQLite.
pub const CREATE_DRIZZLE_LEDGER: &str = "CREATE TABLE IF NOT EXISTS \"__drizzle_migrations\" (\n\t\t\tid SERIAL PRIMARY KEY,\n\t\t\thash text NOT NULL,\n\t\t\tcreated_at numeric\n\t\t)";

/// The application's three migrations, in order.
pub const DRIZZLE_STEPS: [DrizzleStep; 3] = [
    DrizzleStep {
        tag: "0000_happy_thaddeus_ross",
        created_at: 1_767_981_411_501,
        hash: "b548e4cd9d946d39dbb888e94692783cde7099691bf666af54e1b5af60b389fb",
        sql: &[
            CREATE_EDGES,
            CREATE_IDX_EDGES_SOURCE,
            CREATE_IDX_EDGES_TARGET,
            CREATE_EMBER_STATE,
            CREATE_NODES,
        ],
    },
    DrizzleStep {
        tag: "0001_happy_serpent_society",
        created_at: 1_768_308_220_948,
        hash: "7b30e2bf86221fedb429141261731220b2b2616a8bb09d3f5fbadccb55f41b16",
        sql: &[CREATE_HISTORY],
    },
    DrizzleStep {
        tag: "0002_summary",
        created_at: 1_769_588_665_479,
        hash: "b6400314b4a5187a3a058a5d35c3cb6031eadd86fff72403accdc73495d69e78",
        sql: &[ADD_SUMMARY],
    },
];

/// The newest `created_at` this library knows.
pub const NEWEST_KNOWN_CREATED_AT: i64 = DRIZZLE_STEPS[2].created_at;

/// Current `nodes` columns in order, with their declared types.
pub const NODE_COLUMNS: [(&str, &str); 10] = [
    ("id", "text"),
    ("type", "text"),
    ("title", "text"),
    ("domain", "text"),
    ("layer", "text"),
    ("embedding", "blob"),
    ("hash", "text"),
    ("meta", "text"),
    ("date", "text"),
    ("summary", "text"),
];

/// Current `edges` columns in order, with declared types and defaults.
pub const EDGE_COLUMNS: [(&str, &str, Option<&str>); 6] = [
    ("source", "text", None),
    ("target", "text", None),
    ("type", "text", None),
    ("confidence", "real", Some("1")),
    ("veracity", "real", Some("1")),
    ("context_source", "text", None),
];

/// Tables that belong to the application's schema.
pub const APP_TABLES: [&str; 4] = ["nodes", "edges", "ember_state", "history"];

/// The shape of a database file (docs/schema.md).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "shape", rename_all = "snake_case")]
pub enum Shape {
    /// No tables at all: a new database.
    Empty,
    /// Drizzle-migrated: `steps` ledger rows (1, 2 or 3; 3 is current). `hand` marks a hand-made
    /// ledger (tag names as hashes, integer ids).
    Drizzle {
        /// How many of the three steps the ledger says are applied.
        steps: usize,
        /// A hand-made ledger.
        hand: bool,
    },
    /// No (or an empty) ledger, `user_version` 1–8.
    Legacy {
        /// `PRAGMA user_version`.
        version: i64,
        /// The ledger table exists but is empty (a failed upgrade).
        failed_upgrade: bool,
    },
    /// The ledger's newest `created_at` is beyond what this library knows.
    NewerApp {
        /// The newest `created_at` found.
        created_at: i64,
    },
    /// Matches nothing known.
    Unknown {
        /// What was found, for the error message.
        found: String,
    },
}

impl Shape {
    /// A short stable name: `empty`, `current`, `two_steps`, `hand_ledger`, `legacy_v5_v8`, …
    pub fn name(&self) -> &'static str {
        match self {
            Shape::Empty => "empty",
            Shape::Drizzle { steps: 3, .. } => "current",
            Shape::Drizzle { hand: true, .. } => "hand_ledger",
            Shape::Drizzle { steps: 2, .. } => "two_steps",
            Shape::Drizzle { .. } => "one_step",
            Shape::Legacy {
                failed_upgrade: true,
                ..
            } => "failed_upgrade",
            Shape::Legacy { version, .. } if *version <= 4 => "legacy_v1_v4",
            Shape::Legacy { .. } => "legacy_v5_v8",
            Shape::NewerApp { .. } => "newer_app",
            Shape::Unknown { .. } => "unknown",
        }
    }

    /// How many Drizzle steps are applied (legacy counts as none).
    pub fn drizzle_steps(&self) -> usize {
        match self {
            Shape::Drizzle { steps, .. } => *steps,
            Shape::NewerApp { .. } => DRIZZLE_STEPS.len(),
            _ => 0,
        }
    }
}

/// A column as `PRAGMA table_info` reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ColumnInfo {
    /// Column name.
    pub name: String,
    /// Declared type, lower-cased.
    pub decl_type: String,
    /// NOT NULL.
    pub not_null: bool,
    /// Default expression, as written.
    pub default: Option<String>,
    /// Position in the primary key (0 = not part of it).
    pub pk: i64,
}

/// Columns of `table` (empty when it does not exist).
pub fn table_columns(conn: &Connection, table: &str) -> Result<Vec<ColumnInfo>> {
    let mut stmt = conn
        .prepare("SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info(?1)")
        .ctx("reading table_info")?;
    let rows = stmt
        .query_map([table], |r| {
            Ok(ColumnInfo {
                name: r.get(0)?,
                decl_type: r.get::<_, String>(1)?.to_ascii_lowercase(),
                not_null: r.get::<_, i64>(2)? != 0,
                default: r.get(3)?,
                pk: r.get(4)?,
            })
        })
        .ctx(format_args!("reading the columns of {table}"))?;
    rows.collect::<std::result::Result<Vec<_>, _>>()
        .ctx(format_args!("reading the columns of {table}"))
}

/// Names of objects of `kind` (`table`, `index`, `trigger`) in `sqlite_master`, without SQLite's own.
pub fn object_names(conn: &Connection, kind: &str) -> Result<BTreeSet<String>> {
    let mut stmt = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = ?1 AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'")
        .ctx("reading sqlite_master")?;
    let names = stmt
        .query_map([kind], |r| r.get::<_, String>(0))
        .ctx("reading sqlite_master")?
        .collect::<std::result::Result<BTreeSet<_>, _>>()
        .ctx("reading sqlite_master")?;
    Ok(names)
}

/// One row of the Drizzle ledger.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LedgerRow {
    /// `id` (NULL in rows Drizzle writes: `SERIAL` is not a rowid alias).
    pub id: Option<i64>,
    /// `hash`: the file's sha256, or a tag name in hand-made ledgers.
    pub hash: String,
    /// `created_at` in milliseconds.
    pub created_at: Option<i64>,
}

/// The Drizzle ledger rows in `created_at` order, or `None` when the table does not exist.
pub fn drizzle_ledger(conn: &Connection) -> Result<Option<Vec<LedgerRow>>> {
    if !object_names(conn, "table")?.contains("__drizzle_migrations") {
        return Ok(None);
    }
    let mut stmt = conn
        .prepare(
            "SELECT id, hash, CAST(created_at AS INTEGER) FROM \"__drizzle_migrations\" \
             ORDER BY CAST(created_at AS INTEGER), rowid",
        )
        .ctx("reading __drizzle_migrations")?;
    let rows = stmt
        .query_map([], |r| {
            Ok(LedgerRow {
                id: r.get::<_, Option<i64>>(0).unwrap_or(None),
                hash: r.get::<_, Option<String>>(1)?.unwrap_or_default(),
                created_at: r.get(2)?,
            })
        })
        .ctx("reading __drizzle_migrations")?
        .collect::<std::result::Result<Vec<_>, _>>()
        .ctx("reading __drizzle_migrations")?;
    Ok(Some(rows))
}

/// Tables a known shape may hold besides the application's: ignored by recognition.
fn is_ignorable_table(name: &str) -> bool {
    name == "_health"
        || name == "__drizzle_migrations"
        || name.starts_with("resonance_")
        || name == "nodes_fts"
        || name.starts_with("nodes_fts_")
}

/// Recognises the shape of the database behind `conn` (reads only).
pub fn detect_shape(conn: &Connection) -> Result<Shape> {
    let tables = object_names(conn, "table")?;
    let user_version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .ctx("reading user_version")?;
    let app: BTreeSet<&str> = tables
        .iter()
        .map(String::as_str)
        .filter(|t| !is_ignorable_table(t))
        .collect();
    let has_resonance = tables.iter().any(|t| t.starts_with("resonance_"));

    if tables.is_empty() {
        return Ok(Shape::Empty);
    }
    let unknown = |why: &str| {
        Ok(Shape::Unknown {
            found: format!(
                "{why}; tables: [{}], user_version {user_version}",
                tables.iter().cloned().collect::<Vec<_>>().join(", ")
            ),
        })
    };
    if !app.contains("nodes") {
        if app.is_empty() && !has_resonance && tables.iter().all(|t| t == "_health") {
            // Only a stray health-probe table: nothing of the application's yet.
            return Ok(Shape::Empty);
        }
        return unknown("no `nodes` table");
    }
    // Other tables are the application's own (docs/sql.md): the shape is the graph tables' shape.
    let node_cols = table_columns(conn, "nodes")?;
    if !node_cols.iter().any(|c| c.name == "id") {
        return unknown("`nodes` has no `id` column");
    }

    let ledger = drizzle_ledger(conn)?;
    match ledger {
        Some(rows) if !rows.is_empty() => {
            let newest = rows.iter().filter_map(|r| r.created_at).max().unwrap_or(0);
            if newest > NEWEST_KNOWN_CREATED_AT {
                return Ok(Shape::NewerApp { created_at: newest });
            }
            let steps = DRIZZLE_STEPS
                .iter()
                .filter(|s| s.created_at <= newest)
                .count();
            if steps == 0 {
                return unknown(&format!(
                    "ledger's newest created_at {newest} predates every known step"
                ));
            }
            let hand = rows
                .iter()
                .any(|r| DRIZZLE_STEPS.iter().any(|s| s.tag == r.hash));
            Ok(Shape::Drizzle { steps, hand })
        }
        other => {
            let failed_upgrade = other.is_some();
            if (1..=8).contains(&user_version) {
                Ok(Shape::Legacy {
                    version: user_version,
                    failed_upgrade,
                })
            } else if has_resonance {
                unknown("Resonance tables without the application's ledger")
            } else {
                unknown("nodes without a Drizzle ledger and user_version outside 1–8")
            }
        }
    }
}

/// A structural description of the schema (columns, types, defaults, NOT NULL, keys, indexes) used to
/// compare an adopted database with a fresh one.
pub fn structure(conn: &Connection) -> Result<BTreeMap<String, Vec<ColumnInfo>>> {
    let mut out = BTreeMap::new();
    for t in object_names(conn, "table")? {
        out.insert(format!("table {t}"), table_columns(conn, &t)?);
    }
    let mut stmt = conn
        .prepare(
            "SELECT m.name, m.tbl_name, ii.name FROM sqlite_master m, pragma_index_info(m.name) ii \
             WHERE m.type = 'index' ORDER BY m.name, ii.seqno",
        )
        .ctx("reading indexes")?;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })
        .ctx("reading indexes")?;
    for row in rows {
        let (idx, table, col) = row.ctx("reading indexes")?;
        if idx.starts_with("sqlite_autoindex") {
            // Named after the table's creation order; the primary key is compared through table_info.
            continue;
        }
        out.entry(format!("index {idx} on {table}"))
            .or_insert_with(Vec::new)
            .push(ColumnInfo {
                name: col,
                decl_type: String::new(),
                not_null: false,
                default: None,
                pk: 0,
            });
    }
    Ok(out)
}
