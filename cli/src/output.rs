//! What every command shares: errors on stderr with their kind, JSON on stdout, progress bars.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

use resonance::Error;
use serde_json::Value;

/// Prints `e` as `error [kind]: message` and gives exit status 1.
pub fn fail(e: &Error) -> ExitCode {
    eprintln!("error [{}]: {e}", e.code());
    ExitCode::from(1)
}

/// Prints `v` as pretty JSON on stdout.
pub fn print_json(v: &Value) {
    println!("{}", serde_json::to_string_pretty(v).unwrap_or_default());
}

static QUIET: AtomicBool = AtomicBool::new(false);

/// No progress at all from now on (`--json`: the output is for a program).
pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

/// Whether progress may be drawn: stderr is a terminal and `--json` was not given.
fn show_progress() -> bool {
    !QUIET.load(Ordering::Relaxed) && std::io::stderr().is_terminal()
}

/// A progress bar of `len` steps on stderr (hidden when stderr is not a terminal, or with `--json`).
pub fn bar(len: u64, what: &str) -> indicatif::ProgressBar {
    if show_progress() {
        let b = indicatif::ProgressBar::new(len);
        b.set_message(what.to_string());
        b
    } else {
        indicatif::ProgressBar::hidden()
    }
}

/// A spinner on stderr (hidden when stderr is not a terminal, or with `--json`).
pub fn spinner(what: &str) -> indicatif::ProgressBar {
    if show_progress() {
        let s = indicatif::ProgressBar::new_spinner();
        s.set_message(what.to_string());
        s.enable_steady_tick(std::time::Duration::from_millis(100));
        s
    } else {
        indicatif::ProgressBar::hidden()
    }
}
