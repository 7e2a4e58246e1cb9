//! Ports (`ports:` of services and instances): MaestroNG's spec syntax
//! (`N`, `N-M/udp`, `EXPOSED:EXTERNAL`, `{exposed, external: [ip, port]}`)
//! → [`Port`], which `spec.rs` hands to Docker as it is.

use super::error::{ConfigError, Diagnostic};
use super::keys::instance::PORTS;
use super::keys::port;
use super::model::{Port, PortRange, Protocol};
use super::read::{Ctx, Entries, Owners, get, join};
use super::yaml::{Node, PyScalar, Value, node_str};

/// The ports of an instance: the service's, then the instance's merged over
/// them by name (a name keeps its first position).
pub(super) fn ports(ctx: &mut Ctx, owners: Owners) -> Result<Vec<Port>, ConfigError> {
    let mut port_nodes: Vec<(String, &Node, String)> = Vec::new();
    for (source, base) in owners.sources(PORTS) {
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
    Ok(ports)
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
) -> Result<(Port, Vec<Diagnostic>), ConfigError> {
    let mut ctx = Ctx {
        file: "-",
        base_dir: std::path::Path::new("."),
        strict: false,
        warnings: Vec::new(),
    };
    let port = parse_port(&mut ctx, name, node, path)?;
    Ok((port, ctx.warnings))
}

/// Parses one named port in any of MaestroNG's forms (host/COMPAT.md § Ports).
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
        Value::Map(entries) => port_mapping(ctx, name, node, entries, path),
        Value::Seq(_) => Err(ctx.err(
            Some(node),
            path,
            "invalid port spec: expected a number, a string or {exposed, external}",
        )),
    }
}

/// A port as `{exposed, external}` (`external` may be `[host address, port]`).
fn port_mapping(
    ctx: &mut Ctx,
    name: &str,
    node: &Node,
    entries: &Entries,
    path: &str,
) -> Result<Port, ConfigError> {
    let default_ip = "0.0.0.0".to_owned();
    let (Some(exposed_node), Some(external_node)) =
        (get(entries, port::EXPOSED), get(entries, port::EXTERNAL))
    else {
        return Err(ctx.err(
            Some(node),
            path,
            "a port mapping needs both exposed and external",
        ));
    };
    ctx.check_keys(entries, port::ALL, path, "port")?;
    let (exposed, proto) = port_side(ctx, exposed_node, &join(path, port::EXPOSED))?;
    let protocol = proto.unwrap_or(Protocol::Tcp);
    let epath = join(path, port::EXTERNAL);
    let (host_ip, ext_node) = match &external_node.value {
        Value::Seq(items) if items.len() >= 2 => {
            (ctx.string(&items[0], &format!("{epath}[0]"))?, &items[1])
        }
        Value::Seq(_) => {
            return Err(ctx.err(Some(external_node), &epath, "expected [host address, port]"));
        }
        _ => (default_ip, external_node),
    };
    let (external, xproto) = port_side(ctx, ext_node, &epath)?;
    if let Some(x) = xproto {
        if x != protocol {
            ctx.warn(
                ext_node,
                &epath,
                format!(
                    "protocol {} differs from the exposed port's {}; the exposed port's is used",
                    x.as_str(),
                    protocol.as_str()
                ),
            );
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
