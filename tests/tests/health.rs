//! Engine health checks end to end on the main daemon (issue 16, point 3):
//! `healthcheck:` reaches the engine, and a `{type: health}` lifecycle check
//! holds a start until the engine reports the container healthy (what requires
//! it starts after that), fails at once on `unhealthy` with the probe's last
//! output in the summary, uses the image's own `HEALTHCHECK` when the
//! description gives none, and says so when there is no health check at all.
//! `disable` turns the image's check off.

mod support;

use std::process::Stdio;
use std::time::{Duration, Instant};

use maestro_e2e::{Docker, Scope, Testbed};
use support::{Project, assert_status, outcome, ships_yaml, stdout, text};

/// A container that becomes ready (`/tmp/ready`) after `secs` seconds.
fn ready_after(secs: u32) -> String {
    format!("command: [sh, -c, 'sleep {secs}; touch /tmp/ready; exec sleep 300']")
}

/// A description: `services` (already indented) after the ships.
fn project(tb: &Testbed, scope: &Scope, services: &str) -> Project {
    Project::new(
        scope,
        &format!(
            "name: {}\n{}services:\n{services}",
            scope.prefix(),
            ships_yaml(tb)
        ),
    )
}

/// `web` with the health gate, and `app` requiring it.
fn gated(tb: &Testbed, web: &str, web_keys: &str, app: &str, image: &str) -> String {
    format!(
        "  web:\n    image: {image}\n    lifecycle:\n      running: [{{type: health, max_wait: 60}}]\n    instances:\n      {web}: {{ship: main, stop_timeout: 1, {web_keys}}}\n  app:\n    image: {test}\n    requires: [web]\n    instances:\n      {app}: {{ship: main, stop_timeout: 1, command: [sleep, '300']}}\n",
        test = tb.test_image(),
    )
}

#[test]
fn a_health_gate_waits_for_healthy_before_what_requires_it() {
    let tb = Testbed::load();
    let scope = Scope::new("health-ok");
    let (web, app) = (scope.name("web"), scope.name("app"));
    let keys = format!(
        "{}, healthcheck: {{test: [CMD-SHELL, 'test -f /tmp/ready'], interval: 1s, retries: 30}}",
        ready_after(2)
    );
    let project = project(tb, &scope, &gated(tb, &web, &keys, &app, tb.test_image()));

    let began = Instant::now();
    let out = project.run(&["start"]);
    assert_status(&out, 0);
    let main = Docker::new(tb.main_host());
    let c = main.inspect(&web);
    assert_eq!(
        c["Config"]["Healthcheck"],
        serde_json::json!({"Test": ["CMD-SHELL", "test -f /tmp/ready"], "Interval": 1_000_000_000, "Retries": 30})
    );
    // maestro returned once the engine called web healthy, not before.
    assert_eq!(c["State"]["Health"]["Status"], "healthy", "{}", text(&out));
    assert!(
        began.elapsed() >= Duration::from_secs(2),
        "{:?}",
        began.elapsed()
    );
    // app started after web was healthy.
    let app_started = main.inspect(&app)["State"]["StartedAt"]
        .as_str()
        .unwrap()
        .to_owned();
    let web_healthy = c["State"]["Health"]["Log"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ExitCode"] == 0)
        .and_then(|r| r["End"].as_str())
        .unwrap()
        .to_owned();
    let at = |t: &str| maestro::timestamp::parse_rfc3339(t).expect("a Docker timestamp");
    assert!(
        at(&app_started) > at(&web_healthy),
        "app started at {app_started}, web healthy at {web_healthy}"
    );
}

#[test]
fn unhealthy_fails_at_once_with_the_last_probe_output() {
    let tb = Testbed::load();
    let scope = Scope::new("health-bad");
    let (web, app) = (scope.name("web"), scope.name("app"));
    let keys = "command: [sleep, '300'], healthcheck: {test: [CMD-SHELL, 'echo probe says no; echo disk full >&2; exit 1'], interval: 1s, retries: 2}";
    let project = project(tb, &scope, &gated(tb, &web, keys, &app, tb.test_image()));

    let began = Instant::now();
    let out = project.run(&["start"]);
    assert_status(&out, 1);
    // Unhealthy after two failed probes (~2 s), far before max_wait (60 s).
    assert!(
        began.elapsed() < Duration::from_secs(30),
        "took {:?}",
        began.elapsed()
    );
    let all = stdout(&out);
    let (word, reason) = outcome(&all, &web);
    assert_eq!(word, "FAILED", "{}", text(&out));
    assert!(
        reason.starts_with(
            "running checks failed: health: the container is unhealthy; last health check (exit status 1) said:"
        ),
        "{}",
        text(&out)
    );
    // The probe's output, on the lines below the reason.
    assert!(all.contains("probe says no\n"), "{}", text(&out));
    assert!(all.contains("disk full"), "{}", text(&out));
    assert_eq!(outcome(&all, &app).0, "skipped", "{}", text(&out));
}

#[test]
fn no_health_check_at_all_is_a_clear_error() {
    let tb = Testbed::load();
    let scope = Scope::new("health-none");
    let (web, app) = (scope.name("web"), scope.name("app"));
    let project = project(
        tb,
        &scope,
        &gated(tb, &web, "command: [sleep, '300']", &app, tb.test_image()),
    );
    let began = Instant::now();
    let out = project.run(&["start"]);
    assert_status(&out, 1);
    assert!(
        began.elapsed() < Duration::from_secs(30),
        "{:?}",
        began.elapsed()
    );
    let (word, reason) = outcome(&stdout(&out), &web);
    assert_eq!(word, "FAILED", "{}", text(&out));
    assert_eq!(
        reason,
        format!(
            "running checks failed: health: the container has no health check (no healthcheck in the description, no HEALTHCHECK in image {}), so it can never be healthy",
            tb.test_image()
        )
    );
}

/// An image of the scope with a `HEALTHCHECK`, removed when dropped.
struct HealthyImage {
    docker: Docker,
    name: String,
}

impl HealthyImage {
    fn build(tb: &Testbed, scope: &Scope) -> HealthyImage {
        let docker = Docker::new(tb.main_host());
        let name = format!("{}-hc:latest", scope.prefix());
        let dockerfile = format!(
            "FROM {}\nHEALTHCHECK --interval=1s --retries=30 CMD test -f /tmp/ready\n",
            tb.test_image()
        );
        let mut child = docker
            .command()
            .args(["build", "-q", "-t", &name, "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("running docker build");
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(dockerfile.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "docker build: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        HealthyImage { docker, name }
    }
}

impl Drop for HealthyImage {
    fn drop(&mut self) {
        let _ = self.docker.try_run(["rmi", "-f", &self.name]);
    }
}

#[test]
fn the_images_healthcheck_counts_and_disable_turns_it_off() {
    let tb = Testbed::load();
    let scope = Scope::new("health-image");
    let image = HealthyImage::build(tb, &scope);
    let (web, app, off) = (scope.name("web"), scope.name("app"), scope.name("off"));
    let services = format!(
        "{}  quiet:\n    image: {img}\n    instances:\n      {off}: {{ship: main, stop_timeout: 1, command: [sleep, '300'], healthcheck: {{disable: true}}}}\n",
        gated(tb, &web, &ready_after(2), &app, &image.name),
        img = image.name,
    );
    let project = project(tb, &scope, &services);

    let out = project.run(&["start"]);
    assert_status(&out, 0);
    let main = Docker::new(tb.main_host());
    // No healthcheck in the description: the image's, and the gate waited for it.
    let c = main.inspect(&web);
    assert_eq!(
        c["Config"]["Healthcheck"]["Test"],
        serde_json::json!(["CMD-SHELL", "test -f /tmp/ready"])
    );
    assert_eq!(c["State"]["Health"]["Status"], "healthy", "{}", text(&out));
    // disable: the engine runs no probe, not even the image's.
    let c = main.inspect(&off);
    assert_eq!(
        c["Config"]["Healthcheck"]["Test"],
        serde_json::json!(["NONE"])
    );
    assert!(c["State"]["Health"].is_null(), "{}", c["State"]);
}

/// `examples/health-and-options` runs as written (on the testbed's image, in
/// this scope's names): store becomes healthy, then worker starts with its
/// options, and its stop signal stops it at once.
#[test]
fn the_example_runs() {
    let tb = Testbed::load();
    let scope = Scope::new("health-example");
    let yaml = maestro_e2e::repo_root().join("examples/health-and-options/maestro.yaml");
    let port = maestro_e2e::free_port().to_string();
    let maestro = |args: &[&str]| {
        maestro_e2e::maestro_cli(&yaml, args)
            .env("MAESTRO_EXAMPLE_PREFIX", scope.prefix())
            .env("MAESTRO_EXAMPLE_IMAGE", tb.test_image())
            .env("MAESTRO_EXAMPLE_PORT", &port)
            .output()
            .expect("running maestro")
    };
    let out = maestro(&["--strict", "start"]);
    assert_status(&out, 0);
    let main = Docker::new(tb.main_host());
    let (store, worker) = (
        format!("{}-store-1", scope.prefix()),
        format!("{}-worker-1", scope.prefix()),
    );
    let s = main.inspect(&store);
    assert_eq!(s["State"]["Health"]["Status"], "healthy");
    let w = main.inspect(&worker);
    assert_eq!(w["State"]["Running"], true, "{}", text(&out));
    assert_eq!(w["HostConfig"]["ReadonlyRootfs"], true);
    // The daemon records the shared namespace's container by id.
    assert_eq!(
        w["HostConfig"]["PidMode"],
        format!("container:{}", s["Id"].as_str().unwrap())
    );
    let began = Instant::now();
    assert_status(&maestro(&["stop", "-a"]), 0);
    assert!(
        began.elapsed() < Duration::from_secs(10),
        "{:?}",
        began.elapsed()
    );
    assert_eq!(main.inspect(&worker)["State"]["ExitCode"], 0);
}

/// `max_wait` bounds the wait: a check still `starting` then fails, with the
/// last probe's output.
#[test]
fn max_wait_ends_a_wait_that_is_still_starting() {
    let tb = Testbed::load();
    let scope = Scope::new("health-slow");
    let (web, app) = (scope.name("web"), scope.name("app"));
    let services = gated(
        tb,
        &web,
        "command: [sleep, '300'], healthcheck: {test: 'echo not yet; exit 1', interval: 1s, retries: 100}",
        &app,
        tb.test_image(),
    )
    .replace("max_wait: 60", "max_wait: 3");
    let project = project(tb, &scope, &services);
    let began = Instant::now();
    let out = project.run(&["start"]);
    assert_status(&out, 1);
    assert!(
        (Duration::from_secs(3)..Duration::from_secs(20)).contains(&began.elapsed()),
        "{:?}",
        began.elapsed()
    );
    let all = stdout(&out);
    let (word, reason) = outcome(&all, &web);
    assert_eq!(word, "FAILED", "{}", text(&out));
    assert_eq!(
        reason,
        "running checks failed: health: still starting after 3s; last health check (exit status 1) said:",
        "{}",
        text(&out)
    );
    assert!(all.contains("not yet\n"), "{}", text(&out));
}

/// A reused container's earlier run does not count: after a stop (the engine
/// calls it unhealthy and it dies), `start --reuse` waits for the new run's
/// `healthy` again.
#[test]
fn a_reused_container_waits_for_its_new_run() {
    let tb = Testbed::load();
    let scope = Scope::new("health-reuse");
    let (web, app) = (scope.name("web"), scope.name("app"));
    // /tmp is a tmpfs: the ready file of the earlier run is gone.
    let keys = format!(
        "tmpfs: [/tmp], {}, healthcheck: {{test: 'test -f /tmp/ready', interval: 1s, retries: 60}}",
        ready_after(2)
    );
    let project = project(tb, &scope, &gated(tb, &web, &keys, &app, tb.test_image()));
    assert_status(&project.run(&["start"]), 0);
    assert_status(&project.run(&["stop", "-a"]), 0);
    let main = Docker::new(tb.main_host());
    let first_run = main.inspect(&web)["State"]["StartedAt"].clone();
    let began = Instant::now();
    let out = project.run(&["start", "--reuse"]);
    assert_status(&out, 0);
    assert!(
        began.elapsed() >= Duration::from_secs(2),
        "{:?}",
        began.elapsed()
    );
    let c = main.inspect(&web);
    assert_ne!(c["State"]["StartedAt"], first_run, "reused, started again");
    assert_eq!(c["State"]["Health"]["Status"], "healthy", "{}", text(&out));
}
