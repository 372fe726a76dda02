//! Child-process helpers for the reliability suite: the test binary re-executes itself with
//! `RESONANCE_REL_CHILD` naming a role (see `child_entry` in `reliability.rs`), and the parent waits
//! with a timeout, kills with SIGKILL, and reads the acknowledgement log a writer fsyncs.

// Compiled into several integration-test binaries, each of which uses only some of these helpers.
#![allow(dead_code)]

use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// `RESONANCE_SOAK=1` selects the long mode.
pub fn soak() -> bool {
    std::env::var("RESONANCE_SOAK").is_ok_and(|v| v == "1")
}

/// A command that re-runs this test binary as a child with `role`; `envs` are extra variables.
pub fn child(role: &str, envs: &[(&str, String)]) -> Command {
    let mut c = Command::new(std::env::current_exe().unwrap());
    c.args(["child_entry", "--exact", "--nocapture", "--test-threads=1"])
        .env("RESONANCE_REL_CHILD", role)
        .env_remove("RESONANCE_TEST_CHILD");
    for (k, v) in envs {
        c.env(k, v);
    }
    c
}

/// Spawns `cmd` with stdout/stderr captured.
pub fn spawn_piped(mut cmd: Command) -> Child {
    cmd.stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawning a child process")
}

/// Waits up to `limit` for `child`; `None` (after killing it) when it did not finish in time.
pub fn wait_timeout(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let start = Instant::now();
    loop {
        if let Some(st) = child.try_wait().expect("try_wait") {
            return Some(st);
        }
        if start.elapsed() >= limit {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The outcome of a child run with a timeout: status (None = hung and killed), stdout, stderr.
pub struct Outcome {
    pub status: Option<ExitStatus>,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `cmd` to completion (or kills it after `limit`), collecting its output on threads so a
/// chatty child never blocks on a full pipe.
pub fn run_with_timeout(cmd: Command, limit: Duration) -> Outcome {
    let mut ch = spawn_piped(cmd);
    let mut out = ch.stdout.take().unwrap();
    let mut err = ch.stderr.take().unwrap();
    let to = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut out, &mut s);
        s
    });
    let te = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut err, &mut s);
        s
    });
    let status = wait_timeout(&mut ch, limit);
    Outcome {
        status,
        stdout: to.join().unwrap_or_default(),
        stderr: te.join().unwrap_or_default(),
    }
}

/// Appends `n` to the acknowledgement log and fsyncs it: from then on the parent may rely on it.
pub fn ack(log: &Path, n: u64) {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .expect("opening the ack log");
    // One write(2) of the whole line: `writeln!` may issue the number and the newline separately, and a
    // SIGKILL between them left a torn line that the next round's first ack then extended into a bogus
    // number (seen in long mode: "90021" + "100000").
    f.write_all(format!("{n}\n").as_bytes())
        .expect("writing the ack log");
    f.sync_all().expect("fsync of the ack log");
}

/// Every complete line of the acknowledgement log (a torn last line is ignored: it was never
/// acknowledged, since the fsync had not returned).
pub fn acks(log: &Path) -> Vec<u64> {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let complete = match text.rfind('\n') {
        Some(i) => &text[..=i],
        None => "",
    };
    if complete.len() < text.len() {
        // Drop the torn line (the writer is dead), so a later writer's acks start on a line of their own.
        let f = std::fs::OpenOptions::new()
            .write(true)
            .open(log)
            .expect("opening the ack log");
        f.set_len(complete.len() as u64)
            .expect("truncating the ack log");
    }
    complete
        .lines()
        .map(|l| l.trim().parse().expect("ack log line"))
        .collect()
}

/// `PRAGMA integrity_check` through a plain SQLite connection (which also recovers a hot WAL).
pub fn integrity(path: &Path) -> String {
    let c = rusqlite::Connection::open(path).expect("opening for integrity_check");
    let mut st = c.prepare("PRAGMA integrity_check").unwrap();
    let lines: Vec<String> = st
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    lines.join("; ")
}

/// A small deterministic PRNG (xorshift64*).
#[derive(Clone)]
pub struct Rng(pub u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in `lo..hi` (`hi > lo`).
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo).max(1)
    }

    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next_u64() as u8).collect()
    }
}

/// A deterministic non-zero vector of `dim` components for `seed`.
pub fn vector(seed: u64, dim: usize) -> Vec<f32> {
    let mut r = Rng::new(seed + 1);
    let mut v: Vec<f32> = (0..dim)
        .map(|_| (r.next_u64() % 2001) as f32 / 1000.0 - 1.0)
        .collect();
    v[0] += 2.5; // never the zero vector, and scores against the all-ones query stay positive
    v
}

/// Unix time in milliseconds.
pub fn now_ms() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis()
}
