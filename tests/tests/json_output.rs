//! `--format json` of the commands that ask the ships (`status`, `ships`,
//! `plan --observe`, and every play's summary), on the testbed, checked against
//! the shapes the README documents (section "JSON output") as `jq` would read
//! them: every field documented, of its documented type, none missing, and
//! every documented row seen in some document.

mod support;

use std::time::Duration;

use maestro_e2e::json_shape::Shape;
use maestro_e2e::{Scope, Testbed, repo_root};
use serde_json::Value;
use support::{Project, assert_status, ships_yaml, stdout, text};

fn shape(title: &str) -> Shape {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).expect("README.md");
    Shape::from_readme(&readme, title)
}

/// Runs `maestro ARGS`, asserts its exit status and that stdout is one JSON
/// document of `shape`, and returns it.
#[track_caller]
fn json(project: &Project, shape: &mut Shape, args: &[&str], status: i32) -> Value {
    let out = project.run(args);
    assert_status(&out, status);
    let value: Value = serde_json::from_str(&stdout(&out)).unwrap_or_else(|e| {
        panic!(
            "maestro {args:?}: stdout is not one JSON document ({e}): {}",
            text(&out)
        )
    });
    shape.check(&value);
    value
}

/// The entry of `container` in a play summary or a `status` array.
fn entry<'a>(list: &'a Value, key: &str, container: &str) -> &'a Value {
    list.as_array()
        .and_then(|items| items.iter().find(|e| e[key] == container))
        .unwrap_or_else(|| panic!("no {container} in {list}"))
}

#[test]
fn status_ships_plan_and_play_summaries_have_the_documented_shapes() {
    let tb = Testbed::load();
    let scope = Scope::new("json");
    let (db, web, lost, slow) = (
        scope.name("db"),
        scope.name("web"),
        scope.name("lost"),
        scope.name("slow"),
    );
    let (dead_port, probe_port) = (maestro_e2e::free_port(), maestro_e2e::free_port());
    // `gone` is a ship whose daemon does not exist: host_down, unreachable, errors.
    let yaml = format!(
        "name: {prefix}\n{ships}  gone: {{ip: 127.0.0.1, socket_path: /nonexistent/{prefix}.sock}}\n\
         registries:\n  testbed:\n    registry: http://{registry}\n    username: {user}\n    password: {password}\n    email: maestro@example.invalid\n\
         services:\n  db:\n    image: {image}\n    ports: {{probe: '{dead_port}:{dead_port}'}}\n    instances:\n      \
         {db}: {{ship: main, stop_timeout: 1, command: \"sh -c 'echo db says hello; exec sleep 300'\"}}\n  \
         web:\n    image: {image}\n    requires: [db]\n    instances:\n      \
         {web}: {{ship: ship2, stop_timeout: 1, command: [sleep, '300']}}\n  \
         lost:\n    image: {image}\n    instances:\n      {lost}: {{ship: gone}}\n  \
         slow:\n    image: {reg_image}\n    ports: {{probe: '7000:{probe_port}'}}\n    instances:\n      \
         {slow}:\n        ship: main\n        stop_timeout: 1\n        command: \"sh -c 'echo slow says hello; exec sleep 300'\"\n        \
         lifecycle:\n          running: [{{type: http, port: probe, max_wait: 1}}]\n",
        prefix = scope.prefix(),
        ships = ships_yaml(tb),
        registry = tb.registry(),
        user = tb.registry_user(),
        password = tb.registry_password(),
        image = tb.test_image(),
        reg_image = tb.test_image_registry(),
    );
    let project = Project::new(&scope, &yaml);
    let mut status = shape("`maestro status --format json`");
    let mut ships = shape("`maestro ships --format json`");
    let mut plan = shape("`maestro plan ACTION --format json`");
    let mut play = shape("The summary of a play");

    // Nothing exists yet: absent (and host_down on the ship that is not there).
    let v = json(
        &project,
        &mut status,
        &["status", "--format", "json", &db, &lost],
        1,
    );
    assert_eq!(entry(&v, "instance", &db)["state"], "absent");
    assert_eq!(entry(&v, "instance", &db)["container_id"], Value::Null);
    let gone = entry(&v, "instance", &lost);
    assert_eq!(gone["state"], "host_down");
    assert!(
        gone["error"].as_str().is_some_and(|e| e.contains("gone")),
        "{gone}"
    );

    // plan --observe: what start would do; the missing ship's step has an error.
    let v = json(
        &project,
        &mut plan,
        &[
            "plan",
            "start",
            "--observe",
            "--format",
            "json",
            &db,
            &web,
            &lost,
        ],
        1,
    );
    let steps = &v["steps"];
    let step = entry(steps, "container", &db);
    assert_eq!(step["observed"]["container"]["state"], "absent");
    assert_eq!(step["observed"]["image"]["image"], "present");
    assert_eq!(step["observed"]["image"]["exact_tag"], true);
    assert_eq!(step["decision"]["decision"], "start");
    assert_eq!(step["decision"]["start"], "create");
    assert_eq!(step["decision"]["remove_old"], false);
    assert_eq!(step["decision"]["pull"], "use");
    assert_eq!(step["decision"]["text"], "create, start");
    assert!(entry(steps, "container", &lost)["error"].is_string(), "{v}");

    // start: done for both, with their details.
    let v = json(
        &project,
        &mut play,
        &["start", "--format", "json", &db, &web],
        0,
    );
    assert_eq!(v["ok"], true);
    assert_eq!(v["action"], "start");
    assert!(v["elapsed_secs"].as_f64().is_some_and(|s| s > 0.0), "{v}");
    let c = &v["containers"];
    assert_eq!(entry(c, "container", &db)["result"], "done");
    assert_eq!(entry(c, "container", &db)["ship"], "main");
    assert_eq!(entry(c, "container", &web)["service"], "web");

    // Running: uptime, and with -F the image and the ports.
    let v = json(
        &project,
        &mut status,
        &["status", "-F", "--format", "json", &db, &web],
        0,
    );
    let row = entry(&v, "instance", &db);
    assert_eq!(row["state"], "running");
    assert!(row["uptime_secs"].is_u64(), "{row}");
    assert_eq!(row["image"], tb.test_image());
    assert_eq!(row["ports"][0]["name"], "probe");
    assert_eq!(row["ports"][0]["external"], format!("{dead_port}/tcp"));
    assert_eq!(row["ship_ip"], "127.0.0.1");
    assert!(
        row["container_id"]
            .as_str()
            .is_some_and(|id| id.len() == 64),
        "{row}"
    );

    // ships: main and ship2 answer with their containers; gone does not.
    let v = json(&project, &mut ships, &["ships", "--format", "json"], 1);
    assert_eq!(v["all_reachable"], false);
    let main = entry(&v["ships"], "name", "main");
    assert_eq!(main["reachable"], true);
    assert_eq!(main["transport"], "unix");
    assert!(main["api_version"].is_string(), "{main}");
    assert_eq!(main["expected_containers"], 2);
    assert_eq!(entry(&main["containers"], "name", &db)["state"], "running");
    let ship2 = entry(&v["ships"], "name", "ship2");
    assert_eq!(ship2["transport"], "tcp");
    assert_eq!(ship2["engine_version"], main["engine_version"]);
    assert!(main["engine"].is_string(), "{main}");
    let gone = entry(&v["ships"], "name", "gone");
    assert_eq!(gone["reachable"], false);
    assert!(gone["error"].is_string(), "{gone}");

    // plan --observe of running containers: leave them; stop would halt; an
    // up-to-date restart is left.
    let v = json(
        &project,
        &mut plan,
        &["plan", "start", "--observe", "--format", "json", &db],
        0,
    );
    let step = &v["steps"][0];
    assert_eq!(step["observed"]["container"]["state"], "running");
    assert!(
        step["observed"]["container"]["started_at"].is_string(),
        "{step}"
    );
    assert_eq!(step["decision"]["start"], "leave_running");
    assert!(step["decision"]["started_at"].is_string(), "{step}");
    assert_eq!(step["decision"]["pull"], Value::Null);
    let v = json(
        &project,
        &mut plan,
        &["plan", "stop", "--observe", "--format", "json", &db],
        0,
    );
    assert_eq!(v["steps"][0]["decision"]["decision"], "halt");
    assert_eq!(v["steps"][0]["decision"]["halt"], "halt");
    let v = json(
        &project,
        &mut plan,
        &[
            "plan",
            "restart",
            "--observe",
            "--only-if-changed",
            "--format",
            "json",
            &db,
        ],
        0,
    );
    assert_eq!(v["steps"][0]["decision"]["decision"], "restart");
    assert_eq!(v["steps"][0]["decision"]["restart"], "up_to_date");

    // restart, then stop (dependents first), kill and clean: each summary.
    let v = json(
        &project,
        &mut play,
        &["restart", "--format", "json", &web],
        0,
    );
    assert_eq!(v["action"], "restart");
    assert_eq!(entry(&v["containers"], "container", &web)["result"], "done");
    let v = json(&project, &mut play, &["stop", "--format", "json", &web], 0);
    assert_eq!(v["action"], "stop");
    assert_eq!(entry(&v["containers"], "container", &web)["result"], "done");
    let v = json(&project, &mut play, &["kill", "--format", "json", &db], 0);
    assert_eq!(v["action"], "kill");
    assert_eq!(entry(&v["containers"], "container", &db)["result"], "done");

    // Down: exit code and time; a stopped container is removed first by start.
    let v = json(
        &project,
        &mut status,
        &["status", "--format", "json", &db],
        1,
    );
    assert_eq!(v[0]["state"], "down");
    assert!(v[0]["exit_code"].is_i64(), "{v}");
    assert!(v[0]["down_secs"].is_u64(), "{v}");
    let v = json(
        &project,
        &mut plan,
        &["plan", "start", "--observe", "--format", "json", &db],
        0,
    );
    let step = &v["steps"][0];
    assert_eq!(step["observed"]["container"]["state"], "stopped");
    assert_eq!(step["decision"]["remove_old"], true);
    let v = json(
        &project,
        &mut plan,
        &["plan", "kill", "--observe", "--format", "json", &db],
        0,
    );
    assert_eq!(v["steps"][0]["decision"]["halt"], "already_down");
    let v = json(
        &project,
        &mut play,
        &["clean", "--format", "json", &db, &web],
        0,
    );
    assert_eq!(v["action"], "clean");
    for name in [&db, &web] {
        assert_eq!(entry(&v["containers"], "container", name)["result"], "done");
    }

    // pull from the registry (credentials from the description).
    let v = json(&project, &mut play, &["pull", "--format", "json", &slow], 0);
    assert_eq!(v["action"], "pull");
    assert_eq!(
        entry(&v["containers"], "container", &slow)["result"],
        "done"
    );

    // A failing check: failed with its reason and last log lines, and what
    // depends on it skipped.
    let v = json(
        &project,
        &mut play,
        &["start", "--format", "json", "-d", &web, &slow],
        1,
    );
    assert_eq!(v["ok"], false);
    let c = &v["containers"];
    let failed = entry(c, "container", &slow);
    assert_eq!(failed["result"], "failed", "{v}");
    assert!(failed["reason"].is_string(), "{failed}");
    assert!(
        failed["logs"]
            .as_array()
            .is_some_and(|l| l.iter().any(|x| x == "slow says hello")),
        "{failed}"
    );
    let _ = json(&project, &mut play, &["stop", "--format", "json", &slow], 0);

    // A start depending on a container whose ship is gone: failed, then skipped.
    let dependent = format!(
        "{yaml}  after:\n    image: {image}\n    requires: [lost]\n    instances:\n      {after}: {{ship: main, command: [sleep, '300']}}\n",
        image = tb.test_image(),
        after = scope.name("after"),
    );
    let project2 = Project::new(&scope, &dependent);
    let v = json(
        &project2,
        &mut play,
        &["start", "--format", "json", "-d", &scope.name("after")],
        1,
    );
    let skipped = entry(&v["containers"], "container", &scope.name("after"));
    assert_eq!(skipped["result"], "skipped", "{v}");
    assert!(skipped["reason"].is_string(), "{skipped}");

    // Two Ctrl-C during a check: the summary still comes, on stdout, with
    // the running container unfinished.
    let long = yaml.replace("max_wait: 1", "max_wait: 60");
    let project3 = Project::new(&scope, &long);
    let mut running = project3.spawn(&["start", "--format", "json", &slow]);
    let seen = maestro_e2e::poll(Duration::from_secs(60), || {
        running
            .stderr
            .lock()
            .unwrap()
            .iter()
            .any(|l| l.contains("checking"))
            .then_some(())
    });
    assert!(
        seen.is_some(),
        "no check began: {:?}",
        running.stderr.lock().unwrap()
    );
    let pid = running.child.id().to_string();
    for _ in 0..2 {
        let sent = std::process::Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .is_ok_and(|s| s.success());
        assert!(sent, "kill -INT {pid}");
        std::thread::sleep(Duration::from_millis(300));
    }
    let exit = maestro_e2e::poll(Duration::from_secs(30), || {
        running.child.try_wait().ok().flatten()
    })
    .expect("maestro ended after two SIGINTs");
    assert_eq!(exit.code(), Some(130));
    // The reader thread may still be collecting the last lines.
    let document = maestro_e2e::poll(Duration::from_secs(5), || {
        let text = running.lines().join("\n");
        serde_json::from_str::<Value>(&text).ok().map(|_| text)
    })
    .unwrap_or_else(|| panic!("no JSON summary: {:?}", running.lines()));
    let v = play.check_text(&document);
    let unfinished = entry(&v["containers"], "container", &slow);
    assert_eq!(unfinished["result"], "unfinished", "{v}");
    assert!(unfinished["last"].is_string(), "{unfinished}");

    // clean --networks: what it swept is in the document.
    let (na, nb, c_a, c_b) = (
        scope.name("na"),
        scope.name("nb"),
        scope.name("a"),
        scope.name("b"),
    );
    let nets = format!(
        "name: {prefix}\n{ships}  gone: {{ip: 127.0.0.1, socket_path: /nonexistent/{prefix}.sock}}\n\
         networks:\n  {na}: {{}}\n  {nb}: {{}}\n\
         services:\n  a:\n    image: {image}\n    networks: [{na}]\n    instances:\n      \
         {c_a}: {{ship: main, command: [sleep, '300'], stop_timeout: 1}}\n  \
         b:\n    image: {image}\n    networks: [{nb}]\n    instances:\n      \
         {c_b}: {{ship: main, command: [sleep, '300'], stop_timeout: 1}}\n  \
         lost:\n    image: {image}\n    networks: [{na}]\n    instances:\n      {lost}: {{ship: gone}}\n",
        prefix = scope.prefix(),
        ships = ships_yaml(tb),
        image = tb.test_image(),
    );
    let project4 = Project::new(&scope, &nets);
    assert_status(&project4.run(&["start", &c_a, &c_b]), 0);
    assert_status(&project4.run(&["stop", &c_a, &c_b]), 0);
    let v = json(
        &project4,
        &mut play,
        &[
            "clean",
            "--networks",
            "-S",
            "main",
            "--format",
            "json",
            &c_a,
        ],
        0,
    );
    assert_eq!(v["ok"], true);
    let swept = &v["swept"];
    let a_net = entry(swept, "name", &na);
    assert_eq!(a_net["outcome"], "removed", "{v}");
    assert_eq!(a_net["kind"], "network");
    assert_eq!(a_net["ship"], "main");
    let b_net = entry(swept, "name", &nb);
    assert_eq!(b_net["outcome"], "in_use", "{v}");
    assert_eq!(b_net["users"], serde_json::json!([c_b]));
    // The ship that is not there cannot be swept: not ok, exit status 1.
    let v = json(
        &project4,
        &mut play,
        &["clean", "--networks", "--format", "json", &c_b, &lost],
        1,
    );
    assert_eq!(v["ok"], false);
    let failed = entry(&v["swept"], "ship", "gone");
    assert_eq!(failed["outcome"], "failed", "{v}");
    assert!(failed["reason"].is_string(), "{failed}");
    assert_eq!(entry(&v["swept"], "name", &nb)["outcome"], "removed", "{v}");

    // Every documented row was seen.
    // What only `upgrade`/`rollback` print is seen by tests/tests/upgrade.rs.
    status.assert_covered(&[".[].left_aside"]);
    ships.assert_covered(&[]);
    plan.assert_covered(&[
        ".steps[].batch",
        ".steps[].observed.leftover",
        ".steps[].decision.swap",
        ".steps[].decision.image",
        ".steps[].decision.stop_old",
    ]);
    play.assert_covered(&[]);
}
