//! `maestro upgrade` and `maestro rollback` against real daemons and the testbed
//! registry: a new image deployed in health-gated batches while a prober requests
//! every instance each 50 ms, a bad image rolled back, a failed pull that stops
//! nothing, Ctrl-C (and a `kill -9`) in the middle of a swap, and a rollback to the
//! image id of before the upgrade.
//!
//! The images are `support::images`' `ok v1`, `ok v2`, and a bad one serving
//! `error: bad build` (its http check, matching `^ok v`, fails). Each test builds them under its
//! own names and moves one registry tag of its own between them, as a release does.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::Output;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

mod support;

use maestro_e2e::json_shape::Shape;
use maestro_e2e::{Scope, Testbed, free_port, repo_root};
use support::images::{Images, containers, image_of, project};
use support::project_file::maestro_own_home as maestro;
use support::{assert_status, text};

/// A `web` service of `ports.len()` instances on main, serving the live tag, gated by
/// an http check matching `^ok v` (at most `max_wait` seconds).
fn web_service(scope: &Scope, images: &Images, ports: &[u16], max_wait: u32) -> String {
    let mut s = format!(
        "  web:\n    image: {}\n    lifecycle:\n      running:\n        - {{type: http, port: web, path: /, match_regex: '^ok v', max_wait: {max_wait}}}\n    instances:\n",
        images.live
    );
    for (i, port) in ports.iter().enumerate() {
        s.push_str(&format!(
            "      {}: {{ship: main, stop_timeout: 2, ports: {{web: \"8080:{port}\"}}}}\n",
            scope.name(&format!("web-{}", i + 1))
        ));
    }
    s
}

/// `GET /` over HTTP/1.0 within `timeout`: the body of a 200 answer.
fn get(port: u16, timeout: Duration) -> Option<String> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut stream = TcpStream::connect_timeout(&addr, timeout).ok()?;
    stream.set_read_timeout(Some(timeout)).ok()?;
    stream.write_all(b"GET / HTTP/1.0\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let (head, body) = response.split_once("\r\n\r\n")?;
    head.contains(" 200 ").then(|| body.trim().to_owned())
}

/// The README's documented JSON shape under the heading containing `title`.
fn shape(title: &str) -> Shape {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).expect("README.md");
    Shape::from_readme(&readme, title)
}

/// The summary's JSON (`--format json`), checked against the README's shape.
fn summary(out: &Output) -> serde_json::Value {
    let text = String::from_utf8_lossy(&out.stdout);
    shape("The summary of a play").check_text(&text)
}

/// Each container's (result, detail or reason) from a JSON summary.
fn results(out: &Output) -> Vec<(String, String, String)> {
    summary(out)["containers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["container"].as_str().unwrap().to_owned(),
                c["result"].as_str().unwrap().to_owned(),
                c["detail"]
                    .as_str()
                    .or(c["reason"].as_str())
                    .unwrap_or_default()
                    .to_owned(),
            )
        })
        .collect()
}

/// Requests each port every 50 ms (each request on a thread of its own), until stopped.
struct Prober {
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<Vec<(Duration, bool)>>>,
}

/// What the prober saw: per port, when each request was sent (since the start) and
/// whether it was answered `ok ...`. A request counts at the moment it was sent: one
/// that hangs (Docker's port proxy accepts before the new container listens) is a
/// failure of that moment, not of the second it took to time out.
struct Probes {
    per_port: Vec<Vec<(Duration, bool)>>,
}

impl Prober {
    fn start(ports: &[u16]) -> Prober {
        let stop = Arc::new(AtomicBool::new(false));
        let began = Instant::now();
        let threads = ports
            .iter()
            .map(|&port| {
                let flag = stop.clone();
                std::thread::spawn(move || {
                    // A request every 50 ms, each on a thread of its own: one that
                    // hangs does not delay the next.
                    let mut sent = Vec::new();
                    let mut next = Instant::now();
                    while !flag.load(Ordering::Relaxed) {
                        sent.push(std::thread::spawn(move || {
                            // When it is really sent (a loaded machine may start
                            // the thread late).
                            let at = began.elapsed();
                            let ok = get(port, Duration::from_secs(1))
                                .is_some_and(|b| b.starts_with("ok"));
                            (at, ok)
                        }));
                        next += Duration::from_millis(50);
                        std::thread::sleep(next.saturating_duration_since(Instant::now()));
                    }
                    sent.into_iter()
                        .map(|r| r.join().expect("a request thread"))
                        .collect()
                })
            })
            .collect();
        Prober { stop, threads }
    }

    fn finish(self) -> Probes {
        self.stop.store(true, Ordering::Relaxed);
        Probes {
            per_port: self
                .threads
                .into_iter()
                .map(|t| t.join().expect("a prober thread"))
                .collect(),
        }
    }
}

impl Probes {
    fn requests(&self) -> usize {
        self.per_port.iter().map(Vec::len).sum()
    }

    fn failed_per_port(&self) -> Vec<usize> {
        self.per_port
            .iter()
            .map(|p| p.iter().filter(|(_, ok)| !ok).count())
            .collect()
    }

    /// Per 50 ms slot of sending time, which ports' requests sent then failed.
    fn slots(&self) -> Vec<Vec<usize>> {
        let slot = |at: Duration| (at.as_millis() / 50) as usize;
        let end = self
            .per_port
            .iter()
            .filter_map(|p| p.last().map(|e| slot(e.0)))
            .max()
            .unwrap_or(0);
        let mut slots = vec![Vec::new(); end + 1];
        for (i, p) in self.per_port.iter().enumerate() {
            for &(at, ok) in p {
                let down = &mut slots[slot(at)];
                if !ok && !down.contains(&i) {
                    down.push(i);
                }
            }
        }
        slots
    }

    /// The most ports failing requests sent in the same 50 ms.
    fn most_down_at_once(&self) -> usize {
        self.slots().iter().map(Vec::len).max().unwrap_or(0)
    }

    /// Every 50 ms, which ports failed (`.`: none; else the instance numbers).
    fn timeline(&self) -> String {
        self.slots()
            .into_iter()
            .map(|mut down| {
                down.sort_unstable();
                let text: String = down.iter().map(|&i| char::from(b'1' + i as u8)).collect();
                match down.len() {
                    0 => ".".to_owned(),
                    1 => text,
                    _ => format!("[{text}]"),
                }
            })
            .collect()
    }
}

/// The rolling upgrade of a 3-instance service (after its dependency on ship2)
/// while a prober requests each instance every 50 ms (a thread per instance): never
/// more than `--batch` instances failing in the same 50 ms, the
/// prober sees the swaps, and the end state is the new image everywhere. A second
/// run changes nothing (only what changed is replaced); a third, back to the old
/// version with `--batch 2`, has at most two down at once.
#[test]
fn a_rolling_upgrade_keeps_all_but_one_batch_serving() {
    let tb = Testbed::load();
    let scope = Scope::new("upgrade-roll");
    let images = Images::build(tb, &scope);
    let (main, ship2) = (tb.main(), tb.ship2());
    let ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let db = scope.name("db-1");
    let file = project(
        &scope,
        tb,
        &format!(
            "  db:\n    image: {}\n    instances:\n      {db}: {{ship: ship2, stop_timeout: 2}}\n{}    requires: [db]\n",
            images.live_ship2,
            web_service(&scope, &images, &ports, 10)
        ),
    );
    images.release("v1");
    assert_status(&maestro(&scope, &file, &["start"]), 0);
    for &p in &ports {
        assert_eq!(get(p, Duration::from_secs(2)).as_deref(), Some("ok v1"));
    }
    let env_before = main.inspect(&scope.name("web-1"))["Config"]["Env"].clone();
    images.release("v2");
    let prober = Prober::start(&ports);
    // Let the prober see everything up first.
    std::thread::sleep(Duration::from_millis(300));
    let began = Instant::now();
    let out = maestro(
        &scope,
        &file,
        &["upgrade", "-a", "--batch", "1", "--min-up", "1"],
    );
    let took = began.elapsed();
    std::thread::sleep(Duration::from_millis(300));
    let probes = prober.finish();
    assert_status(&out, 0);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let failed = probes.failed_per_port();
    let most_at_once = probes.most_down_at_once();
    let timeline = probes.timeline();
    eprintln!(
        "prober, --batch 1: {} requests over {took:?} of upgrade; failed requests per instance \
         {failed:?}, {} in all; at most {most_at_once} instance(s) failing in the same 50 ms\n\
         timeline (every 50 ms; . = all answered, N = instance N failed): {timeline}",
        probes.requests(),
        failed.iter().sum::<usize>()
    );
    assert!(
        probes.per_port.iter().all(|p| p.len() > 20),
        "the prober made too few requests"
    );
    assert!(
        most_at_once <= 1,
        "{most_at_once} instances were unavailable at once with --batch 1\n{timeline}\n{stdout}"
    );
    assert!(
        failed.iter().sum::<usize>() > 0,
        "an instance is down while it is swapped, and the prober must see it"
    );
    // Everything answered before anything changed (the prober works).
    assert!(timeline.starts_with("...."), "{timeline}");

    let v2 = images.id("v2");
    assert_eq!(image_of(&ship2, &db), v2);
    for (i, &p) in ports.iter().enumerate() {
        let name = scope.name(&format!("web-{}", i + 1));
        assert_eq!(image_of(&main, &name), v2, "{name}");
        assert_eq!(get(p, Duration::from_secs(2)).as_deref(), Some("ok v2"));
    }
    // Dependencies first: db passed before any web instance was stopped.
    let line_of = |pred: &dyn Fn(&str) -> bool| stdout.lines().position(pred);
    // The summary names the image it went to (short id).
    let upgraded = format!("upgraded to {}", &v2[..v2.len().min("sha256:".len() + 12)]);
    let db_done = line_of(&|l: &str| l.contains(&format!("] {db} (")) && l.contains(&upgraded))
        .unwrap_or_else(|| panic!("no upgraded line for {db}:\n{stdout}"));
    let web_stop = line_of(&|l: &str| l.contains("-web-") && l.ends_with(": stopping"))
        .unwrap_or_else(|| panic!("no stopping line for web:\n{stdout}"));
    assert!(db_done < web_stop, "{stdout}");
    // No container is left aside.
    for docker in [&main, &ship2] {
        let names = containers(&scope, docker);
        assert!(names.iter().all(|n| !n.ends_with(".previous")), "{names:?}");
    }
    // What a container observes is what `start` gave it.
    assert_eq!(
        main.inspect(&scope.name("web-1"))["Config"]["Env"],
        env_before
    );
    // The new containers record what they replaced.
    let label = |name: &str| {
        main.inspect(name)["Config"]["Labels"]["maestro.previous-image"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(label(&scope.name("web-1")), images.id("v1"));

    // Again: nothing changed, nothing is touched.
    let ids: Vec<String> = (1..=3)
        .map(|i| main.inspect(&scope.name(&format!("web-{i}")))["Id"].to_string())
        .collect();
    let again = maestro(&scope, &file, &["upgrade", "-a", "--format", "json"]);
    assert_status(&again, 0);
    for (name, result, detail) in results(&again) {
        assert_eq!(
            (result.as_str(), detail.as_str()),
            ("done", "up to date"),
            "{name}"
        );
    }
    let after: Vec<String> = (1..=3)
        .map(|i| main.inspect(&scope.name(&format!("web-{i}")))["Id"].to_string())
        .collect();
    assert_eq!(ids, after);

    // Back to v1 two at a time: never more than two instances down at once.
    images.release("v1");
    let prober = Prober::start(&ports);
    std::thread::sleep(Duration::from_millis(300));
    let out = maestro(&scope, &file, &["upgrade", "-s", "web", "--batch", "2"]);
    std::thread::sleep(Duration::from_millis(300));
    let probes = prober.finish();
    assert_status(&out, 0);
    let most_at_once = probes.most_down_at_once();
    let failed = probes.failed_per_port();
    eprintln!(
        "prober, --batch 2: {} requests, failed per instance {failed:?}, at most \
         {most_at_once} instance(s) down at once\ntimeline: {}",
        probes.requests(),
        probes.timeline()
    );
    assert!(
        most_at_once <= 2,
        "{most_at_once} instances were unavailable at once with --batch 2"
    );
    for &p in &ports {
        assert_eq!(get(p, Duration::from_secs(2)).as_deref(), Some("ok v1"));
    }
}

/// A new image failing its http check: the first replacement is rolled back (its
/// last log lines in the summary), the old container serves again under its name,
/// the other instance is not touched, exit 1.
#[test]
fn a_bad_image_is_rolled_back_and_the_old_version_serves_again() {
    let tb = Testbed::load();
    let scope = Scope::new("upgrade-bad");
    let images = Images::build(tb, &scope);
    let main = tb.main();
    let ports: Vec<u16> = (0..2).map(|_| free_port()).collect();
    let file = project(&scope, tb, &web_service(&scope, &images, &ports, 3));
    images.release("v1");
    assert_status(&maestro(&scope, &file, &["start"]), 0);
    let (w1, w2) = (scope.name("web-1"), scope.name("web-2"));
    let old_ids = (
        main.inspect(&w1)["Id"].to_string(),
        main.inspect(&w2)["Id"].to_string(),
    );
    images.release("bad");
    let out = maestro(&scope, &file, &["upgrade", "-s", "web", "--format", "json"]);
    assert_status(&out, 1);
    let s = summary(&out);
    assert_eq!(s["action"], "upgrade");
    assert_eq!(s["ok"], false);
    let first = &s["containers"][0];
    assert_eq!(first["container"], w1.as_str(), "{s:#}");
    assert_eq!(first["result"], "rolled_back", "{s:#}");
    let reason = first["reason"].as_str().unwrap();
    assert!(reason.contains("running checks failed"), "{reason}");
    // The failed container's last log lines.
    assert!(
        first["logs"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l == "serving error: bad build"),
        "{s:#}"
    );
    let second = &s["containers"][1];
    assert_eq!(second["result"], "skipped");
    assert!(
        second["reason"].as_str().unwrap().contains(&format!(
            "not touched: the upgrade stopped after {w1} failed"
        )),
        "{s:#}"
    );
    // The old containers, the very same ones, serve v1 again.
    assert_eq!(main.inspect(&w1)["Id"].to_string(), old_ids.0);
    assert_eq!(main.inspect(&w2)["Id"].to_string(), old_ids.1);
    for &p in &ports {
        assert_eq!(get(p, Duration::from_secs(2)).as_deref(), Some("ok v1"));
    }
    assert_eq!(image_of(&main, &w1), images.id("v1"));
    assert_eq!(containers(&scope, &main), vec![w1, w2]);
}

/// A pull that fails (the tag the file asks for is not in the registry): nothing is
/// stopped, exit 1, and the summary says so.
#[test]
fn a_failed_pull_stops_nothing() {
    let tb = Testbed::load();
    let scope = Scope::new("upgrade-pull");
    let images = Images::build(tb, &scope);
    let main = tb.main();
    let ports = vec![free_port()];
    let file = project(&scope, tb, &web_service(&scope, &images, &ports, 10));
    images.release("v1");
    assert_status(&maestro(&scope, &file, &["start"]), 0);
    let w1 = scope.name("web-1");
    let before = main.inspect(&w1);
    // The next release's tag, never pushed.
    let yaml = std::fs::read_to_string(&file).unwrap();
    let missing = images.live.replace(":live", ":never-pushed");
    std::fs::write(&file, yaml.replace(&images.live, &missing)).unwrap();
    let out = maestro(&scope, &file, &["upgrade", "-s", "web"]);
    assert_status(&out, 1);
    let (word, rest) = support::outcome(&support::stdout(&out), &w1);
    assert_eq!(word, "FAILED", "{}", text(&out));
    assert!(
        rest.contains("never-pushed") && rest.contains("nothing was stopped"),
        "{}",
        text(&out)
    );
    let after = main.inspect(&w1);
    assert_eq!(after["Id"], before["Id"]);
    assert_eq!(after["State"]["StartedAt"], before["State"]["StartedAt"]);
    assert_eq!(after["State"]["Running"], true);
    assert_eq!(
        get(ports[0], Duration::from_secs(2)).as_deref(),
        Some("ok v1")
    );
}

/// Ctrl-C while the first instance is being swapped: the swap under way finishes, no
/// other begins, every instance name has exactly one container and none is left
/// aside; a re-run converges. Then `kill -9` in the middle of a swap leaves the old
/// container aside as `.previous`: `status` shows it, and the next upgrade resolves
/// it (as does a `start`, after another `kill -9`).
#[test]
fn interrupted_upgrades_leave_one_container_per_name_and_converge() {
    let tb = Testbed::load();
    let scope = Scope::new("upgrade-int");
    let images = Images::build(tb, &scope);
    let main = tb.main();
    let ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
    // No running checks: each replacement must stay up 2 s, time to interrupt it.
    let yaml = web_service(&scope, &images, &ports, 10);
    let yaml = yaml.replace(
        "    lifecycle:\n      running:\n        - {type: http, port: web, path: /, match_regex: '^ok v', max_wait: 10}\n",
        "",
    );
    let file = project(&scope, tb, &yaml);
    images.release("v1");
    assert_status(&maestro(&scope, &file, &["start"]), 0);
    images.release("v2");
    let names: Vec<String> = (1..=3).map(|i| scope.name(&format!("web-{i}"))).collect();
    let project_dir = file.parent().unwrap();
    let staying_up = |lines: &[String], who: &str| {
        lines
            .iter()
            .any(|l| l.contains(&format!("] {who} (")) && l.contains("staying up"))
    };

    // Ctrl-C.
    let home = scope.scratch_dir("home");
    let spawn = |args: &[&str]| {
        let project = support::Project {
            dir: project_dir.to_owned(),
        };
        let mut cmd = project.command(args);
        cmd.env("HOME", &home);
        support::Running::spawn(cmd)
    };
    let mut run = spawn(&["upgrade", "-s", "web", "--min-up", "2"]);
    run.wait_for("the first swap", Duration::from_secs(60), |l| {
        staying_up(l, &names[0])
    });
    let code = run.interrupt(Duration::from_secs(30));
    assert_eq!(code, 130, "{:#?}", run.lines());
    assert_eq!(containers(&scope, &main), names, "one container per name");
    let v1 = images.id("v1");
    let v2 = images.id("v2");
    assert_eq!(
        image_of(&main, &names[0]),
        v2,
        "the swap under way finished"
    );
    assert_eq!(image_of(&main, &names[1]), v1, "no other swap began");
    for &p in &ports {
        assert!(get(p, Duration::from_secs(2)).is_some_and(|b| b.starts_with("ok")));
    }
    let rerun = maestro(&scope, &file, &["upgrade", "-s", "web", "--min-up", "1"]);
    assert_status(&rerun, 0);
    for n in &names {
        assert_eq!(image_of(&main, n), v2, "{n}");
    }

    // kill -9 in the middle of a swap (back to v1).
    images.release("v1");
    let mut run = spawn(&["upgrade", "-s", "web", "--min-up", "30"]);
    run.wait_for("the first swap", Duration::from_secs(60), |l| {
        staying_up(l, &names[0])
    });
    run.child.kill().expect("kill -9 maestro");
    let _ = run.child.wait();
    let previous = format!("{}.previous", names[0]);
    let mut left = names.clone();
    left.insert(1, previous.clone());
    assert_eq!(containers(&scope, &main), left, "the old one is kept aside");
    let status = maestro(&scope, &file, &["status", "web"]);
    let status_text = support::stdout(&status);
    assert!(
        status_text.contains(&previous),
        "status shows the container left aside:\n{}",
        text(&status)
    );
    let status = maestro(&scope, &file, &["status", "web", "--format", "json"]);
    let v = shape("`maestro status --format json`").check_text(&support::stdout(&status));
    assert_eq!(v[0]["left_aside"], previous.as_str(), "{v:#}");
    assert!(v[1].get("left_aside").is_none(), "{v:#}");
    let resolve = maestro(
        &scope,
        &file,
        &["upgrade", "-s", "web", "--min-up", "1", "--format", "json"],
    );
    assert_status(&resolve, 0);
    let got = results(&resolve);
    assert!(
        got[0]
            .2
            .contains("confirmed an interrupted run's replacement first"),
        "{got:?}"
    );
    assert_eq!(containers(&scope, &main), names, "nothing left aside");
    for n in &names {
        assert_eq!(image_of(&main, n), v1, "{n}");
    }

    // kill -9 again, then `start`: the replacement runs, so start leaves it and
    // removes what was kept aside.
    images.release("v2");
    let mut run = spawn(&["upgrade", "-s", "web", "--min-up", "30"]);
    run.wait_for("the first swap", Duration::from_secs(60), |l| {
        staying_up(l, &names[0])
    });
    run.child.kill().expect("kill -9 maestro");
    let _ = run.child.wait();
    assert_eq!(containers(&scope, &main), left, "the old one is kept aside");
    let start = maestro(&scope, &file, &["start", "web"]);
    assert_status(&start, 0);
    assert_eq!(
        containers(&scope, &main),
        names,
        "start removed the old one"
    );
    assert_eq!(image_of(&main, &names[0]), v2);
}

/// `rollback` after a good upgrade puts back the image id of before (the tag now
/// names the new image: the id recorded on the container decides); `plan upgrade
/// --observe` then sees the containers as not current.
#[test]
fn rollback_restores_the_image_id_of_before_the_upgrade() {
    let tb = Testbed::load();
    let scope = Scope::new("upgrade-rb");
    let images = Images::build(tb, &scope);
    let main = tb.main();
    let ports: Vec<u16> = (0..2).map(|_| free_port()).collect();
    let file = project(&scope, tb, &web_service(&scope, &images, &ports, 10));
    images.release("v1");
    assert_status(&maestro(&scope, &file, &["start"]), 0);
    // Started containers have no earlier image: rollback leaves them.
    let nothing = maestro(
        &scope,
        &file,
        &["rollback", "-s", "web", "--format", "json"],
    );
    assert_status(&nothing, 0);
    let names: Vec<String> = (1..=2).map(|i| scope.name(&format!("web-{i}"))).collect();
    let mut left = results(&nothing);
    left.sort();
    assert_eq!(
        left.iter().map(|(n, _, _)| n).collect::<Vec<_>>(),
        names.iter().collect::<Vec<_>>(),
        "{}",
        text(&nothing)
    );
    assert!(
        left.iter()
            .all(|(_, r, d)| r == "done" && d.contains("no earlier image")),
        "{}",
        text(&nothing)
    );
    images.release("v2");
    assert_status(
        &maestro(&scope, &file, &["upgrade", "-s", "web", "--batch", "2"]),
        0,
    );
    let (v1, v2) = (images.id("v1"), images.id("v2"));
    for n in &names {
        assert_eq!(image_of(&main, n), v2);
    }
    let out = maestro(&scope, &file, &["rollback", "-s", "web"]);
    assert_status(&out, 0);
    for (n, &p) in names.iter().zip(&ports) {
        assert_eq!(image_of(&main, n), v1, "{n}");
        assert_eq!(get(p, Duration::from_secs(2)).as_deref(), Some("ok v1"));
        let (word, rest) = support::outcome(&support::stdout(&out), n);
        assert_eq!(word, "done");
        // The summary names the image it went back to (short id).
        let short = &v1[..v1.len().min("sha256:".len() + 12)];
        assert!(
            rest.starts_with(&format!("rolled back to {short}")),
            "{rest}"
        );
    }
    // The tag still names v2: an upgrade would replace both.
    let plan = maestro(
        &scope,
        &file,
        &["plan", "upgrade", "-s", "web", "--observe"],
    );
    assert_status(&plan, 0);
    let plan_text = support::stdout(&plan);
    for n in &names {
        let line = plan_text
            .lines()
            .find(|l| l.starts_with(n.as_str()))
            .unwrap_or_else(|| panic!("no line for {n}:\n{plan_text}"));
        assert!(line.contains("stop, keep aside as .previous"), "{line}");
    }
    // Upgraded again, they are current; then a change of configuration alone (an
    // environment variable) makes them not current.
    assert_status(
        &maestro(&scope, &file, &["upgrade", "-s", "web", "--batch", "2"]),
        0,
    );
    let decisions = |file: &Path| {
        let plan = maestro(&scope, file, &["plan", "upgrade", "-s", "web", "--observe"]);
        assert_status(&plan, 0);
        let text = support::stdout(&plan);
        names
            .iter()
            .map(|n| {
                text.lines()
                    .find(|l| l.starts_with(n.as_str()))
                    .unwrap_or_else(|| panic!("no line for {n}:\n{text}"))
                    .to_owned()
            })
            .collect::<Vec<_>>()
    };
    assert!(
        decisions(&file)
            .iter()
            .all(|l| l.contains("leave (up to date)")),
        "{:?}",
        decisions(&file)
    );
    let yaml = std::fs::read_to_string(&file).unwrap();
    std::fs::write(
        &file,
        yaml.replace(
            "    lifecycle:\n",
            "    env: {RELEASE_NOTE: changed}\n    lifecycle:\n",
        ),
    )
    .unwrap();
    assert!(
        decisions(&file)
            .iter()
            .all(|l| l.contains("stop, keep aside as .previous")),
        "{:?}",
        decisions(&file)
    );
    let mut plan = shape("`maestro plan ACTION --format json`");
    let out = maestro(
        &scope,
        &file,
        &[
            "plan",
            "upgrade",
            "-s",
            "web",
            "--observe",
            "--format",
            "json",
        ],
    );
    assert_status(&out, 0);
    let v = plan.check_text(&support::stdout(&out));
    assert_eq!(v["action"], "upgrade");
    assert_eq!(v["steps"][1]["batch"], 1);
    assert_eq!(v["steps"][0]["observed"]["leftover"], "none");
    assert_eq!(v["steps"][0]["decision"]["swap"], "swap");
    assert_eq!(v["steps"][0]["decision"]["stop_old"], true);
    assert_eq!(v["steps"][0]["decision"]["image"], images.live.as_str());
    let out = maestro(
        &scope,
        &file,
        &[
            "plan",
            "rollback",
            "-s",
            "web",
            "--observe",
            "--format",
            "json",
        ],
    );
    let v = plan.check_text(&support::stdout(&out));
    assert_eq!(v["steps"][0]["decision"]["image"], images.id("v1").as_str());
}
