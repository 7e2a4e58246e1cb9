//! `maestro-guest wait` and `--wait` against real listeners on loopback.

mod common;

use std::net::TcpListener;
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use common::{guest, output, scratch};

/// A loopback port that nothing listens on (bound, then released).
fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_cmd(args: &[&str]) -> Command {
    let mut command = guest();
    command.arg("wait").args(args);
    command
}

#[test]
fn an_open_port_answers_at_once() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let target = listener.local_addr().unwrap().to_string();
    let started = Instant::now();
    let out = output(wait_cmd(&["--timeout", "10", &target]));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn a_port_that_opens_later_is_noticed_quickly() {
    let port = closed_port();
    let opener = thread::spawn(move || {
        thread::sleep(Duration::from_millis(400));
        let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
        let opened = Instant::now();
        // Keep it open until the waiter is done.
        thread::sleep(Duration::from_secs(5));
        drop(listener);
        opened
    });
    let out = output(wait_cmd(&["--timeout", "20", &format!("127.0.0.1:{port}")]));
    let done = Instant::now();
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let opened = opener.join().unwrap();
    // Polling every 100 ms: noticed well within a second, even under load.
    assert!(done.duration_since(opened) < Duration::from_secs(2));
}

#[test]
fn a_timeout_names_every_target_that_never_answered() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let open = listener.local_addr().unwrap().to_string();
    let closed = format!("127.0.0.1:{}", closed_port());
    let started = Instant::now();
    let out = output(wait_cmd(&["--timeout", "0.5", &open, &closed]));
    let took = started.elapsed();
    assert_eq!(out.code, Some(1));
    let summary = last_line(&out.stderr);
    assert!(
        summary.contains("timed out after 0.5s waiting for")
            && summary.contains(&closed)
            && !summary.contains(&open),
        "{}",
        out.stderr
    );
    // One line per target: when it came up, or when it was given up and why.
    assert!(
        out.stderr
            .contains(&format!("maestro-guest: wait: {open} is up after "))
            && out.stderr.contains(&format!(
                "maestro-guest: wait: gave up on {closed} after 0.5s: Connection refused"
            )),
        "{}",
        out.stderr
    );
    assert!(took >= Duration::from_millis(450) && took < Duration::from_secs(10));
}

#[test]
fn services_and_named_ports_come_from_the_environment() {
    let zk1 = TcpListener::bind("127.0.0.1:0").unwrap();
    let zk2 = TcpListener::bind("127.0.0.1:0").unwrap();
    let peer = closed_port();
    let vars = [
        ("ZOOKEEPER_INSTANCES", "zk-1,zk-2".to_owned()),
        ("ZOOKEEPER_ZK_1_HOST", "127.0.0.1".to_owned()),
        (
            "ZOOKEEPER_ZK_1_CLIENT_PORT",
            zk1.local_addr().unwrap().port().to_string(),
        ),
        ("ZOOKEEPER_ZK_1_PEER_PORT", peer.to_string()),
        ("ZOOKEEPER_ZK_2_HOST", "localhost".to_owned()),
        (
            "ZOOKEEPER_ZK_2_CLIENT_PORT",
            zk2.local_addr().unwrap().port().to_string(),
        ),
    ];
    let mut command = wait_cmd(&["--timeout", "10", "zookeeper:client"]);
    command.envs(vars.iter().map(|(k, v)| (k, v)));
    let out = output(command);
    assert_eq!(out.code, Some(0), "{}", out.stderr);

    // SERVICE alone means every port: the closed peer port times out.
    let mut command = wait_cmd(&["--timeout", "0.3", "zookeeper"]);
    command.envs(vars.iter().map(|(k, v)| (k, v)));
    let out = output(command);
    assert_eq!(out.code, Some(1));
    let summary = last_line(&out.stderr);
    assert!(
        summary.contains(&format!("zookeeper/zk-1:peer (127.0.0.1:{peer})"))
            && !summary.contains("client"),
        "{}",
        out.stderr
    );

    let mut command = wait_cmd(&["--timeout", "1", "kafka"]);
    command.envs(vars.iter().map(|(k, v)| (k, v)));
    let out = output(command);
    assert_eq!(out.code, Some(1));
    assert!(
        out.stderr
            .contains("No or not enough kafka nodes configured"),
        "{}",
        out.stderr
    );
}

#[test]
fn unknown_names_fail_clearly_after_the_timeout() {
    let started = Instant::now();
    let out = output(wait_cmd(&["--timeout", "1", "no-such-host.invalid:80"]));
    assert_eq!(out.code, Some(1));
    assert!(
        out.stderr.contains("cannot resolve no-such-host.invalid"),
        "{}",
        out.stderr
    );
    // Retried until the timeout: a name may appear later (DNS of a container that starts).
    assert!(started.elapsed() >= Duration::from_millis(900));
}

fn last_line(text: &str) -> &str {
    text.trim_end().lines().last().unwrap_or("")
}

#[test]
fn run_and_render_wait_before_starting_the_program() {
    let dir = scratch("wait-run");
    let marker = dir.join("ran");
    let script = format!("touch {}", marker.display());
    let closed = format!("127.0.0.1:{}", closed_port());
    let mut command = guest();
    command.args([
        "run",
        "--wait",
        &closed,
        "--wait-timeout",
        "0.3",
        "--",
        "sh",
        "-c",
        &script,
    ]);
    let out = output(command);
    assert_eq!(out.code, Some(1));
    assert!(!marker.exists(), "the program ran although the wait failed");

    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let open = listener.local_addr().unwrap().to_string();
    let template = dir.join("t");
    std::fs::write(&template, "ok").unwrap();
    let pair = format!("{}:{}", template.display(), dir.join("out").display());
    let mut command = guest();
    command.args(["render", "--wait", &open, &pair, "--", "sh", "-c", &script]);
    let out = output(command);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(marker.exists());
}

/// A real HTTP server on loopback whose answer can be changed while it runs:
/// (status, body, chunked). Every request line it got is kept.
struct Server {
    url: String,
    answer: std::sync::Arc<std::sync::Mutex<(u16, String, bool)>>,
    requests: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Server {
    fn start(status: u16, body: &str) -> Server {
        use std::io::{BufRead, BufReader, Write};
        use std::sync::{Arc, Mutex};
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/health", listener.local_addr().unwrap());
        let answer = Arc::new(Mutex::new((status, body.to_owned(), false)));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let (a, r) = (answer.clone(), requests.clone());
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { break };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut head = String::new();
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    head.push_str(&line);
                }
                r.lock().unwrap().push(head);
                let (status, body, chunked) = a.lock().unwrap().clone();
                let response = if chunked {
                    let (one, two) = body.split_at(body.len() / 2);
                    format!(
                        "HTTP/1.1 {status} X\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{one}\r\n{:x}\r\n{two}\r\n0\r\n\r\n",
                        one.len(),
                        two.len()
                    )
                } else {
                    format!(
                        "HTTP/1.1 {status} X\r\nContent-Length: {}\r\n\r\n{body}",
                        body.len()
                    )
                };
                let _ = stream.write_all(response.as_bytes());
            }
        });
        Server {
            url,
            answer,
            requests,
        }
    }

    fn answer(&self, status: u16, body: &str, chunked: bool) {
        *self.answer.lock().unwrap() = (status, body.to_owned(), chunked);
    }

    /// Changes the answer after `delay`, in the background.
    fn answer_later(&self, delay: Duration, status: u16, body: &str, chunked: bool) {
        let (answer, body) = (self.answer.clone(), body.to_owned());
        thread::spawn(move || {
            thread::sleep(delay);
            *answer.lock().unwrap() = (status, body, chunked);
        });
    }
}

#[test]
fn http_targets_wait_for_an_accepted_status() {
    let server = Server::start(503, "starting");
    server.answer_later(Duration::from_millis(400), 200, "ok", false);
    let started = Instant::now();
    let out = output(wait_cmd(&["--timeout", "20", &server.url]));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(started.elapsed() >= Duration::from_millis(380));
    assert!(
        out.stderr
            .contains(&format!("maestro-guest: wait: {} (127.0.0.1:", server.url)),
        "{}",
        out.stderr
    );
    let requests = server.requests.lock().unwrap().clone();
    let port = server
        .url
        .split(':')
        .nth(2)
        .unwrap()
        .split('/')
        .next()
        .unwrap();
    assert!(
        requests[0].starts_with("GET /health HTTP/1.1\r\n")
            && requests[0].contains(&format!("Host: 127.0.0.1:{port}\r\n")),
        "{requests:?}"
    );
    // Back-off: a handful of attempts in 400 ms, not a busy loop.
    assert!(
        requests.len() >= 3 && requests.len() <= 8,
        "{}",
        requests.len()
    );

    // 3xx counts by default, --status narrows it.
    server.answer(301, "", false);
    assert_eq!(
        output(wait_cmd(&["--timeout", "5", &server.url])).code,
        Some(0)
    );
    let out = output(wait_cmd(&[
        "--timeout",
        "0.5",
        "--status",
        "200",
        &server.url,
    ]));
    assert_eq!(out.code, Some(1));
    assert!(
        out.stderr
            .contains("HTTP status 301 is not an accepted one"),
        "{}",
        out.stderr
    );
    let out = output(wait_cmd(&["--status", "2xx,30x", &server.url]));
    assert_eq!(out.code, Some(2), "{}", out.stderr);
}

#[test]
fn http_targets_can_require_a_body_match() {
    let server = Server::start(200, r#"{"status": "STARTING"}"#);
    server.answer_later(
        Duration::from_millis(300),
        200,
        r#"{"status":  "UP", "x": 1}"#,
        true,
    );
    let out = output(wait_cmd(&[
        "--timeout",
        "20",
        "--match",
        r#""status": *"UP""#,
        &server.url,
    ]));
    assert_eq!(out.code, Some(0), "{}", out.stderr);

    server.answer(200, "nope", false);
    let out = output(wait_cmd(&[
        "--timeout",
        "0.3",
        "--match",
        "^ok$",
        &server.url,
    ]));
    assert_eq!(out.code, Some(1));
    assert!(
        out.stderr
            .contains("HTTP status 200, but the body does not match --match"),
        "{}",
        out.stderr
    );
    let out = output(wait_cmd(&["--match", "(unclosed", &server.url]));
    assert_eq!(out.code, Some(2));
    assert!(out.stderr.contains("unclosed ("), "{}", out.stderr);
}

#[test]
fn https_to_a_plain_http_server_fails_the_handshake_with_the_reason() {
    use std::io::{Read, Write};
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("https://{}/", listener.local_addr().unwrap());
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { break };
            let _ = stream.read(&mut [0u8; 512]);
            let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
        }
    });
    let out = output(wait_cmd(&["--insecure", "--timeout", "1", &url]));
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert!(
        out.stderr.contains(&format!("gave up on {url}")) && out.stderr.contains("HTTPS: TLS: "),
        "{}",
        out.stderr
    );
}

#[test]
fn https_without_a_readable_ca_bundle_says_so() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("https://{}/", listener.local_addr().unwrap());
    let mut command = wait_cmd(&["--timeout", "1", &url]);
    command.env("SSL_CERT_FILE", "/nonexistent/ca.pem");
    let out = output(command);
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("cannot read the CA bundle /nonexistent/ca.pem"),
        "{}",
        out.stderr
    );
}

#[test]
fn run_waits_for_http_with_its_own_status_and_match() {
    let server = Server::start(200, "warming up");
    server.answer_later(Duration::from_millis(300), 200, "ready", false);
    let mut command = guest();
    command.args([
        "run",
        "--wait",
        &server.url,
        "--wait-status",
        "200",
        "--wait-match",
        "^ready$",
        "--wait-timeout",
        "20",
        "--",
        "echo",
        "started",
    ]);
    let out = output(command);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(out.stdout, "started\n");
}

#[test]
fn a_target_can_have_its_own_timeout_within_the_overall_one() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let open = listener.local_addr().unwrap().to_string();
    let closed = format!("127.0.0.1:{}", closed_port());
    let started = Instant::now();
    let out = output(wait_cmd(&[
        "--timeout",
        "30",
        "--timeout-for",
        &format!("{closed}=400ms"),
        &open,
        &closed,
    ]));
    let took = started.elapsed();
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    // Given up after its own 0.4 s, not the overall 30 s.
    assert!(
        took < Duration::from_secs(5),
        "took {took:?}: {}",
        out.stderr
    );
    assert!(
        out.stderr.contains(&format!("{open} is up")),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains(&format!("gave up on {closed} after 0.")),
        "{}",
        out.stderr
    );
    // A --timeout-for naming no target is a usage error.
    let out = output(wait_cmd(&["--timeout-for", "nope:1=1s", &open]));
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(out.stderr.contains("nope:1"), "{}", out.stderr);
}
