//! One version everywhere: the workspace's `[workspace.package] version` (Cargo.toml) is the only place
//! it is written by hand. This test checks that every other place that must spell it out agrees:
//! `resonance --version`, the npm packages (main and per-platform), the napi loader's version check (node/index.js), the C header's comment on
//! `resonance_version()`, and the newest entry of CHANGELOG.md. Python's `__version__`, the wheel's
//! metadata (maturin reads Cargo.toml), Node's `version()` and C's `resonance_version()` are compiled from
//! `CARGO_PKG_VERSION`; their bindings' own test suites compare them at run time.

use std::path::{Path, PathBuf};
use std::process::Command;

const VERSION: &str = env!("CARGO_PKG_VERSION");

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("cli/ has a parent")
        .to_path_buf()
}

fn read(rel: &str) -> String {
    let p = repo().join(rel);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("reading {}: {e}", p.display()))
}

fn json(rel: &str) -> serde_json::Value {
    serde_json::from_str(&read(rel)).unwrap_or_else(|e| panic!("{rel} is not JSON: {e}"))
}

#[test]
fn cli_version_is_the_workspace_version() {
    let out = Command::new(env!("CARGO_BIN_EXE_resonance"))
        .arg("--version")
        .output()
        .expect("running resonance --version");
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("resonance {VERSION}")
    );
}

#[test]
fn workspace_version_is_declared_once() {
    // Every crate of the workspace inherits the version instead of repeating it.
    for krate in ["core", "cli", "ffi", "python", "node"] {
        let manifest = read(&format!("{krate}/Cargo.toml"));
        assert!(
            manifest.contains("version.workspace = true"),
            "{krate}/Cargo.toml must take `version.workspace = true`"
        );
    }
    let py = read("python/pyproject.toml");
    assert!(
        py.contains(r#"dynamic = ["version"]"#),
        "python/pyproject.toml must take its version from Cargo.toml (dynamic)"
    );
}

/// The npm platform directory napi-rs names for a Rust target triple.
fn npm_platform(triple: &str) -> &'static str {
    match triple {
        "x86_64-unknown-linux-gnu" => "linux-x64-gnu",
        "aarch64-unknown-linux-gnu" => "linux-arm64-gnu",
        "x86_64-unknown-linux-musl" => "linux-x64-musl",
        "aarch64-unknown-linux-musl" => "linux-arm64-musl",
        "x86_64-apple-darwin" => "darwin-x64",
        "aarch64-apple-darwin" => "darwin-arm64",
        "x86_64-pc-windows-msvc" => "win32-x64-msvc",
        other => panic!("node/package.json napi.targets: no npm platform known for {other}"),
    }
}

#[test]
fn npm_packages_agree_with_the_workspace_version() {
    let main = json("node/package.json");
    assert_eq!(main["version"], VERSION, "node/package.json version");
    // The per-platform packages: one node/npm/<platform>/ per napi target. scripts/test-dist.sh writes
    // them into the packed main package's `optionalDependencies` at exactly this version (they are not
    // in node/package.json itself: `npm ci` in node/ would look them up in the registry).
    let targets = main["napi"]["targets"]
        .as_array()
        .expect("node/package.json napi.targets");
    assert!(!targets.is_empty());
    let mut dirs: Vec<String> = std::fs::read_dir(repo().join("node/npm"))
        .expect("node/npm/ exists")
        .map(|e| {
            e.expect("node/npm entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    dirs.sort();
    let mut expected: Vec<String> = targets
        .iter()
        .map(|t| npm_platform(t.as_str().expect("a target triple")).to_owned())
        .collect();
    expected.sort();
    assert_eq!(
        dirs, expected,
        "node/npm/<platform> directories vs napi.targets"
    );
    for dir in &dirs {
        let pkg = json(&format!("node/npm/{dir}/package.json"));
        assert_eq!(
            pkg["name"],
            format!("resonance-{dir}"),
            "node/npm/{dir}/package.json name"
        );
        assert_eq!(
            pkg["version"], VERSION,
            "node/npm/{dir}/package.json version"
        );
        assert_eq!(
            pkg["main"],
            format!("resonance.{dir}.node"),
            "node/npm/{dir}/package.json main"
        );
    }
    // The generated loader compares the platform package's version with the one it was generated for.
    let loader = read("node/index.js");
    let expected = format!("expected {VERSION} but got");
    assert!(
        loader.contains(&expected),
        "node/index.js was generated for another version"
    );
    let stale = loader.matches("expected ").count() - loader.matches(&expected).count();
    assert_eq!(
        stale, 0,
        "node/index.js names another version: regenerate it (npm run build)"
    );
}

#[test]
fn header_and_changelog_name_the_workspace_version() {
    let header = read("include/resonance.h");
    assert!(
        header.contains(&format!("The library's version (`\"{VERSION}\"`)")),
        "include/resonance.h documents another version of resonance_version()"
    );
    let changelog = read("CHANGELOG.md");
    let newest = changelog
        .lines()
        .find(|l| l.starts_with("## "))
        .expect("CHANGELOG.md has a `## <version>` entry");
    assert!(
        newest.starts_with(&format!("## {VERSION} ")) || newest == format!("## {VERSION}"),
        "the newest CHANGELOG.md entry is `{newest}`, not {VERSION}"
    );
}
