//! Networks and named volumes in the description (issue 16, points 1 and 2):
//! the sections' readings, their defaults, and every validation error with its
//! file:line:column.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use maestro::config::build::Loaded;
use maestro::config::model::*;
use maestro::resolve;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn load(yaml: &str) -> Result<Loaded, String> {
    common::load_text(yaml, &fixtures(), &BTreeMap::new(), false)
}

fn load_ok(yaml: &str) -> Environment {
    load(yaml)
        .unwrap_or_else(|e| panic!("{e}\n---\n{yaml}"))
        .environment
}

fn load_err(yaml: &str) -> String {
    match load(yaml) {
        Ok(_) => panic!("expected an error for\n{yaml}"),
        Err(e) => e,
    }
}

const FULL: &str = r#"
__maestro: {schema: 2}
name: shop
networks:
  front: {}
  back:
    driver: bridge
    options: {com.docker.network.driver.mtu: 1400}
    internal: true
    ipam: {subnet: 10.77.0.0/24, gateway: 10.77.0.254}
volumes:
  pgdata:
    driver: local
    driver_opts: {type: tmpfs, device: tmpfs}
    labels: {tier: db}
ships: {s1: {ip: 10.0.0.1}, s2: {ip: 10.0.0.2}}
services:
  web:
    image: nginx
    networks: [front, back]
    instances:
      web-1:
        ship: s1
        networks:
          back: {aliases: [api], ipv4_address: 10.77.0.10}
      web-2: {ship: s2}
  db:
    image: postgres
    networks: {back: {aliases: [database]}}
    instances:
      db-1:
        ship: s1
        volumes: {pgdata: /var/lib/postgresql/data, /etc/pg: {target: /etc/postgresql, mode: ro}}
      db-2:
        ship: s2
        volumes: {cache: /cache}
"#;

#[test]
fn sections_and_memberships_read_as_declared() {
    let env = load_ok(FULL);
    assert_eq!(env.networks.len(), 2);
    let front = env.network("front").unwrap();
    assert_eq!(
        (
            front.driver.as_str(),
            front.internal,
            front.subnet.as_deref()
        ),
        ("bridge", false, None)
    );
    let back = env.network("back").unwrap();
    assert_eq!(
        back.options,
        [(
            "com.docker.network.driver.mtu".to_owned(),
            "1400".to_owned()
        )]
    );
    assert!(back.internal);
    assert_eq!(back.subnet.as_deref(), Some("10.77.0.0/24"));
    assert_eq!(back.gateway.as_deref(), Some("10.77.0.254"));

    let pg = env.named_volume("pgdata");
    assert_eq!(pg.driver, "local");
    assert_eq!(pg.driver_opts.len(), 2);
    assert_eq!(pg.labels, [("tier".to_owned(), "db".to_owned())]);
    // An undeclared named volume gets the defaults.
    assert_eq!(env.named_volume("cache"), NamedVolume::undeclared("cache"));

    // The instance's entry replaces the service's of the same network.
    let web1 = env.instance("web-1").unwrap();
    let nets: Vec<_> = web1
        .networks
        .iter()
        .map(|m| {
            (
                m.network.as_str(),
                m.aliases.clone(),
                m.ipv4_address.clone(),
            )
        })
        .collect();
    assert_eq!(
        nets,
        [
            ("front", vec![], None),
            (
                "back",
                vec!["api".to_owned()],
                Some("10.77.0.10".to_owned())
            )
        ]
    );
    assert_eq!(env.instance("web-2").unwrap().networks.len(), 2);
    let db1 = env.instance("db-1").unwrap();
    assert_eq!(db1.networks[0].aliases, ["database"]);
    assert_eq!(db1.named_volumes(), ["pgdata"]);
    // The bind string is the one MaestroNG 0.8.3 sends: Docker reads the
    // non-path source as a volume name.
    assert_eq!(
        db1.binds(),
        [
            "pgdata:/var/lib/postgresql/data:rw",
            "/etc/pg:/etc/postgresql:ro"
        ]
    );
}

#[test]
fn specs_carry_aliases_addresses_and_the_environment_label() {
    let env = load_ok(FULL);
    let spec = resolve::container_spec(&env, env.instance("web-1").unwrap()).unwrap();
    assert_eq!(spec.network_mode, None);
    assert_eq!(spec.hostname.as_deref(), Some("web-1"));
    let nets: Vec<_> = spec
        .networks
        .iter()
        .map(|n| {
            (
                n.network.as_str(),
                n.aliases.clone(),
                n.ipv4_address.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        nets,
        [
            ("front", vec!["web-1".to_owned(), "web".to_owned()], None),
            (
                "back",
                vec!["web-1".to_owned(), "web".to_owned(), "api".to_owned()],
                Some("10.77.0.10")
            )
        ]
    );
    let back = resolve::network_spec(&env, "back").unwrap();
    assert_eq!(back.labels["maestro.environment"], "shop");
    assert_eq!(back.options["com.docker.network.driver.mtu"], "1400");
    assert!(back.internal);
    assert!(resolve::network_spec(&env, "nope").is_none());
    let pg = resolve::volume_spec(&env, "pgdata");
    assert!(pg.declared);
    assert_eq!(pg.labels["tier"], "db");
    assert_eq!(pg.labels["maestro.environment"], "shop");
    assert_eq!(pg.driver_opts["type"], "tmpfs");
    let cache = resolve::volume_spec(&env, "cache");
    assert!(!cache.declared);
    assert_eq!(cache.driver, "local");
    assert_eq!(cache.labels.len(), 1);
}

#[test]
fn a_description_without_the_new_keys_resolves_as_before() {
    let env = load_ok(
        r#"
name: t
ships: {s1: {ip: 10.0.0.1}}
services:
  a:
    image: busybox
    instances:
      a-1: {ship: s1, net: host, volumes: {/in: /out}}
"#,
    );
    assert!(env.networks.is_empty() && env.volumes.is_empty());
    let spec = resolve::container_spec(&env, env.instance("a-1").unwrap()).unwrap();
    assert!(spec.networks.is_empty());
    assert_eq!(spec.network_mode.as_deref(), Some("host"));
    // Schema 1 reads `container: host`; an absolute host path is no volume.
    assert!(env.instance("a-1").unwrap().named_volumes().is_empty());
}

/// Every validation error, pinned with its location.
#[test]
fn bad_networks_and_volumes_are_located_errors() {
    let base = |extra: &str, instance: &str| {
        format!(
            "name: t\n__maestro: {{schema: 2}}\nships: {{s1: {{ip: 10.0.0.1}}}}\n{extra}\nservices:\n  a:\n    image: busybox\n    instances:\n      a-1: {instance}\n"
        )
    };
    let cases: &[(String, &str)] = &[
        (
            base("networks: {app: {}}", "{ship: s1, networks: [app, nope]}"),
            "t.yaml:9:39: services.a.instances.a-1.networks.nope: unknown network \"nope\"; declare it in the top-level `networks` section (declared: app)",
        ),
        (
            base(
                "networks: {app: {ipam: {subnet: 10.1.2.3/24}}}",
                "{ship: s1}",
            ),
            "t.yaml:4:33: networks.app.ipam.subnet: invalid subnet \"10.1.2.3/24\": host bits are set; the network address is 10.1.2.0/24; expected e.g. 10.20.0.0/24",
        ),
        (
            base(
                "networks: {app: {ipam: {subnet: 10.1.2.0/40}}}",
                "{ship: s1}",
            ),
            "t.yaml:4:33: networks.app.ipam.subnet: invalid subnet \"10.1.2.0/40\": prefix length \"40\" is not a number from 0 to 32; expected e.g. 10.20.0.0/24",
        ),
        (
            base(
                "networks: {app: {ipam: {subnet: 10.1.2.0/24, gateway: 10.1.3.1}}}",
                "{ship: s1}",
            ),
            "t.yaml:4:55: networks.app.ipam.gateway: gateway 10.1.3.1 is not in subnet 10.1.2.0/24",
        ),
        (
            base(
                "networks: {app: {}}",
                "{ship: s1, net: host, networks: [app]}",
            ),
            "t.yaml:9:28: services.a.instances.a-1.net: `net: host` and `networks` (services.a.instances.a-1.networks) cannot both be given: a container joins user-defined networks or takes a network mode",
        ),
        (
            base(
                "networks: {app: {}}",
                "{ship: s1, networks: {app: {ipv4_address: 10.0.0.5}}}",
            ),
            "t.yaml:9:54: services.a.instances.a-1.networks.app.ipv4_address: a fixed ipv4_address needs a subnet on network app (networks.app.ipam.subnet)",
        ),
        (
            base(
                "networks: {app: {ipam: {subnet: 10.5.0.0/16}}}",
                "{ship: s1, networks: {app: {ipv4_address: 10.6.0.5}}}",
            ),
            "t.yaml:9:54: services.a.instances.a-1.networks.app.ipv4_address: ipv4_address 10.6.0.5 is not in network app's subnet 10.5.0.0/16",
        ),
        (
            base("networks: {bridge: {}}", "{ship: s1}"),
            "t.yaml:4:12: networks.bridge: \"bridge\" is one of Docker's own networks; select it with `net: bridge` instead",
        ),
        (
            base("volumes: {\"a/b\": {}}", "{ship: s1}"),
            "t.yaml:4:11: volumes.a/b: invalid volume name \"a/b\"; expected [a-zA-Z0-9][a-zA-Z0-9_.-]+",
        ),
        (
            base("", "{ship: s1, volumes: {./data: /data}}"),
            "t.yaml:9:33: services.a.instances.a-1.volumes../data: volume source \"./data\" is neither an absolute host path nor a volume name ([a-zA-Z0-9][a-zA-Z0-9_.-]+)",
        ),
        (
            base("networks: {app: {driver: [x]}}", "{ship: s1}"),
            "t.yaml:4:26: networks.app.driver: expected a string, found list",
        ),
    ];
    for (yaml, want) in cases {
        let got = load_err(yaml);
        assert_eq!(&got, want, "\n{yaml}");
    }
}

#[test]
fn service_level_addresses_and_shared_addresses_are_refused() {
    let err = load_err(
        r#"
name: t
__maestro: {schema: 2}
networks: {app: {ipam: {subnet: 10.5.0.0/16}}}
ships: {s1: {ip: 10.0.0.1}}
services:
  a:
    image: busybox
    networks: {app: {ipv4_address: 10.5.0.2}}
    instances:
      a-1: {ship: s1}
"#,
    );
    assert!(
        err.starts_with("t.yaml:9:36: services.a.networks.app.ipv4_address: an ipv4_address belongs to one container"),
        "{err}"
    );
    let err = load_err(
        r#"
name: t
__maestro: {schema: 2}
networks: {app: {ipam: {subnet: 10.5.0.0/16}}}
ships: {s1: {ip: 10.0.0.1}}
services:
  a:
    image: busybox
    instances:
      a-1: {ship: s1, networks: {app: {ipv4_address: 10.5.0.2}}}
      a-2: {ship: s1, networks: {app: {ipv4_address: 10.5.0.2}}}
"#,
    );
    assert!(
        err.contains("ipv4_address 10.5.0.2 on network app is also given to a-1 on ship s1"),
        "{err}"
    );
    // An unknown network on the service, with no network declared at all.
    let err = load_err(
        r#"
name: t
ships: {s1: {ip: 10.0.0.1}}
services:
  a:
    image: busybox
    networks: [backend]
    instances:
      a-1: {ship: s1}
"#,
    );
    assert_eq!(
        err,
        "t.yaml:7:16: services.a.networks.backend: unknown network \"backend\"; declare it in \
         the top-level `networks` section (declared: none)"
    );
}

#[test]
fn unknown_keys_of_the_new_sections_are_reported() {
    let loaded = load(
        r#"
name: t
networks: {app: {drivr: bridge}}
volumes: {data: {driver_options: {}}}
ships: {s1: {ip: 10.0.0.1}}
services:
  a:
    image: busybox
    instances:
      a-1: {ship: s1, networks: {app: {alias: [x]}}}
"#,
    )
    .unwrap();
    let warnings: Vec<String> = loaded.warnings.iter().map(|w| w.to_string()).collect();
    for want in [
        "unknown network key \"drivr\"",
        "unknown volume key \"driver_options\"",
        "unknown network membership key \"alias\"",
    ] {
        assert!(
            warnings.iter().any(|w| w.contains(want)),
            "{want}: {warnings:?}"
        );
    }
}
