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
//! Variable names come from [`maestro_guest::contract`], never spelled here.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use maestro_guest::contract::{self, InstanceLinks, PortLink, ServiceLinks};

use super::build::{Ctx, RawService};
use super::error::{ConfigError, Diagnostic};
use super::model::{EnvVar, Environment, Instance};
use super::yaml::{Node, PyScalar, Value, node_repr, node_str};

/// An insertion-ordered environment with Python dict-update semantics.
#[derive(Debug, Clone, Default)]
pub struct EnvBuilder {
    /// (key identity, key text, value).
    entries: Vec<(String, String, Option<String>)>,
    index: HashMap<String, usize>,
}

impl EnvBuilder {
    /// Sets `name` (identified as Python would compare keys) to `value`,
    /// keeping the position of an existing key.
    pub fn set(&mut self, id: String, name: String, value: Option<String>) {
        match self.index.get(&id) {
            Some(&i) => self.entries[i].2 = value,
            None => {
                self.index.insert(id.clone(), self.entries.len());
                self.entries.push((id, name, value));
            }
        }
    }

    /// Sets a string-keyed variable.
    pub fn set_str(&mut self, name: &str, value: Option<String>) {
        self.set(str_id(name), name.to_owned(), value);
    }

    /// The variables, in order.
    pub fn vars(&self) -> Vec<EnvVar> {
        self.entries
            .iter()
            .map(|(_, name, value)| EnvVar {
                name: name.clone(),
                value: value.clone(),
            })
            .collect()
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
                    let vpath = super::build::join(path, &name);
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
                    mark: Some(super::yaml::Mark {
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

/// The services whose link variables a service's containers get besides
/// their own: `requires` transitively and `wants_info` directly, by name.
pub fn dependency_services(environment: &Environment, service: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut stack: Vec<String> = environment
        .service(service)
        .map(|s| s.requires.clone())
        .unwrap_or_default();
    while let Some(dep) = stack.pop() {
        if out.insert(dep.clone()) {
            if let Some(s) = environment.service(&dep) {
                stack.extend(s.requires.iter().cloned());
            }
        }
    }
    if let Some(s) = environment.service(service) {
        out.extend(s.wants_info.iter().cloned());
    }
    out
}

/// The link view of a service, for [`ServiceLinks::variables`].
pub fn service_links(environment: &Environment, service: &str) -> ServiceLinks {
    let instances = environment
        .instances_of(service)
        .map(|i| InstanceLinks {
            name: i.name.clone(),
            host: environment
                .ship(&i.ship)
                .map(|s| s.ip.clone())
                .unwrap_or_default(),
            ports: i
                .ports
                .iter()
                .map(|p| PortLink {
                    name: p.name.clone(),
                    external: p.external.to_string(),
                    internal: Some(p.exposed.to_string()),
                })
                .collect(),
        })
        .collect();
    ServiceLinks {
        name: service.to_owned(),
        instances,
    }
}

/// Most link variables all containers together may get. Every container
/// of a service gets the variables of all its peers and dependencies, so
/// they grow with the square of the instance count: a 26 KB description of
/// 2500 aliased instances asked for 156 million (gigabytes, minutes). Real
/// descriptions stay orders of magnitude below.
pub const MAX_LINK_VARIABLES: usize = 1_000_000;

/// Refuses an environment whose containers would get more than
/// [`MAX_LINK_VARIABLES`] link variables in all (counted, not computed: the
/// variables themselves are computed per container when asked for).
pub(super) fn check_links(
    ctx: &Ctx,
    environment: &Environment,
    raw: &[RawService],
) -> Result<(), ConfigError> {
    // How many variables each service's links make, with and without internal ports.
    let services = &environment.services;
    let with: Vec<usize> = services
        .iter()
        .map(|s| service_links(environment, &s.name).variables(true).len())
        .collect();
    let without: Vec<usize> = services
        .iter()
        .map(|s| service_links(environment, &s.name).variables(false).len())
        .collect();
    let position: HashMap<&str, usize> = services
        .iter()
        .enumerate()
        .map(|(i, s)| (s.name.as_str(), i))
        .collect();
    let requires = environment.service_graph(|s| s.requires.iter().map(String::as_str).collect());
    let mut total = 0usize;
    for service in raw {
        if service.instances.is_empty() {
            continue;
        }
        let Some(&me) = position.get(service.name.as_str()) else {
            continue;
        };
        // `dependency_services`: `requires` transitively, then `wants_info`, once each.
        let mut deps = requires.reachable(me);
        for w in &services[me].wants_info {
            if let Some(&j) = position.get(w.as_str()) {
                if !deps.contains(&j) {
                    deps.push(j);
                }
            }
        }
        let mut vars = with[me];
        for dep in deps {
            vars = vars.saturating_add(without[dep]);
        }
        total = total.saturating_add(vars.saturating_mul(service.instances.len()));
        if total > MAX_LINK_VARIABLES {
            return Err(ctx.err(
                Some(service.node),
                &service.path,
                format!(
                    "the containers would get more than {MAX_LINK_VARIABLES} link variables \
                     in all (each container gets its peers' and dependencies' addresses \
                     and ports); split the environment"
                ),
            ));
        }
    }
    Ok(())
}

/// The full environment of `inst`: its own variables updated with the link
/// variables of its service (with internal ports), then of every service it
/// depends on (without), as MaestroNG's `Conductor.__init__` injects them.
pub fn container_env(environment: &Environment, inst: &Instance) -> Vec<EnvVar> {
    let mut env = inst.own_env.clone();
    let mut set = |vars: Vec<(String, String)>| {
        for (k, v) in vars {
            env.set_str(&k, Some(v));
        }
    };
    set(service_links(environment, &inst.service).variables(true));
    for dep in dependency_services(environment, &inst.service) {
        set(service_links(environment, &dep).variables(false));
    }
    env.vars()
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

    /// `count` aliased instances of one service, each with 12 ports.
    fn squared(count: usize) -> String {
        let ports: Vec<String> = (0..12).map(|j| format!("p{j}: {}", j + 1)).collect();
        let instances: Vec<String> = (0..count).map(|i| format!("a{i}: *x")).collect();
        format!(
            "name: x\nships: {{s: {{ip: 1.2.3.4}}}}\n_x: &x {{ship: s, ports: {{{}}}}}\n\
             services:\n  a:\n    image: i\n    instances: {{{}}}\n",
            ports.join(", "),
            instances.join(", ")
        )
    }

    fn load(text: String) -> Result<crate::config::Loaded, ConfigError> {
        let source = crate::config::Source::Text {
            text,
            name: "t.yaml".into(),
            base_dir: ".".into(),
        };
        crate::config::load(&source, crate::config::Options::default())
    }

    /// Found with a targeted input while building the `yaml_loader` fuzz
    /// target (fuzz/regressions/yaml_loader/link-variables-squared): link
    /// variables grow with the square of the instance count, and 2500
    /// aliased instances took minutes and gigabytes. Now refused at once,
    /// naming the service.
    #[test]
    fn link_variables_squared_are_bounded() {
        let started = std::time::Instant::now();
        let err = load(squared(2500)).unwrap_err();
        assert!(started.elapsed() < std::time::Duration::from_secs(10));
        let message = err.to_string();
        assert!(
            message.starts_with(
                "t.yaml:6:5: services.a: the containers would get more than 1000000 link variables"
            ),
            "{message}"
        );
        // 100 such instances (250,100 variables) still load.
        let loaded = load(squared(100)).unwrap();
        let environment = &loaded.environment;
        let env = environment.container_env(&environment.instances[0]);
        assert!(env.iter().any(|v| v.name == "A_A99_P11_INTERNAL_PORT"));
    }
}
