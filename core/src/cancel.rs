//! Cooperative cancellation: [`CancelToken`], the per-handle interrupt of [`Database::interrupt`]
//! and the checks the engine's long loops and SQLite's progress handler make.
//!
//! A call runs under zero or more *stop sources*, kept in a thread-local stack for the call's
//! duration:
//! * a [`CancelToken`] installed with [`CancelToken::scope`] (a binding's Ctrl-C or AbortSignal,
//!   or any Rust caller that wants to stop a call from another thread);
//! * the handle's interrupt epoch, installed by every `Database` call: [`Database::interrupt`]
//!   bumps the epoch, so a call that began before it stops and a call that begins after it runs;
//! * a deadline (opening a file bounds its statements in time).
//!
//! [`check`] fails with [`Error::Interrupted`] once any source on the calling thread fired; the
//! SQLite progress handler installed on every engine connection asks the same question every few
//! thousand virtual-machine steps, so a long statement stops with `SQLITE_INTERRUPT`, which maps to
//! the same kind. Work handed to rayon captures the sources first ([`Context::current`]) and checks
//! the captured [`Context`] on the workers, where the thread-local stack is empty.
//!
//! This module owns only the mechanism; it must not know which calls are long (they call
//! [`check`]) nor hold any connection except the `sqlite3_interrupt` handle of a database.
//!
//! [`Database::interrupt`]: crate::Database::interrupt

use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::db::Database;
use crate::error::{Error, ErrorKind, Result};

/// A cancellation flag shared between the thread that runs a call and any thread that wants to stop
/// it. Cheap to clone (one `Arc`); `Send + Sync`.
///
/// ```
/// let db = resonance::Database::open(tempfile::tempdir()?.path().join("a.db"))?;
/// let token = resonance::CancelToken::new();
/// let t = token.clone();
/// std::thread::spawn(move || t.cancel()); // e.g. from a signal handler thread or a UI
/// let opts = resonance::LinkCandidateOptions::default();
/// match token.scope(|| db.link_candidates(&opts)) {
///     Ok(pairs) => println!("{} pairs", pairs.len()),
///     Err(e) if e.kind() == resonance::ErrorKind::Interrupted => println!("stopped"),
///     Err(e) => return Err(e.into()),
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// Once cancelled a token stays cancelled: use a new token for the next call.
#[derive(Clone, Default)]
pub struct CancelToken {
    flag: Arc<AtomicBool>,
}

impl std::fmt::Debug for CancelToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CancelToken")
            .field("cancelled", &self.is_cancelled())
            .finish()
    }
}

impl CancelToken {
    /// A token that is not cancelled.
    pub fn new() -> CancelToken {
        CancelToken::default()
    }

    /// Cancels every call running (or about to run) under this token, from any thread. A call
    /// notices within a few milliseconds of work and fails with [`Error::Interrupted`]; a write it
    /// was making is rolled back.
    pub fn cancel(&self) {
        self.flag.store(true, Ordering::Release);
    }

    /// Whether [`CancelToken::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.flag.load(Ordering::Acquire)
    }

    /// Runs `f` on this thread with this token installed: every engine call made inside `f`
    /// (SQL statements, graph analytics, search, including their rayon workers) fails with
    /// [`Error::Interrupted`] once the token is cancelled. Scopes nest; the token is removed when
    /// `f` returns or panics.
    pub fn scope<T>(&self, f: impl FnOnce() -> T) -> T {
        with_source(Source::Token(self.flag.clone()), f)
    }
}

/// The interrupt state of one database handle: an epoch bumped by each interrupt and the handle's
/// `sqlite3_interrupt` entry.
pub(crate) struct HandleInterrupt {
    epoch: AtomicU64,
    /// `sqlite3_interrupt` of the handle's connection (a no-op once it is closed).
    sqlite: rusqlite::InterruptHandle,
}

impl HandleInterrupt {
    /// The interrupt state of a handle whose connection is `conn`.
    pub(crate) fn new(conn: &rusqlite::Connection) -> Arc<HandleInterrupt> {
        Arc::new(HandleInterrupt {
            epoch: AtomicU64::new(0),
            sqlite: conn.get_interrupt_handle(),
        })
    }

    /// Stops the calls running on the handle now: they see a newer epoch than the one they began
    /// with, and the statement running (if any) is interrupted by SQLite.
    pub(crate) fn interrupt(&self) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
        // A no-op when no statement runs: the next call is not affected.
        self.sqlite.interrupt();
    }

    /// Runs `f` as one call on the handle: interrupted by any [`HandleInterrupt::interrupt`] made
    /// from now until it returns.
    pub(crate) fn scope<T>(self: &Arc<Self>, f: impl FnOnce() -> T) -> T {
        let start = self.epoch.load(Ordering::Acquire);
        with_source(Source::Handle(self.clone(), start), f)
    }
}

impl Database {
    /// Stops whatever runs on this handle now, from any thread: the SQL statement running is
    /// interrupted (`sqlite3_interrupt`), and the engine's own loops (graph analytics, search, loads)
    /// stop at their next check, within a few milliseconds of work. The stopped call fails with
    /// [`Error::Interrupted`] (a write it was making is rolled back); calls waiting for the handle's
    /// lock when `interrupt` is called stop too. The handle stays usable: a call that begins after
    /// `interrupt` returns runs normally. A no-op when nothing runs, once the handle is closed, and
    /// in a forked child on a handle the parent opened (its connection belongs to the parent).
    ///
    /// To stop one call rather than everything on the handle, run it under a [`CancelToken`].
    pub fn interrupt(&self) {
        if self.inherited() {
            return;
        }
        self.interrupt.interrupt();
    }

    /// Runs `f` as one call on this handle: stopped by an [`Database::interrupt`] made while it runs.
    pub(crate) fn call<T>(&self, f: impl FnOnce() -> T) -> T {
        self.interrupt.scope(f)
    }
}

/// One reason a call may have to stop.
#[derive(Clone)]
enum Source {
    Token(Arc<AtomicBool>),
    /// The handle's interrupt state and the epoch the call began in.
    Handle(Arc<HandleInterrupt>, u64),
    /// A time limit, with what it bounds (for the message).
    Deadline(Instant, Arc<str>),
}

impl Source {
    /// The error when this source fired, `None` while it did not.
    fn fired(&self) -> Option<Error> {
        match self {
            Source::Token(flag) => flag
                .load(Ordering::Acquire)
                .then(|| Error::Interrupted("the call was cancelled through its token".into())),
            Source::Handle(h, start) => (h.epoch.load(Ordering::Acquire) != *start)
                .then(|| Error::Interrupted("the call was stopped by interrupt()".into())),
            Source::Deadline(at, what) => (Instant::now() >= *at)
                .then(|| Error::Interrupted(format!("{what} ran past its time limit"))),
        }
    }
}

thread_local! {
    static SOURCES: RefCell<Vec<Source>> = const { RefCell::new(Vec::new()) };
}

/// Pops the source pushed by [`with_source`], also when `f` panics.
struct Pop;

impl Drop for Pop {
    fn drop(&mut self) {
        SOURCES.with(|s| {
            s.borrow_mut().pop();
        });
    }
}

fn with_source<T>(source: Source, f: impl FnOnce() -> T) -> T {
    SOURCES.with(|s| s.borrow_mut().push(source));
    let _pop = Pop;
    f()
}

/// Runs `f` with a time limit: checks inside it (and SQL statements through the progress handler)
/// fail with [`Error::Interrupted`] naming `what` once `limit` has passed.
pub(crate) fn with_deadline<T>(limit: Duration, what: &str, f: impl FnOnce() -> T) -> T {
    match Instant::now().checked_add(limit) {
        Some(at) => with_source(Source::Deadline(at, what.into()), f),
        None => f(),
    }
}

/// Runs `open` (the open flow of `path`) under a limit of `limit_ms` milliseconds (0: none); an
/// open stopped by it fails with `interrupted` naming the option.
pub(crate) fn open_deadline<T>(
    path: &std::path::Path,
    limit_ms: u32,
    open: impl FnOnce() -> Result<T>,
) -> Result<T> {
    if limit_ms == 0 {
        return open();
    }
    let what = format!("opening {}", crate::error::show(path));
    let started = Instant::now();
    let limit = Duration::from_millis(u64::from(limit_ms));
    with_deadline(limit, &what, open).map_err(|e| {
        // A statement stopped by the limit fails as `interrupted`, or as `migration_failed` when it
        // was a migration step (rolled back).
        let stopped = matches!(
            e.kind(),
            ErrorKind::Interrupted | ErrorKind::MigrationFailed
        ) && e.to_string().contains("interrupted");
        if stopped && started.elapsed() >= limit {
            Error::Interrupted(format!(
                "{what} took longer than open_timeout_ms ({limit_ms} ms): {e}"
            ))
        } else {
            e
        }
    })
}

/// Fails with [`Error::Interrupted`] when the calling thread's call was cancelled (its token, its
/// handle's `interrupt()`, or a deadline). Cheap (a thread-local read and an atomic load per
/// source): long loops call it every few milliseconds of work.
pub fn check() -> Result<()> {
    SOURCES.with(|s| match s.try_borrow() {
        Ok(s) => s.iter().find_map(Source::fired).map_or(Ok(()), Err),
        Err(_) => Ok(()),
    })
}

/// Whether the calling thread's call should stop (the progress handler's question).
pub(crate) fn should_stop() -> bool {
    check().is_err()
}

/// Installs the progress handler on an engine connection: every `PROGRESS_STEPS` virtual-machine
/// steps SQLite asks [`should_stop`] on the thread running the statement, and stops it with
/// `SQLITE_INTERRUPT` (the `interrupted` kind) when the answer is yes.
pub(crate) fn install_progress_handler(conn: &rusqlite::Connection) {
    extern "C" fn on_progress(_: *mut std::os::raw::c_void) -> std::os::raw::c_int {
        // Never unwinds: `check` only reads a thread-local and atomics.
        std::os::raw::c_int::from(should_stop())
    }
    // SAFETY: the handle is valid for the connection's life and the callback keeps no pointer
    // (its argument is null); SQLite calls it on the thread running the statement.
    unsafe {
        rusqlite::ffi::sqlite3_progress_handler(
            conn.handle(),
            PROGRESS_STEPS,
            Some(on_progress),
            std::ptr::null_mut(),
        );
    }
}

/// Virtual-machine steps between two progress-handler calls: about a tenth of a millisecond of SQL
/// work on this class of machine, far below the cost of the check.
const PROGRESS_STEPS: std::os::raw::c_int = 1000;

/// The stop sources of the calling thread, captured to be checked on other threads (rayon
/// workers, whose own thread-local stack is empty).
#[derive(Clone, Default)]
pub struct Context {
    sources: Vec<Source>,
}

impl Context {
    /// The calling thread's sources, as they are now.
    pub fn current() -> Context {
        SOURCES.with(|s| Context {
            sources: s.try_borrow().map(|s| s.clone()).unwrap_or_default(),
        })
    }

    /// [`check`] against the captured sources, from any thread.
    pub fn check(&self) -> Result<()> {
        self.sources
            .iter()
            .find_map(Source::fired)
            .map_or(Ok(()), Err)
    }

    /// Whether [`Context::check`] would fail.
    pub fn stopped(&self) -> bool {
        self.check().is_err()
    }

    /// Runs `f` with the captured sources installed on this thread (for a worker that calls code
    /// using [`check`]).
    pub fn scope<T>(&self, f: impl FnOnce() -> T) -> T {
        let n = self.sources.len();
        SOURCES.with(|s| s.borrow_mut().extend(self.sources.iter().cloned()));
        struct PopN(usize);
        impl Drop for PopN {
            fn drop(&mut self) {
                SOURCES.with(|s| {
                    let mut s = s.borrow_mut();
                    let keep = s.len().saturating_sub(self.0);
                    s.truncate(keep);
                });
            }
        }
        let _pop = PopN(n);
        f()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_scope_stops_checks_and_ends_with_the_scope() {
        let t = CancelToken::new();
        assert!(check().is_ok());
        t.scope(|| {
            assert!(check().is_ok());
            t.cancel();
            let e = check().unwrap_err();
            assert_eq!(e.code(), "interrupted");
            assert!(t.is_cancelled());
        });
        // Outside the scope the cancelled token no longer applies.
        assert!(check().is_ok());
    }

    #[test]
    fn scopes_nest_and_pop_on_panic() {
        let outer = CancelToken::new();
        let inner = CancelToken::new();
        outer.scope(|| {
            let r = std::panic::catch_unwind(|| {
                inner.scope(|| {
                    inner.cancel();
                    assert!(check().is_err());
                    panic!("boom");
                })
            });
            assert!(r.is_err());
            // The inner token was popped by the unwinding.
            assert!(check().is_ok());
            outer.cancel();
            assert!(check().is_err());
        });
        assert!(check().is_ok());
    }

    #[test]
    fn context_carries_sources_to_other_threads() {
        let t = CancelToken::new();
        let ctx = t.scope(Context::current);
        assert!(ctx.check().is_ok());
        std::thread::scope(|s| {
            s.spawn(|| {
                assert!(check().is_ok(), "a fresh thread has no sources");
                t.cancel();
                assert!(ctx.stopped());
                ctx.scope(|| assert!(check().is_err()));
                assert!(check().is_ok());
            });
        });
    }

    #[test]
    fn handle_epoch_stops_running_calls_only() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        let h = HandleInterrupt::new(&conn);
        h.scope(|| {
            assert!(check().is_ok());
            h.interrupt();
            assert!(check().is_err());
        });
        // A call that begins after the interrupt runs.
        h.scope(|| assert!(check().is_ok()));
    }

    #[test]
    fn deadline_fires_after_the_limit() {
        with_deadline(Duration::ZERO, "opening x.db", || {
            let e = check().unwrap_err();
            assert!(e.to_string().contains("opening x.db"), "{e}");
        });
        with_deadline(Duration::from_secs(3600), "x", || assert!(check().is_ok()));
        with_deadline(Duration::MAX, "x", || assert!(check().is_ok()));
    }

    /// Runs a statement that never ends on `db`'s connection from another thread, fires `stop`
    /// after 200 ms, and returns the statement's error and how long after `stop` it came.
    fn stop_endless_statement(
        db: &std::sync::Arc<Database>,
        token: Option<CancelToken>,
        stop: impl FnOnce(),
    ) -> (Error, Duration) {
        let endless = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) \
                       SELECT count(*) FROM c";
        let d = db.clone();
        let (tx, rx) = std::sync::mpsc::channel();
        let worker = std::thread::spawn(move || {
            let call = || {
                d.with_state(|s| {
                    s.conn
                        .query_row(endless, [], |r| r.get::<_, i64>(0))
                        .map_err(|e| Error::sqlite(e, "counting forever"))
                })
            };
            let r = match token {
                Some(t) => t.scope(call),
                None => call(),
            };
            let _ = tx.send(Instant::now());
            r
        });
        std::thread::sleep(Duration::from_millis(200));
        let fired = Instant::now();
        stop();
        let done = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the statement did not stop within 60 s");
        let e = worker.join().unwrap().unwrap_err();
        (e, done.saturating_duration_since(fired))
    }

    #[test]
    fn a_long_statement_stops_on_token_and_on_interrupt() {
        let dir = tempfile::tempdir().unwrap();
        let db = std::sync::Arc::new(Database::open(dir.path().join("s.db")).unwrap());
        let token = CancelToken::new();
        let (e, lat) = stop_endless_statement(&db, Some(token.clone()), || token.cancel());
        println!("statement stopped {lat:?} after the token was cancelled: {e}");
        assert_eq!(e.code(), "interrupted", "{e}");
        assert!(lat <= Duration::from_secs(1), "{lat:?}");

        let (e, lat) = stop_endless_statement(&db, None, || db.interrupt());
        println!("statement stopped {lat:?} after interrupt(): {e}");
        assert_eq!(e.code(), "interrupted", "{e}");
        assert!(lat <= Duration::from_secs(1), "{lat:?}");
        // The handle works afterwards.
        db.upsert_node(&crate::NodeInput::new("after")).unwrap();
        assert!(db.get_node("after").unwrap().is_some());
    }

    #[test]
    fn progress_handler_interrupts_a_statement() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        install_progress_handler(&conn);
        let long = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) \
                    SELECT count(*) FROM c";
        let t = CancelToken::new();
        t.cancel();
        let e = t
            .scope(|| conn.query_row(long, [], |r| r.get::<_, i64>(0)))
            .unwrap_err();
        assert_eq!(Error::sqlite(e, "counting").code(), "interrupted");
        // Without a fired source statements run.
        let n: i64 = conn.query_row("SELECT 41 + 1", [], |r| r.get(0)).unwrap();
        assert_eq!(n, 42);
    }
}
