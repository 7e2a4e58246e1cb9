//! The contract's two Unicode-sensitive rules against MaestroNG 0.8.3 over
//! every code point: name sanitising (`_to_env_var_name`: Python's `\w` and
//! `upper()`) and port parsing (Python's `int()`: whitespace and decimal
//! digits of every script). `tests/differential/codepoint_oracle.py` prints
//! what Python does; code points Python's Unicode does not assign are left
//! out, and [`KNOWN`] lists the only assigned ones allowed to differ.

use std::path::Path;
use std::process::Command;

use maestro_e2e::{reference_python, repo_root};

use maestro_guest::contract::{PortNumber, env_var_name};

/// Lower-case letters that gained an upper case after Unicode 14 (Python
/// 3.11's): Rust upper-cases them, Python 3.11 keeps them.
const KNOWN: [u32; 4] = [0x019b, 0x0264, 0xa7d3, 0xa7d5];

const CODE_POINTS: usize = 0x11_0000;

/// Python's answers, indexed by code point.
struct Oracle {
    unicode: String,
    skip: Vec<bool>,
    name: Vec<Option<String>>,
    int: Vec<Option<(String, String)>>,
}

fn number(field: Option<&str>) -> usize {
    field
        .and_then(|f| f.parse().ok())
        .expect("a code point in the oracle output")
}

fn oracle(python: &Path) -> Oracle {
    let script = repo_root().join("tests/differential/codepoint_oracle.py");
    let output = Command::new(python)
        .arg(&script)
        .output()
        .expect("run the code point oracle");
    assert!(
        output.status.success(),
        "{} failed:\n{}",
        script.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    let mut oracle = Oracle {
        unicode: String::new(),
        skip: vec![false; CODE_POINTS],
        name: vec![None; CODE_POINTS],
        int: vec![None; CODE_POINTS],
    };
    for line in String::from_utf8(output.stdout).expect("UTF-8").lines() {
        let mut fields = line.split(' ');
        match fields.next() {
            Some("unicode") => oracle.unicode = fields.next().unwrap_or_default().to_owned(),
            Some(kind @ ("skip" | "under")) => {
                let (first, last) = (number(fields.next()), number(fields.next()));
                for cp in first..=last {
                    if kind == "skip" {
                        oracle.skip[cp] = true;
                    } else {
                        oracle.name[cp] = Some("_".to_owned());
                    }
                }
            }
            Some("name") => {
                let cp = number(fields.next());
                let text = fields
                    .map(|hex| {
                        u32::from_str_radix(hex, 16)
                            .ok()
                            .and_then(char::from_u32)
                            .expect("a character in hex")
                    })
                    .collect();
                oracle.name[cp] = Some(text);
            }
            Some("int") => {
                let cp = number(fields.next());
                let lead = fields.next().expect("int(c + '1')").to_owned();
                let trail = fields.next().expect("int('1' + c)").to_owned();
                oracle.int[cp] = Some((lead, trail));
            }
            _ => panic!("unexpected oracle line {line:?}"),
        }
    }
    assert!(
        !oracle.unicode.is_empty(),
        "the oracle printed no Unicode version"
    );
    oracle
}

fn parsed(text: &str) -> String {
    PortNumber::parse_python_int(text).map_or_else(|| "-".to_owned(), |n| n.as_str().to_owned())
}

#[test]
fn every_code_point_sanitises_and_parses_like_guestutils() {
    let oracle = oracle(&reference_python());
    let mut compared = 0;
    let mut mismatches = Vec::new();
    for (cp, c) in (0..CODE_POINTS).filter_map(|cp| Some((cp, char::from_u32(cp as u32)?))) {
        if oracle.skip[cp] {
            continue;
        }
        compared += 1;
        let known = KNOWN.contains(&(cp as u32));
        let expected_name = oracle.name[cp].clone().unwrap_or_else(|| c.to_string());
        let name = env_var_name(&c.to_string());
        if (name == expected_name) == known {
            mismatches.push(format!(
                "U+{cp:04X}: name {name:?}, guestutils {expected_name:?}{}",
                if known {
                    " (listed in KNOWN, but agrees)"
                } else {
                    ""
                }
            ));
        }
        let (lead, trail) = oracle.int[cp]
            .clone()
            .unwrap_or_else(|| ("-".to_owned(), "-".to_owned()));
        let ours = (parsed(&format!("{c}1")), parsed(&format!("1{c}")));
        if ours != (lead.clone(), trail.clone()) {
            mismatches.push(format!(
                "U+{cp:04X}: int() of c+'1', '1'+c gives {ours:?}, Python ({lead:?}, {trail:?})"
            ));
        }
    }
    println!(
        "compared {compared} code points assigned in Unicode {} with maestro-ng 0.8.3 ({} known differences): {} mismatches",
        oracle.unicode,
        KNOWN.len(),
        mismatches.len()
    );
    assert!(
        compared > 100_000,
        "too few code points compared: {compared}"
    );
    assert!(
        mismatches.is_empty(),
        "{} code points differ from guestutils; the first ones:\n{}",
        mismatches.len(),
        mismatches
            .iter()
            .take(20)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}
