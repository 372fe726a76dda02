//! Several handles on one file: in one process (threads, read-write and read-only handles opened and
//! closed repeatedly), across processes (other SQLite builds writing at the same time), and across
//! `fork()`. What must hold: no lost row, no `corrupt`, and this process's POSIX locks on the file stay
//! as SQLite took them (`/proc/locks`).
//!
//! Child processes: the test binary re-executes itself running only `child_entry`, with
//! `RESONANCE_REL_CHILD` naming the role (helpers in `common/procs.rs`).

mod common;
#[path = "common/locks.rs"]
mod locks;
#[path = "common/procs.rs"]
mod procs;

use std::path::{Path, PathBuf};
use std::time::Duration;

use locks::{lock_count, lock_count_until, lock_lines};
use procs::{child, run_with_timeout};
use resonance::{connection, Database, NodeInput, OpenOptions};

fn ro() -> OpenOptions {
    OpenOptions {
        read_only: true,
        ..Default::default()
    }
}

fn node(id: &str) -> NodeInput {
    NodeInput::new(id)
}

#[test]
fn child_entry() {
    let Ok(role) = std::env::var("RESONANCE_REL_CHILD") else {
        return;
    };
    let path = PathBuf::from(std::env::var("RESONANCE_HANDLES_DB").unwrap());
    match role.as_str() {
        "write_one" => {
            let id = std::env::var("RESONANCE_HANDLES_ID").unwrap();
            let db = Database::open(&path).unwrap();
            db.upsert_node(&node(&id)).unwrap();
            db.close().unwrap();
        }
        other => panic!("unknown child role {other}"),
    }
    std::process::exit(0);
}

/// `python3 -c`: inserts node `id` through python's own SQLite build and closes.
fn python_writer(path: &Path, id: &str) -> std::process::Command {
    let mut c = std::process::Command::new("python3");
    c.args([
        "-c",
        "import sqlite3, sys\n\
         c = sqlite3.connect(sys.argv[1], timeout=30)\n\
         c.execute('INSERT INTO nodes (id) VALUES (?)', (sys.argv[2],))\n\
         c.commit()\n\
         c.close()\n",
    ])
    .arg(path)
    .arg(id);
    c
}

/// The database file's and its `-shm`'s lock counts for this process (`want` settles a racy read).
fn counts(path: &Path, want: Option<(usize, usize)>) -> (usize, usize) {
    let shm = connection::shm_path(path);
    match want {
        None => (lock_count(path), lock_count(&shm)),
        Some((d, s)) => (
            lock_count_until(path, |n| n == d),
            lock_count_until(&shm, |n| n == s),
        ),
    }
}

/// Handle A holds SQLite's locks (after a read, and inside an explicit transaction); opening and
/// closing handle B (read-write, then read-only) in the same process must leave them all in place.
#[test]
fn a_second_handle_keeps_the_first_handles_locks() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.db");
    let a = Database::open(&path).unwrap();
    a.upsert_node(&node("n1")).unwrap();
    assert!(a.get_node("n1").unwrap().is_some());
    let idle = counts(&path, None);
    assert!(
        idle.0 >= 1,
        "handle A holds a lock on the database file in WAL mode: {:?}",
        lock_lines(&path)
    );
    for opts in [OpenOptions::default(), ro()] {
        let b = Database::open_with(&path, opts.clone()).unwrap();
        assert!(b.get_node("n1").unwrap().is_some());
        b.close().unwrap();
        assert_eq!(
            counts(&path, Some(idle)),
            idle,
            "closing a second handle (read_only = {}) dropped handle A's locks: db {:?}",
            opts.read_only,
            lock_lines(&path)
        );
    }
    // Inside A's explicit write transaction (RESERVED on the file, the WAL write lock on -shm).
    a.begin().unwrap();
    a.upsert_node(&node("n2")).unwrap();
    let in_tx = counts(&path, None);
    for opts in [OpenOptions::default(), ro()] {
        let b = Database::open_with(&path, opts).unwrap();
        b.close().unwrap();
        assert_eq!(
            counts(&path, Some(in_tx)),
            in_tx,
            "closing B dropped the writer's locks"
        );
    }
    a.commit().unwrap();
    a.close().unwrap();
}

/// The scenario end to end: the parent holds handle A and opens and closes handle B; a child process
/// writes a row and closes its handle (believing itself alone if the parent's locks were gone, it
/// would checkpoint and remove the WAL under A). The row must still be there and A's next write must
/// work.
#[test]
fn a_child_writer_after_a_second_handle_closes_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.db");
    let a = Database::open(&path).unwrap();
    a.upsert_node(&node("parent-0")).unwrap();
    for round in 0..4u32 {
        let b = Database::open(&path).unwrap();
        b.close().unwrap();
        let b = Database::open_with(&path, ro()).unwrap();
        b.close().unwrap();
        // A Resonance child (keeps its WAL file on close) and a plain SQLite one (python3's sqlite3
        // module: the last connection to close checkpoints and deletes the WAL and -shm).
        let id = format!("child-{round}");
        let cmd = if round.is_multiple_of(2) {
            let mut c = child(
                "write_one",
                &[
                    ("RESONANCE_HANDLES_DB", path.display().to_string()),
                    ("RESONANCE_HANDLES_ID", id.clone()),
                ],
            );
            c.env("RUST_BACKTRACE", "1");
            c
        } else {
            python_writer(&path, &id)
        };
        let out = run_with_timeout(cmd, Duration::from_secs(120));
        assert!(
            out.status.is_some_and(|s| s.success()),
            "child writer failed: {}\n{}",
            out.stdout,
            out.stderr
        );
        assert!(
            a.get_node(&id).unwrap().is_some(),
            "the child's committed row {id} vanished from handle A's view"
        );
        a.upsert_node(&node(&format!("parent-{}", round + 1)))
            .unwrap_or_else(|e| panic!("handle A's write after the child closed: {e}"));
    }
    a.close().unwrap();
    let fresh = Database::open(&path).unwrap();
    for id in [
        "parent-0", "parent-4", "child-0", "child-1", "child-2", "child-3",
    ] {
        assert!(fresh.get_node(id).unwrap().is_some(), "{id} lost");
    }
    assert_eq!(fresh.health().unwrap().quick_check, "ok");
}

/// Waits for a forked child up to `limit`; `None` (after SIGKILL) when it hung.
fn wait_pid(pid: libc::pid_t, limit: Duration) -> Option<i32> {
    let start = std::time::Instant::now();
    loop {
        let mut status = 0;
        // SAFETY: waitpid on our own child with a valid status pointer.
        let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        if r == pid {
            return Some(if libc::WIFEXITED(status) {
                libc::WEXITSTATUS(status)
            } else {
                128 + libc::WTERMSIG(status)
            });
        }
        assert!(r == 0, "waitpid failed");
        if start.elapsed() >= limit {
            // SAFETY: killing and reaping our own child.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
                libc::waitpid(pid, &mut status, 0);
            }
            return None;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// The forked child's work: a new handle on the parent's file and on a new file, a write and a read
/// on each. Returns the exit code (no panics: printing a panic could take a lock a parent thread held).
fn forked_child(shared: &Path, own: &Path, k: usize) -> i32 {
    let run = |path: &Path| -> resonance::Result<bool> {
        let db = Database::open(path)?;
        let id = format!("forked-{k}");
        db.upsert_node(&node(&id))?;
        let ok = db.get_node(&id)?.is_some();
        db.close()?;
        Ok(ok)
    };
    match std::panic::catch_unwind(|| (run(shared), run(own))) {
        Ok((Ok(true), Ok(true))) => 0,
        Ok((Err(_), _)) => 10,
        Ok((_, Err(_))) => 11,
        Ok(_) => 12,
        Err(_) => 13,
    }
}

/// `fork()` while 8 threads are inside engine calls (search, batch upserts, opening and closing their
/// own handles): no child may hang, and each child's own handles work.
#[test]
fn fork_while_threads_are_inside_engine_calls() {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::Arc;
    let dir = tempfile::tempdir().unwrap();
    let shared = dir.path().join("shared.db");
    let db = Arc::new(Database::open(&shared).unwrap());
    let dim = 16;
    let seed: Vec<NodeInput> = (0..200)
        .map(|i| {
            let mut n = node(&format!("seed-{i}"));
            n.embedding = Some(procs::vector(i, dim));
            n
        })
        .collect();
    db.upsert_nodes(&seed).unwrap();
    // The parent's search pools are not used in the children (rayon's threads do not survive fork).
    let stop = Arc::new(AtomicBool::new(false));
    let calls = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = (0..8)
        .map(|t| {
            let (db, stop, calls, shared) =
                (db.clone(), stop.clone(), calls.clone(), shared.clone());
            std::thread::spawn(move || {
                let mut i = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    i += 1;
                    match t % 3 {
                        0 => {
                            let opts = resonance::SearchOptions {
                                threads: Some(1),
                                ..Default::default()
                            };
                            db.search(&procs::vector(i, dim), &opts).unwrap();
                        }
                        1 => {
                            let batch: Vec<NodeInput> = (0..20)
                                .map(|j| {
                                    let mut n = node(&format!("w{t}-{}", (i * 20 + j) % 500));
                                    n.embedding = Some(procs::vector(i + j, dim));
                                    n
                                })
                                .collect();
                            db.upsert_nodes(&batch).unwrap();
                        }
                        _ => {
                            let opts = if i.is_multiple_of(2) {
                                OpenOptions::default()
                            } else {
                                ro()
                            };
                            let mine = Database::open_with(&shared, opts).unwrap();
                            mine.get_node("seed-1").unwrap().unwrap();
                            mine.close().unwrap();
                        }
                    }
                    calls.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    while calls.load(Ordering::Relaxed) < 50 {
        std::thread::sleep(Duration::from_millis(5));
    }
    let mut hung = Vec::new();
    let mut failed = Vec::new();
    for k in 0..40 {
        let own = dir.path().join(format!("child-{k}.db"));
        // SAFETY: the child only runs `forked_child` (engine calls, no printing) and `_exit`s.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            let code = forked_child(&shared, &own, k);
            // SAFETY: leaving the child without running the parent's atexit handlers or destructors.
            unsafe { libc::_exit(code) };
        }
        assert!(pid > 0, "fork failed");
        match wait_pid(pid, Duration::from_secs(30)) {
            None => hung.push(k),
            Some(0) => {}
            Some(code) => failed.push((k, code)),
        }
        std::thread::sleep(Duration::from_millis(3));
    }
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.join().unwrap();
    }
    assert!(hung.is_empty(), "children hung: {hung:?}");
    assert!(failed.is_empty(), "children failed (k, code): {failed:?}");
    for k in 0..40 {
        assert!(db.get_node(&format!("forked-{k}")).unwrap().is_some());
    }
    assert_eq!(db.health().unwrap().quick_check, "ok");
}

/// A forked child's parallel work runs in rayon pools of its own: the parent used rayon's global pool
/// and (on machines of more than 2 cores) a capped search pool, whose threads stay in the parent,
/// before the fork; the child opens a
/// database and runs parallel searches, a batch search and betweenness, and exits within the limit.
#[cfg(unix)]
#[test]
fn a_forked_child_runs_parallel_work_in_its_own_pools() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pools.db");
    let dim = 32;
    // 20,000 × 32 floats: above the size where a search goes parallel.
    let nodes: Vec<NodeInput> = (0..20_000)
        .map(|i| {
            let mut n = node(&format!("n{i}"));
            n.embedding = Some(procs::vector(i, dim));
            n
        })
        .collect();
    let edges: Vec<resonance::EdgeInput> = (0..400)
        .map(|i| resonance::EdgeInput::new(format!("n{i}"), format!("n{}", (i * 7 + 1) % 400)))
        .collect();
    let db = Database::open(&path).unwrap();
    db.upsert_nodes(&nodes).unwrap();
    db.add_edges(&edges).unwrap();
    let query = procs::vector(5, dim);
    let capped = resonance::SearchOptions {
        threads: Some(2),
        ..Default::default()
    };
    db.search(&query, &Default::default()).unwrap();
    db.search(&query, &capped).unwrap();
    db.betweenness(&Default::default()).unwrap();
    db.close().unwrap();

    let child = |path: &Path| -> resonance::Result<bool> {
        let db = Database::open(path)?;
        let all = db.search(&query, &Default::default())?;
        let two = db.search(
            &query,
            &resonance::SearchOptions {
                threads: Some(2),
                ..Default::default()
            },
        )?;
        let batch: Vec<f32> = (0..8).flat_map(|i| procs::vector(i, dim)).collect();
        let rows = db.search_batch(&batch, 8, &Default::default())?;
        let bc = db.betweenness(&Default::default())?;
        let pr = db.pagerank(&Default::default())?;
        db.close()?;
        Ok(all.first().map(|h| h.id.as_str()) == Some("n5")
            && two == all
            && rows.len() == 8
            && rows[5].first().map(|h| h.id.as_str()) == Some("n5")
            && bc.len() == 20_000
            && !pr.is_empty())
    };
    // SAFETY: the child only runs engine calls (no printing) and `_exit`s.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        let code = match std::panic::catch_unwind(|| child(&path)) {
            Ok(Ok(true)) => 0,
            Ok(Ok(false)) => 10,
            Ok(Err(_)) => 11,
            Err(_) => 12,
        };
        // SAFETY: leaving the child without running the parent's atexit handlers or destructors.
        unsafe { libc::_exit(code) };
    }
    assert!(pid > 0, "fork failed");
    assert_eq!(
        wait_pid(pid, Duration::from_secs(60)),
        Some(0),
        "the child hung or failed"
    );
}

/// A python3 writer (its own SQLite build) inserting `prefix-i` rows one commit each for `secs`
/// seconds; prints how many it committed.
fn python_loop_writer(path: &Path, prefix: &str, secs: u64) -> std::process::Command {
    let mut c = std::process::Command::new("python3");
    c.args([
        "-c",
        "import sqlite3, sys, time\n\
         c = sqlite3.connect(sys.argv[1], timeout=30, isolation_level=None)\n\
         end = time.monotonic() + float(sys.argv[3])\n\
         n = 0\n\
         while time.monotonic() < end:\n\
         \x20   c.execute('INSERT INTO nodes (id) VALUES (?)', ('%s-%d' % (sys.argv[2], n),))\n\
         \x20   n += 1\n\
         c.close()\n\
         print(n)\n",
    ])
    .arg(path)
    .arg(prefix)
    .arg(secs.to_string());
    c
}

/// Handles × threads × processes: in this process, threads open and close read-write and read-only
/// handles on one file and write through them while a long-lived handle writes too; at the same
/// time python3's sqlite3 and the sqlite3 shell write from other processes. No committed row may be
/// lost, no call may fail with `corrupt`, and the long-lived handle's locks stay visible in
/// /proc/locks throughout. About 6 s (60 s with RESONANCE_SOAK=1).
#[test]
fn handles_threads_and_processes_on_one_file() {
    use std::collections::BTreeSet;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};
    let secs: u64 = if procs::soak() { 60 } else { 6 };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shared.db");
    let a = Arc::new(Database::open(&path).unwrap());
    a.upsert_node(&node("a-0")).unwrap();

    let mut others: Vec<std::process::Child> = (0..2)
        .map(|k| {
            let mut c = python_loop_writer(&path, &format!("py{k}"), secs);
            c.stdout(std::process::Stdio::piped());
            c.spawn().expect("python3")
        })
        .collect();
    let shell = std::process::Command::new("sqlite3")
        .arg("-version")
        .output()
        .is_ok();
    let shell_rows = 400;
    let mut shell_child = shell.then(|| {
        let mut script = String::from(".timeout 30000\n.bail on\n");
        for i in 0..shell_rows {
            script.push_str(&format!("INSERT INTO nodes (id) VALUES ('sh-{i}');\n"));
        }
        let script_path = dir.path().join("shell.sql");
        std::fs::write(&script_path, script).unwrap();
        std::process::Command::new("sqlite3")
            .arg(&path)
            .stdin(std::fs::File::open(&script_path).unwrap())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    });

    let stop = Arc::new(AtomicBool::new(false));
    let committed = Arc::new(Mutex::new(BTreeSet::new()));
    let bad = Arc::new(Mutex::new(Vec::<String>::new()));
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let (a, stop, committed, bad, path) = (
                a.clone(),
                stop.clone(),
                committed.clone(),
                bad.clone(),
                path.clone(),
            );
            std::thread::spawn(move || {
                let mut i = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    i += 1;
                    let r: resonance::Result<()> = (|| {
                        if t < 2 {
                            let h = Database::open(&path)?;
                            let id = format!("t{t}-{i}");
                            h.upsert_node(&node(&id))?;
                            committed.lock().unwrap().insert(id);
                            h.close()
                        } else if t == 2 {
                            let h = Database::open_with(&path, ro())?;
                            h.get_node("a-0")?.expect("a-0 is always there");
                            h.close()
                        } else {
                            let id = format!("a-{i}");
                            a.upsert_node(&node(&id))?;
                            committed.lock().unwrap().insert(id);
                            Ok(())
                        }
                    })();
                    match r {
                        Ok(()) => {}
                        Err(e) if e.kind() == resonance::ErrorKind::Busy => {}
                        Err(e) => bad.lock().unwrap().push(format!("thread {t}: {e}")),
                    }
                }
            })
        })
        .collect();

    let end = std::time::Instant::now() + Duration::from_secs(secs);
    let mut samples = 0;
    while std::time::Instant::now() < end {
        let n = lock_count_until(&path, |n| n >= 1);
        assert!(
            n >= 1,
            "the long-lived handle lost its lock on the file: {:?}",
            lock_lines(&path)
        );
        samples += 1;
        std::thread::sleep(Duration::from_millis(20));
    }
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        t.join().unwrap();
    }
    let mut py_rows = Vec::new();
    for (k, c) in others.iter_mut().enumerate() {
        let out = c.wait_with_output_ref();
        assert!(out.0, "python writer {k} failed");
        py_rows.push((k, out.1));
    }
    if let Some(c) = shell_child.take() {
        let out = c.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "sqlite3 shell failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let bad = bad.lock().unwrap().clone();
    assert!(bad.is_empty(), "failures: {bad:?}");

    let check = Database::open(&path).unwrap();
    for id in committed.lock().unwrap().iter() {
        assert!(check.get_node(id).unwrap().is_some(), "lost {id}");
    }
    for (k, n) in &py_rows {
        for i in [0, n / 2, n.saturating_sub(1)] {
            if *n > 0 {
                assert!(
                    check.get_node(&format!("py{k}-{i}")).unwrap().is_some(),
                    "lost py{k}-{i}"
                );
            }
        }
    }
    let stats = check.stats().unwrap();
    let expected = committed.lock().unwrap().len() as u64
        + py_rows.iter().map(|(_, n)| *n).sum::<u64>()
        + if shell { shell_rows } else { 0 }
        + 1; // a-0
    assert_eq!(stats.nodes, expected, "rows lost or doubled");
    assert_eq!(check.health().unwrap().quick_check, "ok");
    eprintln!(
        "handles × threads × processes: {} rows from this process, python {py_rows:?}, shell {}, \
         {samples} lock samples",
        committed.lock().unwrap().len(),
        if shell { shell_rows } else { 0 }
    );
}

/// Waits for a piped child: (success, the number it printed).
trait WaitRef {
    fn wait_with_output_ref(&mut self) -> (bool, u64);
}

impl WaitRef for std::process::Child {
    fn wait_with_output_ref(&mut self) -> (bool, u64) {
        let mut s = String::new();
        if let Some(mut out) = self.stdout.take() {
            std::io::Read::read_to_string(&mut out, &mut s).unwrap();
        }
        let ok = self.wait().unwrap().success();
        (ok, s.trim().parse().unwrap_or(0))
    }
}
