//! `maestro status` while ship2's Docker daemon is really stopped, and after
//! `tests/testbed/up` has brought it back; `maestro start` while ship2's daemon
//! is killed (SIGKILL) in the middle of it, and again once it is back.
//!
//! A test binary of its own: cargo runs test binaries one after another, so
//! no other scenario of this workspace uses ship2 during the outage. The
//! testbed's lock is held while the daemon is stopped, so no `up` or `down`
//! interferes, and the daemon is brought back whatever happens (a panic
//! included). The outage lasts as long as ship2's dockerd takes to stop and
//! start (some 20 s). The tests of this binary run one at a time
//! (`.config/nextest.toml`, test group `ship-outage`).

mod support;

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use maestro_e2e::{Scope, Testbed, poll};
use support::{Project, TestbedLock, assert_status, outcome, ships_yaml, stderr, stdout};

fn testbed_up() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testbed/up")
}

/// Brings the testbed (ship2) back up when dropped, even after a panic.
struct BringBack;

impl Drop for BringBack {
    fn drop(&mut self) {
        let out = Command::new(testbed_up())
            .stdin(Stdio::null())
            .output()
            .expect("running tests/testbed/up");
        if !out.status.success() && !std::thread::panicking() {
            panic!(
                "tests/testbed/up failed: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

fn row<'a>(table: &'a str, name: &str) -> Vec<&'a str> {
    table
        .lines()
        .find(|l| l.split_whitespace().next() == Some(name))
        .unwrap_or_else(|| panic!("no row for {name} in:\n{table}"))
        .split_whitespace()
        .collect()
}

#[test]
fn status_while_ship2_daemon_is_stopped_and_after_it_is_back() {
    let tb = Testbed::load();
    let scope = Scope::new("outage");
    let (a, b) = (scope.name("a"), scope.name("b"));
    let yaml = format!(
        "name: outage\nships:\n  main: {{ip: 127.0.0.1, socket_path: /var/run/docker.sock}}\n  ship2: {{ip: {}, docker_port: {}, timeout: 2}}\n\
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
        // Dropped in reverse order: first the lock is released, then `up`
        // (which takes it) brings ship2 back, even after a panic.
        let _back = BringBack;
        let _lock = TestbedLock::take();
        let ok = Command::new("kill").args(["-TERM", &pid]).status();
        assert!(ok.is_ok_and(|s| s.success()), "kill -TERM {pid}");
        let gone = poll(Duration::from_secs(60), || {
            (!std::path::Path::new(&format!("/proc/{pid}")).exists()).then_some(())
        });
        assert!(gone.is_some(), "ship2's dockerd ({pid}) did not stop");
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
        stderr(&out).contains("warning: ship ship2: cannot reach the Docker daemon at tcp://"),
        "{}",
        stderr(&out)
    );

    // ship2 answers again; its container was stopped with the daemon.
    let out = project.run(&["status", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    let b_state = v
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["instance"] == b.as_str())
        .map(|r| r["state"].clone());
    assert_eq!(b_state, Some(serde_json::json!("down")), "{v}");
}

/// ship2's dockerd pid (the testbed's pidfile).
fn ship2_pid(tb: &Testbed) -> String {
    let pidfile = tb.dir().join("ship2").join("dockerd.pid");
    std::fs::read_to_string(&pidfile)
        .unwrap_or_else(|e| panic!("{}: {e}", pidfile.display()))
        .trim()
        .to_owned()
}

#[test]
fn start_while_ship2_daemon_is_killed_then_again_once_it_is_back() {
    let tb = Testbed::load();
    let scope = Scope::new("killship2");
    let [m1, m2, s1, s2] = ["m1", "m2", "s1", "s2"].map(|n| scope.name(n));
    let image = tb.test_image();
    // main: m1 (3 s of checks), then m2. ship2: s1 (6 s of checks), then s2. The
    // daemon is killed while both m1 and s1 are checking.
    let yaml = format!(
        r#"name: {prefix}
{ships}services:
  m:
    image: {image}
    instances:
      {m1}:
        ship: main
        stop_timeout: 1
        command: sleep 300
        lifecycle:
          running: [{{type: sleep, wait: 3}}]
  m-next:
    image: {image}
    requires: [m]
    instances:
      {m2}: {{ship: main, stop_timeout: 1, command: sleep 300}}
  s:
    image: {image}
    instances:
      {s1}:
        ship: ship2
        stop_timeout: 1
        command: sleep 300
        lifecycle:
          running: [{{type: sleep, wait: 6}}]
  s-next:
    image: {image}
    requires: [s]
    instances:
      {s2}: {{ship: ship2, stop_timeout: 1, command: sleep 300}}
"#,
        prefix = scope.prefix(),
        ships = ships_yaml(tb),
    );
    let project = Project::new(&scope, &yaml);
    let (out, took) = {
        // Dropped in reverse order: the lock is released, then `up` (which takes
        // it) brings ship2 back, even after a panic.
        let _back = BringBack;
        let _lock = TestbedLock::take();
        let pid = ship2_pid(tb);
        let play = project.spawn(&["start"]);
        let checking = |lines: &[String], name: &str| {
            lines
                .iter()
                .any(|l| l.contains(&format!("] {name} ")) && l.contains("checking sleep"))
        };
        play.wait_for("m1 and s1 checking", Duration::from_secs(60), |lines| {
            (checking(lines, &m1) && checking(lines, &s1))
                || lines.iter().any(|l| l.starts_with("start: "))
        });
        assert!(
            checking(&play.lines(), &m1) && checking(&play.lines(), &s1),
            "{:#?}",
            play.lines()
        );
        let ok = Command::new("kill").args(["-KILL", &pid]).status();
        assert!(ok.is_ok_and(|s| s.success()), "kill -KILL {pid}");
        let killed = Instant::now();
        let mut play = play;
        let status = poll(Duration::from_secs(60), || {
            play.child.try_wait().ok().flatten()
        })
        .unwrap_or_else(|| {
            panic!(
                "maestro did not end within 60 s of the kill: {:#?}",
                play.lines()
            )
        });
        let took = killed.elapsed();
        std::thread::sleep(Duration::from_millis(200));
        let out = format!(
            "status {:?}\n{}\n--- stderr\n{}",
            status.code(),
            play.lines().join("\n"),
            play.stderr.lock().unwrap().join("\n")
        );
        assert_eq!(status.code(), Some(1), "{out}");
        (out, took)
    };
    // Bounded: s1's checks had at most 6 s to go.
    assert!(took < Duration::from_secs(30), "{took:?}: {out}");
    // main's work completed; ship2's is reported failed, with the reason.
    for n in [&m1, &m2] {
        assert_eq!(outcome(&out, n), ("done".into(), "started".into()), "{out}");
    }
    let (word, reason) = outcome(&out, &s1);
    assert_eq!(word, "FAILED", "{out}");
    assert!(
        reason.contains("running checks passed, but the container's state could not be confirmed")
            && reason.contains(&format!("ship ship2: inspect container {s1} failed"))
            && reason.contains("Connection refused"),
        "{out}"
    );
    assert_eq!(
        outcome(&out, &s2),
        ("skipped".into(), format!("{s1} failed")),
        "{out}"
    );

    // ship2 is back: start again converges, with one container of each name.
    let again = project.run(&["start"]);
    assert_status(&again, 0);
    let (main, ship2) = (tb.main(), tb.ship2());
    let mut names = [scope.containers(&main), scope.containers(&ship2)].concat();
    names.sort();
    let mut want = vec![m1.clone(), m2.clone(), s1.clone(), s2.clone()];
    want.sort();
    assert_eq!(names, want);
    for (docker, n) in [(&main, &m1), (&main, &m2), (&ship2, &s1), (&ship2, &s2)] {
        assert_eq!(
            docker.inspect(n)["State"]["Running"],
            true,
            "{n}: {}",
            stdout(&again)
        );
    }
}
