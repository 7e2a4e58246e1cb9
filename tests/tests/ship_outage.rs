//! `maestro status` while ship2's Docker daemon is really stopped, and after
//! `tests/testbed/up` has brought it back.
//!
//! A test binary of its own: cargo runs test binaries one after another, so
//! no other scenario of this workspace uses ship2 during the outage. The
//! testbed's lock is held while the daemon is stopped, so no `up` or `down`
//! interferes, and the daemon is brought back whatever happens (a panic
//! included). The outage lasts as long as ship2's dockerd takes to stop and
//! start (some 20 s).

mod support;

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use maestro_e2e::{Scope, Testbed, poll};
use support::{Project, TestbedLock, assert_status, stderr, stdout};

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
