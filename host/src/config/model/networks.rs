//! User-defined networks and named volumes: the environment-level `networks`
//! and `volumes` sections and an instance's network memberships (none of
//! them in MaestroNG 0.8.3; host/COMPAT.md § New keys).

use serde::Serialize;

/// A user-defined network (`networks.NAME`) that maestro creates on the ships
/// whose containers join it, so that those containers reach each other by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Network {
    /// The network's name on every ship, as written.
    pub name: String,
    /// `driver` (default `bridge`).
    pub driver: String,
    /// `options`: driver options, values as Python's `str()`, in YAML order.
    pub options: Vec<(String, String)>,
    /// `internal`: no route to the outside.
    pub internal: bool,
    /// `ipam.subnet` in CIDR form; `None` lets Docker choose one.
    pub subnet: Option<String>,
    /// `ipam.gateway`, inside the subnet.
    pub gateway: Option<String>,
}

/// A named volume's settings (`volumes.NAME`). A named volume used by an
/// instance without being declared gets the defaults (`local`, no options).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NamedVolume {
    /// The volume's name on every ship.
    pub name: String,
    /// `driver` (default `local`).
    pub driver: String,
    /// `driver_opts`, values as Python's `str()`, in YAML order.
    pub driver_opts: Vec<(String, String)>,
    /// `labels`, besides maestro's environment label.
    pub labels: Vec<(String, String)>,
}

impl NamedVolume {
    /// The settings of a named volume nobody declared.
    pub fn undeclared(name: &str) -> NamedVolume {
        NamedVolume {
            name: name.to_owned(),
            driver: "local".into(),
            driver_opts: Vec::new(),
            labels: Vec::new(),
        }
    }
}

/// An instance's membership of a network (`networks: [NAME]` or
/// `networks: {NAME: {aliases, ipv4_address}}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NetworkRef {
    /// The network (one of the environment's `networks`).
    pub network: String,
    /// `aliases`: more names the container answers to on this network
    /// (its instance and service names always are).
    pub aliases: Vec<String>,
    /// `ipv4_address`: a fixed address in the network's subnet.
    pub ipv4_address: Option<String>,
}

impl super::Environment {
    /// The declared network called `name`.
    pub fn network(&self, name: &str) -> Option<&Network> {
        self.networks.iter().find(|n| n.name == name)
    }

    /// The settings of the named volume `name`: its declaration, or the
    /// defaults when only an instance's `volumes` names it.
    pub fn named_volume(&self, name: &str) -> NamedVolume {
        self.volumes
            .iter()
            .find(|v| v.name == name)
            .cloned()
            .unwrap_or_else(|| NamedVolume::undeclared(name))
    }
}
