//! The handle's life cycle and maintenance: open, close, free, health, migrate, backup, stats,
//! checkpoint, warnings, optimize, vacuum, and explicit transactions.

use std::ffi::c_char;
use std::path::Path;

use crate::options::{read_options, resonance_migrate_options, resonance_open_options};
use crate::types::*;
use crate::{
    arg_str, guard, hand_db_to_caller, hand_to_caller, handle, new_string, opt_str, out_ptr,
    resonance_status, take_back_from_caller, take_db_back_from_caller,
};

/// Opens (creating it and its folders if needed) the database at `path` and stores a new handle in
/// `*db_out`: the hardening canon, recognition of the file's shape, WAL, then adoption and migrations
/// unless `options->no_migrate`. `options` may be NULL (the defaults).
///
/// On failure `*db_out` is set to NULL. Typical statuses: `RESONANCE_NOT_A_DATABASE`,
/// `RESONANCE_SCHEMA_UNKNOWN`, `RESONANCE_SCHEMA_TOO_NEW` (read-write), `RESONANCE_READONLY` (a
/// read-only handle on a database that needs migration or is not in WAL), `RESONANCE_IO`.
///
/// The handle lives until `resonance_db_free`; it may be shared between threads.
///
/// # Safety
/// `path` is a NUL-terminated string; `options` is NULL or points to a `resonance_open_options`;
/// `db_out` and `err_out` are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn resonance_db_open(
    path: *const c_char,
    options: *const resonance_open_options,
    db_out: *mut *mut resonance_db,
    err_out: *mut *mut c_char,
) -> resonance_status {
    guard!(err_out, {
        let out = out_ptr(db_out, "db_out")?;
        *out = std::ptr::null_mut();
        let path = arg_str(path, "path")?;
        // SAFETY: NULL or a valid struct of at least `size` bytes (documented).
        let opts = unsafe { read_options(options) }?.to_core()?;
        let db = resonance::Database::open_with(path, opts)?;
        *out = hand_db_to_caller(db);
        Ok(())
    })
}

/// Closes the handle: rolls back an open transaction, runs `PRAGMA optimize`, closes the connection.
/// Idempotent (closing a closed handle is `RESONANCE_OK`). A call running on another thread finishes
/// first. The handle stays valid after it: every later call on it returns `RESONANCE_CLOSED`, until
/// `resonance_db_free` releases it.
///
/// # Safety
/// `db` is NULL or a handle from `resonance_db_open`; `err_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn resonance_db_close(
    db: *mut resonance_db,
    err_out: *mut *mut c_char,
) -> resonance_status {
    guard!(err_out, { handle(db)?.close() })
}

/// Stops whatever runs on `db` now and returns at once. Callable from any thread, also while other
/// threads are inside calls on the same handle (it takes none of the handle's locks): the running SQL
/// statement is interrupted and the library's own loops (graph analytics, batch search, loads) stop
/// within a few milliseconds of work. Each call stopped returns `RESONANCE_INTERRUPTED`; a write it
/// was making is rolled back. The handle stays usable: a call that begins after
/// `resonance_interrupt` returns runs normally. When nothing runs, or on a closed handle, it is a
/// no-op (`RESONANCE_OK`). A NULL or freed handle is `RESONANCE_INVALID_ARGUMENT`.
///
/// # Safety
/// `db` is NULL or a handle from `resonance_db_open`; `err_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn resonance_interrupt(
    db: *mut resonance_db,
    err_out: *mut *mut c_char,
) -> resonance_status {
    guard!(err_out, {
        handle(db)?.interrupt();
        Ok(())
    })
}

/// Releases a handle (closing it first if `resonance_db_close` was not called; a close error is then
/// ignored: call `resonance_db_close` to see it). NULL is a no-op, and so is a handle already freed
/// (as long as its address was not reused by a newer handle). Calls still running on other threads
/// finish normally. After it, the pointer must not be used (calls on it return
/// `RESONANCE_INVALID_ARGUMENT`, not a crash).
#[no_mangle]
pub extern "C" fn resonance_db_free(db: *mut resonance_db) {
    let _ = std::panic::catch_unwind(|| {
        if let Some(db) = take_db_back_from_caller(db) {
            let _ = db.close();
        }
    });
}

/// Runs the health check of docs/connections.md and stores a new report in `*health_out` (free it with
/// `resonance_health_free`).
///
/// # Safety
/// `db` is NULL or a handle; `health_out` and `err_out` are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn resonance_db_health(
    db: *mut resonance_db,
    health_out: *mut *mut resonance_health,
    err_out: *mut *mut c_char,
) -> resonance_status {
    guard!(err_out, {
        let out = out_ptr(health_out, "health_out")?;
        *out = std::ptr::null_mut();
        let report = handle(db)?.health()?;
        *out = hand_to_caller(resonance_health::from_core(report), "health");
        Ok(())
    })
}

/// Frees a health report. NULL (or an already freed report) is a no-op.
#[no_mangle]
pub extern "C" fn resonance_health_free(health: *mut resonance_health) {
    let _ = std::panic::catch_unwind(|| drop(take_back_from_caller(health, "health")));
}

/// Plans or applies migrations. `options` may be NULL (apply, with a backup). When `steps_out` is
/// not NULL it receives the ids of the steps applied (or, for a dry run, that would run), in order —
/// an empty list when the schema is current; free it with `resonance_strings_free`. A dry run changes
/// nothing and works on a read-only handle.
///
/// # Safety
/// `db` is NULL or a handle; `options` is NULL or valid; `steps_out` and `err_out` are NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn resonance_db_migrate(
    db: *mut resonance_db,
    options: *const resonance_migrate_options,
    steps_out: *mut *mut resonance_strings,
    err_out: *mut *mut c_char,
) -> resonance_status {
    guard!(err_out, {
        crate::write_opt(steps_out, std::ptr::null_mut());
        // SAFETY: NULL or a valid struct of at least `size` bytes (documented).
        let opts = unsafe { read_options(options) }?.to_core();
        let report = handle(db)?.migrate(&opts)?;
        let ids: Vec<&str> = report.steps.iter().map(|s| s.id.as_str()).collect();
        crate::write_opt(
            steps_out,
            hand_to_caller(resonance_strings::from_vec(&ids), "strings"),
        );
        Ok(())
    })
}

/// Backs the database up online: to `dest` (a file path that does not exist yet, not empty; NULL
/// means a timestamped file in a `backups/` folder beside the database). When `path_out` is not NULL
/// it receives the backup's path (free it with `resonance_string_free`).
///
/// # Safety
/// `db` is NULL or a handle; `dest` is NULL or a NUL-terminated string; `path_out` and `err_out` are
/// NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn resonance_db_backup(
    db: *mut resonance_db,
    dest: *const c_char,
    path_out: *mut *mut c_char,
    err_out: *mut *mut c_char,
) -> resonance_status {
    guard!(err_out, {
        crate::write_opt(path_out, std::ptr::null_mut());
        let dest = opt_str(dest, "dest")?;
        if dest == Some("") {
            return Err(resonance::Error::InvalidArgument(
                "dest is empty (NULL means a file in backups/ beside the database)".into(),
            ));
        }
        let path = handle(db)?.backup(dest.map(Path::new))?;
        crate::write_opt(path_out, new_string(path.display().to_string()));
        Ok(())
    })
}

/// Fills `*stats_out` with counts and sizes on disk (nothing to free).
///
/// # Safety
/// `db` is NULL or a handle; `stats_out` is NULL or writable; `err_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn resonance_db_stats(
    db: *mut resonance_db,
    stats_out: *mut resonance_stats,
    err_out: *mut *mut c_char,
) -> resonance_status {
    guard!(err_out, {
        let out = out_ptr(stats_out, "stats_out")?;
        let s = handle(db)?.stats()?;
        *out = resonance_stats {
            nodes: s.nodes,
            edges: s.edges,
            vectors: s.vectors,
            dangling_edges: s.dangling_edges,
            dimension: s
                .dimension
                .map_or(0, |d| u32::try_from(d).unwrap_or(u32::MAX)),
            history: s.history,
            db_bytes: s.db_bytes,
            wal_bytes: s.wal_bytes,
            size_bytes: s.size_bytes,
        };
        Ok(())
    })
}

/// `PRAGMA wal_checkpoint(mode)` with `mode` one of `"passive"`, `"full"`, `"restart"`,
/// `"truncate"` (ASCII case-insensitive); NULL means the default mode (passive). `checkpoint_out`
/// may be NULL.
///
/// # Safety
/// `db` is NULL or a handle; `mode` is NULL or a NUL-terminated string; `checkpoint_out` and
/// `err_out` are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn resonance_db_checkpoint(
    db: *mut resonance_db,
    mode: *const c_char,
    checkpoint_out: *mut resonance_checkpoint,
    err_out: *mut *mut c_char,
) -> resonance_status {
    guard!(err_out, {
        let mode = match opt_str(mode, "mode")? {
            Some(m) => m.parse()?,
            None => resonance::CheckpointMode::default(),
        };
        let c = handle(db)?.checkpoint(mode)?;
        crate::write_opt(
            checkpoint_out,
            resonance_checkpoint {
                busy: c.busy,
                log: c.log,
                checkpointed: c.checkpointed,
            },
        );
        Ok(())
    })
}

/// The warnings from opening (a newer application's ledger, pending steps when opened with
/// `no_migrate`, a stray table…) into `*warnings_out` (free with `resonance_strings_free`).
///
/// # Safety
/// `db` is NULL or a handle; `warnings_out` and `err_out` are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn resonance_db_warnings(
    db: *mut resonance_db,
    warnings_out: *mut *mut resonance_strings,
    err_out: *mut *mut c_char,
) -> resonance_status {
    guard!(err_out, {
        let out = out_ptr(warnings_out, "warnings_out")?;
        *out = std::ptr::null_mut();
        let db = handle(db)?;
        if db.is_closed() {
            return Err(resonance::Error::Closed(String::new()));
        }
        *out = hand_to_caller(resonance_strings::from_vec(db.warnings()), "strings");
        Ok(())
    })
}

/// Runs `PRAGMA optimize` (also run by `resonance_db_close`).
///
/// # Safety
/// `db` is NULL or a handle; `err_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn resonance_db_optimize(
    db: *mut resonance_db,
    err_out: *mut *mut c_char,
) -> resonance_status {
    guard!(err_out, { handle(db)?.optimize() })
}

/// Runs `VACUUM` (not inside a transaction: `RESONANCE_INVALID_ARGUMENT` there).
///
/// # Safety
/// `db` is NULL or a handle; `err_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn resonance_db_vacuum(
    db: *mut resonance_db,
    err_out: *mut *mut c_char,
) -> resonance_status {
    guard!(err_out, { handle(db)?.vacuum() })
}

/// Begins an explicit `BEGIN IMMEDIATE` transaction on the handle. Until `resonance_tx_commit` or
/// `resonance_tx_rollback`, this thread's writes join it and other threads' calls on the handle wait
/// (up to the busy timeout). A second begin is `RESONANCE_INVALID_ARGUMENT`.
///
/// # Safety
/// `db` is NULL or a handle; `err_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn resonance_tx_begin(
    db: *mut resonance_db,
    err_out: *mut *mut c_char,
) -> resonance_status {
    guard!(err_out, { handle(db)?.begin() })
}

/// Commits the explicit transaction (`RESONANCE_INVALID_ARGUMENT` when none is open).
///
/// # Safety
/// `db` is NULL or a handle; `err_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn resonance_tx_commit(
    db: *mut resonance_db,
    err_out: *mut *mut c_char,
) -> resonance_status {
    guard!(err_out, { handle(db)?.commit() })
}

/// Rolls the explicit transaction back (`RESONANCE_INVALID_ARGUMENT` when none is open).
///
/// # Safety
/// `db` is NULL or a handle; `err_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn resonance_tx_rollback(
    db: *mut resonance_db,
    err_out: *mut *mut c_char,
) -> resonance_status {
    guard!(err_out, { handle(db)?.rollback() })
}

/// Frees a string list. NULL (or an already freed list) is a no-op.
#[no_mangle]
pub extern "C" fn resonance_strings_free(strings: *mut resonance_strings) {
    let _ = std::panic::catch_unwind(|| drop(take_back_from_caller(strings, "strings")));
}
