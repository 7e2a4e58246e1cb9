//! `maestro import-compose`: a compose file → an equivalent `maestro.yaml`.
//!
//! Text in, text and notes out; no Docker, no async, and no I/O but reading
//! the env files it checks and resolving the directories. The compose file
//! is read with maestro's own YAML reader (errors with file:line:column,
//! merge keys and anchors as compose's files use them), each service is
//! turned into a maestro service with its instances placed on the ships
//! given (`deploy.replicas` spread over them in turn), and everything maestro
//! cannot express becomes a note: a comment where it was in the output, and
//! a warning the command prints. Nothing is dropped silently.
//!
//! - `interp`: compose's `${VAR}` interpolation (kept as maestro's Jinja
//!   `env`, resolved at import only where a value must be read);
//! - `service`: one service's keys;
//! - `values`: ports, volumes, durations and sizes in compose's syntax;
//! - `emit`: the YAML writer.

mod emit;
pub mod interp;
mod service;
mod values;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::config::Diagnostic;
use crate::config::yaml::{self, Node, PyScalar, Value};

use emit::{Item, Y};
pub use interp::Vars;

/// Why a compose file could not be imported (all configuration errors).
#[derive(Debug, thiserror::Error)]
pub enum ComposeError {
    /// The file is not valid YAML.
    #[error("{0}")]
    Yaml(Diagnostic),
    /// The YAML is valid but not a compose file maestro can read.
    #[error("{0}")]
    Invalid(Diagnostic),
}

/// A ship given on the command line (`--ship NAME=ADDRESS`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShipArg {
    /// Its name in the description.
    pub name: String,
    /// How it is reached.
    pub address: Address,
}

/// A ship's Docker daemon address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Address {
    /// `HOST[:PORT]` or `tcp://HOST[:PORT]`: plain TCP (port 2375 by default).
    Tcp {
        /// The host's address (also what containers advertise).
        host: String,
        /// The daemon's port.
        port: Option<u16>,
    },
    /// `unix:///PATH`: a local socket; the ship's address is 127.0.0.1.
    Unix(String),
}

/// Reads `NAME=ADDRESS` (see [`Address`]).
pub fn parse_ship(arg: &str) -> Result<ShipArg, String> {
    let Some((name, address)) = arg.split_once('=') else {
        return Err(format!(
            "--ship {arg:?}: expected NAME=ADDRESS (e.g. local=unix:///var/run/docker.sock, web2=10.0.0.2:2375)"
        ));
    };
    let valid_name = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    if !valid_name {
        return Err(format!(
            "--ship {arg:?}: the ship name must be letters, digits, '-', '_' or '.'"
        ));
    }
    let address = if let Some(path) = address.strip_prefix("unix://") {
        if !path.starts_with('/') {
            return Err(format!(
                "--ship {arg:?}: a unix socket path must be absolute"
            ));
        }
        Address::Unix(path.to_owned())
    } else {
        let hostport = address.strip_prefix("tcp://").unwrap_or(address);
        let (host, port) = match hostport.rsplit_once(':') {
            Some((h, p)) if !h.contains(':') || h.starts_with('[') => {
                let port = p
                    .parse::<u16>()
                    .map_err(|_| format!("--ship {arg:?}: {p:?} is not a port number"))?;
                (h.trim_start_matches('[').trim_end_matches(']'), Some(port))
            }
            _ => (hostport, None),
        };
        if host.is_empty()
            || host.contains('/')
            || address.contains("://") && !address.starts_with("tcp://")
        {
            return Err(format!(
                "--ship {arg:?}: expected HOST[:PORT], tcp://HOST[:PORT] or unix:///PATH"
            ));
        }
        Address::Tcp {
            host: host.to_owned(),
            port,
        }
    };
    Ok(ShipArg {
        name: name.to_owned(),
        address,
    })
}

/// What the import needs besides the compose text.
#[derive(Debug, Clone)]
pub struct Options {
    /// The compose file's name, for messages and the output's header.
    pub file: String,
    /// The compose file's directory: relative paths (bind mounts, env files)
    /// are relative to it, as in compose.
    pub base_dir: PathBuf,
    /// The directory the description is written to: env file paths are
    /// written relative to it.
    pub out_dir: PathBuf,
    /// The project name (`-p`); else the file's `name`, else its directory's.
    pub project: Option<String>,
    /// The ships; none means one, `local`, on the local socket.
    pub ships: Vec<ShipArg>,
    /// The variables interpolation reads.
    pub vars: Vars,
}

/// The imported description and what could not be expressed.
#[derive(Debug, Clone)]
pub struct Imported {
    /// The `maestro.yaml` text.
    pub yaml: String,
    /// One note per thing not imported as it was (also comments in `yaml`).
    pub notes: Vec<Diagnostic>,
    /// The project name used.
    pub project: String,
    /// How many services and instances were written.
    pub services: usize,
    /// See `services`.
    pub instances: usize,
}

/// The reading state: where, with which variables, and the notes so far.
pub(crate) struct Cx<'a> {
    opts: &'a Options,
    notes: Vec<Diagnostic>,
    /// Comments for the output, drained into the section being written.
    pending: Vec<String>,
    /// The `.env` variables written into the output as defaults.
    dotenv_used: std::collections::BTreeSet<String>,
}

impl Cx<'_> {
    fn diag(&self, node: Option<&Node>, path: &str, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            file: self.opts.file.clone(),
            mark: node.map(|n| n.mark),
            path: path.to_owned(),
            message: message.into(),
        }
    }

    /// An error about `node`.
    fn err(&self, node: &Node, path: &str, message: impl Into<String>) -> ComposeError {
        ComposeError::Invalid(self.diag(Some(node), path, message))
    }

    /// Records something not imported as it was: a warning and a comment.
    fn note(&mut self, node: &Node, path: &str, message: impl Into<String>) {
        self.note_at(Some(node), path, message);
    }

    /// [`Cx::note`] about something the file does not write (no position).
    fn note_at(&mut self, node: Option<&Node>, path: &str, message: impl Into<String>) {
        let d = self.diag(node, path, message);
        self.pending
            .push(format!("not imported: {}: {}", d.path, d.message));
        self.notes.push(d);
    }

    /// The comments noted since the last call.
    fn take_comments(&mut self) -> Vec<Item> {
        std::mem::take(&mut self.pending)
            .into_iter()
            .map(Item::Comment)
            .collect()
    }

    /// A scalar's text as compose reads it (YAML 1.2: `yes` is a string,
    /// `True` the boolean `true`), before interpolation.
    fn raw(&self, node: &Node, path: &str) -> Result<String, ComposeError> {
        match &node.value {
            Value::Scalar(s) => Ok(match &s.value {
                PyScalar::Bool(b)
                    if s.plain
                        && ["true", "false"].contains(&s.raw.to_ascii_lowercase().as_str()) =>
                {
                    b.to_string()
                }
                PyScalar::None => String::new(),
                _ => s.raw.clone(),
            }),
            _ => Err(self.err(
                node,
                path,
                format!("expected a string, found {}", kind(node)),
            )),
        }
    }

    /// A string value: a Jinja expression when it uses variables (resolved
    /// when maestro runs, as compose resolves them at `up`).
    fn text(&mut self, node: &Node, path: &str) -> Result<Y, ComposeError> {
        let raw = self.raw(node, path)?;
        let segs = interp::parse(&raw).map_err(|m| self.err(node, path, m))?;
        for name in interp::required(&segs) {
            self.note(node, path, format!("${{{name}:?...}} (a required variable): maestro does not stop when {name} is unset"));
        }
        Ok(self.value(&segs))
    }

    /// Parsed text as a value: a Jinja expression when it uses variables.
    fn value(&mut self, segs: &[interp::Seg]) -> Y {
        if !interp::has_vars(segs) {
            return Y::Str(interp::resolve(segs, &self.opts.vars));
        }
        for name in interp::names(segs) {
            if self.opts.vars.dotenv.contains_key(&name) {
                self.dotenv_used.insert(name);
            }
        }
        Y::Jinja(interp::jinja(segs, &self.opts.vars.dotenv))
    }

    /// A value the importer must read itself: interpolated now, with a note
    /// when a variable was used.
    fn resolved(&mut self, node: &Node, path: &str) -> Result<String, ComposeError> {
        let raw = self.raw(node, path)?;
        let segs = interp::parse(&raw).map_err(|m| self.err(node, path, m))?;
        let value = interp::resolve(&segs, &self.opts.vars);
        if interp::has_vars(&segs) {
            let names = interp::names(&segs).join(", ");
            self.note(node, path, format!("{raw:?} was resolved at import time ({names}) to {value:?}; change it in the output when the variables change"));
        }
        Ok(value)
    }
}

/// The kind of a node, in compose's words.
fn kind(node: &Node) -> &'static str {
    match &node.value {
        Value::Scalar(_) => "a scalar",
        Value::Seq(_) => "a list",
        Value::Map(_) => "a mapping",
    }
}

/// A mapping's entries, keys as text.
fn entries<'n>(
    cx: &Cx,
    node: &'n Node,
    path: &str,
) -> Result<Vec<(String, &'n Node, &'n Node)>, ComposeError> {
    match &node.value {
        Value::Map(e) => Ok(e
            .iter()
            .map(|(k, v)| (k.scalar().map(|s| s.raw.clone()).unwrap_or_default(), k, v))
            .collect()),
        _ if node.is_null() => Ok(Vec::new()),
        _ => Err(cx.err(
            node,
            path,
            format!("expected a mapping, found {}", kind(node)),
        )),
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

/// A Docker-friendly project name: compose's rule (lower case, `[a-z0-9_-]`).
fn project_name(raw: &str) -> String {
    let name: String = raw
        .to_lowercase()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    name.trim_start_matches(['-', '_']).to_owned()
}

/// Imports `text` (a compose file).
pub fn import(text: &str, opts: &Options) -> Result<Imported, ComposeError> {
    let root = yaml::parse(text).map_err(|e| {
        ComposeError::Yaml(Diagnostic {
            file: opts.file.clone(),
            mark: Some(e.mark),
            path: String::new(),
            message: e.message,
        })
    })?;
    let mut cx = Cx {
        opts,
        notes: Vec::new(),
        pending: Vec::new(),
        dotenv_used: Default::default(),
    };
    let Some(root) = root else {
        return Err(ComposeError::Invalid(cx.diag(
            None,
            "",
            "the compose file is empty",
        )));
    };
    let top = entries(&cx, &root, "")?;
    let get = |k: &str| top.iter().find(|(key, _, _)| key == k).map(|(_, _, v)| *v);

    let project = project(&mut cx, get("name"))?;

    top_level_notes(&mut cx, &top);
    let top_comments = cx.take_comments();

    let names = Names {
        networks: docker_names(&mut cx, &project, get("networks"), "networks")?,
        volumes: docker_names(&mut cx, &project, get("volumes"), "volumes")?,
    };
    let Some(services_node) = get("services") else {
        return Err(ComposeError::Invalid(cx.diag(
            Some(&root),
            "services",
            "the compose file has no services",
        )));
    };
    let ships = ships(opts);
    let ship_names: Vec<String> = ships.iter().map(|(n, _)| n.clone()).collect();

    let mut built = Vec::new();
    for (name, _, node) in entries(&cx, services_node, "services")? {
        built.push(service::build(
            &mut cx,
            &project,
            &names,
            &ship_names,
            &name,
            node,
        )?);
    }
    service::add_health_waits(&mut cx, &mut built)?;

    let networks = networks(&mut cx, &project, get("networks"), &built)?;
    let net_comments = cx.take_comments();
    let volumes = volumes(&mut cx, &project, get("volumes"))?;
    let vol_comments = cx.take_comments();

    let mut doc = header(&cx);
    doc.extend(top_comments);
    doc.push(Item::Entry("name".into(), Y::str(project.clone())));
    // Schema 2: `volumes` are `host path or volume name: container path`.
    doc.push(Item::Entry(
        "__maestro".into(),
        Y::map([("schema", Y::Int(2))]),
    ));
    doc.push(Item::Entry("ships".into(), Y::map(ships)));
    if !networks.is_empty() || !net_comments.is_empty() {
        doc.extend(net_comments);
        if !networks.is_empty() {
            doc.push(Item::Entry("networks".into(), Y::Map(networks)));
        }
    }
    doc.extend(vol_comments);
    if !volumes.is_empty() {
        doc.push(Item::Entry("volumes".into(), Y::Map(volumes)));
    }
    let (services, instances) = (built.len(), built.iter().map(|s| s.instances.len()).sum());
    doc.push(Item::Entry(
        "services".into(),
        Y::Map(built.into_iter().map(service::Built::into_item).collect()),
    ));
    let notes = cx.notes;
    Ok(Imported {
        yaml: emit::document(&Y::Map(doc)),
        notes,
        project,
        services,
        instances,
    })
}

/// The project name: `-p`, else the file's `name`, else its directory's.
fn project(cx: &mut Cx, name: Option<&Node>) -> Result<String, ComposeError> {
    let opts = cx.opts;
    let project = match (&opts.project, name) {
        (Some(p), _) => project_name(p),
        (None, Some(n)) => project_name(&cx.resolved(n, "name")?),
        (None, None) => project_name(
            &opts
                .base_dir
                .canonicalize()
                .unwrap_or_else(|_| opts.base_dir.clone())
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "default".into()),
        ),
    };
    if project.is_empty() {
        return Err(ComposeError::Invalid(cx.diag(
            name,
            "name",
            "the project name is empty once reduced to [a-z0-9_-]; give one with -p",
        )));
    }

    Ok(project)
}

/// Notes the top-level keys that are not imported.
fn top_level_notes(cx: &mut Cx, top: &[(String, &Node, &Node)]) {
    for (key, knode, _) in top {
        match key.as_str() {
            "name" | "services" | "networks" | "volumes" => {}
            "version" => cx.note(knode, key, "obsolete in the compose specification; ignored"),
            k if k.starts_with("x-") => cx.note(knode, key, "an extension field; maestro has none (its anchors were applied where used)"),
            "secrets" | "configs" => cx.note(knode, key, "maestro has no secrets or configs; mount the files with volumes, or give them to maestro-guest's --file-env"),
            "include" => cx.note(knode, key, "maestro does not include other compose files; import each and merge them"),
            _ => cx.note(knode, key, "not a key maestro knows"),
        }
    }
}

/// The comments that open the output.
fn header(cx: &Cx) -> Vec<Item> {
    let mut doc = vec![Item::Comment(format!(
        "Imported from {} by `maestro import-compose`.\nWhat maestro cannot express is in comments starting with \"not imported:\".",
        cx.opts.file
    ))];
    if !cx.dotenv_used.is_empty() {
        let used: Vec<&str> = cx.dotenv_used.iter().map(String::as_str).collect();
        doc.push(Item::Comment(format!(
            "The values of {} in .env are written below as defaults (the process\nenvironment wins when maestro runs, as in compose); remove any secret\nand export it when running maestro instead.",
            used.join(", ")
        )));
    }
    doc
}

/// The `ships` section.
fn ships(opts: &Options) -> Vec<(String, Y)> {
    if opts.ships.is_empty() {
        return vec![(
            "local".into(),
            Y::map([
                ("ip", Y::str("127.0.0.1")),
                ("socket_path", Y::str("/var/run/docker.sock")),
            ]),
        )];
    }
    opts.ships
        .iter()
        .map(|s| {
            let spec = match &s.address {
                Address::Unix(path) => Y::map([
                    ("ip", Y::str("127.0.0.1")),
                    ("socket_path", Y::str(path.clone())),
                ]),
                Address::Tcp { host, port } => {
                    let mut e = vec![("ip", Y::str(host.clone()))];
                    if let Some(p) = port {
                        e.push(("docker_port", Y::Int(i64::from(*p))));
                    }
                    Y::map(e)
                }
            };
            (s.name.clone(), spec)
        })
        .collect()
}

/// The Docker name compose gives a network or volume of the project.
fn scoped(project: &str, name: &str) -> String {
    format!("{project}_{name}")
}

/// The Docker names of the file's networks and volumes.
pub(crate) struct Names {
    networks: BTreeMap<String, String>,
    volumes: BTreeMap<String, String>,
}

impl Names {
    /// The Docker name of the network `name` (`PROJECT_NAME` unless the
    /// file names it).
    fn network(&self, project: &str, name: &str) -> String {
        self.networks
            .get(name)
            .cloned()
            .unwrap_or_else(|| scoped(project, name))
    }

    /// The Docker name of the named volume `name`.
    fn volume(&self, project: &str, name: &str) -> String {
        self.volumes
            .get(name)
            .cloned()
            .unwrap_or_else(|| scoped(project, name))
    }
}

/// Each declared network's or volume's Docker name: its `name`, else
/// `PROJECT_NAME`.
fn docker_names(
    cx: &mut Cx,
    project: &str,
    node: Option<&Node>,
    section: &str,
) -> Result<BTreeMap<String, String>, ComposeError> {
    let mut out = BTreeMap::new();
    let Some(node) = node else { return Ok(out) };
    for (name, _, v) in entries(cx, node, section)? {
        let path = join(section, &name);
        let mut docker = scoped(project, &name);
        if let Value::Map(_) = &v.value {
            for (key, _, value) in entries(cx, v, &path)? {
                if key == "name" {
                    let raw = cx.raw(value, &join(&path, &key))?;
                    let segs = interp::parse(&raw).map_err(|m| cx.err(value, &path, m))?;
                    docker = interp::resolve(&segs, &cx.opts.vars);
                }
            }
        }
        out.insert(name, docker);
    }
    Ok(out)
}

/// The environment's `networks`: the compose file's, plus `default` when a
/// service is on it (compose makes `<project>_default`).
fn networks(
    cx: &mut Cx,
    project: &str,
    node: Option<&Node>,
    built: &[service::Built],
) -> Result<Vec<Item>, ComposeError> {
    let mut out: Vec<Item> = Vec::new();
    let mut declared = Vec::new();
    // A network is one bridge per ship: name resolution stops at the ship.
    let across_ships = |cx: &mut Cx, name: &str, knode: Option<&Node>| {
        let mut ships: Vec<&str> = Vec::new();
        for b in built
            .iter()
            .filter(|b| b.networks.iter().any(|n| n == name))
        {
            for s in &b.ships {
                if !ships.contains(&s.as_str()) {
                    ships.push(s);
                }
            }
        }
        if ships.len() > 1 {
            let users: Vec<&str> = built
                .iter()
                .filter(|b| b.networks.iter().any(|n| n == name))
                .map(|b| b.name())
                .collect();
            cx.note_at(knode, &join("networks", name), format!(
                "its services ({}) have containers on ships {}: a network is per ship, so a container reaches those of another ship by the ship's address and published ports (the link variables maestro gives, e.g. SERVICE_CONTAINER_PORT_PORT), not by service name",
                users.join(", "),
                ships.join(", ")
            ));
        }
    };
    if let Some(node) = node {
        for (name, knode, v) in entries(cx, node, "networks")? {
            let path = join("networks", &name);
            declared.push(name.clone());
            let mut spec: Vec<Item> = Vec::new();
            let mut docker_name = scoped(project, &name);
            across_ships(cx, &name, Some(knode));
            for (key, kn, value) in entries(cx, v, &path)? {
                let kp = join(&path, &key);
                match key.as_str() {
                    "driver" => spec.push(Item::Entry("driver".into(), cx.text(value, &kp)?)),
                    "driver_opts" => spec.push(Item::Entry("options".into(), string_map(cx, value, &kp)?)),
                    "internal" => spec.push(Item::Entry("internal".into(), Y::Bool(cx.resolved(value, &kp)? == "true"))),
                    "ipam" => {
                        for (ik, ikn, iv) in entries(cx, value, &kp)? {
                            let ip = join(&kp, &ik);
                            if ik != "config" {
                                cx.note(ikn, &ip, "maestro's ipam has only subnet and gateway");
                                continue;
                            }
                            let Value::Seq(configs) = &iv.value else {
                                return Err(cx.err(iv, &ip, "expected a list"));
                            };
                            for (i, c) in configs.iter().enumerate() {
                                let cp = format!("{ip}[{i}]");
                                if i > 0 {
                                    cx.note(c, &cp, "maestro's networks have one subnet; the first is used");
                                    continue;
                                }
                                let mut ipam = Vec::new();
                                for (ck, ckn, cv) in entries(cx, c, &cp)? {
                                    match ck.as_str() {
                                        "subnet" | "gateway" => ipam.push((ck.clone(), Y::str(cx.resolved(cv, &join(&cp, &ck))?))),
                                        _ => cx.note(ckn, &join(&cp, &ck), "maestro's ipam has only subnet and gateway"),
                                    }
                                }
                                spec.push(Item::Entry("ipam".into(), Y::map(ipam)));
                            }
                        }
                    }
                    "name" => {
                        docker_name = cx.resolved(value, &kp)?;
                    }
                    "external" => cx.note(kn, &kp, "maestro creates its networks; an external network is declared here as if maestro made it"),
                    _ => cx.note(kn, &kp, "not a network setting maestro has"),
                }
            }
            out.extend(cx.take_comments());
            out.push(Item::Entry(docker_name, Y::Map(spec)));
        }
    }
    let uses_default = built
        .iter()
        .any(|s| s.networks.iter().any(|n| n == "default"));
    if uses_default && !declared.iter().any(|n| n == "default") {
        across_ships(cx, "default", None);
        out.extend(cx.take_comments());
        out.push(Item::Entry(scoped(project, "default"), Y::Map(Vec::new())));
    }
    Ok(out)
}

/// The environment's `volumes`: the compose file's named volumes.
fn volumes(cx: &mut Cx, project: &str, node: Option<&Node>) -> Result<Vec<Item>, ComposeError> {
    let mut out = Vec::new();
    let Some(node) = node else { return Ok(out) };
    for (name, _, v) in entries(cx, node, "volumes")? {
        let path = join("volumes", &name);
        let mut spec = Vec::new();
        let mut docker_name = scoped(project, &name);
        for (key, kn, value) in entries(cx, v, &path)? {
            let kp = join(&path, &key);
            match key.as_str() {
                "driver" => spec.push(Item::Entry(key.clone(), cx.text(value, &kp)?)),
                "driver_opts" | "labels" => {
                    spec.push(Item::Entry(key.clone(), string_map(cx, value, &kp)?))
                }
                "name" => docker_name = cx.resolved(value, &kp)?,
                "external" => cx.note(
                    kn,
                    &kp,
                    "maestro creates the volume on each ship where it is missing",
                ),
                _ => cx.note(kn, &kp, "not a volume setting maestro has"),
            }
        }
        out.extend(cx.take_comments());
        out.push(Item::Entry(docker_name, Y::Map(spec)));
    }
    Ok(out)
}

/// A mapping or a `KEY=VALUE` list as a mapping of strings.
fn string_map(cx: &mut Cx, node: &Node, path: &str) -> Result<Y, ComposeError> {
    let mut out = Vec::new();
    match &node.value {
        Value::Seq(items) => {
            for (i, item) in items.iter().enumerate() {
                let raw = cx.raw(item, &format!("{path}[{i}]"))?;
                let (k, v) = raw.split_once('=').unwrap_or((&raw, ""));
                let segs = interp::parse(v).map_err(|m| cx.err(item, path, m))?;
                let value = cx.value(&segs);
                out.push((k.to_owned(), value));
            }
        }
        _ => {
            for (k, _, v) in entries(cx, node, path)? {
                let value = cx.text(v, &join(path, &k))?;
                out.push((k, value));
            }
        }
    }
    Ok(Y::map(out))
}

/// `path` (relative to the compose file) as the description should name it:
/// relative to the output's directory when that is the compose file's,
/// else absolute.
fn out_path(opts: &Options, path: &str) -> String {
    let p = Path::new(path);
    if p.is_absolute() {
        return path.to_owned();
    }
    let same_dir = opts.base_dir.canonicalize().ok() == opts.out_dir.canonicalize().ok();
    if same_dir {
        return path.to_owned();
    }
    let base = opts
        .base_dir
        .canonicalize()
        .unwrap_or_else(|_| opts.base_dir.clone());
    base.join(p.strip_prefix("./").unwrap_or(p))
        .display()
        .to_string()
}

/// The process environment, as interpolation reads it.
pub fn environ() -> BTreeMap<String, String> {
    std::env::vars_os()
        .map(|(k, v)| {
            (
                k.to_string_lossy().into_owned(),
                v.to_string_lossy().into_owned(),
            )
        })
        .collect()
}

/// Reads the `.env` file of `dir`, if there is one (compose reads it for
/// interpolation).
pub fn dotenv(dir: &Path) -> BTreeMap<String, String> {
    std::fs::read_to_string(dir.join(".env"))
        .map(|t| interp::parse_dotenv(&t))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests;
