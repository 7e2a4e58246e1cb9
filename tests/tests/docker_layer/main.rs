//! Tests of the Docker layer against the real daemon on `/var/run/docker.sock`.
//!
//! They need a running dockerd (`tests/testbed/up` starts one, see tests/testbed/README.md) and, for
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

use maestro::docker::*;
use maestro::spec::{
    ApiVersion, ContainerSpec, HostPort, LogConfig, RegistryAuth, RestartPolicy, RestartPolicyName,
    RetryPolicy, Secret, ShipEndpoint, ShipTransport, Ulimit,
};

const SOCKET: &str = "/var/run/docker.sock";
/// Our own tag, so that images other tests build under shared names cannot disturb us.
const TEST_IMAGE: &str = "maestro-test/docker-layer-busybox:latest";
const HOW_TO_START_DOCKER: &str = "start one as root with \
     `dockerd --storage-driver=vfs > /tmp/dockerd.log 2>&1 &` (apt-get install -y docker.io), \
     or run tests/testbed/up";

mod create;
mod images;
mod lifecycle;
mod logs_exec;
mod tcp_tls;

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

async fn ship() -> Ship {
    ship_with_timeout(Duration::from_secs(30)).await
}

/// A random number without a dependency: std's hasher keys are random per instance.
fn random() -> u64 {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(Instant::now().elapsed().as_nanos());
    h.finish()
}

/// A per-run unique prefix, so parallel runs and tests never share a name.
fn unique(role: &str) -> String {
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
struct TempDir(PathBuf);

impl TempDir {
    fn new(role: &str) -> Self {
        let path = std::env::temp_dir().join(unique(role));
        std::fs::create_dir_all(&path).expect("create a temporary directory");
        TempDir(path)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A loopback port nobody listens on right now.
fn free_port() -> u16 {
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
// Connecting over the unix socket
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
