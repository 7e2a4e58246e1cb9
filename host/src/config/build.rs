//! YAML nodes → the typed [`Environment`], with MaestroNG 0.8.3's defaults
//! and merging rules, validation, and a key path on every message.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use super::env::{self, EnvBuilder};
use super::error::{ConfigError, Diagnostic};
use super::load::Parsed;
use super::model::*;
use super::yaml::{Mark, Node, PyScalar, Value, node_str};

/// How strictly to treat keys MaestroNG would ignore.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Unknown keys are errors instead of warnings.
    pub strict: bool,
}

/// A built environment and the warnings met on the way.
#[derive(Debug)]
pub struct Loaded {
    /// The model.
    pub environment: Environment,
    /// Things worth telling the user (unknown keys, surprising YAML 1.1 readings).
    pub warnings: Vec<Diagnostic>,
}

pub(super) type Entries = [(Node, Node)];

const TOP_KEYS: &[&str] = &[
    "__maestro",
    "name",
    "registries",
    "ship_defaults",
    "ship_provider",
    "ships",
    "services",
    "audit",
];
const SHIP_KEYS: &[&str] = &[
    "ip",
    "endpoint",
    "docker_port",
    "socket_path",
    "ssh_tunnel",
    "api_version",
    "timeout",
    "tls",
    "tls_verify",
    "tls_ca_cert",
    "tls_cert",
    "tls_key",
    "ssl_version",
    // Documented for ship_defaults by MaestroNG, and ignored by it.
    "ssh_timeout",
];
const REGISTRY_KEYS: &[&str] = &["registry", "username", "password", "email", "retry"];
const SERVICE_KEYS: &[&str] = &[
    "image",
    "instances",
    "omit",
    "env",
    "envfile",
    "ports",
    "limits",
    "lifecycle",
    "requires",
    "wants_info",
];
const INSTANCE_KEYS: &[&str] = &[
    "ship",
    "image",
    "command",
    "cmd",
    "ports",
    "env",
    "envfile",
    "volumes",
    "container_volumes",
    "volumes_from",
    "links",
    "username",
    "privileged",
    "cap_add",
    "cap_drop",
    "extra_hosts",
    "net",
    "restart",
    "dns",
    "stop_timeout",
    "limits",
    "log_driver",
    "log_opt",
    "lxc_conf",
    "workdir",
    "security_opt",
    "ulimits",
    "labels",
    "lifecycle",
];

/// Joins a key onto a dotted path.
pub(super) fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

/// The schema of the file, as MaestroNG 0.8.3 reads it: its only test is
/// `schema == 1`, so 1 (or Python's equals of 1: `1.0`, `true`) is schema 1
/// and any other value, `{version: 2}` of MaestroNG's own test files
/// included, is schema 2. A value other than 1 or 2 gets a warning.
fn schema_version(ctx: &mut Ctx, meta: Option<&Node>) -> Result<u32, ConfigError> {
    let Some(meta) = meta else { return Ok(1) };
    if meta.is_null() {
        return Ok(1);
    }
    let entries = ctx.map(meta, "__maestro")?;
    ctx.check_keys(entries, &["schema"], "__maestro", "__maestro")?;
    let Some(node) = get(entries, "schema") else {
        return Ok(1);
    };
    let value = node.scalar().map(|s| &s.value);
    let equals = |n: i64| match value {
        Some(PyScalar::Int(_)) => value.and_then(PyScalar::as_i64) == Some(n),
        Some(PyScalar::Float(f)) => *f == n as f64,
        Some(PyScalar::Bool(b)) => i64::from(*b) == n,
        _ => false,
    };
    if equals(1) {
        return Ok(1);
    }
    if !equals(2) {
        ctx.warn(
            node,
            "__maestro.schema",
            "schema version is neither 1 nor 2; read as schema 2, as MaestroNG does",
        );
    }
    Ok(2)
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

/// The value of `key` in a mapping.
pub(super) fn get<'n>(entries: &'n Entries, key: &str) -> Option<&'n Node> {
    entries
        .iter()
        .find(|(k, _)| matches!(&k.value, Value::Scalar(s) if s.value.py_str() == key && !matches!(s.value, PyScalar::None | PyScalar::Merge)))
        .map(|(_, v)| v)
}

/// Like [`get`] but null counts as absent (MaestroNG's `x.get(k) or default`).
fn get_set<'n>(entries: &'n Entries, key: &str) -> Option<&'n Node> {
    get(entries, key).filter(|n| !n.is_null())
}

/// Builds and validates the model from parsed YAML.
pub fn build(parsed: &Parsed, options: Options) -> Result<Loaded, ConfigError> {
    let mut ctx = Ctx {
        file: &parsed.file,
        base_dir: &parsed.base_dir,
        strict: options.strict,
        warnings: Vec::new(),
    };
    let Some(root) = &parsed.root else {
        return Err(ctx.err_at(None, "", "the environment description is empty"));
    };
    let Value::Map(top) = &root.value else {
        return Err(ctx.err(
            Some(root),
            "",
            format!(
                "the environment description must be a mapping, found {}",
                root.type_name()
            ),
        ));
    };
    // Keys starting with `_` hold YAML anchors (`_globals`) and are ignored.
    let relevant: Vec<(Node, Node)> = top
        .iter()
        .filter(|(k, _)| {
            let name = node_str(k);
            name == "__maestro" || !name.starts_with('_')
        })
        .cloned()
        .collect();
    ctx.check_keys(&relevant, TOP_KEYS, "", "top-level")?;

    let schema = schema_version(&mut ctx, get(top, "__maestro"))?;

    let Some(name_node) = get(top, "name") else {
        return Err(ctx.err(Some(root), "name", "the environment name is missing"));
    };
    let name = node_str(name_node);
    if let Some(provider) = get_set(top, "ship_provider") {
        let p = ctx.string(provider, "ship_provider")?;
        if p != "static" {
            return Err(ctx.err(
                Some(provider),
                "ship_provider",
                format!("unknown ship provider {p:?}; only \"static\" is supported"),
            ));
        }
    }

    let registries = build_registries(&mut ctx, get(top, "registries"))?;
    let ships = build_ships(&mut ctx, root, get(top, "ships"), get(top, "ship_defaults"))?;
    let audit = get_set(top, "audit").map(to_json);

    let services_node = get(top, "services");
    let service_entries: &Entries = match services_node {
        Some(n) => ctx.map(n, "services")?,
        None => &[],
    };

    let mut environment = Environment {
        name,
        schema,
        base_dir: parsed.base_dir.clone(),
        registries,
        ships,
        services: Vec::new(),
        instances: Vec::new(),
        audit,
    };
    let mut raw_services: Vec<RawService> = Vec::new();
    for (key, node) in service_entries {
        let sname = node_str(key);
        let path = join("services", &sname);
        raw_services.push(build_service(
            &mut ctx,
            &mut environment,
            &sname,
            key,
            node,
            &path,
            name_node,
        )?);
    }
    resolve_dependencies(&ctx, &raw_services)?;
    env::check_links(&ctx, &environment, &raw_services)?;
    check_volumes_from(&ctx, &mut environment, &raw_services)?;
    check_cycles(&ctx, &environment, &raw_services)?;
    Ok(Loaded {
        environment,
        warnings: ctx.warnings,
    })
}

pub(super) fn to_json(node: &Node) -> serde_json::Value {
    match &node.value {
        Value::Scalar(s) => match &s.value {
            PyScalar::None => serde_json::Value::Null,
            PyScalar::Bool(b) => serde_json::Value::Bool(*b),
            PyScalar::Int(d) => d
                .parse::<i64>()
                .map(serde_json::Value::from)
                .unwrap_or_else(|_| serde_json::Value::String(d.clone())),
            PyScalar::Float(f) => serde_json::Number::from_f64(*f)
                .map(serde_json::Value::Number)
                .unwrap_or_else(|| serde_json::Value::String(s.value.py_str())),
            other => serde_json::Value::String(other.py_str()),
        },
        Value::Seq(items) => serde_json::Value::Array(items.iter().map(to_json).collect()),
        Value::Map(entries) => serde_json::Value::Object(
            entries
                .iter()
                .map(|(k, v)| (node_str(k), to_json(v)))
                .collect(),
        ),
    }
}

fn build_registries(ctx: &mut Ctx, node: Option<&Node>) -> Result<Vec<Registry>, ConfigError> {
    let Some(node) = node else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for (key, value) in ctx.map(node, "registries")? {
        let name = node_str(key);
        let path = join("registries", &name);
        let entries = ctx.map(value, &path)?;
        ctx.check_keys(entries, REGISTRY_KEYS, &path, "registry")?;
        let registry = match get_set(entries, "registry") {
            Some(n) => ctx.string(n, &join(&path, "registry"))?,
            None => {
                return Err(ctx.err(
                    Some(value),
                    &join(&path, "registry"),
                    "the registry URL is missing",
                ));
            }
        };
        let mut retry = RetryPolicy::default();
        if let Some(r) = get_set(entries, "retry") {
            let rpath = join(&path, "retry");
            let re = ctx.map(r, &rpath)?;
            ctx.check_keys(re, &["attempts", "when"], &rpath, "retry")?;
            if let Some(a) = get_set(re, "attempts") {
                retry.attempts =
                    u32::try_from(ctx.uint(a, &join(&rpath, "attempts"))?).unwrap_or(u32::MAX);
            }
            if let Some(w) = get_set(re, "when") {
                let wpath = join(&rpath, "when");
                let Value::Seq(items) = &w.value else {
                    return Err(ctx.err(Some(w), &wpath, "expected a list of HTTP status codes"));
                };
                for (i, item) in items.iter().enumerate() {
                    let p = format!("{wpath}[{i}]");
                    let code = ctx.uint(item, &p)?;
                    retry.when.push(u16::try_from(code).map_err(|_| {
                        ctx.err(Some(item), &p, format!("invalid HTTP status {code}"))
                    })?);
                }
            }
        }
        out.push(Registry {
            name,
            registry,
            username: ctx.opt_string(get(entries, "username"), &join(&path, "username"))?,
            password: ctx.opt_string(get(entries, "password"), &join(&path, "password"))?,
            email: ctx.opt_string(get(entries, "email"), &join(&path, "email"))?,
            retry,
        });
    }
    Ok(out)
}

fn build_ships(
    ctx: &mut Ctx,
    root: &Node,
    node: Option<&Node>,
    defaults: Option<&Node>,
) -> Result<Vec<Ship>, ConfigError> {
    let defaults: &Entries = match defaults {
        Some(d) => ctx.map(d, "ship_defaults")?,
        None => &[],
    };
    let default_keys: Vec<&str> = SHIP_KEYS
        .iter()
        .copied()
        .filter(|k| !matches!(*k, "ip" | "endpoint"))
        .collect();
    ctx.check_keys(defaults, &default_keys, "ship_defaults", "ship_defaults")?;
    let Some(node) = node else {
        return Err(ctx.err(Some(root), "ships", "the ships section is missing"));
    };
    let mut out = Vec::new();
    for (key, value) in ctx.map(node, "ships")? {
        let name = node_str(key);
        let path = join("ships", &name);
        let entries = ctx.map(value, &path)?;
        ctx.check_keys(entries, SHIP_KEYS, &path, "ship")?;
        // A key on the ship wins, even an explicit null; else the default.
        let pick = |k: &str| -> Option<(&Node, String)> {
            match get(entries, k) {
                Some(n) => Some((n, join(&path, k))),
                None => get(defaults, k).map(|n| (n, join("ship_defaults", k))),
            }
        };
        let set = |k: &str| pick(k).filter(|(n, _)| !n.is_null());
        let ip = match get_set(entries, "ip") {
            Some(n) => ctx.string(n, &join(&path, "ip"))?,
            None => {
                return Err(ctx.err(Some(value), &join(&path, "ip"), "the ship's ip is missing"));
            }
        };
        let endpoint = ctx
            .opt_string(get(entries, "endpoint"), &join(&path, "endpoint"))?
            .unwrap_or_else(|| ip.clone());
        let tls_on = match set("tls") {
            Some((n, p)) => ctx.flag(Some(n), &p),
            None => false,
        };
        let verify = match set("tls_verify") {
            Some((n, p)) => ctx.flag(Some(n), &p),
            None => false,
        };
        let docker_port = match set("docker_port") {
            Some((n, p)) => {
                let v = ctx.int(n, &p)?;
                u16::try_from(v)
                    .ok()
                    .filter(|v| *v > 0)
                    .ok_or_else(|| ctx.err(Some(n), &p, format!("invalid port {v}")))?
            }
            None if tls_on => 2376,
            None if verify => {
                if let Some((n, p)) = set("tls_verify") {
                    ctx.warn(
                        n,
                        &p,
                        "tls_verify without tls: the default docker_port stays 2375 (as in MaestroNG); set docker_port (usually 2376)",
                    );
                }
                2375
            }
            None => 2375,
        };
        let ssh_tunnel = match set("ssh_tunnel") {
            Some((n, p)) => {
                let te = ctx.map(n, &p)?;
                ctx.check_keys(
                    te,
                    &[
                        "user",
                        "key",
                        "port",
                        "known_hosts",
                        "strict_host_key_checking",
                    ],
                    &p,
                    "ssh_tunnel",
                )?;
                let user = match get_set(te, "user") {
                    Some(u) => ctx.string(u, &join(&p, "user"))?,
                    None => {
                        return Err(ctx.err(
                            Some(n),
                            &p,
                            format!("missing SSH user for ship {name} tunnel configuration"),
                        ));
                    }
                };
                let key = match get_set(te, "key") {
                    Some(k) => PathBuf::from(ctx.string(k, &join(&p, "key"))?),
                    None => {
                        return Err(ctx.err(
                            Some(n),
                            &p,
                            format!("missing SSH key for ship {name} tunnel configuration"),
                        ));
                    }
                };
                let port = match get_set(te, "port") {
                    Some(pn) => {
                        let v = ctx.int(pn, &join(&p, "port"))?;
                        u16::try_from(v).map_err(|_| {
                            ctx.err(Some(pn), &join(&p, "port"), format!("invalid port {v}"))
                        })?
                    }
                    None => 22,
                };
                // maestro's own keys: where the host key is checked, and how strictly.
                let known_hosts = match get_set(te, "known_hosts") {
                    Some(k) => Some(PathBuf::from(ctx.string(k, &join(&p, "known_hosts"))?)),
                    None => None,
                };
                let strict_host_key_checking = match get_set(te, "strict_host_key_checking") {
                    Some(k) => {
                        let kp = join(&p, "strict_host_key_checking");
                        // YAML 1.1 reads a bare yes/no as a boolean.
                        let v = match k.scalar().map(|s| s.raw.as_str()) {
                            Some(raw @ ("yes" | "no" | "accept-new")) => raw.to_owned(),
                            Some("true") => "yes".to_owned(),
                            Some("false") => "no".to_owned(),
                            _ => {
                                return Err(ctx.err(
                                    Some(k),
                                    &kp,
                                    "expected accept-new, yes or no",
                                ));
                            }
                        };
                        Some(v)
                    }
                    None => None,
                };
                Some(SshTunnel {
                    user,
                    key,
                    port,
                    known_hosts,
                    strict_host_key_checking,
                })
            }
            None => None,
        };
        // With a tunnel the socket is the daemon's socket on the ship, so it is kept as
        // written (and must be absolute); without one it is a local path, made absolute
        // against the working directory as MaestroNG's `realpath` does.
        let socket_path = match set("socket_path") {
            Some((n, p)) => {
                let raw = PathBuf::from(ctx.string(n, &p)?);
                Some(if raw.is_absolute() {
                    raw
                } else if ssh_tunnel.is_some() {
                    return Err(ctx.err(
                        Some(n),
                        &p,
                        "with ssh_tunnel, socket_path is the daemon's socket on the ship and must be absolute",
                    ));
                } else {
                    std::env::current_dir().unwrap_or_default().join(raw)
                })
            }
            None => None,
        };
        let api_version = match set("api_version") {
            None => ApiVersion::Default,
            Some((n, p)) => {
                let s = n
                    .scalar()
                    .ok_or_else(|| ctx.err(Some(n), &p, "expected a version such as \"1.41\""))?;
                if s.raw == "auto" {
                    ApiVersion::Auto
                } else {
                    if matches!(s.value, PyScalar::Float(_)) && s.value.py_str() != s.raw {
                        ctx.warn(n, &p, format!("api_version {} is a YAML float (MaestroNG reads it as \"{}\"); maestro uses \"{}\" as written; quote it", s.raw, s.value.py_str(), s.raw));
                    }
                    ApiVersion::Fixed(s.raw.clone())
                }
            }
        };
        // MaestroNG: `timeout or 5`, so 0 means the default too.
        let timeout_secs = match set("timeout") {
            Some((n, p)) => Some(ctx.number(n, &p)?).filter(|t| *t > 0.0).unwrap_or(5.0),
            None => 5.0,
        };
        let path_of = |ctx: &Ctx, k: &str| -> Result<Option<PathBuf>, ConfigError> {
            match set(k) {
                Some((n, p)) => Ok(Some(PathBuf::from(ctx.string(n, &p)?))),
                None => Ok(None),
            }
        };
        let tls = if tls_on || verify {
            Some(Tls {
                client_auth: tls_on,
                verify,
                ca_cert: path_of(ctx, "tls_ca_cert")?,
                cert: path_of(ctx, "tls_cert")?,
                key: path_of(ctx, "tls_key")?,
                ssl_version: match set("ssl_version") {
                    Some((n, p)) => Some(ctx.string(n, &p)?),
                    None => None,
                },
            })
        } else {
            None
        };
        out.push(Ship {
            name,
            ip,
            endpoint,
            docker_port,
            socket_path,
            ssh_tunnel,
            api_version,
            timeout_secs,
            tls,
        });
    }
    Ok(out)
}

/// What a service contributes beyond the model: the nodes the environment
/// computation and later checks read again.
pub(super) struct RawService<'n> {
    pub name: String,
    pub node: &'n Node,
    pub path: String,
    pub requires: Vec<(String, &'n Node, String)>,
    pub wants_info: Vec<(String, &'n Node, String)>,
    pub instances: Vec<RawInstance<'n>>,
}

pub(super) struct RawInstance<'n> {
    pub name: String,
    pub path: String,
    pub volumes_from: Option<&'n Node>,
}

fn dependency_list<'n>(
    ctx: &mut Ctx,
    node: Option<&'n Node>,
    path: &str,
) -> Result<Vec<(String, &'n Node, String)>, ConfigError> {
    let Some(node) = node else {
        return Ok(Vec::new());
    };
    match &node.value {
        _ if node.is_null() => Ok(Vec::new()),
        Value::Seq(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                let p = format!("{path}[{i}]");
                Ok((ctx.string(item, &p)?, item, p))
            })
            .collect(),
        Value::Scalar(_) => {
            let name = ctx.string(node, path)?;
            ctx.warn(node, path, format!("expected a list of services; read as [{name}] (MaestroNG would read each character as a service name)"));
            Ok(vec![(name, node, path.to_owned())])
        }
        Value::Map(_) => Err(ctx.err(Some(node), path, "expected a list of services, found dict")),
    }
}

fn build_service<'n>(
    ctx: &mut Ctx,
    environment: &mut Environment,
    name: &str,
    key: &Node,
    node: &'n Node,
    path: &str,
    env_name: &Node,
) -> Result<RawService<'n>, ConfigError> {
    let _ = key;
    let entries = ctx.map(node, path)?;
    ctx.check_keys(entries, SERVICE_KEYS, path, "service")?;
    let image = match get_set(entries, "image") {
        Some(n) => ctx.string(n, &join(path, "image"))?,
        None => {
            return Err(ctx.err(
                Some(node),
                &join(path, "image"),
                "the service's image is missing",
            ));
        }
    };
    let omit = ctx.flag(get(entries, "omit"), &join(path, "omit"));
    let requires = dependency_list(ctx, get(entries, "requires"), &join(path, "requires"))?;
    let wants_info = dependency_list(ctx, get(entries, "wants_info"), &join(path, "wants_info"))?;

    // The service environment: envfile, env, then the identity variables.
    let mut service_env = EnvBuilder::default();
    service_env.apply_sources(
        ctx,
        &[
            (get(entries, "envfile"), join(path, "envfile")),
            (get(entries, "env"), join(path, "env")),
        ],
    )?;
    service_env.set_identity_service(env_name, name);

    let service_ports = get_set(entries, "ports");
    let service_limits = get_set(entries, "limits");
    let service_lifecycle = get_set(entries, "lifecycle");

    let Some(instances_node) = get(entries, "instances") else {
        return Err(ctx.err(
            Some(node),
            &join(path, "instances"),
            "the service's instances are missing",
        ));
    };
    let ipath = join(path, "instances");
    let mut raw_instances = Vec::new();
    let mut names = Vec::new();
    for (ikey, inode) in ctx.map(instances_node, &ipath)? {
        let iname = node_str(ikey);
        let ip = join(&ipath, &iname);
        if let Some(existing) = environment.instance(&iname) {
            return Err(ctx.err(
                Some(ikey),
                &ip,
                format!(
                    "container name {iname:?} is already defined by service {:?}",
                    existing.service
                ),
            ));
        }
        let ie = ctx.map(inode, &ip)?;
        ctx.check_keys(ie, INSTANCE_KEYS, &ip, "instance")?;
        let instance = super::instance::build_instance(
            ctx,
            environment,
            super::instance::InstanceInput {
                name: &iname,
                service: name,
                service_image: &image,
                node: inode,
                entries: ie,
                path: &ip,
                service_path: path,
                service_env: &service_env,
                service_ports,
                service_limits,
                service_lifecycle,
            },
        )?;
        raw_instances.push(RawInstance {
            name: iname.clone(),
            path: ip,
            volumes_from: get_set(ie, "volumes_from"),
        });
        names.push(iname);
        environment.instances.push(instance);
    }
    environment.services.push(Service {
        name: name.to_owned(),
        image,
        omit,
        requires: requires.iter().map(|(n, _, _)| n.clone()).collect(),
        wants_info: wants_info.iter().map(|(n, _, _)| n.clone()).collect(),
        volumes_from_services: Vec::new(),
        instances: names,
    });
    Ok(RawService {
        name: name.to_owned(),
        node,
        path: path.to_owned(),
        requires,
        wants_info,
        instances: raw_instances,
    })
}

fn resolve_dependencies(ctx: &Ctx, raw: &[RawService]) -> Result<(), ConfigError> {
    let known: HashSet<&str> = raw.iter().map(|s| s.name.as_str()).collect();
    for service in raw {
        for list in [&service.requires, &service.wants_info] {
            for (dep, node, path) in list {
                if !known.contains(dep.as_str()) {
                    return Err(ctx.err(Some(node), path, format!("unknown service {dep:?}")));
                }
            }
        }
    }
    Ok(())
}

fn check_volumes_from(
    ctx: &Ctx,
    environment: &mut Environment,
    raw: &[RawService],
) -> Result<(), ConfigError> {
    let mut extra: HashMap<String, Vec<String>> = HashMap::new();
    for service in raw {
        for inst in &service.instances {
            let Some(node) = inst.volumes_from else {
                continue;
            };
            let path = join(&inst.path, "volumes_from");
            let names = ctx.string_list(Some(node), &path)?;
            let me = environment.instance(&inst.name).cloned();
            let Some(me) = me else { continue };
            let mut seen = HashSet::new();
            for other_name in names {
                if !seen.insert(other_name.clone()) {
                    continue;
                }
                let Some(other) = environment.instance(&other_name) else {
                    return Err(ctx.err(
                        Some(node),
                        &path,
                        format!("unknown container {other_name:?}"),
                    ));
                };
                if other.ship != me.ship {
                    return Err(ctx.err(Some(node), &path, format!("{other_name} and {} must be on the same ship for volumes_from (ships {} and {})", me.name, other.ship, me.ship)));
                }
                let mine: HashSet<&str> = me.volume_targets().into_iter().collect();
                let mut conflicts: Vec<&str> = other
                    .volume_targets()
                    .into_iter()
                    .filter(|t| mine.contains(t))
                    .collect();
                conflicts.sort_unstable();
                if !conflicts.is_empty() {
                    return Err(ctx.err(
                        Some(node),
                        &path,
                        format!(
                            "volume conflicts between {} and {other_name}: {}",
                            me.name,
                            conflicts.join(", ")
                        ),
                    ));
                }
                let other_service = other.service.clone();
                // A container of the same service: no ordering edge (instances
                // of one service never wait for each other).
                if other_service != service.name {
                    let list = extra.entry(service.name.clone()).or_default();
                    if !list.contains(&other_service) {
                        list.push(other_service);
                    }
                }
            }
            if let Some(i) = environment
                .instances
                .iter_mut()
                .find(|i| i.name == inst.name)
            {
                i.volumes_from = seen_in_order(ctx.string_list(Some(node), &path)?);
            }
        }
    }
    for s in &mut environment.services {
        if let Some(list) = extra.remove(&s.name) {
            s.volumes_from_services = list;
        }
    }
    Ok(())
}

fn seen_in_order(names: Vec<String>) -> Vec<String> {
    let mut seen = HashSet::new();
    names
        .into_iter()
        .filter(|n| seen.insert(n.clone()))
        .collect()
}

/// Rejects dependency cycles (`requires` and `volumes_from`), naming one.
fn check_cycles(
    ctx: &Ctx,
    environment: &Environment,
    raw: &[RawService],
) -> Result<(), ConfigError> {
    let edges = |s: &Service| -> Vec<String> {
        let mut e: Vec<String> = s.requires.clone();
        for v in &s.volumes_from_services {
            if !e.contains(v) {
                e.push(v.clone());
            }
        }
        e
    };
    // 0 = unvisited, 1 = on the stack, 2 = done.
    let mut state: HashMap<&str, u8> = HashMap::new();
    fn visit<'a>(
        env: &'a Environment,
        name: &'a str,
        state: &mut HashMap<&'a str, u8>,
        stack: &mut Vec<&'a str>,
        edges: &dyn Fn(&Service) -> Vec<String>,
    ) -> Option<Vec<String>> {
        match state.get(name) {
            Some(2) => return None,
            Some(1) => {
                let start = stack.iter().position(|s| *s == name).unwrap_or(0);
                let mut cycle: Vec<String> =
                    stack[start..].iter().map(|s| (*s).to_owned()).collect();
                cycle.push(name.to_owned());
                return Some(cycle);
            }
            _ => {}
        }
        let service = env.service(name)?;
        state.insert(name, 1);
        stack.push(name);
        for dep in edges(service) {
            let dep_ref = env.service(&dep).map(|s| s.name.as_str())?;
            if let Some(cycle) = visit(env, dep_ref, state, stack, edges) {
                return Some(cycle);
            }
        }
        stack.pop();
        state.insert(name, 2);
        None
    }
    for service in &environment.services {
        let mut stack = Vec::new();
        if let Some(cycle) = visit(environment, &service.name, &mut state, &mut stack, &edges) {
            let first = &cycle[0];
            let node = raw.iter().find(|r| &r.name == first);
            let (mark, path) = match node {
                Some(r) => {
                    let entries = ctx.map(r.node, &r.path)?;
                    let field = if get(entries, "requires").is_some() {
                        "requires"
                    } else {
                        "instances"
                    };
                    (get(entries, field).map(|n| n.mark), join(&r.path, field))
                }
                None => (None, String::new()),
            };
            return Err(ctx.err_at(
                mark,
                &path,
                format!("dependency cycle: {}", cycle.join(" -> ")),
            ));
        }
    }
    Ok(())
}
