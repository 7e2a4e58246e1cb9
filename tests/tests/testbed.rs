//! The testbed itself: every facility `tests/testbed/up` provides really works,
//! so that a failing scenario elsewhere points at maestro, not at the bed.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use maestro_e2e::{Docker, Scope, Testbed, bin, free_port, poll};

/// `GET /` over HTTP/1.0; the whole response, or `None` if nothing answered.
fn http_get(addr: &str, port: u16) -> Option<String> {
    let addr: SocketAddr = format!("{addr}:{port}").parse().ok()?;
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    stream
        .write_all(b"GET / HTTP/1.0\r\nHost: testbed\r\n\r\n")
        .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    (!response.is_empty()).then_some(response)
}

#[test]
fn main_daemon_and_plain_ship_answer_and_differ() {
    let tb = Testbed::load();
    let main_id = tb.main().run(["info", "--format", "{{.ID}}"]);
    let ship2_id = tb.ship2().run(["info", "--format", "{{.ID}}"]);
    let ship2_sock = Docker::new(&format!("unix://{}", tb.ship2_socket().display()));
    assert_eq!(ship2_sock.run(["info", "--format", "{{.ID}}"]), ship2_id);
    assert_ne!(main_id, ship2_id, "ship2 must be a daemon of its own");
    assert_eq!(tb.ship2().run(["info", "--format", "{{.Driver}}"]), "vfs");
}

/// Starts `name` on `docker`: busybox httpd serving a page that names the
/// container, on a published port. Returns the page and the port.
fn serve_page(tb: &Testbed, docker: &Docker, name: &str) -> (String, u16) {
    let page = format!("hello from {name}");
    let script = format!(
        "mkdir -p /www && echo '{page}' > /www/index.html && exec httpd -f -p 8080 -h /www"
    );
    docker.run([
        "run",
        "-d",
        "--name",
        name,
        "-p",
        "8080",
        tb.test_image(),
        "sh",
        "-c",
        &script,
    ]);
    // "0.0.0.0:49153", possibly followed by an IPv6 line.
    let mapping = docker.run(["port", name, "8080/tcp"]);
    let port = mapping
        .lines()
        .next()
        .and_then(|line| line.rsplit(':').next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no published port in {mapping:?}"));
    (page, port)
}

#[test]
fn ship2_runs_the_test_image_and_its_published_port_answers() {
    let tb = Testbed::load();
    let scope = Scope::new("publish");
    let ship2 = tb.ship2();

    let version = ship2.run([
        "run",
        "--rm",
        tb.test_image(),
        "/bin/maestro-guest",
        "--version",
    ]);
    assert!(version.starts_with("maestro-guest "), "{version}");

    let name = scope.name("web");
    let (page, port) = serve_page(tb, &ship2, &name);
    let response = poll(Duration::from_secs(15), || {
        http_get(tb.ship2_addr(), port).filter(|r| r.contains(&page))
    });
    assert!(
        response.is_some(),
        "{}:{port} did not serve the page",
        tb.ship2_addr()
    );
    assert_eq!(ship2.inspect(&name)["State"]["Running"], true);
}

#[test]
fn a_container_on_ship2_reaches_a_published_port_on_ship3() {
    let tb = Testbed::load();
    let scope = Scope::new("crossship");
    let (page, port) = serve_page(tb, &tb.ship3(), &scope.name("web"));
    let url = format!("http://{}:{port}/", tb.ship3_addr());
    // A few tries while httpd starts. (No `wget -T`: this busybox crashes on it.)
    let fetch = format!(
        "for i in 1 2 3 4 5 6 7 8 9 10; do timeout 5 wget -q -O - {url} && exit 0; sleep 0.5; done; exit 1"
    );
    let client = scope.name("client");
    let got = tb.ship2().run([
        "run",
        "--rm",
        "--name",
        &client,
        tb.test_image(),
        "sh",
        "-c",
        &fetch,
    ]);
    assert_eq!(got, page);
}

#[test]
fn tls_ship_needs_the_right_ca_and_a_client_certificate() {
    let tb = Testbed::load();
    assert!(
        !tb.ship3()
            .run(["version", "--format", "{{.Server.Version}}"])
            .is_empty()
    );

    let host = tb.ship3_host();
    let refused = |docker: Docker, what: &str| {
        let err = docker
            .try_run(["version", "--format", "{{.Server.Version}}"])
            .expect_err(&format!("ship3 answered {what}"));
        let lower = err.to_lowercase();
        assert!(
            lower.contains("certificate") || lower.contains("tls"),
            "{what}: {err}"
        );
    };
    refused(
        Docker::new(host).tls(tb.tls_ca(), None),
        "without a client certificate",
    );
    refused(
        Docker::new(host).tls(
            tb.tls_wrong_ca(),
            Some((tb.tls_client_cert(), tb.tls_client_key())),
        ),
        "to a client trusting the wrong CA",
    );
    refused(
        Docker::new(host).tls(
            tb.tls_ca(),
            Some((tb.tls_wrong_client_cert(), tb.tls_wrong_client_key())),
        ),
        "to a client certificate of the wrong CA",
    );
    let plain = Docker::new(host).try_run(["version", "--format", "{{.Server.Version}}"]);
    assert!(plain.is_err(), "ship3 answered plain HTTP: {plain:?}");
}

/// `docker login REGISTRY` with `password` on stdin.
fn login(docker: &Docker, registry: &str, user: &str, password: &str) -> Result<(), String> {
    let mut cmd = docker.command();
    cmd.args(["login", "-u", user, "--password-stdin", registry])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawning docker login");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(password.as_bytes())
        .expect("writing the password");
    let out = child.wait_with_output().expect("docker login");
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

#[test]
fn registry_demands_credentials_and_serves_both_namespaces() {
    let tb = Testbed::load();
    let scope = Scope::new("registry");
    let main = tb.main().config_dir(&scope.scratch_dir("main-config"));

    let err = main
        .try_run(["pull", tb.test_image_registry()])
        .expect_err("a pull without credentials worked");
    assert!(err.contains("no basic auth credentials"), "{err}");
    login(&main, tb.registry(), tb.registry_user(), "not-the-password")
        .expect_err("login with a wrong password worked");
    login(
        &main,
        tb.registry(),
        tb.registry_user(),
        &tb.registry_password(),
    )
    .expect("login");
    main.run(["pull", "-q", tb.test_image_registry()]);

    // ship2's daemon reaches the registry across the veth, as an insecure registry.
    let ship2 = tb.ship2().config_dir(&scope.scratch_dir("ship2-config"));
    let remote = format!("{}/{}", tb.registry_from_ship2(), tb.test_image());
    login(
        &ship2,
        tb.registry_from_ship2(),
        tb.registry_user(),
        &tb.registry_password(),
    )
    .expect("login from ship2");
    ship2.run(["pull", "-q", &remote]);
    ship2.run(["rmi", &remote]);
}

/// Kills and reaps the child when dropped (an ssh tunnel).
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn ssh(tb: &Testbed, key: &std::path::Path) -> Command {
    let mut cmd = Command::new("ssh");
    cmd.arg("-p")
        .arg(tb.ssh_port().to_string())
        .arg("-i")
        .arg(key)
        .args([
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            "BatchMode=yes",
            "-o",
            "ConnectTimeout=5",
        ])
        .args(["-o", "StrictHostKeyChecking=yes", "-o"])
        .arg(format!(
            "UserKnownHostsFile={}",
            tb.ssh_known_hosts().display()
        ))
        .stdin(Stdio::null());
    cmd
}

#[test]
fn ssh_tunnel_reaches_the_docker_socket_and_the_wrong_key_is_refused() {
    let tb = Testbed::load();
    let port = free_port();
    let target = format!("{}@{}", tb.ssh_user(), tb.ssh_host());
    let tunnel = ssh(tb, tb.ssh_key())
        .args(["-N", "-o", "ExitOnForwardFailure=yes", "-L"])
        .arg(format!("127.0.0.1:{port}:/var/run/docker.sock"))
        .arg(&target)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawning ssh");
    let _tunnel = KillOnDrop(tunnel);
    let through = Docker::new(&format!("tcp://127.0.0.1:{port}"));
    let version = poll(Duration::from_secs(15), || {
        through
            .try_run(["version", "--format", "{{.Server.Version}}"])
            .ok()
    });
    assert_eq!(
        version.as_deref(),
        Some(
            tb.main()
                .run(["version", "--format", "{{.Server.Version}}"])
                .as_str()
        ),
        "the Docker API did not answer through the tunnel"
    );

    let out = ssh(tb, tb.ssh_wrong_key())
        .arg(&target)
        .arg("true")
        .output()
        .expect("ssh");
    assert_eq!(out.status.code(), Some(255), "the wrong key logged in");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("Permission denied"), "{stderr}");
}

#[test]
fn reference_implementation_and_binaries_are_there() {
    let tb = Testbed::load();
    let out = Command::new(tb.maestro_ng_python())
        .args(["-c", "import maestro.maestro, maestro.guestutils"])
        .output()
        .expect("running the MaestroNG venv's python");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(tb.static_guest().is_file());
    assert!(bin("maestro").is_file());
    assert!(bin("maestro-guest").is_file());
}

#[test]
fn podman_ship_answers_on_both_listeners_and_serves_a_published_port() {
    let tb = Testbed::load();
    let scope = Scope::new("podman-bed");
    let podman = tb.podman();
    let by_socket = Docker::new(&format!("unix://{}", tb.podman_socket().display()));
    let components = "{{range .Server.Components}}{{.Name}};{{end}}";
    for docker in [&podman, &by_socket] {
        assert_eq!(
            docker.run(["version", "--format", "{{.Server.Version}}"]),
            tb.podman_version()
        );
        let names = docker.run(["version", "--format", components]);
        assert!(names.contains("Podman Engine"), "{names}");
    }
    // The test image, as Podman names what `podman load` was given.
    let tags = podman.run([
        "image",
        "inspect",
        tb.test_image(),
        "--format",
        "{{.RepoTags}}",
    ]);
    assert!(
        tags.contains(&format!("localhost/{}", tb.test_image())),
        "{tags}"
    );
    let name = scope.name("web");
    let (page, port) = serve_page(tb, &podman, &name);
    let response = poll(Duration::from_secs(15), || {
        http_get(tb.podman_addr(), port).filter(|r| r.contains(&page))
    });
    scope.remove_from(&podman);
    assert!(
        response.is_some(),
        "{}:{port} did not serve the page",
        tb.podman_addr()
    );
}
