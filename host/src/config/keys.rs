//! The keys of each section of a description, each name written once: the
//! parsers read a key through its constant and [`Ctx::check_keys`] checks a
//! mapping against its section's `ALL` table, so the two cannot drift apart.
//! A new key is one line here plus its parser, and its schema entry in
//! `schema.rs` (whose test fails without it).
//!
//! [`Ctx::check_keys`]: super::read::Ctx::check_keys

/// Declares a section: one constant per key and `ALL`, the table of them.
macro_rules! section {
    ($(#[$doc:meta])* $section:ident { $($name:ident = $text:literal,)* }) => {
        $(#[$doc])*
        pub(super) mod $section {
            $(
                #[doc = concat!("`", $text, "`")]
                pub(in crate::config) const $name: &str = $text;
            )*
            /// Every key of the section (the allowed-keys table for `check_keys`;
            /// checks use the per-type tables below).
            #[allow(dead_code)]
            pub(in crate::config) const ALL: &[&str] = &[$($name),*];
        }
    };
}

section! {
    /// The top level of the file.
    top {
        MAESTRO = "__maestro",
        NAME = "name",
        REGISTRIES = "registries",
        SHIP_DEFAULTS = "ship_defaults",
        SHIP_PROVIDER = "ship_provider",
        SHIPS = "ships",
        SERVICES = "services",
        AUDIT = "audit",
        NETWORKS = "networks",
        VOLUMES = "volumes",
    }
}

section! {
    /// `__maestro`.
    meta {
        SCHEMA = "schema",
    }
}

section! {
    /// A registry (`registries.NAME`).
    registry {
        REGISTRY = "registry",
        USERNAME = "username",
        PASSWORD = "password",
        EMAIL = "email",
        RETRY = "retry",
    }
}

section! {
    /// A registry's `retry`.
    retry {
        ATTEMPTS = "attempts",
        WHEN = "when",
    }
}

section! {
    /// A ship (`ships.NAME`); `ship_defaults` takes all but `ip` and `endpoint`.
    ship {
        IP = "ip",
        ENDPOINT = "endpoint",
        DOCKER_PORT = "docker_port",
        SOCKET_PATH = "socket_path",
        SSH_TUNNEL = "ssh_tunnel",
        API_VERSION = "api_version",
        TIMEOUT = "timeout",
        TLS = "tls",
        TLS_VERIFY = "tls_verify",
        TLS_CA_CERT = "tls_ca_cert",
        TLS_CERT = "tls_cert",
        TLS_KEY = "tls_key",
        SSL_VERSION = "ssl_version",
        // Documented for ship_defaults by MaestroNG, and ignored by it.
        SSH_TIMEOUT = "ssh_timeout",
    }
}

section! {
    /// A ship's `ssh_tunnel`.
    ssh_tunnel {
        USER = "user",
        KEY = "key",
        PORT = "port",
        KNOWN_HOSTS = "known_hosts",
        STRICT_HOST_KEY_CHECKING = "strict_host_key_checking",
    }
}

section! {
    /// A service (`services.NAME`).
    service {
        IMAGE = "image",
        INSTANCES = "instances",
        OMIT = "omit",
        ENV = "env",
        ENVFILE = "envfile",
        PORTS = "ports",
        LIMITS = "limits",
        LIFECYCLE = "lifecycle",
        REQUIRES = "requires",
        WANTS_INFO = "wants_info",
        NETWORKS = "networks",
        // maestro's own (host/COMPAT.md § Health checks and `docker run` options).
        HEALTHCHECK = "healthcheck",
    }
}

section! {
    /// An instance (`services.S.instances.NAME`).
    instance {
        SHIP = "ship",
        IMAGE = "image",
        COMMAND = "command",
        CMD = "cmd",
        PORTS = "ports",
        ENV = "env",
        ENVFILE = "envfile",
        VOLUMES = "volumes",
        CONTAINER_VOLUMES = "container_volumes",
        VOLUMES_FROM = "volumes_from",
        LINKS = "links",
        USERNAME = "username",
        PRIVILEGED = "privileged",
        CAP_ADD = "cap_add",
        CAP_DROP = "cap_drop",
        EXTRA_HOSTS = "extra_hosts",
        NET = "net",
        RESTART = "restart",
        DNS = "dns",
        STOP_TIMEOUT = "stop_timeout",
        LIMITS = "limits",
        LOG_DRIVER = "log_driver",
        LOG_OPT = "log_opt",
        LXC_CONF = "lxc_conf",
        WORKDIR = "workdir",
        SECURITY_OPT = "security_opt",
        ULIMITS = "ulimits",
        LABELS = "labels",
        LIFECYCLE = "lifecycle",
        // maestro's own (host/COMPAT.md § Health checks and `docker run` options): the engine's
        // health check and the `docker run` options of `config/runopts.rs`.
        HEALTHCHECK = "healthcheck",
        STOP_SIGNAL = "stop_signal",
        HOSTNAME = "hostname",
        DOMAINNAME = "domainname",
        READ_ONLY = "read_only",
        TMPFS = "tmpfs",
        SHM_SIZE = "shm_size",
        DEVICES = "devices",
        SYSCTLS = "sysctls",
        INIT = "init",
        PID = "pid",
        IPC = "ipc",
        GROUP_ADD = "group_add",
        ENTRYPOINT = "entrypoint",
        CPUSET = "cpuset",
        MEM_RESERVATION = "mem_reservation",
        PIDS_LIMIT = "pids_limit",
        OOM_KILL_DISABLE = "oom_kill_disable",
        RUNTIME = "runtime",
        NETWORKS = "networks",
        // docker compose's spellings of MaestroNG's `username` and
        // `limits.cpu`: aliases, never given with them.
        USER = "user",
        CPU_SHARES = "cpu_shares",
    }
}

section! {
    /// A user-defined network (`networks.NAME`, top level).
    network {
        DRIVER = "driver",
        OPTIONS = "options",
        INTERNAL = "internal",
        IPAM = "ipam",
    }
}

section! {
    /// A network's `ipam`.
    ipam {
        SUBNET = "subnet",
        GATEWAY = "gateway",
    }
}

section! {
    /// A named volume (`volumes.NAME`, top level).
    named_volume {
        DRIVER = "driver",
        DRIVER_OPTS = "driver_opts",
        LABELS = "labels",
    }
}

section! {
    /// A network membership given as a mapping (`networks: {NAME: {...}}` of
    /// a service or an instance).
    network_ref {
        ALIASES = "aliases",
        IPV4_ADDRESS = "ipv4_address",
    }
}

section! {
    /// A port given as a mapping (`ports.NAME: {exposed, external}`).
    port {
        EXPOSED = "exposed",
        EXTERNAL = "external",
    }
}

section! {
    /// A schema 2 volume given as a mapping (`volumes.HOST: {target, mode}`).
    volume {
        TARGET = "target",
        MODE = "mode",
    }
}

section! {
    /// An `extra_hosts` entry given as a mapping (`HOST: {ship: NAME}`).
    extra_host {
        SHIP = "ship",
    }
}

section! {
    /// A `ulimits` entry given as a mapping.
    ulimit {
        SOFT = "soft",
        HARD = "hard",
    }
}

section! {
    /// `restart` given as a mapping.
    restart {
        NAME = "name",
        RETRIES = "retries",
        // Of the 0.7.5 documentation; read as retries with a warning.
        MAXIMUM_RETRY_COUNT = "maximum_retry_count",
    }
}

section! {
    /// `limits` (service and instance).
    limits {
        CPU = "cpu",
        MEMORY = "memory",
        SWAP = "swap",
    }
}

section! {
    /// `healthcheck` (service and instance), Docker's `HEALTHCHECK` options.
    healthcheck {
        TEST = "test",
        INTERVAL = "interval",
        TIMEOUT = "timeout",
        RETRIES = "retries",
        START_PERIOD = "start_period",
        DISABLE = "disable",
    }
}

section! {
    /// A lifecycle check; each type takes some of these (its table below).
    check {
        TYPE = "type",
        PORT = "port",
        HOST = "host",
        MATCH_REGEX = "match_regex",
        PATH = "path",
        SCHEME = "scheme",
        METHOD = "method",
        MAX_WAIT = "max_wait",
        REQUESTS_OPTIONS = "requests_options",
        COMMAND = "command",
        CMD = "cmd",
        ATTEMPTS = "attempts",
        ENVFROM = "envfrom",
        WAIT = "wait",
    }
}

section! {
    /// An auditor (an item of `audit`); each type takes the common keys
    /// (its table below) and some of these.
    auditor {
        TYPE = "type",
        LEVEL = "level",
        IGNORE_ERRORS = "ignore_errors",
        FILE = "file",
        ENDPOINT = "endpoint",
        PAYLOAD = "payload",
        HEADERS = "headers",
        METHOD = "method",
        TIMEOUT = "timeout",
        SCRIPT = "script",
        ARGS = "args",
        NAME = "name",
        CHANNEL = "channel",
        TOKEN = "token",
        ICON = "icon",
        ROOM = "room",
    }
}

/// The keys each auditor type takes besides [`COMMON`](auditor_types::COMMON).
pub(super) mod auditor_types {
    use super::auditor::*;

    /// Every type.
    pub(in crate::config) const COMMON: &[&str] = &[TYPE, LEVEL, IGNORE_ERRORS];
    /// `type: log`.
    pub(in crate::config) const LOG: &[&str] = &[FILE];
    /// `type: http`.
    pub(in crate::config) const HTTP: &[&str] = &[ENDPOINT, PAYLOAD, HEADERS, METHOD, TIMEOUT];
    /// `type: exec`.
    pub(in crate::config) const EXEC: &[&str] = &[SCRIPT, ARGS];
    /// `type: slack`.
    pub(in crate::config) const SLACK: &[&str] = &[NAME, CHANNEL, TOKEN, ICON];
    /// `type: hipchat`.
    pub(in crate::config) const HIPCHAT: &[&str] = &[NAME, ROOM, TOKEN];
}

/// The keys each lifecycle check type takes.
pub(super) mod check_types {
    use super::check::*;

    /// `type: tcp`.
    pub(in crate::config) const TCP: &[&str] = &[TYPE, PORT, MAX_WAIT];
    /// `type: http`.
    pub(in crate::config) const HTTP: &[&str] = &[
        TYPE,
        PORT,
        HOST,
        MATCH_REGEX,
        PATH,
        SCHEME,
        METHOD,
        MAX_WAIT,
        REQUESTS_OPTIONS,
    ];
    /// `type: exec`.
    pub(in crate::config) const EXEC: &[&str] = &[TYPE, COMMAND, CMD, ATTEMPTS, ENVFROM];
    /// `type: rexec`.
    pub(in crate::config) const REXEC: &[&str] = &[TYPE, COMMAND, ATTEMPTS];
    /// `type: sleep`.
    pub(in crate::config) const SLEEP: &[&str] = &[TYPE, WAIT];
    /// `type: health`.
    pub(in crate::config) const HEALTH: &[&str] = &[TYPE, MAX_WAIT];
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A key written twice in a table would hide a copy-paste slip (the
    /// second meant another key).
    #[test]
    fn every_table_names_each_key_once() {
        let tables: &[&[&str]] = &[
            top::ALL,
            meta::ALL,
            registry::ALL,
            retry::ALL,
            ship::ALL,
            ssh_tunnel::ALL,
            service::ALL,
            instance::ALL,
            port::ALL,
            volume::ALL,
            network::ALL,
            ipam::ALL,
            named_volume::ALL,
            network_ref::ALL,
            extra_host::ALL,
            ulimit::ALL,
            restart::ALL,
            limits::ALL,
            healthcheck::ALL,
            check::ALL,
            check_types::TCP,
            check_types::HTTP,
            check_types::EXEC,
            check_types::REXEC,
            check_types::SLEEP,
            check_types::HEALTH,
            auditor::ALL,
            auditor_types::COMMON,
            auditor_types::LOG,
            auditor_types::HTTP,
            auditor_types::EXEC,
            auditor_types::SLACK,
            auditor_types::HIPCHAT,
        ];
        for table in tables {
            let mut seen = std::collections::HashSet::new();
            for key in *table {
                assert!(seen.insert(key), "{key} twice in {table:?}");
            }
        }
        // Every check type's table is made of check keys and has `type`.
        for table in [
            check_types::TCP,
            check_types::HTTP,
            check_types::EXEC,
            check_types::REXEC,
            check_types::SLEEP,
            check_types::HEALTH,
        ] {
            assert!(table.contains(&check::TYPE));
            assert!(table.iter().all(|k| check::ALL.contains(k)), "{table:?}");
        }
    }
}
