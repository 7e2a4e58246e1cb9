//! How maestro reaches ships, end to end through the `maestro` CLI against the
//! testbed's real daemons: TLS with client certificates (ship3), SSH tunnels (the
//! testbed's sshd forwarding to a daemon's socket), unix sockets, and API versions.
//! Every failure must be quick and say what went wrong, and no output may carry key
//! material or passwords.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use maestro_e2e::{Scope, Testbed, bin, free_port};

/// What one `maestro` run did.
#[derive(Debug)]
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
    elapsed: Duration,
}

impl Run {
    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {self:?}"))
    }

    /// Both streams, for messages that may go to either.
    fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

/// Writes `yaml` as `maestro.yaml` in `dir` and runs `maestro -f <it> ARGS` from `/`
/// (so relative paths can only work if they are taken relative to the YAML file).
fn maestro(dir: &Path, yaml: &str, args: &[&str]) -> Run {
    let file = dir.join("maestro.yaml");
    std::fs::write(&file, yaml).expect("writing maestro.yaml");
    let start = Instant::now();
    let out = maestro_e2e::maestro_cli(&file, args)
        .current_dir("/")
        .output()
        .expect("running maestro");
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        elapsed: start.elapsed(),
    };
    assert_no_secrets(&run);
    run
}

/// The lines of the testbed's private keys and the registry password never appear.
fn assert_no_secrets(run: &Run) {
    let tb = Testbed::load();
    let all = run.all();
    for key in [
        tb.ssh_key(),
        tb.ssh_wrong_key(),
        tb.tls_client_key(),
        tb.tls_wrong_client_key(),
    ] {
        let text = std::fs::read_to_string(key).expect("reading a testbed key");
        for line in text
            .lines()
            .filter(|l| !l.starts_with("-----") && l.len() >= 16)
        {
            assert!(
                !all.contains(line),
                "key material of {} in the output",
                key.display()
            );
        }
    }
    assert!(
        !all.contains(&tb.registry_password()),
        "the registry password is in the output"
    );
}

/// A registries section with the real password, so a leak would show.
fn registries() -> String {
    let tb = Testbed::load();
    format!(
        "registries:\n  {reg}:\n    registry: http://{reg}/v2/\n    username: {user}\n    password: {pw}\n",
        reg = tb.registry(),
        user = tb.registry_user(),
        pw = tb.registry_password()
    )
}

/// One service `app` with one instance `<name>` on `ship`.
fn one_instance(name: &str, ship: &str) -> String {
    let tb = Testbed::load();
    format!(
        "services:\n  app:\n    image: {img}\n    instances:\n      {name}:\n        ship: {ship}\n        command: sleep 300\n",
        img = tb.test_image()
    )
}

/// Copies ship3's certificates next to the YAML file (`certs/`), for relative paths.
fn copy_certs(dir: &Path) {
    let tb = Testbed::load();
    let certs = dir.join("certs");
    std::fs::create_dir_all(&certs).unwrap();
    for (from, to) in [
        (tb.tls_ca(), "ca.pem"),
        (tb.tls_client_cert(), "cert.pem"),
        (tb.tls_client_key(), "key.pem"),
        (tb.tls_wrong_ca(), "wrong-ca.pem"),
        (tb.tls_wrong_client_cert(), "wrong-cert.pem"),
        (tb.tls_wrong_client_key(), "wrong-key.pem"),
    ] {
        std::fs::copy(from, certs.join(to)).unwrap();
    }
}

/// ship3 as the 0.8.3 documentation says: `ip` the address, `endpoint` the name in
/// the server certificate (which does not resolve here), plus `extra` TLS lines.
fn ship3_yaml(scope: &Scope, instance: &str, tls_lines: &str) -> String {
    let tb = Testbed::load();
    let _ = scope;
    format!(
        "name: transports\n{reg}ships:\n  ship3:\n    ip: {ip}\n    endpoint: {name}\n    timeout: 10\n{tls_lines}{svc}",
        reg = registries(),
        ip = tb.ship3_addr(),
        name = tb.ship3_tls_name(),
        svc = one_instance(instance, "ship3"),
    )
}

const GOOD_TLS: &str = "    tls: true\n    tls_verify: true\n    tls_ca_cert: certs/ca.pem\n    tls_cert: certs/cert.pem\n    tls_key: certs/key.pem\n";

#[test]
fn tls_ship_answers_with_the_right_ca_and_client_certificate() {
    let tb = Testbed::load();
    let scope = Scope::new("tls-ok");
    let dir = scope.scratch_dir("env");
    copy_certs(&dir);
    let name = scope.name("app");
    // A container of the environment on ship3, made with the docker CLI.
    tb.ship3()
        .run(["create", "--name", &name, tb.test_image(), "sleep", "300"]);

    let run = maestro(
        &dir,
        &ship3_yaml(&scope, &name, GOOD_TLS),
        &["ships", "--format", "json"],
    );
    assert_eq!(run.code, 0, "{run:?}");
    let ship = &run.json()["ships"][0];
    assert_eq!(ship["name"], "ship3");
    assert_eq!(ship["transport"], "tls");
    assert_eq!(ship["reachable"], true, "{run:?}");
    assert_eq!(ship["api_version"], "1.41", "{run:?}");
    assert!(
        ship["engine_version"]
            .as_str()
            .is_some_and(|v| !v.is_empty()),
        "{run:?}"
    );
    assert_eq!(ship["expected_containers"], 1);
    assert_eq!(ship["containers"][0]["name"], name.as_str(), "{run:?}");
    assert_eq!(ship["containers"][0]["state"], "created", "{run:?}");

    let text = maestro(&dir, &ship3_yaml(&scope, &name, GOOD_TLS), &["ships"]);
    assert_eq!(text.code, 0, "{text:?}");
    assert!(
        text.stdout.contains(&format!("1/1: {name}")),
        "{}",
        text.stdout
    );
}

#[test]
fn tls_ship_with_a_wrong_ca_fails_clearly() {
    let scope = Scope::new("tls-wrong-ca");
    let dir = scope.scratch_dir("env");
    copy_certs(&dir);
    let tls = GOOD_TLS.replace("certs/ca.pem", "certs/wrong-ca.pem");
    let run = maestro(
        &dir,
        &ship3_yaml(&scope, &scope.name("app"), &tls),
        &["ships", "--format", "json"],
    );
    assert_eq!(run.code, 1, "{run:?}");
    let ship = &run.json()["ships"][0];
    assert_eq!(ship["reachable"], false);
    let error = ship["error"].as_str().unwrap_or_default();
    assert!(error.starts_with("ship ship3: "), "{error}");
    assert!(
        error.to_lowercase().contains("certificate"),
        "the reason should name the certificate: {error}"
    );
    assert!(run.elapsed < Duration::from_secs(10), "{run:?}");
}

#[test]
fn tls_ship_refuses_a_client_without_certificate_or_with_a_foreign_one() {
    let scope = Scope::new("tls-no-cert");
    let dir = scope.scratch_dir("env");
    copy_certs(&dir);
    // Without `tls: true` MaestroNG's default port stays 2375: give it.
    let no_cert = "    tls_verify: true\n    tls_ca_cert: certs/ca.pem\n    docker_port: 2376\n";
    let foreign = GOOD_TLS
        .replace("certs/cert.pem", "certs/wrong-cert.pem")
        .replace("certs/key.pem", "certs/wrong-key.pem");
    for tls in [no_cert.to_owned(), foreign] {
        let run = maestro(
            &dir,
            &ship3_yaml(&scope, &scope.name("app"), &tls),
            &["ships", "--format", "json"],
        );
        assert_eq!(run.code, 1, "{run:?}");
        let error = run.json()["ships"][0]["error"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(error.starts_with("ship ship3: "), "{error}");
        assert!(
            error.to_lowercase().contains("certificate"),
            "the reason should name the certificate: {error}"
        );
        assert!(run.elapsed < Duration::from_secs(10), "{run:?}");
    }
}

/// The SSH ship: the testbed's sshd, forwarding to `socket` (a daemon's socket).
fn ssh_yaml(dir: &Path, key: &Path, port: u16, socket: &str, instance: &str) -> String {
    let tb = Testbed::load();
    // A private copy of the known-hosts file: `yes` checks the sshd's real host key.
    let known = dir.join("known_hosts");
    if !known.exists() {
        std::fs::copy(tb.ssh_known_hosts(), &known).unwrap();
    }
    format!(
        "name: transports\n{reg}ships:\n  tunnelled:\n    ip: {host}\n    socket_path: {socket}\n    timeout: 10\n    ssh_tunnel:\n      user: {user}\n      key: {key}\n      port: {port}\n      known_hosts: known_hosts\n      strict_host_key_checking: 'yes'\n{svc}",
        reg = registries(),
        host = tb.ssh_host(),
        user = tb.ssh_user(),
        key = key.display(),
        svc = one_instance(instance, "tunnelled"),
    )
}

/// ssh processes whose command line mentions `needle` (the tunnels of one test).
fn processes_mentioning(needle: &str) -> Vec<String> {
    ssh_processes(needle)
        .into_iter()
        .map(|(_, line)| line)
        .collect()
}

fn ssh_processes(needle: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let line = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        if line.contains(needle) && line.starts_with("ssh ") {
            found.push((entry.file_name().to_string_lossy().into_owned(), line));
        }
    }
    found
}

/// Kills, when dropped, the ssh processes a failed test left behind (by their pid).
struct ReapTunnels(String);

impl Drop for ReapTunnels {
    fn drop(&mut self) {
        for (pid, _) in ssh_processes(&self.0) {
            let _ = Command::new("kill").arg(pid).status();
        }
    }
}

#[test]
fn ssh_tunnel_reaches_the_daemon_and_closes_on_exit() {
    let tb = Testbed::load();
    let scope = Scope::new("ssh-ok");
    let dir = scope.scratch_dir("env");
    let name = scope.name("app");
    tb.main()
        .run(["create", "--name", &name, tb.test_image(), "sleep", "300"]);
    let socket = tb.main_host().trim_start_matches("unix://");
    let yaml = ssh_yaml(&dir, tb.ssh_key(), tb.ssh_port(), socket, &name);

    let run = maestro(&dir, &yaml, &["ships", "--format", "json"]);
    assert_eq!(run.code, 0, "{run:?}");
    let ship = &run.json()["ships"][0];
    assert_eq!(ship["transport"], "ssh");
    assert_eq!(
        ship["address"],
        format!(
            "ssh://{}@{}:{} -> {socket}",
            tb.ssh_user(),
            tb.ssh_host(),
            tb.ssh_port()
        )
        .as_str()
    );
    assert_eq!(ship["reachable"], true, "{run:?}");
    assert_eq!(ship["api_version"], "1.41");
    assert_eq!(ship["containers"][0]["name"], name.as_str(), "{run:?}");
    // The tunnel ended with maestro.
    let known = dir.join("known_hosts").display().to_string();
    assert_eq!(processes_mentioning(&known), Vec::<String>::new());
}

/// `maestro` as PID 1 (a CI container's entrypoint): its tunnel's ssh has
/// parent pid 1, which once read as "parent gone" and failed every tunnel.
#[test]
fn ssh_tunnel_works_when_maestro_is_pid_1() {
    let tb = Testbed::load();
    let scope = Scope::new("ssh-pid1");
    let dir = scope.scratch_dir("env");
    let name = scope.name("app");
    tb.main()
        .run(["create", "--name", &name, tb.test_image(), "sleep", "300"]);
    let socket = tb.main_host().trim_start_matches("unix://");
    let file = dir.join("maestro.yaml");
    std::fs::write(
        &file,
        ssh_yaml(&dir, tb.ssh_key(), tb.ssh_port(), socket, &name),
    )
    .unwrap();
    // unshare(1) from util-linux: a new PID namespace whose first process is maestro.
    let out = Command::new("unshare")
        .args(["--pid", "--fork", "--kill-child"])
        .arg(bin("maestro"))
        .arg("-f")
        .arg(&file)
        .args(["ships", "--format", "json"])
        .current_dir("/")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .expect("running unshare (apt-get install util-linux)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    let json: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
    let ship = &json["ships"][0];
    assert_eq!(ship["transport"], "ssh");
    assert_eq!(ship["reachable"], true, "{out:?}");
    assert_eq!(ship["containers"][0]["name"], name.as_str(), "{out:?}");
    // The namespace is gone, and its ssh with it.
    let known = dir.join("known_hosts").display().to_string();
    assert_eq!(processes_mentioning(&known), Vec::<String>::new());
}

#[test]
fn ssh_tunnel_with_a_refused_key_fails_quickly_and_clearly() {
    let tb = Testbed::load();
    let scope = Scope::new("ssh-wrong-key");
    let dir = scope.scratch_dir("env");
    let socket = tb.main_host().trim_start_matches("unix://");
    let yaml = ssh_yaml(
        &dir,
        tb.ssh_wrong_key(),
        tb.ssh_port(),
        socket,
        &scope.name("app"),
    );
    let run = maestro(&dir, &yaml, &["ships"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stdout.contains("\nship tunnelled: SSH tunnel ssh://"),
        "{run:?}"
    );
    assert!(run.stdout.contains("Permission denied"), "{run:?}");
    // Well within the ship's timeout of 10 s: a refusal is not waited out.
    assert!(run.elapsed < Duration::from_secs(5), "{run:?}");
    let known = dir.join("known_hosts").display().to_string();
    assert_eq!(processes_mentioning(&known), Vec::<String>::new());
}

#[test]
fn ssh_tunnel_to_a_closed_port_or_a_missing_socket_fails_quickly() {
    let tb = Testbed::load();
    let scope = Scope::new("ssh-closed");
    let dir = scope.scratch_dir("env");
    let socket = tb.main_host().trim_start_matches("unix://");

    let closed = ssh_yaml(&dir, tb.ssh_key(), free_port(), socket, &scope.name("a"));
    let run = maestro(&dir, &closed, &["ships", "--format", "json"]);
    assert_eq!(run.code, 1, "{run:?}");
    let error = run.json()["ships"][0]["error"].as_str().unwrap().to_owned();
    assert!(error.contains("Connection refused"), "{error}");
    assert!(run.elapsed < Duration::from_secs(5), "{run:?}");

    let missing = ssh_yaml(
        &dir,
        tb.ssh_key(),
        tb.ssh_port(),
        "/nonexistent/docker.sock",
        &scope.name("a"),
    );
    let run = maestro(&dir, &missing, &["ships", "--format", "json"]);
    assert_eq!(run.code, 1, "{run:?}");
    let error = run.json()["ships"][0]["error"].as_str().unwrap().to_owned();
    assert!(
        error.contains("refused the forward to /nonexistent/docker.sock"),
        "{error}"
    );
    assert!(run.elapsed < Duration::from_secs(6), "{run:?}");
    let known = dir.join("known_hosts").display().to_string();
    assert_eq!(processes_mentioning(&known), Vec::<String>::new());
}

#[test]
fn socket_path_ships_and_a_missing_socket_in_one_survey() {
    let tb = Testbed::load();
    let scope = Scope::new("socket");
    let dir = scope.scratch_dir("env");
    let name = scope.name("app");
    // The main daemon (other scenarios freeze ship2 for a while).
    tb.main()
        .run(["create", "--name", &name, tb.test_image(), "sleep", "300"]);
    let missing: PathBuf = dir.join("no-such.sock");
    let yaml = format!(
        "name: transports\nships:\n  local:\n    ip: 127.0.0.1\n    socket_path: {sock}\n  gone:\n    ip: 127.0.0.1\n    socket_path: {missing}\n{svc}",
        sock = tb.main_host().trim_start_matches("unix://"),
        missing = missing.display(),
        svc = one_instance(&name, "local"),
    );
    let run = maestro(&dir, &yaml, &["ships", "--format", "json"]);
    assert_eq!(run.code, 1, "one ship is down: {run:?}");
    let v = run.json();
    let local = &v["ships"][0];
    assert_eq!(local["transport"], "unix");
    assert_eq!(local["reachable"], true, "{run:?}");
    assert_eq!(local["containers"][0]["name"], name.as_str());
    let gone = &v["ships"][1];
    assert_eq!(gone["reachable"], false);
    assert!(
        gone["error"]
            .as_str()
            .unwrap()
            .contains(&missing.display().to_string()),
        "{run:?}"
    );
    assert_eq!(v["all_reachable"], false);
}

#[test]
fn a_pinned_api_version_is_used_or_refused_with_both_versions() {
    let tb = Testbed::load();
    let scope = Scope::new("api");
    let dir = scope.scratch_dir("env");
    copy_certs(&dir);
    // ship3 over TLS (other scenarios freeze ship2 for a while).
    let yaml = |version: &str| {
        ship3_yaml(
            &scope,
            "unused",
            &format!("{GOOD_TLS}    api_version: '{version}'\n"),
        )
        .replace(&one_instance("unused", "ship3"), "services: {}\n")
    };
    let ok = maestro(&dir, &yaml("1.40"), &["ships", "--format", "json"]);
    assert_eq!(ok.code, 0, "{ok:?}");
    assert_eq!(ok.json()["ships"][0]["api_version"], "1.40");

    let auto = maestro(&dir, &yaml("auto"), &["ships", "--format", "json"]);
    assert_eq!(auto.code, 0, "{auto:?}");
    assert_eq!(auto.json()["ships"][0]["api_version"], "1.41");

    let refused_msg =
        "ship ship3: the Docker daemon does not accept API version 1.99: it supports 1.12 to 1.41";
    let refused = maestro(&dir, &yaml("1.99"), &["ships"]);
    assert_eq!(refused.code, 1, "{refused:?}");
    assert!(refused.stdout.contains(refused_msg), "{refused:?}");

    // The same refusal through status and start, which name the ship's containers.
    let name = scope.name("app");
    let with_instance = yaml("1.99").replace("services: {}\n", &one_instance(&name, "ship3"));
    let status = maestro(&dir, &with_instance, &["status", "--format", "json"]);
    assert_eq!(status.code, 1, "{status:?}");
    assert_eq!(status.json()[0]["state"], "host_down", "{status:?}");
    assert_eq!(status.json()[0]["error"], refused_msg, "{status:?}");
    let start = maestro(&dir, &with_instance, &["start"]);
    assert_eq!(start.code, 1, "{start:?}");
    assert!(start.all().contains(refused_msg), "{start:?}");
    assert!(
        tb.ship3().try_run(["inspect", &name]).is_err(),
        "not created"
    );
}

/// A TCP listener on 127.0.0.1 that accepts connections and never says a word (a
/// dead sshd, or a daemon that hangs); it keeps them open until the test ends.
fn silent_listener() -> (u16, std::sync::mpsc::Receiver<()>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("binding a silent port");
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
            let _ = tx.send(());
        }
    });
    (port, rx)
}

#[test]
fn ssh_tunnel_to_a_silent_server_gives_up_after_the_ship_timeout() {
    let tb = Testbed::load();
    let scope = Scope::new("ssh-silent");
    let dir = scope.scratch_dir("env");
    let (port, _accepted) = silent_listener();
    let socket = tb.main_host().trim_start_matches("unix://");
    let yaml = ssh_yaml(&dir, tb.ssh_key(), port, socket, &scope.name("a"))
        .replace("    timeout: 10\n", "    timeout: 2\n");
    let run = maestro(&dir, &yaml, &["ships", "--format", "json"]);
    assert_eq!(run.code, 1, "{run:?}");
    let error = run.json()["ships"][0]["error"].as_str().unwrap().to_owned();
    assert!(
        error.contains("not ready within the ship's timeout of 2s"),
        "{error}"
    );
    assert!(
        run.elapsed >= Duration::from_millis(1900) && run.elapsed < Duration::from_secs(6),
        "{run:?}"
    );
    let known = dir.join("known_hosts").display().to_string();
    assert_eq!(processes_mentioning(&known), Vec::<String>::new());
}

/// maestro is interrupted (SIGINT) or killed (SIGKILL) while its tunnel is open: the
/// ssh process must not outlive it.
#[test]
fn the_tunnel_dies_with_maestro_on_sigint_and_sigkill() {
    let tb = Testbed::load();
    for signal in ["INT", "KILL"] {
        let scope = Scope::new(&format!("ssh-sig{}", signal.to_lowercase()));
        let dir = scope.scratch_dir("env");
        // The tunnel forwards to a port (no socket_path) where a silent listener holds
        // the probe: maestro waits, with the tunnel open, until the signal comes.
        let (port, accepted) = silent_listener();
        let yaml = ssh_yaml(
            &dir,
            tb.ssh_key(),
            tb.ssh_port(),
            "/unused",
            &scope.name("a"),
        )
        .replace(
            "    socket_path: /unused\n",
            &format!("    docker_port: {port}\n"),
        )
        .replace("    timeout: 10\n", "    timeout: 60\n");
        let file = dir.join("maestro.yaml");
        std::fs::write(&file, yaml).unwrap();
        let mut child = maestro_e2e::maestro_cli(&file, &["ships"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting maestro");
        accepted
            .recv_timeout(Duration::from_secs(15))
            .expect("the tunnel never reached the silent listener");
        let known = dir.join("known_hosts").display().to_string();
        let _reap = ReapTunnels(known.clone());
        assert_eq!(processes_mentioning(&known).len(), 1, "one tunnel is open");

        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(child.id().to_string())
            .status()
            .unwrap();
        assert!(status.success());
        let exited = child.wait().unwrap();
        assert!(!exited.success(), "{exited:?}");
        let gone = maestro_e2e::poll(Duration::from_secs(5), || {
            processes_mentioning(&known).is_empty().then_some(())
        });
        assert!(
            gone.is_some(),
            "ssh outlived maestro after SIG{signal}: {:?}",
            processes_mentioning(&known)
        );
    }
}

/// `start`, `status` and `stop` on a TLS ship (ship3) and an SSH-tunnelled ship (the
/// main daemon behind the sshd), in one play each.
#[test]
fn plays_and_status_work_through_tls_and_an_ssh_tunnel() {
    let tb = Testbed::load();
    let scope = Scope::new("plays");
    let dir = scope.scratch_dir("env");
    copy_certs(&dir);
    std::fs::copy(tb.ssh_known_hosts(), dir.join("known_hosts")).unwrap();
    let (a, b) = (scope.name("a"), scope.name("b"));
    let yaml = format!(
        "name: transports\n{reg}ships:\n  ship3:\n    ip: {ip3}\n    endpoint: {name3}\n    timeout: 10\n{GOOD_TLS}  tunnelled:\n    ip: {ssh}\n    socket_path: {sock}\n    timeout: 10\n    ssh_tunnel:\n      user: {user}\n      key: {key}\n      port: {port}\n      known_hosts: known_hosts\n      strict_host_key_checking: 'yes'\nservices:\n  app:\n    image: {img}\n    instances:\n      {a}:\n        ship: ship3\n        command: sleep 300\n        stop_timeout: 1\n      {b}:\n        ship: tunnelled\n        command: sleep 300\n        stop_timeout: 1\n",
        reg = registries(),
        ip3 = tb.ship3_addr(),
        name3 = tb.ship3_tls_name(),
        ssh = tb.ssh_host(),
        sock = tb.main_host().trim_start_matches("unix://"),
        user = tb.ssh_user(),
        key = tb.ssh_key().display(),
        port = tb.ssh_port(),
        img = tb.test_image(),
    );
    let known = dir.join("known_hosts").display().to_string();
    let _reap = ReapTunnels(known.clone());

    let start = maestro(&dir, &yaml, &["start"]);
    assert_eq!(start.code, 0, "{start:?}");
    assert_eq!(tb.ship3().inspect(&a)["State"]["Running"], true);
    assert_eq!(tb.main().inspect(&b)["State"]["Running"], true);

    let status = maestro(&dir, &yaml, &["status", "--format", "json"]);
    assert_eq!(status.code, 0, "{status:?}");
    let rows = status.json();
    for (i, name) in [&a, &b].into_iter().enumerate() {
        assert_eq!(rows[i]["instance"], name.as_str(), "{status:?}");
        assert_eq!(rows[i]["state"], "running", "{status:?}");
    }

    let stop = maestro(&dir, &yaml, &["stop", &a, &b]);
    assert_eq!(stop.code, 0, "{stop:?}");
    assert_eq!(tb.ship3().inspect(&a)["State"]["Running"], false);
    assert_eq!(tb.main().inspect(&b)["State"]["Running"], false);
    assert_eq!(processes_mentioning(&known), Vec::<String>::new());
}

/// A refused tunnel makes its containers "host down" in `status`, quickly, with ssh's
/// reason, while the other ships are reported normally.
#[test]
fn status_reports_a_refused_tunnel_as_host_down() {
    let tb = Testbed::load();
    let scope = Scope::new("status-refused");
    let dir = scope.scratch_dir("env");
    let socket = tb.main_host().trim_start_matches("unix://");
    let name = scope.name("a");
    let yaml = ssh_yaml(&dir, tb.ssh_wrong_key(), tb.ssh_port(), socket, &name);
    let run = maestro(&dir, &yaml, &["status", "--format", "json"]);
    assert_eq!(run.code, 1, "{run:?}");
    let row = &run.json()[0];
    assert_eq!(row["state"], "host_down", "{run:?}");
    let error = row["error"].as_str().unwrap_or_default();
    assert!(
        error.starts_with("ship tunnelled: SSH tunnel ssh://")
            && error.contains("Permission denied"),
        "{error}"
    );
    assert!(run.elapsed < Duration::from_secs(5), "{run:?}");
}
