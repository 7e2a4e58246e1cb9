//! The JSON shapes the README documents (section "JSON output"), checked
//! against real output the way `jq` reads it: each table row is a path
//! (`.steps[].container`; `[]` is jq's `.[]`, every element of an array or
//! every value of an object) and its jq `type`s (`string|null`; `absent`
//! for a field that may be left out). A document passes when every value
//! has a documented path and type, and every field not marked `absent` is
//! there; [`Shape::assert_covered`] then says whether the documents seen
//! exercised every row, so a table row nothing produces fails too.
//!
//! Shared by `host/tests/cli.rs` (included by path: the host's tests cannot
//! depend on this crate) and the testbed scenarios.

use std::collections::BTreeMap;

use serde_json::Value;

/// One command's documented shape, and the rows documents have exercised.
#[derive(Debug)]
pub struct Shape {
    title: String,
    /// Path (normalised: `""` is the root, `[]` an element) → allowed types.
    rows: BTreeMap<String, Vec<String>>,
    seen: BTreeMap<String, bool>,
}

/// `.` → `""`, `.[].x` → `[].x`, `.a[].b` stays: the form paths are built in.
fn normalise(path: &str) -> String {
    match path {
        "." => String::new(),
        p if p.starts_with(".[") => p[1..].to_owned(),
        p => p.to_owned(),
    }
}

fn shown(path: &str) -> String {
    if path.is_empty() || path.starts_with('[') {
        format!(".{path}")
    } else {
        path.to_owned()
    }
}

/// jq's name for the type of `value`.
pub fn jq_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

impl Shape {
    /// The table under the README heading that contains `title` (the first
    /// `| path | type | meaning |` table after it).
    ///
    /// # Panics
    /// When the heading or its table is missing, or a row is malformed.
    pub fn from_readme(readme: &str, title: &str) -> Shape {
        let start = readme
            .lines()
            .position(|l| l.starts_with('#') && l.contains(title))
            .unwrap_or_else(|| panic!("README: no heading containing {title:?}"));
        let mut rows = BTreeMap::new();
        let mut in_table = false;
        for line in readme.lines().skip(start + 1) {
            if line.starts_with('#') {
                break;
            }
            if !line.starts_with('|') {
                if in_table {
                    break;
                }
                continue;
            }
            // A `|` inside a cell is written `\|` (GitHub's tables).
            let line = line.replace("\\|", "\u{1}");
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let (path, types) = (cells[1].trim_matches('`'), cells[2].trim_matches('`'));
            if path == "path" || path.starts_with("---") {
                in_table = true;
                continue;
            }
            assert!(
                path.starts_with('.'),
                "README {title}: row {line:?} is not `| path | type | meaning |`"
            );
            let types: Vec<String> = types.split('\u{1}').map(|t| t.trim().to_owned()).collect();
            for t in &types {
                assert!(
                    [
                        "null", "boolean", "number", "string", "array", "object", "absent"
                    ]
                    .contains(&t.as_str()),
                    "README {title}: {path}: unknown type {t:?}"
                );
            }
            rows.insert(normalise(path), types);
        }
        assert!(!rows.is_empty(), "README {title}: no shape table");
        let seen = rows.keys().map(|k| (k.clone(), false)).collect();
        Shape {
            title: title.to_owned(),
            rows,
            seen,
        }
    }

    /// Checks `value` against the table; panics naming the path that does
    /// not fit (an undocumented field, a wrong type, a missing field).
    pub fn check(&mut self, value: &Value) {
        self.walk(value, "");
    }

    /// Parses `text` as one JSON document and checks it.
    pub fn check_text(&mut self, text: &str) -> Value {
        let value: Value = serde_json::from_str(text)
            .unwrap_or_else(|e| panic!("{}: not one JSON document ({e}):\n{text}", self.title));
        self.check(&value);
        value
    }

    fn walk(&mut self, value: &Value, path: &str) {
        let types = self.rows.get(path).unwrap_or_else(|| {
            panic!(
                "{}: {} is not documented in the README",
                self.title,
                shown(path)
            )
        });
        let t = jq_type(value);
        assert!(
            types.iter().any(|x| x == t),
            "{}: {} is {t} ({value}), the README says {}",
            self.title,
            shown(path),
            types.join("|")
        );
        self.seen.insert(path.to_owned(), true);
        match value {
            Value::Array(items) => {
                for item in items {
                    self.walk(item, &format!("{path}[]"));
                }
            }
            Value::Object(map) => {
                let any = format!("{path}[]");
                if self.rows.contains_key(&any) {
                    for item in map.values() {
                        self.walk(item, &any);
                    }
                    return;
                }
                for (key, item) in map {
                    self.walk(item, &format!("{path}.{key}"));
                }
                let prefix = format!("{path}.");
                let required: Vec<String> = self
                    .rows
                    .iter()
                    .filter(|(p, types)| {
                        p.strip_prefix(&prefix)
                            .is_some_and(|rest| !rest.contains(['.', '[']))
                            && !types.iter().any(|t| t == "absent")
                    })
                    .map(|(p, _)| p[prefix.len()..].to_owned())
                    .collect();
                for key in required {
                    assert!(
                        map.contains_key(&key),
                        "{}: {} has no field {key:?}, which the README does not mark absent: {value}",
                        self.title,
                        shown(path)
                    );
                }
            }
            _ => {}
        }
    }

    /// Asserts that the documents checked so far had a value at every
    /// documented path, except `untested` (rows a test cannot produce, each
    /// named by the test with its reason).
    pub fn assert_covered(&self, untested: &[&str]) {
        let missing: Vec<String> = self
            .seen
            .iter()
            .filter(|(p, seen)| !**seen && !untested.iter().any(|u| normalise(u) == **p))
            .map(|(p, _)| shown(p))
            .collect();
        assert!(
            missing.is_empty(),
            "{}: no document checked had a value at {missing:?}",
            self.title
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const README: &str = "\
### `x --format json`

| path | type | meaning |
|---|---|---|
| `.` | array | one per thing |
| `.[]` | object | a thing |
| `.[].name` | string | its name |
| `.[].id` | string \\| null \\| absent | maybe |

### next
";

    fn shape() -> Shape {
        Shape::from_readme(README, "`x --format json`")
    }

    #[test]
    fn documents_that_fit_pass_and_others_fail() {
        let mut s = shape();
        s.check(&serde_json::json!([{"name": "a"}, {"name": "b", "id": null}]));
        // `.[].id` was seen (null); nothing is left uncovered.
        s.assert_covered(&[]);
        for bad in [
            serde_json::json!({}),
            serde_json::json!([{"name": 1}]),
            serde_json::json!([{"id": "x"}]),
            serde_json::json!([{"name": "a", "extra": true}]),
        ] {
            let outcome = std::panic::catch_unwind(|| shape().check(&bad));
            assert!(outcome.is_err(), "{bad} passed");
        }
        let mut s = shape();
        s.check(&serde_json::json!([{"name": "a"}]));
        assert!(std::panic::catch_unwind(|| s.assert_covered(&[])).is_err());
        s.assert_covered(&[".[].id"]);
    }
}
