//! What the examples that time searches share: the process's memory and CPU clocks, a median, a
//! seeded random generator and the random database file they measure. Each example includes it with
//! `mod common;` and uses part of it.
#![allow(dead_code)]

use resonance::{Database, NodeInput};

/// `VmRSS` and `VmHWM` of this process from `/proc/self/status`, in MB (NaN elsewhere).
pub fn rss_mb() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map_or(f64::NAN, |kb| kb / 1e3)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

/// The CPU time of `clock` (a thread or the process) in milliseconds.
#[cfg(target_os = "linux")]
pub fn cpu_ms(clock: libc::clockid_t) -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid timespec for the call to fill.
    unsafe { libc::clock_gettime(clock, &mut ts) };
    ts.tv_sec as f64 * 1e3 + ts.tv_nsec as f64 / 1e6
}

/// The calling thread's CPU time in milliseconds (robust to other jobs on a shared machine, for
/// single-thread runs only).
#[cfg(target_os = "linux")]
pub fn thread_cpu_ms() -> f64 {
    cpu_ms(libc::CLOCK_THREAD_CPUTIME_ID)
}

/// The process's CPU time (all threads) in milliseconds.
#[cfg(target_os = "linux")]
pub fn process_cpu_ms() -> f64 {
    cpu_ms(libc::CLOCK_PROCESS_CPUTIME_ID)
}

#[cfg(not(target_os = "linux"))]
pub fn thread_cpu_ms() -> f64 {
    f64::NAN
}

#[cfg(not(target_os = "linux"))]
pub fn process_cpu_ms() -> f64 {
    f64::NAN
}

/// A xorshift generator of components in [-0.5, 0.5): fixed seeds give the same vectors on every run.
pub struct Rng(pub u64);

impl Rng {
    /// The next component.
    pub fn next(&mut self) -> f32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 40) as f32 / (1u64 << 24) as f32 - 0.5
    }

    /// A vector of `dim` components.
    pub fn vector(&mut self, dim: usize) -> Vec<f32> {
        (0..dim).map(|_| self.next()).collect()
    }
}

/// Builds `path` through the engine when it does not exist: `n` random vectors of `dim` components
/// (seed 0x9E3779B97F4A7C15), ids `n<row>`, in batches of 10,000; with `labels`, domains `a`/`b` and
/// types `x`/`y`/`z` by row.
pub fn ensure_random_db(
    path: &str,
    n: usize,
    dim: usize,
    labels: bool,
) -> Result<(), Box<dyn std::error::Error>> {
    if std::path::Path::new(path).exists() {
        return Ok(());
    }
    let db = Database::open(path)?;
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for start in (0..n).step_by(10_000) {
        let nodes: Vec<NodeInput> = (start..(start + 10_000).min(n))
            .map(|i| NodeInput {
                embedding: Some(rng.vector(dim)),
                domain: labels.then(|| ["a", "b"][i % 2].to_string()),
                node_type: labels.then(|| ["x", "y", "z"][i % 3].to_string()),
                ..NodeInput::new(format!("n{i}"))
            })
            .collect();
        db.upsert_nodes(&nodes)?;
    }
    db.close()?;
    Ok(())
}
