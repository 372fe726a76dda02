//! Adoption of every database shape of docs/schema.md and Resonance's own versioned migrations (refinery),
//! with backups, dry runs, the destructive-step guard and drift detection (docs/schema.md).
//!
//! Everything a plan changes commits in one `BEGIN IMMEDIATE` transaction whose plan is re-read after
//! the lock is taken: two processes adopting one file apply each step once, and a failure leaves the
//! file as it was. This module owns schema changes; it must not read or write graph data otherwise.

use std::path::{Path, PathBuf};

use refinery::Migration;
use refinery_core::traits::sync::{Query, Transaction as RefineryTransaction};
use rusqlite::{Connection, OptionalExtension};
use serde::Serialize;

use crate::backup;
use crate::connection::write_tx;
use crate::error::{show, Error, Result, SqlContext};
use crate::schema::{self, Shape, DRIZZLE_STEPS};

/// The table where refinery records Resonance's own migrations (beside Drizzle's ledger).
pub const RESONANCE_LEDGER: &str = "resonance_schema_history";

/// The marker a migration file's first line carries when it drops or rewrites data.
pub const DESTRUCTIVE_MARKER: &str = "-- resonance:destructive";

/// One of Resonance's own migrations (refinery naming `V<n>__<name>`).
#[derive(Debug, Clone)]
pub struct ResonanceMigration {
    /// `V<n>__<name>`.
    pub name: &'static str,
    /// The SQL.
    pub sql: &'static str,
}

impl ResonanceMigration {
    /// Whether the migration is marked destructive.
    pub fn destructive(&self) -> bool {
        self.sql.trim_start().starts_with(DESTRUCTIVE_MARKER)
    }
}

/// Resonance's migrations, in order. Append only: never edit an applied one (checksum drift).
pub const RESONANCE_MIGRATIONS: &[ResonanceMigration] = &[
    ResonanceMigration {
        name: "V1__resonance_meta",
        sql: include_str!("../migrations/V1__resonance_meta.sql"),
    },
    ResonanceMigration {
        name: "V2__resonance_stats_history",
        sql: include_str!("../migrations/V2__resonance_stats_history.sql"),
    },
];

/// Where a planned step comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    /// Bringing a legacy file's tables to the current shape.
    Adoption,
    /// One of the application's Drizzle steps (with its ledger row).
    Drizzle,
    /// One of Resonance's refinery migrations.
    Resonance,
}

/// One step a migration would run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlannedStep {
    /// A stable id: `adopt_legacy_v3`, `drizzle_0002_summary`, `V1__resonance_meta`.
    pub id: String,
    /// Where it comes from.
    pub kind: StepKind,
    /// What it does, for people.
    pub description: String,
    /// The SQL it runs, statement by statement.
    pub sql: Vec<String>,
    /// Drops or rewrites data: refused unless allowed.
    pub destructive: bool,
}

/// What a database needs to reach the current schema.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MigrationPlan {
    /// The shape found.
    pub shape: Shape,
    /// The steps, in order.
    pub steps: Vec<PlannedStep>,
    /// Things worth saying that are not errors (a newer application, a leftover table…).
    pub warnings: Vec<String>,
}

impl MigrationPlan {
    /// Nothing to do.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }
}

/// Options of an explicit migration.
#[derive(Debug, Clone, PartialEq)]
pub struct MigrateOptions {
    /// List what would run and change nothing.
    pub dry_run: bool,
    /// Allow steps marked destructive.
    pub allow_destructive: bool,
    /// Back up a non-empty database first.
    pub backup: bool,
    /// Backup retention in days. `None` (the default) means the handle's
    /// [`OpenOptions::backup_retention_days`](crate::OpenOptions::backup_retention_days) for
    /// [`Database::migrate`](crate::Database::migrate), and
    /// [`DEFAULT_BACKUP_RETENTION_DAYS`](crate::connection::DEFAULT_BACKUP_RETENTION_DAYS) for the
    /// free functions of this module.
    pub backup_retention_days: Option<u32>,
}

impl Default for MigrateOptions {
    fn default() -> Self {
        MigrateOptions {
            dry_run: false,
            allow_destructive: false,
            backup: true,
            backup_retention_days: None,
        }
    }
}

/// What a migration did (or, for a dry run, would do).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MigrationReport {
    /// The shape before.
    pub shape_before: String,
    /// The steps applied (or planned, for a dry run).
    pub steps: Vec<PlannedStep>,
    /// A dry run: nothing changed.
    pub dry_run: bool,
    /// The backup taken, if any.
    pub backup: Option<PathBuf>,
    /// Warnings from the plan.
    pub warnings: Vec<String>,
}

/// An applied Resonance migration as its ledger records it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AppliedMigration {
    /// Version number.
    pub version: i64,
    /// Name (without the `V<n>__` prefix).
    pub name: String,
    /// When, RFC 3339.
    pub applied_on: String,
    /// refinery's checksum.
    pub checksum: String,
}

/// Resonance's applied migrations (empty when its ledger does not exist).
pub fn applied_resonance(conn: &Connection) -> Result<Vec<AppliedMigration>> {
    if !schema::object_names(conn, "table")?.contains(RESONANCE_LEDGER) {
        return Ok(Vec::new());
    }
    let mut stmt = conn
        .prepare(&format!(
            "SELECT version, name, applied_on, checksum FROM {RESONANCE_LEDGER} ORDER BY version"
        ))
        .ctx("reading the Resonance ledger")?;
    let rows = stmt
        .query_map([], |r| {
            Ok(AppliedMigration {
                version: r.get(0)?,
                name: r.get::<_, Option<String>>(1)?.unwrap_or_default(),
                applied_on: r.get::<_, Option<String>>(2)?.unwrap_or_default(),
                checksum: r.get::<_, Option<String>>(3)?.unwrap_or_default(),
            })
        })
        .ctx("reading the Resonance ledger")?
        .collect::<std::result::Result<Vec<_>, _>>()
        .ctx("reading the Resonance ledger")?;
    Ok(rows)
}

fn refinery_migrations(migrations: &[ResonanceMigration]) -> Result<Vec<Migration>> {
    migrations
        .iter()
        .map(|m| {
            Migration::unapplied(m.name, m.sql)
                .map_err(|e| Error::Internal(format!("bad migration {}: {e}", m.name)))
        })
        .collect()
}

/// The pending Resonance migrations, or `schema_too_new` when the database is ahead of this library or
/// an applied migration changed (checksum drift).
fn pending_resonance<'m>(
    conn: &Connection,
    migrations: &'m [ResonanceMigration],
) -> Result<Vec<&'m ResonanceMigration>> {
    let local = refinery_migrations(migrations)?;
    let applied = applied_resonance(conn)?;
    let newest_local = local
        .iter()
        .map(|m| i64::from(m.version()))
        .max()
        .unwrap_or(0);
    for a in &applied {
        match local.iter().find(|m| i64::from(m.version()) == a.version) {
            None => {
                return Err(Error::SchemaTooNew(format!(
                    "the database has Resonance migration V{} ({}) applied on {}, but this library knows \
                     migrations up to V{newest_local} only; use a newer Resonance",
                    a.version, a.name, a.applied_on
                )))
            }
            Some(m) if m.checksum().to_string() != a.checksum => {
                return Err(Error::SchemaTooNew(format!(
                    "Resonance migration V{} ({}) applied on {} has checksum {}, but this library's V{} has \
                     checksum {} (the migration changed after it was applied)",
                    a.version,
                    a.name,
                    a.applied_on,
                    a.checksum,
                    m.version(),
                    m.checksum()
                )))
            }
            Some(_) => {}
        }
    }
    let newest_applied = applied.iter().map(|a| a.version).max().unwrap_or(0);
    Ok(migrations
        .iter()
        .zip(local.iter())
        .filter(|(_, m)| i64::from(m.version()) > newest_applied)
        .map(|(r, _)| r)
        .collect())
}

fn ledger_insert(step: &schema::DrizzleStep, hand: bool) -> String {
    if hand {
        format!(
            "INSERT INTO \"__drizzle_migrations\" (id, hash, created_at) VALUES \
             ((SELECT COALESCE(MAX(id), 0) + 1 FROM \"__drizzle_migrations\"), '{}', {})",
            step.hash, step.created_at
        )
    } else {
        format!(
            "INSERT INTO \"__drizzle_migrations\" (\"hash\", \"created_at\") VALUES ('{}', {})",
            step.hash, step.created_at
        )
    }
}

fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A column of a canonical table: name, declared type, default, NOT NULL.
type Canon = (&'static str, &'static str, Option<&'static str>, bool);

/// Refuses a legacy table the rebuild cannot reproduce: `why` names the table and column.
fn refuse_rebuild(table: &str, why: impl std::fmt::Display) -> Error {
    Error::SchemaUnknown(format!(
        "cannot adopt this legacy database: table {table} {why}; Resonance rebuilds legacy tables \
         from parts it can check and will not drop or guess at them; nothing was changed"
    ))
}

/// The collations every SQLite has, written back as these constants (never the file's text).
const BUILTIN_COLLATIONS: [&str; 3] = ["BINARY", "NOCASE", "RTRIM"];

/// Foreign-key actions as `pragma_foreign_key_list` reports them, written back as these constants.
const FK_ACTIONS: [&str; 5] = [
    "NO ACTION",
    "RESTRICT",
    "SET NULL",
    "SET DEFAULT",
    "CASCADE",
];

/// The `REFERENCES` clause of `column` rebuilt from `pragma_foreign_key_list` (quoted names, actions
/// from [`FK_ACTIONS`]).
fn references_clause(conn: &Connection, table: &str, column: &str) -> Result<String> {
    let mut stmt = conn
        .prepare(
            "SELECT id, seq, \"table\", \"to\", on_update, on_delete, \"match\" \
             FROM pragma_foreign_key_list(?1) WHERE \"from\" = ?2",
        )
        .ctx(format_args!("reading the foreign keys of {table}"))?;
    type Fk = (i64, i64, String, Option<String>, String, String, String);
    let fks: Vec<Fk> = stmt
        .query_map([table, column], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
            ))
        })
        .ctx(format_args!("reading the foreign keys of {table}"))?
        .collect::<std::result::Result<_, _>>()
        .ctx(format_args!("reading the foreign keys of {table}"))?;
    let col = quote_ident(column);
    let [(_, 0, parent, to, on_update, on_delete, matching)] = fks.as_slice() else {
        return Err(refuse_rebuild(
            table,
            format_args!("column {col} has a foreign key this rebuild cannot read back"),
        ));
    };
    let action = |a: &str| {
        FK_ACTIONS
            .iter()
            .find(|k| k.eq_ignore_ascii_case(a))
            .copied()
            .ok_or_else(|| {
                refuse_rebuild(
                    table,
                    format_args!("column {col} has a foreign-key action {a:?}"),
                )
            })
    };
    if !matching.eq_ignore_ascii_case("NONE") {
        return Err(refuse_rebuild(
            table,
            format_args!("column {col} has a foreign key with MATCH {matching:?}"),
        ));
    }
    let mut out = format!(" REFERENCES {}", quote_ident(parent));
    if let Some(to) = to {
        out.push_str(&format!("({})", quote_ident(to)));
    }
    out.push_str(&format!(
        " ON DELETE {} ON UPDATE {}",
        action(on_delete)?,
        action(on_update)?
    ));
    Ok(out)
}

/// The definition of a kept (non-canonical) column, from parts each checked on its own.
fn extra_column_def(
    conn: &Connection,
    table: &str,
    c: &schema::ColumnInfo,
    extras: &legacy_ddl::ColumnExtras,
) -> Result<String> {
    let col = quote_ident(&c.name);
    if !legacy_ddl::plain_type(&c.decl_type) {
        return Err(refuse_rebuild(
            table,
            format_args!(
                "column {col} has the declared type {:?}, which is not a plain type name (words of \
                 A-Z, a-z, 0-9 and _ with an optional (n) or (n, m))",
                c.decl_type
            ),
        ));
    }
    let mut d = col.clone();
    if !c.decl_type.is_empty() {
        d.push(' ');
        d.push_str(&c.decl_type);
    }
    if c.not_null {
        d.push_str(" NOT NULL");
    }
    if let Some(v) = &c.default {
        let v = legacy_ddl::checked_default(v).map_err(|why| {
            refuse_rebuild(
                table,
                format_args!("column {col} has a default SQLite does not read as one plain expression: {why}"),
            )
        })?;
        d.push_str(" DEFAULT ");
        d.push_str(&v);
    }
    if let Some(name) = &extras.collate {
        let Some(k) = BUILTIN_COLLATIONS
            .iter()
            .find(|k| k.eq_ignore_ascii_case(name))
        else {
            return Err(refuse_rebuild(
                table,
                format_args!(
                    "column {col} uses the collation {name:?}, not one of SQLite's built-in ones"
                ),
            ));
        };
        d.push_str(" COLLATE ");
        d.push_str(k);
    }
    if extras.references {
        d.push_str(&references_clause(conn, table, &c.name)?);
    }
    Ok(d)
}

/// The statements that rebuild `table` into the canonical columns `canon` (the first `must_match` of
/// them are checked), keeping every rowid, row and extra column (appended), or none when the first
/// `must_match` columns already match. A single-column `pk` is written inline, otherwise as a table
/// constraint. No text read from the file reaches the statements unchecked (see [`legacy_ddl`]); what
/// cannot be kept is refused here, before anything is written.
fn rebuild_statements(
    conn: &Connection,
    table: &str,
    canon: &[Canon],
    must_match: usize,
    pk: &[&str],
    indexes: &[&str],
) -> Result<Vec<String>> {
    let cols = schema::table_columns(conn, table)?;
    let matches = canon[..must_match]
        .iter()
        .enumerate()
        .all(|(i, (name, ty, dflt, nn))| {
            cols.get(i).is_some_and(|c| {
                c.name == *name
                    && c.decl_type == *ty
                    && c.default.as_deref() == *dflt
                    && c.not_null == *nn
            })
        });
    if matches {
        return Ok(Vec::new());
    }
    let create_sql: Option<String> = conn
        .query_row(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?1",
            [table],
            |r| r.get(0),
        )
        .optional()
        .ctx(format_args!("reading the definition of {table}"))?
        .flatten();
    let def = create_sql
        .as_deref()
        .and_then(legacy_ddl::parse_create_table)
        .ok_or_else(|| refuse_rebuild(table, "has a definition this rebuild cannot read"))?;
    if let Some(why) = def.refused.first() {
        return Err(refuse_rebuild(table, format_args!("has {why}")));
    }
    let hidden: Vec<(String, i64)> = conn
        .prepare("SELECT name, hidden FROM pragma_table_xinfo(?1) WHERE hidden <> 0")
        .and_then(|mut s| {
            s.query_map([table], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<std::result::Result<_, _>>()
        })
        .ctx(format_args!("reading the hidden columns of {table}"))?;
    if let Some((name, _)) = hidden.first() {
        return Err(refuse_rebuild(
            table,
            format_args!(
                "column {} is generated (GENERATED ALWAYS AS); its expression is not copied",
                quote_ident(name)
            ),
        ));
    }
    let extras_of = |name: &str| {
        def.columns
            .iter()
            .find(|e| e.name.eq_ignore_ascii_case(name))
            .ok_or_else(|| {
                refuse_rebuild(
                    table,
                    format_args!(
                        "column {} is missing from the definition this rebuild read",
                        quote_ident(name)
                    ),
                )
            })
    };
    for c in &cols {
        let e = extras_of(&c.name)?;
        if let Some(why) = e.refused.first() {
            return Err(refuse_rebuild(
                table,
                format_args!("column {} has {why}", quote_ident(&c.name)),
            ));
        }
        let canonical = canon.iter().any(|(n, ..)| *n == c.name);
        if canonical && (e.collate.is_some() || e.references) {
            return Err(refuse_rebuild(
                table,
                format_args!(
                    "column {} has a COLLATE or REFERENCES clause the current schema does not have",
                    quote_ident(&c.name)
                ),
            ));
        }
        if !canonical && c.pk > 0 {
            return Err(refuse_rebuild(
                table,
                format_args!("column {} is part of its primary key", quote_ident(&c.name)),
            ));
        }
    }
    let tmp = format!("{table}__resonance_rebuild");
    let extra: Vec<&schema::ColumnInfo> = cols
        .iter()
        .filter(|c| !canon.iter().any(|(n, ..)| *n == c.name))
        .collect();
    let mut defs: Vec<String> = canon
        .iter()
        .map(|(name, ty, dflt, nn)| {
            let mut d = format!("{} {ty}", quote_ident(name));
            if pk.len() == 1 && pk[0] == *name {
                d.push_str(" PRIMARY KEY");
            }
            if *nn {
                d.push_str(" NOT NULL");
            }
            if let Some(v) = dflt {
                d.push_str(&format!(" DEFAULT {v}"));
            }
            d
        })
        .collect();
    for c in &extra {
        defs.push(extra_column_def(conn, table, c, extras_of(&c.name)?)?);
    }
    if pk.len() > 1 {
        defs.push(format!(
            "PRIMARY KEY({})",
            pk.iter()
                .map(|c| quote_ident(c))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let list = canon
        .iter()
        .map(|(n, ..)| *n)
        .filter(|n| cols.iter().any(|c| c.name == *n))
        .map(quote_ident)
        .chain(extra.iter().map(|c| quote_ident(&c.name)))
        .collect::<Vec<_>>()
        .join(", ");
    let create = format!(
        "CREATE TABLE {} (\n\t{}\n)",
        quote_ident(&tmp),
        defs.join(",\n\t")
    );
    legacy_ddl::trial_create(&create)
        .map_err(|e| refuse_rebuild(table, format_args!("cannot be rebuilt as checked: {e}")))?;
    let mut out = vec![
        create,
        format!(
            "INSERT INTO {} (rowid, {list}) SELECT rowid, {list} FROM {}",
            quote_ident(&tmp),
            quote_ident(table)
        ),
        format!("DROP TABLE {}", quote_ident(table)),
        format!(
            "ALTER TABLE {} RENAME TO {}",
            quote_ident(&tmp),
            quote_ident(table)
        ),
    ];
    out.extend(indexes.iter().map(|s| s.to_string()));
    out.extend(kept_indexes(conn, table, indexes)?);
    Ok(out)
}

/// The file's own indexes on `table` (besides the canonical `indexes`), rebuilt from
/// `pragma_index_list`/`pragma_index_xinfo`: quoted names, `UNIQUE`, `DESC` and built-in collations.
/// An index on an expression or a partial one cannot be rebuilt without the file's text: refused.
fn kept_indexes(conn: &Connection, table: &str, canonical: &[&str]) -> Result<Vec<String>> {
    let list: Vec<(String, bool, String, bool)> = conn
        .prepare(
            "SELECT name, \"unique\", origin, partial FROM pragma_index_list(?1) ORDER BY seq DESC",
        )
        .and_then(|mut s| {
            s.query_map([table], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })?
            .collect::<std::result::Result<_, _>>()
        })
        .ctx(format_args!("reading the indexes of {table}"))?;
    let mut out = Vec::new();
    for (name, unique, origin, partial) in list {
        if origin != "c" || canonical.iter().any(|c| c.contains(&format!("`{name}`"))) {
            continue;
        }
        let idx = quote_ident(&name);
        if partial {
            return Err(refuse_rebuild(
                table,
                format_args!(
                    "has the partial index {idx} (… WHERE …), which a rebuild cannot copy"
                ),
            ));
        }
        let cols: Vec<(i64, Option<String>, bool, Option<String>)> = conn
            .prepare("SELECT cid, name, \"desc\", coll FROM pragma_index_xinfo(?1) WHERE key = 1 ORDER BY seqno")
            .and_then(|mut s| {
                s.query_map([&name], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
                    .collect::<std::result::Result<_, _>>()
            })
            .ctx(format_args!("reading the index {idx}"))?;
        let mut parts = Vec::new();
        for (cid, col, desc, coll) in cols {
            let Some(col) = col.filter(|_| cid >= 0) else {
                return Err(refuse_rebuild(
                    table,
                    format_args!(
                        "has the index {idx} on an expression, which a rebuild cannot copy"
                    ),
                ));
            };
            let mut p = quote_ident(&col);
            if let Some(coll) = coll {
                let Some(k) = BUILTIN_COLLATIONS
                    .iter()
                    .find(|k| k.eq_ignore_ascii_case(&coll))
                else {
                    return Err(refuse_rebuild(
                        table,
                        format_args!("has the index {idx} with the collation {coll:?}"),
                    ));
                };
                p.push_str(" COLLATE ");
                p.push_str(k);
            }
            if desc {
                p.push_str(" DESC");
            }
            parts.push(p);
        }
        out.push(format!(
            "CREATE {}INDEX {idx} ON {} ({})",
            if unique { "UNIQUE " } else { "" },
            quote_ident(table),
            parts.join(", ")
        ));
    }
    Ok(out)
}

const NODE_CANON: [Canon; 10] = [
    ("id", "text", None, true),
    ("type", "text", None, false),
    ("title", "text", None, false),
    ("domain", "text", None, false),
    ("layer", "text", None, false),
    ("embedding", "blob", None, false),
    ("hash", "text", None, false),
    ("meta", "text", None, false),
    ("date", "text", None, false),
    ("summary", "text", None, false),
];

const EDGE_CANON: [Canon; 6] = [
    ("source", "text", None, true),
    ("target", "text", None, true),
    ("type", "text", None, true),
    ("confidence", "real", Some("1"), false),
    ("veracity", "real", Some("1"), false),
    ("context_source", "text", None, false),
];

/// The statements that bring a legacy file's tables to the current shape (without the ledger).
fn legacy_statements(conn: &Connection) -> Result<Vec<String>> {
    let mut sql = Vec::new();
    let triggers = schema::object_names(conn, "trigger")?;
    for t in LEGACY_FTS_TRIGGERS {
        if triggers.contains(t) {
            sql.push(format!("DROP TRIGGER {}", quote_ident(t)));
        }
    }
    let tables = schema::object_names(conn, "table")?;
    if tables.contains("nodes_fts") {
        sql.push("DROP TABLE \"nodes_fts\"".to_string());
    }
    // nodes: the canonical columns in order (+ extras such as `content` kept at the end).
    let rebuild_nodes = rebuild_statements(conn, "nodes", &NODE_CANON, 9, &["id"], &[])?;
    if rebuild_nodes.is_empty() {
        if !schema::table_columns(conn, "nodes")?
            .iter()
            .any(|c| c.name == "summary")
        {
            sql.push(schema::ADD_SUMMARY.to_string());
        }
    } else {
        sql.extend(rebuild_nodes);
    }
    if tables.contains("edges") {
        sql.extend(rebuild_statements(
            conn,
            "edges",
            &EDGE_CANON,
            6,
            &["source", "target", "type"],
            &[
                schema::CREATE_IDX_EDGES_SOURCE,
                schema::CREATE_IDX_EDGES_TARGET,
            ],
        )?);
    } else {
        sql.push(schema::CREATE_EDGES.to_string());
    }
    let indexes = schema::object_names(conn, "index")?;
    let rebuilt_edges = sql.iter().any(|s| s.starts_with("DROP TABLE \"edges\""));
    if !rebuilt_edges {
        if !indexes.contains("idx_edges_source") {
            sql.push(schema::CREATE_IDX_EDGES_SOURCE.to_string());
        }
        if !indexes.contains("idx_edges_target") {
            sql.push(schema::CREATE_IDX_EDGES_TARGET.to_string());
        }
    }
    if !tables.contains("ember_state") {
        sql.push(schema::CREATE_EMBER_STATE.to_string());
    }
    if !tables.contains("history") {
        sql.push(schema::CREATE_HISTORY.to_string());
    }
    Ok(sql)
}

/// The legacy full-text triggers adoption drops (with `nodes_fts`).
const LEGACY_FTS_TRIGGERS: [&str; 3] = ["nodes_ai", "nodes_ad", "nodes_au"];

/// Whether `table` is one the engine writes: a trigger on it would run for the engine's writes.
fn is_engine_table(table: &str) -> bool {
    let t = table.to_ascii_lowercase();
    ["nodes", "edges", "history", "__drizzle_migrations"].contains(&t.as_str())
        || t.starts_with("resonance_")
}

/// Triggers on the engine's tables that it did not create (the legacy full-text ones excepted when
/// `legacy`, as adoption drops them), as `name on table`.
pub fn unknown_triggers(conn: &Connection, legacy: bool) -> Result<Vec<String>> {
    let mut stmt = conn
        .prepare("SELECT name, tbl_name FROM sqlite_master WHERE type = 'trigger' ORDER BY name")
        .ctx("reading the triggers")?;
    let all: Vec<(String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .ctx("reading the triggers")?
        .collect::<std::result::Result<_, _>>()
        .ctx("reading the triggers")?;
    Ok(all
        .into_iter()
        .filter(|(name, table)| {
            is_engine_table(table) && !(legacy && LEGACY_FTS_TRIGGERS.contains(&name.as_str()))
        })
        .map(|(name, table)| format!("{} on {}", quote_ident(&name), quote_ident(&table)))
        .collect())
}

/// Refuses a file whose engine tables carry triggers the engine did not create. The engine never
/// fires a trigger on its own tables (`triggers`: SQLite's switch stays off while one exists), so
/// such a trigger would silently stop doing whatever its author meant; the file is refused before
/// anything is written.
fn check_triggers(conn: &Connection, legacy: bool) -> Result<()> {
    let unknown = unknown_triggers(conn, legacy)?;
    if unknown.is_empty() {
        return Ok(());
    }
    Err(Error::SchemaUnknown(format!(
        "unknown trigger(s) {} on Resonance's tables: Resonance never runs triggers for its writes and \
         refuses a file that has them (drop them with another tool); nothing was changed",
        unknown.join(", ")
    )))
}

/// Plans what `conn`'s database needs, using Resonance's migrations `migrations`. Reads only.
pub fn plan_with(conn: &Connection, migrations: &[ResonanceMigration]) -> Result<MigrationPlan> {
    let shape = schema::detect_shape(conn)?;
    let mut steps = Vec::new();
    let mut warnings = Vec::new();
    if let Shape::Unknown { found } = &shape {
        return Err(Error::SchemaUnknown(format!(
            "this is not a database Resonance or the application made ({found}); nothing was changed"
        )));
    }
    check_triggers(conn, matches!(shape, Shape::Legacy { .. }))?;
    match &shape {
        Shape::Unknown { .. } => {}
        Shape::NewerApp { created_at } => {
            warnings.push(format!(
                "the application's ledger has a step created at {created_at}, newer than the newest this \
                 library knows ({}): opened without schema changes",
                schema::NEWEST_KNOWN_CREATED_AT
            ));
            return Ok(MigrationPlan {
                shape,
                steps,
                warnings,
            });
        }
        Shape::Empty => {
            for step in &DRIZZLE_STEPS {
                let mut sql: Vec<String> = Vec::new();
                if step.tag.starts_with("0000") {
                    sql.push(schema::CREATE_DRIZZLE_LEDGER.to_string());
                }
                sql.extend(step.sql.iter().map(|s| s.to_string()));
                sql.push(ledger_insert(step, false));
                steps.push(PlannedStep {
                    id: format!("drizzle_{}", step.tag),
                    kind: StepKind::Drizzle,
                    description: format!("application step {}", step.tag),
                    sql,
                    destructive: false,
                });
            }
        }
        Shape::Drizzle { steps: done, hand } => {
            let tables = schema::object_names(conn, "table")?;
            let node_cols = schema::table_columns(conn, "nodes")?;
            for step in &DRIZZLE_STEPS[*done..] {
                let mut sql: Vec<String> = Vec::new();
                if step.tag.starts_with("0001") && !tables.contains("history") {
                    sql.push(schema::CREATE_HISTORY.to_string());
                }
                if step.tag.starts_with("0002") && !node_cols.iter().any(|c| c.name == "summary") {
                    sql.push(schema::ADD_SUMMARY.to_string());
                }
                sql.push(ledger_insert(step, *hand));
                steps.push(PlannedStep {
                    id: format!("drizzle_{}", step.tag),
                    kind: StepKind::Drizzle,
                    description: format!("application step {}", step.tag),
                    sql,
                    destructive: false,
                });
            }
        }
        Shape::Legacy {
            version,
            failed_upgrade,
        } => {
            let mut sql = legacy_statements(conn)?;
            sql.push(schema::CREATE_DRIZZLE_LEDGER.to_string());
            sql.extend(DRIZZLE_STEPS.iter().map(|s| ledger_insert(s, false)));
            steps.push(PlannedStep {
                id: format!("adopt_legacy_v{version}"),
                kind: StepKind::Adoption,
                description: format!(
                    "adopt a legacy v{version} database{}: drop the old full-text index and its triggers \
                     if present, rebuild nodes/edges to the current columns keeping every row, rowid and \
                     extra column (such as `content`), add missing tables and indexes, write the \
                     application's ledger rows",
                    if *failed_upgrade { " (after a failed upgrade: empty ledger)" } else { "" }
                ),
                sql,
                destructive: false,
            });
        }
    }
    if schema::object_names(conn, "table")?.contains("_health") {
        warnings.push(
            "a stray `_health` table from an old health probe is present (left alone)".into(),
        );
    }
    for m in pending_resonance(conn, migrations)? {
        let mig = Migration::unapplied(m.name, m.sql)
            .map_err(|e| Error::Internal(format!("bad migration {}: {e}", m.name)))?;
        steps.push(PlannedStep {
            id: m.name.to_string(),
            kind: StepKind::Resonance,
            description: format!("Resonance migration V{} {}", mig.version(), mig.name()),
            sql: vec![
                m.sql.to_string(),
                format!("-- recorded in {RESONANCE_LEDGER}"),
            ],
            destructive: m.destructive(),
        });
    }
    Ok(MigrationPlan {
        shape,
        steps,
        warnings,
    })
}

/// Plans with Resonance's own migrations.
pub fn plan(conn: &Connection) -> Result<MigrationPlan> {
    plan_with(conn, RESONANCE_MIGRATIONS)
}

/// Whether the database has any table (a backup is only taken of a non-empty database).
fn is_non_empty(conn: &Connection) -> Result<bool> {
    Ok(!schema::object_names(conn, "table")?.is_empty())
}

/// refinery, running inside our `BEGIN IMMEDIATE` transaction (each of its batches in a savepoint).
struct InTx<'a>(&'a Connection);

impl RefineryTransaction for InTx<'_> {
    type Error = rusqlite::Error;

    fn execute<'b, T: Iterator<Item = &'b str>>(
        &mut self,
        queries: T,
    ) -> std::result::Result<usize, Self::Error> {
        self.0.execute_batch("SAVEPOINT resonance_refinery")?;
        let mut count = 0;
        for q in queries {
            if let Err(e) = self.0.execute_batch(q) {
                let _ = self
                    .0
                    .execute_batch("ROLLBACK TO resonance_refinery; RELEASE resonance_refinery");
                return Err(e);
            }
            count += 1;
        }
        self.0.execute_batch("RELEASE resonance_refinery")?;
        Ok(count)
    }
}

impl Query<Vec<Migration>> for InTx<'_> {
    fn query(&mut self, query: &str) -> std::result::Result<Vec<Migration>, Self::Error> {
        let mut stmt = self.0.prepare(query)?;
        let mut rows = stmt.query([])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            let version: i32 = row.get(0)?;
            let name: String = row.get(1)?;
            let applied_on: String = row.get(2)?;
            let checksum: String = row.get(3)?;
            let applied_on = time::OffsetDateTime::parse(
                &applied_on,
                &time::format_description::well_known::Rfc3339,
            )
            .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
            let checksum = checksum
                .parse::<u64>()
                .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
            out.push(Migration::applied(version, name, applied_on, checksum));
        }
        Ok(out)
    }
}

impl refinery::Migrate for InTx<'_> {}

fn run_refinery(conn: &Connection, migrations: &[ResonanceMigration]) -> Result<()> {
    let migs = refinery_migrations(migrations)?;
    let mut runner = refinery::Runner::new(&migs)
        .set_grouped(true)
        .set_abort_divergent(true)
        .set_abort_missing(true);
    runner.set_migration_table_name(RESONANCE_LEDGER);
    runner.run(&mut InTx(conn)).map(|_| ()).map_err(|e| match e.kind() {
        refinery::error::Kind::DivergentVersion(applied, local) => Error::SchemaTooNew(format!(
            "Resonance migration {applied} was changed after it was applied (this library has {local})"
        )),
        refinery::error::Kind::MissingVersion(m) => {
            Error::SchemaTooNew(format!("the database has Resonance migration {m}, unknown to this library"))
        }
        _ => Error::MigrationFailed(format!("Resonance migrations: {e}")),
    })
}

fn check_destructive(plan: &MigrationPlan, allow: bool) -> Result<()> {
    let bad: Vec<&str> = plan
        .steps
        .iter()
        .filter(|s| s.destructive)
        .map(|s| s.id.as_str())
        .collect();
    if !bad.is_empty() && !allow {
        return Err(Error::DestructiveRefused(format!(
            "step(s) {} drop or rewrite data; pass allow_destructive to run them",
            bad.join(", ")
        )));
    }
    Ok(())
}

/// Applies the plan for `path`'s database: backup first (non-empty database), then every step in one
/// `BEGIN IMMEDIATE` transaction, re-planned under the lock. A dry run only plans.
pub fn migrate_with(
    conn: &mut Connection,
    path: &Path,
    opts: &MigrateOptions,
    migrations: &[ResonanceMigration],
) -> Result<MigrationReport> {
    let first = plan_with(conn, migrations)?;
    let shape_before = first.shape.name().to_string();
    if opts.dry_run || first.is_empty() {
        check_destructive(&first, opts.allow_destructive).or_else(|e| {
            if opts.dry_run {
                Ok(())
            } else {
                Err(e)
            }
        })?;
        return Ok(MigrationReport {
            shape_before,
            steps: first.steps,
            dry_run: opts.dry_run,
            backup: None,
            warnings: first.warnings,
        });
    }
    check_destructive(&first, opts.allow_destructive)?;
    let backup = if opts.backup && is_non_empty(conn)? {
        let label = format!("{}-before-{}", shape_before, first.steps[0].id);
        Some(backup::auto_backup(
            conn,
            path,
            &label,
            opts.backup_retention_days
                .unwrap_or(crate::connection::DEFAULT_BACKUP_RETENTION_DAYS),
        )?)
    } else {
        None
    };
    let rebuilds = first
        .steps
        .iter()
        .any(|s| s.sql.iter().any(|q| q.starts_with("DROP TABLE")));
    if rebuilds {
        // A no-op inside a transaction: set outside, checked before commit, restored after.
        conn.pragma_update(None, "foreign_keys", false)
            .ctx("turning foreign_keys off for a rebuild")?;
        // The rename of the rebuilt table must not re-check the file's views (one naming the table
        // would fail while it is dropped); they name the same table and columns after the rebuild.
        conn.pragma_update(None, "legacy_alter_table", true)
            .ctx("turning legacy_alter_table on for a rebuild")?;
    }
    let result = write_tx(conn, &format!("migrating {}", show(path)), |tx| {
        let plan = plan_with(tx, migrations)?;
        check_destructive(&plan, opts.allow_destructive)?;
        for step in plan.steps.iter().filter(|s| s.kind != StepKind::Resonance) {
            for (i, q) in step.sql.iter().enumerate() {
                // One statement each (prepare refuses a second one): never a batch of built text.
                tx.prepare(q)
                    .and_then(|mut s| s.raw_execute())
                    .map_err(|e| {
                        let err = Error::sqlite(e, format!("step {} statement {}", step.id, i + 1));
                        match err.kind() {
                            crate::ErrorKind::Busy
                            | crate::ErrorKind::Io
                            | crate::ErrorKind::Corrupt => err,
                            _ => Error::MigrationFailed(format!("{err}; nothing was changed")),
                        }
                    })?;
            }
        }
        if plan.steps.iter().any(|s| s.kind == StepKind::Resonance) {
            run_refinery(tx, migrations)?;
        }
        if rebuilds {
            let violations: Option<String> = tx
                .query_row("PRAGMA foreign_key_check", [], |r| r.get(0))
                .optional()
                .ctx("foreign_key_check")?;
            if let Some(t) = violations {
                return Err(Error::MigrationFailed(format!(
                    "foreign_key_check failed on table {t} after a rebuild; nothing was changed"
                )));
            }
        }
        Ok(plan)
    });
    if rebuilds {
        conn.pragma_update(None, "foreign_keys", true)
            .ctx("restoring foreign_keys")?;
        conn.pragma_update(None, "legacy_alter_table", false)
            .ctx("restoring legacy_alter_table")?;
    }
    let plan = result?;
    Ok(MigrationReport {
        shape_before,
        steps: plan.steps,
        dry_run: false,
        backup,
        warnings: plan.warnings,
    })
}

/// A dry run on the file at `path` without opening a handle: nothing is created or changed (no WAL
/// switch, no file for a missing path). Unknown or too-new files fail as they would on open.
pub fn dry_run_file(path: &Path, opts: &crate::connection::OpenOptions) -> Result<MigrationReport> {
    let plan = match crate::connection::file_state(path)? {
        crate::connection::FileState::New => {
            let conn = Connection::open_in_memory().ctx("planning in memory")?;
            plan(&conn)?
        }
        crate::connection::FileState::NotSqlite => {
            return Err(Error::NotADatabase(format!(
                "{} is not a SQLite database",
                show(path)
            )))
        }
        crate::connection::FileState::Sqlite { .. } => {
            let conn = Connection::open_with_flags(
                path,
                rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY
                    | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )
            .ctx(format_args!("opening {}", show(path)))?;
            conn.busy_timeout(std::time::Duration::from_millis(u64::from(
                opts.busy_timeout_ms,
            )))
            .ctx("setting busy_timeout")?;
            plan(&conn)?
        }
    };
    Ok(MigrationReport {
        shape_before: plan.shape.name().to_string(),
        steps: plan.steps,
        dry_run: true,
        backup: None,
        warnings: plan.warnings,
    })
}

/// [`migrate_with`] Resonance's own migrations.
pub fn migrate(
    conn: &mut Connection,
    path: &Path,
    opts: &MigrateOptions,
) -> Result<MigrationReport> {
    migrate_with(conn, path, opts, RESONANCE_MIGRATIONS)
}

/// Reading a legacy table's definition without ever pasting its text into SQL.
///
/// The rebuild of a legacy table writes each kept column from parts checked one by one: the name
/// quoted, the declared type only when it is plain words with an optional `(n)` / `(n, m)`, the
/// default only when SQLite itself prepares it as one expression on a private connection, a
/// collation only when it is built in, a `REFERENCES` clause from `pragma_foreign_key_list` with its
/// actions taken from a fixed list. Anything else on a column (CHECK, UNIQUE, GENERATED, a conflict
/// clause, DEFERRABLE, an unknown collation) or on the table (a CHECK, UNIQUE or FOREIGN KEY table
/// constraint, WITHOUT ROWID, STRICT) refuses the plan before anything is written.
mod legacy_ddl {
    use std::os::raw::{c_char, c_int, c_void};

    use rusqlite::Connection;

    use crate::error::{Error, Result};

    /// A token of SQLite's SQL: just enough to split a definition and balance parentheses.
    #[derive(Debug, Clone, PartialEq)]
    pub(super) enum Tok {
        /// A bare word (identifier or keyword), as written.
        Word(String),
        /// A quoted identifier (`"x"`, `` `x` ``, `[x]`), dequoted.
        Quoted(String),
        /// A string literal, dequoted.
        Str(String),
        /// A number.
        Num,
        LParen,
        RParen,
        Comma,
        Semi,
        Comment,
        /// Any other operator character.
        Op,
    }

    /// The tokens of `sql`, or `None` when a quote or comment is not closed.
    pub(super) fn tokens(sql: &str) -> Option<Vec<Tok>> {
        let b: Vec<char> = sql.chars().collect();
        let mut i = 0;
        let mut out = Vec::new();
        let quoted = |i: &mut usize, close: char, doubled: bool| -> Option<String> {
            let mut s = String::new();
            *i += 1;
            loop {
                let c = *b.get(*i)?;
                *i += 1;
                if c == close {
                    if doubled && b.get(*i) == Some(&close) {
                        s.push(close);
                        *i += 1;
                        continue;
                    }
                    return Some(s);
                }
                s.push(c);
            }
        };
        while i < b.len() {
            let c = b[i];
            match c {
                c if c.is_whitespace() => i += 1,
                '-' if b.get(i + 1) == Some(&'-') => {
                    while i < b.len() && b[i] != '\n' {
                        i += 1;
                    }
                    out.push(Tok::Comment);
                }
                '/' if b.get(i + 1) == Some(&'*') => {
                    i += 2;
                    loop {
                        if i + 1 >= b.len() {
                            return None;
                        }
                        if b[i] == '*' && b[i + 1] == '/' {
                            i += 2;
                            break;
                        }
                        i += 1;
                    }
                    out.push(Tok::Comment);
                }
                '\'' => out.push(Tok::Str(quoted(&mut i, '\'', true)?)),
                '"' => out.push(Tok::Quoted(quoted(&mut i, '"', true)?)),
                '`' => out.push(Tok::Quoted(quoted(&mut i, '`', true)?)),
                '[' => out.push(Tok::Quoted(quoted(&mut i, ']', false)?)),
                '(' => {
                    out.push(Tok::LParen);
                    i += 1;
                }
                ')' => {
                    out.push(Tok::RParen);
                    i += 1;
                }
                ',' => {
                    out.push(Tok::Comma);
                    i += 1;
                }
                ';' => {
                    out.push(Tok::Semi);
                    i += 1;
                }
                c if c.is_ascii_digit()
                    || (c == '.' && b.get(i + 1).is_some_and(|d| d.is_ascii_digit())) =>
                {
                    while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == '.') {
                        i += 1;
                    }
                    out.push(Tok::Num);
                }
                c if c.is_alphanumeric() || c == '_' || c == '$' || !c.is_ascii() => {
                    let start = i;
                    while i < b.len()
                        && (b[i].is_alphanumeric()
                            || b[i] == '_'
                            || b[i] == '$'
                            || !b[i].is_ascii())
                    {
                        i += 1;
                    }
                    out.push(Tok::Word(b[start..i].iter().collect()));
                }
                _ => {
                    out.push(Tok::Op);
                    i += 1;
                }
            }
        }
        Some(out)
    }

    fn is_kw(t: &Tok, kw: &str) -> bool {
        matches!(t, Tok::Word(w) if w.eq_ignore_ascii_case(kw))
    }

    /// What a column's definition carries besides its name, type, default and NOT NULL.
    #[derive(Debug, Default, Clone, PartialEq)]
    pub(super) struct ColumnExtras {
        /// The column's name as written (dequoted).
        pub name: String,
        /// Things no rebuild keeps (`CHECK`, `UNIQUE`, `GENERATED`, a conflict clause, …).
        pub refused: Vec<&'static str>,
        /// The collation name after `COLLATE`, if any.
        pub collate: Option<String>,
        /// A `REFERENCES` clause is present.
        pub references: bool,
    }

    /// The parts of a `CREATE TABLE` statement: its columns and what stops a rebuild at table level.
    #[derive(Debug, Default)]
    pub(super) struct TableDef {
        pub columns: Vec<ColumnExtras>,
        /// Table constraints and options no rebuild keeps.
        pub refused: Vec<String>,
    }

    /// Splits the `CREATE TABLE` text `sql` (read from the file, only inspected) into columns.
    pub(super) fn parse_create_table(sql: &str) -> Option<TableDef> {
        let toks = tokens(sql)?;
        let open = toks.iter().position(|t| *t == Tok::LParen)?;
        let mut depth = 0usize;
        let mut parts: Vec<Vec<Tok>> = vec![Vec::new()];
        let mut close = None;
        for (k, t) in toks.iter().enumerate().skip(open + 1) {
            match t {
                Tok::LParen => depth += 1,
                Tok::RParen if depth == 0 => {
                    close = Some(k);
                    break;
                }
                Tok::RParen => depth -= 1,
                Tok::Comma if depth == 0 => {
                    parts.push(Vec::new());
                    continue;
                }
                Tok::Comment => continue,
                _ => {}
            }
            parts.last_mut()?.push(t.clone());
        }
        let close = close?;
        let mut def = TableDef::default();
        if toks[close + 1..]
            .iter()
            .any(|t| !matches!(t, Tok::Comment | Tok::Semi))
        {
            def.refused
                .push("table options (WITHOUT ROWID or STRICT)".to_string());
        }
        for part in parts {
            let first = part.first()?;
            if ["CONSTRAINT", "UNIQUE", "CHECK", "FOREIGN"]
                .iter()
                .any(|k| is_kw(first, k))
            {
                def.refused
                    .push("a table constraint (CHECK, UNIQUE or FOREIGN KEY)".into());
                continue;
            }
            if is_kw(first, "PRIMARY") {
                // The rebuild writes the canonical primary key.
                continue;
            }
            let name = match first {
                Tok::Word(w) => w.clone(),
                Tok::Quoted(s) | Tok::Str(s) => s.clone(),
                _ => return None,
            };
            let mut col = ColumnExtras {
                name,
                ..Default::default()
            };
            let mut depth = 0usize;
            let mut in_references = false;
            let mut k = 1;
            while k < part.len() {
                let t = &part[k];
                match t {
                    Tok::LParen => depth += 1,
                    Tok::RParen => depth = depth.saturating_sub(1),
                    _ if depth > 0 => {}
                    t if is_kw(t, "CHECK") => col.refused.push("a CHECK constraint"),
                    t if is_kw(t, "UNIQUE") => col.refused.push("a UNIQUE constraint"),
                    t if is_kw(t, "GENERATED") || is_kw(t, "AS") => {
                        col.refused.push("a generated value (GENERATED ALWAYS AS)")
                    }
                    t if is_kw(t, "DEFERRABLE") => col.refused.push("a DEFERRABLE clause"),
                    t if is_kw(t, "COLLATE") => {
                        k += 1;
                        col.collate = Some(match part.get(k) {
                            Some(Tok::Word(w)) => w.clone(),
                            Some(Tok::Quoted(s)) | Some(Tok::Str(s)) => s.clone(),
                            _ => return None,
                        });
                    }
                    t if is_kw(t, "REFERENCES") => {
                        col.references = true;
                        in_references = true;
                    }
                    t if is_kw(t, "ON") && !in_references => {
                        col.refused.push("a conflict clause (ON CONFLICT)")
                    }
                    t if is_kw(t, "DEFAULT") || is_kw(t, "NOT") || is_kw(t, "NULL") => {
                        in_references = false
                    }
                    _ => {}
                }
                k += 1;
            }
            col.refused.dedup();
            def.columns.push(col);
        }
        Some(def)
    }

    /// Words SQLite's grammar reads as the start of a constraint: never part of a type kept here.
    const CONSTRAINT_WORDS: [&str; 15] = [
        "CONSTRAINT",
        "PRIMARY",
        "NOT",
        "NULL",
        "UNIQUE",
        "CHECK",
        "DEFAULT",
        "COLLATE",
        "REFERENCES",
        "GENERATED",
        "AS",
        "ON",
        "KEY",
        "FOREIGN",
        "DEFERRABLE",
    ];

    /// Whether `ty` is a plain type name: words of `[A-Za-z0-9_]` separated by single spaces, then
    /// optionally `(n)` or `(n, m)` with signed integers. The empty type is plain.
    pub(super) fn plain_type(ty: &str) -> bool {
        let (words, args) = match ty.find('(') {
            Some(p) => (ty[..p].trim_end(), Some(&ty[p..])),
            None => (ty, None),
        };
        let word_ok = |w: &str| {
            !w.is_empty()
                && w.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_')
                && !CONSTRAINT_WORDS.iter().any(|k| w.eq_ignore_ascii_case(k))
        };
        if words.is_empty() {
            return args.is_none();
        }
        if !words.split(' ').all(word_ok) {
            return false;
        }
        let Some(args) = args else { return true };
        let Some(inner) = args.strip_prefix('(').and_then(|a| a.strip_suffix(')')) else {
            return false;
        };
        let nums: Vec<&str> = inner.split(',').map(str::trim).collect();
        nums.len() <= 2
            && nums.iter().all(|n| {
                let d = n.strip_prefix(['+', '-']).unwrap_or(n);
                !d.is_empty() && d.len() <= 18 && d.bytes().all(|c| c.is_ascii_digit())
            })
    }

    const SQLITE_OK: c_int = 0;
    const SQLITE_DENY: c_int = 1;
    const SQLITE_SELECT: c_int = 21;
    const SQLITE_FUNCTION: c_int = 31;
    const SQLITE_ATTACH: c_int = 24;
    const SQLITE_DETACH: c_int = 25;

    /// Authorizer of a default's trial: only a SELECT and calls of the (built-in) functions of a fresh
    /// connection.
    extern "C" fn expression_only(
        _: *mut c_void,
        action: c_int,
        _: *const c_char,
        _: *const c_char,
        _: *const c_char,
        _: *const c_char,
    ) -> c_int {
        if action == SQLITE_SELECT || action == SQLITE_FUNCTION {
            SQLITE_OK
        } else {
            SQLITE_DENY
        }
    }

    /// Authorizer of the rebuilt table's trial: anything on the private in-memory database except
    /// reaching another file.
    extern "C" fn no_attach(
        _: *mut c_void,
        action: c_int,
        _: *const c_char,
        _: *const c_char,
        _: *const c_char,
        _: *const c_char,
    ) -> c_int {
        if action == SQLITE_ATTACH || action == SQLITE_DETACH {
            SQLITE_DENY
        } else {
            SQLITE_OK
        }
    }

    type AuthFn = extern "C" fn(
        *mut c_void,
        c_int,
        *const c_char,
        *const c_char,
        *const c_char,
        *const c_char,
    ) -> c_int;

    fn sandbox(auth: AuthFn) -> Result<Connection> {
        let c = Connection::open_in_memory()
            .map_err(|e| Error::Internal(format!("opening a private in-memory database: {e}")))?;
        // SAFETY: the handle is valid for the connection's life and the callback is a plain function
        // that keeps no state (its user-data pointer is null and never read).
        let rc = unsafe {
            rusqlite::ffi::sqlite3_set_authorizer(c.handle(), Some(auth), std::ptr::null_mut())
        };
        if rc != SQLITE_OK {
            return Err(Error::Internal(format!(
                "setting an authorizer failed with code {rc}"
            )));
        }
        Ok(c)
    }

    /// `dflt` (a default as `pragma_table_info` reports it) parenthesised, when it is exactly one
    /// expression SQLite prepares with nothing but built-in functions; otherwise why not.
    pub(super) fn checked_default(dflt: &str) -> std::result::Result<String, String> {
        let toks = tokens(dflt).ok_or("an unterminated quote or comment")?;
        if toks.is_empty() {
            return Err("an empty expression".into());
        }
        let mut depth = 0i64;
        for t in &toks {
            match t {
                Tok::Comment => return Err("a comment".into()),
                Tok::Semi => return Err("a `;`".into()),
                Tok::LParen => depth += 1,
                Tok::RParen => {
                    depth -= 1;
                    if depth < 0 {
                        return Err("unbalanced parentheses".into());
                    }
                }
                _ => {}
            }
        }
        if depth != 0 {
            return Err("unbalanced parentheses".into());
        }
        let c = sandbox(expression_only).map_err(|e| e.to_string())?;
        let stmt = c
            .prepare(&format!("SELECT ({dflt})"))
            .map_err(|e| format!("not one plain expression ({e})"))?;
        if stmt.column_count() != 1 {
            return Err("not one expression".into());
        }
        Ok(format!("({dflt})"))
    }

    /// Runs the built `create` on a private in-memory database (nothing else there to reach) to find
    /// what SQLite refuses (a default that is not constant, …) before the real file is touched.
    pub(super) fn trial_create(create: &str) -> std::result::Result<(), String> {
        let c = sandbox(no_attach).map_err(|e| e.to_string())?;
        c.prepare(create)
            .and_then(|mut s| s.raw_execute())
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connection::{open_read_write, OpenOptions};
    #[test]
    fn plain_types_are_words_with_an_optional_size() {
        for ok in [
            "",
            "text",
            "varchar(20)",
            "numeric(10, 2)",
            "unsigned big int",
            "int(-3)",
            "x_1",
        ] {
            assert!(legacy_ddl::plain_type(ok), "{ok:?}");
        }
        for bad in [
            "a); attach database 'x' as pw; --",
            "text default 1",
            "int check",
            "text(1",
            "text (1, 2, 3)",
            "\"text\"",
            "text  int",
            "text(a)",
            "t\u{e9}xt",
            "(1)",
        ] {
            assert!(!legacy_ddl::plain_type(bad), "{bad:?}");
        }
    }

    #[test]
    fn a_default_is_kept_only_as_one_expression_sqlite_prepares() {
        assert_eq!(
            legacy_ddl::checked_default("datetime('now')").unwrap(),
            "(datetime('now'))"
        );
        assert_eq!(legacy_ddl::checked_default("'a)b'").unwrap(), "('a)b')");
        assert_eq!(legacy_ddl::checked_default("-1.5").unwrap(), "(-1.5)");
        for bad in [
            "1); attach 'x' as y; --",
            "1) , (2",
            "1), 2 AS (3",
            "(SELECT name FROM sqlite_master)",
            "1 -- comment",
            "1 /* c */",
            "nosuchfn(1)",
            "x",
            "1; SELECT 2",
            "'open",
            ")(",
        ] {
            assert!(legacy_ddl::checked_default(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_create_table_is_split_into_columns_and_what_a_rebuild_refuses() {
        let d = legacy_ddl::parse_create_table(
            "CREATE TABLE \"nodes\" (id TEXT PRIMARY KEY, [odd, name] int COLLATE nocase, \
             p text REFERENCES nodes(id) ON DELETE CASCADE, c int CHECK (c > 0), \
             g AS (c + 1), n int NOT NULL ON CONFLICT REPLACE, 'q''s' text DEFAULT ('x,y'))",
        )
        .unwrap();
        let names: Vec<&str> = d.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["id", "odd, name", "p", "c", "g", "n", "q's"]);
        assert!(d.refused.is_empty());
        assert_eq!(d.columns[1].collate.as_deref(), Some("nocase"));
        assert!(d.columns[2].references && d.columns[2].refused.is_empty());
        assert_eq!(d.columns[3].refused, ["a CHECK constraint"]);
        assert!(d.columns[4].refused[0].contains("generated"));
        assert!(d.columns[5].refused[0].contains("conflict"));
        assert!(d.columns[6].refused.is_empty());
        let t = legacy_ddl::parse_create_table("CREATE TABLE t (a, b, UNIQUE (a)) WITHOUT ROWID")
            .unwrap();
        assert_eq!(t.refused.len(), 2, "{:?}", t.refused);
        assert!(legacy_ddl::parse_create_table("CREATE TABLE t (a 'open").is_none());
    }

    fn two_step_db(path: &Path) -> Connection {
        let conn = Connection::open(path).unwrap();
        for step in &DRIZZLE_STEPS[..2] {
            for q in step.sql {
                conn.execute_batch(q).unwrap();
            }
        }
        conn.execute_batch(schema::CREATE_DRIZZLE_LEDGER).unwrap();
        for step in &DRIZZLE_STEPS[..2] {
            conn.execute_batch(&ledger_insert(step, false)).unwrap();
        }
        conn.execute_batch("INSERT INTO nodes (id, title) VALUES ('a', 'A'), ('b', 'B')")
            .unwrap();
        conn
    }

    fn dump(conn: &Connection) -> (String, Vec<String>) {
        let schema_sql: Vec<String> = conn
            .prepare("SELECT type || ' ' || name || ' ' || coalesce(sql, '') FROM sqlite_master ORDER BY name")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        let mut data = Vec::new();
        for t in ["nodes", "__drizzle_migrations"] {
            let rows: Vec<String> = conn
                .prepare(&format!("SELECT quote(rowid) || ':' || json_array(*) FROM (SELECT rowid, * FROM \"{t}\")"))
                .map(|mut s| s.query_map([], |r| r.get(0)).unwrap().map(|r| r.unwrap()).collect())
                .unwrap_or_default();
            data.extend(rows);
        }
        let resonance: Vec<String> = applied_resonance(conn)
            .unwrap()
            .iter()
            .map(|a| format!("{a:?}"))
            .collect();
        data.extend(resonance);
        (schema_sql.join("\n"), data)
    }

    #[test]
    fn a_migration_failing_at_its_third_statement_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.db");
        drop(two_step_db(&path));
        let mut conn = open_read_write(
            &path,
            &OpenOptions::default(),
            &crate::authorizer::Policy::new(false),
        )
        .unwrap();
        let before = dump(&conn);
        let migs = [
            RESONANCE_MIGRATIONS[0].clone(),
            ResonanceMigration {
                name: "V2__broken",
                sql: "CREATE TABLE resonance_x (a text);\nINSERT INTO resonance_x VALUES ('1');\nINSERT INTO no_such_table VALUES (1);",
            },
        ];
        let err = migrate_with(
            &mut conn,
            &path,
            &MigrateOptions {
                backup: false,
                ..Default::default()
            },
            &migs,
        )
        .unwrap_err();
        assert_eq!(err.code(), "migration_failed", "{err}");
        assert_eq!(
            dump(&conn),
            before,
            "schema, data and both ledgers identical"
        );
        // The real migrations still apply afterwards.
        migrate(
            &mut conn,
            &path,
            &MigrateOptions {
                backup: false,
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(
            schema::detect_shape(&conn).unwrap(),
            Shape::Drizzle {
                steps: 3,
                hand: false
            }
        );
    }

    #[test]
    fn destructive_steps_are_refused_unless_allowed_and_dry_run_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.db");
        drop(two_step_db(&path));
        let mut conn = open_read_write(
            &path,
            &OpenOptions::default(),
            &crate::authorizer::Policy::new(false),
        )
        .unwrap();
        let migs = [
            RESONANCE_MIGRATIONS[0].clone(),
            ResonanceMigration {
                name: "V2__drop_title",
                sql: "-- resonance:destructive\nCREATE TABLE resonance_tmp (x);\nDROP TABLE resonance_tmp;",
            },
        ];
        let before = dump(&conn);
        let dry = migrate_with(
            &mut conn,
            &path,
            &MigrateOptions {
                dry_run: true,
                ..Default::default()
            },
            &migs,
        )
        .unwrap();
        assert!(dry.dry_run);
        assert_eq!(
            dry.steps.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(),
            [
                "drizzle_0002_summary",
                "V1__resonance_meta",
                "V2__drop_title"
            ]
        );
        assert!(
            dry.steps[0].sql.iter().any(|q| q.contains("ADD `summary`")),
            "dry run lists the SQL"
        );
        assert!(dry.steps[2].destructive);
        assert_eq!(dump(&conn), before, "a dry run changes nothing");
        assert!(!dir.path().join("backups").exists());
        let err = migrate_with(&mut conn, &path, &MigrateOptions::default(), &migs).unwrap_err();
        assert_eq!(err.code(), "destructive_refused");
        assert!(err.to_string().contains("V2__drop_title"));
        assert_eq!(dump(&conn), before);
        let rep = migrate_with(
            &mut conn,
            &path,
            &MigrateOptions {
                allow_destructive: true,
                ..Default::default()
            },
            &migs,
        )
        .unwrap();
        assert_eq!(rep.steps.len(), 3);
        assert!(rep.backup.is_some());
    }

    #[test]
    fn ahead_and_drifted_databases_are_refused_with_both_versions() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.db");
        drop(two_step_db(&path));
        let mut conn = open_read_write(
            &path,
            &OpenOptions::default(),
            &crate::authorizer::Policy::new(false),
        )
        .unwrap();
        // One step beyond this library's newest (V2).
        let with_later = |sql: &'static str| {
            let mut m = RESONANCE_MIGRATIONS.to_vec();
            m.push(ResonanceMigration {
                name: "V3__later",
                sql,
            });
            m
        };
        let newer = with_later("CREATE TABLE resonance_later (x);");
        migrate_with(
            &mut conn,
            &path,
            &MigrateOptions {
                backup: false,
                ..Default::default()
            },
            &newer,
        )
        .unwrap();
        // This library only knows V1 and V2: the database is ahead.
        let err = plan(&conn).unwrap_err();
        assert_eq!(err.code(), "schema_too_new");
        assert!(
            err.to_string().contains("V3") && err.to_string().contains("V2"),
            "{err}"
        );
        // A changed V3: drift.
        let drifted = with_later("CREATE TABLE resonance_later (x, y);");
        let err = plan_with(&conn, &drifted).unwrap_err();
        assert_eq!(err.code(), "schema_too_new");
        assert!(err.to_string().contains("checksum"), "{err}");
    }
}
