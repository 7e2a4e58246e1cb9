//! User-defined networks and named volumes (none of them in MaestroNG 0.8.3):
//! the top-level `networks` and `volumes` sections, the `networks` of a
//! service or an instance (merged by name, the instance's over the
//! service's), and the names Docker accepts for both.

use std::net::{IpAddr, Ipv4Addr};

use super::error::ConfigError;
use super::keys::{ipam, named_volume, network, network_ref};
use super::model::{Environment, NamedVolume, Network, NetworkRef, Volume};
use super::read::{Ctx, Owners, get, get_set, join};
use super::yaml::{Node, Value, node_str};

/// The networks every Docker engine has; they cannot be created or removed,
/// and `net:` already selects them.
pub(super) const PREDEFINED: &[&str] = &["bridge", "host", "none", "default"];

/// Whether `name` is a name Docker accepts for a volume (and, here, for a
/// network): `[a-zA-Z0-9][a-zA-Z0-9_.-]+`.
pub(super) fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && name.len() >= 2
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

/// A mapping of options, values as Python's `str()` (`{mtu: 1400}` is `"1400"`).
fn string_map(
    ctx: &Ctx,
    node: Option<&Node>,
    path: &str,
) -> Result<Vec<(String, String)>, ConfigError> {
    let Some(node) = node else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for (k, v) in ctx.map(node, path)? {
        let key = node_str(k);
        out.push((key.clone(), ctx.string(v, &join(path, &key))?));
    }
    Ok(out)
}

/// The top-level `networks` section.
pub(super) fn networks(ctx: &mut Ctx, node: Option<&Node>) -> Result<Vec<Network>, ConfigError> {
    let path = super::keys::top::NETWORKS;
    let Some(node) = node else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for (k, v) in ctx.map(node, path)? {
        let name = node_str(k);
        let npath = join(path, &name);
        if PREDEFINED.contains(&name.as_str()) {
            return Err(ctx.err(
                Some(k),
                &npath,
                format!(
                    "{name:?} is one of Docker's own networks; select it with `net: {name}` instead"
                ),
            ));
        }
        if !valid_name(&name) {
            return Err(ctx.err(
                Some(k),
                &npath,
                format!("invalid network name {name:?}; expected [a-zA-Z0-9][a-zA-Z0-9_.-]+"),
            ));
        }
        let entries = ctx.map(v, &npath)?;
        ctx.check_keys(entries, network::ALL, &npath, "network")?;
        let driver = match get_set(entries, network::DRIVER) {
            Some(d) => ctx.string(d, &join(&npath, network::DRIVER))?,
            None => "bridge".into(),
        };
        let options = string_map(
            ctx,
            get_set(entries, network::OPTIONS),
            &join(&npath, network::OPTIONS),
        )?;
        let internal = ctx.flag(
            get(entries, network::INTERNAL),
            &join(&npath, network::INTERNAL),
        );
        let (subnet, gateway) = match get_set(entries, network::IPAM) {
            Some(n) => ipam_config(ctx, n, &join(&npath, network::IPAM))?,
            None => (None, None),
        };
        out.push(Network {
            name,
            driver,
            options,
            internal,
            subnet,
            gateway,
        });
    }
    Ok(out)
}

/// A network's `ipam`: a subnet in CIDR form and a gateway inside it.
fn ipam_config(
    ctx: &mut Ctx,
    node: &Node,
    path: &str,
) -> Result<(Option<String>, Option<String>), ConfigError> {
    let entries = ctx.map(node, path)?;
    ctx.check_keys(entries, ipam::ALL, path, "ipam")?;
    let subnet = match get_set(entries, ipam::SUBNET) {
        Some(n) => {
            let spath = join(path, ipam::SUBNET);
            let text = ctx.string(n, &spath)?;
            parse_cidr(&text).map_err(|why| {
                ctx.err(
                    Some(n),
                    &spath,
                    format!("invalid subnet {text:?}: {why}; expected e.g. 10.20.0.0/24"),
                )
            })?;
            Some((text, n))
        }
        None => None,
    };
    let gateway = match get_set(entries, ipam::GATEWAY) {
        Some(n) => {
            let gpath = join(path, ipam::GATEWAY);
            let text = ctx.string(n, &gpath)?;
            let Ok(ip) = text.parse::<IpAddr>() else {
                return Err(ctx.err(
                    Some(n),
                    &gpath,
                    format!("invalid gateway {text:?}; expected an IP address"),
                ));
            };
            let Some((subnet, _)) = &subnet else {
                return Err(ctx.err(
                    Some(n),
                    &gpath,
                    "a gateway needs the subnet it belongs to (ipam.subnet)",
                ));
            };
            if !cidr_contains(subnet, ip) {
                return Err(ctx.err(
                    Some(n),
                    &gpath,
                    format!("gateway {text} is not in subnet {subnet}"),
                ));
            }
            Some(text)
        }
        None => None,
    };
    Ok((subnet.map(|(s, _)| s), gateway))
}

/// Parses `ADDRESS/PREFIX` (IPv4 or IPv6) whose host bits are zero.
pub(super) fn parse_cidr(text: &str) -> Result<(IpAddr, u8), String> {
    let Some((addr, prefix)) = text.split_once('/') else {
        return Err("no /prefix length".into());
    };
    let addr: IpAddr = addr
        .parse()
        .map_err(|_| format!("{addr:?} is not an IP address"))?;
    let bits = if addr.is_ipv4() { 32 } else { 128 };
    let prefix: u8 = prefix
        .parse()
        .ok()
        .filter(|p| u32::from(*p) <= bits)
        .ok_or_else(|| format!("prefix length {prefix:?} is not a number from 0 to {bits}"))?;
    if masked(addr, prefix) != addr {
        return Err(format!(
            "host bits are set; the network address is {}/{prefix}",
            masked(addr, prefix)
        ));
    }
    Ok((addr, prefix))
}

/// `addr` with every bit after the first `prefix` cleared.
fn masked(addr: IpAddr, prefix: u8) -> IpAddr {
    match addr {
        IpAddr::V4(a) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V4(Ipv4Addr::from(u32::from(a) & mask))
        }
        IpAddr::V6(a) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V6((u128::from(a) & mask).into())
        }
    }
}

/// Whether `ip` lies in the (valid) CIDR `subnet`.
pub(super) fn cidr_contains(subnet: &str, ip: IpAddr) -> bool {
    match parse_cidr(subnet) {
        Ok((net, prefix)) => net.is_ipv4() == ip.is_ipv4() && masked(ip, prefix) == net,
        Err(_) => false,
    }
}

/// The top-level `volumes` section.
pub(super) fn named_volumes(
    ctx: &mut Ctx,
    node: Option<&Node>,
) -> Result<Vec<NamedVolume>, ConfigError> {
    let path = super::keys::top::VOLUMES;
    let Some(node) = node else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for (k, v) in ctx.map(node, path)? {
        let name = node_str(k);
        let vpath = join(path, &name);
        if !valid_name(&name) {
            return Err(ctx.err(
                Some(k),
                &vpath,
                format!("invalid volume name {name:?}; expected [a-zA-Z0-9][a-zA-Z0-9_.-]+"),
            ));
        }
        let entries = ctx.map(v, &vpath)?;
        ctx.check_keys(entries, named_volume::ALL, &vpath, "volume")?;
        let driver = match get_set(entries, named_volume::DRIVER) {
            Some(d) => ctx.string(d, &join(&vpath, named_volume::DRIVER))?,
            None => "local".into(),
        };
        let driver_opts = string_map(
            ctx,
            get_set(entries, named_volume::DRIVER_OPTS),
            &join(&vpath, named_volume::DRIVER_OPTS),
        )?;
        let labels = super::options::labels(
            ctx,
            get_set(entries, named_volume::LABELS),
            &join(&vpath, named_volume::LABELS),
        )?;
        out.push(NamedVolume {
            name,
            driver,
            driver_opts,
            labels,
        });
    }
    Ok(out)
}

/// Checks the named volumes among an instance's `volumes` (sources that are
/// not absolute paths): each must be a name Docker accepts, which catches a
/// relative host path (`./data`) at load instead of at create.
pub(super) fn check_volume_sources(
    ctx: &Ctx,
    node: Option<&Node>,
    path: &str,
    volumes: &[Volume],
) -> Result<(), ConfigError> {
    for v in volumes.iter().filter(|v| v.is_named()) {
        if !valid_name(&v.host) {
            let at = node
                .and_then(|n| match &n.value {
                    Value::Map(e) => e
                        .iter()
                        .find(|(k, val)| node_str(k) == v.host || node_str(val) == v.host)
                        .map(|(k, _)| k),
                    _ => None,
                })
                .or(node);
            return Err(ctx.err(
                at,
                &join(path, &v.host),
                format!(
                    "volume source {:?} is neither an absolute host path nor a volume name \
                     ([a-zA-Z0-9][a-zA-Z0-9_.-]+)",
                    v.host
                ),
            ));
        }
    }
    Ok(())
}

/// An instance's `networks`: the service's, then the instance's merged over
/// them by network name. Each must be declared at the top level; `net` and
/// `networks` exclude each other; an `ipv4_address` belongs to one instance
/// and must lie in its network's subnet.
pub(super) fn memberships(
    ctx: &mut Ctx,
    environment: &Environment,
    owners: Owners,
    net: Option<(&str, &Node)>,
) -> Result<Vec<NetworkRef>, ConfigError> {
    let key = super::keys::instance::NETWORKS;
    let mut out: Vec<NetworkRef> = Vec::new();
    for (level, (node, path)) in owners.sources(key).into_iter().enumerate() {
        let Some(node) = node else { continue };
        let service_level = level == 0;
        if let Some((mode, net_node)) = net {
            return Err(ctx.err(
                Some(net_node),
                &join(owners.path, super::keys::instance::NET),
                format!(
                    "`net: {mode}` and `networks` ({path}) cannot both be given: \
                     a container joins user-defined networks or takes a network mode"
                ),
            ));
        }
        for (name_node, name, value) in entries_of(ctx, node, &path)? {
            let rpath = join(&path, &name);
            let Some(declared) = environment.networks.iter().find(|n| n.name == name) else {
                let known: Vec<&str> = environment
                    .networks
                    .iter()
                    .map(|n| n.name.as_str())
                    .collect();
                return Err(ctx.err(
                    Some(name_node),
                    &rpath,
                    format!(
                        "unknown network {name:?}; declare it in the top-level `networks` \
                         section (declared: {})",
                        if known.is_empty() {
                            "none".to_owned()
                        } else {
                            known.join(", ")
                        }
                    ),
                ));
            };
            let membership = membership(ctx, declared, value, &rpath, service_level)?;
            match out.iter_mut().find(|m| m.network == name) {
                Some(m) => *m = membership,
                None => out.push(membership),
            }
        }
    }
    Ok(out)
}

/// A `networks` entry: the name's node, the name, the settings (if any).
type Entry<'n> = (&'n Node, String, Option<&'n Node>);

/// The entries of a `networks` value: a list of names or a mapping of name →
/// settings (null: none).
fn entries_of<'n>(ctx: &Ctx, node: &'n Node, path: &str) -> Result<Vec<Entry<'n>>, ConfigError> {
    match &node.value {
        Value::Seq(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| Ok((item, ctx.string(item, &format!("{path}[{i}]"))?, None)))
            .collect(),
        Value::Map(entries) => Ok(entries
            .iter()
            .map(|(k, v)| (k, node_str(k), Some(v).filter(|v| !v.is_null())))
            .collect()),
        Value::Scalar(_) => Err(ctx.err(
            Some(node),
            path,
            format!(
                "expected a list of network names or a mapping of name → {{aliases, ipv4_address}}, found {}",
                node.type_name()
            ),
        )),
    }
}

/// One membership's settings.
fn membership(
    ctx: &mut Ctx,
    network: &Network,
    value: Option<&Node>,
    path: &str,
    service_level: bool,
) -> Result<NetworkRef, ConfigError> {
    let mut out = NetworkRef {
        network: network.name.clone(),
        aliases: Vec::new(),
        ipv4_address: None,
    };
    let Some(value) = value else {
        return Ok(out);
    };
    let entries = ctx.map(value, path)?;
    ctx.check_keys(entries, network_ref::ALL, path, "network membership")?;
    out.aliases = ctx.string_list(
        get_set(entries, network_ref::ALIASES),
        &join(path, network_ref::ALIASES),
    )?;
    if let Some(n) = get_set(entries, network_ref::IPV4_ADDRESS) {
        let apath = join(path, network_ref::IPV4_ADDRESS);
        if service_level {
            return Err(ctx.err(
                Some(n),
                &apath,
                "an ipv4_address belongs to one container: give it in the instance's networks",
            ));
        }
        let text = ctx.string(n, &apath)?;
        let Ok(ip) = text.parse::<Ipv4Addr>() else {
            return Err(ctx.err(
                Some(n),
                &apath,
                format!("invalid ipv4_address {text:?}; expected an IPv4 address"),
            ));
        };
        match &network.subnet {
            Some(subnet) if cidr_contains(subnet, IpAddr::V4(ip)) => {}
            Some(subnet) => {
                return Err(ctx.err(
                    Some(n),
                    &apath,
                    format!(
                        "ipv4_address {ip} is not in network {}'s subnet {subnet}",
                        network.name
                    ),
                ));
            }
            None => {
                return Err(ctx.err(
                    Some(n),
                    &apath,
                    format!(
                        "a fixed ipv4_address needs a subnet on network {} (networks.{}.ipam.subnet)",
                        network.name, network.name
                    ),
                ));
            }
        }
        out.ipv4_address = Some(text);
    }
    Ok(out)
}

/// Two instances of one ship may not ask for the same fixed address on the
/// same network (Docker would refuse the second at create).
pub(super) fn check_fixed_addresses(
    ctx: &Ctx,
    environment: &Environment,
) -> Result<(), ConfigError> {
    let mut seen: Vec<(&str, &str, &str, &str)> = Vec::new();
    for inst in &environment.instances {
        for m in &inst.networks {
            let Some(ip) = m.ipv4_address.as_deref() else {
                continue;
            };
            if let Some((_, _, _, other)) = seen
                .iter()
                .find(|(ship, net, addr, _)| *ship == inst.ship && *net == m.network && *addr == ip)
            {
                return Err(ctx.err_at(
                    None,
                    &format!(
                        "services.{}.instances.{}.networks.{}",
                        inst.service, inst.name, m.network
                    ),
                    format!(
                        "ipv4_address {ip} on network {} is also given to {other} on ship {}",
                        m.network, inst.ship
                    ),
                ));
            }
            seen.push((&inst.ship, &m.network, ip, &inst.name));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_as_docker_accepts_them() {
        for ok in ["ab", "app-net", "a.b_c-1", "0x"] {
            assert!(valid_name(ok), "{ok}");
        }
        for bad in ["", "a", "./data", "data/x", "-ab", "_ab", "a b", "~/x"] {
            assert!(!valid_name(bad), "{bad}");
        }
    }

    #[test]
    fn cidrs_and_their_addresses() {
        assert!(parse_cidr("10.20.0.0/24").is_ok());
        assert!(parse_cidr("fd00:1::/64").is_ok());
        assert!(parse_cidr("0.0.0.0/0").is_ok());
        assert_eq!(
            parse_cidr("10.20.0.1/24").unwrap_err(),
            "host bits are set; the network address is 10.20.0.0/24"
        );
        assert!(parse_cidr("10.20.0.0").unwrap_err().contains("prefix"));
        assert!(parse_cidr("10.20.0.0/33").unwrap_err().contains("0 to 32"));
        assert!(
            parse_cidr("10.300.0.0/16")
                .unwrap_err()
                .contains("not an IP")
        );
        assert!(cidr_contains("10.20.0.0/24", "10.20.0.9".parse().unwrap()));
        assert!(!cidr_contains("10.20.0.0/24", "10.20.1.9".parse().unwrap()));
        assert!(!cidr_contains("fd00::/8", "10.20.1.9".parse().unwrap()));
    }
}
