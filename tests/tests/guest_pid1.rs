//! maestro-guest as PID 1 of a real container: an image `FROM scratch` with
//! the static maestro-guest and busybox, against the local Docker engine.
//!
//! Docker helpers are local to this file on purpose (the shared harness in
//! `src/lib.rs` evolves separately).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

mod support;

use maestro_e2e::repo_root;
use support::pki::{self, make_ca};

fn docker(args: &[&str]) -> Output {
    Command::new("docker")
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run docker ({e}): install docker.io, see tests/testbed/")
        })
}

fn docker_ok(args: &[&str]) -> String {
    let out = docker(args);
    assert!(
        out.status.success(),
        "docker {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn require_docker() {
    let out = Command::new("docker")
        .args(["info", "--format", "{{.ServerVersion}}"])
        .output();
    match out {
        Ok(out) if out.status.success() => {}
        _ => panic!(
            "`docker info` does not answer: start dockerd, see tests/testbed/ or run scripts/test"
        ),
    }
}

/// A unique name for this run's images and containers.
fn name(what: &str) -> String {
    format!("maestro-guest-pid1-{}-{what}", std::process::id())
}

/// An image removed again when dropped.
struct Image(String);

impl Drop for Image {
    fn drop(&mut self) {
        let _ = docker(&["rmi", "-f", &self.0]);
    }
}

/// A container removed again when dropped.
struct Container(String);

impl Drop for Container {
    fn drop(&mut self) {
        let _ = docker(&["rm", "-f", &self.0]);
    }
}

/// The static maestro-guest of this tree, built by `scripts/build-guest-static`.
fn static_guest() -> PathBuf {
    let build = Command::new(repo_root().join("scripts/build-guest-static"))
        .current_dir(repo_root())
        .output()
        .expect("run scripts/build-guest-static");
    assert!(
        build.status.success(),
        "scripts/build-guest-static failed: {}",
        String::from_utf8_lossy(&build.stderr)
    );
    PathBuf::from(String::from_utf8_lossy(&build.stdout).trim())
}

/// `FROM scratch` + busybox + the static maestro-guest of
/// `scripts/build-guest-static`.
fn build_image(what: &str) -> Image {
    require_docker();
    let busybox = Path::new("/usr/bin/busybox");
    assert!(
        busybox.exists(),
        "/usr/bin/busybox is missing: apt-get install busybox-static"
    );
    let binary = static_guest();
    let context = std::env::temp_dir().join(name(what));
    let _ = std::fs::remove_dir_all(&context);
    std::fs::create_dir_all(&context).unwrap();
    std::fs::copy(busybox, context.join("busybox")).unwrap();
    std::fs::copy(&binary, context.join("maestro-guest")).unwrap();
    std::fs::write(
        context.join("Dockerfile"),
        "FROM scratch\n\
         COPY busybox /bin/busybox\n\
         RUN [\"/bin/busybox\", \"--install\", \"-s\", \"/bin\"]\n\
         COPY maestro-guest /bin/maestro-guest\n",
    )
    .unwrap();
    let tag = format!("{}:latest", name(what));
    docker_ok(&["build", "-q", "-t", &tag, context.to_str().unwrap()]);
    let _ = std::fs::remove_dir_all(&context);
    Image(tag)
}

/// Starts a detached container running `command` and waits until `ready`
/// shows up in `docker top`.
fn start(image: &Image, what: &str, command: &[&str], ready: &str) -> Container {
    let container = Container(name(what));
    let mut args = vec!["run", "-d", "--name", &container.0, &image.0];
    args.extend_from_slice(command);
    docker_ok(&args);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let top = docker(&["top", &container.0]);
        if String::from_utf8_lossy(&top.stdout).contains(ready) {
            return container;
        }
        assert!(
            Instant::now() < deadline,
            "{ready:?} never started in {}",
            container.0
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Times `docker stop -t TIMEOUT` and returns it with the exit code.
fn stop(container: &Container, timeout: u32) -> (Duration, i32) {
    let started = Instant::now();
    docker_ok(&["stop", "-t", &timeout.to_string(), &container.0]);
    let took = started.elapsed();
    let code = docker_ok(&["inspect", "-f", "{{.State.ExitCode}}", &container.0]);
    (took, code.parse().unwrap())
}

#[test]
fn docker_stop_of_a_sleep_under_maestro_guest_is_quick_and_gives_143() {
    let image = build_image("stop");

    let supervised = start(
        &image,
        "supervised",
        &["/bin/maestro-guest", "run", "--", "sleep", "1000"],
        "sleep 1000",
    );
    let (took, code) = stop(&supervised, 10);
    eprintln!("docker stop with maestro-guest as PID 1: {took:?}, exit code {code}");
    assert_eq!(
        code, 143,
        "SIGTERM must reach sleep and come back as 128+15"
    );
    assert!(
        took < Duration::from_millis(2500),
        "docker stop took {took:?}: the signal was not forwarded"
    );

    // Without an init, sleep as PID 1 ignores SIGTERM: docker waits the
    // whole stop timeout and then kills it.
    let bare = start(&image, "bare", &["sleep", "1000"], "sleep 1000");
    let (bare_took, bare_code) = stop(&bare, 2);
    eprintln!("docker stop with sleep as PID 1: {bare_took:?}, exit code {bare_code}");
    assert_eq!(bare_code, 137);
    assert!(bare_took >= Duration::from_millis(1900));
    assert!(took < bare_took);
}

#[test]
fn as_pid1_orphans_are_reaped_and_exit_codes_pass_through() {
    let image = build_image("reap");
    // The inner shell leaves a short sleep behind; once it exits, it is a
    // zombie of PID 1 unless PID 1 reaps it.
    let script = "sh -c 'sleep 0.2 &'; sleep 1.5; cat /proc/[0-9]*/stat; exit 7";
    let out = docker(&[
        "run",
        "--rm",
        "--name",
        &name("reap-run"),
        &image.0,
        "/bin/maestro-guest",
        "run",
        "--",
        "sh",
        "-c",
        script,
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(7), "{stdout}");
    assert!(
        stdout.lines().any(|l| l.starts_with("1 (maestro-guest) ")),
        "maestro-guest is not PID 1:\n{stdout}"
    );
    let zombies: Vec<&str> = stdout.lines().filter(|l| l.contains(") Z ")).collect();
    assert!(zombies.is_empty(), "zombies left: {zombies:?}");
}

/// `docker logs` of a container, stdout and stderr together.
fn logs(container: &Container) -> String {
    let out = docker(&["logs", &container.0]);
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Polls `docker logs` until it contains `what`.
fn wait_for_log(container: &Container, what: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let text = logs(container);
        if text.contains(what) {
            return text;
        }
        assert!(
            Instant::now() < deadline,
            "{what:?} never appeared in the logs of {}:\n{text}",
            container.0
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A scratch directory on the host, for bind mounts (the engine is local).
fn host_dir(what: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(name(what));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn docker_stop_goes_through_stop_delay_and_rewrite() {
    let image = build_image("rewrite");
    // The program logs what it gets; QUIT ends it with 7, TERM would give 9.
    let script = "trap 'echo got QUIT; exit 7' QUIT; trap 'echo got TERM; exit 9' TERM; \
                  echo ready; while :; do sleep 0.05; done";
    let container = start(
        &image,
        "rewrite",
        &[
            "/bin/maestro-guest",
            "run",
            "--stop-delay",
            "1500ms",
            "--rewrite",
            "TERM:QUIT",
            "--",
            "sh",
            "-c",
            script,
        ],
        "sleep 0.05",
    );
    wait_for_log(&container, "ready");
    let (took, code) = stop(&container, 20);
    let text = logs(&container);
    eprintln!("docker stop with --stop-delay 1500ms: {took:?}, exit code {code}");
    assert_eq!(code, 7, "{text}");
    assert!(
        text.contains("got QUIT") && !text.contains("got TERM"),
        "{text}"
    );
    assert!(
        text.contains("holding SIGTERM for 1.5s (--stop-delay)"),
        "{text}"
    );
    assert!(took >= Duration::from_millis(1450), "not held: {took:?}");
    assert!(took < Duration::from_secs(10), "{took:?}");
}

#[test]
fn as_pid1_leftovers_get_term_then_kill_and_the_main_status_stays() {
    let image = build_image("leftovers");
    // One leftover stops on TERM (and says so), one ignores TERM: that one
    // is killed when the grace period is over.
    let script = "(trap 'echo leftover got TERM; exit 0' TERM; while :; do sleep 0.05; done) & \
                  (trap '' TERM; exec sleep 1000) & \
                  sleep 0.3; echo main exits; exit 5";
    let container = Container(name("leftovers-run"));
    let started = Instant::now();
    let out = docker(&[
        "run",
        "--name",
        &container.0,
        &image.0,
        "/bin/maestro-guest",
        "run",
        "--grace",
        "1",
        "--",
        "sh",
        "-c",
        script,
    ]);
    let took = started.elapsed();
    let text = logs(&container);
    assert_eq!(out.status.code(), Some(5), "{text}");
    assert!(
        text.contains("main exits") && text.contains("leftover got TERM"),
        "{text}"
    );
    assert!(
        took >= Duration::from_millis(1000),
        "the TERM-ignoring leftover was not given its grace period: {took:?}"
    );
    assert!(took < Duration::from_secs(20), "{took:?}");
}

#[test]
fn file_env_secrets_reach_the_program_but_not_inspect_nor_pid1_environ() {
    let image = build_image("file-env");
    let secrets = host_dir("secrets");
    std::fs::write(secrets.join("db"), "Sup3r-s3cret\n").unwrap();
    let mount = format!("{}:/run/secrets:ro", secrets.display());
    let script = "echo \"pw=$DB_PASSWORD\"; echo \"file=${DB_PASSWORD_FILE-unset}\"; \
                  echo \"pid1 environ:\"; tr '\\0' '\\n' < /proc/1/environ";
    let container = Container(name("file-env-run"));
    let out = docker(&[
        "run",
        "--name",
        &container.0,
        "-v",
        &mount,
        "-e",
        "DB_PASSWORD_FILE=/run/secrets/db",
        &image.0,
        "/bin/maestro-guest",
        "run",
        "--file-env",
        "--",
        "sh",
        "-c",
        script,
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (program, pid1) = stdout.split_once("pid1 environ:").unwrap();
    assert_eq!(program, "pw=Sup3r-s3cret\nfile=unset\n");
    assert!(
        pid1.contains("DB_PASSWORD_FILE=/run/secrets/db") && !pid1.contains("Sup3r"),
        "{pid1}"
    );
    let inspect = docker_ok(&["inspect", &container.0]);
    assert!(inspect.contains("DB_PASSWORD_FILE=/run/secrets/db"));
    assert!(
        !inspect.contains("Sup3r"),
        "the secret is in docker inspect"
    );

    // A missing secret stops the container with a message naming the variable.
    let missing = docker(&[
        "run",
        "--rm",
        "-e",
        "API_KEY_FILE=/run/secrets/nope",
        &image.0,
        "/bin/maestro-guest",
        "run",
        "--file-env",
        "--",
        "true",
    ]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&missing.stderr)
            .contains("API_KEY_FILE: cannot read /run/secrets/nope"),
        "{missing:?}"
    );
    let _ = std::fs::remove_dir_all(&secrets);
}

#[test]
fn reload_after_a_template_change_in_a_bind_mounted_directory() {
    let image = build_image("reload");
    let templates = host_dir("templates");
    let template = templates.join("app.conf.j2");
    std::fs::write(&template, "version=1 env={{ env.STAGE }}\n").unwrap();
    let mount = format!("{}:/templates", templates.display());
    let script = "trap 'echo got USR1; cat /etc/app/app.conf' USR1; \
                  echo ready; cat /etc/app/app.conf; while :; do sleep 0.05; done";
    let container = Container(name("reload-run"));
    docker_ok(&[
        "run",
        "-d",
        "--name",
        &container.0,
        "-v",
        &mount,
        "-e",
        "STAGE=prod",
        &image.0,
        "/bin/maestro-guest",
        "render",
        "--reload-signal",
        "USR1",
        "--to",
        "/etc/app",
        "/templates",
        "--",
        "sh",
        "-c",
        script,
    ]);
    wait_for_log(&container, "version=1 env=prod");
    std::fs::write(&template, "version=2 env={{ env.STAGE }}\n").unwrap();
    docker_ok(&["kill", "-s", "HUP", &container.0]);
    let text = wait_for_log(&container, "version=2 env=prod");
    assert!(text.contains("got USR1"), "{text}");
    assert!(
        text.contains("reload: /etc/app/app.conf changed; sending SIGUSR1"),
        "{text}"
    );
    // A broken template: logged, the program keeps running with the old file.
    std::fs::write(&template, "version={{ broken\n").unwrap();
    docker_ok(&["kill", "-s", "HUP", &container.0]);
    wait_for_log(&container, "reload failed");
    let state = docker_ok(&["inspect", "-f", "{{.State.Running}}", &container.0]);
    assert_eq!(state, "true");
    let current = docker_ok(&["exec", &container.0, "cat", "/etc/app/app.conf"]);
    assert_eq!(current, "version=2 env=prod");
    let _ = std::fs::remove_dir_all(&templates);
}

/// A user-defined network, removed when dropped (after its containers).
struct Network(String);

impl Drop for Network {
    fn drop(&mut self) {
        let _ = docker(&["network", "rm", &self.0]);
    }
}

#[test]
fn wait_resolves_names_through_dns_on_a_user_defined_network_and_checks_http() {
    let image = build_image("dns");
    let network = Network(name("net"));
    docker_ok(&["network", "create", &network.0]);
    // The waiter starts first: `web` does not resolve yet (it is no entry of
    // /etc/hosts, only Docker's embedded DNS will know it).
    let waiter = Container(name("waiter"));
    docker_ok(&[
        "run",
        "-d",
        "--name",
        &waiter.0,
        "--network",
        &network.0,
        &image.0,
        "/bin/maestro-guest",
        "wait",
        "--timeout",
        "60",
        "--status",
        "200",
        "--match",
        "(?m)^hello from web$",
        "http://web:8080/index.html",
    ]);
    std::thread::sleep(Duration::from_millis(1500));
    let early = logs(&waiter);
    assert!(
        !early.contains("is up"),
        "up before the server exists: {early}"
    );
    let web = Container(name("web"));
    docker_ok(&[
        "run",
        "-d",
        "--name",
        &web.0,
        "--network",
        &network.0,
        "--network-alias",
        "web",
        &image.0,
        "sh",
        "-c",
        "mkdir -p /www && echo 'hello from web' > /www/index.html && exec httpd -f -p 8080 -h /www",
    ]);
    let code = docker_ok(&["wait", &waiter.0]);
    let text = logs(&waiter);
    assert_eq!(code, "0", "{text}");
    assert!(
        text.contains("maestro-guest: wait: http://web:8080/index.html (")
            && text.contains(":8080) is up after"),
        "{text}"
    );
    drop(web);
    drop(waiter);
}

/// A server certificate `NAME-cert.pem` (key `NAME-key.pem`, made with
/// `genpkey` options `algorithm`) for the DNS name `dns`, signed by `ca`.
fn make_leaf(dir: &Path, name: &str, algorithm: &[&str], dns: &str, ca: &str) {
    let ext = format!(
        "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n\
         extendedKeyUsage=serverAuth\nsubjectAltName=DNS:{dns}\n"
    );
    pki::make_leaf(dir, name, algorithm, "server", &ext, ca);
}

/// A Python HTTPS server on 127.0.0.1 (`/health` answers 200 `status: ok`,
/// anything else 404); killed when dropped.
struct HttpsServer {
    child: std::process::Child,
    port: u16,
}

impl Drop for HttpsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const HTTPS_SERVER: &str = r#"
import http.server, ssl, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        ok = self.path == "/health"
        body = b"status: ok\n" if ok else b"no\n"
        self.send_response(200 if ok else 404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(sys.argv[1], sys.argv[2])
server.socket = context.wrap_socket(server.socket, server_side=True)
print(server.server_address[1], flush=True)
server.serve_forever()
"#;

fn https_server(dir: &Path, name: &str) -> HttpsServer {
    use std::io::BufRead;
    let mut child = Command::new("python3")
        .args(["-c", HTTPS_SERVER])
        .arg(dir.join(format!("{name}-cert.pem")))
        .arg(dir.join(format!("{name}-key.pem")))
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("running python3 (a testbed prerequisite: apt-get install python3): {e}")
        });
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port = line
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("the HTTPS server did not start: {line:?}"));
    HttpsServer { child, port }
}

/// Runs the static guest with `SSL_CERT_FILE=bundle`; (success, stderr).
fn guest_with_bundle(guest: &Path, bundle: &Path, args: &[&str]) -> (bool, String) {
    let out = Command::new(guest)
        .args(args)
        .env("SSL_CERT_FILE", bundle)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn wait_checks_https_servers_their_certificates_status_and_body() {
    let guest = static_guest();
    let dir = host_dir("https");
    make_ca(&dir, "ca");
    make_ca(&dir, "other-ca");
    // An RSA server key under an ECDSA CA, and a P-384 one for the wrong name.
    let rsa = ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"];
    make_leaf(&dir, "good", &rsa, "localhost", "ca");
    let p384 = ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"];
    make_leaf(&dir, "elsewhere", &p384, "elsewhere.test", "ca");
    let good = https_server(&dir, "good");
    let elsewhere = https_server(&dir, "elsewhere");
    let ca = dir.join("ca.pem");
    let other = dir.join("other-ca.pem");
    let url = |server: &HttpsServer, path: &str| format!("https://localhost:{}{path}", server.port);
    let wait = |bundle: &Path, extra: &[&str], url: &str| {
        let mut args = vec!["wait", "--timeout", "2"];
        args.extend_from_slice(extra);
        args.push(url);
        guest_with_bundle(&guest, bundle, &args)
    };

    // Verified against the bundle, status and body as asked.
    let health = url(&good, "/health");
    let (ok, text) = wait(
        &ca,
        &["--status", "200", "--match", "(?m)^status: ok$"],
        &health,
    );
    assert!(
        ok && text.contains(&format!("{health} (127.0.0.1:")),
        "{text}"
    );
    let (ok, text) = wait(&ca, &["--match", "down"], &health);
    assert!(
        !ok && text.contains("HTTP status 200, but the body does not match --match"),
        "{text}"
    );
    let (ok, text) = wait(&ca, &[], &url(&good, "/missing"));
    assert!(
        !ok && text.contains("HTTP status 404 is not an accepted one"),
        "{text}"
    );

    // The wrong CA: refused with the reason, accepted with --insecure.
    let (ok, text) = wait(&other, &[], &health);
    assert!(!ok, "{text}");
    assert!(
        text.contains(&format!("gave up on {health}"))
            && text.contains("HTTPS: TLS: bad certificate: not trusted"),
        "{text}"
    );
    let (ok, text) = wait(&other, &["--insecure", "--match", "ok"], &health);
    assert!(ok, "{text}");

    // A trusted certificate for another name: refused, unless --insecure.
    let misnamed = url(&elsewhere, "/health");
    let (ok, text) = wait(&ca, &[], &misnamed);
    assert!(!ok && text.contains("certificate name mismatch"), "{text}");
    let (ok, text) = wait(&ca, &["-k"], &misnamed);
    assert!(ok, "{text}");

    // No readable bundle: said so.
    let (ok, text) = wait(&dir.join("none.pem"), &[], &health);
    assert!(!ok && text.contains("cannot read the CA bundle"), "{text}");

    // `run --wait` goes through the same checks.
    let run = |extra: &[&str]| {
        let mut args = vec!["run", "--wait-timeout", "2", "--wait", &misnamed];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["--", "/bin/sh", "-c", "echo started >&2"]);
        guest_with_bundle(&guest, &ca, &args)
    };
    let (ok, text) = run(&[]);
    assert!(
        !ok && text.contains("name mismatch") && !text.contains("started"),
        "{text}"
    );
    let (ok, text) = run(&["--wait-insecure"]);
    assert!(ok && text.contains("started"), "{text}");
    drop((good, elsewhere));
    let _ = std::fs::remove_dir_all(&dir);
}
