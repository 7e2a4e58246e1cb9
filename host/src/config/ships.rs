//! Ships (`ships`, merged over `ship_defaults`) and registries
//! (`registries`): where the containers run and whence their images come.

use std::path::PathBuf;

use super::error::ConfigError;
use super::keys::{registry, retry, ship as key, ssh_tunnel as tunnel_key, top};
use super::model::{ApiVersion, Registry, RetryPolicy, Ship, SshTunnel, Tls};
use super::read::{Ctx, Entries, get, get_set, join};
use super::yaml::{Node, PyScalar, Value, node_str};

/// `ssh_tunnel.strict_host_key_checking`'s words, as OpenSSH takes them; the
/// schema lists the same table.
pub(super) const STRICT_HOST_KEY_CHECKING: &[&str] = &["yes", "no", "accept-new"];

pub(super) fn build_registries(
    ctx: &mut Ctx,
    node: Option<&Node>,
) -> Result<Vec<Registry>, ConfigError> {
    let Some(node) = node else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for (key, value) in ctx.map(node, top::REGISTRIES)? {
        let name = node_str(key);
        let path = join(top::REGISTRIES, &name);
        let entries = ctx.map(value, &path)?;
        ctx.check_keys(entries, registry::ALL, &path, "registry")?;
        let registry = match get_set(entries, registry::REGISTRY) {
            Some(n) => ctx.string(n, &join(&path, registry::REGISTRY))?,
            None => {
                return Err(ctx.err(
                    Some(value),
                    &join(&path, registry::REGISTRY),
                    "the registry URL is missing",
                ));
            }
        };
        let mut retry = RetryPolicy::default();
        if let Some(r) = get_set(entries, registry::RETRY) {
            let rpath = join(&path, registry::RETRY);
            let re = ctx.map(r, &rpath)?;
            ctx.check_keys(re, retry::ALL, &rpath, "retry")?;
            if let Some(a) = get_set(re, retry::ATTEMPTS) {
                retry.attempts =
                    u32::try_from(ctx.uint(a, &join(&rpath, retry::ATTEMPTS))?).unwrap_or(u32::MAX);
            }
            if let Some(w) = get_set(re, retry::WHEN) {
                let wpath = join(&rpath, retry::WHEN);
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
            username: ctx.opt_string(
                get(entries, registry::USERNAME),
                &join(&path, registry::USERNAME),
            )?,
            password: ctx.opt_string(
                get(entries, registry::PASSWORD),
                &join(&path, registry::PASSWORD),
            )?,
            email: ctx.opt_string(get(entries, registry::EMAIL), &join(&path, registry::EMAIL))?,
            retry,
        });
    }
    Ok(out)
}

/// Builds `ships`, each merged over `ship_defaults`.
pub(super) fn build_ships(
    ctx: &mut Ctx,
    root: &Node,
    node: Option<&Node>,
    defaults: Option<&Node>,
) -> Result<Vec<Ship>, ConfigError> {
    let defaults: &Entries = match defaults {
        Some(d) => ctx.map(d, top::SHIP_DEFAULTS)?,
        None => &[],
    };
    let default_keys: Vec<&str> = key::ALL
        .iter()
        .copied()
        .filter(|k| !matches!(*k, key::IP | key::ENDPOINT))
        .collect();
    ctx.check_keys(
        defaults,
        &default_keys,
        top::SHIP_DEFAULTS,
        top::SHIP_DEFAULTS,
    )?;
    let Some(node) = node else {
        return Err(ctx.err(Some(root), top::SHIPS, "the ships section is missing"));
    };
    let mut out = Vec::new();
    for (k, value) in ctx.map(node, top::SHIPS)? {
        let name = node_str(k);
        let path = join(top::SHIPS, &name);
        let entries = ctx.map(value, &path)?;
        ctx.check_keys(entries, key::ALL, &path, "ship")?;
        let node = ShipNode {
            name,
            node: value,
            entries,
            defaults,
            path,
        };
        out.push(ship(ctx, node)?);
    }
    Ok(out)
}

/// One ship's mapping, with the defaults under it.
struct ShipNode<'a> {
    name: String,
    node: &'a Node,
    entries: &'a Entries,
    defaults: &'a Entries,
    path: String,
}

impl<'a> ShipNode<'a> {
    /// A key on the ship wins, even an explicit null; else the default.
    fn pick(&self, k: &str) -> Option<(&'a Node, String)> {
        match get(self.entries, k) {
            Some(n) => Some((n, join(&self.path, k))),
            None => get(self.defaults, k).map(|n| (n, join(top::SHIP_DEFAULTS, k))),
        }
    }

    /// [`Self::pick`], null counting as absent.
    fn set(&self, k: &str) -> Option<(&'a Node, String)> {
        self.pick(k).filter(|(n, _)| !n.is_null())
    }

    /// A path-valued key.
    fn path_of(&self, ctx: &Ctx, k: &str) -> Result<Option<PathBuf>, ConfigError> {
        match self.set(k) {
            Some((n, p)) => Ok(Some(PathBuf::from(ctx.string(n, &p)?))),
            None => Ok(None),
        }
    }
}

fn ship(ctx: &mut Ctx, s: ShipNode) -> Result<Ship, ConfigError> {
    let ip = match get_set(s.entries, key::IP) {
        Some(n) => ctx.string(n, &join(&s.path, key::IP))?,
        None => {
            return Err(ctx.err(
                Some(s.node),
                &join(&s.path, key::IP),
                "the ship's ip is missing",
            ));
        }
    };
    let endpoint = ctx
        .opt_string(get(s.entries, key::ENDPOINT), &join(&s.path, key::ENDPOINT))?
        .unwrap_or_else(|| ip.clone());
    let tls_on = match s.set(key::TLS) {
        Some((n, p)) => ctx.flag(Some(n), &p),
        None => false,
    };
    let verify = match s.set(key::TLS_VERIFY) {
        Some((n, p)) => ctx.flag(Some(n), &p),
        None => false,
    };
    let docker_port = docker_port(ctx, &s, tls_on, verify)?;
    let ssh_tunnel = match s.set(key::SSH_TUNNEL) {
        Some((n, p)) => Some(ssh_tunnel(ctx, &s.name, n, &p)?),
        None => None,
    };
    let socket_path = socket_path(ctx, &s, ssh_tunnel.is_some())?;
    let api_version = api_version(ctx, &s)?;
    // MaestroNG: `timeout or 5`, so 0 means the default too.
    let timeout_secs = match s.set(key::TIMEOUT) {
        Some((n, p)) => Some(ctx.number(n, &p)?).filter(|t| *t > 0.0).unwrap_or(5.0),
        None => 5.0,
    };
    let tls = if tls_on || verify {
        Some(Tls {
            client_auth: tls_on,
            verify,
            ca_cert: s.path_of(ctx, key::TLS_CA_CERT)?,
            cert: s.path_of(ctx, key::TLS_CERT)?,
            key: s.path_of(ctx, key::TLS_KEY)?,
            ssl_version: match s.set(key::SSL_VERSION) {
                Some((n, p)) => Some(ctx.string(n, &p)?),
                None => None,
            },
        })
    } else {
        None
    };
    Ok(Ship {
        name: s.name,
        ip,
        endpoint,
        docker_port,
        socket_path,
        ssh_tunnel,
        api_version,
        timeout_secs,
        tls,
    })
}

/// `docker_port`: 2376 with tls, else 2375.
fn docker_port(
    ctx: &mut Ctx,
    s: &ShipNode,
    tls_on: bool,
    verify: bool,
) -> Result<u16, ConfigError> {
    Ok(match s.set(key::DOCKER_PORT) {
        Some((n, p)) => {
            let v = ctx.int(n, &p)?;
            u16::try_from(v)
                .ok()
                .filter(|v| *v > 0)
                .ok_or_else(|| ctx.err(Some(n), &p, format!("invalid port {v}")))?
        }
        None if tls_on => 2376,
        None if verify => {
            if let Some((n, p)) = s.set(key::TLS_VERIFY) {
                ctx.warn(
                    n,
                    &p,
                    "tls_verify without tls: the default docker_port stays 2375 (as in MaestroNG); set docker_port (usually 2376)",
                );
            }
            2375
        }
        None => 2375,
    })
}

/// `ssh_tunnel`: the SSH user, key and port, and maestro's host-key keys.
fn ssh_tunnel(ctx: &mut Ctx, name: &str, n: &Node, p: &str) -> Result<SshTunnel, ConfigError> {
    let te = ctx.map(n, p)?;
    ctx.check_keys(te, tunnel_key::ALL, p, "ssh_tunnel")?;
    let user = match get_set(te, tunnel_key::USER) {
        Some(u) => ctx.string(u, &join(p, tunnel_key::USER))?,
        None => {
            return Err(ctx.err(
                Some(n),
                p,
                format!("missing SSH user for ship {name} tunnel configuration"),
            ));
        }
    };
    let key = match get_set(te, tunnel_key::KEY) {
        Some(k) => PathBuf::from(ctx.string(k, &join(p, tunnel_key::KEY))?),
        None => {
            return Err(ctx.err(
                Some(n),
                p,
                format!("missing SSH key for ship {name} tunnel configuration"),
            ));
        }
    };
    let port = match get_set(te, tunnel_key::PORT) {
        Some(pn) => {
            let v = ctx.int(pn, &join(p, tunnel_key::PORT))?;
            u16::try_from(v).map_err(|_| {
                ctx.err(
                    Some(pn),
                    &join(p, tunnel_key::PORT),
                    format!("invalid port {v}"),
                )
            })?
        }
        None => 22,
    };
    // maestro's own keys: where the host key is checked, and how strictly.
    let known_hosts = match get_set(te, tunnel_key::KNOWN_HOSTS) {
        Some(k) => Some(PathBuf::from(
            ctx.string(k, &join(p, tunnel_key::KNOWN_HOSTS))?,
        )),
        None => None,
    };
    let strict_host_key_checking = match get_set(te, tunnel_key::STRICT_HOST_KEY_CHECKING) {
        Some(k) => {
            let kp = join(p, tunnel_key::STRICT_HOST_KEY_CHECKING);
            // YAML 1.1 reads a bare yes/no as a boolean.
            let v = match k.scalar().map(|s| s.raw.as_str()) {
                Some(raw) if STRICT_HOST_KEY_CHECKING.contains(&raw) => raw.to_owned(),
                Some("true") => "yes".to_owned(),
                Some("false") => "no".to_owned(),
                _ => {
                    return Err(ctx.err(Some(k), &kp, "expected accept-new, yes or no"));
                }
            };
            Some(v)
        }
        None => None,
    };
    Ok(SshTunnel {
        user,
        key,
        port,
        known_hosts,
        strict_host_key_checking,
    })
}

/// `socket_path`. With a tunnel the socket is the daemon's socket on the ship, so it is
/// kept as written (and must be absolute); without one it is a local path, made absolute
/// against the working directory as MaestroNG's `realpath` does.
fn socket_path(ctx: &Ctx, s: &ShipNode, tunnel: bool) -> Result<Option<PathBuf>, ConfigError> {
    Ok(match s.set(key::SOCKET_PATH) {
        Some((n, p)) => {
            let raw = PathBuf::from(ctx.string(n, &p)?);
            Some(if raw.is_absolute() {
                raw
            } else if tunnel {
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
    })
}

/// `api_version`: `auto` or a version, kept as written.
fn api_version(ctx: &mut Ctx, s: &ShipNode) -> Result<ApiVersion, ConfigError> {
    Ok(match s.set(key::API_VERSION) {
        None => ApiVersion::Default,
        Some((n, p)) => {
            let sc = n
                .scalar()
                .ok_or_else(|| ctx.err(Some(n), &p, "expected a version such as \"1.41\""))?;
            if sc.raw == "auto" {
                ApiVersion::Auto
            } else {
                if matches!(sc.value, PyScalar::Float(_)) && sc.value.py_str() != sc.raw {
                    ctx.warn(n, &p, format!("api_version {} is a YAML float (MaestroNG reads it as \"{}\"); maestro uses \"{}\" as written; quote it", sc.raw, sc.value.py_str(), sc.raw));
                }
                ApiVersion::Fixed(sc.raw.clone())
            }
        }
    })
}
