//! Image presence and pulls from an authenticated registry with the retry rule.

use super::*;

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
        // A credential entry of its own keeps the CLI off any store it would pick when
        // none is named (`pass`, when installed), where `docker login` may fail.
        let file = config.join("config.json");
        if !file.exists() {
            std::fs::write(&file, "{\"auths\": {\"maestro-test.invalid\": {}}}\n").unwrap();
        }
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
            identity_token: None,
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
