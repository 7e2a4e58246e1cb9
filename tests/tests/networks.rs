//! User-defined networks and named volumes against real engines (issue 16,
//! points 1 and 2): containers on one ship reach each other by instance name,
//! service name and alias; networks and volumes are created (labelled with the
//! environment) only on the ships whose containers use them, before those
//! containers, and a re-run changes nothing; a network or volume that exists
//! with other settings fails the start naming both; `clean` keeps networks and
//! volumes, `clean --networks` / `--volumes` remove only the environment's own
//! that no container uses.
//!
//! Every container, network and volume is named inside a [`Scope`], which
//! removes them when the test ends.

use std::process::Output;

mod support;

use maestro_e2e::{Docker, Scope, Testbed};
use support::http::fetch_inside;
use support::{Project, assert_status, ships_yaml, stdout, text};

/// The description: the environment's name is the scope's prefix.
fn description(scope: &Scope, tb: &Testbed, rest: &str) -> String {
    format!(
        "name: {}\n__maestro: {{schema: 2}}\n{}{rest}",
        scope.prefix(),
        ships_yaml(tb)
    )
}

/// A third octet for this run's subnets, so that parallel runs do not ask
/// one daemon for the same subnet.
fn octet() -> u32 {
    std::process::id() % 200 + 20
}

fn exists(docker: &Docker, kind: &str, name: &str) -> bool {
    docker.try_run([kind, "inspect", name]).is_ok()
}

/// `wget` from `from` to `http://host:8080/`: the page, or the last error.
fn fetch(docker: &Docker, from: &str, host: &str) -> Result<String, String> {
    fetch_inside(docker, from, host, 8080)
}

fn run(project: &Project, args: &[&str]) -> Output {
    project.run(args)
}

/// Makes a `kind` (network or volume) `foreign` of no environment and one `other_env`
/// labelled with another environment: neither is this environment's to remove.
fn make_foreign(docker: &Docker, kind: &str, foreign: &str, other_env: &str) {
    docker.run([kind, "create", foreign]);
    docker.run([
        kind,
        "create",
        "--label",
        "maestro.environment=someone-else",
        other_env,
    ]);
}

/// Asserts that `said` (a command's stdout) has `line` in it.
#[track_caller]
fn assert_says(said: &str, line: &str) {
    assert!(said.contains(line), "{line:?} not in:\n{said}");
}

/// Serves `served-by-$HOSTNAME` on port 8080.
const SERVER: &str = "sh -c 'mkdir -p /www && echo served-by-$HOSTNAME > /www/index.html && exec httpd -f -p 8080 -h /www'";

#[test]
fn containers_reach_each_other_by_name_on_the_networks_of_their_ship() {
    let tb = Testbed::load();
    let scope = Scope::new("nets");
    let (main, ship2) = (tb.main(), tb.ship2());
    let image = tb.test_image();
    let (net, inner, far) = (scope.name("net"), scope.name("inner"), scope.name("far"));
    let (web, client, inner_client, far_one) = (
        scope.name("web-1"),
        scope.name("client-1"),
        scope.name("inner-1"),
        scope.name("far-1"),
    );
    let subnet = format!("10.231.{}.0/24", octet());
    let fixed = format!("10.231.{}.10", octet());
    let gateway = format!("10.231.{}.254", octet());
    let project = Project::new(
        &scope,
        &description(
            &scope,
            tb,
            &format!(
                r#"networks:
  {net}: {{}}
  {inner}:
    driver: bridge
    internal: true
    options: {{com.docker.network.driver.mtu: 1400}}
    ipam: {{subnet: {subnet}, gateway: {gateway}}}
  {far}: {{}}
services:
  web:
    image: {image}
    networks: [{net}]
    instances:
      {web}:
        ship: main
        stop_timeout: 1
        command: "{SERVER}"
        networks:
          {net}: {{aliases: [frontdoor]}}
          {inner}: {{ipv4_address: {fixed}}}
  client:
    image: {image}
    networks: [{net}]
    instances:
      {client}: {{ship: main, command: sleep 600, stop_timeout: 1}}
  inner:
    image: {image}
    instances:
      {inner_client}:
        ship: main
        command: sleep 600
        stop_timeout: 1
        networks: [{inner}]
  far:
    image: {image}
    networks: [{far}]
    instances:
      {far_one}: {{ship: ship2, command: sleep 600, stop_timeout: 1}}
"#
            ),
        ),
    );
    let out = run(&project, &["start"]);
    assert_status(&out, 0);

    // By instance name, by service name, by alias.
    for host in [web.as_str(), "web", "frontdoor"] {
        assert_eq!(
            fetch(&main, &client, host).unwrap_or_else(|e| panic!("{host}: {e}")),
            format!("served-by-{web}"),
            "{host}"
        );
    }
    // The second network (joined after the create) answers too, on the fixed address.
    assert_eq!(
        fetch(&main, &inner_client, &web).unwrap(),
        format!("served-by-{web}")
    );
    let attached = main.inspect(&web)["NetworkSettings"]["Networks"].clone();
    assert_eq!(attached[&inner]["IPAddress"], fixed.as_str(), "{attached}");
    assert!(attached.get(&net).is_some() && attached.get("bridge").is_none());
    // The client is not on `inner`: it cannot reach the server's fixed address.
    assert!(
        main.try_run([
            "exec",
            &client,
            "timeout",
            "3",
            "wget",
            "-q",
            "-O-",
            &format!("http://{fixed}:8080/")
        ])
        .is_err()
    );

    // Created as declared, labelled with the environment.
    let n = main.inspect(&inner);
    assert_eq!(n["Labels"]["maestro.environment"], scope.prefix());
    assert_eq!(n["Internal"], true);
    assert_eq!(n["Options"]["com.docker.network.driver.mtu"], "1400");
    assert_eq!(n["IPAM"]["Config"][0]["Subnet"], subnet.as_str());
    assert_eq!(n["IPAM"]["Config"][0]["Gateway"], gateway.as_str());
    assert_eq!(main.inspect(&net)["Driver"], "bridge");

    // Only on the ships whose containers use them.
    assert!(!exists(&main, "network", &far));
    assert!(exists(&ship2, "network", &far));
    assert!(!exists(&ship2, "network", &net) && !exists(&ship2, "network", &inner));

    // A re-run changes nothing: same networks, containers left running.
    let id = main.inspect(&net)["Id"].clone();
    let out = run(&project, &["start"]);
    assert_status(&out, 0);
    assert_eq!(main.inspect(&net)["Id"], id);
    // A stopped container recreated joins the same network again.
    assert_status(&run(&project, &["stop", "-s", "client"]), 0);
    assert_status(&run(&project, &["start", "client"]), 0);
    assert_eq!(main.inspect(&net)["Id"], id);
    assert_eq!(
        fetch(&main, &client, "web").unwrap(),
        format!("served-by-{web}")
    );
}

#[test]
fn a_network_or_volume_with_other_settings_fails_the_start_naming_both() {
    let tb = Testbed::load();
    let scope = Scope::new("netconflict");
    let main = tb.main();
    let image = tb.test_image();
    let (net, vol) = (scope.name("net"), scope.name("vol"));
    let (a, b) = (scope.name("a-1"), scope.name("b-1"));
    main.run(["network", "create", "--internal", &net]);
    main.run([
        "volume",
        "create",
        "--opt",
        "type=tmpfs",
        "--opt",
        "device=tmpfs",
        &vol,
    ]);
    let project = Project::new(
        &scope,
        &description(
            &scope,
            tb,
            &format!(
                r#"networks:
  {net}: {{driver: bridge}}
volumes:
  {vol}: {{driver: local}}
services:
  a:
    image: {image}
    networks: [{net}]
    instances:
      {a}: {{ship: main, command: sleep 600, stop_timeout: 1}}
  b:
    image: {image}
    instances:
      {b}: {{ship: main, command: sleep 600, stop_timeout: 1, volumes: {{{vol}: /data}}}}
"#
            ),
        ),
    );
    let out = run(&project, &["start"]);
    assert_status(&out, 1);
    let all = text(&out);
    assert!(
        all.contains(&format!(
            "network {net} exists with other settings: it has internal true; the environment declares internal false"
        )),
        "{all}"
    );
    assert!(
        all.contains(&format!(
            "volume {vol} exists with other settings: it has driver_opts {{device: tmpfs, type: tmpfs}}; the environment declares driver_opts {{}}"
        )),
        "{all}"
    );
    // Neither container was created; the existing network and volume are untouched.
    assert!(!exists(&main, "container", &a) && !exists(&main, "container", &b));
    assert_eq!(main.inspect(&net)["Internal"], true);
    assert!(
        main.inspect(&net)["Labels"]
            .get("maestro.environment")
            .is_none()
    );
    assert_eq!(main.inspect(&vol)["Options"]["type"], "tmpfs");
}

#[test]
fn clean_networks_removes_only_the_environments_unused_networks() {
    let tb = Testbed::load();
    let scope = Scope::new("netclean");
    let main = tb.main();
    let image = tb.test_image();
    let (na, nb) = (scope.name("na"), scope.name("nb"));
    let (foreign, other_env) = (scope.name("foreign"), scope.name("otherenv"));
    let (a, b) = (scope.name("a-1"), scope.name("b-1"));
    make_foreign(&main, "network", &foreign, &other_env);
    let project = Project::new(
        &scope,
        &description(
            &scope,
            tb,
            &format!(
                r#"networks:
  {na}: {{}}
  {nb}: {{}}
services:
  a:
    image: {image}
    networks: [{na}]
    instances:
      {a}: {{ship: main, command: sleep 600, stop_timeout: 1}}
  b:
    image: {image}
    networks: [{nb}]
    instances:
      {b}: {{ship: main, command: sleep 600, stop_timeout: 1}}
"#
            ),
        ),
    );
    assert_status(&run(&project, &["start"]), 0);
    assert_status(&run(&project, &["stop", "-a"]), 0);

    // `clean` alone removes containers, never networks.
    let out = run(&project, &["clean", "a"]);
    assert_status(&out, 0);
    assert!(!exists(&main, "container", &a));
    assert!(exists(&main, "network", &na));

    // With --networks: `na` has no container left; `nb` still has the stopped `b`.
    let out = run(&project, &["clean", "a", "--networks"]);
    assert_status(&out, 0);
    let said = stdout(&out);
    assert!(!exists(&main, "network", &na), "{}", text(&out));
    assert_says(&said, &format!("network {na} on main: removed"));
    assert_says(&said, &format!("network {nb} on main: in use by {b}, left"));
    assert!(exists(&main, "network", &nb));
    // Networks the environment did not create stay.
    assert!(exists(&main, "network", &foreign) && exists(&main, "network", &other_env));

    // Once `b` is gone, its network goes too.
    let out = run(&project, &["clean", "--networks"]);
    assert_status(&out, 0);
    assert!(!exists(&main, "network", &nb), "{}", text(&out));
    assert!(exists(&main, "network", &foreign) && exists(&main, "network", &other_env));
}

#[test]
fn named_volumes_survive_clean_and_only_the_environments_go_with_clean_volumes() {
    let tb = Testbed::load();
    let scope = Scope::new("vols");
    let (main, ship2) = (tb.main(), tb.ship2());
    let image = tb.test_image();
    let (data, kept, remote) = (scope.name("data"), scope.name("kept"), scope.name("remote"));
    let (foreign, other_env) = (scope.name("foreign"), scope.name("otherenv"));
    let (writer, keeper, far) = (
        scope.name("writer-1"),
        scope.name("keeper-1"),
        scope.name("far-1"),
    );
    make_foreign(&main, "volume", &foreign, &other_env);
    let project = Project::new(
        &scope,
        &description(
            &scope,
            tb,
            &format!(
                r#"volumes:
  {data}:
    driver: local
    labels: {{purpose: e2e}}
services:
  writer:
    image: {image}
    instances:
      {writer}:
        ship: main
        stop_timeout: 1
        volumes: {{{data}: /data, /tmp: {{target: /host-tmp, mode: ro}}}}
        command: "sh -c 'test -f /data/first || date +%s%N > /data/first; exec sleep 600'"
  keeper:
    image: {image}
    instances:
      {keeper}: {{ship: main, command: sleep 600, stop_timeout: 1, volumes: {{{kept}: /kept}}}}
  far:
    image: {image}
    instances:
      {far}: {{ship: ship2, command: sleep 600, stop_timeout: 1, volumes: {{{remote}: /remote}}}}
"#
            ),
        ),
    );
    assert_status(&run(&project, &["start"]), 0);
    let first = main.run(["exec", &writer, "cat", "/data/first"]);
    assert!(!first.is_empty());
    // Declared: its labels and the environment's; undeclared: the environment's.
    let v = main.inspect(&data);
    assert_eq!(v["Labels"]["maestro.environment"], scope.prefix());
    assert_eq!(v["Labels"]["purpose"], "e2e");
    assert_eq!(
        main.inspect(&kept)["Labels"]["maestro.environment"],
        scope.prefix()
    );
    // A host path next to it is still a bind mount, as MaestroNG made it.
    let mounts = main.inspect(&writer)["Mounts"].clone();
    let kinds: Vec<(String, String)> = mounts
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["Type"].as_str().unwrap_or_default().to_owned(),
                m["Destination"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert!(
        kinds.contains(&("volume".into(), "/data".into())),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&("bind".into(), "/host-tmp".into())),
        "{kinds:?}"
    );
    // Only on the ship whose container uses it.
    assert!(exists(&ship2, "volume", &remote) && !exists(&main, "volume", &remote));
    assert!(!exists(&ship2, "volume", &data));

    // `clean` never removes a volume: the data outlives the container.
    assert_status(&run(&project, &["stop", "-s", "writer", "far"]), 0);
    assert_status(&run(&project, &["clean"]), 0);
    assert!(!exists(&main, "container", &writer));
    assert!(exists(&main, "volume", &data) && exists(&ship2, "volume", &remote));
    assert_status(&run(&project, &["start", "writer"]), 0);
    assert_eq!(main.run(["exec", &writer, "cat", "/data/first"]), first);

    // `clean --volumes`: the environment's unused volumes go, on every ship;
    // one in use stays, and so do volumes it did not create.
    assert_status(&run(&project, &["stop", "-s", "writer"]), 0);
    let out = run(&project, &["clean", "--volumes"]);
    assert_status(&out, 0);
    let said = stdout(&out);
    assert!(!exists(&main, "volume", &data), "{}", text(&out));
    assert!(!exists(&ship2, "volume", &remote), "{}", text(&out));
    assert_says(&said, &format!("volume {data} on main: removed"));
    assert_says(&said, &format!("volume {remote} on ship2: removed"));
    assert_says(
        &said,
        &format!("volume {kept} on main: in use by {keeper}, left"),
    );
    assert!(exists(&main, "volume", &kept));
    assert!(exists(&main, "volume", &foreign) && exists(&main, "volume", &other_env));
}
