//! The one place every SQLite connection is opened and hardened (design §3).
//!
//! Owns the pragma canon, the SQLite version gate, the read-only rules (the WAL read-only trap) and the
//! `BEGIN IMMEDIATE` write-transaction helper. It must not know the schema: shape detection and
//! migrations live in `schema` and `migrate`, which call in here.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::config::DbConfig;
use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};

use crate::error::{show, Error, Result, SqlContext};

/// The oldest SQLite accepted: 3.51.3 fixed the WAL-reset corruption bug.
pub const MIN_SQLITE_VERSION: i32 = 3_051_003;

/// The default busy timeout, in milliseconds.
pub const DEFAULT_BUSY_TIMEOUT_MS: u32 = 5000;

/// The lowest busy timeout accepted, in milliseconds.
pub const MIN_BUSY_TIMEOUT_MS: u32 = 1000;

/// How a handle is opened. `Default` is read-write, migrating, with backups.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenOptions {
    /// Open a read-only handle (existing WAL database at the current schema only).
    pub read_only: bool,
    /// Bring the database to the current schema on open (adoption + Resonance's migrations).
    pub migrate: bool,
    /// Allow migrations marked destructive.
    pub allow_destructive: bool,
    /// Back up a non-empty database before changing its schema.
    pub backup: bool,
    /// `PRAGMA busy_timeout`, never below [`MIN_BUSY_TIMEOUT_MS`].
    pub busy_timeout_ms: u32,
    /// Backups older than this many days are pruned (the newest is always kept).
    pub backup_retention_days: u32,
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions {
            read_only: false,
            migrate: true,
            allow_destructive: false,
            backup: true,
            busy_timeout_ms: DEFAULT_BUSY_TIMEOUT_MS,
            backup_retention_days: 7,
        }
    }
}

impl OpenOptions {
    /// Checks the options, naming the bad one.
    pub fn validate(&self) -> Result<()> {
        if !(MIN_BUSY_TIMEOUT_MS..=MAX_BUSY_TIMEOUT_MS).contains(&self.busy_timeout_ms) {
            return Err(Error::InvalidArgument(format!(
                "busy_timeout_ms must be between {MIN_BUSY_TIMEOUT_MS} and {MAX_BUSY_TIMEOUT_MS}, got {}",
                self.busy_timeout_ms
            )));
        }
        Ok(())
    }
}

/// The largest busy timeout SQLite accepts (`sqlite3_busy_timeout` takes a C `int`).
pub const MAX_BUSY_TIMEOUT_MS: u32 = i32::MAX as u32;

/// Rejects a path no file can have: empty, or holding a NUL byte (`invalid_argument`, not `io`).
pub(crate) fn check_path(path: &Path, what: &str) -> Result<()> {
    let bytes = path.as_os_str().as_encoded_bytes();
    if bytes.is_empty() {
        return Err(Error::InvalidArgument(format!("the {what} is empty")));
    }
    if bytes.contains(&0) {
        return Err(Error::InvalidArgument(format!(
            "the {what} {} contains a NUL byte",
            path.to_string_lossy().replace('\0', "\\0")
        )));
    }
    Ok(())
}

/// What the file at a path is, judged from its first 100 bytes without opening it with SQLite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileState {
    /// No file, or a 0-byte file: a new database.
    New,
    /// A SQLite database; `wal` tells whether its header says WAL (bytes 18 and 19 equal 2).
    Sqlite {
        /// The header's read/write versions are 2 (WAL).
        wal: bool,
    },
    /// Something that is not a SQLite database.
    NotSqlite,
}

/// Reads the header of `path` to classify it (never creates or changes anything).
pub fn file_state(path: &Path) -> Result<FileState> {
    use std::io::Read;
    let mut f = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(FileState::New),
        Err(e) => return Err(Error::io("cannot open", path, e)),
    };
    let mut header = [0u8; 100];
    let mut n = 0;
    while n < header.len() {
        match f.read(&mut header[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) => return Err(Error::io("cannot read", path, e)),
        }
    }
    if n == 0 {
        return Ok(FileState::New);
    }
    if n < 100 || &header[..16] != b"SQLite format 3\0" {
        return Ok(FileState::NotSqlite);
    }
    Ok(FileState::Sqlite {
        wal: header[18] == 2 && header[19] == 2,
    })
}

fn sidecar(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// The `-wal` file beside a database.
pub fn wal_path(path: &Path) -> PathBuf {
    sidecar(path, "-wal")
}

/// The `-shm` file beside a database.
pub fn shm_path(path: &Path) -> PathBuf {
    sidecar(path, "-shm")
}

/// Refuses a SQLite older than [`MIN_SQLITE_VERSION`].
pub fn check_sqlite_version() -> Result<()> {
    let v = rusqlite::version_number();
    if v < MIN_SQLITE_VERSION {
        return Err(Error::Internal(format!(
            "SQLite {} is older than 3.51.3 (the WAL-reset bug); refusing to run",
            rusqlite::version()
        )));
    }
    Ok(())
}

/// Opens a read-write connection with the canon applied up to (not including) the WAL switch:
/// busy timeout first, then the connection-local pragmas. The caller checks the schema shape, then
/// calls [`ensure_wal`]: a file refused for its schema is left byte-identical.
pub(crate) fn open_read_write(path: &Path, opts: &OpenOptions) -> Result<Connection> {
    check_sqlite_version()?;
    opts.validate()?;
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|e| Error::io("cannot create the folder", parent, e))?;
    }
    if let FileState::NotSqlite = file_state(path)? {
        return Err(Error::NotADatabase(format!(
            "{} is not a SQLite database",
            show(path)
        )));
    }
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_EXRESCODE;
    let conn =
        Connection::open_with_flags(path, flags).ctx(format_args!("opening {}", show(path)))?;
    harden(&conn, path, opts)?;
    Ok(conn)
}

/// Opens a read-only handle: the file must exist, be SQLite, already be in WAL, and its `-shm`/`-wal`
/// files must exist or be creatable. Schema currency is checked by the caller.
pub(crate) fn open_read_only(path: &Path, opts: &OpenOptions) -> Result<Connection> {
    check_sqlite_version()?;
    opts.validate()?;
    let why =
        |reason: String| Error::Readonly(format!("cannot open {} read-only: {reason}", show(path)));
    match file_state(path)? {
        FileState::New => {
            if path.exists() {
                return Err(why(
                    "the file is empty; open it read-write once to create the database".into(),
                ));
            }
            return Err(Error::Io {
                message: format!(
                    "cannot open {} read-only: the file does not exist",
                    show(path)
                ),
                source: None,
            });
        }
        FileState::NotSqlite => {
            return Err(Error::NotADatabase(format!(
                "{} is not a SQLite database",
                show(path)
            )))
        }
        FileState::Sqlite { wal: false } => {
            return Err(why(
                "the database is not in WAL mode; open it read-write once to convert it".into(),
            ))
        }
        FileState::Sqlite { wal: true } => {}
    }
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let sidecars_exist = shm_path(path).exists() && wal_path(path).exists();
    if !sidecars_exist && !dir_writable(dir) {
        return Err(why(format!(
            "its -shm/-wal files are missing and the directory {} is not writable; open it \
             read-write once where it lives (Resonance keeps those files) or make the directory writable",
            show(dir)
        )));
    }
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_EXRESCODE;
    let conn =
        Connection::open_with_flags(path, flags).ctx(format_args!("opening {}", show(path)))?;
    harden(&conn, path, opts)?;
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .ctx(format_args!("reading the journal mode of {}", show(path)))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(why(format!("the journal mode is {mode}, not WAL")));
    }
    conn.pragma_update(None, "query_only", true)
        .ctx("setting query_only")?;
    Ok(conn)
}

fn dir_writable(dir: &Path) -> bool {
    // Try it: permission bits lie for root and for read-only mounts.
    let probe = dir.join(format!(".resonance-probe-{}", std::process::id()));
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
    {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            true
        }
        Err(_) => false,
    }
}

/// The connection-local part of the canon, busy timeout first.
fn harden(conn: &Connection, path: &Path, opts: &OpenOptions) -> Result<()> {
    let at = |what: &str| format!("{what} on {}", show(path));
    conn.busy_timeout(Duration::from_millis(u64::from(opts.busy_timeout_ms)))
        .ctx(at("setting busy_timeout"))?;
    conn.pragma_update(None, "synchronous", "NORMAL")
        .ctx(at("setting synchronous"))?;
    conn.pragma_update(None, "mmap_size", 0)
        .ctx(at("setting mmap_size"))?;
    conn.pragma_update(None, "temp_store", "MEMORY")
        .ctx(at("setting temp_store"))?;
    conn.pragma_update(None, "foreign_keys", true)
        .ctx(at("setting foreign_keys"))?;
    conn.pragma_update(None, "cache_size", -64000)
        .ctx(at("setting cache_size"))?;
    conn.pragma_update(None, "trusted_schema", false)
        .ctx(at("setting trusted_schema"))?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_DEFENSIVE, true)
        .ctx(at("enabling SQLITE_DBCONFIG_DEFENSIVE"))?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(())
}

/// Reads `journal_mode` and switches to WAL only if it is not WAL already (a needless switch takes a
/// write lock), retrying a lock-upgrade deadlock until `busy_timeout_ms` is spent. Also keeps the `-wal`/`-shm` files after the last close (`SQLITE_FCNTL_PERSIST_WAL`) so
/// a read-only handle can later open the database in a read-only directory.
pub(crate) fn ensure_wal(conn: &Connection, path: &Path, busy_timeout_ms: u32) -> Result<()> {
    // Two processes switching one rollback-journal file at once can deadlock on the lock upgrade;
    // SQLite then answers SQLITE_BUSY at once without its busy handler, so retry here (re-reading the
    // mode: the other process may have switched it) until the busy timeout is spent.
    let deadline = std::time::Instant::now() + Duration::from_millis(u64::from(busy_timeout_ms));
    let mut attempt = 0u32;
    loop {
        match switch_to_wal(conn, path) {
            Err(e)
                if e.kind() == crate::ErrorKind::Busy && std::time::Instant::now() < deadline =>
            {
                attempt += 1;
                let jitter = u64::from(std::process::id() % 7 + attempt % 5);
                std::thread::sleep(Duration::from_millis(5 + jitter * 3));
            }
            other => break other,
        }
    }?;
    persist_wal(conn);
    Ok(())
}

fn switch_to_wal(conn: &Connection, path: &Path) -> Result<()> {
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .ctx(format_args!("reading the journal mode of {}", show(path)))?;
    if !mode.eq_ignore_ascii_case("wal") {
        let now: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .ctx(format_args!("switching {} to WAL", show(path)))?;
        if !now.eq_ignore_ascii_case("wal") {
            return Err(Error::Sqlite {
                extended_code: 1,
                message: format!(
                    "{} stayed in journal mode {now} after asking for WAL",
                    show(path)
                ),
            });
        }
    }
    Ok(())
}

fn persist_wal(conn: &Connection) {
    let mut on: std::os::raw::c_int = 1;
    // SAFETY: the handle is valid for the connection's life; PERSIST_WAL takes a pointer to an int.
    unsafe {
        let db = conn.handle();
        rusqlite::ffi::sqlite3_file_control(
            db,
            c"main".as_ptr(),
            rusqlite::ffi::SQLITE_FCNTL_PERSIST_WAL,
            (&mut on as *mut std::os::raw::c_int).cast(),
        );
    }
}

/// Runs `f` in a `BEGIN IMMEDIATE` transaction: commit on `Ok`, rollback on `Err` or panic (the
/// transaction's drop rolls back while unwinding).
pub(crate) fn write_tx<T>(
    conn: &mut Connection,
    what: &str,
    f: impl FnOnce(&Transaction<'_>) -> Result<T>,
) -> Result<T> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .ctx(format_args!("beginning a write transaction for {what}"))?;
    let out = f(&tx)?;
    tx.commit().ctx(format_args!("committing {what}"))?;
    Ok(out)
}

/// A pragma read as text (for the health report).
pub(crate) fn pragma_text(conn: &Connection, name: &str) -> Result<String> {
    conn.query_row(&format!("PRAGMA {name}"), [], |r| {
        let v: rusqlite::types::Value = r.get(0)?;
        Ok(match v {
            rusqlite::types::Value::Text(s) => s,
            rusqlite::types::Value::Integer(i) => i.to_string(),
            rusqlite::types::Value::Real(f) => f.to_string(),
            other => format!("{other:?}"),
        })
    })
    .ctx(format_args!("reading PRAGMA {name}"))
}

/// A pragma read as an integer.
pub(crate) fn pragma_i64(conn: &Connection, name: &str) -> Result<i64> {
    conn.query_row(&format!("PRAGMA {name}"), [], |r| r.get(0))
        .ctx(format_args!("reading PRAGMA {name}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_classification() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.db");
        assert_eq!(file_state(&p).unwrap(), FileState::New);
        std::fs::write(&p, b"").unwrap();
        assert_eq!(file_state(&p).unwrap(), FileState::New);
        std::fs::write(&p, b"hello, not a database").unwrap();
        assert_eq!(file_state(&p).unwrap(), FileState::NotSqlite);
    }

    #[test]
    fn busy_timeout_floor() {
        let o = OpenOptions {
            busy_timeout_ms: 10,
            ..Default::default()
        };
        assert_eq!(o.validate().unwrap_err().code(), "invalid_argument");
    }

    #[test]
    fn bundled_sqlite_is_new_enough() {
        check_sqlite_version().unwrap();
    }
}
