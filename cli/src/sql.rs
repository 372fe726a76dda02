//! `resonance sql`: SQL through a plain, hardened connection.

use std::path::Path;

use resonance::Error;
use serde_json::{json, Value};

/// `resonance sql`: opens `path` with a plain connection (hardened: busy timeout, trusted_schema off,
/// defensive mode), never creating it unless `create`, and runs one statement (or, with `script`,
/// each statement in order), printing the rows of each as JSON lines.
pub fn raw_sql(path: &Path, sql: &str, create: bool, script: bool) -> resonance::Result<()> {
    use rusqlite::fallible_iterator::FallibleIterator as _;
    use rusqlite::OpenFlags;
    if path.as_os_str().is_empty() {
        return Err(Error::InvalidArgument("the database path is empty".into()));
    }
    if !create {
        match std::fs::metadata(path) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::Io {
                    message: format!(
                        "{} does not exist (give --create to make a new database file)",
                        path.display()
                    ),
                    source: Some(e),
                })
            }
            Err(e) => return Err(Error::io("cannot open", path, e)),
        }
    }
    // Without SQLITE_OPEN_CREATE a file that vanished meanwhile is an error too; no URI parsing.
    let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    if create {
        flags |= OpenFlags::SQLITE_OPEN_CREATE;
    }
    let at = format!("opening {}", path.display());
    let conn =
        rusqlite::Connection::open_with_flags(path, flags).map_err(|e| Error::sqlite(e, &at))?;
    conn.busy_timeout(std::time::Duration::from_millis(u64::from(
        resonance::connection::DEFAULT_BUSY_TIMEOUT_MS,
    )))
    .map_err(|e| Error::sqlite(e, "busy_timeout"))?;
    conn.pragma_update(None, "trusted_schema", false)
        .map_err(|e| Error::sqlite(e, "setting trusted_schema"))?;
    conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_DEFENSIVE, true)
        .map_err(|e| Error::sqlite(e, "enabling SQLITE_DBCONFIG_DEFENSIVE"))?;
    let mut batch = rusqlite::Batch::new(&conn, sql);
    if !script {
        let Some(mut stmt) = batch
            .next()
            .map_err(|e| Error::sqlite(e, "preparing the SQL"))?
        else {
            return Err(Error::InvalidArgument("no SQL statement given".into()));
        };
        // Prepared (never run) only to see whether more follows.
        let more = !matches!(batch.next(), Ok(None));
        if more {
            return Err(Error::InvalidArgument(
                "`resonance sql` runs one statement and this SQL holds more than one; nothing was run \
                 (give --script to run several statements in order)"
                    .into(),
            ));
        }
        return print_rows(&mut stmt);
    }
    while let Some(mut stmt) = batch
        .next()
        .map_err(|e| Error::sqlite(e, "preparing the SQL"))?
    {
        print_rows(&mut stmt)?;
    }
    Ok(())
}

/// Runs `stmt` and prints each result row as a JSON object (blobs as hex).
fn print_rows(stmt: &mut rusqlite::Statement<'_>) -> resonance::Result<()> {
    let names: Vec<String> = stmt.column_names().iter().map(|s| s.to_string()).collect();
    let mut rows = stmt
        .query([])
        .map_err(|e| Error::sqlite(e, "running SQL"))?;
    while let Some(row) = rows.next().map_err(|e| Error::sqlite(e, "running SQL"))? {
        let mut o = serde_json::Map::new();
        for (i, name) in names.iter().enumerate() {
            let v = match row
                .get_ref(i)
                .map_err(|e| Error::sqlite(e, "reading a row"))?
            {
                rusqlite::types::ValueRef::Null => Value::Null,
                rusqlite::types::ValueRef::Integer(x) => json!(x),
                rusqlite::types::ValueRef::Real(x) => json!(x),
                rusqlite::types::ValueRef::Text(t) => json!(String::from_utf8_lossy(t)),
                rusqlite::types::ValueRef::Blob(b) => {
                    json!(b.iter().map(|x| format!("{x:02x}")).collect::<String>())
                }
            };
            o.insert(name.clone(), v);
        }
        println!("{}", Value::Object(o));
    }
    Ok(())
}
