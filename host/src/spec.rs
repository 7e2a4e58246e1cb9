//! Plain-data descriptions of what the Docker layer is asked to do.
//!
//! The plan (pure) produces these values and `docker` (the only module that talks to a
//! daemon) consumes them. Keeping them free of bollard types means the planner and its
//! tests never depend on the Docker client, and the mapping to the Engine API lives in
//! exactly one place (`docker::ops`).
//!
//! Field docs say what MaestroNG 0.8.3 sent for the same setting in its create call
//! (`tasks.py:StartTask._create_and_start_container`, through docker-py 1.10.6), so the
//! resolved spec can be compared with what the reference implementation would create.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// The labels maestro puts on every container it creates, in addition to the
/// configured ones (MaestroNG added none): they tell which environment, service,
/// instance and ship a container belongs to, so containers can be found by label.
pub mod labels {
    /// The environment's `name`.
    pub const ENVIRONMENT: &str = "maestro.environment";
    /// The service name.
    pub const SERVICE: &str = "maestro.service";
    /// The instance (container) name.
    pub const INSTANCE: &str = "maestro.instance";
    /// The ship name.
    pub const SHIP: &str = "maestro.ship";
    /// The SHA-256 of the container's creation configuration (every field of its
    /// spec but the image and this label): `upgrade` replaces a container whose
    /// configuration changed even when its image did not.
    pub const SPEC: &str = "maestro.spec";
    /// Put by `upgrade`/`rollback` on the container it creates: the id of the image
    /// the replaced container ran, which `rollback` puts back.
    pub const PREVIOUS_IMAGE: &str = "maestro.previous-image";
}

/// MaestroNG's default `stop_timeout` in seconds (`stop(id, timeout=10)`).
pub const DEFAULT_STOP_TIMEOUT_SECS: u32 = 10;

/// MaestroNG's default per-ship HTTP timeout (`docker.Client(timeout=timeout or 5)`).
pub const DEFAULT_SHIP_TIMEOUT: Duration = Duration::from_secs(5);

/// The fully resolved container that should exist on one ship.
///
/// Every value is final: no defaults are filled in and nothing is parsed by the Docker
/// layer, which maps each field one-to-one onto the Engine API's create body.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ContainerSpec {
    /// Container name (create's `name` query parameter); MaestroNG uses the instance name.
    pub name: String,
    /// `Config.Hostname`. MaestroNG sets it to the container name, or leaves it unset
    /// (`None`) when `net` is given, since a hostname cannot be set with e.g. `host` networking.
    pub hostname: Option<String>,
    /// `Config.Image`, exactly as configured (`repo[:tag]`); also what the pull asks for.
    pub image: String,
    /// `Config.Env`: `K=V` entries, or a bare `K` for a variable whose value was `None`
    /// (docker-py's rendering of a null value). Order is kept as given.
    pub env: Vec<String>,
    /// `Config.Cmd`; `None` keeps the image's own command. MaestroNG `shlex.split`s a
    /// string command before sending it, so this is always an argv.
    pub command: Option<Vec<String>>,
    /// `Config.User` (MaestroNG's `username`).
    pub user: Option<String>,
    /// `Config.WorkingDir` (MaestroNG's `workdir`).
    pub workdir: Option<String>,
    /// `Config.ExposedPorts` keys, normalised `N[-M]/proto` strings (e.g. `"8080/tcp"`).
    pub exposed_ports: Vec<String>,
    /// `HostConfig.PortBindings`: exposed spec → list of host bindings. Several port
    /// names may publish the same exposed port, hence a list.
    pub port_bindings: BTreeMap<String, Vec<HostPort>>,
    /// `HostConfig.Binds`: `host:container:mode` strings, in configuration order.
    pub binds: Vec<String>,
    /// Container-only volumes (`container_volumes`). `Config.Volumes` is these plus every
    /// bind target, as MaestroNG declares both.
    pub container_volumes: Vec<String>,
    /// `HostConfig.VolumesFrom`: container names on the same ship.
    pub volumes_from: Vec<String>,
    /// `HostConfig.Links`: `name:alias` strings (MaestroNG sends them sorted).
    pub links: Vec<String>,
    /// `HostConfig.RestartPolicy` (`{Name, MaximumRetryCount}`).
    pub restart_policy: RestartPolicy,
    /// `HostConfig.Ulimits` (`[{Name, Soft, Hard}]`).
    pub ulimits: Vec<Ulimit>,
    /// `HostConfig.Dns`; `None` leaves the daemon's default (MaestroNG only sends it when set).
    pub dns: Option<Vec<String>>,
    /// `HostConfig.ExtraHosts`: `host:ip` strings (MaestroNG sends them sorted, with ship
    /// references already replaced by the ship's `ip`).
    pub extra_hosts: Vec<String>,
    /// `Config.Labels`. A label configured as a list item has the value `""`.
    pub labels: BTreeMap<String, String>,
    /// `HostConfig.NetworkMode` (MaestroNG's `net`); `None` = the daemon's default bridge.
    pub network_mode: Option<String>,
    /// User-defined networks the container joins at create (new in maestro; empty
    /// for every MaestroNG 0.8.3 description, whose create body stays as it was).
    pub networks: Vec<NetworkAttachment>,
    /// `HostConfig.LogConfig` (MaestroNG's `log_driver` + `log_opt`); `None` = daemon default.
    pub log_config: Option<LogConfig>,
    /// `HostConfig.SecurityOpt`.
    pub security_opt: Vec<String>,
    /// `HostConfig.CapAdd`.
    pub cap_add: Vec<String>,
    /// `HostConfig.CapDrop`.
    pub cap_drop: Vec<String>,
    /// `HostConfig.Privileged`.
    pub privileged: bool,
    /// `HostConfig.CpuShares` (MaestroNG's `limits.cpu`; it sent it top-level, which the
    /// Engine API has since moved into HostConfig).
    pub cpu_shares: Option<i64>,
    /// `HostConfig.Memory` in bytes (`limits.memory`, suffixes already applied).
    pub memory: Option<i64>,
    /// `HostConfig.MemorySwap` in bytes (`limits.swap`).
    pub memory_swap: Option<i64>,
    /// Seconds between SIGTERM and SIGKILL. MaestroNG passes it to `stop(id, timeout=N)`
    /// only; we also record it as `Config.StopTimeout` so a `docker stop` by hand agrees.
    pub stop_timeout: u32,
    /// `Config.Healthcheck` (maestro's `healthcheck`); `None` keeps the image's.
    pub healthcheck: Option<HealthSpec>,
    /// The `docker run` options maestro adds (none of them in MaestroNG 0.8.3).
    pub run: RunSpec,
}

/// A container's endpoint on a user-defined network.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NetworkAttachment {
    /// The network's name.
    pub network: String,
    /// DNS names the container answers to on it (instance and service name first).
    pub aliases: Vec<String>,
    /// A fixed IPv4 address in the network's subnet.
    pub ipv4_address: Option<String>,
}

/// A user-defined network as it should exist on a ship.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NetworkSpec {
    /// Name.
    pub name: String,
    /// Driver (`bridge`, `macvlan`, ...).
    pub driver: String,
    /// Driver options.
    pub options: BTreeMap<String, String>,
    /// No route to the outside.
    pub internal: bool,
    /// IPAM subnet (CIDR); `None` = the daemon picks one.
    pub subnet: Option<String>,
    /// IPAM gateway.
    pub gateway: Option<String>,
    /// Labels: maestro's environment label, so `clean --networks` finds its own.
    pub labels: BTreeMap<String, String>,
}

/// What a ship says about an existing network.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NetworkSeen {
    /// Name.
    pub name: String,
    /// Driver.
    pub driver: String,
    /// Driver options.
    pub options: BTreeMap<String, String>,
    /// Whether it is internal.
    pub internal: bool,
    /// IPAM configurations: (subnet, gateway).
    pub subnets: Vec<(Option<String>, Option<String>)>,
    /// Labels.
    pub labels: BTreeMap<String, String>,
}

/// A named volume as it should exist on a ship.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VolumeSpec {
    /// Name.
    pub name: String,
    /// Driver (`local`, ...).
    pub driver: String,
    /// Driver options.
    pub driver_opts: BTreeMap<String, String>,
    /// The configured labels plus maestro's environment label.
    pub labels: BTreeMap<String, String>,
    /// Declared in the `volumes` section: its driver and options are checked
    /// against an existing volume (an undeclared one is used as it is).
    pub declared: bool,
}

/// What a ship says about an existing named volume.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VolumeSeen {
    /// Name.
    pub name: String,
    /// Driver.
    pub driver: String,
    /// Driver options it was created with.
    pub options: BTreeMap<String, String>,
    /// Labels.
    pub labels: BTreeMap<String, String>,
}

/// One host side of a published port (`{HostIp, HostPort}`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HostPort {
    /// Interface address on the ship; MaestroNG's default is `0.0.0.0`.
    pub host_ip: String,
    /// Port or `a-b` range on the ship, without the protocol suffix.
    pub host_port: String,
}

/// How the daemon restarts a container that exits (`HostConfig.RestartPolicy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RestartPolicy {
    /// Policy name.
    pub name: RestartPolicyName,
    /// `MaximumRetryCount`; MaestroNG accepts it with any policy, the daemon uses it
    /// for `on-failure` only.
    pub max_retries: u32,
}

/// The restart policies MaestroNG accepts (`no, always, on-failure, unless-stopped`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RestartPolicyName {
    /// Never restart (MaestroNG's default, also for unrecognised non-string values).
    #[default]
    No,
    /// Always restart.
    Always,
    /// Restart when the exit code is not 0, at most `max_retries` times (0 = unbounded).
    OnFailure,
    /// Restart unless stopped by hand.
    UnlessStopped,
}

impl RestartPolicyName {
    /// The name as the Engine API and MaestroNG's configuration spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            RestartPolicyName::No => "no",
            RestartPolicyName::Always => "always",
            RestartPolicyName::OnFailure => "on-failure",
            RestartPolicyName::UnlessStopped => "unless-stopped",
        }
    }
}

/// A resource limit (`HostConfig.Ulimits` entry).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Ulimit {
    /// Limit name without the `RLIMIT_` prefix, e.g. `nofile`.
    pub name: String,
    /// Soft limit.
    pub soft: i64,
    /// Hard limit.
    pub hard: i64,
}

/// `HostConfig.LogConfig`: the logging driver and its options.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LogConfig {
    /// Driver name (`json-file`, `syslog`, `journald`, `gelf`, `fluentd`, `none`).
    pub driver: String,
    /// Driver options, values already stringified (MaestroNG `str()`s them).
    pub opts: BTreeMap<String, String>,
}

/// `Config.Healthcheck`. Zero or empty values take the image's (Docker's rule).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HealthSpec {
    /// `Test`: `["CMD", ...]`, `["CMD-SHELL", line]`, `["NONE"]`, or empty for the image's.
    pub test: Vec<String>,
    /// `Interval`.
    pub interval: Option<Duration>,
    /// `Timeout`.
    pub timeout: Option<Duration>,
    /// `Retries`.
    pub retries: Option<u32>,
    /// `StartPeriod`.
    pub start_period: Option<Duration>,
}

/// The `docker run` options beyond MaestroNG 0.8.3's create call, each one field of
/// `Config` or `HostConfig`; `None` or empty sends nothing (the engine's default).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RunSpec {
    /// `Config.StopSignal`.
    pub stop_signal: Option<String>,
    /// `Config.Domainname`.
    pub domainname: Option<String>,
    /// `Config.Entrypoint`; `Some([""])` clears the image's.
    pub entrypoint: Option<Vec<String>>,
    /// `HostConfig.ReadonlyRootfs`.
    pub read_only: bool,
    /// `HostConfig.Tmpfs`: mount point → options.
    pub tmpfs: BTreeMap<String, String>,
    /// `HostConfig.ShmSize` in bytes.
    pub shm_size: Option<i64>,
    /// `HostConfig.Devices`.
    pub devices: Vec<DeviceMapping>,
    /// `HostConfig.Sysctls`.
    pub sysctls: BTreeMap<String, String>,
    /// `HostConfig.Init`.
    pub init: Option<bool>,
    /// `HostConfig.PidMode`.
    pub pid_mode: Option<String>,
    /// `HostConfig.IpcMode`.
    pub ipc_mode: Option<String>,
    /// `HostConfig.GroupAdd`.
    pub group_add: Vec<String>,
    /// `HostConfig.CpusetCpus`.
    pub cpuset_cpus: Option<String>,
    /// `HostConfig.MemoryReservation` in bytes.
    pub memory_reservation: Option<i64>,
    /// `HostConfig.PidsLimit`.
    pub pids_limit: Option<i64>,
    /// `HostConfig.OomKillDisable`.
    pub oom_kill_disable: Option<bool>,
    /// `HostConfig.Runtime`.
    pub runtime: Option<String>,
}

/// A `HostConfig.Devices` entry.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DeviceMapping {
    /// `PathOnHost`.
    pub path_on_host: String,
    /// `PathInContainer`.
    pub path_in_container: String,
    /// `CgroupPermissions` (`rwm` or fewer).
    pub cgroup_permissions: String,
}

/// How to reach one ship's Docker daemon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShipEndpoint {
    /// The ship's name in the configuration; every error about this daemon names it.
    pub ship: String,
    /// Where the daemon listens.
    pub transport: ShipTransport,
    /// Which Engine API version to speak.
    pub api_version: ApiVersion,
    /// HTTP timeout for each request (MaestroNG: `timeout`, default 5 s). Operations that
    /// legitimately take longer (stop) extend it by their own duration.
    pub timeout: Duration,
}

/// Where a daemon listens (MaestroNG: `socket_path`, or `endpoint`/`ip` + `docker_port`
/// with or without `tls`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShipTransport {
    /// A local unix socket, e.g. `/var/run/docker.sock`.
    Unix {
        /// Socket path (MaestroNG resolves it with `realpath` relative to the CWD).
        path: PathBuf,
    },
    /// Plain HTTP over TCP (MaestroNG default port 2375).
    Tcp {
        /// Host name or address dialled.
        host: String,
        /// TCP port.
        port: u16,
    },
    /// HTTPS (MaestroNG default port 2376).
    Tls {
        /// Host name or address dialled.
        host: String,
        /// TCP port.
        port: u16,
        /// Certificates and verification settings.
        tls: TlsSettings,
    },
}

/// TLS settings of a ship (MaestroNG: `tls_ca_cert`, `tls_cert`, `tls_key`, `tls_verify`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TlsSettings {
    /// CA bundle (PEM) trusted for the server certificate; `None` = the system's roots.
    pub ca_cert: Option<PathBuf>,
    /// Client certificate chain (PEM), sent when the daemon asks (`--tlsverify` daemons do).
    pub client_cert: Option<PathBuf>,
    /// Private key (PEM) of the client certificate; required with `client_cert`.
    pub client_key: Option<PathBuf>,
    /// Check the server certificate (chain and name). MaestroNG's `tls_verify`, off by default.
    pub verify: bool,
    /// Name the server certificate must carry when verifying; `None` = the host dialled.
    /// Lets a ship be reached by address while its certificate names it by DNS name.
    pub server_name: Option<String>,
}

/// Engine API version selection (MaestroNG's `api_version`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ApiVersion {
    /// Speak the newest version both the client and the daemon support
    /// (MaestroNG's `auto`).
    #[default]
    Auto,
    /// Speak exactly this `major.minor` version; connecting fails if the daemon's
    /// supported range does not include it.
    Pinned(String),
}

/// Credentials and retry rule for one registry (MaestroNG's `registries` entry).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryAuth {
    /// Registry address as Docker expects it in `serveraddress` (e.g. `127.0.0.1:5000`
    /// or `https://index.docker.io/v1/`).
    pub server_address: String,
    /// User name.
    pub username: String,
    /// Password; never printed (its `Debug` is redacted) and scrubbed from error texts.
    pub password: Secret,
    /// An identity token (OAuth refresh token) from the Docker client configuration,
    /// sent instead of or beside the password; never printed, scrubbed likewise.
    pub identity_token: Option<Secret>,
    /// E-mail (MaestroNG requires the key, the daemon ignores it nowadays).
    pub email: Option<String>,
    /// When to try a failed pull again.
    pub retry: RetryPolicy,
}

/// MaestroNG's `retry: {attempts, when}`: a pull refused with an HTTP status listed in
/// `when` is tried again after a pause, up to `attempts` tries in all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Total number of tries (MaestroNG default 3); 0 behaves like 1.
    pub attempts: u32,
    /// HTTP status codes that are worth another try (MaestroNG default: none).
    pub when: Vec<u16>,
    /// Pause between tries (MaestroNG: 1 s).
    pub delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 3,
            when: Vec::new(),
            delay: Duration::from_secs(1),
        }
    }
}

/// A string that must never reach the terminal or a log: `Debug` shows `***`, and
/// there is deliberately no `Display`.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret itself, for the one place that must send it (the registry auth header).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_debug_is_redacted() {
        let auth = RegistryAuth {
            server_address: "127.0.0.1:5000".into(),
            username: "u".into(),
            password: Secret::new("hunter2"),
            identity_token: Some(Secret::new("t0ken-xyz")),
            email: None,
            retry: RetryPolicy::default(),
        };
        let shown = format!("{auth:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(!shown.contains("t0ken-xyz"), "{shown}");
        assert!(shown.contains("***"), "{shown}");
    }

    #[test]
    fn restart_policy_names_match_the_engine_api() {
        let names: Vec<_> = [
            RestartPolicyName::No,
            RestartPolicyName::Always,
            RestartPolicyName::OnFailure,
            RestartPolicyName::UnlessStopped,
        ]
        .iter()
        .map(|n| n.as_str())
        .collect();
        assert_eq!(names, ["no", "always", "on-failure", "unless-stopped"]);
    }
}
