//! The environment contract: the variables maestro injects into every
//! container, exactly as MaestroNG 0.8.3 names and fills them.
//!
//! Existing images and init scripts read these variables (often through
//! MaestroNG's Python `guestutils`), so every name, value and error message
//! here follows 0.8.3 to the byte. This module is the only place in the
//! workspace that spells a variable name:
//!
//! - the host builds a container's variables with [`identity_vars`],
//!   [`service_identity_vars`] and [`ServiceLinks::variables`];
//! - the guest answers queries through [`GuestEnv`] and reads the whole
//!   topology back with [`GuestEnv::topology`].
//!
//! The variables, for a container `kafka-2` of service `kafka` that requires
//! `zookeeper`:
//!
//! | variable | value |
//! |---|---|
//! | `MAESTRO_ENVIRONMENT_NAME` | the environment's `name` |
//! | `SERVICE_NAME`, `CONTAINER_NAME` | `kafka`, `kafka-2` |
//! | `CONTAINER_HOST_ADDRESS` | the ship's `ip` |
//! | `DOCKER_IMAGE`, `DOCKER_TAG` | the instance's image and its tag |
//! | `KAFKA_KAFKA_2_HOST` | a peer's ship `ip` (one per instance) |
//! | `KAFKA_KAFKA_2_BROKER_PORT` | a peer's external port, protocol dropped |
//! | `KAFKA_KAFKA_2_BROKER_INTERNAL_PORT` | a peer's exposed port (own service only) |
//! | `KAFKA_INSTANCES` | the service's instance names, sorted, comma-joined |
//! | `ZOOKEEPER_ZK_1_HOST`, `ZOOKEEPER_ZK_1_CLIENT_PORT`, `ZOOKEEPER_INSTANCES` | the same for dependencies, without internal ports |

use std::collections::{BTreeMap, HashMap};
use std::fmt;

/// Names of the variables that describe the container itself.
pub mod names {
    /// The environment's `name`; guests fall back to [`DEFAULT_ENVIRONMENT_NAME`].
    pub const ENVIRONMENT_NAME: &str = "MAESTRO_ENVIRONMENT_NAME";
    /// The service the container is an instance of.
    pub const SERVICE_NAME: &str = "SERVICE_NAME";
    /// The instance name, also the container's name and hostname.
    pub const CONTAINER_NAME: &str = "CONTAINER_NAME";
    /// The ship's `ip`: the address peers reach this container at.
    pub const CONTAINER_HOST_ADDRESS: &str = "CONTAINER_HOST_ADDRESS";
    /// The full image name the container runs.
    pub const DOCKER_IMAGE: &str = "DOCKER_IMAGE";
    /// The tag part of [`DOCKER_IMAGE`] (`latest` when it has none).
    pub const DOCKER_TAG: &str = "DOCKER_TAG";
    /// What `get_environment_name()` answers when the variable is absent.
    pub const DEFAULT_ENVIRONMENT_NAME: &str = "local";

    /// Suffix of a per-instance host variable.
    pub const HOST_SUFFIX: &str = "_HOST";
    /// Suffix of a per-port external port variable.
    pub const PORT_SUFFIX: &str = "_PORT";
    /// Suffix of a per-port internal (exposed) port variable.
    pub const INTERNAL_PORT_SUFFIX: &str = "_INTERNAL_PORT";
    /// Suffix of a service's instance list variable.
    pub const INSTANCES_SUFFIX: &str = "_INSTANCES";
}

/// Turns a service, container or port name into its variable-name form.
///
/// MaestroNG 0.8.3: `re.sub(r'[^\w]', '_', name).upper()`. Python's Unicode
/// `\w` is approximated by `char::is_alphanumeric` plus `_`; both sides use
/// full Unicode upper-casing (`ß` becomes `SS`).
pub fn env_var_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect::<String>()
        .to_uppercase()
}

/// `<SERVICE>_<CONTAINER>_HOST`.
pub fn host_var(service: &str, container: &str) -> String {
    format!(
        "{}_{}{}",
        env_var_name(service),
        env_var_name(container),
        names::HOST_SUFFIX
    )
}

/// `<SERVICE>_<CONTAINER>_<PORT>_PORT`.
pub fn port_var(service: &str, container: &str, port: &str) -> String {
    format!(
        "{}_{}_{}{}",
        env_var_name(service),
        env_var_name(container),
        env_var_name(port),
        names::PORT_SUFFIX
    )
}

/// `<SERVICE>_<CONTAINER>_<PORT>_INTERNAL_PORT`.
pub fn internal_port_var(service: &str, container: &str, port: &str) -> String {
    format!(
        "{}_{}_{}{}",
        env_var_name(service),
        env_var_name(container),
        env_var_name(port),
        names::INTERNAL_PORT_SUFFIX
    )
}

/// `<SERVICE>_INSTANCES`.
pub fn instances_var(service: &str) -> String {
    format!("{}{}", env_var_name(service), names::INSTANCES_SUFFIX)
}

/// The tag MaestroNG derives from an image name (`Container.get_image_details`).
///
/// The last `:` separates the tag unless what follows contains a `/` (then it
/// was a registry port); an empty tag is `latest`.
pub fn image_tag(image: &str) -> &str {
    match image.rsplit_once(':') {
        Some((_, tag)) if tag.contains('/') => "latest",
        Some((_, "")) | None => "latest",
        Some((_, tag)) => tag,
    }
}

// ---------------------------------------------------------------------------
// Writer side: what the host knows, turned into variables.
// ---------------------------------------------------------------------------

/// One named port of an instance, as the contract carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortLink {
    /// The port's name in the environment description (`client`).
    pub name: String,
    /// The external (published) port, protocol removed; may be a range `a-b`.
    pub external: String,
    /// The exposed port inside the container, protocol removed. Only peers of
    /// the container's own service carry it.
    pub internal: Option<String>,
}

/// One instance of a service, as other containers see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceLinks {
    /// The instance (container) name.
    pub name: String,
    /// The address of its ship (the ship's `ip`).
    pub host: String,
    /// Its named ports, in the order the description merged them.
    pub ports: Vec<PortLink>,
}

/// A service and its instances, as other containers see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceLinks {
    /// The service name.
    pub name: String,
    /// Instances in declaration order (the variable order follows it; the
    /// `_INSTANCES` list is sorted regardless).
    pub instances: Vec<InstanceLinks>,
}

impl ServiceLinks {
    /// The link variables of this service, in MaestroNG's order: per instance
    /// its host then each port (external, then internal when `with_internal`),
    /// and last the sorted instance list.
    ///
    /// `with_internal` is true for a container's own service, false for its
    /// dependencies (MaestroNG's `get_link_variables(add_internal)`).
    pub fn variables(&self, with_internal: bool) -> Vec<(String, String)> {
        let mut vars = Vec::new();
        for instance in &self.instances {
            vars.push((host_var(&self.name, &instance.name), instance.host.clone()));
            for port in &instance.ports {
                vars.push((
                    port_var(&self.name, &instance.name, &port.name),
                    port.external.clone(),
                ));
                if with_internal {
                    // MaestroNG exports the exposed side for every own-service
                    // port; a writer without it exports the external one.
                    let internal = port.internal.as_ref().unwrap_or(&port.external);
                    vars.push((
                        internal_port_var(&self.name, &instance.name, &port.name),
                        internal.clone(),
                    ));
                }
            }
        }
        let mut names: Vec<&str> = self.instances.iter().map(|i| i.name.as_str()).collect();
        // Python sorts str by code point; Rust's str order is byte order of
        // UTF-8, which is the same order.
        names.sort_unstable();
        vars.push((instances_var(&self.name), names.join(",")));
        vars
    }
}

/// `MAESTRO_ENVIRONMENT_NAME` and `SERVICE_NAME`, which MaestroNG adds on
/// top of a service's own `envfile`/`env` (so service env cannot override
/// them, while instance env can).
pub fn service_identity_vars(environment_name: &str, service: &str) -> [(String, String); 2] {
    [
        (
            names::ENVIRONMENT_NAME.to_owned(),
            environment_name.to_owned(),
        ),
        (names::SERVICE_NAME.to_owned(), service.to_owned()),
    ]
}

/// `CONTAINER_NAME`, `CONTAINER_HOST_ADDRESS`, `DOCKER_IMAGE` and
/// `DOCKER_TAG`, which MaestroNG adds on top of the instance env.
pub fn identity_vars(container: &str, host_address: &str, image: &str) -> [(String, String); 4] {
    [
        (names::CONTAINER_NAME.to_owned(), container.to_owned()),
        (
            names::CONTAINER_HOST_ADDRESS.to_owned(),
            host_address.to_owned(),
        ),
        (names::DOCKER_IMAGE.to_owned(), image.to_owned()),
        (names::DOCKER_TAG.to_owned(), image_tag(image).to_owned()),
    ]
}

// ---------------------------------------------------------------------------
// Reader side: the guest's view, with guestutils' exact answers and errors.
// ---------------------------------------------------------------------------

/// What guestutils raises as `MaestroEnvironmentError`; the message is
/// 0.8.3's, word for word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContractError(pub String);

impl fmt::Display for ContractError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ContractError {}

/// A port number as guestutils returns it: Python's `int()` of the variable,
/// kept as normalised decimal text so that any size round-trips.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct PortNumber(String);

impl PortNumber {
    /// Parses text the way Python's `int(str)` does in base 10: surrounding
    /// whitespace, an optional sign, digits with single `_` between them.
    /// Returns `None` where Python raises `ValueError`. Like Python, any
    /// Unicode decimal digit counts (`'١٢'` is 12).
    pub fn parse_python_int(text: &str) -> Option<PortNumber> {
        let trimmed = text.trim_matches(is_python_whitespace);
        let (negative, digits) = match trimmed.as_bytes().first() {
            Some(b'-') => (true, &trimmed[1..]),
            Some(b'+') => (false, &trimmed[1..]),
            _ => (false, trimmed),
        };
        if digits.is_empty() || digits.starts_with('_') || digits.ends_with('_') {
            return None;
        }
        let mut clean = String::with_capacity(digits.len());
        let mut previous_underscore = false;
        for c in digits.chars() {
            match c {
                '_' if !previous_underscore => previous_underscore = true,
                _ => {
                    clean.push(char::from(b'0' + decimal_digit(c)?));
                    previous_underscore = false;
                }
            }
        }
        let significant = clean.trim_start_matches('0');
        Some(PortNumber(match (significant.is_empty(), negative) {
            (true, _) => "0".to_owned(),
            (false, true) => format!("-{significant}"),
            (false, false) => significant.to_owned(),
        }))
    }

    /// The number as decimal text (what Python's `str(int)` prints).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PortNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The first code point (digit zero) of every non-ASCII run of decimal
/// digits in Unicode 14, the version of Python 3.11, whose `int()` accepts
/// any `str.isdecimal()` character; each run holds 0 to 9 in order.
const DECIMAL_ZEROS: [u32; 65] = [
    0x0660, 0x06f0, 0x07c0, 0x0966, 0x09e6, 0x0a66, 0x0ae6, 0x0b66, 0x0be6, 0x0c66, 0x0ce6, 0x0d66,
    0x0de6, 0x0e50, 0x0ed0, 0x0f20, 0x1040, 0x1090, 0x17e0, 0x1810, 0x1946, 0x19d0, 0x1a80, 0x1a90,
    0x1b50, 0x1bb0, 0x1c40, 0x1c50, 0xa620, 0xa8d0, 0xa900, 0xa9d0, 0xa9f0, 0xaa50, 0xabf0, 0xff10,
    0x104a0, 0x10d30, 0x11066, 0x110f0, 0x11136, 0x111d0, 0x112f0, 0x11450, 0x114d0, 0x11650,
    0x116c0, 0x11730, 0x118e0, 0x11950, 0x11c50, 0x11d50, 0x11da0, 0x16a60, 0x16ac0, 0x16b50,
    0x1d7ce, 0x1d7d8, 0x1d7e2, 0x1d7ec, 0x1d7f6, 0x1e140, 0x1e2f0, 0x1e950, 0x1fbf0,
];

/// The value of a decimal digit as Python's `int()` reads it.
fn decimal_digit(c: char) -> Option<u8> {
    if let Some(digit) = c.to_digit(10) {
        return u8::try_from(digit).ok();
    }
    let code = u32::from(c);
    DECIMAL_ZEROS
        .iter()
        .find(|&&zero| (zero..zero + 10).contains(&code))
        .and_then(|zero| u8::try_from(code - zero).ok())
}

/// The characters Python's `int()` strips: Unicode White_Space. Unlike
/// `str.isspace()` it keeps `\x1c`..`\x1f` (`int('\x1c1')` raises), as
/// the differential test against guestutils showed.
fn is_python_whitespace(c: char) -> bool {
    c.is_whitespace()
}

/// The injected environment as the guest reads it, answering every
/// MaestroNG guest function with 0.8.3's results and errors.
#[derive(Debug, Clone, Default)]
pub struct GuestEnv {
    vars: HashMap<String, String>,
}

impl GuestEnv {
    /// Reads the given variables (usually `std::env::vars()`).
    pub fn from_vars<I, K, V>(vars: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        GuestEnv {
            vars: vars
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }

    /// Reads the current process environment; variables that are not
    /// UTF-8 are read lossily (Python would keep them surrogate-escaped).
    pub fn from_process() -> Self {
        Self::from_vars(std::env::vars_os().map(|(k, v)| {
            (
                k.to_string_lossy().into_owned(),
                v.to_string_lossy().into_owned(),
            )
        }))
    }

    /// Every variable, for templates that read `env`.
    pub fn vars(&self) -> &HashMap<String, String> {
        &self.vars
    }

    /// One raw variable.
    pub fn var(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str)
    }

    /// `get_environment_name()`: never fails, `local` when absent.
    pub fn environment_name(&self) -> &str {
        self.var(names::ENVIRONMENT_NAME)
            .unwrap_or(names::DEFAULT_ENVIRONMENT_NAME)
    }

    /// `get_service_name()`.
    pub fn service_name(&self) -> Result<&str, ContractError> {
        self.non_empty(names::SERVICE_NAME, "Service name was not defined")
    }

    /// `get_container_name()`.
    pub fn container_name(&self) -> Result<&str, ContractError> {
        self.non_empty(names::CONTAINER_NAME, "Container name was not defined")
    }

    /// `get_container_host_address()`.
    pub fn host_address(&self) -> Result<&str, ContractError> {
        self.non_empty(
            names::CONTAINER_HOST_ADDRESS,
            "Container host address was not defined",
        )
    }

    fn non_empty(&self, name: &str, message: &str) -> Result<&str, ContractError> {
        match self.var(name) {
            Some(value) if !value.is_empty() => Ok(value),
            _ => Err(ContractError(message.to_owned())),
        }
    }

    /// `get_specific_host(service, container)`: the raw value, even empty.
    pub fn specific_host(&self, service: &str, container: &str) -> Result<&str, ContractError> {
        self.var(&host_var(service, container)).ok_or_else(|| {
            ContractError(format!(
                "No host defined for container {container} of service {service}"
            ))
        })
    }

    /// `get_specific_port(service, container, port, default)`: the external
    /// port. A present variable wins over the default, even when it is not a
    /// number (then it is an error, as in Python).
    pub fn specific_port(
        &self,
        service: &str,
        container: &str,
        port: &str,
        default: Option<&str>,
    ) -> Result<PortNumber, ContractError> {
        self.int_var(&port_var(service, container, port), default)
            .ok_or_else(|| {
                ContractError(format!(
                    "No port {port} defined for container {container} of service {service}"
                ))
            })
    }

    /// `get_specific_exposed_port(service, container, port, default)`: the
    /// internal port, known only for the container's own service.
    pub fn specific_exposed_port(
        &self,
        service: &str,
        container: &str,
        port: &str,
        default: Option<&str>,
    ) -> Result<PortNumber, ContractError> {
        self.int_var(&internal_port_var(service, container, port), default)
            .ok_or_else(|| {
                ContractError(format!(
                    "No internal port {port} defined for container {container} of service {service}"
                ))
            })
    }

    /// `get_port(name, default)`: this container's internal port.
    pub fn port(&self, name: &str, default: Option<&str>) -> Result<PortNumber, ContractError> {
        let service = self.service_name()?;
        let container = self.container_name()?;
        self.specific_exposed_port(service, container, name, default)
    }

    /// Python's `int(os.environ.get(var, default))`.
    fn int_var(&self, var: &str, default: Option<&str>) -> Option<PortNumber> {
        self.var(var)
            .or(default)
            .and_then(PortNumber::parse_python_int)
    }

    /// `_get_service_instance_names(service)`: the `_INSTANCES` list split on
    /// commas (an empty value gives one empty name, as in Python); absent
    /// means none.
    pub fn instance_names(&self, service: &str) -> Vec<&str> {
        match self.var(&instances_var(service)) {
            Some(list) => list.split(',').collect(),
            None => Vec::new(),
        }
    }

    /// `get_node_list(service, ports, minimum)`: `host[:port...]` per
    /// instance, in `_INSTANCES` order.
    pub fn node_list(
        &self,
        service: &str,
        ports: &[&str],
        minimum: i64,
    ) -> Result<Vec<String>, ContractError> {
        let mut nodes = Vec::new();
        for container in self.instance_names(service) {
            let mut node = self.specific_host(service, container)?.to_owned();
            for port in ports {
                let number = self.specific_port(service, container, port, None)?;
                node.push(':');
                node.push_str(number.as_str());
            }
            nodes.push(node);
        }
        if (nodes.len() as i64) < minimum {
            return Err(ContractError(format!(
                "No or not enough {service} nodes configured"
            )));
        }
        Ok(nodes)
    }

    /// The whole topology the variables describe, for `info` and templates.
    ///
    /// Variable names carry only the upper-cased form of service and port
    /// names, so services other than the container's own and all ports are
    /// reported in that form, lower-cased; instance names come verbatim from
    /// the `_INSTANCES` lists.
    pub fn topology(&self) -> Topology {
        let own_prefix = self
            .var(names::SERVICE_NAME)
            .map(env_var_name)
            .unwrap_or_default();
        let mut services = BTreeMap::new();
        for (key, list) in &self.vars {
            let Some(prefix) = key.strip_suffix(names::INSTANCES_SUFFIX) else {
                continue;
            };
            if prefix.is_empty() {
                continue;
            }
            let name = if prefix == own_prefix {
                self.var(names::SERVICE_NAME).unwrap_or(prefix).to_owned()
            } else {
                prefix.to_lowercase()
            };
            let instance_names: Vec<&str> = list.split(',').collect();
            let instances = instance_names
                .iter()
                .map(|instance| self.read_instance(prefix, instance, &instance_names))
                .collect();
            services.insert(name, TopologyService { instances });
        }
        Topology {
            environment_name: self.environment_name().to_owned(),
            service_name: self.var(names::SERVICE_NAME).map(str::to_owned),
            container_name: self.var(names::CONTAINER_NAME).map(str::to_owned),
            host_address: self.var(names::CONTAINER_HOST_ADDRESS).map(str::to_owned),
            image: self.var(names::DOCKER_IMAGE).map(str::to_owned),
            tag: self.var(names::DOCKER_TAG).map(str::to_owned),
            services,
        }
    }

    /// Reads one instance's host and ports; `siblings` resolves prefixes
    /// shared by two instance names (`a` and `a-b`) in favour of the longer.
    fn read_instance(
        &self,
        service_prefix: &str,
        name: &str,
        siblings: &[&str],
    ) -> TopologyInstance {
        let prefix = format!("{service_prefix}_{}_", env_var_name(name));
        let longer: Vec<String> = siblings
            .iter()
            .map(|s| format!("{service_prefix}_{}_", env_var_name(s)))
            .filter(|p| p.len() > prefix.len() && p.starts_with(&prefix))
            .collect();
        let mut by_name = BTreeMap::new();
        for (key, value) in &self.vars {
            if !key.starts_with(&prefix) || longer.iter().any(|p| key.starts_with(p)) {
                continue;
            }
            if let Some(port) = key[prefix.len()..].strip_suffix(names::PORT_SUFFIX) {
                by_name.insert(port.to_owned(), value.clone());
            }
        }
        // `X_INTERNAL_PORT` is the internal side of port `x` when `X_PORT`
        // exists, and otherwise the external side of a port named `x_internal`.
        let mut external = BTreeMap::new();
        let mut internal = BTreeMap::new();
        for (port, value) in &by_name {
            match port.strip_suffix("_INTERNAL") {
                Some(base) if by_name.contains_key(base) => {
                    internal.insert(base.to_owned(), value.clone());
                }
                _ => {
                    external.insert(port.clone(), value.clone());
                }
            }
        }
        let ports = external
            .into_iter()
            .map(|(port, value)| {
                let internal = internal.get(&port).cloned();
                (
                    port.to_lowercase(),
                    TopologyPort {
                        external: value,
                        internal,
                    },
                )
            })
            .collect();
        TopologyInstance {
            name: name.to_owned(),
            host: self
                .var(&format!(
                    "{service_prefix}_{}{}",
                    env_var_name(name),
                    names::HOST_SUFFIX
                ))
                .map(str::to_owned),
            ports,
        }
    }
}

/// The topology a container sees: itself, its peers and its dependencies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topology {
    /// `MAESTRO_ENVIRONMENT_NAME`, or `local`.
    pub environment_name: String,
    /// `SERVICE_NAME`.
    pub service_name: Option<String>,
    /// `CONTAINER_NAME`.
    pub container_name: Option<String>,
    /// `CONTAINER_HOST_ADDRESS`.
    pub host_address: Option<String>,
    /// `DOCKER_IMAGE`.
    pub image: Option<String>,
    /// `DOCKER_TAG`.
    pub tag: Option<String>,
    /// Every service with an `_INSTANCES` variable, by name.
    pub services: BTreeMap<String, TopologyService>,
}

/// A service as read back from the variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopologyService {
    /// Instances in `_INSTANCES` order (sorted by name).
    pub instances: Vec<TopologyInstance>,
}

/// An instance as read back from the variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopologyInstance {
    /// The instance name, verbatim.
    pub name: String,
    /// Its host, when the `_HOST` variable is present.
    pub host: Option<String>,
    /// Its ports by lower-cased variable name.
    pub ports: BTreeMap<String, TopologyPort>,
}

/// A port as read back from the variables (raw text, not parsed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopologyPort {
    /// The external port.
    pub external: String,
    /// The internal port, for the container's own service.
    pub internal: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zk_kafka_links() -> (ServiceLinks, ServiceLinks) {
        let zk = ServiceLinks {
            name: "zookeeper".into(),
            instances: (1..=3)
                .map(|i| InstanceLinks {
                    name: format!("zk-node-{i}"),
                    host: "192.168.10.2".into(),
                    ports: vec![
                        PortLink {
                            name: "client".into(),
                            external: format!("{}", 2180 + i),
                            internal: Some("2181".into()),
                        },
                        PortLink {
                            name: "peer".into(),
                            external: format!("{}", 2887 + i),
                            internal: Some("2888".into()),
                        },
                    ],
                })
                .collect(),
        };
        let kafka = ServiceLinks {
            name: "kafka".into(),
            instances: (1..=3)
                .map(|i| InstanceLinks {
                    name: format!("kafka-{i}"),
                    host: "192.168.10.2".into(),
                    ports: vec![PortLink {
                        name: "broker".into(),
                        external: format!("{}", 9091 + i),
                        internal: Some("9092".into()),
                    }],
                })
                .collect(),
        };
        (zk, kafka)
    }

    fn kafka_2_env() -> GuestEnv {
        let (zk, kafka) = zk_kafka_links();
        let mut vars: Vec<(String, String)> = Vec::new();
        vars.extend(service_identity_vars("zk-kafka", "kafka"));
        vars.extend(identity_vars("kafka-2", "192.168.10.2", "kafka:latest"));
        vars.extend(kafka.variables(true));
        vars.extend(zk.variables(false));
        GuestEnv::from_vars(vars)
    }

    #[test]
    fn names_are_sanitised_like_maestro_ng() {
        assert_eq!(env_var_name("zk-node.1"), "ZK_NODE_1");
        assert_eq!(env_var_name("My Service/x"), "MY_SERVICE_X");
        assert_eq!(env_var_name("a_b9"), "A_B9");
        assert_eq!(env_var_name("straße"), "STRASSE");
        assert_eq!(env_var_name("café"), "CAFÉ");
        assert_eq!(host_var("db", "db.primary"), "DB_DB_PRIMARY_HOST");
        assert_eq!(
            port_var("Zoo-Keeper", "zk-1", "client"),
            "ZOO_KEEPER_ZK_1_CLIENT_PORT"
        );
        assert_eq!(
            internal_port_var("kafka", "kafka-2", "jmx.rmi"),
            "KAFKA_KAFKA_2_JMX_RMI_INTERNAL_PORT"
        );
        assert_eq!(instances_var("web-front"), "WEB_FRONT_INSTANCES");
    }

    #[test]
    fn image_tags_follow_get_image_details() {
        assert_eq!(image_tag("kafka"), "latest");
        assert_eq!(image_tag("kafka:2.8"), "2.8");
        assert_eq!(image_tag("kafka:"), "latest");
        assert_eq!(image_tag("registry:5000/kafka"), "latest");
        assert_eq!(image_tag("registry:5000/kafka:1"), "1");
        assert_eq!(image_tag("x@sha256:abc"), "abc");
    }

    #[test]
    fn link_variables_are_ordered_and_sorted_like_maestro_ng() {
        let service = ServiceLinks {
            name: "db".into(),
            instances: vec![
                InstanceLinks {
                    name: "db.primary".into(),
                    host: "10.0.0.1".into(),
                    ports: vec![PortLink {
                        name: "sql".into(),
                        external: "5433".into(),
                        internal: Some("5432".into()),
                    }],
                },
                InstanceLinks {
                    name: "db-replica_1".into(),
                    host: "10.0.0.2".into(),
                    ports: vec![],
                },
            ],
        };
        let with = service.variables(true);
        let keys: Vec<&str> = with.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            [
                "DB_DB_PRIMARY_HOST",
                "DB_DB_PRIMARY_SQL_PORT",
                "DB_DB_PRIMARY_SQL_INTERNAL_PORT",
                "DB_DB_REPLICA_1_HOST",
                "DB_INSTANCES"
            ]
        );
        assert_eq!(with.last().unwrap().1, "db-replica_1,db.primary");
        let without = service.variables(false);
        assert!(without.iter().all(|(k, _)| !k.ends_with("_INTERNAL_PORT")));
        assert_eq!(without.len(), 4);
    }

    #[test]
    fn seed_example_answers_as_documented() {
        let env = kafka_2_env();
        assert_eq!(env.environment_name(), "zk-kafka");
        assert_eq!(env.service_name().unwrap(), "kafka");
        assert_eq!(env.container_name().unwrap(), "kafka-2");
        assert_eq!(env.host_address().unwrap(), "192.168.10.2");
        assert_eq!(env.port("broker", None).unwrap().as_str(), "9092");
        assert_eq!(env.port("unknown", Some("42")).unwrap().as_str(), "42");
        assert!(env.port("unknown", None).is_err());
        assert_eq!(
            env.node_list("zookeeper", &["client"], 1).unwrap(),
            [
                "192.168.10.2:2181",
                "192.168.10.2:2182",
                "192.168.10.2:2183"
            ]
        );
        assert_eq!(
            env.node_list("zookeeper", &["client", "peer"], 1).unwrap(),
            [
                "192.168.10.2:2181:2888",
                "192.168.10.2:2182:2889",
                "192.168.10.2:2183:2890"
            ]
        );
        assert_eq!(
            env.node_list("kafka", &["broker"], 1).unwrap(),
            [
                "192.168.10.2:9092",
                "192.168.10.2:9093",
                "192.168.10.2:9094"
            ]
        );
        assert_eq!(
            env.specific_host("zookeeper", "zk-node-2").unwrap(),
            "192.168.10.2"
        );
        assert_eq!(
            env.specific_port("zookeeper", "zk-node-2", "client", None)
                .unwrap()
                .as_str(),
            "2182"
        );
        // Dependencies carry no internal ports: guestutils fails here too.
        assert_eq!(
            env.specific_exposed_port("zookeeper", "zk-node-2", "client", None)
                .unwrap_err()
                .to_string(),
            "No internal port client defined for container zk-node-2 of service zookeeper"
        );
    }

    #[test]
    fn errors_carry_guestutils_messages() {
        let env = GuestEnv::from_vars([("SERVICE_NAME", ""), ("X_INSTANCES", "a,b")]);
        assert_eq!(env.environment_name(), "local");
        assert_eq!(
            env.service_name().unwrap_err().0,
            "Service name was not defined"
        );
        assert_eq!(
            env.container_name().unwrap_err().0,
            "Container name was not defined"
        );
        assert_eq!(
            env.host_address().unwrap_err().0,
            "Container host address was not defined"
        );
        assert_eq!(
            env.node_list("x", &[], 1).unwrap_err().0,
            "No host defined for container a of service x"
        );
        assert_eq!(
            env.node_list("nothing", &[], 1).unwrap_err().0,
            "No or not enough nothing nodes configured"
        );
        assert_eq!(
            env.node_list("nothing", &[], 0).unwrap(),
            Vec::<String>::new()
        );
        assert_eq!(
            env.specific_port("s", "c", "p", Some("x")).unwrap_err().0,
            "No port p defined for container c of service s"
        );
    }

    #[test]
    fn port_numbers_parse_like_python_int() {
        let p = |s: &str| PortNumber::parse_python_int(s).map(|n| n.0);
        assert_eq!(p("2181").as_deref(), Some("2181"));
        assert_eq!(p(" 007\n").as_deref(), Some("7"));
        assert_eq!(p("+5").as_deref(), Some("5"));
        assert_eq!(p("-0").as_deref(), Some("0"));
        assert_eq!(p("-12").as_deref(), Some("-12"));
        assert_eq!(p("1_000").as_deref(), Some("1000"));
        assert_eq!(p("\u{661}\u{662}").as_deref(), Some("12"));
        assert_eq!(p("\u{1d7d7}_\u{ff10}").as_deref(), Some("90"));
        assert_eq!(
            p("123456789012345678901234567890").as_deref(),
            Some("123456789012345678901234567890")
        );
        for bad in [
            "", " ", "1-3", "1__0", "_1", "1_", "0x10", "1.0", "+", "- 1", "\u{1c}1", "1\u{1f}",
            "\u{b2}", "\u{66a}",
        ] {
            assert_eq!(p(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn present_variable_wins_over_default_even_when_invalid() {
        let env = GuestEnv::from_vars([("S_C_P_PORT", "")]);
        assert!(env.specific_port("s", "c", "p", Some("1")).is_err());
        let env = GuestEnv::from_vars([("S_C_P_PORT", "30000-30010")]);
        assert!(env.specific_port("s", "c", "p", Some("1")).is_err());
    }

    #[test]
    fn lookups_are_case_and_punctuation_insensitive() {
        let env = kafka_2_env();
        assert_eq!(
            env.specific_host("ZooKeeper", "ZK.NODE.1").unwrap(),
            "192.168.10.2"
        );
        assert_eq!(env.node_list("ZooKeeper", &["CLIENT"], 3).unwrap().len(), 3);
    }

    #[test]
    fn topology_round_trips_names_with_dashes_dots_digits_and_case() {
        let own = ServiceLinks {
            name: "Web-Front.v2".into(),
            instances: vec![
                InstanceLinks {
                    name: "web.1".into(),
                    host: "10.99.0.2".into(),
                    ports: vec![
                        PortLink {
                            name: "http".into(),
                            external: "8080".into(),
                            internal: Some("80".into()),
                        },
                        PortLink {
                            name: "admin-9".into(),
                            external: "9000-9002".into(),
                            internal: Some("9000-9002".into()),
                        },
                    ],
                },
                InstanceLinks {
                    name: "web.1-b".into(),
                    host: "h2".into(),
                    ports: vec![],
                },
            ],
        };
        let dep = ServiceLinks {
            name: "db".into(),
            instances: vec![InstanceLinks {
                name: "DB_1".into(),
                host: "10.0.0.5".into(),
                ports: vec![PortLink {
                    name: "sql".into(),
                    external: "5432".into(),
                    internal: None,
                }],
            }],
        };
        let mut vars = Vec::new();
        vars.extend(service_identity_vars("prod", "Web-Front.v2"));
        vars.extend(identity_vars("web.1", "10.99.0.2", "reg:5000/web"));
        vars.extend(own.variables(true));
        vars.extend(dep.variables(false));
        let topology = GuestEnv::from_vars(vars).topology();

        assert_eq!(topology.environment_name, "prod");
        assert_eq!(topology.tag.as_deref(), Some("latest"));
        let web = &topology.services["Web-Front.v2"];
        assert_eq!(web.instances.len(), 2);
        let first = &web.instances[0];
        assert_eq!(first.name, "web.1");
        assert_eq!(first.host.as_deref(), Some("10.99.0.2"));
        assert_eq!(first.ports.len(), 2, "{first:?}");
        assert_eq!(first.ports["http"].external, "8080");
        assert_eq!(first.ports["http"].internal.as_deref(), Some("80"));
        assert_eq!(first.ports["admin_9"].external, "9000-9002");
        let second = &web.instances[1];
        assert_eq!(second.name, "web.1-b");
        assert!(second.ports.is_empty());
        let db = &topology.services["db"];
        assert_eq!(db.instances[0].name, "DB_1");
        assert_eq!(db.instances[0].ports["sql"].internal, None);
    }

    #[test]
    fn a_port_named_like_an_internal_suffix_is_kept() {
        let dep = ServiceLinks {
            name: "s".into(),
            instances: vec![InstanceLinks {
                name: "c".into(),
                host: "h".into(),
                ports: vec![PortLink {
                    name: "x_internal".into(),
                    external: "1".into(),
                    internal: None,
                }],
            }],
        };
        let topology = GuestEnv::from_vars(dep.variables(false)).topology();
        assert_eq!(
            topology.services["s"].instances[0].ports["x_internal"].external,
            "1"
        );
    }
}
