//! The TCP and TLS transports against the real daemon, through in-process relays.
//!
//! The local dockerd listens on its unix socket only and must not be reconfigured, so
//! each test starts a relay on a free loopback port that forwards every connection to
//! `/var/run/docker.sock` — as is for TCP, after terminating TLS (with client
//! certificate verification, like `dockerd --tlsverify`) for TLS. Certificates are made
//! with the `openssl` CLI at test time. Real remote ships (ship2 over TCP, ship3 with TLS)
//! come with the test-bed scripts.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, UnixStream};

use super::*;
use maestro::spec::TlsSettings;

/// Forwards loopback TCP (or TLS) connections to the daemon's unix socket until dropped,
/// noting the request line each plain connection starts with.
struct Relay {
    port: u16,
    task: tokio::task::JoinHandle<()>,
    requests: Arc<Mutex<Vec<String>>>,
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn relay(tls: Option<Arc<rustls::ServerConfig>>) -> Relay {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().unwrap().port();
    let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
    let requests = Arc::new(Mutex::new(Vec::new()));
    let seen = requests.clone();
    let task = tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            let seen = seen.clone();
            tokio::spawn(async move {
                let Ok(mut daemon) = UnixStream::connect(SOCKET).await else {
                    return;
                };
                match acceptor {
                    None => {
                        // The client opens one connection per request (no idle pool), so
                        // the first line of a connection is its request line.
                        let mut tcp = tcp;
                        let mut head = vec![0u8; 4096];
                        let Ok(n) = tcp.read(&mut head).await else {
                            return;
                        };
                        let text = String::from_utf8_lossy(&head[..n]);
                        if let Some(line) = text.lines().next() {
                            seen.lock().unwrap().push(line.to_owned());
                        }
                        if daemon.write_all(&head[..n]).await.is_err() {
                            return;
                        }
                        let _ = tokio::io::copy_bidirectional(&mut tcp, &mut daemon).await;
                    }
                    Some(acceptor) => {
                        if let Ok(mut tls) = acceptor.accept(tcp).await {
                            let _ = tokio::io::copy_bidirectional(&mut tls, &mut daemon).await;
                        }
                    }
                }
            });
        }
    });
    Relay {
        port,
        task,
        requests,
    }
}

/// A CA, a server certificate for `DNS:ship3.test` and `IP:127.0.0.1` signed by it, a
/// client certificate signed by it, and an unrelated second CA.
struct Pki {
    dir: TempDir,
}

impl Pki {
    fn make() -> Pki {
        let dir = TempDir::new("pki");
        let d = dir.path().to_path_buf();
        let openssl = |args: &[&str]| {
            let out = Command::new("openssl")
                .current_dir(&d)
                .args(args)
                .output()
                .unwrap_or_else(|e| {
                    panic!("the TLS tests need the openssl CLI ({e}): apt-get install -y openssl")
                });
            assert!(
                out.status.success(),
                "openssl {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        let ec = [
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
        ];
        for ca in ["ca", "other-ca"] {
            let mut args = vec!["req", "-x509", "-days", "2", "-subj"];
            let subject = format!("/CN=maestro test {ca}");
            args.push(&subject);
            args.extend(ec);
            let key = format!("{ca}-key.pem");
            let cert = format!("{ca}.pem");
            args.extend(["-keyout", &key, "-out", &cert]);
            openssl(&args);
        }
        std::fs::write(
            d.join("server.ext"),
            "subjectAltName = DNS:ship3.test, IP:127.0.0.1\nextendedKeyUsage = serverAuth\n",
        )
        .unwrap();
        std::fs::write(d.join("client.ext"), "extendedKeyUsage = clientAuth\n").unwrap();
        for who in ["server", "client"] {
            let mut args = vec!["req", "-new", "-subj"];
            let subject = format!("/CN={who}");
            args.push(&subject);
            args.extend(ec);
            let key = format!("{who}-key.pem");
            let csr = format!("{who}.csr");
            args.extend(["-keyout", &key, "-out", &csr]);
            openssl(&args);
            let cert = format!("{who}-cert.pem");
            let ext = format!("{who}.ext");
            openssl(&[
                "x509",
                "-req",
                "-days",
                "2",
                "-in",
                &csr,
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca-key.pem",
                "-CAcreateserial",
                "-extfile",
                &ext,
                "-out",
                &cert,
            ]);
        }
        Pki { dir }
    }

    fn path(&self, file: &str) -> PathBuf {
        self.dir.path().join(file)
    }

    /// The relay's TLS configuration: our server certificate, client certificates
    /// required and checked against our CA (as `dockerd --tlsverify`).
    fn server_config(&self) -> Arc<rustls::ServerConfig> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        for cert in certs(&self.path("ca.pem")) {
            roots.add(cert).unwrap();
        }
        let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
            Arc::new(roots),
            provider.clone(),
        )
        .build()
        .unwrap();
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_client_cert_verifier(verifier)
            .with_single_cert(
                certs(&self.path("server-cert.pem")),
                PrivateKeyDer::from_pem_file(self.path("server-key.pem")).unwrap(),
            )
            .unwrap();
        Arc::new(config)
    }

    fn settings(&self, verify: bool, ca: &str, server_name: Option<&str>) -> TlsSettings {
        TlsSettings {
            ca_cert: Some(self.path(ca)),
            client_cert: Some(self.path("client-cert.pem")),
            client_key: Some(self.path("client-key.pem")),
            verify,
            server_name: server_name.map(str::to_owned),
        }
    }
}

fn certs(path: &Path) -> Vec<CertificateDer<'static>> {
    CertificateDer::pem_file_iter(path)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn tcp_endpoint(port: u16, api_version: ApiVersion) -> ShipEndpoint {
    ShipEndpoint {
        ship: "ship2".into(),
        transport: ShipTransport::Tcp {
            host: "127.0.0.1".into(),
            port,
        },
        api_version,
        timeout: Duration::from_secs(10),
    }
}

fn tls_endpoint(port: u16, tls: TlsSettings) -> ShipEndpoint {
    ShipEndpoint {
        ship: "ship3".into(),
        transport: ShipTransport::Tls {
            host: "127.0.0.1".into(),
            port,
            tls,
        },
        api_version: ApiVersion::Auto,
        timeout: Duration::from_secs(10),
    }
}

/// The same daemon seen through the unix socket and through `other`.
async fn assert_same_daemon(other: &Ship) {
    let local = ship().await;
    assert_eq!(other.api_version(), local.api_version());
    other.ping().await.expect("ping");
    assert_eq!(
        other.version().await.unwrap(),
        local.version().await.unwrap()
    );
    let absent = unique("absent");
    assert_eq!(other.inspect(&absent).await.unwrap(), None);
    other
        .list(&ContainerSelector::Names(vec![absent]))
        .await
        .expect("list");
}

#[tokio::test]
async fn plain_tcp_reaches_the_daemon() {
    let relay = relay(None).await;
    let ship2 = Ship::connect(&tcp_endpoint(relay.port, ApiVersion::Auto))
        .await
        .expect("connect over TCP");
    assert_eq!(ship2.endpoint(), format!("tcp://127.0.0.1:{}", relay.port));
    assert_same_daemon(&ship2).await;

    let pinned = ship().await.api_version().to_owned();
    let ship2 = Ship::connect(&tcp_endpoint(
        relay.port,
        ApiVersion::Pinned(pinned.clone()),
    ))
    .await
    .expect("pinned over TCP");
    assert_eq!(ship2.api_version(), pinned);
    ship2.ping().await.expect("ping");
}

/// bollard 0.21.1 drops the `/vX.Y` prefix from its paths; ours puts it back, so the
/// daemon answers in the version we chose.
#[tokio::test]
async fn every_request_after_the_probe_carries_the_chosen_version() {
    let local = ship().await;
    let daemon = local.version().await.unwrap();
    let relay = relay(None).await;
    for (api, expected) in [
        (ApiVersion::Auto, local.api_version().to_owned()),
        (
            ApiVersion::Pinned(daemon.min_api_version.clone()),
            daemon.min_api_version.clone(),
        ),
    ] {
        relay.requests.lock().unwrap().clear();
        let ship2 = Ship::connect(&tcp_endpoint(relay.port, api))
            .await
            .expect("connect");
        ship2.ping().await.expect("ping");
        assert_eq!(ship2.inspect(&unique("absent")).await.unwrap(), None);
        let requests = relay.requests.lock().unwrap().clone();
        assert_eq!(requests.len(), 3, "{requests:?}");
        assert_eq!(requests[0], "GET /version HTTP/1.1");
        assert_eq!(requests[1], format!("GET /v{expected}/_ping HTTP/1.1"));
        assert!(
            requests[2].starts_with(&format!("GET /v{expected}/containers/mtest-")),
            "{requests:?}"
        );
    }
}

#[tokio::test]
async fn tcp_without_a_daemon_is_unreachable() {
    let port = free_port();
    let err = Ship::connect(&tcp_endpoint(port, ApiVersion::Auto))
        .await
        .expect_err("nothing listens there");
    assert!(matches!(err, DockerError::Unreachable { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.starts_with(&format!(
            "ship ship2: cannot reach the Docker daemon at tcp://127.0.0.1:{port}: "
        )),
        "{text}"
    );
}

#[tokio::test]
async fn tls_with_verification_and_client_certificate() {
    let pki = Pki::make();
    let relay = relay(Some(pki.server_config())).await;

    // The address dialled is in the certificate.
    let ship3 = Ship::connect(&tls_endpoint(
        relay.port,
        pki.settings(true, "ca.pem", None),
    ))
    .await
    .expect("verified TLS");
    assert_eq!(
        ship3.endpoint(),
        format!("https://127.0.0.1:{}", relay.port)
    );
    assert_same_daemon(&ship3).await;

    // Reached by address, checked against the DNS name the certificate carries.
    Ship::connect(&tls_endpoint(
        relay.port,
        pki.settings(true, "ca.pem", Some("ship3.test")),
    ))
    .await
    .expect("expected server name");
}

#[tokio::test]
async fn tls_verification_failures_are_reported() {
    let pki = Pki::make();
    let relay = relay(Some(pki.server_config())).await;
    let refused = |settings: TlsSettings, what: &'static str| {
        let ep = tls_endpoint(relay.port, settings);
        async move {
            let err = Ship::connect(&ep).await.expect_err(what);
            assert!(
                matches!(err, DockerError::Unreachable { .. }),
                "{what}: {err:?}"
            );
            let text = err.to_string();
            assert!(
                text.starts_with("ship ship3: cannot reach"),
                "{what}: {text}"
            );
            text
        }
    };

    let text = refused(
        pki.settings(true, "ca.pem", Some("wrong.test")),
        "a name the certificate does not carry",
    )
    .await;
    assert!(
        text.ends_with("certificate not valid for name \"wrong.test\"; certificate is only valid for DnsName(\"ship3.test\") or IpAddress(127.0.0.1)"),
        "{text}"
    );

    let text = refused(
        pki.settings(true, "other-ca.pem", None),
        "a server certificate from another CA",
    )
    .await;
    assert!(text.contains("certificate"), "{text}");

    let mut anonymous = pki.settings(true, "ca.pem", None);
    anonymous.client_cert = None;
    anonymous.client_key = None;
    let text = refused(anonymous, "no client certificate for a --tlsverify daemon").await;
    assert!(text.to_lowercase().contains("certificate"), "{text}");
}

#[tokio::test]
async fn tls_without_verification_accepts_any_server_certificate() {
    let pki = Pki::make();
    let relay = relay(Some(pki.server_config())).await;
    // Neither the CA nor the name match, yet MaestroNG's `tls_verify: false` connects.
    let mut settings = pki.settings(false, "other-ca.pem", Some("wrong.test"));
    settings.ca_cert = None;
    let ship3 = Ship::connect(&tls_endpoint(relay.port, settings))
        .await
        .expect("unverified TLS");
    assert_same_daemon(&ship3).await;
}

#[tokio::test]
async fn unusable_tls_files_are_setup_errors_naming_the_file() {
    let pki = Pki::make();
    let missing = pki.path("missing-key.pem");
    let mut settings = pki.settings(true, "ca.pem", None);
    settings.client_key = Some(missing.clone());
    let err = Ship::connect(&tls_endpoint(1, settings))
        .await
        .expect_err("no such key");
    assert!(matches!(err, DockerError::Setup { .. }), "{err:?}");
    assert!(err.to_string().contains(missing.to_str().unwrap()), "{err}");

    let mut settings = pki.settings(true, "ca.pem", None);
    settings.client_key = None;
    let err = Ship::connect(&tls_endpoint(1, settings))
        .await
        .expect_err("certificate without key");
    assert_eq!(
        err.to_string(),
        "ship ship3: TLS client certificate given without its key"
    );
}
