//! The typed, fully resolved model of a `maestro.yaml`.
//!
//! Everything the later stages need is decided here, once: instance values
//! are merged over service values, port specs are parsed, envfiles are read
//! and the environment each container observes is computed. The planner and
//! the Docker executor therefore never look at YAML and never re-derive a
//! default; they read these types.
//!
//! Collections keep the YAML order (MaestroNG iterates Python dicts, which
//! keep insertion order), hence `Vec`s with lookup helpers instead of maps.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::OnceLock;

use serde::Serialize;

pub mod audit;
pub mod http;
pub mod networks;
pub mod run;

pub use http::{
    BasicAuth, ClientCert, HttpField, HttpOptions, HttpParams, HttpTimeout, MatchRegex, Verify,
};
pub use networks::{NamedVolume, Network, NetworkRef};
pub use run::{Device, HealthCheck, HealthTest, RunOptions};

/// One loaded environment description (`maestro.yaml`), validated.
#[derive(Debug, Clone, Serialize)]
pub struct Environment {
    /// The top-level `name`, as Python's `str()` prints it; containers see it
    /// as `MAESTRO_ENVIRONMENT_NAME`.
    pub name: String,
    /// `__maestro.schema`: 1 (the default) or 2; decides how instance
    /// `volumes` are read.
    pub schema: u32,
    /// The directory relative paths (envfiles) resolve against: the YAML
    /// file's directory, or the working directory for stdin.
    pub base_dir: PathBuf,
    /// `registries`, in YAML order.
    pub registries: Vec<Registry>,
    /// `ships`, in YAML order, with `ship_defaults` applied.
    pub ships: Vec<Ship>,
    /// `services`, in YAML order.
    pub services: Vec<Service>,
    /// Every instance (container) of every service, services in YAML order
    /// and instances in YAML order within each service.
    pub instances: Vec<Instance>,
    /// The `audit` section: the auditors notified of every play, in list order.
    pub audit: Vec<audit::Auditor>,
    /// The `networks` section: user-defined networks, in YAML order.
    pub networks: Vec<Network>,
    /// The `volumes` section: declared named volumes, in YAML order.
    pub volumes: Vec<NamedVolume>,
}

impl Environment {
    /// The ship called `name`.
    pub fn ship(&self, name: &str) -> Option<&Ship> {
        self.ships.iter().find(|s| s.name == name)
    }

    /// The service called `name`.
    pub fn service(&self, name: &str) -> Option<&Service> {
        self.services.iter().find(|s| s.name == name)
    }

    /// The instance (container) called `name`.
    pub fn instance(&self, name: &str) -> Option<&Instance> {
        self.instances.iter().find(|i| i.name == name)
    }

    /// The services as a graph over their positions in `services`: for each, the
    /// positions of the services `edges` names for it (unknown names left out).
    pub fn service_graph<'a>(
        &'a self,
        edges: impl Fn(&'a Service) -> Vec<&'a str>,
    ) -> ServiceGraph {
        let index: std::collections::HashMap<&str, usize> = self
            .services
            .iter()
            .enumerate()
            .map(|(i, s)| (s.name.as_str(), i))
            .collect();
        ServiceGraph {
            edges: self
                .services
                .iter()
                .map(|s| {
                    edges(s)
                        .into_iter()
                        .filter_map(|n| index.get(n).copied())
                        .collect()
                })
                .collect(),
        }
    }

    /// The instances of `service`, in YAML order.
    pub fn instances_of<'a>(&'a self, service: &'a str) -> impl Iterator<Item = &'a Instance> {
        self.instances.iter().filter(move |i| i.service == service)
    }

    /// The registry whose credentials apply to `image`, as MaestroNG's
    /// `LoginTask.registry_for_container` chooses it: the image's first path
    /// component names a registry key, or else matches the host (with or
    /// without port) of a registry URL. Images without a `/` have none.
    pub fn registry_for_image(&self, image: &str) -> Option<&Registry> {
        let (first, _) = image.split_once('/')?;
        if first.is_empty() {
            return None;
        }
        if let Some(r) = self.registries.iter().find(|r| r.name == first) {
            return Some(r);
        }
        self.registries.iter().find(|r| {
            let netloc = r.netloc();
            netloc == first || netloc.split(':').next() == Some(first)
        })
    }
}

/// A Docker registry and the credentials to log in to it (README § Registry credentials).
#[derive(Debug, Clone, Serialize)]
pub struct Registry {
    /// The key under `registries` (often the registry's host name).
    pub name: String,
    /// The registry URL (`https://quay.io/v1/`).
    pub registry: String,
    /// Login user; when absent the Docker client configuration may provide one.
    pub username: Option<String>,
    /// Login password. `maestro dump` redacts it.
    pub password: Option<String>,
    /// Login e-mail (old registries require it).
    pub email: Option<String>,
    /// When to retry logins and pulls against this registry.
    pub retry: RetryPolicy,
}

impl Registry {
    /// The `host[:port]` part of the registry URL (Python's `urlparse().netloc`;
    /// empty when the URL has no scheme).
    pub fn netloc(&self) -> &str {
        match self.registry.split_once("://") {
            Some((_, rest)) => rest.split(['/', '?', '#']).next().unwrap_or(""),
            None => "",
        }
    }

    /// Whether pulls go over plain HTTP (MaestroNG's `insecure_registry`).
    pub fn is_insecure(&self) -> bool {
        self.registry.starts_with("http://")
    }
}

/// A registry's `retry` setting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RetryPolicy {
    /// Total attempts (default 3).
    pub attempts: u32,
    /// HTTP status codes that are worth another attempt (default none).
    pub when: Vec<u16>,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 3,
            when: Vec::new(),
        }
    }
}

/// A host running a Docker daemon (README § Ships).
#[derive(Debug, Clone, Serialize)]
pub struct Ship {
    /// The key under `ships`.
    pub name: String,
    /// `ip`: the address containers advertise (`CONTAINER_HOST_ADDRESS`,
    /// link variables, `extra_hosts` ship references, lifecycle checks).
    pub ip: String,
    /// `endpoint`: where the daemon is reached; defaults to `ip`.
    pub endpoint: String,
    /// The daemon's TCP port: `docker_port`, else 2376 with TLS, else 2375.
    pub docker_port: u16,
    /// `socket_path`, made absolute: connect over this unix socket instead of TCP.
    pub socket_path: Option<PathBuf>,
    /// `ssh_tunnel`: reach the daemon through an SSH port forward.
    pub ssh_tunnel: Option<SshTunnel>,
    /// `api_version`.
    pub api_version: ApiVersion,
    /// `timeout` in seconds for daemon requests (default 5).
    pub timeout_secs: f64,
    /// TLS settings; `None` when neither `tls` nor `tls_verify` is set.
    pub tls: Option<Tls>,
}

impl Ship {
    /// How to reach this ship's daemon, decided as MaestroNG decides it:
    /// an SSH tunnel first, then a unix socket, then TCP to the endpoint.
    pub fn connection(&self) -> Connection {
        if let Some(tunnel) = &self.ssh_tunnel {
            Connection::SshTunnel {
                tunnel: tunnel.clone(),
                ssh_host: self.endpoint.clone(),
                remote_port: self.docker_port,
                remote_socket: self.socket_path.clone(),
                https: self.tls.is_some(),
            }
        } else if let Some(path) = &self.socket_path {
            Connection::Unix(path.clone())
        } else {
            Connection::Tcp {
                host: self.endpoint.clone(),
                port: self.docker_port,
                https: self.tls.is_some(),
            }
        }
    }

    /// The daemon URL MaestroNG would use (`unix:///p`, `https://h:2376`;
    /// for tunnels the remote end, `ssh://user@host:22->2375`).
    pub fn backend_url(&self) -> String {
        match self.connection() {
            Connection::Unix(path) => format!("unix://{}", path.display()),
            Connection::Tcp { host, port, https } => {
                format!("{}://{host}:{port}", if https { "https" } else { "http" })
            }
            Connection::SshTunnel {
                tunnel,
                ssh_host,
                remote_port,
                remote_socket,
                ..
            } => match remote_socket {
                Some(path) => format!(
                    "ssh://{}@{ssh_host}:{}->{}",
                    tunnel.user,
                    tunnel.port,
                    path.display()
                ),
                None => format!(
                    "ssh://{}@{ssh_host}:{}->{remote_port}",
                    tunnel.user, tunnel.port
                ),
            },
        }
    }
}

/// How the executor connects to a ship's daemon.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Connection {
    /// A local unix socket.
    Unix(PathBuf),
    /// Plain TCP (HTTP or HTTPS).
    Tcp {
        /// Host name or address (the ship's endpoint).
        host: String,
        /// Daemon port.
        port: u16,
        /// HTTPS when TLS is configured.
        https: bool,
    },
    /// Forward a local port over SSH to `remote_port` on the ship.
    SshTunnel {
        /// SSH user, key and port.
        tunnel: SshTunnel,
        /// SSH server (the ship's endpoint).
        ssh_host: String,
        /// Daemon port on the ship (forwarded when there is no `remote_socket`).
        remote_port: u16,
        /// The daemon's unix socket on the ship (`socket_path` with `ssh_tunnel`,
        /// a maestro extension): forwarded instead of the port when set.
        remote_socket: Option<PathBuf>,
        /// HTTPS through the tunnel when TLS is configured.
        https: bool,
    },
}

/// A ship's `ssh_tunnel` setting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SshTunnel {
    /// Remote user (required).
    pub user: String,
    /// Private key file (required).
    pub key: PathBuf,
    /// SSH port (default 22).
    pub port: u16,
    /// maestro's `known_hosts`: the known-hosts file ssh checks the ship's host key
    /// against; `None` = ssh's default (`~/.ssh/known_hosts`).
    pub known_hosts: Option<PathBuf>,
    /// maestro's `strict_host_key_checking`: `accept-new` (default), `yes` or `no`.
    pub strict_host_key_checking: Option<String>,
}

/// A ship's Docker API version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum ApiVersion {
    /// Not set: MaestroNG pins 1.18; a newer executor may negotiate instead.
    Default,
    /// `auto`: ask the daemon.
    Auto,
    /// An explicit version such as `1.41`, as written.
    Fixed(String),
}

/// TLS settings of a ship (`tls`, `tls_verify`, `tls_ca_cert`, `tls_cert`,
/// `tls_key`, `ssl_version`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tls {
    /// `tls: true`: present a client certificate (when `cert`/`key` given).
    pub client_auth: bool,
    /// `tls_verify`: verify the daemon's certificate.
    pub verify: bool,
    /// CA bundle to verify the daemon against.
    pub ca_cert: Option<PathBuf>,
    /// Client certificate. `maestro dump` redacts key material only.
    pub cert: Option<PathBuf>,
    /// Client private key. `maestro dump` redacts it.
    pub key: Option<PathBuf>,
    /// `ssl_version`, passed through as text.
    pub ssl_version: Option<String>,
}

/// A service: a named group of instances sharing an image and dependencies
/// (README § Concepts). Instance-level settings are already merged into [`Instance`].
#[derive(Debug, Clone, Serialize)]
pub struct Service {
    /// The key under `services`.
    pub name: String,
    /// The service's `image` (instances may override it).
    pub image: String,
    /// `omit: true` leaves the service out of commands run without names.
    pub omit: bool,
    /// Direct `requires`, in YAML order (hard dependencies: ordering and
    /// link variables, transitively).
    pub requires: Vec<String>,
    /// Direct `wants_info`, in YAML order (link variables only, not transitive).
    pub wants_info: Vec<String>,
    /// Services whose containers some instance takes `volumes_from`; they
    /// order like `requires` but inject no variables.
    pub volumes_from_services: Vec<String>,
    /// The names of this service's instances, in YAML order.
    pub instances: Vec<String>,
}

/// One container: an instance of a service placed on a ship, with every
/// service-level default merged in.
#[derive(Debug, Clone, Serialize)]
pub struct Instance {
    /// The instance name: the container's name and hostname.
    pub name: String,
    /// The service it belongs to.
    pub service: String,
    /// The ship it runs on.
    pub ship: String,
    /// The image (instance `image`, else the service's).
    pub image: String,
    /// `command` (or the deprecated `cmd`).
    pub command: Option<Command>,
    /// Named ports: the service's ports with the instance's merged over them
    /// by name (service order first, then new instance names).
    pub ports: Vec<Port>,
    /// The container's own variables (service and instance `envfile` and `env`, the
    /// identity variables), before the link variables.
    #[serde(skip)]
    pub own_env: EnvBuilder,
    /// The exact environment the container gets, once [`Environment::container_env`]
    /// computed it (a `None` value is passed as a bare `KEY`, no `=`).
    #[serde(rename = "env", serialize_with = "computed_env")]
    pub(crate) env: OnceLock<Vec<EnvVar>>,
    /// Host bind mounts and named volumes, in YAML order.
    pub volumes: Vec<Volume>,
    /// `container_volumes`: container-only volumes, in YAML order, deduplicated.
    pub container_volumes: Vec<String>,
    /// `volumes_from`: containers (same ship) to take volumes from.
    pub volumes_from: Vec<String>,
    /// `links`: Docker links to same-ship containers, sorted by `name:alias`.
    pub links: Vec<Link>,
    /// `username`: the user processes run as.
    pub username: Option<String>,
    /// `privileged`.
    pub privileged: bool,
    /// `cap_add`.
    pub cap_add: Vec<String>,
    /// `cap_drop`.
    pub cap_drop: Vec<String>,
    /// `extra_hosts`, ship references resolved to the ship's `ip`, sorted by host.
    pub extra_hosts: Vec<ExtraHost>,
    /// `net`: Docker network mode; when set the container gets no hostname.
    pub net: Option<String>,
    /// `networks`: the user-defined networks it joins, the service's merged
    /// with the instance's by name (empty: Docker's default bridge, or `net`).
    pub networks: Vec<NetworkRef>,
    /// `restart`.
    pub restart: RestartPolicy,
    /// `dns` servers; `None` leaves Docker's default.
    pub dns: Option<Vec<String>>,
    /// `stop_timeout` in seconds (default 10) between SIGTERM and SIGKILL.
    pub stop_timeout: u64,
    /// `limits`, the instance's merged over the service's per key.
    pub limits: Limits,
    /// `log_driver` and `log_opt`.
    pub log: Option<LogConfig>,
    /// `lxc_conf` key/values, values as Python `str()`.
    pub lxc_conf: Vec<(String, String)>,
    /// `workdir`: the container's working directory.
    pub workdir: Option<String>,
    /// `security_opt`.
    pub security_opt: Option<Vec<String>>,
    /// `ulimits`.
    pub ulimits: Vec<Ulimit>,
    /// `labels`; list entries get an empty value.
    pub labels: Vec<(String, String)>,
    /// Lifecycle checks: the service's followed by the instance's own.
    pub lifecycle: Lifecycle,
    /// `healthcheck`, the instance's keys merged over the service's; `None`
    /// keeps the image's own `HEALTHCHECK`.
    pub healthcheck: Option<HealthCheck>,
    /// The `docker run` options maestro adds (`stop_signal`, `tmpfs`...).
    pub run: RunOptions,
}

impl Instance {
    /// The hostname Docker gives the container (none when `net` is set).
    pub fn hostname(&self) -> Option<&str> {
        if self.net.is_some() {
            None
        } else {
            Some(&self.name)
        }
    }

    /// The named port `name`.
    pub fn port(&self, name: &str) -> Option<&Port> {
        self.ports.iter().find(|p| p.name == name)
    }

    /// Docker `Binds` entries: `host:container:mode`.
    pub fn binds(&self) -> Vec<String> {
        self.volumes
            .iter()
            .map(|v| format!("{}:{}:{}", v.host, v.container, v.mode))
            .collect()
    }

    /// The named volumes among its `volumes` (sources that are not paths,
    /// as Docker reads them), each once, in YAML order.
    pub fn named_volumes(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for v in &self.volumes {
            if v.is_named() && !out.contains(&v.host.as_str()) {
                out.push(&v.host);
            }
        }
        out
    }

    /// Every path that is a volume inside the container (binds and
    /// container-only), sorted.
    pub fn volume_targets(&self) -> Vec<&str> {
        let mut all: Vec<&str> = self
            .volumes
            .iter()
            .map(|v| v.container.as_str())
            .chain(self.container_volumes.iter().map(String::as_str))
            .collect();
        all.sort_unstable();
        all.dedup();
        all
    }
}

/// A container command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Command {
    /// A string, split like a POSIX shell would (docker-py's `shlex.split`).
    Shell(String),
    /// An argv list, passed as is.
    Argv(Vec<String>),
}

/// Serializes a container's environment as computed so far (see
/// [`Environment::container_env`]).
fn computed_env<S: serde::Serializer>(
    env: &OnceLock<Vec<EnvVar>>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(env.get().into_iter().flatten())
}

/// Services and their dependency edges by position in [`Environment::services`]:
/// transitive closures of big environments in linear time per service.
#[derive(Debug, Clone)]
pub struct ServiceGraph {
    edges: Vec<Vec<usize>>,
}

impl ServiceGraph {
    /// The positions reachable from `from` over one edge or more, `from` excluded,
    /// in the order first reached.
    pub fn reachable(&self, from: usize) -> Vec<usize> {
        let mut seen = vec![false; self.edges.len()];
        let mut out = Vec::new();
        let mut stack: Vec<usize> = self.edges.get(from).cloned().unwrap_or_default();
        while let Some(i) = stack.pop() {
            if i == from || std::mem::replace(&mut seen[i], true) {
                continue;
            }
            out.push(i);
            stack.extend(self.edges[i].iter().copied().filter(|&j| !seen[j]));
        }
        out
    }

    /// The edges of reversed direction.
    pub fn reversed(&self) -> ServiceGraph {
        let mut edges = vec![Vec::new(); self.edges.len()];
        for (i, out) in self.edges.iter().enumerate() {
            for &j in out {
                edges[j].push(i);
            }
        }
        ServiceGraph { edges }
    }
}

/// One environment variable of a container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EnvVar {
    /// Variable name (as Python `str()` of the YAML key).
    pub name: String,
    /// Value; `None` for a YAML null, which Docker receives as a bare `NAME`.
    pub value: Option<String>,
}

impl EnvVar {
    /// The `NAME=value` (or bare `NAME`) form Docker's API takes.
    pub fn to_docker(&self) -> String {
        match &self.value {
            Some(v) => format!("{}={v}", self.name),
            None => self.name.clone(),
        }
    }
}

/// Transport protocol of a port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// TCP (the default).
    Tcp,
    /// UDP.
    Udp,
}

impl Protocol {
    /// `tcp` or `udp`.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
        }
    }
}

/// A port number or an inclusive range `start-end` of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct PortRange {
    /// First port.
    pub start: u32,
    /// Last port when this is a range (`a-b`).
    pub end: Option<u32>,
}

impl std::fmt::Display for PortRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.end {
            Some(end) => write!(f, "{}-{end}", self.start),
            None => write!(f, "{}", self.start),
        }
    }
}

/// A named port of an instance (its forms: README § Concepts, host/COMPAT.md § Ports).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Port {
    /// The port's name (`client`, `broker`).
    pub name: String,
    /// The port (or range) inside the container.
    pub exposed: PortRange,
    /// The port (or range) published on the ship. An exposed single port with
    /// an external range asks Docker for a random port in that range.
    pub external: PortRange,
    /// Protocol (both sides share it).
    pub protocol: Protocol,
    /// Host address the published port binds to (default `0.0.0.0`).
    pub host_ip: String,
}

impl Port {
    /// The exposed side as Docker keys it: `N[-M]/proto`.
    pub fn exposed_spec(&self) -> String {
        format!("{}/{}", self.exposed, self.protocol.as_str())
    }

    /// The published port as Docker's `HostPort` takes it: `N[-M]`.
    pub fn host_port(&self) -> String {
        self.external.to_string()
    }
}

/// A host bind mount.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Volume {
    /// Path on the ship.
    pub host: String,
    /// Path inside the container.
    pub container: String,
    /// Mode flags (`rw`, `ro`, `ro,Z`...).
    pub mode: String,
}

impl Volume {
    /// Whether the source names a volume rather than a host path: Docker
    /// reads a source that is not an absolute path as a volume name.
    pub fn is_named(&self) -> bool {
        !self.host.starts_with('/')
    }
}

/// A Docker link to another container on the same ship.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Link {
    /// The linked container.
    pub name: String,
    /// The alias inside this container.
    pub alias: String,
}

/// An `/etc/hosts` entry added to the container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExtraHost {
    /// Host name.
    pub host: String,
    /// Address (a ship reference is already resolved to the ship's `ip`).
    pub address: String,
}

/// A restart policy name (Docker's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RestartName {
    /// Never restart (the default).
    No,
    /// Always restart.
    Always,
    /// Restart on non-zero exit.
    OnFailure,
    /// Restart unless explicitly stopped.
    UnlessStopped,
}

impl RestartName {
    /// Docker's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            RestartName::No => "no",
            RestartName::Always => "always",
            RestartName::OnFailure => "on-failure",
            RestartName::UnlessStopped => "unless-stopped",
        }
    }
}

/// A container's restart policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RestartPolicy {
    /// Policy name.
    pub name: RestartName,
    /// `MaximumRetryCount` (0 = unlimited for `on-failure`).
    pub max_retries: u32,
}

impl Default for RestartPolicy {
    fn default() -> Self {
        RestartPolicy {
            name: RestartName::No,
            max_retries: 0,
        }
    }
}

/// Resource limits (`limits`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Limits {
    /// `cpu`: relative CPU shares.
    pub cpu_shares: Option<i64>,
    /// `memory` in bytes.
    pub memory: Option<i64>,
    /// `swap` in bytes (Docker's MemorySwap).
    pub swap: Option<i64>,
}

/// Logging configuration (`log_driver`, `log_opt`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogConfig {
    /// One of `json-file`, `syslog`, `journald`, `gelf`, `fluentd`, `none`.
    pub driver: String,
    /// Driver options, values as Python `str()`.
    pub options: Vec<(String, String)>,
}

/// A `ulimits` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ulimit {
    /// Limit name (`nofile`, `nproc`...).
    pub name: String,
    /// Soft limit.
    pub soft: Option<i64>,
    /// Hard limit.
    pub hard: Option<i64>,
}

/// Lifecycle checks per state (host/COMPAT.md § Services and instances).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Lifecycle {
    /// Before starting: all must pass or the start is refused.
    pub pre_start: Vec<Check>,
    /// After starting: all must pass for the container to count as up.
    pub running: Vec<Check>,
    /// Before stopping.
    pub pre_stop: Vec<Check>,
    /// After stopping (and killing).
    pub stopped: Vec<Check>,
}

impl Lifecycle {
    /// The checks of one state.
    pub fn checks(&self, state: LifecycleState) -> &[Check] {
        match state {
            LifecycleState::PreStart => &self.pre_start,
            LifecycleState::Running => &self.running,
            LifecycleState::PreStop => &self.pre_stop,
            LifecycleState::Stopped => &self.stopped,
        }
    }

    /// Whether no state has checks.
    pub fn is_empty(&self) -> bool {
        self.pre_start.is_empty()
            && self.running.is_empty()
            && self.pre_stop.is_empty()
            && self.stopped.is_empty()
    }
}

/// The lifecycle states that run checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LifecycleState {
    /// `pre-start`.
    PreStart,
    /// `running`.
    Running,
    /// `pre-stop`.
    PreStop,
    /// `stopped`.
    Stopped,
}

/// One lifecycle check.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Check {
    /// Connect to a named TCP port on the ship's `ip`, once a second.
    Tcp {
        /// A named port of the instance (validated to exist and be TCP).
        port: String,
        /// Attempts (seconds); MaestroNG's default is 180.
        max_wait: u64,
    },
    /// Request a URL until the body matches or the status is 200.
    Http {
        /// A named port (its external port is used) or a literal number.
        port: HttpPort,
        /// Host to request (default: the ship's `ip`).
        host: Option<String>,
        /// Python regex searched in the body (dot matches newline), compiled at load;
        /// `None` = status 200.
        match_regex: Option<MatchRegex>,
        /// Path with a leading `/`.
        path: String,
        /// `http` or `https`.
        scheme: String,
        /// HTTP method (default `get`).
        method: String,
        /// Deadline in seconds (default 300).
        max_wait: u64,
        /// `requests_options` maestro implements (read at load).
        requests_options: Box<HttpOptions>,
    },
    /// Run a local command with the container's environment.
    Exec {
        /// The command line (split like a shell).
        command: String,
        /// Attempts, one second apart (default 180).
        attempts: u64,
        /// How the environment is passed.
        envfrom: ExecEnvFrom,
    },
    /// Run a command inside the container.
    Rexec {
        /// The command line.
        command: String,
        /// Attempts, one second apart (default 180).
        attempts: u64,
    },
    /// Sleep, then succeed.
    Sleep {
        /// Seconds.
        wait: f64,
    },
    /// Wait for the engine's health check to call the container healthy.
    Health {
        /// Deadline in seconds (default 300).
        max_wait: u64,
    },
}

/// The port of an HTTP check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum HttpPort {
    /// A named port of the instance.
    Named(String),
    /// A literal port number.
    Number(u32),
}

/// How an `exec` check receives the container's environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ExecEnvFrom {
    /// Merged into the process environment (default).
    Env,
    /// As JSON on standard input.
    Stdin,
}

/// The variables a container gets, in order, with Python dict-update
/// semantics (a key set again keeps its first position). The environment
/// sources fill it (`env.rs`), link variables come on top (`links.rs`).
#[derive(Debug, Clone, Default)]
pub struct EnvBuilder {
    /// (key identity, key text, value).
    entries: Vec<(String, String, Option<String>)>,
    index: HashMap<String, usize>,
}

impl EnvBuilder {
    /// Sets `name` (identified as Python would compare keys) to `value`,
    /// keeping the position of an existing key.
    pub fn set(&mut self, id: String, name: String, value: Option<String>) {
        match self.index.get(&id) {
            Some(&i) => self.entries[i].2 = value,
            None => {
                self.index.insert(id.clone(), self.entries.len());
                self.entries.push((id, name, value));
            }
        }
    }

    /// The variables, in order.
    pub fn vars(&self) -> Vec<EnvVar> {
        self.entries
            .iter()
            .map(|(_, name, value)| EnvVar {
                name: name.clone(),
                value: value.clone(),
            })
            .collect()
    }
}
