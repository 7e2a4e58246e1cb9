//! Registry credentials from credential helpers, with a real one: Debian's
//! `docker-credential-pass` over a throwaway `pass` store (its own GnuPG home with a
//! passphrase-less key). The testbed registry's user and password go into the store
//! through `docker-credential-pass store`; then `maestro pull` and `maestro start` of
//! an image that only the authenticated registry has must succeed with a
//! `config.json` that holds nothing but `credsStore: pass` (or `credHelpers`), and
//! fail clearly, naming the helper and the registry, when the helper is missing,
//! fails, or prints no credentials. The password appears in no output. MaestroNG
//! 0.8.3 pulls through the same `credsStore` and ignores `credHelpers`.
//!
//! Needs `docker-credential-pass`, `pass` and `gpg` on `PATH`:
//! `apt-get install -y golang-docker-credential-helpers pass gnupg` (`.ci/run` does).

mod support;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use maestro_e2e::{Docker, Scope, Testbed, bin};
use support::{assert_status, stderr, stdout, text};

const PACKAGES: &str = "apt-get install -y golang-docker-credential-helpers pass gnupg";

/// Fails, saying how to install them, unless the programs the test drives are on `PATH`.
fn require_tools() {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let missing: Vec<&str> = ["docker-credential-pass", "pass", "gpg", "gpgconf"]
        .into_iter()
        .filter(|tool| !std::env::split_paths(&path).any(|dir| dir.join(tool).is_file()))
        .collect();
    assert!(
        missing.is_empty(),
        "{} not on PATH: the credentials tests drive a real credential helper; install \
         them with `{PACKAGES}` (.ci/run does)",
        missing.join(", ")
    );
}

/// A `pass` store of the test's own, readable with a passphrase-less key in a GnuPG
/// home of its own; its gpg-agent is stopped when dropped.
struct PassStore {
    gnupg_home: PathBuf,
    store: PathBuf,
}

impl PassStore {
    fn new(scope: &Scope) -> PassStore {
        require_tools();
        let pass = PassStore {
            gnupg_home: gnupg_home(scope, "gnupg"),
            store: scope.scratch_dir("pass").join("store"),
        };
        pass.run(
            "gpg",
            &[
                "--batch",
                "--pinentry-mode",
                "loopback",
                "--passphrase",
                "",
                "--quick-gen-key",
                "maestro e2e <maestro-e2e@example.invalid>",
                "default",
                "default",
                "never",
            ],
            None,
        );
        let keys = pass.run("gpg", &["--batch", "--list-keys", "--with-colons"], None);
        let fingerprint = keys
            .lines()
            .find_map(|l| l.strip_prefix("fpr:"))
            .and_then(|rest| rest.trim_matches(':').rsplit(':').next())
            .unwrap_or_else(|| panic!("no fingerprint in gpg --list-keys:\n{keys}"))
            .to_owned();
        pass.run("pass", &["init", &fingerprint], None);
        pass
    }

    /// Runs `program args` with the store's environment, `input` on stdin; its stdout.
    fn run(&self, program: &str, args: &[&str], input: Option<&str>) -> String {
        let mut child = self
            .env(&mut Command::new(program))
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("running {program}: {e} ({PACKAGES})"));
        let mut stdin = child.stdin.take().expect("piped stdin");
        if let Some(input) = input {
            stdin.write_all(input.as_bytes()).expect("writing stdin");
        }
        drop(stdin);
        let out = child.wait_with_output().expect("waiting");
        // Never printed whole: the output of `get` would hold the password.
        assert!(
            out.status.success(),
            "{program} {} failed ({})",
            args.first().copied().unwrap_or_default(),
            out.status
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Gives `cmd` the store's environment (`GNUPGHOME`, `PASSWORD_STORE_DIR`).
    fn env<'a>(&self, cmd: &'a mut Command) -> &'a mut Command {
        cmd.env("GNUPGHOME", &self.gnupg_home)
            .env("PASSWORD_STORE_DIR", &self.store)
    }

    /// Stores the registry's credentials as `docker login` would: through the helper.
    fn store_registry_credentials(&self, tb: &Testbed) {
        let creds = serde_json::json!({
            "ServerURL": tb.registry(),
            "Username": tb.registry_user(),
            "Secret": tb.registry_password(),
        });
        self.run(
            "docker-credential-pass",
            &["store"],
            Some(&creds.to_string()),
        );
        // The helper answers for the registry from now on.
        let got = self.run("docker-credential-pass", &["get"], Some(tb.registry()));
        let got: serde_json::Value = serde_json::from_str(&got).expect("the helper's JSON");
        assert_eq!(got["Username"], tb.registry_user(), "the stored user");
    }
}

/// An empty GnuPG home (gpg wants it private).
fn gnupg_home(scope: &Scope, name: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let dir = scope.scratch_dir(name);
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))
        .expect("making the GnuPG home private");
    dir
}

impl Drop for PassStore {
    fn drop(&mut self) {
        // gpg started an agent for this home; it would outlive the test.
        let _ = Command::new("gpgconf")
            .args(["--kill", "gpg-agent"])
            .env("GNUPGHOME", &self.gnupg_home)
            .status();
    }
}

/// A project with the ship `main`, the container `c` of `image`, and `extra` YAML
/// (registries) before the services.
fn project(scope: &Scope, tb: &Testbed, image: &str, extra: &str) -> PathBuf {
    let dir = scope.scratch_dir("project");
    let file = dir.join("maestro.yaml");
    let socket = tb
        .main_host()
        .strip_prefix("unix://")
        .expect("the main daemon is a unix socket");
    let c = scope.name("c");
    std::fs::write(
        &file,
        format!(
            "name: {}\nships:\n  main: {{ip: 127.0.0.1, socket_path: {socket}, timeout: 15}}\n{extra}\
             services:\n  s:\n    image: {image}\n    instances:\n      {c}: {{ship: main, command: sleep 300}}\n",
            scope.prefix()
        ),
    )
    .expect("writing maestro.yaml");
    file
}

/// A Docker client configuration directory holding `config` as `config.json`.
fn docker_config(scope: &Scope, name: &str, config: &serde_json::Value) -> PathBuf {
    let dir = scope.scratch_dir(name);
    std::fs::write(dir.join("config.json"), config.to_string()).expect("writing config.json");
    dir
}

/// Runs `maestro -f FILE ARGS` with `DOCKER_CONFIG`, the store's environment, and
/// `extra_path` before `PATH`; checks that no output shows the password.
fn maestro(
    tb: &Testbed,
    scope: &Scope,
    pass: &PassStore,
    file: &Path,
    config: &Path,
    extra_path: Option<&Path>,
    args: &[&str],
) -> Output {
    let mut cmd = Command::new(bin("maestro"));
    let path = std::env::var_os("PATH").unwrap_or_default();
    let path = std::env::join_paths(
        extra_path
            .map(Path::to_owned)
            .into_iter()
            .chain(std::env::split_paths(&path)),
    )
    .expect("joining PATH");
    pass.env(&mut cmd)
        .arg("-f")
        .arg(file)
        .args(args)
        .env("HOME", scope.scratch_dir("home"))
        .env("DOCKER_CONFIG", config)
        .env("PATH", path)
        .env("NO_COLOR", "1")
        .env_remove("DOCKER_HOST")
        .stdin(Stdio::null());
    let out = cmd.output().expect("running maestro");
    let password = tb.registry_password();
    for (stream, text) in [("stdout", stdout(&out)), ("stderr", stderr(&out))] {
        assert!(
            !text.contains(&password),
            "the registry password appears in the {stream} of maestro {args:?}"
        );
    }
    out
}

fn present(docker: &Docker, image: &str) -> bool {
    docker.try_run(["image", "inspect", image]).is_ok()
}

/// Removes the image's local tag when the test ends, however it ends.
struct Untag(Docker, String);

impl Drop for Untag {
    fn drop(&mut self) {
        let _ = self.0.try_run(["rmi", "-f", &self.1]);
    }
}

/// A directory of helper scripts `docker-credential-<name>`, for `PATH`.
fn helper_dir(scope: &Scope, helpers: &[(&str, String)]) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let dir = scope.scratch_dir("helpers");
    for (name, script) in helpers {
        let file = dir.join(format!("docker-credential-{name}"));
        std::fs::write(&file, format!("#!/bin/sh\n{script}\n")).expect("writing a helper");
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o755))
            .expect("making a helper executable");
    }
    dir
}

#[test]
fn pull_and_start_take_credentials_from_docker_credential_pass() {
    let tb = Testbed::load();
    let scope = Scope::new("credpass");
    let main = tb.main();
    let pass = PassStore::new(&scope);
    pass.store_registry_credentials(tb);
    // A tag of our own, only in the registry (which wants a login to pull).
    let image = support::push_to_registry(tb, &scope, scope.prefix());
    let _untag = Untag(main.clone(), image.clone());
    assert!(!present(&main, &image));
    let file = project(&scope, tb, &image, "");
    let run = |config: &Path, args: &[&str]| maestro(tb, &scope, &pass, &file, config, None, args);

    // Nothing in the configuration: the registry refuses the pull.
    let none = docker_config(&scope, "cfg-none", &serde_json::json!({}));
    let out = run(&none, &["pull"]);
    assert_status(&out, 1);
    assert!(
        !present(&main, &image),
        "pulled without credentials?\n{}",
        text(&out)
    );

    // `credsStore: pass` and nothing else.
    let store = docker_config(
        &scope,
        "cfg-store",
        &serde_json::json!({"credsStore": "pass"}),
    );
    let out = run(&store, &["pull"]);
    assert_status(&out, 0);
    assert!(present(&main, &image), "{}", text(&out));

    // `credHelpers` for the registry's host wins over a `credsStore` that does not exist.
    main.run(["rmi", &image]);
    let helpers = docker_config(
        &scope,
        "cfg-helpers",
        &serde_json::json!({
            "credsStore": "maestro-e2e-no-such-store",
            "credHelpers": {tb.registry(): "pass"},
        }),
    );
    let out = run(&helpers, &["start"]);
    assert_status(&out, 0);
    let c = scope.name("c");
    assert_eq!(main.inspect(&c)["State"]["Running"], true, "{}", text(&out));

    // A `registries` entry without username takes them from the store as well.
    main.run(["rm", "-f", &c]);
    main.run(["rmi", &image]);
    let file = project(
        &scope,
        tb,
        &image,
        &format!(
            "registries:\n  \"{reg}\":\n    registry: http://{reg}\n",
            reg = tb.registry()
        ),
    );
    // An unusable entry for another host is a warning; the rest of the file is used.
    let bad_auth = "bm8tY29sb24taGVyZQ==";
    let mixed = docker_config(
        &scope,
        "cfg-mixed",
        &serde_json::json!({"credsStore": "pass", "auths": {"other.example": {"auth": bad_auth}}}),
    );
    let out = maestro(tb, &scope, &pass, &file, &mixed, None, &["pull"]);
    assert_status(&out, 0);
    assert!(present(&main, &image), "{}", text(&out));
    let warning = "auths[\"other.example\"].auth is not base64 of user:password; ignored";
    assert!(
        stderr(&out).contains(warning),
        "no warning `{warning}`:\n{}",
        text(&out)
    );
    assert!(!text(&out).contains(bad_auth), "the bad value is shown");
}

#[test]
fn broken_credential_helpers_fail_the_pull_clearly_and_keep_the_secret() {
    let tb = Testbed::load();
    let scope = Scope::new("credbroken");
    let main = tb.main();
    let pass = PassStore::new(&scope);
    pass.store_registry_credentials(tb);
    let image = support::push_to_registry(tb, &scope, scope.prefix());
    let _untag = Untag(main.clone(), image.clone());
    let password = tb.registry_password();
    let user = tb.registry_user();
    // Helpers that hold the real password and show it where they should not: a
    // failure message on stdout and stderr, and JSON cut short.
    let bin_dir = helper_dir(
        &scope,
        &[
            (
                "maestro-leaky",
                format!("echo 'error: wrong secret {password}'; echo '{password}' >&2; exit 1"),
            ),
            (
                "maestro-badjson",
                format!("printf '{{\"Username\":\"{user}\",\"Secret\":\"{password}'"),
            ),
        ],
    );
    let file = project(&scope, tb, &image, "");
    let reg = tb.registry();
    let cases: [(&str, serde_json::Value, &str); 4] = [
        (
            "cfg-missing",
            serde_json::json!({"credsStore": "maestro-e2e-absent"}),
            "the credential helper docker-credential-maestro-e2e-absent (credsStore in",
        ),
        (
            "cfg-leaky",
            serde_json::json!({"credHelpers": {reg: "maestro-leaky"}}),
            "the credential helper docker-credential-maestro-leaky (credHelpers[",
        ),
        (
            "cfg-badjson",
            serde_json::json!({"credsStore": "maestro-badjson"}),
            "the credential helper docker-credential-maestro-badjson (credsStore in",
        ),
        // The real helper, with the store's key gone: gpg cannot decrypt.
        (
            "cfg-nokey",
            serde_json::json!({"credsStore": "pass"}),
            "the credential helper docker-credential-pass (credsStore in",
        ),
    ];
    let no_key = PassStore {
        gnupg_home: gnupg_home(&scope, "gnupg-empty"),
        store: pass.store.clone(),
    };
    for (name, config, names_helper) in cases {
        let dir = docker_config(&scope, name, &config);
        let store = if name == "cfg-nokey" { &no_key } else { &pass };
        let out = maestro(tb, &scope, store, &file, &dir, Some(&bin_dir), &["pull"]);
        assert_status(&out, 1);
        let all = text(&out);
        let message = format!("credentials for {reg}: {names_helper}");
        assert!(all.contains(&message), "{name}: no `{message}` in\n{all}");
        assert!(!present(&main, &image), "{name}: pulled?\n{all}");
    }

    // maestro.yaml's own username and password win: the broken store is not asked.
    let file = project(
        &scope,
        tb,
        &image,
        &format!(
            "registries:\n  \"{reg}\":\n    registry: http://{reg}\n    username: {user}\n    password: \"{password}\"\n    email: e2e@example.invalid\n"
        ),
    );
    let leaky = docker_config(
        &scope,
        "cfg-leaky-store",
        &serde_json::json!({"credsStore": "maestro-leaky"}),
    );
    let out = maestro(tb, &scope, &pass, &file, &leaky, Some(&bin_dir), &["pull"]);
    assert_status(&out, 0);
    assert!(present(&main, &image), "{}", text(&out));
}

/// MaestroNG 0.8.3 (docker-py 1.10.6) on the same files: it pulls through
/// `credsStore` as maestro does, and ignores `credHelpers` (host/COMPAT.md), where
/// maestro pulls.
#[test]
fn maestro_ng_agrees_on_creds_store_and_ignores_cred_helpers() {
    let tb = Testbed::load();
    let scope = Scope::new("credng");
    let main = tb.main();
    let pass = PassStore::new(&scope);
    pass.store_registry_credentials(tb);
    let image = support::push_to_registry(tb, &scope, scope.prefix());
    let _untag = Untag(main.clone(), image.clone());
    let file = project(&scope, tb, &image, "");
    let maestro_ng = |config: &Path| {
        let mut cmd = Command::new(tb.maestro_ng_python());
        let out = pass
            .env(&mut cmd)
            .args(["-m", "maestro", "-f"])
            .arg(&file)
            .arg("pull")
            .env("HOME", scope.scratch_dir("home"))
            .env("DOCKER_CONFIG", config)
            .env_remove("DOCKER_HOST")
            .stdin(Stdio::null())
            .output()
            .expect("running MaestroNG 0.8.3");
        let all = text(&out);
        assert!(
            !all.contains(&tb.registry_password()),
            "MaestroNG showed the password"
        );
        out
    };

    let store = docker_config(
        &scope,
        "cfg-store",
        &serde_json::json!({"credsStore": "pass"}),
    );
    let out = maestro_ng(&store);
    assert_status(&out, 0);
    assert!(
        present(&main, &image),
        "0.8.3 did not pull:\n{}",
        text(&out)
    );
    main.run(["rmi", &image]);
    let out = maestro(tb, &scope, &pass, &file, &store, None, &["pull"]);
    assert_status(&out, 0);
    assert!(present(&main, &image), "{}", text(&out));
    main.run(["rmi", &image]);

    let helpers = docker_config(
        &scope,
        "cfg-helpers",
        &serde_json::json!({"credHelpers": {tb.registry(): "pass"}}),
    );
    let out = maestro_ng(&helpers);
    assert!(
        !present(&main, &image),
        "0.8.3 pulled with credHelpers: update host/COMPAT.md\n{}",
        text(&out)
    );
    let out = maestro(tb, &scope, &pass, &file, &helpers, None, &["pull"]);
    assert_status(&out, 0);
    assert!(present(&main, &image), "{}", text(&out));
}
