//! A Podman ship: `podman system service` (Docker-compatible API) on the testbed, reached
//! over plain TCP and over its unix socket. A two-service environment (one requiring the
//! other, tcp and http lifecycle checks) goes through start, status, logs, stop and clean;
//! `maestro ships` names the engine; a lifecycle check against a container that does not
//! listen fails (Podman holds published ports open itself); an image is pulled from the
//! registry with credentials; links fail with a message; user-defined networks (names
//! and aliases resolving) and named volumes are made and cleaned.
//!
//! The testbed's Podman ship is `tests/testbed/up`'s (README beside it); without it every
//! test here fails with a message saying how to get it.

use std::path::{Path, PathBuf};
use std::time::Duration;

mod support;

use maestro_e2e::{Docker, Scope, Testbed, poll};
use support::http::http_body;
use support::project_file::{maestro_own_home as maestro, project_file};
use support::{assert_status, outcome, stdout, text};

/// Removes the scope's containers, networks and volumes on the Podman ship when dropped
/// ([`Scope`] cleans the three Docker daemons only).
struct PodmanCleanup<'a> {
    scope: &'a Scope,
    podman: Docker,
}

impl<'a> PodmanCleanup<'a> {
    fn new(scope: &'a Scope, podman: &Docker) -> PodmanCleanup<'a> {
        PodmanCleanup {
            scope,
            podman: podman.clone(),
        }
    }
}

impl Drop for PodmanCleanup<'_> {
    fn drop(&mut self) {
        self.scope.remove_from(&self.podman);
    }
}

/// The `ships:` block: `pod` over TCP, `podsock` over the unix socket (the same engine).
fn ships(tb: &Testbed) -> String {
    format!(
        "ships:\n  pod: {{ip: {addr}, docker_port: {port}, timeout: 30}}\n  podsock: {{ip: {addr}, socket_path: {sock}, timeout: 30}}\n",
        addr = tb.podman_addr(),
        port = tb.podman_port(),
        sock = tb.podman_socket().display(),
    )
}

/// Writes `maestro.yaml` (name, ships, then `rest`) into a scratch dir; returns its path.
fn project(scope: &Scope, tb: &Testbed, rest: &str) -> PathBuf {
    project_file(scope, &ships(tb), rest)
}

/// A port that is probably free in the Podman ship's namespace too (few listeners there).
fn port() -> u16 {
    maestro_e2e::free_port()
}

/// `maestro stop -a` then `maestro clean`, each asserted to succeed.
#[track_caller]
fn stop_all_and_clean(scope: &Scope, file: &Path) {
    assert_status(&maestro(scope, file, &["stop", "-a"]), 0);
    assert_status(&maestro(scope, file, &["clean"]), 0);
}

/// `State.<field>` of a container on the Podman ship.
fn state(podman: &Docker, name: &str, field: &str) -> serde_json::Value {
    podman.inspect(name)["State"][field].clone()
}

/// An environment variable name part as the contract writes it (`web-1` → `WEB_1`).
fn var(name: &str) -> String {
    name.to_uppercase().replace('-', "_")
}

#[test]
fn two_services_start_status_logs_stop_clean_on_podman() {
    let tb = Testbed::load();
    let scope = Scope::new("podman");
    let podman = tb.podman();
    let _cleanup = PodmanCleanup::new(&scope, &podman);
    let (db, web) = (scope.name("db"), scope.name("web"));
    let (db_port, web_port) = (port(), port());
    let image = tb.test_image();
    // web asks db (through the ship's address and db's published port, from the
    // variables maestro gave it) and serves the answer.
    let db_host = format!("DB_{}_HOST", var(&db));
    let db_port_var = format!("DB_{}_DB_PORT", var(&db));
    let file = project(
        &scope,
        tb,
        &format!(
            r#"services:
  db:
    image: {image}
    ports: {{db: "7000:{db_port}"}}
    lifecycle:
      running: [{{type: tcp, port: db, max_wait: 30}}]
    instances:
      {db}:
        ship: pod
        stop_timeout: 1
        command: "sh -c 'echo db says hello; exec nc -ll -p 7000 -e echo pong'"
  web:
    image: {image}
    requires: [db]
    ports: {{http: "8080:{web_port}"}}
    lifecycle:
      running: [{{type: http, port: http, max_wait: 30}}]
    instances:
      {web}:
        ship: pod
        stop_timeout: 1
        labels: {{tier: front}}
        restart: {{name: on-failure, retries: 3}}
        command: "sh -c 'mkdir -p /www && echo served by $CONTAINER_NAME > /www/index.html && nc ${db_host} ${db_port_var} </dev/null > /www/db.txt; echo web up; exec httpd -f -p 8080 -h /www'"
"#
        ),
    );

    // ships: the engine is named, and the ship answers over TCP and the socket.
    let out = maestro(&scope, &file, &["ships"]);
    assert_status(&out, 0);
    let engine = format!("Podman {}", tb.podman_version());
    let lines: Vec<String> = stdout(&out).lines().map(str::to_owned).collect();
    for ship in ["pod", "podsock"] {
        let line = lines
            .iter()
            .find(|l| l.split_whitespace().next() == Some(ship))
            .unwrap_or_else(|| panic!("no line for ship {ship}:\n{}", text(&out)));
        assert!(line.contains(&engine), "{}", text(&out));
        assert!(line.contains(" up "), "{}", text(&out));
    }
    let out = maestro(&scope, &file, &["ships", "--format", "json"]);
    assert_status(&out, 0);
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("ships JSON");
    assert_eq!(json["ships"][0]["engine"], "Podman", "{}", text(&out));
    assert_eq!(json["ships"][1]["engine"], "Podman", "{}", text(&out));
    assert_eq!(json["ships"][0]["engine_version"], tb.podman_version());

    // start: db first, its tcp check, then web and its http check.
    let out = maestro(&scope, &file, &["start"]);
    assert_status(&out, 0);
    assert!(stdout(&out).contains("start: 2 done"), "{}", text(&out));
    // The test image was loaded into Podman (it calls it localhost/...): not pulled.
    assert!(!stdout(&out).contains("pulling"), "{}", text(&out));
    assert_eq!(state(&podman, &db, "Running"), true);
    assert_eq!(state(&podman, &web, "Running"), true);
    let started = |name: &str| {
        state(&podman, name, "StartedAt")
            .as_str()
            .expect("StartedAt")
            .to_owned()
    };
    let started_db = state(&podman, &db, "StartedAt");
    assert!(
        started(&db) < started(&web),
        "db {} web {}",
        started(&db),
        started(&web)
    );
    let web_seen = podman.inspect(&web);
    assert_eq!(web_seen["Config"]["Labels"]["tier"], "front");
    assert_eq!(
        web_seen["HostConfig"]["RestartPolicy"]["Name"], "on-failure",
        "{web_seen}"
    );
    assert_eq!(
        web_seen["HostConfig"]["RestartPolicy"]["MaximumRetryCount"],
        3
    );
    // The published ports answer at the ship's address; web reached db through them.
    let addr = tb.podman_addr();
    assert_eq!(
        http_body(addr, web_port, "/").as_deref(),
        Some(format!("served by {web}\n").as_str())
    );
    assert_eq!(
        http_body(addr, web_port, "/db.txt").as_deref(),
        Some("pong\n")
    );

    // status: both running, with their ports up.
    let out = maestro(&scope, &file, &["status", "-F"]);
    assert_status(&out, 0);
    for name in [&db, &web] {
        let line = stdout(&out)
            .lines()
            .find(|l| l.starts_with(name.as_str()))
            .map(str::to_owned)
            .unwrap_or_else(|| panic!("no status line for {name}:\n{}", text(&out)));
        assert!(line.contains("running"), "{}", text(&out));
    }
    assert!(
        stdout(&out).contains(&format!("port db {db_port}/tcp: up")),
        "{}",
        text(&out)
    );
    assert!(
        stdout(&out).contains(&format!("port http {web_port}/tcp: up")),
        "{}",
        text(&out)
    );

    // logs: each container's own output.
    let out = maestro(&scope, &file, &["logs", &db]);
    assert_status(&out, 0);
    assert!(stdout(&out).contains("db says hello"), "{}", text(&out));
    let out = maestro(&scope, &file, &["logs", &web]);
    assert_status(&out, 0);
    assert!(stdout(&out).contains("web up"), "{}", text(&out));
    assert!(!stdout(&out).contains("db says hello"), "{}", text(&out));

    // restart --only-if-changed: Podman's image ids compare like Docker's, so nothing
    // is restarted.
    let out = maestro(&scope, &file, &["restart", "-a", "--only-if-changed"]);
    assert_status(&out, 0);
    assert_eq!(
        stdout(&out).matches("up to date").count(),
        4,
        "two progress lines and two summary lines: {}",
        text(&out)
    );
    assert_eq!(state(&podman, &db, "StartedAt"), started_db);

    // stop: web before db, both down, nothing answers any more.
    let out = maestro(&scope, &file, &["stop", "-a"]);
    assert_status(&out, 0);
    assert!(stdout(&out).contains("stop: 2 done"), "{}", text(&out));
    assert_eq!(state(&podman, &db, "Running"), false);
    assert_eq!(state(&podman, &web, "Running"), false);
    let finished = |name: &str| {
        state(&podman, name, "FinishedAt")
            .as_str()
            .expect("FinishedAt")
            .to_owned()
    };
    assert!(finished(&web) < finished(&db));
    assert_eq!(http_body(addr, web_port, "/"), None);
    let out = maestro(&scope, &file, &["status"]);
    assert_status(&out, 1);
    assert_eq!(
        stdout(&out).matches("down for").count(),
        2,
        "{}",
        text(&out)
    );

    // clean: both removed.
    let out = maestro(&scope, &file, &["clean"]);
    assert_status(&out, 0);
    assert!(stdout(&out).contains("clean: 2 done"), "{}", text(&out));
    assert_eq!(scope.containers(&podman), Vec::<String>::new());
    let out = maestro(&scope, &file, &["status"]);
    assert_status(&out, 1);
    assert_eq!(stdout(&out).matches("absent").count(), 2, "{}", text(&out));
}

#[test]
fn a_check_on_a_port_nobody_listens_on_fails_on_podman() {
    // Podman's conmon holds a published port open for the container's lifetime: had the
    // forwarding rule not matched (Podman 4.3 with host address 0.0.0.0), the tcp check
    // would connect to that and pass. Over the unix socket this time.
    let tb = Testbed::load();
    let scope = Scope::new("podman-mute");
    let podman = tb.podman();
    let _cleanup = PodmanCleanup::new(&scope, &podman);
    let mute = scope.name("mute");
    let mute_port = port();
    let image = tb.test_image();
    let file = project(
        &scope,
        tb,
        &format!(
            r#"services:
  mute:
    image: {image}
    ports: {{p: "7000:{mute_port}"}}
    lifecycle:
      running: [{{type: tcp, port: p, max_wait: 3}}]
    instances:
      {mute}: {{ship: podsock, stop_timeout: 1, command: sleep 300}}
"#
        ),
    );
    let out = maestro(&scope, &file, &["start"]);
    assert_status(&out, 1);
    assert!(
        stdout(&out).contains("running checks failed"),
        "{}",
        text(&out)
    );
    stop_all_and_clean(&scope, &file);
    assert_eq!(scope.containers(&podman), Vec::<String>::new());
}

#[test]
fn links_fail_on_podman_with_a_clear_message() {
    let tb = Testbed::load();
    let scope = Scope::new("podman-links");
    let podman = tb.podman();
    let _cleanup = PodmanCleanup::new(&scope, &podman);
    let (a, b) = (scope.name("a"), scope.name("b"));
    let image = tb.test_image();
    let file = project(
        &scope,
        tb,
        &format!(
            r#"services:
  s:
    image: {image}
    instances:
      {a}: {{ship: pod, stop_timeout: 1, command: sleep 300}}
  t:
    image: {image}
    requires: [s]
    instances:
      {b}: {{ship: pod, stop_timeout: 1, command: sleep 300, links: {{{a}: peer}}}}
"#
        ),
    );
    let out = maestro(&scope, &file, &["start"]);
    assert_status(&out, 1);
    assert!(
        stdout(&out).contains("the ship runs Podman, which does not support links")
            && stdout(&out).contains(&format!("links: {a}:peer")),
        "{}",
        text(&out)
    );
    assert_eq!(state(&podman, &a, "Running"), true);
    assert_eq!(scope.containers(&podman), vec![a.clone()]);
    stop_all_and_clean(&scope, &file);
}

#[test]
fn podman_pulls_from_the_registry_with_credentials() {
    let tb = Testbed::load();
    let scope = Scope::new("podman-pull");
    let podman = tb.podman();
    let _cleanup = PodmanCleanup::new(&scope, &podman);
    // A tag of our own in the registry, as the Podman ship reaches it.
    let pushed = support::push_to_registry(tb, &scope, scope.prefix());
    let reg = tb.get("REGISTRY_FROM_PODMAN");
    let image = pushed.replacen(tb.registry(), reg, 1);
    let a = scope.name("a");
    let password = tb.registry_password();
    let services = format!(
        "services:\n  s:\n    image: {image}\n    instances:\n      {a}: {{ship: pod, stop_timeout: 1, command: sleep 300}}\n"
    );
    let registries = |pass: &str| {
        format!(
            "registries:\n  \"{reg}\":\n    registry: http://{reg}\n    username: {}\n    password: \"{pass}\"\n    email: test@example.invalid\n",
            tb.registry_user()
        )
    };
    // Wrong credentials: refused, the password not shown.
    let wrong = "not-the-password";
    let file = project(&scope, tb, &format!("{}{services}", registries(wrong)));
    let out = maestro(&scope, &file, &["pull"]);
    assert_status(&out, 1);
    // Refused by the registry, not failed for some other reason.
    let (word, reason) = outcome(&stdout(&out), &a);
    assert_eq!(word, "FAILED", "{}", text(&out));
    assert!(
        reason.contains(&format!("pull image {image} failed"))
            && reason.contains("authentication required"),
        "{}",
        text(&out)
    );
    assert!(!text(&out).contains(wrong), "{}", text(&out));
    // The right ones: pulled, started.
    let file = project(&scope, tb, &format!("{}{services}", registries(&password)));
    let out = maestro(&scope, &file, &["start"]);
    assert_status(&out, 0);
    assert!(!text(&out).contains(&password), "password shown");
    assert_eq!(state(&podman, &a, "Running"), true);
    assert!(
        poll(Duration::from_secs(5), || podman
            .try_run(["image", "inspect", &image])
            .ok())
        .is_some()
    );
    stop_all_and_clean(&scope, &file);
    let _ = podman.try_run(["rmi", &image]);
}

#[test]
fn networks_and_named_volumes_on_podman() {
    let tb = Testbed::load();
    let scope = Scope::new("podman-net");
    let podman = tb.podman();
    let _cleanup = PodmanCleanup::new(&scope, &podman);
    let (srv, cli) = (scope.name("srv"), scope.name("cli"));
    let (front, back, vol) = (scope.name("front"), scope.name("back"), scope.name("vol"));
    let image = tb.test_image();
    // cli reads what srv wrote into the shared volume, then asks srv by alias and by
    // name over the network they share.
    let file = project(
        &scope,
        tb,
        &format!(
            r#"__maestro:
  schema: 2
networks:
  {front}: {{}}
  {back}: {{internal: true}}
volumes:
  {vol}: {{}}
services:
  srv:
    image: {image}
    networks: [{front}, {back}]
    instances:
      {srv}:
        ship: pod
        stop_timeout: 1
        networks:
          {front}: {{aliases: [www]}}
        volumes: {{{vol}: /data}}
        command: "sh -c 'echo stored > /data/f; mkdir -p /www && echo hi from srv > /www/index.html && exec httpd -f -p 8080 -h /www'"
  cli:
    image: {image}
    requires: [srv]
    networks: [{front}]
    instances:
      {cli}:
        ship: pod
        stop_timeout: 1
        volumes: {{{vol}: /data}}
        command: "sh -c 'cat /data/f; wget -qO- http://www:8080/; wget -qO- http://{srv}:8080/; echo done; exec sleep 300'"
"#
        ),
    );
    let out = maestro(&scope, &file, &["start"]);
    assert_status(&out, 0);
    let attached = podman.inspect(&srv)["NetworkSettings"]["Networks"].clone();
    assert!(
        attached.get(&front).is_some() && attached.get(&back).is_some(),
        "{attached}"
    );
    let logs = poll(Duration::from_secs(15), || {
        let out = maestro(&scope, &file, &["logs", &cli]);
        let text = stdout(&out);
        text.contains("done").then_some(text)
    })
    .unwrap_or_else(|| panic!("{cli} did not finish its requests"));
    assert_eq!(logs, "stored\nhi from srv\nhi from srv\ndone\n");
    assert_status(&maestro(&scope, &file, &["stop", "-a"]), 0);
    let out = maestro(&scope, &file, &["clean", "--networks", "--volumes"]);
    assert_status(&out, 0);
    for removed in [
        format!("network {front} on pod: removed"),
        format!("network {back} on pod: removed"),
        format!("volume {vol} on pod: removed"),
    ] {
        assert!(stdout(&out).contains(&removed), "{}", text(&out));
    }
    assert!(podman.try_run(["network", "inspect", &front]).is_err());
    assert!(podman.try_run(["volume", "inspect", &vol]).is_err());
}
