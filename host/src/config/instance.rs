//! One instance (container): its fields, merged with the service's where
//! MaestroNG merges them (`ports`, `limits`, `lifecycle`, `env`).

use super::build::{Ctx, Entries, get, join};
use super::env::EnvBuilder;
use super::error::ConfigError;
use super::model::*;
use super::yaml::{Node, PyScalar, Value, node_str};

/// What [`build_instance`] needs from its service.
pub(super) struct InstanceInput<'a> {
    pub name: &'a str,
    pub service: &'a str,
    pub service_image: &'a str,
    pub node: &'a Node,
    pub entries: &'a Entries,
    pub path: &'a str,
    pub service_path: &'a str,
    pub service_env: &'a EnvBuilder,
    pub service_ports: Option<&'a Node>,
    pub service_limits: Option<&'a Node>,
    pub service_lifecycle: Option<&'a Node>,
}

const LOG_DRIVERS: &[&str] = &["json-file", "syslog", "journald", "gelf", "fluentd", "none"];
const RESTART_NAMES: &str = "no, always, on-failure, unless-stopped";

fn set<'n>(entries: &'n Entries, key: &str) -> Option<&'n Node> {
    get(entries, key).filter(|n| !n.is_null())
}

/// Builds one instance with its own variables (link variables come on top of them
/// when its environment is first asked for: [`Environment::container_env`]).
pub(super) fn build_instance(
    ctx: &mut Ctx,
    environment: &Environment,
    input: InstanceInput,
) -> Result<Instance, ConfigError> {
    let InstanceInput {
        name,
        service,
        service_image,
        node,
        entries,
        path,
        service_path,
        service_env,
        service_ports,
        service_limits,
        service_lifecycle,
    } = input;
    let p = |k: &str| join(path, k);

    let ship_name = match set(entries, "ship") {
        Some(n) => ctx.string(n, &p("ship"))?,
        None => return Err(ctx.err(Some(node), &p("ship"), "the instance's ship is missing")),
    };
    let Some(ship) = environment.ship(&ship_name) else {
        return Err(ctx.err(
            set(entries, "ship"),
            &p("ship"),
            format!("unknown ship {ship_name:?}"),
        ));
    };
    let image = match set(entries, "image") {
        Some(n) => ctx.string(n, &p("image"))?,
        None => service_image.to_owned(),
    };

    let command = match (set(entries, "command"), set(entries, "cmd")) {
        (Some(n), _) => Some(command(ctx, n, &p("command"))?),
        (None, Some(n)) => {
            ctx.warn(n, &p("cmd"), "cmd is deprecated; use command");
            Some(command(ctx, n, &p("cmd"))?)
        }
        (None, None) => None,
    };

    // Ports: the service's, then the instance's merged over them by name.
    let mut port_nodes: Vec<(String, &Node, String)> = Vec::new();
    for (source, base) in [
        (service_ports, join(service_path, "ports")),
        (set(entries, "ports"), p("ports")),
    ] {
        let Some(source) = source else { continue };
        for (k, v) in ctx.map(source, &base)? {
            let pname = node_str(k);
            let ppath = join(&base, &pname);
            match port_nodes.iter_mut().find(|(n, _, _)| *n == pname) {
                Some(slot) => *slot = (pname, v, ppath),
                None => port_nodes.push((pname, v, ppath)),
            }
        }
    }
    let mut ports = Vec::new();
    for (pname, pnode, ppath) in port_nodes {
        ports.push(parse_port(ctx, &pname, pnode, &ppath)?);
    }

    let mut env = service_env.clone();
    env.apply_sources(
        ctx,
        &[
            (get(entries, "envfile"), p("envfile")),
            (get(entries, "env"), p("env")),
        ],
    )?;
    env.set_identity_container(name, &ship.ip, &image);

    let volumes = volumes(
        ctx,
        environment.schema,
        set(entries, "volumes"),
        &p("volumes"),
    )?;
    let mut container_volumes: Vec<String> = Vec::new();
    for v in ctx.string_list(get(entries, "container_volumes"), &p("container_volumes"))? {
        if !container_volumes.contains(&v) {
            container_volumes.push(v);
        }
    }
    for v in &volumes {
        if container_volumes.contains(&v.container) {
            return Err(ctx.err(
                get(entries, "container_volumes"),
                &p("container_volumes"),
                format!(
                    "conflict between bind-mounted volume and container-only volume on {}",
                    v.container
                ),
            ));
        }
    }

    let mut links = Vec::new();
    if let Some(n) = set(entries, "links") {
        for (k, v) in ctx.map(n, &p("links"))? {
            let lname = node_str(k);
            links.push(Link {
                alias: ctx.string(v, &join(&p("links"), &lname))?,
                name: lname,
            });
        }
    }
    links.sort_by_key(|l| format!("{}:{}", l.name, l.alias));

    let mut extra_hosts = Vec::new();
    if let Some(n) = set(entries, "extra_hosts") {
        for (k, v) in ctx.map(n, &p("extra_hosts"))? {
            let host = node_str(k);
            let hpath = join(&p("extra_hosts"), &host);
            let address = match &v.value {
                Value::Map(e) => {
                    let sname = match set(e, "ship") {
                        Some(s) => ctx.string(s, &join(&hpath, "ship"))?,
                        None => {
                            return Err(ctx.err(
                                Some(v),
                                &hpath,
                                "expected an address or {ship: NAME}",
                            ));
                        }
                    };
                    match environment.ship(&sname) {
                        Some(s) => s.ip.clone(),
                        None => {
                            return Err(ctx.err(
                                Some(v),
                                &join(&hpath, "ship"),
                                format!("unknown ship {sname:?}"),
                            ));
                        }
                    }
                }
                Value::Scalar(s) if matches!(s.value, PyScalar::Str(_)) => s.value.py_str(),
                _ => {
                    ctx.warn(
                        v,
                        &hpath,
                        format!(
                            "expected an address or {{ship: NAME}}, found {}; entry ignored",
                            v.type_name()
                        ),
                    );
                    continue;
                }
            };
            extra_hosts.push(ExtraHost { host, address });
        }
    }
    extra_hosts.sort_by_key(|h| format!("{}:{}", h.host, h.address));

    let restart = restart(ctx, get(entries, "restart"), &p("restart"))?;
    let dns = match set(entries, "dns") {
        Some(n) => Some(ctx.string_list(Some(n), &p("dns"))?),
        None => None,
    };
    let stop_timeout = match set(entries, "stop_timeout") {
        Some(n) => ctx.uint(n, &p("stop_timeout"))?,
        None => 10,
    };
    let limits = limits(
        ctx,
        service_limits,
        set(entries, "limits"),
        service_path,
        path,
    )?;

    let log = match set(entries, "log_driver") {
        Some(n) => {
            let driver = ctx.string(n, &p("log_driver"))?;
            if !LOG_DRIVERS.contains(&driver.as_str()) {
                return Err(ctx.err(
                    Some(n),
                    &p("log_driver"),
                    format!("log_driver must be one of ({})", LOG_DRIVERS.join(", ")),
                ));
            }
            let mut options = Vec::new();
            if let Some(o) = set(entries, "log_opt") {
                let Value::Map(e) = &o.value else {
                    return Err(ctx.err(Some(o), &p("log_opt"), "log_opt must be a mapping"));
                };
                for (k, v) in e {
                    options.push((node_str(k), node_str(v)));
                }
            }
            Some(LogConfig { driver, options })
        }
        None => {
            if let Some(o) = set(entries, "log_opt") {
                ctx.warn(o, &p("log_opt"), "log_opt without log_driver is ignored");
            }
            None
        }
    };

    let mut lxc_conf = Vec::new();
    if let Some(n) = set(entries, "lxc_conf") {
        for (k, v) in ctx.map(n, &p("lxc_conf"))? {
            lxc_conf.push((node_str(k), node_str(v)));
        }
    }

    let security_opt = match set(entries, "security_opt") {
        Some(n) => Some(ctx.string_list(Some(n), &p("security_opt"))?),
        None => None,
    };

    let mut ulimits = Vec::new();
    if let Some(n) = set(entries, "ulimits") {
        for (k, v) in ctx.map(n, &p("ulimits"))? {
            let uname = node_str(k);
            let upath = join(&p("ulimits"), &uname);
            match &v.value {
                Value::Map(e) => {
                    let mut soft = None;
                    let mut hard = None;
                    for (lk, lv) in e {
                        match node_str(lk).as_str() {
                            "soft" => soft = Some(ctx.int(lv, &join(&upath, "soft"))?),
                            "hard" => hard = Some(ctx.int(lv, &join(&upath, "hard"))?),
                            other => {
                                return Err(ctx.err(
                                    Some(lk),
                                    &join(&upath, other),
                                    "unknown ulimit key (expected soft and hard)",
                                ));
                            }
                        }
                    }
                    ulimits.push(Ulimit {
                        name: uname,
                        soft,
                        hard,
                    });
                }
                Value::Scalar(s) if matches!(s.value, PyScalar::Int(_)) => {
                    let value = ctx.int(v, &upath)?;
                    ulimits.push(Ulimit {
                        name: uname,
                        soft: Some(value),
                        hard: Some(value),
                    });
                }
                _ => ctx.warn(
                    v,
                    &upath,
                    format!(
                        "expected a number or {{soft, hard}}, found {}; ulimit ignored",
                        v.type_name()
                    ),
                ),
            }
        }
    }

    let labels = match set(entries, "labels") {
        None => Vec::new(),
        Some(n) => match &n.value {
            Value::Seq(items) => {
                let mut out = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    out.push((
                        ctx.string(item, &format!("{}[{i}]", p("labels")))?,
                        String::new(),
                    ));
                }
                out
            }
            Value::Map(e) => e.iter().map(|(k, v)| (node_str(k), node_str(v))).collect(),
            Value::Scalar(_) => {
                return Err(ctx.err(
                    Some(n),
                    &p("labels"),
                    "invalid labels configuration; must be a list or mapping",
                ));
            }
        },
    };

    let lifecycle = lifecycle(
        ctx,
        &ports,
        name,
        service_lifecycle,
        set(entries, "lifecycle"),
        service_path,
        path,
    )?;
    let privileged = ctx.flag(get(entries, "privileged"), &p("privileged"));

    let instance = Instance {
        name: name.to_owned(),
        service: service.to_owned(),
        ship: ship_name,
        image,
        command,
        ports,
        own_env: env,
        env: Default::default(),
        volumes,
        container_volumes,
        volumes_from: Vec::new(),
        links,
        username: ctx.opt_string(get(entries, "username"), &p("username"))?,
        privileged,
        cap_add: ctx.string_list(get(entries, "cap_add"), &p("cap_add"))?,
        cap_drop: ctx.string_list(get(entries, "cap_drop"), &p("cap_drop"))?,
        extra_hosts,
        net: ctx.opt_string(get(entries, "net"), &p("net"))?,
        restart,
        dns,
        stop_timeout,
        limits,
        log,
        lxc_conf,
        workdir: ctx.opt_string(get(entries, "workdir"), &p("workdir"))?,
        security_opt,
        ulimits,
        labels,
        lifecycle,
    };
    Ok(instance)
}

fn command(ctx: &Ctx, node: &Node, path: &str) -> Result<Command, ConfigError> {
    match &node.value {
        Value::Seq(items) => Ok(Command::Argv(
            items
                .iter()
                .enumerate()
                .map(|(i, item)| ctx.string(item, &format!("{path}[{i}]")))
                .collect::<Result<_, _>>()?,
        )),
        _ => Ok(Command::Shell(ctx.string(node, path)?)),
    }
}

/// `^(\d+)(?:-(\d+))?(?:/(tcp|udp))?$`, MaestroNG's port spec syntax.
fn port_part(text: &str) -> Option<(PortRange, Option<Protocol>)> {
    let (ports, proto) = match text.split_once('/') {
        Some((ports, "tcp")) => (ports, Some(Protocol::Tcp)),
        Some((ports, "udp")) => (ports, Some(Protocol::Udp)),
        Some(_) => return None,
        None => (text, None),
    };
    let number = |s: &str| -> Option<u32> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        s.parse().ok()
    };
    let range = match ports.split_once('-') {
        Some((a, b)) => PortRange {
            start: number(a)?,
            end: Some(number(b)?),
        },
        None => PortRange {
            start: number(ports)?,
            end: None,
        },
    };
    Some((range, proto))
}

fn check_range(ctx: &Ctx, node: &Node, path: &str, range: PortRange) -> Result<(), ConfigError> {
    for n in [Some(range.start), range.end].into_iter().flatten() {
        if n > 65535 {
            return Err(ctx.err(
                Some(node),
                path,
                format!("port {n} is out of range (0-65535)"),
            ));
        }
    }
    if let Some(end) = range.end {
        if end < range.start {
            return Err(ctx.err(Some(node), path, format!("invalid port range {range}")));
        }
    }
    Ok(())
}

/// A single side of a spec: an int or a `N[-M][/proto]` string.
fn port_side(
    ctx: &Ctx,
    node: &Node,
    path: &str,
) -> Result<(PortRange, Option<Protocol>), ConfigError> {
    let text = match node.scalar().map(|s| &s.value) {
        Some(PyScalar::Int(d)) => d.clone(),
        Some(PyScalar::Str(s)) => s.clone(),
        _ => {
            return Err(ctx.err(
                Some(node),
                path,
                format!("invalid port spec {}", node_str(node)),
            ));
        }
    };
    let (range, proto) = port_part(&text)
        .ok_or_else(|| ctx.err(Some(node), path, format!("invalid port spec {text:?}")))?;
    check_range(ctx, node, path, range)?;
    Ok((range, proto))
}

/// Parses one port spec outside a description (fuzzing, tests): `node` is
/// the value of `ports.NAME`, `path` its key path for messages. Returns the
/// port and the warnings met.
pub fn port_spec(
    name: &str,
    node: &Node,
    path: &str,
) -> Result<(Port, Vec<super::error::Diagnostic>), ConfigError> {
    let mut ctx = Ctx {
        file: "-",
        base_dir: std::path::Path::new("."),
        strict: false,
        warnings: Vec::new(),
    };
    let port = parse_port(&mut ctx, name, node, path)?;
    Ok((port, ctx.warnings))
}

/// Parses one named port in any of §2.5's forms.
pub(super) fn parse_port(
    ctx: &mut Ctx,
    name: &str,
    node: &Node,
    path: &str,
) -> Result<Port, ConfigError> {
    let default_ip = "0.0.0.0".to_owned();
    match &node.value {
        Value::Scalar(s) => {
            let text = match &s.value {
                // `22:22` unquoted is a YAML 1.1 base-60 integer (1342) for
                // MaestroNG; a port mapping was meant.
                PyScalar::Int(_) if s.plain && s.raw.contains(':') => {
                    ctx.warn(node, path, format!("plain {} is a YAML 1.1 base-60 number ({}) for MaestroNG; maestro reads it as the mapping \"{}\"; quote it", s.raw, s.value.py_str(), s.raw));
                    s.raw.clone()
                }
                PyScalar::Int(d) => d.clone(),
                PyScalar::Str(t) => t.clone(),
                _ => {
                    return Err(ctx.err(
                        Some(node),
                        path,
                        format!("invalid port spec {}", s.value.py_str()),
                    ));
                }
            };
            let parts: Vec<&str> = text.split(':').collect();
            if parts.len() > 2 {
                return Err(ctx.err(Some(node), path, format!("invalid port spec {text:?}: expected PORT, EXPOSED:EXTERNAL or {{exposed, external}}")));
            }
            let mut sides = Vec::new();
            for part in &parts {
                let (range, proto) = port_part(part).ok_or_else(|| {
                    ctx.err(Some(node), path, format!("invalid port spec {text:?}"))
                })?;
                check_range(ctx, node, path, range)?;
                sides.push((range, proto.unwrap_or(Protocol::Tcp)));
            }
            let (exposed, eproto) = sides[0];
            let (external, xproto) = *sides.last().unwrap_or(&sides[0]);
            if eproto != xproto {
                return Err(ctx.err(
                    Some(node),
                    path,
                    format!(
                        "mismatched protocols between {exposed}/{} and {external}/{}",
                        eproto.as_str(),
                        xproto.as_str()
                    ),
                ));
            }
            Ok(Port {
                name: name.to_owned(),
                exposed,
                external,
                protocol: eproto,
                host_ip: default_ip,
            })
        }
        Value::Map(entries) => {
            let (Some(exposed_node), Some(external_node)) =
                (get(entries, "exposed"), get(entries, "external"))
            else {
                return Err(ctx.err(
                    Some(node),
                    path,
                    "a port mapping needs both exposed and external",
                ));
            };
            for (k, _) in entries {
                let key = node_str(k);
                if key != "exposed" && key != "external" {
                    ctx.warn(
                        k,
                        &join(path, &key),
                        format!("unknown port key {key:?} (ignored)"),
                    );
                }
            }
            let (exposed, proto) = port_side(ctx, exposed_node, &join(path, "exposed"))?;
            let protocol = proto.unwrap_or(Protocol::Tcp);
            let epath = join(path, "external");
            let (host_ip, ext_node) = match &external_node.value {
                Value::Seq(items) if items.len() >= 2 => {
                    (ctx.string(&items[0], &format!("{epath}[0]"))?, &items[1])
                }
                Value::Seq(_) => {
                    return Err(ctx.err(
                        Some(external_node),
                        &epath,
                        "expected [host address, port]",
                    ));
                }
                _ => (default_ip, external_node),
            };
            let (external, xproto) = port_side(ctx, ext_node, &epath)?;
            if let Some(x) = xproto {
                if x != protocol {
                    ctx.warn(ext_node, &epath, format!("protocol {} differs from the exposed port's {}; the exposed port's is used", x.as_str(), protocol.as_str()));
                }
            }
            Ok(Port {
                name: name.to_owned(),
                exposed,
                external,
                protocol,
                host_ip,
            })
        }
        Value::Seq(_) => Err(ctx.err(
            Some(node),
            path,
            "invalid port spec: expected a number, a string or {exposed, external}",
        )),
    }
}

fn volumes(
    ctx: &mut Ctx,
    schema: u32,
    node: Option<&Node>,
    path: &str,
) -> Result<Vec<Volume>, ConfigError> {
    let Some(node) = node else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for (k, v) in ctx.map(node, path)? {
        let key = node_str(k);
        let vpath = join(path, &key);
        if schema == 1 {
            // Schema 1: `container: host`.
            out.push(Volume {
                host: ctx.string(v, &vpath).map_err(|_| {
                    ctx.err(
                        Some(v),
                        &vpath,
                        "schema 1 volumes are `container path: host path`",
                    )
                })?,
                container: key,
                mode: "rw".into(),
            });
            continue;
        }
        match &v.value {
            Value::Scalar(s) if matches!(s.value, PyScalar::Str(_)) => out.push(Volume {
                host: key,
                container: s.value.py_str(),
                mode: "rw".into(),
            }),
            Value::Map(e) if get(e, "target").is_some() => {
                let target = ctx.string(get(e, "target").unwrap_or(v), &join(&vpath, "target"))?;
                let mode = match set(e, "mode") {
                    Some(m) => ctx.string(m, &join(&vpath, "mode"))?,
                    None => "rw".into(),
                };
                out.push(Volume {
                    host: key,
                    container: target,
                    mode,
                });
            }
            _ => {
                return Err(ctx.err(
                    Some(v),
                    &vpath,
                    format!("invalid volume specification {key} -> {}; expected a container path or {{target, mode}}", node_str(v)),
                ));
            }
        }
    }
    Ok(out)
}

fn restart(ctx: &mut Ctx, node: Option<&Node>, path: &str) -> Result<RestartPolicy, ConfigError> {
    let Some(node) = node else {
        return Ok(RestartPolicy::default());
    };
    let make = |ctx: &Ctx,
                name: &str,
                retries: Option<(&str, &Node)>|
     -> Result<RestartPolicy, ConfigError> {
        let name = match name {
            "no" => RestartName::No,
            "always" => RestartName::Always,
            "on-failure" => RestartName::OnFailure,
            "unless-stopped" => RestartName::UnlessStopped,
            other => {
                return Err(ctx.err(
                    Some(node),
                    path,
                    format!("invalid restart policy {other:?}; choose one of {RESTART_NAMES}"),
                ));
            }
        };
        let max_retries = match retries {
            None => 0,
            Some((text, n)) => text.trim().parse::<u32>().map_err(|_| {
                ctx.err(
                    Some(n),
                    path,
                    format!("invalid restart policy format {:?}", node_str(node)),
                )
            })?,
        };
        Ok(RestartPolicy { name, max_retries })
    };
    match &node.value {
        Value::Scalar(s) => match &s.value {
            PyScalar::Str(text) => match text.split_once(':') {
                Some((name, retries)) => make(ctx, name, Some((retries, node))),
                None => make(ctx, text, None),
            },
            _ => Ok(RestartPolicy::default()),
        },
        Value::Map(e) => {
            let mut name = "no".to_owned();
            let mut retries: Option<(String, &Node)> = None;
            for (k, v) in e {
                match node_str(k).as_str() {
                    "name" => name = node_str(v),
                    "retries" => retries = Some((node_str(v), v)),
                    "maximum_retry_count" => {
                        ctx.warn(k, &join(path, "maximum_retry_count"), "maximum_retry_count (from the 0.7.5 documentation) is read as retries; MaestroNG 0.8.3 rejects it");
                        retries = Some((node_str(v), v));
                    }
                    other => return Err(ctx.err(Some(k), &join(path, other), format!("invalid restart policy format {:?}: unknown key (expected name and retries)", node_str(node)))),
                }
            }
            make(ctx, &name, retries.as_ref().map(|(t, n)| (t.as_str(), *n)))
        }
        Value::Seq(_) => Ok(RestartPolicy::default()),
    }
}

fn bytes(ctx: &Ctx, node: &Node, path: &str, container: &str) -> Result<Option<i64>, ConfigError> {
    let Some(s) = node.scalar() else {
        return Err(ctx.err(
            Some(node),
            path,
            format!("expected a size, found {}", node.type_name()),
        ));
    };
    match &s.value {
        PyScalar::None | PyScalar::Bool(false) => Ok(None),
        PyScalar::Int(_) => {
            let n = ctx.int(node, path)?;
            Ok((n != 0).then_some(n))
        }
        PyScalar::Str(text) if text.is_empty() => Ok(None),
        PyScalar::Str(text) => {
            let last = text.chars().last().unwrap_or(' ').to_ascii_lowercase();
            let unit: i64 = match last {
                'k' => 1024,
                'm' => 1024 * 1024,
                'g' => 1024 * 1024 * 1024,
                _ => {
                    if !text.bytes().all(|b| b.is_ascii_digit()) {
                        return Err(ctx.err(
                            Some(node),
                            path,
                            format!(
                                "unknown unit suffix {last} in {text} for container {container}"
                            ),
                        ));
                    }
                    return text.parse().map(Some).map_err(|_| {
                        ctx.err(Some(node), path, format!("size {text} is too large"))
                    });
                }
            };
            let number = &text[..text.len() - 1];
            let n: i64 = number
                .trim()
                .replace('_', "")
                .parse()
                .map_err(|_| ctx.err(Some(node), path, format!("invalid size {text:?}")))?;
            n.checked_mul(unit)
                .map(Some)
                .ok_or_else(|| ctx.err(Some(node), path, format!("size {text} is too large")))
        }
        other => Err(ctx.err(
            Some(node),
            path,
            format!("expected a size such as 512m, found {}", other.type_name()),
        )),
    }
}

fn limits(
    ctx: &mut Ctx,
    service: Option<&Node>,
    instance: Option<&Node>,
    service_path: &str,
    path: &str,
) -> Result<Limits, ConfigError> {
    let mut merged: Vec<(String, &Node, String)> = Vec::new();
    for (source, base) in [
        (service, join(service_path, "limits")),
        (instance, join(path, "limits")),
    ] {
        let Some(source) = source else { continue };
        for (k, v) in ctx.map(source, &base)? {
            let key = node_str(k);
            let kpath = join(&base, &key);
            if !matches!(key.as_str(), "cpu" | "memory" | "swap") {
                if ctx.strict {
                    return Err(ctx.err(Some(k), &kpath, format!("unknown limits key {key:?}")));
                }
                ctx.warn(k, &kpath, format!("unknown limits key {key:?} (ignored)"));
                continue;
            }
            match merged.iter_mut().find(|(n, _, _)| *n == key) {
                Some(slot) => *slot = (key, v, kpath),
                None => merged.push((key, v, kpath)),
            }
        }
    }
    let container = path.rsplit('.').next().unwrap_or(path).to_owned();
    let mut limits = Limits::default();
    for (key, node, kpath) in merged {
        match key.as_str() {
            "cpu" => {
                limits.cpu_shares = if node.is_null() {
                    None
                } else {
                    Some(ctx.int(node, &kpath)?)
                }
            }
            "memory" => limits.memory = bytes(ctx, node, &kpath, &container)?,
            _ => limits.swap = bytes(ctx, node, &kpath, &container)?,
        }
    }
    Ok(limits)
}

#[allow(clippy::too_many_arguments)]
fn lifecycle(
    ctx: &mut Ctx,
    ports: &[Port],
    container: &str,
    service: Option<&Node>,
    instance: Option<&Node>,
    service_path: &str,
    path: &str,
) -> Result<Lifecycle, ConfigError> {
    let mut out = Lifecycle::default();
    for (source, base) in [
        (service, join(service_path, "lifecycle")),
        (instance, join(path, "lifecycle")),
    ] {
        let Some(source) = source else { continue };
        for (k, v) in ctx.map(source, &base)? {
            let state = node_str(k);
            let spath = join(&base, &state);
            let target = match state.as_str() {
                "pre-start" => &mut out.pre_start,
                "running" => &mut out.running,
                "pre-stop" => &mut out.pre_stop,
                "stopped" => &mut out.stopped,
                _ => {
                    if ctx.strict {
                        return Err(ctx.err(Some(k), &spath, format!("unknown lifecycle state {state:?} (expected pre-start, running, pre-stop or stopped)")));
                    }
                    ctx.warn(k, &spath, format!("unknown lifecycle state {state:?} (ignored; expected pre-start, running, pre-stop or stopped)"));
                    continue;
                }
            };
            let Value::Seq(items) = &v.value else {
                return Err(ctx.err(Some(v), &spath, format!("invalid {state} lifecycle checks configuration; expected a list of checks, found {}", v.type_name())));
            };
            for (i, item) in items.iter().enumerate() {
                target.push(check(
                    ctx,
                    ports,
                    container,
                    item,
                    &format!("{spath}[{i}]"),
                )?);
            }
        }
    }
    Ok(out)
}

fn check(
    ctx: &mut Ctx,
    ports: &[Port],
    container: &str,
    node: &Node,
    path: &str,
) -> Result<Check, ConfigError> {
    let entries = ctx.map(node, path)?;
    let Some(type_node) = set(entries, "type") else {
        return Err(ctx.err(
            Some(node),
            &join(path, "type"),
            "the check's type is missing (tcp, http, exec, rexec or sleep)",
        ));
    };
    let kind = ctx.string(type_node, &join(path, "type"))?;
    let known: &[&str] = match kind.as_str() {
        "tcp" => &["type", "port", "max_wait"],
        "http" => &[
            "type",
            "port",
            "host",
            "match_regex",
            "path",
            "scheme",
            "method",
            "max_wait",
            "requests_options",
        ],
        "exec" => &["type", "command", "cmd", "attempts", "envfrom"],
        "rexec" => &["type", "command", "attempts"],
        "sleep" => &["type", "wait"],
        other => {
            return Err(ctx.err(Some(type_node), &join(path, "type"), format!("unknown lifecycle check type {other:?} (expected tcp, http, exec, rexec or sleep)")));
        }
    };
    for (k, _) in entries {
        let key = node_str(k);
        if !known.contains(&key.as_str()) {
            if ctx.strict {
                return Err(ctx.err(
                    Some(k),
                    &join(path, &key),
                    format!("unknown {kind} check key {key:?}"),
                ));
            }
            ctx.warn(
                k,
                &join(path, &key),
                format!("unknown {kind} check key {key:?} (ignored)"),
            );
        }
    }
    let opt_uint = |ctx: &Ctx, key: &str, default: u64| -> Result<u64, ConfigError> {
        match set(entries, key) {
            Some(n) => {
                let v = ctx.uint(n, &join(path, key))?;
                Ok(if v == 0 { default } else { v })
            }
            None => Ok(default),
        }
    };
    let named_tcp_port = |ctx: &Ctx, pnode: &Node| -> Result<String, ConfigError> {
        let pname = node_str(pnode);
        match ports.iter().find(|p| p.name == pname) {
            None => Err(ctx.err(
                Some(pnode),
                &join(path, "port"),
                format!("port {pname:?} is not defined by {container}"),
            )),
            Some(p) if p.protocol != Protocol::Tcp => Err(ctx.err(
                Some(pnode),
                &join(path, "port"),
                format!("port {pname:?} is not TCP"),
            )),
            Some(_) => Ok(pname),
        }
    };
    let command = |ctx: &mut Ctx| -> Result<String, ConfigError> {
        match (set(entries, "command"), set(entries, "cmd")) {
            (Some(c), _) => ctx.string(c, &join(path, "command")),
            (None, Some(c)) => {
                ctx.warn(
                    c,
                    &join(path, "cmd"),
                    "cmd is read as command (MaestroNG 0.8.3 requires command)",
                );
                ctx.string(c, &join(path, "cmd"))
            }
            (None, None) => Err(ctx.err(
                Some(node),
                &join(path, "command"),
                "the check's command is missing",
            )),
        }
    };
    Ok(match kind.as_str() {
        "tcp" => {
            let Some(pnode) = set(entries, "port") else {
                return Err(ctx.err(
                    Some(node),
                    &join(path, "port"),
                    "the check's port is missing",
                ));
            };
            Check::Tcp {
                port: named_tcp_port(ctx, pnode)?,
                max_wait: opt_uint(ctx, "max_wait", 180)?,
            }
        }
        "http" => {
            let Some(pnode) = set(entries, "port") else {
                return Err(ctx.err(
                    Some(node),
                    &join(path, "port"),
                    "the check's port is missing",
                ));
            };
            let pname = node_str(pnode);
            let port = if ports.iter().any(|p| p.name == pname) {
                HttpPort::Named(named_tcp_port(ctx, pnode)?)
            } else {
                match pname.trim().parse::<u32>() {
                    Ok(n) if n <= 65535 => HttpPort::Number(n),
                    _ => {
                        return Err(ctx.err(
                            Some(pnode),
                            &join(path, "port"),
                            format!("port {pname:?} is not defined by {container}"),
                        ));
                    }
                }
            };
            let mut http_path = match set(entries, "path") {
                Some(n) => ctx.string(n, &join(path, "path"))?,
                None => "/".into(),
            };
            if !http_path.starts_with('/') {
                http_path.insert(0, '/');
            }
            Check::Http {
                port,
                host: ctx.opt_string(get(entries, "host"), &join(path, "host"))?,
                match_regex: ctx
                    .opt_string(get(entries, "match_regex"), &join(path, "match_regex"))?,
                path: http_path,
                scheme: ctx
                    .opt_string(get(entries, "scheme"), &join(path, "scheme"))?
                    .unwrap_or_else(|| "http".into()),
                method: ctx
                    .opt_string(get(entries, "method"), &join(path, "method"))?
                    .unwrap_or_else(|| "get".into()),
                max_wait: opt_uint(ctx, "max_wait", 300)?,
                requests_options: match set(entries, "requests_options") {
                    Some(n) => super::build::to_json(n),
                    None => serde_json::Value::Object(Default::default()),
                },
            }
        }
        "exec" => {
            let command = command(ctx)?;
            let envfrom = match set(entries, "envfrom") {
                None => ExecEnvFrom::Env,
                Some(n) => match ctx.string(n, &join(path, "envfrom"))?.as_str() {
                    "env" => ExecEnvFrom::Env,
                    "stdin" => ExecEnvFrom::Stdin,
                    other => {
                        return Err(ctx.err(
                            Some(n),
                            &join(path, "envfrom"),
                            format!("invalid envfrom {other:?} (expected env or stdin)"),
                        ));
                    }
                },
            };
            Check::Exec {
                command,
                attempts: opt_uint(ctx, "attempts", 180)?,
                envfrom,
            }
        }
        "rexec" => Check::Rexec {
            command: command(ctx)?,
            attempts: opt_uint(ctx, "attempts", 180)?,
        },
        _ => {
            let Some(w) = set(entries, "wait") else {
                return Err(ctx.err(
                    Some(node),
                    &join(path, "wait"),
                    "the check's wait is missing",
                ));
            };
            Check::Sleep {
                wait: ctx.number(w, &join(path, "wait"))?,
            }
        }
    })
}
