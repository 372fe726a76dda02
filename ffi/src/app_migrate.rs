//! Application migrations in C (docs/sql.md, "Application migrations"): `resonance_migrate_app` and
//! `resonance_app_migration_status` over a directory of `NNNN_name.sql` files
//! (`resonance::app_migrate::load_dir`), the options struct `resonance_app_migrate_options` (the
//! header's size rule) and the two reports with their free functions. Every rule of the ledger is
//! the core's; nothing here reads SQL text.

use std::ffi::c_char;
use std::mem::size_of;
use std::path::Path;

use resonance::{AppDirection, AppMigrateOptions, AppMigration};

use crate::options::{read_options, SizedOptions};
use crate::types::resonance_db;
use crate::{
    arg_str, c_opt_string, c_string, free_array, free_c_string, guard, hand_to_caller, handle,
    into_array, out_ptr, resonance_status, take_back_from_caller,
};

/// `resonance_app_migration_step.direction`: the step's `up` SQL ran (or would run).
pub const RESONANCE_APP_DIRECTION_UP: u32 = 0;
/// `resonance_app_migration_step.direction`: the step's `down` SQL ran (or would run).
pub const RESONANCE_APP_DIRECTION_DOWN: u32 = 1;

/// How `resonance_migrate_app` runs. A NULL pointer or a zero-initialised struct means the core's
/// defaults: up to the newest step, with a backup, refusing destructive steps and changed checksums.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct resonance_app_migrate_options {
    /// `sizeof(resonance_app_migrate_options)`, or 0 for the first version (see the size rule in the
    /// header).
    pub size: u32,
    /// Whether `to` is given; otherwise the target is the newest step of the directory.
    pub has_to: bool,
    /// The target version (when `has_to`): below the newest applied step, the applied steps above it
    /// are undone by their `down` sections, newest first.
    pub to: i64,
    /// Return the plan (with its SQL) and change nothing.
    pub dry_run: bool,
    /// Allow destructive steps (declared with `-- resonance:destructive`, detected, or any `down`).
    pub allow_destructive: bool,
    /// Skip the backup of a non-empty database before the first step.
    pub no_backup: bool,
    /// Accept a changed text of an applied step and record its new checksum (instead of refusing
    /// with `RESONANCE_SCHEMA_TOO_NEW`).
    pub accept_changed: bool,
}

impl SizedOptions for resonance_app_migrate_options {
    const NAME: &'static str = "resonance_app_migrate_options";
    const FIRST_SIZE: usize = size_of::<resonance_app_migrate_options>();
    const ZERO_IS_FIRST_VERSION: bool = true;
    fn defaults() -> Self {
        let d = AppMigrateOptions::default();
        resonance_app_migrate_options {
            size: size_of::<Self>() as u32,
            has_to: d.to.is_some(),
            to: d.to.unwrap_or(0),
            dry_run: d.dry_run,
            allow_destructive: d.allow_destructive,
            no_backup: d.no_backup,
            accept_changed: d.accept_changed,
        }
    }
}

impl resonance_app_migrate_options {
    fn to_core(self) -> AppMigrateOptions {
        AppMigrateOptions {
            to: self.has_to.then_some(self.to),
            dry_run: self.dry_run,
            allow_destructive: self.allow_destructive,
            no_backup: self.no_backup,
            accept_changed: self.accept_changed,
        }
    }
}

/// The defaults of `resonance_app_migrate_options` (the core's), with `size` set.
#[no_mangle]
pub extern "C" fn resonance_app_migrate_options_default() -> resonance_app_migrate_options {
    resonance_app_migrate_options::defaults()
}

/// One step of an application migration report.
#[repr(C)]
#[derive(Debug)]
pub struct resonance_app_migration_step {
    /// The step's version.
    pub version: i64,
    /// The step's name (NUL-terminated UTF-8).
    pub name: *mut c_char,
    /// `RESONANCE_APP_DIRECTION_UP` or `RESONANCE_APP_DIRECTION_DOWN`.
    pub direction: u32,
    /// The SQL that ran (or, for a dry run, would run).
    pub sql: *mut c_char,
    /// Whether the step is destructive (declared, or a `down`).
    pub destructive: bool,
}

impl Drop for resonance_app_migration_step {
    fn drop(&mut self) {
        free_c_string(self.name);
        free_c_string(self.sql);
    }
}

/// What `resonance_migrate_app` did (or, for a dry run, would do). Freed with
/// `resonance_app_migration_report_free`, which frees every pointer in it; read-only for the caller.
#[repr(C)]
#[derive(Debug)]
pub struct resonance_app_migration_report {
    /// The namespace (NUL-terminated UTF-8).
    pub namespace_name: *mut c_char,
    /// Whether this was a dry run.
    pub dry_run: bool,
    /// The steps run (or planned), in order (NULL when `steps_len` is 0).
    pub steps: *mut resonance_app_migration_step,
    /// How many entries `steps` has.
    pub steps_len: usize,
    /// The path of the backup taken first, or NULL when none was taken.
    pub backup: *mut c_char,
    /// Versions of applied steps whose changed text was accepted (NULL when
    /// `accepted_changes_len` is 0).
    pub accepted_changes: *mut i64,
    /// How many entries `accepted_changes` has.
    pub accepted_changes_len: usize,
}

impl Drop for resonance_app_migration_report {
    fn drop(&mut self) {
        free_c_string(self.namespace_name);
        free_c_string(self.backup);
        free_array(self.steps, self.steps_len);
        free_array(self.accepted_changes, self.accepted_changes_len);
    }
}

impl resonance_app_migration_report {
    fn from_core(r: resonance::AppMigrationReport) -> resonance_app_migration_report {
        let (steps, steps_len) = into_array(
            r.steps
                .iter()
                .map(|s| resonance_app_migration_step {
                    version: s.version,
                    name: c_string(&s.name),
                    direction: match s.direction {
                        AppDirection::Up => RESONANCE_APP_DIRECTION_UP,
                        AppDirection::Down => RESONANCE_APP_DIRECTION_DOWN,
                    },
                    sql: c_string(&s.sql),
                    destructive: s.destructive,
                })
                .collect(),
        );
        let (accepted_changes, accepted_changes_len) = into_array(r.accepted_changes);
        let backup = r.backup.as_ref().map(|p| p.to_string_lossy().into_owned());
        resonance_app_migration_report {
            namespace_name: c_string(&r.namespace),
            dry_run: r.dry_run,
            steps,
            steps_len,
            backup: c_opt_string(backup.as_deref()),
            accepted_changes,
            accepted_changes_len,
        }
    }
}

/// An applied step, from the ledger.
#[repr(C)]
#[derive(Debug)]
pub struct resonance_app_applied_step {
    /// The version.
    pub version: i64,
    /// The name recorded when it was applied.
    pub name: *mut c_char,
    /// The checksum recorded (sha256 hex of its `up` SQL, line endings as LF).
    pub checksum: *mut c_char,
    /// When it was applied (UTC, ISO 8601).
    pub applied_at: *mut c_char,
}

impl Drop for resonance_app_applied_step {
    fn drop(&mut self) {
        free_c_string(self.name);
        free_c_string(self.checksum);
        free_c_string(self.applied_at);
    }
}

/// A step of the directory not applied yet.
#[repr(C)]
#[derive(Debug)]
pub struct resonance_app_pending_step {
    /// The version.
    pub version: i64,
    /// The name (from the file name).
    pub name: *mut c_char,
}

impl Drop for resonance_app_pending_step {
    fn drop(&mut self) {
        free_c_string(self.name);
    }
}

/// Applied and pending steps of one namespace (`resonance_app_migration_status`). Freed with
/// `resonance_app_migration_status_free`, which frees every pointer in it.
#[repr(C)]
#[derive(Debug)]
pub struct resonance_app_migration_status_report {
    /// The namespace (NUL-terminated UTF-8).
    pub namespace_name: *mut c_char,
    /// Steps in the ledger, by version (NULL when `applied_len` is 0).
    pub applied: *mut resonance_app_applied_step,
    /// How many entries `applied` has.
    pub applied_len: usize,
    /// Steps of the directory not applied yet, by version (NULL when `pending_len` is 0).
    pub pending: *mut resonance_app_pending_step,
    /// How many entries `pending` has.
    pub pending_len: usize,
}

impl Drop for resonance_app_migration_status_report {
    fn drop(&mut self) {
        free_c_string(self.namespace_name);
        free_array(self.applied, self.applied_len);
        free_array(self.pending, self.pending_len);
    }
}

/// The steps of the directory `dir` (a required UTF-8 path).
fn steps_of(dir: *const c_char) -> Result<Vec<AppMigration>, resonance::Error> {
    let dir = arg_str(dir, "dir")?;
    if dir.is_empty() {
        return Err(resonance::Error::InvalidArgument("dir is empty".into()));
    }
    resonance::app_migrate::load_dir(Path::new(dir))
}

/// Applies (or, with `options->dry_run`, plans) the application migrations of `namespace_name` from the
/// directory `dir`: its `NNNN_name.sql` files (the number is the version, the rest the name; a line
/// `-- down` starts the step's `down` section; a line `-- resonance:destructive` declares it
/// destructive; other files are ignored). `options` may be NULL (the defaults). When `report_out` is
/// not NULL it receives the report (set to NULL on failure; free it with
/// `resonance_app_migration_report_free`).
///
/// Errors: a destructive step not allowed is `RESONANCE_DESTRUCTIVE_REFUSED`; an applied step whose
/// text changed, or one missing from the directory, is `RESONANCE_SCHEMA_TOO_NEW`; a failing step
/// (rolled back whole) or a step that cannot be undone is `RESONANCE_MIGRATION_FAILED`; an
/// unreadable directory is `RESONANCE_IO`; inside an explicit transaction,
/// `RESONANCE_INVALID_ARGUMENT`.
///
/// # Safety
/// `db` is NULL or a handle; `namespace_name` and `dir` are NUL-terminated strings; `options` is NULL or
/// valid for `options->size` bytes; `report_out` and `err_out` are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn resonance_migrate_app(
    db: *mut resonance_db,
    namespace_name: *const c_char,
    dir: *const c_char,
    options: *const resonance_app_migrate_options,
    report_out: *mut *mut resonance_app_migration_report,
    err_out: *mut *mut c_char,
) -> resonance_status {
    guard!(err_out, {
        crate::write_opt(report_out, std::ptr::null_mut());
        let db = handle(db)?;
        let namespace = arg_str(namespace_name, "namespace_name")?;
        // SAFETY: NULL or a valid struct of at least `size` bytes (documented).
        let opts = unsafe { read_options(options) }?.to_core();
        let steps = steps_of(dir)?;
        let report = db.migrate_app(namespace, &steps, &opts)?;
        crate::write_opt(
            report_out,
            hand_to_caller(
                resonance_app_migration_report::from_core(report),
                "app_migration_report",
            ),
        );
        Ok(())
    })
}

/// Frees a report of `resonance_migrate_app`. NULL (or an already freed report) is a no-op.
#[no_mangle]
pub extern "C" fn resonance_app_migration_report_free(report: *mut resonance_app_migration_report) {
    let _ =
        std::panic::catch_unwind(|| drop(take_back_from_caller(report, "app_migration_report")));
}

/// Stores in `*status_out` (required; set to NULL on failure; free it with
/// `resonance_app_migration_status_free`) the applied steps of `namespace_name` (from the ledger) and
/// which steps of the directory `dir` are pending. Changes nothing; works on a read-only handle.
///
/// # Safety
/// `db` is NULL or a handle; `namespace_name` and `dir` are NUL-terminated strings; `status_out` is
/// writable; `err_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn resonance_app_migration_status(
    db: *mut resonance_db,
    namespace_name: *const c_char,
    dir: *const c_char,
    status_out: *mut *mut resonance_app_migration_status_report,
    err_out: *mut *mut c_char,
) -> resonance_status {
    guard!(err_out, {
        let out = out_ptr(status_out, "status_out")?;
        *out = std::ptr::null_mut();
        let db = handle(db)?;
        let namespace = arg_str(namespace_name, "namespace_name")?;
        let steps = steps_of(dir)?;
        let st = db.app_migration_status(namespace, &steps)?;
        let (applied, applied_len) = into_array(
            st.applied
                .iter()
                .map(|a| resonance_app_applied_step {
                    version: a.version,
                    name: c_string(&a.name),
                    checksum: c_string(&a.checksum),
                    applied_at: c_string(&a.applied_at),
                })
                .collect(),
        );
        let (pending, pending_len) = into_array(
            st.pending
                .iter()
                .map(|(version, name)| resonance_app_pending_step {
                    version: *version,
                    name: c_string(name),
                })
                .collect(),
        );
        *out = hand_to_caller(
            resonance_app_migration_status_report {
                namespace_name: c_string(&st.namespace),
                applied,
                applied_len,
                pending,
                pending_len,
            },
            "app_migration_status",
        );
        Ok(())
    })
}

/// Frees a report of `resonance_app_migration_status`. NULL (or an already freed report) is a no-op.
#[no_mangle]
pub extern "C" fn resonance_app_migration_status_free(
    status: *mut resonance_app_migration_status_report,
) {
    let _ =
        std::panic::catch_unwind(|| drop(take_back_from_caller(status, "app_migration_status")));
}
