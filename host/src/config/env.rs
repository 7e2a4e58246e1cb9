//! The environment each container observes, computed exactly as MaestroNG
//! 0.8.3 computes it (`environment.build` and `Conductor.__init__`).
//!
//! Order of sources, later wins: service `envfile`, service `env`, the
//! service identity (`MAESTRO_ENVIRONMENT_NAME`, `SERVICE_NAME`), instance
//! `envfile`, instance `env`, the container identity (`CONTAINER_NAME`, ...),
//! the own service's link variables with internal ports, then those of every
//! `requires` service (transitively) and `wants_info` service (directly),
//! without internal ports. A Python dict update keeps the position of an
//! existing key, so the text output lists variables where they first appeared.
//!
//! This file reads the sources into the ordered variables ([`EnvBuilder`]);
//! the link variables come on top in `links.rs`.
//!
//! Variable names come from [`maestro_guest::contract`], never spelled here.

use std::path::Path;

use maestro_guest::contract;

use super::error::{ConfigError, Diagnostic};
use super::model::EnvBuilder;
use super::read::{Ctx, join};
use super::yaml::{Mark, Node, PyScalar, Value, node_repr, node_str};

impl EnvBuilder {
    /// Sets a string-keyed variable.
    pub fn set_str(&mut self, name: &str, value: Option<String>) {
        self.set(str_id(name), name.to_owned(), value);
    }

    /// Applies `env`/`envfile` sources in order (`environment.build`).
    pub(super) fn apply_sources(
        &mut self,
        ctx: &mut Ctx,
        sources: &[(Option<&Node>, String)],
    ) -> Result<(), ConfigError> {
        for (node, path) in sources {
            if let Some(node) = node {
                self.apply(ctx, node, path)?;
            }
        }
        Ok(())
    }

    fn apply(&mut self, ctx: &mut Ctx, node: &Node, path: &str) -> Result<(), ConfigError> {
        match &node.value {
            Value::Scalar(s) => match &s.value {
                // Falsy sources are skipped.
                PyScalar::None | PyScalar::Bool(false) => Ok(()),
                PyScalar::Str(t) if t.is_empty() => Ok(()),
                PyScalar::Str(file) => self.apply_envfile(ctx, node, path, file),
                PyScalar::Int(d) if d == "0" => Ok(()),
                PyScalar::Float(f) if *f == 0.0 => Ok(()),
                other => Err(ctx.err(
                    Some(node),
                    path,
                    format!("invalid environment configuration: expected an envfile name, a list or a mapping, found {}", other.type_name()),
                )),
            },
            Value::Seq(items) => {
                for (i, item) in items.iter().enumerate() {
                    self.apply(ctx, item, &format!("{path}[{i}]"))?;
                }
                Ok(())
            }
            Value::Map(entries) => {
                for (key, value) in entries {
                    let name = node_str(key);
                    let id = key.scalar().map(|s| s.value.key_identity()).unwrap_or_else(|| name.clone());
                    let vpath = join(path, &name);
                    let value = env_value(ctx, value, &vpath);
                    self.set(id, name, value);
                }
                Ok(())
            }
        }
    }

    fn apply_envfile(
        &mut self,
        ctx: &mut Ctx,
        node: &Node,
        path: &str,
        file: &str,
    ) -> Result<(), ConfigError> {
        let full = ctx.base_dir.join(file);
        let text = std::fs::read_to_string(&full).map_err(|e| {
            ctx.err(
                Some(node),
                path,
                format!("cannot read envfile {}: {e}", full.display()),
            )
        })?;
        let vars = parse_envfile(&text, &full).map_err(ConfigError::Invalid)?;
        for (k, v) in vars {
            self.set_str(&k, Some(v));
        }
        Ok(())
    }

    /// Adds `MAESTRO_ENVIRONMENT_NAME` and `SERVICE_NAME` on top of a
    /// service's own variables.
    pub fn set_identity_service(&mut self, env_name: &Node, service: &str) {
        for (k, v) in contract::service_identity_vars(&node_str(env_name), service) {
            let value = if k == contract::names::ENVIRONMENT_NAME && env_name.is_null() {
                None
            } else {
                Some(v)
            };
            self.set_str(&k, value);
        }
    }

    /// Adds `CONTAINER_NAME`, `CONTAINER_HOST_ADDRESS`, `DOCKER_IMAGE`,
    /// `DOCKER_TAG`.
    pub fn set_identity_container(&mut self, container: &str, host: &str, image: &str) {
        for (k, v) in contract::identity_vars(container, host, image) {
            self.set_str(&k, Some(v));
        }
    }
}

fn str_id(name: &str) -> String {
    PyScalar::Str(name.to_owned()).key_identity()
}

/// A YAML env value as the container sees it: Python `str()`, lists joined
/// with spaces recursively, null as `None` (a bare `KEY`). Surprising
/// YAML 1.1 readings get a warning saying how to quote.
fn env_value(ctx: &mut Ctx, node: &Node, path: &str) -> Option<String> {
    match &node.value {
        Value::Scalar(s) => {
            if s.value == PyScalar::None {
                if s.plain {
                    ctx.warn(node, path, "value is null: the variable is passed without a value (bare name); write \"\" for an empty value".to_owned());
                }
                return None;
            }
            let text = s.value.py_str();
            if s.plain && !matches!(s.value, PyScalar::Str(_)) && text != s.raw {
                ctx.warn(node, path, format!("plain value {} is read as {} {text} (YAML 1.1); quote it (\"{}\") to keep the text", s.raw, s.value.type_name(), s.raw));
            }
            Some(text)
        }
        Value::Seq(items) => Some(flatten(ctx, items, path)),
        Value::Map(_) => {
            ctx.warn(
                node,
                path,
                "a mapping is passed as its Python representation".to_owned(),
            );
            Some(node_repr(node))
        }
    }
}

/// MaestroNG's `_env_list_expand`: items joined with spaces, nested lists
/// flattened. Non-string items crash MaestroNG; here they print as `str()`.
fn flatten(ctx: &mut Ctx, items: &[Node], path: &str) -> String {
    let mut parts = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let ipath = format!("{path}[{i}]");
        match &item.value {
            Value::Seq(inner) => parts.push(flatten(ctx, inner, &ipath)),
            Value::Map(entries) if entries.is_empty() => parts.push(String::new()),
            Value::Scalar(s) if matches!(s.value, PyScalar::Str(_)) => parts.push(s.value.py_str()),
            _ => {
                let text = node_str(item);
                ctx.warn(item, &ipath, format!("list item is a {}, not a string (MaestroNG fails here); maestro uses {text:?}", item.type_name()));
                parts.push(text);
            }
        }
    }
    parts.join(" ")
}

/// Parses a Docker envfile like docker-py 1.10.6's `parse_env_file`:
/// `KEY=VALUE` per line, the line stripped but key and value not, no quote
/// removal, lines starting with `#` skipped. Blank lines and indented
/// comments, which docker-py rejects, are skipped too.
pub fn parse_envfile(text: &str, file: &Path) -> Result<Vec<(String, String)>, Diagnostic> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.starts_with('#') {
            continue;
        }
        let stripped = line.trim_matches(is_python_space);
        if stripped.is_empty() || stripped.starts_with('#') {
            continue;
        }
        match stripped.split_once('=') {
            Some((k, v)) => out.push((k.to_owned(), v.to_owned())),
            None => {
                return Err(Diagnostic {
                    file: file.display().to_string(),
                    mark: Some(Mark {
                        line: n + 1,
                        col: 1,
                    }),
                    path: String::new(),
                    // The line itself is not shown: envfiles hold passwords and tokens,
                    // and errors end up in CI logs.
                    message: "invalid line in environment file: expected KEY=VALUE \
                              (the line is not shown, envfiles may hold secrets)"
                        .into(),
                });
            }
        }
    }
    Ok(out)
}

/// What Python's `str.strip()` removes.
fn is_python_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envfile_lines_parse_like_docker_py() {
        let vars =
            parse_envfile("# c\nA=1\nB = x=y \n\n  # indented\nC=\n", Path::new("f")).unwrap();
        assert_eq!(
            vars,
            [
                ("A".into(), "1".into()),
                ("B ".into(), " x=y".into()),
                ("C".into(), String::new())
            ]
        );
        let err = parse_envfile("A=1\ns3cret-token\n", Path::new("f.env")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "f.env:2:1: invalid line in environment file: expected KEY=VALUE \
             (the line is not shown, envfiles may hold secrets)"
        );
    }
}
