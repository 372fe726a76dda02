//! Which triggers SQLite runs on the engine's connection (docs/sql.md, "Triggers"): the
//! application's triggers on its own tables fire; a trigger on one of the engine's tables never does.
//!
//! A read-write handle opens with SQLite's trigger switch (`SQLITE_DBCONFIG_ENABLE_TRIGGER`) off, so
//! nothing fires while the file is recognised and adopted (a file carrying a trigger on an engine
//! table is refused there; the legacy full-text triggers are dropped). Once open, [`TriggerSwitch`]
//! turns the switch on — and keeps it on only while no trigger sits on an engine table. Every write
//! transaction calls [`TriggerSwitch::sync`] right after it took the write lock (from then until it
//! ends no other connection can change the schema): when `PRAGMA schema_version` moved since the
//! last look, the triggers are read again, and one on an engine table (planted by another program
//! after open: application SQL cannot create one, the authorizer refuses it) turns the switch off.
//! SQLite expires every compiled statement when the switch changes, so none keeps a trigger it
//! coded before. The names of all triggers go to the authorizer's [`Policy`], which authorizes a
//! trigger's body as application SQL even when an engine statement fires it (a foreign-key cascade
//! from `nodes` into an application table). This module decides nothing else.

use std::collections::HashSet;

use rusqlite::config::DbConfig;
use rusqlite::Connection;

use crate::authorizer::Policy;
use crate::error::{Result, SqlContext as _};

/// The connection's trigger switch and the schema version it was last set for.
#[derive(Debug, Default)]
pub(crate) struct TriggerSwitch {
    /// `PRAGMA schema_version` when the triggers were last read (`None`: never, the switch is off).
    seen: Option<i64>,
    /// Whether SQLite's trigger switch is on.
    on: bool,
}

impl TriggerSwitch {
    /// Reads the triggers again when the schema changed since the last look, and sets the switch:
    /// on unless a trigger sits on an engine table. Call it holding the write lock (or at open).
    pub(crate) fn sync(&mut self, conn: &Connection, policy: &Policy) -> Result<()> {
        // The version first: a trigger created between the two reads is then seen by the second,
        // and the next look sees the version moved again.
        let version: i64 = conn
            .prepare_cached("PRAGMA schema_version")
            .and_then(|mut s| s.query_row([], |r| r.get(0)))
            .ctx("reading the schema version")?;
        if self.seen == Some(version) {
            return Ok(());
        }
        let planted = !crate::migrate::unknown_triggers(conn, false)?.is_empty();
        policy.set_trigger_names(trigger_names(conn)?);
        let on = !planted;
        if on != self.on {
            conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_TRIGGER, on)
                .ctx("setting SQLITE_DBCONFIG_ENABLE_TRIGGER")?;
            self.on = on;
        }
        self.seen = Some(version);
        Ok(())
    }
}

/// The names of every trigger of the connection (its temporary ones included).
fn trigger_names(conn: &Connection) -> Result<HashSet<String>> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' \
             UNION SELECT name FROM sqlite_temp_master WHERE type = 'trigger'",
        )
        .ctx("reading the triggers")?;
    let names = stmt
        .query_map([], |r| r.get::<_, String>(0))
        .ctx("reading the triggers")?
        .collect::<std::result::Result<HashSet<_>, _>>()
        .ctx("reading the triggers")?;
    Ok(names)
}
