//! The engine handle, [`Database`]: one hardened connection behind a lock, the per-handle caches, the
//! open flow (connect → recognise → WAL → migrate) and close.
//!
//! Store, vector and graph operations are `impl Database` blocks in their own modules; this module owns
//! only the handle's life cycle and the lock discipline (no lock held across slow pure computation).

use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::thread::ThreadId;
use std::time::{Duration, Instant};

use rusqlite::{Connection, TransactionBehavior};

use crate::cache::{Caches, Pending};

use crate::connection::{self, OpenOptions};
use crate::error::{show, Error, Result};
use crate::health::{self, HealthReport};
use crate::migrate::{self, MigrateOptions, MigrationReport};

/// State of an open handle (the `Option` around it is `None` once closed).
pub(crate) struct State {
    /// The hardened connection.
    pub conn: Connection,
    /// Caches kept in step with this handle's writes and with `PRAGMA data_version`.
    pub cache: Caches,
    /// The explicit transaction open on this handle, if any.
    pub tx: Option<TxState>,
}

/// An explicit transaction: the thread that began it.
pub(crate) struct TxState {
    owner: ThreadId,
}

/// An open Resonance database. `Send + Sync`: share it between threads; calls are serialised on an
/// internal lock except the pure computation of search and graph analytics, which runs outside it.
pub struct Database {
    path: PathBuf,
    read_only: bool,
    options: OpenOptions,
    warnings: Vec<String>,
    state: Mutex<Option<State>>,
    /// Signalled when an explicit transaction ends (other threads wait for it).
    tx_done: Condvar,
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
        connection::check_path(&path, "database path")?;
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
            connection::ensure_wal(&conn, &path, options.busy_timeout_ms)?;
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
        Ok(Database {
            path,
            read_only: options.read_only,
            options,
            warnings,
            state: Mutex::new(Some(State {
                conn,
                cache: Caches::default(),
                tx: None,
            })),
            tx_done: Condvar::new(),
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

    /// Locks the open state, waiting (up to the busy timeout) while another thread holds an explicit
    /// transaction on this handle; fails with `closed` once closed.
    fn lock_open(&self) -> Result<MutexGuard<'_, Option<State>>> {
        let mut guard = self.lock();
        // The clock is read only when another thread's transaction makes this call wait.
        let mut deadline = None;
        loop {
            match guard.as_ref() {
                None => return Err(Error::Closed),
                Some(State { tx: Some(tx), .. }) if tx.owner != std::thread::current().id() => {
                    let now = Instant::now();
                    let deadline = *deadline.get_or_insert_with(|| {
                        now + Duration::from_millis(u64::from(self.options.busy_timeout_ms))
                    });
                    if now >= deadline {
                        return Err(Error::Busy(format!(
                            "a transaction begun on another thread holds {} for longer than the busy timeout \
                             (an async binding call runs on a worker thread: it waits for the caller's own \
                             transaction too)",
                            show(&self.path)
                        )));
                    }
                    guard = self
                        .tx_done
                        .wait_timeout(guard, deadline - now)
                        .unwrap_or_else(|p| p.into_inner())
                        .0;
                }
                Some(_) => return Ok(guard),
            }
        }
    }

    /// Runs `f` with the open state, or fails with `closed`.
    pub(crate) fn with_state<T>(&self, f: impl FnOnce(&mut State) -> Result<T>) -> Result<T> {
        let mut guard = self.lock_open()?;
        let state = guard.as_mut().ok_or(Error::Closed)?;
        f(state)
    }

    /// Runs a write: inside the handle's explicit transaction (as a savepoint, so a failed write
    /// leaves the transaction as it was) or in its own `BEGIN IMMEDIATE` transaction. The caches follow
    /// once the change commits.
    pub(crate) fn write<T>(
        &self,
        what: &str,
        f: impl FnOnce(&Connection, &mut Pending, &mut Caches) -> Result<T>,
    ) -> Result<T> {
        self.check_writable(what)?;
        self.with_state(|s| {
            s.cache.refresh(&s.conn)?;
            let mut pending = Pending {
                track_vectors: s.cache.vectors.is_some(),
                ..Default::default()
            };
            if s.tx.is_some() {
                s.conn
                    .execute_batch("SAVEPOINT resonance_op")
                    .map_err(|e| Error::sqlite(e, what))?;
                match f(&s.conn, &mut pending, &mut s.cache) {
                    Ok(v) => {
                        s.conn
                            .execute_batch("RELEASE resonance_op")
                            .map_err(|e| Error::sqlite(e, what))?;
                        // This connection reads its own uncommitted rows: the caches follow them
                        // at once, so search and graph calls inside the transaction see its writes.
                        // A rollback, or a COMMIT that fails, drops the caches.
                        s.cache.apply(pending);
                        Ok(v)
                    }
                    Err(e) => {
                        let _ = s
                            .conn
                            .execute_batch("ROLLBACK TO resonance_op; RELEASE resonance_op");
                        Err(e)
                    }
                }
            } else {
                let cache = &mut s.cache;
                let v = connection::write_tx(&mut s.conn, what, |tx| f(tx, &mut pending, cache))?;
                s.cache.apply(pending);
                Ok(v)
            }
        })
    }

    /// Runs `f` (a load of several statements: the graph snapshot, the vector matrix) in one read
    /// transaction, so it sees one database state even while other connections commit. Inside an
    /// explicit transaction it simply runs there.
    pub(crate) fn read_consistent<T>(
        conn: &Connection,
        f: impl FnOnce(&Connection) -> Result<T>,
    ) -> Result<T> {
        if !conn.is_autocommit() {
            return f(conn);
        }
        conn.execute_batch("BEGIN DEFERRED")
            .map_err(|e| Error::sqlite(e, "beginning a read transaction"))?;
        let out = f(conn);
        let end = conn.execute_batch(if out.is_ok() { "COMMIT" } else { "ROLLBACK" });
        let out = out?;
        end.map_err(|e| Error::sqlite(e, "ending a read transaction"))?;
        Ok(out)
    }

    /// Begins an explicit `BEGIN IMMEDIATE` transaction on this handle. Until [`Database::commit`] or
    /// [`Database::rollback`], this thread's writes join it and other threads' calls wait.
    pub fn begin(&self) -> Result<()> {
        self.check_writable("begin")?;
        self.with_state(|s| {
            if s.tx.is_some() {
                return Err(Error::InvalidArgument(
                    "a transaction is already open on this handle".into(),
                ));
            }
            s.cache.refresh(&s.conn)?;
            s.conn
                .execute_batch("BEGIN IMMEDIATE")
                .map_err(|e| Error::sqlite(e, "beginning a transaction"))?;
            s.tx = Some(TxState {
                owner: std::thread::current().id(),
            });
            Ok(())
        })
    }

    /// Commits the explicit transaction.
    pub fn commit(&self) -> Result<()> {
        let r = self.with_state(|s| {
            if s.tx.take().is_none() {
                return Err(Error::InvalidArgument(
                    "no transaction is open on this handle".into(),
                ));
            }
            match s.conn.execute_batch("COMMIT") {
                // The caches already hold the transaction's writes (see `write`).
                Ok(()) => Ok(()),
                Err(e) => {
                    // The caches may hold rows that are now gone.
                    s.cache.invalidate();
                    let _ = s.conn.execute_batch("ROLLBACK");
                    Err(Error::sqlite(e, "committing the transaction (rolled back)"))
                }
            }
        });
        self.tx_done.notify_all();
        r
    }

    /// Rolls the explicit transaction back.
    pub fn rollback(&self) -> Result<()> {
        let r = self.with_state(|s| {
            if s.tx.take().is_none() {
                return Err(Error::InvalidArgument(
                    "no transaction is open on this handle".into(),
                ));
            }
            // A search or graph call inside the transaction may have cached rows that are now gone.
            s.cache.invalidate();
            s.conn
                .execute_batch("ROLLBACK")
                .map_err(|e| Error::sqlite(e, "rolling back"))
        });
        self.tx_done.notify_all();
        r
    }

    /// Whether an explicit transaction is open.
    pub fn in_transaction(&self) -> bool {
        self.lock().as_ref().is_some_and(|s| s.tx.is_some())
    }

    /// Runs `f` in one `BEGIN IMMEDIATE` transaction: commit when it returns `Ok`, rollback when it
    /// returns `Err` or panics (the panic then continues).
    pub fn transaction<T>(&self, f: impl FnOnce(&Database) -> Result<T>) -> Result<T> {
        self.begin()?;
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(self))) {
            Ok(Ok(v)) => {
                self.commit()?;
                Ok(v)
            }
            Ok(Err(e)) => {
                let _ = self.rollback();
                Err(e)
            }
            Err(panic) => {
                let _ = self.rollback();
                std::panic::resume_unwind(panic)
            }
        }
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
        self.tx_done.notify_all();
        if let Some(mut state) = state {
            if state.tx.take().is_some() {
                let _ = state.conn.execute_batch("ROLLBACK");
            }
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
