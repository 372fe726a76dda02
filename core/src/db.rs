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

use crate::authorizer::Policy;
use crate::cache::{Caches, Pending};
use crate::sql::SqlState;
use crate::triggers::TriggerSwitch;

use crate::connection::{self, OpenOptions};
use crate::error::{show, Error, Result};
use crate::fork;
use crate::health::{self, HealthReport};
use crate::migrate::{self, MigrateOptions, MigrationReport};

/// State of an open handle (the `Option` around it is `None` once closed).
pub(crate) struct State {
    /// The compiled statements of application `PreparedSql`s: first, so that they are finalized
    /// before the connection closes whenever the state is dropped.
    pub owned: crate::sql::Owned,
    /// The hardened connection.
    pub conn: Connection,
    /// Caches kept in step with this handle's writes and with `PRAGMA data_version`.
    pub cache: Caches,
    /// The explicit transaction open on this handle, if any.
    pub tx: Option<TxState>,
    /// The authorizer's state: who is compiling (engine or application SQL), what it may do.
    pub policy: std::sync::Arc<Policy>,
    /// Application SQL's statement bookkeeping.
    pub sql: SqlState,
    /// SQLite's trigger switch (`triggers`): synced at the start of every write transaction.
    pub triggers: TriggerSwitch,
}

/// An explicit transaction: the thread that began it.
pub(crate) struct TxState {
    owner: ThreadId,
}

/// A transaction or savepoint the engine began by hand (`BEGIN`, `SAVEPOINT`). Dropped without
/// [`TxGuard::finish`] — an error returned with `?`, or a panic unwinding through the call — it runs
/// its rollback, so no path leaves the connection inside a transaction it did not mean to keep (a
/// frozen view, failing writes, a held write lock).
pub(crate) struct TxGuard<'c> {
    conn: &'c Connection,
    rollback: &'static str,
    armed: bool,
}

impl<'c> TxGuard<'c> {
    pub(crate) fn begin(
        conn: &'c Connection,
        sql: &str,
        rollback: &'static str,
    ) -> rusqlite::Result<TxGuard<'c>> {
        conn.execute_batch(sql)?;
        Ok(TxGuard {
            conn,
            rollback,
            armed: true,
        })
    }

    /// Leaves it open (the explicit transaction's `commit`/`rollback` ends it).
    pub(crate) fn keep(mut self) {
        self.armed = false;
    }

    /// Ends it with `sql` (`COMMIT`, `RELEASE …`); if that fails, the rollback still runs.
    pub(crate) fn finish(mut self, sql: &str) -> rusqlite::Result<()> {
        let r = self.conn.execute_batch(sql);
        self.armed = r.is_err();
        r
    }
}

impl Drop for TxGuard<'_> {
    fn drop(&mut self) {
        if self.armed {
            let _ = self.conn.execute_batch(self.rollback);
        }
    }
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
    /// The identity of the database, `-wal` and `-shm` files when the handle opened (see
    /// `check_sidecars`).
    sidecars: [Option<(u64, u64)>; 3],
    /// The fork generation the handle was opened in: a forked child's copy refuses every call (its
    /// connection, locks and `-shm` mapping belong to the parent) and never closes it.
    generation: u64,
    /// The process that opened the handle (named by the `closed` error of a forked child's copy).
    opened_by: u32,
    /// What `interrupt()` bumps (see `cancel`); every call runs in its scope.
    pub(crate) interrupt: std::sync::Arc<crate::cancel::HandleInterrupt>,
    /// Application `PreparedSql`s dropped since the last call (their statements are finalized under
    /// the lock); also what ties a `PreparedSql` to this handle.
    pub(crate) released: std::sync::Arc<crate::sql::Released>,
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
    /// Every statement of the open runs under the `options.open_timeout_ms` limit.
    pub fn open_with(path: impl AsRef<Path>, options: OpenOptions) -> Result<Database> {
        let path = path.as_ref();
        crate::cancel::open_deadline(path, options.open_timeout_ms, || {
            let db = Database::open_flow(path, options)?;
            if !db.read_only {
                for set in &db.options.app_migrations {
                    db.migrate_app(
                        &set.namespace,
                        &set.steps,
                        &crate::AppMigrateOptions {
                            allow_destructive: db.options.allow_destructive,
                            no_backup: !db.options.backup,
                            ..Default::default()
                        },
                    )?;
                }
            }
            Ok(db)
        })
    }

    fn open_flow(path: &Path, options: OpenOptions) -> Result<Database> {
        let path = path.to_path_buf();
        connection::check_path(&path, "database path")?;
        // Opening uses SQLite throughout (and may migrate): inside the fork gate.
        let _gate = fork::enter()?;
        let mut warnings = Vec::new();
        // Application SQL compiles under the authorizer; the engine's own statements in its engine
        // mode, which is where it starts (docs/sql.md).
        let policy = Policy::new(options.allow_engine_writes);
        let conn = if options.read_only {
            let conn = connection::open_read_only(&path, &options, &policy)?;
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
            let mut conn = connection::open_read_write(&path, &options, &policy)?;
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
                        backup_retention_days: Some(options.backup_retention_days),
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
        // Triggers fire from now on (the application's; never one on an engine table): see `triggers`.
        let mut triggers = TriggerSwitch::default();
        if !options.read_only {
            triggers.sync(&conn, &policy)?;
        }
        conn.set_prepared_statement_cache_capacity(options.statement_cache_size);
        Ok(Database {
            read_only: options.read_only,
            options,
            warnings,
            interrupt: crate::cancel::HandleInterrupt::new(&conn),
            released: Default::default(),
            state: Mutex::new(Some(State {
                owned: Default::default(),
                conn,
                cache: Caches::default(),
                tx: None,
                policy,
                sql: SqlState::default(),
                triggers,
            })),
            tx_done: Condvar::new(),
            generation: fork::generation(),
            opened_by: std::process::id(),
            sidecars: [
                connection::file_id(&path),
                connection::file_id(&connection::wal_path(&path)),
                connection::file_id(&connection::shm_path(&path)),
            ],
            path,
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

    /// Whether [`Database::close`] was called (always true in a forked child: see [`Database::close`]).
    pub fn is_closed(&self) -> bool {
        self.inherited() || self.lock().is_none()
    }

    /// `closed` once [`Database::close`] was called: the first check of a call that could otherwise
    /// answer without touching the connection (an empty batch, a bad argument).
    pub(crate) fn check_open(&self) -> Result<()> {
        self.refuse_inherited()?;
        if self.is_closed() {
            return Err(Error::Closed(String::new()));
        }
        Ok(())
    }

    /// Whether this is a forked child's copy of a parent's handle.
    pub(crate) fn inherited(&self) -> bool {
        self.generation != fork::generation()
    }

    /// `closed`, naming the fork, when this is a forked child's copy of a parent's handle.
    fn refuse_inherited(&self) -> Result<()> {
        if !self.inherited() {
            return Ok(());
        }
        Err(Error::Closed(format!(
            "this handle of {} was opened by process {} and cannot be used after fork() (this is \
             process {}): open the database again in this process",
            show(&self.path),
            self.opened_by,
            std::process::id()
        )))
    }

    fn lock(&self) -> MutexGuard<'_, Option<State>> {
        // A panic inside a call already rolled its transaction or savepoint back (the guards' Drop);
        // the connection stays usable. The caches may hold half of the panicking call's changes, so
        // they are dropped (and reloaded on demand).
        self.state.lock().unwrap_or_else(|p| {
            let mut guard = p.into_inner();
            if let Some(s) = guard.as_mut() {
                s.cache.invalidate();
            }
            self.state.clear_poison();
            guard
        })
    }

    /// Locks the open state, waiting (up to the busy timeout) while another thread holds an explicit
    /// transaction on this handle; fails with `closed` once closed.
    fn lock_open(&self) -> Result<MutexGuard<'_, Option<State>>> {
        let mut guard = self.lock();
        // The clock is read only when another thread's transaction makes this call wait.
        let mut deadline = None;
        loop {
            match guard.as_ref() {
                None => return Err(Error::Closed(String::new())),
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

    /// Runs `f` with the open state, or fails with `closed` (also in a forked child). The call is
    /// inside the fork gate, entered before the handle's lock is taken and left after it is released.
    pub(crate) fn with_state<T>(&self, f: impl FnOnce(&mut State) -> Result<T>) -> Result<T> {
        self.refuse_inherited()?;
        let _gate = fork::enter()?;
        self.call(|| {
            let mut guard = self.lock_open()?;
            let state = guard.as_mut().ok_or(Error::Closed(String::new()))?;
            f(state)
        })
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
                // Rolled back to on an error or a panic, so the explicit transaction is left as it was.
                let sp = TxGuard::begin(
                    &s.conn,
                    "SAVEPOINT resonance_op",
                    "ROLLBACK TO resonance_op; RELEASE resonance_op",
                )
                .map_err(|e| Error::sqlite(e, what))?;
                let v = f(&s.conn, &mut pending, &mut s.cache)?;
                sp.finish("RELEASE resonance_op")
                    .map_err(|e| Error::sqlite(e, what))?;
                // This connection reads its own uncommitted rows: the caches follow them at once, so
                // search and graph calls inside the transaction see its writes. A rollback, or a
                // COMMIT that fails, drops the caches.
                s.cache.apply(pending);
                Ok(v)
            } else {
                let (cache, triggers, policy) = (&mut s.cache, &mut s.triggers, &s.policy);
                let v = connection::write_tx(&mut s.conn, what, |tx| {
                    triggers.sync(tx, policy)?;
                    f(tx, &mut pending, cache)
                })?;
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
        let tx = TxGuard::begin(conn, "BEGIN DEFERRED", "ROLLBACK")
            .map_err(|e| Error::sqlite(e, "beginning a read transaction"))?;
        let out = f(conn)?;
        tx.finish("COMMIT")
            .map_err(|e| Error::sqlite(e, "ending a read transaction"))?;
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
            let tx = TxGuard::begin(&s.conn, "BEGIN IMMEDIATE", "ROLLBACK")
                .map_err(|e| Error::sqlite(e, "beginning a transaction"))?;
            s.triggers.sync(&s.conn, &s.policy)?;
            tx.keep();
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
        !self.inherited() && self.lock().as_ref().is_some_and(|s| s.tx.is_some())
    }

    /// Whether an explicit transaction begun on the calling thread is open. Work that must join it
    /// has to run on this thread: a call made from another thread waits for it to end (a binding that
    /// moves long calls onto a worker thread, e.g. to watch for Ctrl-C, checks this first).
    pub fn owns_transaction(&self) -> bool {
        !self.inherited()
            && self.lock().as_ref().is_some_and(|s| {
                s.tx.as_ref()
                    .is_some_and(|tx| tx.owner == std::thread::current().id())
            })
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

    /// Fails with `readonly` on a read-only handle (before any SQL runs), and with `corrupt` when
    /// the `-wal` or `-shm` file was deleted or replaced under the handle (see `check_sidecars`).
    pub(crate) fn check_writable(&self, what: &str) -> Result<()> {
        if self.read_only {
            return Err(Error::Readonly(format!(
                "{what}: {} was opened read-only",
                show(&self.path)
            )));
        }
        self.check_sidecars(what)
    }

    /// While any connection has a WAL database open, its `-wal` and `-shm` files keep their identity
    /// (only the last connection to close removes them). A different inode, or none, means someone
    /// deleted or replaced them under this handle: its commits then live in a file no new connection
    /// will read, and writing on would split the database in two. Refused before the write
    /// (`stat` only, once per write transaction).
    ///
    /// The database file itself renamed, deleted or replaced: SQLite's rollback-journal mode would
    /// answer `SQLITE_READONLY_DBMOVED`, but in WAL mode it writes on into the `-wal` under the old
    /// name, which a new file created there would then pair with. Refused with `readonly`.
    fn check_sidecars(&self, what: &str) -> Result<()> {
        if let Some(known) = &self.sidecars[0] {
            if connection::file_id(&self.path).as_ref() != Some(known) {
                return Err(Error::Readonly(format!(
                    "{what}: {} was renamed, deleted or replaced while this handle had it open; \
                     close the handle and open the database where it now is",
                    show(&self.path)
                )));
            }
        }
        let names = [
            connection::wal_path(&self.path),
            connection::shm_path(&self.path),
        ];
        for (known, name) in self.sidecars[1..].iter().zip(&names) {
            if let Some(known) = known {
                if connection::file_id(name).as_ref() != Some(known) {
                    return Err(Error::Corrupt(format!(
                        "{what}: {} was deleted or replaced while this handle had it open; \
                         commits made through it are not in the new file. Stop writing, close \
                         every handle on {} and check the database (health)",
                        show(name),
                        show(&self.path)
                    )));
                }
            }
        }
        Ok(())
    }

    /// Closes the handle: runs `PRAGMA optimize`, closes the connection. Idempotent; a call running
    /// on another thread finishes first; later calls fail with `closed`. In a forked child, a handle
    /// the parent opened fails with `closed` and is left alone (dropping it leaks its connection:
    /// closing it would checkpoint and unlock files the parent is using).
    pub fn close(&self) -> Result<()> {
        self.refuse_inherited()?;
        let _gate = fork::enter()?;
        let state = self.lock().take();
        self.tx_done.notify_all();
        if let Some(mut state) = state {
            if state.tx.take().is_some() {
                let _ = state.conn.execute_batch("ROLLBACK");
            }
            if !self.read_only {
                let _ = state.conn.execute_batch("PRAGMA optimize");
            }
            state.owned.finalize_all();
            state
                .conn
                .close()
                .map_err(|(_, e)| Error::sqlite(e, format!("closing {}", show(&self.path))))?;
        }
        Ok(())
    }

    /// The health report (docs/connections.md).
    pub fn health(&self) -> Result<HealthReport> {
        let path = show(&self.path);
        let mut report = self.with_state(|s| health::report(&mut s.conn, &path, self.read_only))?;
        report.external_replicator = self.options.external_replicator;
        report.stats = match self.validate_stats(&Default::default()) {
            Ok(v) => v,
            Err(e) => crate::stats_history::StatsValidation {
                errors: vec![crate::stats_history::StatsFinding {
                    code: "stats_unreadable".into(),
                    message: format!("[{}] {e}", e.code()),
                }],
                ..Default::default()
            },
        };
        Ok(report)
    }

    /// Plans or applies migrations explicitly (a dry run changes nothing). A retention left `None`
    /// is the handle's own ([`OpenOptions::backup_retention_days`]).
    pub fn migrate(&self, opts: &MigrateOptions) -> Result<MigrationReport> {
        if !opts.dry_run {
            self.check_writable("migrate")?;
        }
        let opts = MigrateOptions {
            backup_retention_days: Some(
                opts.backup_retention_days
                    .unwrap_or(self.options.backup_retention_days),
            ),
            ..opts.clone()
        };
        self.with_state(|s| {
            let report = migrate::migrate(&mut s.conn, &self.path, &opts)?;
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
        if self.inherited() {
            // No lock taken: `get_mut` needs none (the parent's threads do not exist here).
            let state = self.state.get_mut().unwrap_or_else(|p| p.into_inner());
            std::mem::forget(state.take());
            return;
        }
        let _ = self.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::NodeInput;
    use std::panic::{catch_unwind, AssertUnwindSafe};

    /// Another connection to `path` that gives up at once when locked (no busy wait).
    fn impatient(path: &Path) -> Connection {
        let c = Connection::open(path).unwrap();
        c.busy_timeout(Duration::ZERO).unwrap();
        c
    }

    fn quiet<R>(f: impl FnOnce() -> R) -> std::thread::Result<R> {
        catch_unwind(AssertUnwindSafe(f))
    }

    #[test]
    fn a_panic_inside_read_consistent_ends_the_read_transaction() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.db");
        let db = Database::open(&path).unwrap();
        db.upsert_node(&NodeInput::new("n1")).unwrap();
        let panicked = db
            .with_state(|s| {
                Ok(quiet(|| {
                    Database::read_consistent(&s.conn, |c| -> Result<()> {
                        let n: i64 = c
                            .query_row("SELECT count(*) FROM nodes", [], |r| r.get(0))
                            .unwrap();
                        assert_eq!(n, 1);
                        panic!("inside a read transaction");
                    })
                })
                .is_err())
            })
            .unwrap();
        assert!(panicked);
        assert!(
            db.with_state(|s| Ok(s.conn.is_autocommit())).unwrap(),
            "the read transaction was left open by the panic"
        );
        // Another connection writes at once, this handle sees it and writes too.
        let other = impatient(&path);
        other
            .execute("INSERT INTO nodes (id) VALUES ('from-other')", [])
            .unwrap();
        assert!(db.get_node("from-other").unwrap().is_some(), "view frozen");
        db.upsert_node(&NodeInput::new("n2")).unwrap();
        other.execute_batch("BEGIN IMMEDIATE; COMMIT").unwrap();
    }

    #[test]
    fn a_panic_inside_a_write_in_an_explicit_transaction_rolls_its_savepoint_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.db");
        let db = Database::open(&path).unwrap();
        db.begin().unwrap();
        db.upsert_node(&NodeInput::new("kept")).unwrap();
        let r = quiet(|| {
            db.write("a panicking write", |conn, _, _| -> Result<()> {
                conn.execute("INSERT INTO nodes (id) VALUES ('half-done')", [])
                    .unwrap();
                panic!("inside the savepoint");
            })
        });
        assert!(r.is_err());
        assert!(db.in_transaction(), "the explicit transaction stays open");
        assert!(db.get_node("half-done").unwrap().is_none());
        db.commit().unwrap();
        assert!(db.with_state(|s| Ok(s.conn.is_autocommit())).unwrap());
        assert!(db.get_node("kept").unwrap().is_some());
        assert!(
            db.get_node("half-done").unwrap().is_none(),
            "the panicking write's savepoint was committed with the transaction"
        );
        let other = impatient(&path);
        other
            .execute_batch("BEGIN IMMEDIATE; INSERT INTO nodes (id) VALUES ('other'); COMMIT")
            .unwrap();
    }

    #[test]
    fn a_panic_inside_a_write_of_its_own_releases_the_write_lock() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.db");
        let db = Database::open(&path).unwrap();
        let r = quiet(|| {
            db.write("a panicking write", |conn, _, _| -> Result<()> {
                conn.execute("INSERT INTO nodes (id) VALUES ('half-done')", [])
                    .unwrap();
                panic!("inside BEGIN IMMEDIATE");
            })
        });
        assert!(r.is_err());
        assert!(db.with_state(|s| Ok(s.conn.is_autocommit())).unwrap());
        impatient(&path)
            .execute_batch("BEGIN IMMEDIATE; INSERT INTO nodes (id) VALUES ('other'); COMMIT")
            .unwrap();
        assert!(db.get_node("half-done").unwrap().is_none());
        assert!(db.get_node("other").unwrap().is_some());
        db.upsert_node(&NodeInput::new("after")).unwrap();
    }
}
