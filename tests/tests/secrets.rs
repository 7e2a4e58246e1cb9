//! Secrets stay secret: the registry password (given in `maestro.yaml` or taken from
//! the Docker client configuration), TLS and SSH private keys, and envfile contents
//! never appear in anything maestro prints — normal output, JSON, `dump`, progress,
//! errors — nor in what it hands to the daemons (container configurations) or what
//! the daemons and the registry log while maestro works.
//!
//! Every command is run against the real testbed with the real password, so a leak
//! would show; the needles are the password itself, its base64 forms (as in
//! `X-Registry-Auth` and `config.json`'s `auth`), and every line of every private
//! key the testbed made.

mod support;

use std::path::{Path, PathBuf};
use std::process::Output;

use maestro_e2e::{Scope, Testbed};
use support::{Project, stderr, stdout};

/// A secret and how to name it when it leaks.
struct Needle {
    what: String,
    text: String,
}

/// Everything that must never be printed: the registry password and its base64
/// forms, and the body lines of the testbed's private keys.
fn testbed_needles() -> Vec<Needle> {
    let tb = Testbed::load();
    let password = tb.registry_password();
    let mut needles = vec![
        Needle {
            what: "the registry password".into(),
            text: password.clone(),
        },
        Needle {
            what: "the registry credentials in base64 (config.json `auth`)".into(),
            text: base64(format!("{}:{password}", tb.registry_user()).as_bytes()),
        },
    ];
    for key in [
        tb.tls_client_key(),
        tb.tls_wrong_client_key(),
        tb.ssh_key(),
        tb.ssh_wrong_key(),
    ] {
        needles.extend(key_lines(key));
    }
    needles
}

/// The body lines of a PEM/OpenSSH private key (long enough to be unmistakable).
fn key_lines(key: &Path) -> Vec<Needle> {
    let text = std::fs::read_to_string(key)
        .unwrap_or_else(|e| panic!("reading {}: {e} (run tests/testbed/up)", key.display()));
    let lines: Vec<Needle> = text
        .lines()
        .filter(|l| !l.starts_with("-----") && l.len() >= 16)
        .map(|l| Needle {
            what: format!("a line of the private key {}", key.display()),
            text: l.to_owned(),
        })
        .collect();
    assert!(!lines.is_empty(), "{} holds no key lines", key.display());
    lines
}

/// Standard base64 with padding, enough for a needle.
fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ABC[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Panics naming the secret and where it showed, without printing the secret.
#[track_caller]
fn assert_clean(needles: &[Needle], place: &str, text: &str) {
    for n in needles {
        if text.contains(&n.text) {
            let at = text.find(&n.text).unwrap_or_default();
            let line = text[..at].lines().count().max(1);
            panic!("{} appears in {place} (line {line})", n.what);
        }
    }
}

/// Runs maestro, checks its outputs for every needle, and returns them.
#[track_caller]
fn run_clean(project: &Project, needles: &[Needle], args: &[&str]) -> Output {
    let out = project.run(args);
    let place = format!("the output of `maestro {}`", args.join(" "));
    assert_clean(needles, &format!("{place} (stdout)"), &stdout(&out));
    assert_clean(needles, &format!("{place} (stderr)"), &stderr(&out));
    out
}

#[track_caller]
fn assert_code(out: &Output, code: i32, args: &[&str]) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "maestro {args:?}\nstdout:\n{}\nstderr:\n{}",
        stdout(out),
        stderr(out)
    );
}

/// The testbed's log files, remembered at their current length so that only what
/// is written during the test is searched.
struct LogMarks(Vec<(PathBuf, u64)>);

impl LogMarks {
    fn now() -> LogMarks {
        let tb = Testbed::load();
        let logs = tb.dir().join("logs");
        let mut paths: Vec<PathBuf> = ["dockerd-ship3.log", "registry.log", "sshd.log"]
            .iter()
            .map(|n| logs.join(n))
            .collect();
        // The machine's dockerd may have been started by scripts/demo, whose log is
        // elsewhere, or by the system, logging to no file at all.
        match tb.get("MAIN_DOCKERD_LOG") {
            "" => eprintln!(
                "note: the main dockerd logs to no file (it was started outside the testbed \
                 and scripts/demo), so its log is not searched; ship3's dockerd log is"
            ),
            main => paths.push(PathBuf::from(main)),
        }
        LogMarks(
            paths
                .into_iter()
                .map(|path| {
                    let len = std::fs::metadata(&path)
                        .unwrap_or_else(|e| {
                            panic!("{}: {e} (run tests/testbed/up)", path.display())
                        })
                        .len();
                    (path, len)
                })
                .collect(),
        )
    }

    /// What each log gained since [`LogMarks::now`].
    fn since(&self) -> Vec<(PathBuf, String)> {
        self.0
            .iter()
            .map(|(path, from)| {
                let bytes = std::fs::read(path)
                    .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
                let from = usize::try_from(*from).unwrap().min(bytes.len());
                (
                    path.clone(),
                    String::from_utf8_lossy(&bytes[from..]).into_owned(),
                )
            })
            .collect()
    }
}

/// The registry (with the real password) under both its addresses, main over its
/// socket, ship3 over TLS with the client key; one container pulled from the
/// registry on each ship.
fn project(scope: &Scope) -> (Project, String, String) {
    let tb = Testbed::load();
    let (on_main, on_ship3) = (scope.name("main"), scope.name("ship3"));
    let yaml = format!(
        "name: secrets\n\
         registries:\n  \"{reg}\":\n    registry: http://{reg}\n    username: {user}\n    password: \"{pw}\"\n    email: ops@example.invalid\n\
         \x20 \"{reg3}\":\n    registry: http://{reg3}\n    username: {user}\n    password: \"{pw}\"\n    email: ops@example.invalid\n\
         ships:\n  main: {{ip: 127.0.0.1, socket_path: /var/run/docker.sock, timeout: 15}}\n\
         \x20 ship3:\n    ip: {s3}\n    docker_port: {s3port}\n    timeout: 15\n    tls: true\n    tls_verify: true\n    tls_ca_cert: {ca}\n    tls_cert: {cert}\n    tls_key: {key}\n\
         services:\n\
         \x20 pulled:\n    image: {reg_image}\n    instances:\n      {on_main}: {{ship: main, command: sleep 300, stop_timeout: 1}}\n\
         \x20 remote:\n    image: {reg3}/{image}\n    requires: [pulled]\n    instances:\n      {on_ship3}: {{ship: ship3, command: sleep 300, stop_timeout: 1}}\n",
        reg = tb.registry(),
        reg3 = tb.registry_from_ship3(),
        user = tb.registry_user(),
        pw = tb.registry_password(),
        s3 = tb.ship3_addr(),
        s3port = tb.ship3_port(),
        ca = tb.tls_ca().display(),
        cert = tb.tls_client_cert().display(),
        key = tb.tls_client_key().display(),
        reg_image = tb.test_image_registry(),
        image = tb.test_image(),
    );
    (Project::new(scope, &yaml), on_main, on_ship3)
}

#[test]
fn no_command_prints_or_hands_over_a_secret() {
    let tb = Testbed::load();
    let needles = testbed_needles();
    let scope = Scope::new("secrets");
    let (project, on_main, on_ship3) = project(&scope);
    let marks = LogMarks::now();

    // Commands that only read the description.
    for args in [
        vec!["dump"],
        vec!["env", &on_main],
        vec!["env", &on_main, "--format", "json"],
        vec!["plan", "start"],
        vec!["plan", "start", "--format", "json"],
        vec!["deptree"],
        vec!["complete", "maestro", "start", ""],
    ] {
        let out = run_clean(&project, &needles, &args);
        assert_code(&out, 0, &args);
    }
    // `dump` says the secrets exist without showing them.
    let dump = stdout(&project.run(&["dump"]));
    assert!(dump.contains("<redacted>"), "dump hides nothing:\n{dump}");

    // Plays and observations against the daemons, the pull authenticated.
    for (args, code) in [
        (vec!["ships"], 0),
        (vec!["ships", "--format", "json"], 0),
        (vec!["status"], 1),
        (vec!["pull"], 0),
        (vec!["start", "-r"], 0),
        (vec!["status", "--full"], 0),
        (vec!["status", "--format", "json"], 0),
        (vec!["logs", &on_main], 0),
        (vec!["restart", &on_main, &on_ship3, "--format", "json"], 0),
        (vec!["stop", &on_main, &on_ship3], 0),
        (vec!["start"], 0),
        (vec!["kill", &on_main, &on_ship3], 0),
        (vec!["clean", &on_main, &on_ship3], 0),
    ] {
        let out = run_clean(&project, &needles, &args);
        assert_code(&out, code, &args);
        if args[0] == "restart" {
            // The containers exist now: nothing secret went into their configuration.
            for (docker, name) in [(tb.main(), &on_main), (tb.ship3(), &on_ship3)] {
                let inspect = docker.run(["inspect", name.as_str()]);
                assert!(inspect.contains(name.as_str()), "{inspect}");
                assert_clean(&needles, &format!("`docker inspect {name}`"), &inspect);
            }
        }
    }

    // Nor did the daemons, the registry or sshd log one while maestro worked.
    for (path, text) in marks.since() {
        assert_clean(&needles, &path.display().to_string(), &text);
    }
}

#[test]
fn credentials_from_the_docker_config_stay_secret_when_refused() {
    let tb = Testbed::load();
    let scope = Scope::new("secrets-cfg");
    let wrong = format!("{}-wrong-secret", scope.prefix());
    let auth = base64(format!("{}:{wrong}", tb.registry_user()).as_bytes());
    let config = scope.scratch_dir("docker-config");
    std::fs::write(
        config.join("config.json"),
        format!(
            "{{\"auths\": {{\"{reg}\": {{\"auth\": \"{auth}\"}}}}}}",
            reg = tb.registry()
        ),
    )
    .unwrap();
    let mut needles = testbed_needles();
    needles.push(Needle {
        what: "the wrong password from config.json".into(),
        text: wrong,
    });
    needles.push(Needle {
        what: "config.json's `auth`".into(),
        text: auth,
    });
    let name = scope.name("c");
    let yaml = format!(
        "name: secrets\nregistries:\n  \"{reg}\":\n    registry: http://{reg}\n\
         ships:\n  main: {{ip: 127.0.0.1, socket_path: /var/run/docker.sock, timeout: 15}}\n\
         services:\n  s:\n    image: {image}\n    instances:\n      {name}: {{ship: main}}\n",
        reg = tb.registry(),
        image = tb.test_image_registry(),
    );
    let project = Project::new(&scope, &yaml);
    for args in [vec!["pull"], vec!["start", "-r"]] {
        let out = project
            .command(&args)
            .env("DOCKER_CONFIG", &config)
            .output()
            .expect("running maestro");
        let place = format!("the output of `maestro {}`", args.join(" "));
        assert_clean(
            &needles,
            &place,
            &format!("{}{}", stdout(&out), stderr(&out)),
        );
        assert_code(&out, 1, &args);
        let all = format!("{}{}", stdout(&out), stderr(&out));
        assert!(
            all.contains(tb.registry()),
            "the refusal does not name the registry:\n{all}"
        );
    }
}

#[test]
fn errors_do_not_echo_envfiles_or_key_files() {
    let tb = Testbed::load();
    let scope = Scope::new("secrets-err");
    let token = format!("{}-db-password-7f3a9", scope.prefix());

    // An envfile line without `=`: the error points at it without printing it.
    let yaml = format!(
        "name: secrets\nships:\n  main: {{ip: 127.0.0.1}}\nservices:\n  s:\n    image: {image}\n    envfile: app.env\n    instances:\n      c: {{ship: main}}\n",
        image = tb.test_image()
    );
    let project = Project::new(&scope, &yaml);
    std::fs::write(
        project.dir.join("app.env"),
        format!("USER=app\nDB_PASSWORD {token}\n"),
    )
    .unwrap();
    let needles = [Needle {
        what: "the envfile's line".into(),
        text: token.clone(),
    }];
    for args in [
        vec!["env", "c"],
        vec!["status"],
        vec!["start"],
        vec!["dump"],
    ] {
        let out = run_clean(&project, &needles, &args);
        assert_code(&out, 2, &args);
        assert!(
            stderr(&out).contains("app.env:2:1: invalid line in environment file"),
            "{}",
            stderr(&out)
        );
    }

    // A password of the wrong type, and one in a broken quoted scalar.
    for password in [
        format!("[{token}]"),
        format!("{{p: {token}}}"),
        format!("\"{token}"),
    ] {
        let yaml = format!(
            "name: secrets\nregistries:\n  r:\n    registry: http://{reg}\n    username: u\n    password: {password}\n    email: e\n\
             ships:\n  main: {{ip: 127.0.0.1}}\nservices:\n  s:\n    image: {image}\n    instances:\n      c: {{ship: main}}\n",
            reg = tb.registry(),
            image = tb.test_image()
        );
        let project = Project::new(&scope, &yaml);
        let out = run_clean(&project, &needles, &["status"]);
        assert_code(&out, 2, &["status"]);
        assert!(stderr(&out).contains("maestro.yaml:6:"), "{}", stderr(&out));
    }

    // TLS key files that are not usable keys: garbage, a PEM block of garbage, a
    // certificate, and the key of another certificate. The message names the key
    // file and never shows what is in it.
    let keys = scope.scratch_dir("keys");
    let fake_body = format!("{}AAAAAAAAAAAAAAAAAAAAAAAAAAAA", token.replace('-', ""));
    let garbage = keys.join("garbage.pem");
    std::fs::write(&garbage, format!("{token}\n")).unwrap();
    let pem = keys.join("pem-garbage.pem");
    std::fs::write(
        &pem,
        format!("-----BEGIN PRIVATE KEY-----\n{fake_body}\n-----END PRIVATE KEY-----\n"),
    )
    .unwrap();
    let mut needles = testbed_needles();
    needles.push(Needle {
        what: "the garbage key file's text".into(),
        text: token.clone(),
    });
    needles.push(Needle {
        what: "the fake PEM body".into(),
        text: fake_body,
    });
    for key in [
        garbage.as_path(),
        pem.as_path(),
        tb.tls_client_cert(),
        tb.tls_wrong_client_key(),
    ] {
        let yaml = format!(
            "name: secrets\nships:\n  ship3:\n    ip: {s3}\n    docker_port: {port}\n    timeout: 5\n    tls: true\n    tls_verify: true\n    tls_ca_cert: {ca}\n    tls_cert: {cert}\n    tls_key: {key}\n\
             services:\n  s:\n    image: {image}\n    instances:\n      {name}: {{ship: ship3}}\n",
            s3 = tb.ship3_addr(),
            port = tb.ship3_port(),
            ca = tb.tls_ca().display(),
            cert = tb.tls_client_cert().display(),
            key = key.display(),
            image = tb.test_image(),
            name = scope.name("tls"),
        );
        let project = Project::new(&scope, &yaml);
        for args in [vec!["ships"], vec!["status"], vec!["start"]] {
            let out = run_clean(&project, &needles, &args);
            assert_code(&out, 1, &args);
            let all = format!("{}{}", stdout(&out), stderr(&out));
            // The wrong key parses; the daemon or rustls refuses it at the handshake.
            if key != tb.tls_wrong_client_key() {
                assert!(
                    all.contains(&format!("TLS client key {}", key.display())),
                    "maestro {args:?} with tls_key {}: the message does not name the key file:\n{all}",
                    key.display()
                );
            }
        }
    }
}

#[test]
fn base64_matches_the_standard_alphabet() {
    assert_eq!(base64(b""), "");
    assert_eq!(base64(b"f"), "Zg==");
    assert_eq!(base64(b"fo"), "Zm8=");
    assert_eq!(base64(b"foo"), "Zm9v");
    assert_eq!(base64(b"maestro:pw"), "bWFlc3Rybzpwdw==");
}
