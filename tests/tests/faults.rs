//! Fault tests against the real testbed (issue 8): a registry that answers 500
//! and then 200 (a fault-injecting proxy on loopback), a registry that is down,
//! lifecycle checks that never pass, SIGINT and SIGTERM in the middle of a
//! play, and guest rendering that fails part-way. ship2's daemon killed in the
//! middle of a play is in `ship_outage.rs` (it must run alone).
//!
//! Every container is named inside a [`Scope`], removed when the test ends.

mod support;

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use maestro_e2e::{Docker, Scope, Testbed, bin, poll};
use support::proxy::FaultyRegistry;
use support::{assert_status, outcome, ships_yaml, text};

/// `maestro.yaml` (name, ships, `rest`) in a scratch directory; its path.
fn project(scope: &Scope, tb: &Testbed, rest: &str) -> PathBuf {
    let file = scope.scratch_dir("project").join("maestro.yaml");
    let text = format!("name: {}\n{}{rest}", scope.prefix(), ships_yaml(tb));
    std::fs::write(&file, text).expect("writing maestro.yaml");
    file
}

/// `maestro -f FILE ARGS`, with a home of its own (no Docker credentials), not run yet.
fn maestro(scope: &Scope, file: &std::path::Path, args: &[&str]) -> Command {
    let mut cmd = maestro_e2e::maestro_cli(file, args);
    cmd.env("HOME", scope.scratch_dir("home"));
    cmd
}

fn run(mut cmd: Command) -> Output {
    cmd.output().expect("running maestro")
}

/// The summary line of `container` (`  done  NAME  detail`), or a panic.
#[track_caller]
fn summary_line(out: &Output, container: &str) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout);
    stdout
        .lines()
        .rev()
        .find(|l| l.starts_with("  ") && l.split_whitespace().nth(1) == Some(container))
        .map(str::to_owned)
        .unwrap_or_else(|| panic!("no summary line for {container}: {}", text(out)))
}

fn exists(docker: &Docker, name: &str) -> bool {
    docker
        .try_run(["inspect", "--type", "container", name])
        .is_ok()
}

fn running(docker: &Docker, name: &str) -> bool {
    docker.inspect(name)["State"]["Running"] == true
}

// ---------------------------------------------------------------- registry

/// Removes a local image tag when dropped.
struct Untag(Docker, Vec<String>);

impl Drop for Untag {
    fn drop(&mut self) {
        for image in &self.1 {
            let _ = self.0.try_run(["rmi", "-f", image]);
        }
    }
}

/// The `registries:` entry of `127.0.0.1:PORT` with the testbed's credentials.
fn registry_entry(tb: &Testbed, port: u16, retry: &str) -> String {
    format!(
        "registries:\n  \"127.0.0.1:{port}\":\n    registry: http://127.0.0.1:{port}\n    \
         username: {}\n    password: \"{}\"\n    retry: {retry}\n",
        tb.registry_user(),
        tb.registry_password()
    )
}

/// What a `pull` through a proxy that fails the first `fail_first` manifest
/// requests gives.
struct Pulled {
    out: Output,
    took: Duration,
    manifest_requests: usize,
    injected: usize,
    log: Vec<String>,
    image: String,
}

fn pull_through(
    tb: &Testbed,
    scope: &Scope,
    repo_tag: &str,
    fail_first: usize,
    retry: &str,
) -> Pulled {
    let proxy = FaultyRegistry::start(tb.registry(), fail_first);
    let image = format!("127.0.0.1:{}/{repo_tag}", proxy.port);
    let _untag = Untag(tb.main(), vec![image.clone()]);
    let a = scope.name("a");
    let file = project(
        scope,
        tb,
        &format!(
            "{}services:\n  s:\n    image: {image}\n    instances:\n      {a}: {{ship: main, command: sleep 300}}\n",
            registry_entry(tb, proxy.port, retry)
        ),
    );
    let t0 = Instant::now();
    let out = run(maestro(scope, &file, &["pull"]));
    let took = t0.elapsed();
    let pulled = Pulled {
        took,
        manifest_requests: proxy.manifest_requests(),
        injected: proxy.injected(),
        log: proxy.log(),
        image,
        out,
    };
    assert!(
        !text(&pulled.out).contains(&tb.registry_password()),
        "the password is shown: {}",
        text(&pulled.out)
    );
    pulled
}

impl Pulled {
    fn show(&self) -> String {
        format!(
            "{}\ntook {:?}\nproxy: {:#?}",
            text(&self.out),
            self.took,
            self.log
        )
    }
}

/// The main dockerd (20.10) answers a pull whose manifest request gets a 500
/// by trying the manifest once more (a HEAD, then a GET), then refuses
/// `POST /images/create` with HTTP 500: one pull attempt costs two manifest
/// requests, and a successful one (the layers are already local) a HEAD, and a
/// GET too when the daemon no longer holds the manifest.
#[test]
fn registry_answering_500_then_200_is_retried_as_retry_says() {
    let tb = Testbed::load();
    let scope = Scope::new("retry");
    // A tag of the scope's own, so the main daemon does not have it.
    let pushed = support::push_to_registry(tb, &scope, scope.prefix());
    let repo_tag = pushed
        .strip_prefix(&format!("{}/", tb.registry()))
        .expect("the registry's name first")
        .to_owned();

    // Two refused attempts out of three allowed: the third pulls.
    let p = pull_through(tb, &scope, &repo_tag, 4, "{attempts: 3, when: [500]}");
    assert_status(&p.out, 0);
    assert_eq!(p.injected, 2 * 2, "{}", p.show());
    assert!(
        (1..=2).contains(&(p.manifest_requests - p.injected)),
        "{}",
        p.show()
    );
    // MaestroNG pauses 1 s before each new attempt, and says so.
    assert!(p.took >= Duration::from_secs(2), "{}", p.show());
    let stdout = String::from_utf8_lossy(&p.out.stdout);
    for n in [2, 3] {
        let retrying = format!("pull refused (HTTP 500), retrying: attempt {n} of 3");
        assert!(stdout.contains(&retrying), "{}", p.show());
    }

    let a = scope.name("a");
    // 500 not listed in `when`: the first refusal is final.
    let p = pull_through(tb, &scope, &repo_tag, 2, "{attempts: 3, when: []}");
    assert_status(&p.out, 1);
    assert_eq!(p.manifest_requests, 2, "{}", p.show());
    assert!(!text(&p.out).contains("retrying"), "{}", p.show());
    let line = summary_line(&p.out, &a);
    assert!(
        line.contains("FAILED")
            && line.contains(&format!("pull image {} failed", p.image))
            && line.contains("500 Internal Server Error"),
        "{}",
        p.show()
    );

    // Every attempt refused: the last error is reported (0.8.3 went on silently).
    let p = pull_through(tb, &scope, &repo_tag, 100, "{attempts: 2, when: [500]}");
    assert_status(&p.out, 1);
    assert_eq!(p.manifest_requests, 2 * 2, "{}", p.show());
    let line = summary_line(&p.out, &a);
    assert!(
        line.contains(&format!("pull image {} (attempt 2 of 2) failed", p.image))
            && line.contains("500 Internal Server Error"),
        "{}",
        p.show()
    );
    assert!(!exists_image(&tb.main(), &p.image));
}

fn exists_image(docker: &Docker, image: &str) -> bool {
    docker.try_run(["image", "inspect", image]).is_ok()
}

/// A registry that does not answer at all (a closed loopback port): `start` fails
/// the container at its pull, within a bounded time, skips what depends on it and
/// carries on with the rest.
#[test]
fn registry_down_fails_cleanly() {
    let tb = Testbed::load();
    let scope = Scope::new("regdown");
    let closed = maestro_e2e::free_port();
    let image = format!("127.0.0.1:{closed}/maestro-test/busybox:{}", scope.prefix());
    let (a, b, c) = (scope.name("a"), scope.name("b"), scope.name("c"));
    let file = project(
        &scope,
        tb,
        &format!(
            "{}services:
  s:
    image: {image}
    instances:
      {a}: {{ship: main, command: sleep 300}}
  t:
    image: {busybox}
    requires: [s]
    instances:
      {b}: {{ship: main, command: sleep 300}}
  u:
    image: {busybox}
    instances:
      {c}: {{ship: main, command: sleep 300}}
",
            registry_entry(tb, closed, "{attempts: 3, when: [500]}"),
            busybox = tb.test_image(),
        ),
    );
    let t0 = Instant::now();
    let out = run(maestro(&scope, &file, &["start"]));
    let took = t0.elapsed();
    eprintln!("{}", text(&out));
    assert_status(&out, 1);
    assert!(took < Duration::from_secs(30), "{took:?}: {}", text(&out));
    assert!(
        !text(&out).contains(&tb.registry_password()),
        "password shown"
    );
    let line = summary_line(&out, &a);
    assert!(
        line.contains("FAILED") && line.contains(&format!("pull image {image}")),
        "{}",
        text(&out)
    );
    let line = summary_line(&out, &b);
    assert!(
        line.contains("skipped") && line.contains(&format!("{a} failed")),
        "{line}"
    );
    assert!(summary_line(&out, &c).contains("done"), "{}", text(&out));
    let main = tb.main();
    assert!(!exists(&main, &a) && !exists(&main, &b) && running(&main, &c));
}

// ------------------------------------------------------------------ checks

/// The elapsed seconds of the first progress line of `container` that contains `what`.
fn progress_at(out: &Output, container: &str, what: &str) -> Option<f64> {
    String::from_utf8_lossy(&out.stdout).lines().find_map(|l| {
        let rest = l.strip_prefix('[')?;
        let (secs, line) = rest.split_once("s] ")?;
        (line.starts_with(&format!("{container} ")) && line.contains(what))
            .then(|| secs.trim().parse().ok())?
    })
}

/// Three checks that can never pass, each with a small deadline: a `tcp` check on a
/// published port nothing listens on (ship2 refuses the connection), an `http` check
/// answered `500`, an `exec` check exiting 1. Each fails within its deadline (plus
/// slack) naming the check and the last attempt's reason; what depends on it is not
/// created; the play exits 1.
#[test]
fn checks_that_never_pass_fail_in_time_with_their_reason() {
    let tb = Testbed::load();
    let scope = Scope::new("nevercheck");
    let image = tb.test_image();
    let [t, t2, h, h2, e, e2] = ["t", "t2", "h", "h2", "e", "e2"].map(|s| scope.name(s));
    let (tcp_port, http_port) = (maestro_e2e::free_port(), maestro_e2e::free_port());
    let file = project(
        &scope,
        tb,
        &format!(
            r##"services:
  tcp:
    image: {image}
    ports: {{probe: "{tcp_port}:{tcp_port}"}}
    instances:
      {t}:
        ship: ship2
        stop_timeout: 1
        command: sleep 300
        lifecycle:
          running: [{{type: tcp, port: probe, max_wait: 2}}]
  http:
    image: {image}
    ports: {{web: "8080:{http_port}"}}
    instances:
      {h}:
        ship: main
        stop_timeout: 1
        command: >-
          sh -c 'mkdir -p /w/cgi-bin && printf "#!/bin/sh\\necho Status: 500 Internal Server Error\\necho\\necho broken\\n" > /w/cgi-bin/x && chmod +x /w/cgi-bin/x && exec httpd -f -p 8080 -h /w'
        lifecycle:
          running: [{{type: http, port: web, path: /cgi-bin/x, max_wait: 3}}]
  exec:
    image: {image}
    instances:
      {e}:
        ship: main
        stop_timeout: 1
        command: sleep 300
        lifecycle:
          running: [{{type: exec, command: "sh -c 'echo not ready; exit 1'", attempts: 2}}]
  after:
    image: {image}
    requires: [tcp, http, exec]
    instances:
      {t2}: {{ship: ship2, command: sleep 300}}
  after-http:
    image: {image}
    requires: [http]
    instances:
      {h2}: {{ship: main, command: sleep 300}}
  after-exec:
    image: {image}
    requires: [exec]
    instances:
      {e2}: {{ship: main, command: sleep 300}}
"##
        ),
    );
    let t0 = Instant::now();
    let out = run(maestro(&scope, &file, &["start"]));
    let took = t0.elapsed();
    assert_status(&out, 1);
    let cases = [
        (
            &t,
            2.0,
            vec![
                "running checks failed: tcp port probe".to_owned(),
                format!("no connection to {}:{tcp_port} within 2s", tb.ship2_addr()),
                "Connection refused".to_owned(),
            ],
        ),
        (
            &h,
            3.0,
            vec![
                "running checks failed: http port web /cgi-bin/x".to_owned(),
                "status 500 Internal Server Error".to_owned(),
                "within 3s".to_owned(),
            ],
        ),
        // `attempts` tries one second apart: a window of attempts - 1 seconds.
        (
            &e,
            1.0,
            vec![
                "running checks failed: exec".to_owned(),
                "failed 2 time(s); last: exit status 1: not ready".to_owned(),
            ],
        ),
    ];
    for (name, deadline, words) in &cases {
        let line = summary_line(&out, name);
        assert!(line.contains("FAILED"), "{}", text(&out));
        for w in words {
            assert!(line.contains(w.as_str()), "{w:?} not in {line}");
        }
        let began = progress_at(&out, name, ": checking ")
            .unwrap_or_else(|| panic!("no checking line for {name}: {}", text(&out)));
        let failed = progress_at(&out, name, ": failed: ")
            .unwrap_or_else(|| panic!("no failed line for {name}: {}", text(&out)));
        let spent = failed - began;
        assert!(
            spent >= deadline - 0.2 && spent <= deadline + 2.5,
            "{name}: checks took {spent}s for a {deadline}s deadline: {}",
            text(&out)
        );
    }
    // t2 waits for all three: its reason names whichever failed first.
    for name in [&t2, &h2, &e2] {
        let line = summary_line(&out, name);
        assert!(line.contains("skipped"), "{line}");
        assert!(
            line.contains(" failed") && cases.iter().any(|c| line.contains(c.0.as_str())),
            "{line}"
        );
    }
    assert!(!exists(&tb.ship2(), &t2));
    assert!(!exists(&tb.main(), &h2) && !exists(&tb.main(), &e2));
    assert!(took < Duration::from_secs(30), "{took:?}");
}

// ----------------------------------------------------------------- signals

/// Sends `signal` (`INT`, `TERM`) to `pid`.
fn signal(pid: u32, signal: &str) {
    let ok = Command::new("kill")
        .args([&format!("-{signal}"), &pid.to_string()])
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "kill -{signal} {pid}");
}

/// `start` of three layers across main and ship2 (the first takes 4 s of checks),
/// interrupted by `first` once both first-layer containers are checking, and by
/// `second` right after if given. Then: the exit status, every container's state in
/// the output, no container on a ship that the output does not account for, and a
/// second `start` that converges.
fn interrupted_start(label: &str, first: &str, second: Option<&str>) {
    let tb = Testbed::load();
    let scope = Scope::new(label);
    let image = tb.test_image();
    let [a1, a2, b, c] = ["a1", "a2", "b", "c"].map(|s| scope.name(s));
    let yaml = format!(
        r#"name: {prefix}
{ships}services:
  a:
    image: {image}
    lifecycle:
      running: [{{type: sleep, wait: 4}}]
    instances:
      {a1}: {{ship: main, stop_timeout: 1, command: sleep 300}}
      {a2}: {{ship: ship2, stop_timeout: 1, command: sleep 300}}
  b:
    image: {image}
    requires: [a]
    lifecycle:
      running: [{{type: sleep, wait: 1}}]
    instances:
      {b}: {{ship: main, stop_timeout: 1, command: sleep 300}}
  c:
    image: {image}
    requires: [b]
    instances:
      {c}: {{ship: ship2, stop_timeout: 1, command: sleep 300}}
"#,
        prefix = scope.prefix(),
        ships = ships_yaml(tb),
    );
    let project = support::Project::new(&scope, &yaml);
    let mut play = project.spawn(&["start"]);
    let checking = |lines: &[String]| {
        [&a1, &a2].iter().all(|n| {
            lines
                .iter()
                .any(|l| l.contains(&format!("] {n} ")) && l.contains("checking sleep"))
        })
    };
    // Also stops waiting when the play ended (and fails just below).
    play.wait_for(
        "both first-layer containers checking",
        Duration::from_secs(60),
        |lines| checking(lines) || lines.iter().any(|l| l.starts_with("start: ")),
    );
    assert!(checking(&play.lines()), "{:#?}", play.lines());
    let pid = play.child.id();
    let sent = Instant::now();
    signal(pid, first);
    if let Some(second) = second {
        // Let the first be seen (the summary of a second signal says so), then again.
        std::thread::sleep(Duration::from_millis(300));
        signal(pid, second);
    }
    let status = poll(Duration::from_secs(30), || {
        play.child.try_wait().ok().flatten()
    })
    .unwrap_or_else(|| panic!("maestro did not end within 30 s of SIG{first}"));
    let took = sent.elapsed();
    // The output readers end with the process's pipes.
    std::thread::sleep(Duration::from_millis(200));
    let stdout = play.lines().join("\n");
    let stderr = play.stderr.lock().unwrap().join("\n");
    let all = format!("status {status:?}\n--- stdout\n{stdout}\n--- stderr\n{stderr}");
    let expected = if first == "INT" { 130 } else { 143 };
    assert_eq!(status.code(), Some(expected), "{all}");

    let reported: Vec<(String, (String, String))> = [&a1, &a2, &b, &c]
        .iter()
        .map(|n| ((*n).clone(), outcome(&stdout, n)))
        .collect();
    if second.is_none() {
        // The running steps were let finish; the rest was never begun.
        for n in [&a1, &a2] {
            assert_eq!(
                outcome(&stdout, n),
                ("done".into(), "started".into()),
                "{all}"
            );
        }
        for n in [&b, &c] {
            assert_eq!(
                outcome(&stdout, n),
                ("skipped".into(), "interrupted".into()),
                "{all}"
            );
        }
        assert!(
            took >= Duration::from_secs(2),
            "did not wait for the checks: {took:?}"
        );
    } else {
        // Exited at once: the first layer's checks were cut short, and said so.
        for n in [&a1, &a2] {
            assert_eq!(
                outcome(&stdout, n),
                ("unfinished".into(), "was checking sleep 4s".into()),
                "{all}"
            );
        }
        for n in [&b, &c] {
            assert_eq!(
                outcome(&stdout, n),
                ("skipped".into(), "interrupted".into()),
                "{all}"
            );
        }
        assert!(stderr.contains("again: exited without waiting"), "{all}");
        assert!(
            took < Duration::from_secs(3),
            "did not exit at once: {took:?}"
        );
    }
    // Nothing exists that the output reported as skipped (never begun).
    let (main, ship2) = (tb.main(), tb.ship2());
    let existing: Vec<String> = [scope.containers(&main), scope.containers(&ship2)].concat();
    for name in &existing {
        let (word, _) = &reported
            .iter()
            .find(|(n, _)| n == name)
            .expect("a known name")
            .1;
        assert!(
            word == "done" || word == "unfinished",
            "{name} exists but was reported {word}: {all}"
        );
    }

    // Again, to the end: everything runs, once.
    let out = project.run(&["start"]);
    assert_status(&out, 0);
    for (docker, names) in [(&main, [&a1, &b]), (&ship2, [&a2, &c])] {
        for n in names {
            assert!(running(docker, n), "{n} is not running: {}", text(&out));
        }
    }
    let mut all_names = [scope.containers(&main), scope.containers(&ship2)].concat();
    all_names.sort();
    let mut want = vec![a1, a2, b, c];
    want.sort();
    assert_eq!(all_names, want);
}

#[test]
fn sigint_mid_start_lets_running_steps_finish_and_a_rerun_converges() {
    interrupted_start("sigint", "INT", None);
}

#[test]
fn sigterm_mid_start_lets_running_steps_finish_and_a_rerun_converges() {
    interrupted_start("sigterm", "TERM", None);
}

#[test]
fn a_second_signal_exits_at_once_reporting_what_was_unfinished() {
    interrupted_start("sigtwice", "TERM", Some("INT"));
}

// ------------------------------------------------------------ guest render

/// A scratch directory under the system's temp dir (world-traversable, for the run
/// as `nobody`), removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(label: &str) -> Scratch {
        let dir =
            std::env::temp_dir().join(format!("maestro-faults-{}-{label}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch dir");
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A path under a snapshot's root: `None` for a directory, else a file's bytes and mtime.
type Entry = (String, Option<(Vec<u8>, std::time::SystemTime)>);

/// Every entry under `dir`, sorted.
fn snapshot(dir: &std::path::Path) -> Vec<Entry> {
    fn walk(root: &std::path::Path, dir: &std::path::Path, out: &mut Vec<Entry>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .expect("read_dir")
            .flatten()
            .collect();
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let path = e.path();
            let rel = path.strip_prefix(root).unwrap().display().to_string();
            let meta = std::fs::symlink_metadata(&path).expect("metadata");
            if meta.is_dir() {
                out.push((rel, None));
                walk(root, &path, out);
            } else {
                let bytes = std::fs::read(&path).expect("read");
                out.push((rel, Some((bytes, meta.modified().expect("mtime")))));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out
}

/// Three templates (`a.conf.j2`, `b.conf.j2`, `sub/c.conf.j2`) and a destination
/// that already holds an `a.conf` and a `keep` file, both dated an hour back.
fn render_tree(scratch: &Scratch, b_template: &str) -> (PathBuf, PathBuf) {
    let (tpl, out) = (scratch.0.join("tpl"), scratch.0.join("out"));
    std::fs::create_dir_all(tpl.join("sub")).unwrap();
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(tpl.join("a.conf.j2"), "a = {{ 40 + 2 }}\n").unwrap();
    std::fs::write(tpl.join("b.conf.j2"), b_template).unwrap();
    std::fs::write(tpl.join("sub/c.conf.j2"), "c = {{ 'x' | upper }}\n").unwrap();
    let hour_ago = std::time::SystemTime::now() - Duration::from_secs(3600);
    for (name, text) in [("a.conf", "a = old\n"), ("keep", "kept\n")] {
        std::fs::write(out.join(name), text).unwrap();
        let f = std::fs::File::options()
            .write(true)
            .open(out.join(name))
            .unwrap();
        f.set_modified(hour_ago).unwrap();
    }
    (tpl, out)
}

fn guest_render(tpl: &std::path::Path, out: &std::path::Path, as_nobody: bool) -> Output {
    let guest = bin("maestro-guest");
    let mut cmd = if as_nobody {
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(&guest);
        c
    } else {
        Command::new(&guest)
    };
    cmd.arg("render")
        .arg("--to")
        .arg(out)
        .arg(tpl)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("SERVICE_NAME", "s")
        .env("CONTAINER_NAME", "s-1")
        .stdin(Stdio::null())
        .output()
        .expect("running maestro-guest")
}

/// One template of three fails to render (a syntax error, an unknown function, an
/// undefined variable): `render` exits 1 naming the template and the error, and
/// writes nothing at all: no destination file created or changed, no temporary
/// file, no directory.
#[test]
fn guest_render_with_a_template_error_changes_no_file() {
    for (label, b, words) in [
        (
            "syntax",
            "b = {% if %}\n",
            vec!["b.conf.j2", "syntax error"],
        ),
        (
            "function",
            "b = {{ no_such_function() }}\n",
            vec!["b.conf.j2", "no_such_function"],
        ),
        (
            "variable",
            "b = {{ nope }}\n",
            vec!["b.conf.j2", "undefined"],
        ),
    ] {
        let scratch = Scratch::new(label);
        let (tpl, out) = render_tree(&scratch, b);
        let before = snapshot(&out);
        let result = guest_render(&tpl, &out, false);
        assert_status(&result, 1);
        let stderr = String::from_utf8_lossy(&result.stderr);
        for w in &words {
            assert!(
                stderr.contains(w),
                "{label}: {w:?} not in {}",
                text(&result)
            );
        }
        assert_eq!(snapshot(&out), before, "{label}: {}", text(&result));
    }
    // The same tree with a good b renders all three (so the cases above failed for
    // their error only).
    let scratch = Scratch::new("good");
    let (tpl, out) = render_tree(&scratch, "b = {{ 'ok' }}\n");
    let result = guest_render(&tpl, &out, false);
    assert_status(&result, 0);
    assert_eq!(
        std::fs::read_to_string(out.join("a.conf")).unwrap(),
        "a = 42\n"
    );
    assert_eq!(
        std::fs::read_to_string(out.join("sub/c.conf")).unwrap(),
        "c = X\n"
    );
}

/// Destinations that cannot be written: a directory the user may not write to (run
/// as `nobody`, since root writes anywhere), a regular file where a directory must
/// be, a directory where a file must be. `render` exits 1 naming the destination,
/// and no destination file is created or changed, nor any temporary file left.
#[test]
fn guest_render_to_an_unwritable_destination_changes_no_file() {
    // Not writable by nobody: out/ is root's, 0755.
    let scratch = Scratch::new("nobody");
    let (tpl, out) = render_tree(&scratch, "b = 1\n");
    let before = snapshot(&out);
    let result = guest_render(&tpl, &out, true);
    assert_status(&result, 1);
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(
        stderr.contains("cannot write") && stderr.contains("Permission denied"),
        "{}",
        text(&result)
    );
    assert_eq!(snapshot(&out), before, "{}", text(&result));

    // A file where the directory sub/ must be.
    let scratch = Scratch::new("fileasdir");
    let (tpl, out) = render_tree(&scratch, "b = 1\n");
    std::fs::write(out.join("sub"), "a file\n").unwrap();
    let before = snapshot(&out);
    let result = guest_render(&tpl, &out, false);
    assert_status(&result, 1);
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(
        stderr.contains(&format!(
            "cannot write {}",
            out.join("sub/c.conf").display()
        )),
        "{}",
        text(&result)
    );
    assert_eq!(snapshot(&out), before, "{}", text(&result));

    // A directory where the file b.conf must be (found before any file is replaced).
    let scratch = Scratch::new("dirasfile");
    let (tpl, out) = render_tree(&scratch, "b = 1\n");
    std::fs::create_dir(out.join("b.conf")).unwrap();
    let before = snapshot(&out);
    let result = guest_render(&tpl, &out, false);
    assert_status(&result, 1);
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(
        stderr.contains(&format!("cannot write {}", out.join("b.conf").display())),
        "{}",
        text(&result)
    );
    assert_eq!(snapshot(&out), before, "{}", text(&result));

    // Directories made for a first file are removed again when a later one fails.
    let scratch = Scratch::new("madedirs");
    let (tpl, out) = render_tree(&scratch, "b = 1\n");
    std::fs::write(out.join("sub"), "a file\n").unwrap();
    let before = snapshot(&out);
    let result = Command::new(bin("maestro-guest"))
        .arg("render")
        .arg(format!(
            "{}:{}",
            tpl.join("a.conf.j2").display(),
            out.join("fresh/x/a.conf").display()
        ))
        .arg(format!(
            "{}:{}",
            tpl.join("b.conf.j2").display(),
            out.join("sub/b.conf").display()
        ))
        .env_clear()
        .output()
        .expect("running maestro-guest");
    assert_status(&result, 1);
    assert_eq!(snapshot(&out), before, "{}", text(&result));
}
