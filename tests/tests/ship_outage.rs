//! `maestro status` while ship2's Docker daemon is really stopped, and after
//! `tests/testbed/up` has brought it back; `maestro start`, and `maestro upgrade`
//! mid-swap, while ship2's daemon is killed (SIGKILL) in the middle of them, and
//! again once it is back.
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
use support::images::{Images, containers, image_of, project};
use support::project_file::{maestro_own_home as maestro, maestro_own_home_cli};
use support::{
    Project, Running, TestbedLock, assert_status, outcome, ships_yaml, stderr, stdout, text,
};

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

/// Whether `name`'s progress says it runs a `sleep` check.
fn checking(lines: &[String], name: &str) -> bool {
    lines
        .iter()
        .any(|l| l.contains(&format!("] {name} ")) && l.contains("checking sleep"))
}

/// Kills ship2's dockerd (SIGKILL) once every one of `names` is `checking` in the
/// progress of the play `spawn` starts (`action`: its summary's first word), then
/// waits at most 60 s for maestro to end. Returns its exit status, its output
/// (stdout, then stderr) and how long it ran after the kill. The testbed's lock is
/// held meanwhile, and ship2 is back (`tests/testbed/up`) when this returns, even
/// after a panic.
fn kill_ship2_while(
    tb: &Testbed,
    spawn: impl FnOnce() -> Running,
    action: &str,
    names: &[&str],
) -> (Option<i32>, String, Duration) {
    // Dropped in reverse order: the lock is released, then `up` (which takes it)
    // brings ship2 back, even after a panic.
    let _back = BringBack;
    let _lock = TestbedLock::take();
    let pid = ship2_pid(tb);
    let mut play = spawn();
    let all_checking = |lines: &[String]| names.iter().all(|n| checking(lines, n));
    let summary = format!("{action}: ");
    play.wait_for(
        &format!("{names:?} checking"),
        Duration::from_secs(120),
        |lines| all_checking(lines) || lines.iter().any(|l| l.starts_with(&summary)),
    );
    assert!(all_checking(&play.lines()), "{:#?}", play.lines());
    let ok = Command::new("kill").args(["-KILL", &pid]).status();
    assert!(ok.is_ok_and(|s| s.success()), "kill -KILL {pid}");
    let killed = Instant::now();
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
    // The last lines reach the collecting threads.
    std::thread::sleep(Duration::from_millis(200));
    let out = format!(
        "status {:?}\n{}\n--- stderr\n{}",
        status.code(),
        play.lines().join("\n"),
        play.stderr.lock().unwrap().join("\n")
    );
    (status.code(), out, took)
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
    let (code, out, took) =
        kill_ship2_while(tb, || project.spawn(&["start"]), "start", &[&m1, &s1]);
    assert_eq!(code, Some(1), "{out}");
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

/// `maestro upgrade` (v1 → v2) while ship2's dockerd is killed (SIGKILL) during the
/// gate of ship2's first replacement: maestro ends in bounded time with exit 1,
/// main's instance upgraded and ship2's reported with the reason; once ship2 is
/// back each of its instance names has one container, plus at most a
/// `NAME.previous` that `status` shows; the next `upgrade` resolves it and
/// converges (issue #15: a lost ship mid-upgrade).
#[test]
fn upgrade_while_ship2_daemon_is_killed_mid_swap_then_converges() {
    let tb = Testbed::load();
    let scope = Scope::new("upship2");
    let images = Images::build(tb, &scope);
    let [m1, s1, s2] = ["m1", "s1", "s2"].map(|n| scope.name(n));
    // main: m1 (3 s of checks). ship2: s1 then s2 (6 s each, one batch at a time).
    let file = project(
        &scope,
        tb,
        &format!(
            r#"  m:
    image: {live}
    lifecycle:
      running: [{{type: sleep, wait: 3}}]
    instances:
      {m1}: {{ship: main, stop_timeout: 1}}
  s:
    image: {live_ship2}
    lifecycle:
      running: [{{type: sleep, wait: 6}}]
    instances:
      {s1}: {{ship: ship2, stop_timeout: 1}}
      {s2}: {{ship: ship2, stop_timeout: 1}}
"#,
            live = images.live,
            live_ship2 = images.live_ship2,
        ),
    );
    images.release("v1");
    assert_status(&maestro(&scope, &file, &["start"]), 0);
    images.release("v2");
    let (code, out, took) = kill_ship2_while(
        tb,
        || Running::spawn(maestro_own_home_cli(&scope, &file, &["upgrade", "-a"])),
        "upgrade",
        &[&m1, &s1],
    );
    eprintln!("the upgrade ship2 was lost in:\n{out}");
    assert_eq!(code, Some(1), "{out}");
    // Bounded: s1's checks had at most 6 s to go.
    assert!(took < Duration::from_secs(30), "{took:?}: {out}");
    let (word, detail) = outcome(&out, &m1);
    assert_eq!(word, "done", "{out}");
    assert!(detail.starts_with("upgraded to sha256:"), "{out}");
    let (word, reason) = outcome(&out, &s1);
    assert_eq!(word, "FAILED", "{out}");
    assert!(
        reason.contains("running checks passed, but the container's state could not be confirmed")
            && reason.contains("ship ship2: ")
            && reason.contains("Connection refused")
            && reason.contains("then rolling back failed")
            && reason.ends_with(&format!(
                "the old container stays aside as {s1}.previous (the next upgrade or start \
                 resolves it)"
            )),
        "{out}"
    );
    assert_eq!(
        outcome(&out, &s2),
        (
            "skipped".into(),
            format!("not touched: the upgrade stopped after {s1} failed")
        ),
        "{out}"
    );

    // ship2 is back. Each name has its container, and at most a `NAME.previous`
    // next to it, which `status` shows.
    let (main, ship2) = (tb.main(), tb.ship2());
    let left = containers(&scope, &ship2);
    eprintln!("on ship2 after the outage: {left:?}");
    let s1_previous = format!("{s1}.previous");
    assert!(
        left.iter().all(|n| [&s1, &s1_previous, &s2].contains(&n)),
        "{left:?}"
    );
    assert!(
        left.contains(&s2) && (left.contains(&s1) || left.contains(&s1_previous)),
        "{left:?}"
    );
    let status = maestro(&scope, &file, &["status"]);
    let json = maestro(&scope, &file, &["status", "--format", "json"]);
    let rows: serde_json::Value = serde_json::from_str(&stdout(&json)).expect("status JSON");
    eprintln!("status after the outage:\n{}", stdout(&status));
    for name in [&s1, &s2] {
        let aside = format!("{name}.previous");
        let row = rows
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["instance"] == name.as_str())
            .unwrap_or_else(|| panic!("no row for {name}: {rows:#}"));
        if left.contains(&aside) {
            assert!(
                stdout(&status)
                    .contains(&format!("  {aside}: kept aside by an interrupted upgrade")),
                "{}",
                text(&status)
            );
            assert_eq!(row["left_aside"], aside.as_str(), "{rows:#}");
        } else {
            assert!(row.get("left_aside").is_none(), "{rows:#}");
        }
    }

    // The next upgrade resolves what was left and converges.
    let again = maestro(&scope, &file, &["upgrade", "-a"]);
    eprintln!("the upgrade after the outage:\n{}", stdout(&again));
    assert_status(&again, 0);
    if left.contains(&s1_previous) {
        let (_, detail) = outcome(&stdout(&again), &s1);
        assert!(detail.contains("an interrupted run"), "{}", text(&again));
    }
    assert_eq!(containers(&scope, &main), vec![m1.clone()]);
    assert_eq!(containers(&scope, &ship2), vec![s1.clone(), s2.clone()]);
    let v2 = images.id("v2");
    for (docker, n) in [(&main, &m1), (&ship2, &s1), (&ship2, &s2)] {
        assert_eq!(image_of(docker, n), v2, "{n}: {}", text(&again));
        assert_eq!(docker.inspect(n)["State"]["Running"], true, "{n}");
    }
}
