//! Lifecycle checks (`pre-start`, `running`, `pre-stop`, `stopped`; host/COMPAT.md § Services and instances).
//! A `health` check (maestro's own) does not poll: it waits on the daemon's events.
//!
//! Each check polls until it passes or its deadline passes, and fails with the reason
//! of its last attempt. Deadlines are MaestroNG's (`tcp` `max_wait` seconds, `http`
//! `max_wait` seconds, `exec`/`rexec` `attempts` tries one second apart), but the polls
//! are much closer: the pause after an attempt is an eighth of the time waited so far,
//! 10 ms at least and 250 ms at most, so a service is seen ready at most ~12% (and
//! 250 ms) after it is: one ready in 100 ms is not held for a second, nor one ready in
//! 1.1 s until 1.55 s. All checks of a state run at the same time and all must pass.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use tokio::io::AsyncWriteExt;

use crate::config::model::{
    Check, EnvVar, ExecEnvFrom, HttpOptions, HttpPort, Instance, MatchRegex,
};
use crate::docker::Ship;
use crate::shlex;

mod http;

pub use http::{MAX_REDIRECTS, TlsConfigs};

/// Shortest pause between two attempts of a check.
const MIN_POLL: Duration = Duration::from_millis(10);
/// Longest pause between two attempts (MaestroNG pauses 1 s): a service is held at
/// most this long after it is ready.
const MAX_POLL: Duration = Duration::from_millis(250);

/// The pause before the next attempt of a check that has been failing for `waited`:
/// an eighth of it, within [`MIN_POLL`, `MAX_POLL`].
fn next_pause(waited: Duration) -> Duration {
    (waited / 8).clamp(MIN_POLL, MAX_POLL)
}
/// How long one TCP connection attempt may take (MaestroNG: 1 s).
const TCP_CONNECT: Duration = Duration::from_secs(1);

/// What a check is run against.
#[derive(Clone, Copy)]
pub struct Target<'a> {
    /// The container.
    pub instance: &'a Instance,
    /// Its environment (for `exec` checks).
    pub env: &'a [EnvVar],
    /// Its ship's `ip` (the address checks connect to).
    pub ship_ip: &'a str,
    /// Its connected daemon (for `rexec`); `None` when not connected.
    pub ship: Option<&'a Ship>,
    /// The play's TLS client configurations (for `https` checks).
    pub tls: &'a TlsConfigs,
}

/// A short name for a check, e.g. `tcp port client`, for progress and messages.
pub fn describe(check: &Check) -> String {
    match check {
        Check::Tcp { port, .. } => format!("tcp port {port}"),
        Check::Http { port, path, .. } => match port {
            HttpPort::Named(p) => format!("http port {p} {path}"),
            HttpPort::Number(n) => format!("http port {n} {path}"),
        },
        Check::Exec { command, .. } => format!("exec {command:?}"),
        Check::Rexec { command, .. } => format!("rexec {command:?}"),
        Check::Sleep { wait } => format!("sleep {wait}s"),
        Check::Health { .. } => "health".to_owned(),
    }
}

/// A check that did not pass: which, and the last reason it gave.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{check}: {reason}")]
pub struct CheckFailed {
    /// The check, described as progress shows it (`tcp port client`).
    pub check: String,
    /// Why its last attempt failed.
    pub reason: String,
}

/// The checks of one state that did not pass (at least one), shown joined
/// with `; `.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
pub struct ChecksFailed(pub Vec<CheckFailed>);

/// Runs every check at once; `Ok` when all pass, else those that failed.
pub async fn run_all(checks: &[Check], target: Target<'_>) -> Result<(), ChecksFailed> {
    let results = futures_util::future::join_all(checks.iter().map(|c| run(c, target))).await;
    let failures: Vec<CheckFailed> = results.into_iter().filter_map(Result::err).collect();
    if failures.is_empty() {
        Ok(())
    } else {
        Err(ChecksFailed(failures))
    }
}

/// Runs one check until it passes or its deadline passes.
pub async fn run(check: &Check, target: Target<'_>) -> Result<(), CheckFailed> {
    let what = describe(check);
    let result = match check {
        Check::Tcp { port, max_wait } => tcp(target, port, *max_wait).await,
        Check::Http {
            port,
            host,
            match_regex,
            path,
            scheme,
            method,
            max_wait,
            requests_options,
        } => {
            http(
                target,
                port,
                host.as_deref(),
                match_regex.as_ref(),
                path,
                scheme,
                method,
                *max_wait,
                requests_options,
            )
            .await
        }
        Check::Exec {
            command,
            attempts,
            envfrom,
        } => exec(target, command, *attempts, *envfrom).await,
        Check::Rexec { command, attempts } => rexec(target, command, *attempts).await,
        Check::Sleep { wait } => {
            let secs = if wait.is_finite() && *wait > 0.0 {
                *wait
            } else {
                0.0
            };
            tokio::time::sleep(Duration::from_secs_f64(secs.min(1e9))).await;
            Ok(())
        }
        Check::Health { max_wait } => health(target, *max_wait).await,
    };
    result.map_err(|reason| CheckFailed {
        check: what,
        reason,
    })
}

/// Retries `attempt` until it succeeds or `window` has passed since the first try
/// (one try at least), pausing [`next_pause`] in between. The error is the last
/// attempt's.
async fn poll<F, Fut>(window: Duration, mut attempt: F) -> Result<(), String>
where
    F: FnMut(Duration) -> Fut,
    Fut: std::future::Future<Output = Result<(), String>>,
{
    let started = Instant::now();
    let deadline = started + window;
    loop {
        let remaining = deadline.saturating_duration_since(Instant::now());
        let err = match attempt(remaining).await {
            Ok(()) => return Ok(()),
            Err(e) => e,
        };
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Err(err);
        }
        tokio::time::sleep(next_pause(started.elapsed()).min(remaining)).await;
    }
}

async fn tcp(target: Target<'_>, port_name: &str, max_wait: u64) -> Result<(), String> {
    let port = target.instance.port(port_name).ok_or_else(|| {
        format!(
            "port {port_name} is not defined by {}",
            target.instance.name
        )
    })?;
    let number = u16::try_from(port.external.start)
        .map_err(|_| format!("port {} is out of range", port.external.start))?;
    let host = target.ship_ip.to_owned();
    // MaestroNG: `attempts = max_wait or 180`.
    let max_wait = if max_wait == 0 { 180 } else { max_wait };
    let window = Duration::from_secs(max_wait);
    poll(window, |remaining| {
        let host = host.clone();
        async move {
            let limit = TCP_CONNECT.min(remaining.max(Duration::from_millis(200)));
            match tokio::time::timeout(
                limit,
                tokio::net::TcpStream::connect((host.as_str(), number)),
            )
            .await
            {
                Ok(Ok(_)) => Ok(()),
                Ok(Err(e)) => Err(e.to_string()),
                Err(_) => Err(format!("no answer within {}ms", limit.as_millis())),
            }
        }
    })
    .await
    .map_err(|e| format!("no connection to {host}:{number} within {max_wait}s (last: {e})"))
}

/// The check's URL (`scheme://host:port/path`, the host by default the ship's `ip`).
fn http_url(
    target: Target<'_>,
    port: &HttpPort,
    host: Option<&str>,
    scheme: &str,
    path: &str,
) -> Result<String, String> {
    let port = match port {
        HttpPort::Number(n) => *n,
        HttpPort::Named(name) => {
            target
                .instance
                .port(name)
                .ok_or_else(|| format!("port {name} is not defined by {}", target.instance.name))?
                .external
                .start
        }
    };
    let host = host.unwrap_or(target.ship_ip);
    let authority = if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    Ok(format!(
        "{}://{authority}{path}",
        scheme.to_ascii_lowercase()
    ))
}

#[allow(clippy::too_many_arguments)]
async fn http(
    target: Target<'_>,
    port: &HttpPort,
    host: Option<&str>,
    match_regex: Option<&MatchRegex>,
    path: &str,
    scheme: &str,
    method: &str,
    max_wait: u64,
    options: &HttpOptions,
) -> Result<(), String> {
    let url = http_url(target, port, host, scheme, path)?;
    // The messages name the URL without `params` (they may hold a key).
    let full = match &options.params {
        Some(params) => http::with_query(&url, &params.encode()),
        None => url.clone(),
    };
    let uri: hyper::Uri = full
        .parse()
        .map_err(|e| format!("invalid URL {url} (with its params): {e}"))?;
    if !matches!(uri.scheme_str(), Some("http" | "https")) {
        return Err(format!(
            "invalid URL {url}: the scheme must be http or https"
        ));
    }
    let method = hyper::Method::from_bytes(method.to_ascii_uppercase().as_bytes())
        .map_err(|_| format!("invalid HTTP method {method:?}"))?;
    let clients = http::Clients::new(target.tls, options);
    if uri.scheme_str() == Some("https") {
        clients.prepare_https().map_err(|e| e.to_string())?;
    }
    let request = http::Request {
        url: uri,
        method,
        regex: match_regex,
        options,
    };
    poll(Duration::from_secs(max_wait), |remaining| {
        let (clients, request) = (&clients, &request);
        async move { http::attempt(clients, request, remaining).await }
    })
    .await
    .map_err(|e| format!("{url} did not succeed within {max_wait}s (last: {e})"))
}

fn chain(err: &dyn std::error::Error) -> String {
    let mut parts = vec![err.to_string()];
    let mut cur = err.source();
    while let Some(e) = cur {
        let s = e.to_string();
        if !parts.iter().any(|p| p.contains(&s)) {
            parts.push(s);
        }
        cur = e.source();
    }
    parts.join(": ")
}

/// The window of `attempts` tries one second apart.
fn attempts_window(attempts: u64) -> Duration {
    Duration::from_secs(attempts.saturating_sub(1))
}

/// The container's environment as plain strings (a variable without value is empty).
fn container_env(env: &[EnvVar]) -> BTreeMap<String, String> {
    env.iter()
        .map(|v| (v.name.clone(), v.value.clone().unwrap_or_default()))
        .collect()
}

fn last_line(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim()
        .to_owned()
}

async fn exec(
    target: Target<'_>,
    command: &str,
    attempts: u64,
    envfrom: ExecEnvFrom,
) -> Result<(), String> {
    let argv = shlex::split(command).map_err(|e| format!("cannot split the command: {e}"))?;
    let Some((program, args)) = argv.split_first() else {
        return Err("empty command".into());
    };
    let env = container_env(target.env);
    let stdin_json = match envfrom {
        ExecEnvFrom::Env => None,
        ExecEnvFrom::Stdin => {
            let mut all: BTreeMap<String, String> = std::env::vars().collect();
            all.extend(env.clone());
            Some(serde_json::to_vec(&all).map_err(|e| e.to_string())?)
        }
    };
    poll(attempts_window(attempts), |_| {
        let mut cmd = tokio::process::Command::new(program);
        cmd.args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true);
        match &stdin_json {
            None => {
                cmd.envs(&env).stdin(std::process::Stdio::null());
            }
            Some(_) => {
                cmd.stdin(std::process::Stdio::piped());
            }
        }
        let input = stdin_json.clone();
        async move {
            let mut child = cmd
                .spawn()
                .map_err(|e| format!("cannot run {program}: {e}"))?;
            if let (Some(input), Some(mut stdin)) = (input, child.stdin.take()) {
                // A command that does not read its input is not an error.
                let _ = stdin.write_all(&input).await;
                drop(stdin);
            }
            let out = child.wait_with_output().await.map_err(|e| e.to_string())?;
            if out.status.success() {
                return Ok(());
            }
            let line = last_line(&out.stderr);
            let line = if line.is_empty() {
                last_line(&out.stdout)
            } else {
                line
            };
            Err(match (out.status.code(), line.is_empty()) {
                (Some(c), true) => format!("exit status {c}"),
                (Some(c), false) => format!("exit status {c}: {line}"),
                (None, _) => format!("ended by {}", out.status),
            })
        }
    })
    .await
    .map_err(|e| format!("failed {attempts} time(s); last: {e}"))
}

async fn rexec(target: Target<'_>, command: &str, attempts: u64) -> Result<(), String> {
    let argv = shlex::split(command).map_err(|e| format!("cannot split the command: {e}"))?;
    if argv.is_empty() {
        return Err("empty command".into());
    }
    let ship = target
        .ship
        .ok_or_else(|| "the container's ship is not connected".to_owned())?;
    let name = &target.instance.name;
    poll(attempts_window(attempts), |_| {
        let argv = argv.clone();
        async move {
            let outcome = ship.exec(name, &argv).await.map_err(|e| e.to_string())?;
            if outcome.exit_code == 0 {
                return Ok(());
            }
            let line = outcome
                .output
                .iter()
                .rev()
                .find(|l| !l.text.trim().is_empty())
                .map(|l| l.text.trim().to_owned());
            Err(match line {
                Some(l) => format!("exit status {}: {l}", outcome.exit_code),
                None => format!("exit status {}", outcome.exit_code),
            })
        }
    })
    .await
    .map_err(|e| format!("failed {attempts} time(s); last: {e}"))
}

/// Waits for the engine's health check to call the container healthy (events from
/// the daemon, no polling); unhealthy fails at once with the last probe's output.
async fn health(target: Target<'_>, max_wait: u64) -> Result<(), String> {
    let ship = target
        .ship
        .ok_or_else(|| "the container's ship is not connected".to_owned())?;
    ship.wait_healthy(&target.instance.name, Duration::from_secs(max_wait))
        .await
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::model::{Port, PortRange, Protocol};

    fn instance(ports: &[(&str, u32)]) -> Instance {
        Instance {
            name: "c1".into(),
            service: "s".into(),
            ship: "ship".into(),
            image: "img".into(),
            command: None,
            ports: ports
                .iter()
                .map(|(n, p)| Port {
                    name: (*n).into(),
                    exposed: PortRange {
                        start: *p,
                        end: None,
                    },
                    external: PortRange {
                        start: *p,
                        end: None,
                    },
                    protocol: Protocol::Tcp,
                    host_ip: "0.0.0.0".into(),
                })
                .collect(),
            own_env: Default::default(),
            env: std::sync::OnceLock::from(vec![EnvVar {
                name: "CHECK_VAR".into(),
                value: Some("from-container".into()),
            }]),
            volumes: vec![],
            container_volumes: vec![],
            volumes_from: vec![],
            links: vec![],
            username: None,
            privileged: false,
            cap_add: vec![],
            cap_drop: vec![],
            extra_hosts: vec![],
            net: None,
            networks: Vec::new(),
            restart: Default::default(),
            dns: None,
            stop_timeout: 10,
            limits: Default::default(),
            log: None,
            lxc_conf: vec![],
            workdir: None,
            security_opt: None,
            ulimits: vec![],
            labels: vec![],
            lifecycle: Default::default(),
            healthcheck: None,
            run: Default::default(),
        }
    }

    fn target(inst: &Instance) -> Target<'_> {
        static TLS: std::sync::LazyLock<TlsConfigs> = std::sync::LazyLock::new(TlsConfigs::new);
        Target {
            instance: inst,
            env: inst.env.get().map_or(&[], Vec::as_slice),
            ship_ip: "127.0.0.1",
            ship: None,
            tls: &TLS,
        }
    }

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    /// Serves `response` to every connection on a local port, after `delay`.
    async fn serve(response: &'static str, delay: Duration) -> u16 {
        tokio::time::sleep(Duration::ZERO).await;
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = std_listener.local_addr().unwrap().port();
        drop(std_listener);
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
                .await
                .unwrap();
            loop {
                let Ok((mut s, _)) = listener.accept().await else {
                    return;
                };
                tokio::spawn(async move {
                    use tokio::io::AsyncReadExt;
                    let mut buf = [0u8; 1024];
                    let _ = s.read(&mut buf).await;
                    let _ = s.write_all(response.as_bytes()).await;
                });
            }
        });
        port
    }

    #[test]
    fn tcp_passes_soon_after_the_port_opens() {
        rt().block_on(async {
            let port = serve("", Duration::from_millis(100)).await;
            let inst = instance(&[("p", u32::from(port))]);
            let t0 = Instant::now();
            run(
                &Check::Tcp {
                    port: "p".into(),
                    max_wait: 5,
                },
                target(&inst),
            )
            .await
            .unwrap();
            assert!(
                t0.elapsed() < Duration::from_millis(600),
                "{:?}",
                t0.elapsed()
            );
        });
    }

    #[test]
    fn tcp_fails_after_max_wait_with_its_reason() {
        rt().block_on(async {
            let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let port = free.local_addr().unwrap().port();
            drop(free);
            let inst = instance(&[("p", u32::from(port))]);
            let t0 = Instant::now();
            let err = run(
                &Check::Tcp {
                    port: "p".into(),
                    max_wait: 1,
                },
                target(&inst),
            )
            .await
            .unwrap_err()
            .to_string();
            let took = t0.elapsed();
            assert!(
                took >= Duration::from_secs(1) && took < Duration::from_secs(3),
                "{took:?}"
            );
            assert!(
                err.starts_with(&format!(
                    "tcp port p: no connection to 127.0.0.1:{port} within 1s"
                )),
                "{err}"
            );
        });
    }

    fn http_check(port: u32, regex: Option<&str>, max_wait: u64) -> Check {
        Check::Http {
            port: HttpPort::Number(port),
            host: None,
            match_regex: regex.map(|r| MatchRegex::new(r).unwrap()),
            path: "/health".into(),
            scheme: "http".into(),
            method: "get".into(),
            max_wait,
            requests_options: Box::new(HttpOptions {
                timeout: Some(crate::config::model::HttpTimeout {
                    connect: Some(2.0),
                    read: Some(2.0),
                }),
                ..HttpOptions::default()
            }),
        }
    }

    /// Answers every request with what `reply` makes of its head (lower-cased).
    async fn serve_with(reply: fn(&str) -> Vec<u8>) -> u16 {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = listener.accept().await {
                tokio::spawn(async move {
                    use tokio::io::AsyncReadExt;
                    let mut buf = vec![0u8; 4096];
                    let n = s.read(&mut buf).await.unwrap_or(0);
                    let head = String::from_utf8_lossy(&buf[..n]).to_ascii_lowercase();
                    let _ = s.write_all(&reply(&head)).await;
                });
            }
        });
        port
    }

    /// A whole response: status line, extra header lines, body.
    fn response(status: &str, headers: &str, body: &str) -> Vec<u8> {
        format!(
            "HTTP/1.1 {status}\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .into_bytes()
    }

    #[test]
    fn credentials_stay_with_their_origin_across_redirects() {
        static OTHER: std::sync::atomic::AtomicU16 = std::sync::atomic::AtomicU16::new(0);
        rt().block_on(async {
            // The other port tells whether credentials came along.
            let other = serve_with(|head| {
                let sent = head.contains("authorization:");
                response(
                    "200 OK",
                    "",
                    if sent { "auth: sent" } else { "auth: not sent" },
                )
            })
            .await;
            OTHER.store(other, std::sync::atomic::Ordering::SeqCst);
            // The origin wants `u:p`, sends a relative 307 on itself first, then a 302
            // to the other port.
            let origin = serve_with(|head| {
                let other = OTHER.load(std::sync::atomic::Ordering::SeqCst);
                if !head.contains("authorization: basic dtpw") {
                    response("401 Unauthorized", "", "")
                } else if head.starts_with("get /health ") {
                    response("307 Temporary Redirect", "Location: ../b/hop\r\n", "")
                } else if head.starts_with("get /b/hop ") {
                    let to = format!("Location: http://127.0.0.1:{other}/x\r\n");
                    response("302 Found", &to, "")
                } else {
                    response("404 Not Found", "", "")
                }
            })
            .await;
            let inst = instance(&[]);
            let mut check = http_check(u32::from(origin), Some("auth: not sent"), 2);
            if let Check::Http {
                requests_options, ..
            } = &mut check
            {
                requests_options.auth = Some(crate::config::model::BasicAuth {
                    username: "u".into(),
                    password: crate::spec::Secret::new("p"),
                });
            }
            run(&check, target(&inst)).await.unwrap();
            // Without credentials the origin refuses.
            let err = run(&http_check(u32::from(origin), None, 1), target(&inst))
                .await
                .unwrap_err()
                .to_string();
            assert!(err.contains("status 401 Unauthorized"), "{err}");
        });
    }

    #[test]
    fn a_dribbling_body_does_not_hold_the_check_past_its_window() {
        rt().block_on(async {
            let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
                .await
                .unwrap();
            let port = listener.local_addr().unwrap().port();
            tokio::spawn(async move {
                while let Ok((mut s, _)) = listener.accept().await {
                    tokio::spawn(async move {
                        use tokio::io::AsyncReadExt;
                        let mut buf = [0u8; 1024];
                        let _ = s.read(&mut buf).await;
                        let _ = s
                            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
                            .await;
                        while s.write_all(b"x").await.is_ok() {
                            tokio::time::sleep(Duration::from_millis(50)).await;
                        }
                    });
                }
            });
            let inst = instance(&[]);
            let t0 = Instant::now();
            let mut check = http_check(u32::from(port), Some("never"), 1);
            if let Check::Http {
                requests_options, ..
            } = &mut check
            {
                requests_options.timeout = None;
            }
            let err = run(&check, target(&inst)).await.unwrap_err().to_string();
            let took = t0.elapsed();
            // No `timeout`: the window (1 s) bounds the attempt.
            assert!(took < Duration::from_secs(3), "{took:?}");
            assert!(err.contains("no answer within"), "{err}");
        });
    }

    #[test]
    fn http_checks_status_or_regex() {
        rt().block_on(async {
            let ok = serve(
                "HTTP/1.1 200 OK\r\nContent-Length: 11\r\nConnection: close\r\n\r\nall\nis well",
                Duration::ZERO,
            )
            .await;
            let inst = instance(&[]);
            run(&http_check(u32::from(ok), None, 2), target(&inst))
                .await
                .unwrap();
            run(&http_check(u32::from(ok), Some("all.is"), 2), target(&inst))
                .await
                .unwrap();
            let err = run(&http_check(u32::from(ok), Some("^nope"), 1), target(&inst))
                .await
                .unwrap_err()
                .to_string();
            assert!(err.contains("body does not match"), "{err}");
            let bad = serve(
                "HTTP/1.1 503 Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                Duration::ZERO,
            )
            .await;
            let err = run(&http_check(u32::from(bad), None, 1), target(&inst))
                .await
                .unwrap_err()
                .to_string();
            assert!(err.contains("status 503"), "{err}");
            assert!(err.starts_with("http port"), "{err}");
        });
    }

    #[test]
    fn exec_sees_the_container_env_and_counts_attempts() {
        rt().block_on(async {
            let inst = instance(&[]);
            let ok = Check::Exec {
                command: r#"sh -c 'test "$CHECK_VAR" = from-container'"#.into(),
                attempts: 1,
                envfrom: ExecEnvFrom::Env,
            };
            run(&ok, target(&inst)).await.unwrap();
            let stdin = Check::Exec {
                command: r#"sh -c 'grep -q "\"CHECK_VAR\":\"from-container\""'"#.into(),
                attempts: 1,
                envfrom: ExecEnvFrom::Stdin,
            };
            run(&stdin, target(&inst)).await.unwrap();
            let fail = Check::Exec {
                command: "sh -c 'echo broken >&2; exit 3'".into(),
                attempts: 2,
                envfrom: ExecEnvFrom::Env,
            };
            let err = run(&fail, target(&inst)).await.unwrap_err().to_string();
            assert!(err.ends_with("exit status 3: broken"), "{err}");
        });
    }

    #[test]
    fn all_checks_run_together_and_report_each_failure() {
        rt().block_on(async {
            let inst = instance(&[]);
            let t0 = Instant::now();
            let checks = [
                Check::Sleep { wait: 0.3 },
                Check::Sleep { wait: 0.3 },
                Check::Exec {
                    command: "false".into(),
                    attempts: 1,
                    envfrom: ExecEnvFrom::Env,
                },
            ];
            let err = run_all(&checks, target(&inst))
                .await
                .unwrap_err()
                .to_string();
            assert!(t0.elapsed() < Duration::from_millis(550));
            assert_eq!(err, "exec \"false\": failed 1 time(s); last: exit status 1");
            run_all(&checks[..2], target(&inst)).await.unwrap();
        });
    }

    #[test]
    fn polls_are_close_at_first_and_never_a_second_apart() {
        assert_eq!(next_pause(Duration::ZERO), MIN_POLL);
        assert_eq!(
            next_pause(Duration::from_millis(100)),
            Duration::from_micros(12_500)
        );
        assert_eq!(
            next_pause(Duration::from_millis(1100)),
            Duration::from_micros(137_500)
        );
        assert_eq!(next_pause(Duration::from_secs(60)), MAX_POLL);
    }
}
