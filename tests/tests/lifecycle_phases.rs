//! The `pre-start` and `pre-stop` lifecycle phases end to end on the main
//! daemon: when they run relative to the container (pre-start before it
//! exists, pre-stop while it still runs) and to the other phases, in
//! dependency order; and a failing check stops that container's step with
//! the reason, leaving the container as it was.
//!
//! The checks are `exec` checks of a probe script that appends the phase, the
//! container's name (from the environment maestro hands exec checks) and the
//! container's state as the daemon reports it at that moment.

mod support;

use maestro_e2e::{Scope, Testbed};
use support::{Project, assert_status, outcome, ships_yaml, stdout, text};

/// Writes the probe script into the project and returns its path.
fn probe(project: &Project) -> String {
    let log = project.dir.join("phases.log");
    let script = project.dir.join("probe.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\n\
             state=$(docker -H unix:///var/run/docker.sock inspect -f '{{{{.State.Running}}}}' \"$CONTAINER_NAME\" 2>/dev/null) || state=absent\n\
             echo \"$1 $CONTAINER_NAME $state\" >> {log}\n",
            log = log.display()
        ),
    )
    .unwrap();
    script.display().to_string()
}

fn phases(project: &Project) -> Vec<String> {
    std::fs::read_to_string(project.dir.join("phases.log"))
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// A service of one sleeping instance on `main` whose four phases run the probe.
fn service(name: &str, instance: &str, requires: &str, probe: &str, tb: &Testbed) -> String {
    let check =
        |phase: &str| format!("[{{type: exec, command: 'sh {probe} {phase}', attempts: 1}}]");
    format!(
        "  {name}:\n    image: {image}\n    requires: [{requires}]\n    lifecycle:\n      \
         pre-start: {pre_start}\n      running: {running}\n      pre-stop: {pre_stop}\n      \
         stopped: {stopped}\n    instances:\n      {instance}: {{ship: main, stop_timeout: 1, \
         command: [sleep, '300']}}\n",
        image = tb.test_image(),
        pre_start = check("pre-start"),
        running = check("running"),
        pre_stop = check("pre-stop"),
        stopped = check("stopped"),
    )
}

#[test]
fn pre_start_and_pre_stop_run_around_the_container_in_dependency_order() {
    let tb = Testbed::load();
    let scope = Scope::new("phases");
    let (db, app) = (scope.name("db"), scope.name("app"));
    // The project is written twice: the probe lives in its directory.
    let project = Project::new(&scope, "name: x\nships: {}\n");
    let probe = probe(&project);
    let yaml = format!(
        "name: {}\n{}services:\n{}{}",
        scope.prefix(),
        ships_yaml(tb),
        service("db", &db, "", &probe, tb),
        service("app", &app, "db", &probe, tb),
    );
    std::fs::write(project.dir.join("maestro.yaml"), yaml).unwrap();

    let out = project.run(&["start"]);
    assert_status(&out, 0);
    assert_eq!(
        phases(&project),
        [
            format!("pre-start {db} absent"),
            format!("running {db} true"),
            format!("pre-start {app} absent"),
            format!("running {app} true"),
        ],
        "{}",
        text(&out)
    );

    // Stopped (not absent) containers: pre-start runs while the old one is down.
    let out = project.run(&["stop", "-a"]);
    assert_status(&out, 0);
    assert_eq!(
        phases(&project)[4..],
        [
            format!("pre-stop {app} true"),
            format!("stopped {app} false"),
            format!("pre-stop {db} true"),
            format!("stopped {db} false"),
        ],
        "{}",
        text(&out)
    );
    let out = project.run(&["start", "db"]);
    assert_status(&out, 0);
    assert_eq!(
        phases(&project)[8..],
        [
            format!("pre-start {db} false"),
            format!("running {db} true")
        ],
        "{}",
        text(&out)
    );
}

#[test]
fn a_failing_pre_start_check_stops_the_start_with_its_reason() {
    let tb = Testbed::load();
    let scope = Scope::new("prestart-fails");
    let (db, app) = (scope.name("db"), scope.name("app"));
    let yaml = format!(
        "name: {prefix}\n{ships}services:\n  db:\n    image: {image}\n    lifecycle:\n      \
         pre-start: [{{type: exec, command: \"sh -c 'echo schema not migrated >&2; exit 3'\", attempts: 2}}]\n    \
         instances:\n      {db}: {{ship: main, command: [sleep, '300']}}\n  app:\n    image: {image}\n    \
         requires: [db]\n    instances:\n      {app}: {{ship: main, command: [sleep, '300']}}\n",
        prefix = scope.prefix(),
        ships = ships_yaml(tb),
        image = tb.test_image(),
    );
    let project = Project::new(&scope, &yaml);
    let out = project.run(&["start"]);
    assert_status(&out, 1);
    let (word, rest) = outcome(&stdout(&out), &db);
    assert_eq!(word, "FAILED", "{}", text(&out));
    assert!(rest.contains("pre-start checks failed"), "{}", text(&out));
    assert!(text(&out).contains("exit"), "{}", text(&out));
    assert_eq!(outcome(&stdout(&out), &app).0, "skipped", "{}", text(&out));
    // Neither container was created.
    let main = tb.main();
    assert!(main.try_run(["inspect", &db]).is_err(), "{db} was created");
    assert!(
        main.try_run(["inspect", &app]).is_err(),
        "{app} was created"
    );
}

#[test]
fn a_failing_pre_stop_check_leaves_the_container_running() {
    let tb = Testbed::load();
    let scope = Scope::new("prestop-fails");
    let db = scope.name("db");
    let yaml = format!(
        "name: {prefix}\n{ships}services:\n  db:\n    image: {image}\n    lifecycle:\n      \
         pre-stop: [{{type: exec, command: \"sh -c 'exit 1'\", attempts: 1}}]\n    \
         instances:\n      {db}: {{ship: main, stop_timeout: 1, command: [sleep, '300']}}\n",
        prefix = scope.prefix(),
        ships = ships_yaml(tb),
        image = tb.test_image(),
    );
    let project = Project::new(&scope, &yaml);
    assert_status(&project.run(&["start"]), 0);
    let out = project.run(&["stop", "-a"]);
    assert_status(&out, 1);
    let (word, rest) = outcome(&stdout(&out), &db);
    assert_eq!(word, "FAILED", "{}", text(&out));
    assert!(rest.contains("pre-stop checks failed"), "{}", text(&out));
    assert_eq!(
        tb.main().inspect(&db)["State"]["Running"],
        true,
        "{db} was stopped although its pre-stop check failed"
    );
    // `kill` does not run pre-stop checks (as MaestroNG's KillTask).
    assert_status(&project.run(&["kill", "-a"]), 0);
    assert_eq!(tb.main().inspect(&db)["State"]["Running"], false);
}
