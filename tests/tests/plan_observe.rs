//! `maestro plan --observe`: the decisions a play would take, from what the
//! ships say now (observe → decide, without execute), checked against what the
//! play then really does.

mod support;

use maestro_e2e::{Scope, Testbed};
use support::{Project, assert_status, outcome, ships_yaml, stdout, text};

/// The DECISION column of `plan --observe`'s second table, per container.
fn decisions(out: &str) -> Vec<(String, String, String)> {
    let table = out
        .split("\n\n")
        .nth(1)
        .unwrap_or_else(|| panic!("no decision table in\n{out}"));
    table
        .lines()
        .skip(1)
        .map(|line| {
            // Columns are separated by two spaces or more.
            let cells: Vec<&str> = line
                .split("  ")
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .collect();
            (
                cells.first().copied().unwrap_or_default().to_owned(),
                cells.get(1).copied().unwrap_or_default().to_owned(),
                cells.get(2..).unwrap_or_default().join("  "),
            )
        })
        .collect()
}

#[test]
fn plan_observe_shows_what_each_play_then_does() {
    let tb = Testbed::load();
    let scope = Scope::new("observe");
    let (db, web) = (scope.name("db"), scope.name("web"));
    let yaml = format!(
        "name: {prefix}\n{ships}services:\n  db:\n    image: {image}\n    instances:\n      \
         {db}: {{ship: main, stop_timeout: 1, command: [sleep, '300']}}\n  web:\n    image: {image}\n    \
         requires: [db]\n    instances:\n      {web}: {{ship: ship2, stop_timeout: 1, command: [sleep, '300']}}\n",
        prefix = scope.prefix(),
        ships = ships_yaml(tb),
        image = tb.test_image(),
    );
    let project = Project::new(&scope, &yaml);

    // Nothing exists: both would be created (the image is on both ships).
    let out = project.run(&["plan", "start", "--observe"]);
    assert_status(&out, 0);
    assert_eq!(
        decisions(&stdout(&out)),
        [
            (db.clone(), "absent".into(), "create, start".into()),
            (web.clone(), "absent".into(), "create, start".into()),
        ],
        "{}",
        text(&out)
    );
    // -r: the image is pulled whatever the ship has.
    let out = project.run(&["plan", "start", "--observe", "-r", db.as_str()]);
    assert_status(&out, 0);
    assert_eq!(
        decisions(&stdout(&out))[0].2,
        "create, pull the image, start",
        "{}",
        text(&out)
    );

    assert_status(&project.run(&["start"]), 0);
    let out = project.run(&["plan", "start", "--observe"]);
    assert_status(&out, 0);
    assert_eq!(
        decisions(&stdout(&out)),
        [
            (db.clone(), "running".into(), "leave (running)".into()),
            (web.clone(), "running".into(), "leave (running)".into()),
        ],
        "{}",
        text(&out)
    );
    let out = project.run(&["plan", "restart", "--observe", "--only-if-changed", "-a"]);
    assert_status(&out, 0);
    assert_eq!(
        decisions(&stdout(&out))
            .into_iter()
            .map(|(name, _, decision)| (name, decision))
            .collect::<Vec<_>>(),
        // A restart stops first: dependents before what they require.
        [
            (web.clone(), "leave (up to date)".into()),
            (db.clone(), "leave (up to date)".into()),
        ],
        "{}",
        text(&out)
    );
    // ... and the play agrees.
    let out = project.run(&["restart", "--only-if-changed", "-a"]);
    assert_status(&out, 0);
    for name in [&db, &web] {
        assert_eq!(
            outcome(&stdout(&out), name).1,
            "up to date",
            "{name}: {}",
            text(&out)
        );
    }

    assert_status(&project.run(&["stop", db.as_str()]), 0);
    let out = project.run(&["plan", "start", "--observe", "--format", "json"]);
    assert_status(&out, 0);
    let plan: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    let step = &plan["steps"][0];
    assert_eq!(step["container"], db.as_str());
    assert_eq!(step["observed"]["container"]["state"], "stopped");
    assert_eq!(step["observed"]["image"]["image"], "present");
    assert_eq!(step["decision"]["start"], "create");
    assert_eq!(step["decision"]["remove_old"], true);
    let out = project.run(&["plan", "start", "--observe", "--reuse", db.as_str()]);
    assert_status(&out, 0);
    assert_eq!(
        decisions(&stdout(&out))[0].2,
        "start the stopped container as it is (--reuse)",
        "{}",
        text(&out)
    );
    let out = project.run(&["plan", "stop", "--observe", "-a"]);
    assert_status(&out, 0);
    assert_eq!(
        decisions(&stdout(&out)),
        [
            (web.clone(), "running".into(), "stop".into()),
            (db.clone(), "stopped".into(), "nothing (down)".into()),
        ],
        "{}",
        text(&out)
    );
    // Planning changed nothing.
    assert_eq!(tb.main().inspect(&db)["State"]["Running"], false);
}

#[test]
fn plan_observe_says_which_ship_did_not_answer() {
    let tb = Testbed::load();
    let scope = Scope::new("observe-down");
    let app = scope.name("app");
    let yaml = format!(
        "name: {prefix}\nships:\n  gone: {{ip: 127.0.0.1, socket_path: /nonexistent/docker.sock}}\n\
         services:\n  app:\n    image: {image}\n    instances:\n      {app}: {{ship: gone}}\n",
        prefix = scope.prefix(),
        image = tb.test_image(),
    );
    let project = Project::new(&scope, &yaml);
    let out = project.run(&["plan", "start", "--observe"]);
    assert_status(&out, 1);
    let rows = decisions(&stdout(&out));
    assert_eq!(rows[0].1, "unknown", "{}", text(&out));
    assert!(
        rows[0].2.contains("/nonexistent/docker.sock"),
        "{}",
        text(&out)
    );
}
