//! The one place every SQLite connection is opened and hardened (docs/connections.md).
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
    /// A time limit for opening, in milliseconds: recognising, converting to WAL, backing up and
    /// migrating a file (possibly one another program wrote, with a huge or hostile schema) stop
    /// with `interrupted` past it, leaving the file as it was. Default [`DEFAULT_OPEN_TIMEOUT_MS`]
    /// (60 s); 0 means no limit.
    pub open_timeout_ms: u32,
    /// Let application SQL write `nodes`, `edges`, `history` and `__drizzle_migrations` (for a
    /// compatibility layer over an application that wrote them with raw SQL); the handle's caches
    /// are dropped after each such write. Off by default: those writes are refused, naming the call
    /// to use instead (docs/sql.md).
    pub allow_engine_writes: bool,
    /// How many compiled statements the connection keeps (an LRU keyed by SQL text), the engine's
    /// own and the application's. Default [`DEFAULT_STATEMENT_CACHE_SIZE`].
    pub statement_cache_size: usize,
    /// Application migrations to apply when the handle opens (read-write handles), each set under
    /// its namespace, with this handle's `allow_destructive` and `backup` (docs/sql.md).
    pub app_migrations: Vec<crate::app_migrate::AppMigrationSet>,
    /// Another program (Litestream, LiteFS…) replicates this file by reading its WAL: the handle
    /// then refuses what would pull the WAL from under it (`checkpoint` in `restart` or `truncate`
    /// mode, `VACUUM`) with `invalid_argument` (docs/scaling.md). Off by default.
    pub external_replicator: bool,
    /// What the handle keeps in memory for vector search: the f32 matrix (the default) or only the
    /// int8 codes, reading the f32 rows of the few candidates from `nodes.embedding` (about a quarter
    /// of the memory; the same hits). See docs/vectors.md, "Bounded memory".
    pub vector_memory: VectorMemory,
}

/// What a handle keeps in memory for vector search ([`OpenOptions::vector_memory`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum VectorMemory {
    /// The f32 matrix of every vector (4 bytes per component), and the int8 codes once searches use
    /// them.
    #[default]
    Matrix,
    /// Only the int8 codes (1 byte per component plus 16 per row), ids and labels; the f32 rows of the
    /// candidates of the exact first pass are read from the database for the rescore.
    Codes,
}

impl std::str::FromStr for VectorMemory {
    type Err = Error;

    fn from_str(s: &str) -> Result<VectorMemory> {
        VectorMemory::parse(s)
    }
}

impl VectorMemory {
    /// Every value, in the order of its C code (`RESONANCE_VECTOR_MEMORY_*`).
    pub const ALL: [VectorMemory; 2] = [VectorMemory::Matrix, VectorMemory::Codes];

    /// The name every binding uses: `"matrix"` or `"codes"`.
    pub fn name(self) -> &'static str {
        match self {
            VectorMemory::Matrix => "matrix",
            VectorMemory::Codes => "codes",
        }
    }

    /// The value of a name (`"matrix"` or `"codes"`); anything else is `invalid_argument`.
    pub fn parse(name: &str) -> Result<VectorMemory> {
        VectorMemory::ALL
            .into_iter()
            .find(|m| m.name() == name)
            .ok_or_else(|| {
                Error::InvalidArgument(format!(
                    "vector_memory {:?}: expected \"matrix\" or \"codes\"",
                    name.chars().take(64).collect::<String>()
                ))
            })
    }
}

/// The default size of a handle's statement cache ([`OpenOptions::statement_cache_size`]): room for
/// the engine's own statements and as many of the application's.
pub const DEFAULT_STATEMENT_CACHE_SIZE: usize = 128;

/// The default backup retention in days (of [`OpenOptions`] and so of every handle's migrations).
pub const DEFAULT_BACKUP_RETENTION_DAYS: u32 = 7;

/// The default time limit for opening, in milliseconds.
pub const DEFAULT_OPEN_TIMEOUT_MS: u32 = 60_000;

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions {
            read_only: false,
            migrate: true,
            allow_destructive: false,
            backup: true,
            busy_timeout_ms: DEFAULT_BUSY_TIMEOUT_MS,
            backup_retention_days: DEFAULT_BACKUP_RETENTION_DAYS,
            open_timeout_ms: DEFAULT_OPEN_TIMEOUT_MS,
            allow_engine_writes: false,
            statement_cache_size: DEFAULT_STATEMENT_CACHE_SIZE,
            app_migrations: Vec::new(),
            external_replicator: false,
            vector_memory: VectorMemory::default(),
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

/// `PRAGMA journal_size_limit`: a `-wal` file larger than this is trimmed back to it when the WAL
/// resets, and the last handle to close leaves it at zero bytes (kept, for read-only handles).
pub const WAL_SIZE_LIMIT_BYTES: i64 = 64 * 1024 * 1024;

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

/// What the file at a path is, judged from its first 100 bytes.
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

/// Classifies the file at `path` (never creates or changes anything).
///
/// The header is read through a SQLite connection, never with a plain `open()`/`close()`: POSIX
/// advisory locks belong to the process, and closing any descriptor of a file drops every lock the
/// process holds on it, so a handle already open in this process would silently lose its locks and
/// another process could then believe it is alone (and checkpoint and remove the WAL under it).
/// SQLite's unix VFS knows the file is in use and keeps its descriptor open until those locks go.
pub fn file_state(path: &Path) -> Result<FileState> {
    match std::fs::metadata(path) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(FileState::New),
        Err(e) => return Err(Error::io("cannot open", path, e)),
    }
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_EXRESCODE;
    let conn =
        Connection::open_with_flags(path, flags).ctx(format_args!("opening {}", show(path)))?;
    header_state(&conn, path)
}

/// Classifies the main database file of `conn` from its size and first 100 bytes, read through the
/// connection's own file handle (`SQLITE_FCNTL_FILE_POINTER`, then the VFS's `xFileSize`/`xRead`),
/// before SQLite has read anything itself. Takes no lock and changes nothing.
pub(crate) fn header_state(conn: &Connection, path: &Path) -> Result<FileState> {
    use rusqlite::ffi;
    let io_err = |what: &str, rc: std::os::raw::c_int| Error::Io {
        message: format!(
            "cannot {what} {}: {} (SQLite code {rc})",
            show(path),
            ffi::code_to_str(rc)
        ),
        source: None,
    };
    let mut file: *mut ffi::sqlite3_file = std::ptr::null_mut();
    // SAFETY: the handle is valid for the connection's life; FILE_POINTER writes a `sqlite3_file *`
    // that stays valid while the connection is open, and this thread is the connection's only user.
    unsafe {
        let rc = ffi::sqlite3_file_control(
            conn.handle(),
            c"main".as_ptr(),
            ffi::SQLITE_FCNTL_FILE_POINTER,
            (&mut file as *mut *mut ffi::sqlite3_file).cast(),
        );
        if rc != ffi::SQLITE_OK || file.is_null() || (*file).pMethods.is_null() {
            return Err(io_err(
                "open",
                if rc == ffi::SQLITE_OK {
                    ffi::SQLITE_CANTOPEN
                } else {
                    rc
                },
            ));
        }
        let methods = &*(*file).pMethods;
        let (Some(x_size), Some(x_read)) = (methods.xFileSize, methods.xRead) else {
            return Err(io_err("read", ffi::SQLITE_IOERR));
        };
        let mut size: ffi::sqlite3_int64 = 0;
        let rc = x_size(file, &mut size);
        if rc != ffi::SQLITE_OK {
            return Err(io_err("read the size of", rc));
        }
        if size <= 1 {
            // The unix VFS reports a 1-byte file as empty (a workaround for a file system that
            // cannot hold 0-byte files): tell them apart by reading the byte.
            let mut b = [0u8; 1];
            return match x_read(file, b.as_mut_ptr().cast(), 1, 0) {
                ffi::SQLITE_OK => Ok(FileState::NotSqlite),
                ffi::SQLITE_IOERR_SHORT_READ => Ok(FileState::New),
                rc => Err(io_err("read", rc)),
            };
        }
        if size < 100 {
            return Ok(FileState::NotSqlite);
        }
        let mut header = [0u8; 100];
        let rc = x_read(file, header.as_mut_ptr().cast(), 100, 0);
        if rc != ffi::SQLITE_OK {
            return Err(io_err("read", rc));
        }
        if &header[..16] != b"SQLite format 3\0" {
            return Ok(FileState::NotSqlite);
        }
        Ok(FileState::Sqlite {
            wal: header[18] == 2 && header[19] == 2,
        })
    }
}

/// Refuses a database file with more than one hard link: SQLite names the `-wal` and `-shm` files
/// after the name it was opened by, so two names would give two WALs for one file and each would
/// lose the other's commits. (A symbolic link is fine: SQLite resolves it and uses the target's
/// name.) Only `stat`s the path.
#[cfg(unix)]
pub(crate) fn check_single_link(path: &Path) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    match std::fs::metadata(path) {
        Ok(m) if m.is_file() && m.nlink() > 1 => Err(Error::InvalidArgument(format!(
            "{} has {} hard links: SQLite keys its -wal/-shm files by name, so two names would \
             write two WALs for one database; open it through one name only (remove the other \
             links, or copy the file)",
            show(path),
            m.nlink()
        ))),
        _ => Ok(()),
    }
}

#[cfg(not(unix))]
pub(crate) fn check_single_link(_path: &Path) -> Result<()> {
    Ok(())
}

/// The identity (device, inode) of the file at `path`, if it exists (`stat` only).
#[cfg(unix)]
pub(crate) fn file_id(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

#[cfg(not(unix))]
pub(crate) fn file_id(_path: &Path) -> Option<(u64, u64)> {
    None
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

/// Process-wide settings of the bundled SQLite, made once before it initializes (so before the
/// first connection this library opens): memory-use statistics off (`SQLITE_CONFIG_MEMSTATUS`),
/// which otherwise take a process-wide mutex around every allocation SQLite makes. Nothing reads
/// them (`sqlite3_memory_used` and the heap limits are not used). When another user of the same
/// SQLite initialized it first, the call is refused by SQLite and changes nothing.
fn tune_sqlite() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: a configuration call with its documented argument (an int); SQLite refuses it
        // with SQLITE_MISUSE once initialized, and this runs before this library's first open.
        unsafe {
            rusqlite::ffi::sqlite3_config(
                rusqlite::ffi::SQLITE_CONFIG_MEMSTATUS,
                0 as std::ffi::c_int,
            );
        }
    });
}

/// Refuses a SQLite older than [`MIN_SQLITE_VERSION`] (and makes the process-wide settings of
/// `tune_sqlite` before the first open).
pub fn check_sqlite_version() -> Result<()> {
    tune_sqlite();
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
pub(crate) fn open_read_write(
    path: &Path,
    opts: &OpenOptions,
    policy: &std::sync::Arc<crate::authorizer::Policy>,
) -> Result<Connection> {
    check_sqlite_version()?;
    opts.validate()?;
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|e| Error::io("cannot create the folder", parent, e))?;
    }
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_EXRESCODE;
    let conn =
        Connection::open_with_flags(path, flags).ctx(format_args!("opening {}", show(path)))?;
    // Classified through the connection's own file handle (see `file_state`); SQLite has read
    // nothing yet, so a refused file is closed untouched.
    if let FileState::NotSqlite = header_state(&conn, path)? {
        return Err(Error::NotADatabase(format!(
            "{} is not a SQLite database",
            show(path)
        )));
    }
    check_single_link(path)?;
    harden(&conn, path, opts, policy)?;
    Ok(conn)
}

/// Opens a read-only handle: the file must exist, be SQLite, already be in WAL, and its `-shm`/`-wal`
/// files must exist or be creatable. Schema currency is checked by the caller.
pub(crate) fn open_read_only(
    path: &Path,
    opts: &OpenOptions,
    policy: &std::sync::Arc<crate::authorizer::Policy>,
) -> Result<Connection> {
    check_sqlite_version()?;
    opts.validate()?;
    let why =
        |reason: String| Error::Readonly(format!("cannot open {} read-only: {reason}", show(path)));
    if !path.exists() {
        return Err(Error::Io {
            message: format!(
                "cannot open {} read-only: the file does not exist",
                show(path)
            ),
            source: None,
        });
    }
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_EXRESCODE;
    let conn =
        Connection::open_with_flags(path, flags).ctx(format_args!("opening {}", show(path)))?;
    // Classified through the connection's own file handle (see `file_state`), before SQLite reads.
    match header_state(&conn, path)? {
        FileState::New => {
            return Err(why(
                "the file is empty; open it read-write once to create the database".into(),
            ));
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
    check_single_link(path)?;
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
    harden(&conn, path, opts, policy)?;
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
    // Try it: permission bits lie for root and for read-only mounts. A folder is made (never a file
    // opened: nothing planted at the name is followed or written) under a fresh name; a name someone
    // else holds is skipped, so a planted entry cannot make a writable folder look read-only.
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    for attempt in 0..16u32 {
        let name = if attempt == 0 {
            format!(".resonance-probe-{}", std::process::id())
        } else {
            format!(
                ".resonance-probe-{}-{nanos:x}-{attempt}",
                std::process::id()
            )
        };
        let probe = dir.join(name);
        match std::fs::create_dir(&probe) {
            Ok(()) => {
                let _ = std::fs::remove_dir(&probe);
                return true;
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(_) => return false,
        }
    }
    false
}

/// The connection-local part of the canon, busy timeout first.
fn harden(
    conn: &Connection,
    path: &Path,
    opts: &OpenOptions,
    policy: &std::sync::Arc<crate::authorizer::Policy>,
) -> Result<()> {
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
    // With the WAL kept after the last close (`persist_wal`), a non-negative limit makes that close
    // truncate the `-wal` file to zero bytes after its checkpoint, and a reset WAL larger than the
    // limit is trimmed back to it while the database is in use.
    conn.pragma_update(None, "journal_size_limit", WAL_SIZE_LIMIT_BYTES)
        .ctx(at("setting journal_size_limit"))?;
    conn.pragma_update(None, "trusted_schema", false)
        .ctx(at("setting trusted_schema"))?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_DEFENSIVE, true)
        .ctx(at("enabling SQLITE_DBCONFIG_DEFENSIVE"))?;
    // Nothing fires while the file is recognised and adopted; a read-write handle switches triggers
    // on once open, for the application's tables only (`triggers`, docs/sql.md "Triggers").
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_TRIGGER, false)
        .ctx(at("disabling SQLITE_DBCONFIG_ENABLE_TRIGGER"))?;
    // Installed before anything else runs: the engine's statements compile in its engine mode.
    policy.install(conn).ctx(at("installing the authorizer"))?;
    conn.set_prepared_statement_cache_capacity(64);
    crate::cancel::install_progress_handler(conn);
    Ok(())
}

/// Reads `journal_mode` and switches to WAL only if it is not WAL already (a needless switch takes a
/// write lock), retrying a lock-upgrade deadlock until `busy_timeout_ms` is spent. Also keeps the
/// `-wal`/`-shm` files after the last close (`SQLITE_FCNTL_PERSIST_WAL`) so a read-only handle can
/// later open the database in a read-only directory; that close checkpoints and truncates the `-wal`
/// to zero bytes (see [`WAL_SIZE_LIMIT_BYTES`]).
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

/// A pragma whose integer value has names (`synchronous`, `temp_store`), read as SQLite spells the
/// name (`NORMAL`, `MEMORY`); a value without a name is given as its number.
pub(crate) fn pragma_name(conn: &Connection, name: &str, names: &[&str]) -> Result<String> {
    let v = pragma_i64(conn, name)?;
    Ok(usize::try_from(v)
        .ok()
        .and_then(|i| names.get(i))
        .map_or_else(|| v.to_string(), |n| (*n).to_string()))
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
        std::fs::write(&p, b"x").unwrap();
        assert_eq!(file_state(&p).unwrap(), FileState::NotSqlite, "1 byte");
        std::fs::write(&p, b"hello, not a database").unwrap();
        assert_eq!(file_state(&p).unwrap(), FileState::NotSqlite);
        std::fs::write(&p, [b'x'; 4096]).unwrap();
        assert_eq!(file_state(&p).unwrap(), FileState::NotSqlite);
        assert_eq!(
            std::fs::read(&p).unwrap(),
            [b'x'; 4096],
            "left byte-identical"
        );
        std::fs::remove_file(&p).unwrap();
        let c = Connection::open(&p).unwrap();
        c.execute_batch("CREATE TABLE t (x)").unwrap();
        assert_eq!(file_state(&p).unwrap(), FileState::Sqlite { wal: false });
        c.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()))
            .unwrap();
        assert_eq!(file_state(&p).unwrap(), FileState::Sqlite { wal: true });
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
