//! Differential test: `maestro-guest`'s queries against MaestroNG 0.8.3's
//! real `maestro.guestutils`, over thousands of generated environments.
//!
//! `tests/differential/guestutils_oracle.py` generates the cases from a fixed
//! seed (random names with dashes, dots, digits, mixed case, underscores and
//! non-ASCII; odd port values such as `1-3`, ``, ` 42 `, `007`, `1_0`;
//! missing variables; `minimum` violations; valid and invalid defaults) and
//! computes guestutils' answer to each in one Python run. This test then runs
//! the built binary once per case with exactly the case's environment and
//! compares stdout, stderr and exit status byte for byte.
//!
//! Where guestutils raises something other than `MaestroEnvironmentError`
//! (only `get_container_internal_address` can, when there is no eth0), the
//! oracle marks the case inexact: the guest must exit 1 with nothing on
//! stdout and exactly one `error: ` line on stderr, whatever its words.
//!
//! Needs python3 with venv (see `tests/testbed/maestro-ng-venv`, which this
//! test runs to get the interpreter). `MAESTRO_GUEST_BIN` overrides the
//! binary under test (e.g. the static release build); otherwise the test
//! builds it with cargo. `MAESTRO_DIFF_SEED` and `MAESTRO_DIFF_CASES` explore
//! other case sets than the fixed default.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use maestro_e2e::{reference_python, repo_root};

use serde_json::Value;

const SEED: u64 = 20_260_512;
const CASES: usize = 4000;

/// `name` from the environment, else `default`.
fn setting<T: std::str::FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(text) => text
            .parse()
            .unwrap_or_else(|_| panic!("{name}={text:?} is not a number")),
        Err(_) => default,
    }
}
/// How many mismatches are shown in full before the summary.
const SHOWN: usize = 12;

/// The binary under test: `MAESTRO_GUEST_BIN`, or a fresh debug build.
fn guest_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("MAESTRO_GUEST_BIN") {
        return PathBuf::from(path);
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .current_dir(repo_root())
        .args([
            "build",
            "--quiet",
            "-p",
            "maestro-guest",
            "--bin",
            "maestro-guest",
            "--message-format=json",
        ])
        .output()
        .expect("run cargo build -p maestro-guest");
    assert!(
        output.status.success(),
        "cargo build -p maestro-guest failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .find_map(|message| {
            let name = message.pointer("/target/name")?.as_str()?;
            let executable = message.get("executable")?.as_str()?;
            (name == "maestro-guest").then(|| PathBuf::from(executable))
        })
        .expect("cargo reported the maestro-guest executable")
}

/// One generated case with guestutils' answer.
struct Case {
    call: String,
    env: BTreeMap<String, String>,
    argv: Vec<String>,
    stdout: String,
    stderr: String,
    status: i32,
    exact: bool,
}

impl Case {
    fn from_json(value: &Value) -> Case {
        let text = |key: &str| {
            value[key]
                .as_str()
                .unwrap_or_else(|| panic!("case without {key}: {value}"))
                .to_owned()
        };
        Case {
            call: text("call"),
            env: value["env"]
                .as_object()
                .expect("env object")
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().expect("string value").to_owned()))
                .collect(),
            argv: value["argv"]
                .as_array()
                .expect("argv array")
                .iter()
                .map(|a| a.as_str().expect("string argument").to_owned())
                .collect(),
            stdout: text("stdout"),
            stderr: text("stderr"),
            status: i32::try_from(value["status"].as_i64().expect("status")).expect("small"),
            exact: value["exact"].as_bool().expect("exact flag"),
        }
    }
}

fn oracle_cases(python: &Path, seed: u64, count: usize) -> Vec<Case> {
    let script = repo_root().join("tests/differential/guestutils_oracle.py");
    let output = Command::new(python)
        .arg(&script)
        .arg(seed.to_string())
        .arg(count.to_string())
        .output()
        .expect("run the guestutils oracle");
    assert!(
        output.status.success(),
        "{} failed:\n{}",
        script.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    let document: Value = serde_json::from_slice(&output.stdout).expect("oracle JSON");
    document["cases"]
        .as_array()
        .expect("cases array")
        .iter()
        .map(Case::from_json)
        .collect()
}

/// Why the guest's outcome differs from guestutils', if it does.
fn mismatch(case: &Case, status: Option<i32>, stdout: &str, stderr: &str) -> Option<String> {
    if case.exact {
        if status == Some(case.status) && stdout == case.stdout && stderr == case.stderr {
            return None;
        }
    } else if status == Some(1)
        && stdout.is_empty()
        && stderr.starts_with("error: ")
        && stderr.ends_with('\n')
        && stderr.lines().count() == 1
    {
        return None;
    }
    let expected = if case.exact {
        format!(
            "status {}, stdout {:?}, stderr {:?}",
            case.status, case.stdout, case.stderr
        )
    } else {
        format!(
            "status 1, no stdout, one `error: ` line (guestutils raised {:?})",
            case.stderr
        )
    };
    Some(format!(
        "guestutils: {}\n  maestro-guest {:?}\n  env: {:?}\n  expected {expected}\n  got      status {status:?}, stdout {stdout:?}, stderr {stderr:?}",
        case.call, case.argv, case.env
    ))
}

/// Guards against a degenerate oracle: every query must be exercised, and
/// every one that can fail must both succeed and fail in some cases.
fn assert_cases_cover_every_query(cases: &[Case]) {
    let mut seen: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for case in cases {
        let entry = seen.entry(case.argv[0].as_str()).or_default();
        if case.status == 0 {
            entry.0 += 1;
        } else {
            entry.1 += 1;
        }
    }
    for query in [
        "environment-name",
        "service-name",
        "container-name",
        "host-address",
        "internal-address",
        "port",
        "node-list",
        "specific-host",
        "specific-port",
        "specific-exposed-port",
    ] {
        let (ok, failed) = seen.get(query).copied().unwrap_or_default();
        let can_fail = !matches!(query, "environment-name" | "internal-address");
        assert!(
            ok > 0 && (failed > 0 || !can_fail),
            "the oracle's cases do not exercise {query} (succeeded {ok}, failed {failed})"
        );
    }
}

/// Runs `cases` (numbered from `first`) and describes each mismatch.
fn run_cases(guest: &Path, first: usize, cases: &[Case]) -> Vec<String> {
    let mut mismatches = Vec::new();
    for (offset, case) in cases.iter().enumerate() {
        let output = Command::new(guest)
            .args(&case.argv)
            .env_clear()
            .envs(&case.env)
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", guest.display()));
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        if let Some(report) = mismatch(case, output.status.code(), &stdout, &stderr) {
            mismatches.push(format!("case {}: {report}", first + offset));
        }
    }
    mismatches
}

#[test]
fn guest_queries_answer_like_guestutils() {
    let python = reference_python();
    let seed = setting("MAESTRO_DIFF_SEED", SEED);
    let count = setting("MAESTRO_DIFF_CASES", CASES);
    let cases = oracle_cases(&python, seed, count);
    assert_eq!(cases.len(), count, "the oracle generated too few cases");
    assert_cases_cover_every_query(&cases);
    let guest = guest_binary();

    // Two workers: the machines running this have two cores.
    let half = cases.len().div_ceil(2);
    let mismatches: Vec<String> = std::thread::scope(|scope| {
        let workers: Vec<_> = cases
            .chunks(half.max(1))
            .enumerate()
            .map(|(chunk, slice)| {
                let guest = &guest;
                scope.spawn(move || run_cases(guest, chunk * half, slice))
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|worker| worker.join().expect("worker panicked"))
            .collect()
    });
    let exact = cases.iter().filter(|c| c.exact).count();
    println!(
        "compared {} cases against maestro-ng 0.8.3 guestutils (seed {seed}; {exact} exact, {} exit-1-only): {} mismatches",
        cases.len(),
        cases.len() - exact,
        mismatches.len()
    );
    assert!(
        mismatches.is_empty(),
        "{} of {} cases differ from guestutils; the first ones:\n{}",
        mismatches.len(),
        cases.len(),
        mismatches
            .iter()
            .take(SHOWN)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}
