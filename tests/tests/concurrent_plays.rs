//! Two plays on one environment at the same time (issue 15, point 3): two
//! `maestro start` runs started together on the testbed's two ships both exit 0,
//! every instance name ends with exactly one running container, and the plays
//! converge rather than fail on each other's "name already in use".
//!
//! Every container is named inside a [`Scope`], which removes it when the test ends.

use std::process::Output;
use std::time::Duration;

mod support;

use maestro_e2e::{Scope, Testbed, free_port};
use support::{Project, assert_status, outcome, ships_yaml, stdout, text};

#[test]
fn two_starts_at_once_both_succeed_and_converge() {
    let tb = Testbed::load();
    let scope = Scope::new("twoplays");
    let image = tb.test_image();
    let bases: Vec<String> = (1..=4).map(|i| scope.name(&format!("base{i}"))).collect();
    let tops: Vec<String> = (1..=4).map(|i| scope.name(&format!("top{i}"))).collect();
    let mut yaml = format!("name: {}\n{}services:\n", scope.prefix(), ships_yaml(tb));
    yaml += &format!(
        "  base:\n    image: {image}\n    lifecycle:\n      running: [{{type: tcp, port: web, max_wait: 30}}]\n    instances:\n"
    );
    for (i, name) in bases.iter().enumerate() {
        let ship = if i % 2 == 0 { "main" } else { "ship2" };
        yaml += &format!(
            "      {name}:\n        ship: {ship}\n        stop_timeout: 1\n        ports: {{web: \"8080:{}\"}}\n        command: \"sh -c 'mkdir -p /w && echo up > /w/index.html && exec httpd -f -p 8080 -h /w'\"\n",
            free_port()
        );
    }
    yaml += &format!("  top:\n    image: {image}\n    requires: [base]\n    instances:\n");
    for (i, name) in tops.iter().enumerate() {
        let ship = if i % 2 == 0 { "ship2" } else { "main" };
        yaml += &format!(
            "      {name}: {{ship: {ship}, stop_timeout: 1, command: [sleep, \"300\"]}}\n"
        );
    }
    let project = Project::new(&scope, &yaml);

    // Several rounds: the second play often inspects a name the first has just
    // created (or removed), which is the race under test; a round starts from
    // stopped containers so that both plays also race to replace them.
    for round in 1..=3 {
        let mut first = project.command(&["start"]);
        let mut second = project.command(&["start"]);
        let a = std::thread::spawn(move || first.output().expect("running the first start"));
        let b = std::thread::spawn(move || second.output().expect("running the second start"));
        let (a, b): (Output, Output) = (a.join().unwrap(), b.join().unwrap());
        for (which, out) in [("first", &a), ("second", &b)] {
            assert_eq!(
                out.status.code(),
                Some(0),
                "round {round}: the {which} start failed:\n{}",
                text(out)
            );
            for name in bases.iter().chain(&tops) {
                let (word, rest) = outcome(&stdout(out), name);
                assert_eq!(word, "done", "round {round}, {which} play, {name}: {rest}");
            }
        }
        for (i, name) in bases.iter().chain(&tops).enumerate() {
            let docker = if (i < 4) == (i % 2 == 0) {
                tb.main()
            } else {
                tb.ship2()
            };
            let info = docker.inspect(name);
            assert_eq!(
                info["State"]["Running"], true,
                "round {round}: {name} is not running"
            );
            // One container of that name on the ship, and none on the other.
            let other = if (i < 4) == (i % 2 == 0) {
                tb.ship2()
            } else {
                tb.main()
            };
            assert!(
                other.try_run(["inspect", name]).is_err(),
                "round {round}: {name} exists on both ships"
            );
        }
        let out = project.run(&["stop", "-a"]);
        assert_status(&out, 0);
        std::thread::sleep(Duration::from_millis(100));
    }
}
