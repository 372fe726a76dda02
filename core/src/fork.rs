//! Makes `fork()` safe while other threads are inside engine calls.
//!
//! SQLite keeps process-wide mutexes (its allocator's, the unix VFS's, the page cache's). A thread that
//! holds one when another thread forks leaves it locked forever in the child, whose first SQLite call
//! then hangs. So every engine call that uses SQLite — opening and closing included — passes a
//! process-wide gate ([`enter`]), and `pthread_atfork` handlers (registered once, at the first open)
//! close the gate before the fork: `prepare` stops new calls and waits until none is inside; the parent
//! and child handlers open it again. The gate is two atomics (no mutex a child could inherit locked),
//! and a handle's own lock is only taken inside the gate, so no handle lock is held at a fork either.
//!
//! Never a hang: `prepare` waits at most [`FORK_WAIT`] (a call can be inside SQLite's busy wait, or
//! waiting for another thread's explicit transaction, for up to its busy timeout). If a call is still
//! inside then, the fork goes ahead and the child is marked unsafe: every engine call in it fails with
//! `internal`, naming the reason, instead of hanging. A child also refuses the handles it inherited
//! (`closed`): their connections belong to the parent (see `Database`).
//!
//! This module must not run SQL.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::SeqCst};
use std::sync::Once;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// How long `fork()` waits for the engine calls in flight before it goes ahead (and marks the child).
pub const FORK_WAIT: Duration = Duration::from_secs(10);

/// Engine calls inside the gate, process-wide (a thread's nested calls count once).
static INSIDE: AtomicUsize = AtomicUsize::new(0);
/// Set by `prepare` until the fork is over: new calls wait.
static FORKING: AtomicBool = AtomicBool::new(false);
/// `prepare` gave up waiting: a call was inside SQLite at the fork.
static GAVE_UP: AtomicBool = AtomicBool::new(false);
/// This process is a child forked while a call was inside SQLite: the engine refuses to run.
static UNSAFE_CHILD: AtomicBool = AtomicBool::new(false);
/// How many forks this process descends from (0 in the process that loaded the library). A handle
/// remembers the generation it was opened in.
static GENERATION: AtomicU64 = AtomicU64::new(0);
static REGISTER: Once = Once::new();

thread_local! {
    /// This thread's nesting depth inside the gate.
    static DEPTH: Cell<usize> = const { Cell::new(0) };
}

/// Proof that this thread is inside the gate; leaving is dropping it.
pub(crate) struct Gate {
    // Not Send: the count belongs to the entering thread.
    _thread: std::marker::PhantomData<*const ()>,
}

/// The fork generation of this process (see [`Gate`] and `Database`).
pub(crate) fn generation() -> u64 {
    GENERATION.load(SeqCst)
}

/// Registers the fork handlers (once), so that a fork from now on moves the [`generation`]: called
/// by the gate and before the first parallel work (`pool`).
pub(crate) fn watch() {
    REGISTER.call_once(register);
}

/// Enters the gate (waiting while a fork is under way), registering the fork handlers the first time.
/// Fails with `internal` in a child forked while an engine call was inside SQLite.
pub(crate) fn enter() -> Result<Gate> {
    watch();
    if UNSAFE_CHILD.load(SeqCst) {
        return Err(Error::Internal(format!(
            "this process ({}) was forked while another thread was inside a Resonance call for \
             longer than {} s, so SQLite's locks may be held forever in it: Resonance cannot run \
             here; start a fresh process (spawn, or fork then exec)",
            std::process::id(),
            FORK_WAIT.as_secs()
        )));
    }
    let depth = DEPTH.get();
    if depth == 0 {
        // Announce, then check: `prepare` sets FORKING, then reads INSIDE (all SeqCst), so either it
        // sees this call or this call sees the fork and steps back.
        loop {
            while FORKING.load(SeqCst) {
                std::thread::sleep(Duration::from_micros(200));
            }
            INSIDE.fetch_add(1, SeqCst);
            if !FORKING.load(SeqCst) {
                break;
            }
            INSIDE.fetch_sub(1, SeqCst);
        }
    }
    DEPTH.set(depth + 1);
    Ok(Gate {
        _thread: std::marker::PhantomData,
    })
}

impl Drop for Gate {
    fn drop(&mut self) {
        let depth = DEPTH.get() - 1;
        DEPTH.set(depth);
        if depth == 0 {
            INSIDE.fetch_sub(1, SeqCst);
        }
    }
}

#[cfg(unix)]
fn register() {
    // SAFETY: the handlers are `extern "C"` functions with no arguments, valid for the process's life.
    let rc = unsafe { libc::pthread_atfork(Some(prepare), Some(parent), Some(child)) };
    // Without the handlers a fork is as unsafe as it was before; nothing else to do (ENOMEM only).
    debug_assert_eq!(rc, 0, "pthread_atfork failed");
}

#[cfg(not(unix))]
fn register() {}

extern "C" fn prepare() {
    FORKING.store(true, SeqCst);
    // The forking thread may itself be inside an engine call (a fork from a callback): not waited for.
    let mine = usize::from(DEPTH.get() > 0);
    let deadline = Instant::now() + FORK_WAIT;
    while INSIDE.load(SeqCst) > mine {
        if Instant::now() >= deadline {
            GAVE_UP.store(true, SeqCst);
            return;
        }
        std::thread::sleep(Duration::from_micros(100));
    }
}

extern "C" fn parent() {
    GAVE_UP.store(false, SeqCst);
    FORKING.store(false, SeqCst);
}

extern "C" fn child() {
    // Only the forking thread exists here: the other threads' counts went with them.
    if GAVE_UP.swap(false, SeqCst) {
        UNSAFE_CHILD.store(true, SeqCst);
    }
    INSIDE.store(usize::from(DEPTH.get() > 0), SeqCst);
    GENERATION.fetch_add(1, SeqCst);
    FORKING.store(false, SeqCst);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_entries_count_once_and_leave_cleanly() {
        let before = DEPTH.get();
        {
            let _a = enter().unwrap();
            let _b = enter().unwrap();
            assert_eq!(DEPTH.get(), before + 2);
        }
        assert_eq!(DEPTH.get(), before);
    }

    #[test]
    fn prepare_waits_for_a_call_inside_and_a_new_call_waits_for_the_fork() {
        // This test closes the process-wide gate by hand. The other unit tests run in parallel
        // threads of this process, and a call of theirs would wait at the closed gate (a statement
        // meant to be interrupted then begins after its interrupt and never ends): run it alone, in
        // a child process of this test binary.
        const ALONE: &str = "RESONANCE_FORK_GATE_TEST_ALONE";
        if std::env::var_os(ALONE).is_none() {
            let out = std::process::Command::new(std::env::current_exe().unwrap())
                .args([
                    "fork::tests::prepare_waits_for_a_call_inside_and_a_new_call_waits_for_the_fork",
                    "--exact",
                    "--test-threads=1",
                ])
                .env(ALONE, "1")
                .output()
                .unwrap();
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert!(
                out.status.success() && stdout.contains("1 passed"),
                "{stdout}{}",
                String::from_utf8_lossy(&out.stderr)
            );
            return;
        }
        let _ = enter().map(drop); // registers the handlers
        let (tx, rx) = std::sync::mpsc::channel();
        let inside = std::thread::spawn(move || {
            let g = enter().unwrap();
            tx.send(()).unwrap();
            std::thread::sleep(Duration::from_millis(300));
            drop(g);
        });
        rx.recv().unwrap();
        let t = Instant::now();
        prepare();
        assert!(
            t.elapsed() >= Duration::from_millis(100),
            "prepare returned while a call was inside"
        );
        assert!(!GAVE_UP.load(SeqCst));
        let entered = std::sync::Arc::new(AtomicBool::new(false));
        let e2 = entered.clone();
        let late = std::thread::spawn(move || {
            let _g = enter().unwrap();
            e2.store(true, SeqCst);
        });
        std::thread::sleep(Duration::from_millis(100));
        assert!(!entered.load(SeqCst), "a call entered during the fork");
        parent();
        late.join().unwrap();
        assert!(entered.load(SeqCst));
        inside.join().unwrap();
    }
}
