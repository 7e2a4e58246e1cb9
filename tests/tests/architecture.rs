//! The house ARCHITECTURE.md describes: `scripts/import-graph` reads every
//! import of host/ and guest/ and fails on an import loop or an arrow that
//! runs up the layers. No daemon needed.

use std::process::Command;

use maestro_e2e::repo_root;

#[test]
fn no_import_loop_and_no_arrow_up_the_layers() {
    let out = Command::new("python3")
        .arg(repo_root().join("scripts/import-graph"))
        .current_dir(repo_root())
        .output()
        .expect("running scripts/import-graph needs python3 (apt-get install python3)");
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{report}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Both crates were read, and the report says so.
    assert!(report.contains("host/src:"), "{report}");
    assert!(report.contains("guest/src:"), "{report}");
    assert_eq!(report.matches("import loops: 0").count(), 2, "{report}");
    assert_eq!(
        report.matches("arrows up the layers: 0").count(),
        2,
        "{report}"
    );
}
