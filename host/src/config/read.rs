//! The node-reading toolkit every section parser uses: the build context
//! [`Ctx`] (file name for messages, warnings, strictness), typed getters with
//! MaestroNG's readings, the one unknown-key check, and key paths.

use std::path::Path;

use super::error::{ConfigError, Diagnostic};
use super::yaml::{Mark, Node, PyScalar, Value, node_str};

/// A mapping's entries, as the YAML tree holds them.
pub(super) type Entries = [(Node, Node)];

/// Joins a key onto a dotted path.
pub(super) fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

/// The state of one build: the file name for messages and the warnings.
pub(super) struct Ctx<'a> {
    pub file: &'a str,
    pub base_dir: &'a Path,
    pub strict: bool,
    pub warnings: Vec<Diagnostic>,
}

impl Ctx<'_> {
    /// An error at `node`.
    pub fn err(&self, node: Option<&Node>, path: &str, message: impl Into<String>) -> ConfigError {
        self.err_at(node.map(|n| n.mark), path, message)
    }

    /// An error at `node` for a key given together with `other`, a spelling
    /// of the same setting: the message names both, `other` with its path
    /// and file:line:column, so either can be found and one removed.
    pub fn err_alias(
        &self,
        (node, path, key): (&Node, &str, &str),
        (other, other_path, other_key): (&Node, &str, &str),
        what: &str,
    ) -> ConfigError {
        self.err(
            Some(node),
            path,
            format!(
                "`{key}` and `{other_key}` both set {what} (`{key}` is docker compose's spelling \
                 of MaestroNG's `{other_key}`): keep one; `{other_key}` is {other_path} at {}:{}:{}",
                self.file, other.mark.line, other.mark.col
            ),
        )
    }

    /// An error at a position.
    pub fn err_at(
        &self,
        mark: Option<Mark>,
        path: &str,
        message: impl Into<String>,
    ) -> ConfigError {
        ConfigError::Invalid(Diagnostic {
            file: self.file.to_owned(),
            mark,
            path: path.to_owned(),
            message: message.into(),
        })
    }

    /// Records a warning at `node`.
    pub fn warn(&mut self, node: &Node, path: &str, message: impl Into<String>) {
        self.warnings.push(Diagnostic {
            file: self.file.to_owned(),
            mark: Some(node.mark),
            path: path.to_owned(),
            message: message.into(),
        });
    }

    /// A mapping's entries; null counts as empty.
    pub fn map<'n>(&self, node: &'n Node, path: &str) -> Result<&'n Entries, ConfigError> {
        match &node.value {
            Value::Map(entries) => Ok(entries),
            _ if node.is_null() => Ok(&[]),
            _ => Err(self.err(
                Some(node),
                path,
                format!("expected a mapping, found {}", node.type_name()),
            )),
        }
    }

    /// Warns about (or, strict, rejects) keys outside `known`.
    pub fn check_keys(
        &mut self,
        entries: &Entries,
        known: &[&str],
        path: &str,
        what: &str,
    ) -> Result<(), ConfigError> {
        for (key, _) in entries {
            let name = node_str(key);
            if known.contains(&name.as_str()) {
                continue;
            }
            let key_path = join(path, &name);
            let message = format!("unknown {what} key {name:?}");
            if self.strict {
                return Err(self.err(Some(key), &key_path, message));
            }
            self.warn(key, &key_path, format!("{message} (ignored)"));
        }
        Ok(())
    }

    /// A required scalar as Python's `str()`.
    pub fn string(&self, node: &Node, path: &str) -> Result<String, ConfigError> {
        match &node.value {
            Value::Scalar(s) if s.value != PyScalar::None => Ok(s.value.py_str()),
            _ => Err(self.err(
                Some(node),
                path,
                format!("expected a string, found {}", node.type_name()),
            )),
        }
    }

    /// An optional scalar as `str()`; null means absent.
    pub fn opt_string(
        &self,
        node: Option<&Node>,
        path: &str,
    ) -> Result<Option<String>, ConfigError> {
        match node {
            None => Ok(None),
            Some(n) if n.is_null() => Ok(None),
            Some(n) => self.string(n, path).map(Some),
        }
    }

    /// A string or a list of strings (`dns`, `cap_add`, `container_volumes`).
    pub fn string_list(&self, node: Option<&Node>, path: &str) -> Result<Vec<String>, ConfigError> {
        let Some(node) = node else {
            return Ok(Vec::new());
        };
        match &node.value {
            _ if node.is_null() => Ok(Vec::new()),
            Value::Seq(items) => items
                .iter()
                .enumerate()
                .map(|(i, item)| self.string(item, &format!("{path}[{i}]")))
                .collect(),
            Value::Scalar(_) => Ok(vec![self.string(node, path)?]),
            Value::Map(_) => Err(self.err(
                Some(node),
                path,
                "expected a string or a list of strings, found dict",
            )),
        }
    }

    /// An optional string or list of strings (`dns`, `security_opt`); null
    /// means absent.
    pub fn opt_string_list(
        &self,
        node: Option<&Node>,
        path: &str,
    ) -> Result<Option<Vec<String>>, ConfigError> {
        match node {
            Some(n) if !n.is_null() => self.string_list(Some(n), path).map(Some),
            _ => Ok(None),
        }
    }

    /// An integer.
    pub fn int(&self, node: &Node, path: &str) -> Result<i64, ConfigError> {
        match &node.value {
            Value::Scalar(s) => match &s.value {
                PyScalar::Int(_) => s.value.as_i64().ok_or_else(|| {
                    self.err(
                        Some(node),
                        path,
                        format!("integer {} is out of range", s.raw),
                    )
                }),
                // MaestroNG calls int() on these; a numeric string works.
                PyScalar::Str(text) => text.trim().parse().map_err(|_| {
                    self.err(
                        Some(node),
                        path,
                        format!("expected an integer, found {text:?}"),
                    )
                }),
                _ => Err(self.err(
                    Some(node),
                    path,
                    format!("expected an integer, found {}", s.value.type_name()),
                )),
            },
            _ => Err(self.err(
                Some(node),
                path,
                format!("expected an integer, found {}", node.type_name()),
            )),
        }
    }

    /// A non-negative integer that fits `u64`.
    pub fn uint(&self, node: &Node, path: &str) -> Result<u64, ConfigError> {
        let n = self.int(node, path)?;
        u64::try_from(n).map_err(|_| {
            self.err(
                Some(node),
                path,
                format!("expected a non-negative integer, found {n}"),
            )
        })
    }

    /// A number (int or float), for timeouts and sleeps.
    pub fn number(&self, node: &Node, path: &str) -> Result<f64, ConfigError> {
        match node.scalar().map(|s| &s.value) {
            Some(PyScalar::Float(f)) if f.is_finite() && *f >= 0.0 => Ok(*f),
            _ => self.uint(node, path).map(|n| n as f64),
        }
    }

    /// Python truthiness of a flag; non-booleans get a warning.
    pub fn flag(&mut self, node: Option<&Node>, path: &str) -> bool {
        let Some(node) = node else { return false };
        match &node.value {
            Value::Scalar(s) => match &s.value {
                PyScalar::Bool(b) => *b,
                PyScalar::None => false,
                other => {
                    let truthy = match other {
                        PyScalar::Int(d) => d != "0",
                        PyScalar::Float(f) => *f != 0.0,
                        PyScalar::Str(t) => !t.is_empty(),
                        _ => true,
                    };
                    self.warn(
                        node,
                        path,
                        format!(
                            "expected true or false, read {:?} as {}",
                            s.raw,
                            if truthy { "true" } else { "false" }
                        ),
                    );
                    truthy
                }
            },
            Value::Seq(items) => !items.is_empty(),
            Value::Map(entries) => !entries.is_empty(),
        }
    }
}

/// A service's and one of its instances' mappings, for the keys MaestroNG
/// merges (`ports`, `limits`, `lifecycle`: the instance's over the service's).
#[derive(Clone, Copy)]
pub(super) struct Owners<'a> {
    /// The service's entries.
    pub service: &'a Entries,
    /// The service's key path.
    pub service_path: &'a str,
    /// The instance's entries.
    pub instance: &'a Entries,
    /// The instance's key path.
    pub path: &'a str,
}

impl<'a> Owners<'a> {
    /// The service's value of a merged key, then the instance's (null counts as
    /// absent), each with its key path.
    pub fn sources(&self, key: &str) -> [(Option<&'a Node>, String); 2] {
        [
            (get_set(self.service, key), join(self.service_path, key)),
            (get_set(self.instance, key), join(self.path, key)),
        ]
    }
}

/// The value of `key` in a mapping.
pub(super) fn get<'n>(entries: &'n Entries, key: &str) -> Option<&'n Node> {
    entries
        .iter()
        .find(|(k, _)| matches!(&k.value, Value::Scalar(s) if s.value.py_str() == key && !matches!(s.value, PyScalar::None | PyScalar::Merge)))
        .map(|(_, v)| v)
}

/// Like [`get`] but null counts as absent (MaestroNG's `x.get(k) or default`).
pub(super) fn get_set<'n>(entries: &'n Entries, key: &str) -> Option<&'n Node> {
    get(entries, key).filter(|n| !n.is_null())
}
