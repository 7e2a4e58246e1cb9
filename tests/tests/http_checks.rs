//! `http` lifecycle checks against real HTTP servers on 127.0.0.1 (a Python process
//! running `support/http_server.py`: plain HTTP, HTTPS, HTTPS requiring a client
//! certificate, with certificates the test makes with `openssl`): redirects, basic
//! auth, headers, `verify`, `cert`, Python regexes, and what is refused at load.
//!
//! Each container is a `sleep` on the main daemon whose `running` check targets the
//! server by `host: 127.0.0.1` and a literal port; all run in one `maestro start`.

mod support;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use maestro_e2e::{Scope, Testbed};
use support::pki::{EC_P256, make_ca, make_leaf};
use support::{Project, assert_status, outcome, ships_yaml, stderr, stdout, text};

const USER: &str = "ops";
/// Never to appear in maestro's output.
const PASSWORD: &str = "pw-Zq81-never-shown";

/// The servers' process; killed when dropped.
struct Servers {
    child: Child,
    http: u16,
    https: u16,
    mtls: u16,
}

impl Drop for Servers {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Test certificates: a CA, a server certificate for 127.0.0.1, a client certificate.
struct Pki {
    ca: PathBuf,
    server_cert: PathBuf,
    server_key: PathBuf,
    client_cert: PathBuf,
    client_key: PathBuf,
    /// The client certificate and its key in one file.
    client_both: PathBuf,
}

fn pki(dir: &Path) -> Pki {
    make_ca(dir, "ca");
    let leaf = |name: &str, ext: &str| make_leaf(dir, name, &EC_P256, name, ext, "ca");
    leaf(
        "server",
        "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1\n",
    );
    leaf(
        "client",
        "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n",
    );
    let both = dir.join("client-both.pem");
    let mut text = std::fs::read_to_string(dir.join("client-cert.pem")).unwrap();
    text.push_str(&std::fs::read_to_string(dir.join("client-key.pem")).unwrap());
    std::fs::write(&both, text).unwrap();
    Pki {
        ca: dir.join("ca.pem"),
        server_cert: dir.join("server-cert.pem"),
        server_key: dir.join("server-key.pem"),
        client_cert: dir.join("client-cert.pem"),
        client_key: dir.join("client-key.pem"),
        client_both: both,
    }
}

fn servers(pki: &Pki) -> Servers {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/http_server.py");
    let mut child = Command::new("python3")
        .arg(&script)
        .args([USER, PASSWORD])
        .args([&pki.server_cert, &pki.server_key, &pki.ca])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("running python3 (a testbed prerequisite: apt-get install python3): {e}")
        });
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let ports: Vec<u16> = line
        .strip_prefix("PORTS ")
        .unwrap_or_else(|| panic!("the test servers did not start: {line:?}"))
        .split_whitespace()
        .map(|p| p.parse().unwrap())
        .collect();
    Servers {
        child,
        http: ports[0],
        https: ports[1],
        mtls: ports[2],
    }
}

/// A project whose containers (suffix, check) each run one `running` check.
fn project(scope: &Scope, tb: &Testbed, checks: &[(&str, String)]) -> Project {
    let image = tb.test_image();
    let mut yaml = format!(
        "name: {}\n{}services:\n  web:\n    image: {image}\n    instances:\n",
        scope.prefix(),
        ships_yaml(tb)
    );
    for (suffix, check) in checks {
        yaml.push_str(&format!(
            "      {}:\n        ship: main\n        stop_timeout: 1\n        command: sleep 300\n        lifecycle:\n          running:\n            - {check}\n",
            scope.name(suffix)
        ));
    }
    Project::new(scope, &yaml)
}

fn no_secret(out: &Output) {
    let all = format!("{}{}", stdout(out), stderr(out));
    assert!(
        !all.contains(PASSWORD),
        "the password is in the output:\n{all}"
    );
}

/// 0.8.3's verdict on each check (`tests/differential/http_check_oracle.py`).
fn reference_verdicts(tb: &Testbed, checks: &[(&str, String)]) -> BTreeMap<String, bool> {
    let input: serde_json::Map<String, serde_json::Value> = checks
        .iter()
        .map(|(n, c)| ((*n).to_owned(), serde_json::Value::String(c.clone())))
        .collect();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("differential/http_check_oracle.py");
    let mut cmd = Command::new(tb.maestro_ng_python());
    cmd.arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // requests would take these from the environment; maestro does not.
    for v in [
        "http_proxy",
        "HTTP_PROXY",
        "https_proxy",
        "HTTPS_PROXY",
        "all_proxy",
        "ALL_PROXY",
        "REQUESTS_CA_BUNDLE",
        "CURL_CA_BUNDLE",
    ] {
        cmd.env_remove(v);
    }
    let mut child = cmd.spawn().unwrap_or_else(|e| {
        panic!("running MaestroNG 0.8.3's python (tests/testbed/up installs it): {e}")
    });
    serde_json::to_writer(child.stdin.take().unwrap(), &input).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "the 0.8.3 oracle failed: {}",
        text(&out)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("the 0.8.3 oracle's output: {e}: {}", text(&out)))
}

/// Every option against the real servers: what must pass passes, what must fail fails
/// within its `max_wait` with the reason, and the password never shows; MaestroNG
/// 0.8.3 gives the same verdicts but where host/COMPAT.md says otherwise.
#[test]
fn http_checks_follow_requests_options_against_real_servers() {
    let tb = Testbed::load();
    let scope = Scope::new("httpcheck");
    let pki = pki(&scope.scratch_dir("pki"));
    let s = servers(&pki);
    let (h, tls, mtls) = (s.http, s.https, s.mtls);
    let ca = pki.ca.display().to_string();
    let both = pki.client_both.display().to_string();
    let (cert, key) = (
        pki.client_cert.display().to_string(),
        pki.client_key.display().to_string(),
    );
    let check = |port: u16, rest: &str| {
        format!("{{type: http, host: 127.0.0.1, port: {port}, max_wait: 2, {rest}}}")
    };
    let passing = [
        ("redirects", check(h, "path: /r/5")),
        ("redirects30", check(h, "path: /r/30")),
        ("see-other", check(h, "path: /see-other, method: post")),
        (
            "auth",
            check(
                h,
                &format!("path: /auth, requests_options: {{auth: [{USER}, {PASSWORD}]}}"),
            ),
        ),
        (
            "header",
            check(
                h,
                "path: /header, requests_options: {headers: {X-Ready: 'yes'}}",
            ),
        ),
        (
            "lookahead",
            check(
                h,
                r#"path: /body, match_regex: 'status: (?=ready)(?P<w>\w+)\n\Z'"#,
            ),
        ),
        (
            "https-ca",
            check(
                tls,
                &format!("scheme: https, path: /ok, requests_options: {{verify: '{ca}'}}"),
            ),
        ),
        (
            "https-noverify",
            check(
                tls,
                "scheme: https, path: /r/2, requests_options: {verify: false, timeout: 2}",
            ),
        ),
        (
            "params",
            check(h, "path: '/q?a=1', requests_options: {params: {b: x y}}"),
        ),
        (
            "timeout-pair",
            check(h, "path: /ok, requests_options: {timeout: [1, 2]}"),
        ),
        (
            "mtls-one-file",
            check(
                mtls,
                &format!(
                    "scheme: https, path: /ok, requests_options: {{verify: '{ca}', cert: '{both}'}}"
                ),
            ),
        ),
        (
            "mtls-two-files",
            check(
                mtls,
                &format!(
                    "scheme: https, path: /ok, requests_options: {{verify: '{ca}', cert: ['{cert}', '{key}']}}"
                ),
            ),
        ),
    ];
    let failing = [
        (
            "loop",
            check(h, "path: /loop"),
            "more than 30 redirects".to_owned(),
        ),
        (
            "redirects31",
            check(h, "path: /r/31"),
            "more than 30 redirects".to_owned(),
        ),
        (
            "no-redirects",
            check(h, "path: /r/1, requests_options: {allow_redirects: false}"),
            "status 302 Found".to_owned(),
        ),
        (
            "no-auth",
            check(h, "path: /auth"),
            "status 401 Unauthorized".to_owned(),
        ),
        (
            "wrong-auth",
            check(
                h,
                &format!("path: /auth, requests_options: {{auth: [{USER}, not-{PASSWORD}]}}"),
            ),
            "status 401 Unauthorized".to_owned(),
        ),
        (
            "no-header",
            check(h, "path: /header"),
            "status 400 Bad Request".to_owned(),
        ),
        (
            "regex-miss",
            check(h, r"path: /body, match_regex: 'status: (?!ready)'"),
            "body does not match".to_owned(),
        ),
        (
            "https-default-roots",
            check(tls, "scheme: https, path: /ok"),
            "UnknownIssuer".to_owned(),
        ),
        (
            "mtls-no-cert",
            check(
                mtls,
                &format!("scheme: https, path: /ok, requests_options: {{verify: '{ca}'}}"),
            ),
            format!("https://127.0.0.1:{mtls}/ok did not succeed within 2s"),
        ),
        (
            "missing-ca",
            check(
                tls,
                "scheme: https, path: /ok, requests_options: {verify: /nonexistent/ca.pem}",
            ),
            "/nonexistent/ca.pem".to_owned(),
        ),
    ];
    let mut all: Vec<(&str, String)> = passing.iter().map(|(n, c)| (*n, c.clone())).collect();
    all.extend(failing.iter().map(|(n, c, _)| (*n, c.clone())));
    let project = project(&scope, tb, &all);
    let out = project.run(&["start"]);
    assert_status(&out, 1);
    no_secret(&out);
    let so = stdout(&out);
    for (name, _) in &passing {
        let (word, detail) = outcome(&so, &scope.name(name));
        assert_eq!(word, "done", "{name}: {detail}\n{}", text(&out));
    }
    for (name, _, reason) in &failing {
        let (word, detail) = outcome(&so, &scope.name(name));
        assert_eq!(word, "FAILED", "{name}: {detail}\n{}", text(&out));
        assert!(
            detail.contains(reason.as_str()),
            "{name}: {reason:?} not in {detail}"
        );
    }
    // MaestroNG 0.8.3 on the same checks: the same verdicts, except where a list from
    // YAML trips `requests` at every attempt (`auth`, `timeout` pairs; host/COMPAT.md).
    let ours: BTreeMap<&str, bool> = passing
        .iter()
        .map(|(n, _)| (*n, true))
        .chain(failing.iter().map(|(n, _, _)| (*n, false)))
        .collect();
    let theirs = reference_verdicts(tb, &all);
    for (name, ok) in &ours {
        let want = if ["auth", "timeout-pair"].contains(name) {
            false
        } else {
            *ok
        };
        assert_eq!(
            theirs.get(*name),
            Some(&want),
            "0.8.3 on {name}: {theirs:?}"
        );
    }
    // `maestro dump` shows the check but not the password.
    let dump = project.run(&["dump"]);
    assert_status(&dump, 0);
    no_secret(&dump);
    assert!(stdout(&dump).contains("<redacted>"), "{}", text(&dump));
}

/// A bad `match_regex` and a key `requests` refuses are configuration errors at load
/// (exit 2, `file:line:column`, the key), before anything is started.
#[test]
fn bad_regex_and_unknown_requests_option_are_rejected_at_load() {
    let tb = Testbed::load();
    let scope = Scope::new("httpcheck-load");
    for (check, words) in [
        (
            "{type: http, port: 8080, match_regex: 'up(?=x'}".to_owned(),
            vec!["maestro.yaml:15:53", "match_regex", "bad regex \"up(?=x\""],
        ),
        (
            "{type: http, port: 8080, requests_options: {verfy: false}}".to_owned(),
            vec![
                "maestro.yaml:15:",
                "requests_options.verfy",
                "unknown requests option \"verfy\"",
            ],
        ),
        (
            format!("{{type: http, port: 8080, requests_options: {{auth: {PASSWORD}}}}}"),
            vec![
                "requests_options.auth",
                "expected [user, password], found str",
            ],
        ),
    ] {
        let project = project(&scope, tb, &[("c", check)]);
        let out = project.run(&["start"]);
        assert_status(&out, 2);
        let err = stderr(&out);
        for w in words {
            assert!(err.contains(w), "{w:?} not in {}", text(&out));
        }
        no_secret(&out);
        assert!(
            scope.containers(&tb.main()).is_empty(),
            "nothing may start: {}",
            text(&out)
        );
    }
}
