//! Link variables over the built model: the addresses and ports of a
//! container's peers and dependencies (MaestroNG's `Conductor.__init__`),
//! computed per container on first use.
//!
//! Variable names come from [`maestro_guest::contract`], never spelled here.

use std::collections::BTreeSet;

use maestro_guest::contract::{InstanceLinks, PortLink, ServiceLinks};

use super::model::{EnvVar, Environment, Instance};

impl Environment {
    /// The exact environment `inst` gets, in injection order: its own variables, then
    /// the link variables of its service and of the services it depends on (README § The environment contract).
    /// Computed on first use and kept: link variables grow with the square of the
    /// environment, and loading or planning never needs them.
    pub fn container_env<'a>(&self, inst: &'a Instance) -> &'a [EnvVar] {
        inst.env.get_or_init(|| container_env(self, inst))
    }
}

/// The services whose link variables a service's containers get besides
/// their own: `requires` transitively and `wants_info` directly, by name.
pub fn dependency_services(environment: &Environment, service: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut stack: Vec<String> = environment
        .service(service)
        .map(|s| s.requires.clone())
        .unwrap_or_default();
    while let Some(dep) = stack.pop() {
        if out.insert(dep.clone()) {
            if let Some(s) = environment.service(&dep) {
                stack.extend(s.requires.iter().cloned());
            }
        }
    }
    if let Some(s) = environment.service(service) {
        out.extend(s.wants_info.iter().cloned());
    }
    out
}

/// The link view of a service, for [`ServiceLinks::variables`].
pub fn service_links(environment: &Environment, service: &str) -> ServiceLinks {
    let instances = environment
        .instances_of(service)
        .map(|i| InstanceLinks {
            name: i.name.clone(),
            host: environment
                .ship(&i.ship)
                .map(|s| s.ip.clone())
                .unwrap_or_default(),
            ports: i
                .ports
                .iter()
                .map(|p| PortLink {
                    name: p.name.clone(),
                    external: p.external.to_string(),
                    internal: Some(p.exposed.to_string()),
                })
                .collect(),
        })
        .collect();
    ServiceLinks {
        name: service.to_owned(),
        instances,
    }
}

/// Most link variables all containers together may get. Every container
/// of a service gets the variables of all its peers and dependencies, so
/// they grow with the square of the instance count: a 26 KB description of
/// 2500 aliased instances asked for 156 million (gigabytes, minutes). Real
/// descriptions stay orders of magnitude below.
pub const MAX_LINK_VARIABLES: usize = 1_000_000;

/// The full environment of `inst`: its own variables updated with the link
/// variables of its service (with internal ports), then of every service it
/// depends on (without), as MaestroNG's `Conductor.__init__` injects them.
pub fn container_env(environment: &Environment, inst: &Instance) -> Vec<EnvVar> {
    let mut env = inst.own_env.clone();
    let mut set = |vars: Vec<(String, String)>| {
        for (k, v) in vars {
            env.set_str(&k, Some(v));
        }
    };
    set(service_links(environment, &inst.service).variables(true));
    for dep in dependency_services(environment, &inst.service) {
        set(service_links(environment, &dep).variables(false));
    }
    env.vars()
}

#[cfg(test)]
mod tests {
    use crate::config::error::ConfigError;

    /// `count` aliased instances of one service, each with 12 ports.
    fn squared(count: usize) -> String {
        let ports: Vec<String> = (0..12).map(|j| format!("p{j}: {}", j + 1)).collect();
        let instances: Vec<String> = (0..count).map(|i| format!("a{i}: *x")).collect();
        format!(
            "name: x\nships: {{s: {{ip: 1.2.3.4}}}}\n_x: &x {{ship: s, ports: {{{}}}}}\n\
             services:\n  a:\n    image: i\n    instances: {{{}}}\n",
            ports.join(", "),
            instances.join(", ")
        )
    }

    fn load(text: String) -> Result<crate::config::Loaded, ConfigError> {
        crate::config::load_text(text, crate::config::Options::default())
    }

    /// Found with a targeted input while building the `yaml_loader` fuzz
    /// target (fuzz/regressions/yaml_loader/link-variables-squared): link
    /// variables grow with the square of the instance count, and 2500
    /// aliased instances took minutes and gigabytes. Now refused at once,
    /// naming the service.
    #[test]
    fn link_variables_squared_are_bounded() {
        let started = std::time::Instant::now();
        let err = load(squared(2500)).unwrap_err();
        assert!(started.elapsed() < std::time::Duration::from_secs(10));
        let message = err.to_string();
        assert!(
            message.starts_with(
                "t.yaml:6:5: services.a: the containers would get more than 1000000 link variables"
            ),
            "{message}"
        );
        // 100 such instances (250,100 variables) still load.
        let loaded = load(squared(100)).unwrap();
        let environment = &loaded.environment;
        let env = environment.container_env(&environment.instances[0]);
        assert!(env.iter().any(|v| v.name == "A_A99_P11_INTERNAL_PORT"));
    }
}
