//! Adoption of every database shape of design §4 and Resonance's own versioned migrations (refinery),
//! with backups, dry runs, the destructive-step guard and drift detection (design §5).
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
pub const RESONANCE_MIGRATIONS: &[ResonanceMigration] = &[ResonanceMigration {
    name: "V1__resonance_meta",
    sql: include_str!("../migrations/V1__resonance_meta.sql"),
}];

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
    /// Backup retention in days.
    pub backup_retention_days: u32,
}

impl Default for MigrateOptions {
    fn default() -> Self {
        MigrateOptions {
            dry_run: false,
            allow_destructive: false,
            backup: true,
            backup_retention_days: 7,
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

/// The statements that rebuild `table` into the canonical columns `canon` (the first `must_match` of
/// them are checked), keeping every rowid, row and extra column (appended), or none when the first
/// `must_match` columns already match. `inline_pk` puts `PRIMARY KEY` on the first column, otherwise
/// `pk` is a table constraint.
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
    defs.extend(extra.iter().map(|c| {
        let mut d = format!("{} {}", quote_ident(&c.name), c.decl_type);
        if let Some(v) = &c.default {
            d.push_str(&format!(" DEFAULT {v}"));
        }
        d
    }));
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
    let mut out = vec![
        format!(
            "CREATE TABLE {} (\n\t{}\n)",
            quote_ident(&tmp),
            defs.join(",\n\t")
        ),
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
    for t in ["nodes_ai", "nodes_ad", "nodes_au"] {
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

/// Plans what `conn`'s database needs, using Resonance's migrations `migrations`. Reads only.
pub fn plan_with(conn: &Connection, migrations: &[ResonanceMigration]) -> Result<MigrationPlan> {
    let shape = schema::detect_shape(conn)?;
    let mut steps = Vec::new();
    let mut warnings = Vec::new();
    match &shape {
        Shape::Unknown { found } => {
            return Err(Error::SchemaUnknown(format!(
                "this is not a database Resonance or the application made ({found}); nothing was changed"
            )))
        }
        Shape::NewerApp { created_at } => {
            warnings.push(format!(
                "the application's ledger has a step created at {created_at}, newer than the newest this \
                 library knows ({}): opened without schema changes",
                schema::NEWEST_KNOWN_CREATED_AT
            ));
            return Ok(MigrationPlan { shape, steps, warnings });
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
        Shape::Legacy { version, failed_upgrade } => {
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
            opts.backup_retention_days,
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
    }
    let result = write_tx(conn, &format!("migrating {}", show(path)), |tx| {
        let plan = plan_with(tx, migrations)?;
        check_destructive(&plan, opts.allow_destructive)?;
        for step in plan.steps.iter().filter(|s| s.kind != StepKind::Resonance) {
            for (i, q) in step.sql.iter().enumerate() {
                tx.execute_batch(q).map_err(|e| {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connection::{open_read_write, OpenOptions};

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
        let mut conn = open_read_write(&path, &OpenOptions::default()).unwrap();
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
        let mut conn = open_read_write(&path, &OpenOptions::default()).unwrap();
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
        let mut conn = open_read_write(&path, &OpenOptions::default()).unwrap();
        let newer = [
            RESONANCE_MIGRATIONS[0].clone(),
            ResonanceMigration {
                name: "V2__later",
                sql: "CREATE TABLE resonance_later (x);",
            },
        ];
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
        // This library only knows V1: the database is ahead.
        let err = plan(&conn).unwrap_err();
        assert_eq!(err.code(), "schema_too_new");
        assert!(
            err.to_string().contains("V2") && err.to_string().contains("V1"),
            "{err}"
        );
        // A changed V2: drift.
        let drifted = [
            RESONANCE_MIGRATIONS[0].clone(),
            ResonanceMigration {
                name: "V2__later",
                sql: "CREATE TABLE resonance_later (x, y);",
            },
        ];
        let err = plan_with(&conn, &drifted).unwrap_err();
        assert_eq!(err.code(), "schema_too_new");
        assert!(err.to_string().contains("checksum"), "{err}");
    }
}
