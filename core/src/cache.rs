//! Per-handle caches (the vector matrix, the graph snapshot) and when they are stale.
//!
//! A cache is kept in step with the handle's own writes by the code that writes, and dropped when
//! `PRAGMA data_version` shows another connection committed. It must not run SQL other than that pragma.

use rusqlite::Connection;

use crate::error::{Result, SqlContext};

/// The caches of one handle.
#[derive(Default)]
pub(crate) struct Caches {
    /// `PRAGMA data_version` when the caches were last known fresh.
    pub data_version: Option<i64>,
}

impl Caches {
    /// Drops everything cached.
    pub fn invalidate(&mut self) {
        self.data_version = None;
    }

    /// Drops the caches if another connection wrote since they were filled; returns the current
    /// data version.
    pub fn refresh(&mut self, conn: &Connection) -> Result<i64> {
        let v: i64 = conn
            .query_row("PRAGMA data_version", [], |r| r.get(0))
            .ctx("reading data_version")?;
        if self.data_version != Some(v) {
            self.invalidate();
            self.data_version = Some(v);
        }
        Ok(v)
    }
}
