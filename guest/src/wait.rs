//! `maestro-guest wait` and `--wait`: block until dependencies are up, so a
//! program does not start before what it needs.
//!
//! A target is up when it accepts a TCP connection, or for `http://` and
//! `https://` URLs when it answers with an accepted status (and a body
//! matching `--match`); https servers must present a certificate the CA
//! bundle trusts for the URL's host, unless `--insecure`.
//! Every target is probed by its own thread (names are resolved again on
//! every attempt, through the system resolver, which blocks), with an
//! exponential back-off from 50 ms to 2 s; one line per target says when it
//! came up or was given up.

use std::net::{SocketAddr, TcpStream};
use std::process::ExitCode;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use maestro_guest::contract::{GuestEnv, env_var_name};

use crate::cli::{Statuses, Supervise, WaitArgs, exit};
use crate::http::{self, Url};
use crate::regex::Regex;
use crate::tls;

/// The first retry comes after this; each further one waits twice as long...
const FIRST_BACKOFF: Duration = Duration::from_millis(50);
/// ... up to this.
const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// Why waiting could not even start, or did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum WaitError {
    /// A TARGET names no service, or a service/port the environment lacks.
    #[error("{target}: {reason}")]
    BadTarget { target: String, reason: String },
    /// Some targets were not up in time.
    #[error("timed out after {seconds}s waiting for: {}", .pending.join(", "))]
    TimedOut { seconds: f64, pending: Vec<String> },
}

/// How targets are checked.
#[derive(Debug, Clone)]
pub struct Options {
    /// Seconds for the whole wait.
    pub timeout: f64,
    /// The longest one attempt (connect, HTTP exchange) may take.
    pub attempt: Duration,
    /// HTTP statuses that count as up.
    pub statuses: Statuses,
    /// What an HTTP body must match.
    pub body: Option<Regex>,
    /// `https://` servers are not verified (no CA, no name check).
    pub insecure: bool,
    /// Per target (as written), a time after which it is given up, sooner
    /// than `timeout`.
    pub timeout_for: Vec<(String, Duration)>,
}

/// One thing to wait for.
#[derive(Debug, Clone)]
pub struct Target {
    /// What the user asked for, e.g. `zookeeper/zk-node-1:client`.
    pub label: String,
    /// The host to resolve (a name or an IP literal).
    pub host: String,
    /// The TCP port.
    pub port: u16,
    /// The URL to GET, for `http://` targets.
    pub url: Option<Url>,
}

/// Entry point of `maestro-guest wait`.
pub fn run(args: WaitArgs) -> ExitCode {
    let options = Options {
        timeout: args.timeout,
        attempt: args.attempt_timeout,
        statuses: args.status,
        body: args.body_match.as_deref().map(compile),
        insecure: args.insecure,
        timeout_for: args.timeout_for,
    };
    if let Some((target, _)) = options
        .timeout_for
        .iter()
        .find(|(t, _)| !args.targets.contains(t))
    {
        eprintln!("maestro-guest: --timeout-for {target}: not one of the targets");
        return ExitCode::from(exit::USAGE);
    }
    match wait_for(&args.targets, &options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("maestro-guest: {error}");
            ExitCode::from(exit::FAILURE)
        }
    }
}

/// A pattern clap already checked.
fn compile(pattern: &str) -> Regex {
    Regex::new(pattern).unwrap_or_else(|_| unreachable!("--match is checked by its parser"))
}

/// Waits for `--wait` targets before a program starts.
pub fn before_start(options: &Supervise) -> Result<(), ExitCode> {
    if options.wait.is_empty() {
        return Ok(());
    }
    let wait = Options {
        timeout: options.wait_timeout,
        attempt: Duration::from_secs(5),
        statuses: options.wait_status.clone(),
        body: options.wait_match.as_deref().map(compile),
        insecure: options.wait_insecure,
        timeout_for: Vec::new(),
    };
    wait_for(&options.wait, &wait).map_err(|error| {
        eprintln!("maestro-guest: {error}");
        ExitCode::from(exit::FAILURE)
    })
}

/// What a probe thread reports.
struct Outcome {
    index: usize,
    /// `Ok(address)` when up; the last failure otherwise.
    result: Result<SocketAddr, String>,
    /// The last address tried, for messages.
    address: Option<SocketAddr>,
}

/// Expands every target, then probes them all in parallel until each is up
/// or the timeout passes.
pub fn wait_for(targets: &[String], options: &Options) -> Result<(), WaitError> {
    let guest = GuestEnv::from_process();
    let started = Instant::now();
    let limit = Duration::try_from_secs_f64(options.timeout).unwrap_or_default();
    let deadline = started + limit;
    // Each expanded target with its own deadline: --timeout-for's, if sooner.
    let mut expanded = Vec::new();
    for target in targets {
        let own = options
            .timeout_for
            .iter()
            .find(|(t, _)| t == target)
            .map_or(deadline, |(_, d)| deadline.min(started + *d));
        expanded.extend(expand(&guest, target)?.into_iter().map(|t| (t, own)));
    }
    let (sender, outcomes) = mpsc::channel();
    for (index, (target, deadline)) in expanded.iter().enumerate() {
        let deadline = *deadline;
        let (target, options, thread_sender) = (target.clone(), options.clone(), sender.clone());
        let spawned = std::thread::Builder::new()
            .stack_size(256 << 10)
            .spawn(move || {
                let (result, address) = probe_until(&target, &options, deadline);
                let _ = thread_sender.send(Outcome {
                    index,
                    result,
                    address,
                });
            });
        if let Err(error) = spawned {
            let _ = sender.send(Outcome {
                index,
                result: Err(format!("cannot start a thread: {error}")),
                address: None,
            });
        }
    }
    drop(sender);
    let mut pending: Vec<bool> = vec![true; expanded.len()];
    let mut failed = Vec::new();
    // A thread stuck in the resolver past the deadline is not waited for.
    let grace = Duration::from_millis(500);
    while pending.iter().any(|&p| p) {
        let left = (deadline + grace).saturating_duration_since(Instant::now());
        let Ok(outcome) = outcomes.recv_timeout(left) else {
            break;
        };
        pending[outcome.index] = false;
        let target = &expanded[outcome.index].0;
        let took = started.elapsed().as_secs_f64();
        match outcome.result {
            Ok(address) => eprintln!(
                "maestro-guest: wait: {} is up after {took:.1}s",
                describe(target, Some(address))
            ),
            Err(reason) => {
                let name = describe(target, outcome.address);
                eprintln!("maestro-guest: wait: gave up on {name} after {took:.1}s: {reason}");
                failed.push(name);
            }
        }
    }
    for (index, _) in pending.iter().enumerate().filter(|(_, p)| **p) {
        let name = describe(&expanded[index].0, None);
        eprintln!("maestro-guest: wait: gave up on {name}: still resolving its name");
        failed.push(name);
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(WaitError::TimedOut {
            seconds: options.timeout,
            pending: failed,
        })
    }
}

/// `label (address)`, or just the address when that is the label.
fn describe(target: &Target, address: Option<SocketAddr>) -> String {
    match address {
        Some(address) if address.to_string() != target.label => {
            format!("{} ({address})", target.label)
        }
        _ => target.label.clone(),
    }
}

/// Tries `target` until it is up or `deadline` passes; the back-off doubles
/// from [`FIRST_BACKOFF`] to [`MAX_BACKOFF`].
fn probe_until(
    target: &Target,
    options: &Options,
    deadline: Instant,
) -> (Result<SocketAddr, String>, Option<SocketAddr>) {
    let mut backoff = FIRST_BACKOFF;
    let mut last_address = None;
    loop {
        let (result, address) = attempt(target, options, deadline);
        last_address = address.or(last_address);
        let error = match result {
            Ok(address) => return (Ok(address), Some(address)),
            Err(error) => error,
        };
        let left = deadline.saturating_duration_since(Instant::now());
        std::thread::sleep(backoff.min(left));
        backoff = (backoff * 2).min(MAX_BACKOFF);
        // No attempt without time left: it would only report "timed out"
        // instead of why the target was down.
        if Instant::now() >= deadline {
            return (Err(error), last_address);
        }
    }
}

/// One attempt: resolve, connect (every address in turn), and for a URL
/// one GET whose status and body are checked.
fn attempt(
    target: &Target,
    options: &Options,
    deadline: Instant,
) -> (Result<SocketAddr, String>, Option<SocketAddr>) {
    let ips = match maestro_guest::net::resolve_all(&target.host) {
        Ok(ips) => ips,
        Err(error) => {
            return (
                Err(format!("cannot resolve {}: {error}", target.host)),
                None,
            );
        }
    };
    let mut last = (Err("no address".to_owned()), None);
    for ip in ips {
        let address = SocketAddr::new(ip, target.port);
        let until = deadline.min(Instant::now() + options.attempt);
        let left = until.saturating_duration_since(Instant::now());
        let stream = match TcpStream::connect_timeout(&address, left.max(Duration::from_millis(1)))
        {
            Ok(stream) => stream,
            Err(error) => {
                last = (Err(error.to_string()), Some(address));
                continue;
            }
        };
        let Some(url) = &target.url else {
            return (Ok(address), Some(address));
        };
        let result = match exchange(stream, url, options.insecure, until) {
            Err(error) => Err(error),
            Ok(response) if !options.statuses.contains(response.status) => Err(format!(
                "HTTP status {} is not an accepted one",
                response.status
            )),
            Ok(response) => match &options.body {
                Some(regex) if !regex.is_match(&String::from_utf8_lossy(&response.body)) => {
                    Err(format!(
                        "HTTP status {}, but the body does not match --match",
                        response.status
                    ))
                }
                _ => Ok(address),
            },
        };
        if result.is_ok() {
            return (result, Some(address));
        }
        last = (result, Some(address));
    }
    last
}

/// One GET of `url` over `stream`, through TLS for https.
fn exchange(
    stream: TcpStream,
    url: &Url,
    insecure: bool,
    until: Instant,
) -> Result<http::Response, String> {
    if !url.tls {
        let mut stream = stream;
        return http::get(&mut stream, url, until).map_err(|e| format!("HTTP: {e}"));
    }
    // Read on every attempt: a bundle installed while waiting counts.
    let trust = tls::load_trust(insecure)?;
    let mut stream =
        tls::TlsStream::new(stream, &url.host, &trust).map_err(|e| format!("HTTPS: {e}"))?;
    http::get(&mut stream, url, until).map_err(|e| format!("HTTPS: {e}"))
}

/// `http://...` as it is, `HOST:PORT` when PORT is a number, `SERVICE:PORT`
/// when it is a name, `SERVICE` alone for every port of every instance.
pub fn expand(guest: &GuestEnv, target: &str) -> Result<Vec<Target>, WaitError> {
    let bad = |reason: String| WaitError::BadTarget {
        target: target.to_owned(),
        reason,
    };
    if target.contains("://") {
        let url = Url::parse(target).map_err(bad)?;
        // A query may carry a token: messages show the URL without it.
        let label = match target.split_once('?') {
            Some((before, _)) => format!("{before}?…"),
            None => target.to_owned(),
        };
        return Ok(vec![Target {
            label,
            host: url.host.clone(),
            port: url.port,
            url: Some(url),
        }]);
    }
    if let Some((host, port)) = split_host_port(target) {
        if let Ok(port) = port.parse::<u16>() {
            return Ok(vec![Target {
                label: target.to_owned(),
                host: host.to_owned(),
                port,
                url: None,
            }]);
        }
        let nodes = guest.node_list(host, &[port], 1).map_err(|e| bad(e.0))?;
        let names = guest.instance_names(host);
        return nodes
            .iter()
            .zip(names)
            .map(|(node, name)| {
                let (node_host, node_port) = node.rsplit_once(':').unwrap_or((node, ""));
                let number = node_port
                    .parse::<u16>()
                    .map_err(|_| bad(format!("port {port} of {name} is {node_port}")))?;
                Ok(Target {
                    label: format!("{host}/{name}:{port}"),
                    host: node_host.to_owned(),
                    port: number,
                    url: None,
                })
            })
            .collect();
    }
    service_targets(guest, target)
}

/// Every port of every instance of `service`.
fn service_targets(guest: &GuestEnv, service: &str) -> Result<Vec<Target>, WaitError> {
    let bad = |reason: String| WaitError::BadTarget {
        target: service.to_owned(),
        reason,
    };
    let topology = guest.topology();
    let wanted = env_var_name(service);
    let Some(found) = topology
        .services
        .iter()
        .find(|(name, _)| env_var_name(name) == wanted)
        .map(|(_, found)| found)
    else {
        return Err(bad(format!("No or not enough {service} nodes configured")));
    };
    let mut targets = Vec::new();
    for instance in &found.instances {
        let host = instance.host.as_deref().ok_or_else(|| {
            bad(format!(
                "No host defined for container {} of service {service}",
                instance.name
            ))
        })?;
        for (name, port) in &instance.ports {
            let number = port.external.trim().parse::<u16>().map_err(|_| {
                bad(format!(
                    "port {name} of {} is {:?}, not one port number",
                    instance.name, port.external
                ))
            })?;
            targets.push(Target {
                label: format!("{service}/{}:{name}", instance.name),
                host: host.to_owned(),
                port: number,
                url: None,
            });
        }
    }
    Ok(targets)
}

/// Splits `host:port` and `[v6]:port`; a bare IPv6 address is no pair.
fn split_host_port(target: &str) -> Option<(&str, &str)> {
    if let Some(rest) = target.strip_prefix('[') {
        let (host, port) = rest.split_once("]:")?;
        return Some((host, port));
    }
    match target.split_once(':') {
        Some((host, port)) if !port.contains(':') => Some((host, port)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_split_into_host_and_port() {
        assert_eq!(split_host_port("a:1"), Some(("a", "1")));
        assert_eq!(split_host_port("zk:client"), Some(("zk", "client")));
        assert_eq!(split_host_port("[::1]:80"), Some(("::1", "80")));
        assert_eq!(split_host_port("::1"), None);
        assert_eq!(split_host_port("zookeeper"), None);
    }

    #[test]
    fn service_targets_expand_to_every_instance() {
        let guest = GuestEnv::from_vars([
            ("ZK_INSTANCES", "a,b"),
            ("ZK_A_HOST", "127.0.0.1"),
            ("ZK_A_CLIENT_PORT", "2181"),
            ("ZK_A_PEER_PORT", "2888"),
            ("ZK_B_HOST", "127.0.0.2"),
            ("ZK_B_CLIENT_PORT", "2182"),
        ]);
        let all = expand(&guest, "zk").unwrap();
        let mut got: Vec<String> = all
            .iter()
            .map(|e| format!("{}:{}", e.host, e.port))
            .collect();
        got.sort();
        assert_eq!(got, ["127.0.0.1:2181", "127.0.0.1:2888", "127.0.0.2:2182"]);
        let client = expand(&guest, "zk:client").unwrap();
        assert_eq!(client.len(), 2);
        assert_eq!(client[1].label, "zk/b:client");
        assert!(matches!(
            expand(&guest, "zk:peer"),
            Err(WaitError::BadTarget { .. })
        ));
        assert!(matches!(
            expand(&guest, "nothing"),
            Err(WaitError::BadTarget { .. })
        ));
        // Names are resolved while waiting, not before.
        let later = expand(&guest, "no-such-host.invalid:80").unwrap();
        assert_eq!(later[0].host, "no-such-host.invalid");
        let https = expand(&guest, "https://x/").unwrap();
        assert_eq!(
            (https[0].port, https[0].url.as_ref().unwrap().tls),
            (443, true)
        );
        assert!(matches!(
            expand(&guest, "ftp://x/"),
            Err(WaitError::BadTarget { reason, .. }) if reason.contains("not an http")
        ));
        let url = expand(&guest, "http://127.0.0.1:81/h").unwrap();
        assert_eq!(
            (url[0].port, url[0].url.as_ref().unwrap().path.as_str()),
            (81, "/h")
        );
    }
}
