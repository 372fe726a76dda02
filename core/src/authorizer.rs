//! What application SQL may do on the engine's connection, decided by SQLite's authorizer
//! (`sqlite3_set_authorizer`) while a statement is compiled — never by reading SQL text
//! (docs/sql.md, "What the engine protects").
//!
//! Every engine connection carries one [`Policy`]. The engine's own statements compile in
//! [`Mode::Engine`] (everything allowed); application statements compile in [`Mode::App`] or, for an
//! application migration step, [`Mode::AppMigration`]. A refusal records its reason, which the `sql`
//! module turns into an error naming the table and the call to use instead. This module owns the
//! rules; it must not run SQL.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};

use rusqlite::hooks::{AuthAction, AuthContext, Authorization};
use rusqlite::Connection;

/// Who is compiling a statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Mode {
    /// The engine's own SQL: everything is allowed.
    Engine = 0,
    /// Application SQL (`execute`, `query`, `execute_batch`).
    App = 1,
    /// A step of an application migration: application SQL, plus destructive DDL is recorded.
    AppMigration = 2,
}

/// Bits of [`Policy::touched`]: which engine tables a statement writes (seen at compile time).
pub(crate) const TOUCH_NODES: u8 = 1;
/// See [`TOUCH_NODES`].
pub(crate) const TOUCH_EDGES: u8 = 2;
/// Set when a statement drops a table or alters one (an application migration step is then
/// destructive unless its schema check shows no column or table went away).
pub(crate) const TOUCH_DROP: u8 = 4;
/// Set when a statement alters a table (`ALTER TABLE`: add, rename or drop a column).
pub(crate) const TOUCH_ALTER: u8 = 8;

/// The authorizer's state, shared between the connection's callback and the handle.
#[derive(Debug, Default)]
pub(crate) struct Policy {
    mode: AtomicU8,
    /// Writes to `nodes`, `edges` and `history` (and `__drizzle_migrations`) by application SQL: the
    /// open option for compatibility layers.
    allow_engine_writes: AtomicBool,
    /// What the statements compiled since the last [`Policy::take_touched`] write.
    touched: AtomicU8,
    /// Why the last refusal refused.
    refusal: Mutex<Option<String>>,
    /// The names of the connection's triggers (kept by `triggers::TriggerSwitch`): a trigger's body
    /// is authorized as application SQL even inside an engine statement that fires it.
    triggers: Mutex<HashSet<String>>,
}

/// Tables the engine owns (case-insensitive): application SQL may read them, not change their
/// schema, and write them only on a handle opened for a compatibility layer (`resonance_*`: never).
pub(crate) fn engine_table(name: &str) -> Option<EngineTable> {
    let lower = name.to_ascii_lowercase();
    match lower.as_str() {
        "nodes" => Some(EngineTable::Graph(
            "upsert_node, update_node or delete_node",
        )),
        "edges" => Some(EngineTable::Graph("add_edge, upsert_edge or delete_edge")),
        "history" => Some(EngineTable::Graph(
            "the engine's writes (history is recorded with each change) or prune_history",
        )),
        "__drizzle_migrations" => Some(EngineTable::Graph("migrate")),
        _ if lower.starts_with("resonance_") => Some(EngineTable::Internal),
        _ => None,
    }
}

/// The kind of engine table (see [`engine_table`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EngineTable {
    /// `nodes`, `edges`, `history`, `__drizzle_migrations`, with the API call that writes it.
    Graph(&'static str),
    /// `resonance_*`: never written by application SQL. (SQLite's own tables are written by SQLite
    /// for DDL and AUTOINCREMENT, which the other rules decide; a direct write to `sqlite_schema` is
    /// refused by SQLite's defensive mode.)
    Internal,
}

/// PRAGMAs application SQL may run with an argument: they only read (the argument names a table,
/// an index or a schema).
const PRAGMA_READ_WITH_ARGUMENT: &[&str] = &[
    "table_info",
    "table_xinfo",
    "table_list",
    "index_list",
    "index_info",
    "index_xinfo",
    "foreign_key_list",
    "foreign_key_check",
    "integrity_check",
    "quick_check",
];

/// PRAGMAs application SQL may read (with no argument); setting any of them is refused: they are the
/// connection canon (docs/connections.md) or state the engine relies on.
const PRAGMA_READ_ONLY: &[&str] = &[
    "application_id",
    "auto_vacuum",
    "busy_timeout",
    "cache_size",
    "collation_list",
    "compile_options",
    "data_version",
    "database_list",
    "encoding",
    "foreign_keys",
    "freelist_count",
    "function_list",
    "journal_mode",
    "journal_size_limit",
    "mmap_size",
    "module_list",
    "page_count",
    "page_size",
    "pragma_list",
    "query_only",
    "schema_version",
    "synchronous",
    "temp_store",
    "trusted_schema",
    "user_version",
    "writable_schema",
    "recursive_triggers",
    "defer_foreign_keys",
    "legacy_alter_table",
    "cell_size_check",
    "secure_delete",
];

impl Policy {
    /// A policy in [`Mode::Engine`].
    pub(crate) fn new(allow_engine_writes: bool) -> Arc<Policy> {
        let p = Policy::default();
        p.allow_engine_writes
            .store(allow_engine_writes, Ordering::Relaxed);
        Arc::new(p)
    }

    /// Installs the authorizer on `conn`.
    pub(crate) fn install(self: &Arc<Policy>, conn: &Connection) -> rusqlite::Result<()> {
        let policy = Arc::clone(self);
        conn.authorizer(Some(move |ctx: AuthContext<'_>| policy.decide(ctx)))
    }

    /// The current mode.
    pub(crate) fn mode(&self) -> Mode {
        match self.mode.load(Ordering::Relaxed) {
            1 => Mode::App,
            2 => Mode::AppMigration,
            _ => Mode::Engine,
        }
    }

    /// Switches to `mode` until the returned guard is dropped (then back to the previous mode).
    pub(crate) fn enter(&self, mode: Mode) -> ModeGuard<'_> {
        // A load and a store, not a swap: the mode is only changed by the thread holding the
        // handle's lock (or opening it), so nothing can come in between.
        let previous = self.mode.load(Ordering::Relaxed);
        self.mode.store(mode as u8, Ordering::Relaxed);
        ModeGuard {
            policy: self,
            previous,
        }
    }

    /// Whether application SQL may write the graph tables on this handle.
    pub(crate) fn allows_engine_writes(&self) -> bool {
        self.allow_engine_writes.load(Ordering::Relaxed)
    }

    /// Replaces the names of the connection's triggers.
    pub(crate) fn set_trigger_names(&self, names: HashSet<String>) {
        *self.triggers.lock().unwrap_or_else(|p| p.into_inner()) = names;
    }

    /// Whether `accessor` (SQLite's name of the trigger or view whose body is being compiled, or of
    /// a subquery) names one of the connection's triggers.
    fn in_trigger(&self, accessor: Option<&str>) -> bool {
        accessor.is_some_and(|a| {
            self.triggers
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .contains(a)
        })
    }

    /// The [`TOUCH_NODES`]… bits seen since the last call, cleared.
    pub(crate) fn take_touched(&self) -> u8 {
        // Read first: most calls compile nothing, and a plain load costs less than a swap (the
        // bits are only set and taken by the thread holding the handle's lock).
        if self.touched.load(Ordering::Relaxed) == 0 {
            return 0;
        }
        self.touched.swap(0, Ordering::Relaxed)
    }

    /// The reason of the last refusal, cleared.
    pub(crate) fn take_refusal(&self) -> Option<String> {
        self.refusal
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
    }

    fn refuse(&self, why: String) -> Authorization {
        let engine = self.mode() == Mode::Engine;
        LAST_REFUSAL.with(|r| *r.borrow_mut() = Some((why.clone(), engine)));
        *self.refusal.lock().unwrap_or_else(|p| p.into_inner()) = Some(why);
        Authorization::Deny
    }

    fn touch(&self, bits: u8) {
        self.touched.fetch_or(bits, Ordering::Relaxed);
    }

    /// The decision for one action of a statement being compiled.
    fn decide(&self, ctx: AuthContext<'_>) -> Authorization {
        if self.mode() != Mode::Engine {
            return self.rules(ctx);
        }
        // A trigger's body fired by an engine statement (a foreign-key cascade from `nodes` into an
        // application table) is the application's SQL: it gets the application's rules, and a
        // refusal is the application's error (`invalid_argument`), not a broken engine statement.
        if !self.in_trigger(ctx.accessor) {
            return Authorization::Allow;
        }
        let d = self.rules(ctx);
        if matches!(d, Authorization::Deny) {
            LAST_REFUSAL.with(|r| {
                if let Some((_, engine)) = r.borrow_mut().as_mut() {
                    *engine = false;
                }
            });
        }
        d
    }

    /// The application's rules for one action.
    fn rules(&self, ctx: AuthContext<'_>) -> Authorization {
        match ctx.action {
            AuthAction::Select | AuthAction::Read { .. } | AuthAction::Recursive => {
                Authorization::Allow
            }
            AuthAction::Insert { table_name } | AuthAction::Delete { table_name } => {
                self.write(table_name)
            }
            AuthAction::Update { table_name, .. } => self.write(table_name),
            AuthAction::CreateTable { table_name }
            | AuthAction::CreateTempTable { table_name }
            | AuthAction::CreateVtable { table_name, .. } => self.ddl(table_name, "create"),
            AuthAction::CreateView { view_name } | AuthAction::CreateTempView { view_name } => {
                self.ddl(view_name, "create a view named")
            }
            AuthAction::CreateIndex { table_name, .. }
            | AuthAction::CreateTempIndex { table_name, .. } => {
                self.ddl(table_name, "create an index on")
            }
            AuthAction::DropIndex { table_name, .. }
            | AuthAction::DropTempIndex { table_name, .. } => {
                self.ddl(table_name, "drop an index of")
            }
            AuthAction::CreateTrigger { table_name, .. }
            | AuthAction::CreateTempTrigger { table_name, .. } => {
                self.ddl(table_name, "create a trigger on")
            }
            AuthAction::DropTrigger { table_name, .. }
            | AuthAction::DropTempTrigger { table_name, .. } => {
                self.ddl(table_name, "drop a trigger of")
            }
            AuthAction::DropTable { table_name }
            | AuthAction::DropTempTable { table_name }
            | AuthAction::DropVtable { table_name, .. } => {
                let d = self.ddl(table_name, "drop");
                if matches!(d, Authorization::Allow) {
                    self.touch(TOUCH_DROP);
                }
                d
            }
            AuthAction::DropView { view_name } | AuthAction::DropTempView { view_name } => {
                self.ddl(view_name, "drop")
            }
            AuthAction::AlterTable { table_name, .. } => {
                let d = self.ddl(table_name, "alter");
                if matches!(d, Authorization::Allow) {
                    self.touch(TOUCH_ALTER);
                }
                d
            }
            AuthAction::Reindex { .. } | AuthAction::Analyze { .. } => Authorization::Allow,
            AuthAction::Pragma {
                pragma_name,
                pragma_value,
            } => self.pragma(pragma_name, pragma_value),
            AuthAction::Function { function_name } => {
                if function_name.eq_ignore_ascii_case("load_extension") {
                    self.refuse("loading an extension is refused on the engine's connection".into())
                } else {
                    Authorization::Allow
                }
            }
            AuthAction::Attach { .. } => self.refuse(
                "ATTACH is refused on the engine's connection: open the other database with its own handle"
                    .into(),
            ),
            AuthAction::Detach { .. } => {
                self.refuse("DETACH is refused on the engine's connection".into())
            }
            AuthAction::Transaction { .. } | AuthAction::Savepoint { .. } => self.refuse(
                "transaction statements (BEGIN, COMMIT, ROLLBACK, SAVEPOINT, RELEASE) are refused in \
                 application SQL: use the handle's begin/commit/rollback or transaction(), which \
                 application statements join"
                    .into(),
            ),
            // An action this SQLite knows and this code does not: refuse (fail closed).
            _ => self.refuse("this kind of statement is refused on the engine's connection".into()),
        }
    }

    fn write(&self, table: &str) -> Authorization {
        match engine_table(table) {
            None => Authorization::Allow,
            Some(EngineTable::Graph(call)) if self.allows_engine_writes() => {
                match table.to_ascii_lowercase().as_str() {
                    "nodes" => self.touch(TOUCH_NODES | TOUCH_EDGES),
                    "edges" => self.touch(TOUCH_EDGES),
                    _ => {}
                }
                let _ = call;
                Authorization::Allow
            }
            Some(EngineTable::Graph(call)) => self.refuse(format!(
                "application SQL may not write the engine's table {table:?}: use {call} (or open the \
                 handle with allow_engine_writes for a compatibility layer)"
            )),
            Some(EngineTable::Internal) => self.refuse(format!(
                "application SQL may not write {table:?}: it belongs to the engine"
            )),
        }
    }

    fn ddl(&self, table: &str, what: &str) -> Authorization {
        match engine_table(table) {
            None => Authorization::Allow,
            Some(_) => self.refuse(format!(
                "application SQL may not {what} the engine's table {table:?}: the engine's schema \
                 changes only through its own migrations"
            )),
        }
    }

    fn pragma(&self, name: &str, value: Option<&str>) -> Authorization {
        let lower = name.to_ascii_lowercase();
        if PRAGMA_READ_WITH_ARGUMENT.contains(&lower.as_str()) {
            return Authorization::Allow;
        }
        if PRAGMA_READ_ONLY.contains(&lower.as_str()) {
            return match value {
                None => Authorization::Allow,
                Some(_) => self.refuse(format!(
                    "PRAGMA {name} may be read but not set by application SQL: the engine's connection \
                     canon (docs/connections.md) stays as it is"
                )),
            };
        }
        self.refuse(format!(
            "PRAGMA {name} is refused on the engine's connection (only reading PRAGMAs are allowed; \
             use the handle's checkpoint, optimize, vacuum or health calls)"
        ))
    }
}

thread_local! {
    /// The reason of the last refusal on this thread (the authorizer runs on the thread that
    /// compiles), for errors that reach `Error::sqlite` without the handle's policy.
    static LAST_REFUSAL: std::cell::RefCell<Option<(String, bool)>> = const { std::cell::RefCell::new(None) };
}

/// The reason of the last refusal on this thread and whether it refused inside one of the engine's
/// own statements (else application SQL), cleared.
pub(crate) fn take_thread_refusal() -> Option<(String, bool)> {
    LAST_REFUSAL.with(|r| r.borrow_mut().take())
}

/// Restores the previous [`Mode`] when dropped.
pub(crate) struct ModeGuard<'p> {
    policy: &'p Policy,
    previous: u8,
}

impl Drop for ModeGuard<'_> {
    fn drop(&mut self) {
        self.policy.mode.store(self.previous, Ordering::Relaxed);
    }
}
