//! Harness for end-to-end tests against real Docker engines.
//!
//! `tests/testbed/up` (which `scripts/test` runs first) starts the engines, a
//! registry and an sshd, and writes `testbed.env` into the testbed's state
//! directory; `tests/testbed/README.md` documents every key. This crate reads
//! that file and gives tests:
//!
//! - [`Testbed::get`]: the facts of the testbed (addresses, sockets, certificates, keys);
//! - [`bin`] and [`Testbed::static_guest`]: the binaries under test;
//! - [`Docker`]: the `docker` CLI aimed at one daemon, for setting up and asserting;
//! - [`Scope`]: unique container names, and removal of those containers on drop.
//!
//! Tests never start daemons themselves: a missing testbed is a panic that
//! says how to bring it up.

pub mod json_shape;
use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The running testbed, as `tests/testbed/up` described it in `testbed.env`.
#[derive(Debug)]
pub struct Testbed {
    env_file: PathBuf,
    vars: BTreeMap<String, String>,
}

/// The state directory: `$MAESTRO_TESTBED`, or `<repo>/target/testbed` as in
/// `tests/testbed/lib.sh`.
fn state_dir() -> PathBuf {
    match std::env::var_os("MAESTRO_TESTBED") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/testbed"),
    }
}

impl Testbed {
    /// Reads `testbed.env` once per process.
    ///
    /// # Panics
    /// When the file is missing or unreadable: the testbed is not up.
    pub fn load() -> &'static Testbed {
        static TESTBED: OnceLock<Testbed> = OnceLock::new();
        TESTBED.get_or_init(|| {
            let env_file = state_dir().join("testbed.env");
            let text = std::fs::read_to_string(&env_file).unwrap_or_else(|err| {
                panic!(
                    "the testbed is not up: run tests/testbed/up (or scripts/test) \
                     [reading {}: {err}]",
                    env_file.display()
                )
            });
            Testbed {
                vars: parse_env(&text),
                env_file,
            }
        })
    }

    /// The value of `key` in `testbed.env`.
    ///
    /// # Panics
    /// When the key is absent (an `up` older than this harness: run it again).
    pub fn get(&self, key: &str) -> &str {
        self.vars.get(key).map(String::as_str).unwrap_or_else(|| {
            panic!(
                "{} has no {key}: run tests/testbed/up again",
                self.env_file.display()
            )
        })
    }

    fn path(&self, key: &str) -> &Path {
        Path::new(self.get(key))
    }

    fn port(&self, key: &str) -> u16 {
        let value = self.get(key);
        value
            .parse()
            .unwrap_or_else(|_| panic!("{key}={value} in testbed.env is not a port"))
    }

    /// The testbed's state directory (`TESTBED_DIR`).
    pub fn dir(&self) -> &Path {
        self.path("TESTBED_DIR")
    }

    // ----- daemons

    /// `-H` value of the machine's own dockerd (`MAIN_DOCKER_HOST`).
    pub fn main_host(&self) -> &str {
        self.get("MAIN_DOCKER_HOST")
    }
    /// `tcp://ADDR:PORT` of ship2, plain TCP (`SHIP2_DOCKER_HOST`).
    pub fn ship2_host(&self) -> &str {
        self.get("SHIP2_DOCKER_HOST")
    }
    /// ship2's address, reachable from the main namespace (`SHIP2_ADDR`).
    pub fn ship2_addr(&self) -> &str {
        self.get("SHIP2_ADDR")
    }
    /// ship2's Docker API port (`SHIP2_PORT`).
    pub fn ship2_port(&self) -> u16 {
        self.port("SHIP2_PORT")
    }
    /// The main namespace's address as ship2 sees it (`SHIP2_GATEWAY`).
    pub fn ship2_gateway(&self) -> &str {
        self.get("SHIP2_GATEWAY")
    }
    /// ship2's unix socket, in the main namespace (`SHIP2_SOCKET`).
    pub fn ship2_socket(&self) -> &Path {
        self.path("SHIP2_SOCKET")
    }
    /// Name of ship2's network namespace (`SHIP2_NETNS`).
    pub fn ship2_netns(&self) -> &str {
        self.get("SHIP2_NETNS")
    }
    /// `tcp://ADDR:PORT` of ship3, TLS with client certificates (`SHIP3_DOCKER_HOST`).
    pub fn ship3_host(&self) -> &str {
        self.get("SHIP3_DOCKER_HOST")
    }
    /// ship3's address (`SHIP3_ADDR`).
    pub fn ship3_addr(&self) -> &str {
        self.get("SHIP3_ADDR")
    }
    /// ship3's Docker API port (`SHIP3_PORT`).
    pub fn ship3_port(&self) -> u16 {
        self.port("SHIP3_PORT")
    }
    /// The main namespace's address as ship3 sees it (`SHIP3_GATEWAY`).
    pub fn ship3_gateway(&self) -> &str {
        self.get("SHIP3_GATEWAY")
    }
    /// ship3's plain unix socket, for set-up only (`SHIP3_SOCKET`).
    pub fn ship3_socket(&self) -> &Path {
        self.path("SHIP3_SOCKET")
    }
    /// Name of ship3's network namespace (`SHIP3_NETNS`).
    pub fn ship3_netns(&self) -> &str {
        self.get("SHIP3_NETNS")
    }
    /// The DNS name in ship3's server certificate (`SHIP3_TLS_NAME`); it does
    /// not resolve, so clients must set it as the TLS server name themselves.
    pub fn ship3_tls_name(&self) -> &str {
        self.get("SHIP3_TLS_NAME")
    }

    // ----- TLS material for ship3

    /// A directory with `ca.pem`, `cert.pem`, `key.pem` (Docker's `DOCKER_CERT_PATH` layout).
    pub fn tls_cert_dir(&self) -> &Path {
        self.path("TLS_CERT_DIR")
    }
    /// The CA that signed ship3's server and the client certificate.
    pub fn tls_ca(&self) -> &Path {
        self.path("TLS_CA")
    }
    /// A client certificate ship3 accepts.
    pub fn tls_client_cert(&self) -> &Path {
        self.path("TLS_CLIENT_CERT")
    }
    /// The key of [`Self::tls_client_cert`].
    pub fn tls_client_key(&self) -> &Path {
        self.path("TLS_CLIENT_KEY")
    }
    /// An unrelated CA: ship3's certificate does not verify against it.
    pub fn tls_wrong_ca(&self) -> &Path {
        self.path("TLS_WRONG_CA")
    }
    /// A client certificate signed by [`Self::tls_wrong_ca`]: ship3 refuses it.
    pub fn tls_wrong_client_cert(&self) -> &Path {
        self.path("TLS_WRONG_CLIENT_CERT")
    }
    /// The key of [`Self::tls_wrong_client_cert`].
    pub fn tls_wrong_client_key(&self) -> &Path {
        self.path("TLS_WRONG_CLIENT_KEY")
    }

    // ----- registry

    /// `127.0.0.1:5000`: the registry as the main dockerd reaches it (`REGISTRY`).
    pub fn registry(&self) -> &str {
        self.get("REGISTRY")
    }
    /// The registry as ship2's dockerd reaches it (`REGISTRY_FROM_SHIP2`).
    pub fn registry_from_ship2(&self) -> &str {
        self.get("REGISTRY_FROM_SHIP2")
    }
    /// The registry as ship3's dockerd reaches it (`REGISTRY_FROM_SHIP3`).
    pub fn registry_from_ship3(&self) -> &str {
        self.get("REGISTRY_FROM_SHIP3")
    }
    /// The registry's only user (`REGISTRY_USER`).
    pub fn registry_user(&self) -> &str {
        self.get("REGISTRY_USER")
    }
    /// The file holding the user's password (`REGISTRY_PASSWORD_FILE`).
    pub fn registry_password_file(&self) -> &Path {
        self.path("REGISTRY_PASSWORD_FILE")
    }
    /// The user's password, read from [`Self::registry_password_file`].
    pub fn registry_password(&self) -> String {
        let file = self.registry_password_file();
        std::fs::read_to_string(file)
            .unwrap_or_else(|err| panic!("reading {}: {err}", file.display()))
            .trim()
            .to_owned()
    }

    // ----- ssh

    /// The sshd's address, `127.0.0.1` (`SSH_HOST`).
    pub fn ssh_host(&self) -> &str {
        self.get("SSH_HOST")
    }
    /// The sshd's port (`SSH_PORT`).
    pub fn ssh_port(&self) -> u16 {
        self.port("SSH_PORT")
    }
    /// The user the keys log in as (`SSH_USER`, root).
    pub fn ssh_user(&self) -> &str {
        self.get("SSH_USER")
    }
    /// A private key the sshd accepts (`SSH_KEY`).
    pub fn ssh_key(&self) -> &Path {
        self.path("SSH_KEY")
    }
    /// A private key the sshd refuses (`SSH_WRONG_KEY`).
    pub fn ssh_wrong_key(&self) -> &Path {
        self.path("SSH_WRONG_KEY")
    }
    /// A known_hosts file with the sshd's host key (`SSH_KNOWN_HOSTS`).
    pub fn ssh_known_hosts(&self) -> &Path {
        self.path("SSH_KNOWN_HOSTS")
    }

    // ----- the Podman ship

    /// A key of the Podman ship, or a panic that says how to get one: a testbed
    /// brought up before Podman was part of it, or on a machine without podman.
    fn podman_key(&self, key: &str) -> &str {
        self.vars.get(key).map(String::as_str).unwrap_or_else(|| {
            panic!(
                "{} has no {key}: the testbed has no Podman ship. Install podman \
                 (apt-get install podman netavark aardvark-dns; .ci/run does it) and run \
                 tests/testbed/up again (tests/testbed/up --only podman adds just that ship)",
                self.env_file.display()
            )
        })
    }
    /// ship `podman`'s address, reachable from the main namespace; its published
    /// ports answer here (`PODMAN_ADDR`).
    pub fn podman_addr(&self) -> &str {
        self.podman_key("PODMAN_ADDR")
    }
    /// Its Docker-compatible API port, plain HTTP (`PODMAN_PORT`).
    pub fn podman_port(&self) -> u16 {
        let value = self.podman_key("PODMAN_PORT");
        value
            .parse()
            .unwrap_or_else(|_| panic!("PODMAN_PORT={value} in testbed.env is not a port"))
    }
    /// `tcp://ADDR:PORT` of the Podman ship (`PODMAN_DOCKER_HOST`).
    pub fn podman_host(&self) -> &str {
        self.podman_key("PODMAN_DOCKER_HOST")
    }
    /// The same service on a unix socket (`PODMAN_SOCKET`).
    pub fn podman_socket(&self) -> &Path {
        Path::new(self.podman_key("PODMAN_SOCKET"))
    }
    /// The Podman version the ship runs, e.g. `4.3.1` (`PODMAN_VERSION`).
    pub fn podman_version(&self) -> &str {
        self.podman_key("PODMAN_VERSION")
    }
    /// The `docker` CLI aimed at the Podman ship (its API is Docker's).
    pub fn podman(&self) -> Docker {
        Docker::new(self.podman_host())
    }

    // ----- reference implementation and images

    /// The python of a venv with MaestroNG 0.8.3 (`MAESTRO_NG_PYTHON`).
    pub fn maestro_ng_python(&self) -> &Path {
        self.path("MAESTRO_NG_PYTHON")
    }
    /// `maestro-test/busybox:latest`: busybox and the static guest, on all
    /// three daemons (`TEST_IMAGE`).
    pub fn test_image(&self) -> &str {
        self.get("TEST_IMAGE")
    }
    /// The same image in the registry, as the main dockerd names it (`TEST_IMAGE_REGISTRY`).
    pub fn test_image_registry(&self) -> &str {
        self.get("TEST_IMAGE_REGISTRY")
    }
    /// The statically linked `maestro-guest` baked into the test image (`STATIC_GUEST`).
    pub fn static_guest(&self) -> &Path {
        self.path("STATIC_GUEST")
    }

    // ----- ready-made CLI handles

    /// The machine's own dockerd.
    pub fn main(&self) -> Docker {
        Docker::new(self.main_host())
    }
    /// ship2 over plain TCP.
    pub fn ship2(&self) -> Docker {
        Docker::new(self.ship2_host())
    }
    /// ship3 over TLS with the CA and the accepted client certificate.
    pub fn ship3(&self) -> Docker {
        Docker::new(self.ship3_host()).tls(
            self.tls_ca(),
            Some((self.tls_client_cert(), self.tls_client_key())),
        )
    }
    /// All three daemons.
    pub fn daemons(&self) -> Vec<Docker> {
        vec![self.main(), self.ship2(), self.ship3()]
    }
}

/// `KEY=VALUE` lines; blank lines and `#` comments are skipped.
fn parse_env(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .filter_map(|line| line.split_once('='))
        .map(|(k, v)| (k.trim().to_owned(), v.to_owned()))
        .collect()
}

/// The repository's root (the workspace), for scripts and example files.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ lives in the workspace")
        .to_owned()
}

/// The python of the venv holding MaestroNG 0.8.3 (the reference the
/// differential tests compare with), made by `tests/testbed/maestro-ng-venv`
/// on first use.
///
/// # Panics
/// When the venv cannot be made, with what it needs.
pub fn reference_python() -> PathBuf {
    let script = repo_root().join("tests/testbed/maestro-ng-venv");
    let output = Command::new(&script)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
    assert!(
        output.status.success(),
        "{} failed; it needs python3 and python3-venv (apt-get install -y python3 python3-venv) \
         and pip access to maestro-ng==0.8.3:\n{}",
        script.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    PathBuf::from(
        String::from_utf8(output.stdout)
            .expect("UTF-8 path")
            .trim_end(),
    )
}

/// A binary of this workspace (`maestro`, `maestro-guest`), as cargo built it
/// for this test run.
///
/// `CARGO_BIN_EXE_*` only exists for a package's own binaries, so the path is
/// derived from this test executable's: `<target>/<profile>/deps/<test>` →
/// `<target>/<profile>/<name>` (this also follows `CARGO_TARGET_DIR`).
///
/// # Panics
/// When the binary was not built (run `cargo build --workspace` first, as
/// `scripts/test` does).
pub fn bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the path of the test executable");
    let mut dir = exe.parent().expect("the test executable's directory");
    if dir.ends_with("deps") {
        dir = dir.parent().expect("the profile directory above deps/");
    }
    let path = dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.is_file(),
        "{} is not built: run `cargo build --workspace` first (scripts/test does)",
        path.display()
    );
    path
}

/// `maestro -f FILE ARGS` as every scenario runs it, not run yet: no terminal
/// (standard input closed), no colour, and nothing inherited that would change
/// what it does (`COLUMNS`, `DOCKER_HOST`, `DOCKER_CONFIG`, the demo's
/// `MAESTRO_DEMO_*`). A test that needs a home of its own (no Docker
/// credentials) sets `HOME` on the command.
pub fn maestro_cli(file: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(bin("maestro"));
    cmd.arg("-f")
        .arg(file)
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("COLUMNS")
        .env_remove("DOCKER_HOST")
        .env_remove("DOCKER_CONFIG")
        .env_remove("MAESTRO_DEMO_PREFIX")
        .env_remove("MAESTRO_DEMO_PORT")
        .stdin(Stdio::null());
    cmd
}

/// A prefix unique to this test process: `mte2e-<pid>-<time>`. Every
/// container a test makes carries it (through [`Scope::name`]), so parallel
/// runs never collide and leftovers are easy to find.
pub fn run_prefix() -> &'static str {
    static PREFIX: OnceLock<String> = OnceLock::new();
    PREFIX.get_or_init(|| {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        format!("mte2e-{}-{:x}", std::process::id(), nanos & 0xff_ffff_ffff)
    })
}

/// One test's namespace of names. Dropping it force-removes, on all three
/// daemons, every container whose name starts with its prefix, then such
/// networks and volumes, and its scratch directories, whether the test passed
/// or panicked.
///
/// Each scope has its own prefix (`<run prefix>-<n>`), so tests running on
/// threads of one process do not remove each other's containers.
#[derive(Debug)]
pub struct Scope {
    prefix: String,
    daemons: Vec<Docker>,
}

impl Scope {
    /// A new scope, tagged with `label` for readability (`[a-z0-9-]`).
    pub fn new(label: &str) -> Scope {
        static NEXT: AtomicU32 = AtomicU32::new(1);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        Scope {
            prefix: format!("{}-{n}-{label}", run_prefix()),
            daemons: Testbed::load().daemons(),
        }
    }

    /// This scope's prefix; every name it hands out is `<prefix>-<suffix>`.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// A container (or other object) name inside this scope.
    pub fn name(&self, suffix: &str) -> String {
        format!("{}-{suffix}", self.prefix)
    }

    /// A fresh, empty directory inside the testbed's state dir, removed with
    /// the scope (for docker configs, project files, logs).
    pub fn scratch_dir(&self, suffix: &str) -> PathBuf {
        let dir = Testbed::load()
            .dir()
            .join("scratch")
            .join(self.name(suffix));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)
            .unwrap_or_else(|err| panic!("creating {}: {err}", dir.display()));
        dir
    }
}

impl Scope {
    /// The scope's containers on `docker`, stopped ones included.
    ///
    /// # Panics
    /// When the daemon cannot be asked.
    pub fn containers(&self, docker: &Docker) -> Vec<String> {
        self.try_containers(docker)
            .unwrap_or_else(|err| panic!("listing containers on {}: {err}", docker.host()))
    }

    fn try_containers(&self, docker: &Docker) -> Result<Vec<String>, String> {
        let mine = format!("{}-", self.prefix);
        let listed = docker.try_run([
            "ps",
            "-a",
            "--filter",
            &format!("name={mine}"),
            "--format",
            "{{.Names}}",
        ])?;
        // `name=` filters by substring; keep only real prefix matches.
        Ok(listed
            .lines()
            .filter(|n| n.starts_with(&mine))
            .map(str::to_owned)
            .collect())
    }
}

impl Scope {
    /// Force-removes the scope's containers, networks and volumes on `docker`: what
    /// dropping the scope does on the three Docker daemons, for an engine the scope does
    /// not know (the Podman ship).
    pub fn remove_from(&self, docker: &Docker) {
        let mine = format!("{}-", self.prefix);
        let names = match self.try_containers(docker) {
            Ok(names) => names,
            Err(err) => {
                eprintln!("cleanup: listing containers on {}: {err}", docker.host());
                return;
            }
        };
        if !names.is_empty() {
            let mut args = vec!["rm", "-f", "-v"];
            args.extend(names.iter().map(String::as_str));
            if let Err(err) = docker.try_run(args) {
                eprintln!("cleanup: removing containers on {}: {err}", docker.host());
            }
        }
        for kind in ["network", "volume"] {
            let listed = docker.try_run([
                kind,
                "ls",
                "--filter",
                &format!("name={mine}"),
                "--format",
                "{{.Name}}",
            ]);
            let names: Vec<String> = match listed {
                Ok(out) => out
                    .lines()
                    .filter(|n| n.starts_with(&mine))
                    .map(str::to_owned)
                    .collect(),
                Err(err) => {
                    eprintln!("cleanup: listing {kind}s on {}: {err}", docker.host());
                    continue;
                }
            };
            if !names.is_empty() {
                let mut args = vec![kind, "rm"];
                args.extend(names.iter().map(String::as_str));
                if let Err(err) = docker.try_run(args) {
                    eprintln!("cleanup: removing {kind}s on {}: {err}", docker.host());
                }
            }
        }
    }
}

impl Drop for Scope {
    fn drop(&mut self) {
        let mine = format!("{}-", self.prefix);
        for docker in &self.daemons {
            self.remove_from(docker);
        }
        let scratch = Testbed::load().dir().join("scratch");
        if let Ok(entries) = std::fs::read_dir(&scratch) {
            for entry in entries.flatten() {
                if entry.file_name().to_string_lossy().starts_with(&mine) {
                    let _ = std::fs::remove_dir_all(entry.path());
                }
            }
        }
    }
}

/// The contents [`pin_file_store`] gives a Docker client configuration directory.
pub const FILE_STORE_CONFIG: &str = "{\"auths\": {\"maestro-testbed.invalid\": {}}}\n";

/// Makes the `docker` CLI keep credentials in `dir/config.json` itself. Given a
/// configuration that names no credentials at all (no file, or no `auths`,
/// `credsStore`, `credHelpers`), the CLI picks a store of its own: `pass` when
/// `docker-credential-pass` and `pass` are installed (the credentials tests install
/// them), else `secretservice`; an uninitialised store then fails every `docker
/// login`. An `auths` entry for a host nobody uses is enough to keep the file store;
/// an existing `config.json` is left alone.
pub fn pin_file_store(dir: &Path) {
    let file = dir.join("config.json");
    if !file.exists() {
        std::fs::create_dir_all(dir)
            .and_then(|()| std::fs::write(&file, FILE_STORE_CONFIG))
            .unwrap_or_else(|e| panic!("writing {}: {e}", file.display()));
    }
}

/// The `docker` CLI aimed at one daemon: `docker -H <host> [tls flags] ...`.
///
/// The environment that could redirect the CLI (`DOCKER_HOST`,
/// `DOCKER_CONTEXT`, `DOCKER_TLS_VERIFY`, `DOCKER_CERT_PATH`) is cleared, and
/// `DOCKER_CONFIG` points at a directory of the testbed holding no credentials
/// (only [`FILE_STORE_CONFIG`]), so that no login or default certificate of the
/// machine leaks in. A test that logs in gives its own directory with
/// [`Docker::config_dir`]; either gets [`pin_file_store`] before the CLI runs.
#[derive(Clone, Debug)]
pub struct Docker {
    host: String,
    tls: Vec<String>,
    config_dir: Option<PathBuf>,
}

impl Docker {
    /// A daemon at `host` (a `-H` value: `unix://...`, `tcp://...`).
    pub fn new(host: &str) -> Docker {
        Docker {
            host: host.to_owned(),
            tls: Vec::new(),
            config_dir: None,
        }
    }

    /// Verifies the daemon against `ca`, presenting `client` (cert, key) if given.
    pub fn tls(mut self, ca: &Path, client: Option<(&Path, &Path)>) -> Docker {
        self.tls = vec![
            "--tlsverify".into(),
            "--tlscacert".into(),
            ca.display().to_string(),
        ];
        if let Some((cert, key)) = client {
            self.tls.extend([
                "--tlscert".into(),
                cert.display().to_string(),
                "--tlskey".into(),
                key.display().to_string(),
            ]);
        }
        self
    }

    /// Uses `dir` as `DOCKER_CONFIG` (where `docker login` stores credentials).
    pub fn config_dir(mut self, dir: &Path) -> Docker {
        self.config_dir = Some(dir.to_owned());
        self
    }

    /// The `-H` value.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// A `docker` command with the host, TLS and config set; add the rest.
    pub fn command(&self) -> Command {
        let config = self.config_dir.clone().unwrap_or_else(|| {
            let dir = Testbed::load().dir().join("docker-config-empty");
            std::fs::create_dir_all(&dir).expect("creating the empty docker config dir");
            dir
        });
        pin_file_store(&config);
        let mut cmd = Command::new("docker");
        for var in [
            "DOCKER_HOST",
            "DOCKER_CONTEXT",
            "DOCKER_TLS_VERIFY",
            "DOCKER_CERT_PATH",
        ] {
            cmd.env_remove(var);
        }
        cmd.env("DOCKER_CONFIG", config)
            .env("DOCKER_BUILDKIT", "0")
            .stdin(Stdio::null())
            .arg("-H")
            .arg(&self.host)
            .args(&self.tls);
        cmd
    }

    /// Runs `docker ARGS`, whatever its outcome.
    pub fn output<I, S>(&self, args: I) -> Output
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = self.command();
        cmd.args(args);
        cmd.output()
            .unwrap_or_else(|err| panic!("running {cmd:?}: {err} (is docker installed?)"))
    }

    /// Runs `docker ARGS`: trimmed stdout on success, else a message with the
    /// command line, exit status and stderr.
    pub fn try_run<I, S>(&self, args: I) -> Result<String, String>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let args: Vec<S> = args.into_iter().collect();
        let out = self.output(&args);
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
        } else {
            let line: Vec<_> = args.iter().map(|a| a.as_ref().to_string_lossy()).collect();
            Err(format!(
                "`docker -H {} {}` failed ({}): {}",
                self.host,
                line.join(" "),
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ))
        }
    }

    /// Runs `docker ARGS` and returns its trimmed stdout.
    ///
    /// # Panics
    /// When the command fails; the message hints at the testbed if the
    /// daemon did not answer.
    #[track_caller]
    pub fn run<I, S>(&self, args: I) -> String
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.try_run(args).unwrap_or_else(|err| {
            let hint = if err.contains("Cannot connect") || err.contains("connection refused") {
                "\n(is the testbed up? run tests/testbed/up)"
            } else {
                ""
            };
            panic!("{err}{hint}")
        })
    }

    /// `docker inspect OBJECT` as JSON (the one object, not the array).
    #[track_caller]
    pub fn inspect(&self, object: &str) -> serde_json::Value {
        let out = self.run(["inspect", object]);
        let mut all: serde_json::Value = serde_json::from_str(&out)
            .unwrap_or_else(|err| panic!("docker inspect {object}: not JSON ({err}): {out}"));
        all.get_mut(0)
            .map(serde_json::Value::take)
            .unwrap_or_else(|| panic!("docker inspect {object}: empty answer"))
    }
}

/// Calls `probe` every 100 ms until it returns `Some`, for at most `timeout`.
pub fn poll<T>(timeout: Duration, mut probe: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = probe() {
            return Some(value);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A TCP port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("binding 127.0.0.1:0")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_env_lines() {
        let vars = parse_env("# comment\n\nA=1\nB=x=y\n  C=spaced  \nnot a pair\n");
        assert_eq!(vars.get("A").map(String::as_str), Some("1"));
        assert_eq!(vars.get("B").map(String::as_str), Some("x=y"));
        assert_eq!(vars.get("C").map(String::as_str), Some("spaced"));
        assert_eq!(vars.len(), 3);
    }

    #[test]
    fn run_prefix_is_a_valid_container_name() {
        assert!(run_prefix().starts_with("mte2e-"));
        assert!(
            run_prefix()
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-')
        );
        assert_eq!(run_prefix(), run_prefix());
    }
}
