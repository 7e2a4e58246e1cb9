//! Scenarios of whole plays against the real testbed, through the `maestro`
//! CLI: an environment of three services with `requires` and `wants_info`
//! across the main daemon (unix socket) and ship2 (plain TCP), with tcp,
//! http and exec lifecycle checks.
//!
//! ```text
//! db (ship2, httpd on a tcp port; tcp check)
//!  ^ requires
//! api (main, httpd; http check)            worker wants_info db
//!  ^ requires
//! worker (ship2; exec check on the host)
//! ```

mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use maestro_e2e::{Docker, Scope, Testbed, free_port, poll};
use support::http::http_response;
use support::{Project, assert_status, ships_yaml, stderr, stdout};

/// The three-service environment of one test.
struct Env {
    project: Project,
    db: String,
    api: String,
    worker: String,
    db_port: u16,
    api_port: u16,
}

impl Env {
    /// Writes the project. `api_healthy: false` gives api a command that
    /// never serves, so its http check fails (after 3 s).
    fn new(tb: &Testbed, scope: &Scope, api_healthy: bool) -> Env {
        let (db, api, worker) = (
            scope.name("db-1"),
            scope.name("api-1"),
            scope.name("worker-1"),
        );
        let (db_port, api_port) = (free_port(), free_port());
        let api_command = if api_healthy {
            "sh -c 'mkdir -p /www && echo api ready > /www/index.html && echo api up && exec httpd -f -p 8080 -h /www'"
        } else {
            "sh -c 'echo api broken; exec sleep 600'"
        };
        let yaml = format!(
            "name: orchestrate\n{ships}\
services:
  db:
    image: {img}
    ports: {{client: '5432:{db_port}'}}
    lifecycle:
      running: [{{type: tcp, port: client, max_wait: 20}}]
    instances:
      {db}:
        ship: ship2
        command: httpd -f -p 5432
        stop_timeout: 1
  api:
    image: {img}
    requires: [db]
    ports: {{http: '8080:{api_port}'}}
    lifecycle:
      running: [{{type: http, port: http, match_regex: 'api ready', max_wait: {wait}}}]
    instances:
      {api}:
        ship: main
        command: \"{api_command}\"
        stop_timeout: 1
  worker:
    image: {img}
    requires: [api]
    wants_info: [db]
    lifecycle:
      running: [{{type: exec, command: 'test -d /', attempts: 5}}]
    instances:
      {worker}:
        ship: ship2
        command: \"sh -c 'echo worker up; exec sleep 600'\"
        stop_timeout: 1
",
            ships = ships_yaml(tb),
            img = tb.test_image(),
            api_command = api_command.replace('"', "\\\""),
            wait = if api_healthy { 20 } else { 3 },
        );
        Env {
            project: Project::new(scope, &yaml),
            db,
            api,
            worker,
            db_port,
            api_port,
        }
    }

    /// (container, its daemon) in dependency order.
    fn containers(&self, tb: &Testbed) -> [(String, Docker); 3] {
        [
            (self.db.clone(), tb.ship2()),
            (self.api.clone(), tb.main()),
            (self.worker.clone(), tb.ship2()),
        ]
    }

    fn run(&self, args: &[&str]) -> std::process::Output {
        self.project.run(args)
    }
}

/// A Docker timestamp as (seconds, nanoseconds), for ordering.
fn instant(docker_time: &str) -> (String, u32) {
    let (secs, frac) = docker_time
        .trim_end_matches('Z')
        .split_once('.')
        .unwrap_or((docker_time.trim_end_matches('Z'), "0"));
    let nanos = format!("{frac:0<9}")[..9].parse().expect("nanoseconds");
    (secs.to_owned(), nanos)
}

fn state_time(docker: &Docker, name: &str, field: &str) -> (String, u32) {
    let v = docker.inspect(name);
    instant(v["State"][field].as_str().expect("a time"))
}

fn running(docker: &Docker, name: &str) -> bool {
    docker
        .try_run(["inspect", "--format", "{{.State.Running}}", name])
        .is_ok_and(|s| s == "true")
}

fn exists(docker: &Docker, name: &str) -> bool {
    docker
        .try_run(["inspect", "--format", "{{.Id}}", name])
        .is_ok()
}

/// `KEY=VALUE` lines as a map.
fn env_map(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

#[test]
fn start_env_ports_status_stop_clean() {
    let tb = Testbed::load();
    let scope = Scope::new("orch-start");
    let env = Env::new(tb, &scope, true);

    let out = env.run(&["start"]);
    assert_status(&out, 0);
    let summary = stdout(&out);
    assert!(summary.contains("start: 3 done in "), "{summary}");

    // Start order: each after what it requires.
    let started: Vec<_> = env
        .containers(tb)
        .iter()
        .map(|(n, d)| state_time(d, n, "StartedAt"))
        .collect();
    assert!(
        started[0] < started[1] && started[1] < started[2],
        "{started:?}"
    );

    // Inside each container, the environment `maestro env` shows.
    for (name, docker) in env.containers(tb) {
        let out = env.run(&["env", &name]);
        assert_status(&out, 0);
        let want = env_map(&stdout(&out));
        assert!(want.contains_key("MAESTRO_ENVIRONMENT_NAME"), "{want:?}");
        let got = env_map(&docker.run(["exec", &name, "env"]));
        for (k, v) in &want {
            assert_eq!(got.get(k), Some(v), "{name}: {k}");
        }
        let extra: Vec<&String> = got
            .keys()
            .filter(|k| {
                !want.contains_key(*k) && !["PATH", "HOSTNAME", "HOME"].contains(&k.as_str())
            })
            .collect();
        assert!(extra.is_empty(), "{name}: unexpected variables {extra:?}");
        // The guest reads the same topology.
        let info: serde_json::Value =
            serde_json::from_str(&docker.run(["exec", &name, "maestro-guest", "info"]))
                .expect("guest info is JSON");
        assert_eq!(info["container_name"], name.as_str(), "{info}");
    }
    // The worker knows where db is (wants_info) and where api is (requires).
    let worker_env = env_map(&stdout(&env.run(&["env", &env.worker])));
    assert!(
        worker_env.values().any(|v| v == &env.db_port.to_string()),
        "{worker_env:?}"
    );
    assert!(
        worker_env.values().any(|v| v == &env.api_port.to_string()),
        "{worker_env:?}"
    );

    // Published ports answer.
    let page = http_response("127.0.0.1", env.api_port, "/").expect("api answers");
    assert!(page.contains("api ready"), "{page}");
    assert!(
        http_response(tb.ship2_addr(), env.db_port, "/").is_some(),
        "db answers on ship2"
    );

    // Status: all running.
    let out = env.run(&["status"]);
    assert_status(&out, 0);
    assert_eq!(
        stdout(&out).matches("running for").count(),
        3,
        "{}",
        stdout(&out)
    );

    // Starting again leaves them as they are.
    let out = env.run(&["start"]);
    assert_status(&out, 0);
    let again: Vec<_> = env
        .containers(tb)
        .iter()
        .map(|(n, d)| state_time(d, n, "StartedAt"))
        .collect();
    assert_eq!(again, started);

    // Stop: dependents first. The summary as JSON on stdout, the progress
    // on stderr.
    let out = env.run(&["stop", "-a", "--format", "json"]);
    assert_status(&out, 0);
    let summary: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON summary");
    assert_eq!(summary["ok"], true, "{summary}");
    assert_eq!(summary["action"], "stop");
    let stopped: Vec<&str> = summary["containers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["container"].as_str().unwrap())
        .collect();
    assert_eq!(stopped, [&env.worker, &env.api, &env.db], "{summary}");
    assert!(
        summary["containers"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["result"] == "done")
    );
    assert!(
        stderr(&out).contains(&format!("{} (db on ship2): ", env.db)),
        "{}",
        stderr(&out)
    );
    let finished: Vec<_> = env
        .containers(tb)
        .iter()
        .map(|(n, d)| state_time(d, n, "FinishedAt"))
        .collect();
    assert!(
        finished[2] < finished[1] && finished[1] < finished[0],
        "{finished:?}"
    );
    let out = env.run(&["status"]);
    assert_status(&out, 1);
    assert_eq!(stdout(&out).matches(" down").count(), 3, "{}", stdout(&out));

    // Clean removes the stopped containers.
    let out = env.run(&["clean"]);
    assert_status(&out, 0);
    for (name, docker) in env.containers(tb) {
        assert!(!exists(&docker, &name), "{name} still exists");
    }
    let out = env.run(&["status"]);
    assert_status(&out, 1);
    assert_eq!(
        stdout(&out).matches("absent").count(),
        3,
        "{}",
        stdout(&out)
    );
}

#[test]
fn failing_check_keeps_dependents_down() {
    let tb = Testbed::load();
    let scope = Scope::new("orch-fail");
    let env = Env::new(tb, &scope, false);

    let out = env.run(&["start"]);
    assert_status(&out, 1);
    let text = stdout(&out);
    assert!(text.contains("1 done, 1 failed, 1 skipped"), "{text}");
    assert!(
        text.lines()
            .any(|l| l.contains("FAILED") && l.contains(&env.api)),
        "{text}"
    );
    assert!(
        text.contains("| api broken"),
        "the failed container's logs: {text}"
    );
    assert!(
        text.lines()
            .any(|l| l.contains("skipped") && l.contains(&env.worker)),
        "{text}"
    );
    assert!(running(&tb.ship2(), &env.db));
    assert!(
        !exists(&tb.ship2(), &env.worker),
        "the dependent was not created"
    );

    let out = env.run(&["status", &env.worker]);
    assert_status(&out, 1);
    assert!(stdout(&out).contains("absent"), "{}", stdout(&out));
    let _ = stderr(&out);
}

#[test]
fn restart_kill_and_follow_logs_across_a_restart() {
    let tb = Testbed::load();
    let scope = Scope::new("orch-restart");
    let env = Env::new(tb, &scope, true);
    assert_status(&env.run(&["start"]), 0);
    let before: Vec<_> = env
        .containers(tb)
        .iter()
        .map(|(n, d)| state_time(d, n, "StartedAt"))
        .collect();

    let mut logs = env.project.spawn(&["logs", "-F", &env.api]);
    let long = Duration::from_secs(30);
    logs.wait_for("api's first run", long, |l| {
        l.iter().filter(|x| *x == "api up").count() == 1
    });

    // Restart everything: MaestroNG's restart play goes dependents first,
    // each container stopped and started again in turn.
    let out = env.run(&["restart", "-a"]);
    assert_status(&out, 0);
    let after: Vec<_> = env
        .containers(tb)
        .iter()
        .map(|(n, d)| state_time(d, n, "StartedAt"))
        .collect();
    for (b, a) in before.iter().zip(&after) {
        assert!(a > b, "not restarted: {before:?} -> {after:?}");
    }
    assert!(after[2] < after[1] && after[1] < after[0], "{after:?}");
    assert_status(&env.run(&["status"]), 0);

    // `logs -F` followed api into its new run.
    logs.wait_for("api's second run", long, |l| {
        l.iter().filter(|x| *x == "api up").count() == 2
    });
    assert_eq!(logs.interrupt(Duration::from_secs(10)), 0);

    // Kill: all down, status says so.
    let out = env.run(&["kill", "-a"]);
    assert_status(&out, 0);
    for (name, docker) in env.containers(tb) {
        assert!(
            poll(Duration::from_secs(10), || (!running(&docker, &name))
                .then_some(()))
            .is_some(),
            "{name} still runs"
        );
    }
    let out = env.run(&["status"]);
    assert_status(&out, 1);
    assert_eq!(stdout(&out).matches(" down").count(), 3, "{}", stdout(&out));
}

/// Removes a local image tag from the main daemon when dropped.
struct LocalTag(String);

impl Drop for LocalTag {
    fn drop(&mut self) {
        let _ = Testbed::load().main().try_run(["rmi", &self.0]);
    }
}

#[test]
fn pull_from_the_registry_with_and_without_credentials() {
    let tb = Testbed::load();
    let scope = Scope::new("orch-pull");
    let password = tb.registry_password();
    // A tag of our own in the registry, so no other test's image is touched.
    let image = format!(
        "{}/maestro-test/busybox:{}",
        tb.registry(),
        scope.name("pull")
    );
    let _tag = LocalTag(image.clone());
    let pusher = tb.main().config_dir(&scope.scratch_dir("push-config"));
    pusher.run([
        "login",
        "-u",
        tb.registry_user(),
        "-p",
        &password,
        tb.registry(),
    ]);
    pusher.run(["tag", tb.test_image(), &image]);
    pusher.run(["push", &image]);
    tb.main().run(["rmi", &image]);

    let no_credentials = scope.scratch_dir("empty-config");
    let container = scope.name("p-1");
    let project_with = |registries: &str, name: &str| {
        let yaml = format!(
            "name: pull\n{}{registries}services:\n  p:\n    image: {image}\n    instances:\n      {container}: {{ship: main}}\n",
            ships_yaml(tb)
        );
        let dir = scope.scratch_dir(name);
        std::fs::write(dir.join("maestro.yaml"), yaml).unwrap();
        Project { dir }
    };
    let pull = |project: &Project| {
        project
            .command(&["pull"])
            .env("DOCKER_CONFIG", &no_credentials)
            .output()
            .expect("running maestro pull")
    };
    let present = || tb.main().try_run(["image", "inspect", &image]).is_ok();
    let registry = |pw: &str| {
        format!(
            "registries:\n  testbed:\n    registry: http://{}\n    username: {}\n    password: {pw}\n    email: maestro@example.invalid\n",
            tb.registry(),
            tb.registry_user()
        )
    };

    // No credentials at all: refused, said so, nothing pulled.
    let out = pull(&project_with("", "none"));
    assert_status(&out, 1);
    assert!(!present());
    assert!(stdout(&out).contains("FAILED"), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("no basic auth credentials"),
        "{}",
        stdout(&out)
    );

    // Wrong password: refused, and the password is shown nowhere.
    let wrong = "not-the-password-42";
    let out = pull(&project_with(&registry(wrong), "wrong"));
    assert_status(&out, 1);
    assert!(!present());
    let all = format!("{}{}", stdout(&out), stderr(&out));
    assert!(!all.contains(wrong), "the password leaked: {all}");
    assert!(
        all.contains("unauthorized") || all.contains("auth"),
        "{all}"
    );

    // The right credentials: pulled.
    let out = pull(&project_with(&registry(&password), "right"));
    assert_status(&out, 0);
    assert!(present(), "{}", stdout(&out));
    let all = format!("{}{}", stdout(&out), stderr(&out));
    assert!(!all.contains(&password), "the password leaked: {all}");
}
