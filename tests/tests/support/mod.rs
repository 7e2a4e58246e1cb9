//! Helpers shared by the scenario files: a project directory with a
//! `maestro.yaml` on the testbed, and running the `maestro` CLI on it.
#![allow(dead_code)] // each test file uses a part

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub mod http;
pub mod images;
pub mod pki;
pub mod project_file;
pub mod proxy;

use maestro_e2e::{Scope, Testbed, poll};

/// A `maestro.yaml` in a scratch directory of the scope.
pub struct Project {
    pub dir: PathBuf,
}

impl Project {
    /// Writes `yaml` as the project's `maestro.yaml`.
    pub fn new(scope: &Scope, yaml: &str) -> Project {
        let dir = scope.scratch_dir("project");
        std::fs::write(dir.join("maestro.yaml"), yaml).expect("writing maestro.yaml");
        Project { dir }
    }

    /// `maestro -f <dir>/maestro.yaml ARGS` from the project directory, not
    /// run yet ([`maestro_e2e::maestro_cli`]: no colour, no terminal).
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = maestro_e2e::maestro_cli(&self.dir.join("maestro.yaml"), args);
        cmd.current_dir(&self.dir);
        cmd
    }

    /// Runs `maestro ARGS` to its end.
    pub fn run(&self, args: &[&str]) -> Output {
        let mut cmd = self.command(args);
        cmd.output()
            .unwrap_or_else(|e| panic!("running maestro {args:?}: {e}"))
    }

    /// Starts `maestro ARGS` with its stdout and stderr collected line by line.
    pub fn spawn(&self, args: &[&str]) -> Running {
        Running::spawn(self.command(args))
    }
}

impl Running {
    /// Starts `command` with its stdout and stderr collected line by line.
    pub fn spawn(mut command: Command) -> Running {
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {command:?}: {e}"));
        let stdout = collect(child.stdout.take().expect("piped stdout"));
        let stderr = collect(child.stderr.take().expect("piped stderr"));
        Running {
            child,
            stdout,
            stderr,
        }
    }
}

fn collect(from: impl std::io::Read + Send + 'static) -> Arc<Mutex<Vec<String>>> {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&lines);
    std::thread::spawn(move || {
        for line in BufReader::new(from).lines().map_while(Result::ok) {
            sink.lock().unwrap().push(line);
        }
    });
    lines
}

/// A `maestro` process running in the background; killed when dropped.
pub struct Running {
    pub child: Child,
    pub stdout: Arc<Mutex<Vec<String>>>,
    pub stderr: Arc<Mutex<Vec<String>>>,
}

impl Running {
    /// The stdout lines so far.
    pub fn lines(&self) -> Vec<String> {
        self.stdout.lock().unwrap().clone()
    }

    /// Waits until `pred` holds for the stdout lines so far.
    #[track_caller]
    pub fn wait_for(&self, what: &str, timeout: Duration, pred: impl Fn(&[String]) -> bool) {
        if poll(timeout, || pred(&self.lines()).then_some(())).is_none() {
            panic!(
                "waited {timeout:?} for {what}; stdout: {:#?}\nstderr: {:#?}",
                self.lines(),
                self.stderr.lock().unwrap()
            );
        }
    }

    /// Sends SIGINT (Ctrl-C) and waits for the exit status.
    #[track_caller]
    pub fn interrupt(&mut self, timeout: Duration) -> i32 {
        let pid = self.child.id().to_string();
        let ok = Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "kill -INT {pid} failed");
        let status = poll(timeout, || self.child.try_wait().ok().flatten())
            .unwrap_or_else(|| panic!("maestro did not end within {timeout:?} of SIGINT"));
        status.code().unwrap_or(-1)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The exit status and both outputs, for assertion messages.
pub fn text(out: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}--- stderr\n{}",
        out.status.code(),
        stdout(out),
        stderr(out)
    )
}

/// Asserts the exit status, showing both outputs otherwise.
#[track_caller]
pub fn assert_status(out: &Output, code: i32) {
    assert_eq!(out.status.code(), Some(code), "{}", text(out));
}

/// The `ships:` block naming the main daemon (`main`, by socket) and ship2
/// (`ship2`, plain TCP). The timeout is generous: under the suite's load a
/// busy daemon may take seconds to create a container.
pub fn ships_yaml(tb: &Testbed) -> String {
    format!(
        "ships:\n  main: {{ip: 127.0.0.1, socket_path: /var/run/docker.sock, timeout: 15}}\n  ship2: {{ip: {}, docker_port: {}, timeout: 15}}\n",
        tb.ship2_addr(),
        tb.ship2_port()
    )
}

/// Holds the testbed's lock (so no `up`/`down` runs meanwhile) for as long
/// as it lives.
pub struct TestbedLock(Child);

impl TestbedLock {
    /// Waits for the lock and takes it.
    pub fn take() -> TestbedLock {
        let mut child = Command::new("flock")
            .args([
                "-x",
                "/run/maestro-testbed/lock",
                "-c",
                "echo locked; read _",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("running flock");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .expect("reading flock's answer");
        assert_eq!(line.trim(), "locked");
        TestbedLock(child)
    }
}

impl Drop for TestbedLock {
    fn drop(&mut self) {
        // Closing its stdin ends `read`, the shell, and the lock.
        drop(self.0.stdin.take());
        let _ = self.0.wait();
    }
}

/// A Docker client configuration directory of the scope's own (`NAME`), logged in to
/// the testbed registry: for `docker push`, and for maestro's credentials taken from
/// `$DOCKER_CONFIG/config.json`.
pub fn logged_in_config(tb: &Testbed, scope: &Scope, name: &str) -> PathBuf {
    use std::io::Write;
    let dir = scope.scratch_dir(name);
    let login = maestro_e2e::Docker::new(tb.main_host())
        .config_dir(&dir)
        .command()
        .args([
            "login",
            "-u",
            tb.registry_user(),
            "--password-stdin",
            tb.registry(),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            let mut stdin = child.stdin.take().expect("piped stdin");
            stdin.write_all(tb.registry_password().as_bytes())?;
            drop(stdin);
            child.wait_with_output()
        })
        .expect("running docker login");
    assert!(
        login.status.success(),
        "docker login {}: {}",
        tb.registry(),
        String::from_utf8_lossy(&login.stderr)
    );
    dir
}

/// Pushes the testbed image to the testbed registry as `maestro-test/busybox:TAG` and
/// drops the local tag again, so that no daemon holds it; returns
/// `REGISTRY/maestro-test/busybox:TAG` as the main daemon names it.
pub fn push_to_registry(tb: &Testbed, scope: &Scope, tag: &str) -> String {
    let image = format!("{}/maestro-test/busybox:{tag}", tb.registry());
    let config = logged_in_config(tb, scope, &format!("dockercfg-{tag}"));
    let pusher = maestro_e2e::Docker::new(tb.main_host()).config_dir(&config);
    pusher.run(["tag", tb.test_image(), &image]);
    pusher.run(["push", &image]);
    pusher.run(["rmi", &image]);
    image
}

/// The summary's word for `container` (`done`, `FAILED`, `skipped`, `unfinished`) and
/// the rest of its line.
pub fn outcome(stdout: &str, container: &str) -> (String, String) {
    let line = stdout
        .lines()
        .rev()
        .find(|l| l.starts_with("  ") && l.split_whitespace().nth(1) == Some(container))
        .unwrap_or_else(|| panic!("no summary line for {container}:\n{stdout}"));
    let mut words = line.split_whitespace();
    let word = words.next().unwrap_or_default().to_owned();
    let _ = words.next();
    (word, words.collect::<Vec<_>>().join(" "))
}
