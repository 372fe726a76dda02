//! The one error type of the engine and its stable kind codes (docs/errors.md).
//!
//! Every binding maps [`Error::code`] exactly once: C status `RESONANCE_<KIND>`, Python
//! `resonance.<Kind>Error`, JS `err.code`. This module owns the mapping from SQLite's result codes to
//! kinds; it must not know about any binding.

use std::path::Path;

/// The stable error kinds, in the order of their C status codes (1-based; 0 is "ok").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// An argument was malformed (empty id, invalid JSON meta, bad option value…).
    InvalidArgument,
    /// A vector was empty, held NaN/Inf or had a norm ≤ 1e-6.
    InvalidVector,
    /// A vector's length differs from the database's dimension.
    DimensionMismatch,
    /// A node, edge or other entity was not found.
    NotFound,
    /// The database was locked by another connection past the busy timeout.
    Busy,
    /// A write through a read-only handle or to a read-only file.
    Readonly,
    /// The database file is damaged.
    Corrupt,
    /// The file is not a SQLite database.
    NotADatabase,
    /// A constraint was violated.
    Constraint,
    /// The schema matches none of the known shapes.
    SchemaUnknown,
    /// The database was written by a newer program (or its migrations drifted).
    SchemaTooNew,
    /// A migration failed; the database is as it was before.
    MigrationFailed,
    /// A destructive migration was refused because it was not explicitly allowed.
    DestructiveRefused,
    /// The handle was closed.
    Closed,
    /// A file-system error (permissions, disk full, missing directory…).
    Io,
    /// Any other SQLite failure, with its extended code.
    Sqlite,
    /// A caught panic or a broken invariant.
    Internal,
    /// A call stopped by `Database::interrupt()`, a cancelled `CancelToken`, Ctrl-C in Python or an
    /// AbortSignal in Node; the handle stays usable and a write it was making is rolled back.
    Interrupted,
}

impl ErrorKind {
    /// Every kind, in status-code order.
    /// New kinds go at the end, so the C status numbers of the others never change.
    pub const ALL: [ErrorKind; 18] = [
        ErrorKind::InvalidArgument,
        ErrorKind::InvalidVector,
        ErrorKind::DimensionMismatch,
        ErrorKind::NotFound,
        ErrorKind::Busy,
        ErrorKind::Readonly,
        ErrorKind::Corrupt,
        ErrorKind::NotADatabase,
        ErrorKind::Constraint,
        ErrorKind::SchemaUnknown,
        ErrorKind::SchemaTooNew,
        ErrorKind::MigrationFailed,
        ErrorKind::DestructiveRefused,
        ErrorKind::Closed,
        ErrorKind::Io,
        ErrorKind::Sqlite,
        ErrorKind::Internal,
        ErrorKind::Interrupted,
    ];

    /// The stable snake_case code shared by every binding.
    pub fn code(self) -> &'static str {
        match self {
            ErrorKind::InvalidArgument => "invalid_argument",
            ErrorKind::InvalidVector => "invalid_vector",
            ErrorKind::DimensionMismatch => "dimension_mismatch",
            ErrorKind::NotFound => "not_found",
            ErrorKind::Busy => "busy",
            ErrorKind::Readonly => "readonly",
            ErrorKind::Corrupt => "corrupt",
            ErrorKind::NotADatabase => "not_a_database",
            ErrorKind::Constraint => "constraint",
            ErrorKind::SchemaUnknown => "schema_unknown",
            ErrorKind::SchemaTooNew => "schema_too_new",
            ErrorKind::MigrationFailed => "migration_failed",
            ErrorKind::DestructiveRefused => "destructive_refused",
            ErrorKind::Closed => "closed",
            ErrorKind::Io => "io",
            ErrorKind::Sqlite => "sqlite",
            ErrorKind::Internal => "internal",
            ErrorKind::Interrupted => "interrupted",
        }
    }

    /// The kind for a code string (the inverse of [`ErrorKind::code`]).
    pub fn from_code(code: &str) -> Option<ErrorKind> {
        ErrorKind::ALL.into_iter().find(|k| k.code() == code)
    }

    /// The C status number: 1-based position in [`ErrorKind::ALL`] (0 means success).
    pub fn status(self) -> i32 {
        ErrorKind::ALL
            .iter()
            .position(|k| *k == self)
            .map_or(0, |i| i as i32 + 1)
    }
}

impl std::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// The engine's error: a kind plus a message with context (path, id, sizes).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// See [`ErrorKind::InvalidArgument`].
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// See [`ErrorKind::InvalidVector`].
    #[error("invalid vector: {0}")]
    InvalidVector(String),
    /// See [`ErrorKind::DimensionMismatch`].
    #[error("dimension mismatch: the database holds {expected}-dimensional vectors, got {got}{}", context_suffix(.context))]
    DimensionMismatch {
        /// The database's dimension.
        expected: usize,
        /// The given vector's length.
        got: usize,
        /// Where it happened (an id, "query"…), may be empty.
        context: String,
    },
    /// See [`ErrorKind::NotFound`].
    #[error("not found: {0}")]
    NotFound(String),
    /// See [`ErrorKind::Busy`].
    #[error("database is busy: {0}")]
    Busy(String),
    /// See [`ErrorKind::Readonly`].
    #[error("read-only: {0}")]
    Readonly(String),
    /// See [`ErrorKind::Corrupt`].
    #[error("database is corrupt: {0}")]
    Corrupt(String),
    /// See [`ErrorKind::NotADatabase`].
    #[error("not a database: {0}")]
    NotADatabase(String),
    /// See [`ErrorKind::Constraint`].
    #[error("constraint failed: {0}")]
    Constraint(String),
    /// See [`ErrorKind::SchemaUnknown`].
    #[error("unknown schema: {0}")]
    SchemaUnknown(String),
    /// See [`ErrorKind::SchemaTooNew`].
    #[error("schema too new: {0}")]
    SchemaTooNew(String),
    /// See [`ErrorKind::MigrationFailed`].
    #[error("migration failed: {0}")]
    MigrationFailed(String),
    /// See [`ErrorKind::DestructiveRefused`].
    #[error("destructive migration refused: {0}")]
    DestructiveRefused(String),
    /// See [`ErrorKind::Closed`]; the reason when it is not `close()` (a parent's handle in a forked
    /// child), else empty.
    #[error("the database handle is closed{}", context_suffix(.0))]
    Closed(String),
    /// See [`ErrorKind::Io`].
    #[error("I/O error: {message}")]
    Io {
        /// What failed, with the path.
        message: String,
        /// The underlying error, if any.
        #[source]
        source: Option<std::io::Error>,
    },
    /// See [`ErrorKind::Sqlite`].
    #[error("SQLite error (extended code {extended_code}): {message}")]
    Sqlite {
        /// SQLite's extended result code.
        extended_code: i32,
        /// SQLite's message with context.
        message: String,
    },
    /// See [`ErrorKind::Internal`].
    #[error("internal error: {0}")]
    Internal(String),
    /// See [`ErrorKind::Interrupted`].
    #[error("interrupted: {0}")]
    Interrupted(String),
}

fn context_suffix(context: &str) -> String {
    if context.is_empty() {
        String::new()
    } else {
        format!(" ({context})")
    }
}

/// The engine's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// The kind of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::InvalidArgument(_) => ErrorKind::InvalidArgument,
            Error::InvalidVector(_) => ErrorKind::InvalidVector,
            Error::DimensionMismatch { .. } => ErrorKind::DimensionMismatch,
            Error::NotFound(_) => ErrorKind::NotFound,
            Error::Busy(_) => ErrorKind::Busy,
            Error::Readonly(_) => ErrorKind::Readonly,
            Error::Corrupt(_) => ErrorKind::Corrupt,
            Error::NotADatabase(_) => ErrorKind::NotADatabase,
            Error::Constraint(_) => ErrorKind::Constraint,
            Error::SchemaUnknown(_) => ErrorKind::SchemaUnknown,
            Error::SchemaTooNew(_) => ErrorKind::SchemaTooNew,
            Error::MigrationFailed(_) => ErrorKind::MigrationFailed,
            Error::DestructiveRefused(_) => ErrorKind::DestructiveRefused,
            Error::Closed(_) => ErrorKind::Closed,
            Error::Io { .. } => ErrorKind::Io,
            Error::Sqlite { .. } => ErrorKind::Sqlite,
            Error::Internal(_) => ErrorKind::Internal,
            Error::Interrupted(_) => ErrorKind::Interrupted,
        }
    }

    /// An error of `kind` carrying `message`, for the bindings' tests of their one error mapping
    /// (each raises one of every kind through it). Only with the `test-hooks` feature: no shipped
    /// artifact contains it.
    #[cfg(any(test, feature = "test-hooks"))]
    pub fn sample(kind: ErrorKind, message: impl Into<String>) -> Error {
        let message = message.into();
        match kind {
            ErrorKind::InvalidArgument => Error::InvalidArgument(message),
            ErrorKind::InvalidVector => Error::InvalidVector(message),
            ErrorKind::DimensionMismatch => Error::DimensionMismatch {
                expected: 3,
                got: 2,
                context: message,
            },
            ErrorKind::NotFound => Error::NotFound(message),
            ErrorKind::Busy => Error::Busy(message),
            ErrorKind::Readonly => Error::Readonly(message),
            ErrorKind::Corrupt => Error::Corrupt(message),
            ErrorKind::NotADatabase => Error::NotADatabase(message),
            ErrorKind::Constraint => Error::Constraint(message),
            ErrorKind::SchemaUnknown => Error::SchemaUnknown(message),
            ErrorKind::SchemaTooNew => Error::SchemaTooNew(message),
            ErrorKind::MigrationFailed => Error::MigrationFailed(message),
            ErrorKind::DestructiveRefused => Error::DestructiveRefused(message),
            ErrorKind::Closed => Error::Closed(String::new()),
            ErrorKind::Io => Error::Io {
                message,
                source: None,
            },
            ErrorKind::Sqlite => Error::Sqlite {
                extended_code: 1,
                message,
            },
            ErrorKind::Internal => Error::Internal(message),
            ErrorKind::Interrupted => Error::Interrupted(message),
        }
    }

    /// The stable kind code (`"dimension_mismatch"`, `"busy"`, …).
    pub fn code(&self) -> &'static str {
        self.kind().code()
    }

    /// An I/O error with the path it concerns.
    pub fn io(what: &str, path: &Path, source: std::io::Error) -> Error {
        Error::Io {
            message: format!("{what} {}: {source}", path.display()),
            source: Some(source),
        }
    }

    /// Maps a rusqlite error to a kind, adding `context` (a path, an id, an operation) to the message.
    pub fn sqlite(err: rusqlite::Error, context: impl std::fmt::Display) -> Error {
        use rusqlite::ffi::ErrorCode as C;
        match &err {
            rusqlite::Error::SqliteFailure(f, msg) => {
                let text = match msg {
                    Some(m) => format!("{context}: {m}"),
                    None => format!("{context}: {f}"),
                };
                match f.code {
                    C::DatabaseBusy | C::DatabaseLocked => Error::Busy(text),
                    C::ReadOnly => Error::Readonly(text),
                    C::DatabaseCorrupt => Error::Corrupt(text),
                    C::NotADatabase => Error::NotADatabase(text),
                    C::ConstraintViolation => Error::Constraint(text),
                    // The authorizer refused an action (docs/sql.md).
                    C::AuthorizationForStatementDenied => {
                        match crate::authorizer::take_thread_refusal() {
                            // Application SQL the rules refuse (docs/sql.md).
                            Some((why, false)) => {
                                Error::InvalidArgument(format!("{context}: {why}"))
                            }
                            Some((why, true)) => Error::Internal(format!("{context}: {why}")),
                            None => Error::InvalidArgument(text),
                        }
                    }
                    // The progress handler or sqlite3_interrupt stopped the statement.
                    C::OperationInterrupted => Error::Interrupted(text),
                    C::CannotOpen
                    | C::DiskFull
                    | C::SystemIoFailure
                    | C::PermissionDenied
                    | C::NoLargeFileSupport => Error::Io {
                        message: text,
                        source: None,
                    },
                    _ => Error::Sqlite {
                        extended_code: f.extended_code,
                        message: text,
                    },
                }
            }
            // A stored value that cannot be what the schema says (text that is not UTF-8, a number
            // where text belongs): a damaged page or a file written by another program.
            rusqlite::Error::InvalidColumnType(..)
            | rusqlite::Error::FromSqlConversionFailure(..)
            | rusqlite::Error::Utf8Error(..)
            | rusqlite::Error::IntegralValueOutOfRange(..) => {
                Error::Corrupt(format!("{context}: a stored value is damaged: {err}"))
            }
            rusqlite::Error::InvalidParameterName(_)
            | rusqlite::Error::NulError(_)
            | rusqlite::Error::ToSqlConversionFailure(_) => {
                Error::InvalidArgument(format!("{context}: {err}"))
            }
            _ => Error::Sqlite {
                extended_code: 1,
                message: format!("{context}: {err}"),
            },
        }
    }

    /// A message with `prefix` prepended, keeping the kind.
    pub fn context(self, prefix: impl std::fmt::Display) -> Error {
        let p = |m: String| format!("{prefix}: {m}");
        match self {
            Error::InvalidArgument(m) => Error::InvalidArgument(p(m)),
            Error::InvalidVector(m) => Error::InvalidVector(p(m)),
            Error::DimensionMismatch {
                expected,
                got,
                context,
            } => Error::DimensionMismatch {
                expected,
                got,
                context: if context.is_empty() {
                    prefix.to_string()
                } else {
                    p(context)
                },
            },
            Error::NotFound(m) => Error::NotFound(p(m)),
            Error::Busy(m) => Error::Busy(p(m)),
            Error::Readonly(m) => Error::Readonly(p(m)),
            Error::Corrupt(m) => Error::Corrupt(p(m)),
            Error::NotADatabase(m) => Error::NotADatabase(p(m)),
            Error::Constraint(m) => Error::Constraint(p(m)),
            Error::SchemaUnknown(m) => Error::SchemaUnknown(p(m)),
            Error::SchemaTooNew(m) => Error::SchemaTooNew(p(m)),
            Error::MigrationFailed(m) => Error::MigrationFailed(p(m)),
            Error::DestructiveRefused(m) => Error::DestructiveRefused(p(m)),
            Error::Closed(m) => Error::Closed(m),
            Error::Io { message, source } => Error::Io {
                message: p(message),
                source,
            },
            Error::Sqlite {
                extended_code,
                message,
            } => Error::Sqlite {
                extended_code,
                message: p(message),
            },
            Error::Internal(m) => Error::Internal(p(m)),
            Error::Interrupted(m) => Error::Interrupted(p(m)),
        }
    }
}

/// Extension to attach context to rusqlite results.
pub(crate) trait SqlContext<T> {
    /// Maps the error with [`Error::sqlite`].
    fn ctx(self, context: impl std::fmt::Display) -> Result<T>;
}

impl<T> SqlContext<T> for std::result::Result<T, rusqlite::Error> {
    fn ctx(self, context: impl std::fmt::Display) -> Result<T> {
        self.map_err(|e| Error::sqlite(e, context))
    }
}

/// A path rendered for messages.
pub(crate) fn show(path: &Path) -> String {
    path.display().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_round_trip() {
        let mut seen = std::collections::HashSet::new();
        for k in ErrorKind::ALL {
            assert!(seen.insert(k.code()), "duplicate code {}", k.code());
            assert_eq!(ErrorKind::from_code(k.code()), Some(k));
            assert!(k.status() >= 1);
        }
        assert_eq!(ErrorKind::InvalidArgument.status(), 1);
        assert_eq!(ErrorKind::Internal.status(), 17);
        // Added last: the numbers before it are unchanged.
        assert_eq!(ErrorKind::Interrupted.status(), 18);
        assert_eq!(ErrorKind::Interrupted.code(), "interrupted");
    }

    #[test]
    fn a_sample_has_the_kind_asked_for() {
        for k in ErrorKind::ALL {
            let e = Error::sample(k, format!("test error of kind {k}"));
            assert_eq!(e.kind(), k);
            if k != ErrorKind::Closed {
                assert!(e.to_string().contains(k.code()), "{e}");
            }
        }
    }

    #[test]
    fn sqlite_busy_maps_to_busy() {
        let e = rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
            Some("database is locked".into()),
        );
        let err = Error::sqlite(e, "x.db");
        assert_eq!(err.code(), "busy");
        assert!(err.to_string().contains("x.db"));
    }

    #[test]
    fn unreadable_stored_values_are_corrupt() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        let e = conn
            .query_row("SELECT CAST(x'41ff42' AS TEXT)", [], |r| {
                r.get::<_, String>(0)
            })
            .unwrap_err();
        let err = Error::sqlite(e, "node a");
        assert_eq!(err.code(), "corrupt", "{err}");
        assert!(err.to_string().contains("node a"));
        let e = conn
            .query_row("SELECT 1", [], |r| r.get::<_, String>(0))
            .unwrap_err();
        assert_eq!(Error::sqlite(e, "title").code(), "corrupt");
    }

    #[test]
    fn dimension_mismatch_names_both_sizes() {
        let e = Error::DimensionMismatch {
            expected: 384,
            got: 3,
            context: "node a".into(),
        };
        let s = e.to_string();
        assert!(
            s.contains("384") && s.contains('3') && s.contains("node a"),
            "{s}"
        );
    }
}
