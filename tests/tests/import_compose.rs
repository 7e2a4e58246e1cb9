//! `maestro import-compose` end to end: the compose file of
//! `tests/compose/testbed/` (the testbed's busybox image only) is imported
//! with two ships (the main daemon by its socket, ship2 by TCP), the result
//! is started with `maestro start`, and the services answer on their
//! published ports: db, api (one replica per ship) and web, which shows
//! its env file's and its interpolated environment's values.

mod support;

use std::process::Command;
use std::time::Duration;

use maestro_e2e::{Docker, Scope, Testbed, free_port, poll};
use support::http::{fetch_inside, http_response};
use support::{assert_status, stderr, stdout, text};

/// The response to `GET /` at `addr:port` if it is a 200.
fn http_get(addr: &str, port: u16) -> Option<String> {
    http_response(addr, port, "/").filter(|r| r.contains("200 OK"))
}

/// Waits up to 20 s for a page at `addr:port` that contains `want`.
#[track_caller]
fn page(addr: &str, port: u16, want: &str) -> String {
    poll(Duration::from_secs(20), || {
        http_get(addr, port).filter(|b| b.contains(want))
    })
    .unwrap_or_else(|| {
        panic!(
            "{addr}:{port} did not answer with {want:?} (last: {:?})",
            http_get(addr, port)
        )
    })
}

/// What compose would read: the test image and the ports.
struct Vars {
    image: String,
    db: u16,
    api: u16,
    web: u16,
}

impl Vars {
    fn apply(&self, cmd: &mut Command) {
        cmd.env("TEST_IMAGE", &self.image)
            .env("DB_PORT", self.db.to_string())
            .env("API_PORT", self.api.to_string())
            .env("WEB_PORT", self.web.to_string())
            .env_remove("SHOUT");
    }
}

#[test]
fn imported_compose_file_starts_and_answers() {
    let tb = Testbed::load();
    let scope = Scope::new("compose");
    let dir = scope.scratch_dir("project");
    let fixtures = maestro_e2e::repo_root().join("tests/compose/testbed");
    for f in ["compose.yaml", "web.env"] {
        std::fs::copy(fixtures.join(f), dir.join(f)).expect("copying the fixture");
    }
    let project = scope.name("app");
    let vars = Vars {
        image: tb.test_image().to_owned(),
        db: free_port(),
        api: free_port(),
        web: free_port(),
    };
    let maestro_yaml = dir.join("maestro.yaml");

    // Import, with the ships of the testbed.
    let mut cmd = maestro_e2e::maestro_cli(
        &maestro_yaml,
        &[
            "import-compose",
            dir.join("compose.yaml").to_str().unwrap(),
            "-p",
            &project,
            "--ship",
            &format!("main={}", tb.main_host()),
            "--ship",
            &format!("ship2={}:{}", tb.ship2_addr(), tb.ship2_port()),
        ],
    );
    vars.apply(&mut cmd);
    let out = cmd.output().expect("running maestro import-compose");
    assert_status(&out, 0);
    assert!(
        stdout(&out).starts_with(&format!(
            "wrote {}: project {project}, 3 service(s), 4 instance(s)",
            maestro_yaml.display()
        )),
        "{}",
        text(&out)
    );
    // What maestro cannot express, on stderr: the ports were resolved now,
    // the required variable is not enforced.
    let warnings = stderr(&out);
    for want in [
        "services.db.ports[0]: \"${DB_PORT}:5432\" was resolved at import time (DB_PORT)",
        "services.db.image: ${TEST_IMAGE:?...} (a required variable)",
        "networks.default: its services (db, api, web) have containers on ships main, ship2",
    ] {
        assert!(warnings.contains(want), "no warning {want:?}:\n{warnings}");
    }
    let written = std::fs::read_to_string(&maestro_yaml).expect("the description is written");
    assert!(
        !written.contains(&vars.image),
        "the image stays a variable:\n{written}"
    );

    // A second import does not overwrite it.
    let mut again = maestro_e2e::maestro_cli(
        &maestro_yaml,
        &["import-compose", dir.join("compose.yaml").to_str().unwrap()],
    );
    vars.apply(&mut again);
    let out = again.output().unwrap();
    assert_status(&out, 2);
    assert!(
        stderr(&out).contains("exists; give --force"),
        "{}",
        text(&out)
    );

    // Start it: TEST_IMAGE and SHOUT are read when maestro runs, as compose
    // reads them at `up`.
    let mut start = maestro_e2e::maestro_cli(&maestro_yaml, &["start"]);
    start.current_dir(&dir);
    vars.apply(&mut start);
    start.env("SHOUT", "loud");
    let out = start.output().expect("running maestro start");
    assert_status(&out, 0);
    assert!(stdout(&out).contains("start: 4 done in "), "{}", text(&out));
    let started_out = stdout(&out);

    // Placement: api's replicas one per ship, the rest on the first ship.
    let (main, ship2) = (tb.main(), tb.ship2());
    let name = |s: &str, n: u32| format!("{project}-{s}-{n}");
    for (c, d) in [
        (name("db", 1), &main),
        (name("api", 1), &main),
        (name("api", 2), &ship2),
        (name("web", 1), &main),
    ] {
        let running = d.run(["inspect", "--format", "{{.State.Running}}", &c]);
        assert_eq!(running, "true", "{c} on {}", d.host());
    }
    // depends_on: db, then api, then web.
    // Compared as times: Docker's timestamps drop a fraction's trailing zeros.
    let at = |t: &str| maestro::timestamp::parse_rfc3339(t).expect("a Docker timestamp");
    let started =
        |c: &str, d: &Docker| at(&d.run(["inspect", "--format", "{{.State.StartedAt}}", c]));
    let (db_t, api_t, web_t) = (
        started(&name("db", 1), &main),
        started(&name("api", 1), &main),
        started(&name("web", 1), &main),
    );
    assert!(
        db_t < api_t && api_t < web_t,
        "{db_t:?} {api_t:?} {web_t:?}"
    );

    // The services answer.
    page("127.0.0.1", vars.db, "db up");
    let instances = format!("{},{}", name("api", 1), name("api", 2));
    page(
        "127.0.0.1",
        vars.api,
        &format!("api {} of {instances}", name("api", 1)),
    );
    page(
        tb.ship2_addr(),
        vars.api,
        &format!("api {} of {instances}", name("api", 2)),
    );
    page(
        "127.0.0.1",
        vars.web,
        "web: hello from env_file, shout=loud, data in /data",
    );

    // As in compose, containers find each other by service name on the
    // project's network, on their ship: web reaches db and api (api's
    // instance on its own ship).
    let from_web =
        fetch_inside(&main, &name("web", 1), "api", 8080).expect("web reaches api by name");
    assert!(
        from_web.contains(&format!("api {} of", name("api", 1))),
        "{from_web}"
    );
    let from_web =
        fetch_inside(&main, &name("web", 1), "db", 5432).expect("web reaches db by name");
    assert!(from_web.contains("db up"), "{from_web}");
    let net = format!("{project}_default");
    for d in [&main, &ship2] {
        assert!(
            d.try_run(["network", "inspect", &net]).is_ok(),
            "{net} on {}",
            d.host()
        );
    }

    // db's health check reached the engine, and the start waited for it
    // before it began api (service_healthy), as its progress shows.
    let db = main.inspect(&name("db", 1));
    assert_eq!(db["State"]["Health"]["Status"], "healthy", "{db}");
    assert_eq!(db["Config"]["Healthcheck"]["Retries"], 10, "{db}");
    let progress = &started_out;
    let line_of = |what: &str| {
        progress
            .lines()
            .position(|l| l.contains(what))
            .unwrap_or_else(|| panic!("no progress line with {what:?}:\n{progress}"))
    };
    assert!(
        line_of(&format!("{} (db on main): checking health", name("db", 1)))
            < line_of(&format!("{} (api on main): creating", name("api", 1))),
        "{progress}"
    );

    // Labels and the restart policy reached Docker.
    let web = main.inspect(&name("web", 1));
    assert_eq!(
        web["Config"]["Labels"]["com.example.imported"], "yes",
        "{web}"
    );
    let api = main.inspect(&name("api", 1));
    assert_eq!(
        api["HostConfig"]["RestartPolicy"]["Name"], "on-failure",
        "{api}"
    );

    // Stop and remove what was started.
    for args in [&["stop", "-a"][..], &["clean"][..]] {
        let mut cmd = maestro_e2e::maestro_cli(&maestro_yaml, args);
        vars.apply(&mut cmd);
        let out = cmd.output().unwrap();
        assert_status(&out, 0);
    }
    assert!(scope.containers(&main).is_empty() && scope.containers(&ship2).is_empty());
}
