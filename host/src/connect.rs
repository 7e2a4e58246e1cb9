//! From the configuration's ships to connected daemons.
//!
//! [`endpoint`] turns a config [`Ship`](crate::config::model::Ship) into the plain
//! [`ShipEndpoint`] the Docker layer dials (pure), and [`connect_all`] connects every
//! ship a command needs, in parallel, keeping each ship's failure apart: one unreachable
//! ship must not stop the others, its containers are reported failed instead.
//!
//! SSH tunnels are a hook: [`open_tunnel`] is where a ship with `ssh_tunnel` gets a
//! local endpoint (and a guard that keeps the tunnel open while the [`Ships`] live).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::config::model::{self, Environment};
use crate::docker::{DockerError, Ship};
use crate::spec::{ApiVersion, ShipEndpoint, ShipTransport, TlsSettings};

/// Why a ship cannot be used.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ConnectError {
    /// The configuration names a ship that does not exist.
    #[error("ship {0}: not defined in the environment description")]
    UnknownShip(String),
    /// The ship is reached through an SSH tunnel, which this build cannot open yet.
    #[error("ship {ship}: SSH tunnels (ssh_tunnel) are not supported yet")]
    TunnelUnsupported {
        /// Ship name.
        ship: String,
    },
    /// Opening the SSH tunnel failed.
    #[error("ship {ship}: cannot open the SSH tunnel: {reason}")]
    Tunnel {
        /// Ship name.
        ship: String,
        /// What went wrong.
        reason: String,
    },
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
        return Err(ConnectError::TunnelUnsupported {
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
                    server_name: None,
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

/// The hook for ships reached through SSH: opens the tunnel and returns the local
/// transport plus a guard that keeps it open. Not implemented in this build.
pub async fn open_tunnel(
    ship: &model::Ship,
    _base_dir: &Path,
) -> Result<(ShipTransport, TransportGuard), ConnectError> {
    Err(ConnectError::TunnelUnsupported {
        ship: ship.name.clone(),
    })
}

/// Connects one ship (opening its tunnel first when it has one).
async fn connect_one(
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
        return (Ship::connect(&ep).await.map_err(Into::into), Some(guard));
    }
    match endpoint(ship, &env.base_dir, stop) {
        Ok(ep) => (Ship::connect(&ep).await.map_err(Into::into), None),
        Err(e) => (Err(e), None),
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
            Some(ship) => connect_one(env, ship).await,
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
    fn tunnels_are_not_supported_yet() {
        let mut s = ship();
        s.ssh_tunnel = Some(SshTunnel {
            user: "root".into(),
            key: "id".into(),
            port: 22,
        });
        let err = endpoint(&s, Path::new(""), Duration::ZERO).unwrap_err();
        assert_eq!(
            err.to_string(),
            "ship s1: SSH tunnels (ssh_tunnel) are not supported yet"
        );
    }
}
