//! What to do about the networks and named volumes a container needs, and
//! which of them `clean --networks` / `clean --volumes` removes: the pure half
//! of those steps (the executor observes and performs).
//!
//! A network or volume a container needs is created on its ship before the
//! container when it is missing, used when it is there with the settings the
//! environment declares, and is an error naming both settings otherwise: an
//! existing network is never silently reused with other settings. A named
//! volume nobody declared is used as the ship has it. `clean` removes only
//! what carries the environment's label and no container (stopped ones
//! included) uses.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::config::model::{Environment, Instance};
use crate::spec::{NetworkSeen, NetworkSpec, VolumeSeen, VolumeSpec};

/// What to do about one network or volume before a container is created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "ensure", rename_all = "snake_case")]
pub enum Ensure {
    /// It is missing: create it.
    Create,
    /// It is there as wanted: use it.
    Use,
    /// It is there with other settings: fail, saying both.
    Conflict {
        /// The existing settings, then the declared ones.
        message: String,
    },
}

/// Renders options as `{k: v, ...}` (sorted).
fn show_map(map: &BTreeMap<String, String>) -> String {
    let items: Vec<String> = map.iter().map(|(k, v)| format!("{k}: {v}")).collect();
    format!("{{{}}}", items.join(", "))
}

/// The decision for a network the container joins, given what its ship has.
pub fn network(wanted: &NetworkSpec, seen: Option<&NetworkSeen>) -> Ensure {
    let Some(seen) = seen else {
        return Ensure::Create;
    };
    let mut existing = Vec::new();
    let mut declared = Vec::new();
    let mut differ = |what: &str, has: String, wants: String| {
        existing.push(format!("{what} {has}"));
        declared.push(format!("{what} {wants}"));
    };
    if seen.driver != wanted.driver {
        differ("driver", seen.driver.clone(), wanted.driver.clone());
    }
    if seen.internal != wanted.internal {
        differ(
            "internal",
            seen.internal.to_string(),
            wanted.internal.to_string(),
        );
    }
    if seen.options != wanted.options {
        differ(
            "options",
            show_map(&seen.options),
            show_map(&wanted.options),
        );
    }
    if let Some(subnet) = &wanted.subnet {
        let matches = seen.subnets.iter().any(|(s, g)| {
            s.as_ref() == Some(subnet) && (wanted.gateway.is_none() || g == &wanted.gateway)
        });
        if !matches {
            let has: Vec<String> = seen
                .subnets
                .iter()
                .map(|(s, g)| match (s, g) {
                    (Some(s), Some(g)) => format!("{s} (gateway {g})"),
                    (Some(s), None) => s.clone(),
                    (None, _) => "none".into(),
                })
                .collect();
            let wants = match &wanted.gateway {
                Some(g) => format!("{subnet} (gateway {g})"),
                None => subnet.clone(),
            };
            differ(
                "subnet",
                if has.is_empty() {
                    "none".into()
                } else {
                    has.join(", ")
                },
                wants,
            );
        }
    }
    settled("network", &wanted.name, &existing, &declared)
}

/// The decision for a named volume the container mounts, given what its ship has.
pub fn volume(wanted: &VolumeSpec, seen: Option<&VolumeSeen>) -> Ensure {
    let Some(seen) = seen else {
        return Ensure::Create;
    };
    if !wanted.declared {
        return Ensure::Use;
    }
    let mut existing = Vec::new();
    let mut declared = Vec::new();
    if seen.driver != wanted.driver {
        existing.push(format!("driver {}", seen.driver));
        declared.push(format!("driver {}", wanted.driver));
    }
    if seen.options != wanted.driver_opts {
        existing.push(format!("driver_opts {}", show_map(&seen.options)));
        declared.push(format!("driver_opts {}", show_map(&wanted.driver_opts)));
    }
    settled("volume", &wanted.name, &existing, &declared)
}

/// `Use` when nothing differs; otherwise the conflict naming both sides' settings
/// (`kind` is `network` or `volume`, the description's section is its plural).
fn settled(kind: &str, name: &str, existing: &[String], declared: &[String]) -> Ensure {
    if existing.is_empty() {
        return Ensure::Use;
    }
    Ensure::Conflict {
        message: format!(
            "{kind} {name} exists with other settings: it has {}; the environment declares {} \
             (remove the {kind}, or change or rename {kind}s.{name})",
            existing.join(", "),
            declared.join(", "),
        ),
    }
}

/// The networks (in order) and named volumes a container needs on its ship
/// before it is created.
pub fn needs(inst: &Instance) -> (Vec<&str>, Vec<&str>) {
    (
        inst.networks.iter().map(|m| m.network.as_str()).collect(),
        inst.named_volumes(),
    )
}

/// What `clean --networks` / `--volumes` does to one of the environment's
/// (labelled) networks or volumes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "sweep", rename_all = "snake_case")]
pub enum Sweep {
    /// No container uses it: remove it.
    Remove,
    /// Containers use it: leave it.
    InUse {
        /// Their names.
        users: Vec<String>,
    },
}

/// The decision for one of the environment's networks or volumes that
/// `users` (containers, running or not) use.
pub fn sweep(users: &[String]) -> Sweep {
    if users.is_empty() {
        Sweep::Remove
    } else {
        Sweep::InUse {
            users: users.to_vec(),
        }
    }
}

/// The ships `clean --networks`/`--volumes` looks at: every ship an
/// instance of the environment is placed on, that `ship_filter` (`-S`) keeps.
pub fn sweep_ships(env: &Environment, ship_filter: Option<&str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for inst in &env.instances {
        let keep = ship_filter.is_none_or(|p| super::fnmatch::fnmatch(p, &inst.ship));
        if keep && !out.contains(&inst.ship) {
            out.push(inst.ship.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wanted() -> NetworkSpec {
        NetworkSpec {
            name: "app".into(),
            driver: "bridge".into(),
            subnet: Some("10.30.0.0/24".into()),
            ..Default::default()
        }
    }

    fn seen_as(spec: &NetworkSpec) -> NetworkSeen {
        NetworkSeen {
            name: spec.name.clone(),
            driver: spec.driver.clone(),
            options: spec.options.clone(),
            internal: spec.internal,
            subnets: vec![(spec.subnet.clone(), Some("10.30.0.1".into()))],
            labels: BTreeMap::new(),
        }
    }

    #[test]
    fn a_network_is_created_used_or_refused() {
        let w = wanted();
        assert_eq!(network(&w, None), Ensure::Create);
        assert_eq!(network(&w, Some(&seen_as(&w))), Ensure::Use);
        // No subnet declared: whatever the daemon chose is fine.
        let mut any = w.clone();
        any.subnet = None;
        let mut other_subnet = seen_as(&w);
        other_subnet.subnets = vec![(Some("172.30.0.0/16".into()), None)];
        assert_eq!(network(&any, Some(&other_subnet)), Ensure::Use);
        let Ensure::Conflict { message } = network(&w, Some(&other_subnet)) else {
            panic!("a different subnet must conflict");
        };
        assert_eq!(
            message,
            "network app exists with other settings: it has subnet 172.30.0.0/16; the \
             environment declares subnet 10.30.0.0/24 (remove the network, or change or \
             rename networks.app)"
        );
        let mut macvlan = seen_as(&w);
        macvlan.driver = "macvlan".into();
        macvlan.internal = true;
        macvlan.options.insert("mtu".into(), "1400".into());
        let Ensure::Conflict { message } = network(&w, Some(&macvlan)) else {
            panic!("a different driver must conflict");
        };
        assert!(
            message.contains(
                "it has driver macvlan, internal true, options {mtu: 1400}; the environment \
                 declares driver bridge, internal false, options {}"
            ),
            "{message}"
        );
        let mut gw = w.clone();
        gw.gateway = Some("10.30.0.254".into());
        assert!(matches!(
            network(&gw, Some(&seen_as(&w))),
            Ensure::Conflict { .. }
        ));
    }

    #[test]
    fn a_volume_is_checked_only_when_declared() {
        let mut w = VolumeSpec {
            name: "data".into(),
            driver: "local".into(),
            declared: true,
            ..Default::default()
        };
        assert_eq!(volume(&w, None), Ensure::Create);
        let mut seen = VolumeSeen {
            name: "data".into(),
            driver: "local".into(),
            ..Default::default()
        };
        assert_eq!(volume(&w, Some(&seen)), Ensure::Use);
        seen.options.insert("type".into(), "tmpfs".into());
        let Ensure::Conflict { message } = volume(&w, Some(&seen)) else {
            panic!("other options must conflict");
        };
        assert_eq!(
            message,
            "volume data exists with other settings: it has driver_opts {type: tmpfs}; the \
             environment declares driver_opts {} (remove the volume, or change or rename \
             volumes.data)"
        );
        w.declared = false;
        assert_eq!(volume(&w, Some(&seen)), Ensure::Use);
    }

    #[test]
    fn the_swept_ships_are_those_of_the_instances_that_s_keeps() {
        let env = crate::config::load_for_tests(
            r#"
name: t
ships: {vm1: {ip: 10.0.0.1}, vm2: {ip: 10.0.0.2}, idle: {ip: 10.0.0.3}}
services:
  a:
    image: busybox
    instances:
      a-1: {ship: vm2}
      a-2: {ship: vm1}
      a-3: {ship: vm2}
"#,
        );
        assert_eq!(sweep_ships(&env, None), ["vm2", "vm1"]);
        assert_eq!(sweep_ships(&env, Some("*1")), ["vm1"]);
        assert!(sweep_ships(&env, Some("idle")).is_empty());
    }

    #[test]
    fn needs_lists_networks_in_order_and_named_volumes_once() {
        let env = crate::config::load_for_tests(
            r#"
name: t
__maestro: {schema: 2}
networks: {n1: {}, n2: {}}
ships: {vm1: {ip: 10.0.0.1}}
services:
  a:
    image: busybox
    networks: [n2]
    instances:
      a-1:
        ship: vm1
        networks: [n1]
        volumes: {data: /a, /host: /b, data2: /c}
"#,
        );
        let (networks, volumes) = needs(env.instance("a-1").unwrap());
        assert_eq!(networks, ["n2", "n1"]);
        assert_eq!(volumes, ["data", "data2"]);
    }

    #[test]
    fn only_unused_ones_are_swept() {
        assert_eq!(sweep(&[]), Sweep::Remove);
        assert_eq!(
            sweep(&["web-1".into()]),
            Sweep::InUse {
                users: vec!["web-1".into()]
            }
        );
    }
}
