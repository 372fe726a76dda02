//! Online backups (SQLite's backup API), checked with `integrity_check`, and their retention.
//!
//! A backup is one self-contained file (no `-wal` beside it) in WAL mode, so a read-only handle can
//! open it as it is (the read-only rules of `connection` accept only WAL databases). Nothing is written through a
//! name someone else could have planted: the copy is made inside a private folder created with
//! exclusive creation (mode 0700) beside the destination, then linked into place with a call that fails
//! when any entry (a file, a symbolic link) already holds the destination name, and the private
//! folder is removed. The copy's permissions are never wider than the source database's. Automatic
//! backups go into `backups/` beside the database, which must be a real folder (a symbolic link there
//! is refused); retention deletes only names of the exact shape this module writes for this database.
//! Exports are new files written the same way ([`write_new_file`]); their exact JSON-lines format
//! ([`export_jsonl`], [`import_jsonl`]) is described below. This module must not change the source
//! database.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};

use crate::error::{show, Error, Result, SqlContext};

/// The folder beside a database where automatic backups go.
pub fn backup_dir(db_path: &Path) -> PathBuf {
    db_path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .join("backups")
}

fn stem(db_path: &Path) -> String {
    db_path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "database".into())
}

/// The permission bits of the database `conn` has open (0600 when it has no file).
fn source_mode(conn: &Connection) -> u32 {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Some(p) = conn.path().filter(|p| !p.is_empty()) {
            if let Ok(m) = std::fs::metadata(p) {
                return m.permissions().mode() & 0o777;
            }
        }
    }
    let _ = conn;
    0o600
}

/// The mode of a folder holding copies of a file of mode `file_mode`: the same bits, plus search
/// (x) wherever read is allowed, so it is no wider than the file.
fn folder_mode(file_mode: u32) -> u32 {
    (file_mode & 0o777) | ((file_mode & 0o444) >> 2)
}

/// Creates a new folder `hint`-named in `parent` with exclusive creation (an existing entry of that
/// name, a symbolic link included, makes `mkdir` fail and another name is tried), mode 0700.
fn private_dir(parent: &Path, hint: &str) -> Result<PathBuf> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut last = None;
    for _ in 0..64 {
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let p = parent.join(format!(
            ".{hint}.resonance-tmp-{}-{nanos:x}-{n}",
            std::process::id()
        ));
        let mut b = std::fs::DirBuilder::new();
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
        match b.create(&p) {
            Ok(()) => return Ok(p),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(Error::io("cannot create a private folder in", parent, e)),
        }
    }
    Err(Error::io(
        "cannot create a private folder (every name tried exists) in",
        parent,
        last.unwrap_or_else(|| std::io::Error::from(std::io::ErrorKind::AlreadyExists)),
    ))
}

/// Moves `from` to `to` unless something (a file, a symbolic link, dangling or not) holds `to`:
/// `link(2)` then unlink, which never replaces; where hard links are not supported, Linux's
/// `renameat2(RENAME_NOREPLACE)`.
fn move_noreplace(from: &Path, to: &Path) -> Result<()> {
    let appeared = || {
        Error::InvalidArgument(format!(
            "destination {} appeared while the copy was written; it was left alone",
            show(to)
        ))
    };
    match std::fs::hard_link(from, to) {
        Ok(()) => {
            let _ = std::fs::remove_file(from);
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(appeared()),
        Err(e) => {
            #[cfg(target_os = "linux")]
            {
                if let Some(r) = renameat2_noreplace(from, to) {
                    return match r {
                        Ok(()) => Ok(()),
                        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(appeared()),
                        Err(e) => Err(Error::io("cannot move the backup to", to, e)),
                    };
                }
            }
            Err(Error::io("cannot move the backup to", to, e))
        }
    }
}

/// `renameat2(from, to, RENAME_NOREPLACE)`, or `None` where the kernel or file system lacks it.
#[cfg(target_os = "linux")]
fn renameat2_noreplace(from: &Path, to: &Path) -> Option<std::io::Result<()>> {
    use std::os::unix::ffi::OsStrExt;
    let c = |p: &Path| std::ffi::CString::new(p.as_os_str().as_bytes()).ok();
    let (f, t) = (c(from)?, c(to)?);
    // SAFETY: both are valid NUL-terminated strings that outlive the call.
    let r = unsafe {
        libc::syscall(
            libc::SYS_renameat2,
            libc::AT_FDCWD,
            f.as_ptr(),
            libc::AT_FDCWD,
            t.as_ptr(),
            libc::RENAME_NOREPLACE,
        )
    };
    if r == 0 {
        return Some(Ok(()));
    }
    let e = std::io::Error::last_os_error();
    match e.raw_os_error() {
        Some(libc::ENOSYS) | Some(libc::EINVAL) | Some(libc::EOPNOTSUPP) => None,
        _ => Some(Err(e)),
    }
}

/// Fails when anything, a dangling symbolic link included, holds `dest`.
fn refuse_existing(dest: &Path, what: &str) -> Result<()> {
    match std::fs::symlink_metadata(dest) {
        Ok(m) => Err(Error::InvalidArgument(format!(
            "{what} {} already exists{}; choose another path",
            show(dest),
            if m.file_type().is_symlink() {
                " (a symbolic link)"
            } else {
                ""
            }
        ))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io(&format!("cannot inspect the {what}"), dest, e)),
    }
}

/// Copies the main database of `conn` to `dest` (which must not exist) with the online backup API,
/// checks the copy with `integrity_check`, and only then moves it into place. The copy is made in a
/// private folder beside `dest` (removed afterwards) and gets the source file's permissions at most.
pub fn backup_to(conn: &Connection, dest: &Path) -> Result<()> {
    crate::connection::check_path(dest, "backup destination")?;
    refuse_existing(dest, "backup destination")?;
    let mode = source_mode(conn);
    let parent = match dest.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(parent) => {
            // Folders made for the copy are no wider than the database either.
            let mut b = std::fs::DirBuilder::new();
            b.recursive(true);
            #[cfg(unix)]
            std::os::unix::fs::DirBuilderExt::mode(&mut b, folder_mode(mode));
            b.create(parent)
                .map_err(|e| Error::io("cannot create the folder", parent, e))?;
            parent
        }
        None => Path::new("."),
    };
    let hint: String = dest
        .file_name()
        .map(|n| n.to_string_lossy().chars().take(64).collect())
        .unwrap_or_else(|| "backup".into());
    let private = private_dir(parent, &hint)?;
    let tmp = private.join("backup.db");
    let result = copy_and_check(conn, &tmp, mode).and_then(|()| {
        refuse_existing(dest, "backup destination")?;
        move_noreplace(&tmp, dest)
    });
    // Never leave the copy (or its journal) behind under a temporary name.
    let _ = std::fs::remove_dir_all(&private);
    if result.is_ok() {
        sync_dir(parent);
    }
    result
}

/// Makes a rename or link in `dir` durable (best effort: not every platform can open a folder).
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    let _ = dir;
}

fn copy_and_check(conn: &Connection, tmp: &Path, mode: u32) -> Result<()> {
    let at = format!("backing up to {}", show(tmp));
    // Created here first (exclusively, with the source's permissions at most) so SQLite opens an
    // empty file of ours rather than creating one with its default mode.
    let mut create = std::fs::OpenOptions::new();
    create.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut create, mode & 0o666);
    #[cfg(not(unix))]
    let _ = mode;
    drop(
        create
            .open(tmp)
            .map_err(|e| Error::io("cannot create", tmp, e))?,
    );
    // No URI interpretation: the path is a file name, whatever it starts with.
    let mut dst = Connection::open_with_flags(
        tmp,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .ctx(&at)?;
    {
        let backup = Backup::new(conn, &mut dst).ctx(&at)?;
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            match backup.step(-1).ctx(&at)? {
                StepResult::Done => break,
                StepResult::More => continue,
                StepResult::Busy | StepResult::Locked => {
                    if std::time::Instant::now() > deadline {
                        return Err(Error::Busy(format!(
                            "{at}: the source stayed locked for 30 s"
                        )));
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
                _ => continue,
            }
        }
    }
    // WAL mode, so the read-only rules accept the copy; its `-wal` is checkpointed and deleted when
    // this connection closes (no PERSIST_WAL here), leaving one self-contained file.
    let _: String = dst
        .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
        .ctx(&at)?;
    let check: String = dst
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .ctx(&at)?;
    if check != "ok" {
        return Err(Error::Corrupt(format!(
            "the backup failed integrity_check: {check}"
        )));
    }
    dst.close().map_err(|(_, e)| Error::sqlite(e, &at))?;
    Ok(())
}

/// The UTC time as `YYYYMMDDTHHMMSS.mmmZ` (the shape [`is_own_backup`] recognises).
fn utc_stamp() -> String {
    let now = time::OffsetDateTime::now_utc();
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}.{:03}Z",
        now.year().clamp(0, 9999),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second(),
        now.millisecond()
    )
}

fn is_stamp(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 20
        && b.iter().enumerate().all(|(i, c)| match i {
            8 => *c == b'T',
            15 => *c == b'.',
            19 => *c == b'Z',
            _ => c.is_ascii_digit(),
        })
}

fn is_label_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

/// Whether `name` is an automatic backup of the database whose file name is `stem`, i.e. exactly
/// `<stem>-<YYYYMMDDTHHMMSS.mmmZ>-<label>-<pid>.bak` as [`auto_backup`] writes it (label: ASCII
/// letters, digits, `-`, `_`; pid: digits). `kb-work-…` is not a backup of `kb`.
fn is_own_backup(name: &str, stem: &str) -> bool {
    let Some(rest) = name
        .strip_prefix(stem)
        .and_then(|r| r.strip_prefix('-'))
        .and_then(|r| r.strip_suffix(".bak"))
    else {
        return false;
    };
    let (Some(stamp), Some(rest)) = (rest.get(..20), rest.get(20..)) else {
        return false;
    };
    let Some((label, pid)) = rest.strip_prefix('-').and_then(|r| r.rsplit_once('-')) else {
        return false;
    };
    is_stamp(stamp)
        && !label.is_empty()
        && label.chars().all(is_label_char)
        && !pid.is_empty()
        && pid.bytes().all(|c| c.is_ascii_digit())
}

/// `backups/` beside the database, created (no wider than the database file) if missing; a symbolic
/// link or a non-folder there is refused.
fn ensure_backup_dir(db_path: &Path, file_mode: u32) -> Result<PathBuf> {
    let dir = backup_dir(db_path);
    for _ in 0..2 {
        match std::fs::symlink_metadata(&dir) {
            Ok(m) if m.file_type().is_symlink() => {
                return Err(Error::Io {
                    message: format!(
                        "{} is a symbolic link; automatic backups are not written through it \
                         (remove it, or back up to an explicit destination)",
                        show(&dir)
                    ),
                    source: None,
                })
            }
            Ok(m) if m.is_dir() => return Ok(dir),
            Ok(_) => {
                return Err(Error::Io {
                    message: format!(
                        "{} exists and is not a folder; automatic backups need it to be one",
                        show(&dir)
                    ),
                    source: None,
                })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut b = std::fs::DirBuilder::new();
                #[cfg(unix)]
                std::os::unix::fs::DirBuilderExt::mode(&mut b, folder_mode(file_mode));
                #[cfg(not(unix))]
                let _ = file_mode;
                match b.create(&dir) {
                    Ok(()) => return Ok(dir),
                    // Someone made it meanwhile: look again at what it is.
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                    Err(e) => return Err(Error::io("cannot create the folder", &dir, e)),
                }
            }
            Err(e) => return Err(Error::io("cannot inspect", &dir, e)),
        }
    }
    Err(Error::Io {
        message: format!("{} keeps changing; not writing backups there", show(&dir)),
        source: None,
    })
}

/// Backs `conn` (the database at `db_path`) up into `backups/` beside it, named
/// `<file name>-<UTC stamp>-<label>-<pid>.bak` (label: the schema step, other characters as `_`),
/// then prunes backups older than `retention_days` (keeping the newest).
pub fn auto_backup(
    conn: &Connection,
    db_path: &Path,
    label: &str,
    retention_days: u32,
) -> Result<PathBuf> {
    let dir = ensure_backup_dir(db_path, source_mode(conn))?;
    let mut safe_label: String = label
        .chars()
        .map(|c| if is_label_char(c) { c } else { '_' })
        .collect();
    if safe_label.is_empty() {
        safe_label.push('_');
    }
    let name = format!(
        "{}-{}-{}-{}.bak",
        stem(db_path),
        utc_stamp(),
        safe_label,
        std::process::id()
    );
    let dest = dir.join(name);
    backup_to(conn, &dest)?;
    prune(db_path, retention_days)?;
    Ok(dest)
}

/// Deletes automatic backups of `db_path` (regular files named as [`auto_backup`] names them for this
/// database) older than `retention_days`, always keeping the newest. Returns what it deleted. A
/// `backups/` that is a symbolic link is not looked into.
pub fn prune(db_path: &Path, retention_days: u32) -> Result<Vec<PathBuf>> {
    let dir = backup_dir(db_path);
    let stem = stem(db_path);
    match std::fs::symlink_metadata(&dir) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => return Ok(Vec::new()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io("cannot inspect", &dir, e)),
    }
    let entries = std::fs::read_dir(&dir).map_err(|e| Error::io("cannot list", &dir, e))?;
    let mut backups: Vec<(SystemTime, PathBuf)> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter(|e| {
            e.file_name()
                .to_str()
                .is_some_and(|n| is_own_backup(n, &stem))
        })
        .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
        .collect();
    backups.sort();
    let Some(newest) = backups.pop() else {
        return Ok(Vec::new());
    };
    let limit = Duration::from_secs(u64::from(retention_days) * 86_400);
    let now = SystemTime::now();
    let mut deleted = Vec::new();
    for (t, p) in backups {
        if now.duration_since(t).unwrap_or_default() > limit && p != newest.1 {
            std::fs::remove_file(&p)
                .map_err(|e| Error::io("cannot delete the old backup", &p, e))?;
            deleted.push(p);
        }
    }
    Ok(deleted)
}

/// Writes a new file at `dest` (which must not exist) the way backups are written: `write` fills a
/// file created inside a private folder beside `dest` with permissions `mode` at most, which is then
/// linked into place without replacing anything that holds the name meanwhile. Nothing is left behind
/// on failure.
pub fn write_new_file<T>(
    dest: &Path,
    mode: u32,
    write: impl FnOnce(&mut std::fs::File) -> Result<T>,
) -> Result<T> {
    crate::connection::check_path(dest, "destination")?;
    refuse_existing(dest, "destination")?;
    let parent = dest
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let hint: String = dest
        .file_name()
        .map(|n| n.to_string_lossy().chars().take(64).collect())
        .unwrap_or_else(|| "file".into());
    let private = private_dir(parent, &hint)?;
    let tmp = private.join("new");
    let result = (|| {
        let mut create = std::fs::OpenOptions::new();
        create.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut create, mode & 0o666);
        #[cfg(not(unix))]
        let _ = mode;
        let mut f = create
            .open(&tmp)
            .map_err(|e| Error::io("cannot create", &tmp, e))?;
        let v = write(&mut f)?;
        f.sync_all()
            .map_err(|e| Error::io("cannot flush", &tmp, e))?;
        drop(f);
        refuse_existing(dest, "destination")?;
        move_noreplace(&tmp, dest)?;
        Ok(v)
    })();
    let _ = std::fs::remove_dir_all(&private);
    if result.is_ok() {
        sync_dir(parent);
    }
    result
}

/// The permission bits of the file at `path` (0600 when they cannot be read), for files made from it.
pub fn file_mode(path: &Path) -> u32 {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(m) = std::fs::metadata(path) {
            return m.permissions().mode() & 0o777;
        }
    }
    let _ = path;
    0o600
}

// ---------------------------------------------------------------------------------------------------
// The exact JSON-lines export
//
// Line 1 is a header `{"kind":"resonance-export","format":2,"dimension":<stored text>|null}`; then one
// `{"kind":"node", <every column of nodes>}` per node (by id) and one `{"kind":"edge", <every column
// of edges>}` per edge (by source, target, type), dangling edges included. Each column holds the
// stored SQLite value exactly: `null`; a JSON string for UTF-8 text (meta too: its stored text, JSON
// or not); a JSON integer for an integer; a JSON number with a fraction or exponent for a finite real
// that reads back to the same bits; otherwise a tagged object: `{"real": "<16 hex digits of the IEEE
// bits>"}`, `{"text_hex": "…"}` (text that is not UTF-8), `{"blob": "<hex>"}`. An embedding blob
// that is a whole number of finite float32 values is written as the array of those floats.
// ---------------------------------------------------------------------------------------------------

use rusqlite::types::ValueRef;
use serde_json::Value as Json;

/// The columns of `nodes` in export order, then of `edges`.
const NODE_COLS: [&str; 10] = [
    "id",
    "type",
    "title",
    "domain",
    "layer",
    "hash",
    "summary",
    "meta",
    "date",
    "embedding",
];
const EDGE_COLS: [&str; 6] = [
    "source",
    "target",
    "type",
    "confidence",
    "veracity",
    "context_source",
];

/// The header's `kind`.
pub const EXPORT_KIND: &str = "resonance-export";
/// The header's `format`.
pub const EXPORT_FORMAT: i64 = 2;

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// One decoded column value, bound exactly as stored (text as its bytes, UTF-8 or not).
#[derive(Debug, Clone, PartialEq)]
enum Cell {
    Null,
    Integer(i64),
    Real(f64),
    Text(Vec<u8>),
    Blob(Vec<u8>),
}

impl Cell {
    fn same_as(&self, v: ValueRef<'_>) -> bool {
        match (self, v) {
            (Cell::Null, ValueRef::Null) => true,
            (Cell::Integer(a), ValueRef::Integer(b)) => *a == b,
            (Cell::Real(a), ValueRef::Real(b)) => a.to_bits() == b.to_bits(),
            (Cell::Text(a), ValueRef::Text(b)) | (Cell::Blob(a), ValueRef::Blob(b)) => a == b,
            _ => false,
        }
    }
}

impl rusqlite::ToSql for Cell {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        Ok(rusqlite::types::ToSqlOutput::Borrowed(match self {
            Cell::Null => ValueRef::Null,
            Cell::Integer(i) => ValueRef::Integer(*i),
            Cell::Real(f) => ValueRef::Real(*f),
            Cell::Text(t) => ValueRef::Text(t),
            Cell::Blob(b) => ValueRef::Blob(b),
        }))
    }
}

/// Encodes one stored value as JSON text (see the format above), checking that it decodes back to
/// the same value and falling back to the tagged form when it would not.
fn encode(v: ValueRef<'_>, embedding: bool) -> String {
    let exact = |tag: &str, body: String| serde_json::json!({ tag: body }).to_string();
    let natural = match v {
        ValueRef::Null => Some("null".to_string()),
        ValueRef::Integer(i) => Some(i.to_string()),
        ValueRef::Real(f) if f.is_finite() => serde_json::to_string(&f).ok(),
        ValueRef::Real(_) => None,
        ValueRef::Text(t) => std::str::from_utf8(t)
            .ok()
            .and_then(|s| serde_json::to_string(s).ok()),
        ValueRef::Blob(b) if embedding && b.len().is_multiple_of(4) => {
            let floats: Vec<f32> = b
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect();
            if floats.iter().all(|f| f.is_finite()) {
                serde_json::to_string(&floats).ok()
            } else {
                None
            }
        }
        ValueRef::Blob(_) => None,
    };
    if let Some(text) = natural {
        let back = serde_json::from_str::<Json>(&text)
            .ok()
            .and_then(|j| decode(&j, embedding).ok());
        if back.is_some_and(|b| b.same_as(v)) {
            return text;
        }
    }
    match v {
        ValueRef::Real(f) => exact("real", format!("{:016x}", f.to_bits())),
        ValueRef::Text(t) => exact("text_hex", hex(t)),
        ValueRef::Blob(b) => exact("blob", hex(b)),
        // Null and integers always have their natural form.
        ValueRef::Null => "null".into(),
        ValueRef::Integer(i) => i.to_string(),
    }
}

/// Decodes one column value of an export record.
fn decode(j: &Json, embedding: bool) -> std::result::Result<Cell, String> {
    Ok(match j {
        Json::Null => Cell::Null,
        Json::String(s) => Cell::Text(s.as_bytes().to_vec()),
        Json::Number(n) => {
            if let Some(i) = n.as_i64() {
                Cell::Integer(i)
            } else if n.is_u64() {
                return Err(format!("{n} is beyond SQLite's integers"));
            } else {
                Cell::Real(n.as_f64().ok_or_else(|| format!("{n} is not a number"))?)
            }
        }
        Json::Array(a) if embedding => {
            let mut bytes = Vec::with_capacity(a.len() * 4);
            for (i, x) in a.iter().enumerate() {
                let f = x
                    .as_f64()
                    .ok_or_else(|| format!("embedding[{i}] is not a number"))?;
                bytes.extend_from_slice(&(f as f32).to_le_bytes());
            }
            Cell::Blob(bytes)
        }
        Json::Object(o) if o.len() == 1 => {
            let (tag, body) = o.iter().next().expect("one entry");
            let body = body
                .as_str()
                .ok_or_else(|| format!("`{tag}` must hold a string"))?;
            let bytes = || unhex(body).ok_or_else(|| format!("`{tag}` is not hex: {body:?}"));
            match tag.as_str() {
                "blob" => Cell::Blob(bytes()?),
                "text_hex" => Cell::Text(bytes()?),
                "real" => {
                    let bits = u64::from_str_radix(body, 16)
                        .ok()
                        .filter(|_| body.len() == 16)
                        .ok_or_else(|| format!("`real` must be 16 hex digits, got {body:?}"))?;
                    Cell::Real(f64::from_bits(bits))
                }
                _ => return Err(format!("unknown tag `{tag}`")),
            }
        }
        other => return Err(format!("unexpected value {other}")),
    })
}

fn has_meta_table(conn: &Connection) -> Result<bool> {
    Ok(crate::schema::object_names(conn, "table")?.contains("resonance_meta"))
}

fn stored_dimension(conn: &Connection) -> Result<Option<String>> {
    if !has_meta_table(conn)? {
        return Ok(None);
    }
    use rusqlite::OptionalExtension;
    conn.query_row(
        "SELECT value FROM resonance_meta WHERE key = 'dimension'",
        [],
        |r| r.get(0),
    )
    .optional()
    .ctx("reading the dimension")
}

/// Writes `table`'s rows (ordered by `order`) as records of `kind`, every column encoded exactly.
fn export_table(
    conn: &Connection,
    out: &mut impl std::io::Write,
    kind: &str,
    table: &str,
    cols: &[&str],
    order: &str,
) -> Result<usize> {
    let at = format!("exporting {table}");
    let q = format!(
        "SELECT {} FROM {table} ORDER BY {order}",
        cols.iter()
            .map(|c| format!("\"{c}\""))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mut stmt = conn.prepare(&q).ctx(&at)?;
    let mut rows = stmt.query([]).ctx(&at)?;
    let mut n = 0;
    while let Some(row) = rows.next().ctx(&at)? {
        let mut line = format!("{{\"kind\":\"{kind}\"");
        for (i, c) in cols.iter().enumerate() {
            let v = row.get_ref(i).ctx(&at)?;
            line.push_str(&format!(",\"{c}\":{}", encode(v, *c == "embedding")));
        }
        line.push('}');
        writeln!(out, "{line}").map_err(|e| Error::Io {
            message: format!("writing the export: {e}"),
            source: Some(e),
        })?;
        n += 1;
    }
    Ok(n)
}

/// How many nodes and edges an export or an import wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RowCounts {
    /// Nodes written.
    pub nodes: usize,
    /// Edges written.
    pub edges: usize,
}

/// Writes the exact export of `db` (the format above) to `out`, from one read snapshot. Returns the
/// number of nodes and of edges written.
pub fn export_jsonl(db: &crate::Database, mut out: impl std::io::Write) -> Result<RowCounts> {
    db.with_state(|s| {
        crate::Database::read_consistent(&s.conn, |conn| {
            let header = format!(
                "{{\"kind\":\"{EXPORT_KIND}\",\"format\":{EXPORT_FORMAT},\"dimension\":{}}}",
                Json::from(stored_dimension(conn)?)
            );
            let io = |e: std::io::Error| Error::Io {
                message: format!("writing the export: {e}"),
                source: Some(e),
            };
            writeln!(out, "{header}").map_err(io)?;
            let nodes = export_table(conn, &mut out, "node", "nodes", &NODE_COLS, "id")?;
            let edges = export_table(
                conn,
                &mut out,
                "edge",
                "edges",
                &EDGE_COLS,
                "source, target, type",
            )?;
            out.flush().map_err(io)?;
            Ok(RowCounts { nodes, edges })
        })
    })
}

/// Decodes the columns `cols` of record `o` (line `line`); a missing column is NULL, an unknown key
/// is an error.
fn record_cells(
    o: &serde_json::Map<String, Json>,
    cols: &[&str],
    line: usize,
) -> Result<Vec<Cell>> {
    if let Some(k) = o
        .keys()
        .find(|k| *k != "kind" && !cols.contains(&k.as_str()))
    {
        return Err(Error::InvalidArgument(format!(
            "line {line}: unknown field `{k}`"
        )));
    }
    cols.iter()
        .map(|c| match o.get(*c) {
            None => Ok(Cell::Null),
            Some(j) => decode(j, *c == "embedding")
                .map_err(|e| Error::InvalidArgument(format!("line {line}: `{c}`: {e}"))),
        })
        .collect()
}

/// Checks the header (line `line`) and records its dimension in a database that has none.
fn import_header(conn: &Connection, o: &serde_json::Map<String, Json>, line: usize) -> Result<()> {
    if o.get("format").and_then(Json::as_i64) != Some(EXPORT_FORMAT) {
        return Err(Error::InvalidArgument(format!(
            "line {line}: this export's format is {}, this version reads format {EXPORT_FORMAT}",
            o.get("format").unwrap_or(&Json::Null)
        )));
    }
    let dim = match o.get("dimension") {
        None | Some(Json::Null) => return Ok(()),
        Some(Json::String(d)) => d,
        Some(other) => {
            return Err(Error::InvalidArgument(format!(
                "line {line}: `dimension` must be a string or null, got {other}"
            )))
        }
    };
    match stored_dimension(conn)? {
        None if has_meta_table(conn)? => {
            conn.execute(
                "INSERT INTO resonance_meta (key, value) VALUES ('dimension', ?1)",
                [dim],
            )
            .ctx("recording the dimension")?;
            Ok(())
        }
        None => Ok(()),
        Some(have) if &have == dim => Ok(()),
        Some(have) => match (have.parse::<usize>(), dim.parse::<usize>()) {
            (Ok(expected), Ok(got)) => Err(Error::DimensionMismatch {
                expected,
                got,
                context: format!("line {line}: the export's header"),
            }),
            _ => Err(Error::InvalidArgument(format!(
                "line {line}: the export's dimension {dim:?} differs from the database's {have:?}"
            ))),
        },
    }
}

/// Imports an exact export (the format above) into `db` in one transaction: every row is written as
/// it was stored (an existing node or edge with the same key is overwritten), dangling edges
/// included; no history rows are written (the history is not part of an export). All or nothing: the
/// error names the line of the first bad record. `progress` is told the bytes of each line. Returns
/// the number of nodes and of edges written.
pub fn import_jsonl(
    db: &crate::Database,
    reader: impl std::io::BufRead,
    mut progress: impl FnMut(u64),
) -> Result<RowCounts> {
    let list = |cols: &[&str]| {
        cols.iter()
            .map(|c| format!("\"{c}\""))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let params = |n: usize| {
        (1..=n)
            .map(|i| format!("?{i}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let set = |cols: &[&str]| {
        cols.iter()
            .map(|c| format!("\"{c}\" = excluded.\"{c}\""))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let node_sql = format!(
        "INSERT INTO nodes ({}) VALUES ({}) ON CONFLICT (id) DO UPDATE SET {}",
        list(&NODE_COLS),
        params(NODE_COLS.len()),
        set(&NODE_COLS[1..])
    );
    let edge_sql = format!(
        "INSERT INTO edges ({}) VALUES ({}) ON CONFLICT (source, target, type) DO UPDATE SET {}",
        list(&EDGE_COLS),
        params(EDGE_COLS.len()),
        set(&EDGE_COLS[3..])
    );
    db.write("import", |conn, _pending, caches| {
        // Rows are written below the caches' bookkeeping: they are rebuilt from the file.
        caches.invalidate();
        let (mut nodes, mut edges) = (0, 0);
        let mut header = false;
        for (i, line) in reader.lines().enumerate() {
            let n = i + 1;
            let line = line.map_err(|e| Error::Io {
                message: format!("reading line {n}: {e}"),
                source: Some(e),
            })?;
            progress(line.len() as u64 + 1);
            if line.trim().is_empty() {
                continue;
            }
            let v: Json = serde_json::from_str(&line)
                .map_err(|e| Error::InvalidArgument(format!("line {n}: not valid JSON: {e}")))?;
            let Json::Object(o) = v else {
                return Err(Error::InvalidArgument(format!(
                    "line {n}: a record must be a JSON object"
                )));
            };
            let kind = o.get("kind").and_then(Json::as_str);
            if !header {
                if kind != Some(EXPORT_KIND) {
                    return Err(Error::InvalidArgument(format!(
                        "line {n}: an exact export begins with its header {{\"kind\":\"{EXPORT_KIND}\",…}}"
                    )));
                }
                import_header(conn, &o, n)?;
                header = true;
                continue;
            }
            let (sql, cols, what) = match kind {
                Some("node") => (&node_sql, &NODE_COLS[..], "node"),
                Some("edge") => (&edge_sql, &EDGE_COLS[..], "edge"),
                _ => {
                    return Err(Error::InvalidArgument(format!(
                        "line {n}: `kind` must be \"node\" or \"edge\""
                    )))
                }
            };
            let cells = record_cells(&o, cols, n)?;
            conn.prepare_cached(sql)
                .and_then(|mut st| st.execute(rusqlite::params_from_iter(cells.iter())))
                .map_err(|e| Error::sqlite(e, format!("line {n}: importing the {what}")))?;
            if what == "node" {
                nodes += 1;
            } else {
                edges += 1;
            }
        }
        if !header {
            return Err(Error::InvalidArgument(
                "the export is empty (not even its header)".into(),
            ));
        }
        Ok(RowCounts { nodes, edges })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn impossible_destinations_are_invalid_arguments_and_leave_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let conn = Connection::open(dir.path().join("a.db")).unwrap();
        conn.execute_batch("CREATE TABLE t(x); INSERT INTO t VALUES (1);")
            .unwrap();
        for dest in ["", "b\0.db"] {
            let err = backup_to(&conn, Path::new(dest)).unwrap_err();
            assert_eq!(err.code(), "invalid_argument", "{dest:?}: {err}");
        }
        // A destination whose folder cannot exist (it would be inside a file) fails and leaves nothing.
        let blocker = dir.path().join("file");
        std::fs::write(&blocker, b"x").unwrap();
        assert!(backup_to(&conn, &blocker.join("copy.db")).is_err());
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 2, "left behind: {names:?}");
    }

    #[test]
    fn backup_is_checked_and_self_contained() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("a.db");
        let conn = Connection::open(&db).unwrap();
        conn.execute_batch(
            "PRAGMA journal_mode=WAL; CREATE TABLE t(x); INSERT INTO t VALUES (1),(2);",
        )
        .unwrap();
        let dest = dir.path().join("copy.db");
        backup_to(&conn, &dest).unwrap();
        assert!(!dir.path().join("copy.db-wal").exists());
        let c2 = Connection::open(&dest).unwrap();
        let n: i64 = c2
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 2);
        assert_eq!(
            backup_to(&conn, &dest).unwrap_err().code(),
            "invalid_argument"
        );
    }

    #[test]
    fn prune_keeps_the_newest_and_recent_ones() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("a.db");
        let conn = Connection::open(&db).unwrap();
        conn.execute_batch("CREATE TABLE t(x)").unwrap();
        let first = auto_backup(&conn, &db, "one", 7).unwrap();
        let second = auto_backup(&conn, &db, "two", 7).unwrap();
        // Age the first by 10 days.
        let old = SystemTime::now() - Duration::from_secs(10 * 86_400);
        std::fs::File::options()
            .write(true)
            .open(&first)
            .unwrap()
            .set_modified(old)
            .unwrap();
        let deleted = prune(&db, 7).unwrap();
        assert_eq!(deleted, vec![first.clone()]);
        assert!(second.exists());
        // Retention 0 still keeps the newest.
        std::fs::File::options()
            .write(true)
            .open(&second)
            .unwrap()
            .set_modified(old)
            .unwrap();
        assert!(prune(&db, 0).unwrap().is_empty());
        assert!(second.exists());
    }
    fn age(path: &Path, days: u64) {
        let old = SystemTime::now() - Duration::from_secs(days * 86_400);
        std::fs::File::options()
            .write(true)
            .open(path)
            .unwrap()
            .set_modified(old)
            .unwrap();
    }

    #[test]
    fn prune_touches_only_this_databases_own_backup_names() {
        let dir = tempfile::tempdir().unwrap();
        let kb = dir.path().join("kb");
        let work = dir.path().join("kb-work");
        let c1 = Connection::open(&kb).unwrap();
        c1.execute_batch("CREATE TABLE t(x)").unwrap();
        let c2 = Connection::open(&work).unwrap();
        c2.execute_batch("CREATE TABLE t(x)").unwrap();
        let kb_old = auto_backup(&c1, &kb, "one", 7).unwrap();
        let work_old = auto_backup(&c2, &work, "one", 7).unwrap();
        let work_new = auto_backup(&c2, &work, "two", 7).unwrap();
        // Files that only look like backups of `kb`: a user's file and names off the engine's pattern.
        let lookalikes = [
            "kb-notes.bak",
            "kb-20260101T000000.000Z.bak",
            "kb-20260101T000000.000Z-step-x.bak",
            "kb-2026010XT000000.000Z-step-1.bak",
        ];
        for n in lookalikes {
            std::fs::write(dir.path().join("backups").join(n), b"mine").unwrap();
        }
        for p in [&kb_old, &work_old, &work_new] {
            age(p, 10);
        }
        for n in lookalikes {
            age(&dir.path().join("backups").join(n), 10);
        }
        let kb_new = auto_backup(&c1, &kb, "two", 7).unwrap();
        assert!(!kb_old.exists(), "kb's old backup is pruned");
        assert!(kb_new.exists());
        assert!(
            work_old.exists() && work_new.exists(),
            "kb-work's backups are not kb's"
        );
        for n in lookalikes {
            assert!(
                dir.path().join("backups").join(n).exists(),
                "{n} was deleted"
            );
        }
    }

    #[test]
    fn own_backup_names_are_parsed_not_prefix_matched() {
        assert!(is_own_backup("kb-20261203T162812.123Z-manual-42.bak", "kb"));
        assert!(is_own_backup(
            "kb-20261203T162812.123Z-V1__x-y-42.bak",
            "kb"
        ));
        assert!(is_own_backup(
            "kb-work-20261203T162812.123Z-manual-42.bak",
            "kb-work"
        ));
        assert!(!is_own_backup(
            "kb-work-20261203T162812.123Z-manual-42.bak",
            "kb"
        ));
        assert!(!is_own_backup("kb-20261203T162812.123Z--42.bak", "kb"));
        assert!(!is_own_backup("kb-20261203T162812.123Z-manual-.bak", "kb"));
        assert!(!is_own_backup(
            "kb-20261203T162812.123Z-man ual-1.bak",
            "kb"
        ));
        assert!(!is_own_backup(
            "kb-20261203T162812.123Z-manual-1.bak.tmp",
            "kb"
        ));
        assert!(!is_own_backup("kb-20261203T1628121123Z-manual-1.bak", "kb"));
        assert!(is_own_backup(
            &format!("kb-{}-manual-1.bak", utc_stamp()),
            "kb"
        ));
    }

    #[cfg(unix)]
    fn mode(p: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o7777
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_planted_at_the_old_temporary_name_is_not_followed() {
        use std::os::unix::fs::symlink;
        let dir = tempfile::tempdir().unwrap();
        let conn = Connection::open(dir.path().join("a.db")).unwrap();
        conn.execute_batch("CREATE TABLE t(x); INSERT INTO t VALUES (1);")
            .unwrap();
        let victim = dir.path().join("victim.db");
        let v = Connection::open(&victim).unwrap();
        v.execute_batch("CREATE TABLE precious(y); INSERT INTO precious VALUES (7);")
            .unwrap();
        drop(v);
        let before = std::fs::read(&victim).unwrap();
        let pid = std::process::id();
        let dest = dir.path().join("copy.db");
        symlink(&victim, dir.path().join(format!("copy.db.partial-{pid}"))).unwrap();
        let dest2 = dir.path().join("copy2.db");
        let nowhere = dir.path().join("created-through-a-link");
        symlink(&nowhere, dir.path().join(format!("copy2.db.partial-{pid}"))).unwrap();
        backup_to(&conn, &dest).unwrap();
        backup_to(&conn, &dest2).unwrap();
        assert_eq!(
            std::fs::read(&victim).unwrap(),
            before,
            "the victim changed"
        );
        assert!(!nowhere.exists(), "a dangling link's target was created");
        for d in [&dest, &dest2] {
            assert!(std::fs::symlink_metadata(d).unwrap().file_type().is_file());
            let n: i64 = Connection::open(d)
                .unwrap()
                .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
                .unwrap();
            assert_eq!(n, 1);
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_at_the_destination_is_refused_and_left_alone() {
        use std::os::unix::fs::symlink;
        let dir = tempfile::tempdir().unwrap();
        let conn = Connection::open(dir.path().join("a.db")).unwrap();
        conn.execute_batch("CREATE TABLE t(x)").unwrap();
        let nowhere = dir.path().join("nowhere");
        let dest = dir.path().join("copy.db");
        symlink(&nowhere, &dest).unwrap();
        let err = backup_to(&conn, &dest).unwrap_err();
        assert_eq!(err.code(), "invalid_argument", "{err}");
        assert!(std::fs::symlink_metadata(&dest)
            .unwrap()
            .file_type()
            .is_symlink());
        assert!(!nowhere.exists());
        let mut names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, ["a.db", "copy.db"], "left behind");
    }

    #[cfg(unix)]
    #[test]
    fn a_backup_is_no_more_readable_than_its_source() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("a.db");
        let conn = Connection::open(&db).unwrap();
        conn.execute_batch("CREATE TABLE t(x)").unwrap();
        std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o600)).unwrap();
        let dest = dir.path().join("copy.db");
        backup_to(&conn, &dest).unwrap();
        assert_eq!(mode(&dest) & 0o077, 0, "copy mode {:o}", mode(&dest));
        let auto = auto_backup(&conn, &db, "manual", 7).unwrap();
        assert_eq!(mode(&auto) & 0o077, 0, "backup mode {:o}", mode(&auto));
        let folder = backup_dir(&db);
        assert_eq!(
            mode(&folder) & 0o077,
            0,
            "backups/ mode {:o}",
            mode(&folder)
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_symlinked_backups_folder_is_refused() {
        use std::os::unix::fs::symlink;
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("a.db");
        let conn = Connection::open(&db).unwrap();
        conn.execute_batch("CREATE TABLE t(x)").unwrap();
        let elsewhere = tempfile::tempdir().unwrap();
        symlink(elsewhere.path(), dir.path().join("backups")).unwrap();
        let err = auto_backup(&conn, &db, "manual", 7).unwrap_err();
        assert_eq!(err.code(), "io", "{err}");
        assert!(err.to_string().contains("backups"), "{err}");
        assert_eq!(std::fs::read_dir(elsewhere.path()).unwrap().count(), 0);
        // Dangling: nothing is created where it points.
        std::fs::remove_file(dir.path().join("backups")).unwrap();
        let nowhere = dir.path().join("nowhere");
        symlink(&nowhere, dir.path().join("backups")).unwrap();
        assert_eq!(
            auto_backup(&conn, &db, "manual", 7).unwrap_err().code(),
            "io"
        );
        assert!(!nowhere.exists());
    }

    fn round_trip(v: ValueRef<'_>, embedding: bool) -> Cell {
        let text = encode(v, embedding);
        let j: Json = serde_json::from_str(&text).unwrap();
        decode(&j, embedding).unwrap()
    }

    #[test]
    fn odd_values_are_tagged_and_plain_ones_are_not() {
        assert_eq!(
            encode(ValueRef::Real(f64::INFINITY), false),
            r#"{"real":"7ff0000000000000"}"#
        );
        assert_eq!(encode(ValueRef::Real(0.5), false), "0.5");
        assert_eq!(encode(ValueRef::Real(-0.0), false), "-0.0");
        assert_eq!(
            encode(ValueRef::Integer(i64::MIN), false),
            i64::MIN.to_string()
        );
        assert_eq!(encode(ValueRef::Text(b"hello"), false), r#""hello""#);
        assert_eq!(
            encode(ValueRef::Text(b"\xff"), false),
            r#"{"text_hex":"ff"}"#
        );
        assert_eq!(encode(ValueRef::Blob(b"\x01"), false), r#"{"blob":"01"}"#);
        assert_eq!(encode(ValueRef::Blob(&1f32.to_le_bytes()), true), "[1.0]");
        assert_eq!(
            encode(ValueRef::Blob(&f32::NAN.to_le_bytes()), true),
            r#"{"blob":"0000c07f"}"#
        );
        assert_eq!(
            encode(ValueRef::Blob(b"\0\0\x80"), true),
            r#"{"blob":"000080"}"#
        );
        for bad in [
            r#"{"real":"7ff"}"#,
            r#"{"blob":"zz"}"#,
            r#"{"x":"00"}"#,
            "18446744073709551615",
            "[1]",
            "true",
        ] {
            assert!(
                decode(&serde_json::from_str(bad).unwrap(), false).is_err(),
                "{bad}"
            );
        }
    }

    proptest::proptest! {
        #[test]
        fn every_stored_value_round_trips(bits: u64, i: i64, bytes: Vec<u8>, floats: Vec<f32>) {
            let f = f64::from_bits(bits);
            proptest::prop_assume!(!f.is_nan());
            proptest::prop_assert!(round_trip(ValueRef::Real(f), false).same_as(ValueRef::Real(f)));
            proptest::prop_assert!(round_trip(ValueRef::Integer(i), false).same_as(ValueRef::Integer(i)));
            for embedding in [false, true] {
                proptest::prop_assert!(round_trip(ValueRef::Text(&bytes), embedding).same_as(ValueRef::Text(&bytes)));
                proptest::prop_assert!(round_trip(ValueRef::Blob(&bytes), embedding).same_as(ValueRef::Blob(&bytes)));
            }
            let blob: Vec<u8> = floats.iter().flat_map(|x| x.to_le_bytes()).collect();
            proptest::prop_assert!(round_trip(ValueRef::Blob(&blob), true).same_as(ValueRef::Blob(&blob)));
        }
    }
}
