//! Arbitrary injected environments → every `GuestEnv` query.
//!
//! The input is text, one item a line: `KEY=VALUE` lines are the variables
//! (the envfile seeds read as they are); the other lines are the query's
//! arguments in order: service, container, port, default, minimum, then
//! more ports for `node_list`. Every service the variables name is then
//! queried again through `node_list` and checked against `topology()`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use maestro_guest::contract::{GuestEnv, env_var_name, instances_var};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut vars = Vec::new();
    let mut args = Vec::new();
    for line in text.split('\n') {
        match line.split_once('=') {
            Some((key, value)) => vars.push((key.to_owned(), value.to_owned())),
            None => args.push(line.to_owned()),
        }
    }
    let arg = |i: usize| args.get(i).map(String::as_str).unwrap_or("");
    let (service, container, port) = (arg(0), arg(1), arg(2));
    let default = args.get(3).map(String::as_str);
    let minimum = arg(4).trim().parse::<i64>().unwrap_or(1);
    let ports: Vec<&str> = args.iter().skip(5).map(String::as_str).collect();

    let guest = GuestEnv::from_vars(vars);
    let _ = guest.environment_name();
    let _ = guest.service_name();
    let _ = guest.container_name();
    let _ = guest.host_address();
    let _ = guest.specific_host(service, container);
    for default in [None, default] {
        let _ = guest.specific_port(service, container, port, default);
        let _ = guest.specific_exposed_port(service, container, port, default);
        let _ = guest.port(port, default);
    }
    let names = guest.instance_names(service);
    match guest.node_list(service, &ports, minimum) {
        Ok(nodes) => assert_eq!(nodes.len(), names.len()),
        Err(_) => {}
    }

    let topology = guest.topology();
    for (name, found) in &topology.services {
        let listed: Vec<&str> = found.instances.iter().map(|i| i.name.as_str()).collect();
        // Only where exactly one variable gives the name, and the name
        // leads back to it (`a-b_INSTANCES` is `a-b`, but `a-b`'s variable
        // is `A_B_INSTANCES`).
        let keys = keys_naming(&guest, name);
        if keys != [instances_var(name)] || guest.instance_names(name) != listed {
            continue;
        }
        let all_hosts = found.instances.iter().all(|i| i.host.is_some());
        match guest.node_list(name, &[], 0) {
            Ok(nodes) => {
                assert!(all_hosts, "{name}: node_list found hosts topology lacks");
                assert_eq!(nodes.len(), listed.len());
            }
            Err(_) => assert!(!all_hosts, "{name}: topology has every host, node_list failed"),
        }
    }
});

/// The `_INSTANCES` variables `topology()` reads as service `name`.
fn keys_naming(guest: &GuestEnv, name: &str) -> Vec<String> {
    let own = guest.var("SERVICE_NAME");
    let own_prefix = own.map(env_var_name).unwrap_or_default();
    guest
        .vars()
        .keys()
        .filter(|key| {
            let Some(prefix) = key.strip_suffix("_INSTANCES") else {
                return false;
            };
            if prefix.is_empty() {
                return false;
            }
            if prefix == own_prefix {
                own == Some(name)
            } else {
                prefix.to_lowercase() == name
            }
        })
        .cloned()
        .collect()
}
