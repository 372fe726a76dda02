//! This process's POSIX advisory locks on a file, as the kernel lists them in `/proc/locks` (Linux).
//! SQLite's unix VFS takes `fcntl` locks; closing any descriptor of a file drops all of them for the
//! whole process, so the tests count them before and after an operation that must not.

// Compiled into several integration-test binaries, each of which uses only some of these helpers.
#![allow(dead_code)]

use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// The `/proc/locks` lines held by this process on the file at `path` (0 when it does not exist).
pub fn lock_lines(path: &Path) -> Vec<String> {
    let Ok(meta) = std::fs::metadata(path) else {
        return Vec::new();
    };
    let inode = meta.ino().to_string();
    let pid = std::process::id().to_string();
    let text = std::fs::read_to_string("/proc/locks").expect("reading /proc/locks");
    text.lines()
        .filter(|l| {
            // "1: POSIX  ADVISORY  READ 1234 08:01:56789 128 128"; a blocked waiter's line starts "->".
            let f: Vec<&str> = l.split_whitespace().collect();
            f.len() >= 6
                && f[1] == "POSIX"
                && f[4] == pid
                && f[5].rsplit(':').next() == Some(inode.as_str())
        })
        .map(str::to_string)
        .collect()
}

/// How many locks this process holds on `path`.
pub fn lock_count(path: &Path) -> usize {
    lock_lines(path).len()
}

/// [`lock_count`] read until `ok` accepts it (at most 5 reads, 10 ms apart), returning the last read.
/// `/proc/locks` is read in chunks while other processes take and drop locks, so a single read can
/// miss a line; a lock really dropped stays missing on every read.
pub fn lock_count_until(path: &Path, ok: impl Fn(usize) -> bool) -> usize {
    let mut n = lock_count(path);
    for _ in 0..4 {
        if ok(n) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
        n = lock_count(path);
    }
    n
}
