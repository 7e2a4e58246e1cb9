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
