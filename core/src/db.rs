//! The engine handle, [`Database`]: one hardened connection behind a lock, the per-handle caches, the
//! open flow (connect → recognise → WAL → migrate) and close.
//!
//! Store, vector and graph operations are `impl Database` blocks in their own modules; this module owns
//! only the handle's life cycle and the lock discipline (no lock held across slow pure computation).

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use rusqlite::{Connection, TransactionBehavior};

use crate::connection::{self, OpenOptions};
use crate::error::{show, Error, Result};
use crate::health::{self, HealthReport};
use crate::migrate::{self, MigrateOptions, MigrationReport};

/// State of an open handle (the `Option` around it is `None` once closed).
pub(crate) struct State {
    /// The hardened connection.
    pub conn: Connection,
    /// Caches kept in step with this handle's writes and with `PRAGMA data_version`.
    pub cache: crate::cache::Caches,
}

/// An open Resonance database. `Send + Sync`: share it between threads; calls are serialised on an
/// internal lock except the pure computation of search and graph analytics, which runs outside it.
pub struct Database {
    path: PathBuf,
    read_only: bool,
    options: OpenOptions,
    warnings: Vec<String>,
    state: Mutex<Option<State>>,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database")
            .field("path", &self.path)
            .field("read_only", &self.read_only)
            .finish()
    }
}

impl Database {
    /// Opens (creating if needed) the database at `path` with default options.
    pub fn open(path: impl AsRef<Path>) -> Result<Database> {
        Database::open_with(path, OpenOptions::default())
    }

    /// Opens the database at `path`: the hardening canon, recognition of its shape (an unknown one is
    /// refused before anything is written), WAL, then adoption and migrations when `options.migrate`.
    /// A read-only handle needs an existing WAL database at the current schema.
    pub fn open_with(path: impl AsRef<Path>, options: OpenOptions) -> Result<Database> {
        let path = path.as_ref().to_path_buf();
        if path.as_os_str().is_empty() {
            return Err(Error::InvalidArgument("the database path is empty".into()));
        }
        let mut warnings = Vec::new();
        let conn = if options.read_only {
            let conn = connection::open_read_only(&path, &options)?;
            match migrate::plan(&conn) {
                Ok(plan) if !plan.is_empty() => {
                    let ids: Vec<&str> = plan.steps.iter().map(|s| s.id.as_str()).collect();
                    return Err(Error::Readonly(format!(
                        "cannot open {} read-only: it needs migration ({}); open it read-write once to migrate",
                        show(&path),
                        ids.join(", ")
                    )));
                }
                Ok(plan) => warnings.extend(plan.warnings),
                // A database ahead of this library is refused for writing only.
                Err(e) if e.kind() == crate::ErrorKind::SchemaTooNew => {
                    warnings.push(e.to_string())
                }
                Err(e) => return Err(e),
            }
            conn
        } else {
            let mut conn = connection::open_read_write(&path, &options)?;
            // Recognise first: an unknown or too-new file is refused byte-identical.
            let plan = migrate::plan(&conn)?;
            connection::ensure_wal(&conn, &path)?;
            if options.migrate {
                let report = migrate::migrate(
                    &mut conn,
                    &path,
                    &MigrateOptions {
                        dry_run: false,
                        allow_destructive: options.allow_destructive,
                        backup: options.backup,
                        backup_retention_days: options.backup_retention_days,
                    },
                )?;
                warnings.extend(report.warnings);
            } else if !plan.is_empty() {
                warnings.push(format!(
                    "{} migration step(s) pending (opened with migrate = false)",
                    plan.steps.len()
                ));
                warnings.extend(plan.warnings);
            } else {
                warnings.extend(plan.warnings);
            }
            conn.set_transaction_behavior(TransactionBehavior::Immediate);
            conn
        };
        let cache = crate::cache::Caches::default();
        Ok(Database {
            path,
            read_only: options.read_only,
            options,
            warnings,
            state: Mutex::new(Some(State { conn, cache })),
        })
    }

    /// The database path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether this is a read-only handle.
    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    /// The options the handle was opened with.
    pub fn options(&self) -> &OpenOptions {
        &self.options
    }

    /// Warnings from opening (a newer application, pending steps, a stray table…).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Whether [`Database::close`] was called.
    pub fn is_closed(&self) -> bool {
        self.lock().is_none()
    }

    fn lock(&self) -> MutexGuard<'_, Option<State>> {
        // A panic inside a call already rolled its transaction back (Drop); the state stays usable.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `f` with the open state, or fails with `closed`.
    pub(crate) fn with_state<T>(&self, f: impl FnOnce(&mut State) -> Result<T>) -> Result<T> {
        let mut guard = self.lock();
        let state = guard.as_mut().ok_or(Error::Closed)?;
        f(state)
    }

    /// Fails with `readonly` on a read-only handle (before any SQL runs).
    pub(crate) fn check_writable(&self, what: &str) -> Result<()> {
        if self.read_only {
            return Err(Error::Readonly(format!(
                "{what}: {} was opened read-only",
                show(&self.path)
            )));
        }
        Ok(())
    }

    /// Closes the handle: runs `PRAGMA optimize`, closes the connection. Idempotent; a call running
    /// on another thread finishes first; later calls fail with `closed`.
    pub fn close(&self) -> Result<()> {
        let state = self.lock().take();
        if let Some(state) = state {
            if !self.read_only {
                let _ = state.conn.execute_batch("PRAGMA optimize");
            }
            state
                .conn
                .close()
                .map_err(|(_, e)| Error::sqlite(e, format!("closing {}", show(&self.path))))?;
        }
        Ok(())
    }

    /// The health report (design §3).
    pub fn health(&self) -> Result<HealthReport> {
        let path = show(&self.path);
        self.with_state(|s| health::report(&mut s.conn, &path, self.read_only))
    }

    /// Plans or applies migrations explicitly (a dry run changes nothing).
    pub fn migrate(&self, opts: &MigrateOptions) -> Result<MigrationReport> {
        if !opts.dry_run {
            self.check_writable("migrate")?;
        }
        self.with_state(|s| {
            let report = migrate::migrate(&mut s.conn, &self.path, opts)?;
            if !report.dry_run && !report.steps.is_empty() {
                s.cache.invalidate();
            }
            Ok(report)
        })
    }

    /// Backs the database up: to `dest`, or into `backups/` beside it when `None`. Returns the path.
    pub fn backup(&self, dest: Option<&Path>) -> Result<PathBuf> {
        self.with_state(|s| match dest {
            Some(d) => crate::backup::backup_to(&s.conn, d).map(|()| d.to_path_buf()),
            None => crate::backup::auto_backup(
                &s.conn,
                &self.path,
                "manual",
                self.options.backup_retention_days,
            ),
        })
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        let _ = self.close();
    }
}
