//! `maestro status` and `maestro logs` against the real engines, on
//! containers made with the docker CLI (so these do not depend on maestro's
//! own start).

mod support;

use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use maestro_e2e::{Scope, Testbed, free_port};
use support::{Project, TestbedLock, assert_status, ships_yaml, stderr, stdout};

/// The row of `name` in a status table, split in cells.
fn row<'a>(table: &'a str, name: &str) -> Vec<&'a str> {
    table
        .lines()
        .find(|l| l.split_whitespace().next() == Some(name))
        .unwrap_or_else(|| panic!("no row for {name} in:\n{table}"))
        .split_whitespace()
        .collect()
}

/// A port on ship2's address where nothing listens.
fn closed_port_on_ship2(tb: &Testbed) -> u16 {
    let port = 2999;
    let addr = format!("{}:{port}", tb.ship2_addr());
    assert!(
        TcpStream::connect_timeout(&addr.parse().unwrap(), Duration::from_secs(1)).is_err(),
        "something listens on {addr}; the test needs a closed port"
    );
    port
}

#[test]
fn status_reports_running_down_absent_and_unreachable_containers() {
    let tb = Testbed::load();
    let scope = Scope::new("status");
    let (web1, web2, db1, db2) = (
        scope.name("web-1"),
        scope.name("web-2"),
        scope.name("db-1"),
        scope.name("db-2"),
    );
    let (port, unused) = (free_port(), free_port());
    let yaml = format!(
        "name: status\n{}  closed: {{ip: {}, docker_port: {}, timeout: 2}}\n\
         services:\n\
         \x20 web:\n    image: {img}\n    instances:\n\
         \x20     {web1}: {{ship: main, ports: {{http: '8000:{port}'}}}}\n\
         \x20     {web2}: {{ship: ship2}}\n\
         \x20 db:\n    image: {img}\n    instances:\n\
         \x20     {db1}: {{ship: main, ports: {{sql: '5432:{unused}'}}}}\n\
         \x20     {db2}: {{ship: closed}}\n",
        ships_yaml(tb),
        tb.ship2_addr(),
        closed_port_on_ship2(tb),
        img = tb.test_image(),
    );
    let project = Project::new(&scope, &yaml);
    let id1 = tb.main().run([
        "run",
        "-d",
        "--name",
        &web1,
        "-p",
        &format!("{port}:8000"),
        tb.test_image(),
        "httpd",
        "-f",
        "-p",
        "8000",
    ]);
    tb.ship2()
        .run(["run", "--name", &web2, tb.test_image(), "true"]);
    let id2 = tb.ship2().run(["inspect", "--format", "{{.Id}}", &web2]);

    // Everything: one ship unreachable, the others still answer.
    let started = Instant::now();
    let out = project.run(&["status"]);
    assert_status(&out, 1);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    let table = stdout(&out);
    assert_eq!(
        table
            .lines()
            .next()
            .unwrap()
            .split_whitespace()
            .collect::<Vec<_>>(),
        ["INSTANCE", "SERVICE", "SHIP", "CONTAINER", "STATE"]
    );
    let r = row(&table, &web1);
    assert_eq!(r[..4], [web1.as_str(), "web", "main", &id1[..12]]);
    assert_eq!(r[4..6], ["running", "for"], "{table}");
    let r = row(&table, &web2);
    assert_eq!(r[..4], [web2.as_str(), "web", "ship2", &id2[..12]]);
    assert_eq!(r[4..6], ["down", "for"], "{table}");
    assert_eq!(row(&table, &db1)[2..], ["main", "-", "absent"]);
    assert_eq!(row(&table, &db2)[2..], ["closed", "-", "host", "down"]);
    assert!(
        stderr(&out).contains("warning: ship closed: cannot reach the Docker daemon at tcp://"),
        "{}",
        stderr(&out)
    );
    assert!(
        !table.contains('\x1b'),
        "no escapes off a terminal: {table:?}"
    );

    // The same as JSON.
    let out = project.run(&["status", "--format", "json"]);
    assert_status(&out, 1);
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    let states: Vec<(&str, &str)> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["instance"].as_str().unwrap(),
                r["state"].as_str().unwrap(),
            )
        })
        .collect();
    for (name, state) in [
        (&web1, "running"),
        (&web2, "down"),
        (&db1, "absent"),
        (&db2, "host_down"),
    ] {
        assert!(states.contains(&(name.as_str(), state)), "{states:?}");
    }
    let w1 = v
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["instance"] == web1.as_str())
        .unwrap();
    assert_eq!(w1["container_id"], id1.as_str());
    assert!(w1["uptime_secs"].as_u64().unwrap() < 120);
    let w2 = v
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["instance"] == web2.as_str())
        .unwrap();
    assert_eq!(w2["exit_code"], 0);

    // Only running containers asked for: exit 0. A service expands.
    assert_status(&project.run(&["status", &web1]), 0);
    let out = project.run(&["status", "web"]);
    assert_status(&out, 1);
    assert_eq!(stdout(&out).lines().count(), 3, "{}", stdout(&out));
    // -C filters (no -d).
    let out = project.run(&["status", "-i", "-C", "*-web-1"]);
    assert_status(&out, 0);
    assert_eq!(stdout(&out).lines().count(), 2, "{}", stdout(&out));

    // -F: image and port reachability; -H: the ship's ip.
    let out = project.run(&["status", "-F", "-H", &web1, &db1]);
    assert_status(&out, 1);
    let text = stdout(&out);
    let r = row(&text, &web1);
    assert_eq!(r[2], "127.0.0.1", "{text}");
    assert_eq!(r.last(), Some(&tb.test_image()), "{text}");
    assert!(
        text.contains(&format!("    port http {port}/tcp: up\n")),
        "{text}"
    );
    assert!(
        text.contains(&format!("    port sql {unused}/tcp: down\n")),
        "{text}"
    );
}

/// ship2's dockerd frozen (SIGSTOP) until dropped (SIGCONT): it accepts
/// connections but answers nothing, like a hung or stopping daemon. The
/// containers of other tests on ship2 keep running, which a real stop of
/// the daemon would not allow.
struct FrozenDaemon(String);

impl FrozenDaemon {
    fn freeze(pid: String) -> FrozenDaemon {
        let ok = Command::new("kill").args(["-STOP", &pid]).status();
        assert!(ok.is_ok_and(|s| s.success()), "kill -STOP {pid}");
        FrozenDaemon(pid)
    }
}

impl Drop for FrozenDaemon {
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-CONT", &self.0]).status();
    }
}

#[test]
fn status_while_ship2_daemon_does_not_answer() {
    let tb = Testbed::load();
    let scope = Scope::new("status-frozen");
    let (a, b) = (scope.name("a"), scope.name("b"));
    let yaml = format!(
        "name: frozen\nships:\n  main: {{ip: 127.0.0.1, socket_path: /var/run/docker.sock}}\n  ship2: {{ip: {}, docker_port: {}, timeout: 1}}\n\
         services:\n  s:\n    image: {img}\n    instances:\n      {a}: {{ship: main}}\n      {b}: {{ship: ship2}}\n",
        tb.ship2_addr(),
        tb.ship2_port(),
        img = tb.test_image()
    );
    let project = Project::new(&scope, &yaml);
    for (docker, name) in [(tb.main(), &a), (tb.ship2(), &b)] {
        docker.run(["run", "-d", "--name", name, tb.test_image(), "sleep", "600"]);
    }
    assert_status(&project.run(&["status"]), 0);

    let pidfile = tb.dir().join("ship2").join("dockerd.pid");
    let pid = std::fs::read_to_string(&pidfile)
        .unwrap_or_else(|e| panic!("{}: {e}", pidfile.display()))
        .trim()
        .to_owned();
    let out = {
        let _lock = TestbedLock::take();
        let _frozen = FrozenDaemon::freeze(pid);
        let started = Instant::now();
        let out = project.run(&["status"]);
        assert!(
            started.elapsed() < Duration::from_secs(8),
            "{:?}",
            started.elapsed()
        );
        out
    };
    assert_status(&out, 1);
    let table = stdout(&out);
    assert_eq!(row(&table, &a)[4..6], ["running", "for"], "{table}");
    assert_eq!(
        row(&table, &b)[2..],
        ["ship2", "-", "host", "down"],
        "{table}"
    );
    assert!(
        stderr(&out).contains("warning: ship ship2: "),
        "{}",
        stderr(&out)
    );

    // Back to normal once the daemon answers again.
    let ok = maestro_e2e::poll(Duration::from_secs(20), || {
        project.run(&["status"]).status.success().then_some(())
    });
    assert!(ok.is_some(), "ship2 did not come back");
}

#[test]
fn logs_of_one_or_several_containers() {
    let tb = Testbed::load();
    let scope = Scope::new("logs");
    let (a, b, gone) = (scope.name("a"), scope.name("bb"), scope.name("gone"));
    let yaml = format!(
        "name: logs\n{}services:\n  app:\n    image: {img}\n    instances:\n      {a}: {{ship: main}}\n      {b}: {{ship: ship2}}\n  other:\n    image: {img}\n    instances:\n      {gone}: {{ship: main}}\n",
        ships_yaml(tb),
        img = tb.test_image()
    );
    let project = Project::new(&scope, &yaml);
    tb.main().run([
        "run",
        "-d",
        "--name",
        &a,
        tb.test_image(),
        "sh",
        "-c",
        "echo a1; sleep 1; echo a2 >&2; sleep 1; echo a3; sleep 600",
    ]);
    tb.ship2().run([
        "run",
        "-d",
        "--name",
        &b,
        tb.test_image(),
        "sh",
        "-c",
        "echo b1; echo b2; sleep 600",
    ]);
    // Logs are there once the containers have written them. The lines are a second
    // apart: dockerd copies stdout and stderr on separate goroutines, so under load
    // lines written 0.1 s apart were seen out of order in the log itself.
    let want = |probe: &[&str], lines: usize| {
        let out = project.run(probe);
        maestro_e2e::poll(Duration::from_secs(10), || {
            let out = project.run(probe);
            (stdout(&out).lines().count() >= lines).then_some(out)
        })
        .unwrap_or(out)
    };

    // One container: its lines as they are.
    let out = want(&["logs", &a], 3);
    assert_status(&out, 0);
    assert_eq!(stdout(&out), "a1\na2\na3\n");
    let out = project.run(&["logs", "-n", "1", &a]);
    assert_status(&out, 0);
    assert_eq!(stdout(&out), "a3\n");

    // Several (a service on two ships): prefixed, aligned, one after the other.
    let out = want(&["logs", "app"], 5);
    assert_status(&out, 0);
    let pa = format!("{a}  |");
    let pb = format!("{b} |");
    assert_eq!(
        stdout(&out),
        format!("{pa} a1\n{pa} a2\n{pa} a3\n{pb} b1\n{pb} b2\n")
    );

    // A container that does not exist: said, the others still shown, exit 1.
    let out = project.run(&["logs", "-n", "1", &b, &gone]);
    assert_status(&out, 1);
    assert_eq!(stdout(&out), format!("{b}   | b2\n"));
    assert!(
        stderr(&out).contains(&format!("container {gone} does not exist on ship main")),
        "{}",
        stderr(&out)
    );
    // Unknown names are usage errors; at least one thing is required.
    assert_status(&project.run(&["logs", "nope"]), 2);
    assert_status(&project.run(&["logs"]), 2);
}

#[test]
fn logs_follow_survives_restart_and_recreation() {
    let tb = Testbed::load();
    let scope = Scope::new("logs-follow");
    let (a, b) = (scope.name("a"), scope.name("b"));
    let yaml = format!(
        "name: follow\n{}services:\n  app:\n    image: {img}\n    instances:\n      {a}: {{ship: main}}\n      {b}: {{ship: ship2}}\n",
        ships_yaml(tb),
        img = tb.test_image()
    );
    let project = Project::new(&scope, &yaml);
    // Each run says hello once, with a mark of its own (the uptime of the
    // kernel is different each time), then ticks.
    let script =
        "echo hello $(cut -d' ' -f1 /proc/uptime); while true; do sleep 0.5; echo tick; done";
    tb.main().run([
        "run",
        "-d",
        "--name",
        &a,
        tb.test_image(),
        "sh",
        "-c",
        script,
    ]);
    tb.ship2().run([
        "run",
        "-d",
        "--name",
        &b,
        tb.test_image(),
        "sh",
        "-c",
        script,
    ]);

    let mut logs = project.spawn(&["logs", "-F", &a, &b]);
    let hellos = |lines: &[String], who: &str| {
        lines
            .iter()
            .filter(|l| l.starts_with(who) && l.contains("| hello "))
            .count()
    };
    let long = Duration::from_secs(20);
    logs.wait_for("both hellos", long, |l| {
        hellos(l, &a) == 1 && hellos(l, &b) == 1
    });
    logs.wait_for("ticks from b", long, |l| {
        l.iter().any(|x| x.starts_with(&b) && x.ends_with("| tick"))
    });

    // Restarted: followed again, and the first run is not repeated.
    tb.ship2().run(["restart", "-t", "1", &b]);
    logs.wait_for("b's second hello", long, |l| hellos(l, &b) == 2);

    // Removed and created anew under the same name (as maestro restart does).
    tb.main().run(["rm", "-f", &a]);
    tb.main().run([
        "run",
        "-d",
        "--name",
        &a,
        tb.test_image(),
        "sh",
        "-c",
        "echo fresh start; sleep 600",
    ]);
    logs.wait_for("the new a", long, |l| {
        l.iter()
            .any(|x| x.starts_with(&a) && x.ends_with("| fresh start"))
    });
    // Still following b.
    let ticks = |l: &[String]| {
        l.iter()
            .filter(|x| x.starts_with(&b) && x.ends_with("| tick"))
            .count()
    };
    let before = ticks(&logs.lines());
    logs.wait_for("more ticks from b", long, |l| ticks(l) > before);

    assert_eq!(logs.interrupt(Duration::from_secs(10)), 0);
    let lines = logs.lines();
    assert_eq!(hellos(&lines, &a), 1, "{lines:#?}");
    assert_eq!(hellos(&lines, &b), 2, "{lines:#?}");
    let hello_lines: Vec<&String> = lines.iter().filter(|l| l.contains("| hello ")).collect();
    let unique: std::collections::BTreeSet<&&String> = hello_lines.iter().collect();
    assert_eq!(
        unique.len(),
        hello_lines.len(),
        "a run repeated: {lines:#?}"
    );
    let notes = logs.stderr.lock().unwrap().join("\n");
    assert!(
        notes.contains(&format!("{b}: stopped; waiting for it to start again")),
        "{notes}"
    );
    assert!(notes.contains(&format!("{b}: started again")), "{notes}");
}

/// Runs `maestro ARGS` on a pseudo-terminal (util-linux `script`); what the
/// terminal received, and the exit status.
fn on_terminal(project: &Project, args: &[&str], no_color: bool) -> (String, Option<i32>) {
    on_terminal_with(
        project,
        args,
        &[("NO_COLOR", if no_color { "1" } else { "" })],
    )
}

/// [`on_terminal`] with these variables set (an empty value unsets one); the
/// terminal is an xterm unless `TERM` is among them.
fn on_terminal_with(
    project: &Project,
    args: &[&str],
    vars: &[(&str, &str)],
) -> (String, Option<i32>) {
    let mut line = format!(
        "{} -f {}",
        maestro_e2e::bin("maestro").display(),
        project.dir.join("maestro.yaml").display()
    );
    for a in args {
        line.push(' ');
        line.push_str(a);
    }
    let mut cmd = Command::new("script");
    cmd.args(["-q", "-e", "-c", &line, "/dev/null"])
        .env("COLUMNS", "250")
        .env("TERM", "xterm")
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR")
        .env_remove("CLICOLOR_FORCE")
        .stdin(Stdio::null());
    for (name, value) in vars {
        if value.is_empty() {
            cmd.env_remove(name);
        } else {
            cmd.env(name, value);
        }
    }
    let out = cmd.output().expect("running script");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        out.status.code(),
    )
}

#[test]
fn on_a_terminal_the_play_redraws_in_place_and_colours_unless_no_color() {
    let tb = Testbed::load();
    let scope = Scope::new("tty");
    let (a, b) = (scope.name("a"), scope.name("b"));
    let yaml = format!(
        "name: tty\n{}services:\n  s:\n    image: {img}\n    instances:\n      {a}: {{ship: main, command: 'sh -c \"echo from a; exec sleep 600\"', stop_timeout: 1}}\n      {b}: {{ship: ship2, command: 'sh -c \"echo from b; exec sleep 600\"', stop_timeout: 1}}\n",
        ships_yaml(tb),
        img = tb.test_image()
    );
    let project = Project::new(&scope, &yaml);

    // The live view: lines redrawn in place (cursor up, erase to end of
    // line), the final states in green.
    let (text, code) = on_terminal(&project, &["start"], false);
    assert_eq!(code, Some(0), "{text:?}");
    assert!(text.contains("\x1b[K"), "{text:?}");
    assert!(
        text.contains("\x1b[2A"),
        "redrawn over its 2 lines: {text:?}"
    );
    assert!(text.contains("\x1b[32mstarted\x1b[0m"), "{text:?}");

    // status and logs colour on a terminal too.
    let (text, code) = on_terminal(&project, &["status"], false);
    assert_eq!(code, Some(0), "{text:?}");
    assert!(text.contains("\x1b[32mrunning for "), "{text:?}");
    let (text, _) = on_terminal(&project, &["logs", "s"], false);
    assert!(text.contains("\x1b[38;5;"), "coloured prefixes: {text:?}");
    assert!(
        text.contains("from a") && text.contains("from b"),
        "{text:?}"
    );

    // NO_COLOR: still drawn in place, without colour.
    let (text, code) = on_terminal(&project, &["stop", "-s", "s"], true);
    assert_eq!(code, Some(0), "{text:?}");
    assert!(text.contains("\x1b[K"), "{text:?}");
    assert!(
        !text.contains("\x1b[3"),
        "colour despite NO_COLOR: {text:?}"
    );
    let (text, _) = on_terminal(&project, &["status"], true);
    assert!(!text.contains("\x1b["), "{text:?}");
    assert!(text.contains(" down for "), "{text:?}");

    // The other terminal conventions: CLICOLOR=0 (no colour, still live),
    // TERM=dumb (no escape sequence at all: one line per change),
    // CLICOLOR_FORCE (colour into a pipe).
    let (text, _) = on_terminal_with(&project, &["status"], &[("CLICOLOR", "0")]);
    assert!(
        !text.contains("\x1b["),
        "colour despite CLICOLOR=0: {text:?}"
    );
    // (anstream alone would colour a dumb terminal when CI is set.)
    let (text, code) = on_terminal_with(&project, &["start"], &[("TERM", "dumb"), ("CI", "true")]);
    assert_eq!(code, Some(0), "{text:?}");
    assert!(
        !text.contains('\x1b'),
        "escape sequences on TERM=dumb: {text:?}"
    );
    assert!(text.contains("started"), "{text:?}");
    let out = project
        .command(&["status"])
        .env("CLICOLOR_FORCE", "1")
        .env_remove("NO_COLOR")
        .output()
        .unwrap();
    let piped = String::from_utf8_lossy(&out.stdout);
    assert!(piped.contains("\x1b[32mrunning for "), "{piped:?}");
}
