//! The Jinja pre-pass's Python methods against Jinja2 itself.
//!
//! `tests/differential/jinja_methods.json` is one table of templates (str,
//! list, dict methods, `str.format`, how values print, errors). maestro's
//! unit test `config::pycompat::tests::every_method_renders_like_jinja2`
//! renders each with our pre-pass and compares with the table's `output`;
//! this test renders each with Jinja2 3.1.6 from the MaestroNG 0.8.3 venv
//! (`tests/differential/jinja_oracle.py`, set up as `maestro.loader` does)
//! and checks that the table's `output` is exactly Jinja2's, and that Jinja2
//! fails too where the table expects our error. Together: ours == Jinja2.
//!
//! Prerequisite: python3 with venv and PyPI access (the testbed script
//! installs maestro-ng 0.8.3 and its Jinja2 on first use).

use std::process::Command;

use maestro_e2e::{reference_python, repo_root};

use serde_json::Value;

#[test]
fn the_method_table_is_what_jinja2_renders() {
    let table_path = repo_root().join("tests/differential/jinja_methods.json");
    let table: Value = serde_json::from_str(
        &std::fs::read_to_string(&table_path)
            .unwrap_or_else(|e| panic!("{}: {e}", table_path.display())),
    )
    .expect("the table is JSON");
    let cases = table["cases"].as_array().expect("cases");
    assert!(cases.len() >= 50, "only {} cases", cases.len());

    let python = reference_python();
    let out = Command::new(&python)
        .arg(repo_root().join("tests/differential/jinja_oracle.py"))
        .arg(&table_path)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", python.display()));
    assert!(
        out.status.success(),
        "the Jinja2 oracle failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let results: Value = serde_json::from_slice(&out.stdout).expect("the oracle prints JSON");
    let results = results.as_array().expect("a list of results");
    assert_eq!(results.len(), cases.len(), "one result per case");

    let mut failures = Vec::new();
    for (case, result) in cases.iter().zip(results) {
        let template = case["template"].as_str().expect("template");
        match (case.get("output"), result.get("output")) {
            (Some(want), Some(got)) if want == got => {}
            (None, None) => {
                // Both fail: the table holds our message, Jinja2 raised.
                assert!(case.get("error").is_some() && result.get("error").is_some());
            }
            (want, _) => failures.push(format!(
                "{template}\n  table:  {}\n  Jinja2: {result}",
                want.or(case.get("error")).expect("output or error")
            )),
        }
    }
    println!(
        "{} templates rendered by Jinja2 as the table says",
        cases.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
