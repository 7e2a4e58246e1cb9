//! Loading descriptions into the model: every port syntax, the seed
//! documentation's examples, pinned error messages, and `examples/`.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use maestro::config::build::{self, Loaded, Options};
use maestro::config::load::{self, Source};
use maestro::config::model::*;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn vars() -> BTreeMap<String, String> {
    [("HOME", "/home/ops"), ("DEPLOY_TAG", "1.2")]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

fn load_with(yaml: &str, dir: &Path, strict: bool) -> Result<Loaded, String> {
    common::load_text(yaml, dir, &vars(), strict)
}

fn load_ok(yaml: &str) -> Loaded {
    load_with(yaml, &fixtures(), false).unwrap_or_else(|e| panic!("{e}\n---\n{yaml}"))
}

fn load_err(yaml: &str) -> String {
    match load_with(yaml, &fixtures(), false) {
        Ok(_) => panic!("expected an error for\n{yaml}"),
        Err(e) => e,
    }
}

fn env_of<'a>(loaded: &'a Loaded, container: &str) -> BTreeMap<&'a str, Option<&'a str>> {
    let environment = &loaded.environment;
    let instance = environment
        .instance(container)
        .unwrap_or_else(|| panic!("no container {container}"));
    environment
        .container_env(instance)
        .iter()
        .map(|v| (v.name.as_str(), v.value.as_deref()))
        .collect()
}

// ---------------------------------------------------------------------------
// Ports
// ---------------------------------------------------------------------------

fn port_yaml(spec: &str) -> String {
    format!(
        "name: t\nships:\n  s: {{ip: 10.0.0.1}}\nservices:\n  svc:\n    image: i\n    instances:\n      c:\n        ship: s\n        ports:\n          p: {spec}\n"
    )
}

fn range(start: u32, end: Option<u32>) -> PortRange {
    PortRange { start, end }
}

#[test]
fn every_port_syntax() {
    use Protocol::{Tcp, Udp};
    let any = "0.0.0.0";
    let table: &[(&str, PortRange, PortRange, Protocol, &str)] = &[
        ("25", range(25, None), range(25, None), Tcp, any),
        ("53/udp", range(53, None), range(53, None), Udp, any),
        ("8080/tcp", range(8080, None), range(8080, None), Tcp, any),
        ("\"25:2525\"", range(25, None), range(2525, None), Tcp, any),
        (
            "\"53/udp:5353/udp\"",
            range(53, None),
            range(5353, None),
            Udp,
            any,
        ),
        (
            "{exposed: 25, external: 25}",
            range(25, None),
            range(25, None),
            Tcp,
            any,
        ),
        (
            "{exposed: 53/udp, external: 5353/udp}",
            range(53, None),
            range(5353, None),
            Udp,
            any,
        ),
        (
            "{exposed: 25, external: [ 192.168.10.2, 25 ]}",
            range(25, None),
            range(25, None),
            Tcp,
            "192.168.10.2",
        ),
        (
            "{exposed: 53/udp, external: [ 192.168.10.2, 5353/udp ]}",
            range(53, None),
            range(5353, None),
            Udp,
            "192.168.10.2",
        ),
        (
            "1234-1236:1234-1236",
            range(1234, Some(1236)),
            range(1234, Some(1236)),
            Tcp,
            any,
        ),
        (
            "1234:1234-1236",
            range(1234, None),
            range(1234, Some(1236)),
            Tcp,
            any,
        ),
        (
            "30000-30010",
            range(30000, Some(30010)),
            range(30000, Some(30010)),
            Tcp,
            any,
        ),
        (
            "'2000-2010:3000-3010'",
            range(2000, Some(2010)),
            range(3000, Some(3010)),
            Tcp,
            any,
        ),
        // Accepted by 0.8.3 without a protocol check: the exposed side decides.
        (
            "{exposed: 53/udp, external: 5353}",
            range(53, None),
            range(5353, None),
            Udp,
            any,
        ),
        // A YAML 1.1 base-60 number for MaestroNG (1342); a mapping here.
        ("22:22", range(22, None), range(22, None), Tcp, any),
        ("8080:80", range(8080, None), range(80, None), Tcp, any),
    ];
    for (spec, exposed, external, protocol, host_ip) in table {
        let loaded = load_ok(&port_yaml(spec));
        let port = &loaded.environment.instances[0].ports[0];
        assert_eq!(
            (
                port.exposed,
                port.external,
                port.protocol,
                port.host_ip.as_str()
            ),
            (*exposed, *external, *protocol, *host_ip),
            "{spec}"
        );
    }
    let port = Port {
        name: "p".into(),
        exposed: range(53, None),
        external: range(5353, Some(5360)),
        protocol: Udp,
        host_ip: any.into(),
    };
    assert_eq!(port.exposed_spec(), "53/udp");
    assert_eq!(port.host_port(), "5353-5360");
}

#[test]
fn surprising_port_readings_warn() {
    let loaded = load_ok(&port_yaml("22:22"));
    assert_eq!(
        loaded.warnings[0].to_string(),
        "t.yaml:11:14: services.svc.instances.c.ports.p: plain 22:22 is a YAML 1.1 base-60 number (1342) for MaestroNG; maestro reads it as the mapping \"22:22\"; quote it"
    );
    let loaded = load_ok(&port_yaml("{exposed: 53/udp, external: 5353/tcp}"));
    assert!(
        loaded.warnings[0].message.contains("protocol tcp differs"),
        "{:?}",
        loaded.warnings
    );
}

#[test]
fn invalid_port_specs_are_pinned() {
    let prefix = "t.yaml:11:14: services.svc.instances.c.ports.p: ";
    let table = [
        ("\"90x2\"", "invalid port spec \"90x2\""),
        (
            "\"1:2:3\"",
            "invalid port spec \"1:2:3\": expected PORT, EXPOSED:EXTERNAL or {exposed, external}",
        ),
        (
            "\"5000/udp:6000\"",
            "mismatched protocols between 5000/udp and 6000/tcp",
        ),
        ("70000", "port 70000 is out of range (0-65535)"),
        ("2010-2000", "invalid port range 2010-2000"),
        ("1.5", "invalid port spec 1.5"),
        ("53/sctp", "invalid port spec \"53/sctp\""),
        (
            "[1, 2]",
            "invalid port spec: expected a number, a string or {exposed, external}",
        ),
        (
            "{exposed: 1}",
            "a port mapping needs both exposed and external",
        ),
        (
            "{exposed: 1, external: [ 10.0.0.1 ]}",
            "expected [host address, port]",
        ),
    ];
    for (spec, message) in table {
        let err = load_err(&port_yaml(spec));
        if spec.starts_with('{') || spec.starts_with('[') {
            // Errors inside a mapping point at the offending sub-key.
            assert!(err.starts_with("t.yaml:11:"), "{spec}: {err}");
            assert!(
                err.contains(": services.svc.instances.c.ports.p"),
                "{spec}: {err}"
            );
            assert!(err.ends_with(&format!(": {message}")), "{spec}: {err}");
        } else {
            assert_eq!(err, format!("{prefix}{message}"), "{spec}");
        }
    }
    // A service-level port spec error points at the service.
    let err = load_err(
        "name: t\nships:\n  s: {ip: 10.0.0.1}\nservices:\n  kafka:\n    image: i\n    ports: {broker: 90x2}\n    instances:\n      kafka-1: {ship: s}\n",
    );
    assert_eq!(
        err,
        "t.yaml:7:21: services.kafka.ports.broker: invalid port spec \"90x2\""
    );
}

#[test]
fn dict_port_specs_may_be_shared_by_instances() {
    // MaestroNG mutates the shared dict and crashes on the second instance.
    let loaded = load_ok(
        "name: t\nships: {s: {ip: 10.0.0.1}}\nservices:\n  web:\n    image: i\n    ports: {http: {exposed: 80, external: 8080}}\n    instances:\n      w1: {ship: s}\n      w2: {ship: s}\n",
    );
    for i in &loaded.environment.instances {
        assert_eq!(i.ports[0].external, range(8080, None));
    }
}

// ---------------------------------------------------------------------------
// The seed documentation's examples (MaestroNG 0.7.5's documentation, as users copied them)
// ---------------------------------------------------------------------------

#[test]
fn seed_ships_example() {
    let loaded = load_ok(
        r#"
name: demo
ship_defaults:
  timeout: 60
ships:
  vm1.ore1: {ip: c414.ore1.domain.com}
  vm2.ore2: {ip: c415.ore2.domain.com, docker_port: 4243}
  vm3.ore3:
    ip: c416.ore3.domain.com
    endpoint: c416.corp.domain.com
    docker_port: 4243
    ssh_tunnel:
      user: ops
      key: {{ env.HOME }}/.ssh/id_dsa
      port: 22 # That's the default
  docker1:
    ip: 172.17.42.1
    endpoint: docker1
    tls: true
    tls_verify: true
    tls_ca_cert: ca.pem
    tls_key: key.pem
    tls_cert: cert.pem
services: {}
"#,
    );
    let env = &loaded.environment;
    let vm1 = env.ship("vm1.ore1").unwrap();
    assert_eq!(
        (vm1.ip.as_str(), vm1.endpoint.as_str(), vm1.docker_port),
        ("c414.ore1.domain.com", "c414.ore1.domain.com", 2375)
    );
    assert_eq!(vm1.timeout_secs, 60.0);
    assert_eq!(vm1.backend_url(), "http://c414.ore1.domain.com:2375");
    assert_eq!(env.ship("vm2.ore2").unwrap().docker_port, 4243);
    let vm3 = env.ship("vm3.ore3").unwrap();
    assert_eq!(vm3.endpoint, "c416.corp.domain.com");
    assert_eq!(
        vm3.ssh_tunnel,
        Some(SshTunnel {
            user: "ops".into(),
            key: "/home/ops/.ssh/id_dsa".into(),
            port: 22,
            known_hosts: None,
            strict_host_key_checking: None,
        })
    );
    assert_eq!(vm3.backend_url(), "ssh://ops@c416.corp.domain.com:22->4243");
    let docker1 = env.ship("docker1").unwrap();
    assert_eq!(docker1.docker_port, 2376);
    assert_eq!(docker1.backend_url(), "https://docker1:2376");
    let tls = docker1.tls.as_ref().unwrap();
    assert!(tls.client_auth && tls.verify);
    assert_eq!(tls.ca_cert.as_deref(), Some(Path::new("ca.pem")));
    assert_eq!(tls.key.as_deref(), Some(Path::new("key.pem")));
    assert_eq!(tls.cert.as_deref(), Some(Path::new("cert.pem")));
}

#[test]
fn seed_registries_example() {
    let loaded = load_ok(
        r#"
name: demo
ships: {}
registries:
  my-private-registry:
    registry: https://my-private-registry/v1/
    username: maestro
    password: secret
    email: maestro-robot@domain.com
  quay.io:
    registry: https://quay.io/v1/
    email: user@example.com
    username: user
    password: super-secret
    retry:
      attempts: 2
      when:
        - 500
"#,
    );
    let env = &loaded.environment;
    let r = &env.registries[0];
    assert_eq!(
        (
            r.name.as_str(),
            r.registry.as_str(),
            r.username.as_deref(),
            r.password.as_deref(),
            r.email.as_deref()
        ),
        (
            "my-private-registry",
            "https://my-private-registry/v1/",
            Some("maestro"),
            Some("secret"),
            Some("maestro-robot@domain.com")
        )
    );
    assert_eq!(
        r.retry,
        RetryPolicy {
            attempts: 3,
            when: vec![]
        }
    );
    assert_eq!(
        env.registries[1].retry,
        RetryPolicy {
            attempts: 2,
            when: vec![500]
        }
    );
    assert_eq!(env.registries[1].netloc(), "quay.io");
    assert_eq!(
        env.registry_for_image("quay.io/org/app:1")
            .map(|r| r.name.as_str()),
        Some("quay.io")
    );
    assert_eq!(
        env.registry_for_image("my-private-registry/my-image:tag")
            .map(|r| r.name.as_str()),
        Some("my-private-registry")
    );
    assert!(env.registry_for_image("ubuntu").is_none());
}

#[test]
fn seed_service_example_with_envfiles() {
    let loaded = load_ok(
        r#"
name: demo
ships: {host: {ip: 10.0.0.1}}
services:
  hello:
    image: ubuntu
    limits:
      memory: 10m
      cpu: 1
    ports:
      server: 4848
    envfile:
      - hello-base.env
      - hello-extras.env
    instances:
      hello1:
        ship: host
        ports:
          client: 4242
        command: "while true ; do echo 'Hello, world!' | nc -l 0.0.0.0 4242 ; done"
"#,
    );
    let hello1 = loaded.environment.instance("hello1").unwrap();
    assert_eq!(
        hello1.limits,
        Limits {
            cpu_shares: Some(1),
            memory: Some(10 * 1024 * 1024),
            swap: None
        }
    );
    let names: Vec<&str> = hello1.ports.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["server", "client"]);
    assert_eq!(
        hello1.command,
        Some(Command::Shell(
            "while true ; do echo 'Hello, world!' | nc -l 0.0.0.0 4242 ; done".into()
        ))
    );
    let env = env_of(&loaded, "hello1");
    assert_eq!(env["GREETING"], Some("hello from extras"));
    assert_eq!(env["BASE_ONLY"], Some("1"));
}

#[test]
fn seed_zookeeper_kafka_instances_example() {
    let loaded = load_ok(
        r#"
__maestro:
  schema: 2
name: demo
ships:
  vm1.ore1: {ip: 10.0.0.1}
  vm2.ore1: {ip: 10.0.0.2}
services:
  zookeeper:
    image: zookeeper:3.4.5
    instances:
      zk-1:
        ship: vm1.ore1
        ports: {client: 2181, peer: 2888, leader_election: 3888}
        privileged: true
        volumes:
          /data/zookeeper: /var/lib/zookeeper
        limits:
          memory: 1g
          cpu: 2
        labels:
          - no-relocate
      zk-2:
        ship: vm2.ore1
        ports: {client: 2181, peer: 2888, leader_election: 3888}
        lifecycle:
          running: [{type: tcp, port: client}]
        volumes:
          /data/zookeeper: /var/lib/zookeeper
        limits:
          memory: 1g
          cpu: 2
        labels:
          - no-relocate
    lifecycle:
      running: [{type: tcp, port: client}]
  kafka:
    image: kafka:latest
    requires: [ zookeeper ]
    envfile: kafka.env
    instances:
      kafka-broker:
        ship: vm2.ore1
        ports: {broker: 9092}
        volumes:
          /data/kafka: /var/lib/kafka
          /etc/localtime:
            target: /etc/localtime
            mode: ro
        env:
          BROKER_ID: 0
        stop_timeout: 2
        limits:
          memory: 5G
          swap: 200m
          cpu: 10
        dns: [ 8.8.8.8, 8.8.4.4 ]
        net: host
        restart:
          name: on-failure
          maximum_retry_count: 3
        ulimits:
          nproc: 65535
          nofile:
            soft: 1024
            hard: 1024
        lifecycle:
          running: [{type: tcp, port: broker}]
"#,
    );
    let env = &loaded.environment;
    let zk1 = env.instance("zk-1").unwrap();
    assert!(zk1.privileged);
    assert_eq!(zk1.binds(), ["/data/zookeeper:/var/lib/zookeeper:rw"]);
    assert_eq!(
        zk1.limits,
        Limits {
            cpu_shares: Some(2),
            memory: Some(1 << 30),
            swap: None
        }
    );
    assert_eq!(zk1.labels, [("no-relocate".to_owned(), String::new())]);
    assert_eq!(
        zk1.lifecycle.running,
        [Check::Tcp {
            port: "client".into(),
            max_wait: 180
        }]
    );
    // Service checks first, then the instance's own; no accumulation.
    let zk2 = env.instance("zk-2").unwrap();
    assert_eq!(zk2.lifecycle.running.len(), 2);
    assert_eq!(zk1.hostname(), Some("zk-1"));

    let kafka = env.instance("kafka-broker").unwrap();
    assert_eq!(
        kafka.binds(),
        [
            "/data/kafka:/var/lib/kafka:rw",
            "/etc/localtime:/etc/localtime:ro"
        ]
    );
    assert_eq!(kafka.stop_timeout, 2);
    assert_eq!(
        kafka.limits,
        Limits {
            cpu_shares: Some(10),
            memory: Some(5 << 30),
            swap: Some(200 << 20)
        }
    );
    assert_eq!(
        kafka.dns.as_deref(),
        Some(&["8.8.8.8".to_owned(), "8.8.4.4".to_owned()][..])
    );
    assert_eq!(kafka.net.as_deref(), Some("host"));
    assert_eq!(kafka.hostname(), None);
    assert_eq!(
        kafka.restart,
        RestartPolicy {
            name: RestartName::OnFailure,
            max_retries: 3
        }
    );
    assert_eq!(
        kafka.ulimits,
        [
            Ulimit {
                name: "nproc".into(),
                soft: Some(65535),
                hard: Some(65535)
            },
            Ulimit {
                name: "nofile".into(),
                soft: Some(1024),
                hard: Some(1024)
            },
        ]
    );
    assert_eq!(
        kafka.lifecycle.running,
        [Check::Tcp {
            port: "broker".into(),
            max_wait: 180
        }]
    );
    let vars = env_of(&loaded, "kafka-broker");
    assert_eq!(vars["BROKER_ID"], Some("0"));
    assert_eq!(vars["KAFKA_HEAP_OPTS"], Some("-Xmx1G -Xms1G"));
    assert_eq!(vars["ZOOKEEPER_INSTANCES"], Some("zk-1,zk-2"));
    assert!(
        loaded
            .warnings
            .iter()
            .any(|w| w.path.ends_with("restart.maximum_retry_count"))
    );
    assert_eq!(env.service("kafka").unwrap().requires, ["zookeeper"]);
}

#[test]
fn seed_dependencies_examples() {
    let loaded = load_ok(
        r#"
name: demo
ships: {host: {ip: 10.0.0.1}}
services:
  mysql:
    image: mysql
    instances:
      mysql-server-1: {ship: host, ports: {mysql: 3306}}
  web:
    image: nginx
    requires: [ mysql ]
    instances:
      www-1: {ship: host}
  soft:
    image: nginx
    wants_info: [ mysql ]
    instances:
      www-2: {ship: host}
"#,
    );
    let web = env_of(&loaded, "www-1");
    assert_eq!(web["MYSQL_MYSQL_SERVER_1_MYSQL_PORT"], Some("3306"));
    assert!(!web.contains_key("MYSQL_MYSQL_SERVER_1_MYSQL_INTERNAL_PORT"));
    let soft = env_of(&loaded, "www-2");
    assert_eq!(soft["MYSQL_INSTANCES"], Some("mysql-server-1"));
    assert_eq!(
        loaded.environment.service("soft").unwrap().wants_info,
        ["mysql"]
    );
}

#[test]
fn seed_volumes_links_restart_and_lifecycle_examples() {
    let loaded = load_ok(
        r#"
__maestro:
  schema: 2
name: demo
ships: {host1: {ip: 10.0.0.1}}
services:
  zookeeper:
    image: zookeeper:3.4.5
    lifecycle:
      running:
        - {type: tcp, port: client, max_wait: 10}
    instances:
      zk1:
        ship: host1
        ports: {client: 2181, web: 8080}
        lifecycle:
          running:
            - {type: exec, cmd: "python ./ruok.py", attempts: 10}
            - {type: http, port: web, max_wait: 10}
            - {type: rexec, command: "python my_cool_remote_script_in_container.py", attempts: 30}
          stopped:
            - {type: sleep, wait: 2}
        volumes:
          # This will be a read-write binding
          /on/the/host: /inside/the/container
          # This will be a read-only binding
          /also/on/the/host/:
            target: /inside/the/container/too
            mode: ro
        container_volumes:
          - /inside/the/container/1
          - /inside/the/container/2
        restart: "on-failure:3"
      zk2:
        ship: host1
        ports: {client: 2182}
        volumes_from: [ zk1 ]
        restart: always
  myservice:
    image: app
    instances:
      myservice-1:
        ship: host1
        links:
          mongodb01: db
        restart: no
"#,
    );
    let env = &loaded.environment;
    let zk1 = env.instance("zk1").unwrap();
    assert_eq!(
        zk1.volumes,
        [
            Volume {
                host: "/on/the/host".into(),
                container: "/inside/the/container".into(),
                mode: "rw".into()
            },
            Volume {
                host: "/also/on/the/host/".into(),
                container: "/inside/the/container/too".into(),
                mode: "ro".into()
            },
        ]
    );
    assert_eq!(
        zk1.container_volumes,
        ["/inside/the/container/1", "/inside/the/container/2"]
    );
    assert_eq!(
        zk1.restart,
        RestartPolicy {
            name: RestartName::OnFailure,
            max_retries: 3
        }
    );
    assert_eq!(zk1.lifecycle.running.len(), 4);
    assert_eq!(
        zk1.lifecycle.running[1],
        Check::Exec {
            command: "python ./ruok.py".into(),
            attempts: 10,
            envfrom: ExecEnvFrom::Env
        }
    );
    assert!(
        matches!(&zk1.lifecycle.running[2], Check::Http { port: HttpPort::Named(p), path, max_wait: 10, .. } if p == "web" && path == "/")
    );
    assert!(matches!(
        &zk1.lifecycle.running[3],
        Check::Rexec { attempts: 30, .. }
    ));
    assert_eq!(zk1.lifecycle.stopped, [Check::Sleep { wait: 2.0 }]);
    let zk2 = env.instance("zk2").unwrap();
    assert_eq!(zk2.volumes_from, ["zk1"]);
    assert_eq!(zk2.restart.name, RestartName::Always);
    let my = env.instance("myservice-1").unwrap();
    assert_eq!(
        my.links,
        [Link {
            name: "mongodb01".into(),
            alias: "db".into()
        }]
    );
    assert_eq!(my.restart, RestartPolicy::default());
}

#[test]
fn seed_restart_forms_and_schema_1_volumes() {
    let loaded = load_ok(
        r#"
name: demo
ships: {h: {ip: 10.0.0.1}}
services:
  s:
    image: i
    instances:
      a:
        ship: h
        restart: {name: on-failure, retries: 3}
        volumes: {/in/container: /on/host}
      b: {ship: h, restart: "unless-stopped"}
      c: {ship: h, restart: "always:5"}
"#,
    );
    let env = &loaded.environment;
    assert_eq!(env.schema, 1);
    let a = env.instance("a").unwrap();
    assert_eq!(
        a.restart,
        RestartPolicy {
            name: RestartName::OnFailure,
            max_retries: 3
        }
    );
    assert_eq!(a.binds(), ["/on/host:/in/container:rw"]);
    assert_eq!(
        env.instance("b").unwrap().restart.name,
        RestartName::UnlessStopped
    );
    assert_eq!(
        env.instance("c").unwrap().restart,
        RestartPolicy {
            name: RestartName::Always,
            max_retries: 5
        }
    );
}

#[test]
fn seed_env_examples_with_lists_and_globals() {
    let loaded = load_ok(
        r#"
name: demo
_globals:
  DEFAULT_JVM_OPTS: &jvmopts [ '-Xms500m', '-Xmx2g', '-showversion', '-server' ]
ships: {host: {ip: 10.0.0.1}}
services:
  myservice:
    image: app
    env:
      FOO: bar
      BAR: [ This, [ is, a ], test ]
      JVM_OPTS: [ *jvmopts, '-XX:+UseConcMarkSweep' ]
    instances:
      instance-1:
        ship: host
        env:
          FOO: overrides bar
          FOO_2: bar2
"#,
    );
    let env = env_of(&loaded, "instance-1");
    assert_eq!(env["FOO"], Some("overrides bar"));
    assert_eq!(env["FOO_2"], Some("bar2"));
    assert_eq!(env["BAR"], Some("This is a test"));
    assert_eq!(
        env["JVM_OPTS"],
        Some("-Xms500m -Xmx2g -showversion -server -XX:+UseConcMarkSweep")
    );
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
}

#[test]
fn extra_hosts_labels_logs_and_misc_instance_fields() {
    let loaded = load_ok(
        r#"
name: demo
ships:
  a: {ip: 10.0.0.1}
  b: {ip: 10.0.0.2}
services:
  s:
    image: i
    instances:
      c:
        ship: a
        image: i:{{ env.DEPLOY_TAG }}
        command: [run, --fast]
        extra_hosts:
          zeta: 1.2.3.4
          other: {ship: b}
        labels: {team: core, tier: 1}
        log_driver: syslog
        log_opt: {syslog-address: "udp://1.2.3.4:514"}
        lxc_conf: {lxc.utsname: x}
        workdir: /srv
        username: app
        cap_add: [NET_ADMIN]
        cap_drop: MKNOD
        security_opt: [ "label:disable" ]
        stop_timeout: 30
"#,
    );
    let c = loaded.environment.instance("c").unwrap();
    assert_eq!(c.image, "i:1.2");
    assert_eq!(
        c.command,
        Some(Command::Argv(vec!["run".into(), "--fast".into()]))
    );
    assert_eq!(
        c.extra_hosts,
        [
            ExtraHost {
                host: "other".into(),
                address: "10.0.0.2".into()
            },
            ExtraHost {
                host: "zeta".into(),
                address: "1.2.3.4".into()
            },
        ]
    );
    assert_eq!(
        c.labels,
        [
            ("team".to_owned(), "core".to_owned()),
            ("tier".to_owned(), "1".to_owned())
        ]
    );
    assert_eq!(
        c.log,
        Some(LogConfig {
            driver: "syslog".into(),
            options: vec![("syslog-address".into(), "udp://1.2.3.4:514".into())]
        })
    );
    assert_eq!(c.lxc_conf, [("lxc.utsname".to_owned(), "x".to_owned())]);
    assert_eq!(c.workdir.as_deref(), Some("/srv"));
    assert_eq!(c.username.as_deref(), Some("app"));
    assert_eq!(
        (c.cap_add.clone(), c.cap_drop.clone()),
        (vec!["NET_ADMIN".to_owned()], vec!["MKNOD".to_owned()])
    );
    assert_eq!(c.security_opt, Some(vec!["label:disable".to_owned()]));
    assert_eq!(c.stop_timeout, 30);
    assert_eq!(env_of(&loaded, "c")["DOCKER_TAG"], Some("1.2"));
}

#[test]
fn merge_keys_work() {
    let loaded = load_ok(
        r#"
name: demo
_defaults: &defaults
  ship: a
  env: {LEVEL: info}
ships: {a: {ip: 10.0.0.1}}
services:
  s:
    image: i
    instances:
      c1:
        <<: *defaults
      c2:
        <<: *defaults
        env: {LEVEL: debug}
"#,
    );
    assert_eq!(env_of(&loaded, "c1")["LEVEL"], Some("info"));
    assert_eq!(env_of(&loaded, "c2")["LEVEL"], Some("debug"));
}

// ---------------------------------------------------------------------------
// Pinned error messages
// ---------------------------------------------------------------------------

const SHIPS: &str = "name: t\nships:\n  a: {ip: 10.0.0.1}\n  b: {ip: 10.0.0.2}\n";

#[test]
fn error_messages_are_pinned() {
    let cases: &[(&str, &str)] = &[
        (
            "services:\n  s:\n    image: i\n    instances:\n      c: {ship: nowhere}\n",
            "t.yaml:9:17: services.s.instances.c.ship: unknown ship \"nowhere\"",
        ),
        (
            "services:\n  s:\n    image: i\n    requires: [ zk ]\n    instances:\n      c: {ship: a}\n",
            "t.yaml:8:17: services.s.requires[0]: unknown service \"zk\"",
        ),
        (
            "services:\n  s:\n    image: i\n    wants_info: [ zk ]\n    instances:\n      c: {ship: a}\n",
            "t.yaml:8:19: services.s.wants_info[0]: unknown service \"zk\"",
        ),
        (
            "services:\n  s:\n    image: i\n    instances:\n      c: {ship: a, volumes_from: [ ghost ]}\n",
            "t.yaml:9:34: services.s.instances.c.volumes_from: unknown container \"ghost\"",
        ),
        (
            "services:\n  s:\n    image: i\n    instances:\n      c: {ship: a}\n  t:\n    image: i\n    instances:\n      c: {ship: b}\n",
            "t.yaml:13:7: services.t.instances.c: container name \"c\" is already defined by service \"s\"",
        ),
        (
            "services:\n  x:\n    image: i\n    requires: [y]\n    instances: {x1: {ship: a}}\n  y:\n    image: i\n    requires: [z]\n    instances: {y1: {ship: a}}\n  z:\n    image: i\n    requires: [x]\n    instances: {z1: {ship: a}}\n",
            "t.yaml:8:15: services.x.requires: dependency cycle: x -> y -> z -> x",
        ),
        (
            "services:\n  x:\n    image: i\n    requires: [x]\n    instances: {x1: {ship: a}}\n",
            "t.yaml:8:15: services.x.requires: dependency cycle: x -> x",
        ),
        (
            "services:\n  s:\n    image: i\n    instances:\n      c: {ship: a, volumes: {/h: /c}}\n      d: {ship: b, volumes_from: c}\n",
            "t.yaml:10:34: services.s.instances.d.volumes_from: c and d must be on the same ship for volumes_from (ships a and b)",
        ),
        (
            "services:\n  s:\n    image: i\n    instances:\n      c: {ship: a, limits: {memory: 100mb}}\n",
            "t.yaml:9:37: services.s.instances.c.limits.memory: unknown unit suffix b in 100mb for container c",
        ),
        (
            "services:\n  s:\n    image: i\n    instances:\n      c: {ship: a, restart: sometimes}\n",
            "t.yaml:9:29: services.s.instances.c.restart: invalid restart policy \"sometimes\"; choose one of no, always, on-failure, unless-stopped",
        ),
        (
            "services:\n  s:\n    image: i\n    instances:\n      c: {ship: a, envfile: missing.env}\n",
            "t.yaml:9:29: services.s.instances.c.envfile: cannot read envfile",
        ),
        (
            "services:\n  s:\n    image: i\n    instances:\n      c: {ship: a, lifecycle: {running: [{type: tcp, port: nope}]}}\n",
            "t.yaml:9:60: services.s.instances.c.lifecycle.running[0].port: port \"nope\" is not defined by c",
        ),
        (
            "services:\n  s:\n    image: i\n    instances:\n      c: {ship: a, stop_timeout: soon}\n",
            "t.yaml:9:34: services.s.instances.c.stop_timeout: expected an integer, found \"soon\"",
        ),
        (
            "services:\n  s:\n    image: i\n    instances:\n      c: {ship: a, labels: oops}\n",
            "t.yaml:9:28: services.s.instances.c.labels: invalid labels configuration; must be a list or mapping",
        ),
        (
            "services:\n  s:\n    instances:\n      c: {ship: a}\n",
            "t.yaml:7:5: services.s.image: the service's image is missing",
        ),
        (
            "services:\n  s: [1]\n",
            "t.yaml:6:6: services.s: expected a mapping, found list",
        ),
    ];
    let mut failures = Vec::new();
    for (yaml, expected) in cases {
        let err = load_err(&format!("{SHIPS}{yaml}"));
        if !err.starts_with(expected) {
            failures.push(format!("expected: {expected}\n     got: {err}"));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn yaml_and_top_level_errors_are_pinned() {
    assert_eq!(load_err(""), "t.yaml: the environment description is empty");
    assert_eq!(
        load_err("- a\n"),
        "t.yaml:1:1: the environment description must be a mapping, found list"
    );
    assert_eq!(
        load_err("ships: {}\n"),
        "t.yaml:1:1: name: the environment name is missing"
    );
    assert_eq!(
        load_err("name: a\nname: b\nships: {}\n"),
        "t.yaml:2:1: found duplicate key (name)"
    );
    let err = load_err("name: a\nships: {a: [}\n");
    assert!(err.starts_with("t.yaml:2:"), "{err}");
    assert_eq!(
        load_err("name: x\n"),
        "t.yaml:1:1: ships: the ships section is missing"
    );
    assert_eq!(
        load_err("name: {{ env.X.y }}\nships: {}\n"),
        "t.yaml:1:1: template error: undefined value: `env.X` is undefined"
    );
}

#[test]
fn schema_is_read_as_maestro_ng_reads_it() {
    // 0.8.3's only test is `schema == 1`: everything else is schema 2.
    let cases = [
        ("", 1, false),
        ("__maestro:\n", 1, false),
        ("__maestro: {schema: 1}\n", 1, false),
        ("__maestro: {schema: 1.0}\n", 1, false),
        ("__maestro: {schema: 2}\n", 2, false),
        ("__maestro: {schema: {version: 2}}\n", 2, true),
        ("__maestro: {schema: \"1\"}\n", 2, true),
        ("__maestro: {schema: 3}\n", 2, true),
    ];
    for (head, schema, warned) in cases {
        let loaded = load_ok(&format!("{head}name: x\nships: {{}}\n"));
        assert_eq!(loaded.environment.schema, schema, "{head:?}");
        let warnings: Vec<String> = loaded.warnings.iter().map(ToString::to_string).collect();
        assert_eq!(!warnings.is_empty(), warned, "{head:?}: {warnings:?}");
        if warned {
            assert!(
                warnings[0].contains("__maestro.schema: schema version is neither 1 nor 2"),
                "{warnings:?}"
            );
        }
    }
}

#[test]
fn unknown_keys_warn_or_fail_when_strict() {
    let yaml = "name: t\n_private: ignored\nshipz: {}\nships:\n  a: {ip: 10.0.0.1, colour: red}\nservices: {}\n";
    let loaded = load_with(yaml, &fixtures(), false).unwrap();
    let warnings: Vec<String> = loaded.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(
        warnings,
        [
            "t.yaml:3:1: shipz: unknown top-level key \"shipz\" (ignored)",
            "t.yaml:5:21: ships.a.colour: unknown ship key \"colour\" (ignored)",
        ]
    );
    let err = load_with(yaml, &fixtures(), true).unwrap_err();
    assert_eq!(err, "t.yaml:3:1: shipz: unknown top-level key \"shipz\"");
}

/// Every section's unknown keys go through one check: a warning, or under
/// --strict an error at the key. Port mappings only warned even under
/// --strict before.
#[test]
fn unknown_keys_of_every_section_fail_when_strict() {
    let cases = [
        (
            "ports: {p: {exposed: 80, external: 8080, colour: red}}",
            "t.yaml:4:83: services.s.instances.c.ports.p.colour: unknown port key \"colour\"",
        ),
        (
            "limits: {memory: 1g, colour: red}",
            "t.yaml:4:63: services.s.instances.c.limits.colour: unknown limits key \"colour\"",
        ),
        (
            "ports: {p: 1}, lifecycle: {running: [{type: tcp, port: p, colour: red}]}",
            "t.yaml:4:100: services.s.instances.c.lifecycle.running[0].colour: unknown tcp check key \"colour\"",
        ),
    ];
    for (keys, strict_error) in cases {
        let yaml = format!(
            "name: t\nships: {{a: {{ip: h}}}}\nservices:\n  s: {{image: i, instances: {{c: {{ship: a, {keys}}}}}}}\n"
        );
        let loaded = load_with(&yaml, &fixtures(), false).unwrap_or_else(|e| panic!("{e}"));
        let warnings: Vec<String> = loaded.warnings.iter().map(ToString::to_string).collect();
        assert_eq!(warnings, [format!("{strict_error} (ignored)")], "{yaml}");
        let err = load_with(&yaml, &fixtures(), true).unwrap_err();
        assert_eq!(err, strict_error, "{yaml}");
    }
}

#[test]
fn envfile_errors_name_the_envfile_line() {
    let err = load_err(&format!(
        "{SHIPS}services:\n  s:\n    image: i\n    envfile: bad.env\n    instances:\n      c: {{ship: a}}\n"
    ));
    assert!(
        err.ends_with(
            "bad.env:3:1: invalid line in environment file: expected KEY=VALUE \
             (the line is not shown, envfiles may hold secrets)"
        ),
        "{err}"
    );
    assert!(!err.contains("not a pair"), "the line is echoed: {err}");
}

#[test]
fn bad_input_never_panics() {
    let inputs = [
        "name: [1, {a: b}]\nships: {a: {ip: [1]}}\n",
        "name: x\nships: {a: {ip: 1, docker_port: -1}}\n",
        "name: x\nships: {}\nservices: {s: {image: [i], instances: {}}}\n",
        "name: x\nships: {a: {ip: x}}\nservices: {s: {image: i, instances: {c: {ship: a, env: 5}}}}\n",
        "name: x\nships: {a: {ip: x}}\nservices: {s: {image: i, instances: {c: {ship: a, ports: {p: {exposed: [1], external: 2}}}}}}\n",
        "name: x\nships: {a: {ip: x}}\nservices: {s: {image: i, instances: {c: {ship: a, ulimits: {n: {soft: x}}}}}}\n",
        "name: x\nships: {a: {ip: x}}\nservices: {s: {image: i, instances: {c: {ship: a, lifecycle: {running: {}}}}}}\n",
        "name: x\nships: {a: {ip: x}}\nservices: {s: {image: i, instances: {c: {ship: a, lifecycle: {running: [{type: ftp}]}}}}}\n",
        "name: x\nships: {a: {ip: x}}\nservices: {s: {image: i, instances: {c: {ship: a, restart: {name: always, retries: many}}}}}\n",
        "name: x\nships: {a: {ip: x}}\nservices: {s: {image: i, instances: {c: {ship: a, limits: {memory: 99999999999999999999g}}}}}\n",
        "name: x\nships: {a: {ip: x}}\nservices: {s: {image: i, instances: {c: {ship: a, env: {A: 2001-02-30}}}}}\n",
        "a: *nothing\n",
        "? [a, b]\n: c\n",
        "name: x\nships: {a: {ip: x}}\nservices: {s: {image: i, instances: {c: {ship: a, extra_hosts: {h: {ship: zz}}}}}}\n",
        "name: x\nships: !!map {}\nservices: !!seq []\n",
        "name: !!binary aGVsbG8=\nships: {}\n",
    ];
    for input in inputs {
        match load_with(input, &fixtures(), true) {
            Ok(_) => panic!("no error for bad input\n{input}"),
            // Every error says where: file, line and column.
            Err(e) => assert!(e.starts_with("t.yaml:"), "{e}\n---\n{input}"),
        }
    }
}

// ---------------------------------------------------------------------------
// examples/
// ---------------------------------------------------------------------------

#[test]
fn every_example_loads_without_warnings() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let file = entry.expect("entry").path().join("maestro.yaml");
        if !file.exists() {
            continue;
        }
        let parsed =
            load::read(&Source::File(file.clone()), &vars()).unwrap_or_else(|e| panic!("{e}"));
        let loaded =
            build::build(&parsed, Options { strict: true }).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            loaded.warnings.is_empty(),
            "{}: {:?}",
            file.display(),
            loaded.warnings
        );
        assert!(
            !loaded.environment.instances.is_empty(),
            "{}",
            file.display()
        );
        count += 1;
    }
    assert!(count >= 1, "no examples found in {}", dir.display());
}

#[test]
fn zookeeper_kafka_example_gives_the_documented_guest_answers() {
    let file =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/zookeeper-kafka/maestro.yaml");
    let parsed = load::read(&Source::File(file), &vars()).unwrap();
    let loaded = build::build(&parsed, Options::default()).unwrap();
    let instance = loaded.environment.instance("kafka-2").unwrap();
    let guest = maestro_guest::contract::GuestEnv::from_vars(
        loaded
            .environment
            .container_env(instance)
            .iter()
            .map(|v| (v.name.clone(), v.value.clone().unwrap_or_default())),
    );
    assert_eq!(guest.environment_name(), "zk-kafka");
    assert_eq!(guest.service_name().unwrap(), "kafka");
    assert_eq!(guest.host_address().unwrap(), "192.168.10.2");
    // The documentation's ZooKeeper+Kafka example: the port kafka-2 binds to inside, and the defaults.
    assert_eq!(guest.port("broker", None).unwrap().as_str(), "9092");
    assert_eq!(guest.port("unknown", Some("42")).unwrap().as_str(), "42");
    assert!(guest.port("unknown", None).is_err());
    assert_eq!(guest.container_name().unwrap(), "kafka-2");
    assert_eq!(
        guest.node_list("zookeeper", &["client"], 1).unwrap(),
        [
            "192.168.10.2:2181",
            "192.168.10.2:2182",
            "192.168.10.2:2183"
        ]
    );
    assert_eq!(
        guest.specific_host("zookeeper", "zk-node-2").unwrap(),
        "192.168.10.2"
    );
    assert_eq!(
        guest
            .node_list("zookeeper", &["client", "peer"], 1)
            .unwrap(),
        [
            "192.168.10.2:2181:2888",
            "192.168.10.2:2182:2889",
            "192.168.10.2:2183:2890"
        ]
    );
    assert_eq!(
        guest.node_list("kafka", &["broker"], 1).unwrap(),
        [
            "192.168.10.2:9092",
            "192.168.10.2:9093",
            "192.168.10.2:9094"
        ]
    );
    assert_eq!(
        guest
            .specific_port("zookeeper", "zk-node-2", "client", None)
            .unwrap()
            .as_str(),
        "2182"
    );
    // Dependencies' internal ports are not exported (only own-service peers'),
    // so the documented `get_specific_exposed_port('zookeeper', 'zk-node-2',
    // 'client')` -> 2181 holds only inside a ZooKeeper container.
    let zk = loaded.environment.instance("zk-node-3").unwrap();
    let zk_guest = maestro_guest::contract::GuestEnv::from_vars(
        loaded
            .environment
            .container_env(zk)
            .iter()
            .map(|v| (v.name.clone(), v.value.clone().unwrap_or_default())),
    );
    assert_eq!(
        zk_guest
            .specific_exposed_port("zookeeper", "zk-node-2", "client", None)
            .unwrap()
            .as_str(),
        "2181"
    );
}

// ---------------------------------------------------------------------------
// Ship transports: maestro's ssh_tunnel keys, socket_path through a tunnel, TLS ports
// ---------------------------------------------------------------------------

#[test]
fn ssh_tunnel_host_key_settings() {
    let loaded = load_ok(
        r#"
name: t
ships:
  a: {ip: h, ssh_tunnel: {user: u, key: k, known_hosts: kh, strict_host_key_checking: yes}}
  b: {ip: h, ssh_tunnel: {user: u, key: k, strict_host_key_checking: accept-new}}
  c: {ip: h, ssh_tunnel: {user: u, key: k, strict_host_key_checking: false}}
services: {}
"#,
    );
    let env = &loaded.environment;
    let a = env.ship("a").unwrap().ssh_tunnel.clone().unwrap();
    assert_eq!(a.known_hosts.as_deref(), Some(Path::new("kh")));
    assert_eq!(a.strict_host_key_checking.as_deref(), Some("yes"));
    let b = env.ship("b").unwrap().ssh_tunnel.clone().unwrap();
    assert_eq!(b.strict_host_key_checking.as_deref(), Some("accept-new"));
    let c = env.ship("c").unwrap().ssh_tunnel.clone().unwrap();
    assert_eq!(c.strict_host_key_checking.as_deref(), Some("no"));

    let err = load_err(
        "name: t\nships:\n  a: {ip: h, ssh_tunnel: {user: u, key: k, strict_host_key_checking: maybe}}\nservices: {}\n",
    );
    assert!(err.contains("expected accept-new, yes or no"), "{err}");
}

#[test]
fn socket_path_through_a_tunnel_is_the_ship_s_and_absolute() {
    let loaded = load_ok(
        "name: t\nships:\n  a: {ip: h, socket_path: /var/run/docker.sock, ssh_tunnel: {user: u, key: k}}\nservices: {}\n",
    );
    let a = loaded.environment.ship("a").unwrap();
    assert_eq!(a.backend_url(), "ssh://u@h:22->/var/run/docker.sock");
    let err = load_err(
        "name: t\nships:\n  a: {ip: h, socket_path: run/docker.sock, ssh_tunnel: {user: u, key: k}}\nservices: {}\n",
    );
    assert!(err.contains("must be absolute"), "{err}");
}

#[test]
fn tls_verify_without_tls_keeps_port_2375_and_warns() {
    let loaded = load_ok("name: t\nships:\n  a: {ip: h, tls_verify: true}\nservices: {}\n");
    assert_eq!(loaded.environment.ship("a").unwrap().docker_port, 2375);
    assert!(
        loaded.warnings[0]
            .message
            .contains("docker_port stays 2375"),
        "{:?}",
        loaded.warnings
    );
    let loaded = load_ok(
        "name: t\nships:\n  a: {ip: h, tls_verify: true, docker_port: 2376}\nservices: {}\n",
    );
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
}
