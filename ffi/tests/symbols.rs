//! `libresonance.so` exports only `resonance_*` functions: no `sqlite3_*` symbol of the bundled SQLite
//! (it would interpose the host program's SQLite, or be interposed by it).

use std::path::PathBuf;
use std::process::Command;

fn cdylib() -> PathBuf {
    // target/<profile>/deps/symbols-<hash> → target/<profile>/libresonance.so
    let exe = std::env::current_exe().expect("current_exe");
    let profile_dir = exe
        .parent()
        .and_then(|d| d.parent())
        .expect("target/<profile>");
    profile_dir.join(if cfg!(target_os = "macos") {
        "libresonance.dylib"
    } else {
        "libresonance.so"
    })
}

#[test]
#[cfg(target_os = "linux")]
fn no_sqlite_symbol_is_exported() {
    let lib = cdylib();
    assert!(
        lib.exists(),
        "{} was not built: run `cargo build -p resonance-ffi --lib` first (scripts/test.sh does)",
        lib.display()
    );
    let out = Command::new("nm")
        .args(["-D", "--defined-only"])
        .arg(&lib)
        .output()
        .expect("running nm (binutils)");
    assert!(out.status.success(), "nm failed: {out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    let sqlite: Vec<&str> = text.lines().filter(|l| l.contains("sqlite3_")).collect();
    assert!(
        sqlite.is_empty(),
        "{} exports SQLite symbols: {sqlite:?}",
        lib.display()
    );
    let exported: Vec<&str> = text
        .lines()
        .filter(|l| l.contains(" T "))
        .filter_map(|l| l.split_whitespace().last())
        .collect();
    assert!(
        exported.iter().all(|s| s.starts_with("resonance_")),
        "unexpected exported functions: {exported:?}"
    );
    assert!(exported.contains(&"resonance_db_open"));
}
