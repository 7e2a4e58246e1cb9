//! Tests of the Docker layer against the real daemon on `/var/run/docker.sock`.
//!
//! They need a running dockerd (see TESTBED.md; `tests/testbed/up` starts one) and, for
//! the test image, `/usr/bin/busybox` (Debian's `busybox-static`); the registry test also
//! needs `docker-registry` and `htpasswd` (`docker-registry`, `apache2-utils`). A missing
//! prerequisite fails the test with a message saying how to get it.
//!
//! Containers are named `mtest-<pid>-<random>-<role>` and removed by name when the test
//! ends, whether it passed or not.

use std::collections::BTreeMap;
use std::hash::{BuildHasher, Hasher};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::*;
use crate::spec::{
    ApiVersion, ContainerSpec, HostPort, LogConfig, RegistryAuth, RestartPolicy, RestartPolicyName,
    RetryPolicy, Secret, ShipEndpoint, ShipTransport, Ulimit,
};

pub(super) const SOCKET: &str = "/var/run/docker.sock";
/// Our own tag, so that images other tests build under shared names cannot disturb us.
const TEST_IMAGE: &str = "maestro-test/docker-layer-busybox:latest";
const HOW_TO_START_DOCKER: &str = "start one as root with \
     `dockerd --storage-driver=vfs > /tmp/dockerd.log 2>&1 &` (apt-get install -y docker.io), \
     or run tests/testbed/up";

// ---------------------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------------------

fn endpoint(api_version: ApiVersion, timeout: Duration) -> ShipEndpoint {
    ShipEndpoint {
        ship: "local".into(),
        transport: ShipTransport::Unix {
            path: SOCKET.into(),
        },
        api_version,
        timeout,
    }
}

/// Connects to the local daemon, failing the test with instructions when it is absent.
async fn ship_with_timeout(timeout: Duration) -> Ship {
    match Ship::connect(&endpoint(ApiVersion::Auto, timeout)).await {
        Ok(ship) => ship,
        Err(e) => {
            panic!("these tests need a Docker daemon on {SOCKET}: {e}; {HOW_TO_START_DOCKER}")
        }
    }
}

pub(super) async fn ship() -> Ship {
    ship_with_timeout(Duration::from_secs(30)).await
}

/// A random number without a dependency: std's hasher keys are random per instance.
fn random() -> u64 {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(Instant::now().elapsed().as_nanos());
    h.finish()
}

/// A per-run unique prefix, so parallel runs and tests never share a name.
pub(super) fn unique(role: &str) -> String {
    format!(
        "mtest-{}-{:08x}-{role}",
        std::process::id(),
        random() & 0xffff_ffff
    )
}

fn docker_cli(args: &[&str]) -> std::process::Output {
    Command::new("docker")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run the docker CLI ({e}); apt-get install -y docker.io"))
}

/// Builds the busybox test image once per test process if the daemon lacks it.
fn ensure_test_image() {
    static BUILT: OnceLock<Result<(), String>> = OnceLock::new();
    let result = BUILT.get_or_init(|| {
        if docker_cli(&["image", "inspect", TEST_IMAGE]).status.success() {
            return Ok(());
        }
        let busybox = Path::new("/usr/bin/busybox");
        if !busybox.exists() {
            return Err("the test image needs a static /usr/bin/busybox: \
                        apt-get install -y busybox-static"
                .into());
        }
        let dir = TempDir::new("image");
        std::fs::copy(busybox, dir.path().join("busybox")).map_err(|e| e.to_string())?;
        std::fs::write(
            dir.path().join("Dockerfile"),
            "FROM scratch\nCOPY busybox /bin/busybox\nRUN [\"/bin/busybox\",\"--install\",\"-s\",\"/bin\"]\n",
        )
        .map_err(|e| e.to_string())?;
        let out = docker_cli(&["build", "-q", "-t", TEST_IMAGE, dir.path().to_str().unwrap()]);
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "docker build of {TEST_IMAGE} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// Removes the named containers (and their anonymous volumes) when dropped.
struct Containers(Vec<String>);

impl Containers {
    fn new(names: &[&str]) -> Self {
        Containers(names.iter().map(|n| n.to_string()).collect())
    }
}

impl Drop for Containers {
    fn drop(&mut self) {
        let mut args = vec!["rm", "-f", "-v"];
        args.extend(self.0.iter().map(String::as_str));
        let _ = Command::new("docker")
            .args(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// A scratch directory removed when dropped.
pub(super) struct TempDir(PathBuf);

impl TempDir {
    pub(super) fn new(role: &str) -> Self {
        let path = std::env::temp_dir().join(unique(role));
        std::fs::create_dir_all(&path).expect("create a temporary directory");
        TempDir(path)
    }

    pub(super) fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A loopback port nobody listens on right now.
pub(super) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind a loopback port")
        .port()
}

/// Polls `check` until it returns `Some`, or fails the test after `limit`.
async fn eventually<T, F, Fut>(what: &str, limit: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A spec with only the essentials set.
fn basic_spec(name: &str, command: &[&str]) -> ContainerSpec {
    ContainerSpec {
        name: name.into(),
        hostname: Some(name.into()),
        image: TEST_IMAGE.into(),
        command: Some(command.iter().map(|s| s.to_string()).collect()),
        stop_timeout: 10,
        ..Default::default()
    }
}

fn argv(words: &[&str]) -> Vec<String> {
    words.iter().map(|s| s.to_string()).collect()
}

fn texts(lines: &[LogLine], stream: LogStream) -> Vec<String> {
    lines
        .iter()
        .filter(|l| l.stream == stream)
        .map(|l| l.text.clone())
        .collect()
}

/// Waits until a container has exited (its logs are then complete).
async fn wait_exited(ship: &Ship, name: &str) {
    eventually(
        &format!("{name} to exit"),
        Duration::from_secs(20),
        || async {
            let info = ship.inspect(name).await.expect("inspect");
            info.filter(|i| !i.state.running && i.state.finished_at.is_some())
        },
    )
    .await;
}

// ---------------------------------------------------------------------------------------
// Connecting
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn auto_version_speaks_the_newest_common_version() {
    let ship = ship().await;
    ship.ping().await.expect("ping");
    let daemon = ship.version().await.expect("version");
    assert!(!daemon.version.is_empty());
    let max: Vec<u32> = daemon
        .api_version
        .split('.')
        .map(|p| p.parse().unwrap())
        .collect();
    let expected = if max < vec![1, 53] {
        daemon.api_version.clone()
    } else {
        "1.53".to_string()
    };
    assert_eq!(ship.api_version(), expected);
    assert_eq!(ship.name(), "local");
    assert_eq!(ship.endpoint(), "unix:///var/run/docker.sock");
}

#[tokio::test]
async fn pinned_supported_version_is_used() {
    let ship = ship().await;
    let daemon = ship.version().await.expect("version");
    for pinned in [daemon.api_version.as_str(), daemon.min_api_version.as_str()] {
        let pinned_ship = Ship::connect(&endpoint(
            ApiVersion::Pinned(pinned.into()),
            Duration::from_secs(10),
        ))
        .await
        .unwrap_or_else(|e| panic!("pinned {pinned}: {e}"));
        assert_eq!(pinned_ship.api_version(), pinned);
        // Every request carries the version: the daemon would refuse a bad one.
        pinned_ship.ping().await.expect("ping");
        pinned_ship
            .list(&ContainerSelector::Label {
                key: "maestro.test.none".into(),
                value: None,
            })
            .await
            .expect("list");
    }
}

#[tokio::test]
async fn pinned_version_outside_the_daemons_range_is_refused_naming_both() {
    let ship = ship().await;
    let daemon = ship.version().await.expect("version");
    for pinned in ["1.11", "1.99"] {
        let err = Ship::connect(&endpoint(
            ApiVersion::Pinned(pinned.into()),
            Duration::from_secs(10),
        ))
        .await
        .expect_err("an unsupported version must be refused");
        assert!(
            matches!(err, DockerError::ApiVersionRefused { .. }),
            "{err:?}"
        );
        let text = err.to_string();
        assert_eq!(
            text,
            format!(
                "ship local: the Docker daemon does not accept API version {pinned}: it supports {} to {}",
                daemon.min_api_version, daemon.api_version
            )
        );
    }
    let err = Ship::connect(&endpoint(
        ApiVersion::Pinned("one.two".into()),
        Duration::from_secs(10),
    ))
    .await
    .expect_err("garbage version");
    assert!(err.to_string().contains("\"one.two\""), "{err}");
}

#[tokio::test]
async fn a_missing_socket_is_reported_as_unreachable() {
    let path = std::env::temp_dir().join(unique("nosock"));
    let ep = ShipEndpoint {
        ship: "ghost".into(),
        transport: ShipTransport::Unix { path: path.clone() },
        api_version: ApiVersion::Auto,
        timeout: Duration::from_secs(2),
    };
    let err = Ship::connect(&ep).await.expect_err("no daemon there");
    let text = err.to_string();
    assert!(matches!(err, DockerError::Unreachable { .. }), "{err:?}");
    assert!(text.starts_with("ship ghost: "), "{text}");
    assert!(text.contains(path.to_str().unwrap()), "{text}");
}

// ---------------------------------------------------------------------------------------
// Creating: every field of the spec lands
// ---------------------------------------------------------------------------------------

/// An HTTP GET over a raw socket (no HTTP client dependency for one request).
async fn http_get(port: u16, path: &str) -> Option<String> {
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .ok()?;
    s.write_all(format!("GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").as_bytes())
        .await
        .ok()?;
    let mut body = String::new();
    s.read_to_string(&mut body).await.ok()?;
    Some(body)
}

async fn exec_text(ship: &Ship, name: &str, cmd: &[&str]) -> String {
    let out = ship.exec(name, &argv(cmd)).await.expect("exec");
    assert_eq!(out.exit_code, 0, "{cmd:?}: {:?}", out.output);
    out.output
        .iter()
        .map(|l| l.text.as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn create_maps_every_field_of_the_spec() {
    let ship = ship().await;
    ensure_test_image();
    let main = unique("every");
    let side = unique("side");
    let privileged = unique("priv");
    let _cleanup = Containers::new(&[&main, &side, &privileged]);

    let data = TempDir::new("data");
    std::fs::write(data.path().join("index.html"), "hello from the host\n").unwrap();
    // The container runs as uid 1000 and writes here.
    Command::new("chmod")
        .args(["0777", data.path().to_str().unwrap()])
        .status()
        .unwrap();
    let port = free_port();
    let bind = format!("{}:/data:rw", data.path().display());
    let label_value = unique("label");

    let spec = ContainerSpec {
        name: main.clone(),
        hostname: Some("mhost".into()),
        image: TEST_IMAGE.into(),
        env: vec!["GREETING=hi there".into(), "EMPTY=".into(), "BARE".into()],
        command: Some(argv(&[
            "sh",
            "-c",
            "echo \"$GREETING\" > /data/out; echo ready; exec httpd -f -p 8080 -h /data",
        ])),
        user: Some("1000:1000".into()),
        workdir: Some("/work".into()),
        exposed_ports: vec!["8080/tcp".into(), "9999/udp".into()],
        port_bindings: BTreeMap::from([(
            "8080/tcp".to_string(),
            vec![HostPort {
                host_ip: "127.0.0.1".into(),
                host_port: port.to_string(),
            }],
        )]),
        binds: vec![bind.clone()],
        container_volumes: vec!["/scratch".into()],
        volumes_from: vec![],
        links: vec![],
        restart_policy: RestartPolicy {
            name: RestartPolicyName::OnFailure,
            max_retries: 3,
        },
        ulimits: vec![Ulimit {
            name: "nofile".into(),
            soft: 1024,
            hard: 2048,
        }],
        dns: Some(vec!["127.0.0.1".into()]),
        extra_hosts: vec!["gateway.test:127.0.0.2".into()],
        labels: BTreeMap::from([
            ("maestro.test".to_string(), label_value.clone()),
            ("flag".to_string(), String::new()),
        ]),
        network_mode: Some("bridge".into()),
        log_config: Some(LogConfig {
            driver: "json-file".into(),
            opts: BTreeMap::from([("max-size".to_string(), "1m".to_string())]),
        }),
        security_opt: vec!["no-new-privileges".into()],
        cap_add: vec!["NET_ADMIN".into()],
        cap_drop: vec!["MKNOD".into()],
        privileged: false,
        cpu_shares: Some(512),
        memory: Some(64 * 1024 * 1024),
        memory_swap: Some(128 * 1024 * 1024),
        stop_timeout: 3,
    };
    let created = ship.create(&spec).await.expect("create");
    assert!(!created.id.is_empty());

    // What the daemon recorded, field by field.
    let raw = ship
        .docker()
        .inspect_container(
            &main,
            None::<bollard::query_parameters::InspectContainerOptions>,
        )
        .await
        .expect("inspect");
    let config = raw.config.clone().unwrap();
    let host = raw.host_config.clone().unwrap();
    assert_eq!(config.image.as_deref(), Some(TEST_IMAGE));
    assert_eq!(config.hostname.as_deref(), Some("mhost"));
    let env = config.env.clone().unwrap();
    assert!(env.contains(&"GREETING=hi there".to_string()), "{env:?}");
    assert!(env.contains(&"EMPTY=".to_string()), "{env:?}");
    // A bare name (MaestroNG's rendering of a null value) is kept as sent.
    assert!(env.contains(&"BARE".to_string()), "{env:?}");
    assert_eq!(config.cmd, spec.command);
    assert_eq!(config.user.as_deref(), Some("1000:1000"));
    assert_eq!(config.working_dir.as_deref(), Some("/work"));
    let mut exposed = config.exposed_ports.clone().unwrap();
    exposed.sort();
    assert_eq!(exposed, ["8080/tcp", "9999/udp"]);
    let mut volumes = config.volumes.clone().unwrap();
    volumes.sort();
    assert_eq!(volumes, ["/data", "/scratch"]);
    let labels = config.labels.clone().unwrap();
    assert_eq!(labels.get("maestro.test"), Some(&label_value));
    assert_eq!(labels.get("flag").map(String::as_str), Some(""));
    assert_eq!(config.stop_timeout, Some(3));
    assert_eq!(host.binds, Some(vec![bind.clone()]));
    let bindings = host.port_bindings.clone().unwrap();
    let b8080 = bindings["8080/tcp"].clone().unwrap();
    assert_eq!(b8080.len(), 1);
    assert_eq!(b8080[0].host_ip.as_deref(), Some("127.0.0.1"));
    assert_eq!(b8080[0].host_port, Some(port.to_string()));
    let restart = host.restart_policy.clone().unwrap();
    assert_eq!(
        restart.name,
        Some(bollard::models::RestartPolicyNameEnum::ON_FAILURE)
    );
    assert_eq!(restart.maximum_retry_count, Some(3));
    let ulimits = host.ulimits.clone().unwrap();
    assert_eq!(ulimits.len(), 1);
    assert_eq!(ulimits[0].name.as_deref(), Some("nofile"));
    assert_eq!((ulimits[0].soft, ulimits[0].hard), (Some(1024), Some(2048)));
    assert_eq!(host.dns, Some(vec!["127.0.0.1".to_string()]));
    assert_eq!(
        host.extra_hosts,
        Some(vec!["gateway.test:127.0.0.2".to_string()])
    );
    assert_eq!(host.network_mode.as_deref(), Some("bridge"));
    let log = host.log_config.clone().unwrap();
    assert_eq!(log.typ.as_deref(), Some("json-file"));
    assert_eq!(
        log.config.unwrap().get("max-size").map(String::as_str),
        Some("1m")
    );
    assert_eq!(
        host.security_opt,
        Some(vec!["no-new-privileges".to_string()])
    );
    assert_eq!(host.cap_add, Some(vec!["NET_ADMIN".to_string()]));
    assert_eq!(host.cap_drop, Some(vec!["MKNOD".to_string()]));
    assert_eq!(host.privileged, Some(false));
    assert_eq!(host.cpu_shares, Some(512));
    assert_eq!(host.memory, Some(64 * 1024 * 1024));
    assert_eq!(host.memory_swap, Some(128 * 1024 * 1024));

    // Our own view of it.
    let info = ship.inspect(&main).await.expect("inspect").expect("exists");
    assert_eq!(info.id, created.id);
    assert_eq!(info.name, main);
    assert_eq!(info.config_image, TEST_IMAGE);
    assert!(info.image_id.starts_with("sha256:"), "{}", info.image_id);
    assert!(!info.state.running);
    assert_eq!(info.state.status, "created");
    assert_eq!(info.state.started_at, None);
    assert_eq!(info.labels.get("maestro.test"), Some(&label_value));

    // And the settings at work inside the running container.
    ship.start(&main).await.expect("start");
    let page = eventually(
        "the published port to answer",
        Duration::from_secs(20),
        || http_get(port, "/index.html"),
    )
    .await;
    assert!(page.contains("hello from the host"), "{page}");
    let out = std::fs::read_to_string(data.path().join("out")).expect("the bind is writable");
    assert_eq!(out, "hi there\n");
    assert_eq!(exec_text(&ship, &main, &["id", "-u"]).await, "1000");
    assert_eq!(exec_text(&ship, &main, &["pwd"]).await, "/work");
    assert_eq!(exec_text(&ship, &main, &["hostname"]).await, "mhost");
    let limits = exec_text(&ship, &main, &["grep", "open files", "/proc/self/limits"]).await;
    let limits: Vec<&str> = limits.split_whitespace().collect();
    assert_eq!(limits[3..5], ["1024", "2048"], "{limits:?}");
    assert!(
        exec_text(&ship, &main, &["cat", "/etc/hosts"])
            .await
            .contains("gateway.test"),
    );
    assert!(
        exec_text(&ship, &main, &["cat", "/etc/resolv.conf"])
            .await
            .contains("nameserver 127.0.0.1"),
    );
    // CapAdd NET_ADMIN shows in the bounding set: bit 12.
    let caps = exec_text(&ship, &main, &["grep", "CapBnd", "/proc/self/status"]).await;
    let mask = u64::from_str_radix(caps.split_whitespace().last().unwrap(), 16).unwrap();
    assert_ne!(mask & (1 << 12), 0, "NET_ADMIN missing from {caps}");
    assert_eq!(mask & (1 << 27), 0, "MKNOD not dropped in {caps}");

    // A second container: volumes_from and links.
    let side_spec = ContainerSpec {
        name: side.clone(),
        hostname: None,
        image: TEST_IMAGE.into(),
        command: Some(argv(&["sleep", "60"])),
        volumes_from: vec![main.clone()],
        links: vec![format!("{main}:upstream")],
        stop_timeout: 1,
        ..Default::default()
    };
    ship.create(&side_spec).await.expect("create side");
    let raw = ship
        .docker()
        .inspect_container(
            &side,
            None::<bollard::query_parameters::InspectContainerOptions>,
        )
        .await
        .expect("inspect side");
    let host = raw.host_config.unwrap();
    assert_eq!(host.volumes_from, Some(vec![main.clone()]));
    assert_eq!(host.links, Some(vec![format!("/{main}:/{side}/upstream")]));
    assert_eq!(host.privileged, Some(false));
    ship.start(&side).await.expect("start side");
    assert_eq!(
        exec_text(&ship, &side, &["cat", "/data/out"]).await,
        "hi there"
    );
    assert!(
        exec_text(&ship, &side, &["cat", "/etc/hosts"])
            .await
            .contains("upstream"),
    );

    // A third, only created (this sandbox refuses to start privileged containers):
    // privileged, another network mode, no hostname.
    let privileged_spec = ContainerSpec {
        name: privileged.clone(),
        hostname: None,
        image: TEST_IMAGE.into(),
        command: Some(argv(&["true"])),
        network_mode: Some("none".into()),
        privileged: true,
        ..Default::default()
    };
    let created = ship
        .create(&privileged_spec)
        .await
        .expect("create privileged");
    let raw = ship
        .docker()
        .inspect_container(
            &privileged,
            None::<bollard::query_parameters::InspectContainerOptions>,
        )
        .await
        .expect("inspect privileged");
    let host = raw.host_config.unwrap();
    assert_eq!(host.privileged, Some(true));
    assert_eq!(host.network_mode.as_deref(), Some("none"));
    // Without a hostname the daemon uses the short id.
    assert_eq!(
        raw.config.unwrap().hostname,
        Some(created.id[..12].to_string())
    );
}

// ---------------------------------------------------------------------------------------
// Start, stop, kill, remove, list
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn lifecycle_start_stop_kill_remove() {
    let ship = ship().await;
    ensure_test_image();
    // A 2 s HTTP timeout: the 4 s stop below must still get its answer.
    let impatient = ship_with_timeout(Duration::from_secs(2)).await;
    let name = unique("life");
    let _cleanup = Containers::new(&[&name]);
    // busybox sleep as PID 1 ignores SIGTERM, so a stop always waits the full timeout.
    ship.create(&basic_spec(&name, &["sleep", "300"]))
        .await
        .expect("create");

    ship.start(&name).await.expect("start");
    let info = ship.inspect(&name).await.unwrap().unwrap();
    assert!(info.state.running);
    assert_eq!(info.state.status, "running");
    assert!(info.state.started_at.is_some());

    let err = ship.remove(&name).await.expect_err("running: not removed");
    assert_eq!(err.status(), Some(409), "{err}");
    assert!(
        err.to_string()
            .starts_with(&format!("ship local: remove container {name} failed: "))
    );

    let began = Instant::now();
    impatient
        .stop(&name, 4)
        .await
        .expect("a slow stop is not cut off");
    assert!(
        began.elapsed() >= Duration::from_secs(3),
        "{:?}",
        began.elapsed()
    );
    let info = ship.inspect(&name).await.unwrap().unwrap();
    assert!(!info.state.running);
    assert_eq!(info.state.exit_code, Some(137));
    assert!(info.state.finished_at.is_some());
    ship.stop(&name, 3)
        .await
        .expect("stopping a stopped container");

    ship.start(&name).await.expect("start again");
    assert!(ship.inspect(&name).await.unwrap().unwrap().state.running);
    ship.kill(&name).await.expect("kill");
    let info = eventually("the kill to land", Duration::from_secs(10), || async {
        ship.inspect(&name)
            .await
            .unwrap()
            .filter(|i| !i.state.running)
    })
    .await;
    assert_eq!(info.state.exit_code, Some(137));

    ship.remove(&name).await.expect("remove");
    assert_eq!(ship.inspect(&name).await.expect("inspect"), None);
    let err = ship.remove(&name).await.expect_err("already gone");
    assert_eq!(err.status(), Some(404));
    let err = ship.start(&name).await.expect_err("gone");
    let text = err.to_string();
    assert!(
        text.starts_with(&format!("ship local: start container {name} failed: ")),
        "{text}"
    );
    let err = ship.kill(&name).await.expect_err("gone");
    assert_eq!(err.status(), Some(404), "{err}");
}

#[tokio::test]
async fn list_by_names_and_by_label() {
    let ship = ship().await;
    ensure_test_image();
    let base = unique("list");
    let a = format!("{base}-a");
    let b = format!("{base}-b");
    let _cleanup = Containers::new(&[&a, &b]);
    let env_label = unique("env");
    for name in [&a, &b] {
        let mut spec = basic_spec(name, &["true"]);
        spec.labels
            .insert("maestro.environment".into(), env_label.clone());
        ship.create(&spec).await.expect("create");
    }
    let by_label = ship
        .list(&ContainerSelector::Label {
            key: "maestro.environment".into(),
            value: Some(env_label.clone()),
        })
        .await
        .expect("list");
    let names: Vec<_> = by_label.iter().map(|c| c.name.clone()).collect();
    assert_eq!(names, [a.clone(), b.clone()]);
    assert_eq!(by_label[0].image, TEST_IMAGE);
    assert_eq!(by_label[0].state, "created");
    assert_eq!(
        by_label[0].labels.get("maestro.environment"),
        Some(&env_label)
    );

    // A name filter is exact: a prefix of a name does not match it.
    let prefix = a[..a.len() - 2].to_string();
    let by_name = ship
        .list(&ContainerSelector::Names(vec![
            b.clone(),
            prefix,
            unique("absent"),
        ]))
        .await
        .expect("list");
    let names: Vec<_> = by_name.iter().map(|c| c.name.clone()).collect();
    assert_eq!(names, [b.as_str()]);
    assert!(
        ship.list(&ContainerSelector::Names(vec![]))
            .await
            .unwrap()
            .is_empty()
    );
}

// ---------------------------------------------------------------------------------------
// Logs and exec
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn logs_come_back_as_whole_lines_with_tail() {
    let ship = ship().await;
    ensure_test_image();
    let name = unique("logs");
    let _cleanup = Containers::new(&[&name]);
    let script = "echo one; echo two >&2; printf par; sleep 0.3; printf 'tial\\n'; \
                  echo three; printf 'err ' >&2; sleep 0.3; echo 'line' >&2; printf noeol";
    ship.create(&basic_spec(&name, &["sh", "-c", script]))
        .await
        .expect("create");
    ship.start(&name).await.expect("start");
    wait_exited(&ship, &name).await;

    let all = ship.logs(&name, LogTail::All).await.expect("logs");
    assert_eq!(
        texts(&all, LogStream::Stdout),
        ["one", "partial", "three", "noeol"]
    );
    assert_eq!(texts(&all, LogStream::Stderr), ["two", "err line"]);

    let last = ship.logs(&name, LogTail::Last(1)).await.expect("logs");
    assert_eq!(
        last,
        [LogLine {
            stream: LogStream::Stdout,
            text: "noeol".into()
        }]
    );

    let err = ship
        .logs(&unique("absent"), LogTail::All)
        .await
        .expect_err("no such container");
    assert_eq!(err.status(), Some(404), "{err}");
    assert!(
        err.to_string().contains("read logs of container mtest-"),
        "{err}"
    );
}

#[tokio::test]
async fn follow_streams_lines_until_the_container_stops() {
    let ship = ship().await;
    ensure_test_image();
    let name = unique("follow");
    let _cleanup = Containers::new(&[&name]);
    let script = "echo early; sleep 1; for i in 1 2 3; do echo line$i; sleep 0.2; done; \
                  printf a; sleep 0.3; echo b; echo oops >&2";
    ship.create(&basic_spec(&name, &["sh", "-c", script]))
        .await
        .expect("create");
    ship.start(&name).await.expect("start");
    let stream = ship.follow_logs(&name, LogTail::All);
    let lines: Vec<LogLine> = tokio::time::timeout(Duration::from_secs(30), async {
        stream.map(|l| l.expect("log line")).collect().await
    })
    .await
    .expect("the stream ends when the container stops");
    assert_eq!(
        texts(&lines, LogStream::Stdout),
        ["early", "line1", "line2", "line3", "ab"]
    );
    assert_eq!(texts(&lines, LogStream::Stderr), ["oops"]);
}

#[tokio::test]
async fn exec_reports_exit_codes_and_output() {
    let ship = ship().await;
    ensure_test_image();
    let name = unique("exec");
    let _cleanup = Containers::new(&[&name]);
    let mut spec = basic_spec(&name, &["sleep", "300"]);
    spec.stop_timeout = 1;
    ship.create(&spec).await.expect("create");

    let err = ship
        .exec(&name, &argv(&["true"]))
        .await
        .expect_err("not running");
    assert!(
        err.to_string().contains(&format!("in container {name}")),
        "{err}"
    );

    ship.start(&name).await.expect("start");
    assert_eq!(
        ship.exec(&name, &argv(&["true"])).await.unwrap().exit_code,
        0
    );
    assert_eq!(
        ship.exec(&name, &argv(&["sh", "-c", "exit 3"]))
            .await
            .unwrap()
            .exit_code,
        3
    );
    let out = ship
        .exec(
            &name,
            &argv(&["sh", "-c", "echo out; echo err >&2; exit 1"]),
        )
        .await
        .unwrap();
    assert_eq!(out.exit_code, 1);
    assert_eq!(texts(&out.output, LogStream::Stdout), ["out"]);
    assert_eq!(texts(&out.output, LogStream::Stderr), ["err"]);
    let missing = ship
        .exec(&name, &argv(&["/no/such/program"]))
        .await
        .expect("an exec of a missing program still has an exit code");
    assert_ne!(missing.exit_code, 0);

    let gone = unique("absent");
    let err = ship
        .exec(&gone, &argv(&["true"]))
        .await
        .expect_err("no such container");
    assert_eq!(err.status(), Some(404));
    assert!(
        err.to_string()
            .starts_with("ship local: exec \"true\" in container "),
        "{err}"
    );
    assert!(err.to_string().contains(&gone), "{err}");
}

// ---------------------------------------------------------------------------------------
// Images and registries
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn image_presence_is_an_exact_tag_match() {
    let ship = ship().await;
    ensure_test_image();
    assert!(ship.image_present(TEST_IMAGE).await.unwrap());
    // MaestroNG's rule: an image written without a tag does not match `:latest`.
    assert!(
        !ship
            .image_present("maestro-test/docker-layer-busybox")
            .await
            .unwrap()
    );
    assert!(
        !ship
            .image_present("maestro-test/no-such-image:1")
            .await
            .unwrap()
    );
    let info = ship.image_info(TEST_IMAGE).await.unwrap().unwrap();
    assert!(info.id.starts_with("sha256:"));
    assert!(info.repo_tags.contains(&TEST_IMAGE.to_string()));
    assert_eq!(
        ship.image_info("maestro-test/no-such-image:1")
            .await
            .unwrap(),
        None
    );
}

/// A `docker-registry` with htpasswd authentication on a free loopback port, holding
/// the test image; stopped and its storage removed when dropped.
struct Registry {
    child: Child,
    dir: TempDir,
    address: String,
    user: String,
    password: String,
}

impl Registry {
    fn start() -> Registry {
        for (tool, package) in [
            ("docker-registry", "docker-registry"),
            ("htpasswd", "apache2-utils"),
        ] {
            let found = Command::new("sh")
                .args(["-c", &format!("command -v {tool}")])
                .output()
                .map(|o| o.status.success())
                .unwrap_or(false);
            assert!(
                found,
                "the registry test needs `{tool}`: apt-get install -y {package}"
            );
        }
        let dir = TempDir::new("registry");
        let user = "maestro".to_string();
        let password = format!("pw-{:016x}", random());
        let htpasswd = Command::new("htpasswd")
            .args(["-Bbn", &user, &password])
            .output()
            .expect("htpasswd");
        assert!(htpasswd.status.success());
        std::fs::write(dir.path().join("htpasswd"), &htpasswd.stdout).unwrap();
        let port = free_port();
        let address = format!("127.0.0.1:{port}");
        std::fs::write(
            dir.path().join("config.yml"),
            format!(
                "version: 0.1\nlog:\n  level: info\nhttp:\n  addr: {address}\nstorage:\n  filesystem:\n    rootdirectory: {root}\nauth:\n  htpasswd:\n    realm: basic-realm\n    path: {pw}\n",
                root = dir.path().join("data").display(),
                pw = dir.path().join("htpasswd").display(),
            ),
        )
        .unwrap();
        let log = std::fs::File::create(dir.path().join("registry.log")).unwrap();
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(dir.path().join("config.yml"))
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start docker-registry");
        let registry = Registry {
            child,
            dir,
            address,
            user,
            password,
        };
        let deadline = Instant::now() + Duration::from_secs(15);
        while std::net::TcpStream::connect(&registry.address).is_err() {
            assert!(Instant::now() < deadline, "docker-registry did not come up");
            std::thread::sleep(Duration::from_millis(100));
        }
        registry
    }

    /// Pushes the test image as `<registry>/maestro-test/bb:<tag>` with the docker CLI
    /// (its own config directory, so the user's credentials are untouched), then removes
    /// the local tag so a pull has something to do.
    fn push_test_image(&self, tag: &str) -> String {
        let image = format!("{}/maestro-test/bb:{tag}", self.address);
        let config = self.dir.path().join("docker-config");
        std::fs::create_dir_all(&config).unwrap();
        let cli = |args: &[&str], stdin: Option<&str>| {
            let mut cmd = Command::new("docker");
            cmd.env("DOCKER_CONFIG", &config)
                .args(args)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            let mut child = cmd.spawn().expect("docker CLI");
            if let Some(input) = stdin {
                use std::io::Write;
                child
                    .stdin
                    .take()
                    .unwrap()
                    .write_all(input.as_bytes())
                    .unwrap();
            }
            let out = child.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "docker {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        cli(
            &["login", "-u", &self.user, "--password-stdin", &self.address],
            Some(&self.password),
        );
        cli(&["tag", TEST_IMAGE, &image], None);
        cli(&["push", &image], None);
        cli(&["rmi", &image], None);
        image
    }

    fn auth(&self, password: &str, retry: RetryPolicy) -> RegistryAuth {
        RegistryAuth {
            server_address: self.address.clone(),
            username: self.user.clone(),
            password: Secret::new(password),
            email: None,
            retry,
        }
    }

    /// How many manifest requests for `reference` the registry has served so far.
    fn manifest_requests(&self, reference: &str) -> usize {
        let log = std::fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default();
        let needle = format!("/manifests/{reference}");
        log.lines()
            .filter(|l| l.contains(&needle) && l.contains("http.request.method"))
            .count()
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn pull_from_an_authenticated_registry() {
    let ship = ship().await;
    ensure_test_image();
    let registry = Registry::start();
    let image = registry.push_test_image("v1");
    struct Untag(String);
    impl Drop for Untag {
        fn drop(&mut self) {
            let _ = Command::new("docker")
                .args(["rmi", &self.0])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }
    let _untag = Untag(image.clone());
    assert!(!ship.image_present(&image).await.unwrap());

    // Without credentials: refused, cleanly.
    let err = ship
        .pull(&image, None, &mut |_| {})
        .await
        .expect_err("anonymous pull must fail");
    let text = err.to_string();
    assert!(
        text.starts_with(&format!("ship local: pull image {image} failed: ")),
        "{text}"
    );
    assert!(text.contains("no basic auth credentials"), "{text}");

    // A wrong password: refused, and the password appears nowhere.
    let wrong = format!("wrong-{:016x}", random());
    let err = ship
        .pull(
            &image,
            Some(&registry.auth(&wrong, RetryPolicy::default())),
            &mut |_| {},
        )
        .await
        .expect_err("a wrong password must fail");
    let text = format!("{err} {err:?}");
    assert!(!text.contains(&wrong), "{text}");
    assert!(!text.contains(&registry.password), "{text}");
    assert!(err.status().is_some(), "{err:?}");

    // The right one: pulled, with progress events.
    let mut events = Vec::new();
    ship.pull(
        &image,
        Some(&registry.auth(&registry.password, RetryPolicy::default())),
        &mut |e| events.push(e.clone()),
    )
    .await
    .expect("pull with credentials");
    assert!(ship.image_present(&image).await.unwrap());
    assert!(
        events
            .iter()
            .any(|e| e.status.contains("Downloaded newer image")),
        "{events:?}"
    );

    // A missing tag with credentials: the daemon answers 404.
    let missing = format!("{}/maestro-test/bb:missing", registry.address);
    let single = ship
        .pull(
            &missing,
            Some(&registry.auth(&registry.password, RetryPolicy::default())),
            &mut |_| {},
        )
        .await
        .expect_err("no such tag");
    assert_eq!(single.status(), Some(404), "{single}");
    let text = format!("{single} {single:?}");
    assert!(!text.contains(&registry.password), "{text}");
    let per_attempt = registry.manifest_requests("missing");
    assert!(
        per_attempt > 0,
        "the registry log shows no manifest request"
    );

    // The retry rule: a status listed in `when` is tried again, `attempts` tries in all.
    let retry = RetryPolicy {
        attempts: 3,
        when: vec![404],
        delay: Duration::from_millis(400),
    };
    let began = Instant::now();
    let err = ship
        .pull(
            &missing,
            Some(&registry.auth(&registry.password, retry)),
            &mut |_| {},
        )
        .await
        .expect_err("still missing after retries");
    assert_eq!(err.status(), Some(404));
    assert!(
        began.elapsed() >= Duration::from_millis(800),
        "{:?}",
        began.elapsed()
    );
    assert_eq!(registry.manifest_requests("missing"), per_attempt * 4);

    // A status not listed is not retried.
    let retry = RetryPolicy {
        attempts: 3,
        when: vec![500],
        delay: Duration::from_millis(400),
    };
    ship.pull(
        &missing,
        Some(&registry.auth(&registry.password, retry)),
        &mut |_| {},
    )
    .await
    .expect_err("missing");
    assert_eq!(registry.manifest_requests("missing"), per_attempt * 5);
}
