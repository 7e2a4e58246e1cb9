//! Connecting to one ship's Docker daemon.
//!
//! bollard 0.21.1 sends its requests without the `/vX.Y` prefix (it joins absolute paths
//! onto its versioned base URL, which drops the version), so a daemon would answer every
//! request in its own newest format whatever version was asked for. We therefore ask the
//! daemon for its supported range first (`GET /version`, which every version answers),
//! choose the version (the newest both sides know for `Auto`, the pinned one if the
//! daemon accepts it) and put `/vX.Y` in front of every request ourselves.

use std::time::Duration;

use bollard::{API_DEFAULT_VERSION, ClientVersion, Docker};
use hyper_rustls::{FixedServerNameResolver, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use super::error::{DockerError, chain};
use super::tls;
use crate::spec::{ApiVersion, ShipEndpoint, ShipTransport};

/// A connected daemon. Cheap to clone: clones share the connection pool.
#[derive(Debug, Clone)]
pub struct Ship {
    name: String,
    endpoint: String,
    docker: Docker,
    timeout: Duration,
    api_version: String,
    engine: Engine,
}

/// Which engine serves the Docker API on a ship: Podman's compatible API names things
/// differently (images from `docker save` are `localhost/...`) and lacks some calls, so
/// the operations and the messages that depend on it ask.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Engine {
    /// Docker's own daemon (dockerd, Moby).
    #[default]
    Docker,
    /// Podman's Docker-compatible service (`podman system service`).
    Podman,
}

impl Engine {
    /// The engine's name as people write it, for tables and messages.
    pub fn name(self) -> &'static str {
        match self {
            Engine::Docker => "Docker",
            Engine::Podman => "Podman",
        }
    }

    /// Recognises the engine from `/version`: Podman names itself in a component
    /// (`Podman Engine`) and sometimes in the platform; Docker never does.
    fn detect(platform: Option<&str>, components: &[&str]) -> Engine {
        let podman = |s: &str| s.to_ascii_lowercase().contains("podman");
        if platform.is_some_and(podman) || components.iter().any(|c| podman(c)) {
            Engine::Podman
        } else {
            Engine::Docker
        }
    }
}

/// What a daemon says about itself (`GET /version`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DaemonVersion {
    /// Engine version, e.g. `20.10.24+dfsg1`.
    pub version: String,
    /// Newest API version it speaks (`ApiVersion`).
    pub api_version: String,
    /// Oldest API version it accepts (`MinAPIVersion`).
    pub min_api_version: String,
    /// Operating system (`linux`).
    pub os: String,
    /// Architecture (`amd64`).
    pub arch: String,
    /// Docker or Podman.
    pub engine: Engine,
}

impl Ship {
    /// Connects to the daemon of `endpoint`, settles the API version and checks that the
    /// daemon answers; fails with an error naming the ship (and both versions when a
    /// pinned version is refused).
    pub async fn connect(endpoint: &ShipEndpoint) -> Result<Ship, DockerError> {
        let ship = &endpoint.ship;
        let setup = |reason: String| DockerError::Setup {
            ship: ship.clone(),
            reason,
        };
        let pinned = match &endpoint.api_version {
            ApiVersion::Auto => None,
            ApiVersion::Pinned(v) => Some(parse_version(v).ok_or_else(|| {
                setup(format!(
                    "API version {v:?} is not a version number like \"1.41\""
                ))
            })?),
        };
        let timeout = endpoint.timeout.max(Duration::from_secs(1));
        let where_ = describe(&endpoint.transport);

        if let ShipTransport::Unix { path } = &endpoint.transport {
            if !path.exists() {
                return Err(DockerError::Unreachable {
                    ship: ship.clone(),
                    endpoint: where_,
                    reason: "no such socket".into(),
                });
            }
        }

        // Ask for the supported range; `/version` is answered whatever the version.
        let probe = build(endpoint, API_DEFAULT_VERSION, timeout).map_err(setup)?;
        let mut first = Ship {
            name: ship.clone(),
            endpoint: where_.clone(),
            docker: probe,
            timeout,
            api_version: String::new(),
            engine: Engine::Docker,
        };
        let daemon = first.version().await.map_err(|e| match e {
            DockerError::Failed { reason, .. } => DockerError::Unreachable {
                ship: ship.clone(),
                endpoint: where_.clone(),
                reason,
            },
            DockerError::Timeout { timeout, .. } => DockerError::Unreachable {
                ship: ship.clone(),
                endpoint: where_.clone(),
                reason: format!("no answer within {}s", timeout.as_secs()),
            },
            other => other,
        })?;
        let max = parse_version(&daemon.api_version).ok_or_else(|| {
            setup(format!(
                "the daemon reports an unreadable API version {:?}",
                daemon.api_version
            ))
        })?;
        let min = parse_version(&daemon.min_api_version).unwrap_or(max);

        let chosen = match pinned {
            Some(v) if v < min || v > max => {
                return Err(DockerError::ApiVersionRefused {
                    ship: ship.clone(),
                    requested: v.to_string(),
                    min: min.to_string(),
                    max: max.to_string(),
                });
            }
            Some(v) => v,
            None if max < *API_DEFAULT_VERSION => max,
            None => *API_DEFAULT_VERSION,
        };

        let prefix = format!("/v{chosen}");
        let docker = build(endpoint, &chosen, timeout)
            .map_err(setup)?
            .with_request_modifier(move |mut req| {
                let uri = req.uri();
                let path_and_query = uri.path_and_query().map_or("/", |pq| pq.as_str());
                let mut versioned = String::new();
                if let Some(scheme) = uri.scheme_str() {
                    versioned.push_str(scheme);
                    versioned.push_str("://");
                }
                if let Some(authority) = uri.authority() {
                    versioned.push_str(authority.as_str());
                }
                versioned.push_str(&prefix);
                versioned.push_str(path_and_query);
                if let Ok(new_uri) = versioned.parse() {
                    *req.uri_mut() = new_uri;
                }
                req
            });
        first.docker = docker;
        first.api_version = chosen.to_string();
        first.engine = daemon.engine;
        Ok(first)
    }

    /// The ship's name, for messages.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Where the daemon is reached, e.g. `unix:///var/run/docker.sock`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The API version spoken with this daemon.
    pub fn api_version(&self) -> &str {
        &self.api_version
    }

    /// The engine behind the ship's API, as `/version` said at connection.
    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// The per-request HTTP timeout.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Checks that the daemon answers (`GET /_ping`); used for the status of a ship.
    pub async fn ping(&self) -> Result<(), DockerError> {
        self.docker
            .ping()
            .await
            .map(drop)
            .map_err(|e| self.error("ping", e))
    }

    /// The daemon's version and supported API range.
    pub async fn version(&self) -> Result<DaemonVersion, DockerError> {
        let v = self
            .docker
            .version()
            .await
            .map_err(|e| self.error("query version", e))?;
        let components: Vec<&str> = v
            .components
            .iter()
            .flatten()
            .map(|c| c.name.as_str())
            .collect();
        let engine = Engine::detect(v.platform.as_ref().map(|p| p.name.as_str()), &components);
        Ok(DaemonVersion {
            engine,
            version: v.version.unwrap_or_default(),
            api_version: v.api_version.unwrap_or_default(),
            min_api_version: v.min_api_version.unwrap_or_default(),
            os: v.os.unwrap_or_default(),
            arch: v.arch.unwrap_or_default(),
        })
    }

    /// The client, for the operations in `ops`.
    pub(crate) fn docker(&self) -> &Docker {
        &self.docker
    }

    /// A client whose timeout is extended by `extra`, for calls the daemon answers only
    /// when done (a stop waits up to the stop timeout before answering).
    pub(crate) fn docker_with_extra_time(&self, extra: Duration) -> Docker {
        self.docker.clone().with_timeout(self.timeout + extra)
    }

    /// Wraps a bollard error of `action` with this ship's name.
    pub(crate) fn error(
        &self,
        action: impl Into<String>,
        err: bollard::errors::Error,
    ) -> DockerError {
        DockerError::from_bollard(&self.name, action.into(), self.timeout, err)
    }
}

/// Parses `major.minor`.
fn parse_version(v: &str) -> Option<ClientVersion> {
    let (major, minor) = v.trim().split_once('.')?;
    Some(ClientVersion {
        major_version: major.parse().ok()?,
        minor_version: minor.parse().ok()?,
    })
}

/// The endpoint as a URL-like string for messages.
fn describe(transport: &ShipTransport) -> String {
    match transport {
        ShipTransport::Unix { path } => format!("unix://{}", path.display()),
        ShipTransport::Tcp { host, port } => format!("tcp://{}", host_port(host, *port)),
        ShipTransport::Tls { host, port, .. } => format!("https://{}", host_port(host, *port)),
    }
}

fn host_port(host: &str, port: u16) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// Creates the bollard client for the endpoint's transport (no I/O yet).
fn build(
    endpoint: &ShipEndpoint,
    version: &ClientVersion,
    timeout: Duration,
) -> Result<Docker, String> {
    let secs = timeout.as_secs().max(1);
    match &endpoint.transport {
        ShipTransport::Unix { path } => {
            let path = path
                .to_str()
                .ok_or_else(|| format!("socket path {} is not UTF-8", path.display()))?;
            Docker::connect_with_unix(path, secs, version).map_err(|e| chain(&e))
        }
        ShipTransport::Tcp { host, port } => {
            Docker::connect_with_http(&format!("http://{}", host_port(host, *port)), secs, version)
                .map_err(|e| chain(&e))
        }
        ShipTransport::Tls { host, port, tls } => {
            let config = tls::client_config(tls).map_err(|e| e.to_string())?;
            let name = tls::server_name(tls.server_name.as_deref().unwrap_or(host))
                .map_err(|e| e.to_string())?;
            let connector = HttpsConnectorBuilder::new()
                .with_tls_config(config)
                .https_only()
                .with_server_name_resolver(FixedServerNameResolver::new(name))
                .enable_http1()
                .build();
            let mut builder = Client::builder(TokioExecutor::new());
            builder.pool_max_idle_per_host(0);
            let client = builder.build(connector);
            Docker::connect_with_custom_transport(
                move |req: bollard::BollardRequest| {
                    let client = client.clone();
                    async move {
                        client
                            .request(req)
                            .await
                            .map_err(bollard::errors::Error::from)
                    }
                },
                Some(format!("https://{}", host_port(host, *port))),
                secs,
                version,
            )
            .map_err(|e| chain(&e))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse_and_compare_numerically() {
        let v = parse_version("1.41").unwrap();
        assert_eq!(v.to_string(), "1.41");
        assert!(parse_version("1.9").unwrap() < v);
        assert!(parse_version("1.100").unwrap() > v);
        assert!(parse_version("auto").is_none());
        assert!(parse_version("1").is_none());
    }

    #[test]
    fn podman_is_recognised_by_its_component_or_platform() {
        // What podman 4.3.1 and Debian's dockerd 20.10 answer on /version.
        assert_eq!(
            Engine::detect(
                Some("linux/amd64/debian-12"),
                &["Podman Engine", "Conmon", "OCI Runtime (runc)"]
            ),
            Engine::Podman
        );
        assert_eq!(
            Engine::detect(Some(""), &["Engine", "containerd", "runc", "docker-init"]),
            Engine::Docker
        );
        assert_eq!(
            Engine::detect(Some("Docker Engine - Community"), &["Engine"]),
            Engine::Docker
        );
        assert_eq!(Engine::detect(Some("Podman Engine"), &[]), Engine::Podman);
        assert_eq!(Engine::detect(None, &[]), Engine::Docker);
    }

    #[test]
    fn endpoints_are_described_as_urls() {
        assert_eq!(
            describe(&ShipTransport::Unix {
                path: "/var/run/docker.sock".into()
            }),
            "unix:///var/run/docker.sock"
        );
        assert_eq!(
            describe(&ShipTransport::Tcp {
                host: "::1".into(),
                port: 2375
            }),
            "tcp://[::1]:2375"
        );
    }
}
