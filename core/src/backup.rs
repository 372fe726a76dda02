//! Online backups (SQLite's backup API), checked with `integrity_check`, and their retention.
//!
//! A backup is one self-contained file (rollback-journal mode, no `-wal`), written beside its final
//! name and renamed into place only once checked. This module must not change the source database.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use rusqlite::backup::{Backup, StepResult};
use rusqlite::Connection;

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

/// Copies the main database of `conn` to `dest` (which must not exist) with the online backup API,
/// checks the copy with `integrity_check`, and only then moves it into place.
pub fn backup_to(conn: &Connection, dest: &Path) -> Result<()> {
    crate::connection::check_path(dest, "backup destination")?;
    if dest.exists() {
        return Err(Error::InvalidArgument(format!(
            "backup destination {} already exists; choose another path",
            show(dest)
        )));
    }
    if let Some(parent) = dest.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|e| Error::io("cannot create the folder", parent, e))?;
    }
    let mut tmp = dest.as_os_str().to_owned();
    tmp.push(format!(".partial-{}", std::process::id()));
    let tmp = PathBuf::from(tmp);
    let result = copy_and_check(conn, &tmp);
    match result {
        Ok(()) => std::fs::rename(&tmp, dest).map_err(|e| {
            // Never leave the full copy behind under its temporary name.
            let _ = std::fs::remove_file(&tmp);
            Error::io("cannot move the backup to", dest, e)
        }),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

fn copy_and_check(conn: &Connection, tmp: &Path) -> Result<()> {
    let at = format!("backing up to {}", show(tmp));
    let mut dst = Connection::open(tmp).ctx(&at)?;
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
    // One self-contained file: no -wal beside it.
    let _: String = dst
        .query_row("PRAGMA journal_mode = DELETE", [], |r| r.get(0))
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

/// The UTC time as `YYYYMMDDTHHMMSS.mmmZ`.
fn utc_stamp() -> String {
    let now = time::OffsetDateTime::now_utc();
    let fmt = time::macros::format_description!(
        "[year][month][day]T[hour][minute][second].[subsecond digits:3]Z"
    );
    now.format(&fmt)
        .unwrap_or_else(|_| now.unix_timestamp().to_string())
}

/// Backs `conn` (the database at `db_path`) up into `backups/` beside it, named with the UTC time and
/// `label` (the schema step), then prunes backups older than `retention_days` (keeping the newest).
pub fn auto_backup(
    conn: &Connection,
    db_path: &Path,
    label: &str,
    retention_days: u32,
) -> Result<PathBuf> {
    let dir = backup_dir(db_path);
    let safe_label: String = label
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
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

/// Deletes automatic backups of `db_path` older than `retention_days`, always keeping the newest.
/// Returns what it deleted.
pub fn prune(db_path: &Path, retention_days: u32) -> Result<Vec<PathBuf>> {
    let dir = backup_dir(db_path);
    let prefix = format!("{}-", stem(db_path));
    let entries = match std::fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io("cannot list", &dir, e)),
    };
    let mut backups: Vec<(SystemTime, PathBuf)> = entries
        .filter_map(|e| e.ok())
        .filter(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            n.starts_with(&prefix) && n.ends_with(".bak")
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
}
