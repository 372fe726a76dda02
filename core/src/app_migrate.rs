//! Application migrations (docs/sql.md, "Application migrations"): an application's own tables,
//! versioned under a namespace, applied through the engine's machinery — a backup first, a dry
//! run, the destructive gate, one `BEGIN IMMEDIATE` per step with its ledger row
//! (`resonance_app_migrations`) re-planned under the lock, checksums over LF-normalised SQL, and
//! `down` steps.
//!
//! Steps come from a directory of `NNNN_name.sql` files ([`load_dir`]) or from code
//! ([`AppMigration`]). Their SQL compiles under the authorizer's migration mode: the engine's tables
//! stay out of reach, and a step that drops a table, or after which a column or table is gone, is
//! destructive. This module must not touch the engine's own schema (that is `migrate`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension};
use sha2::{Digest, Sha256};

use crate::authorizer::{Mode, TOUCH_DROP};
use crate::db::TxGuard;
use crate::error::{show, Error, Result, SqlContext};
use crate::Database;

/// The ledger of application steps.
pub const LEDGER_TABLE: &str = "resonance_app_migrations";

const LEDGER_DDL: &str = "CREATE TABLE IF NOT EXISTS resonance_app_migrations (
    namespace TEXT NOT NULL,
    version INTEGER NOT NULL,
    name TEXT NOT NULL,
    checksum TEXT NOT NULL,
    applied_at TEXT NOT NULL,
    PRIMARY KEY (namespace, version)
)";

/// The line that starts a step's `down` section in a `.sql` file.
pub const DOWN_MARKER: &str = "-- down";
/// A line that declares a step destructive in a `.sql` file.
pub const DESTRUCTIVE_MARKER: &str = "-- resonance:destructive";

/// One application migration step.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AppMigration {
    /// The version (≥ 1); steps apply in ascending order.
    pub version: i64,
    /// A name for people (the file name's part after the number).
    pub name: String,
    /// The SQL that applies the step (one or more statements).
    pub up: String,
    /// The SQL that undoes it, if it can be undone.
    pub down: Option<String>,
    /// Declared destructive (drops or rewrites data): refused unless allowed.
    pub destructive: bool,
}

impl AppMigration {
    /// The sha256 (hex) of the step's `up` SQL with line endings normalised to LF.
    pub fn checksum(&self) -> String {
        let normalised = self.up.replace("\r\n", "\n").replace('\r', "\n");
        let digest = Sha256::digest(normalised.as_bytes());
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// The steps of one application, under its namespace (for
/// [`OpenOptions::app_migrations`](crate::OpenOptions::app_migrations)).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AppMigrationSet {
    /// The application's namespace in the ledger.
    pub namespace: String,
    /// Its steps.
    pub steps: Vec<AppMigration>,
}

/// How [`Database::migrate_app`] runs. `Default`: up to the newest step, with a backup, refusing
/// destructive steps and changed checksums.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AppMigrateOptions {
    /// The target version: `None` is the newest step given; below the newest applied step, the
    /// applied steps above it are undone (their `down` sections, newest first).
    pub to: Option<i64>,
    /// Return the plan (with its SQL) and change nothing.
    pub dry_run: bool,
    /// Allow destructive steps (declared, detected, or any `down`).
    pub allow_destructive: bool,
    /// Skip the backup of a non-empty database before the first step.
    pub no_backup: bool,
    /// Accept a changed text of an applied step and record its new checksum (instead of refusing).
    pub accept_changed: bool,
}

/// Which way a planned step goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AppDirection {
    /// Its `up` SQL.
    Up,
    /// Its `down` SQL.
    Down,
}

/// One step of a plan.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AppPlannedStep {
    /// The step's version.
    pub version: i64,
    /// The step's name.
    pub name: String,
    /// Up or down.
    pub direction: AppDirection,
    /// The SQL that runs.
    pub sql: String,
    /// Whether it is destructive (declared, or a `down`).
    pub destructive: bool,
}

/// What [`Database::migrate_app`] did (or, for a dry run, would do).
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct AppMigrationReport {
    /// The namespace.
    pub namespace: String,
    /// Whether this was a dry run.
    pub dry_run: bool,
    /// The steps run (or planned), in order.
    pub steps: Vec<AppPlannedStep>,
    /// The backup taken first, if any.
    pub backup: Option<PathBuf>,
    /// Applied steps whose changed text was accepted (`accept_changed`).
    pub accepted_changes: Vec<i64>,
}

/// An applied step, from the ledger.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AppliedStep {
    /// The namespace.
    pub namespace: String,
    /// The version.
    pub version: i64,
    /// The name recorded when it was applied.
    pub name: String,
    /// The checksum recorded.
    pub checksum: String,
    /// When it was applied (UTC, ISO 8601).
    pub applied_at: String,
}

/// Applied and pending steps of one namespace.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct AppMigrationStatus {
    /// The namespace.
    pub namespace: String,
    /// Steps in the ledger, by version.
    pub applied: Vec<AppliedStep>,
    /// Versions and names of given steps not applied yet.
    pub pending: Vec<(i64, String)>,
}

/// Reads a directory of `NNNN_name.sql` files (other files are ignored): the number is the version,
/// the rest of the stem the name; a line `-- down` starts the `down` section; a line
/// `-- resonance:destructive` declares the step destructive.
pub fn load_dir(dir: &Path) -> Result<Vec<AppMigration>> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io("cannot read", dir, e))?;
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::io("cannot read", dir, e))?;
        let path = entry.path();
        let Some(file) = path.file_name().and_then(|f| f.to_str()) else {
            continue;
        };
        let Some(stem) = file.strip_suffix(".sql") else {
            continue;
        };
        let digits: String = stem.chars().take_while(|c| c.is_ascii_digit()).collect();
        if digits.is_empty() {
            continue;
        }
        let version: i64 = digits.parse().map_err(|_| {
            Error::InvalidArgument(format!("{}: the version number is too large", show(&path)))
        })?;
        let name = stem[digits.len()..]
            .trim_start_matches(['_', '-'])
            .to_string();
        let text =
            std::fs::read_to_string(&path).map_err(|e| Error::io("cannot read", &path, e))?;
        out.push(parse_step(version, name, &text));
    }
    out.sort_by_key(|m| m.version);
    Ok(out)
}

/// A step from the text of its `.sql` file (see [`load_dir`]).
pub fn parse_step(version: i64, name: String, text: &str) -> AppMigration {
    let mut up = String::new();
    let mut down: Option<String> = None;
    let mut destructive = false;
    for line in text.split_inclusive('\n') {
        let t = line.trim();
        if t.eq_ignore_ascii_case(DESTRUCTIVE_MARKER) {
            destructive = true;
            continue;
        }
        if down.is_none() && t.eq_ignore_ascii_case(DOWN_MARKER) {
            down = Some(String::new());
            continue;
        }
        match down.as_mut() {
            Some(d) => d.push_str(line),
            None => up.push_str(line),
        }
    }
    AppMigration {
        version,
        name,
        up,
        down: down.filter(|d| !d.trim().is_empty()),
        destructive,
    }
}

fn check_steps(namespace: &str, steps: &[AppMigration]) -> Result<()> {
    if namespace.is_empty() {
        return Err(Error::InvalidArgument(
            "the migration namespace is empty".into(),
        ));
    }
    let mut seen = BTreeSet::new();
    for s in steps {
        if s.version < 1 {
            return Err(Error::InvalidArgument(format!(
                "step {:?} has version {}: versions start at 1",
                s.name, s.version
            )));
        }
        if !seen.insert(s.version) {
            return Err(Error::InvalidArgument(format!(
                "version {} is given twice in namespace {namespace:?}",
                s.version
            )));
        }
    }
    Ok(())
}

fn ledger_exists(conn: &Connection) -> Result<bool> {
    conn.query_row(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'resonance_app_migrations'",
        [],
        |_| Ok(()),
    )
    .optional()
    .ctx("reading the application migration ledger")
    .map(|r| r.is_some())
}

/// Every namespace's applied steps (empty when the ledger does not exist yet).
pub(crate) fn applied_all(conn: &Connection) -> Result<Vec<AppliedStep>> {
    if !ledger_exists(conn)? {
        return Ok(Vec::new());
    }
    let mut stmt = conn
        .prepare(
            "SELECT namespace, version, name, checksum, applied_at FROM \
             resonance_app_migrations ORDER BY namespace, version",
        )
        .ctx("reading the application migration ledger")?;
    let rows = stmt
        .query_map([], |r| {
            Ok(AppliedStep {
                namespace: r.get(0)?,
                version: r.get(1)?,
                name: r.get(2)?,
                checksum: r.get(3)?,
                applied_at: r.get(4)?,
            })
        })
        .ctx("reading the application migration ledger")?;
    rows.collect::<rusqlite::Result<Vec<_>>>()
        .ctx("reading the application migration ledger")
}

fn applied(conn: &Connection, namespace: &str) -> Result<Vec<AppliedStep>> {
    let mut all = applied_all(conn)?;
    all.retain(|a| a.namespace == namespace);
    Ok(all)
}

/// The plan: steps to run (in order) and applied steps whose text changed.
struct Plan {
    steps: Vec<AppPlannedStep>,
    changed: Vec<(i64, String, String)>,
}

fn plan(
    conn: &Connection,
    namespace: &str,
    steps: &[AppMigration],
    opts: &AppMigrateOptions,
) -> Result<Plan> {
    let done = applied(conn, namespace)?;
    let by_version: BTreeMap<i64, &AppMigration> = steps.iter().map(|s| (s.version, s)).collect();
    let newest_given = steps.iter().map(|s| s.version).max().unwrap_or(0);
    let newest_applied = done.iter().map(|a| a.version).max().unwrap_or(0);
    let mut changed = Vec::new();
    for a in &done {
        match by_version.get(&a.version) {
            None => {
                return Err(Error::SchemaTooNew(format!(
                "namespace {namespace:?}: step {} ({:?}) is applied but not among the steps given \
                     (newest given: {newest_given}); this file was migrated by a newer application",
                a.version, a.name
            )))
            }
            Some(s) => {
                let sum = s.checksum();
                if sum != a.checksum {
                    if !opts.accept_changed {
                        return Err(Error::SchemaTooNew(format!(
                            "namespace {namespace:?}: applied step {} ({:?}) has changed since it was \
                             applied (checksum {} then, {sum} now); restore its text, or accept the \
                             new text explicitly",
                            a.version, s.name, a.checksum
                        )));
                    }
                    changed.push((a.version, s.name.clone(), sum));
                }
            }
        }
    }
    let applied_set: BTreeSet<i64> = done.iter().map(|a| a.version).collect();
    let target = opts.to.unwrap_or(newest_given);
    let mut planned = Vec::new();
    if target >= newest_applied {
        for s in steps.iter().filter(|s| s.version <= target) {
            if applied_set.contains(&s.version) {
                continue;
            }
            if s.version < newest_applied {
                return Err(Error::MigrationFailed(format!(
                    "namespace {namespace:?}: step {} ({:?}) was never applied but step \
                     {newest_applied} was: steps must apply in order (renumber it above \
                     {newest_applied}); nothing was changed",
                    s.version, s.name
                )));
            }
            planned.push(AppPlannedStep {
                version: s.version,
                name: s.name.clone(),
                direction: AppDirection::Up,
                sql: s.up.clone(),
                destructive: s.destructive,
            });
        }
    } else {
        for a in done.iter().rev().filter(|a| a.version > target) {
            let s = by_version[&a.version];
            let Some(down) = &s.down else {
                return Err(Error::MigrationFailed(format!(
                    "namespace {namespace:?}: step {} ({:?}) has no down section, so the file \
                     cannot go back to version {target}; nothing was changed",
                    s.version, s.name
                )));
            };
            planned.push(AppPlannedStep {
                version: s.version,
                name: s.name.clone(),
                direction: AppDirection::Down,
                sql: down.clone(),
                destructive: true,
            });
        }
    }
    Ok(Plan {
        steps: planned,
        changed,
    })
}

/// Every table's column names (for the destructive check).
fn columns(conn: &Connection) -> Result<BTreeMap<String, BTreeSet<String>>> {
    let mut stmt = conn
        .prepare(
            "SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p \
             WHERE m.type = 'table'",
        )
        .ctx("reading the schema")?;
    let rows = stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
        .ctx("reading the schema")?;
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for row in rows {
        let (t, c) = row.ctx("reading the schema")?;
        out.entry(t).or_default().insert(c);
    }
    Ok(out)
}

/// What went away between two schemas: tables and columns.
fn lost(
    before: &BTreeMap<String, BTreeSet<String>>,
    after: &BTreeMap<String, BTreeSet<String>>,
) -> Vec<String> {
    let mut out = Vec::new();
    for (t, cols) in before {
        match after.get(t) {
            None => out.push(format!("table {t:?}")),
            Some(now) => out.extend(
                cols.difference(now)
                    .map(|c| format!("column {c:?} of {t:?}")),
            ),
        }
    }
    out
}

fn now_utc() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

impl Database {
    /// Applies (or, with `dry_run`, plans) the application migrations `steps` of `namespace`
    /// (docs/sql.md). Not inside an explicit transaction: each step is its own `BEGIN IMMEDIATE`.
    pub fn migrate_app(
        &self,
        namespace: &str,
        steps: &[AppMigration],
        opts: &AppMigrateOptions,
    ) -> Result<AppMigrationReport> {
        check_steps(namespace, steps)?;
        if !opts.dry_run {
            self.check_writable("migrate_app")?;
        }
        let retention = self.options().backup_retention_days;
        let path = self.path().to_path_buf();
        self.with_state(|s| {
            if s.tx.is_some() {
                return Err(Error::InvalidArgument(
                    "migrate_app cannot run inside an explicit transaction (each step is its own)"
                        .into(),
                ));
            }
            let (conn, triggers) = (&s.conn, &mut s.triggers);
            let policy = s.policy.clone();
            let first = plan(conn, namespace, steps, opts)?;
            let mut report = AppMigrationReport {
                namespace: namespace.to_string(),
                dry_run: opts.dry_run,
                steps: first.steps.clone(),
                backup: None,
                accepted_changes: first.changed.iter().map(|c| c.0).collect(),
            };
            if opts.dry_run || (first.steps.is_empty() && first.changed.is_empty()) {
                return Ok(report);
            }
            if let Some(step) = first
                .steps
                .iter()
                .find(|s| s.destructive && !opts.allow_destructive)
            {
                return Err(Error::DestructiveRefused(format!(
                    "namespace {namespace:?}: step {} ({:?}, {}) is destructive; allow destructive \
                     steps to run it; nothing was changed",
                    step.version,
                    step.name,
                    if step.direction == AppDirection::Down {
                        "a down step"
                    } else {
                        "declared"
                    }
                )));
            }
            if !opts.no_backup && !first.steps.is_empty() {
                report.backup = Some(crate::backup::auto_backup(
                    conn,
                    &path,
                    &format!("app-{namespace}"),
                    retention,
                )?);
            }
            report.steps.clear();
            // Accepted text changes are recorded first, in their own transaction.
            if !first.changed.is_empty() {
                let tx = TxGuard::begin(conn, "BEGIN IMMEDIATE", "ROLLBACK")
                    .ctx("beginning a migration transaction")?;
                for (version, name, sum) in &first.changed {
                    conn.execute(
                        "UPDATE resonance_app_migrations SET checksum = ?3, name = ?4 \
                         WHERE namespace = ?1 AND version = ?2",
                        rusqlite::params![namespace, version, sum, name],
                    )
                    .ctx("recording an accepted change")?;
                }
                tx.finish("COMMIT").ctx("committing the accepted changes")?;
            }
            // Foreign keys are switched off outside the transactions (inside one the PRAGMA does
            // nothing), checked before each commit, and switched back on whatever happens.
            conn.execute_batch("PRAGMA foreign_keys = OFF")
                .ctx("switching foreign keys off for the migration")?;
            let result = (|| -> Result<()> {
                loop {
                    let tx = TxGuard::begin(conn, "BEGIN IMMEDIATE", "ROLLBACK")
                        .ctx("beginning a migration step")?;
                    triggers.sync(conn, &policy)?;
                    // Re-planned under the lock: another process may have applied steps meanwhile.
                    let now = plan(conn, namespace, steps, opts)?;
                    let Some(step) = now.steps.into_iter().next() else {
                        tx.finish("COMMIT").ctx("ending the migration")?;
                        return Ok(());
                    };
                    if step.destructive && !opts.allow_destructive {
                        return Err(Error::DestructiveRefused(format!(
                            "namespace {namespace:?}: step {} ({:?}) is destructive",
                            step.version, step.name
                        )));
                    }
                    let what = format!(
                        "namespace {namespace:?}, step {} ({:?}, {})",
                        step.version,
                        step.name,
                        if step.direction == AppDirection::Up { "up" } else { "down" }
                    );
                    let before = columns(conn)?;
                    policy.take_touched();
                    crate::sql::run_script(conn, &policy, Mode::AppMigration, &step.sql)
                        .map_err(|e| e.context(&what))
                        .map_err(|e| match e.kind() {
                            crate::ErrorKind::Interrupted | crate::ErrorKind::Busy => e,
                            _ => Error::MigrationFailed(format!("{e}; nothing of this step was kept")),
                        })?;
                    let dropped = policy.take_touched() & TOUCH_DROP != 0;
                    let gone = lost(&before, &columns(conn)?);
                    if !opts.allow_destructive && step.direction == AppDirection::Up && (dropped || !gone.is_empty()) {
                        return Err(Error::DestructiveRefused(format!(
                            "{what} is destructive ({}); allow destructive steps to run it; nothing \
                             of this step was kept",
                            if gone.is_empty() {
                                "it drops a table".to_string()
                            } else {
                                format!("it removes {}", gone.join(", "))
                            }
                        )));
                    }
                    let violations: i64 = conn
                        .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| r.get(0))
                        .ctx("checking foreign keys")?;
                    if violations > 0 {
                        return Err(Error::Constraint(format!(
                            "{what} leaves {violations} row(s) whose foreign keys point nowhere; \
                             nothing of this step was kept"
                        )));
                    }
                    conn.execute_batch(LEDGER_DDL)
                        .ctx("creating the application migration ledger")?;
                    match step.direction {
                        AppDirection::Up => {
                            let s = steps.iter().find(|s| s.version == step.version).expect("planned from steps");
                            conn.execute(
                                "INSERT INTO resonance_app_migrations \
                                 (namespace, version, name, checksum, applied_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                                rusqlite::params![namespace, step.version, step.name, s.checksum(), now_utc()],
                            )
                            .ctx("recording the step")?;
                        }
                        AppDirection::Down => {
                            conn.execute(
                                "DELETE FROM resonance_app_migrations WHERE namespace = ?1 AND version = ?2",
                                rusqlite::params![namespace, step.version],
                            )
                            .ctx("recording the undone step")?;
                        }
                    }
                    tx.finish("COMMIT").ctx("committing the step")?;
                    report.steps.push(step);
                }
            })();
            let restore = conn.execute_batch("PRAGMA foreign_keys = ON");
            // The application's tables may have changed: compiled statements and caches start over.
            s.cache.invalidate();
            result?;
            restore.ctx("switching foreign keys back on")?;
            Ok(report)
        })
    }

    /// Applied steps of `namespace` (from the ledger) and which of `steps` are pending.
    pub fn app_migration_status(
        &self,
        namespace: &str,
        steps: &[AppMigration],
    ) -> Result<AppMigrationStatus> {
        check_steps(namespace, steps)?;
        self.with_state(|s| {
            let done = applied(&s.conn, namespace)?;
            let applied_set: BTreeSet<i64> = done.iter().map(|a| a.version).collect();
            Ok(AppMigrationStatus {
                namespace: namespace.to_string(),
                pending: steps
                    .iter()
                    .filter(|s| !applied_set.contains(&s.version))
                    .map(|s| (s.version, s.name.clone()))
                    .collect(),
                applied: done,
            })
        })
    }

    /// Every namespace in the ledger with its applied steps.
    pub fn app_migrations_applied(&self) -> Result<Vec<AppliedStep>> {
        self.with_state(|s| applied_all(&s.conn))
    }
}
