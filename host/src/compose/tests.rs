//! The importer on the fixtures of `tests/compose/`: each output is pinned
//! (`expected.yaml` beside the compose file; `MAESTRO_BLESS=1` rewrites
//! them), loaded with maestro's own loader, and its notes asserted.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::*;
use crate::config::{self, Source, model::Environment};

fn fixture_dir(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/compose")
        .join(name)
        .canonicalize()
        .unwrap_or_else(|e| panic!("tests/compose/{name}: {e}"))
}

fn two_ships() -> Vec<ShipArg> {
    ["a=unix:///var/run/docker.sock", "b=10.99.0.2:2375"]
        .iter()
        .map(|s| parse_ship(s).unwrap())
        .collect()
}

/// Imports a fixture with a fixed environment (`HOME` only) and its `.env`.
fn import_fixture(name: &str, ships: Vec<ShipArg>) -> Imported {
    let dir = fixture_dir(name);
    let text = std::fs::read_to_string(dir.join("compose.yaml")).unwrap();
    let opts = Options {
        file: "compose.yaml".into(),
        base_dir: dir.clone(),
        out_dir: dir.clone(),
        project: None,
        ships,
        vars: Vars {
            environ: BTreeMap::from([("HOME".into(), "/home/u".into())]),
            dotenv: dotenv(&dir),
        },
    };
    import(&text, &opts).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The output against `expected.yaml` (the fixture's directory written as
/// `$FIXTURE`).
fn assert_expected(name: &str, imported: &Imported) {
    let dir = fixture_dir(name);
    let got = imported
        .yaml
        .replace(&dir.display().to_string(), "$FIXTURE");
    let file = dir.join("expected.yaml");
    if std::env::var_os("MAESTRO_BLESS").is_some() {
        std::fs::write(&file, &got).unwrap();
    }
    let want = std::fs::read_to_string(&file)
        .unwrap_or_else(|e| panic!("{}: {e} (MAESTRO_BLESS=1 writes it)", file.display()));
    assert!(
        got == want,
        "{name}: the output differs from {}:\n{got}",
        file.display()
    );
}

/// The output loaded by maestro's loader, with its warnings.
fn load(name: &str, imported: &Imported) -> (Environment, Vec<String>) {
    let source = Source::Text {
        text: imported.yaml.clone(),
        name: format!("{name}/maestro.yaml"),
        base_dir: fixture_dir(name),
    };
    let loaded = config::load(&source, config::Options { strict: false })
        .unwrap_or_else(|e| panic!("{name}: the output does not load: {e}\n{}", imported.yaml));
    let warnings = loaded.warnings.iter().map(ToString::to_string).collect();
    (loaded.environment, warnings)
}

/// `path: message start` of every note.
fn notes(imported: &Imported) -> Vec<String> {
    imported
        .notes
        .iter()
        .map(|n| format!("{}: {}", n.path, n.message))
        .collect()
}

fn has_note(imported: &Imported, path: &str, text: &str) {
    assert!(
        imported
            .notes
            .iter()
            .any(|n| n.path == path && n.message.contains(text)),
        "no note at {path} saying {text:?}; notes: {:#?}",
        notes(imported)
    );
    // Each note is also a comment of the output.
    assert!(
        imported.yaml.contains(&format!("# not imported: {path}: ")),
        "{path} is not a comment of the output"
    );
}

fn instance_ships(env: &Environment, service: &str) -> Vec<(String, String)> {
    env.instances
        .iter()
        .filter(|i| i.service == service)
        .map(|i| (i.name.clone(), i.ship.clone()))
        .collect()
}

#[test]
fn web_db_cache() {
    let imported = import_fixture("web-db-cache", Vec::new());
    assert_expected("web-db-cache", &imported);
    // Nothing in it that maestro cannot express.
    assert_eq!(notes(&imported), Vec::<String>::new());
    assert!(
        imported
            .yaml
            .contains("DB_PASSWORD, TAG in .env are written below as defaults")
    );
    let (env, _) = load("web-db-cache", &imported);
    assert_eq!(env.name, "shop");
    assert_eq!(
        instance_ships(&env, "web"),
        [("shop-web-1".to_owned(), "local".to_owned())]
    );
    let web = env.service("web").unwrap();
    assert_eq!(web.requires, ["db", "cache"]);
    let web1 = env.instance("shop-web-1").unwrap();
    // HOST:CONTAINER turned around: exposed 3000, published 8080.
    let p = web1.ports.iter().find(|p| p.name == "p3000").unwrap();
    assert_eq!((p.exposed.start, p.external.start), (3000, 8080));
    let p = web1.ports.iter().find(|p| p.name == "p9394").unwrap();
    assert_eq!(p.host_ip, "127.0.0.1");
    // Interpolation: the .env default, YAML 1.2 strings kept as written.
    let vars: BTreeMap<String, Option<String>> = env
        .container_env(web1)
        .iter()
        .map(|v| (v.name.clone(), v.value.clone()))
        .collect();
    let var = |k: &str| vars.get(k).cloned().flatten();
    assert_eq!(
        var("DATABASE_URL").as_deref(),
        Some("postgres://shop:change-me@db:5432/shop")
    );
    assert_eq!(var("RAILS_LOG_TO_STDOUT").as_deref(), Some("yes"));
    assert_eq!(var("FEATURE_X").as_deref(), Some("true"));
    assert_eq!(var("WORKERS").as_deref(), Some("4"));
    assert_eq!(web1.image, "ghcr.io/example/shop-web:1.4.2");
    let db1 = env.instance("shop-db-1").unwrap();
    assert_eq!(db1.stop_timeout, 90);
    assert_eq!(db1.volumes[0].host, "shop_db-data");
}

#[test]
fn nginx_flask_mysql_awesome_compose_style() {
    let imported = import_fixture("nginx-flask-mysql", Vec::new());
    assert_expected("nginx-flask-mysql", &imported);
    has_note(
        &imported,
        "services.backend.build",
        "the image is named nginx-flask-mysql-backend",
    );
    has_note(
        &imported,
        "services.proxy.build",
        "the image is named nginx-flask-mysql-proxy",
    );
    has_note(&imported, "services.db.secrets", "maestro has no secrets");
    has_note(&imported, "secrets", "maestro has no secrets");
    has_note(&imported, "services.db.expose", "only `ports`");
    assert_eq!(imported.notes.len(), 6, "{:#?}", notes(&imported));
    // service_healthy: requires, and db waits for its health check: 30 s
    // start period, then 6 rounds of 3 s interval and 30 s timeout.
    assert!(imported.yaml.contains("requires: [db]"));
    assert!(
        imported
            .yaml
            .contains("lifecycle: {running: [{type: health, max_wait: 228}]}")
    );
    // `- 8000:8000` unquoted (a YAML 1.1 base-60 number) is read as compose reads it.
    assert!(imported.yaml.contains("p8000: \"8000:8000\""));
}

#[test]
fn conditions_replicas_networks_volumes_env_files() {
    let imported = import_fixture("conditions", two_ships());
    assert_expected("conditions", &imported);
    has_note(
        &imported,
        "services.worker.depends_on.migrate",
        "service_completed_successfully",
    );
    has_note(
        &imported,
        "services.worker.depends_on.cache.required",
        "always required",
    );
    has_note(&imported, "services.worker.env_file[0]", "line(s) 2, 3");
    has_note(
        &imported,
        "services.worker.env_file[1]",
        "optional in compose",
    );
    has_note(
        &imported,
        "services.worker.deploy.resources.limits.cpus",
        "no CPU counts",
    );
    has_note(&imported, "services.monitor.volumes[0]", "\"rslave\"");
    has_note(
        &imported,
        "networks.backend",
        "containers on ships a, b: a network is per ship",
    );
    assert_eq!(imported.notes.len(), 8, "{:#?}", notes(&imported));
    // Replicas spread over the ships in turn; global: one per ship.
    assert!(imported.yaml.contains("queue-worker-3:\n        ship: a\n"));
    assert!(imported.yaml.contains("queue-worker-2:\n        ship: b\n"));
    assert!(
        imported
            .yaml
            .contains("instances: {queue-cache-1: {ship: a}, queue-cache-2: {ship: b}}")
    );
    // broker's health check: 20 s, then 6 rounds of 10 s + 5 s.
    assert!(imported.yaml.contains("{type: health, max_wait: 110}"));
    assert!(
        imported
            .yaml
            .contains("restart: {name: on-failure, retries: 3}")
    );
    assert!(imported.yaml.contains("ipam: {subnet: \"172.28.0.0/16\"}"));
}

#[test]
fn unsupported_things_are_all_noted() {
    let imported = import_fixture("unsupported", two_ships());
    assert_expected("unsupported", &imported);
    for (path, text) in [
        ("version", "obsolete"),
        ("include", "does not include"),
        ("x-common", "extension field"),
        ("secrets", "no secrets or configs"),
        ("configs", "no secrets or configs"),
        ("services.api.build", "does not build images"),
        ("services.api.profiles", "omit: true"),
        ("services.api.image", "API_TAG is unset"),
        ("services.api.tty", "no equivalent"),
        ("services.api.stdin_open", "no equivalent"),
        ("services.api.platform", "no equivalent"),
        ("services.api.expose", "only `ports`"),
        ("services.api.cpus", "not by a number of CPUs"),
        ("services.api.gpus", "no equivalent"),
        ("services.api.secrets", "no secrets"),
        ("services.api.configs", "no secrets"),
        ("services.api.x-team", "extension field"),
        ("services.api.extends", "does not extend"),
        ("services.api.ports[0].mode", "swarm"),
        ("services.api.ports[1]", "a host port it picks"),
        ("services.api.volumes[0].bind", "ro/rw only"),
        ("services.api.volumes[1]", "\"cached\""),
        ("services.api.volumes[2]", "npipe"),
        ("services.api.links[0]", "\"database\""),
        ("services.api.deploy.placement", "swarm"),
        ("services.api.deploy.update_config", "swarm"),
        ("services.api.healthcheck.start_interval", "test, interval"),
        (
            "services.api.networks.front.priority",
            "aliases and ipv4_address",
        ),
        ("services.api.container_name", "one name for 2 instances"),
        ("networks.front.external", "maestro creates its networks"),
        ("networks.front.attachable", "not a network setting"),
        (
            "networks.front",
            "its services (api, db) have containers on ships a, b",
        ),
    ] {
        has_note(&imported, path, text);
    }
    assert_eq!(imported.notes.len(), 32, "{:#?}", notes(&imported));
    // Every note has the compose file's line and column.
    assert!(imported.notes.iter().all(|n| n.mark.is_some()));
    let (env, _) = load("unsupported", &imported);
    // profiles: omitted unless named; the merge key's restart and labels reached both replicas.
    assert!(env.service("api").unwrap().omit);
    assert_eq!(
        instance_ships(&env, "api"),
        [
            ("unsupported-api-1".to_owned(), "a".to_owned()),
            ("unsupported-api-2".to_owned(), "b".to_owned())
        ]
    );
    for i in ["unsupported-api-1", "unsupported-api-2"] {
        let inst = env.instance(i).unwrap();
        assert_eq!(inst.restart.max_retries, 5);
        assert_eq!(inst.labels, [("tier".to_owned(), "back".to_owned())]);
    }
}

#[test]
fn outputs_load_with_maestros_loader_without_a_warning() {
    for name in [
        "web-db-cache",
        "nginx-flask-mysql",
        "unsupported",
        "testbed",
        "wordpress-mysql",
        "prometheus-grafana",
        "awesome-react-express-mongodb",
    ] {
        let imported = import_fixture(name, two_ships());
        let (env, warnings) = load(name, &imported);
        assert!(!env.instances.is_empty(), "{name}");
        assert_eq!(warnings, Vec::<String>::new(), "{name}");
    }
}

/// The service_healthy waits, health checks, networks and run options of
/// the output, as maestro reads them back.
#[test]
fn health_waits_networks_and_run_options_load_as_written() {
    use config::model::Check;
    let imported = import_fixture("nginx-flask-mysql", Vec::new());
    let (env, _) = load("nginx-flask-mysql", &imported);
    let db = env.instance("nginx-flask-mysql-db-1").unwrap();
    assert_eq!(db.lifecycle.running, [Check::Health { max_wait: 228 }]);
    let hc = db.healthcheck.as_ref().expect("db's healthcheck");
    assert_eq!(hc.retries, Some(5));
    assert_eq!(hc.interval, Some(std::time::Duration::from_secs(3)));
    let backend = env.instance("nginx-flask-mysql-backend-1").unwrap();
    let nets: Vec<&str> = backend
        .networks
        .iter()
        .map(|n| n.network.as_str())
        .collect();
    assert_eq!(
        nets,
        ["nginx-flask-mysql_backnet", "nginx-flask-mysql_frontnet"]
    );

    // conditions: its optional worker.env made, in a copy of the fixture.
    let imported = import_fixture("conditions", two_ships());
    let dir =
        std::env::temp_dir().join(format!("maestro-compose-conditions-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(
        fixture_dir("conditions").join("common.env"),
        dir.join("common.env"),
    )
    .unwrap();
    std::fs::write(dir.join("worker.env"), "").unwrap();
    let loaded = config::load(
        &Source::Text {
            text: imported.yaml.clone(),
            name: "conditions/maestro.yaml".into(),
            base_dir: dir.clone(),
        },
        config::Options { strict: true },
    );
    std::fs::remove_dir_all(&dir).ok();
    let env = loaded
        .unwrap_or_else(|e| panic!("{e}\n{}", imported.yaml))
        .environment;
    let broker = env.instance("queue-broker-1").unwrap();
    assert_eq!(broker.lifecycle.running, [Check::Health { max_wait: 110 }]);
    assert_eq!(
        broker.networks[0].ipv4_address.as_deref(),
        Some("172.28.0.10")
    );
    assert_eq!(broker.networks[0].aliases, ["rabbit", "mq"]);
    let worker2 = env.instance("queue-worker-2").unwrap();
    assert_eq!(worker2.ship, "b");
    assert!(worker2.run.read_only);
    assert_eq!(worker2.run.init, Some(true));
    assert_eq!(worker2.run.stop_signal.as_deref(), Some("SIGINT"));
    assert_eq!(
        env.service("worker").unwrap().requires,
        ["broker", "migrate", "cache"]
    );
    assert_eq!(instance_ships(&env, "cache").len(), 2);
    let net = env.network("queue_backend").unwrap();
    assert_eq!(net.subnet.as_deref(), Some("172.28.0.0/16"));
}

#[test]
fn errors_point_at_the_compose_file() {
    let opts = Options {
        file: "c.yaml".into(),
        base_dir: ".".into(),
        out_dir: ".".into(),
        project: Some("p".into()),
        ships: Vec::new(),
        vars: Vars::default(),
    };
    let err = |text: &str| import(text, &opts).unwrap_err().to_string();
    assert_eq!(
        err("services:\n  a: [\n"),
        "c.yaml:3:1: while parsing a node, did not find expected node content"
    );
    assert_eq!(
        err("services:\n  a:\n    image: x\n    ports: [\"80:http\"]\n"),
        "c.yaml:4:13: services.a.ports[0]: invalid port \"80:http\": \"http\" is not a port or a range"
    );
    assert_eq!(
        err("services:\n  a:\n    image: x\n    depends_on: [b]\n"),
        "c.yaml:4:18: services.a.depends_on[0]: service \"a\" depends on \"b\", which is not a service of the file"
    );
    assert_eq!(
        err("services:\n  a:\n    command: ls\n"),
        "c.yaml:3:5: services.a: the service has neither image nor build"
    );
    assert_eq!(
        err("services:\n  a:\n    image: \"x:${TAG\"\n"),
        "c.yaml:3:12: services.a.image: unclosed ${ in \"x:${TAG\""
    );
    assert_eq!(
        err(
            "services:\n  a:\n    image: x\n    depends_on: {b: {condition: service_done}}\n  b: {image: y}\n"
        ),
        "c.yaml:4:33: services.a.depends_on.b.condition: unknown condition \"service_done\" (service_started, service_healthy or service_completed_successfully)"
    );
    assert_eq!(err(""), "c.yaml: the compose file is empty");
    assert_eq!(
        err("name: x\n"),
        "c.yaml:1:1: services: the compose file has no services"
    );
}

#[test]
fn ship_arguments() {
    let s = |a: &str| parse_ship(a).map(|s| (s.name, s.address));
    assert_eq!(
        s("local=unix:///var/run/docker.sock").unwrap(),
        ("local".into(), Address::Unix("/var/run/docker.sock".into()))
    );
    assert_eq!(
        s("b=10.0.0.2").unwrap().1,
        Address::Tcp {
            host: "10.0.0.2".into(),
            port: None
        }
    );
    assert_eq!(
        s("b=tcp://docker.example:2376").unwrap().1,
        Address::Tcp {
            host: "docker.example".into(),
            port: Some(2376)
        }
    );
    for bad in [
        "nameonly",
        "=1.2.3.4",
        "a b=1.2.3.4",
        "a=unix://rel",
        "a=1.2.3.4:x",
        "a=ssh://h",
        "a=",
    ] {
        assert!(parse_ship(bad).is_err(), "{bad}");
    }
}

#[test]
fn wordpress_mysql_awesome_compose_style() {
    let imported = import_fixture("wordpress-mysql", Vec::new());
    assert_expected("wordpress-mysql", &imported);
    has_note(&imported, "services.db.expose", "only `ports`");
    assert_eq!(imported.notes.len(), 1, "{:#?}", notes(&imported));
    let (env, _) = load("wordpress-mysql", &imported);
    let wp = env.instance("wordpress-mysql-wordpress-1").unwrap();
    assert_eq!(wp.volumes[0].host, "wordpress-mysql_wp_data");
    assert_eq!(
        (wp.ports[0].exposed.start, wp.ports[0].external.start),
        (80, 80)
    );
    let db = env.instance("wordpress-mysql-db-1").unwrap();
    assert_eq!(
        db.command,
        Some(config::model::Command::Argv(vec![
            "--default-authentication-plugin=mysql_native_password".into()
        ]))
    );
}

#[test]
fn prometheus_grafana_awesome_compose_style() {
    let imported = import_fixture("prometheus-grafana", Vec::new());
    assert_expected("prometheus-grafana", &imported);
    assert_eq!(notes(&imported), Vec::<String>::new());
    let (env, _) = load("prometheus-grafana", &imported);
    // container_name names the single instance; the bind mount is absolute.
    let prom = env.instance("prometheus").unwrap();
    let dir = fixture_dir("prometheus-grafana");
    assert_eq!(
        prom.volumes[0].host,
        dir.join("prometheus").display().to_string()
    );
    assert_eq!(
        prom.command,
        Some(config::model::Command::Argv(vec![
            "--config.file=/etc/prometheus/prometheus.yml".into(),
            "--storage.tsdb.retention.time=15d".into()
        ]))
    );
    // A Go template in a label reaches Docker as written, not as Jinja.
    let grafana = env.instance("grafana").unwrap();
    assert_eq!(
        grafana.labels,
        [(
            "org.example.logs".to_owned(),
            "{{.Name}} on {{.Node.Hostname}}".to_owned()
        )]
    );
    assert_eq!(env.service("grafana").unwrap().requires, ["prometheus"]);
}

/// Imports `text` with project `p` on `ships` ship names (plain TCP).
fn import_text(text: &str, ships: &[&str]) -> Imported {
    let opts = Options {
        file: "c.yaml".into(),
        base_dir: ".".into(),
        out_dir: ".".into(),
        project: Some("p".into()),
        ships: ships
            .iter()
            .map(|s| parse_ship(&format!("{s}=10.0.0.1")).unwrap())
            .collect(),
        vars: Vars::default(),
    };
    import(text, &opts).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn placement_notes() {
    // Three replicas publishing a port on two ships: two share a ship.
    let i = import_text(
        "services:\n  web:\n    image: x\n    ports: ['80:80']\n    deploy: {replicas: 3}\n",
        &["a", "b"],
    );
    has_note(
        &i,
        "services.web",
        "3 instances on 2 ship(s) publish the same host ports",
    );
    // Without published ports, no conflict.
    let i = import_text(
        "services:\n  web:\n    image: x\n    deploy: {replicas: 3}\n    networks: [n]\nnetworks: {n: {}}\n",
        &["a"],
    );
    assert_eq!(notes(&i), Vec::<String>::new());
    // A fixed address goes to the first instance only.
    let i = import_text(
        "services:\n  web:\n    image: x\n    scale: 2\n    networks: {n: {ipv4_address: 10.5.0.9}}\nnetworks: {n: {}}\n",
        &["a"],
    );
    has_note(
        &i,
        "services.web",
        "a fixed ipv4_address for 2 instances: only the first gets it",
    );
    assert!(
        i.yaml
            .contains("p-web-1: {ship: a, networks: {p_n: {ipv4_address: \"10.5.0.9\"}}}\n"),
        "{}",
        i.yaml
    );
    assert!(
        i.yaml.contains("p-web-2: {ship: a, networks: [p_n]}\n"),
        "{}",
        i.yaml
    );
    // network_mode: service:X is X's first container; 0 replicas: omitted.
    let i = import_text(
        "services:\n  vpn: {image: v}\n  app:\n    image: a\n    network_mode: service:vpn\n  off:\n    image: o\n    deploy: {replicas: 0}\n",
        &["a"],
    );
    has_note(
        &i,
        "services.app.network_mode",
        "the first container of vpn (p-vpn-1)",
    );
    assert!(i.yaml.contains("net: container:p-vpn-1}"), "{}", i.yaml);
    has_note(&i, "services.off", "0 replicas");
    // (`off` is a YAML 1.1 boolean: quoted.)
    assert!(
        i.yaml
            .contains("  \"off\":\n    # not imported: services.off: 0 replicas"),
        "{}",
        i.yaml
    );
    assert!(
        i.yaml.contains("    image: o\n    omit: true\n"),
        "{}",
        i.yaml
    );
    // service_healthy on a disabled health check: only the order (a health
    // wait would never pass), and the output loads.
    let h = import_text(
        "services:\n  db:\n    image: d\n    healthcheck: {disable: true}\n  app:\n    image: a\n    depends_on: {db: {condition: service_healthy}}\n",
        &["a"],
    );
    has_note(
        &h,
        "services.app.depends_on.db",
        "compose refuses to start this service; maestro starts it once db runs",
    );
    assert!(!h.yaml.contains("type: health"), "{}", h.yaml);
    config::load(
        &Source::Text {
            text: h.yaml.clone(),
            name: "m.yaml".into(),
            base_dir: ".".into(),
        },
        config::Options { strict: true },
    )
    .unwrap_or_else(|e| panic!("{e}\n{}", h.yaml));
}

#[test]
fn awesome_compose_react_express_mongodb_as_published() {
    let imported = import_fixture("awesome-react-express-mongodb", two_ships());
    assert_expected("awesome-react-express-mongodb", &imported);
    has_note(
        &imported,
        "services.frontend.build",
        "the image is named awesome-react-express-mongodb-frontend",
    );
    has_note(&imported, "services.frontend.stdin_open", "no equivalent");
    has_note(
        &imported,
        "services.backend.build",
        "the image is named awesome-react-express-mongodb-backend",
    );
    has_note(&imported, "services.backend.expose", "only `ports`");
    has_note(&imported, "services.mongo.expose", "only `ports`");
    assert_eq!(imported.notes.len(), 5, "{:#?}", notes(&imported));
    let (env, _) = load("awesome-react-express-mongodb", &imported);
    // The anonymous volume stays anonymous; the bind mount is absolute.
    let fe = env
        .instance("awesome-react-express-mongodb-frontend-1")
        .unwrap();
    assert_eq!(fe.container_volumes, ["/usr/src/app/node_modules"]);
    assert!(
        fe.volumes[0]
            .host
            .ends_with("awesome-react-express-mongodb/frontend")
    );
    assert_eq!(env.service("frontend").unwrap().requires, ["backend"]);
    assert_eq!(env.service("backend").unwrap().requires, ["mongo"]);
}

/// What `docker compose config` prints (its normalized form: long port and
/// volume syntax, `networks: {default: null}`, named networks) imports
/// without notes about its spelled-out defaults.
#[test]
fn docker_compose_config_output() {
    let text = r#"name: shop
services:
  web:
    command:
      - httpd
      - -f
    environment:
      A: "1"
    image: busybox
    networks:
      default: null
    ports:
      - mode: ingress
        target: 80
        published: "8080"
        protocol: tcp
    volumes:
      - type: bind
        source: /srv/www
        target: /www
        bind:
          create_host_path: true
      - type: volume
        source: data
        target: /data
        volume: {}
networks:
  default:
    name: shop_default
volumes:
  data:
    name: shop_data
"#;
    let i = import_text(text, &["a"]);
    assert_eq!(notes(&i), Vec::<String>::new());
    assert!(i.yaml.contains("ports: {p80: \"80:8080\"}"), "{}", i.yaml);
    assert!(i.yaml.contains("networks: [shop_default]"), "{}", i.yaml);
    assert!(
        i.yaml
            .contains("volumes: {/srv/www: /www, shop_data: /data}"),
        "{}",
        i.yaml
    );
    assert!(
        i.yaml.contains("networks:\n  shop_default: {}\n"),
        "{}",
        i.yaml
    );
}

/// Bad input is an error, never a panic: every prefix of every fixture, and
/// every fixture with one line removed, imports or fails with a message
/// that names the file.
#[test]
fn truncated_and_damaged_files_never_panic() {
    for name in [
        "web-db-cache",
        "nginx-flask-mysql",
        "conditions",
        "unsupported",
        "testbed",
        "wordpress-mysql",
        "prometheus-grafana",
        "awesome-react-express-mongodb",
    ] {
        let dir = fixture_dir(name);
        let text = std::fs::read_to_string(dir.join("compose.yaml")).unwrap();
        let opts = Options {
            file: "c.yaml".into(),
            base_dir: dir.clone(),
            out_dir: dir.clone(),
            project: Some("p".into()),
            ships: two_ships(),
            vars: Vars::default(),
        };
        let check = |variant: &str| match import(variant, &opts) {
            Ok(_) => {}
            Err(e) => assert!(e.to_string().starts_with("c.yaml"), "{name}: {e}"),
        };
        for (at, _) in text.char_indices() {
            check(&text[..at]);
        }
        let lines: Vec<&str> = text.lines().collect();
        for skip in 0..lines.len() {
            let damaged: Vec<&str> = lines
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != skip)
                .map(|(_, l)| *l)
                .collect();
            check(&damaged.join("\n"));
        }
    }
}
