//! From the model to the plain data the Docker layer consumes: a [`ContainerSpec`] per
//! instance (an image's registry credentials are found by [`crate::credentials`]).
//! Pure, so every mapping is unit-tested here.

use std::collections::BTreeMap;

use crate::config::model::{Command, Environment, HealthCheck, Instance, RestartName, RunOptions};
use crate::shlex::{self, SplitError};
use crate::spec::{
    ContainerSpec, DeviceMapping, HealthSpec, HostPort, LogConfig, NetworkAttachment, NetworkSpec,
    RestartPolicy, RestartPolicyName, RunSpec, Ulimit, VolumeSpec, labels,
};

/// Why an instance cannot be turned into a container spec.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    /// The string `command` cannot be split into words.
    #[error("container {container}: cannot split command {command:?}: {reason}")]
    Command {
        /// Container name.
        container: String,
        /// The command as written.
        command: String,
        /// Why.
        reason: SplitError,
    },
    /// The string `entrypoint` cannot be split into words.
    #[error("container {container}: cannot split entrypoint {entrypoint:?}: {reason}")]
    Entrypoint {
        /// Container name.
        container: String,
        /// The entrypoint as written.
        entrypoint: String,
        /// Why.
        reason: SplitError,
    },
}

/// The container MaestroNG 0.8.3 would create for `inst` (its create call; host/COMPAT.md lists where we differ),
/// plus maestro's own labels ([`labels`]), which win over user labels of the same key.
pub fn container_spec(env: &Environment, inst: &Instance) -> Result<ContainerSpec, ResolveError> {
    let command = match &inst.command {
        None => None,
        Some(Command::Argv(argv)) => Some(argv.clone()),
        Some(Command::Shell(line)) => {
            Some(shlex::split(line).map_err(|reason| ResolveError::Command {
                container: inst.name.clone(),
                command: line.clone(),
                reason,
            })?)
        }
    };

    let mut exposed_ports: Vec<String> = Vec::new();
    let mut port_bindings: BTreeMap<String, Vec<HostPort>> = BTreeMap::new();
    for port in &inst.ports {
        let exposed = port.exposed_spec();
        if !exposed_ports.contains(&exposed) {
            exposed_ports.push(exposed.clone());
        }
        port_bindings.entry(exposed).or_default().push(HostPort {
            host_ip: port.host_ip.clone(),
            host_port: port.host_port(),
        });
    }

    let mut all_labels: BTreeMap<String, String> = inst.labels.iter().cloned().collect();
    all_labels.insert(labels::ENVIRONMENT.into(), env.name.clone());
    all_labels.insert(labels::SERVICE.into(), inst.service.clone());
    all_labels.insert(labels::INSTANCE.into(), inst.name.clone());
    all_labels.insert(labels::SHIP.into(), inst.ship.clone());

    let run = run_spec(&inst.name, &inst.run)?;
    let mut spec = ContainerSpec {
        name: inst.name.clone(),
        hostname: match &inst.run.hostname {
            Some(h) => Some(h.clone()),
            None => inst.hostname().map(str::to_owned),
        },
        image: inst.image.clone(),
        env: env
            .container_env(inst)
            .iter()
            .map(|v| v.to_docker())
            .collect(),
        command,
        user: inst.username.clone(),
        workdir: inst.workdir.clone(),
        exposed_ports,
        port_bindings,
        binds: inst.binds(),
        container_volumes: inst.container_volumes.clone(),
        volumes_from: inst.volumes_from.clone(),
        links: inst
            .links
            .iter()
            .map(|l| format!("{}:{}", l.name, l.alias))
            .collect(),
        restart_policy: RestartPolicy {
            name: match inst.restart.name {
                RestartName::No => RestartPolicyName::No,
                RestartName::Always => RestartPolicyName::Always,
                RestartName::OnFailure => RestartPolicyName::OnFailure,
                RestartName::UnlessStopped => RestartPolicyName::UnlessStopped,
            },
            max_retries: inst.restart.max_retries,
        },
        ulimits: inst
            .ulimits
            .iter()
            .filter_map(|u| {
                let soft = u.soft.or(u.hard)?;
                Some(Ulimit {
                    name: u.name.clone(),
                    soft,
                    hard: u.hard.unwrap_or(soft),
                })
            })
            .collect(),
        dns: inst.dns.clone(),
        extra_hosts: inst
            .extra_hosts
            .iter()
            .map(|h| format!("{}:{}", h.host, h.address))
            .collect(),
        labels: all_labels,
        network_mode: inst.net.clone(),
        networks: attachments(inst),
        log_config: inst.log.as_ref().map(|l| LogConfig {
            driver: l.driver.clone(),
            opts: l.options.iter().cloned().collect(),
        }),
        security_opt: inst.security_opt.clone().unwrap_or_default(),
        cap_add: inst.cap_add.clone(),
        cap_drop: inst.cap_drop.clone(),
        privileged: inst.privileged,
        cpu_shares: inst.limits.cpu_shares,
        memory: inst.limits.memory,
        memory_swap: inst.limits.swap,
        stop_timeout: u32::try_from(inst.stop_timeout).unwrap_or(u32::MAX),
        healthcheck: inst.healthcheck.as_ref().map(health_spec),
        run,
    };
    let digest = spec_digest(&spec);
    spec.labels.insert(labels::SPEC.into(), digest);
    Ok(spec)
}

/// The digest `upgrade` compares to tell whether a container was created from the
/// configuration the file asks for now: SHA-256 of the spec's fields but its image
/// (compared by id instead) and the labels maestro adds at upgrade time.
pub fn spec_digest(spec: &ContainerSpec) -> String {
    let mut plain = spec.clone();
    plain.image.clear();
    plain.labels.remove(labels::SPEC);
    plain.labels.remove(labels::PREVIOUS_IMAGE);
    let text = format!("{plain:?}");
    let digest = ring::digest::digest(&ring::digest::SHA256, text.as_bytes());
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// `healthcheck` as Docker's `Config.Healthcheck`.
fn health_spec(check: &HealthCheck) -> HealthSpec {
    HealthSpec {
        test: check
            .test
            .as_ref()
            .map(|t| t.to_docker())
            .unwrap_or_default(),
        interval: check.interval,
        timeout: check.timeout,
        retries: check.retries,
        start_period: check.start_period,
    }
}

/// The `docker run` options maestro adds, as the create call's fields. An
/// entrypoint is split as `command` is; an empty one clears the image's
/// (`[""]`, as `docker run --entrypoint ""`).
fn run_spec(container: &str, run: &RunOptions) -> Result<RunSpec, ResolveError> {
    let entrypoint = match &run.entrypoint {
        None => None,
        Some(Command::Argv(argv)) => Some(argv.clone()),
        Some(Command::Shell(line)) => {
            Some(
                shlex::split(line).map_err(|reason| ResolveError::Entrypoint {
                    container: container.to_owned(),
                    entrypoint: line.clone(),
                    reason,
                })?,
            )
        }
    }
    .map(|argv| {
        if argv.is_empty() {
            vec![String::new()]
        } else {
            argv
        }
    });
    Ok(RunSpec {
        stop_signal: run.stop_signal.clone(),
        domainname: run.domainname.clone(),
        entrypoint,
        read_only: run.read_only,
        tmpfs: run.tmpfs.iter().cloned().collect(),
        shm_size: run.shm_size,
        devices: run
            .devices
            .iter()
            .map(|d| DeviceMapping {
                path_on_host: d.host.clone(),
                path_in_container: d.container.clone(),
                cgroup_permissions: d.permissions.clone(),
            })
            .collect(),
        sysctls: run.sysctls.iter().cloned().collect(),
        init: run.init,
        pid_mode: run.pid.clone(),
        ipc_mode: run.ipc.clone(),
        group_add: run.group_add.clone(),
        cpuset_cpus: run.cpuset.clone(),
        memory_reservation: run.mem_reservation,
        pids_limit: run.pids_limit,
        oom_kill_disable: run.oom_kill_disable,
        runtime: run.runtime.clone(),
    })
}

/// The instance's network endpoints: it answers to its instance and service
/// names on every network it joins (the service name resolving to all its
/// instances there), then to its own aliases.
fn attachments(inst: &Instance) -> Vec<NetworkAttachment> {
    inst.networks
        .iter()
        .map(|m| {
            let mut aliases = vec![inst.name.clone()];
            for alias in std::iter::once(&inst.service).chain(&m.aliases) {
                if !aliases.contains(alias) {
                    aliases.push(alias.clone());
                }
            }
            NetworkAttachment {
                network: m.network.clone(),
                aliases,
                ipv4_address: m.ipv4_address.clone(),
            }
        })
        .collect()
}

/// The environment's label, which marks the networks and volumes maestro
/// created for it.
fn environment_label(env: &Environment) -> BTreeMap<String, String> {
    BTreeMap::from([(labels::ENVIRONMENT.to_owned(), env.name.clone())])
}

/// The network `name` as it should exist on a ship (`None`: not declared,
/// which the configuration's validation rules out for an instance's networks).
pub fn network_spec(env: &Environment, name: &str) -> Option<NetworkSpec> {
    let n = env.network(name)?;
    Some(NetworkSpec {
        name: n.name.clone(),
        driver: n.driver.clone(),
        options: n.options.iter().cloned().collect(),
        internal: n.internal,
        subnet: n.subnet.clone(),
        gateway: n.gateway.clone(),
        labels: environment_label(env),
    })
}

/// The named volume `name` as it should exist on a ship: declared, or with
/// the defaults; labelled with the environment either way.
pub fn volume_spec(env: &Environment, name: &str) -> VolumeSpec {
    let v = env.named_volume(name);
    let mut volume_labels: BTreeMap<String, String> = v.labels.iter().cloned().collect();
    volume_labels.extend(environment_label(env));
    VolumeSpec {
        declared: env.volumes.iter().any(|d| d.name == name),
        name: v.name,
        driver: v.driver,
        driver_opts: v.driver_opts.into_iter().collect(),
        labels: volume_labels,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config;

    fn load(yaml: &str) -> Environment {
        config::load_for_tests(yaml)
    }

    const FULL: &str = r#"
name: prod
registries:
  reg:
    registry: http://127.0.0.1:5000/
    username: alice
    password: s3cret
    email: a@example.com
    retry: {attempts: 2, when: [500]}
  anon:
    registry: https://quay.example/v1/
ships:
  s1: {ip: 10.0.0.1, docker_port: 2375}
  s2: {ip: 10.0.0.2}
services:
  web:
    image: reg/web:1.0
    ports: {http: "8080:18080", dns: "53/udp"}
    limits: {cpu: 512, memory: 64m, swap: 128m}
    instances:
      web-1:
        ship: s1
        command: "sh -c 'echo hi; sleep 5'"
        ports:
          admin: {exposed: 9000, external: [127.0.0.1, 19000]}
          alt: "8080:18081"
        volumes: {/data: /srv/data, /logs: {target: /var/log, mode: ro}}
        container_volumes: [/scratch]
        links: {db-1: db}
        restart: on-failure:3
        ulimits: {nofile: {soft: 1024, hard: 2048}, nproc: 64}
        dns: 8.8.8.8
        extra_hosts: {peer: {ship: s2}, fixed: 1.2.3.4}
        labels: {team: core, maestro.service: spoofed}
        log_driver: json-file
        log_opt: {max-size: 10m}
        security_opt: [no-new-privileges]
        cap_add: [NET_ADMIN]
        cap_drop: [MKNOD]
        stop_timeout: 3
        username: nobody
        privileged: true
        workdir: /srv
__maestro:
  schema: 2
"#;

    #[test]
    fn every_field_maps_as_maestro_ng_creates_it() {
        let env = load(FULL);
        let inst = env.instance("web-1").unwrap();
        let spec = container_spec(&env, inst).unwrap();
        assert_eq!(spec.name, "web-1");
        assert_eq!(spec.hostname.as_deref(), Some("web-1"));
        assert_eq!(spec.image, "reg/web:1.0");
        assert_eq!(
            spec.command.as_deref().unwrap(),
            ["sh", "-c", "echo hi; sleep 5"]
        );
        assert_eq!(spec.exposed_ports, ["8080/tcp", "53/udp", "9000/tcp"]);
        let bind = |ip: &str, port: &str| HostPort {
            host_ip: ip.into(),
            host_port: port.into(),
        };
        assert_eq!(
            spec.port_bindings["8080/tcp"],
            [bind("0.0.0.0", "18080"), bind("0.0.0.0", "18081")]
        );
        assert_eq!(spec.port_bindings["9000/tcp"], [bind("127.0.0.1", "19000")]);
        assert_eq!(spec.port_bindings["53/udp"], [bind("0.0.0.0", "53")]);
        assert_eq!(spec.binds, ["/data:/srv/data:rw", "/logs:/var/log:ro"]);
        assert_eq!(spec.container_volumes, ["/scratch"]);
        assert_eq!(spec.links, ["db-1:db"]);
        assert_eq!(spec.restart_policy.name, RestartPolicyName::OnFailure);
        assert_eq!(spec.restart_policy.max_retries, 3);
        let mut ulimits = spec.ulimits.clone();
        ulimits.sort_by(|a, b| a.name.cmp(&b.name));
        assert_eq!(
            ulimits,
            [
                Ulimit {
                    name: "nofile".into(),
                    soft: 1024,
                    hard: 2048
                },
                Ulimit {
                    name: "nproc".into(),
                    soft: 64,
                    hard: 64
                }
            ]
        );
        assert_eq!(spec.dns.as_deref().unwrap(), ["8.8.8.8"]);
        assert_eq!(spec.extra_hosts, ["fixed:1.2.3.4", "peer:10.0.0.2"]);
        assert_eq!(spec.labels["team"], "core");
        assert_eq!(spec.labels[labels::SERVICE], "web");
        assert_eq!(spec.labels[labels::ENVIRONMENT], "prod");
        assert_eq!(spec.labels[labels::INSTANCE], "web-1");
        assert_eq!(spec.labels[labels::SHIP], "s1");
        assert_eq!(spec.network_mode, None);
        let log = spec.log_config.as_ref().unwrap();
        assert_eq!(log.driver, "json-file");
        assert_eq!(log.opts["max-size"], "10m");
        assert_eq!(spec.security_opt, ["no-new-privileges"]);
        assert_eq!(spec.cap_add, ["NET_ADMIN"]);
        assert_eq!(spec.cap_drop, ["MKNOD"]);
        assert_eq!(spec.stop_timeout, 3);
        assert_eq!(spec.user.as_deref(), Some("nobody"));
        assert!(spec.privileged);
        assert_eq!(spec.workdir.as_deref(), Some("/srv"));
        assert_eq!(spec.cpu_shares, Some(512));
        assert_eq!(spec.memory, Some(64 * 1024 * 1024));
        assert_eq!(spec.memory_swap, Some(128 * 1024 * 1024));
        let env_names: Vec<String> = env
            .container_env(inst)
            .iter()
            .map(|v| v.to_docker())
            .collect();
        assert_eq!(spec.env, env_names);
        assert!(spec.env.contains(&"CONTAINER_NAME=web-1".to_owned()));
    }

    #[test]
    fn net_drops_the_hostname_and_list_commands_pass_as_is() {
        let env = load(
            r#"
name: t
ships: {s1: {ip: 10.0.0.1}}
services:
  a:
    image: busybox
    instances:
      a-1: {ship: s1, net: host, command: [echo, "a  b"]}
      a-2: {ship: s1}
"#,
        );
        let spec = container_spec(&env, env.instance("a-1").unwrap()).unwrap();
        assert_eq!(spec.hostname, None);
        assert_eq!(spec.network_mode.as_deref(), Some("host"));
        assert_eq!(spec.command.as_deref().unwrap(), ["echo", "a  b"]);
        let spec = container_spec(&env, env.instance("a-2").unwrap()).unwrap();
        assert_eq!(spec.command, None);
        assert_eq!(spec.stop_timeout, 10);
        assert_eq!(spec.restart_policy, RestartPolicy::default());
        assert!(spec.port_bindings.is_empty());
    }

    #[test]
    fn healthcheck_and_run_options_map_to_the_create_fields() {
        let env = load(
            r#"
name: t
ships: {s1: {ip: 10.0.0.1}}
services:
  a:
    image: busybox
    healthcheck: {test: [CMD, "true"], interval: 2s}
    instances:
      a-1:
        ship: s1
        hostname: custom
        healthcheck: {retries: 4, start_period: 1m}
        entrypoint: "/bin/sh -c"
        devices: ["/dev/null:/dev/n:r"]
        tmpfs: {/run: size=1m}
        pids_limit: -1
      a-2: {ship: s1, net: host, entrypoint: [], healthcheck: {disable: true}}
"#,
        );
        let spec = container_spec(&env, env.instance("a-1").unwrap()).unwrap();
        assert_eq!(spec.hostname.as_deref(), Some("custom"));
        let h = spec.healthcheck.unwrap();
        assert_eq!(h.test, ["CMD", "true"]);
        assert_eq!(h.interval, Some(std::time::Duration::from_secs(2)));
        assert_eq!(h.retries, Some(4));
        assert_eq!(h.start_period, Some(std::time::Duration::from_secs(60)));
        assert_eq!(spec.run.entrypoint.unwrap(), ["/bin/sh", "-c"]);
        assert_eq!(spec.run.devices[0].path_in_container, "/dev/n");
        assert_eq!(spec.run.tmpfs["/run"], "size=1m");
        assert_eq!(spec.run.pids_limit, Some(-1));
        let spec = container_spec(&env, env.instance("a-2").unwrap()).unwrap();
        assert_eq!(spec.hostname, None);
        assert_eq!(spec.healthcheck.unwrap().test, ["NONE"]);
        // An empty entrypoint clears the image's, as `--entrypoint ""`.
        assert_eq!(spec.run.entrypoint.unwrap(), [""]);
    }

    #[test]
    fn unbalanced_command_is_an_error_naming_the_container() {
        let env = load(
            r#"
name: t
ships: {s1: {ip: 10.0.0.1}}
services:
  a:
    image: busybox
    instances:
      a-1: {ship: s1, command: "echo 'oops"}
"#,
        );
        let err = container_spec(&env, env.instance("a-1").unwrap()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "container a-1: cannot split command \"echo 'oops\": no closing quotation"
        );
    }
}
