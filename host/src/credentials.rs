//! Registry credentials: a `registries` entry of `maestro.yaml` first (MaestroNG
//! 0.8.3's precedence), else the Docker client configuration read as the docker CLI
//! reads it: `credHelpers` for the registry's host, else `credsStore`, each through a
//! `docker-credential-<name>` helper on `PATH`; without a helper, the `auths` entry
//! of the host (`auth`, `identitytoken`).
//!
//! The file is parsed once ([`DockerConfig::parse`]); which source answers for a host
//! is pure and unit-tested here; a helper runs only when a pull needs its answer, at
//! most once per helper and host in a run, and nothing it prints reaches an error
//! message unless it is one of the protocol's fixed texts.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use serde_json::{Map, Value};
use tokio::io::AsyncWriteExt;
use tokio::sync::OnceCell;

use crate::config::model::Environment;
use crate::spec::{RegistryAuth, RetryPolicy, Secret};

/// The key under which the docker CLI keeps Docker Hub's credentials (`docker login`
/// with no server writes it; `docker.io` and `index.docker.io` images are looked up
/// by it).
pub const INDEX_SERVER: &str = "https://index.docker.io/v1/";

/// The prefix of every credential helper's program name.
pub const HELPER_PREFIX: &str = "docker-credential-";

/// The `Username` with which a helper says its `Secret` is an identity token.
const TOKEN_USERNAME: &str = "<token>";

/// What a helper prints (and exits 1) when it holds nothing for the server; the
/// docker CLI then goes on without credentials, and so does maestro.
const NOT_FOUND: &str = "credentials not found in native keychain";

/// The protocol's other fixed error texts: safe to show, they hold no secret.
const KNOWN_ERRORS: [&str; 2] = ["no credentials server URL", "no credentials username"];

/// Credentials for one registry, as sent to the daemon with a pull.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Credentials {
    /// User name (empty with an identity token alone).
    pub username: String,
    /// Password; never printed.
    pub password: Secret,
    /// An OAuth identity token (refresh token) instead of a password; never printed.
    pub identity_token: Option<Secret>,
    /// E-mail (only the file keeps one; daemons ignore it nowadays).
    pub email: Option<String>,
}

impl Credentials {
    /// Whether these say anything: the docker CLI sends empty ones as no login.
    fn is_empty(&self) -> bool {
        self.username.is_empty()
            && self.password.expose().is_empty()
            && self.identity_token.is_none()
    }
}

/// Which setting of the configuration chose a credential helper (for messages).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HelperSetting {
    /// `credHelpers` has the registry's key.
    CredHelpers,
    /// The default store, `credsStore`.
    CredsStore,
}

/// A problem in the Docker client configuration that makes a part of it unusable;
/// maestro warns and goes on without that part, as the docker CLI does. Never holds
/// a value of the file, only where it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigWarning {
    /// The file exists but cannot be read.
    #[error(
        "Docker client configuration {path}: cannot read it: {reason}; no credentials are taken from it"
    )]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The file is not a JSON object.
    #[error(
        "Docker client configuration {path}: not a JSON object ({reason}); no credentials are taken from it"
    )]
    Syntax {
        /// The file.
        path: PathBuf,
        /// The parser's complaint (position, never content).
        reason: String,
    },
    /// One setting is unusable and ignored.
    #[error("Docker client configuration {path}: {setting} {problem}; ignored")]
    Setting {
        /// The file.
        path: PathBuf,
        /// Where: `auths["host"].auth`, `credsStore`, ...
        setting: String,
        /// What is wrong with it.
        problem: String,
    },
}

/// Why no credentials could be had from a credential helper. The messages name the
/// helper, the setting that chose it and the registry, and never what the helper
/// printed (a failing helper may still have printed the secret, on stdout or
/// stderr), except for the protocol's fixed error texts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CredentialError {
    /// The helper program is not on `PATH`.
    #[error(
        "credentials for {registry}: the credential helper {program} ({origin}) is not installed: no {program} on PATH"
    )]
    Missing {
        /// `docker-credential-<name>`.
        program: String,
        /// The setting and file that named it.
        origin: String,
        /// The registry key asked for.
        registry: String,
    },
    /// The helper could not be started or waited for.
    #[error(
        "credentials for {registry}: cannot run the credential helper {program} ({origin}): {reason}"
    )]
    Spawn {
        /// `docker-credential-<name>`.
        program: String,
        /// The setting and file that named it.
        origin: String,
        /// The registry key asked for.
        registry: String,
        /// The system's error.
        reason: String,
    },
    /// The helper exited unsuccessfully.
    #[error(
        "credentials for {registry}: the credential helper {program} ({origin}) failed ({status}){detail}"
    )]
    Failed {
        /// `docker-credential-<name>`.
        program: String,
        /// The setting and file that named it.
        origin: String,
        /// The registry key asked for.
        registry: String,
        /// How it exited.
        status: String,
        /// A protocol error text, or how to see the withheld output.
        detail: String,
    },
    /// The helper succeeded but printed no credentials in the protocol's JSON.
    #[error(
        "credentials for {registry}: the credential helper {program} ({origin}) printed no credentials: {problem} (expected a JSON object with \"Username\" and \"Secret\"; the output is not shown, as it may hold a secret)"
    )]
    BadOutput {
        /// `docker-credential-<name>`.
        program: String,
        /// The setting and file that named it.
        origin: String,
        /// The registry key asked for.
        registry: String,
        /// What is wrong (position or field name, never content).
        problem: String,
    },
}

type Answer = Result<Option<Credentials>, CredentialError>;

/// A helper's answer for one (helper, registry key), computed once.
type Answers = HashMap<(String, String), Arc<OnceCell<Answer>>>;

/// The credential settings of a Docker client configuration (`config.json`, or a
/// legacy `.dockercfg`), with the helpers' answers of this run.
pub struct DockerConfig {
    /// The file, for messages.
    path: PathBuf,
    /// `auths`, decoded; keys as written.
    auths: BTreeMap<String, Credentials>,
    /// `credsStore` (empty: none).
    creds_store: String,
    /// `credHelpers`: registry key → helper name.
    cred_helpers: BTreeMap<String, String>,
    /// One answer per (helper, registry key), shared by concurrent pulls.
    answers: Mutex<Answers>,
    /// Where helpers are looked for: `None`, on `PATH` (a directory: unit tests).
    helper_dir: Option<PathBuf>,
}

impl fmt::Debug for DockerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The credentials' own Debug is redacted; keys and helper names are not secret.
        f.debug_struct("DockerConfig")
            .field("path", &self.path)
            .field("auths", &self.auths)
            .field("creds_store", &self.creds_store)
            .field("cred_helpers", &self.cred_helpers)
            .finish_non_exhaustive()
    }
}

/// The key the docker CLI looks credentials up by for a registry host: Docker Hub's
/// names map to [`INDEX_SERVER`], every other host is its own key.
pub fn auth_key(host: &str) -> &str {
    if host == "docker.io" || host == "index.docker.io" {
        INDEX_SERVER
    } else {
        host
    }
}

/// The registry host of an image reference, by docker's rule: the first path
/// component when it contains `.` or `:`, is `localhost`, or has an upper-case
/// letter; otherwise Docker Hub (`docker.io`).
pub fn image_registry_host(image: &str) -> &str {
    match image.split_once('/') {
        Some((first, _))
            if first.contains(['.', ':'])
                || first == "localhost"
                || first.chars().any(|c| c.is_ascii_uppercase()) =>
        {
            first
        }
        _ => "docker.io",
    }
}

/// The host (with port) an `auths` key names, as the docker CLI's
/// `ConvertToHostname` computes it: `https://host:5000/v1/` → `host:5000`, a bare
/// `host/path` → `host`.
pub fn key_hostname(key: &str) -> String {
    if let Some((_, rest)) = key.split_once("://") {
        if let Some(host) = url_hostport(rest) {
            return host;
        }
        // What URL parsing rejects (an unbracketed IPv6 address with a port).
        let host = rest.split('/').next().unwrap_or("");
        if !host.is_empty() {
            if host.matches(':').count() > 1 && !host.starts_with('[') {
                if let Some((addr, port)) = host.rsplit_once(':') {
                    if !addr.is_empty() && is_port(port) {
                        return format!("[{addr}]:{port}");
                    }
                }
            }
            return host.to_owned();
        }
    }
    key.split('/').next().unwrap_or("").to_owned()
}

/// `host[:port]` of a URL's authority (after `scheme://`), as Go's `net/url` sees it:
/// without user info, an IPv6 address bracketed only when a port follows; `None`
/// where it would refuse the URL or find no host.
fn url_hostport(rest: &str) -> Option<String> {
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let hostport = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let (host, port) = if let Some(inner) = hostport.strip_prefix('[') {
        let (host, after) = inner.split_once(']')?;
        match after {
            "" => (host, ""),
            _ => (host, after.strip_prefix(':')?),
        }
    } else {
        match hostport.split_once(':') {
            Some((_, p)) if p.contains(':') => return None,
            Some((h, p)) => (h, p),
            None => (hostport, ""),
        }
    };
    if host.is_empty() || !(port.is_empty() || is_port(port)) {
        return None;
    }
    Some(match (port, host.contains(':')) {
        ("", _) => host.to_owned(),
        (p, true) => format!("[{host}]:{p}"),
        (p, false) => format!("{host}:{p}"),
    })
}

fn is_port(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// `user:password` from an `auths` entry's `auth` (standard base64; padding and line
/// breaks tolerated). The user must not be empty; NULs around the password go, as
/// the docker CLI drops them.
pub fn decode_auth(auth: &str) -> Result<(String, String), &'static str> {
    const LENIENT: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );
    let compact: String = auth.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let bytes = LENIENT.decode(compact).map_err(|_| "is not base64")?;
    let text = String::from_utf8(bytes).map_err(|_| "is not base64 of UTF-8 text")?;
    match text.split_once(':') {
        Some((user, password)) if !user.is_empty() => {
            Ok((user.to_owned(), password.trim_matches('\0').to_owned()))
        }
        _ => Err("is not base64 of user:password"),
    }
}

/// A JSON object's member by name, matched as Go's `encoding/json` matches struct
/// fields: exactly, else ignoring ASCII case.
fn member<'a>(obj: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    obj.get(name).or_else(|| {
        obj.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    })
}

impl DockerConfig {
    /// Finds and parses the Docker client configuration: `$DOCKER_CONFIG/config.json`
    /// (`~/.docker/config.json` when `DOCKER_CONFIG` is unset), else the legacy
    /// `~/.dockercfg`. No file: `None`.
    /// A file that is partly or wholly unusable gives warnings for the caller to show.
    pub fn load_default() -> (Option<DockerConfig>, Vec<ConfigWarning>) {
        let dir = match std::env::var_os("DOCKER_CONFIG") {
            Some(d) if !d.is_empty() => Some(PathBuf::from(d)),
            _ => std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".docker")),
        };
        let home = std::env::var_os("HOME").map(PathBuf::from);
        let candidates = [
            dir.map(|d| (d.join("config.json"), false)),
            home.map(|h| (h.join(".dockercfg"), true)),
        ];
        for (path, legacy) in candidates.into_iter().flatten() {
            match std::fs::read_to_string(&path) {
                Ok(text) => return DockerConfig::parse(&text, &path, legacy),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => {
                    return (
                        None,
                        vec![ConfigWarning::Read {
                            path,
                            reason: e.to_string(),
                        }],
                    );
                }
            }
        }
        (None, Vec::new())
    }

    /// Parses a configuration's text; `legacy`: a `.dockercfg`, whose top level is
    /// what `auths` holds in `config.json`. Unusable settings are left out, each
    /// with a warning; text that is no JSON object gives no configuration.
    pub fn parse(
        text: &str,
        path: &Path,
        legacy: bool,
    ) -> (Option<DockerConfig>, Vec<ConfigWarning>) {
        let mut warnings = Vec::new();
        let setting = |setting: String, problem: &str| ConfigWarning::Setting {
            path: path.to_owned(),
            setting,
            problem: problem.to_owned(),
        };
        let root = match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(root)) => root,
            Ok(_) => {
                let reason = "the top level is not an object".to_owned();
                return (
                    None,
                    vec![ConfigWarning::Syntax {
                        path: path.to_owned(),
                        reason,
                    }],
                );
            }
            // A syntax error's text gives the position only, never the content.
            Err(e) => {
                let reason = e.to_string();
                return (
                    None,
                    vec![ConfigWarning::Syntax {
                        path: path.to_owned(),
                        reason,
                    }],
                );
            }
        };
        let mut config = DockerConfig {
            path: path.to_owned(),
            auths: BTreeMap::new(),
            creds_store: String::new(),
            cred_helpers: BTreeMap::new(),
            answers: Mutex::new(HashMap::new()),
            helper_dir: None,
        };
        let auths = if legacy {
            Some(Value::Object(root.clone()))
        } else {
            member(&root, "auths").cloned()
        };
        match auths {
            None | Some(Value::Null) => {}
            Some(Value::Object(auths)) => {
                for (key, entry) in auths {
                    match parse_entry(&entry) {
                        Ok(creds) => {
                            config.auths.insert(key, creds);
                        }
                        Err((field, problem)) => {
                            let at = if legacy {
                                String::new()
                            } else {
                                "auths".to_owned()
                            };
                            warnings.push(setting(format!("{at}[{key:?}]{field}"), problem));
                        }
                    }
                }
            }
            Some(_) => warnings.push(setting("auths".into(), "is not an object")),
        }
        if !legacy {
            match member(&root, "credsStore") {
                None | Some(Value::Null) => {}
                Some(Value::String(s)) => config.creds_store = s.clone(),
                Some(_) => warnings.push(setting("credsStore".into(), "is not a string")),
            }
            match member(&root, "credHelpers") {
                None | Some(Value::Null) => {}
                Some(Value::Object(helpers)) => {
                    for (key, helper) in helpers {
                        match helper {
                            Value::String(h) => {
                                config.cred_helpers.insert(key.clone(), h.clone());
                            }
                            _ => warnings
                                .push(setting(format!("credHelpers[{key:?}]"), "is not a string")),
                        }
                    }
                }
                Some(_) => warnings.push(setting("credHelpers".into(), "is not an object")),
            }
        }
        (Some(config), warnings)
    }

    /// The file this configuration was read from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The helper the docker CLI would ask for `key` (an [`auth_key`]): the
    /// `credHelpers` entry of exactly that key, else `credsStore`; `None`: the
    /// `auths` entries answer.
    pub fn helper_for(&self, key: &str) -> Option<(&str, HelperSetting)> {
        if let Some(helper) = self.cred_helpers.get(key) {
            if !helper.is_empty() {
                return Some((helper, HelperSetting::CredHelpers));
            }
        }
        (!self.creds_store.is_empty())
            .then_some((self.creds_store.as_str(), HelperSetting::CredsStore))
    }

    /// The `auths` entry for `key`: the one written exactly so, else the first (in
    /// key order) whose [`key_hostname`] is `key` (`https://host/v1/`, `http://host`).
    /// For Docker Hub ([`INDEX_SERVER`]), where the docker CLI stops, an entry for
    /// `docker.io` or `index.docker.io` (any scheme or path) answers last, as
    /// docker-py under MaestroNG 0.8.3 took it.
    pub fn auths_entry(&self, key: &str) -> Option<&Credentials> {
        let by_host = |matches: &dyn Fn(&str) -> bool| {
            self.auths
                .iter()
                .find(|(k, _)| matches(&key_hostname(k)))
                .map(|(_, c)| c)
        };
        self.auths
            .get(key)
            .or_else(|| by_host(&|host| host == key))
            .or_else(|| {
                (key == INDEX_SERVER)
                    .then(|| by_host(&|host| host == "docker.io" || host == "index.docker.io"))
                    .flatten()
            })
    }

    /// The credentials for registry `host` (`127.0.0.1:5000`, `docker.io`), found as
    /// the docker CLI finds them. `Ok(None)`: none (the pull goes without). A helper
    /// that holds nothing for the host answers `Ok(None)` too; the `auths` entry is
    /// then not used (the docker CLI does not fall back either).
    pub async fn credentials(&self, host: &str) -> Result<Option<Credentials>, CredentialError> {
        let key = auth_key(host);
        let Some((helper, setting)) = self.helper_for(key) else {
            return Ok(self.auths_entry(key).filter(|c| !c.is_empty()).cloned());
        };
        let cell = {
            let mut answers = self.answers.lock().unwrap_or_else(|p| p.into_inner());
            answers
                .entry((helper.to_owned(), key.to_owned()))
                .or_default()
                .clone()
        };
        let origin = match setting {
            HelperSetting::CredHelpers => {
                format!("credHelpers[{key:?}] in {}", self.path.display())
            }
            HelperSetting::CredsStore => format!("credsStore in {}", self.path.display()),
        };
        let program = format!("{HELPER_PREFIX}{helper}");
        let path = match &self.helper_dir {
            Some(dir) => dir.join(&program),
            None => PathBuf::from(&program),
        };
        let answer = cell
            .get_or_init(|| run_helper(path, program, key, origin))
            .await
            .clone();
        // The file may keep the e-mail beside a helper's credentials.
        Ok(answer?.map(|mut creds| {
            creds.email = self.auths_entry(key).and_then(|c| c.email.clone());
            creds
        }))
    }
}

/// An `auths` entry: `auth` (base64 `user:password`) over plain `username` and
/// `password`, `identitytoken`, `email`. Err: the field at fault and why.
fn parse_entry(entry: &Value) -> Result<Credentials, (&'static str, &'static str)> {
    let Value::Object(entry) = entry else {
        return Err(("", "is not an object"));
    };
    let text = |name: &'static str, field: &'static str| match member(entry, name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err((field, "is not a string")),
    };
    let mut username = text("username", ".username")?.unwrap_or_default();
    let mut password = text("password", ".password")?.unwrap_or_default();
    if let Some(auth) = text("auth", ".auth")?.filter(|a| !a.is_empty()) {
        (username, password) = decode_auth(&auth).map_err(|problem| (".auth", problem))?;
    }
    Ok(Credentials {
        username,
        password: Secret::new(password),
        identity_token: text("identitytoken", ".identitytoken")?
            .filter(|t| !t.is_empty())
            .map(Secret::new),
        email: text("email", ".email")?.filter(|e| !e.is_empty()),
    })
}

/// `<path> get` (`path`: the helper `program`, found on `PATH` when bare) with `key`
/// on stdin: its JSON answer, `None` when it holds nothing for the key. Its stderr is
/// not read (it may echo a secret).
async fn run_helper(path: PathBuf, program: String, key: &str, origin: String) -> Answer {
    let registry = key.to_owned();
    let spawned = tokio::process::Command::new(&path)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn();
    let mut child = match spawned {
        Ok(child) => child,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(CredentialError::Missing {
                program,
                origin,
                registry,
            });
        }
        Err(e) => {
            let reason = e.to_string();
            return Err(CredentialError::Spawn {
                program,
                origin,
                registry,
                reason,
            });
        }
    };
    if let Some(mut stdin) = child.stdin.take() {
        // A helper that exits without reading is judged by its exit status below.
        let _ = stdin.write_all(key.as_bytes()).await;
    }
    let output = match child.wait_with_output().await {
        Ok(output) => output,
        Err(e) => {
            let reason = e.to_string();
            return Err(CredentialError::Spawn {
                program,
                origin,
                registry,
                reason,
            });
        }
    };
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        let said = stdout.trim();
        if said == NOT_FOUND {
            return Ok(None);
        }
        let detail = if KNOWN_ERRORS.contains(&said) {
            format!(": {said}")
        } else {
            format!(
                "; its output is not shown, as it may hold a secret: `echo {key} | {program} get` shows it"
            )
        };
        let status = exit_text(output.status);
        return Err(CredentialError::Failed {
            program,
            origin,
            registry,
            status,
            detail,
        });
    }
    parse_answer(&output.stdout).map_err(|problem| CredentialError::BadOutput {
        program,
        origin,
        registry,
        problem,
    })
}

fn exit_text(status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit status {code}"),
        (None, Some(signal)) => format!("killed by signal {signal}"),
        (None, None) => status.to_string(),
    }
}

/// A helper's `get` answer: `{"ServerURL", "Username", "Secret"}` (names matched
/// as Go matches them; the first JSON value counts, as for the docker CLI).
/// `Username` `<token>` makes `Secret` an identity token; both empty: nothing held
/// (what `docker-credential-pass` answers for an unknown server). Err: what is
/// wrong, never the output itself.
pub fn parse_answer(stdout: &[u8]) -> Result<Option<Credentials>, String> {
    if stdout.iter().all(u8::is_ascii_whitespace) {
        return Err("empty output".into());
    }
    let first = serde_json::Deserializer::from_slice(stdout)
        .into_iter::<Value>()
        .next()
        .unwrap_or(Ok(Value::Null));
    let value = match first {
        Ok(value) => value,
        // Syntax errors give a position, never content.
        Err(e) => return Err(format!("not JSON ({e})")),
    };
    let Value::Object(obj) = value else {
        return Err("not a JSON object".into());
    };
    let field = |name: &str| match member(&obj, name) {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(format!("\"{name}\" is not a string")),
    };
    let username = field("Username")?;
    let secret = field("Secret")?;
    if username.is_empty() && secret.is_empty() {
        return Ok(None);
    }
    Ok(Some(if username == TOKEN_USERNAME {
        Credentials {
            identity_token: Some(Secret::new(secret)),
            ..Credentials::default()
        }
    } else {
        Credentials {
            username,
            password: Secret::new(secret),
            ..Credentials::default()
        }
    }))
}

/// The credentials to pull `image` with. A `registries` entry matching the image
/// (MaestroNG's `registry_for_container`; README § Registry credentials) with a `username` gives them itself, and
/// the Docker client configuration is not read (MaestroNG 0.8.3's precedence); an
/// entry without `username` takes the configuration's credentials for the entry's
/// host (else for its name, when that names a host); an image no entry matches takes the configuration's
/// credentials for the image's registry host (Docker Hub for `busybox`,
/// `library/x`), as the docker CLI and docker-py do.
pub async fn registry_auth(
    env: &Environment,
    image: &str,
    config: Option<&DockerConfig>,
) -> Result<Option<RegistryAuth>, CredentialError> {
    let Some(reg) = env.registry_for_image(image) else {
        let host = image_registry_host(image);
        let Some(creds) = lookup(config, &[host]).await? else {
            return Ok(None);
        };
        return Ok(Some(auth(
            auth_key(host).to_owned(),
            creds,
            RetryPolicy::default(),
        )));
    };
    let host = if reg.netloc().is_empty() {
        reg.name.clone()
    } else {
        reg.netloc().to_owned()
    };
    let retry = RetryPolicy {
        attempts: reg.retry.attempts,
        when: reg.retry.when.clone(),
        ..RetryPolicy::default()
    };
    let creds = match &reg.username {
        Some(username) => Credentials {
            username: username.clone(),
            password: Secret::new(reg.password.clone().unwrap_or_default()),
            identity_token: None,
            email: reg.email.clone(),
        },
        None => {
            // A name like `reg` is no key any configuration would hold.
            let name =
                Some(reg.name.as_str()).filter(|n| image_registry_host(&format!("{n}/x")) == *n);
            let hosts: Vec<&str> = std::iter::once(host.as_str()).chain(name).collect();
            let Some(mut creds) = lookup(config, &hosts).await? else {
                return Ok(None);
            };
            if reg.email.is_some() {
                creds.email = reg.email.clone();
            }
            creds
        }
    };
    Ok(Some(auth(host, creds, retry)))
}

/// The first credentials found for one of `hosts` (each asked once).
async fn lookup(
    config: Option<&DockerConfig>,
    hosts: &[&str],
) -> Result<Option<Credentials>, CredentialError> {
    let Some(config) = config else {
        return Ok(None);
    };
    let mut asked: Vec<&str> = Vec::new();
    for &host in hosts {
        if asked.contains(&host) {
            continue;
        }
        asked.push(host);
        if let Some(creds) = config.credentials(host).await? {
            return Ok(Some(creds));
        }
    }
    Ok(None)
}

fn auth(server_address: String, creds: Credentials, retry: RetryPolicy) -> RegistryAuth {
    RegistryAuth {
        server_address,
        username: creds.username,
        password: creds.password,
        identity_token: creds.identity_token,
        email: creds.email,
        retry,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config;

    const PATH: &str = "/cfg/config.json";

    fn parse(text: &str) -> (DockerConfig, Vec<String>) {
        let (config, warnings) = DockerConfig::parse(text, Path::new(PATH), false);
        let warnings = warnings.iter().map(ToString::to_string).collect();
        (config.expect("a configuration"), warnings)
    }

    /// "bob:pw" in base64.
    const BOB: &str = "Ym9iOnB3";

    #[test]
    fn hub_names_share_the_index_key_and_images_name_their_registry_as_docker_does() {
        assert_eq!(auth_key("docker.io"), INDEX_SERVER);
        assert_eq!(auth_key("index.docker.io"), INDEX_SERVER);
        assert_eq!(auth_key("127.0.0.1:5000"), "127.0.0.1:5000");
        assert_eq!(image_registry_host("busybox"), "docker.io");
        assert_eq!(image_registry_host("library/busybox:1"), "docker.io");
        assert_eq!(image_registry_host("team/app"), "docker.io");
        assert_eq!(image_registry_host("127.0.0.1:5000/app"), "127.0.0.1:5000");
        assert_eq!(image_registry_host("quay.io/team/app:v1"), "quay.io");
        assert_eq!(image_registry_host("localhost/app"), "localhost");
        assert_eq!(image_registry_host("Registry/app"), "Registry");
        assert_eq!(image_registry_host("docker.io/library/x"), "docker.io");
    }

    #[test]
    fn auths_keys_reduce_to_host_and_port_like_convert_to_hostname() {
        for (key, host) in [
            ("https://index.docker.io/v1/", "index.docker.io"),
            ("http://127.0.0.1:5000", "127.0.0.1:5000"),
            ("http://127.0.0.1:5000/v2/", "127.0.0.1:5000"),
            ("https://user@reg.example:443/x", "reg.example:443"),
            ("127.0.0.1:5000/v1/", "127.0.0.1:5000"),
            ("reg.example", "reg.example"),
            ("http://[::1]:5000/", "[::1]:5000"),
            ("http://[::1]/", "::1"),
            ("http://::1:5000/", "[::1]:5000"),
            ("ftp://reg.example/x", "reg.example"),
            ("http://reg.example:port/", "reg.example:port"),
        ] {
            assert_eq!(key_hostname(key), host, "{key}");
        }
    }

    #[test]
    fn auth_decodes_strictly_enough_and_tolerates_padding_and_breaks() {
        let ok = |s: &str| decode_auth(s).unwrap();
        assert_eq!(ok(BOB), ("bob".into(), "pw".into()));
        // "a:b" with and without padding, broken over lines.
        assert_eq!(ok("YTpi"), ("a".into(), "b".into()));
        assert_eq!(ok("YTpiYw=="), ("a".into(), "bc".into()));
        assert_eq!(ok("YTpiYw"), ("a".into(), "bc".into()));
        assert_eq!(ok("YTpi\nYw==\n"), ("a".into(), "bc".into()));
        // The password keeps further colons and loses NULs around it: "u:p:q\0".
        assert_eq!(ok("dTpwOnEA"), ("u".into(), "p:q".into()));
        assert_eq!(decode_auth("*&^"), Err("is not base64"));
        // "nocolon", ":pw" (no user), invalid UTF-8.
        assert_eq!(
            decode_auth("bm9jb2xvbg=="),
            Err("is not base64 of user:password")
        );
        assert_eq!(decode_auth("OnB3"), Err("is not base64 of user:password"));
        assert_eq!(decode_auth("/w=="), Err("is not base64 of UTF-8 text"));
    }

    #[test]
    fn helpers_come_first_for_their_exact_key_then_the_store_then_auths() {
        let (cfg, warnings) = parse(&format!(
            r#"{{"auths": {{"127.0.0.1:5000": {{"auth": "{BOB}"}}, "https://index.docker.io/v1/": {{}}}},
                "credsStore": "desktop",
                "credHelpers": {{"gcr.io": "gcloud", "docker.io": "hubonly", "https://index.docker.io/v1/": "hub", "off.example": ""}}}}"#
        ));
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(
            cfg.helper_for("gcr.io"),
            Some(("gcloud", HelperSetting::CredHelpers))
        );
        // credHelpers keys are matched as written: Hub's is the index URL.
        assert_eq!(
            cfg.helper_for(INDEX_SERVER),
            Some(("hub", HelperSetting::CredHelpers))
        );
        assert_eq!(
            cfg.helper_for("eu.gcr.io"),
            Some(("desktop", HelperSetting::CredsStore))
        );
        assert_eq!(
            cfg.helper_for("https://gcr.io"),
            Some(("desktop", HelperSetting::CredsStore))
        );
        // An empty helper name is no helper.
        assert_eq!(
            cfg.helper_for("off.example"),
            Some(("desktop", HelperSetting::CredsStore))
        );
        let (cfg, _) = parse(&format!(
            r#"{{"auths": {{"127.0.0.1:5000": {{"auth": "{BOB}"}}}}}}"#
        ));
        assert_eq!(cfg.helper_for("127.0.0.1:5000"), None);
        let (cfg, _) = parse(r#"{"credsStore": ""}"#);
        assert_eq!(cfg.helper_for("127.0.0.1:5000"), None);
    }

    #[test]
    fn auths_entries_match_exactly_then_by_host_of_the_key() {
        let (cfg, warnings) = parse(
            r#"{"auths": {
                "https://index.docker.io/v1/": {"auth": "aHViOmh1YnB3"},
                "http://reg.example:5000/v2/": {"auth": "YTpi", "email": "a@example.com"},
                "https://reg.example:5000": {"auth": "Yjpj"},
                "reg.example": {"identitytoken": "tok"},
                "plain.example": {"username": "u", "password": "p"},
                "both.example": {"username": "u", "password": "p", "Auth": "YTpi"},
                "empty.example": {}
            }}"#,
        );
        assert!(warnings.is_empty(), "{warnings:?}");
        let user = |key: &str| cfg.auths_entry(key).map(|c| c.username.clone());
        assert_eq!(user(INDEX_SERVER).as_deref(), Some("hub"));
        assert_eq!(user("index.docker.io").as_deref(), Some("hub"));
        // Two keys name reg.example:5000: the first in key order answers.
        let c = cfg.auths_entry("reg.example:5000").unwrap();
        assert_eq!((c.username.as_str(), c.password.expose()), ("a", "b"));
        assert_eq!(c.email.as_deref(), Some("a@example.com"));
        // A port is part of the host.
        let c = cfg.auths_entry("reg.example").unwrap();
        assert_eq!(c.identity_token.as_ref().map(Secret::expose), Some("tok"));
        assert_eq!(c.username, "");
        assert_eq!(user("plain.example").as_deref(), Some("u"));
        // `auth` (any case, as Go matches fields) wins over username/password.
        assert_eq!(user("both.example").as_deref(), Some("a"));
        assert!(cfg.auths_entry("empty.example").unwrap().is_empty());
        assert!(cfg.auths_entry("other.example").is_none());

        // Hub under a name the docker CLI would not look at, but docker-py did.
        for key in ["docker.io", "index.docker.io", "https://docker.io/v2/"] {
            let (cfg, _) = parse(&format!(r#"{{"auths": {{"{key}": {{"auth": "YTpi"}}}}}}"#));
            assert_eq!(
                cfg.auths_entry(INDEX_SERVER).unwrap().username,
                "a",
                "{key}"
            );
        }
        let (cfg, _) = parse(
            r#"{"auths": {"docker.io": {"auth": "YTpi"}, "https://index.docker.io/v1/": {"auth": "Yjpj"}}}"#,
        );
        assert_eq!(cfg.auths_entry(INDEX_SERVER).unwrap().username, "b");
    }

    #[test]
    fn unusable_settings_are_named_without_their_values_and_the_rest_is_kept() {
        let (cfg, warnings) = parse(
            r#"{"auths": {"bad.example": {"auth": "c2VjcmV0LXdpdGhvdXQtY29sb24="},
                          "num.example": {"auth": 123},
                          "list.example": [],
                          "ok.example": {"auth": "YTpi"}},
                "credHelpers": {"h.example": 5, "g.example": "gcloud"}}"#,
        );
        let all = warnings.join("\n");
        assert_eq!(warnings.len(), 4, "{all}");
        assert!(
            all.contains(&format!(
                "{PATH}: auths[\"bad.example\"].auth is not base64 of user:password; ignored"
            )),
            "{all}"
        );
        assert!(
            all.contains("auths[\"num.example\"].auth is not a string"),
            "{all}"
        );
        assert!(
            all.contains("auths[\"list.example\"] is not an object"),
            "{all}"
        );
        assert!(
            all.contains("credHelpers[\"h.example\"] is not a string"),
            "{all}"
        );
        assert!(!all.contains("c2VjcmV0") && !all.contains("123"), "{all}");
        assert!(cfg.auths_entry("ok.example").is_some());
        assert!(cfg.auths_entry("bad.example").is_none());
        assert_eq!(
            cfg.helper_for("g.example"),
            Some(("gcloud", HelperSetting::CredHelpers))
        );

        let (_, warnings) = parse(r#"{"auths": "x", "credsStore": ["pass"], "credHelpers": 1}"#);
        assert_eq!(warnings.len(), 3, "{warnings:?}");

        for text in ["{\"auths\": {\"a\": {\"auth\": \"s3cret\"", "[1]", ""] {
            let (config, warnings) = DockerConfig::parse(text, Path::new(PATH), false);
            assert!(config.is_none());
            let shown = warnings[0].to_string();
            assert!(
                shown.starts_with(&format!(
                    "Docker client configuration {PATH}: not a JSON object"
                )),
                "{shown}"
            );
            assert!(!shown.contains("s3cret"), "{shown}");
        }
    }

    #[test]
    fn a_legacy_dockercfg_is_the_auths_map_itself() {
        let (cfg, warnings) = DockerConfig::parse(
            r#"{"https://index.docker.io/v1/": {"auth": "YTpi", "email": "e@x"}, "bad": {"auth": "%"}}"#,
            Path::new("/home/u/.dockercfg"),
            true,
        );
        let cfg = cfg.unwrap();
        assert_eq!(cfg.auths_entry(INDEX_SERVER).unwrap().username, "a");
        assert_eq!(
            warnings[0].to_string(),
            "Docker client configuration /home/u/.dockercfg: [\"bad\"].auth is not base64; ignored"
        );
    }

    #[test]
    fn helper_answers_follow_the_protocol() {
        let creds = parse_answer(br#"{"ServerURL":"r","Username":"u","Secret":"s"}"#)
            .unwrap()
            .unwrap();
        assert_eq!(
            (creds.username.as_str(), creds.password.expose()),
            ("u", "s")
        );
        assert_eq!(creds.identity_token, None);
        let creds = parse_answer(b"{\"Username\":\"<token>\",\"Secret\":\"refresh\"}\n")
            .unwrap()
            .unwrap();
        assert_eq!(creds.username, "");
        assert_eq!(
            creds.identity_token.as_ref().map(Secret::expose),
            Some("refresh")
        );
        // Field names in any case; what follows the first value is ignored (as by Go).
        let creds = parse_answer(b"{\"username\":\"u\",\"secret\":\"s\"} trailing")
            .unwrap()
            .unwrap();
        assert_eq!(creds.username, "u");
        // docker-credential-pass's answer for a server it does not know.
        assert_eq!(
            parse_answer(br#"{"ServerURL":"r","Username":"","Secret":""}"#),
            Ok(None)
        );
        assert_eq!(parse_answer(b"{}"), Ok(None));
        // Wrong answers are described without their content.
        assert_eq!(parse_answer(b" \n"), Err("empty output".into()));
        assert_eq!(
            parse_answer(b"[\"s3cret\"]"),
            Err("not a JSON object".into())
        );
        assert_eq!(
            parse_answer(br#"{"Username":"u","Secret":12345}"#),
            Err("\"Secret\" is not a string".into())
        );
        let err = parse_answer(b"{\"Username\":\"u\",\"Secret\":\"s3cret").unwrap_err();
        assert!(
            err.starts_with("not JSON (") && !err.contains("s3cret"),
            "{err}"
        );
        let err = parse_answer(b"s3cret").unwrap_err();
        assert!(
            err.starts_with("not JSON (") && !err.contains("s3cret"),
            "{err}"
        );
    }

    /// A scratch directory with executable helper scripts.
    struct Helpers(PathBuf);

    impl Helpers {
        fn new(tag: &str) -> Helpers {
            let dir =
                std::env::temp_dir().join(format!("maestro-creds-{}-{tag}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            Helpers(dir)
        }

        fn add(&self, name: &str, script: &str) {
            use std::os::unix::fs::PermissionsExt;
            let file = self.0.join(format!("{HELPER_PREFIX}{name}"));
            std::fs::write(&file, format!("#!/bin/sh\n{script}\n")).unwrap();
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o755)).unwrap();
        }

        fn config(&self, text: &str) -> DockerConfig {
            let (cfg, _) = parse(text);
            DockerConfig {
                helper_dir: Some(self.0.clone()),
                ..cfg
            }
        }
    }

    impl Drop for Helpers {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[tokio::test]
    async fn helpers_answer_once_per_key_and_their_failures_never_show_their_output() {
        let h = Helpers::new("run");
        let count = h.0.join("count");
        // Echoes the server it was asked for as the user, counts its runs.
        h.add(
            "good",
            &format!(
                "read -r server; echo run >>{}; printf '{{\"ServerURL\":\"%s\",\"Username\":\"%s\",\"Secret\":\"pw\"}}' \"$server\" \"$server\"",
                count.display()
            ),
        );
        h.add("token", r#"echo '{"Username":"<token>","Secret":"tok"}'"#);
        h.add(
            "none",
            "echo 'credentials not found in native keychain'; exit 1",
        );
        h.add(
            "leaky",
            "echo 'Hunter2-secret'; echo 'Hunter2-secret' >&2; exit 3",
        );
        h.add(
            "badjson",
            r#"echo '{"Username":"u","Secret":"Hunter2-secret"'"#,
        );
        h.add("numeric", r#"echo '{"Username":"u","Secret":424242}'"#);
        h.add("nourl", "echo 'no credentials server URL'; exit 1");
        h.add("killed", "kill -9 $$");
        let cfg = h.config(&format!(
            r#"{{"credsStore": "good",
                "auths": {{"127.0.0.1:5000": {{"auth": "{BOB}", "email": "e@x"}}, "t.example": {{"auth": "{BOB}"}}}},
                "credHelpers": {{"t.example": "token", "n.example": "none", "l.example": "leaky",
                                "b.example": "badjson", "num.example": "numeric", "u.example": "nourl",
                                "k.example": "killed", "m.example": "missing"}}}}"#
        ));

        // credsStore answers, not the auths entry; the e-mail still comes from the file.
        let (a, b) = tokio::join!(
            cfg.credentials("127.0.0.1:5000"),
            cfg.credentials("127.0.0.1:5000")
        );
        let a = a.unwrap().unwrap();
        assert_eq!(a, b.unwrap().unwrap());
        assert_eq!(
            (a.username.as_str(), a.password.expose()),
            ("127.0.0.1:5000", "pw")
        );
        assert_eq!(a.email.as_deref(), Some("e@x"));
        // Docker Hub is asked for by its index URL.
        let hub = cfg.credentials("docker.io").await.unwrap().unwrap();
        assert_eq!(hub.username, INDEX_SERVER);
        cfg.credentials("index.docker.io").await.unwrap();
        let runs = std::fs::read_to_string(&count).unwrap();
        assert_eq!(runs.lines().count(), 2, "one run per key: {runs}");

        let tok = cfg.credentials("t.example").await.unwrap().unwrap();
        assert_eq!(tok.identity_token.as_ref().map(Secret::expose), Some("tok"));
        assert_eq!(tok.username, "");
        // Not found: no credentials, and no fallback to the auths entry.
        assert_eq!(cfg.credentials("n.example").await, Ok(None));

        let err = |host: &'static str| {
            let cfg = &cfg;
            async move { cfg.credentials(host).await.unwrap_err().to_string() }
        };
        let leaky = err("l.example").await;
        assert_eq!(
            leaky,
            "credentials for l.example: the credential helper docker-credential-leaky \
             (credHelpers[\"l.example\"] in /cfg/config.json) failed (exit status 3); its output is \
             not shown, as it may hold a secret: `echo l.example | docker-credential-leaky get` shows it"
        );
        let bad = err("b.example").await;
        assert!(bad.starts_with("credentials for b.example: the credential helper docker-credential-badjson (credHelpers[\"b.example\"] in /cfg/config.json) printed no credentials: not JSON ("), "{bad}");
        assert!(!bad.contains("Hunter2"), "{bad}");
        let num = err("num.example").await;
        assert!(
            num.contains("printed no credentials: \"Secret\" is not a string"),
            "{num}"
        );
        assert!(!num.contains("424242"), "{num}");
        let nourl = err("u.example").await;
        assert!(
            nourl.ends_with("failed (exit status 1): no credentials server URL"),
            "{nourl}"
        );
        let killed = err("k.example").await;
        assert!(killed.contains("failed (killed by signal 9)"), "{killed}");
        assert_eq!(
            err("m.example").await,
            "credentials for m.example: the credential helper docker-credential-missing \
             (credHelpers[\"m.example\"] in /cfg/config.json) is not installed: no \
             docker-credential-missing on PATH"
        );
        // A failure is remembered too: the helper is not run again.
        assert_eq!(err("l.example").await, leaky);
    }

    fn load(yaml: &str) -> Environment {
        config::load_for_tests(yaml)
    }

    const REGISTRIES: &str = r#"
name: t
registries:
  reg:
    registry: http://127.0.0.1:5000/
    username: alice
    password: s3cret
    email: a@example.com
    retry: {attempts: 2, when: [500]}
  anon:
    registry: https://quay.example/v1/
  named.example:
    registry: named.example
ships: {s1: {ip: 10.0.0.1}}
services:
  web:
    image: reg/web:1.0
    instances: {web-1: {ship: s1}}
"#;

    #[tokio::test]
    async fn maestro_yaml_credentials_win_and_the_docker_config_fills_in() {
        let env = load(REGISTRIES);
        // A store that would fail if asked: the registries entry with a username is
        // never checked against the configuration.
        let broken = parse(r#"{"credsStore": "maestro-test-no-such-helper"}"#).0;
        for image in ["reg/web:1.0", "127.0.0.1:5000/web", "127.0.0.1/web"] {
            let auth = registry_auth(&env, image, Some(&broken))
                .await
                .unwrap()
                .unwrap();
            assert_eq!(auth.server_address, "127.0.0.1:5000");
            assert_eq!(
                (auth.username.as_str(), auth.password.expose()),
                ("alice", "s3cret")
            );
            assert_eq!(auth.email.as_deref(), Some("a@example.com"));
            assert_eq!(
                (auth.retry.attempts, auth.retry.when.clone()),
                (2, vec![500])
            );
        }
        // No username: the configuration's, by the entry's host, keys written as URLs.
        let cfg = parse(&format!(
            r#"{{"auths": {{"https://quay.example/v1/": {{"auth": "{BOB}"}}, "named.example": {{"identitytoken": "tok"}}}}}}"#
        ))
        .0;
        assert_eq!(registry_auth(&env, "anon/x", None).await, Ok(None));
        let auth = registry_auth(&env, "anon/x", Some(&cfg))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (auth.username.as_str(), auth.password.expose()),
            ("bob", "pw")
        );
        assert_eq!(auth.server_address, "quay.example");
        // An entry whose registry is no URL is looked up by its name.
        let auth = registry_auth(&env, "named.example/x", Some(&cfg))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            auth.identity_token.as_ref().map(Secret::expose),
            Some("tok")
        );
        // The store is asked when the entry has no username: its failure is the pull's.
        let err = registry_auth(&env, "anon/x", Some(&broken))
            .await
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("docker-credential-maestro-test-no-such-helper"),
            "{err}"
        );

        // No entry: the configuration for the image's registry, Docker Hub included.
        let cfg = parse(&format!(
            r#"{{"auths": {{"10.9.9.9:5000": {{"auth": "{BOB}"}}, "https://index.docker.io/v1/": {{"auth": "YTpi"}}}}}}"#
        ))
        .0;
        let auth = registry_auth(&env, "10.9.9.9:5000/x", Some(&cfg))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(auth.server_address, "10.9.9.9:5000");
        assert_eq!(auth.retry, RetryPolicy::default());
        for image in ["busybox", "library/x", "docker.io/library/x:1"] {
            let auth = registry_auth(&env, image, Some(&cfg))
                .await
                .unwrap()
                .unwrap();
            assert_eq!(
                (auth.server_address.as_str(), auth.username.as_str()),
                (INDEX_SERVER, "a")
            );
        }
        assert_eq!(
            registry_auth(&env, "10.9.9.8:5000/x", Some(&cfg)).await,
            Ok(None)
        );
        assert_eq!(registry_auth(&env, "busybox", None).await, Ok(None));

        // A store with nothing is asked for the entry's host, then for its name only
        // when that names a host.
        let h = Helpers::new("asked");
        let asked = h.0.join("asked");
        h.add(
            "none",
            &format!(
                "read -r server; echo \"$server\" >>{}; echo 'credentials not found in native keychain'; exit 1",
                asked.display()
            ),
        );
        let cfg = h.config(r#"{"credsStore": "none"}"#);
        let env = load(&REGISTRIES.replace(
            "  named.example:\n    registry: named.example\n",
            "  named.example:\n    registry: https://named-host.example/\n",
        ));
        assert_eq!(registry_auth(&env, "anon/x", Some(&cfg)).await, Ok(None));
        assert_eq!(
            registry_auth(&env, "named.example/x", Some(&cfg)).await,
            Ok(None)
        );
        let asked = std::fs::read_to_string(&asked).unwrap();
        assert_eq!(asked, "quay.example\nnamed-host.example\nnamed.example\n");
    }
}
