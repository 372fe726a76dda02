//! SQLite's own list of ways to corrupt a database (<https://www.sqlite.org/howtocorrupt.html>,
//! sections 1–8), one test per item that applies to an embedded engine: each shows that Resonance
//! prevents it, or reports it with a typed error, or (where neither is possible from inside a
//! library) pins what happens and says why in its comment.
//!
//! Not testable here, and why: §1.3/§1.4 (hot rollback journals) do not arise in WAL mode, which every
//! handle uses; §2.1 (file systems with broken locks, network mounts) and §4 (disks that lie about
//! fsync) need other hardware; §6 (OS bugs) and §8 (SQLite bugs) are not reproducible on purpose —
//! the SQLite ≥ 3.51.3 gate covers the known WAL-reset bug.

mod common;
#[path = "common/locks.rs"]
mod locks;

use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::Command;

use resonance::{connection, Database, ErrorKind, NodeInput, OpenOptions};

fn node(id: &str) -> NodeInput {
    NodeInput::new(id)
}

fn ro() -> OpenOptions {
    OpenOptions {
        read_only: true,
        ..Default::default()
    }
}

/// A plain SQLite connection (rusqlite's copy: the same SQLite as the engine's) for checking.
fn integrity(path: &Path) -> String {
    let c = rusqlite::Connection::open(path).unwrap();
    c.query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap()
}

fn count_nodes(path: &Path) -> i64 {
    let c = rusqlite::Connection::open(path).unwrap();
    c.query_row("SELECT count(*) FROM nodes", [], |r| r.get(0))
        .unwrap()
}

/// This process's descriptors open on `path` (from `/proc/self/fd`).
fn fds_of(path: &Path) -> Vec<i32> {
    let want = std::fs::canonicalize(path).unwrap();
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|e| {
            let e = e.ok()?;
            let target = std::fs::read_link(e.path()).ok()?;
            (target == want).then(|| e.file_name().to_str()?.parse().ok())?
        })
        .collect()
}

fn setup(n: usize) -> (tempfile::TempDir, PathBuf, Database) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db.sqlite");
    let db = Database::open(&path).unwrap();
    let nodes: Vec<NodeInput> = (0..n).map(|i| node(&format!("n{i}"))).collect();
    db.upsert_nodes(&nodes).unwrap();
    (dir, path, db)
}

/// howtocorrupt §1.1, continuing to use a file descriptor after it has been closed (and reused for
/// another file). The engine never closes a descriptor SQLite owns; here one is pointed at
/// /dev/null under the handle (as a stray close() plus a reused number would). Every later call
/// either works or fails with a typed error, never a panic, and the real file stays intact.
#[test]
fn s1_1_a_descriptor_reused_under_the_handle_leaves_the_file_intact() {
    let (_dir, path, db) = setup(50);
    let fds = fds_of(&path);
    assert!(!fds.is_empty(), "the handle holds a descriptor on the file");
    let null = std::fs::File::open("/dev/null").unwrap();
    for fd in &fds {
        // SAFETY: replaces our own descriptor on the test's private file with /dev/null.
        assert!(unsafe { libc::dup2(null.as_raw_fd(), *fd) } >= 0);
    }
    let kinds = [
        ErrorKind::Io,
        ErrorKind::Corrupt,
        ErrorKind::Sqlite,
        ErrorKind::NotADatabase,
        ErrorKind::Busy,
    ];
    for i in 0..20 {
        let r = db
            .upsert_node(&node(&format!("after-{i}")))
            .and_then(|()| db.checkpoint(resonance::CheckpointMode::Truncate).map(drop))
            .and_then(|()| db.get_node("n1").map(drop));
        if let Err(e) = r {
            assert!(kinds.contains(&e.kind()), "untyped failure: {e:?}");
        }
    }
    drop(db);
    assert_eq!(integrity(&path), "ok");
    assert!(count_nodes(&path) >= 50, "rows committed before were lost");
}

/// howtocorrupt §1.2, backup or restore while a transaction is active: the engine backs up through
/// SQLite's backup API only, so a backup taken while another handle holds an open write transaction
/// is a consistent copy of the last commit.
#[test]
fn s1_2_a_backup_during_a_write_transaction_is_consistent() {
    let (dir, path, db) = setup(100);
    let writer = Database::open(&path).unwrap();
    writer.begin().unwrap();
    writer.upsert_node(&node("uncommitted")).unwrap();
    let copy = dir.path().join("copy.sqlite");
    db.backup(Some(&copy)).unwrap();
    writer.commit().unwrap();
    assert_eq!(integrity(&copy), "ok");
    assert_eq!(
        count_nodes(&copy),
        100,
        "the copy holds exactly the last commit"
    );
}

/// howtocorrupt §1.3 and §1.4 in WAL form: the `-wal` file deleted, or replaced by another file,
/// under a live handle. Its commits would then live only in an unlinked file; the engine refuses the
/// next write with `corrupt` instead of splitting the database in two.
#[test]
fn s1_3_a_wal_deleted_or_replaced_under_a_live_handle_is_refused() {
    for replace in [false, true] {
        let (_dir, path, db) = setup(10);
        let wal = connection::wal_path(&path);
        std::fs::remove_file(&wal).unwrap();
        if replace {
            std::fs::write(&wal, b"").unwrap();
        }
        let e = db.upsert_node(&node("after")).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Corrupt, "{e}");
        assert!(e.to_string().contains("-wal"), "{e}");
        let e = db.begin().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Corrupt, "{e}");
    }
}

/// A missing `-shm` (howtocorrupt §1.3's sidecar family): deleted under a live handle, the next
/// write is refused with `corrupt`; deleted while nothing is open, the next open rebuilds it from the
/// WAL and nothing is lost.
#[test]
fn s1_3_a_missing_shm() {
    let (_dir, path, db) = setup(10);
    std::fs::remove_file(connection::shm_path(&path)).unwrap();
    let e = db.upsert_node(&node("after")).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Corrupt, "{e}");
    assert!(e.to_string().contains("-shm"), "{e}");
    drop(db);

    let (_dir2, path, db) = setup(10);
    db.close().unwrap();
    let _ = std::fs::remove_file(connection::shm_path(&path));
    let again = Database::open(&path).unwrap();
    assert_eq!(again.stats().unwrap().nodes, 10);
    again.upsert_node(&node("after")).unwrap();
    drop(again);
    let _ = std::fs::remove_file(connection::shm_path(&path));
    let r = Database::open_with(&path, ro()).unwrap();
    assert_eq!(r.stats().unwrap().nodes, 11);
}

/// howtocorrupt §2.2, POSIX advisory locks cancelled by a close() elsewhere in the process. The
/// engine's own paths never open and close the file outside SQLite (`handles.rs` pins that with
/// /proc/locks), and another handle through the same SQLite copy keeps the locks. Code outside the
/// engine that does (another SQLite copy in the process, such as Python's sqlite3 module, or a plain
/// open/close of the file) still drops them: the kernel gives a library no way to prevent it. This
/// pins the hazard, and that the engine then refuses to write on once a sidecar was removed in
/// consequence (see §1.3).
#[test]
fn s2_2_a_foreign_close_in_the_process_drops_the_locks() {
    let (_dir, path, db) = setup(10);
    db.get_node("n1").unwrap();
    let held = locks::lock_count(&path);
    assert!(held >= 1);
    // Through the same SQLite copy (rusqlite's bundled one is the engine's): locks kept.
    drop(rusqlite::Connection::open(&path).unwrap());
    assert_eq!(locks::lock_count(&path), held);
    // A plain open/close, as another SQLite copy's close() does: all this process's locks go.
    drop(std::fs::File::open(&path).unwrap());
    assert_eq!(
        locks::lock_count(&path),
        0,
        "POSIX semantics changed? update howtocorrupt §2.2 notes"
    );
}

/// howtocorrupt §2.3, two processes using different locking protocols: a SQLite opened with the
/// dot-file VFS ignores POSIX locks. It cannot open a WAL database (WAL needs the shared-memory
/// index the dot-file VFS does not provide), so it cannot write behind the engine's back.
#[test]
fn s2_3_a_dot_file_locking_sqlite_cannot_write_the_wal_database() {
    let (_dir, path, db) = setup(10);
    let out = Command::new("python3")
        .args([
            "-c",
            "import sqlite3, sys\n\
             try:\n\
             \x20   c = sqlite3.connect('file:' + sys.argv[1] + '?vfs=unix-dotfile', uri=True, timeout=2)\n\
             \x20   c.execute(\"INSERT INTO nodes (id) VALUES ('dotfile')\")\n\
             \x20   c.commit()\n\
             except sqlite3.Error as e:\n\
             \x20   print('refused:', e)\n\
             \x20   sys.exit(0)\n\
             print('wrote')\n",
        ])
        .arg(&path)
        .output()
        .expect("python3");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.starts_with("refused:"), "{stdout}");
    db.upsert_node(&node("after")).unwrap();
    assert_eq!(db.stats().unwrap().nodes, 11);
    drop(db);
    assert_eq!(integrity(&path), "ok");
}

/// howtocorrupt §2.3 with the same protocol but another SQLite build: the `sqlite3` shell writes
/// while the engine's handle is open; both see each other's rows.
#[test]
fn s2_3_the_sqlite3_shell_writing_beside_the_engine() {
    if Command::new("sqlite3").arg("-version").output().is_err() {
        eprintln!("sqlite3 shell not installed: skipped (apt-get install -y sqlite3)");
        return;
    }
    let (_dir, path, db) = setup(10);
    let out = Command::new("sqlite3")
        .arg(&path)
        .arg(".timeout 10000")
        .arg("INSERT INTO nodes (id) VALUES ('shell');")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(db.get_node("shell").unwrap().is_some());
    db.upsert_node(&node("after")).unwrap();
    drop(db);
    assert_eq!(integrity(&path), "ok");
    assert_eq!(count_nodes(&path), 12);
}

/// howtocorrupt §2.4, unlinking or renaming a database file while in use. In WAL mode SQLite writes
/// on into the `-wal` under the old name (its own moved-file check only runs in rollback mode), where
/// a new file of that name would pick it up; the engine refuses the next write with `readonly`.
/// Reopening at the new name finds every row.
#[test]
fn s2_4_a_database_renamed_under_the_handle_refuses_writes() {
    let (dir, path, db) = setup(10);
    let moved = dir.path().join("moved.sqlite");
    std::fs::rename(&path, &moved).unwrap();
    let e = db.upsert_node(&node("after")).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Readonly, "{e}");
    assert!(e.to_string().contains("renamed"), "{e}");
    drop(db);
    for s in ["-wal", "-shm"] {
        let (from, to) = (
            PathBuf::from(format!("{}{s}", path.display())),
            PathBuf::from(format!("{}{s}", moved.display())),
        );
        let _ = std::fs::rename(from, to);
    }
    let again = Database::open(&moved).unwrap();
    assert_eq!(again.stats().unwrap().nodes, 10);
}

/// howtocorrupt §2.5, multiple links to the same file. A hard link gives the file two names and so two
/// `-wal` names: the engine refuses to open it (read-write and read-only). A symbolic link is
/// resolved by SQLite's unix VFS, so the WAL sits beside the target and both names share it.
#[test]
fn s2_5_hard_links_are_refused_and_symlinks_resolve_to_one_wal() {
    let (dir, path, db) = setup(10);
    db.close().unwrap();
    let hard = dir.path().join("hard.sqlite");
    std::fs::hard_link(&path, &hard).unwrap();
    for p in [&path, &hard] {
        for opts in [OpenOptions::default(), ro()] {
            let e = Database::open_with(p, opts).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
            assert!(e.to_string().contains("hard links"), "{e}");
        }
    }
    std::fs::remove_file(&hard).unwrap();

    let link = dir.path().join("link.sqlite");
    std::os::unix::fs::symlink(&path, &link).unwrap();
    let via_link = Database::open(&link).unwrap();
    let direct = Database::open(&path).unwrap();
    via_link.upsert_node(&node("via-link")).unwrap();
    assert!(direct.get_node("via-link").unwrap().is_some());
    assert!(
        !connection::wal_path(&link).exists(),
        "no WAL beside the link"
    );
    assert!(connection::wal_path(&path).exists());
    direct.upsert_node(&node("direct")).unwrap();
    assert!(via_link.get_node("direct").unwrap().is_some());
}

/// howtocorrupt §2.6, carrying an open connection across fork(): in the child, the parent's handle
/// refuses every call with `closed` (and dropping it does not close the parent's connection); the
/// child's own handle works. Threads inside engine calls at the fork: `handles.rs`.
#[test]
fn s2_6_a_handle_carried_across_fork_refuses_in_the_child() {
    let (_dir, path, db) = setup(10);
    // SAFETY: the child makes engine calls only and leaves with _exit.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        let code = (|| {
            let refused = db.get_node("n1").map_err(|e| e.kind()) == Err(ErrorKind::Closed)
                && db.close().map_err(|e| e.kind()) == Err(ErrorKind::Closed)
                && db.is_closed();
            if !refused {
                return 3;
            }
            drop(db);
            match Database::open(&path).and_then(|own| own.upsert_node(&node("child"))) {
                Ok(()) => 0,
                Err(_) => 4,
            }
        })();
        // SAFETY: leaving the child without running the parent's destructors.
        unsafe { libc::_exit(code) };
    }
    let mut status = 0;
    // SAFETY: reaping our own child.
    assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
    assert!(libc::WIFEXITED(status), "child died: {status}");
    assert_eq!(libc::WEXITSTATUS(status), 0);
    assert!(db.get_node("child").unwrap().is_some());
    db.upsert_node(&node("parent")).unwrap();
    assert_eq!(db.health().unwrap().quick_check, "ok");
}

/// howtocorrupt §3 (failure to sync) and §5 (memory corruption through mmap), §7 (configuration):
/// the canon keeps `synchronous = NORMAL` in WAL (durable across application crashes; a power loss
/// may lose the last commits but never corrupts) and `mmap_size = 0` (no stray pointer can write
/// into the file through a mapping), on read-write and read-only handles alike.
#[test]
fn s3_s5_s7_sync_and_mmap_settings_stay_pinned() {
    let (_dir, path, db) = setup(1);
    let r = Database::open_with(&path, ro()).unwrap();
    for h in [db.health().unwrap(), r.health().unwrap()] {
        assert_eq!(h.mmap_size, 0, "mmap must stay off");
        assert_eq!(h.synchronous, "NORMAL");
        assert_eq!(h.journal_mode, "wal");
    }
}
