//! The audit trail (`audit:`) on real plays: `maestro start`/`stop` of three
//! containers (two on the main daemon, one on ship2) with a real log file, a
//! webhook receiver on 127.0.0.1 (a small HTTP server in this test), an `exec`
//! script, failing auditors with and without `ignore_errors`, and a failing
//! play whose messages must not carry the registry password.
//!
//! What maestro writes, sends and runs is compared with what MaestroNG 0.8.3's
//! own auditor classes do for the same play: `tests/differential/audit_oracle.py`
//! runs them (testbed venv) against the same kind of receiver, file and script.

mod support;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use maestro_e2e::{Scope, Testbed, bin, free_port, reference_python, repo_root};
use support::{assert_status, stderr, text};

/// The user both sides name (`{who}`), through `LOGNAME`/`USER`.
const WHO: &str = "audit-tester";

/// One request the receiver got.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Req {
    method: String,
    path: String,
    /// Lower-case names.
    headers: BTreeMap<String, String>,
    body: String,
}

/// A webhook receiver on 127.0.0.1: answers every request `200 ok` and keeps it.
struct Receiver {
    port: u16,
    requests: Arc<Mutex<Vec<Req>>>,
}

impl Receiver {
    fn start() -> Receiver {
        Receiver::answering(usize::MAX)
    }

    /// Answers `n` requests, then closes its port (later ones are refused).
    fn answering(n: usize) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").expect("binding the receiver");
        let port = listener.local_addr().expect("receiver address").port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let sink = requests.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten().take(n) {
                if let Some(req) = read_request(&stream) {
                    sink.lock().unwrap().push(req);
                }
                let mut stream = stream;
                let _ = stream.write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\nConnection: close\r\n\r\n{\"ok\":true}",
                );
            }
        });
        Receiver { port, requests }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn take(&self) -> Vec<Req> {
        std::mem::take(&mut *self.requests.lock().unwrap())
    }
}

fn read_request(stream: &TcpStream) -> Option<Req> {
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_owned();
    let path = parts.next()?.to_owned();
    let mut headers = BTreeMap::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (k, v) = h.split_once(':')?;
        headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
    }
    let len: usize = headers
        .get("content-length")
        .and_then(|l| l.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    reader.read_exact(&mut body).ok()?;
    Some(Req {
        method,
        path,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

/// The containers of every test: `a` and `b` of service `app` on the main
/// daemon, `c` of service `side` on ship2.
struct Play {
    /// Removes the containers and the directory at the end.
    _scope: Scope,
    dir: PathBuf,
    names: [String; 3],
}

impl Play {
    fn new(label: &str, audit: &str) -> Play {
        Play::with(label, audit, "", None)
    }

    /// `registries` is inserted as is; `image` replaces the test image.
    fn with(label: &str, audit: &str, registries: &str, image: Option<&str>) -> Play {
        let tb = Testbed::load();
        let scope = Scope::new(label);
        let dir = scope.scratch_dir("project");
        let names = [scope.name("a"), scope.name("b"), scope.name("c")];
        let socket = tb
            .main_host()
            .strip_prefix("unix://")
            .expect("a unix socket");
        let image = image.unwrap_or(tb.test_image());
        let yaml = format!(
            "name: {prefix}\n{registries}ships:\n  main: {{ip: 127.0.0.1, socket_path: {socket}, timeout: 15}}\n  \
             ship2: {{ip: {ip2}, docker_port: {port2}, timeout: 15}}\n\
             services:\n  app:\n    image: {image}\n    instances:\n      \
             {a}: {{ship: main, stop_timeout: 1, command: [sleep, '300']}}\n      \
             {b}: {{ship: main, stop_timeout: 1, command: [sleep, '300']}}\n  side:\n    image: {image}\n    instances:\n      \
             {c}: {{ship: ship2, stop_timeout: 1, command: [sleep, '300']}}\n\
             audit:\n{audit}",
            prefix = scope.prefix(),
            ip2 = tb.ship2_addr(),
            port2 = tb.ship2_port(),
            a = names[0],
            b = names[1],
            c = names[2],
        );
        std::fs::write(dir.join("maestro.yaml"), yaml).expect("writing maestro.yaml");
        Play {
            _scope: scope,
            dir,
            names,
        }
    }

    fn maestro(&self, args: &[&str]) -> Output {
        Command::new(bin("maestro"))
            .current_dir(&self.dir)
            .arg("-f")
            .arg(self.dir.join("maestro.yaml"))
            .args(args)
            .env("LOGNAME", WHO)
            .env("USER", WHO)
            .env("HOME", &self.dir)
            .env_remove("DOCKER_CONFIG")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .output()
            .expect("running maestro")
    }

    /// The containers as the oracle needs them, in `order`.
    fn containers(&self, order: &[String]) -> serde_json::Value {
        let tb = Testbed::load();
        order
            .iter()
            .map(|n| {
                let on_ship2 = *n == self.names[2];
                serde_json::json!({
                    "name": n,
                    "ship": if on_ship2 { "ship2" } else { "main" },
                    "ship_ip": if on_ship2 { tb.ship2_addr() } else { "127.0.0.1" },
                    "service": if on_ship2 { "side" } else { "app" },
                })
            })
            .collect()
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

/// Runs 0.8.3's auditors on `events` (see the oracle's docstring); returns the
/// events that raised, as `(index, exception type)`. `audit` is JSON text, so
/// that its keys keep their order (as they do in YAML).
fn oracle(
    dir: &Path,
    audit: &str,
    containers: serde_json::Value,
    events: serde_json::Value,
) -> Vec<(usize, String)> {
    let spec = dir.join(format!("oracle-{}.json", free_port()));
    let text =
        format!("{{\"audit\": {audit}, \"containers\": {containers}, \"events\": {events}}}");
    std::fs::write(&spec, text).expect("writing the oracle spec");
    let out = Command::new(reference_python())
        .arg(repo_root().join("tests/differential/audit_oracle.py"))
        .arg(&spec)
        .current_dir(dir)
        .env("LOGNAME", WHO)
        .env("USER", WHO)
        .output()
        .expect("running the audit oracle");
    assert!(
        out.status.success(),
        "audit oracle: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("oracle line");
            (
                v["event"].as_u64().unwrap() as usize,
                v["raised"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// The events 0.8.3's play engine sends for a play of `order` that succeeds.
fn play_events(action: &str, order: &[String]) -> serde_json::Value {
    let mut events = vec![
        serde_json::json!({"event": "action", "level": "info", "what": "play", "action": action}),
    ];
    for n in order {
        events.push(
            serde_json::json!({"event": "action", "level": "debug", "what": n, "action": action}),
        );
        events.push(
            serde_json::json!({"event": "success", "level": "debug", "what": n, "action": action}),
        );
    }
    events.push(
        serde_json::json!({"event": "success", "level": "info", "what": "play", "action": action}),
    );
    serde_json::Value::Array(events)
}

/// A log file's lines as (level, text), checking the timestamp's shape.
fn log_lines(path: &Path) -> Vec<(String, String)> {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    text.lines()
        .map(|l| {
            let (stamp, rest) = l.split_at(23.min(l.len()));
            let shape: String = stamp
                .chars()
                .map(|c| if c.is_ascii_digit() { '9' } else { c })
                .collect();
            assert_eq!(shape, "9999-99-99 99:99:99,999", "timestamp of {l:?}");
            let (level, message) = rest[1..]
                .split_once(": ")
                .unwrap_or_else(|| panic!("line {l:?}"));
            (level.to_owned(), message.to_owned())
        })
        .collect()
}

/// The play order maestro used, read from its play-level action line.
fn order_from(line: &str, verb: &str) -> Vec<String> {
    let names = line
        .strip_prefix(&format!("{WHO} is {verb} "))
        .and_then(|l| l.strip_suffix('.'))
        .unwrap_or_else(|| panic!("not a play action line: {line:?}"));
    names.split(", ").map(str::to_owned).collect()
}

fn sorted<T: Ord + Clone>(v: &[T]) -> Vec<T> {
    let mut v = v.to_vec();
    v.sort();
    v
}

#[test]
fn log_files_record_plays_and_containers_as_maestrong_does() {
    let play = Play::new(
        "audit-log",
        "  - {type: log, file: debug.log, level: debug}\n  - {type: log, file: info.log}\n",
    );
    let out = play.maestro(&["start"]);
    assert_status(&out, 0);
    let out = play.maestro(&["stop", "-a"]);
    assert_status(&out, 0);

    let debug = log_lines(&play.path("debug.log"));
    let info = log_lines(&play.path("info.log"));
    // info: exactly the four play-level lines, in order.
    assert_eq!(info.len(), 4, "{info:#?}");
    let start_order = order_from(&info[0].1, "starting");
    assert_eq!(sorted(&start_order), sorted(&play.names));
    let stop_order = order_from(&info[2].1, "stopping");
    let all = |o: &[String]| o.join(", ");
    assert_eq!(
        info,
        vec![
            (
                "INFO".into(),
                format!("{WHO} is starting {}.", all(&start_order))
            ),
            (
                "INFO".into(),
                format!("Start of {} succeeded.", all(&start_order))
            ),
            (
                "INFO".into(),
                format!("{WHO} is stopping {}.", all(&stop_order))
            ),
            (
                "INFO".into(),
                format!("Stop of {} succeeded.", all(&stop_order))
            ),
        ]
    );
    // debug: the same, with every container's action and success in between.
    assert_eq!(debug.len(), 16, "{debug:#?}");
    assert_eq!(debug[0], info[0]);
    assert_eq!(debug[7], info[1]);
    assert_eq!(debug[8], info[2]);
    assert_eq!(debug[15], info[3]);
    for n in &play.names {
        for line in [
            format!("{WHO} is starting {n}."),
            format!("Start of {n} succeeded."),
            format!("{WHO} is stopping {n}."),
            format!("Stop of {n} succeeded."),
        ] {
            assert!(
                debug.contains(&("DEBUG".into(), line.clone())),
                "{line} missing: {debug:#?}"
            );
        }
    }

    // 0.8.3 writes the same lines (its log auditors share one logger, so each
    // is run alone here).
    for (file, level, ours) in [("debug.log", "debug", &debug), ("info.log", "info", &info)] {
        let theirs_file = format!("oracle-{file}");
        let mut events = play_events("start", &start_order)
            .as_array()
            .unwrap()
            .clone();
        events.extend(play_events("stop", &stop_order).as_array().unwrap().clone());
        let raised = oracle(
            &play.dir,
            &format!(
                "[{{\"type\": \"log\", \"file\": \"{theirs_file}\", \"level\": \"{level}\"}}]"
            ),
            play.containers(&start_order),
            serde_json::Value::Array(events),
        );
        assert!(raised.is_empty(), "{raised:?}");
        let theirs = log_lines(&play.path(&theirs_file));
        assert_eq!(sorted(ours), sorted(&theirs), "{file}: ours vs 0.8.3's");
        assert_eq!(ours.first(), theirs.first());
        assert_eq!(ours.last(), theirs.last());
    }
}

#[test]
fn webhooks_get_maestrong_s_requests() {
    let rx = Receiver::start();
    let audit = format!(
        "  - type: http\n    endpoint: {}\n    level: debug\n    headers: {{X-Audit-Token: tok-123}}\n    \
         payload: {{text: '{{message}}', who: '{{who}}', what: '{{what}}', action: '{{action}}', tags: [maestro, '{{action}}', ''], empty: ''}}\n  \
         - {{type: http, endpoint: '{}', method: GET}}\n  \
         - {{type: http, endpoint: 'http://bot:p%40ss@127.0.0.1:{}/auth'}}\n",
        rx.url("/hook?x=1"),
        rx.url("/get"),
        rx.port
    );
    let play = Play::new("audit-http", &audit);
    let out = play.maestro(&["start"]);
    assert_status(&out, 0);
    let ours = rx.take();
    assert_eq!(ours.len(), 6, "{ours:#?}");

    // The play first (both auditors, in order), then one per container (debug).
    let first = &ours[0];
    assert_eq!(
        (first.method.as_str(), first.path.as_str()),
        ("POST", "/hook?x=1")
    );
    assert_eq!(
        first.headers["content-type"],
        "application/json; charset=utf-8"
    );
    assert_eq!(first.headers["x-audit-token"], "tok-123");
    let v: serde_json::Value = serde_json::from_str(&first.body).expect("a JSON body");
    let order: Vec<String> = v["what"]
        .as_str()
        .unwrap()
        .split(", ")
        .map(str::to_owned)
        .collect();
    assert_eq!(sorted(&order), sorted(&play.names));
    let shipped: Vec<String> = order
        .iter()
        .map(|n| {
            format!(
                "{n} (on {})",
                if *n == play.names[2] { "ship2" } else { "main" }
            )
        })
        .collect();
    assert_eq!(
        first.body,
        format!(
            "{{\"text\": \"{WHO} is starting [{}].\", \"who\": \"{WHO}\", \"what\": \"{}\", \"action\": \"start\", \"tags\": [\"maestro\", \"start\"]}}",
            shipped.join(", "),
            order.join(", ")
        )
    );
    let get = &ours[1];
    assert_eq!(
        (get.method.as_str(), get.path.as_str(), get.body.as_str()),
        ("GET", "/get", "null")
    );
    assert_eq!(
        get.headers["content-type"],
        "application/json; charset=utf-8"
    );
    // Credentials in the URL are sent as Basic authentication, as requests does.
    assert_eq!(ours[2].path, "/auth");
    assert_eq!(ours[2].headers["authorization"], "Basic Ym90OnBAc3M=");
    for r in &ours[3..] {
        assert_eq!(r.path, "/hook?x=1");
        assert!(r.body.contains("\"action\": \"start\""), "{r:?}");
    }

    // 0.8.3 sends the same requests for the same play.
    let rx2 = Receiver::start();
    let raised = oracle(
        &play.dir,
        &format!(
            r#"[{{"type": "http", "endpoint": "{}", "level": "debug",
                 "headers": {{"X-Audit-Token": "tok-123"}},
                 "payload": {{"text": "{{message}}", "who": "{{who}}", "what": "{{what}}", "action": "{{action}}",
                             "tags": ["maestro", "{{action}}", ""], "empty": ""}}}},
                {{"type": "http", "endpoint": "{}", "method": "GET"}},
                {{"type": "http", "endpoint": "http://bot:p%40ss@127.0.0.1:{}/auth"}}]"#,
            rx2.url("/hook?x=1"),
            rx2.url("/get"),
            rx2.port
        ),
        play.containers(&order),
        play_events("start", &order),
    );
    assert!(raised.is_empty(), "{raised:?}");
    let theirs = rx2.take();
    type Shape = (String, String, String, String, String, String);
    let shape = |rs: &[Req]| -> Vec<Shape> {
        sorted(
            &rs.iter()
                .map(|r| {
                    (
                        r.method.clone(),
                        r.path.clone(),
                        r.body.clone(),
                        r.headers["content-type"].clone(),
                        r.headers.get("x-audit-token").cloned().unwrap_or_default(),
                        r.headers.get("authorization").cloned().unwrap_or_default(),
                    )
                })
                .collect::<Vec<_>>(),
        )
    };
    assert_eq!(shape(&ours), shape(&theirs), "ours vs 0.8.3's");
    assert_eq!(ours[0].body, theirs[0].body);
}

#[test]
fn exec_scripts_get_maestrong_s_arguments_and_containers() {
    let play = Play::new(
        "audit-exec",
        "  - {type: exec, script: ./record.sh, args: '--action {action} --what {what} --who {who}', level: debug}\n",
    );
    let script = play.path("record.sh");
    std::fs::write(
        &script,
        "#!/bin/sh\nd=\"${RECORD_DIR:-calls}\"\nmkdir -p \"$d\"\ni=$(ls \"$d\" | wc -l)\nprintf '%s\\n' \"$@\" > \"$d/args.$i\"\ncat > \"$d/stdin.$i\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let out = play.maestro(&["start"]);
    assert_status(&out, 0);
    // Only the play's success runs the script (not the containers', not the action).
    let calls: Vec<_> = std::fs::read_dir(play.path("calls"))
        .unwrap()
        .flatten()
        .collect();
    assert_eq!(calls.len(), 2, "one call: args and stdin");
    let args = std::fs::read_to_string(play.path("calls/args.0")).unwrap();
    let stdin = std::fs::read_to_string(play.path("calls/stdin.0")).unwrap();
    let args: Vec<&str> = args.lines().collect();
    let v: serde_json::Value = serde_json::from_str(&stdin).expect("JSON on stdin");
    let order: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
    assert_eq!(sorted(&order), sorted(&play.names));

    // 0.8.3 runs the script with the same arguments and input, but for {who}.
    let raised = oracle(
        &play.dir,
        r#"[{"type": "exec", "script": "./record.sh", "args": "--action {action} --what {what} --who {who}", "level": "debug"}]"#,
        play.containers(&order),
        play_events("start", &order),
    );
    assert!(raised.is_empty(), "{raised:?}");
    // (the oracle ran in the same directory: its files are args.2 and stdin.2)
    let calls: Vec<_> = std::fs::read_dir(play.path("calls"))
        .unwrap()
        .flatten()
        .collect();
    assert_eq!(calls.len(), 4, "0.8.3 ran the script once too");
    let their_args = std::fs::read_to_string(play.path("calls/args.2")).unwrap();
    let their_args: Vec<&str> = their_args.lines().collect();
    let their_stdin = std::fs::read_to_string(play.path("calls/stdin.2")).unwrap();
    assert_eq!(stdin, their_stdin, "stdin: ours vs 0.8.3's");
    let n = args.len();
    assert_eq!(
        args[..n - 1],
        their_args[..n - 1],
        "arguments: ours vs 0.8.3's"
    );
    // The one difference: 0.8.3 fills {who} with None.
    assert_eq!(args[n - 1], WHO);
    assert_eq!(their_args[n - 1], "None");
    assert_eq!(
        args[..4],
        ["--action", "start", "--what", &format!("[{}", order[0])]
    );
    assert_eq!(
        stdin,
        format!(
            "{{{}}}",
            order
                .iter()
                .map(|n| {
                    let (ip, svc) = if *n == play.names[2] {
                        (Testbed::load().ship2_addr(), "side")
                    } else {
                        ("127.0.0.1", "app")
                    };
                    format!("\"{n}\": {{\"ship\": \"{ip}\", \"service\": \"{svc}\"}}")
                })
                .collect::<Vec<_>>()
                .join(", ")
        )
    );
}

#[test]
fn failing_auditors_with_ignore_errors_never_fail_the_play() {
    let closed = free_port();
    let audit = format!(
        "  - {{type: http, endpoint: 'http://127.0.0.1:{closed}/', level: debug, ignore_errors: true}}\n  \
         - {{type: _fail, ignore_errors: true}}\n  \
         - {{type: exec, script: /bin/false, ignore_errors: true}}\n  \
         - {{type: hipchat, room: ops, token: hc-token-secret}}\n  \
         - {{type: log, file: audit.log, level: debug}}\n"
    );
    let play = Play::new("audit-ignore", &audit);
    let out = play.maestro(&["start"]);
    assert_status(&out, 0);
    let docker = Testbed::load().main();
    for n in &play.names[..2] {
        assert_eq!(docker.inspect(n)["State"]["Running"], true, "{n} runs");
    }
    let err = stderr(&out);
    assert!(
        err.contains("audit: auditor #1 (http) failed (ignored)"),
        "{}",
        text(&out)
    );
    assert!(
        err.contains("audit: auditor #2 (_fail) failed (ignored)"),
        "{}",
        text(&out)
    );
    assert!(
        err.contains("audit: auditor #3 (exec) failed (ignored)"),
        "{}",
        text(&out)
    );
    assert_eq!(
        err.matches("auditor #4 (hipchat) not notified: HipChat was shut down")
            .count(),
        1,
        "{}",
        text(&out)
    );
    assert!(!err.contains("hc-token-secret"));
    // The auditors after the failing ones were told everything.
    let lines = log_lines(&play.path("audit.log"));
    assert_eq!(lines.len(), 8, "{lines:#?}");
}

#[test]
fn a_failing_auditor_stops_the_play_before_it_changes_anything() {
    let closed = free_port();
    let audit = format!(
        "  - {{type: log, file: audit.log}}\n  - {{type: http, endpoint: 'http://127.0.0.1:{closed}/secret-path'}}\n  - {{type: log, file: after.log}}\n"
    );
    let play = Play::new("audit-abort", &audit);
    let out = play.maestro(&["start"]);
    assert_status(&out, 1);
    let err = stderr(&out);
    assert!(
        err.contains("audit: auditor #2 (http) failed: POST http://127.0.0.1:"),
        "{}",
        text(&out)
    );
    assert!(
        err.contains("the start play was not run and nothing was changed"),
        "{}",
        text(&out)
    );
    assert!(
        !err.contains("secret-path"),
        "the endpoint's path is not shown: {err}"
    );
    let docker = Testbed::load().main();
    for n in &play.names[..2] {
        assert!(
            docker.try_run(["inspect", n]).is_err(),
            "{n} was not created"
        );
    }
    // The auditor before the failing one was told, the one after was not (0.8.3's order).
    let lines = log_lines(&play.path("audit.log"));
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert!(lines[0].1.starts_with(&format!("{WHO} is starting ")));
    assert!(!play.path("after.log").exists());

    // A failure after the play (exec runs on success only) is reported, not fatal.
    let play = Play::new(
        "audit-after",
        "  - {type: exec, script: /bin/false}\n  - {type: log, file: audit.log}\n",
    );
    let out = play.maestro(&["start"]);
    assert_status(&out, 0);
    assert!(
        stderr(&out).contains("audit: auditor #1 (exec) failed: /bin/false exit status: 1"),
        "{}",
        text(&out)
    );
    let lines = log_lines(&play.path("audit.log"));
    assert_eq!(lines.len(), 2, "{lines:#?}");
    assert!(lines[1].1.starts_with("Start of "));
}

#[test]
fn a_failed_play_is_audited_without_secrets() {
    let tb = Testbed::load();
    let password = tb.registry_password();
    let registries = format!(
        "registries:\n  '{r}': {{registry: 'http://{r}', username: {u}, password: '{password}'}}\n",
        r = tb.registry(),
        u = tb.registry_user()
    );
    let rx = Receiver::start();
    let audit = format!(
        "  - {{type: log, file: audit.log, level: debug}}\n  - {{type: http, endpoint: '{}', level: debug, payload: {{m: '{{message}}'}}}}\n",
        rx.url("/")
    );
    let image = format!("{}/maestro-audit-missing:nope", tb.registry());
    let play = Play::with("audit-fail", &audit, &registries, Some(&image));
    let out = play.maestro(&["start"]);
    assert_status(&out, 1);
    let log = std::fs::read_to_string(play.path("audit.log")).unwrap();
    let lines = log_lines(&play.path("audit.log"));
    let errors: Vec<_> = lines.iter().filter(|(l, _)| l == "ERROR").collect();
    // One error per container (the task) and one for the play, with the reason.
    assert_eq!(errors.len(), 4, "{lines:#?}");
    for (_, e) in &errors {
        assert!(
            e.starts_with("Failed to start ") && e.contains("! (message: "),
            "{e}"
        );
    }
    assert!(
        errors
            .iter()
            .any(|(_, e)| e.contains(&format!("Failed to start {}! (message: ", play.names[0])))
    );
    let play_error = errors.last().unwrap();
    assert!(
        play_error.1.contains(", "),
        "the play's error names every container: {play_error:?}"
    );
    let sent: String = rx.take().iter().map(|r| format!("{r:?}")).collect();
    for (what, text) in [
        ("audit log", &log),
        ("webhook requests", &sent),
        ("stderr", &stderr(&out)),
    ] {
        assert!(
            !text.contains(&password),
            "the registry password leaked into the {what}"
        );
    }
}

#[test]
fn an_auditor_failing_before_a_container_fails_that_container() {
    // The play's announcement gets through, the containers' do not.
    let rx = Receiver::answering(1);
    let audit = format!(
        "  - {{type: log, file: audit.log, level: debug}}\n  - {{type: http, endpoint: '{}', level: debug}}\n",
        rx.url("/")
    );
    let play = Play::new("audit-task", &audit);
    let out = play.maestro(&["start"]);
    assert_status(&out, 1);
    let all = text(&out);
    assert!(
        all.contains("audit: auditor #2 (http) failed: POST http://127.0.0.1:"),
        "{all}"
    );
    let docker = Testbed::load().main();
    for n in &play.names[..2] {
        assert!(
            docker.try_run(["inspect", n]).is_err(),
            "{n} was not created"
        );
    }
    assert_eq!(rx.take().len(), 1);
    // Each container was announced to the log (before the http auditor failed), no
    // container-level error follows (0.8.3 raises before its try), and the play's
    // error names the first failed container and the auditor.
    let lines = log_lines(&play.path("audit.log"));
    assert_eq!(lines.len(), 5, "{lines:#?}");
    assert_eq!(
        lines.iter().filter(|(l, _)| l == "DEBUG").count(),
        3,
        "{lines:#?}"
    );
    let (level, last) = lines.last().unwrap();
    assert_eq!(level, "ERROR");
    assert!(last.starts_with("Failed to start "), "{last}");
    assert!(last.contains("! (message: "), "{last}");
    assert!(
        last.contains(": audit: auditor #2 (http) failed: POST http://127.0.0.1:"),
        "{last}"
    );
}

#[test]
fn exec_script_output_keeps_json_output_clean() {
    let play = Play::new(
        "audit-json",
        "  - {type: exec, script: /bin/echo, args: 'from-script {action}'}\n",
    );
    let out = play.maestro(&["start", "--format", "json"]);
    assert_status(&out, 0);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    serde_json::from_str::<serde_json::Value>(&stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", text(&out)));
    assert!(stderr(&out).contains("from-script start"), "{}", text(&out));
    // As text, the script's output follows the summary on stdout, as in 0.8.3.
    let out = play.maestro(&["stop", "-a"]);
    assert_status(&out, 0);
    assert!(
        support::stdout(&out)
            .trim_end()
            .ends_with("from-script stop"),
        "{}",
        text(&out)
    );
}
