//! From a configured ship to a live connection to its daemon: the transport
//! (unix socket, TCP, TLS, or any of these through an SSH tunnel), the TLS files
//! (relative to the YAML file), the name the server certificate must carry, and the
//! API version.
//!
//! Decisions, in MaestroNG's order (`ssh_tunnel`, then `socket_path`, then TCP):
//! - `ssh_tunnel`: an SSH tunnel to the ship's `endpoint` forwarding a local port to
//!   the ship's `socket_path` if given (a path *on the ship*), else to
//!   `127.0.0.1:<docker_port>`; the daemon is then spoken to through the local port,
//!   in TLS when the ship has TLS settings ([`crate::tunnel`]).
//! - `socket_path`: the local unix socket.
//! - `tls` or `tls_verify`: HTTPS to `endpoint:docker_port`. With verification the
//!   certificate must name the `endpoint` (MaestroNG 0.8.3: "give the IP as `ip`, and
//!   the name in the server certificate as `endpoint`"). When that name does not
//!   resolve (it often only exists in the certificate), the ship's `ip` is dialled
//!   instead and the certificate is still checked for the `endpoint` name.
//! - otherwise plain HTTP to `endpoint:docker_port`.
//!
//! `api_version`: unset or `auto` negotiate (the newest version both sides speak);
//! a number pins it, and a daemon that does not accept it is an error naming both.
//! (MaestroNG pinned 1.18 when unset, which current daemons no longer accept.)

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::config::model::{self, Environment};
use crate::docker::{DockerError, Ship};
use crate::spec::{ApiVersion, ShipEndpoint, ShipTransport, TlsSettings};
use crate::tunnel::{HostKeyChecking, Tunnel, TunnelError, TunnelRemote, TunnelSpec};

/// How one ship is reached, decided from its configuration (no I/O).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// The endpoint as configured. For a tunnel its host and port are placeholders that
    /// [`connect`] replaces with the tunnel's local end.
    pub endpoint: ShipEndpoint,
    /// The tunnel to open first, if any.
    pub tunnel: Option<TunnelSpec>,
    /// A TLS ship whose `endpoint` name may not resolve: dial this address (the ship's
    /// `ip`) if it does not. `None` when there is nothing to fall back to.
    pub fallback_host: Option<String>,
}

impl Route {
    /// `unix`, `tcp`, `tls` or `ssh`.
    pub fn kind(&self) -> &'static str {
        if self.tunnel.is_some() {
            return "ssh";
        }
        match self.endpoint.transport {
            ShipTransport::Unix { .. } => "unix",
            ShipTransport::Tcp { .. } => "tcp",
            ShipTransport::Tls { .. } => "tls",
        }
    }

    /// Where the daemon is, as a URL-like string: `unix:///p`, `tcp://h:p`,
    /// `https://h:p`, `ssh://user@h:p -> remote` (+ ` (tls)` through a tunnel).
    pub fn describe(&self) -> String {
        if let Some(t) = &self.tunnel {
            let tls = matches!(self.endpoint.transport, ShipTransport::Tls { .. });
            return format!("{}{}", t.describe(), if tls { " (tls)" } else { "" });
        }
        match &self.endpoint.transport {
            ShipTransport::Unix { path } => format!("unix://{}", path.display()),
            ShipTransport::Tcp { host, port } => format!("tcp://{}", host_port(host, *port)),
            ShipTransport::Tls { host, port, tls } => describe_tls(host, *port, tls),
        }
    }
}

/// `https://host:port`, plus the name the certificate must carry when it is not the
/// host dialled.
fn describe_tls(host: &str, port: u16, tls: &TlsSettings) -> String {
    let url = format!("https://{}", host_port(host, port));
    match &tls.server_name {
        Some(name) if tls.verify && name != host => format!("{url} (certificate name {name})"),
        _ => url,
    }
}

fn host_port(host: &str, port: u16) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// A relative path from the YAML file is taken relative to the YAML file's directory.
fn resolve(base_dir: &Path, path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_owned()
    } else {
        base_dir.join(path)
    }
}

/// The ship's TLS settings with paths resolved against `base_dir`.
pub fn tls_settings(ship: &model::Ship, base_dir: &Path) -> Option<TlsSettings> {
    let tls = ship.tls.as_ref()?;
    Some(TlsSettings {
        ca_cert: tls.ca_cert.as_deref().map(|p| resolve(base_dir, p)),
        client_cert: tls.cert.as_deref().map(|p| resolve(base_dir, p)),
        client_key: tls.key.as_deref().map(|p| resolve(base_dir, p)),
        verify: tls.verify,
        // The certificate must name the endpoint, whichever address is dialled.
        server_name: Some(ship.endpoint.clone()),
    })
}

/// Decides how `ship` is reached (no I/O).
pub fn route(ship: &model::Ship, base_dir: &Path) -> Route {
    let api_version = match &ship.api_version {
        model::ApiVersion::Default | model::ApiVersion::Auto => ApiVersion::Auto,
        model::ApiVersion::Fixed(v) => ApiVersion::Pinned(v.clone()),
    };
    let timeout = if ship.timeout_secs.is_finite() && ship.timeout_secs > 0.0 {
        Duration::from_secs_f64(ship.timeout_secs.min(86_400.0))
    } else {
        crate::spec::DEFAULT_SHIP_TIMEOUT
    };
    let tls = tls_settings(ship, base_dir);
    let endpoint = |transport| ShipEndpoint {
        ship: ship.name.clone(),
        transport,
        api_version: api_version.clone(),
        timeout,
    };
    if let Some(t) = &ship.ssh_tunnel {
        let remote = match &ship.socket_path {
            Some(path) => TunnelRemote::Unix(path.clone()),
            None => TunnelRemote::Tcp {
                host: "127.0.0.1".into(),
                port: ship.docker_port,
            },
        };
        let spec = TunnelSpec {
            ship: ship.name.clone(),
            ssh_host: ship.endpoint.clone(),
            ssh_port: t.port,
            user: t.user.clone(),
            key: resolve(base_dir, &t.key),
            remote,
            timeout,
            host_key_checking: t
                .strict_host_key_checking
                .as_deref()
                .and_then(HostKeyChecking::parse)
                .unwrap_or_default(),
            known_hosts: t.known_hosts.as_deref().map(|p| resolve(base_dir, p)),
            tls: tls.is_some(),
        };
        let (host, port) = ("127.0.0.1".to_owned(), 0);
        let transport = match tls {
            Some(tls) => ShipTransport::Tls { host, port, tls },
            None => ShipTransport::Tcp { host, port },
        };
        return Route {
            endpoint: endpoint(transport),
            tunnel: Some(spec),
            fallback_host: None,
        };
    }
    if let Some(path) = &ship.socket_path {
        return Route {
            endpoint: endpoint(ShipTransport::Unix { path: path.clone() }),
            tunnel: None,
            fallback_host: None,
        };
    }
    let host = ship.endpoint.clone();
    let port = ship.docker_port;
    match tls {
        Some(tls) => Route {
            fallback_host: (ship.ip != ship.endpoint).then(|| ship.ip.clone()),
            endpoint: endpoint(ShipTransport::Tls { host, port, tls }),
            tunnel: None,
        },
        None => Route {
            endpoint: endpoint(ShipTransport::Tcp { host, port }),
            tunnel: None,
            fallback_host: None,
        },
    }
}

/// A connected ship, with the tunnel it needs (kept open as long as this lives).
#[derive(Debug)]
pub struct Connected {
    /// The daemon.
    pub ship: Ship,
    /// Where it was reached, as [`Route::describe`] says, with the address actually
    /// dialled (the `ip` when a TLS `endpoint` name did not resolve).
    pub address: String,
    /// The SSH tunnel, for ships reached through one; dropping it closes it.
    pub tunnel: Option<Tunnel>,
}

/// Why a ship could not be connected.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The daemon (or the TLS handshake, or the API version) failed.
    #[error(transparent)]
    Docker(#[from] DockerError),
    /// The SSH tunnel could not be opened.
    #[error(transparent)]
    Tunnel(#[from] TunnelError),
}

/// Opens the route's tunnel if it has one, then connects to the daemon.
pub async fn connect(route: &Route) -> Result<Connected, ConnectError> {
    let mut endpoint = route.endpoint.clone();
    let tunnel = match &route.tunnel {
        Some(spec) => {
            let tunnel = Tunnel::open(spec).await?;
            match &mut endpoint.transport {
                ShipTransport::Tcp { port, .. } | ShipTransport::Tls { port, .. } => {
                    *port = tunnel.local_port();
                }
                ShipTransport::Unix { .. } => {}
            }
            Some(tunnel)
        }
        None => None,
    };
    if let (Some(ip), ShipTransport::Tls { host, port, .. }) =
        (&route.fallback_host, &mut endpoint.transport)
    {
        if !resolves(host, *port, endpoint.timeout).await {
            *host = ip.clone();
        }
    }
    let address = match (&route.tunnel, &endpoint.transport) {
        (None, ShipTransport::Tls { host, port, tls }) => describe_tls(host, *port, tls),
        _ => route.describe(),
    };
    let ship = Ship::connect(&endpoint).await.map_err(explain)?;
    Ok(Connected {
        ship,
        address,
        tunnel,
    })
}

/// Adds what the user can do to the TLS failures whose wording is cryptic.
fn explain(err: DockerError) -> DockerError {
    let DockerError::Unreachable {
        ship,
        endpoint,
        reason,
    } = err
    else {
        return err;
    };
    let hint = if reason.contains("UnknownIssuer") {
        Some(
            "the server certificate is not signed by the CA in tls_ca_cert (or, without tls_ca_cert, by a CA of the system)",
        )
    } else if reason.contains("NotValidForName") {
        Some(
            "the server certificate does not name the ship's endpoint; set endpoint to the name in the certificate (and ip to the address)",
        )
    } else if reason.contains("Expired") {
        Some("the server certificate has expired")
    } else if reason.contains("BadCertificate")
        || reason.contains("CertificateRequired")
        || reason.contains("UnknownCA")
    {
        Some(
            "the daemon refused the client certificate: give tls: true with a tls_cert and tls_key signed by a CA the daemon trusts",
        )
    } else if reason.contains("InvalidContentType") || reason.contains("CorruptMessage") {
        Some("the daemon does not speak TLS on this port")
    } else {
        None
    };
    DockerError::Unreachable {
        ship,
        endpoint,
        reason: match hint {
            Some(h) => format!("{reason} ({h})"),
            None => reason,
        },
    }
}

/// Connects to `ship` of `env`.
pub async fn connect_ship(
    env: &Environment,
    ship: &model::Ship,
) -> Result<Connected, ConnectError> {
    connect(&route(ship, &env.base_dir)).await
}

/// Whether `host` is an address or a name the resolver knows (within `timeout`).
async fn resolves(host: &str, port: u16, timeout: Duration) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if bare.parse::<std::net::IpAddr>().is_ok() {
        return true;
    }
    match tokio::time::timeout(timeout, tokio::net::lookup_host((bare, port))).await {
        Ok(Ok(mut addrs)) => addrs.next().is_some(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::model::{SshTunnel, Tls};

    fn ship() -> model::Ship {
        model::Ship {
            name: "s".into(),
            ip: "10.0.0.3".into(),
            endpoint: "10.0.0.3".into(),
            docker_port: 2375,
            socket_path: None,
            ssh_tunnel: None,
            api_version: model::ApiVersion::Default,
            timeout_secs: 5.0,
            tls: None,
        }
    }

    #[test]
    fn plain_tcp_negotiates_the_version() {
        let r = route(&ship(), Path::new("/env"));
        assert_eq!(r.kind(), "tcp");
        assert_eq!(r.describe(), "tcp://10.0.0.3:2375");
        assert_eq!(r.endpoint.api_version, ApiVersion::Auto);
        assert_eq!(r.endpoint.timeout, Duration::from_secs(5));
    }

    #[test]
    fn tls_paths_are_relative_to_the_yaml_file_and_the_endpoint_is_the_name() {
        let mut s = ship();
        s.endpoint = "docker1".into();
        s.docker_port = 2376;
        s.api_version = model::ApiVersion::Fixed("1.41".into());
        s.tls = Some(Tls {
            client_auth: true,
            verify: true,
            ca_cert: Some("certs/ca.pem".into()),
            cert: Some("/abs/cert.pem".into()),
            key: Some("key.pem".into()),
            ssl_version: None,
        });
        let r = route(&s, Path::new("/env"));
        assert_eq!(r.kind(), "tls");
        assert_eq!(r.describe(), "https://docker1:2376");
        assert_eq!(r.fallback_host.as_deref(), Some("10.0.0.3"));
        assert_eq!(r.endpoint.api_version, ApiVersion::Pinned("1.41".into()));
        let ShipTransport::Tls { tls, .. } = &r.endpoint.transport else {
            panic!("{r:?}");
        };
        assert_eq!(tls.ca_cert.as_deref(), Some(Path::new("/env/certs/ca.pem")));
        assert_eq!(tls.client_cert.as_deref(), Some(Path::new("/abs/cert.pem")));
        assert_eq!(tls.client_key.as_deref(), Some(Path::new("/env/key.pem")));
        assert!(tls.verify);
        assert_eq!(tls.server_name.as_deref(), Some("docker1"));
    }

    #[test]
    fn a_tunnel_wins_and_forwards_the_socket_or_the_port() {
        let mut s = ship();
        s.endpoint = "gw.example".into();
        s.socket_path = Some("/var/run/docker.sock".into());
        s.ssh_tunnel = Some(SshTunnel {
            user: "ops".into(),
            key: "keys/id".into(),
            port: 2222,
            known_hosts: Some("kh".into()),
            strict_host_key_checking: Some("yes".into()),
        });
        let r = route(&s, Path::new("/env"));
        assert_eq!(r.kind(), "ssh");
        assert_eq!(
            r.describe(),
            "ssh://ops@gw.example:2222 -> /var/run/docker.sock"
        );
        let t = r.tunnel.as_ref().unwrap();
        assert_eq!(t.key, Path::new("/env/keys/id"));
        assert_eq!(t.known_hosts.as_deref(), Some(Path::new("/env/kh")));
        assert_eq!(t.host_key_checking, HostKeyChecking::Yes);
        assert!(matches!(r.endpoint.transport, ShipTransport::Tcp { .. }));

        s.socket_path = None;
        s.docker_port = 2376;
        s.tls = Some(Tls {
            client_auth: false,
            verify: true,
            ca_cert: None,
            cert: None,
            key: None,
            ssl_version: None,
        });
        let r = route(&s, Path::new("/env"));
        assert_eq!(
            r.describe(),
            "ssh://ops@gw.example:2222 -> 127.0.0.1:2376 (tls)"
        );
    }

    #[test]
    fn a_socket_path_is_a_unix_socket() {
        let mut s = ship();
        s.socket_path = Some("/run/d.sock".into());
        let r = route(&s, Path::new("/env"));
        assert_eq!(r.kind(), "unix");
        assert_eq!(r.describe(), "unix:///run/d.sock");
    }
}
