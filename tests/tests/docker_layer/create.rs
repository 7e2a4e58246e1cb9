//! Creating: every field of a `ContainerSpec` lands in the daemon and works.

use super::*;

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
        networks: vec![],
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
        // Read back through the CLI in tests/run_options.rs and tests/health.rs.
        healthcheck: None,
        run: Default::default(),
    };
    let created = ship.create(&spec).await.expect("create");
    assert!(!created.id.is_empty());

    // What the daemon recorded, field by field.
    let raw = raw_inspect(&main, "inspect").await;
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
    // The container's own process (PID 1, httpd) carries the limits set at
    // create; an exec'd process's limits depend on how the runtime spawns it.
    let limits = exec_text(&ship, &main, &["grep", "open files", "/proc/1/limits"]).await;
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
    let raw = raw_inspect(&side, "inspect side").await;
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
    let raw = raw_inspect(&privileged, "inspect privileged").await;
    let host = raw.host_config.unwrap();
    assert_eq!(host.privileged, Some(true));
    assert_eq!(host.network_mode.as_deref(), Some("none"));
    // Without a hostname the daemon uses the short id.
    assert_eq!(
        raw.config.unwrap().hostname,
        Some(created.id[..12].to_string())
    );
}

/// What the daemon recorded for `name`, read with a bollard client of the test's own
/// (maestro's `Ship` keeps its client to itself).
async fn raw_inspect(name: &str, what: &str) -> bollard::models::ContainerInspectResponse {
    let docker = bollard::Docker::connect_with_unix(SOCKET, 30, bollard::API_DEFAULT_VERSION)
        .expect("a bollard client on the daemon's socket")
        .negotiate_version()
        .await
        .expect("API version negotiation");
    docker
        .inspect_container(
            name,
            None::<bollard::query_parameters::InspectContainerOptions>,
        )
        .await
        .unwrap_or_else(|e| panic!("{what}: {e}"))
}
