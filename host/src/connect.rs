//! From the configuration's ships to connected daemons.
//!
//! [`endpoint`] turns a config [`Ship`](crate::config::model::Ship) into the plain
//! [`ShipEndpoint`] the Docker layer dials (pure), and [`connect_all`] connects every
//! ship a command needs, in parallel, keeping each ship's failure apart: one unreachable
//! ship must not stop the others, its containers are reported failed instead.
//!
//! SSH tunnels: [`open_tunnel`] starts the ship's tunnel ([`crate::tunnel`]) and dials
//! its local end; the tunnel is kept as a guard for as long as the [`Ships`] live (one
//! tunnel per ship, shared by the whole play), and closed when they are dropped.
//!
//! TLS: with verification the server certificate must name the ship's `endpoint`
//! (MaestroNG 0.8.3: "give the IP as `ip`, and the name in the server certificate as
//! `endpoint`"). That name often exists only in the certificate: when it does not
//! resolve, the ship's `ip` is dialled instead, and the certificate is still checked
//! for the `endpoint` name. Through a tunnel the local end is dialled and the
//! certificate is likewise checked for the `endpoint` name.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::config::model::{self, Environment};
use crate::docker::{DockerError, Ship};
use crate::spec::{ApiVersion, ShipEndpoint, ShipTransport, TlsSettings};
use crate::tunnel::{Tunnel, TunnelError, TunnelSpec};

/// Why a ship cannot be used.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ConnectError {
    /// The configuration names a ship that does not exist.
    #[error("ship {0}: not defined in the environment description")]
    UnknownShip(String),
    /// The ship is reached through an SSH tunnel: [`endpoint`] cannot describe it
    /// alone, [`open_tunnel`] must run first.
    #[error("ship {ship}: reached through an SSH tunnel, which must be opened first")]
    NeedsTunnel {
        /// Ship name.
        ship: String,
    },
    /// Opening the SSH tunnel failed.
    #[error(transparent)]
    Tunnel(#[from] TunnelError),
    /// The daemon could not be reached or refused the connection settings.
    #[error("{0}")]
    Docker(Arc<DockerError>),
}

impl From<DockerError> for ConnectError {
    fn from(e: DockerError) -> Self {
        ConnectError::Docker(Arc::new(e))
    }
}

/// Something that keeps a ship's transport alive (an SSH tunnel process) for as long
/// as it is held.
pub type TransportGuard = Box<dyn std::any::Any + Send + Sync>;

/// The ships of one command: each connected daemon, or why it could not be reached.
#[derive(Default)]
pub struct Ships {
    ships: BTreeMap<String, Result<Ship, ConnectError>>,
    /// Tunnels and the like, closed when the ships are dropped.
    _guards: Vec<TransportGuard>,
}

impl std::fmt::Debug for Ships {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map()
            .entries(
                self.ships
                    .iter()
                    .map(|(k, v)| (k, v.as_ref().map(Ship::endpoint))),
            )
            .finish()
    }
}

impl Ships {
    /// The connected daemon of ship `name`, or why it is not available.
    pub fn get(&self, name: &str) -> Result<&Ship, ConnectError> {
        match self.ships.get(name) {
            Some(Ok(ship)) => Ok(ship),
            Some(Err(e)) => Err(e.clone()),
            None => Err(ConnectError::UnknownShip(name.to_owned())),
        }
    }

    /// Every ship asked for, with its outcome, by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, Result<&Ship, &ConnectError>)> {
        self.ships.iter().map(|(k, v)| (k.as_str(), v.as_ref()))
    }

    /// The ships that could not be connected, with their errors.
    pub fn failures(&self) -> impl Iterator<Item = (&str, &ConnectError)> {
        self.ships
            .iter()
            .filter_map(|(k, v)| v.as_ref().err().map(|e| (k.as_str(), e)))
    }

    /// Builds a set from already-made outcomes (tests, or callers that connect otherwise).
    pub fn from_results(
        results: impl IntoIterator<Item = (String, Result<Ship, ConnectError>)>,
    ) -> Ships {
        Ships {
            ships: results.into_iter().collect(),
            _guards: Vec::new(),
        }
    }
}

/// Margin added to the largest `stop_timeout` of a ship's containers, so the HTTP
/// timeout of that ship outlasts the slowest stop.
const STOP_MARGIN: Duration = Duration::from_secs(5);

/// The endpoint of `ship` (not for tunnelled ships: see [`open_tunnel`]).
///
/// - `socket_path` → unix socket; else `endpoint`:`docker_port` over TCP, or TLS when
///   `tls`/`tls_verify` is set (`tls_verify` alone: HTTPS without client certificate);
///   certificate paths are relative to `base_dir` (the YAML file's directory).
/// - `api_version`: `auto` and unset negotiate (MaestroNG pinned 1.18 when unset, which
///   newer daemons refuse or serve with old semantics); a written version is pinned.
/// - timeout: the ship's `timeout`, raised to the largest `stop_timeout` of its
///   containers plus a margin (`max_stop_timeout`), so a slow stop is not cut off.
pub fn endpoint(
    ship: &model::Ship,
    base_dir: &Path,
    max_stop_timeout: Duration,
) -> Result<ShipEndpoint, ConnectError> {
    let transport = if ship.ssh_tunnel.is_some() {
        return Err(ConnectError::NeedsTunnel {
            ship: ship.name.clone(),
        });
    } else if let Some(path) = &ship.socket_path {
        ShipTransport::Unix { path: path.clone() }
    } else {
        transport_tcp(ship, &ship.endpoint, ship.docker_port, base_dir)
    };
    Ok(ShipEndpoint {
        ship: ship.name.clone(),
        transport,
        api_version: api_version(&ship.api_version),
        timeout: timeout(ship, max_stop_timeout),
    })
}

/// The TCP (or TLS) transport to `host:port` with `ship`'s TLS settings; also what a
/// tunnel hook uses for its local end.
pub fn transport_tcp(ship: &model::Ship, host: &str, port: u16, base_dir: &Path) -> ShipTransport {
    match &ship.tls {
        None => ShipTransport::Tcp {
            host: host.to_owned(),
            port,
        },
        Some(tls) => {
            let resolve = |p: &Option<PathBuf>| p.as_ref().map(|p| base_dir.join(p));
            let client = tls.client_auth;
            ShipTransport::Tls {
                host: host.to_owned(),
                port,
                tls: TlsSettings {
                    ca_cert: resolve(&tls.ca_cert),
                    client_cert: if client { resolve(&tls.cert) } else { None },
                    client_key: if client { resolve(&tls.key) } else { None },
                    verify: tls.verify,
                    // Whichever address is dialled (the endpoint, its ip, a tunnel's
                    // local end), the certificate must name the endpoint.
                    server_name: Some(ship.endpoint.clone()),
                },
            }
        }
    }
}

fn api_version(v: &model::ApiVersion) -> ApiVersion {
    match v {
        model::ApiVersion::Default | model::ApiVersion::Auto => ApiVersion::Auto,
        model::ApiVersion::Fixed(v) => ApiVersion::Pinned(v.clone()),
    }
}

fn timeout(ship: &model::Ship, max_stop_timeout: Duration) -> Duration {
    let configured =
        Duration::try_from_secs_f64(ship.timeout_secs).unwrap_or(crate::spec::DEFAULT_SHIP_TIMEOUT);
    let floor = if max_stop_timeout.is_zero() {
        Duration::ZERO
    } else {
        max_stop_timeout + STOP_MARGIN
    };
    configured.max(floor)
}

/// The largest `stop_timeout` among the containers of `env` placed on `ship`.
pub fn max_stop_timeout(env: &Environment, ship: &str) -> Duration {
    Duration::from_secs(
        env.instances
            .iter()
            .filter(|i| i.ship == ship)
            .map(|i| i.stop_timeout)
            .max()
            .unwrap_or(0),
    )
}

/// Opens the SSH tunnel of `ship` (it must have `ssh_tunnel`) and returns the
/// transport to its local end, plus the tunnel as a guard: the tunnel stays open while
/// the guard lives. Fails within the ship's timeout, with ssh's reason.
pub async fn open_tunnel(
    ship: &model::Ship,
    base_dir: &Path,
) -> Result<(ShipTransport, TransportGuard), ConnectError> {
    let spec = TunnelSpec::for_ship(ship, base_dir, timeout(ship, Duration::ZERO)).ok_or(
        ConnectError::NeedsTunnel {
            ship: ship.name.clone(),
        },
    )?;
    let tunnel = Tunnel::open(&spec).await?;
    let transport = transport_tcp(ship, "127.0.0.1", tunnel.local_port(), base_dir);
    Ok((transport, Box::new(tunnel)))
}

/// Connects one ship (opening its tunnel first when it has one). The guard, if any,
/// must be kept as long as the ship is used.
pub async fn connect_ship(
    env: &Environment,
    ship: &model::Ship,
) -> (Result<Ship, ConnectError>, Option<TransportGuard>) {
    let stop = max_stop_timeout(env, &ship.name);
    if ship.ssh_tunnel.is_some() {
        let (transport, guard) = match open_tunnel(ship, &env.base_dir).await {
            Ok(t) => t,
            Err(e) => return (Err(e), None),
        };
        let ep = ShipEndpoint {
            ship: ship.name.clone(),
            transport,
            api_version: api_version(&ship.api_version),
            timeout: timeout(ship, stop),
        };
        return (
            Ship::connect(&ep).await.map_err(|e| explain(e).into()),
            Some(guard),
        );
    }
    let mut ep = match endpoint(ship, &env.base_dir, stop) {
        Ok(ep) => ep,
        Err(e) => return (Err(e), None),
    };
    if let ShipTransport::Tls { host, port, .. } = &mut ep.transport {
        if ship.ip != *host && !resolves(host, *port, timeout(ship, Duration::ZERO)).await {
            *host = ship.ip.clone();
        }
    }
    (
        Ship::connect(&ep).await.map_err(|e| explain(e).into()),
        None,
    )
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
            "the server certificate does not name the ship's endpoint; set endpoint to the name in the certificate and ip to the address",
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

/// How `ship` is reached, for people: its kind (`unix`, `tcp`, `tls`, `ssh`) and a
/// URL-like address (`unix:///p`, `tcp://h:p`, `https://h:p`,
/// `ssh://user@h:p -> remote`, with ` (tls)` when TLS runs through the tunnel).
pub fn describe(ship: &model::Ship, base_dir: &Path) -> (&'static str, String) {
    if let Some(spec) = TunnelSpec::for_ship(ship, base_dir, timeout(ship, Duration::ZERO)) {
        let tls = if ship.tls.is_some() { " (tls)" } else { "" };
        return ("ssh", format!("{}{tls}", spec.describe()));
    }
    if let Some(path) = &ship.socket_path {
        return ("unix", format!("unix://{}", path.display()));
    }
    let host = if ship.endpoint.contains(':') && !ship.endpoint.starts_with('[') {
        format!("[{}]:{}", ship.endpoint, ship.docker_port)
    } else {
        format!("{}:{}", ship.endpoint, ship.docker_port)
    };
    match &ship.tls {
        Some(_) => ("tls", format!("https://{host}")),
        None => ("tcp", format!("tcp://{host}")),
    }
}

/// Connects every ship in `ship_names` in parallel. Never fails as a whole: each
/// ship's outcome is kept in the returned [`Ships`].
pub async fn connect_all<'a>(
    env: &Environment,
    ship_names: impl IntoIterator<Item = &'a str>,
) -> Ships {
    let mut names: Vec<&str> = ship_names.into_iter().collect();
    names.sort_unstable();
    names.dedup();
    let attempts = names.iter().map(|name| async move {
        let outcome = match env.ship(name) {
            Some(ship) => connect_ship(env, ship).await,
            None => (Err(ConnectError::UnknownShip((*name).to_owned())), None),
        };
        ((*name).to_owned(), outcome)
    });
    let mut ships = Ships::default();
    for (name, (result, guard)) in futures_util::future::join_all(attempts).await {
        ships.ships.insert(name, result);
        ships._guards.extend(guard);
    }
    ships
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::model::{SshTunnel, Tls};

    fn ship() -> model::Ship {
        model::Ship {
            name: "s1".into(),
            ip: "10.0.0.1".into(),
            endpoint: "docker.example".into(),
            docker_port: 2375,
            socket_path: None,
            ssh_tunnel: None,
            api_version: model::ApiVersion::Default,
            timeout_secs: 5.0,
            tls: None,
        }
    }

    #[test]
    fn socket_path_wins_over_tcp() {
        let mut s = ship();
        s.socket_path = Some("/var/run/docker.sock".into());
        let ep = endpoint(&s, Path::new("/cfg"), Duration::ZERO).unwrap();
        assert_eq!(
            ep.transport,
            ShipTransport::Unix {
                path: "/var/run/docker.sock".into()
            }
        );
        assert_eq!(ep.api_version, ApiVersion::Auto);
        assert_eq!(ep.timeout, Duration::from_secs(5));
    }

    #[test]
    fn tcp_dials_the_endpoint_not_the_ip() {
        let ep = endpoint(&ship(), Path::new(""), Duration::ZERO).unwrap();
        assert_eq!(
            ep.transport,
            ShipTransport::Tcp {
                host: "docker.example".into(),
                port: 2375
            }
        );
    }

    #[test]
    fn tls_paths_resolve_against_the_yaml_dir() {
        let mut s = ship();
        s.docker_port = 2376;
        s.api_version = model::ApiVersion::Fixed("1.41".into());
        s.tls = Some(Tls {
            client_auth: true,
            verify: true,
            ca_cert: Some("certs/ca.pem".into()),
            cert: Some("/abs/cert.pem".into()),
            key: Some("certs/key.pem".into()),
            ssl_version: None,
        });
        let ep = endpoint(&s, Path::new("/cfg"), Duration::ZERO).unwrap();
        let ShipTransport::Tls { host, port, tls } = ep.transport else {
            panic!("expected TLS");
        };
        assert_eq!((host.as_str(), port), ("docker.example", 2376));
        assert_eq!(tls.ca_cert, Some(PathBuf::from("/cfg/certs/ca.pem")));
        assert_eq!(tls.client_cert, Some(PathBuf::from("/abs/cert.pem")));
        assert_eq!(tls.client_key, Some(PathBuf::from("/cfg/certs/key.pem")));
        assert!(tls.verify);
        assert_eq!(ep.api_version, ApiVersion::Pinned("1.41".into()));
    }

    #[test]
    fn tls_verify_alone_sends_no_client_certificate() {
        let mut s = ship();
        s.tls = Some(Tls {
            client_auth: false,
            verify: true,
            ca_cert: None,
            cert: Some("c.pem".into()),
            key: Some("k.pem".into()),
            ssl_version: None,
        });
        let ep = endpoint(&s, Path::new("/cfg"), Duration::ZERO).unwrap();
        let ShipTransport::Tls { tls, .. } = ep.transport else {
            panic!("expected TLS");
        };
        assert_eq!((tls.client_cert, tls.client_key), (None, None));
    }

    #[test]
    fn timeout_outlasts_the_slowest_stop() {
        let s = ship();
        let ep = endpoint(&s, Path::new(""), Duration::from_secs(30)).unwrap();
        assert_eq!(ep.timeout, Duration::from_secs(35));
        let mut slow = ship();
        slow.timeout_secs = 60.0;
        let ep = endpoint(&slow, Path::new(""), Duration::from_secs(30)).unwrap();
        assert_eq!(ep.timeout, Duration::from_secs(60));
    }

    #[test]
    fn tunnelled_ships_need_their_tunnel_first() {
        let mut s = ship();
        s.ssh_tunnel = Some(SshTunnel {
            user: "root".into(),
            key: "id".into(),
            port: 22,
            known_hosts: None,
            strict_host_key_checking: None,
        });
        let err = endpoint(&s, Path::new(""), Duration::ZERO).unwrap_err();
        assert_eq!(
            err.to_string(),
            "ship s1: reached through an SSH tunnel, which must be opened first"
        );
        assert_eq!(
            describe(&s, Path::new("/cfg")),
            (
                "ssh",
                "ssh://root@docker.example:22 -> 127.0.0.1:2375".into()
            )
        );
        s.socket_path = Some("/var/run/docker.sock".into());
        s.tls = Some(tls_verify_only());
        assert_eq!(
            describe(&s, Path::new("/cfg")).1,
            "ssh://root@docker.example:22 -> /var/run/docker.sock (tls)"
        );
    }

    fn tls_verify_only() -> Tls {
        Tls {
            client_auth: false,
            verify: true,
            ca_cert: None,
            cert: None,
            key: None,
            ssl_version: None,
        }
    }

    #[test]
    fn descriptions_of_the_other_transports() {
        let mut s = ship();
        assert_eq!(
            describe(&s, Path::new("")),
            ("tcp", "tcp://docker.example:2375".into())
        );
        s.tls = Some(tls_verify_only());
        assert_eq!(
            describe(&s, Path::new("")),
            ("tls", "https://docker.example:2375".into())
        );
        s.socket_path = Some("/run/d.sock".into());
        assert_eq!(
            describe(&s, Path::new("")),
            ("unix", "unix:///run/d.sock".into())
        );
    }

    #[test]
    fn the_certificate_must_name_the_endpoint_whatever_is_dialled() {
        let mut s = ship();
        s.tls = Some(tls_verify_only());
        let ShipTransport::Tls { tls, .. } = transport_tcp(&s, "127.0.0.1", 4000, Path::new(""))
        else {
            panic!("expected TLS");
        };
        assert_eq!(tls.server_name.as_deref(), Some("docker.example"));
    }

    #[test]
    fn tls_failures_get_a_hint() {
        let e = explain(DockerError::Unreachable {
            ship: "s".into(),
            endpoint: "https://x:2376".into(),
            reason: "invalid peer certificate: UnknownIssuer".into(),
        });
        assert!(
            e.to_string()
                .contains("not signed by the CA in tls_ca_cert"),
            "{e}"
        );
    }

    #[tokio::test]
    async fn names_resolve_or_not() {
        assert!(resolves("10.0.0.1", 1, Duration::from_secs(1)).await);
        assert!(resolves("[::1]", 1, Duration::from_secs(1)).await);
        assert!(!resolves("no-such-host.invalid", 1, Duration::from_secs(2)).await);
    }
}
