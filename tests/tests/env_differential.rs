//! Differential test of the injected environment against MaestroNG 0.8.3.
//!
//! For every description in `tests/differential/envs/`, the oracle
//! (`tests/differential/maestro_env_oracle.py`, run with the testbed venv's
//! python) prints what MaestroNG computes for each container, stringified by
//! docker-py; `maestro dump` prints ours. The two must be equal as maps, for
//! every container.
//!
//! Prerequisites: the `maestro` binary (`cargo build -p maestro`, done by
//! `cargo test --workspace`) and python3 with venv and PyPI access (the
//! testbed script installs maestro-ng 0.8.3 on first use).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use maestro_e2e::{bin, reference_python, repo_root};

use serde_json::Value;

type Env = BTreeMap<String, Option<String>>;

/// Variables both sides see through Jinja's `env`.
const TEMPLATE_VARS: &[(&str, &str)] = &[
    ("MAESTRO_DIFF_NAME", "diff-env"),
    ("MAESTRO_DIFF_HOME", "/home/diff"),
];

fn run(mut cmd: Command, what: &str) -> Value {
    for (k, v) in TEMPLATE_VARS {
        cmd.env(k, v);
    }
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{what}: invalid JSON: {e}"))
}

fn oracle(python: &Path, file: &Path) -> BTreeMap<String, Env> {
    let mut cmd = Command::new(python);
    cmd.arg(repo_root().join("tests/differential/maestro_env_oracle.py"))
        .arg(file);
    let value = run(cmd, &format!("the MaestroNG oracle on {}", file.display()));
    let mut out = BTreeMap::new();
    for (container, vars) in value.as_object().expect("oracle prints an object") {
        let env = vars
            .as_object()
            .expect("variables object")
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().map(str::to_owned)))
            .collect();
        out.insert(container.clone(), env);
    }
    out
}

fn ours(binary: &Path, file: &Path) -> BTreeMap<String, Env> {
    let mut cmd = Command::new(binary);
    cmd.arg("-f").arg(file).arg("dump");
    let value = run(cmd, &format!("maestro dump on {}", file.display()));
    let mut out = BTreeMap::new();
    for instance in value["instances"].as_array().expect("instances") {
        let name = instance["name"].as_str().expect("name").to_owned();
        let env = instance["env"]
            .as_array()
            .expect("env")
            .iter()
            .map(|v| {
                (
                    v["name"].as_str().expect("var name").to_owned(),
                    v["value"].as_str().map(str::to_owned),
                )
            })
            .collect();
        out.insert(name, env);
    }
    out
}

#[test]
fn every_container_environment_matches_maestro_ng() {
    let binary = bin("maestro");
    let python = reference_python();
    let dir = repo_root().join("tests/differential/envs");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 6,
        "expected the differential environment files in {}",
        dir.display()
    );

    let mut compared = 0;
    let mut failures = Vec::new();
    for file in &files {
        let file = file.canonicalize().expect("canonical path");
        let expected = oracle(&python, &file);
        let actual = ours(&binary, &file);
        let names = |m: &BTreeMap<String, Env>| m.keys().cloned().collect::<Vec<_>>();
        if names(&expected) != names(&actual) {
            failures.push(format!(
                "{}: containers differ: MaestroNG {:?}, maestro {:?}",
                file.display(),
                names(&expected),
                names(&actual)
            ));
            continue;
        }
        for (container, want) in &expected {
            compared += 1;
            let got = &actual[container];
            for key in want.keys().chain(got.keys()) {
                if want.get(key) != got.get(key) {
                    failures.push(format!(
                        "{}: {container}: {key}: MaestroNG {:?}, maestro {:?}",
                        file.file_name()
                            .map(|n| n.to_string_lossy())
                            .unwrap_or_default(),
                        want.get(key),
                        got.get(key)
                    ));
                }
            }
        }
    }
    println!(
        "compared {compared} container environments from {} files against MaestroNG 0.8.3",
        files.len()
    );
    assert!(
        failures.is_empty(),
        "{} differences:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(compared >= 20, "only {compared} containers compared");
}
