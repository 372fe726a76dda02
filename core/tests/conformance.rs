//! The Rust conformance runner: every case of `tests/conformance/cases/` through the `Database` API
//! (format: `tests/conformance/README.md`; the op interpreter is `resonance-testkit`, shared with the
//! `ops` fuzz target).

#[test]
fn every_conformance_case_passes() {
    let files = resonance_testkit::case_files();
    assert!(!files.is_empty());
    let (mut passed, mut failed) = (0, Vec::new());
    for f in &files {
        let case: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(f).unwrap()).unwrap();
        match resonance_testkit::run_case(&case) {
            Ok(()) => passed += 1,
            Err(e) => failed.push(e),
        }
    }
    for f in &failed {
        eprintln!("FAILED {}", &f[..f.len().min(2000)]);
    }
    println!(
        "conformance (rust): {passed} passed, {} failed",
        failed.len()
    );
    assert!(
        failed.is_empty(),
        "{} of {} conformance cases failed",
        failed.len(),
        files.len()
    );
}
