//! `resonance sql`: application SQL through the engine (its authorizer's rules, docs/sql.md), or, with
//! `--raw`, SQL through a plain, hardened connection (read-only unless `--write`: a test fixture
//! playing "another program wrote this file").

use std::path::Path;

use resonance::{Database, Error, OpenOptions, Params, Value as SqlValue};
use serde_json::{json, Value};

/// Parses one `--param` (its syntax is in `resonance sql --help`): the name (named parameters) and the value.
pub fn parse_param(arg: &str) -> resonance::Result<(Option<String>, SqlValue)> {
    let (name, v) = match arg.chars().next() {
        Some(':' | '@' | '$') => match arg.split_once('=') {
            Some((n, v)) if n.len() > 1 => (Some(n.to_owned()), v),
            _ => {
                return Err(Error::InvalidArgument(format!(
                    "--param {arg:?}: a named parameter is NAME=VALUE (e.g. :id=int:5)"
                )))
            }
        },
        _ => (None, arg),
    };
    let bad = |why: String| Error::InvalidArgument(format!("--param {arg:?}: {why}"));
    let value = if v == "null" {
        SqlValue::Null
    } else if let Some(x) = v.strip_prefix("int:") {
        SqlValue::Integer(
            x.trim()
                .parse()
                .map_err(|e| bad(format!("not a 64-bit integer ({e})")))?,
        )
    } else if let Some(x) = v.strip_prefix("real:") {
        SqlValue::Real(
            x.trim()
                .parse()
                .map_err(|e| bad(format!("not a number ({e})")))?,
        )
    } else if let Some(x) = v.strip_prefix("text:") {
        SqlValue::Text(x.to_owned())
    } else if let Some(x) = v.strip_prefix("blob:") {
        SqlValue::Blob(hex(x).ok_or_else(|| bad("a blob is an even number of hex digits".into()))?)
    } else {
        SqlValue::Text(v.to_owned())
    };
    Ok((name, value))
}

fn hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || !s.is_ascii() {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

/// The `--param` values as the engine's [`Params`]: all positional or all named.
pub fn params(args: &[String]) -> resonance::Result<Params> {
    let parsed = args
        .iter()
        .map(|a| parse_param(a))
        .collect::<resonance::Result<Vec<_>>>()?;
    let named = parsed.iter().filter(|(n, _)| n.is_some()).count();
    if named == 0 {
        Ok(Params::Positional(
            parsed.into_iter().map(|(_, v)| v).collect(),
        ))
    } else if named == parsed.len() {
        Ok(Params::Named(
            parsed
                .into_iter()
                .filter_map(|(n, v)| n.map(|n| (n, v)))
                .collect(),
        ))
    } else {
        Err(Error::InvalidArgument(
            "--param: give every parameter by position or every one by name, not both".into(),
        ))
    }
}

/// How `resonance sql` prints rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A header line of column names, then one line per row, tab-separated (NULL as `NULL`, blobs as
    /// `x'hex'`).
    Table,
    /// One JSON object per row and line (blobs as hex strings).
    Json,
}

/// `resonance sql` through the engine: opens `path` (it must exist unless `create`) with the
/// engine's rules and runs one statement with `params` (or, with `script`, a script without
/// parameters as one unit), printing the rows.
pub fn engine_sql(
    path: &Path,
    sql: &str,
    params: &Params,
    create: bool,
    script: bool,
    format: Format,
) -> resonance::Result<()> {
    if !create {
        must_exist(path)?;
    }
    let db = Database::open_with(path, OpenOptions::default())?;
    if script {
        if *params != Params::default() {
            return Err(Error::InvalidArgument(
                "--param is for one statement: a --script takes no parameters".into(),
            ));
        }
        return db.execute_batch(sql);
    }
    let rows = db.query(sql, params)?;
    print_header(&rows.columns, format);
    for r in rows.rows {
        let cells = r.into_iter().map(|v| match v {
            SqlValue::Null => ValueOut::Null,
            SqlValue::Integer(i) => ValueOut::Int(i),
            SqlValue::Real(f) => ValueOut::Real(f),
            SqlValue::Text(t) => ValueOut::Text(t),
            SqlValue::Blob(b) => ValueOut::Blob(b),
        });
        print_row(&rows.columns, cells.collect(), format);
    }
    Ok(())
}

fn must_exist(path: &Path) -> resonance::Result<()> {
    if path.as_os_str().is_empty() {
        return Err(Error::InvalidArgument("the database path is empty".into()));
    }
    match std::fs::metadata(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(Error::Io {
            message: format!(
                "{} does not exist (give --create to make a new database file)",
                path.display()
            ),
            source: Some(e),
        }),
        Err(e) => Err(Error::io("cannot open", path, e)),
    }
}

/// One printed cell.
enum ValueOut {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

fn to_hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn print_header(columns: &[String], format: Format) {
    if format == Format::Table && !columns.is_empty() {
        println!("{}", columns.join("\t"));
    }
}

fn print_row(columns: &[String], cells: Vec<ValueOut>, format: Format) {
    match format {
        Format::Json => {
            let mut o = serde_json::Map::new();
            for (name, v) in columns.iter().zip(cells) {
                let v = match v {
                    ValueOut::Null => Value::Null,
                    ValueOut::Int(x) => json!(x),
                    ValueOut::Real(x) => json!(x),
                    ValueOut::Text(t) => json!(t),
                    ValueOut::Blob(b) => json!(to_hex(&b)),
                };
                o.insert(name.clone(), v);
            }
            println!("{}", Value::Object(o));
        }
        Format::Table => {
            let line: Vec<String> = cells
                .into_iter()
                .map(|v| match v {
                    ValueOut::Null => "NULL".into(),
                    ValueOut::Int(x) => x.to_string(),
                    ValueOut::Real(x) => x.to_string(),
                    ValueOut::Text(t) => t,
                    ValueOut::Blob(b) => format!("x'{}'", to_hex(&b)),
                })
                .collect();
            println!("{}", line.join("\t"));
        }
    }
}

/// `resonance sql --raw`: opens `path` with a plain connection (hardened: busy timeout,
/// trusted_schema off, defensive mode; `PRAGMA query_only` unless `write`), never creating it unless
/// `create`, and runs one statement (or, with `script`, each statement in order), printing the rows
/// of each.
pub fn raw_sql(
    path: &Path,
    sql: &str,
    create: bool,
    script: bool,
    write: bool,
    format: Format,
) -> resonance::Result<()> {
    use rusqlite::fallible_iterator::FallibleIterator as _;
    use rusqlite::OpenFlags;
    if create && !write {
        return Err(Error::InvalidArgument(
            "--create with --raw needs --write (the plain connection is read-only otherwise)"
                .into(),
        ));
    }
    if !create {
        must_exist(path)?;
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
    if !write {
        conn.pragma_update(None, "query_only", true)
            .map_err(|e| Error::sqlite(e, "setting query_only"))?;
    }
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
        return print_rows(&mut stmt, format);
    }
    while let Some(mut stmt) = batch
        .next()
        .map_err(|e| Error::sqlite(e, "preparing the SQL"))?
    {
        print_rows(&mut stmt, format)?;
    }
    Ok(())
}

/// Runs `stmt` and prints its rows (text that is not UTF-8 is shown lossily).
fn print_rows(stmt: &mut rusqlite::Statement<'_>, format: Format) -> resonance::Result<()> {
    use rusqlite::types::ValueRef;
    let names: Vec<String> = stmt.column_names().iter().map(|s| s.to_string()).collect();
    let mut rows = stmt
        .query([])
        .map_err(|e| Error::sqlite(e, "running SQL"))?;
    let mut first = true;
    while let Some(row) = rows.next().map_err(|e| Error::sqlite(e, "running SQL"))? {
        if first {
            print_header(&names, format);
            first = false;
        }
        let mut cells = Vec::with_capacity(names.len());
        for i in 0..names.len() {
            cells.push(
                match row
                    .get_ref(i)
                    .map_err(|e| Error::sqlite(e, "reading a row"))?
                {
                    ValueRef::Null => ValueOut::Null,
                    ValueRef::Integer(x) => ValueOut::Int(x),
                    ValueRef::Real(x) => ValueOut::Real(x),
                    ValueRef::Text(t) => ValueOut::Text(String::from_utf8_lossy(t).into_owned()),
                    ValueRef::Blob(b) => ValueOut::Blob(b.to_vec()),
                },
            );
        }
        print_row(&names, cells, format);
    }
    Ok(())
}
