//! The JSON Schema (draft 2020-12) of `maestro.yaml` that `maestro schema`
//! prints, so editors can complete keys and flag typos before maestro runs.
//!
//! It is generated from the loader's own tables: each section's properties
//! are its allowed-keys table in `keys.rs`, in the table's order,
//! and each key's accepted shapes, description and allowed values are its
//! `Entry` here, one table per section (`SECTIONS`). A unit test fails
//! when a key of any table in `keys.rs` has no entry (or an entry names no
//! key), so a new key cannot ship without its schema.
//!
//! A new key: an `Entry` in its section's table below, with a `Shape`
//! (a shape that is more than a scalar, a list or a mapping of scalars is a
//! `Def`, written in one of the `*_defs` functions). A new section of
//! `keys.rs`: a table here and a row of `SECTIONS`, and a `Def` of it
//! (`object_of`) where its parent refers to it.
//!
//! What it accepts is what the loader reads without an error, with
//! deliberate differences: an unknown key, which MaestroNG ignores and
//! maestro only warns about (an error with `--strict`), is rejected
//! (`additionalProperties: false`), since a typo is what an editor should
//! show; and so are the values the loader reads with a warning that they
//! are likely mistakes (a flag that is not a boolean, `requires` given as
//! one name). Scalars are accepted as both YAML 1.1 (MaestroNG's, so `yes` is
//! true and `22:22` a number) and YAML 1.2 (editors' default, where `yes`
//! is a string) read them. Rules that tie a value to another key or
//! section stay the loader's alone: a membership names a declared network,
//! an `ipv4_address` lies in its subnet, `net` or `networks`, a `hostname`
//! without `net: host`, a gateway inside its subnet. The schema describes
//! the rendered file: a description whose Jinja tags stand outside YAML
//! strings is not YAML before rendering.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use super::http::{IGNORED as IGNORED_REQUESTS_OPTIONS, KNOWN as REQUESTS_OPTIONS};
use super::keys::{
    auditor, auditor_types, check, check_types, extra_host, healthcheck, instance, ipam, limits,
    meta, named_volume, network, network_ref, port, registry, restart, retry, service, ship,
    ssh_tunnel, top, ulimit, volume,
};
use super::networks::PREDEFINED as PREDEFINED_NETWORKS;
use super::options::LOG_DRIVERS;
use super::runopts::{IPC_MODES, PID_MODES, SIGNALS};
use super::ships::STRICT_HOST_KEY_CHECKING;

/// The dialect the schema is written in.
pub const DIALECT: &str = "https://json-schema.org/draft/2020-12/schema";

/// The states a lifecycle may have checks for.
pub(super) const LIFECYCLE_STATES: &[&str] = &["pre-start", "running", "pre-stop", "stopped"];
/// The restart policies Docker knows.
pub(super) const RESTART_POLICIES: &[&str] = &["no", "always", "on-failure", "unless-stopped"];
/// The lifecycle check types and the keys each takes.
const CHECK_TYPES: &[(&str, &[&str])] = &[
    ("tcp", check_types::TCP),
    ("http", check_types::HTTP),
    ("exec", check_types::EXEC),
    ("rexec", check_types::REXEC),
    ("sleep", check_types::SLEEP),
    ("health", check_types::HEALTH),
];
/// The states whose checks may wait for the engine's health check (it
/// probes running containers only).
const HEALTH_STATES: &[&str] = &["running", "pre-stop"];
/// A network or named volume name as Docker accepts it.
const DOCKER_NAME: &str = "^[a-zA-Z0-9][a-zA-Z0-9_.-]+$";
/// An IPv4 address as Rust's parser reads it (no leading zeros).
const IPV4: &str = "((25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\\.){3}(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])";
/// An IPv6 address, loosely (the loader parses it).
const IPV6: &str = "[0-9a-fA-F]*:[0-9a-fA-F:.]*";
/// The auditor types and the keys each takes besides the common ones.
const AUDITOR_TYPES: &[(&str, &[&str])] = &[
    ("log", auditor_types::LOG),
    ("http", auditor_types::HTTP),
    ("exec", auditor_types::EXEC),
    ("slack", auditor_types::SLACK),
    ("hipchat", auditor_types::HIPCHAT),
    // An auditor that always fails, of MaestroNG's own test files.
    ("_fail", &[]),
];

/// What a key's value may be.
#[derive(Debug, Clone, Copy)]
pub(super) enum Shape {
    /// A scalar read as Python's `str()`: a string, a number or a boolean.
    Text,
    /// A string or a list of strings.
    TextList,
    /// A mapping of names to scalars.
    TextMap,
    /// An integer, or a string of digits (MaestroNG calls `int()`).
    Int,
    /// A non-negative integer, or a string of digits.
    Count,
    /// A TCP or UDP port number, 1 to 65535.
    PortNumber,
    /// A number of seconds (integer or decimal, not negative).
    Seconds,
    /// `true` or `false` (YAML 1.1 also `yes`/`no`/`on`/`off`).
    Flag,
    /// One of these strings.
    OneOf(&'static [&'static str]),
    /// A size: bytes, or a number with a `k`, `m` or `g` suffix (`512m`).
    Size,
    /// Any value.
    Any,
    /// The definition of that name (`$defs`).
    Def(&'static str),
}

/// One key's schema: its shape, whether the section needs it, what it is for.
#[derive(Debug, Clone, Copy)]
pub(super) struct Entry {
    /// The key, as `keys.rs` names it.
    pub key: &'static str,
    /// What its value may be.
    pub shape: Shape,
    /// Whether the loader refuses the section without it.
    pub required: bool,
    /// What it is for, shown by editors.
    pub doc: &'static str,
}

/// An optional key.
const fn opt(key: &'static str, shape: Shape, doc: &'static str) -> Entry {
    Entry {
        key,
        shape,
        required: false,
        doc,
    }
}

/// A key the section needs.
const fn req(key: &'static str, shape: Shape, doc: &'static str) -> Entry {
    Entry {
        key,
        shape,
        required: true,
        doc,
    }
}

use Shape::*;

const TOP: &[Entry] = &[
    opt(
        top::MAESTRO,
        Def("meta"),
        "File metadata: `{schema: 2}` selects schema 2 (volumes are `host: container`); absent or 1 is schema 1.",
    ),
    req(
        top::NAME,
        Text,
        "The environment's name (MAESTRO_ENVIRONMENT_NAME in every container).",
    ),
    opt(
        top::REGISTRIES,
        Def("registries"),
        "Image registries and their credentials, by name.",
    ),
    opt(
        top::SHIP_DEFAULTS,
        Def("ship_defaults"),
        "Defaults for every ship (any ship key but ip and endpoint).",
    ),
    opt(
        top::SHIP_PROVIDER,
        OneOf(&["static"]),
        "Where ships come from; only `static` (the `ships` section).",
    ),
    req(top::SHIPS, Def("ships"), "The Docker hosts, by name."),
    opt(
        top::SERVICES,
        Def("services"),
        "The services, by name; each has instances (containers).",
    ),
    opt(
        top::AUDIT,
        Def("audit"),
        "Auditors told of every play (log file, webhook, script, Slack, HipChat).",
    ),
    opt(
        top::NETWORKS,
        Def("networks"),
        "User-defined networks, by name (new in maestro): created on each ship whose containers join them, labelled with the environment.",
    ),
    opt(
        top::VOLUMES,
        Def("named_volumes"),
        "Named volumes' settings, by name (new in maestro); an instance mounts one by name in `volumes` (`pgdata: /data`).",
    ),
];

const META: &[Entry] = &[opt(
    meta::SCHEMA,
    Any,
    "The file's schema version: 1 (the default) or 2. MaestroNG reads any value but 1 as 2.",
)];

const REGISTRY: &[Entry] = &[
    req(
        registry::REGISTRY,
        Text,
        "The registry's URL (`https://registry.example:5000`).",
    ),
    opt(registry::USERNAME, Text, "User name to log in with."),
    opt(
        registry::PASSWORD,
        Text,
        "Password to log in with (never printed).",
    ),
    opt(
        registry::EMAIL,
        Text,
        "E-mail address for the login (old registries).",
    ),
    opt(
        registry::RETRY,
        Def("retry"),
        "Retrying a pull that failed.",
    ),
];

const RETRY: &[Entry] = &[
    opt(retry::ATTEMPTS, Count, "How many times to try a pull."),
    opt(
        retry::WHEN,
        Def("status_codes"),
        "The HTTP statuses worth another attempt.",
    ),
];

const SHIP: &[Entry] = &[
    req(
        ship::IP,
        Text,
        "The ship's address, as containers advertise it (and the daemon's, without endpoint).",
    ),
    opt(
        ship::ENDPOINT,
        Text,
        "The daemon's host name or address when it differs from ip (the name in its TLS certificate).",
    ),
    opt(
        ship::DOCKER_PORT,
        PortNumber,
        "The daemon's TCP port (2375, or 2376 with tls).",
    ),
    opt(
        ship::SOCKET_PATH,
        Text,
        "The daemon's unix socket (on the ship, with ssh_tunnel).",
    ),
    opt(
        ship::SSH_TUNNEL,
        Def("ssh_tunnel"),
        "Reach the daemon through an SSH tunnel.",
    ),
    opt(
        ship::API_VERSION,
        Text,
        "The Docker API version to speak (\"1.41\"), or `auto`; quote it: 1.40 is a YAML number.",
    ),
    opt(
        ship::TIMEOUT,
        Seconds,
        "Seconds to wait for the daemon (default 5).",
    ),
    opt(ship::TLS, Flag, "Speak TLS with a client certificate."),
    opt(ship::TLS_VERIFY, Flag, "Verify the daemon's certificate."),
    opt(
        ship::TLS_CA_CERT,
        Text,
        "The CA certificate file (relative to this file).",
    ),
    opt(ship::TLS_CERT, Text, "The client certificate file."),
    opt(ship::TLS_KEY, Text, "The client key file."),
    opt(
        ship::SSL_VERSION,
        Text,
        "A TLS version for MaestroNG; read and not used (TLS 1.2 or 1.3 is negotiated).",
    ),
    opt(
        ship::SSH_TIMEOUT,
        Any,
        "Documented by MaestroNG and ignored by it; accepted and ignored.",
    ),
];

const SSH_TUNNEL: &[Entry] = &[
    req(ssh_tunnel::USER, Text, "The SSH user."),
    req(ssh_tunnel::KEY, Text, "The private key file."),
    opt(ssh_tunnel::PORT, PortNumber, "The SSH port (default 22)."),
    opt(
        ssh_tunnel::KNOWN_HOSTS,
        Text,
        "A known_hosts file to check the ship's host key against.",
    ),
    opt(
        ssh_tunnel::STRICT_HOST_KEY_CHECKING,
        Def("strict_host_key_checking"),
        "ssh's StrictHostKeyChecking: yes, no or accept-new.",
    ),
];

const SERVICE: &[Entry] = &[
    req(
        service::IMAGE,
        Text,
        "The image of the service's containers (`name:tag`).",
    ),
    req(
        service::INSTANCES,
        Def("instances"),
        "The service's containers, by container name.",
    ),
    opt(
        service::OMIT,
        Flag,
        "Leave the service out when a command names no service or container (status still shows it).",
    ),
    opt(
        service::ENV,
        Def("env"),
        "Variables of every instance: a mapping, an envfile name, or a list of both.",
    ),
    opt(
        service::ENVFILE,
        Def("env"),
        "Envfiles (KEY=VALUE lines) of every instance, read before env.",
    ),
    opt(
        service::PORTS,
        Def("ports"),
        "Ports of every instance, by name; an instance's ports are merged over them.",
    ),
    opt(
        service::LIMITS,
        Def("limits"),
        "Resource limits of every instance.",
    ),
    opt(
        service::LIFECYCLE,
        Def("lifecycle"),
        "Lifecycle checks of every instance.",
    ),
    opt(
        service::REQUIRES,
        Def("service_names"),
        "Services started before this one; their link variables are injected.",
    ),
    opt(
        service::WANTS_INFO,
        Def("service_names"),
        "Services whose link variables are injected, without a start-order dependency.",
    ),
    opt(
        service::NETWORKS,
        Def("service_networks"),
        "Networks every instance joins: `[NAME, ...]` or `{NAME: {aliases}}` (names of the top-level `networks`); an instance's entry replaces this one for its network.",
    ),
    opt(
        service::HEALTHCHECK,
        Def("healthcheck"),
        "The engine's health check of every instance; an instance's keys are merged over it.",
    ),
];

const INSTANCE: &[Entry] = &[
    req(
        instance::SHIP,
        Text,
        "The ship the container runs on (a name of `ships`).",
    ),
    opt(
        instance::IMAGE,
        Text,
        "The image, when it differs from the service's.",
    ),
    opt(
        instance::COMMAND,
        Def("command"),
        "The command: a string (split into arguments as a shell would, without running a shell) or a list of arguments.",
    ),
    opt(
        instance::CMD,
        Def("command"),
        "Deprecated spelling of command.",
    ),
    opt(
        instance::PORTS,
        Def("ports"),
        "Ports by name, merged over the service's.",
    ),
    opt(
        instance::ENV,
        Def("env"),
        "Variables, over the service's: a mapping, an envfile name, or a list of both.",
    ),
    opt(instance::ENVFILE, Def("env"), "Envfiles, read before env."),
    opt(
        instance::VOLUMES,
        Def("volumes"),
        "Bind mounts: schema 2 `host path: container path` or `host path: {target, mode}`; schema 1 `container path: host path`.",
    ),
    opt(
        instance::CONTAINER_VOLUMES,
        TextList,
        "Anonymous volumes: container paths.",
    ),
    opt(
        instance::VOLUMES_FROM,
        TextList,
        "Containers (on the same ship) whose volumes to mount.",
    ),
    opt(
        instance::LINKS,
        TextMap,
        "Docker links: `container name: alias`.",
    ),
    opt(
        instance::USERNAME,
        Text,
        "The user the command runs as (`user` or `uid:gid`).",
    ),
    opt(instance::PRIVILEGED, Flag, "Run privileged."),
    opt(instance::CAP_ADD, TextList, "Capabilities to add."),
    opt(instance::CAP_DROP, TextList, "Capabilities to drop."),
    opt(
        instance::EXTRA_HOSTS,
        Def("extra_hosts"),
        "/etc/hosts entries: `name: address` or `name: {ship: SHIP}`.",
    ),
    opt(
        instance::NET,
        Text,
        "The network mode (`bridge`, `host`, `none`, `container:NAME`).",
    ),
    opt(
        instance::RESTART,
        Def("restart"),
        "The restart policy: `no`, `always`, `on-failure[:N]`, `unless-stopped`, or `{name, retries}`.",
    ),
    opt(instance::DNS, TextList, "DNS servers."),
    opt(
        instance::STOP_TIMEOUT,
        Count,
        "Seconds between SIGTERM and SIGKILL when stopping (default 10).",
    ),
    opt(
        instance::LIMITS,
        Def("limits"),
        "Resource limits, merged over the service's.",
    ),
    opt(instance::LOG_DRIVER, OneOf(LOG_DRIVERS), "The log driver."),
    opt(
        instance::LOG_OPT,
        TextMap,
        "The log driver's options (with log_driver).",
    ),
    opt(instance::LXC_CONF, TextMap, "LXC options (old engines)."),
    opt(instance::WORKDIR, Text, "The working directory."),
    opt(
        instance::SECURITY_OPT,
        TextList,
        "Security options (`label:...`, `apparmor:...`).",
    ),
    opt(
        instance::ULIMITS,
        Def("ulimits"),
        "Resource ulimits: `name: N` or `name: {soft, hard}`.",
    ),
    opt(
        instance::LABELS,
        Def("labels"),
        "Container labels: a mapping, or a list of names.",
    ),
    opt(
        instance::LIFECYCLE,
        Def("lifecycle"),
        "Lifecycle checks, merged over the service's.",
    ),
    opt(
        instance::HEALTHCHECK,
        Def("healthcheck"),
        "The engine's health check (`HEALTHCHECK`), its keys over the service's.",
    ),
    opt(
        instance::STOP_SIGNAL,
        Def("stop_signal"),
        "The signal that stops the container (`--stop-signal`): a name (`SIGUSR1`, `usr1`, `SIGRTMIN+3`) or a number from 1 to 64.",
    ),
    opt(
        instance::HOSTNAME,
        Def("word"),
        "The container's host name (`--hostname`); not with `net: host` or `net: container:NAME`.",
    ),
    opt(
        instance::DOMAINNAME,
        Def("word"),
        "The container's domain name (`--domainname`).",
    ),
    opt(
        instance::READ_ONLY,
        Flag,
        "Mount the root file system read-only (`--read-only`).",
    ),
    opt(
        instance::TMPFS,
        Def("tmpfs"),
        "tmpfs mounts (`--tmpfs`): `/run`, `[/run, \"/tmp:size=1m\"]` or `{/run: \"size=1m\"}`; absolute paths, each once.",
    ),
    opt(
        instance::SHM_SIZE,
        Def("docker_size"),
        "Size of /dev/shm (`--shm-size`): bytes, or `64m`, `1g` (1k = 1024).",
    ),
    opt(
        instance::DEVICES,
        Def("devices"),
        "Host devices (`--device`): `HOST[:CONTAINER][:PERMISSIONS]`, absolute paths, permissions some of rwm.",
    ),
    opt(
        instance::SYSCTLS,
        Def("sysctls"),
        "Kernel parameters (`--sysctl`): `{NAME: VALUE}` or `[NAME=VALUE]`.",
    ),
    opt(
        instance::INIT,
        Flag,
        "Run the engine's init as PID 1 (`--init`).",
    ),
    opt(
        instance::PID,
        Def("pid_mode"),
        "The PID namespace (`--pid`): `host` or `container:NAME`.",
    ),
    opt(
        instance::IPC,
        Def("ipc_mode"),
        "The IPC namespace (`--ipc`): `none`, `private`, `shareable`, `host` or `container:NAME`.",
    ),
    opt(
        instance::GROUP_ADD,
        TextList,
        "Supplementary groups (`--group-add`): names or ids.",
    ),
    opt(
        instance::ENTRYPOINT,
        Def("command"),
        "The entrypoint (`--entrypoint`): a string (split like command) or a list; empty clears the image's.",
    ),
    opt(
        instance::CPUSET,
        Def("cpuset"),
        "The CPUs it may use (`--cpuset-cpus`): numbers and ranges, `0-2,4`.",
    ),
    opt(
        instance::MEM_RESERVATION,
        Def("docker_size"),
        "Soft memory limit (`--memory-reservation`): bytes, or `256m`, `1g` (1k = 1024).",
    ),
    opt(
        instance::PIDS_LIMIT,
        Def("pids_limit"),
        "At most this many processes (`--pids-limit`); -1 for no limit.",
    ),
    opt(
        instance::OOM_KILL_DISABLE,
        Flag,
        "Do not OOM-kill the container (`--oom-kill-disable`).",
    ),
    opt(
        instance::RUNTIME,
        Def("word"),
        "The OCI runtime (`--runtime`): `runc`, ...",
    ),
    opt(
        instance::USER,
        Text,
        "docker compose's spelling of `username`: the user the command runs as (`user` or `uid:gid`); not with username.",
    ),
    opt(
        instance::CPU_SHARES,
        Int,
        "docker compose's spelling of `limits.cpu`: CPU shares (relative weight); not with a limits.cpu of the instance or its service.",
    ),
    opt(
        instance::NETWORKS,
        Def("instance_networks"),
        "Networks the container joins: `[NAME, ...]` or `{NAME: {aliases, ipv4_address}}`, over the service's; not with `net`.",
    ),
];

const NETWORK: &[Entry] = &[
    opt(
        network::DRIVER,
        Text,
        "The network driver (default bridge).",
    ),
    opt(
        network::OPTIONS,
        Def("string_map"),
        "The driver's options (`com.docker.network.driver.mtu: 1400`).",
    ),
    opt(
        network::INTERNAL,
        Flag,
        "No route to the outside (default false).",
    ),
    opt(
        network::IPAM,
        Def("ipam"),
        "A fixed subnet and gateway; an `ipv4_address` needs the subnet.",
    ),
];

const IPAM: &[Entry] = &[
    opt(
        ipam::SUBNET,
        Def("cidr"),
        "The subnet, in CIDR form with the host bits zero (`10.20.0.0/24`).",
    ),
    opt(
        ipam::GATEWAY,
        Def("ip_address"),
        "The gateway, an address inside the subnet (needs subnet).",
    ),
];

const NAMED_VOLUME: &[Entry] = &[
    opt(
        named_volume::DRIVER,
        Text,
        "The volume driver (default local).",
    ),
    opt(
        named_volume::DRIVER_OPTS,
        Def("string_map"),
        "The driver's options (`{type: none, o: bind, device: /srv/data}`).",
    ),
    opt(
        named_volume::LABELS,
        Def("labels"),
        "Labels of the volume: a mapping, or a list of names.",
    ),
];

const NETWORK_REF: &[Entry] = &[
    opt(
        network_ref::ALIASES,
        TextList,
        "More names the container has on this network.",
    ),
    opt(
        network_ref::IPV4_ADDRESS,
        Def("ipv4_address"),
        "A fixed address in the network's ipam subnet (instances only, one per ship and network).",
    ),
];

const HEALTHCHECK: &[Entry] = &[
    opt(
        healthcheck::TEST,
        Def("health_test"),
        "The probe: a command line (run by the shell), `[CMD, program, args...]`, `[CMD-SHELL, line]` or `[NONE]` (none).",
    ),
    opt(
        healthcheck::INTERVAL,
        Def("duration"),
        "Time between probes: `30s`, `1m30s`, `500ms`, or seconds (0: the image's).",
    ),
    opt(
        healthcheck::TIMEOUT,
        Def("duration"),
        "A probe taking longer fails: `30s`, `1m30s`, `500ms`, or seconds.",
    ),
    opt(
        healthcheck::RETRIES,
        Count,
        "Failed probes in a row before unhealthy (0: the image's).",
    ),
    opt(
        healthcheck::START_PERIOD,
        Def("duration"),
        "Failures in this time after start do not count: `30s`, `1m30s`, or seconds.",
    ),
    opt(
        healthcheck::DISABLE,
        Flag,
        "No probe at all, not even the image's (`--no-healthcheck`); not with a test in the same mapping.",
    ),
];

const PORT: &[Entry] = &[
    req(
        port::EXPOSED,
        Def("port_side"),
        "The container's port: `N`, `N-M` or with `/udp`.",
    ),
    req(
        port::EXTERNAL,
        Def("port_external"),
        "The ship's port, or `[host address, port]`.",
    ),
];

const VOLUME: &[Entry] = &[
    req(volume::TARGET, Text, "The path in the container."),
    opt(volume::MODE, Text, "`rw` (default) or `ro`."),
];

const EXTRA_HOST: &[Entry] = &[req(
    extra_host::SHIP,
    Text,
    "A ship whose address the name resolves to.",
)];

const ULIMIT: &[Entry] = &[
    opt(ulimit::SOFT, Int, "The soft limit."),
    opt(ulimit::HARD, Int, "The hard limit."),
];

const RESTART: &[Entry] = &[
    opt(
        restart::NAME,
        OneOf(RESTART_POLICIES),
        "The policy (default no).",
    ),
    opt(
        restart::RETRIES,
        Count,
        "With on-failure: how many restarts.",
    ),
    opt(
        restart::MAXIMUM_RETRY_COUNT,
        Count,
        "Deprecated (0.7.5 documentation): read as retries.",
    ),
];

const LIMITS: &[Entry] = &[
    opt(limits::CPU, Int, "CPU shares (relative weight)."),
    opt(
        limits::MEMORY,
        Size,
        "Memory limit: bytes, or with a k, m or g suffix (`512m`).",
    ),
    opt(limits::SWAP, Size, "Memory plus swap limit, as memory."),
];

const CHECK: &[Entry] = &[
    req(
        check::TYPE,
        Def("check_type"),
        "The check: tcp, http, exec (a command on this machine, given the container's environment), rexec (a command in the container), sleep, or health (the engine's health check reports healthy; running and pre-stop only).",
    ),
    opt(
        check::PORT,
        Text,
        "tcp: a port name of the container; http: a port name or number.",
    ),
    opt(
        check::HOST,
        Text,
        "http: the host to ask (default the ship's address).",
    ),
    opt(
        check::MATCH_REGEX,
        Text,
        "http: a Python regular expression the body must match.",
    ),
    opt(check::PATH, Text, "http: the path (default /)."),
    opt(
        check::SCHEME,
        Def("scheme"),
        "http: http (default) or https.",
    ),
    opt(
        check::METHOD,
        Def("http_method"),
        "http: the HTTP method (default get).",
    ),
    opt(
        check::MAX_WAIT,
        Count,
        "tcp, http, health: seconds to keep trying (defaults 180, 300, 300).",
    ),
    opt(
        check::REQUESTS_OPTIONS,
        Def("requests_options"),
        "http: options of Python requests (auth, headers, cert, verify, timeout, allow_redirects, params).",
    ),
    opt(
        check::COMMAND,
        Text,
        "exec, rexec: the command, split into arguments as a shell would (exit status 0 passes).",
    ),
    opt(check::CMD, Text, "exec: deprecated spelling of command."),
    opt(
        check::ATTEMPTS,
        Count,
        "exec, rexec: how many times to try (default 180).",
    ),
    opt(
        check::ENVFROM,
        OneOf(&["env", "stdin"]),
        "exec: how the command gets the container's environment: as its variables (env) or as JSON on standard input (stdin).",
    ),
    opt(check::WAIT, Seconds, "sleep: seconds to wait."),
];

const AUDITOR: &[Entry] = &[
    req(
        auditor::TYPE,
        Def("auditor_type"),
        "The auditor: log, http (webhook), exec (script), slack or hipchat.",
    ),
    opt(
        auditor::LEVEL,
        Def("audit_level"),
        "info (default) or debug, or a Python logging level.",
    ),
    opt(
        auditor::IGNORE_ERRORS,
        Flag,
        "Go on when the auditor fails (only true counts).",
    ),
    opt(auditor::FILE, Text, "log: the file to append to."),
    opt(
        auditor::ENDPOINT,
        Def("url"),
        "http: the URL (http:// or https://; user:password@ becomes basic auth).",
    ),
    opt(
        auditor::PAYLOAD,
        Any,
        "http: the body; strings may use {what}, {action}, {who}, {message}.",
    ),
    opt(auditor::HEADERS, TextMap, "http: request headers."),
    opt(
        auditor::METHOD,
        Def("audit_method"),
        "http: GET or POST (default), in any case.",
    ),
    opt(auditor::TIMEOUT, Seconds, "http: seconds (more than 0)."),
    opt(auditor::SCRIPT, Text, "exec: the script to run."),
    opt(
        auditor::ARGS,
        Text,
        "exec: its arguments, split on spaces; may use {action}, {what}, {who}.",
    ),
    opt(
        auditor::NAME,
        Text,
        "slack, hipchat: the name messages come from.",
    ),
    opt(auditor::CHANNEL, Text, "slack: the channel."),
    opt(
        auditor::TOKEN,
        Text,
        "slack, hipchat: the API token (never printed).",
    ),
    opt(auditor::ICON, Text, "slack: the icon URL."),
    opt(auditor::ROOM, Text, "hipchat: the room."),
];

/// Every section: its name in `keys.rs`, its allowed-keys table there, and
/// its entries here.
pub(super) const SECTIONS: &[(&str, &[&str], &[Entry])] = &[
    ("top", top::ALL, TOP),
    ("meta", meta::ALL, META),
    ("registry", registry::ALL, REGISTRY),
    ("retry", retry::ALL, RETRY),
    ("ship", ship::ALL, SHIP),
    ("ssh_tunnel", ssh_tunnel::ALL, SSH_TUNNEL),
    ("service", service::ALL, SERVICE),
    ("instance", instance::ALL, INSTANCE),
    ("port", port::ALL, PORT),
    ("volume", volume::ALL, VOLUME),
    ("extra_host", extra_host::ALL, EXTRA_HOST),
    ("ulimit", ulimit::ALL, ULIMIT),
    ("restart", restart::ALL, RESTART),
    ("limits", limits::ALL, LIMITS),
    ("check", check::ALL, CHECK),
    ("auditor", auditor::ALL, AUDITOR),
    ("network", network::ALL, NETWORK),
    ("ipam", ipam::ALL, IPAM),
    ("named_volume", named_volume::ALL, NAMED_VOLUME),
    ("network_ref", network_ref::ALL, NETWORK_REF),
    ("healthcheck", healthcheck::ALL, HEALTHCHECK),
];

/// A section's entries by name (a name not in [`SECTIONS`] is a bug here).
fn entries_of(section: &str) -> (&'static [&'static str], &'static [Entry]) {
    SECTIONS
        .iter()
        .find(|(name, _, _)| *name == section)
        .map(|(_, all, entries)| (*all, *entries))
        .unwrap_or((&[], &[]))
}

/// The JSON Schema of a description.
pub fn schema() -> Value {
    let mut root = object_of("top", &[]);
    let root_map = root.as_object_mut().expect("an object schema");
    // Keys starting with `_` hold YAML anchors (`_globals`) and are ignored.
    root_map.insert("patternProperties".into(), json!({"^_": {}}));
    root_map.insert("if".into(), json!({"$ref": "#/$defs/schema_2"}));
    root_map.insert("else".into(), schema_1_volumes());
    let mut doc = Map::new();
    doc.insert("$schema".into(), json!(DIALECT));
    doc.insert("title".into(), json!("maestro environment description"));
    doc.insert(
        "description".into(),
        json!("A maestro.yaml (MaestroNG 0.8.3's format) after its Jinja pre-pass. Generated by `maestro schema` from the tables the loader uses."),
    );
    doc.extend(std::mem::take(root_map));
    doc.insert("$defs".into(), Value::Object(defs()));
    Value::Object(doc)
}

/// A section as an object schema: its table's keys, no others. `skip`
/// leaves keys out (`ship_defaults` takes no ip or endpoint).
fn object_of(section: &str, skip: &[&str]) -> Value {
    let (all, entries) = entries_of(section);
    let mut properties = Map::new();
    let mut required = Vec::new();
    for key in all.iter().filter(|k| !skip.contains(k)) {
        let Some(entry) = entries.iter().find(|e| e.key == *key) else {
            // The unit tests fail on this; the key is still allowed.
            properties.insert((*key).into(), json!({}));
            continue;
        };
        let mut schema = shape(entry.shape);
        if entry.required {
            required.push(json!(entry.key));
        } else {
            schema = nullable(schema);
        }
        with_doc(&mut schema, entry.doc);
        properties.insert(entry.key.into(), schema);
    }
    let mut out = json!({
        "type": "object",
        "properties": properties,
        "additionalProperties": false,
    });
    if !required.is_empty() {
        out["required"] = Value::Array(required);
    }
    out
}

/// Adds a description to a schema.
fn with_doc(schema: &mut Value, doc: &str) {
    if let Value::Object(map) = schema {
        map.insert("description".into(), json!(doc));
    }
}

/// A schema that also accepts null (an optional key left empty: absent),
/// without wrapping it in an `anyOf`, so a validator's error inside it stays
/// precise (a misspelt key is named, not "no alternative matched").
fn nullable(mut schema: Value) -> Value {
    let null = json!("null");
    if let Value::Object(map) = &mut schema {
        if let Some(kind) = map.get_mut("type") {
            match kind {
                Value::Array(kinds) if !kinds.contains(&null) => kinds.push(null),
                Value::String(_) => *kind = Value::Array(vec![kind.clone(), null]),
                _ => {}
            }
        } else if let Some(Value::Array(alternatives)) = map.get_mut("anyOf") {
            alternatives.push(json!({"type": "null"}));
        } else if let Some(Value::Array(values)) = map.get_mut("enum") {
            values.push(Value::Null);
        }
        // A `$ref`: the definition itself takes null (see `optional_defs`).
    }
    schema
}

/// The definitions optional keys refer to: each takes null too.
fn optional_defs() -> BTreeSet<&'static str> {
    SECTIONS
        .iter()
        .flat_map(|(_, _, entries)| entries.iter())
        .filter(|e| !e.required)
        .filter_map(|e| match e.shape {
            Def(name) => Some(name),
            _ => None,
        })
        .collect()
}

/// YAML 1.1 spellings of booleans that YAML 1.2 reads as strings.
const YAML11_BOOLEANS: &[&str] = &[
    "yes", "Yes", "YES", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF",
];

/// A shape as a schema.
fn shape(shape: Shape) -> Value {
    match shape {
        Text => json!({"type": ["string", "number", "boolean"]}),
        TextList => json!({"anyOf": [
            {"type": ["string", "number", "boolean"]},
            {"type": "array", "items": {"type": ["string", "number", "boolean"]}},
        ]}),
        TextMap => json!({
            "type": "object",
            "additionalProperties": {"type": ["string", "number", "boolean", "null"]},
        }),
        Int => json!({"anyOf": [
            {"type": "integer"},
            {"type": "string", "pattern": "^\\s*[+-]?[0-9]+\\s*$"},
        ]}),
        Count => json!({"anyOf": [
            {"type": "integer", "minimum": 0},
            {"type": "string", "pattern": "^\\s*\\+?[0-9]+\\s*$"},
        ]}),
        PortNumber => json!({"anyOf": [
            {"type": "integer", "minimum": 1, "maximum": 65535},
            {"type": "string", "pattern": "^\\s*[0-9]{1,5}\\s*$"},
        ]}),
        Seconds => json!({"anyOf": [
            {"type": "number", "minimum": 0},
            {"type": "string", "pattern": "^\\s*\\+?[0-9]+\\s*$"},
        ]}),
        Flag => json!({"anyOf": [{"type": "boolean"}, {"enum": YAML11_BOOLEANS}]}),
        OneOf(values) => json!({"enum": values}),
        Size => json!({"anyOf": [
            {"type": "integer"},
            {"type": "boolean", "const": false},
            {"type": "string", "pattern": "^([0-9]*|\\s*[+-]?[0-9_]+\\s*[kKmMgG])$"},
        ]}),
        Any => json!({}),
        Def(name) => json!({"$ref": format!("#/$defs/{name}")}),
    }
}

/// A mapping of names to `value` (null reads as empty).
fn named(value: Value, doc: &str) -> Value {
    json!({"type": ["object", "null"], "additionalProperties": value, "description": doc})
}

/// Port syntax: `N`, `N-M`, each with an optional `/tcp` or `/udp`.
const PORT_SIDE: &str = "[0-9]+(-[0-9]+)?(/(tcp|udp))?";

/// The named definitions the sections refer to; those optional keys
/// refer to take null too.
fn defs() -> Map<String, Value> {
    let mut d = Map::new();
    file_defs(&mut d);
    service_defs(&mut d);
    port_defs(&mut d);
    option_defs(&mut d);
    run_option_defs(&mut d);
    size_and_device_defs(&mut d);
    limit_and_health_defs(&mut d);
    network_defs(&mut d);
    membership_defs(&mut d);
    check_defs(&mut d);
    for name in optional_defs() {
        if let Some(def) = d.remove(name) {
            d.insert(name.to_owned(), nullable(def));
        }
    }
    d
}

/// The top level, registries and ships.
fn file_defs(d: &mut Map<String, Value>) {
    let mut put = |name: &str, value: Value| {
        d.insert(name.into(), value);
    };
    put("meta", object_of("meta", &[]));
    put(
        "schema_2",
        json!({
            "description": "A schema 2 file: __maestro.schema is set to something other than 1.",
            "required": [top::MAESTRO],
            "properties": {top::MAESTRO: {
                "type": "object",
                "required": [meta::SCHEMA],
                "properties": {meta::SCHEMA: {"not": {"enum": [1, true]}}},
            }},
        }),
    );
    put(
        "registries",
        named(object_of("registry", &[]), "Registries by name."),
    );
    put("retry", object_of("retry", &[]));
    put(
        "status_codes",
        json!({"type": "array", "items": {"anyOf": [
            {"type": "integer", "minimum": 0, "maximum": 65535},
            {"type": "string", "pattern": "^\\s*[0-9]{1,5}\\s*$"},
        ]}}),
    );
    put(
        "ship_defaults",
        object_of("ship", &[ship::IP, ship::ENDPOINT]),
    );
    put("ships", named(object_of("ship", &[]), "Ships by name."));
    put("ssh_tunnel", object_of("ssh_tunnel", &[]));
    put(
        "strict_host_key_checking",
        json!({"anyOf": [{"type": "boolean"}, {"enum": STRICT_HOST_KEY_CHECKING}]}),
    );
}

/// Services, instances and their environment.
fn service_defs(d: &mut Map<String, Value>) {
    let scalar = json!({"type": ["string", "number", "boolean"]});
    let mut put = |name: &str, value: Value| {
        d.insert(name.into(), value);
    };
    put(
        "services",
        named(object_of("service", &[]), "Services by name."),
    );
    put(
        "instances",
        named(
            instance_object(),
            "Instances (containers) by name; each name once in the file.",
        ),
    );
    put(
        "service_names",
        json!({"type": "array", "items": scalar.clone(), "description": "Service names."}),
    );
    put(
        "command",
        json!({"anyOf": [scalar.clone(), {"type": "array", "items": scalar.clone()}]}),
    );
    put("env", env());
    put(
        "env_value",
        json!({
            "description": "A variable's value: any scalar (printed as Python prints it: `True`, `1.5`), a list (joined with spaces), or null (the variable without a value).",
            "anyOf": [
                {"type": ["string", "number", "boolean", "null", "object"]},
                {"type": "array", "items": {"$ref": "#/$defs/env_value"}},
            ],
        }),
    );
}

/// Ports and their two sides.
fn port_defs(d: &mut Map<String, Value>) {
    let scalar = json!({"type": ["string", "number", "boolean"]});
    let mut put = |name: &str, value: Value| {
        d.insert(name.into(), value);
    };
    put(
        "ports",
        named(
            json!({"$ref": "#/$defs/port"}),
            "Ports by name (the name is used in link variables and checks).",
        ),
    );
    put(
        "port",
        json!({
            "description": "`N` (exposed and published on the same port), `\"EXPOSED:EXTERNAL\"` (each `N`, `N-M`, with `/udp` or `/tcp`), or `{exposed, external}`. Quote `A:B`: YAML 1.1 reads 22:22 as a number.",
            "anyOf": [
                {"type": "integer", "minimum": 0, "maximum": 65535},
                {"type": "string", "pattern": format!("^{PORT_SIDE}(:{PORT_SIDE})?$")},
                object_of("port", &[]),
            ],
        }),
    );
    put(
        "port_side",
        json!({"anyOf": [
            {"type": "integer", "minimum": 0, "maximum": 65535},
            {"type": "string", "pattern": format!("^{PORT_SIDE}$")},
        ]}),
    );
    put(
        "port_external",
        json!({"anyOf": [
            {"$ref": "#/$defs/port_side"},
            {
                "type": "array",
                "minItems": 2,
                "prefixItems": [scalar.clone(), {"$ref": "#/$defs/port_side"}],
                "description": "[host address, port]",
            },
        ]}),
    );
}

/// Volumes, hosts, restart, resources and labels.
fn option_defs(d: &mut Map<String, Value>) {
    let scalar = json!({"type": ["string", "number", "boolean"]});
    let mut put = |name: &str, value: Value| {
        d.insert(name.into(), value);
    };
    put("volumes", volumes(true));
    put("volumes_schema_1", nullable(volumes(false)));
    put(
        "extra_hosts",
        json!({"type": "object", "additionalProperties": {"anyOf": [
            {"type": "string"},
            object_of("extra_host", &[]),
        ]}}),
    );
    put(
        "restart",
        json!({"anyOf": [
            {
                "type": "string",
                "pattern": format!("^({})(:[0-9]+)?$", RESTART_POLICIES.join("|")),
                "examples": ["no", "always", "on-failure:3", "unless-stopped"],
            },
            object_of("restart", &[]),
            {"const": false, "description": "`restart: no` unquoted: YAML 1.1 reads it as false, which is no restart policy."},
        ]}),
    );
    put("limits", object_of("limits", &[]));
    put(
        "ulimits",
        json!({"type": "object", "additionalProperties": {"anyOf": [
            {"type": "integer"},
            object_of("ulimit", &[]),
        ]}}),
    );
    put(
        "labels",
        json!({"anyOf": [
            {"type": "array", "items": scalar.clone()},
            {"type": "object", "additionalProperties": {"type": ["string", "number", "boolean", "null"]}},
        ]}),
    );
}

/// A pattern matching `word` in any case (`[sS][iI][gG]`).
fn any_case(word: &str) -> String {
    word.chars()
        .map(|c| {
            if c.is_ascii_alphabetic() {
                format!("[{}{}]", c.to_ascii_lowercase(), c.to_ascii_uppercase())
            } else if c.is_ascii_alphanumeric() {
                c.to_string()
            } else {
                format!("\\{c}")
            }
        })
        .collect()
}

/// A decimal number as Docker's size and Go's duration parsers read it.
const DECIMAL: &str = "([0-9]+\\.?[0-9]*|\\.[0-9]+)";

/// The `docker run` options' signals, names and tmpfs mounts (`config/runopts.rs`).
fn run_option_defs(d: &mut Map<String, Value>) {
    let mut put = |name: &str, value: Value| {
        d.insert(name.into(), value);
    };
    let names: Vec<String> = SIGNALS.iter().map(|s| any_case(s)).collect();
    let realtime = "([1-9]|1[0-5])";
    put(
        "stop_signal",
        json!({"anyOf": [
            {"type": "integer", "minimum": 1, "maximum": 64},
            {"type": "string", "pattern": format!(
                "^\\s*(\\+?0*([1-9]|[1-5][0-9]|6[0-4])|({})?({}|{}(\\+{realtime})?|{}(-{realtime})?))\\s*$",
                any_case("SIG"), names.join("|"), any_case("RTMIN"), any_case("RTMAX"),
            )},
        ]}),
    );
    put(
        "word",
        json!({"anyOf": [
            {"type": "string", "pattern": "^\\S+$"},
            {"type": ["number", "boolean"]},
        ]}),
    );
    let absolute = json!({"type": "string", "pattern": "^/"});
    put(
        "tmpfs",
        json!({"anyOf": [
            absolute.clone(),
            {"type": "array", "items": absolute},
            {
                "type": "object",
                "propertyNames": {"pattern": "^/"},
                "additionalProperties": {"type": ["string", "number", "boolean", "null"]},
            },
        ]}),
    );
}

/// Sizes, devices and sysctls (`config/runopts.rs`).
fn size_and_device_defs(d: &mut Map<String, Value>) {
    let mut put = |name: &str, value: Value| {
        d.insert(name.into(), value);
    };
    let units: String = "kmgtp"
        .chars()
        .map(|c| any_case(&c.to_string()))
        .collect::<Vec<_>>()
        .join("|");
    put(
        "docker_size",
        json!({"anyOf": [
            {"type": "integer", "minimum": 0},
            {"type": "string", "pattern": format!("^\\s*{DECIMAL}\\s*({units})?[iI]?[bB]?\\s*$")},
        ]}),
    );
    let device = json!({"type": "string", "pattern": "^/[^:]*(:/[^:]*)?(:[rwm]{1,3})?$"});
    put(
        "devices",
        json!({"anyOf": [device.clone(), {"type": "array", "items": device}]}),
    );
    put(
        "sysctls",
        json!({"anyOf": [
            {
                "type": "object",
                "propertyNames": {"pattern": "^\\S+$"},
                "additionalProperties": {"type": ["string", "number", "boolean"]},
            },
            {"type": "array", "items": {"type": "string", "pattern": "^\\s*[^=\\s]+\\s*="}},
        ]}),
    );
}

/// The namespaces, CPU and process limits and the health check
/// (`config/runopts.rs`, `config/healthcheck.rs`).
fn limit_and_health_defs(d: &mut Map<String, Value>) {
    let mut put = |name: &str, value: Value| {
        d.insert(name.into(), value);
    };
    // A mode the parser lists, or `container:NAME` as `namespace` reads it.
    let namespace = |modes: &[&str]| {
        let pattern = format!("^({}|container:\\S+)$", modes.join("|"));
        json!({"type": "string", "pattern": pattern})
    };
    put("pid_mode", namespace(PID_MODES));
    put("ipc_mode", namespace(IPC_MODES));
    put(
        "cpuset",
        json!({"anyOf": [
            {"type": "integer", "minimum": 0},
            {"type": "string", "pattern": "^[0-9]+(-[0-9]+)?(,[0-9]+(-[0-9]+)?)*$"},
        ]}),
    );
    put(
        "pids_limit",
        json!({"anyOf": [
            {"type": "integer", "minimum": -1},
            {"type": "string", "pattern": "^\\s*(\\+?[0-9]+|-0*1|-0+)\\s*$"},
        ]}),
    );
    put("healthcheck", object_of("healthcheck", &[]));
    put("health_test", health_test());
    put(
        "duration",
        json!({"anyOf": [
            {"type": "number", "minimum": 0},
            {"type": "string", "pattern": format!(
                "^\\s*({DECIMAL}|({DECIMAL}(ns|us|µs|ms|s|m|h))+)\\s*$"
            )},
        ]}),
    );
}

/// `healthcheck.test`: a command line, or a list that starts with `NONE`
/// (alone), `CMD` (and a program) or `CMD-SHELL` (and one line). A draft 7
/// engine does not check which word comes first.
fn health_test() -> Value {
    let word = json!({"type": ["string", "number", "boolean"]});
    let list = |first: &str, min: usize, max: Option<usize>| {
        let mut out = json!({
            "type": "array",
            "items": word.clone(),
            "minItems": min,
            "prefixItems": [{"const": first}],
            "contains": {"const": first},
        });
        if let Some(max) = max {
            out["maxItems"] = json!(max);
        }
        out
    };
    json!({"anyOf": [
        {"type": "string", "pattern": "\\S"},
        {"type": ["number", "boolean"]},
        list("NONE", 1, Some(1)),
        list("CMD", 2, None),
        list("CMD-SHELL", 2, Some(2)),
    ]})
}

/// Networks and their addresses (`config/networks.rs`).
fn network_defs(d: &mut Map<String, Value>) {
    let mut put = |name: &str, value: Value| {
        d.insert(name.into(), value);
    };
    let network_name = json!({"pattern": DOCKER_NAME, "not": {"enum": PREDEFINED_NETWORKS}});
    put(
        "networks",
        json!({
            "type": ["object", "null"],
            "propertyNames": network_name.clone(),
            "additionalProperties": nullable(object_of("network", &[])),
            "description": "Networks by name ([a-zA-Z0-9][a-zA-Z0-9_.-]+; not bridge, host, none or default, which `net` selects).",
        }),
    );
    let mut ipam = object_of("ipam", &[]);
    ipam["if"] = json!({"required": [ipam::GATEWAY], "properties": {ipam::GATEWAY: {"not": {"type": "null"}}}});
    ipam["then"] = json!({"required": [ipam::SUBNET], "properties": {ipam::SUBNET: {"not": {"type": "null"}}}});
    put("ipam", ipam);
    put(
        "cidr",
        json!({"type": "string", "pattern": format!(
            "^({IPV4}/(3[0-2]|[12]?[0-9])|{IPV6}/(12[0-8]|1[01][0-9]|[1-9]?[0-9]))$"
        )}),
    );
    put(
        "ip_address",
        json!({"type": "string", "pattern": format!("^({IPV4}|{IPV6})$")}),
    );
    put(
        "ipv4_address",
        json!({"type": "string", "pattern": format!("^{IPV4}$")}),
    );
    put(
        "string_map",
        json!({"type": "object", "additionalProperties": {"type": ["string", "number", "boolean"]}}),
    );
}

/// Named volumes and the networks services and instances join.
fn membership_defs(d: &mut Map<String, Value>) {
    let mut put = |name: &str, value: Value| {
        d.insert(name.into(), value);
    };
    put(
        "named_volumes",
        json!({
            "type": ["object", "null"],
            "propertyNames": {"pattern": DOCKER_NAME},
            "additionalProperties": nullable(object_of("named_volume", &[])),
            "description": "Named volumes by name ([a-zA-Z0-9][a-zA-Z0-9_.-]+).",
        }),
    );
    let memberships = |value: Value| {
        json!({"anyOf": [
            {"type": "array", "items": {"type": ["string", "number", "boolean"]}},
            {
                "type": "object",
                "additionalProperties": {"anyOf": [{"type": "null"}, value]},
            },
        ]})
    };
    put(
        "service_networks",
        memberships(object_of("network_ref", &[network_ref::IPV4_ADDRESS])),
    );
    put(
        "instance_networks",
        memberships(object_of("network_ref", &[])),
    );
}

/// Lifecycle checks and auditors.
fn check_defs(d: &mut Map<String, Value>) {
    let mut put = |name: &str, value: Value| {
        d.insert(name.into(), value);
    };
    put("lifecycle", lifecycle());
    put("check_type", type_names(CHECK_TYPES));
    put("auditor_type", type_names(AUDITOR_TYPES));
    put("check", by_type("check", CHECK_TYPES, &[], check_required));
    put(
        "scheme",
        json!({"type": "string", "pattern": "^[hH][tT][tT][pP][sS]?$"}),
    );
    put(
        "http_method",
        json!({"type": "string", "pattern": "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$"}),
    );
    put("requests_options", requests_options());
    put(
        "audit",
        json!({"type": "array", "items": {"$ref": "#/$defs/auditor"}}),
    );
    put(
        "auditor",
        by_type(
            "auditor",
            AUDITOR_TYPES,
            auditor_types::COMMON,
            auditor_required,
        ),
    );
    put(
        "audit_level",
        json!({"anyOf": [{"enum": ["info", "debug"]}, {"type": "integer", "minimum": 0}]}),
    );
    put(
        "audit_method",
        json!({"type": "string", "pattern": "^([gG][eE][tT]|[pP][oO][sS][tT])$"}),
    );
    put(
        "url",
        json!({"type": "string", "pattern": "^[hH][tT][tT][pP][sS]?://[^/?#]"}),
    );
}

/// An instance: its keys, and never both spellings of one setting
/// (`user` and `username`, `cpu_shares` and `limits.cpu`). A service's
/// `limits.cpu` under an instance's `cpu_shares` is the loader's to refuse.
fn instance_object() -> Value {
    let set = json!({"not": {"type": "null"}});
    let mut out = object_of("instance", &[]);
    out["allOf"] = json!([
        {"not": {
            "required": [instance::USER, instance::USERNAME],
            "properties": {instance::USER: set, instance::USERNAME: set},
        }},
        {"not": {
            "required": [instance::CPU_SHARES, instance::LIMITS],
            "properties": {
                instance::CPU_SHARES: set,
                instance::LIMITS: {
                    "type": "object",
                    "required": [limits::CPU],
                    "properties": {limits::CPU: set},
                },
            },
        }},
    ]);
    out
}

/// `env` and `envfile`: a mapping of variables, an envfile name, or a list
/// of these, in order (false, 0 and empty are skipped).
fn env() -> Value {
    json!({
        "anyOf": [
            {"type": "object", "additionalProperties": {"$ref": "#/$defs/env_value"}},
            {"type": "string", "description": "An envfile (KEY=VALUE lines), relative to this file."},
            {"type": "array", "items": {"$ref": "#/$defs/env"}},
            {"enum": [false, 0]},
        ],
    })
}

/// `volumes`: schema 2 also takes `{target, mode}`.
fn volumes(schema_2: bool) -> Value {
    let value = if schema_2 {
        json!({"anyOf": [{"type": "string"}, object_of("volume", &[])]})
    } else {
        json!({"type": ["string", "number", "boolean"], "description": "Schema 1: the host path (the key is the container path)."})
    };
    json!({"type": "object", "additionalProperties": value})
}

/// Schema 1 files (no `__maestro.schema`, or 1): volumes are
/// `container: host` strings, never `{target, mode}`.
fn schema_1_volumes() -> Value {
    let instance = json!({"properties": {instance::VOLUMES: {"$ref": "#/$defs/volumes_schema_1"}}});
    json!({"properties": {top::SERVICES: {"additionalProperties": {"properties": {
        service::INSTANCES: {"additionalProperties": instance},
    }}}}})
}

/// `lifecycle`: checks by state.
fn lifecycle() -> Value {
    let properties: Map<String, Value> = LIFECYCLE_STATES
        .iter()
        .map(|state| {
            // A health check waits for a running container.
            let check = if HEALTH_STATES.contains(state) {
                json!({"$ref": "#/$defs/check"})
            } else {
                json!({"allOf": [
                    {"$ref": "#/$defs/check"},
                    {"not": {"required": [check::TYPE], "properties": {check::TYPE: {"const": "health"}}}},
                ]})
            };
            ((*state).to_owned(), json!({"type": "array", "items": check}))
        })
        .collect();
    json!({"type": "object", "properties": properties, "additionalProperties": false})
}

/// The names of a section's types.
fn type_names(types: &[(&str, &[&str])]) -> Value {
    json!({"enum": types.iter().map(|(name, _)| *name).collect::<Vec<_>>()})
}

/// The keys a check of this type needs besides `type`.
fn check_required(kind: &str) -> Value {
    match kind {
        "tcp" | "http" => json!({"required": [check::PORT]}),
        "exec" => json!({"anyOf": [{"required": [check::COMMAND]}, {"required": [check::CMD]}]}),
        "rexec" => json!({"required": [check::COMMAND]}),
        "sleep" => json!({"required": [check::WAIT]}),
        "health" => json!({}),
        _ => json!({}),
    }
}

/// The keys an auditor of this type needs besides `type`.
fn auditor_required(kind: &str) -> Value {
    match kind {
        "log" => json!({"required": [auditor::FILE]}),
        "http" => json!({"required": [auditor::ENDPOINT]}),
        "exec" => json!({"required": [auditor::SCRIPT]}),
        "slack" => json!({"required": [auditor::CHANNEL, auditor::TOKEN]}),
        "hipchat" => json!({"required": [auditor::ROOM, auditor::TOKEN]}),
        _ => json!({}),
    }
}

/// A section whose `type` decides which of its keys apply: every key's
/// schema, and for each type the keys of its table (plus `common`) alone.
fn by_type(
    section: &str,
    types: &[(&str, &[&str])],
    common: &[&str],
    required: fn(&str) -> Value,
) -> Value {
    let mut out = object_of(section, &[]);
    let map = out.as_object_mut().expect("an object schema");
    let mut rules = Vec::new();
    for (kind, keys) in types {
        let allowed: Map<String, Value> = common
            .iter()
            .chain(keys.iter())
            .map(|k| ((*k).to_owned(), json!(true)))
            .collect();
        let mut then = json!({"properties": allowed, "additionalProperties": false});
        if let (Value::Object(t), Value::Object(r)) = (&mut then, required(kind)) {
            t.extend(r);
        }
        rules.push(json!({
            "if": {"properties": {"type": {"const": kind}}, "required": ["type"]},
            "then": then,
        }));
    }
    map.insert("allOf".into(), Value::Array(rules));
    out
}

/// `requests_options` of http checks: the keywords of Python requests that
/// maestro implements, and those it accepts and ignores (with a warning).
fn requests_options() -> Value {
    let pair = |item: Value| json!({"type": "array", "minItems": 2, "maxItems": 2, "items": item});
    let text = json!({"type": ["string", "number", "boolean"]});
    let shapes = [
        (
            "auth",
            pair(json!({"type": "string"})),
            "Basic auth: [user, password].",
        ),
        (
            "headers",
            json!({"type": "object", "additionalProperties": {"type": ["string", "null"]}}),
            "Request headers (string values; quote numbers).",
        ),
        (
            "cert",
            json!({"anyOf": [{"type": "string"}, pair(json!({"type": "string"}))]}),
            "A client certificate: one PEM file, or [cert, key].",
        ),
        (
            "verify",
            json!({"type": ["boolean", "string"]}),
            "Verify the server's certificate, or a CA bundle path.",
        ),
        (
            "timeout",
            json!({"anyOf": [
                {"type": "number", "exclusiveMinimum": 0},
                pair(json!({"type": ["number", "null"]})),
            ]}),
            "Seconds, or [connect, read].",
        ),
        (
            "allow_redirects",
            json!({"type": ["boolean", "null"]}),
            "Follow redirects (default true).",
        ),
        (
            "params",
            json!({"anyOf": [
                {"type": "string"},
                {"type": "object", "additionalProperties": {"anyOf": [
                    {"type": ["string", "number", "boolean", "null"]},
                    {"type": "array", "items": text},
                ]}},
            ]}),
            "Query parameters: a mapping (a list of values repeats the name) or a string.",
        ),
    ];
    let mut properties = Map::new();
    for key in REQUESTS_OPTIONS {
        let (schema, doc) = shapes
            .iter()
            .find(|(k, _, _)| k == key)
            .map(|(_, s, d)| (s.clone(), *d))
            .unwrap_or((json!({}), ""));
        let mut schema = nullable(schema);
        with_doc(&mut schema, doc);
        properties.insert((*key).to_owned(), schema);
    }
    for key in IGNORED_REQUESTS_OPTIONS {
        properties.insert(
            (*key).to_owned(),
            json!({"description": "A requests keyword maestro does not implement: ignored, with a warning."}),
        );
    }
    json!({"type": "object", "properties": properties, "additionalProperties": false})
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use serde_json::{Value, json};

    use super::super::build::{Options, build};
    use super::super::load::{Parsed, Source, read_with};
    use super::super::yaml::{Node, PyScalar, Value as YamlValue, node_str};
    use super::*;

    /// The section names `keys.rs` declares with `section!`, read from its
    /// source, so a section added there is seen here without being listed.
    fn declared_sections() -> BTreeSet<String> {
        let source = include_str!("keys.rs");
        let mut names = BTreeSet::new();
        for block in source.split("section! {").skip(1) {
            let name = block
                .lines()
                .map(str::trim)
                .find(|l| !l.is_empty() && !l.starts_with("///") && !l.starts_with("#["))
                .and_then(|l| l.strip_suffix('{'))
                .map(|l| l.trim().to_owned());
            names.insert(name.unwrap_or_default());
        }
        names.remove("($(#[$doc:meta])* $section:ident");
        names
    }

    /// The `const` tables of a `mod NAME { ... }` of `keys.rs` (the per-type tables).
    fn type_tables(module: &str) -> Vec<String> {
        let source = include_str!("keys.rs");
        let start = source
            .find(&format!("mod {module} {{"))
            .unwrap_or_else(|| panic!("keys.rs has no mod {module}"));
        let body = &source[start..];
        let body = &body[..body.find("\n}").unwrap_or(body.len())];
        body.split("const ")
            .skip(1)
            .filter_map(|rest| rest.split(':').next())
            .map(|name| name.trim().to_owned())
            .collect()
    }

    /// The test the lead relies on at merge: a key added to any allowed-keys
    /// table of `keys.rs` (or a new section, or a new check or auditor type)
    /// without its schema entry fails here, naming it.
    #[test]
    fn every_key_of_every_table_has_a_schema_entry() {
        let listed: BTreeSet<String> = SECTIONS.iter().map(|(n, _, _)| (*n).to_owned()).collect();
        let declared = declared_sections();
        assert!(
            declared.len() >= 16,
            "read too few sections from keys.rs: {declared:?}"
        );
        for name in &declared {
            assert!(
                listed.contains(name),
                "section `{name}` of keys.rs has no schema table: add it to SECTIONS in config/schema.rs"
            );
        }
        for (name, all, entries) in SECTIONS {
            for key in *all {
                assert!(
                    entries.iter().any(|e| e.key == *key),
                    "key `{key}` of section `{name}` (keys.rs) has no schema entry in config/schema.rs"
                );
            }
            for entry in *entries {
                assert!(
                    all.contains(&entry.key),
                    "schema entry `{}` of section `{name}` is not in keys.rs's table",
                    entry.key
                );
                assert!(
                    !entry.doc.is_empty(),
                    "`{}` of `{name}` has no description",
                    entry.key
                );
            }
            let distinct: BTreeSet<&str> = entries.iter().map(|e| e.key).collect();
            assert_eq!(
                distinct.len(),
                entries.len(),
                "a key twice in `{name}`'s schema table"
            );
        }
        // Any other table module of keys.rs (not a `section!`) is unknown here.
        let source = include_str!("keys.rs");
        for module in source.split("mod ").skip(1) {
            let name: String = module
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() && module[name.len()..].starts_with(" {") {
                assert!(
                    ["check_types", "auditor_types", "tests"].contains(&name.as_str()),
                    "keys.rs has tables in `mod {name}`: give their keys schema entries in config/schema.rs"
                );
            }
        }
        // Every per-type table of keys.rs is a type here.
        let checks = type_tables("check_types");
        assert_eq!(
            checks.len(),
            CHECK_TYPES.len(),
            "keys.rs has the check types {checks:?}: each needs a row in CHECK_TYPES"
        );
        let auditors: Vec<String> = type_tables("auditor_types")
            .into_iter()
            .filter(|t| t != "COMMON")
            .collect();
        assert_eq!(
            auditors.len(),
            AUDITOR_TYPES
                .iter()
                .filter(|(_, keys)| !keys.is_empty())
                .count(),
            "keys.rs has the auditor types {auditors:?}: each needs a row in AUDITOR_TYPES"
        );
    }

    /// The generated schema's properties are the tables' keys, each with a description.
    #[test]
    fn properties_are_the_loader_s_keys_with_descriptions() {
        let schema = schema();
        let instance = &schema["$defs"]["instances"]["additionalProperties"];
        let properties = instance["properties"]
            .as_object()
            .expect("instance properties");
        let keys: Vec<&str> = properties.keys().map(String::as_str).collect();
        let mut expected = instance::ALL.to_vec();
        expected.sort_unstable();
        assert_eq!(keys, expected);
        for (key, value) in properties {
            assert!(
                value["description"].as_str().is_some_and(|d| !d.is_empty()),
                "{key}"
            );
        }
        assert_eq!(instance["additionalProperties"], json!(false));
        assert_eq!(instance["required"], json!(["ship"]));
        let defaults = schema["$defs"]["ship_defaults"]["properties"]
            .as_object()
            .unwrap();
        assert!(!defaults.contains_key("ip") && defaults.contains_key("docker_port"));
        let mut drivers = json!(LOG_DRIVERS);
        drivers.as_array_mut().unwrap().push(Value::Null);
        assert_eq!(instance["properties"]["log_driver"]["enum"], drivers);
    }

    fn validator() -> jsonschema::Validator {
        let schema = schema();
        jsonschema::draft202012::meta::validate(&schema)
            .unwrap_or_else(|e| panic!("not a valid 2020-12 schema: {e}"));
        jsonschema::draft202012::new(&schema).unwrap_or_else(|e| panic!("{e}"))
    }

    /// A YAML 1.1 scalar as JSON, as PyYAML-based validators see it (dates
    /// as text, numbers JSON cannot hold as their text).
    fn json_11(node: &Node) -> Value {
        match &node.value {
            YamlValue::Scalar(s) => match &s.value {
                PyScalar::None => Value::Null,
                PyScalar::Bool(b) => json!(b),
                PyScalar::Int(d) => d
                    .parse::<i64>()
                    .map(Value::from)
                    .or_else(|_| d.parse::<f64>().map(Value::from))
                    .unwrap_or_else(|_| json!(d)),
                PyScalar::Float(f) if f.is_finite() => json!(f),
                PyScalar::Str(t) => json!(t),
                _ => json!(s.raw),
            },
            YamlValue::Seq(items) => Value::Array(items.iter().map(json_11).collect()),
            YamlValue::Map(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| (node_str(k), json_11(v)))
                    .collect(),
            ),
        }
    }

    /// A plain scalar as YAML 1.2's core schema reads it (editors' default):
    /// `yes`, `on`, `22:22` and `2001-12-14` are strings there.
    fn core_12(raw: &str) -> Value {
        let int = |s: &str| {
            let digits = s.strip_prefix(['-', '+']).unwrap_or(s);
            !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
        };
        match raw {
            "" | "~" | "null" | "Null" | "NULL" => Value::Null,
            "true" | "True" | "TRUE" => json!(true),
            "false" | "False" | "FALSE" => json!(false),
            _ if int(raw) => raw.parse::<i64>().map_or_else(|_| json!(raw), Value::from),
            _ if raw.starts_with("0x") && i64::from_str_radix(&raw[2..], 16).is_ok() => {
                json!(i64::from_str_radix(&raw[2..], 16).unwrap())
            }
            _ if raw.starts_with("0o") && i64::from_str_radix(&raw[2..], 8).is_ok() => {
                json!(i64::from_str_radix(&raw[2..], 8).unwrap())
            }
            _ if raw.bytes().any(|b| b.is_ascii_digit())
                && raw
                    .bytes()
                    .all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b)) =>
            {
                raw.parse::<f64>().map_or_else(|_| json!(raw), Value::from)
            }
            _ => json!(raw),
        }
    }

    /// The tree as a YAML 1.2 editor reads it.
    fn json_12(node: &Node) -> Value {
        match &node.value {
            YamlValue::Scalar(s) if s.plain => core_12(&s.raw),
            YamlValue::Scalar(s) => json!(s.raw),
            YamlValue::Seq(items) => Value::Array(items.iter().map(json_12).collect()),
            YamlValue::Map(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| {
                        (
                            k.scalar().map_or_else(|| node_str(k), |s| s.raw.clone()),
                            json_12(v),
                        )
                    })
                    .collect(),
            ),
        }
    }

    /// The schema under draft 7's rules, which editors' YAML servers apply
    /// (yaml-language-server, VS Code's YAML): it must give the same verdicts.
    fn draft_7_validator() -> jsonschema::Validator {
        let mut schema = schema();
        schema["$schema"] = json!("http://json-schema.org/draft-07/schema#");
        jsonschema::draft7::new(&schema).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Both readings' validation errors, each as `path: message`.
    fn errors(validator: &jsonschema::Validator, root: &Node) -> Vec<String> {
        let mut out = Vec::new();
        for (reading, instance) in [("YAML 1.1", json_11(root)), ("YAML 1.2", json_12(root))] {
            for e in validator.iter_errors(&instance) {
                out.push(format!("{reading} {}: {e}", e.instance_path()));
            }
        }
        out
    }

    /// Whether the (strict) loader accepts the file.
    fn loads(path: &Path) -> bool {
        let none: [(&str, &str); 0] = [];
        read_with(&Source::File(path.to_owned()), none)
            .is_ok_and(|parsed| build(&parsed, Options { strict: true }).is_ok())
    }

    fn parse_file(path: &Path) -> Parsed {
        let none: [(&str, &str); 0] = [];
        read_with(&Source::File(path.to_owned()), none)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    fn repo_files(dir: &str, name: impl Fn(&str) -> bool) -> Vec<PathBuf> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(dir);
        let mut out = Vec::new();
        let mut stack = vec![root.clone()];
        while let Some(d) = stack.pop() {
            for entry in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
                let path = entry.expect("a directory entry").path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.file_name().and_then(|n| n.to_str()).is_some_and(&name) {
                    out.push(path);
                }
            }
        }
        out.sort();
        out
    }

    /// Every example (rendered, as maestro reads it) and every test
    /// description validates, read as YAML 1.1 and as YAML 1.2.
    #[test]
    fn every_example_and_test_description_validates() {
        let validator = validator();
        let draft_7 = draft_7_validator();
        let yaml = |n: &str| n.ends_with(".yaml") || n.ends_with(".yml");
        let mut files = repo_files("examples", yaml);
        files.extend(repo_files("tests/differential/envs", yaml));
        files.extend(repo_files("fuzz/seeds/yaml_loader", yaml));
        assert!(files.len() >= 10, "found only {files:?}");
        for example in ["networks", "health-and-options", "zookeeper-kafka"] {
            assert!(
                files
                    .iter()
                    .any(|f| f.ends_with(format!("{example}/maestro.yaml"))),
                "examples/{example}/maestro.yaml is not among {files:?}"
            );
        }
        let mut checked = 0;
        let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
        for path in &files {
            // A fuzz seed may be broken on purpose: only those the loader accepts.
            if path.starts_with(&fuzz) && !loads(path) {
                continue;
            }
            let parsed = parse_file(path);
            if let Err(e) = build(&parsed, Options { strict: true }) {
                panic!("{} does not load: {e}", path.display());
            }
            let root = parsed.root.as_ref().expect("a document");
            for validator in [&validator, &draft_7] {
                let errors = errors(validator, root);
                assert!(
                    errors.is_empty(),
                    "{}:\n{}",
                    path.display(),
                    errors.join("\n")
                );
            }
            checked += 1;
        }
        assert!(checked >= 10, "validated only {checked} files");
    }

    /// The misspelt-key fixture: maestro loads it with a warning only (the
    /// typo is found when it runs), the schema rejects it naming the key.
    #[test]
    fn the_misspelt_key_file_fails_naming_the_key() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/misspelt-key.yaml");
        let parsed = parse_file(&path);
        let loaded = build(&parsed, Options { strict: false }).expect("loads, with a warning");
        assert!(
            loaded
                .warnings
                .iter()
                .any(|w| w.to_string().contains("volumes_form")),
            "{:?}",
            loaded.warnings
        );
        for validator in [validator(), draft_7_validator()] {
            let errors = errors(&validator, parsed.root.as_ref().unwrap());
            assert!(!errors.is_empty());
            assert!(
                errors
                    .iter()
                    .all(|e| e.contains("/services/backup/instances/backup-1")
                        && e.contains("'volumes_form' was unexpected")),
                "{errors:#?}"
            );
        }
    }

    /// A misspelt key anywhere fails, and the error names it.
    #[test]
    fn a_misspelt_key_fails_naming_the_key() {
        let validator = validator();
        let draft_7 = draft_7_validator();
        // (example, [(right, wrong, the misspelt key)])
        type Typos<'a> = &'a [(&'a str, &'a str, &'a str)];
        let typos: &[(&str, Typos)] = &[
            (
                "zookeeper-kafka",
                &[
                    ("\nships:", "\nshipz:", "shipz"),
                    ("    image:", "    imgae:", "imgae"),
                    ("ship: ", "shp: ", "shp"),
                    ("memory:", "memroy:", "memroy"),
                    ("timeout: 60", "timout: 60", "timout"),
                    ("running:", "runing:", "runing"),
                    ("type: tcp, port: client", "type: tcp, prot: client", "prot"),
                ],
            ),
            (
                "networks",
                &[
                    ("\nnetworks:", "\nnetwork:", "network"),
                    ("internal: true", "internl: true", "internl"),
                    ("      subnet:", "      subnett:", "subnett"),
                    ("driver_opts:", "driver_opt:", "driver_opt"),
                    ("ipv4_address:", "ipv4_adress:", "ipv4_adress"),
                    ("{aliases: [www]}", "{alias: [www]}", "alias"),
                ],
            ),
            (
                "health-and-options",
                &[
                    ("start_period:", "start_perod:", "start_perod"),
                    ("    healthcheck:", "    healtcheck:", "healtcheck"),
                    ("stop_signal:", "stop_signl:", "stop_signl"),
                    ("mem_reservation:", "mem_reservaton:", "mem_reservaton"),
                    (
                        "{type: health, max_wait: 60}",
                        "{type: health, wait: 60}",
                        "wait",
                    ),
                ],
            ),
        ];
        for (example, typos) in typos {
            let path = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join(format!("../examples/{example}/maestro.yaml"));
            let text = std::fs::read_to_string(&path).expect("the example");
            for (right, wrong, key) in *typos {
                assert!(text.contains(right), "{right:?} is not in the example");
                let bad = text.replacen(right, wrong, 1);
                let source = Source::Text {
                    text: bad,
                    name: "bad.yaml".into(),
                    base_dir: path.parent().unwrap().to_owned(),
                };
                let none: [(&str, &str); 0] = [];
                let parsed = read_with(&source, none).expect("still YAML");
                for (draft, validator) in [("2020-12", &validator), ("7", &draft_7)] {
                    let errors = errors(validator, parsed.root.as_ref().unwrap());
                    assert!(
                        errors.iter().any(|e| e.contains(&format!("'{key}'"))
                            || e.contains(&format!("\"{key}\""))),
                        "draft {draft}, {example}, {key}: {errors:#?}"
                    );
                }
            }
        }
    }

    /// A description with `line` in instance `web-1` (whose service's port
    /// `http` is 80), or in service `web` when it starts with `service `,
    /// and `top` at the top level; service `db` has instance `db-1`.
    fn description(schema: u32, top: &str, line: &str) -> String {
        let (service, instance) = match line.strip_prefix("service ") {
            Some(service) => (service, ""),
            None => ("", line),
        };
        format!(
            "__maestro: {{schema: {schema}}}\nname: t\nships: {{box: {{ip: 10.0.0.1}}}}\n{top}\nservices:\n  db:\n    image: busybox\n    instances: {{db-1: {{ship: box}}}}\n  web:\n    image: busybox\n    ports: {{http: 80}}\n    {service}\n    instances:\n      web-1:\n        ship: box\n        {instance}\n"
        )
    }

    /// Whether the strict loader, and the schema under each YAML reading, accept `text`.
    fn verdicts(validator: &jsonschema::Validator, text: &str) -> (bool, bool, bool) {
        let source = Source::Text {
            text: text.to_owned(),
            name: "t.yaml".into(),
            base_dir: PathBuf::from("."),
        };
        let none: [(&str, &str); 0] = [];
        let parsed = read_with(&source, none).unwrap_or_else(|e| panic!("{text}: {e}"));
        let loads = build(&parsed, Options { strict: true }).is_ok();
        let root = parsed.root.as_ref().expect("a document");
        (
            loads,
            validator.is_valid(&json_11(root)),
            validator.is_valid(&json_12(root)),
        )
    }

    /// The schema's shapes and allowed values are the loader's: what one
    /// accepts the other accepts, under both YAML readings. Every allowed
    /// value of the schema is tried.
    #[test]
    fn the_loader_and_the_schema_agree() {
        let mut cases: Vec<(u32, String, String, bool)> = Vec::new();
        let mut instance =
            |line: &str, ok: bool| cases.push((2, String::new(), line.to_owned(), ok));
        for driver in LOG_DRIVERS {
            instance(&format!("log_driver: {driver}"), true);
        }
        for policy in RESTART_POLICIES {
            instance(&format!("restart: \"{policy}\""), true);
            instance(
                &format!("restart: {{name: \"{policy}\", retries: 2}}"),
                true,
            );
        }
        for state in LIFECYCLE_STATES {
            instance(
                &format!("lifecycle: {{{state}: [{{type: sleep, wait: 1}}]}}"),
                true,
            );
        }
        for (kind, ok) in [
            ("{type: tcp, port: http, max_wait: 5}", true),
            (
                "{type: http, port: 8080, path: /, scheme: HTTPS, method: head, match_regex: 'up', requests_options: {timeout: [1, 2], verify: false}}",
                true,
            ),
            (
                "{type: exec, command: 'true', envfrom: stdin, attempts: 2}",
                true,
            ),
            ("{type: exec, cmd: 'true'}", true),
            ("{type: rexec, command: 'true'}", true),
            ("{type: sleep, wait: 1.5}", true),
            ("{type: ping, port: http}", false),
            ("{type: tcp, port: http, wait: 3}", false),
            ("{type: sleep}", false),
            ("{type: exec, command: x, envfrom: file}", false),
            ("{type: http, port: 80, scheme: ftp}", false),
            (
                "{type: http, port: 80, requests_options: {proxy: x}}",
                false,
            ),
        ] {
            instance(&format!("lifecycle: {{running: [{kind}]}}"), ok);
        }
        for (line, ok) in [
            ("restart: no", true),
            ("restart: on-failure:3", true),
            ("restart: sometimes", false),
            ("restart: {name: always, tries: 2}", false),
            ("log_driver: loki", false),
            (
                "ports: {a: 81, b: 53/udp, c: \"8080:80\", d: 1000-1010, e: {exposed: 82, external: [127.0.0.1, 8082]}, f: 22:22}",
                true,
            ),
            ("ports: {a: \"80:90:100\"}", false),
            ("ports: {a: {exposed: 80}}", false),
            ("ports: {a: {exposed: 80, external: 81, host: x}}", false),
            ("lifecycle: {started: []}", false),
            ("privileged: yes", true),
            ("privileged: false", true),
            ("limits: {memory: 512m, swap: 1G, cpu: 2}", true),
            ("limits: {memory: 5x}", false),
            ("limits: {mem: 5m}", false),
            ("ulimits: {nofile: 1024, nproc: {soft: 1, hard: 2}}", true),
            ("ulimits: {nproc: {soft: 1, max: 2}}", false),
            ("volumes: {/h: /c, /h2: {target: /c2, mode: ro}}", true),
            ("volumes: {/h: {mode: ro}}", false),
            (
                "env: {A: yes, B: 1.5, C: ~, D: [a, b], E: 2001-12-14}",
                true,
            ),
            ("command: [sh, -c, 'echo hi']", true),
            ("extra_hosts: {db: 10.0.0.9, box: {ship: box}}", true),
            ("extra_hosts: {box: {host: box}}", false),
            ("dns: [8.8.8.8]", true),
            ("labels: {a: b}", true),
            ("stop_timeout: 3", true),
            ("stop_timeout: -3", false),
            ("ports: ~", true),
            ("imagee: x", false),
        ] {
            instance(line, ok);
        }
        for (line, ok) in [
            ("service requires: [db]", true),
            ("service wants_info: [db]", true),
            ("service omit: true", true),
            ("service env: {A: 1, B: [x, y]}", true),
            ("service envfile: ~", true),
            ("service limits: {memory: 1g}", true),
            (
                "service lifecycle: {running: [{type: tcp, port: http}]}",
                true,
            ),
            ("service instance: {}", false),
            ("service requires: [{name: db}]", false),
        ] {
            cases.push((2, String::new(), line.to_owned(), ok));
        }
        for (top, ok) in [
            (
                "ship_defaults: {timeout: 10, docker_port: 2376, tls: false, api_version: '1.41'}",
                true,
            ),
            ("ship_defaults: {ip: 10.0.0.9}", false),
            (
                "ship_defaults: {ssh_tunnel: {user: u, key: k, port: 2222, strict_host_key_checking: accept-new}}",
                true,
            ),
            (
                "ship_defaults: {ssh_tunnel: {user: u, key: k, strict_host_key_checking: no}}",
                true,
            ),
            ("ship_defaults: {ssh_tunnel: {user: u}}", false),
            (
                "ship_defaults: {ssh_tunnel: {user: u, key: k, strict_host_key_checking: maybe}}",
                false,
            ),
            (
                "registries: {hub: {registry: 'https://r.example', username: u, password: p, retry: {attempts: 3, when: [500, 502]}}}",
                true,
            ),
            ("registries: {hub: {username: u}}", false),
            ("registries: {hub: {registry: r, retry: {tries: 3}}}", false),
            ("ship_provider: static", true),
            ("ship_provider: aws", false),
            ("audit: ~", true),
        ] {
            cases.push((2, top.to_owned(), String::new(), ok));
        }
        // Schema 1: volumes are `container: host` strings.
        cases.push((1, String::new(), "volumes: {/c: /h}".into(), true));
        cases.push((
            1,
            String::new(),
            "volumes: {/h: {target: /c}}".into(),
            false,
        ));
        for (kind, ok) in [
            ("{type: log, file: /tmp/a.log, level: debug}", true),
            (
                "{type: http, endpoint: 'http://x.example/hook', method: get, timeout: 2}",
                true,
            ),
            ("{type: exec, script: /bin/true, args: '{action}'}", true),
            ("{type: slack, channel: ops, token: t}", true),
            ("{type: hipchat, room: ops, token: t}", true),
            ("{type: _fail}", true),
            ("{type: email, to: me}", false),
            ("{type: log}", false),
            ("{type: log, file: a, channel: ops}", false),
            ("{type: log, file: a, level: loud}", false),
            (
                "{type: http, endpoint: 'https://u:p@x.example/h', method: Post}",
                true,
            ),
            ("{type: http, endpoint: 'ftp://x.example/h'}", false),
            (
                "{type: http, endpoint: 'http://x.example/h', method: put}",
                false,
            ),
        ] {
            cases.push((2, format!("audit: [{kind}]"), String::new(), ok));
        }
        let disagreements = disagreements(&cases);
        assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
    }

    /// The cases on which the strict loader, the schema (under both YAML
    /// readings) and its draft 7 form do not give the expected verdict:
    /// `(file schema version, top-level lines, line of web-1 or service web, ok)`.
    fn disagreements(cases: &[(u32, String, String, bool)]) -> Vec<String> {
        let validator = validator();
        let draft_7 = draft_7_validator();
        let mut disagreements = Vec::new();
        for (schema, top, line, ok) in cases {
            let text = description(*schema, top, line);
            let (loads, v11, v12) = verdicts(&validator, &text);
            let (_, d7_11, d7_12) = verdicts(&draft_7, &text);
            if (d7_11, d7_12) != (v11, v12) {
                disagreements.push(format!(
                    "{top}{line} (schema {schema}): draft 7 says {d7_11}/{d7_12}"
                ));
            }
            if (loads, v11, v12) != (*ok, *ok, *ok) {
                disagreements.push(format!(
                    "{top}{line} (schema {schema}): expected {ok}; loader {loads}, YAML 1.1 schema {v11}, YAML 1.2 schema {v12}"
                ));
            }
        }
        disagreements
    }

    /// main's keys (none of them in MaestroNG 0.8.3): networks and named
    /// volumes, the health check and its lifecycle gate, the `docker run`
    /// options; each allowed form and a wrong one of each.
    #[test]
    fn the_loader_and_the_schema_agree_on_networks_health_and_run_options() {
        let mut cases: Vec<(u32, String, String, bool)> = Vec::new();
        let declared = "networks: {app: ~, data: {driver: bridge, internal: true, options: {com.docker.network.driver.mtu: 1400}, ipam: {subnet: 10.77.0.0/24, gateway: 10.77.0.254}}}\nvolumes: {pgdata: {driver: local, driver_opts: {type: none}, labels: {backup: nightly}}, cache: ~}";
        for (line, ok) in [
            ("stop_signal: usr1", true),
            ("stop_signal: SIGRTMIN+3", true),
            ("stop_signal: 10", true),
            ("stop_signal: 65", false),
            ("stop_signal: SIGFOO", false),
            ("stop_signal: rtmax-16", false),
            ("hostname: h1", true),
            ("hostname: 'a b'", false),
            ("domainname: example.test", true),
            ("read_only: true", true),
            ("init: yes", true),
            ("oom_kill_disable: false", true),
            ("tmpfs: /run", true),
            ("tmpfs: [/run, '/tmp:size=1m']", true),
            ("tmpfs: {/run: 'size=1m', /tmp: ~}", true),
            ("tmpfs: run", false),
            ("tmpfs: [/run, tmp]", false),
            ("tmpfs: {run: x}", false),
            ("shm_size: 64m", true),
            ("shm_size: 1.5g", true),
            ("shm_size: 512KiB", true),
            ("shm_size: 1048576", true),
            ("shm_size: 64x", false),
            ("shm_size: -1", false),
            ("mem_reservation: 1 g", true),
            ("mem_reservation: 1.5", false),
            ("devices: /dev/null", true),
            ("devices: ['/dev/null:/dev/n:r', '/dev/full:rw']", true),
            ("devices: ['dev/null']", false),
            ("devices: ['/dev/null:/dev/n:rx']", false),
            ("sysctls: {net.core.somaxconn: 1024}", true),
            ("sysctls: [net.ipv4.ip_forward=1]", true),
            ("sysctls: [net.ipv4.ip_forward]", false),
            ("sysctls: net.ipv4.ip_forward=1", false),
            ("sysctls: {net.core.somaxconn: ~}", false),
            ("pid: host", true),
            ("pid: 'container:db-1'", true),
            ("pid: private", false),
            ("ipc: none", true),
            ("ipc: private", true),
            ("ipc: shareable", true),
            ("ipc: host", true),
            ("ipc: 'container:db-1'", true),
            ("ipc: shared", false),
            ("group_add: [audio, 2000]", true),
            ("group_add: {audio: 1}", false),
            ("entrypoint: [/bin/sh, -c]", true),
            ("entrypoint: '/bin/sh -c'", true),
            ("cpuset: 0-2,4", true),
            ("cpuset: 3", true),
            ("cpuset: all", false),
            ("pids_limit: -1", true),
            ("pids_limit: 50", true),
            ("pids_limit: -2", false),
            ("runtime: runc", true),
            ("user: app", true),
            ("user: '1000:1000'\n        limits: {memory: 1g}", true),
            ("cpu_shares: 512", true),
            ("cpu_shares: lots", false),
            ("user: app\n        username: app", false),
            ("user: ~\n        username: app", true),
            ("cpu_shares: 4\n        limits: {cpu: 2}", false),
            ("cpu_shares: 4\n        limits: {memory: 1g}", true),
            ("cpu_shares: 4\n        limits: ~", true),
            ("cpu_shares: ~\n        limits: {cpu: 2}", true),
            (
                "healthcheck: {test: [CMD, wget, -q, 'http://x/'], interval: 1s, timeout: 1m30s, retries: 3, start_period: 500ms}",
                true,
            ),
            ("healthcheck: {test: 'curl -f http://x/'}", true),
            ("healthcheck: {test: [NONE]}", true),
            ("healthcheck: {test: [CMD-SHELL, 'curl x']}", true),
            ("healthcheck: {disable: true}", true),
            ("healthcheck: {interval: 30, timeout: 1.5}", true),
            ("healthcheck: {test: [CMD]}", false),
            ("healthcheck: {test: [NONE, x]}", false),
            ("healthcheck: {test: [CMD-SHELL, a, b]}", false),
            ("healthcheck: {test: ''}", false),
            ("healthcheck: {test: {cmd: x}}", false),
            ("healthcheck: {interval: 5 minutes}", false),
            ("healthcheck: {interval: -1}", false),
            ("healthcheck: {retries: -1}", false),
            ("healthcheck: {intervall: 1s}", false),
            ("lifecycle: {running: [{type: health, max_wait: 60}]}", true),
            ("lifecycle: {pre-stop: [{type: health}]}", true),
            ("lifecycle: {pre-start: [{type: health}]}", false),
            ("lifecycle: {stopped: [{type: health}]}", false),
            ("lifecycle: {running: [{type: health, port: http}]}", false),
            ("service healthcheck: {test: 'true', retries: 2}", true),
            ("service healthcheck: {test: 'true', tries: 2}", false),
        ] {
            cases.push((2, String::new(), line.to_owned(), ok));
        }
        for (line, ok) in [
            ("networks: [app, data]", true),
            (
                "networks: {app: ~, data: {aliases: [database], ipv4_address: 10.77.0.10}}",
                true,
            ),
            ("networks: {data: {ipv4_address: 10.77.0.300}}", false),
            ("networks: {data: {ip: 10.77.0.10}}", false),
            ("networks: app", false),
            ("service networks: {app: {aliases: [www]}}", true),
            ("service networks: [app]", true),
            (
                "service networks: {data: {ipv4_address: 10.77.0.10}}",
                false,
            ),
            (
                "volumes: {pgdata: /data, cache: {target: /cache, mode: ro}}",
                true,
            ),
        ] {
            cases.push((2, declared.to_owned(), line.to_owned(), ok));
        }
        for (top, ok) in [
            ("networks: {app: ~, edge: {}}", true),
            ("networks: {bridge: {}}", false),
            ("networks: {a: {}}", false),
            ("networks: {app: {driver: overlay, scope: x}}", false),
            ("networks: {app: {ipam: {gateway: 10.0.0.1}}}", false),
            ("networks: {app: {ipam: {subnet: 10.77.0.0/33}}}", false),
            ("networks: {app: {ipam: {subnet: 'fd00:1::/64'}}}", true),
            ("networks: {app: {options: {mtu: ~}}}", false),
            ("networks: {app: {internal: yes}}", true),
            ("volumes: ~", true),
            ("volumes: {'./data': {}}", false),
            ("volumes: {pgdata: {driver: local, size: 1g}}", false),
        ] {
            cases.push((2, top.to_owned(), String::new(), ok));
        }
        let disagreements = disagreements(&cases);
        assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
    }

    /// Where the loader only warns because the value is likely a mistake
    /// (a flag that is not a boolean, `requires` as one string), the schema
    /// rejects it, as it rejects unknown keys.
    #[test]
    fn what_the_loader_warns_about_the_schema_rejects() {
        let validator = validator();
        for (top, line) in [
            ("", "privileged: 1"),
            ("", "service requires: db"),
            ("", "imagee: x"),
            ("_anchors: &a {x: 1}\nextra: 1", ""),
        ] {
            let text = description(2, top, line);
            let (loads, v11, v12) = verdicts(&validator, &text);
            assert!(!v11 && !v12, "{top}{line}: the schema accepts it");
            let source = Source::Text {
                text,
                name: "t.yaml".into(),
                base_dir: PathBuf::from("."),
            };
            let none: [(&str, &str); 0] = [];
            let parsed = read_with(&source, none).unwrap();
            let loaded = build(&parsed, Options { strict: false }).expect("loads, with warnings");
            assert!(!loaded.warnings.is_empty(), "{top}{line}: no warning");
            let _ = loads;
        }
        // `_`-keys (anchors) are accepted by both.
        let text = description(2, "_globals: &g {image: x}", "");
        assert_eq!(verdicts(&validator, &text), (true, true, true));
    }
}
