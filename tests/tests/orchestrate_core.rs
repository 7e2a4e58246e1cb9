//! The executor against real daemons: `start` of a dependency chain across the main
//! daemon (unix socket) and ship2 (plain TCP), the environment and ports the containers
//! get, a failing lifecycle check keeping dependents down, `stop` in reverse order,
//! `kill`, `restart`, `clean`, `pull` with registry credentials, cold images of every
//! layer pulled at the start of a play, and Ctrl-C.
//!
//! Every container is named inside a [`Scope`], which removes it when the test ends.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod support;

use maestro_e2e::{Docker, Scope, Testbed, free_port, poll};
use support::http::http_body;
use support::project_file::{maestro_own_home as maestro, project_file};
use support::{assert_status, text};

/// The `ships:` section: `main` over the unix socket, `ship2` over plain TCP.
fn ships(tb: &Testbed) -> String {
    let socket = tb
        .main_host()
        .strip_prefix("unix://")
        .expect("the main daemon is a unix socket");
    format!(
        "ships:\n  main: {{ip: 127.0.0.1, socket_path: {socket}}}\n  ship2: {{ip: {}, docker_port: {}}}\n",
        tb.ship2_addr(),
        tb.ship2_port()
    )
}

/// Writes `maestro.yaml` (name, ships, then `rest`) into a scratch dir; returns its path.
fn project(scope: &Scope, tb: &Testbed, rest: &str) -> PathBuf {
    project_file(scope, &ships(tb), rest)
}

/// `State.<field>` as (seconds part, nanoseconds) so that timestamps with fractions of
/// different lengths compare correctly.
fn state_time(docker: &Docker, name: &str, field: &str) -> (String, u64) {
    let v = docker.inspect(name);
    let t = v["State"][field].as_str().expect("a timestamp").to_owned();
    let t = t.trim_end_matches('Z');
    let (secs, frac) = t.split_once('.').unwrap_or((t, "0"));
    let digits: String = frac.chars().take_while(char::is_ascii_digit).collect();
    let nanos = format!("{digits:0<9}").parse().expect("fraction digits");
    (secs.to_owned(), nanos)
}

fn running(docker: &Docker, name: &str) -> bool {
    docker.inspect(name)["State"]["Running"] == true
}

fn exists(docker: &Docker, name: &str) -> bool {
    docker.try_run(["inspect", name]).is_ok()
}

/// A port that is probably free on ship2 too (its namespace has few listeners).
fn port() -> u16 {
    free_port()
}

#[test]
fn start_chain_across_ships_then_stop_in_reverse_and_clean() {
    let tb = Testbed::load();
    let scope = Scope::new("chain");
    let (a, b, c) = (scope.name("a"), scope.name("b"), scope.name("c"));
    let web_port = port();
    let image = tb.test_image();
    let file = project(
        &scope,
        tb,
        &format!(
            r#"services:
  first:
    image: {image}
    ports: {{web: "8080:{web_port}"}}
    lifecycle:
      running: [{{type: tcp, port: web, max_wait: 20}}]
    instances:
      {a}:
        ship: ship2
        stop_timeout: 1
        command: "sh -c 'mkdir -p /www && echo served by $CONTAINER_NAME > /www/index.html && exec httpd -f -p 8080 -h /www'"
  second:
    image: {image}
    requires: [first]
    env: {{GREETING: "hello world", EMPTY: ""}}
    instances:
      {b}: {{ship: main, stop_timeout: 1, command: [sleep, "300"]}}
  third:
    image: {image}
    requires: [second]
    instances:
      {c}: {{ship: ship2, stop_timeout: 1, command: sleep 300}}
"#
        ),
    );

    let t0 = Instant::now();
    let out = maestro(&scope, &file, &["start"]);
    assert_status(&out, 0);
    let started = t0.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(stdout.contains("start: 3 done"), "{}", text(&out));

    // Dependency order, across two daemons.
    let (main, ship2) = (tb.main(), tb.ship2());
    let ta = state_time(&ship2, &a, "StartedAt");
    let tb_ = state_time(&main, &b, "StartedAt");
    let tc = state_time(&ship2, &c, "StartedAt");
    assert!(ta < tb_ && tb_ < tc, "start order {ta:?} {tb_:?} {tc:?}");

    // The environment in the container is exactly `maestro env`'s, in order.
    let env_out = maestro(&scope, &file, &["env", &b]);
    assert_status(&env_out, 0);
    let expected: Vec<String> = String::from_utf8_lossy(&env_out.stdout)
        .lines()
        .map(str::to_owned)
        .collect();
    assert!(expected.contains(&"GREETING=hello world".to_owned()));
    assert!(expected.contains(&format!("CONTAINER_NAME={b}")));
    let config_env: Vec<String> =
        serde_json::from_value(main.inspect(&b)["Config"]["Env"].take()).expect("Config.Env");
    let image_env: Vec<String> =
        serde_json::from_value(main.inspect(image)["Config"]["Env"].take()).unwrap_or_default();
    let ours: Vec<String> = config_env
        .iter()
        .filter(|v| !image_env.contains(v))
        .cloned()
        .collect();
    assert_eq!(ours, expected);
    let inside = main.run(["exec", &b, "env"]);
    for var in &expected {
        assert!(inside.lines().any(|l| l == var), "{var} not in:\n{inside}");
    }
    // maestro's labels.
    let labels = &main.inspect(&b)["Config"]["Labels"];
    assert_eq!(labels["maestro.service"], "second");
    assert_eq!(labels["maestro.environment"], scope.prefix());

    // The published port answers on ship2's address.
    let body = poll(Duration::from_secs(10), || {
        http_body(tb.ship2_addr(), web_port, "/")
    });
    assert_eq!(
        body.as_deref().map(str::trim),
        Some(format!("served by {a}").as_str())
    );

    // Starting again leaves running containers alone.
    let out = maestro(&scope, &file, &["start"]);
    assert_status(&out, 0);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("up for"),
        "{}",
        text(&out)
    );
    assert_eq!(state_time(&ship2, &a, "StartedAt"), ta);

    // Stop: dependents first.
    let out = maestro(&scope, &file, &["stop", "-a"]);
    assert_status(&out, 0);
    for (d, n) in [(&ship2, &a), (&main, &b), (&ship2, &c)] {
        assert!(!running(d, n), "{n} still running");
    }
    let fa = state_time(&ship2, &a, "FinishedAt");
    let fb = state_time(&main, &b, "FinishedAt");
    let fc = state_time(&ship2, &c, "FinishedAt");
    assert!(fc < fb && fb < fa, "stop order {fc:?} {fb:?} {fa:?}");

    // Clean removes the stopped containers; a running one is left alone.
    main.run(["start", &b]);
    let out = maestro(&scope, &file, &["clean"]);
    assert_status(&out, 0);
    assert!(!exists(&ship2, &a) && !exists(&ship2, &c), "{}", text(&out));
    assert!(
        running(&main, &b),
        "clean must not touch a running container"
    );
    eprintln!("chain started in {started:?}");
}

/// Docker's port proxy accepts TCP connections on a published port even when nothing
/// listens in the container (so a `tcp` check passes, in MaestroNG too); an `http`
/// check sees the truth.
#[test]
fn failing_running_check_keeps_dependents_down() {
    let tb = Testbed::load();
    let scope = Scope::new("failcheck");
    let (a, b, other) = (scope.name("a"), scope.name("b"), scope.name("other"));
    let dead_port = port();
    let image = tb.test_image();
    let file = project(
        &scope,
        tb,
        &format!(
            r#"services:
  base:
    image: {image}
    ports: {{probe: "7000:{dead_port}"}}
    instances:
      {a}:
        ship: main
        stop_timeout: 1
        command: "sh -c 'echo hello from base; exec sleep 300'"
        lifecycle:
          running: [{{type: http, port: probe, max_wait: 1}}]
  top:
    image: {image}
    requires: [base]
    instances:
      {b}: {{ship: ship2, command: sleep 300}}
  alone:
    image: {image}
    instances:
      {other}: {{ship: ship2, stop_timeout: 1, command: sleep 300}}
"#
        ),
    );
    let t0 = Instant::now();
    let out = maestro(&scope, &file, &["start"]);
    let took = t0.elapsed();
    assert_status(&out, 1);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        stdout.contains("start: 1 done, 1 failed, 1 skipped"),
        "{}",
        text(&out)
    );
    let failed_line = stdout
        .lines()
        .find(|l| l.contains("FAILED") && l.contains(&a))
        .unwrap_or_else(|| panic!("no FAILED line for {a}: {}", text(&out)));
    assert!(
        failed_line.contains("running checks failed: http port probe /")
            && failed_line.contains(&format!("127.0.0.1:{dead_port}")),
        "{failed_line}"
    );
    assert!(stdout.contains("| hello from base"), "{}", text(&out));
    assert!(
        stdout
            .lines()
            .any(|l| l.contains("skipped") && l.contains(&b) && l.contains(&format!("{a} failed"))),
        "{}",
        text(&out)
    );
    // The dependent was never created; the independent one started.
    assert!(!exists(&tb.ship2(), &b));
    assert!(running(&tb.ship2(), &other));
    // The check gave up after its max_wait, not MaestroNG's default of 180 s.
    assert!(took < Duration::from_secs(15), "{took:?}");
}

#[test]
fn kill_then_restart_and_only_if_changed() {
    let tb = Testbed::load();
    let scope = Scope::new("killrestart");
    let a = scope.name("a");
    let image = tb.test_image();
    let file = project(
        &scope,
        tb,
        &format!(
            "services:\n  s:\n    image: {image}\n    instances:\n      {a}: {{ship: ship2, stop_timeout: 1, command: sleep 300}}\n"
        ),
    );
    let ship2 = tb.ship2();
    assert_status(&maestro(&scope, &file, &["start"]), 0);
    assert!(running(&ship2, &a));

    // stop/kill/restart need -s for a service name, as in MaestroNG.
    let out = maestro(&scope, &file, &["kill", "s"]);
    assert_status(&out, 2);
    let out = maestro(&scope, &file, &["kill", "-s", "s"]);
    assert_status(&out, 0);
    let state = &ship2.inspect(&a)["State"];
    assert_eq!(state["Running"], false);
    assert_eq!(state["ExitCode"], 137, "killed by SIGKILL");

    let first_id = ship2.inspect(&a)["Id"].as_str().unwrap().to_owned();
    let out = maestro(&scope, &file, &["restart", "-a"]);
    assert_status(&out, 0);
    assert!(running(&ship2, &a), "{}", text(&out));
    let second = ship2.inspect(&a);
    assert_ne!(second["Id"].as_str().unwrap(), first_id, "re-created");
    let started = state_time(&ship2, &a, "StartedAt");

    let out = maestro(&scope, &file, &["restart", "-a", "--only-if-changed"]);
    assert_status(&out, 0);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("up to date"),
        "{}",
        text(&out)
    );
    assert_eq!(state_time(&ship2, &a, "StartedAt"), started);

    // --reuse starts the stopped container as it was.
    assert_status(&maestro(&scope, &file, &["stop", "-a"]), 0);
    let out = maestro(&scope, &file, &["start", "--reuse"]);
    assert_status(&out, 0);
    assert_eq!(
        ship2.inspect(&a)["Id"].as_str().unwrap(),
        second["Id"].as_str().unwrap()
    );
}

#[test]
fn pull_with_registry_credentials_and_without() {
    let tb = Testbed::load();
    let scope = Scope::new("pull");
    let main = tb.main();
    let password = tb.registry_password();
    // A tag of our own in the registry, absent from the main daemon.
    let image = support::push_to_registry(tb, &scope, scope.prefix());
    let cfg = support::logged_in_config(tb, &scope, "dockercfg");
    let _untag = Untag(main.clone(), image.clone());

    let a = scope.name("a");
    let services = format!(
        "services:\n  s:\n    image: {image}\n    instances:\n      {a}: {{ship: main, command: sleep 300}}\n"
    );
    let registries = |user: &str, pass: &str| {
        format!(
            "registries:\n  \"{reg}\":\n    registry: http://{reg}\n    username: {user}\n    password: \"{pass}\"\n    email: test@example.invalid\n",
            reg = tb.registry()
        )
    };

    // Without credentials: a clean failure.
    let file = project(&scope, tb, &services);
    let out = maestro(&scope, &file, &["pull"]);
    assert_status(&out, 1);
    assert!(text(&out).contains("FAILED"), "{}", text(&out));
    assert!(!exists(&main, &image));

    // Wrong password: refused, and the password is never shown.
    let wrong = "Wr0ng-Pa55word-for-test";
    let file = project(
        &scope,
        tb,
        &format!("{}{services}", registries(tb.registry_user(), wrong)),
    );
    let out = maestro(&scope, &file, &["pull"]);
    assert_status(&out, 1);
    assert!(!text(&out).contains(wrong), "{}", text(&out));

    // The right credentials: pulled, and still no password in the output.
    let file = project(
        &scope,
        tb,
        &format!("{}{services}", registries(tb.registry_user(), &password)),
    );
    let out = maestro(&scope, &file, &["pull"]);
    assert_status(&out, 0);
    assert!(!text(&out).contains(&password), "password shown");
    assert!(exists(&main, &image), "{}", text(&out));

    // Credentials from the Docker client configuration when the entry has no username.
    main.run(["rmi", &image]);
    let file = project(
        &scope,
        tb,
        &format!(
            "registries:\n  \"{reg}\":\n    registry: http://{reg}\n{services}",
            reg = tb.registry()
        ),
    );
    let out = maestro_e2e::maestro_cli(&file, &["start"])
        .env("DOCKER_CONFIG", &cfg)
        .output()
        .expect("maestro");
    assert_status(&out, 0);
    assert!(running(&main, &a));
    assert!(!text(&out).contains(&password), "password shown");
}

/// The images of a `start` are pulled at its beginning, all at once: a container of
/// the second dependency layer (on ship2) does not wait for the first layer (on main)
/// to be up before pulling its image. Both images exist only in the registry, under
/// tags of this test; the plain progress lines show both pulls begun before either
/// ended.
#[test]
fn start_pulls_cold_images_of_every_layer_at_once_across_ships() {
    let tb = Testbed::load();
    let scope = Scope::new("coldpull");
    let (main, ship2) = (tb.main(), tb.ship2());
    let tag_a = format!("{}-a", scope.prefix());
    let tag_b = format!("{}-b", scope.prefix());
    let pushed_a = support::push_to_registry(tb, &scope, &tag_a);
    support::push_to_registry(tb, &scope, &tag_b);
    let image_b = format!("{}/maestro-test/busybox:{tag_b}", tb.registry_from_ship2());
    let _untag_a = Untag(main.clone(), pushed_a.clone());
    let _untag_b = Untag(ship2.clone(), image_b.clone());
    assert!(!exists(&main, &pushed_a) && !exists(&ship2, &image_b));

    let (a, b) = (scope.name("a"), scope.name("b"));
    let registry = |address: &str| {
        format!(
            "  \"{address}\":\n    registry: http://{address}\n    username: {}\n    password: \"{}\"\n",
            tb.registry_user(),
            tb.registry_password()
        )
    };
    let file = project(
        &scope,
        tb,
        &format!(
            "registries:\n{}{}services:
  first:
    image: {pushed_a}
    instances:
      {a}: {{ship: main, stop_timeout: 1, command: sleep 300}}
  second:
    image: {image_b}
    requires: [first]
    instances:
      {b}: {{ship: ship2, stop_timeout: 1, command: sleep 300}}
",
            registry(tb.registry()),
            registry(tb.registry_from_ship2())
        ),
    );
    let out = maestro(&scope, &file, &["start"]);
    assert_status(&out, 0);
    assert!(running(&main, &a) && running(&ship2, &b), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let lines: Vec<&str> = stdout.lines().collect();
    let first = |container: &str, what: &str| {
        lines
            .iter()
            .position(|l| l.contains(&format!("] {container} (")) && l.ends_with(what))
            .unwrap_or_else(|| panic!("no {what:?} line for {container}:\n{}", text(&out)))
    };
    let pulling = |container: &str| {
        lines
            .iter()
            .position(|l| l.contains(&format!("] {container} (")) && l.contains(": pulling"))
            .unwrap_or_else(|| panic!("no pulling line for {container}:\n{}", text(&out)))
    };
    // A pull ends before its container's next line (creating for the first, back to
    // waiting for the second, whose dependency is not up yet).
    let (a_pulls, b_pulls) = (pulling(&a), pulling(&b));
    let a_pulled = first(&a, ": creating");
    let b_pulled = lines
        .iter()
        .enumerate()
        .skip(b_pulls)
        .find(|(_, l)| l.contains(&format!("] {b} (")) && !l.contains(": pulling"))
        .map(|(i, _)| i)
        .expect("a line for the second container after its pull");
    assert!(
        a_pulls < b_pulled && b_pulls < a_pulled,
        "both pulls should begin before either ends:\n{}",
        text(&out)
    );
    // ... and the second container is created only once the first is up.
    assert!(
        first(&a, ": started") < first(&b, ": creating"),
        "{}",
        text(&out)
    );
}

/// Removes a local image tag when dropped.
struct Untag(Docker, String);

impl Drop for Untag {
    fn drop(&mut self) {
        let _ = self.0.try_run(["rmi", "-f", &self.1]);
    }
}

#[test]
fn ctrl_c_lets_running_steps_finish_and_skips_the_rest() {
    let tb = Testbed::load();
    let scope = Scope::new("sigint");
    let (a, b) = (scope.name("a"), scope.name("b"));
    let image = tb.test_image();
    let file = project(
        &scope,
        tb,
        &format!(
            r#"services:
  slow:
    image: {image}
    instances:
      {a}:
        ship: main
        command: sleep 300
        lifecycle:
          running: [{{type: sleep, wait: 4}}]
  next:
    image: {image}
    requires: [slow]
    instances:
      {b}: {{ship: main, command: sleep 300}}
"#
        ),
    );
    let home = scope.scratch_dir("home");
    let child = maestro_e2e::maestro_cli(&file, &["start"])
        .env("HOME", &home)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("maestro");
    // Once the slow container runs, its 4 s check is under way: interrupt.
    let main = tb.main();
    let seen = poll(Duration::from_secs(20), || {
        (exists(&main, &a) && running(&main, &a)).then_some(())
    });
    assert!(seen.is_some(), "the first container never ran");
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(kill.success());
    let out = child.wait_with_output().expect("maestro output");
    assert_status(&out, 130);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        stdout
            .lines()
            .any(|l| l.contains("done") && l.contains(&a) && l.contains("started")),
        "the running step must finish: {}",
        text(&out)
    );
    assert!(
        stdout
            .lines()
            .any(|l| l.contains("skipped") && l.contains(&b) && l.contains("interrupted")),
        "{}",
        text(&out)
    );
    assert!(!exists(&main, &b));
}

/// Seconds (with fraction) of a `State.<field>` timestamp, for differences within a test.
fn state_secs(docker: &Docker, name: &str, field: &str) -> f64 {
    let (secs, nanos) = state_time(docker, name, field);
    // "YYYY-MM-DDTHH:MM:SS": day of month and time of day are enough within a test.
    let num = |r: std::ops::Range<usize>| -> f64 { secs[r].parse().expect("a timestamp field") };
    num(8..10) * 86_400.0
        + num(11..13) * 3_600.0
        + num(14..16) * 60.0
        + num(17..19)
        + nanos as f64 / 1e9
}

#[test]
fn concurrency_limit_step_delay_and_rexec_checks() {
    let tb = Testbed::load();
    let scope = Scope::new("limits");
    let (x, y) = (scope.name("x"), scope.name("y"));
    let image = tb.test_image();
    let file = project(
        &scope,
        tb,
        &format!(
            r#"services:
  s:
    image: {image}
    lifecycle:
      running:
        - {{type: rexec, command: "sh -c 'sleep 1 && test -x /bin/maestro-guest'", attempts: 2}}
    instances:
      {x}: {{ship: main, stop_timeout: 1, command: sleep 300}}
      {y}: {{ship: main, stop_timeout: 1, command: sleep 300}}
"#
        ),
    );
    let main = tb.main();
    // -c 1: the second container starts once the first one's check (1 s) passed.
    let out = maestro(&scope, &file, &["start", "-c", "1"]);
    assert_status(&out, 0);
    let gap = (state_secs(&main, &y, "StartedAt") - state_secs(&main, &x, "StartedAt")).abs();
    assert!(
        gap >= 0.9,
        "with -c 1 the starts are {gap}s apart: {}",
        text(&out)
    );

    // --step-delay 2: the second restart waits 2 s more than the first.
    let out = maestro(&scope, &file, &["restart", "-a", "--step-delay", "2"]);
    assert_status(&out, 0);
    // Measured on the progress lines (`[  2.0s] NAME (...): stopping`): creating a
    // container takes a varying time on a loaded machine, the delay is before the stop.
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stopping_at = |name: &str| -> f64 {
        let line = stdout
            .lines()
            .find(|l| l.contains(&format!("{name} (")) && l.ends_with("stopping"))
            .unwrap_or_else(|| panic!("no stopping line for {name}: {}", text(&out)));
        let inner = line.trim_start_matches('[').split('s').next().unwrap_or("");
        inner.trim().parse().expect("elapsed seconds")
    };
    let gap = stopping_at(&y) - stopping_at(&x);
    assert!(
        gap >= 1.9,
        "with --step-delay 2 the restarts are {gap}s apart: {}",
        text(&out)
    );

    // A rexec check that never passes fails with its reason.
    let failing = project(
        &scope,
        tb,
        &format!(
            r#"services:
  s:
    image: {image}
    lifecycle:
      running: [{{type: rexec, command: "sh -c 'echo not ready; exit 4'", attempts: 1}}]
    instances:
      {x}: {{ship: main, stop_timeout: 1, command: sleep 300}}
"#
        ),
    );
    assert_status(&maestro(&scope, &failing, &["stop", "-a"]), 0);
    let out = maestro(&scope, &failing, &["start", x.as_str()]);
    assert_status(&out, 1);
    assert!(
        text(&out).contains("exit status 4: not ready"),
        "{}",
        text(&out)
    );
}
